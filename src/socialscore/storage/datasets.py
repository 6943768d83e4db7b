"""Reading comment CSVs in every supported format, and the synthetic example dataset.

``read_table`` (``read_input`` with a DataConfig) turns a file into a table of strings without losing a
record: lossless decoding (socialscore.ingest.decoding), file-system checks and resource guards
(socialscore.ingest.guards), NUL removal, delimiter detection, records that cannot be parsed kept as
rows with an ``_error``; ``*.csv.gz`` and ``*.parquet`` are read directly. ``detect_schema`` says which columns hold the id,
the text and the labels. ``generate_example`` builds the seeded synthetic dataset.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from socialscore.storage.csvformat import (
    ERROR_COLUMN,
    JIGSAW_LABELS,
    UnlabelledError,
    _clean_names,
    decode_bytes,
    detect_delimiter,
    detect_schema,
)
from socialscore.errors import DataError
from socialscore.ingest.decoding import container_kind
from socialscore.ingest.guards import check_header, read_input_bytes
from socialscore.ingest.labels import parse_labels

if TYPE_CHECKING:
    from socialscore.config import DataConfig


# --- reading ------------------------------------------------------------------------------------
@dataclass
class Table:
    """A CSV as strings: ``frame`` has the file's columns plus ``_error`` (None or why)."""

    path: Path
    frame: pd.DataFrame
    columns: list[str]
    delimiter: str
    notes: list[str] = field(default_factory=list)
    raw_records: dict[int, str] = field(default_factory=dict)  # row position → raw record (errors)


def _read_fast(text: str, sep: str) -> pd.DataFrame | None:
    """The pandas C parser; None when the file needs the careful path."""
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="c",
            skip_blank_lines=True,
        )
    except pd.errors.ParserError:
        return None
    if not isinstance(frame.index, pd.RangeIndex):
        return None  # every row had more fields than the header: pandas took column 1 as an index
    return frame


_SEP_HINT = re.compile(r"sep=([,\t;|])\r?\n")
UNBALANCED_QUOTE = "unbalanced quote (the records after it were recovered)"
TRUNCATED_QUOTE = "unterminated quoted field (truncated file?)"


def _records(text: str) -> list[tuple[int, str]]:
    """Physical lines as the csv module splits them: (1-based line number, line)."""
    return list(enumerate(io.StringIO(text, newline="").readlines(), start=1))


def _parse(text: str, sep: str) -> list[tuple[int, list[str]]]:
    """(first physical line, fields) per non-empty record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    out = []
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return out
        if record:
            out.append((start, record))


def _ends_inside_quotes(text: str, sep: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True):
            pass
    except csv.Error:
        return True
    return False


def _read_careful(
    text: str, sep: str
) -> tuple[list[str], list[list[str | None]], list[str | None], dict, list[str]]:
    """Record by record with the csv module: no record is dropped.

    A record with too many fields becomes an error row. A record whose quote never closes swallows the
    rest of the file; when the lines after its first line parse as ordinary records (a stray quote),
    they are recovered and only the first line is an error row; otherwise (a truncated file) the
    record is one error row.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    parsed = _parse(text, sep)
    if not parsed:
        return [], [], [], {}, []
    (_, header), body = parsed[0], parsed[1:]
    width = len(header)
    notes: list[str] = []
    unterminated: int | None = None
    unterminated_reason = TRUNCATED_QUOTE
    if body:
        lines = _records(text)
        last_start = body[-1][0]
        tail = "".join(line for _, line in lines[last_start - 1 :])
        if _ends_inside_quotes(tail, sep):
            rest = "".join(line for _, line in lines[last_start:])
            recovered = [fields for _, fields in _parse(rest, sep)]
            if recovered and 2 * sum(len(r) == width for r in recovered) >= len(recovered):
                first = lines[last_start - 1][1].rstrip("\r\n")
                body[-1] = (last_start, [first])
                body += [(0, r) for r in recovered]
                notes.append(
                    f"an unbalanced quote on line {last_start}: {len(recovered)} later record(s) recovered"
                )
                unterminated = len(body) - len(recovered) - 1
                unterminated_reason = UNBALANCED_QUOTE
            else:
                unterminated = len(body) - 1
                notes.append("the file ends inside a quoted field (truncated?)")
    rows: list[list[str | None]] = []
    errors: list[str | None] = []
    raw: dict[int, str] = {}
    for position, (_, record) in enumerate(body):
        if position == unterminated:
            raw[position] = sep.join(record)
            errors.append(unterminated_reason)
            rows.append([None] * width)
        elif len(record) > width:
            raw[position] = sep.join(record)
            errors.append(f"too many fields ({len(record)}, expected {width})")
            rows.append([None] * width)
        else:
            errors.append(None)
            rows.append(list(record) + [None] * (width - len(record)))
    return header, rows, errors, raw, notes


