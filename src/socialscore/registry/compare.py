"""Differences between two recorded runs: config keys and step figures (like ``dvc exp show``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``a.b.c`` keys."""
    if not isinstance(value, Mapping):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return out


def compare_runs(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, first value, second value) for every config key and figure that differs, config first."""
    rows = []
    for section in ("config", "facts"):
        a, b = flatten(first.get(section) or {}), flatten(second.get(section) or {})
        for key in sorted(a.keys() | b.keys()):
            if a.get(key) != b.get(key):
                rows.append((f"{section}.{key}", a.get(key, "-"), b.get(key, "-")))
    for key in ("status", "version"):
        if first.get(key) != second.get(key):
            rows.append((key, first.get(key), second.get(key)))
    return rows
