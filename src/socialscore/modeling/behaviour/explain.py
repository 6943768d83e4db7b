"""Exact explanations of the linear models, in words a moderator reads.

For the linear types the raw score (log-odds, before the monotone Platt calibration) of label ``j`` is
``Σ_i x_i · coef_[i, j] + intercept_[j]``, so each feature's contribution is exact. Features map to
terms: a word n-gram is itself (with the text's own spelling); a character n-gram's contribution is
spread over the words of the text that contain it, in proportion to how often each holds it (so
"fucking" appears, not ``char__uck``); engineered features get plain names.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

ENGINEERED_NAMES = {
    "log_chars": "text length",
    "log_words": "number of words",
    "exclamations": "exclamation marks",
    "questions": "question marks",
    "punct_runs": "runs of punctuation (!!, ?!)",
    "max_punct_run": "longest punctuation run",
    "elongations": "stretched words (sooo)",
    "placeholders": "removed personal data",
    "lexicon_hits": "insult words",
    "lexicon_share": "share of insult words",
}
_CHUNK_RE = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’()[]{}<>.,;:!?*"
FEATURE_PREFIX = "\x00"  # marks an engineered feature's name among the text's words (never in a word)
_names_cache: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def feature_names(featurizer: Any) -> np.ndarray:
    """``featurizer.get_feature_names_out()``, computed once per fitted featurizer."""
    names = _names_cache.get(featurizer)
    if names is None:
        names = np.asarray(featurizer.get_feature_names_out(), dtype=object)
        _names_cache[featurizer] = names
    return names


def plain_name(engineered: str) -> str:
    """A moderator's name for an engineered feature (``placeholder_email`` → "removed email")."""
    if engineered.startswith("placeholder_"):
        return "removed " + engineered[len("placeholder_") :]
    return ENGINEERED_NAMES.get(engineered, engineered.replace("_", " "))


def display_words(featurizer: Any, text: str) -> dict[str, str]:
    """Model token → the word as written in ``text`` (first occurrence, edge punctuation stripped)."""
    out: dict[str, str] = {}
    for chunk in _CHUNK_RE.findall(text):
        shown = chunk.strip(_EDGE_PUNCT) or chunk
        for token in featurizer.preprocessor.tokens(chunk):
            out.setdefault(token, shown)
    return out


def _char_share(gram: str, tokens: list[str]) -> dict[str, float]:
    """How a within-word character n-gram's weight splits over the text's tokens."""
    counts: dict[str, int] = defaultdict(int)
    for token in tokens:
        padded = f" {token} "
        n = sum(1 for i in range(len(padded) - len(gram) + 1) if padded.startswith(gram, i))
        if n:
            counts[token] += n
    total = sum(counts.values())
    return {t: c / total for t, c in counts.items()} if total else {}


def _label_index(model: Any, label: str | None) -> int:
    label = label or model.primary_label
    j = model.labels.index(label)
    if j in getattr(model, "trees_", {}):
        raise ValueError(f"label {label!r} is scored by a tree model: contributions are not exact, not explained")
    return j


def contributions(featurizer: Any, model: Any, text: str, label: str | None = None) -> tuple[dict[str, float], float]:
    """(term → summed contribution to the raw score, intercept) for one text; exact for linear labels.

    Engineered features' names start with ``FEATURE_PREFIX`` (so "insult words" never merges with
    the words "insult" and "words" of the text)."""
    j = _label_index(model, label)
    x = featurizer.transform([text]).tocsr()
    names = feature_names(featurizer)
    coef = np.asarray(model.coef_[:, j], dtype=np.float64)
    tokens = featurizer.preprocessor.tokens(text)
    shown = display_words(featurizer, text)
    terms: dict[str, float] = defaultdict(float)
    for col, value in zip(x.indices, x.data, strict=True):
        contribution = float(value) * coef[col]
        if contribution == 0.0:
            continue
        kind, _, gram = str(names[col]).partition("__")
        if kind == "word":
            terms[" ".join(shown.get(t, t) for t in gram.split(" "))] += contribution
        elif kind == "char":
            share = _char_share(gram, tokens)
            for token, part in share.items():
                terms[shown.get(token, token)] += contribution * part
            if not share:  # cannot happen for a gram the text produced; kept exact regardless
                terms[gram.strip()] += contribution
        else:
            terms[FEATURE_PREFIX + plain_name(gram)] += contribution
    return dict(terms), float(model.intercept_[j])


