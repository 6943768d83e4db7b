"""NLTK resource lookup: NLTK_DATA, the project cache, download into the cache, clear offline error."""

from __future__ import annotations

import shutil
from pathlib import Path

import nltk
import pytest

from socialscore.errors import SocialScoreError
from socialscore.text.nltk_resources import NltkResourceError, ensure_resource


@pytest.fixture
def no_standard_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the machine's own NLTK data and forbid the network."""
    monkeypatch.setattr(nltk.data, "path", [])
    monkeypatch.delenv("NLTK_DATA", raising=False)

    def offline(*args, **kwargs):
        raise OSError("no network in tests")

    monkeypatch.setattr(nltk, "download", offline)


def test_found_through_nltk_data(no_standard_paths, shared_nltk_data: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NLTK_DATA", str(shared_nltk_data))
    found = ensure_resource("stopwords", cache_dir=tmp_path / "cache")
    assert found.exists() and found.is_relative_to(shared_nltk_data)
    assert not (tmp_path / "cache").exists()  # nothing downloaded
    from nltk.corpus import stopwords

    assert "the" in stopwords.words("english")


def test_found_in_project_cache(no_standard_paths, shared_nltk_data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "sentiment").mkdir(parents=True)
    shutil.copy(shared_nltk_data / "sentiment" / "vader_lexicon.zip", cache / "sentiment")
    found = ensure_resource("vader_lexicon", cache_dir=cache)
    assert found == cache / "sentiment" / "vader_lexicon.zip"


def test_downloads_into_the_cache(no_standard_paths, shared_nltk_data: Path, tmp_path: Path, monkeypatch) -> None:
    calls = []

    def fake_download(name, download_dir, quiet, raise_on_error):
        calls.append((name, download_dir))
        target = Path(download_dir) / "corpora"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_nltk_data / "corpora" / "wordnet.zip", target)
        return True

    monkeypatch.setattr(nltk, "download", fake_download)
    cache = tmp_path / "cache"
    found = ensure_resource("wordnet", cache_dir=cache)
    assert calls == [("wordnet", str(cache))]
    assert found == cache / "corpora" / "wordnet.zip"
    assert ensure_resource("wordnet", cache_dir=cache) == found  # second call: no download
    assert len(calls) == 1


def test_offline_and_missing_names_the_resource_and_the_fix(no_standard_paths, tmp_path: Path) -> None:
    with pytest.raises(NltkResourceError) as caught:
        ensure_resource("stopwords", cache_dir=tmp_path / "empty")
    message = str(caught.value)
    assert "stopwords" in message and "NLTK_DATA" in message and str(tmp_path / "empty") in message
    assert isinstance(caught.value, SocialScoreError)
    assert "\n" not in message


def test_download_that_reports_failure(no_standard_paths, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(nltk, "download", lambda *a, **k: False)
    with pytest.raises(NltkResourceError, match="punkt_tab"):
        ensure_resource("punkt_tab", cache_dir=tmp_path)
