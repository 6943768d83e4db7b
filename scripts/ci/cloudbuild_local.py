"""Run steps of cloudbuild.yaml on this machine, with the same scripts and environment as Cloud Build.

    python scripts/ci/cloudbuild_local.py STEP_ID...   (or scripts/ci/run.sh STEP_ID...)

Each step gets ``options.env`` + its own ``env`` after substitution (built-ins: PROJECT_ID from
LOCAL_PROJECT_ID, SHORT_SHA from git; ``_FOO`` defaults from the file, overridable as environment
variables ``_FOO``), then any of those variables already set in the caller's environment win — so
``CACHE_URL=file:///tmp/cache`` swaps the bucket for a directory. Steps run in the order given; a
failing step stops the run unless the step has ``allowFailure``, as in Cloud Build.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def load(path: Path = ROOT / "cloudbuild.yaml") -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def substitutions(config: dict[str, Any], environ: dict[str, str]) -> dict[str, str]:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        sha = "local"
    values = {
        "PROJECT_ID": environ.get("LOCAL_PROJECT_ID", "local-project"),
        "SHORT_SHA": sha,
        "COMMIT_SHA": sha,
        "BUILD_ID": "local",
    }
    for key, default in (config.get("substitutions") or {}).items():
        values[key] = environ.get(key, str(default))
    for _ in range(5):  # dynamic substitutions may refer to each other
        values = {k: expand(v, values) for k, v in values.items()}
    return values


def expand(text: str, values: dict[str, str]) -> str:
    """Cloud Build substitution: ${VAR} and $VAR; $$ is a literal $ (left for bash)."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        match = _VAR.match(text, i) if text[i] == "$" else None
        if match:
            name = match.group(1) or match.group(2)
            out.append(values.get(name, match.group(0)))
            i = match.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


CLOUD_BUILD_WORKSPACE = "/workspace"


def _local_workspace(value: str) -> str:
    """Cloud Build's /workspace is the checkout: map it there, never to this machine's /workspace."""
    if value == CLOUD_BUILD_WORKSPACE or value.startswith(CLOUD_BUILD_WORKSPACE + "/"):
        return str(ROOT) + value[len(CLOUD_BUILD_WORKSPACE) :]
    return value


def step_env(
    config: dict[str, Any], step: dict[str, Any], environ: dict[str, str]
) -> dict[str, str]:
    values = substitutions(config, environ)
    declared: dict[str, str] = {}
    for entry in (config.get("options") or {}).get("env", []) + step.get("env", []):
        key, _, value = entry.partition("=")
        declared[key] = _local_workspace(expand(value, values))
    env = dict(environ)
    for key, value in declared.items():
        env[key] = environ.get(key, value)  # the caller's setting wins (e.g. a file:// CACHE_URL)
    return env


def step_command(step: dict, values: dict[str, str]) -> list[str]:
    """The step's command line: its entrypoint, or for a step that uses its image's own entrypoint (the
    syft step) the tool of that name on this machine's PATH; then its args, substituted."""
    entrypoint = step.get("entrypoint")
    if entrypoint is None:
        image = expand(step["name"], values).split("@")[0]
        first = step.get("args", [""])[0]
        entrypoint = "bash" if first.startswith("scripts/") else image.rsplit("/", 1)[-1].split(":")[0]
    return [entrypoint] + [expand(a, values) for a in step.get("args", [])]


def run(step_ids: list[str], environ: dict[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    config = load()
    by_id = {step["id"]: step for step in config["steps"]}
    unknown = [s for s in step_ids if s not in by_id]
    if unknown:
        print(f"unknown step(s): {', '.join(unknown)}; known: {', '.join(by_id)}", file=sys.stderr)
        return 2
    values = substitutions(config, environ)
    for step_id in step_ids:
        step = by_id[step_id]
        command = step_command(step, values)
        print(f"\n=== step {step_id}: {' '.join(command)}", flush=True)
        code = subprocess.run(command, cwd=ROOT, env=step_env(config, step, environ)).returncode
        if code != 0:
            if step.get("allowFailure"):
                print(
                    f"=== step {step_id} FAILED (exit {code}); allowFailure: continuing", flush=True
                )
                continue
            print(f"=== step {step_id} FAILED (exit {code}); stopping", flush=True)
            return code
        print(f"=== step {step_id} ok", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(run(sys.argv[1:]))