def read_input(path: Path, data_cfg: DataConfig) -> Table:
    """Read ``path`` exactly as the extract step does: ``data.delimiter``, ``data.encoding`` and the
    resource guards of ``data_cfg`` (predict should read its input with this too)."""
    return read_table(
        path,
        data_cfg.delimiter,
        encoding=data_cfg.encoding,
        max_file_mb=data_cfg.max_file_mb,
        max_columns=data_cfg.max_columns,
        max_line_chars=data_cfg.max_line_chars,
    )


def _read_parquet(path: Path, data: bytes) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        arrow = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path} cannot be read as Parquet: {str(exc).splitlines()[0][:200]}") from None
    frame = arrow.to_pandas()
    for column in frame.columns:
        values = frame[column].tolist()
        missing = frame[column].isna().tolist()
        frame[column] = pd.Series(
            [None if m else (v if isinstance(v, str) else str(v)) for v, m in zip(values, missing)],
            index=frame.index,
            dtype=object,
        )
    columns = _clean_names(list(frame.columns))
    frame.columns = columns
    if len(frame) == 0:
        raise DataError(f"data file {path} has no data rows")
    frame[ERROR_COLUMN] = None
    return Table(path, frame, columns, ",", [f"{path.name}: read as Parquet"])


def read_table(
    path: Path,
    delimiter: str | None = None,
    *,
    encoding: str | None = None,
    max_file_mb: int = 4096,
    max_columns: int = 1000,
    max_line_chars: int = 10_000_000,
) -> Table:
    """Read ``path`` into a table of strings; expected problems raise DataError with one line."""
    data = read_input_bytes(path, max_file_mb)
    if path.name.lower().endswith(".parquet"):
        return _read_parquet(path, data)
    container = container_kind(data[:4096])
    if container:
        what, todo = container
        raise DataError(f"data file {path} is {what}, not CSV text; {todo}")
    decoded = decode_bytes(data, f"data file {path}", encoding)
    text = decoded.text
    if not text.strip():
        raise DataError(f"data file {path} is empty")
    if decoded.nul_chars > 0.05 * len(text) + 16:
        raise DataError(f"data file {path} looks binary, not like a CSV text file")
    notes = []
    hint = _SEP_HINT.match(text)
    if hint:  # Excel's "sep=;" first line
        text = text[hint.end() :]
        delimiter = delimiter or hint.group(1)
        notes.append(f"{path.name}: used the spreadsheet hint line 'sep={hint.group(1)}'")
    sep = delimiter or detect_delimiter(text)
    check_header(text, sep, path.name, max_columns, max_line_chars)
    notes += [f"{path.name}: {note}" for note in decoded.notes]
    if decoded.nul_chars:
        notes.append(f"{path.name}: removed {decoded.nul_chars} NUL character(s)")
    if sep != ",":
        notes.append(f"{path.name}: delimiter {sep!r}")

    frame = _read_fast(text, sep)
    raw: dict[int, str] = {}
    if frame is not None:
        columns = _clean_names(list(frame.columns))
        frame.columns = columns
        frame[ERROR_COLUMN] = None
    else:
        header, rows, errors, raw, careful_notes = _read_careful(text, sep)
        columns = _clean_names(header)
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
        frame[ERROR_COLUMN] = pd.Series(errors, dtype=object)
        notes += [f"{path.name}: {n}" for n in careful_notes]
        bad = sum(e is not None for e in errors)
        if bad:
            notes.append(
                f"{path.name}: {bad} record(s) could not be parsed (kept as rejected rows)"
            )
    if len(frame) == 0:
        raise DataError(f"data file {path} has a header but no data rows")
    duplicated = sorted(
        {c.rsplit(".", 1)[0] for c in columns if re.search(r"\.\d+$", c)} & set(columns)
    )
    if duplicated:
        notes.append(
            f"{path.name}: duplicate column name(s) {', '.join(duplicated)}; the first is used"
        )
    return Table(path, frame, columns, sep, notes, raw)


