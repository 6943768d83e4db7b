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
from typing import TYPE_CHECKING, Any

from socialscore.errors import ModelError, TamperedModelError
from socialscore.modeling.scorer.bundle_files import FILES, verify_files
from socialscore.registry.aliases import PRODUCTION

if TYPE_CHECKING:  # the registry's tables need SQLAlchemy, which serving does not import
    from socialscore.modeling.scorer.pipeline import ScoringPipeline
    from socialscore.registry.store import ModelRegistry

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
    from socialscore.modeling.scorer.pipeline import ScoringPipeline

    pipeline = ScoringPipeline.load(source, record["files"])
    return export_pipeline(pipeline, alias_dir(registry.models_dir, alias), manifest_for(record, alias), compat, source)


def export_pipeline(
    pipeline: ScoringPipeline, target: Path, manifest: dict[str, Any], compat: bool = True, source: Path | None = None
) -> dict[str, Any]:
    """Write ``pipeline`` (its plain files, optionally the joblib export) and ``bundle.json`` into ``target``.

    All files are replaced together (``atomic_group``); ``bundle.json`` lists every file with its sha256.
    """
    import tempfile

    from socialscore.registry.lock import export_lock
    from socialscore.storage.atomic import atomic_group
    from socialscore.storage.digest import sha256_file

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

    from socialscore.storage.digest import sha256_file

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
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ModelError(f"{path} is nested too deeply to be a model manifest") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{path} is not a model manifest (its top level is not an object)")
    return manifest


def load_served(directory: Path) -> ScoringPipeline:
    """The exported pipeline in ``directory`` (files checked against ``bundle.json``; nothing unpickled)."""
    from socialscore.storage.atomic import recover

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
    from socialscore.modeling.scorer.pipeline import ScoringPipeline

    pipeline = ScoringPipeline.load(directory, manifest["files"])
    if pipeline.version != manifest.get("model_version"):
        raise ModelError(f"{directory / MANIFEST} names {manifest.get('model_version')} but the files hold {pipeline.version}")
    return pipeline


def verify_against_registry(directory: Path, registry: ModelRegistry, alias: str = PRODUCTION) -> dict[str, Any]:
    """Refuse (TamperedModelError) an export that is not what the registry records for ``alias``.

    The registry (database) holds each version's sha256s; ``bundle.json`` sits next to the files it
    describes and can be rewritten with them, so it is checked against the registry, and the files too.
    Returns the manifest.
    """
    manifest = read_manifest(directory)
    version = manifest.get("model_version")
    named = registry.alias(alias)
    if named is None:
        raise TamperedModelError(f"{directory / MANIFEST} serves {version} but no version holds the alias {alias!r} in {registry.describe}")
    if version != named:
        raise TamperedModelError(
            f"{directory / MANIFEST} serves {version} but the registry's {alias} is {named}; "
            f"re-export it: socialscore models promote {named} --alias {alias}"
        )
    recorded = registry.get(named)["files"]
    listed = manifest.get("files") or {}
    for name in FILES:
        if listed.get(name) != recorded.get(name):
            raise TamperedModelError(
                f"{directory / MANIFEST} lists a sha256 for {name} that differs from the registry's record of "
                f"{named}: the export was altered; re-export it: socialscore models promote {named} --alias {alias}"
            )
    try:
        verify_files(directory, recorded, FILES)
    except ModelError as exc:
        raise TamperedModelError(f"{exc} (the registry's record of {named})") from None
    return manifest


def registry_for_served(models_dir: Path) -> ModelRegistry | None:
    """The registry of the project whose ``models/`` is ``models_dir``, when it has one.

    None when ``models_dir`` is not a project's ``models/`` or the project has no registry database
    (a served copy, as in the container image): then ``bundle.json`` is the only record.
    """
    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.settings.env import EnvSettings

    models_dir = models_dir.resolve()
    if models_dir.name != "models":
        return None
    settings = load_settings("dev", models_dir.parent)
    layout = Layout.for_settings(settings, models_dir.parent)
    env = EnvSettings.for_project(layout.project_dir)
    if not (settings.database.url or env.database_url or env.db_host or layout.sqlite_path.is_file()):
        return None  # no database configured and no SQLite file: SQLAlchemy (not in the serving image) stays unloaded
    from socialscore.registry.store import ModelRegistry

    return ModelRegistry.existing(settings, layout)


def check_export(models_dir: Path, alias: str = PRODUCTION) -> dict[str, Any]:
    """The manifest of the export of ``alias``, after checking its files: against the registry when the
    project has one (see :func:`verify_against_registry`), else against ``bundle.json``. Raises ModelError."""
    directory = alias_dir(models_dir, alias)
    registry = registry_for_served(models_dir)
    if registry is not None:
        return verify_against_registry(directory, registry, alias)
    manifest = read_manifest(directory)
    verify_files(directory, manifest.get("files") or {}, FILES)
    return manifest


def load_checked(models_dir: Path, alias: str = PRODUCTION) -> ScoringPipeline:
    """The model exported for ``alias``, with the checks the API makes (:func:`check_export`, then
    :func:`load_served`): what ``socialscore predict`` and the API serve."""
    check_export(models_dir, alias)
    return load_served(alias_dir(models_dir, alias))


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
        verify_against_registry(directory, registry, alias)
    except ModelError as exc:
        return [str(exc)]
    return []


def promote(registry: ModelRegistry, version: str, reason: str, force: bool = False, alias: str = PRODUCTION) -> str | None:
    """Check ``version`` (gate verdict, mode, files against their recorded sha256), export it, then move
    ``alias`` in one transaction; a dev version or one the gate refused needs ``force``.

    Nothing moves when a check fails. The export is written before the alias moves: a reader sees
    either the old alias and files or, after the move, the new ones (the export alone names the new
    version only for the instant between the two, and the served check refuses that state).
    """
    record = registry.get(version)
    if not force:
        if record["status"] != "passed":
            why = _gate_summary(record.get("gate"))
            raise ModelError(
                f"{version} did not pass the quality gate ({record['status']}{': ' + why if why else ''}); "
                "promote it anyway with --force --reason '...'"
            )
        if alias == PRODUCTION and record["mode"] != "prod":
            raise ModelError(
                f"{version} is a {record['mode']} model (trained on a sample); production takes prod models: "
                "promote it anyway with --force --reason '...'"
            )
    from socialscore.modeling.scorer.pipeline import ScoringPipeline

    pipeline = ScoringPipeline.load(registry.version_dir(version), record["files"])
    export_pipeline(pipeline, alias_dir(registry.models_dir, alias), manifest_for(record, alias),
                    alias == PRODUCTION, registry.version_dir(version))
    return registry.move_alias(alias, version, reason)


def rollback(registry: ModelRegistry, alias: str = PRODUCTION) -> tuple[str, str | None]:
    """Point ``alias`` back at the newest earlier version it named (self-moves skipped); return (restored, replaced)."""
    previous = registry.previous_of(alias)
    if previous is None:
        raise ModelError(f"{alias} has no earlier version to roll back to")
    current = registry.alias(alias)
    replaced = promote(registry, previous, f"rollback from {current}", force=True, alias=alias)
    return previous, replaced


def _gate_summary(gate: dict[str, Any] | None) -> str:
    if not gate:
        return ""
    return "; ".join(c["detail"] for c in gate.get("checks", []) if not c["passed"])
