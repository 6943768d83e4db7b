"""Hostile clients, one case each (docs/reliability.md "API under attack"): expensive explanations,
floods of requests from one key, short keys in production, invisible-only texts, deeply nested JSON."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ADMIN_KEY, KEY, OTHER_KEY, lifespan_startup, settings_for
from socialscore.api.service import create_app
from socialscore.errors import ConfigError

NASTY = "you stupid clown"


def _error(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == type_
    return response.json()["error"]


# --- explain: its own concurrency and cost bounds ---------------------------------------------------
@pytest.fixture
def slow_explanations(monkeypatch):
    """Explanations take ~1.5 s in the part after featurizing (as a 10k-character text does for real);
    ``started`` is set once one is under way."""
    from socialscore.modeling.behaviour import explain

    original = explain.display_words
    started = threading.Event()

    def slow(featurizer, text):
        started.set()
        time.sleep(1.5)
        return original(featurizer, text)

    monkeypatch.setattr(explain, "display_words", slow)
    return started


def test_plain_score_does_not_wait_behind_explanations(make_client, linear_bundle_dir: Path, slow_explanations):
    client = make_client(models_dir=linear_bundle_dir, explain_concurrency=4)
    with ThreadPoolExecutor(4) as pool:
        explaining = [pool.submit(client.post, "/v1/score", json={"text": NASTY, "explain": True})
                      for _ in range(4)]
        assert slow_explanations.wait(10)
        started = time.monotonic()
        plain = client.post("/v1/score", json={"text": NASTY})
        waited = time.monotonic() - started
        batch = client.post("/v1/score/batch", json={"texts": [NASTY]})
        answers = [f.result() for f in explaining]
    assert plain.status_code == 200 and batch.status_code == 200
    # four explanations in flight hold ≥ 1.5 s each; before, a plain score queued behind all of them (≥ 6 s)
    assert waited < 1.4, waited
    assert [a.status_code for a in answers] == [200] * 4


def test_explain_over_its_concurrency_limit_is_429_with_retry_after(make_client, linear_bundle_dir: Path,
                                                                    slow_explanations):
    client = make_client(models_dir=linear_bundle_dir, explain_concurrency=1)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/score", json={"text": NASTY, "explain": True})
        assert slow_explanations.wait(10)
        second = client.post("/v1/score", json={"text": NASTY, "explain": True})
        plain = client.post("/v1/score", json={"text": NASTY})
        assert first.result().status_code == 200
    _error(second, 429, "explain_busy")
    assert int(second.headers["retry-after"]) >= 1
    assert plain.status_code == 200


def test_explain_over_its_time_bound_is_503_with_retry_after(make_client, linear_bundle_dir: Path,
                                                             slow_explanations):
    client = make_client(models_dir=linear_bundle_dir, explain_timeout=0.3)
    started = time.monotonic()
    response = client.post("/v1/score", json={"text": NASTY, "explain": True})
    assert time.monotonic() - started < 1.4
    _error(response, 503, "explain_timeout")
    assert int(response.headers["retry-after"]) >= 1


def test_explain_text_over_its_length_bound_is_413(make_client, linear_bundle_dir: Path):
    client = make_client(models_dir=linear_bundle_dir, explain_max_chars=40)
    long_text = NASTY + " and more" * 5
    error = _error(client.post("/v1/score", json={"text": long_text, "explain": True}), 413, "text_too_long")
    assert "40" in error["message"] and "explain" in error["message"]
    assert client.post("/v1/score", json={"text": long_text}).status_code == 200
    assert client.post("/v1/score", json={"text": NASTY, "explain": True}).status_code == 200


def test_explain_defaults_bound_the_cost():
    settings = settings_for()
    assert settings.explain_max_chars <= 2_000 and settings.explain_concurrency <= 4
    assert 0 < settings.explain_timeout <= 30


# --- per-key rate limiting -----------------------------------------------------------------------
def test_rate_limit_is_per_key_with_retry_after(make_client):
    client = make_client(api_keys=f"{KEY},{OTHER_KEY}", rate_limit_per_second=0.5, rate_limit_burst=3)
    first = [client.post("/v1/score", json={"text": "hi"}, headers={"X-API-Key": KEY}) for _ in range(3)]
    assert [r.status_code for r in first] == [200] * 3
    over = client.post("/v1/score/batch", json={"texts": ["hi"]}, headers={"X-API-Key": KEY})
    _error(over, 429, "rate_limited")
    assert 1 <= int(over.headers["retry-after"]) <= 2
    # another key has its own bucket; open endpoints are not counted
    assert client.post("/v1/score", json={"text": "hi"}, headers={"X-API-Key": OTHER_KEY}).status_code == 200
    assert client.get("/health").status_code == 200


def test_rate_limit_refills_over_time(make_client):
    client = make_client(api_keys=KEY, rate_limit_per_second=20, rate_limit_burst=1)
    headers = {"X-API-Key": KEY}
    assert client.post("/v1/score", json={"text": "hi"}, headers=headers).status_code == 200
    assert client.post("/v1/score", json={"text": "hi"}, headers=headers).status_code == 429
    time.sleep(0.1)
    assert client.post("/v1/score", json={"text": "hi"}, headers=headers).status_code == 200


def test_rate_limit_is_off_by_default(make_client):
    client = make_client(api_keys=KEY)
    statuses = {client.post("/v1/score", json={"text": "hi"}, headers={"X-API-Key": KEY}).status_code
                for _ in range(30)}
    assert statuses == {200}


# --- short keys in production --------------------------------------------------------------------
@pytest.mark.parametrize("keys", [{"api_keys": "a"}, {"api_keys": f"{KEY},short"},
                                  {"api_keys": KEY, "admin_keys": "admin"}])
def test_short_keys_are_refused_in_production(keys):
    with pytest.raises(ConfigError, match="16 characters") as caught:
        settings_for(env="production", **keys).check_startable()
    assert "\n" not in str(caught.value)
    assert KEY not in str(caught.value) and "short" not in str(caught.value).replace("shorter", "")


def test_short_keys_are_allowed_in_development():
    settings_for(api_keys="a").check_startable()
    settings_for(env="production", api_keys=KEY, admin_keys=ADMIN_KEY).check_startable()


def test_production_with_a_short_key_fails_the_startup_in_one_line(models_dir):
    app = create_app(settings_for(models_dir=models_dir, env="production", api_keys="a"))
    sent = lifespan_startup(app)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "16 characters" in sent[0]["message"] and "\n" not in sent[0]["message"]


# --- texts empty after normalisation, nested JSON -------------------------------------------------
@pytest.mark.parametrize("text", ["\u200b", "\u200b\u00ad\u200b", "\u200d \ufeff\u2060", "\u00ad" * 50,
                                  "\u200b\n\u200c\t"])
def test_a_text_empty_after_normalisation_is_422(client, text):
    error = _error(client.post("/v1/score", json={"text": text}), 422, "validation_error")
    assert "empty after normalisation" in error["message"]
    error = _error(client.post("/v1/score/batch", json={"texts": ["fine", text]}), 422, "validation_error")
    assert "texts.1" in error["message"] and "empty after normalisation" in error["message"]


def test_visible_text_with_invisible_characters_still_scores(client):
    assert client.post("/v1/score", json={"text": "id\u200biot"}).status_code == 200


@pytest.mark.parametrize("depth", [200, 5_000])
@pytest.mark.parametrize("path,wrap", [("/v1/score", '{{"text": {}}}'), ("/v1/score/batch", '{{"texts": {}}}'),
                                       ("/v1/score", "{}")])
def test_deeply_nested_json_is_422_saying_so(client, path, wrap, depth):
    body = wrap.format("[" * depth + "]" * depth).encode()
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    error = _error(response, 422, "validation_error")
    assert "nested" in error["message"], error["message"]
    assert "recursion" not in error["message"].lower()


def test_ordinary_nesting_is_still_a_plain_type_error(client):
    error = _error(client.post("/v1/score", json={"text": [["a"]]}), 422, "validation_error")
    assert "nested" not in error["message"]


def test_serve_refuses_a_short_production_key_in_one_line(models_dir):
    import subprocess
    import sys

    env = {"SOCIALSCORE_ENV": "production", "SOCIALSCORE_API_KEYS": "a", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "socialscore.terminal.app", "serve", "--models-dir", str(models_dir)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "16 characters" in lines[0], result.stderr
