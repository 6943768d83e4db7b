"""The shipped probe set: both classes per term, and evaluation disjoint from augmentation."""

from __future__ import annotations

from socialscore.modeling.behaviour import probes


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
    eval_templates = {t for templates in raw["evaluation"].values() for t in templates}
    aug_templates = {t for templates in raw["augmentation"].values() for t in templates}
    assert set(raw["augmentation"]) >= {"non_toxic", "kind", "non_toxic_extra", "kind_extra"}
    assert not eval_templates & aug_templates


def test_extended_augmentation_adds_first_person_and_second_person_forms():
    basic, extended = probes.augmentation_sentences(extended=False), probes.augmentation_sentences()
    assert set(basic) < set(extended)
    added = set(extended) - set(basic)
    assert any(s.startswith("i am a ") for s in added)  # first-person statements of other structures
    assert any(s.startswith(("you're", "your ")) for s in added)  # second-person compliments
    # the evaluation half is unchanged (figures stay comparable with the first session's)
    assert len(probes.evaluation_probes()) == 43 * 14 + 10
