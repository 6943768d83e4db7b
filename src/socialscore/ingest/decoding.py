"""Bytes → text without silent damage: BOMs, UTF-16/32 without a BOM, strict UTF-8, else a
charset-normalizer guess that must decode the whole file strictly. A file that fits no single
encoding is an error naming the guess and the first bad byte, unless the user chose ``--encoding``.
Containers (Parquet, Excel, zip, gzip...) are recognised by their magic bytes."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from socialscore.errors import DataError

# Among guesses that decode equally cleanly, the more common encoding wins.
_PREFERRED = (
    "cp1252", "latin_1", "iso8859_15", "cp932", "shift_jis", "euc_jp", "gb18030", "gbk", "big5",
    "euc_kr", "cp949", "cp1251", "koi8_r", "cp1250", "iso8859_2", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "cp1258",
)
_MULTIBYTE = frozenset(
    {"cp932", "shift_jis", "shift_jis_2004", "euc_jp", "gb18030", "gbk", "gb2312", "big5", "big5hkscs",
     "euc_kr", "cp949", "cp950", "iso2022_jp", "hz"}
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# (magic bytes at offset 0, what the file is, what to do)
_CONTAINERS = (
    (b"PAR1", "a Parquet file", "name it *.parquet to read it as Parquet, or export it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls)", "save it as 'CSV UTF-8' from Excel"),
    (b"\x1f\x8b", "a gzip archive", "name it *.csv.gz to read it compressed, or gunzip it"),
    (b"BZh", "a bzip2 archive", "decompress it (bunzip2) first"),
    (b"\xfd7zXZ\x00", "an xz archive", "decompress it (unxz) first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the CSV from it first"),
    (b"%PDF", "a PDF document", "export the comments as a CSV file"),
    (b"SQLite format 3\x00", "an SQLite database", "export the comments table as a CSV file"),
)


@dataclass
class Decoded:
    text: str
    encoding: str
    notes: list[str] = field(default_factory=list)
    nul_chars: int = 0


def container_kind(head: bytes) -> tuple[str, str] | None:
    """(what the file is, what to do) when ``head`` starts like a known binary container."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if b"xl/" in head or b"[Content_Types].xml" in head:
            return "an Excel workbook (.xlsx)", "save it as 'CSV UTF-8' from Excel"
        return "a zip archive", "extract the CSV from it first"
    for magic, what, todo in _CONTAINERS:
        if head.startswith(magic):
            return what, todo
    return None


