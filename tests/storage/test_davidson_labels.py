"""The Davidson et al. tweets: `--label-column` takes the derived label names the README lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialscore.config import DataConfig
from socialscore.errors import DataError
from socialscore.steps.extract import extract
from socialscore.storage.csvformat import detect_schema

COLUMNS = ["", "count", "hate_speech", "offensive_language", "neither", "class", "tweet"]


@pytest.mark.parametrize("label", ["offensive", "hate", "toxic", "Offensive"])
def test_derived_label_name_is_accepted(label: str) -> None:
    schema = detect_schema(COLUMNS, "labeled_data.csv", label_columns=[label])
    assert schema.davidson and schema.labels == {label.lower(): "class"}


def test_text_column_tweet_keeps_the_derived_labels() -> None:
    schema = detect_schema(COLUMNS, "labeled_data.csv", text_column="tweet", label_columns=["offensive"])
    assert schema.davidson and schema.labels == {"offensive": "class"}
    plain = detect_schema(COLUMNS, "labeled_data.csv", text_column="tweet")
    assert plain.davidson and set(plain.labels) == {"hate", "offensive", "toxic"}


def test_real_count_column_is_still_a_plain_column() -> None:
    schema = detect_schema(COLUMNS, "labeled_data.csv", label_columns=["offensive_language"])
    assert not schema.davidson and schema.labels == {"offensive_language": "offensive_language"}
    with pytest.raises(DataError, match="'nope' not found"):
        detect_schema(COLUMNS, "labeled_data.csv", label_columns=["nope"])


def test_extract_derives_offensive_from_class(tmp_path: Path) -> None:
    path = tmp_path / "labeled_data.csv"
    rows = [(0, "hate tweet one"), (1, "offensive tweet two"), (2, "a kind tweet three")]
    path.write_text(
        ",count,hate_speech,offensive_language,neither,class,tweet\n"
        + "".join(f"{i},3,0,0,3,{c},{t}\n" for i, (c, t) in enumerate(rows)),
        encoding="utf-8",
    )
    raw = extract([path], DataConfig(files=[str(path)], label_columns=["offensive"])).frame
    assert list(raw["label_offensive"].astype(int)) == [0, 1, 0]
