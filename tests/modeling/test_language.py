"""Language detection and the reliable flag: foreign-language comments are unreliable for an English model."""

from __future__ import annotations

import json
import socket

import pytest

from socialscore.modeling.behaviour import language
from socialscore.modeling.behaviour.language import LanguageProfile, detect_languages, reliable

ENGLISH_TRAINING = [
    "Thanks for the edit, that section reads much better now.",
    "Please stop vandalising the article or you will be blocked.",
    "I reverted your change because it had no reliable source.",
    "You are an idiot and nobody wants you here.",
    "The infobox should list the population from the latest census.",
    "What a stupid thing to say, go away.",
] * 5


@pytest.fixture(scope="module")
def english_profile() -> LanguageProfile:
    return LanguageProfile.from_texts(ENGLISH_TRAINING)


def test_russian_and_japanese_comments_are_unreliable_for_an_english_profile(english_profile):
    texts = ["Ты идиот", "Это полная чушь, ты ничего не понимаешь", "バカじゃないの", "お前は本当に馬鹿だな"]
    tags = detect_languages(texts)
    assert not reliable(tags, english_profile).any(), tags


def test_english_comments_are_reliable(english_profile):
    texts = ["you are kind", "you are an idiot", "I am a proud muslim woman",
             "This article needs a better source for the second paragraph.", "lol", "fuck off"]
    tags = detect_languages(texts)
    assert reliable(tags, english_profile).all(), tags


def test_short_and_letterless_texts():
    assert language.detect_language("🙂🙂 123") == "und"
    assert language.detect_language("Ты идиот") in ("ru", "und-Cyrl")
    assert language.script_of("バカ") == "Jpan" and language.script_of("馬鹿だな") == "Jpan"
    assert language.script_of("hello") == "Latn"


def test_profile_records_languages_and_round_trips_as_json(english_profile):
    assert list(english_profile.languages) == ["en"]
    assert english_profile.scripts == {"Latn": 1.0}
    state = json.loads(json.dumps(english_profile.to_state()))
    assert LanguageProfile.from_state(state) == english_profile


def test_a_multilingual_profile_makes_russian_reliable():
    profile = LanguageProfile.from_texts(ENGLISH_TRAINING + ["Это полная чушь, ты ничего не понимаешь"] * 10)
    assert "ru" in profile.languages and "Cyrl" in profile.scripts
    assert reliable(detect_languages(["Ты идиот", "Это полная чушь"]), profile).all()


@pytest.mark.slow
def test_detection_never_opens_a_network_connection(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(language, "_identifier", None)  # load the model again, offline
    assert detect_languages(["Das ist ein ganz normaler deutscher Satz über das Wetter."]) == ["de"]


def test_ascii_texts_take_a_shortcut_with_the_same_answer(monkeypatch) -> None:
    """The ASCII shortcut of ``script_of`` answers as the per-character lookup does."""
    import random
    import string

    rng = random.Random(3)
    texts = ["", "123 !?", "   ", "\t\n", "hello", "x1"] + [
        "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40))) for _ in range(300)
    ]
    fast = [language.script_of(t) for t in texts]
    # the same texts with one non-ASCII non-letter appended take the per-character path
    slow = [language.script_of(t + "\u00a0") for t in texts]
    assert fast == slow


def test_a_second_process_maps_the_language_model_from_the_user_cache(tmp_path):
    """The CLI's processes unpacked py3langid's model (~0.9 CPU s) every time; the first now saves the
    arrays in the user's cache and the next maps them (same tags, no LZMA)."""
    import json
    import os
    import subprocess
    import sys

    texts = ["this is plainly an english sentence", "ceci est une phrase en français", "1234"]
    script = (
        "import json, lzma, sys\n"
        "if sys.argv[1] == 'no-lzma':\n"
        "    def refuse(*a, **k): raise AssertionError('py3langid model decompressed')\n"
        "    lzma.open = refuse\n"
        "from socialscore.modeling.behaviour.language import detect_languages\n"
        f"print(json.dumps(detect_languages({texts!r})))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", script, mode], env=env, capture_output=True, text=True)

    first = run("plain")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "cache" / "socialscore" / "language-model" / "key.json").is_file()
    second = run("no-lzma")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
