"""Reading CSVs (encodings, delimiters, broken records), format detection and the example generator."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from socialscore.errors import DataError
from socialscore.storage.csvformat import (
    ERROR_COLUMN,
    JIGSAW_LABELS,
    decode_bytes,
    detect_schema,
    read_header,
)
from socialscore.storage.datasets import davidson_label, read_table
from socialscore.storage.sampling import build_training_sample, stratified_take
from socialscore.storage.synthetic import generate_example


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- generate_example ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return generate_example()


def test_example_shape_and_types(example: pd.DataFrame) -> None:
    assert list(example.columns) == ["id", "comment_text", *JIGSAW_LABELS]
    assert len(example) == 6000
    assert example["id"].is_unique
    for label in JIGSAW_LABELS:
        assert pd.api.types.is_integer_dtype(example[label])
        assert set(example[label].unique()) <= {0, 1}


def test_example_is_deterministic_and_seeded(example: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(example, generate_example(6000, 42))
    other = generate_example(6000, 7)
    assert not other["comment_text"].equals(example["comment_text"])
    assert len(generate_example(50, 42)) == 50


def test_example_looks_like_jigsaw(example: pd.DataFrame) -> None:
    assert 0.10 <= example["toxic"].mean() <= 0.30
    assert example["comment_text"].nunique() > 0.9 * len(example)
    for label in ("severe_toxic", "threat", "identity_hate", "insult", "obscene"):
        positives = example[example[label] == 1]
        assert len(positives) > 30, label
        assert positives["toxic"].mean() > 0.85, label  # sub-labels mostly imply toxic
    assert (example["severe_toxic"] <= example["toxic"]).mean() > 0.99


def test_example_is_learnable_but_not_perfectly(example: pd.DataFrame) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    data = example.drop_duplicates("comment_text")
    train, test = data.iloc[: int(len(data) * 0.8)], data.iloc[int(len(data) * 0.8) :]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    model = LogisticRegression(C=4, solver="liblinear").fit(
        vectorizer.fit_transform(train["comment_text"]), train["toxic"]
    )
    auc = roc_auc_score(
        test["toxic"], model.predict_proba(vectorizer.transform(test["comment_text"]))[:, 1]
    )
    assert 0.82 <= auc <= 0.97


# --- decoding and reading -------------------------------------------------------------------------
def test_broken_utf8_is_an_error_naming_the_guess_and_the_first_bad_byte() -> None:
    """Issue 13: broken UTF-8 used to be stored as cp1252 mojibake with only a note."""
    data = "id,text\n1,café\n".encode() + b"2,caf\xe9 \x93quoted\x94\n"
    with pytest.raises(DataError) as info:
        decode_bytes(data, "x.csv")
    message = str(info.value)
    offset = data.index(b"\xe9")
    assert f"byte 0xe9 at offset {offset} (line 3)" in message
    assert "mixes UTF-8 with another encoding" in message and "guess" in message
    assert "--encoding" in message and "\n" not in message
    forced = decode_bytes(data, "x.csv", encoding="cp1252")
    assert forced.text.endswith("2,café “quoted”\n") and "as configured" in forced.notes[0]


@pytest.mark.parametrize(
    ("text", "encoding", "named"),
    [
        ("id,comment_text,toxic\n1,日本語のコメントです。とても良い記事ですね,0\n2,ありがとうございます,1\n", "shift_jis", "cp932"),
        ("id,comment_text,toxic\n1,très bien, où est le problème,0\n", "cp1252", "cp1252"),
        ("id,comment_text,toxic\n1,Привет, как дела? Это хорошая статья,0\n", "cp1251", "cp1251"),
    ],
)
def test_a_whole_file_in_one_legacy_encoding_is_read_exactly(text: str, encoding: str, named: str) -> None:
    """Issue 13: Shift-JIS was stored as cp1252 mojibake."""
    decoded = decode_bytes(text.encode(encoding), "x.csv")
    assert decoded.text == text
    assert decoded.encoding == named and "charset-normalizer" in decoded.notes[0]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("bom", [True, False])
def test_utf16_and_utf32_with_or_without_bom(codec: str, bom: bool) -> None:
    """Issue 13: UTF-16 without a BOM was called binary."""
    text = "id,text,toxic\n1,héllo 日本 🙂,0\n"
    data = ("\ufeff" + text).encode(codec) if bom else text.encode(codec)
    decoded = decode_bytes(data, "x.csv")
    assert decoded.text == text and decoded.encoding == codec


def test_decode_bom_and_nul() -> None:
    assert decode_bytes(b"\xef\xbb\xbfid,text").text == "id,text"
    nul = decode_bytes(b"a\x00b\x00c,d,e,f,g,h,i,j")
    assert (nul.text, nul.nul_chars) == ("abc,d,e,f,g,h,i,j", 2)
    with pytest.raises(DataError, match="unknown encoding 'nope'"):
        decode_bytes(b"x", encoding="nope")


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_delimiter_detected(tmp_path: Path, sep: str) -> None:
    path = write(
        tmp_path / "d.csv",
        sep.join(["id", "text", "toxic"]) + "\n" + sep.join(["1", '"hi, there"', "0"]) + "\n",
    )
    table = read_table(path)
    assert table.delimiter == sep
    assert table.columns == ["id", "text", "toxic"]
    assert table.frame.loc[0, "text"] == "hi, there"


def test_too_many_fields_becomes_an_error_row(tmp_path: Path) -> None:
    rows = [
        "id,text,toxic",
        "1,fine,0",
        "2,one,too,many,1",
        '3,"multi\nline, quoted",1',
        "4,last,0",
    ]
    table = read_table(write(tmp_path / "t.csv", "\n".join(rows) + "\n"))
    frame = table.frame
    assert len(frame) == 4
    assert frame[ERROR_COLUMN].tolist() == [None, "too many fields (5, expected 3)", None, None]
    assert frame.loc[2, "text"] == "multi\nline, quoted"
    assert table.raw_records == {1: "2,one,too,many,1"}
    assert any("could not be parsed" in n for n in table.notes)


def test_clean_file_uses_fast_path_and_keeps_strings(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "c.csv", "id,text,toxic\n007,hi,1\n008,NaN,\n"))
    assert table.frame["id"].tolist() == ["007", "008"]
    assert table.frame["text"].tolist() == ["hi", "NaN"]  # no NA guessing: values stay as written
    assert table.frame["toxic"].tolist() == ["1", ""]
    assert table.raw_records == {}


def test_empty_header_only_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="is empty"):
        read_table(write(tmp_path / "empty.csv", b""))
    with pytest.raises(DataError, match="is empty"):
        read_table(write(tmp_path / "blank.csv", "\n \n"))
    with pytest.raises(DataError, match="header but no data rows"):
        read_table(write(tmp_path / "header.csv", "id,text,toxic\n"))


def test_duplicate_header_names_are_suffixed(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "dup.csv", "id,text,text,toxic\n1,a,b,0\n"))
    assert table.columns == ["id", "text", "text.1", "toxic"]
    assert any("duplicate column" in n for n in table.notes)


def test_read_header_is_cheap_and_decodes(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", b"\xef\xbb\xbfid;anonymized_comment;toxic\n1;x;0\n")
    assert read_header(path) == ["id", "anonymized_comment", "toxic"]


# --- schema detection -----------------------------------------------------------------------------
def test_detect_known_formats() -> None:
    jigsaw = detect_schema(["id", "comment_text", *JIGSAW_LABELS], "train.csv")
    assert (jigsaw.kind, jigsaw.text_column, jigsaw.id_column) == ("jigsaw", "comment_text", "id")
    assert list(jigsaw.labels) == list(JIGSAW_LABELS)
    cleaned = detect_schema(["id", *JIGSAW_LABELS, "anonymized_comment"], "cleaned.csv")
    assert cleaned.text_column == "anonymized_comment"
    davidson = detect_schema(
        ["Unnamed: 0", "count", "hate_speech", "offensive_language", "neither", "class", "tweet"],
        "d.csv",
    )
    assert (
        davidson.davidson and davidson.id_column == "Unnamed: 0" and davidson.text_column == "tweet"
    )
    assert davidson.labels == {"hate": "class", "offensive": "class", "toxic": "class"}
    small = detect_schema(["comment_text", "toxic"], "small.csv")
    assert (small.labels, small.id_column) == ({"toxic": "toxic"}, None)
    plain = detect_schema(["text", "label"], "plain.csv")
    assert (plain.kind, plain.labels) == ("text,label", {"toxic": "label"})
    unlabelled = detect_schema(["Text"], "prod.csv")
    assert unlabelled.text_column == "Text" and unlabelled.labels == {}


def test_configured_columns_override_detection() -> None:
    schema = detect_schema(
        ["key", "body", "comment_text", "Is Offensive", "toxic"],
        "x.csv",
        text_column="body",
        label_columns=["Is Offensive"],
        id_column="key",
    )
    assert (schema.text_column, schema.id_column, schema.labels) == (
        "body",
        "key",
        {"is_offensive": "Is Offensive"},
    )


def test_missing_columns_are_named() -> None:
    with pytest.raises(DataError, match=r"no text column found.*'a', 'b'"):
        detect_schema(["a", "b"], "x.csv")
    with pytest.raises(DataError, match=r"text column 'body' not found.*'text'"):
        detect_schema(["text", "toxic"], "x.csv", text_column="body")
    with pytest.raises(DataError, match=r"label column 'nope' not found"):
        detect_schema(["text", "toxic"], "x.csv", label_columns=["nope"])


def test_davidson_classes_map_to_labels() -> None:
    cls = pd.Series(["0", "1", "2", " 1 ", "5", None], dtype=object)
    assert davidson_label(cls, "hate").tolist() == ["1", "0", "0", "0", "5", None]
    assert davidson_label(cls, "offensive").tolist() == ["0", "1", "0", "1", "5", None]
    assert davidson_label(cls, "toxic").tolist() == ["1", "1", "0", "1", "5", None]


def test_stratified_take_keeps_proportions_and_is_deterministic() -> None:
    keys = pd.Series([f"k{i}" for i in range(1000)])
    strata = pd.Series([1 if i % 10 == 0 else 0 for i in range(1000)])
    mask = stratified_take(keys, strata, 200, seed=1)
    assert mask.sum() == 200
    assert strata[mask].sum() == 20
    assert np.array_equal(mask, stratified_take(keys, strata, 200, seed=1))
    assert not np.array_equal(mask, stratified_take(keys, strata, 200, seed=2))


def test_build_training_sample_keeps_id_text_labels(tmp_path: Path) -> None:
    source = tmp_path / "train.csv"
    frame = generate_example(800, 3)
    frame.loc[0, "comment_text"] = "   "
    frame.loc[1, "toxic"] = 5
    frame["insult"] = frame["insult"].astype(object)
    frame.loc[2, "insult"] = "0.99999999999999999"  # a soft label: dropped, not rounded to 1
    frame.to_csv(source, index=False)
    out = tmp_path / "out" / "sample.csv"
    assert build_training_sample(source, out, n_rows=300, seed=1) == 300
    sample = pd.read_csv(out)
    assert list(sample.columns) == ["id", "comment_text", *JIGSAW_LABELS]
    assert not {frame.loc[0, "id"], frame.loc[1, "id"], frame.loc[2, "id"]} & set(sample["id"])
    assert abs(sample["toxic"].mean() - frame["toxic"].iloc[3:].mean()) < 0.02


def test_label_columns_that_collide_after_normalising_are_an_error() -> None:
    """Issue 13: ``toxic`` and ``Toxic!`` silently kept the wrong one."""
    with pytest.raises(DataError, match="label columns 'toxic' and 'Toxic!' both become label 'toxic'"):
        detect_schema(["id", "comment_text", "toxic", "Toxic!"], "x.csv", label_columns=["toxic", "Toxic!"])
    with pytest.raises(DataError, match="columns 'toxic' and 'TOXIC' both become label 'toxic'"):
        detect_schema(["id", "comment_text", "toxic", "TOXIC"], "x.csv")
    chosen = detect_schema(["id", "comment_text", "toxic", "Toxic!"], "x.csv", label_columns=["Toxic!"])
    assert chosen.labels == {"toxic": "Toxic!"}  # one chosen explicitly: no ambiguity


def test_gzip_and_parquet_are_read_directly_and_bounded(tmp_path: Path) -> None:
    import gzip

    text = "id,comment_text,toxic\n1,hello,0\n2,world,1\n"
    gz = tmp_path / "c.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    assert read_table(gz).frame["comment_text"].tolist() == ["hello", "world"]
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"id,comment_text,toxic\n" + b"x" * (3 * 2**20)))
    with pytest.raises(DataError, match="decompresses to over the size limit of 2 MiB"):
        read_table(bomb, max_file_mb=2)
    parquet = tmp_path / "c.parquet"
    pd.DataFrame({"id": [1, 2], "comment_text": ["a", None], "toxic": [0, 1]}).to_parquet(parquet)
    table = read_table(parquet)
    assert table.frame["id"].tolist() == ["1", "2"] and table.frame["comment_text"].tolist() == ["a", None]


def read_traced(path: Path):
    """(``read_table(path)``, the peak bytes Python allocated while reading it)."""
    import tracemalloc

    tracemalloc.start()
    try:
        table = read_table(path)
        return table, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def emoji_csv(path: Path, bom: bool = False) -> Path:
    rows = "".join(f"r{i},{'😀 ' * 40}{i},{i % 2}\n" for i in range(20_000))
    path.write_text(("\ufeff" if bom else "") + "id,comment_text,toxic\n" + rows, encoding="utf-8")
    return path


def test_plain_utf8_is_parsed_as_read_without_a_decoded_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain UTF-8 (no BOM, no NUL) is what decoding would give: the parser reads the bytes, and no
    str of the whole file (4 bytes a character for emoji) is made."""

    from socialscore.storage import datasets

    monkeypatch.setattr(datasets, "PARSE_CHUNK_ROWS", 1_000)
    path = emoji_csv(tmp_path / "big.csv")
    table, peak = read_traced(path)
    assert len(table.frame) == 20_000 and table.frame.loc[7, "comment_text"] == "😀 " * 40 + "7"
    assert table.frame.equals(read_table(emoji_csv(tmp_path / "bom.csv", bom=True)).frame)
    # the bytes (1x) and one chunk being parsed; a decoded str of the file alone would be 1.76x more
    assert peak < 2.0 * path.stat().st_size, f"peak {peak / path.stat().st_size:.2f}x the file"


