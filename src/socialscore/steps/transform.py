"""transform: normalise, validate, scrub PII, de-duplicate, sample (dev) and split the raw rows.

Every input row ends in exactly one place: kept, rejected (with a reason), merged into a duplicate, or
(only with ``sample_size``) left out of the sample — ``rows_in == rows_kept + rows_rejected +
duplicates_merged + sampled_out``. Duplicate rule: same id and same text, then same text; "same text"
compares the raw normalised text BEFORE PII scrubbing (extract's ``text_key``), so comments that differ
only in a phone number stay distinct. The first row's id and text are kept and a label is 1 if any of
the duplicates says 1. An id that carries two different texts is a conflict: an error naming the count
unless ``transform.max_id_conflict_share`` allows that share (the later rows are then rejected).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from socialscore.errors import DataError
from socialscore.ingest.identity import check_ids, enforce
from socialscore.ingest.labels import parse_labels
from socialscore.steps.extract import KEY_FORM, LABEL_PREFIX, write_artifact
from socialscore.storage.csvformat import ERROR_COLUMN
from socialscore.storage.sampling import stable_hash, stratified_take
from socialscore.text.normalize import normalize_text
from socialscore.text.pii import scrub_many

if TYPE_CHECKING:
    from socialscore.config import TransformConfig
    from socialscore.pipeline.context import StepContext

CONFLICT_RULE = "a label is 1 if any duplicate says 1"
CLEAN_COLUMNS = ("id", "text", "source")
CHUNK_ROWS = 50_000  # rows per chunk of the raw table


@dataclass
class TransformResult:
    clean: pd.DataFrame | None  # None: written chunk by chunk (transform_chunks' ``write_clean``)
    rejected: pd.DataFrame
    report: dict[str, Any]


def _validate(frame: pd.DataFrame, norm: pd.Series, labels: list[str], cfg: TransformConfig):
    """(reason per row or None, reason kind per row or None, parsed 0/1 labels)."""
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    kinds = reasons.copy()

    def reject(mask: pd.Series, why: Callable[[pd.Series], object], kind: str) -> None:
        """Give rows in ``mask`` without a reason yet the reason ``why(rows)``."""
        mask = mask & reasons.isna()
        if mask.any():
            reasons[mask] = why(mask)
            kinds[mask] = kind

    errors = frame[ERROR_COLUMN]
    reject(errors.notna(), lambda m: "parse error: " + errors[m].astype(str), "parse error")
    reject(norm == "", lambda m: "empty text", "empty text")
    lengths = norm.str.len()
    reject(
        lengths > cfg.max_text_chars,
        lambda m: f"text over {cfg.max_text_chars} characters (" + lengths[m].astype(str) + ")",
        "text too long",
    )
    parsed = {}
    for column in labels:
        parsed[column], why = parse_labels(frame[column], column)
        reject(why.notna(), lambda m, w=why: w[m], "label not 0/1")
    return reasons, kinds, pd.DataFrame(parsed, index=frame.index)


def _merge_duplicates(
    frame: pd.DataFrame, key: str, labels: list[str]
) -> tuple[pd.DataFrame, int, int]:
    """Keep the first row per ``key``; labels become the max over the group. (frame, merged, conflicts)."""
    dup = frame.duplicated(key, keep=False)
    if not dup.any():
        return frame, 0, 0
    groups = frame.loc[dup].groupby(key, sort=False)[labels]
    high, low = groups.transform("max"), groups.transform("min")
    conflicts = int(frame.loc[dup, key][(high != low).any(axis=1)].nunique())
    frame = frame.copy()
    frame.loc[dup, labels] = high.astype("int8")
    out = frame.drop_duplicates(key, keep="first")
    return out, len(frame) - len(out), conflicts


def assign_split(ids: pd.Series, labels: pd.DataFrame, test_size: float, seed: int) -> np.ndarray:
    """ "train"/"test" from a hash of the id; then positives (any label, and each label) and negatives
    are moved so that each is in both splits whenever it has at least two rows."""
    # Salted apart from the sampling hash: the dev sample keeps the lowest sampling hashes, so
    # reusing that hash here would put far more than test_size of the sample into the test split.
    position = stable_hash(ids, f"split:{seed}").astype(np.float64) / 2.0**64
    test = position < test_size
    any_positive = (
        labels.to_numpy().max(axis=1) == 1 if labels.shape[1] else np.zeros(len(ids), bool)
    )
    groups = [any_positive, ~any_positive] + [labels[c].to_numpy() == 1 for c in labels.columns]
    for members in groups:
        index = np.flatnonzero(members)
        if len(index) < 2:
            continue
        if not test[index].any():
            test[index[np.argmin(position[index])]] = True
        if test[index].all():
            test[index[np.argmax(position[index])]] = False
    return np.where(test, "test", "train")


def _text_keys(frame: pd.DataFrame) -> pd.Series:
    """extract's ``text_key`` (raw text before scrubbing), or the same key computed here."""
    if "text_key" in frame.columns:
        return frame["text_key"].astype(object)
    keys = [hashlib.sha256(normalize_text(t, KEY_FORM).encode("utf-8")).hexdigest() for t in frame["text"]]
    return pd.Series(keys, index=frame.index, dtype=object)