def _term(name: str, contribution: float) -> dict[str, Any]:
    feature = name.startswith(FEATURE_PREFIX)
    return {
        "term": name.removeprefix(FEATURE_PREFIX),
        "contribution": round(contribution, 6),
        "kind": "feature" if feature else "text",
    }


def explain(
    featurizer: Any, model: Any, texts: Sequence[str], label: str | None = None, top_k: int = 5
) -> list[dict[str, Any]]:
    """Per text: the ``top_k`` terms by absolute contribution (signed; positive pushes towards the label).

    Each entry holds ``label``, ``raw_score`` (the model's log-odds), ``intercept`` and ``terms``:
    ``[{"term": str, "contribution": float, "kind": "text" | "feature"}, …]`` — "text" terms are
    words or phrases of the text as written, "feature" terms name an engineered feature.
    """
    out = []
    resolved = label or model.primary_label
    for text in texts:
        terms, intercept = contributions(featurizer, model, text, resolved)
        ranked = sorted(terms.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[: max(top_k, 0)]
        out.append({
            "label": resolved,
            "raw_score": intercept + float(sum(terms.values())),
            "intercept": intercept,
            "terms": [_term(t, c) for t, c in ranked],
        })
    return out


def error_analysis(
    texts: Sequence[str],
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    featurizer: Any = None,
    model: Any = None,
    label: str | None = None,
    k: int = 10,
    top_k: int = 5,
    max_chars: int = 300,
) -> dict[str, list[dict[str, Any]]]:
    """The ``k`` most confident false positives (highest scores) and false negatives (lowest), each with
    its top terms when a featurizer and a linear model are given. Texts are cut to ``max_chars``."""
    y, p = np.asarray(y).astype(bool), np.asarray(p, dtype=float)
    flagged = p >= threshold
    fp = np.flatnonzero(~y & flagged)
    fn = np.flatnonzero(y & ~flagged)
    picks = {
        "false_positives": fp[np.argsort(-p[fp], kind="stable")][:k],
        "false_negatives": fn[np.argsort(p[fn], kind="stable")][:k],
    }
    result: dict[str, list[dict[str, Any]]] = {}
    for name, index in picks.items():
        chosen = [texts[i] for i in index]
        explained = explain(featurizer, model, chosen, label, top_k) if featurizer is not None and model is not None else None
        result[name] = [
            {
                "text": text[:max_chars] + ("…" if len(text) > max_chars else ""),
                "score": float(p[i]),
                "label": bool(y[i]),
                "terms": explained[n]["terms"] if explained else [],
            }
            for n, (i, text) in enumerate(zip(index, chosen, strict=True))
        ]
    return result


def explain_pipeline(pipeline: Any, text: str, top_k: int = 5) -> list[dict[str, Any]]:
    """The top terms of one text for a scoring pipeline's primary label (the API's ``explain: true``).

    The text is cleaned by the pipeline's own rules first (the terms are those the model saw). Raises
    ValueError when the model is not a linear socialscore model (its scores then have no exact
    decomposition).
    """
    model, featurizer = pipeline.model, pipeline.featurizer
    if hasattr(model, "explain_refusal"):
        raise ValueError(model.explain_refusal())
    if getattr(model, "trees_", None) or not (hasattr(model, "coef_") and hasattr(featurizer, "preprocessor")):
        raise ValueError("the served model is not a linear socialscore model: it cannot explain its scores")
    cleaned = pipeline.clean([text])[0]
    return explain(featurizer, model, [cleaned], model.primary_label, top_k)[0]["terms"]


def error_analysis_html(result: dict[str, list[dict[str, Any]]]) -> str:
    """The report section for :func:`error_analysis` (every text escaped)."""
    import html

    def rows(entries: list[dict[str, Any]]) -> str:
        return "".join(
            f"<tr><td>{entry['score']:.3f}</td><td>{html.escape(entry['text'])}</td><td>"
            + html.escape(", ".join(f"{t['term']} {t['contribution']:+.2f}" for t in entry["terms"]))
            + "</td></tr>"
            for entry in entries
        )

    head = "<tr><th>score</th><th>text</th><th>top terms (log-odds)</th></tr>"
    return (
        '<section id="errors"><h2>Most confident mistakes (held-out split)</h2>'
        f"<h3>False positives</h3><table>{head}{rows(result['false_positives'])}</table>"
        f"<h3>False negatives</h3><table>{head}{rows(result['false_negatives'])}</table></section>"
    )