def _bomless_wide(head: bytes) -> str | None:
    """UTF-32/UTF-16 without a BOM, recognised by where the zero bytes of ASCII text fall."""
    if len(head) < 8:
        return None
    quads = len(head) // 4 * 4
    if quads >= 8:
        lanes = [head[i:quads:4].count(0) / (quads // 4) for i in range(4)]
        if lanes[2] > 0.95 and lanes[3] > 0.95 and lanes[1] > 0.6 and lanes[0] < 0.2:
            return "utf-32-le"
        if lanes[0] > 0.95 and lanes[1] > 0.95 and lanes[2] > 0.6 and lanes[3] < 0.2:
            return "utf-32-be"
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.2 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.6 * len(even) and odd.count(0) < 0.2 * len(odd):
        return "utf-16-be"
    return None


def _has_utf8_multibyte(data: bytes) -> bool:
    """Whether ``data`` holds any valid multi-byte UTF-8 sequence (broken UTF-8 rather than cp1252)."""
    valid = data.decode("utf-8", errors="ignore")
    return len(valid.encode("utf-8")) > len(valid.encode("ascii", errors="ignore"))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{name} is not valid {encoding.upper()}: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"(line {_line_of(data, exc.start)}) cannot be decoded; re-save the file, or pass --encoding "
            "(data.encoding) to decode it anyway"
        ) from None


def guess_encoding(data: bytes) -> tuple[str | None, list[str]]:
    """charset-normalizer's best guess (ties go to the commoner encoding) and the other close ones."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None, []
    best_chaos = min(m.chaos for m in matches)
    close = [m.encoding for m in matches if m.chaos <= best_chaos + 0.01]
    ranked = sorted(close, key=lambda e: _PREFERRED.index(e) if e in _PREFERRED else len(_PREFERRED))
    return ranked[0], ranked[1:4]


def decode_bytes(data: bytes, name: str = "the file", encoding: str | None = None) -> Decoded:
    """Decode ``data`` losslessly or raise DataError (see the module docstring)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(f"unknown encoding {encoding!r} (data.encoding / --encoding)") from None
        text = data.decode(encoding, errors="replace")
        bad = text.count("\ufffd") - data.decode(encoding, errors="ignore").count("\ufffd")
        notes = [f"read as {encoding} (as configured)"]
        if bad:
            notes.append(f"{bad} undecodable byte sequence(s) became U+FFFD")
        return _finish(text, encoding, notes)
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], bom_encoding, name)
            notes = [] if bom_encoding == "utf-8" else [f"read as {bom_encoding.upper()} (byte order mark)"]
            return _finish(text, bom_encoding, notes)
    wide = _bomless_wide(data[:4096])
    if wide:
        return _finish(_strict(data, wide, name), wide, [f"read as {wide.upper()} (no byte order mark)"])
    try:
        return _finish(data.decode("utf-8"), "utf-8", [])
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    guess, others = guess_encoding(data)
    # In a multi-byte legacy encoding (Shift-JIS, GBK...) byte pairs often look like UTF-8 by chance;
    # in a single-byte one (cp1252...) they almost never do, so there they mean a mixed file.
    utf8_multibyte = guess not in _MULTIBYTE and _has_utf8_multibyte(data)
    where = f"byte 0x{data[first_bad]:02x} at offset {first_bad} (line {_line_of(data, first_bad)})"
    if guess is None or guess in ("utf_8", "ascii") or utf8_multibyte:
        why = "it mixes UTF-8 with another encoding" if utf8_multibyte else "no single encoding fits"
        raise DataError(
            f"{name} cannot be decoded losslessly: not valid UTF-8 at {where}, and {why} "
            f"(charset-normalizer's guess: {guess or 'none'}); re-save it as UTF-8, or pass --encoding "
            "(data.encoding), e.g. --encoding cp1252, to decode it anyway"
        )
    try:
        text = data.decode(guess)
    except UnicodeDecodeError:
        raise DataError(
            f"{name} cannot be decoded losslessly: not valid UTF-8 at {where}, and the guess {guess} fails "
            "too; re-save it as UTF-8, or pass --encoding (data.encoding) to decode it anyway"
        ) from None
    also = f"; also plausible: {', '.join(others)}" if others else ""
    notes = [f"not valid UTF-8 (first at {where}): read as {guess}, charset-normalizer's guess{also}; "
             "pass --encoding to choose"]
    return _finish(text, guess, notes)


def plain_utf8(data: bytes) -> bool:
    """Whether ``decode_bytes(data)`` is ``data`` as it is: valid UTF-8 without a BOM, without NUL,
    not UTF-16/32. Checked in blocks, so no decoded copy of the whole file is made."""
    if b"\x00" in data or any(data.startswith(bom) for bom, _ in _BOMS) or _bomless_wide(data[:4096]):
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), 1 << 16):  # small blocks: the decoded text is thrown away
            decoder.decode(view[start : start + (1 << 16)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _finish(text: str, encoding: str, notes: list[str]) -> Decoded:
    nuls = text.count("\x00")
    if nuls:
        text = text.replace("\x00", "")
    return Decoded(text, encoding, notes, nuls)


def file_encoding(path: Path, encoding: str | None = None) -> str:
    """The encoding ``decode_bytes`` would choose for the file at ``path``, read in blocks.

    For the streaming readers (``socialscore predict``): BOMs and UTF-16/32 without one are found from
    the head and valid UTF-8 is checked block by block; anything else is decided by ``decode_bytes``
    itself on the whole file, so its guesses and its errors are the same as extract's.
    """
    if encoding:
        return decode_bytes(b"", path.name, encoding).encoding
    with open(path, "rb") as handle:
        head = handle.read(4096)
        for bom, bom_encoding in _BOMS:
            if head.startswith(bom):
                return "utf-8-sig" if bom_encoding == "utf-8" else bom_encoding.rsplit("-", 1)[0]  # the codec skips the BOM
        wide = _bomless_wide(head)
        if wide:
            return wide
        decoder = codecs.getincrementaldecoder("utf-8")()
        handle.seek(0)
        try:
            for block in iter(lambda: handle.read(1 << 16), b""):  # small blocks: memory stays flat
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    return decode_bytes(path.read_bytes(), path.name).encoding
