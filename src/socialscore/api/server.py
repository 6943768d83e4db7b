"""``socialscore serve``: check the settings and the bundle, then run uvicorn (one or more workers).

With ``--workers N`` the uvicorn supervisor is subclassed so SIGHUP is passed on to every worker
(each reloads its bundle in place, refusing a broken one) instead of restarting them, and
``PROMETHEUS_MULTIPROC_DIR`` is set so ``/metrics`` adds up all workers.
"""

from __future__ import annotations

import copy
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from socialscore.errors import SocialScoreError

APP = "socialscore.api:app"


def _log_config(level: str) -> dict:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["socialscore"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    config["formatters"]["default"]["fmt"] = "%(asctime)s %(levelprefix)s %(name)s %(message)s"
    return config


def serve(host: str | None = None, port: int | None = None, workers: int | None = None,
          models_dir: Path | None = None) -> None:
    """Run the API; an expected problem (no keys in production, no bundle) is one line and exit 1."""
    from socialscore.api.settings import load_settings
    from socialscore.registry.serving import read_manifest

    try:
        if models_dir is not None:
            os.environ["SOCIALSCORE_MODELS_DIR"] = str(Path(models_dir).resolve())
        settings = load_settings()
        settings.check_startable()
        read_manifest(settings.serving_dir)
    except SocialScoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    workers = settings.workers if workers is None else workers
    run(host, port, workers, settings.log_level)


def run(host: str, port: int, workers: int, log_level: str = "info") -> None:
    import uvicorn

    from socialscore.api.connections import PROTOCOL

    # the request head and body are time-bounded and connections capped per worker (api/connections.py,
    # SOCIALSCORE_READ_TIMEOUT, SOCIALSCORE_MAX_CONNECTIONS); an idle kept-alive connection closes after 5 s
    options: dict[str, Any] = {
        "host": host, "port": port, "log_level": log_level, "log_config": _log_config(log_level),
        "access_log": False, "timeout_graceful_shutdown": 10, "server_header": False,
        "http": PROTOCOL, "timeout_keep_alive": 5,
    }
    if workers <= 1:
        uvicorn.run(APP, **options)
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="socialscore-metrics-")
    os.environ["_SOCIALSCORE_SUPERVISOR_PID"] = str(os.getpid())
    from uvicorn.supervisors import Multiprocess

    class ReloadingMultiprocess(Multiprocess):
        def handle_hup(self) -> None:
            for process in self.processes:
                if process.pid is not None:
                    os.kill(process.pid, signal.SIGHUP)

    config = uvicorn.Config(APP, workers=workers, **options)
    sock = config.bind_socket()
    ReloadingMultiprocess(config, sockets=[sock]).run()
