"""Evaluation figures (PNG bytes, matplotlib Agg) and the one-page, self-contained HTML report.

Figures are drawn on ``matplotlib.figure.Figure`` objects, not pyplot, so nothing global leaks
between calls. Everything that reaches the HTML goes through ``html.escape``; comment text never does.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

matplotlib.use("Agg")  # no display: figures are only ever rendered to PNG

FIGURE_FILES = (
    "confusion_matrix.png",
    "roc_curve.png",
    "precision_recall.png",
    "calibration.png",
    "feature_importance.png",
)
METRIC_COLUMNS = (
    ("n_positive", "positives"),
    ("accuracy", "accuracy"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("f1", "F1"),
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("brier", "Brier"),
)
_DPI = 110


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # n-grams may hold emoji or scripts the default font lacks; a missing glyph is not an error
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    return buffer.getvalue()


def _has_both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < len(y)


def _note_empty(ax: Any, text: str) -> None:
    ax.text(
        0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=10, wrap=True
    )


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return (n + cols - 1) // cols, cols


# --- figures ------------------------------------------------------------------------------------
def confusion_matrix_png(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str], thresholds: Mapping[str, float]
) -> bytes:
    """One 2×2 matrix per label (counts and row share), small multiples."""
    rows, cols = _grid(len(labels))
    fig = Figure(figsize=(4.2 * cols, 3.9 * rows), layout="constrained")
    for j, label in enumerate(labels):
        ax = fig.add_subplot(rows, cols, j + 1)
        truth, pred = y_true[:, j].astype(bool), y_pred[:, j].astype(bool)
        matrix = np.array(
            [
                [np.sum(~truth & ~pred), np.sum(~truth & pred)],
                [np.sum(truth & ~pred), np.sum(truth & pred)],
            ]
        )
        share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for r in range(2):
            for c in range(2):
                ax.text(
                    c,
                    r,
                    f"{matrix[r, c]:,}\n({share[r, c]:.0%})",
                    ha="center",
                    va="center",
                    color="white" if share[r, c] > 0.55 else "black",
                    fontsize=10,
                )
        ax.set_xticks([0, 1], ["not " + label, label], fontsize=8)
        ax.set_yticks([0, 1], ["not " + label, label], fontsize=8, rotation=90, va="center")
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_title(f"{label} (threshold {thresholds[label]:.2f})", fontsize=10)
    fig.suptitle("Confusion matrix on the held-out test split", fontsize=12)
    return _png(fig)


def roc_curve_png(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> bytes:
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = Figure(figsize=(6.5, 5.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance (AUC 0.50)")
    skipped = []
    for j, label in enumerate(labels):
        if not _has_both_classes(y_true[:, j]):
            skipped.append(label)
            continue
        fpr, tpr, _ = roc_curve(y_true[:, j], proba[:, j])
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(y_true[:, j], proba[:, j]):.3f})")
    if skipped:
        ax.plot([], [], " ", label="not drawn (one class only): " + ", ".join(skipped))
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate")
    ax.set_title("ROC curve per label (held-out test split)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def precision_recall_png(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> bytes:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig = Figure(figsize=(6.5, 5.5))
    ax = fig.add_subplot()
    skipped = []
    for j, label in enumerate(labels):
        if int(y_true[:, j].sum()) == 0:
            skipped.append(label)
            continue
        precision, recall, _ = precision_recall_curve(y_true[:, j], proba[:, j])
        ap = average_precision_score(y_true[:, j], proba[:, j])
        line = ax.plot(recall, precision, label=f"{label} (AP {ap:.3f})")[0]
        ax.axhline(y_true[:, j].mean(), color=line.get_color(), linestyle=":", linewidth=0.8)
    if skipped:
        ax.plot([], [], " ", label="not drawn (no positives): " + ", ".join(skipped))
    ax.plot([], [], color="grey", linestyle=":", label="dotted: share of positives (chance)")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="recall", ylabel="precision")
    ax.set_title("Precision–recall curve per label (held-out test split)")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    ax.grid(alpha=0.3)
    return _png(fig)


def reliability(y: np.ndarray, p: np.ndarray, bins: int, min_rows: int) -> tuple[np.ndarray, ...]:
    """Per uniform bin with at least ``min_rows`` rows: mean predicted, observed share, row count."""
    index = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    keep = counts >= min_rows
    return predicted[keep] / counts[keep], observed[keep] / counts[keep], counts[keep]


def calibration_png(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], bins: int = 10, min_rows: int = 5
) -> bytes:
    """Reliability diagram (mean predicted vs observed share per bin) over a histogram of scores.

    Bins with fewer than ``min_rows`` rows are left out (their share is noise); marker area shows rows.
    """
    fig = Figure(figsize=(6.5, 7.0))
    top = fig.add_axes((0.12, 0.38, 0.83, 0.55))
    bottom = fig.add_axes((0.12, 0.07, 0.83, 0.22), sharex=top)
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for j, label in enumerate(labels):
        predicted, observed, counts = reliability(y_true[:, j], proba[:, j], bins, min_rows)
        line = top.plot(predicted, observed, linewidth=1.2, label=label)[0]
        top.scatter(
            predicted,
            observed,
            s=8 + 60 * np.sqrt(counts / counts.max()) if counts.size else 8,
            color=line.get_color(),
            zorder=3,
        )
        bottom.hist(proba[:, j], bins=bins, range=(0, 1), histtype="step", color=line.get_color())
    top.set(xlim=(0, 1), ylim=(0, 1.01), ylabel="observed share of positives")
    top.set_title(f"Calibration per label, held-out test split (bins with ≥{min_rows} rows)")
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    top.tick_params(labelbottom=False)
    bottom.set(xlabel="predicted probability", ylabel="rows (log)")
    bottom.set_yscale("log")
    bottom.set_title("How many rows get each score", fontsize=9)
    return _png(fig)


def _display_name(name: str, width: int = 38) -> str:
    shown = repr(name)[1:-1] if name != name.strip() or not name.isprintable() else name
    shown = shown.replace("$", r"\$")  # keep matplotlib from reading n-grams as mathtext
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def feature_importance_png(
    names: Sequence[str], importance: np.ndarray, label: str, signed: bool, top: int = 20
) -> bytes:
    """Top features for one label: signed coefficients (linear models) or impurity importances."""
    importance = np.asarray(importance, dtype=float).ravel()
    order = np.argsort(-np.abs(importance))[:top][::-1]  # biggest at the top of the chart
    values = importance[order]
    fig = Figure(figsize=(7.5, 0.32 * max(len(order), 4) + 1.4))
    ax = fig.add_subplot()
    if len(order) == 0:
        _note_empty(ax, "the model reports no feature importances")
    colors = ["#c0392b" if v > 0 else "#2e86c1" for v in values] if signed else "#5d6d7e"
    ax.barh(np.arange(len(order)), values, color=colors)
    ax.set_yticks(np.arange(len(order)), [_display_name(str(names[i])) for i in order], fontsize=8)
    if signed:
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"coefficient (red pushes towards '{label}', blue away)")
        ax.set_title(f"Top {len(order)} features by |coefficient| for '{label}'")
    else:
        ax.set_xlabel("importance (mean decrease in impurity)")
        ax.set_title(f"Top {len(order)} features by importance for '{label}'")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


# --- HTML ---------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f2f2f2}tr.macro td{font-weight:600}
tr.primary td:first-child::after{content:" (primary)";font-weight:400;color:#666}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{color:#666}
figure{margin:1.5rem 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9rem}
.na{color:#999}.notes li{color:#555}
.warning{background:#fff3cd;border:2px solid #e0a800;padding:.6rem 1rem}#provenance code{font-size:.8rem}
"""


