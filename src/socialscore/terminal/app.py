"""The ``socialscore`` command line: parse, call, print. No pipeline logic lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from socialscore.errors import ConfigError, SocialScoreError
from socialscore.terminal.consoles import LazyConsole, table
from socialscore.terminal.help import App
from socialscore.terminal.registry import models_app, runs_app

app = App(
    help="socialscore: labelled comments in, a deployed toxicity social score out.",
    pretty_exceptions_enable=False,
)
vertex_app = App(help="Vertex AI (Kubeflow Pipelines v2) retraining pipeline.")
app.add_typer(vertex_app, name="vertex")
app.add_typer(models_app, name="models")
app.add_typer(runs_app, name="runs")

console = LazyConsole()
err_console = LazyConsole(stderr=True)

ModeOpt = Annotated[str, typer.Option("--mode", "-m", help="dev (5,000-row sample) or prod (all rows).")]
ProjectOpt = Annotated[
    Path, typer.Option("--project-dir", "-C", help="Project directory (default: the current directory).")
]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Config override KEY=VALUE, e.g. train.cv_folds=4. Repeatable.")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging and full tracebacks.")]
BeamArgOpt = Annotated[
    list[str] | None, typer.Option(help="Beam pipeline option, e.g. --beam-arg=--runner=DataflowRunner.")
]


def _fail(message: str, verbose: bool) -> NoReturn:
    if verbose:
        err_console.print_exception()
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def project_settings(
    mode: str,
    project_dir: Path,
    sets: list[str] | None,
    data: list[Path] | None = None,
    text_column: str | None = None,
    label_columns: list[str] | None = None,
    id_column: str | None = None,
    encoding: str | None = None,
) -> Any:
    from socialscore.config import load_settings, parse_override
    from socialscore.settings.env import EnvSettings

    EnvSettings.for_project(project_dir).export_nltk_data()  # DATABASE_URL/DB_*: Database.from_settings reads them
    overrides = [parse_override(s) for s in sets or []]
    data_override: dict[str, Any] = {}
    if data:  # absolute, but symlinks left alone: a symlink loop is reported by extract, in one line
        data_override["files"] = [os.path.abspath(p) for p in data]
    if encoding:
        data_override["encoding"] = encoding
    if text_column:
        data_override["text_column"] = text_column
    if label_columns:
        data_override["label_columns"] = list(label_columns)
    if id_column:
        data_override["id_column"] = id_column
    if data_override:
        overrides.insert(0, {"data": data_override})
    return load_settings(mode, project_dir, overrides)


@app.command()
def run(
    mode: ModeOpt = "dev",
    steps: Annotated[
        list[str] | None,
        typer.Option(
            "--steps",
            "-s",
            help="Steps to run, in pipeline order: extract transform load features train evaluate predict.",
        ),
    ] = None,
    data: Annotated[list[Path] | None, typer.Option("--data", "-d", help="Input CSV file(s).")] = None,
    text_column: Annotated[str | None, typer.Option(help="Column holding the comment text.")] = None,
    label_column: Annotated[
        list[str] | None, typer.Option("--label-column", help="Label column (0/1). Repeatable.")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Column holding a row id.")] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Decode the input with this encoding (data.encoding), e.g. cp1252; default: detect."),
    ] = None,
    force: Annotated[
        list[str] | None,
        typer.Option("--force", "-f", help="Rerun the named step (repeatable); 'all' reruns every step."),
    ] = None,
    force_all: Annotated[bool, typer.Option("--force-all", help="Rerun every selected step.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for a run already working on this mode.")] = False,
    override_gate: Annotated[
        str | None,
        typer.Option("--override-gate", metavar="REASON", help="Promote even if the quality gate refuses; recorded."),
    ] = None,
    sets: SetOpt = None,
    engine: Annotated[
        str, typer.Option(help="local, or beam: transform and features as Apache Beam pipelines (socialscore[beam]).")
    ] = "local",
    beam_arg: BeamArgOpt = None,
    project_dir: ProjectOpt = Path("."),
    verbose: VerboseOpt = False,
) -> None:
    """Run the pipeline (all seven steps, or those named with --steps)."""
    from socialscore.layout import Layout
    from socialscore.logs import setup_logging
    from socialscore.pipeline.orchestrator import Orchestrator
    from socialscore.terminal.summary import print_banner, print_summary

    project_dir = project_dir.resolve()
    steps = _split_words(steps)
    if engine not in ("local", "beam"):
        _fail(f"unknown engine {engine!r}: use local or beam", verbose)
    if override_gate is not None:
        sets = [*(sets or []), f"gate.override={json.dumps(override_gate)}"]
    try:
        settings = project_settings(mode, project_dir, sets, data, text_column, label_column, id_column, encoding)
        layout = Layout.for_settings(settings, project_dir)
        layout.ensure()
        setup_logging(layout.log_file, console.get(), verbose)
        print_banner(console.get(), settings, steps)
        if engine == "beam":
            _require_beam()
        orchestrator = Orchestrator(settings, layout, console.get(), engine=engine, beam_args=tuple(beam_arg or ()))
        forced: bool | list[str] = True if force_all or "all" in (force or []) else _split_words(force)
        summary = orchestrator.run(steps, force=forced, wait=wait)
    except SocialScoreError as exc:
        _fail(str(exc), verbose)
        return
    print_summary(console.get(), summary)
    if not summary.ok:
        failed = next(o for o in summary.steps if o.outcome == "failed")
        _fail(f"step '{failed.name}' failed: {summary.error}", False)


@app.command()
def status(
    mode: ModeOpt = "dev",
    sets: SetOpt = None,
    project_dir: ProjectOpt = Path("."),
    verbose: VerboseOpt = False,
) -> None:
    """Show each step: up to date, stale (and why) or never run."""
    from socialscore.layout import Layout
    from socialscore.pipeline.orchestrator import Orchestrator, StepStatus
    from socialscore.registry.run_hooks import served_status

    project_dir = project_dir.resolve()
    try:
        settings = project_settings(mode, project_dir, sets)
        layout = Layout.for_settings(settings, project_dir)
        orchestrator = Orchestrator(settings, layout, console.get())
        served = served_status(settings, layout, lambda: orchestrator.db)
        rows = [*orchestrator.status(), StepStatus("served model", *served)]
    except SocialScoreError as exc:
        _fail(str(exc), verbose)
        return
    rows_table = table(title=f"socialscore status — mode {settings.mode}")
    rows_table.add_column("step")
    rows_table.add_column("state")
    rows_table.add_column("why")
    colours = {"up to date": "green", "stale": "yellow", "never run": "dim", "blocked": "red"}
    for row in rows:
        rows_table.add_row(row.name, f"[{colours[row.state]}]{row.state}[/]", "; ".join(row.reasons))
    console.print(rows_table)


@app.command()
def predict(
    # str, not Path: with --engine beam these may be gs:// URIs, which Path would mangle
    input: Annotated[str, typer.Option("--input", "-i", help="CSV of comments to score.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write the scored CSV.")],
    text_column: Annotated[str | None, typer.Option(help="Column holding the text (default: detect).")] = None,
    model: Annotated[
        str | None, typer.Option(help="A model version or alias from the registry (default: the served production model).")
    ] = None,
    models_dir: Annotated[
        str, typer.Option(help="Directory holding the served model (bundle.json); relative to --project-dir.")
    ] = "models",
    chunk_size: Annotated[int, typer.Option(help="Rows scored per chunk.")] = 20_000,
    engine: Annotated[
        str, typer.Option(help="local, or beam (Apache Beam; FnApiRunner here, see socialscore.beam.predict).")
    ] = "local",
    beam_arg: BeamArgOpt = None,
    project_dir: ProjectOpt = Path("."),
    verbose: VerboseOpt = False,
) -> None:
    """Score any CSV with the served model (or --model VERSION|ALIAS), in chunks.

    The served model is the project's (--project-dir): its models/ and, when it has one, its registry,
    whose sha256s the files must match. --input and --output are read as typed (from the current directory).
    """
    from socialscore.steps.predict import predict_file, served_loader
    from socialscore.storage.output_guard import check_output

    def from_registry() -> Any:
        from socialscore.terminal.registry import project_registry

        return project_registry(project_dir).load(model)

    if engine not in ("local", "beam"):
        _fail(f"unknown engine {engine!r}: use local or beam", verbose)
    if "://" not in models_dir:  # a gs:// directory (--engine beam) is not under the project
        models_dir = str(project_dir / models_dir)  # an absolute models_dir stays as it is
    try:
        if engine == "beam":
            if model is not None:
                raise ConfigError("--engine beam scores the served model in --models-dir; --model is for the local engine")
            if "://" not in output:
                check_output(Path(output), [Path(input)] if "://" not in input else [])
            _predict_beam(input, output, models_dir, text_column, chunk_size, beam_arg or [])
            return
        check_output(Path(output), [Path(input)])
        load = served_loader(Path(models_dir)) if model is None else from_registry
        report = predict_file(Path(input), Path(output), load, text_column=text_column, chunk_size=chunk_size)
    except SocialScoreError as exc:
        _fail(str(exc), verbose)
    console.print(f"scored {report.rows:,} rows → {output}  ({report.seconds:.2f}s)")


def _require_beam() -> None:
    try:
        import apache_beam  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"--engine beam needs Apache Beam: uv sync --extra beam ({exc})") from None


def _predict_beam(
    input: str, output: str, models_dir: str, text_column: str | None, chunk_size: int, beam_args: list[str]
) -> None:
    try:
        from socialscore.beam.predict import predict_file_beam
    except ImportError as exc:
        raise ConfigError(f"--engine beam needs Apache Beam: uv sync --extra beam ({exc})") from None
    predict_file_beam(input, output, models_dir, text_column, chunk_size, beam_args)
    runner = next((a.split("=", 1)[-1] for a in beam_args if a.startswith("--runner")), "FnApiRunner")
    console.print(f"scored {input} → {output} with Apache Beam ({runner})")


@app.command()
def generate(
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("data/raw/example_comments.csv"),
    rows: Annotated[int, typer.Option(help="How many comments.")] = 6000,
    seed: Annotated[int, typer.Option()] = 42,
) -> None:
    """Write the synthetic example dataset (6 Jigsaw labels) to a CSV."""
    from socialscore.storage.atomic import atomic_path
    from socialscore.storage.output_guard import check_output
    from socialscore.storage.synthetic import generate_example

    check_output(output)  # a refusal is a SocialScoreError: main() prints it in one line
    frame = generate_example(rows, seed)
    # An input file, not a report: written verbatim (no spreadsheet escaping, which would alter text).
    with atomic_path(output, ".csv") as tmp:
        frame.to_csv(tmp, index=False)
    console.print(f"wrote {len(frame):,} synthetic comments to {output}")


@app.command()
def sample(
    source: Annotated[Path, typer.Argument(help="A labelled CSV (any format extract reads).")],
    output: Annotated[Path, typer.Argument(help="Where to write id, comment_text and the labels.")],
    rows: Annotated[int, typer.Option(help="How many comments.")] = 10_000,
    seed: Annotated[int, typer.Option()] = 42,
    verbose: VerboseOpt = False,
) -> None:
    """Build a stratified, PII-scrubbed training sample from a labelled CSV (exit 3: it has no labels)."""
    from socialscore.storage.csvformat import UnlabelledError
    from socialscore.storage.output_guard import check_output
    from socialscore.storage.sampling import build_training_sample

    try:
        check_output(output, [source])
        written = build_training_sample(source, output, rows, seed)
    except UnlabelledError as exc:
        err_console.print(f"skip: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    except SocialScoreError as exc:
        _fail(str(exc), verbose)
        return
    console.print(f"wrote {written:,} rows to {output}")


SERVE_EPILOG = (
    "Environment (or .env in the working directory): SOCIALSCORE_MODEL_ALIAS (production) picks the alias served;"
    " SOCIALSCORE_API_KEYS and SOCIALSCORE_ADMIN_KEYS (comma-separated; none: an open API, refused when"
    " SOCIALSCORE_ENV=production) may score, and admin keys also reload. More in docs/api.md."
)


@app.command(epilog=SERVE_EPILOG)
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (env SOCIALSCORE_HOST, default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (env SOCIALSCORE_PORT, default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (env SOCIALSCORE_WORKERS, default 1).")
    ] = None,
    models_dir: Annotated[
        Path | None,
        typer.Option(help="Directory holding the served model, bundle.json (env SOCIALSCORE_MODELS_DIR, default models)."),
    ] = None,
) -> None:
    """Serve social-score-api (FastAPI) with uvicorn; unset options come from the environment."""
    from socialscore.api.server import serve as serve_api

    serve_api(host=host, port=port, workers=workers, models_dir=models_dir)


@vertex_app.command("compile")
def vertex_compile(
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("pipeline.yaml"),
    engine: Annotated[
        str, typer.Option(help="local, or dataflow: transform and features run as Dataflow jobs (socialscore[beam] in the image).")
    ] = "local",
    verbose: VerboseOpt = False,
) -> None:
    """Write the Kubeflow Pipelines v2 YAML for Vertex AI."""
    try:
        from socialscore.deploy.vertex import compile_pipeline

        path = compile_pipeline(output, engine=engine)
    except SocialScoreError as exc:
        _fail(str(exc), verbose)
        return
    console.print(f"compiled pipeline → {path}")


@vertex_app.command("submit")
def vertex_submit(
    project: Annotated[str, typer.Option(help="GCP project id.")],
    region: Annotated[str, typer.Option(help="Vertex AI region.")] = "europe-west1",
    pipeline_root: Annotated[str | None, typer.Option(help="gs:// root for pipeline artifacts.")] = None,
    image: Annotated[str | None, typer.Option(help="Container image the components run in.")] = None,
    package: Annotated[Path, typer.Option(help="Compiled pipeline YAML.")] = Path("pipeline.yaml"),
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Pipeline parameter KEY=VALUE (YAML value). Repeatable.")
    ] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Submit the compiled pipeline to Vertex AI (needs the 'vertex' extra)."""
    try:
        from socialscore.config import parse_override
        from socialscore.deploy.vertex import submit_pipeline

        values: dict[str, Any] = {}
        for item in param or []:
            values.update(parse_override(item))
        job = submit_pipeline(
            project=project,
            region=region,
            pipeline_root=pipeline_root,
            image=image,
            package=package,
            parameter_values=values or None,
        )
    except SocialScoreError as exc:
        _fail(str(exc), verbose)
        return
    console.print(f"submitted: {job}")


