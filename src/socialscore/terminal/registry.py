"""``socialscore models …`` and ``socialscore runs …``: the registry and the run history on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from socialscore.errors import SocialScoreError
from socialscore.terminal.consoles import LazyConsole, table
from socialscore.terminal.help import App

models_app = App(help="Model versions, aliases (production, staging), the quality gate.")
runs_app = App(help="Run history: list, show, compare.")
console = LazyConsole()
err_console = LazyConsole(stderr=True)

ProjectOpt = Annotated[Path, typer.Option("--project-dir", "-C", help="Project directory.")]


def project_registry(project_dir: Path) -> Any:
    """The registry of the project in ``project_dir`` (its database from socialscore.yaml, .env or DATABASE_URL)."""
    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.registry.store import ModelRegistry

    project_dir = project_dir.resolve()
    settings = load_settings("dev", project_dir)
    return ModelRegistry.for_project(settings, Layout.for_settings(settings, project_dir))


def _fail(exc: SocialScoreError) -> None:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _auc(metrics: dict[str, Any] | None, where: str) -> str:
    """The primary label's ROC AUC in ``metrics[where]`` ("-" when not measured)."""
    metrics = metrics or {}
    block = metrics.get(where) or {}
    entry = block.get(metrics.get("primary_label")) or {}
    value = entry.get("roc_auc") if isinstance(entry, dict) else None
    return "-" if value is None else f"{value:.4f}"


@models_app.command("list")
def models_list(mode: Annotated[str | None, typer.Option(help="Only this mode.")] = None, project_dir: ProjectOpt = Path(".")) -> None:
    """Every registered version, newest first, with its gate verdict and aliases."""
    try:
        registry = project_registry(project_dir)
        rows, aliases = registry.list_versions(mode), registry.aliases_of()
    except SocialScoreError as exc:
        _fail(exc)
        return
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(version, []).append(alias)
    from socialscore.registry.store import short_version

    # the short id holds the mode and the creation time (UTC): no separate columns for them
    rows_table = table(title="model versions", caption="short ids; full id and details: socialscore models show VERSION")
    for column in ("version", "aliases", "gate", "held-out AUC"):
        rows_table.add_column(column, overflow="fold", no_wrap=column in ("version", "aliases"))
    for row in rows:
        gate = row.get("gate") or {}
        verdict = gate.get("verdict") or (gate.get("data") or {}).get("verdict") or row["status"]
        rows_table.add_row(short_version(row["version"]), ", ".join(by_version.get(row["version"], [])), verdict,
                      _auc(row.get("metrics"), "held_out"))
    console.print(rows_table)


@models_app.command("show")
def models_show(version: str, project_dir: ProjectOpt = Path(".")) -> None:
    """One version (or alias) in full: config, data fingerprint, code, metrics, gate."""
    try:
        registry = project_registry(project_dir)
        record = registry.get(registry.resolve(version))
    except SocialScoreError as exc:
        _fail(exc)
        return
    from socialscore.storage.provenance import describe

    err_console.print(describe((record.get("data") or {}).get("provenance")), markup=False, highlight=False)  # stdout stays JSON
    console.print_json(json.dumps(record, default=str))


@models_app.command("promote")
def models_promote(
    version: str,
    force: Annotated[bool, typer.Option("--force", help="Promote a version the gate refused (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why; recorded with the move.")] = None,
    alias: Annotated[str, typer.Option(help="The alias to move.")] = "production",
    project_dir: ProjectOpt = Path("."),
) -> None:
    """Point an alias (production by default) at VERSION and export it for serving."""
    from socialscore.registry.serving import promote

    if force and not reason:
        _fail(SocialScoreError("--force needs --reason '...': an override is recorded with its reason"))
    try:
        registry = project_registry(project_dir)
        previous = promote(registry, registry.resolve(version), reason or "promoted by hand", force, alias)
    except SocialScoreError as exc:
        _fail(exc)
        return
    console.print(f"{alias}: {previous or '(none)'} → {registry.alias(alias)}  (reload the API: POST /v1/admin/reload)")


@models_app.command("rollback")
def models_rollback(alias: Annotated[str, typer.Option(help="The alias to roll back.")] = "production", project_dir: ProjectOpt = Path(".")) -> None:
    """Point an alias back at the version it named before its last move."""
    from socialscore.registry.serving import rollback

    try:
        restored, replaced = rollback(project_registry(project_dir), alias)
    except SocialScoreError as exc:
        _fail(exc)
        return
    console.print(f"{alias}: {replaced} → {restored}  (reload the API: POST /v1/admin/reload)")


