"""report: figures are valid PNGs for awkward inputs; the HTML page is self-contained and escaped."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from socialscore.reports import evaluation as report

PNG = b"\x89PNG\r\n\x1a\n"
LABELS = ["toxic", "threat"]


@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = np.zeros((60, 2), dtype=np.int8)
    y[:20, 0] = 1  # threat has no positives at all
    proba = np.clip(y * 0.6 + rng.random((60, 2)) * 0.4, 0, 1)
    return y, proba


@pytest.mark.slow
def test_curves_draw_with_a_label_that_has_no_positives(scored) -> None:
    y, proba = scored
    thresholds = {"toxic": 0.5, "threat": 0.5}
    pngs = [
        report.confusion_matrix_png(y, proba >= 0.5, LABELS, thresholds),
        report.roc_curve_png(y, proba, LABELS),
        report.precision_recall_png(y, proba, LABELS),
        report.calibration_png(y, proba, LABELS),
    ]
    assert all(png.startswith(PNG) and len(png) > 5_000 for png in pngs)


@pytest.mark.slow
def test_feature_importance_survives_awkward_names() -> None:
    names = ["$x$", "  ", "😡😡", "a" * 300, "\t\n", "normal"] + [f"f{i}" for i in range(30)]
    importance = np.linspace(-1, 1, len(names))
    signed = report.feature_importance_png(names, importance, "toxic", signed=True)
    unsigned = report.feature_importance_png(names, np.abs(importance), "toxic", signed=False)
    empty = report.feature_importance_png([], np.array([]), "toxic", signed=False)
    assert all(png.startswith(PNG) for png in (signed, unsigned, empty))


def test_display_names_are_shortened_and_made_visible() -> None:
    assert report._display_name("  ab") == "  ab".__repr__()[1:-1]
    assert report._display_name("a\tb") == "a\\tb"
    assert report._display_name("$5") == r"\$5"
    assert len(report._display_name("x" * 100)) == 38


def _metrics(label: str = "toxic") -> dict:
    values = {
        "n_positive": 3,
        "accuracy": 0.9,
        "precision": None,
        "recall": 0.5,
        "f1": 0.4,
        "roc_auc": 0.8,
        "pr_auc": 0.7,
        "brier": 0.1,
        "reasons": {"precision": "no row predicted positive at this threshold"},
    }
    return {
        "mode": "dev",
        "model_version": "v<1>",
        "primary_label": label,
        "threshold": 0.5,
        "n_test_rows": 30,
        "labels": {label: values},
        "macro": dict(values),
    }


def test_html_embeds_figures_and_escapes_everything() -> None:
    png = report.roc_curve_png(np.array([[0], [1]]), np.array([[0.2], [0.9]]), ["x"])
    page = report.render_html(
        _metrics("<script>alert(1)</script>"), {"roc_curve.png": png}, {"roc_curve.png": "R&D <b>"}
    )
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "v&lt;1&gt;" in page and "R&amp;D &lt;b&gt;" in page
    embedded = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(embedded) == png
    assert 'title="no row predicted positive at this threshold">n/a' in page
    assert "http://" not in page and "https://" not in page  # self-contained: nothing fetched
