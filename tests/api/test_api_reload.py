"""Reload: HTTP and SIGHUP swap the bundle atomically; a broken bundle is refused, the old one serves."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from tiny_bundle import build_tiny_bundle

from socialscore.api.batcher import MicroBatcher
from socialscore.api.deps import ModelHolder
from socialscore.api.routes.scoring import score_texts
from socialscore.errors import ModelError


def _version(client) -> str:
    return client.post("/v1/score", json={"text": "hello"}).json()["model_version"]


def test_reload_swaps_in_a_new_bundle(client, models_dir: Path):
    assert _version(client) == "tiny-1"
    assert client.post("/v1/admin/reload").json()["status"] == "unchanged"
    build_tiny_bundle(models_dir, version="tiny-2", threshold=0.9)
    body = client.post("/v1/admin/reload").json()
    assert body == {"status": "reloaded", "model_version": "tiny-2", "previous_version": "tiny-1"}
    assert _version(client) == "tiny-2"
    assert client.get("/v1/model").json()["threshold"] == 0.9
    assert 'socialscore_api_model_info{version="tiny-2"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize("breakage", ["corrupt_arrays", "bad_manifest", "missing_vocab", "wrong_version"])
def test_broken_bundle_is_refused_and_old_keeps_serving(client, models_dir: Path, breakage: str):
    if breakage == "corrupt_arrays":
        build_tiny_bundle(models_dir, version="tiny-broken")
        (models_dir / "arrays.npz").write_bytes(b"not a model")
    elif breakage == "bad_manifest":
        (models_dir / "bundle.json").write_text("{ half a manifest")
    elif breakage == "missing_vocab":
        build_tiny_bundle(models_dir, version="tiny-broken")
        (models_dir / "vocab.json").unlink()
    else:  # the manifest names another version than the files hold
        import json

        manifest = json.loads((models_dir / "bundle.json").read_text())
        manifest["model_version"] = "tiny-broken"
        (models_dir / "bundle.json").write_text(json.dumps(manifest))
    response = client.post("/v1/admin/reload")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "reload_refused" and "still serving the old model" in error["message"]
    assert "\n" not in error["message"]
    assert _version(client) == "tiny-1"
    assert client.get("/ready").status_code == 200


def test_in_flight_requests_finish_on_the_model_they_started_with(models_dir: Path):
    holder = ModelHolder(models_dir)
    holder.load()
    old = holder.current
    build_tiny_bundle(models_dir, version="tiny-2")

    async def scenario() -> tuple[dict, dict]:
        batcher = MicroBatcher(score_texts)
        in_flight = asyncio.ensure_future(batcher.score(old, "hello"))  # queued on the old model
        assert holder.load() == ("reloaded", "tiny-1")
        new = await batcher.score(holder.current, "hello")
        result = await in_flight, new
        await batcher.close()
        return result

    before, after = asyncio.run(scenario())
    assert (before["model_version"], after["model_version"]) == ("tiny-1", "tiny-2")


def test_holder_refuses_a_broken_bundle_with_one_line(models_dir: Path):
    holder = ModelHolder(models_dir)
    holder.load()
    (models_dir / "vocab.json").write_bytes(b"junk")
    (models_dir / "bundle.json").write_text((models_dir / "bundle.json").read_text().replace("tiny-1", "tiny-x"))
    with pytest.raises(ModelError) as caught:
        holder.load()
    assert "\n" not in str(caught.value)
    assert holder.current is not None and holder.current.version == "tiny-1"


def _wait_for_version(url: str, version: str, samples: int = 12, timeout: float = 60) -> set[str]:
    """Poll until ``samples`` consecutive answers (spread over workers) all report ``version``."""
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        seen = {httpx.get(url + "/ready", timeout=5).json()["model_version"] for _ in range(samples)}
        if seen == {version}:
            return seen
        time.sleep(0.3)
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_reloads_every_worker_and_refuses_a_broken_bundle(live_server, models_dir: Path, workers: int):
    server = live_server(workers=workers)
    build_tiny_bundle(models_dir, version="tiny-2")
    os.kill(server.process.pid, signal.SIGHUP)
    assert _wait_for_version(server.url, "tiny-2") == {"tiny-2"}
    (models_dir / "bundle.json").write_text("{ broken")
    os.kill(server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 60  # the refusal is logged by each worker once it handles the signal
    while "reload (SIGHUP) refused" not in server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "reload (SIGHUP) refused" in server.log_path.read_text()
    assert _wait_for_version(server.url, "tiny-2", timeout=5) == {"tiny-2"}
    assert server.process.poll() is None


@pytest.mark.slow
def test_http_reload_reaches_every_worker(live_server, models_dir: Path):
    server = live_server(workers=2)
    build_tiny_bundle(models_dir, version="tiny-3")
    response = httpx.post(server.url + "/v1/admin/reload", timeout=30)
    assert response.json()["model_version"] == "tiny-3"
    assert _wait_for_version(server.url, "tiny-3") == {"tiny-3"}
