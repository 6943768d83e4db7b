"""What is served: aliases exported as files, promotion, rollback and the check that nothing drifted.

The ``production`` alias is exported to the top of ``models/`` (``staging`` to ``models/aliases/staging/``):
the version's three plain files, ``bundle.json`` (the manifest: version, labels, thresholds and the
sha256 of every file) and, for the original spec's users, ``model.joblib`` + ``vectorizer.joblib``.
The API and ``socialscore predict`` read the plain files only, after checking their sha256; the
joblib files are an export and are never loaded. The registry (database) stays the record of which
version an alias names; the export is rewritten whenever an alias moves.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from socialscore.errors import ModelError
from socialscore.modeling.pipeline import FILES, ScoringPipeline, verify_files
from socialscore.registry.store import PRODUCTION, ModelRegistry

MANIFEST = "bundle.json"
COMPAT_MODEL, COMPAT_VECTORIZER = "model.joblib", "vectorizer.joblib"


def alias_dir(models_dir: Path, alias: str) -> Path:
    return models_dir if alias == PRODUCTION else models_dir / "aliases" / alias


def export_alias(registry: ModelRegistry, alias: str, compat: bool = True) -> dict[str, Any]:
    """Write the files of the version ``alias`` names where the API reads them; return the manifest."""
    version = registry.alias(alias)
    if version is None:
        raise ModelError(f"the alias {alias!r} names no version yet")
    record = registry.get(version)
    source = registry.version_dir(version)
    pipeline = ScoringPipeline.load(source, record["files"])
    return export_pipeline(pipeline, alias_dir(registry.models_dir, alias), manifest_for(record, alias), compat, source)


def export_pipeline(
    pipeline: ScoringPipeline, target: Path, manifest: dict[str, Any], compat: bool = True, source: Path | None = None
) -> dict[str, Any]:
    """Write ``pipeline`` (its plain files, optionally the joblib export) and ``bundle.json`` into ``target``.

    All files are replaced together (``atomic_group``); ``bundle.json`` lists every file with its sha256.
    """
    import tempfile

    from socialscore.pipeline.artifacts import atomic_group, sha256_file
    from socialscore.pipeline.lock import export_lock

    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as scratch:
        if source is None:
            source = Path(scratch)
            pipeline.save(source)
        with export_lock(target), atomic_group(target) as stage:
            files = {}
            for name in (*FILES, *getattr(pipeline.model, "companion_files", dict)()):  # + e.g. a licence
                shutil.copyfile(source / name, stage(name))
                files[name] = sha256_file(source / name)
            if compat:
                files.update(_compat_export(pipeline, stage))
            manifest = {**manifest, "nltk_resources": pipeline.nltk_resources, "files": files}
            stage(MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    for stale in (COMPAT_MODEL, COMPAT_VECTORIZER):
        if stale not in manifest["files"]:
            (target / stale).unlink(missing_ok=True)
    return manifest


def _compat_export(pipeline: ScoringPipeline, stage: Any) -> dict[str, str]:
    """The original spec's model.joblib + vectorizer.joblib (an export for other tools; never loaded here)."""
    import joblib

    from socialscore.pipeline.artifacts import sha256_file

    out = {}
    for name, obj in ((COMPAT_MODEL, pipeline.model), (COMPAT_VECTORIZER, pipeline.featurizer)):
        path = stage(name)
        joblib.dump(obj, path)
        out[name] = sha256_file(path)
    return out


def manifest_for(record: dict[str, Any], alias: str) -> dict[str, Any]:
    metrics = record.get("metrics") or {}
    return {
        "model_version": record["version"],
        "alias": alias,
        "mode": record["mode"],
        "model_type": record["model_type"],
        "trained_at": record["created_at"],
        "metrics": metrics.get("cv"),
        "test_metrics": metrics.get("held_out"),
        "gate": record.get("gate"),
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.exists():
        raise ModelError(
            f"no served model in {directory} ({MANIFEST} missing); train and promote one: "
            "socialscore run --mode prod (or socialscore models promote VERSION)"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from None


def load_served(directory: Path) -> ScoringPipeline:
    """The exported pipeline in ``directory`` (files checked against ``bundle.json``; nothing unpickled)."""
    from socialscore.pipeline.artifacts import recover

    try:
        recover(directory)
    except OSError as exc:
        raise ModelError(f"{directory} holds an unfinished model export that cannot be completed: {exc}") from None
    manifest = read_manifest(directory)
    if not all(name in manifest.get("files", {}) for name in FILES):
        raise ModelError(
            f"{directory / MANIFEST} lists no plain model files ({', '.join(FILES)}): it is an old pickle "
            "bundle, which is never loaded; re-export it with: socialscore models promote VERSION"
        )
    pipeline = ScoringPipeline.load(directory, manifest["files"])
    if pipeline.version != manifest.get("model_version"):
        raise ModelError(f"{directory / MANIFEST} names {manifest.get('model_version')} but the files hold {pipeline.version}")
    return pipeline


def served_problems(registry: ModelRegistry, alias: str = PRODUCTION) -> list[str]:
    """Why the exported files do not serve what the registry says ``alias`` names (empty when they do)."""
    version = registry.alias(alias)
    if version is None:
        return []
    directory = alias_dir(registry.models_dir, alias)
    try:
        manifest = read_manifest(directory)
    except ModelError as exc:
        return [str(exc)]
    if manifest.get("model_version") != version:
        return [f"{directory / MANIFEST} serves {manifest.get('model_version')} but {alias} is {version}"]
    try:
        verify_files(directory, manifest.get("files", {}), FILES)
    except ModelError as exc:
        return [str(exc)]
    return []


def promote(registry: ModelRegistry, version: str, reason: str, force: bool = False, alias: str = PRODUCTION) -> str | None:
    """Move ``alias`` to ``version`` and export it; a version the gate refused needs ``force``."""
    record = registry.get(version)
    if record["status"] != "passed" and not force:
        why = _gate_summary(record.get("gate"))
        raise ModelError(
            f"{version} did not pass the quality gate ({record['status']}{': ' + why if why else ''}); "
            "promote it anyway with --force --reason '...'"
        )
    previous = registry.move_alias(alias, version, reason)
    export_alias(registry, alias)
    return previous


def rollback(registry: ModelRegistry, alias: str = PRODUCTION) -> tuple[str, str | None]:
    """Point ``alias`` back at the version it named before its last move; return (restored, replaced)."""
    previous = registry.previous_of(alias)
    if previous is None:
        raise ModelError(f"{alias} has no earlier version to roll back to")
    replaced = registry.move_alias(alias, previous, f"rollback from {registry.alias(alias)}")
    export_alias(registry, alias)
    return previous, replaced


def _gate_summary(gate: dict[str, Any] | None) -> str:
    if not gate:
        return ""
    return "; ".join(c["detail"] for c in gate.get("checks", []) if not c["passed"])
