"""Row ids: ids that Excel mangled (scientific notation such as ``1.23457E+17``), ids that collide once
surrounding whitespace is stripped, and ids that carry two different texts (conflicts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from socialscore.errors import DataError

EXCEL_SCIENTIFIC = re.compile(r"^[+-]?\d(?:\.\d+)?E[+-]?\d+$", re.IGNORECASE)
SHARE_KEY = "transform.max_id_conflict_share"


@dataclass
class IdReport:
    excel_mangled: int = 0
    excel_samples: list[str] = field(default_factory=list)
    whitespace_collisions: int = 0
    conflicting_ids: int = 0  # ids carrying two or more different texts
    conflicting_rows: int = 0  # rows after the first text of such an id
    samples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "excel_mangled_ids": self.excel_mangled,
            "whitespace_id_collisions": self.whitespace_collisions,
            "conflicting_ids": self.conflicting_ids,
            "conflicting_rows": self.conflicting_rows,
            "conflict_samples": self.samples,
        }


def check_ids(raw_ids: pd.Series, ids: pd.Series, text_keys: pd.Series) -> tuple[IdReport, pd.Series]:
    """(report, mask of rows whose id already carried another text).

    ``raw_ids`` are the ids as read, ``ids`` the stripped ids (None when missing), ``text_keys`` the
    de-duplication key of each row's raw normalised text.
    """
    report = IdReport()
    present = ids.notna()
    as_text = raw_ids.astype("str").fillna("")  # Arrow strings: no Python string per row
    mangled = present & as_text.str.strip().str.fullmatch(EXCEL_SCIENTIFIC.pattern, case=False)
    report.excel_mangled = int(mangled.sum())
    report.excel_samples = as_text[mangled].drop_duplicates().head(3).tolist()
    # Integer codes (in order of first appearance) instead of groupbys over the strings.
    id_codes, id_values = pd.factorize(ids[present])
    key_codes = pd.factorize(text_keys[present])[0]
    report.whitespace_collisions = int((_distinct_per_group(id_codes, pd.factorize(as_text[present])[0], len(id_values)) > 1).sum())
    conflicting = np.flatnonzero(_distinct_per_group(id_codes, key_codes, len(id_values)) > 1)
    report.conflicting_ids = len(conflicting)
    first_row = np.unique(id_codes, return_index=True)[1]  # per id code, its first row
    later = pd.Series(False, index=ids.index)
    later[present.to_numpy()] = key_codes != key_codes[first_row][id_codes]
    report.conflicting_rows = int(later.sum())
    report.samples = [str(i) for i in id_values[conflicting[:5]]]
    return report, later


def _distinct_per_group(groups: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """The number of distinct ``values`` per group code ``0..count-1`` (codes as from pd.factorize)."""
    width = np.int64(values.max(initial=0)) + 1
    pairs = np.unique(groups.astype(np.int64) * width + values)
    return np.bincount(pairs // width, minlength=count)


def enforce(report: IdReport, rows: int, max_share: float) -> None:
    """DataError when conflicting rows exceed ``max_share`` of ``rows``."""
    if not report.conflicting_ids or report.conflicting_rows <= max_share * rows:
        return
    causes = []
    if report.excel_mangled:
        causes.append(
            f"{report.excel_mangled} id(s) are in Excel's scientific notation (e.g. {report.excel_samples[0]}): "
            "Excel rounded long ids, so distinct comments now share one; re-export with the id column as text"
        )
    if report.whitespace_collisions:
        causes.append(f"{report.whitespace_collisions} id(s) differ only in surrounding whitespace")
    cause = f" ({'; '.join(causes)})" if causes else ""
    raise DataError(
        f"{report.conflicting_ids} id(s) carry two or more different texts ({report.conflicting_rows} row(s), "
        f"e.g. id {', '.join(report.samples[:3])}){cause}; fix the ids (or remove the id column), or allow a share with --set {SHARE_KEY}=0.01 (such rows are then rejected)"
    )