def _scrub(texts: list[str], already: np.ndarray | None) -> tuple[list[str], dict[str, int]]:
    """Scrub the texts that extract did not scrub yet."""
    if already is None or not already.any():
        return scrub_many(texts)
    todo = [i for i, done in enumerate(already) if not done]
    fresh, counts = scrub_many([texts[i] for i in todo])
    out = list(texts)
    for i, text in zip(todo, fresh):
        out[i] = text
    return out, counts


def transform(raw: pd.DataFrame, cfg: TransformConfig, chunk_rows: int = CHUNK_ROWS) -> TransformResult:
    """Clean ``raw`` (extract's table) into kept rows, rejected rows and a report."""
    frame = raw.reset_index(drop=True)
    starts = range(0, len(frame), chunk_rows) if len(frame) else [0]
    return transform_chunks(lambda: (frame.iloc[s : s + chunk_rows] for s in starts), cfg)


def transform_chunks(
    chunks: Callable[[], Iterator[pd.DataFrame]],
    cfg: TransformConfig,
    write_clean: Callable[[Iterator[pd.DataFrame]], None] | None = None,
) -> TransformResult:
    """:func:`transform` of the table that ``chunks()`` yields in order (index = row number, at least
    one chunk), holding one chunk's rows plus a few keys per row, never the whole raw table.

    ``chunks`` is called twice: pass 1 keeps only each valid row's ids, text key and labels (what the
    id check and the merge/sample/split decide on); pass 2 prepares and splits the chunks again and
    gives the kept rows that stay, chunk by chunk, to ``write_clean`` (the result's ``clean`` is then
    None; it is not called when no row is kept), else they are gathered into ``clean``. The Beam
    engine (socialscore.beam.transform) runs the same functions: the row-local ones
    (:func:`prepare_rows`, :func:`split_rows`) per chunk, :func:`finish` once.
    """
    keys, rows_in, labels = [], 0, None
    for chunk in chunks():
        labels = label_names(chunk) if labels is None else labels
        keys.append(_compact(key_columns(chunk, prepare_rows(chunk, cfg), labels)))
        rows_in += len(chunk)
    labels = labels or []
    valid = pd.concat(filled(keys))
    keys.clear()
    id_report, conflicts = find_id_conflicts(valid, cfg)
    slim = valid.drop(index=conflicts)[["id", "key", *labels]].rename(columns={"key": "text_key"})
    del valid
    slim, stays, counts = decide(slim.reset_index(drop=True), labels, cfg)
    rejected: list[pd.DataFrame] = []
    pii: dict[str, int] = {}

    def clean_parts() -> Iterator[pd.DataFrame]:
        at = taken = 0  # kept rows before de-duplication seen; rows of ``slim`` given out
        for chunk in chunks():
            kept, rejects, counted = split_rows(chunk, prepare_rows(chunk, cfg), conflicts, cfg)
            rejected.append(rejects)
            for kind, count in counted.items():
                pii[kind] = pii.get(kind, 0) + count
            mask = stays[at : at + len(kept)]
            at += len(kept)
            part = slim.iloc[taken : taken + int(mask.sum())].reset_index(drop=True)
            taken += len(part)
            yield _with_texts(part, kept.reset_index(drop=True), mask, labels)

    parts = clean_parts()
    clean = None
    if write_clean is None:
        clean = _concat_emptying(list(parts))
    elif len(slim):
        write_clean(part for part in parts if len(part))
    for _ in parts:  # the rejected rows of the chunks not written (nothing kept)
        pass
    rejects = pd.concat(filled(rejected))
    return _result(clean, rejects, slim, rejects["kind"], pii, id_report, rows_in, labels, counts)


