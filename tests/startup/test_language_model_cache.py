"""The language detector's model saved unpacked (modeling/behaviour/language_cache.py): the same arrays,
so the same tags, and a copy made from another model is refused."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from socialscore.modeling.behaviour import language, language_cache

TEXTS = ["thank you for the edit, great work", "Ceci est un commentaire en français, merci beaucoup",
         "Это комментарий на русском языке", "Das ist ein Kommentar auf Deutsch", "ok", "12345 :)"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("shipped") / "language-model"
    assert "saved" in language.save_arrays(directory)
    return directory


def test_the_saved_arrays_are_the_decompressed_ones_and_give_the_same_tags(saved: Path, monkeypatch) -> None:
    expected = language._get_arrays()
    fields, message = language_cache.load(saved)
    assert fields is not None, message
    for name in language_cache.FIELDS:
        assert fields[name].dtype == getattr(expected, name).dtype, name
        assert fields[name].flags.writeable and fields[name].flags.c_contiguous, name  # numba's compiled types
        np.testing.assert_array_equal(fields[name], getattr(expected, name), err_msg=name)
    assert fields["classes"] == expected.classes
    tags = language.detect_languages(TEXTS)
    monkeypatch.setattr(language, "_arrays", False)
    monkeypatch.setattr(language, "_model_data", None)
    assert "mapped" in language.load_saved_arrays(saved)
    assert language.detect_languages(TEXTS) == tags
    assert language._model_data is None  # nothing was decompressed


def test_the_saved_model_is_readable_by_other_users(saved: Path) -> None:
    """warm-cache runs as root when the image is built; the pod runs as another user."""
    assert saved.stat().st_mode & stat.S_IROTH and saved.stat().st_mode & stat.S_IXOTH
    assert all(path.stat().st_mode & stat.S_IROTH for path in saved.iterdir())


def test_a_copy_made_from_another_model_is_refused(saved: Path, tmp_path: Path, monkeypatch) -> None:
    stale = tmp_path / "language-model"
    stale.mkdir()
    for path in saved.iterdir():
        (stale / path.name).write_bytes(path.read_bytes())
    key = json.loads((stale / language_cache.KEY_FILE).read_text())
    (stale / language_cache.KEY_FILE).write_text(json.dumps({**key, "key": "1:another-model"}))
    monkeypatch.setattr(language, "_arrays", False)
    assert "another py3langid model" in language.load_saved_arrays(stale)
    assert language._arrays is False  # decompressed on first use, as without a saved copy
    assert "no saved language model" in language.load_saved_arrays(tmp_path / "missing")


def test_the_language_model_is_mapped_in_place_not_copied_into_the_numba_cache(tmp_path: Path) -> None:
    from socialscore.api.numba_cache import LANGUAGE_DIR, install_shipped_cache

    shipped = tmp_path / "shipped"
    (shipped / "text_x").mkdir(parents=True)
    (shipped / "text_x" / "k.nbi").write_bytes(b"index")
    (shipped / LANGUAGE_DIR).mkdir()
    (shipped / LANGUAGE_DIR / "nextmove.npy").write_bytes(b"68 MB")
    env = {"SOCIALSCORE_NUMBA_SHIPPED_CACHE": str(shipped), "NUMBA_CACHE_DIR": str(tmp_path / "tmp")}
    assert "1 file(s) copied" in install_shipped_cache(env)
    assert not (tmp_path / "tmp" / LANGUAGE_DIR).exists()
