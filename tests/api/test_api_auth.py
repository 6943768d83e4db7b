"""API keys: hashed, constant-time compared, Bearer or X-API-Key; bypass attempts refused."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from conftest import ADMIN_KEY, KEY, OTHER_KEY, lifespan_startup, settings_for
from socialscore.api.service import create_app
from socialscore.api.settings import hash_key
from socialscore.errors import ConfigError

SCORING = [
    ("post", "/v1/score", {"text": "hello"}),
    ("post", "/v1/score/batch", {"texts": ["hello"]}),
    ("get", "/v1/model", None),
]
ADMIN = [("post", "/v1/admin/reload", None)]
PROTECTED = SCORING + ADMIN


def _call(client, method, path, body, **kwargs):
    return getattr(client, method)(path, **({"json": body} if body is not None else {}), **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong"},
        {"X-API-Key": ""},
        {"X-API-Key": "wrong"},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": f"Bearer {KEY}x"},
        {"X-API-Key": KEY[:-1]},
        {"Authorization": hash_key(KEY)},
    ],
)
def test_bypass_attempts_are_refused(auth_client, headers):
    for method, path, body in PROTECTED:
        response = _call(auth_client, method, path, body, headers=headers)
        assert response.status_code == 401, (path, headers)
        assert response.json()["error"]["type"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "query", [f"api_key={KEY}", f"key={KEY}", f"X-API-Key={KEY}", f"token={KEY}"]
)
def test_key_in_query_string_is_refused(auth_client, query):
    assert auth_client.post(f"/v1/score?{query}", json={"text": "hi"}).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {KEY}"},
        {"X-API-Key": KEY},
        {"Authorization": f"bearer {OTHER_KEY}"},
        {"X-API-Key": OTHER_KEY},
    ],
)
def test_valid_keys_are_accepted(auth_client, headers):
    for method, path, body in SCORING:
        assert _call(auth_client, method, path, body, headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": OTHER_KEY}])
def test_a_scoring_key_cannot_reload(auth_client, headers):
    response = _call(auth_client, "post", "/v1/admin/reload", None, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"
    assert "SOCIALSCORE_ADMIN_KEYS" in response.json()["error"]["message"]


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {ADMIN_KEY}"}, {"X-API-Key": ADMIN_KEY}])
def test_an_admin_key_reloads_and_scores(auth_client, headers):
    for method, path, body in PROTECTED:
        assert _call(auth_client, method, path, body, headers=headers).status_code == 200


def test_without_admin_keys_nobody_reloads(make_client):
    client = make_client(api_keys=KEY)
    assert client.post("/v1/admin/reload", headers={"X-API-Key": KEY}).status_code == 403


def test_ops_endpoints_stay_open(auth_client):
    for path in ("/health", "/ready", "/metrics", "/"):
        assert auth_client.get(path).status_code == 200


def test_only_hashes_are_kept():
    settings = settings_for(api_keys=f" {KEY} ,{OTHER_KEY},,")
    assert settings.api_keys == (hash_key(KEY), hash_key(OTHER_KEY))
    dumped = repr(settings) + str(settings.model_dump())
    assert KEY not in dumped and OTHER_KEY not in dumped


def test_development_without_keys_is_open_and_warns(make_client, caplog):
    with caplog.at_level(logging.WARNING, logger="socialscore"):
        client = make_client()
    assert client.post("/v1/score", json={"text": "hello"}).status_code == 200
    assert any("SOCIALSCORE_API_KEYS is empty" in r.getMessage() for r in caplog.records)


def test_production_without_keys_refuses_to_start(models_dir):
    app = create_app(settings_for(models_dir=models_dir, env="production"))
    sent = lifespan_startup(app)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "SOCIALSCORE_API_KEYS" in sent[0]["message"] and "\n" not in sent[0]["message"]
    with pytest.raises(ConfigError, match="SOCIALSCORE_API_KEYS"):
        settings_for(env="production").check_startable()


@pytest.mark.slow
def test_uvicorn_refuses_production_without_keys(models_dir):
    env = {"SOCIALSCORE_ENV": "production", "SOCIALSCORE_MODELS_DIR": str(models_dir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "socialscore.api:app", "--port", "0"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode != 0
    assert "SOCIALSCORE_API_KEYS is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_with_keys_starts(make_client):
    client = make_client(env="production", api_keys=KEY)
    assert (
        client.post("/v1/score", json={"text": "x"}, headers={"X-API-Key": KEY}).status_code == 200
    )


@pytest.mark.slow
def test_serve_refuses_production_without_keys_in_one_line(models_dir, monkeypatch):
    env = {"SOCIALSCORE_ENV": "production", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "socialscore.terminal.app", "serve", "--models-dir", str(models_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SOCIALSCORE_API_KEYS" in lines[0], result.stderr


@pytest.mark.slow
def test_serve_without_a_bundle_says_what_to_run(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "socialscore.terminal.app", "serve", "--models-dir", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "socialscore run" in result.stderr