def _concat_emptying(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts concatenated (fresh index); the list is emptied, so they can be freed."""
    out = pd.concat(filled(parts), ignore_index=True)
    parts.clear()
    return out


def filled(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The non-empty frames (an empty chunk's columns lose their string dtype), else the first."""
    return [f for f in frames if len(f)] or frames[:1]


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns (strings or None) as pandas' Arrow-backed strings: a few bytes per value (an
    empty frame keeps its dtypes, as the whole-table path has them)."""
    if not len(frame):
        return frame
    return frame.astype({c: "str" for c in frame.columns if frame[c].dtype == object})


def label_names(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(LABEL_PREFIX)]


def prepare_rows(frame: pd.DataFrame, cfg: TransformConfig) -> pd.DataFrame:
    """Row-local checks of ``frame`` (index kept): normalised text, rejection reason and kind,
    parsed labels (``parsed:<label>``), de-duplication key and stripped id (None when missing)."""
    norm = pd.Series(
        [normalize_text(t, cfg.unicode_form) for t in frame["text"]],
        index=frame.index,
        dtype=object,
    )
    reasons, kinds, parsed = _validate(frame, norm, label_names(frame), cfg)
    raw_ids = frame["id"].astype(object)
    stripped = raw_ids.where(raw_ids.isna(), raw_ids.astype(str).str.strip())
    stripped = stripped.where(stripped.notna() & (stripped != ""), None)
    out = pd.DataFrame(
        {"norm": norm, "reason": reasons, "kind": kinds, "key": _text_keys(frame), "stripped": stripped},
        index=frame.index,
    )
    for column in parsed.columns:
        out["parsed:" + column] = parsed[column]
    return out


def id_columns(frame: pd.DataFrame, prepared: pd.DataFrame) -> pd.DataFrame:
    """What the id check needs of the rows that passed validation (a few columns: cheap to gather)."""
    valid = prepared["reason"].isna()
    return pd.DataFrame(
        {"raw": frame["id"].astype(object)[valid], "stripped": prepared["stripped"][valid], "key": prepared["key"][valid]}
    )


def key_columns(frame: pd.DataFrame, prepared: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """:func:`id_columns` plus what :func:`finish` decides on: the kept id and the parsed labels."""
    out = id_columns(frame, prepared)
    out["id"] = _kept_ids(out["stripped"], out["key"])
    for column in labels:
        out[column] = prepared["parsed:" + column][out.index].to_numpy()
    return out


def _kept_ids(stripped: pd.Series, keys: pd.Series) -> np.ndarray:
    """The stripped id, or one derived from the text key when the row has none."""
    ids = stripped.to_numpy(dtype=object)
    derived = np.array(["sha-" + h[:16] for h in keys], dtype=object)
    return np.where(pd.isna(ids), derived, ids)


def find_id_conflicts(ids: pd.DataFrame, cfg: TransformConfig) -> tuple[Any, pd.Index]:
    """(id report, index of the rows whose id already carried another text); errors past the share."""
    id_report, later = check_ids(ids["raw"], ids["stripped"], ids["key"])
    enforce(id_report, len(ids), cfg.max_id_conflict_share)
    return id_report, later.index[later.to_numpy(dtype=bool)]


def split_rows(
    frame: pd.DataFrame, prepared: pd.DataFrame, conflicts: pd.Index, cfg: TransformConfig
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """(kept rows before de-duplication, rejected rows with ``reason`` and ``kind``, PII counts)."""
    labels = label_names(frame)
    reasons, kinds = prepared["reason"].copy(), prepared["kind"].copy()
    conflict = pd.Series(frame.index.isin(conflicts), index=frame.index)
    stripped = prepared["stripped"]
    if conflict.any():
        reasons[conflict] = "id " + stripped[conflict].astype(str) + " already carries a different text"
        kinds[conflict] = "conflicting id"
    valid = reasons.isna().to_numpy()

    rejected = frame.loc[~valid].copy()
    rejected["reason"] = reasons[~valid]
    texts = prepared["norm"][valid].tolist()
    done = frame["pii_scrubbed"].to_numpy(dtype=bool) if "pii_scrubbed" in frame.columns else None
    pii: dict[str, int] = {}
    if cfg.scrub_pii:
        texts, pii = _scrub(texts, done[valid] if done is not None else None)
        rejected_texts = [t if isinstance(t, str) else "" for t in rejected["text"]]
        rejected["text"] = _scrub(rejected_texts, done[~valid] if done is not None else None)[0]
    rejected = rejected.drop(columns=["text_key", "pii_scrubbed"], errors="ignore")
    rejected["kind"] = kinds[~valid]

    kept = pd.DataFrame({"text": texts})
    kept["source"] = frame.loc[valid, "source"].astype(str).to_numpy()
    for column in labels:
        kept[column] = prepared.loc[valid, "parsed:" + column].to_numpy()
    kept["content_hash"] = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    kept["text_key"] = prepared["key"][valid].to_numpy()
    kept["id"] = _kept_ids(stripped[valid], kept["text_key"])
    return kept, rejected, pii


def finish(
    kept: pd.DataFrame,
    rejected: pd.DataFrame,
    pii: dict[str, int],
    id_report: Any,
    rows_in: int,
    labels: list[str],
    cfg: TransformConfig,
) -> TransformResult:
    """The whole-table part: merge duplicates, sample (dev), split, report. ``kept`` and ``rejected``
    are :func:`split_rows`' outputs in input row order (concatenated when it ran per chunk)."""
    kept = kept.reset_index(drop=True)
    slim, stays, counts = decide(kept[["id", "text_key", *labels]], labels, cfg)
    clean = _with_texts(slim, kept, stays, labels)
    del kept
    pa.default_memory_pool().release_unused()
    return _result(clean, rejected, slim, rejected["kind"], pii, id_report, rows_in, labels, counts)


