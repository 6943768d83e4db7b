"""Shared helpers for the Kubernetes tests: the rendered objects, by kind."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "deploy" / "k8s"


def overlay_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "k8s_overlay", ROOT / "scripts" / "ci" / "k8s_overlay.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("k8s_overlay", module)
    spec.loader.exec_module(module)
    return module


def rendered(image_ref: str | None = None) -> list[dict[str, Any]]:
    return overlay_module().render(image_ref)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]