DAVIDSON_CLASSES = {"hate": {"0"}, "offensive": {"1"}, "toxic": {"0", "1"}}


def davidson_label(values: pd.Series, label: str) -> pd.Series:
    """class 0 hate / 1 offensive / 2 neither → "1"/"0"; anything else is kept raw (to be rejected)."""
    stripped = values.astype("string").str.strip()
    known = stripped.isin(["0", "1", "2"]).fillna(False)
    positive = stripped.isin(list(DAVIDSON_CLASSES[label])).fillna(False)
    out = values.astype(object).copy()
    out[known & positive] = "1"
    out[known & ~positive] = "0"
    return out


# --- sampling -----------------------------------------------------------------------------------
def stable_hash(keys: Sequence[str] | pd.Series, seed: int | str) -> np.ndarray:
    """A uint64 per key from blake2b(seed:key): stable across runs, platforms and library versions."""
    prefix = f"{seed}:".encode()
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(prefix + str(k).encode(), digest_size=8).digest(), "big")
            for k in keys
        ),
        dtype=np.uint64,
        count=len(keys),
    )


def stratified_take(keys: pd.Series, strata: pd.Series, n: int, seed: int) -> np.ndarray:
    """A boolean mask choosing ``n`` rows, each stratum in proportion, lowest hash first."""
    total = len(keys)
    if n >= total:
        return np.ones(total, dtype=bool)
    hashes = stable_hash(keys, seed)
    strata_values = strata.to_numpy()
    groups = pd.Series(strata_values).value_counts(sort=False)
    exact = groups / total * n
    quota = np.floor(exact).astype(int)
    short = n - int(quota.sum())
    for label in (exact - quota).sort_values(ascending=False).index[:short]:
        quota[label] += 1
    mask = np.zeros(total, dtype=bool)
    for label, k in quota.items():
        members = np.flatnonzero(strata_values == label)
        chosen = members[np.argsort(hashes[members], kind="stable")[:k]]
        mask[chosen] = True
    return mask


# --- preparing a training sample (scripts/prepare_training_data.sh) ----------------------------
def build_training_sample(source: Path, output: Path, n_rows: int = 10_000, seed: int = 42) -> int:
    """Keep id + text + labels of ``source``, drop blank texts and bad labels, sample stratified."""
    from socialscore.pipeline.artifacts import atomic_path
    from socialscore.text.pii import scrub_many

    table = read_table(source)
    schema = detect_schema(table.columns, source.name)
    if not schema.labels:
        raise UnlabelledError(
            f"{source.name} has no label column; the columns are {', '.join(table.columns)}"
        )
    frame = table.frame[table.frame[ERROR_COLUMN].isna()]
    out = pd.DataFrame({"id": frame[schema.id_column] if schema.id_column else None})
    out["comment_text"] = frame[schema.text_column].fillna("").str.strip()
    ok = out["comment_text"] != ""
    for label, column in schema.labels.items():
        values = davidson_label(frame[column], label) if schema.davidson else frame[column]
        out[label], why = parse_labels(values, label)  # exact: soft labels such as 0.5 are dropped
        ok &= why.isna()
    labels = list(schema.labels)
    out = out[ok].copy()
    if out["id"].isna().all():
        out["id"] = [f"row{i}" for i in range(1, len(out) + 1)]
    out[labels] = out[labels].astype(int)
    out["comment_text"], _ = scrub_many(out["comment_text"].tolist())
    strata = (
        out[labels].astype(str).agg("".join, axis=1)
        if len(labels) <= 3
        else (out[labels].sum(axis=1) > 0)
    )
    keep = stratified_take(out["id"].astype(str), strata, n_rows, seed)
    out = out[keep].reset_index(drop=True)
    # A pipeline input, not a report: written verbatim (spreadsheet escaping would alter the text).
    with atomic_path(output, ".csv") as tmp:
        out.to_csv(tmp, index=False)
    return len(out)