@models_app.command("gate")
def models_gate(mode: Annotated[str, typer.Option("--mode", "-m", help="dev or prod.")] = "prod", project_dir: ProjectOpt = Path(".")) -> None:
    """Exit 0 when the newest version of MODE passed the quality gate, 1 (one line) otherwise.

    A project restored from a CI cache has the served model but not the database: then the verdict
    recorded in models/bundle.json (written only when the model was promoted) is what counts.
    """
    try:
        latest = project_registry(project_dir).latest(mode)
    except SocialScoreError as exc:
        _fail(exc)
        return
    if latest is None:
        latest = _served_record(project_dir, mode)
    if latest is None:
        _fail(SocialScoreError(f"no {mode} model version is registered: train one first (socialscore run --mode {mode})"))
        return
    verdict = (latest.get("gate") or {}).get("verdict", "not evaluated yet")
    if latest["status"] != "passed":
        _fail(SocialScoreError(f"quality gate: {latest['version']} {verdict}"))
    console.print(f"quality gate: {latest['version']} {verdict}")


def _served_record(project_dir: Path, mode: str) -> dict[str, Any] | None:
    """The served model's version and gate verdict from models/bundle.json, when it is of ``mode``."""
    from socialscore.registry.serving import read_manifest

    try:
        manifest = read_manifest(project_dir.resolve() / "models")
    except SocialScoreError:
        return None
    gate = manifest.get("gate") or {}
    if manifest.get("mode") != mode:
        return None
    return {"version": manifest.get("model_version"), "gate": gate, "status": "passed" if gate.get("passed") else "refused"}


@models_app.command("prune")
def models_prune(keep: Annotated[int, typer.Option(help="Versions to keep per mode (aliased ones are always kept).")] = 10,
                 project_dir: ProjectOpt = Path(".")) -> None:
    """Delete old versions: all but the newest KEEP per mode, never one an alias names."""
    try:
        removed = project_registry(project_dir).prune(max(1, keep))
    except SocialScoreError as exc:
        _fail(exc)
        return
    console.print(f"removed {len(removed)} version(s)" + (": " + ", ".join(removed) if removed else ""))


@runs_app.command("list")
def runs_list(mode: Annotated[str | None, typer.Option(help="Only this mode.")] = None,
              limit: Annotated[int, typer.Option(help="How many.")] = 20, project_dir: ProjectOpt = Path(".")) -> None:
    """Recent runs, newest first."""
    try:
        rows = project_registry(project_dir).list_runs(mode, limit)
    except SocialScoreError as exc:
        _fail(exc)
        return
    from socialscore.registry.store import short_run, short_version

    rows_table = table(title="runs", caption="short ids; a unique prefix is enough: socialscore runs show RUN")
    for column in ("run", "mode", "status", "version", "error"):
        rows_table.add_column(column, no_wrap=column in ("run", "version"))
    for row in rows:
        rows_table.add_row(short_run(row["run_id"]), row["mode"], row["status"], short_version(row.get("version")),
                      (row.get("error") or "")[:80])
    console.print(rows_table)


@runs_app.command("show")
def runs_show(run: str, project_dir: ProjectOpt = Path(".")) -> None:
    """One run in full (a unique prefix of its id is enough)."""
    try:
        record = project_registry(project_dir).get_run(run)
    except SocialScoreError as exc:
        _fail(exc)
        return
    console.print_json(json.dumps(record, default=str))


@runs_app.command("compare")
def runs_compare(first: str, second: str, project_dir: ProjectOpt = Path(".")) -> None:
    """Config and metric differences between two runs."""
    from socialscore.registry.compare import compare_runs

    try:
        registry = project_registry(project_dir)
        rows = compare_runs(registry.get_run(first), registry.get_run(second))
    except SocialScoreError as exc:
        _fail(exc)
        return
    rows_table = table(title=f"{first} vs {second}")
    for column in ("key", first, second):
        rows_table.add_column(column)
    for key, a, b in rows:
        rows_table.add_row(key, str(a), str(b))
    console.print(rows_table if rows else "no differences in config or metrics")
