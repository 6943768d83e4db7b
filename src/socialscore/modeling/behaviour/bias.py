"""Identity-term bias: the Jigsaw Unintended Bias metrics (Borkan et al. 2019) on the probe set.

Per identity term ("subgroup"), with every other probe as the background:

* subgroup AUC — AUC on the probes mentioning the term only;
* BPSN AUC (background positive, subgroup negative) — the term's non-toxic probes against the
  background's toxic ones: low when non-toxic mentions of the term score like toxic comments;
* BNSP AUC (background negative, subgroup positive) — the term's toxic probes against the
  background's non-toxic ones: low when toxic mentions score like harmless comments.

The final bias score is ``0.25·overall AUC + Σ 0.25·M₋₅(per-subgroup AUCs)`` over the three metrics,
with ``M₋₅`` the generalized power mean with p = −5 (it leans towards the worst subgroups).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialscore.modeling.behaviour.probes import Probe, evaluation_probes, implicit_hate_probes

POWER = -5.0
WEIGHT = 0.25
EXAMPLES_PER_TERM = 3


# --- metric functions ---------------------------------------------------------------------------
def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC (ties count one half); None when ``y`` holds one class only."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y).astype(bool)
    if y.all() or not y.any():
        return None
    return float(roc_auc_score(y, np.asarray(p, dtype=float)))


def subgroup_auc(y: np.ndarray, p: np.ndarray, in_subgroup: np.ndarray) -> float | None:
    """AUC over the rows that mention the subgroup only."""
    mask = np.asarray(in_subgroup, dtype=bool)
    return auc(np.asarray(y)[mask], np.asarray(p)[mask])


def bpsn_auc(y: np.ndarray, p: np.ndarray, in_subgroup: np.ndarray) -> float | None:
    """AUC over subgroup negatives and background positives."""
    y, s = np.asarray(y).astype(bool), np.asarray(in_subgroup, dtype=bool)
    mask = (s & ~y) | (~s & y)
    return auc(y[mask], np.asarray(p)[mask])


def bnsp_auc(y: np.ndarray, p: np.ndarray, in_subgroup: np.ndarray) -> float | None:
    """AUC over subgroup positives and background negatives."""
    y, s = np.asarray(y).astype(bool), np.asarray(in_subgroup, dtype=bool)
    mask = (s & y) | (~s & ~y)
    return auc(y[mask], np.asarray(p)[mask])


def false_positive_rate(y: np.ndarray, p: np.ndarray, threshold: float, mask: np.ndarray | None = None) -> float | None:
    """Share of the non-toxic rows (within ``mask``) scored at or above ``threshold``."""
    y, p = np.asarray(y).astype(bool), np.asarray(p, dtype=float)
    negatives = ~y if mask is None else (~y & np.asarray(mask, dtype=bool))
    if not negatives.any():
        return None
    return float(np.mean(p[negatives] >= threshold))


def power_mean(values: Sequence[float], power: float = POWER) -> float:
    """Generalized mean ``(mean(v^p))^(1/p)``; p = −5 weighs the smallest values most."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if not len(v):
        raise ValueError("power mean of no values")
    if np.any(v <= 0):
        return 0.0  # the limit for a negative power when a value is 0
    return float(np.mean(v**power) ** (1.0 / power))


def final_bias_score(
    overall_auc: float,
    subgroup_aucs: Sequence[float],
    bpsn_aucs: Sequence[float],
    bnsp_aucs: Sequence[float],
    power: float = POWER,
    weight: float = WEIGHT,
) -> float:
    """The Jigsaw Unintended Bias final metric (four equally weighted parts)."""
    parts = [power_mean(m, power) for m in (subgroup_aucs, bpsn_aucs, bnsp_aucs)]
    return float(weight * overall_auc + weight * sum(parts))


# --- the report -----------------------------------------------------------------------------------
def _worst(entry: dict[str, Any]) -> float:
    values = [entry[k] for k in ("subgroup_auc", "bpsn_auc", "bnsp_auc") if entry[k] is not None]
    return min(values) if values else 1.0