def decide(slim: pd.DataFrame, labels: list[str], cfg: TransformConfig) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Merge duplicates, sample (dev) and split on the kept rows' ids, text keys and labels (index
    0..n-1): (the rows that stay with their merged labels and ``split``, which rows stay, counts)."""
    rows = len(slim)
    slim, by_id, conflicts_id = _merge_duplicates(slim, "id", labels)
    slim, by_text, conflicts_text = _merge_duplicates(slim, "text_key", labels)

    sampled_out = 0
    if cfg.sample_size is not None and len(slim) > cfg.sample_size:
        strata = slim[labels].max(axis=1) if labels else pd.Series(0, index=slim.index)
        chosen = stratified_take(slim["id"], strata, cfg.sample_size, cfg.seed)
        sampled_out = int((~chosen).sum())
        slim = slim[chosen]

    stays = np.zeros(rows, dtype=bool)
    stays[slim.index.to_numpy()] = True  # the rows stay in order: a mask, which Arrow applies per chunk
    slim = slim.reset_index(drop=True)
    slim["split"] = assign_split(slim["id"], slim[labels], cfg.test_size, cfg.seed)
    counts = {"by_id": by_id, "by_text": by_text, "conflicts": conflicts_id + conflicts_text}
    return slim, stays, counts | {"sampled_out": sampled_out}


def _with_texts(slim: pd.DataFrame, kept: pd.DataFrame, stays: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """The clean rows: ``slim``'s rows (those of ``kept`` where ``stays``) with their texts; each text
    column is dropped from ``kept`` as it is taken."""
    out = slim.copy(deep=False)
    for column in ("text", "source", "content_hash"):
        out[column] = kept.pop(column)[stays].array
    return out[[*CLEAN_COLUMNS, *labels, "split", "content_hash"]]


def _result(
    clean: pd.DataFrame | None,
    rejected: pd.DataFrame,
    slim: pd.DataFrame,
    kinds: pd.Series,
    pii: dict[str, int],
    id_report: Any,
    rows_in: int,
    labels: list[str],
    counts: dict,
) -> TransformResult:
    """The result and its report; ``slim`` has the clean rows' labels and split."""
    rejected = rejected.drop(columns=["kind"]).reset_index(drop=True)
    sampled_out = counts["sampled_out"]
    report: dict[str, Any] = {
        "rows_in": rows_in,
        "rows_kept": len(slim),
        "rows_rejected": len(rejected),
        "duplicates_merged": counts["by_id"] + counts["by_text"],
        "duplicates_by_id": counts["by_id"],
        "duplicates_by_text": counts["by_text"],
        "label_conflicts": counts["conflicts"],
        "label_conflict_rule": CONFLICT_RULE,
        "sampled_out": sampled_out,
        "rejected_by_reason": {str(k): int(v) for k, v in kinds.value_counts().items()},
        "pii_replaced": pii,
        "ids": id_report.as_dict(),
        "split": {s: int((slim["split"] == s).sum()) for s in ("train", "test")},
        "positives": {c.removeprefix(LABEL_PREFIX): int(slim[c].sum()) for c in labels},
    }
    accounted = (
        report["rows_kept"] + report["rows_rejected"] + report["duplicates_merged"] + sampled_out
    )
    assert accounted == report["rows_in"], f"rows lost in transform: {report}"
    return TransformResult(clean, rejected, report)


