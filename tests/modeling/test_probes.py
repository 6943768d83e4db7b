"""The shipped probe set: both classes per term, and evaluation disjoint from augmentation."""

from __future__ import annotations

from socialscore.modeling import probes


def test_probe_set_covers_every_group_with_both_classes():
    terms = probes.identity_terms()
    assert len(terms) >= 30
    assert set(terms.values()) >= {
        "religion", "ethnicity", "gender", "sexual_orientation", "disability", "age", "nationality"
    }
    evaluation = probes.evaluation_probes()
    for term in terms:
        classes = {p.toxic for p in evaluation if p.term == term}
        assert classes == {False, True}, term
    assert any(p.term is None and not p.toxic for p in evaluation)  # kind sentences


def test_evaluation_and_augmentation_are_disjoint():
    evaluation = probes.evaluation_probes()
    augmentation = probes.augmentation_sentences()
    assert augmentation
    assert not {p.text for p in evaluation} & set(augmentation)
    raw = probes.raw_probes()
    eval_templates = {t for key in ("non_toxic", "toxic", "kind") for t in raw["evaluation"][key]}
    aug_templates = {t for key in ("non_toxic", "kind") for t in raw["augmentation"][key]}
    assert not eval_templates & aug_templates