def _cell(value: Any, reason: str | None) -> str:
    if value is None:
        title = f' title="{html.escape(reason)}"' if reason else ""
        return f'<td class="na"{title}>n/a</td>'
    if isinstance(value, float):
        return f"<td>{value:.4f}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _metrics_table(metrics: Mapping[str, Any]) -> tuple[str, list[str]]:
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in METRIC_COLUMNS)
    rows, notes = [], []
    primary = metrics.get("primary_label")
    entries = list(metrics["labels"].items()) + [("macro average", metrics["macro"])]
    for name, values in entries:
        reasons = values.get("reasons", {})
        for key, reason in reasons.items():
            notes.append(f"{name} · {key}: {reason}")
        css = (
            ' class="macro"'
            if name == "macro average"
            else (' class="primary"' if name == primary else "")
        )
        cells = "".join(_cell(values.get(key), reasons.get(key)) for key, _ in METRIC_COLUMNS)
        rows.append(f"<tr{css}><td>{html.escape(str(name))}</td>{cells}</tr>")
    table = (
        f"<table><thead><tr><th>label</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return table, notes


def render_html(
    metrics: Mapping[str, Any], figures: Mapping[str, bytes], captions: Mapping[str, str],
    errors: Mapping[str, Any] | None = None,
) -> str:
    """One self-contained page: run facts, the metrics table and every figure embedded as base64."""
    esc = html.escape
    facts = {
        "mode": metrics.get("mode"),
        "model type": metrics.get("model_type"),
        "model version": metrics.get("model_version"),
        "primary label": metrics.get("primary_label"),
        "decision threshold": metrics.get("threshold"),
        "quality gate": (metrics.get("gate") or {}).get("verdict"),
        "promoted to": ", ".join((metrics.get("gate") or {}).get("promoted_to", [])) or None,
        "test rows": metrics.get("n_test_rows"),
        "routed to the transformer": (metrics.get("cascade") or {}).get("routed_share"),  # cascade
        "evaluated at": metrics.get("evaluated_at"),
    }
    fact_html = "".join(
        f"<dt>{esc(k)}</dt><dd>{esc(f'{v:.4g}' if isinstance(v, float) else str(v))}</dd>"
        for k, v in facts.items()
        if v is not None
    )
    table, notes = _metrics_table(metrics)
    note_html = (
        '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"
        if notes
        else ""
    )
    figure_html = "".join(
        f'<figure><img alt="{esc(captions.get(name, name))}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
        f"<figcaption>{esc(captions.get(name, name))}</figcaption></figure>"
        for name, data in figures.items()
    )
    title = f"socialscore evaluation — {metrics.get('mode', '')}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>{_provenance_html(metrics.get('provenance'))}"
        f"<dl>{fact_html}</dl>"
        "<h2>Metrics on the held-out test split</h2>"
        "<p>Classification metrics use the saved decision threshold; ROC AUC, PR AUC (average precision) "
        "and Brier score use the probabilities. n/a marks a metric that cannot be computed (reason below).</p>"
        f"{table}{note_html}{_gate_html(metrics.get('gate'))}{_bias_html(metrics.get('bias'))}"
        f"{_errors_html(errors)}<h2>Figures</h2>{figure_html}</body></html>\n"
    )