@app.command("warm-cache")
def warm_cache(
    directory: Annotated[Path, typer.Argument(help="Where to write the compiled kernels (e.g. /app/numba-cache).")],
) -> None:
    """Compile the numba kernels into DIRECTORY, to ship read-only (set SOCIALSCORE_NUMBA_SHIPPED_CACHE to it)."""
    from socialscore.api.numba_cache import warm

    stats = warm(directory.resolve())
    files = sum(1 for p in directory.rglob("*") if p.is_file())
    console.print(f"compiled {stats['misses']} kernel signature(s) into {directory} ({files} files)")


@app.command()
def version() -> None:
    """Print the package version."""
    from socialscore import __version__

    console.print(__version__)


def _split_words(values: list[str] | None) -> list[str] | None:
    """Accept ``--steps a b`` (extra args), ``--steps a --steps b`` and ``--steps a,b``."""
    if not values:
        return None
    words: list[str] = []
    for value in values:
        words += [w for w in value.replace(",", " ").split() if w]
    return words


MULTI_VALUE_OPTIONS = ("--steps", "-s", "--force", "-f")


def expand_multi_value(argv: list[str]) -> list[str]:
    """Let ``--steps a b c`` mean ``--steps a --steps b --steps c``, as the original spec writes it."""
    out: list[str] = []
    current: str | None = None
    for arg in argv:
        if arg in MULTI_VALUE_OPTIONS:
            current = arg
            out.append(arg)
            continue
        if current and not arg.startswith("-") and out[-1] != current:
            out += [current, arg]
            continue
        if arg.startswith("-"):
            current = None
        out.append(arg)
    return out


def main(argv: list[str] | None = None, prog_name: str = "socialscore") -> None:
    """Console entry point."""
    from socialscore.api.numba_cache import install_shipped_cache

    install_shipped_cache()  # before any kernel runs; a problem only means compiling, as without it
    args = expand_multi_value(list(sys.argv[1:] if argv is None else argv))
    try:
        app(args, prog_name=prog_name)
    except Exception as exc:  # a fault of the machine (read-only, full disk, damaged database): one line
        from socialscore.errors import as_expected

        expected = as_expected(exc)
        if expected is None or "--verbose" in args or "-v" in args:
            raise
        err_console.print(f"[bold red]error:[/] {expected}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
