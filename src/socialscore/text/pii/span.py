"""What a detector finds: a span of text and its kind."""

from __future__ import annotations

from dataclasses import dataclass

KINDS: tuple[str, ...] = ("EMAIL", "PHONE", "URL", "USER", "IP", "CARD", "IBAN", "ID", "ADDRESS")


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    kind: str
