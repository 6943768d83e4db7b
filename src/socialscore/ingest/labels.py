"""Exact label parsing: 0/1 (any exact decimal spelling such as ``1.0``), or true/false, or yes/no
when the whole column uses that one vocabulary. Soft labels (``0.5``, ``0.99999999999999999``) are
rejected with a reason instead of being rounded."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

VOCABULARIES: dict[str, dict[str, int]] = {
    "true/false": {"true": 1, "false": 0},
    "yes/no": {"yes": 1, "no": 0},
}


def _numeric(value: str) -> int | str | None:
    """0/1 for an exact 0 or 1, "soft" for another number in [0, 1], None otherwise."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number == 0 or number == 1:
        return int(number)
    return "soft" if 0 < number < 1 else None


def _describe(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    text = str(value)
    if not text.strip():
        return "empty"
    return repr(text if len(text) <= 30 else text[:27] + "...")


def parse_labels(values: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
    """(0/1 per row as int8, 0 where invalid; reason per row or None)."""
    strings = values.astype(object).where(values.notna(), None)
    uniques = pd.unique(strings.to_numpy(dtype=object))
    numeric: dict[object, int | str | None] = {}
    words: dict[object, tuple[str, int]] = {}
    for value in uniques:
        if value is None:
            continue
        key = str(value).strip()
        numeric[value] = _numeric(key)
        for vocabulary, mapping in VOCABULARIES.items():
            if key.lower() in mapping:
                words[value] = (vocabulary, mapping[key.lower()])
    used = {vocabulary for vocabulary, _ in words.values()}
    has_numbers = any(isinstance(v, int) for v in numeric.values())
    mixed = len(used) > 1 or (used and has_numbers)
    parsed: dict[object, int] = {}
    reasons: dict[object, str] = {}
    for value in uniques:
        result = numeric.get(value)
        if isinstance(result, int):
            parsed[value] = result
        elif value in words and not mixed:
            parsed[value] = words[value][1]
        elif value in words:
            kinds = sorted(used | ({"0/1"} if has_numbers else set()))
            reasons[value] = (
                f"{column}: {_describe(value)} mixes label vocabularies in one column "
                f"({', '.join(kinds)}); use one"
            )
        elif result == "soft":
            reasons[value] = (
                f"{column}: {_describe(value)} is a soft label, not 0 or 1 "
                "(labels must be exactly 0 or 1: threshold them first)"
            )
        else:
            reasons[value] = f"{column}: {_describe(value)} is not 0 or 1"
    codes = strings.map(parsed).fillna(0).astype("int8")
    why = strings.map(reasons).astype(object)
    why[strings.isna()] = f"{column}: missing is not 0 or 1"
    return codes, why.where(why.notna(), None)