# --- the synthetic example dataset --------------------------------------------------------------
_TOPICS = (
    "history",
    "football",
    "chemistry",
    "the election",
    "jazz",
    "the city council",
    "cooking",
    "astronomy",
    "the railway",
    "medieval castles",
    "video games",
    "gardening",
    "the river",
    "climate",
    "poetry",
    "basketball",
    "the museum",
    "software",
    "photography",
    "birds",
    "the bridge",
    "opera",
    "volcanoes",
    "the local library",
    "chess",
    "the marathon",
    "ancient Rome",
    "tennis",
    "beekeeping",
)
_THINGS = (
    "paragraph",
    "table",
    "infobox",
    "reference",
    "timeline",
    "summary",
    "caption",
    "lead section",
    "list",
    "chart",
    "citation",
    "photo",
    "template",
    "footnote",
    "map",
)
_GOOD = (
    "great",
    "helpful",
    "clear",
    "interesting",
    "excellent",
    "fine",
    "nice",
    "useful",
    "solid",
    "neat",
)
_INSULTS = (
    "idiot",
    "moron",
    "loser",
    "clown",
    "fool",
    "imbecile",
    "dimwit",
    "buffoon",
    "nitwit",
    "halfwit",
)
_INSULT_ADJ = (
    "stupid",
    "pathetic",
    "dumb",
    "ignorant",
    "clueless",
    "brainless",
    "worthless",
    "useless",
)
# Invented group names stand in for slurs and real identities.
_GROUPS = ("zorbians", "quellites", "vantari", "morlins", "grebs", "tolvans")
_NEUTRAL = (
    "Thanks for fixing the {topic} article, the new {thing} looks {good}.",
    "I added a source for the {thing} in the {topic} section.",
    "Could someone check the dates on the page about {topic}?",
    "The {thing} about {topic} is a bit long, maybe we can split it.",
    "I disagree with your edit to {topic}, but let's discuss it on the talk page.",
    "Has anyone seen the new documentary on {topic}? It was {good}.",
    "Please add a citation before changing the {thing}.",
    "I reverted the change because the {thing} was unsourced.",
    "Great work on {topic}, a really {good} summary.",
    "My sister loves {topic}, we read about it together.",
    "Welcome! If you have questions about {topic}, ask me on my talk page.",
    "This {thing} needs more references from reliable sources.",
    "I think the {topic} image should move into the {thing}.",
    "Sorry, I made a mistake in the {thing}, fixed now.",
    "Does anyone know when the {topic} festival starts?",
    "I respectfully disagree; the {thing} is accurate as written.",
    "Good point about {topic}, I had not thought of that.",
    "The {thing} was updated yesterday, see the history.",
    "Can we merge the two {topic} articles?",
    "ok, thanks for the {good} explanation",
    "I learned a lot about {topic} from this {thing}.",
    "Maybe ask the {topic} project before renaming the {thing}.",
)
_HARD_NEGATIVE = (  # trigger words in harmless use, labelled 0
    "I felt like an idiot when I forgot my keys this morning.",
    "Don't call people stupid, it is not helpful.",
    "That was a damn good {topic} game.",
    "The villain in the {topic} film was a pathetic loser, great writing.",
    "I will find you a better source for the {thing}.",
    "Calling someone a moron is against the rules here.",
    "What a crap day, my train was late again.",
    "The {thing} is stupid long, can we trim it?",
    "Kill the process and restart it, that fixed the {topic} bot.",
    "This {topic} meme is so dumb I love it.",
    "Hell yes, the {topic} section finally has sources.",
    "My dog is a clown, he stole the {thing} printout.",
    "Nobody is a fool for asking about {topic}.",
)
_GROUP_NEUTRAL = (
    "The history of the {group} is covered in the {topic} article.",
    "Several {group} editors improved the {thing} last week.",
    "Is there a source for the {group} population figures?",
)
_MILD = (
    "Shut up.",
    "Nobody cares about your opinion.",
    "This is garbage.",
    "What a joke of an edit.",
    "Get lost.",
    "Stop wasting everyone's time.",
    "Your {thing} is a disgrace.",
)
_HARD_POSITIVE = (
    "Nobody wants you here, just leave.",
    "You are a waste of space.",
    "Go crawl back under your rock.",
    "Your edits are garbage and so are you.",
    "Do everyone a favour and stop talking.",
    "You clearly have the brain of a potato.",
    "Everyone laughs at you behind your back.",
)
_INSULT = (
    "You are such a {insult}.",
    "Only a {insult} would write this {thing}.",
    "Stop editing {topic}, you {adj} {insult}.",
    "{Adj} {insult}, learn to read.",
    "Are you really this {adj}?",
    "What a {adj} {insult} you are.",
    "Listen, {insult}, nobody asked you.",
)
_OBSCENE = (
    "This {thing} is total crap.",
    "Screw you and your {topic} edits.",
    "What the hell is wrong with you?",
    "Piss off, nobody asked.",
    "Your damn {thing} is full of crap.",
    "Bloody hell, stop breaking {topic}.",
    "This freaking {thing} sucks.",
)
_THREAT = (
    "I will find you and you will regret this.",
    "Watch your back, I know where you live.",
    "Keep reverting and I will make you pay.",
    "You better hide, I am coming for you.",
    "Say that again and I will hurt you.",
    "I will find you.",
)
_IDENTITY = (
    "All {group} are {adj} {insult}s.",
    "{Group} should not be allowed to edit here.",
    "Typical {group} nonsense, go back where you came from.",
    "I hate {group}, every single one of them.",
    "Get out, no {group} wanted here.",
    "Never trust {group}, they ruin everything.",
)
_LEET = str.maketrans({"o": "0", "i": "1", "e": "3", "a": "@", "s": "$"})
_EMOJI = ("🙂", "😡", "👍", "🙄", "😂", "!!!", "...", "?!")
# (category, probability, labels always set, {label: probability} sometimes set)
_CATEGORIES: tuple[tuple[str, float, tuple[str, ...], dict[str, float]], ...] = (
    ("neutral", 0.62, (), {}),
    ("hard_negative", 0.10, (), {}),
    ("group_neutral", 0.03, (), {}),
    ("mild", 0.05, ("toxic",), {}),
    ("hard_positive", 0.04, ("toxic",), {"insult": 0.5}),
    ("insult", 0.07, ("toxic", "insult"), {"obscene": 0.2}),
    ("obscene", 0.04, ("toxic", "obscene"), {"insult": 0.3}),
    ("threat", 0.015, ("toxic", "threat"), {"insult": 0.2}),
    ("identity", 0.02, ("toxic", "identity_hate"), {"insult": 0.6}),
    ("severe", 0.015, ("toxic", "severe_toxic", "obscene", "insult"), {"threat": 0.2}),
)
_POOLS = {
    "neutral": _NEUTRAL,
    "hard_negative": _HARD_NEGATIVE,
    "group_neutral": _GROUP_NEUTRAL,
    "mild": _MILD,
    "hard_positive": _HARD_POSITIVE,
    "insult": _INSULT,
    "obscene": _OBSCENE,
    "threat": _THREAT,
    "identity": _IDENTITY,
}


