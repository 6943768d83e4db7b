"""API fixtures: a tiny real bundle (built once), apps with chosen settings, a live server process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from sockets import free_port  # noqa: E402
from tiny_bundle import build_linear_bundle, build_tiny_bundle  # noqa: E402

from socialscore.api.service import create_app  # noqa: E402
from socialscore.api.settings import ApiSettings  # noqa: E402

KEY = "test-key-0123456789abcdef"
OTHER_KEY = "second-key-fedcba9876543210"
ADMIN_KEY = "admin-key-00112233445566778899"


@pytest.fixture(autouse=True)
def _clean_api_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SOCIALSCORE_") or name in (
            "PROMETHEUS_MULTIPROC_DIR",
            "_SOCIALSCORE_SUPERVISOR_PID",
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny") / "models")


@pytest.fixture(scope="session")
def linear_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of socialscore's own featurizer and linear model (it can explain its scores)."""
    return build_linear_bundle(tmp_path_factory.mktemp("linear") / "models")


@pytest.fixture
def models_dir(tiny_bundle_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny bundle (tests may replace or break it)."""
    target = tmp_path / "project" / "models"
    shutil.copytree(tiny_bundle_dir, target)
    return target


def settings_for(**values: object) -> ApiSettings:
    return ApiSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def make_client(models_dir: Path) -> Iterator[Callable[..., TestClient]]:
    """``make_client(api_keys="k", max_batch=3)`` → a started TestClient (lifespan run)."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        overrides.setdefault("models_dir", models_dir)
        app = create_app(settings_for(**overrides))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """Open API (development, no keys)."""
    return make_client()


@pytest.fixture
def auth_client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(api_keys=f"{KEY},{OTHER_KEY}", admin_keys=ADMIN_KEY)


class LiveServer:
    """``socialscore serve`` in a subprocess on loopback; its log goes to ``log_path``."""

    def __init__(
        self, models_dir: Path, log_path: Path, workers: int = 1, env: dict[str, str] | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSCORE_")}
        full_env.update(env or {})
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "socialscore.terminal.app",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--models-dir",
                str(models_dir),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=models_dir.parent,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not ready: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def live_server(models_dir: Path, tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(workers: int = 1, env: dict[str, str] | None = None, models: Path | None = None) -> LiveServer:
        server = LiveServer(models or models_dir, tmp_path / f"server{len(servers)}.log", workers, env)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


def lifespan_startup(app) -> list[dict]:
    """The ASGI messages an app sends back for a lifespan startup event (no server, no request)."""
    import asyncio

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "lifespan.startup"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    return sent
