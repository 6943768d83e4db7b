"""What each request costs the event loop: FastAPI runs a plain ``def`` dependency in the threadpool (a
thread hop per dependency per request, ~0.1 ms of CPU each, and a wait for the GIL behind scoring), so
the routes' dependencies are coroutines; only the scoring itself leaves the event loop."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi.routing import APIRoute

from socialscore.api.routes import model, ops, scoring

from conftest import settings_for


def _calls(dependant: Any) -> list[Any]:
    found = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found += _calls(sub)
    return found


def _runs_on_the_loop(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))


def test_no_route_dependency_runs_in_the_threadpool() -> None:
    routers = [ops.router, model.router, scoring.build_router(settings_for(api_keys=("k" * 24,)))]
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    assert any(route.path == "/v1/score" for route in routes)
    for route in routes:
        blocking = [getattr(call, "__name__", repr(call)) for call in _calls(route.dependant)
                    if not _runs_on_the_loop(call)]
        assert blocking == [], f"{route.path}: {blocking} run in the threadpool on every request"