def _fill(rng: random.Random, template: str) -> str:
    adj, group = rng.choice(_INSULT_ADJ), rng.choice(_GROUPS)
    return template.format(
        topic=rng.choice(_TOPICS),
        thing=rng.choice(_THINGS),
        good=rng.choice(_GOOD),
        insult=rng.choice(_INSULTS),
        adj=adj,
        Adj=adj.capitalize(),
        group=group,
        Group=group.capitalize(),
    )


def _severe(rng: random.Random) -> str:
    parts = [
        _fill(rng, rng.choice(_INSULT)),
        _fill(rng, rng.choice(_OBSCENE)),
        _fill(rng, rng.choice(_INSULT)),
    ]
    text = " ".join(parts)
    return text.upper() + "!!!" if rng.random() < 0.6 else text


def _pii(rng: random.Random) -> str:
    user = rng.choice(("alex", "sam.k", "jo_99", "mira"))
    return rng.choice(
        (
            f"mail me at {user}@example.org",
            f"see https://example.com/{rng.choice(_THINGS)}",
            f"@{user.replace('.', '_')} what do you think?",
            f"call {rng.randint(200, 999)}-555-{rng.randint(1000, 9999)}",
            f"edited from 192.0.2.{rng.randint(1, 254)}",
        )
    )