def test_line_limit_counts_characters_when_checking_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "id,text,toxic\n1," + "😀" * 30 + ",0\n2," + "é" * 60 + ",1\n")
    assert len(read_table(path, max_line_chars=64).frame) == 2  # 34 characters, 124 bytes
    with pytest.raises(DataError, match="line 3 has over 62"):
        read_table(path, max_line_chars=62)


def test_after_decoding_reading_holds_no_more_than_the_text_and_its_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once decoded, the bytes are dropped, nothing copies the whole text (strip, split), and the
    parser gets UTF-8 (a str of emoji takes 4 bytes per character) and makes Python strings for one
    chunk of rows at a time."""
    import tracemalloc

    from socialscore.storage import datasets

    def decode_then_measure(*args: object, **kwargs: object) -> object:
        decoded = decode_bytes(*args, **kwargs)
        tracemalloc.reset_peak()
        return decoded

    monkeypatch.setattr(datasets, "decode_bytes", decode_then_measure)
    monkeypatch.setattr(datasets, "PARSE_CHUNK_ROWS", 1_000)
    path = emoji_csv(tmp_path / "big.csv", bom=True)  # with a BOM: decoded, then encoded again
    text_size = sys.getsizeof(path.read_text(encoding="utf-8-sig"))
    table, peak = read_traced(path)
    assert len(table.frame) == 20_000 and table.frame.loc[7, "id"] == "r7"
    encoded = path.stat().st_size - 3
    # 1.6: str.encode first fills a worst-case buffer (4 bytes per character), then shrinks it
    assert peak < 1.6 * (text_size + encoded), f"peak {peak / (text_size + encoded):.2f}x text + UTF-8"
