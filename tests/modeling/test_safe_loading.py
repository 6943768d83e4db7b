"""Loading a model never runs code from a file (Part 1): tampered or malicious files are refused."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from tiny_bundle import build_tiny_bundle  # noqa: E402

from socialscore.errors import ModelError  # noqa: E402
from socialscore.registry.serving import load_served  # noqa: E402


class Exploit:
    """Unpickling this runs os.system, which writes the marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(models: Path, name: str) -> None:
    manifest = json.loads((models / "bundle.json").read_text())
    manifest["files"][name] = _sha(models / name)
    (models / "bundle.json").write_text(json.dumps(manifest))


def plant_pickle_in_arrays(models: Path, key: str, marker: Path) -> None:
    """Replace one array of arrays.npz with an object array holding the exploit; record its sha256."""
    with np.load(models / "arrays.npz", allow_pickle=False) as stored:
        arrays = {k: stored[k] for k in stored.files}
    holder = np.empty(1, dtype=object)
    holder[0] = Exploit(marker)
    arrays[key] = holder
    with open(models / "arrays.npz", "wb") as handle:
        np.savez(handle, **arrays)
    _record(models, "arrays.npz")


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return build_tiny_bundle(tmp_path / "models")


def test_a_malicious_joblib_with_its_sha_recorded_never_runs(models: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (models / "model.joblib").write_bytes(pickle.dumps(Exploit(marker)))
    _record(models, "model.joblib")
    pipeline = load_served(models)  # model.joblib is an export for other tools: never unpickled
    assert pipeline.score(["hello"]).toxicity.shape == (1,)
    assert not marker.exists()


def test_a_pickle_inside_the_arrays_file_is_refused(models: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    plant_pickle_in_arrays(models, "model__coef", marker)
    with pytest.raises(ModelError, match="cannot be read safely"):
        load_served(models)
    assert not marker.exists()


def test_a_tampered_file_is_refused_with_one_line(models: Path) -> None:
    document = json.loads((models / "pipeline.json").read_text())
    document["thresholds"]["toxic"] = 0.999  # quietly let everything through
    (models / "pipeline.json").write_text(json.dumps(document))
    with pytest.raises(ModelError, match="does not match its recorded sha256") as refused:
        load_served(models)
    assert "\n" not in str(refused.value)


def test_an_old_pickle_bundle_is_not_loaded(models: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (models / "model.joblib").write_bytes(pickle.dumps(Exploit(marker)))
    manifest = {"model_version": "old", "files": {"model.joblib": _sha(models / "model.joblib")}}
    (models / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="old pickle bundle, which is never loaded"):
        load_served(models)
    assert not marker.exists()


def test_the_api_reload_refuses_a_malicious_model(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from socialscore.api.service import create_app
    from socialscore.api.settings import ApiSettings

    models = build_tiny_bundle(tmp_path / "models")
    marker = tmp_path / "pwned"
    settings = ApiSettings(_env_file=None, models_dir=models)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        (models / "model.joblib").write_bytes(pickle.dumps(Exploit(marker)))
        _record(models, "model.joblib")
        plant_pickle_in_arrays(models, "featurizer__eng_scale", marker)
        response = client.post("/v1/admin/reload")
        assert response.status_code == 409
        assert client.post("/v1/score", json={"text": "hello"}).json()["model_version"] == "tiny-1"
    assert not marker.exists()