def run(ctx: StepContext) -> None:
    """The clean rows are written chunk by chunk as pass 2 makes them."""
    result = transform_chunks(
        lambda: ctx.read_chunks("raw", CHUNK_ROWS),
        ctx.settings.transform,
        lambda parts: write_artifact(ctx, "clean", parts),
    )
    record(ctx, result)


def record(ctx: StepContext, result: TransformResult) -> None:
    """Write a transform result (either engine's) and report it."""
    report = result.report
    write_artifact(ctx, "rejected", result.rejected)
    if not report["rows_kept"]:
        raise DataError(
            f"no usable rows: all {report['rows_in']} were rejected or merged "
            f"({report['rejected_by_reason']}); see {ctx.location('rejected')}"
        )
    if result.clean is not None:  # else written as it was made
        write_artifact(ctx, "clean", result.clean)
    for key in ("rows_in", "rows_kept", "rows_rejected", "duplicates_merged", "label_conflicts"):
        ctx.fact(key, report[key])
    if report["sampled_out"]:
        ctx.fact("sampled_out", report["sampled_out"])
    ctx.fact("pii_replaced", sum(report["pii_replaced"].values()))
    ctx.info(
        f"rows in {report['rows_in']} = kept {report['rows_kept']} + rejected {report['rows_rejected']}"
        f" + duplicates merged {report['duplicates_merged']} + sampled out {report['sampled_out']}"
    )
    if report["rejected_by_reason"]:
        ctx.info(f"rejected by reason: {report['rejected_by_reason']}")
    if report["label_conflicts"]:
        ctx.info(
            f"{report['label_conflicts']} duplicate group(s) had conflicting labels ({CONFLICT_RULE})"
        )
    ctx.info(f"PII replaced: {report['pii_replaced']}; split: {report['split']}")
    ids = report["ids"]
    if ids["excel_mangled_ids"]:
        ctx.warn(
            f"{ids['excel_mangled_ids']} id(s) look like Excel scientific notation (e.g. 1.23457E+17): "
            "Excel rounds long ids; re-export the file with the id column formatted as text"
        )
    if ids["conflicting_ids"]:
        ctx.warn(
            f"{ids['conflicting_ids']} id(s) carried different texts: {ids['conflicting_rows']} row(s) rejected "
            f"(e.g. id {', '.join(ids['conflict_samples'][:3])})"
        )
