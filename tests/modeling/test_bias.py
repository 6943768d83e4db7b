"""Bias metrics on tiny hand-made cases (values worked out by hand in the comments), and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from socialscore.modeling.behaviour import bias
from socialscore.modeling.behaviour.probes import Probe

# subgroup A: non-toxic scores 0.1 and 0.7, toxic 0.6; background: non-toxic 0.2, toxic 0.5
Y = np.array([0, 0, 1, 0, 1])
P = np.array([0.1, 0.7, 0.6, 0.2, 0.5])
A = np.array([True, True, True, False, False])


def test_subgroup_auc_counts_pairs_within_the_subgroup():
    # pairs (toxic, non-toxic) in A: 0.6>0.1 yes, 0.6>0.7 no → 1/2
    assert bias.subgroup_auc(Y, P, A) == pytest.approx(0.5)


def test_bpsn_auc_pits_subgroup_negatives_against_background_positives():
    # background toxic 0.5 vs A's non-toxic 0.1 (yes) and 0.7 (no) → 1/2
    assert bias.bpsn_auc(Y, P, A) == pytest.approx(0.5)


def test_bnsp_auc_pits_subgroup_positives_against_background_negatives():
    # A's toxic 0.6 vs background non-toxic 0.2 → 1
    assert bias.bnsp_auc(Y, P, A) == pytest.approx(1.0)
    # background B = not A: B's toxic 0.5 vs A's non-toxic 0.1 (yes), 0.7 (no) → 1/2
    assert bias.bnsp_auc(Y, P, ~A) == pytest.approx(0.5)


def test_ties_count_one_half_and_one_class_is_none():
    assert bias.auc(np.array([0, 1]), np.array([0.3, 0.3])) == pytest.approx(0.5)
    assert bias.subgroup_auc(Y, P, np.array([True, False, False, True, False])) is None


def test_false_positive_rate_at_threshold_within_mask():
    # A's non-toxic rows: 0.1 and 0.7; at 0.65 one of two is flagged
    assert bias.false_positive_rate(Y, P, 0.65, A) == pytest.approx(0.5)
    # at exactly the threshold it counts as flagged (score >= threshold, as served)
    assert bias.false_positive_rate(Y, P, 0.7, A) == pytest.approx(0.5)
    assert bias.false_positive_rate(Y, P, 0.71, A) == 0.0
    assert bias.false_positive_rate(np.array([1]), np.array([0.9]), 0.5) is None


def test_power_mean_minus_five_by_hand():
    # ((0.5^-5 + 1^-5) / 2)^(-1/5) = 16.5^-0.2
    assert bias.power_mean([0.5, 1.0]) == pytest.approx(16.5**-0.2)
    assert bias.power_mean([0.8, 0.8, 0.8]) == pytest.approx(0.8)
    assert bias.power_mean([0.5, 1.0]) < np.mean([0.5, 1.0])  # leans to the worst


def test_final_bias_score_by_hand():
    # 0.25·0.9 + 0.25·(16.5^-0.2 + 0.7 + 1.0)
    got = bias.final_bias_score(0.9, [0.5, 1.0], [0.7, 0.7], [1.0, 1.0])
    assert got == pytest.approx(0.25 * 0.9 + 0.25 * (16.5**-0.2 + 0.7 + 1.0))


def _probes() -> list[Probe]:
    return [
        Probe("a fine", "a", "g", False, "{term} fine"),
        Probe("a bad", "a", "g", True, "{term} bad"),
        Probe("b fine", "b", "g", False, "{term} fine"),
        Probe("b bad", "b", "g", True, "{term} bad"),
        Probe("you are kind", None, None, False, "you are kind"),
    ]


def test_report_puts_the_biased_term_first_and_counts_kind_sentences():
    scores = {"a fine": 0.8, "a bad": 0.9, "b fine": 0.1, "b bad": 0.85, "you are kind": 0.6}
    report = bias.bias_report(lambda texts: np.array([scores[t] for t in texts]), 0.5, _probes())
    json.dumps(report)  # JSON-able
    first, second = report["terms"]
    assert first["term"] == "a" and second["term"] == "b"
    # BPSN(a): a's non-toxic 0.8 vs b's toxic 0.85 → 1; BPSN(b): b's 0.1 vs a's toxic 0.9 → 1
    # BNSP(a): a's toxic 0.9 vs background non-toxic 0.1, 0.6 → 1; BNSP(b): 0.85 vs 0.8 and 0.6 → 1
    # every AUC is 1, so the order comes from the FPR at 0.5: a 1/1, b 0/1
    assert first["fpr"] == 1.0 and second["fpr"] == 0.0
    assert first["flagged_examples"] == ["a fine"]
    s = report["summary"]
    assert s["identity_fpr"] == pytest.approx(0.5)
    assert s["kind_flagged"] == 1 and s["kind_total"] == 1
    assert s["kind_flagged_examples"] == ["you are kind"]


def test_report_worst_bpsn_and_final_score():
    scores = {"a fine": 0.95, "a bad": 0.9, "b fine": 0.1, "b bad": 0.85, "you are kind": 0.2}
    report = bias.bias_report(lambda texts: np.array([scores[t] for t in texts]), 0.5, _probes())
    s = report["summary"]
    # BPSN(a): a's non-toxic 0.95 vs b's toxic 0.85 → 0
    assert s["worst_bpsn_term"] == "a" and s["worst_bpsn_auc"] == 0.0
    assert report["terms"][0]["term"] == "a"
    # a power mean with a zero is zero; overall AUC: toxic {0.9, 0.85} vs non-toxic {0.95, 0.1, 0.2} → 4/6
    # subgroup(a) 0, subgroup(b) 1; BNSP(a): 0.9 vs 0.1, 0.2 → 1; BNSP(b): 0.85 vs 0.95, 0.2 → 1/2
    expected = 0.25 * (4 / 6) + 0.25 * (0.0 + 0.0 + bias.power_mean([1.0, 0.5]))
    assert s["final_bias_score"] == pytest.approx(expected)
    assert s["overall_auc"] == pytest.approx(4 / 6)


def test_plot_and_html(tmp_path):
    scores = {"a fine": 0.95, "a bad": 0.9, "b fine": 0.1, "b bad": 0.85, "you are kind": 0.7}
    report = bias.bias_report(lambda texts: np.array([scores[t] for t in texts]), 0.5, _probes())
    path = bias.plot_bias(report, tmp_path / "bias.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = bias.bias_html(report, image_src="figures/bias.png")
    assert page.index("<td>a</td>") < page.index("<td>b</td>")
    assert "you are kind" in page and 'src="figures/bias.png"' in page


def test_html_escapes_text():
    probes = [Probe("<b>x</b> ok", "<b>x</b>", "g", False, "t"), Probe("<b>x</b> bad", "<b>x</b>", "g", True, "u")]
    report = bias.bias_report(lambda texts: np.full(len(texts), 0.9), 0.5, probes)
    assert "<b>x</b>" not in bias.bias_html(report) and "&lt;b&gt;x&lt;/b&gt;" in bias.bias_html(report)
