"""Step fingerprints and the state record that decides whether a step may be skipped.

A fingerprint is taken before a step runs from: the content hash of each input artifact (and source
file), a digest of each config key the step reads, and the code version. After the step the hash of
each output is recorded. A step is up to date when the fingerprint is unchanged and every output
still hashes to what was recorded.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialscore.storage.atomic import write_json_atomic
from socialscore.storage.digest import FileHasher

if TYPE_CHECKING:
    from socialscore.pipeline.context import StepSpec

STATE_VERSION = 1


def step_code_version(step: StepSpec, memo: dict[str, str] | None = None) -> str:
    """Package version plus a hash of the code this step runs (its modules and what they import).

    Finding the imports parses ~40 files (~0.3 s); ``memo`` keeps the answer per whole-package
    version, so an unchanged rerun only pays for ``code_version()``'s plain file hash.
    """
    import socialscore
    from socialscore.pipeline.codehash import PACKAGE, code_digest, step_code_roots

    roots = step_code_roots(step.run, step.sources)
    if not all(r.startswith(PACKAGE + ".") for r in roots):
        memo = None  # code outside the package (a test's steps) is not in code_version()
    key = f"{code_version()}|{','.join(roots)}"
    if memo is not None and key in memo:
        return memo[key]
    version = f"{socialscore.__version__}+{code_digest(roots)}"
    if memo is not None:
        memo[key] = version
    return version


# Subpackages whose code never changes a step's output (scripts/ci/cache_keys.py keeps a copy; a test compares)
NOT_PIPELINE_SOURCE = ("api", "terminal")


@cache
def code_version() -> str:
    """Package version plus a hash of the pipeline's whole source (``NOT_PIPELINE_SOURCE`` does not count); for run records."""
    import socialscore
    from socialscore.pipeline.codehash import package_root

    root = package_root()
    digest = hashlib.sha256(socialscore.__version__.encode())
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in NOT_PIPELINE_SOURCE:
            continue
        digest.update(str(relative).encode())
        digest.update(path.read_bytes())
    return f"{socialscore.__version__}+{digest.hexdigest()[:12]}"


@dataclass
class StepRecord:
    fingerprint: str
    components: dict[str, str]
    outputs: dict[str, str]
    ran_at: float
    seconds: float
    facts: dict[str, Any] = field(default_factory=dict)


def fingerprint_of(components: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(components, sort_keys=True).encode()).hexdigest()


def explain_staleness(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """Human reasons why ``current`` differs from ``recorded`` (input, config key or code)."""
    reasons = []
    for key in sorted(set(recorded) | set(current)):
        before, now = recorded.get(key), current.get(key)
        if before == now:
            continue
        kind, _, name = key.partition(":")
        if now is None:
            reasons.append(f"{kind} {name} no longer used")
        elif before is None:
            reasons.append(f"new {kind} {name}")
        elif kind == "code":
            reasons.append("code changed")
        elif kind == "config":
            reasons.append(f"config {name} changed")
        else:
            reasons.append(f"{kind} {name} changed")
    return reasons


def shared_code_memo_path() -> Path:
    """The user's memo of step code versions (``$XDG_CACHE_HOME/socialscore``, else ``~/.cache``), shared
    by every project: a fresh project does not parse the package's sources again (~0.4 CPU s)."""
    from socialscore.layout import user_cache_dir

    return user_cache_dir() / "code_memo.json"


def _current(memo: dict[str, str]) -> dict[str, str]:
    """The entries of this code version (the key starts with it: see step_code_version)."""
    prefix = code_version() + "|"
    return {k: v for k, v in memo.items() if isinstance(k, str) and isinstance(v, str) and k.startswith(prefix)}


class StateStore:
    """The per-mode record of step fingerprints, kept as one JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.steps: dict[str, StepRecord] = {}
        memo: dict[str, list[Any]] = {}
        self.code_memo: dict[str, str] = {}  # step code versions, see step_code_version
        if path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                raw = {}
            if raw.get("version") == STATE_VERSION:
                self.steps = {name: StepRecord(**rec) for name, rec in raw.get("steps", {}).items()}
                memo = raw.get("hash_memo", {})
                self.code_memo = raw.get("code_memo", {})
        self._shared = self._read_shared()
        self.code_memo = {**self._shared, **self.code_memo}
        self.hasher = FileHasher(memo)

    @staticmethod
    def _read_shared() -> dict[str, str]:
        try:
            shared = json.loads(shared_code_memo_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, unreadable or damaged: parse the sources, as without it
            return {}
        return _current(shared) if isinstance(shared, dict) else {}

    def get(self, step: str) -> StepRecord | None:
        return self.steps.get(step)

    def record(
        self,
        step: str,
        fingerprint: str,
        components: dict[str, str],
        outputs: dict[str, str],
        seconds: float,
        facts: dict[str, Any],
    ) -> None:
        self.steps[step] = StepRecord(fingerprint, components, outputs, time.time(), seconds, facts)

    def forget(self, step: str) -> None:
        self.steps.pop(step, None)

    def save(self) -> None:
        live = {k: v for k, v in self.hasher.memo.items() if Path(k).exists()}
        code_memo = _current(self.code_memo)
        write_json_atomic(
            self.path,
            {
                "version": STATE_VERSION,
                "steps": {name: rec.__dict__ for name, rec in self.steps.items()},
                "hash_memo": live,
                "code_memo": code_memo,
            },
        )
        if code_memo != self._shared:
            try:
                write_json_atomic(shared_code_memo_path(), code_memo)
                self._shared = code_memo
            except OSError:  # a read-only home: the next fresh project parses again
                pass