def bias_report(
    score: Callable[[list[str]], np.ndarray],
    threshold: float,
    probes: list[Probe] | None = None,
    implicit: list[Probe] | None = None,
) -> dict[str, Any]:
    """Score the probes with ``score`` (texts → primary-label probabilities); JSON-able metrics.

    ``terms`` lists the identity terms worst first (lowest of their three AUCs, then highest FPR).
    ``implicit`` (default: the shipped implicit-hate probes when ``probes`` is the default too) are
    scored apart: their share flagged is ``implicit_hate_recall``.
    """
    if implicit is None:
        implicit = implicit_hate_probes() if probes is None else []
    probes = probes if probes is not None else evaluation_probes()
    texts = [p.text for p in probes]
    scored = np.asarray(score(texts + [q.text for q in implicit]), dtype=float).reshape(-1)
    p, p_implicit = scored[: len(texts)], scored[len(texts) :]
    y = np.array([pr.toxic for pr in probes])
    terms = np.array([pr.term or "" for pr in probes], dtype=object)
    is_identity = terms != ""
    kind = ~is_identity & ~y
    flagged = p >= threshold

    entries = []
    for term in dict.fromkeys(t for t in terms if t):
        s = terms == term
        non_toxic = s & ~y
        entries.append({
            "term": term,
            "group": next(pr.group for pr in probes if pr.term == term),
            "subgroup_auc": subgroup_auc(y, p, s),
            "bpsn_auc": bpsn_auc(y, p, s),
            "bnsp_auc": bnsp_auc(y, p, s),
            "fpr": false_positive_rate(y, p, threshold, s),
            "n_non_toxic": int(non_toxic.sum()),
            "n_toxic": int((s & y).sum()),
            "flagged_examples": [texts[i] for i in np.flatnonzero(non_toxic & flagged)[:EXAMPLES_PER_TERM]],
        })
    entries.sort(key=lambda e: (_worst(e), -(e["fpr"] or 0.0), e["term"]))
    overall = auc(y, p)
    measured = [e for e in entries if None not in (e["subgroup_auc"], e["bpsn_auc"], e["bnsp_auc"])]
    worst_bpsn = min(measured, key=lambda e: e["bpsn_auc"], default=None)
    summary = {
        "threshold": float(threshold),
        "n_probes": len(probes),
        "overall_auc": overall,
        "identity_fpr": false_positive_rate(y, p, threshold, is_identity),
        "identity_toxic_recall": float(flagged[is_identity & y].mean()) if (is_identity & y).any() else None,
        "implicit_hate_recall": float(np.mean(p_implicit >= threshold)) if len(implicit) else None,
        "kind_flagged": int((kind & flagged).sum()),
        "kind_total": int(kind.sum()),
        "kind_flagged_examples": [texts[i] for i in np.flatnonzero(kind & flagged)],
        "worst_bpsn_auc": worst_bpsn["bpsn_auc"] if worst_bpsn else None,
        "worst_bpsn_term": worst_bpsn["term"] if worst_bpsn else None,
        "final_bias_score": (
            final_bias_score(
                overall,
                [e["subgroup_auc"] for e in measured],
                [e["bpsn_auc"] for e in measured],
                [e["bnsp_auc"] for e in measured],
            )
            if measured and overall is not None
            else None
        ),
    }
    return {"summary": summary, "terms": entries}


# --- figure and HTML ------------------------------------------------------------------------------
def bias_png(report: dict[str, Any], max_terms: int = 20) -> bytes:
    """Horizontal bars of subgroup / BPSN / BNSP AUC per term, worst subgroups at the top."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    entries = report["terms"][:max_terms]
    fig = Figure(figsize=(7.5, 0.32 * max(len(entries), 3) + 1.2))
    ax = fig.subplots()
    rows = np.arange(len(entries))[::-1]  # the worst term on top
    height = 0.27
    for k, (key, name) in enumerate((("subgroup_auc", "subgroup"), ("bpsn_auc", "BPSN"), ("bnsp_auc", "BNSP"))):
        values = [e[key] if e[key] is not None else np.nan for e in entries]
        ax.barh(rows + (1 - k) * height, values, height=height, label=f"{name} AUC")
    ax.set_yticks(rows, [e["term"] for e in entries])
    ax.axvline(0.95, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlim(min([0.5] + [_worst(e) - 0.05 for e in entries]), 1.0)
    ax.set_xlabel("AUC on the identity probes (worst subgroups first)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def plot_bias(report: dict[str, Any], path: Path | str) -> Path:
    """Write :func:`bias_png` to ``path``."""
    path = Path(path)
    path.write_bytes(bias_png(report))
    return path


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def bias_html(report: dict[str, Any], image_src: str | None = None, max_terms: int = 15) -> str:
    """The report section: summary, the worst terms, flagged kind sentences (all text escaped)."""
    s = report["summary"]
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(t['term'])}</td><td>{e(t['group'])}</td><td>{_fmt(t['subgroup_auc'])}</td>"
        f"<td>{_fmt(t['bpsn_auc'])}</td><td>{_fmt(t['bnsp_auc'])}</td><td>{_fmt(t['fpr'], 2)}</td>"
        f"<td>{e('; '.join(t['flagged_examples']))}</td></tr>"
        for t in report["terms"][:max_terms]
    )
    kind = "".join(f"<li>{e(text)}</li>" for text in s["kind_flagged_examples"])
    image = f'<img alt="AUC per identity term, worst first" src="{e(image_src)}">' if image_src else ""
    return (
        '<section id="bias"><h2>Identity-term bias</h2>'
        f"<p>{s['n_probes']} probe sentences at threshold {s['threshold']:.3f}: "
        f"false-positive rate on non-toxic identity statements <b>{_fmt(s['identity_fpr'], 3)}</b>, "
        f"kind sentences flagged <b>{s['kind_flagged']} of {s['kind_total']}</b>, "
        f"worst BPSN AUC <b>{_fmt(s['worst_bpsn_auc'])}</b> ({e(str(s['worst_bpsn_term']))}), "
        f"final bias score <b>{_fmt(s['final_bias_score'])}</b> (overall probe AUC {_fmt(s['overall_auc'])}); "
        f"identity hate without an insult word flagged {_fmt(s['implicit_hate_recall'], 2)}.</p>"
        f"{image}"
        "<table><tr><th>term</th><th>group</th><th>subgroup AUC</th><th>BPSN AUC</th><th>BNSP AUC</th>"
        f"<th>FPR</th><th>flagged non-toxic examples</th></tr>{rows}</table>"
        + (f"<p>Kind sentences flagged:</p><ul>{kind}</ul>" if kind else "")
        + "</section>"
    )