def _provenance_html(provenance: Mapping[str, Any] | None) -> str:
    """What the model was trained on, at the top of the page: generated data in a warning box."""
    from socialscore.storage.provenance import describe

    esc = html.escape
    if provenance and provenance.get("generated"):
        return f'<p class="warning" id="provenance"><b>{esc(describe(provenance))}</b></p>'
    files = "".join(
        f"<tr><td>{esc(f['path'])}</td><td><code>{esc(f['sha256'])}</code></td><td>{f['bytes']:,}</td></tr>"
        for f in (provenance or {}).get("files", [])
    )
    table = f"<table><tr><th>input file</th><th>sha256</th><th>bytes</th></tr>{files}</table>" if files else ""
    return f'<div id="provenance"><p>{esc(describe(provenance))}</p>{table}</div>'


def _gate_html(gate: Mapping[str, Any] | None) -> str:
    """The quality gate's checks, failures first."""
    if not gate:
        return ""
    esc = html.escape
    checks = sorted(gate.get("checks", []), key=lambda c: c["passed"])
    rows = "".join(
        f"<tr><td>{'pass' if c['passed'] else '<b>FAIL</b>'}</td><td>{esc(c['name'])}</td><td>{esc(c['detail'])}</td></tr>"
        for c in checks
    )
    return (
        f"<h2>Quality gate: {esc(str(gate.get('verdict', '')))}</h2>"
        f"<table><tr><th>result</th><th>check</th><th>detail</th></tr>{rows}</table>"
    )


def _bias_html(bias: Mapping[str, Any] | None) -> str:
    if not bias:
        return ""
    from socialscore.modeling.behaviour.bias import bias_html

    return bias_html(dict(bias), image_src=None)


def _errors_html(errors: Mapping[str, Any] | None) -> str:
    """The error analysis (``evaluate.error_examples``): the most confident mistakes with their top terms."""
    if not errors:
        return ""
    from socialscore.modeling.behaviour.explain import error_analysis_html

    return error_analysis_html(dict(errors))
