"""Model versions store their arrays compressed (the hashed weights are mostly zeros); versions
written before, uncompressed, still load."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import numpy as np

from socialscore.modeling.scorer.pipeline import ARRAYS_FILE, FILES, ScoringPipeline
from socialscore.storage.digest import sha256_file

_spec = importlib.util.spec_from_file_location("tiny_bundle", Path(__file__).parents[1] / "api" / "tiny_bundle.py")
tiny_bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_bundle)


def test_arrays_are_stored_compressed_and_load_back(tmp_path: Path) -> None:
    pipeline = tiny_bundle.build_tiny_pipeline()
    expected = pipeline.save(tmp_path / "v")
    with zipfile.ZipFile(tmp_path / "v" / ARRAYS_FILE) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    texts = ["you are an idiot", "have a nice day"]
    again = ScoringPipeline.load(tmp_path / "v", expected)
    assert np.array_equal(again.predict_proba(texts), pipeline.predict_proba(texts))


def test_a_version_stored_uncompressed_still_loads(tmp_path: Path) -> None:
    pipeline = tiny_bundle.build_tiny_pipeline()
    directory = tmp_path / "v"
    pipeline.save(directory)
    with np.load(directory / ARRAYS_FILE, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    with open(directory / ARRAYS_FILE, "wb") as handle:
        np.savez(handle, **arrays)  # as versions were written before
    expected = {name: sha256_file(directory / name) for name in FILES}
    texts = ["you are an idiot"]
    assert np.array_equal(ScoringPipeline.load(directory, expected).predict_proba(texts), pipeline.predict_proba(texts))