def _noise(rng: random.Random, text: str, toxic: bool) -> str:
    if toxic and rng.random() < 0.15:  # filter evasion: leetspeak or elongation of one word
        words = text.split()
        i = rng.randrange(len(words))
        words[i] = (
            words[i].translate(_LEET)
            if rng.random() < 0.5
            else re.sub(r"([aeiou])", r"\1\1\1", words[i], count=1)
        )
        text = " ".join(words)
    if rng.random() < 0.08:  # a typo: swap two letters
        i = rng.randrange(max(1, len(text) - 1))
        text = text[:i] + text[i + 1 : i + 2] + text[i : i + 1] + text[i + 2 :]
    roll = rng.random()
    if roll < 0.25:
        text = text.lower()
    elif roll < 0.28:
        text = text.upper()
    if rng.random() < 0.1:
        text += " " + rng.choice(_EMOJI)
    if rng.random() < 0.05:
        text += " " + _pii(rng)
    if rng.random() < 0.05:
        text = "  " + text.replace(" ", "  ", 1) + " \n"
    if rng.random() < 0.01:  # full-width letters, folded by NFKC
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return text


def generate_example(n_rows: int = 6000, seed: int = 42) -> pd.DataFrame:
    """A deterministic synthetic dataset in the Jigsaw format (id, comment_text, 6 labels as 0/1).

    Templates × vocabulary × noise with mild words only; hard negatives (trigger words used harmlessly),
    toxic comments without trigger words, ~4% label noise and ~1% duplicates, so a TF-IDF model learns
    a lot but not everything. Toxic rate ≈ 25%; severe_toxic, threat, identity_hate imply toxic.
    """
    rng = random.Random(seed)
    names = [c[0] for c in _CATEGORIES]
    weights = [c[1] for c in _CATEGORIES]
    ids, texts, rows = [], [], []
    for i in range(n_rows):
        if texts and rng.random() < 0.01:  # a duplicate; every fifth with different labels
            j = rng.randrange(len(texts))
            labels = dict(rows[j])
            if rng.random() < 0.2:
                labels["toxic"] = 1 - labels["toxic"]
            ids.append(hashlib.sha256(f"example:{seed}:{i}".encode()).hexdigest()[:16])
            texts.append(texts[j])
            rows.append(labels)
            continue
        category = rng.choices(names, weights)[0]
        _, _, always, sometimes = _CATEGORIES[names.index(category)]
        labels = {label: int(label in always) for label in JIGSAW_LABELS}
        for label, p in sometimes.items():
            if rng.random() < p:
                labels[label] = 1
        core = _severe(rng) if category == "severe" else _fill(rng, rng.choice(_POOLS[category]))
        context = [_fill(rng, rng.choice(_NEUTRAL)) for _ in range(rng.choice((0, 1, 1, 2, 2)))]
        context.insert(rng.randrange(len(context) + 1), core)
        text = _noise(rng, " ".join(context), labels["toxic"] == 1)
        if rng.random() < 0.04:  # annotators disagree
            if labels["toxic"]:
                labels = dict.fromkeys(JIGSAW_LABELS, 0)
            else:
                labels["toxic"] = 1
        elif labels["toxic"] and rng.random() < 0.1:  # ... or only on a sub-label
            sub = rng.choice(("obscene", "insult", "threat", "identity_hate"))
            labels[sub] = 1 - labels[sub]
        ids.append(hashlib.sha256(f"example:{seed}:{i}".encode()).hexdigest()[:16])
        texts.append(text)
        rows.append(labels)
    frame = pd.DataFrame(rows, columns=list(JIGSAW_LABELS)).astype("int64")
    frame.insert(0, "comment_text", texts)
    frame.insert(0, "id", ids)
    return frame


def main(argv: list[str] | None = None) -> int:
    """``python -m socialscore.storage.datasets sample SRC OUT [--rows N] [--seed S]`` (exit 3: unlabelled)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m socialscore.storage.datasets")
    sub = parser.add_subparsers(dest="command", required=True)
    sample = sub.add_parser("sample", help="build a stratified training sample from a labelled CSV")
    sample.add_argument("source", type=Path)
    sample.add_argument("output", type=Path)
    sample.add_argument("--rows", type=int, default=10_000)
    sample.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        rows = build_training_sample(args.source, args.output, args.rows, args.seed)
    except UnlabelledError as exc:
        print(f"skip: {exc}", file=sys.stderr)
        return 3
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {rows} rows to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
