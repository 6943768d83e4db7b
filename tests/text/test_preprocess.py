"""Model preprocessing: placeholders, elongation, leetspeak, options, offline defaults, pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import nltk
import pytest

from socialscore.config import PreprocessConfig
from socialscore.text.nltk_resources import NltkResourceError
from socialscore.text.preprocess import TextPreprocessor


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nltk.data, "path", [])
    monkeypatch.delenv("NLTK_DATA", raising=False)
    monkeypatch.setattr(nltk, "download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))


def test_defaults_need_no_nltk_data(offline, tmp_path: Path) -> None:
    pre = TextPreprocessor(PreprocessConfig(), nltk_cache_dir=tmp_path)
    assert pre.required_resources() == []
    assert pre.tokens("Hello THERE, friend!") == ["hello", "there", "friend"]


def test_placeholders_stay_single_upper_case_tokens() -> None:
    pre = TextPreprocessor()
    assert pre.tokens("mail [EMAIL] or see [URL], ask [user_name]!") == [
        "mail", "[EMAIL]", "or", "see", "[URL]", "ask", "[USER_NAME]",
    ]
    assert pre("Hi [PERSON]") == "hi [PERSON]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("soooo cooool", ["soo", "cool"]),
        ("you 1d10t", ["you", "idiot"]),
        ("sh1t and @$$hole", ["shit", "and", "asshole"]),
        ("f*ck", ["f*ck"]),
        ("2nd mp3 90s 1000 b4", ["2nd", "mp3", "90s", "1000", "b4"]),
        ("don't", ["don't"]),
        ("", []),
        ("🙂🙂 !!!", []),
    ],
)
def test_normalisation(text: str, expected: list[str]) -> None:
    assert TextPreprocessor().tokens(text) == expected


def test_options_can_be_switched_off() -> None:
    pre = TextPreprocessor({"lowercase": False, "normalize_elongation": False, "normalize_leetspeak": False})
    assert pre.tokens("Soooo 1D10T") == ["Soooo", "1D10T"]


def test_tweet_tokenizer_keeps_placeholders_and_emoticons() -> None:
    tokens = TextPreprocessor({"tokenizer": "tweet"}).tokens("you 1d10t :) see [URL]")
    assert tokens == ["you", "idiot", ":)", "see", "[URL]"]


@pytest.mark.slow
def test_stopwords_and_lemmas_with_shared_data(shared_nltk_data: Path, monkeypatch) -> None:
    monkeypatch.setenv("NLTK_DATA", str(shared_nltk_data))
    pre = TextPreprocessor({"remove_stopwords": True, "lemmatize": True})
    assert pre.required_resources() == ["stopwords", "wordnet"]
    assert pre.tokens("the idiots are at [URL]") == ["idiot", "[URL]"]


def test_optional_resources_fail_clearly_offline(offline, tmp_path: Path) -> None:
    pre = TextPreprocessor({"remove_stopwords": True}, nltk_cache_dir=tmp_path)
    with pytest.raises(NltkResourceError, match="stopwords"):
        pre.prepare()


def test_pickles_without_nltk_objects() -> None:
    pre = TextPreprocessor({"tokenizer": "tweet"})
    pre.tokens("warm up")
    clone = pickle.loads(pickle.dumps(pre))
    assert clone.tokens("Soooo [URL]") == pre.tokens("Soooo [URL]") == ["soo", "[URL]"]


def test_long_text_is_fine() -> None:
    tokens = TextPreprocessor().tokens("word " * 2000 + "x" * 10_000)
    assert len(tokens) == 2001 and tokens[-1] == "xx"


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="lowercse"):
        TextPreprocessor({"lowercse": True})
