"""The Vertex AI retraining pipeline (Kubeflow Pipelines v2): data → features → train → evaluate → gated publish.

Each component is a *container component* running ``socialscore run --steps …`` in the project's
own image, so Vertex runs exactly the code and dependencies the API image ships (no kfp inside the
image, no pip install at run time). The project directory travels between components as an
artifact: each component copies it in, runs its steps and copies it out, so the step cache and the
artifacts (and the embedded SQLite database, unless DATABASE_URL points at a shared server) move
along. The publish component runs only when ``metric_key`` in the evaluation report clears
``min_metric`` (``dsl.If``).

The components run in the image's ``pipeline`` target (``<api image>-pipeline``: the API image's
dependency and code layers, no model, and root as its user). KFP hands a component artifact paths on
mounts its launcher created as root (Vertex's /gcs, kfp.local's DockerRunner bind mount), and KFP has
no per-component securityContext, so the API image's non-root user (10001) could not write them
(``scripts/ci/vertex_image_check.py`` runs the compiled commands in both images to show it).

``python -m socialscore.deploy.vertex metric|publish`` are the helpers the components call.
"""

# no `from __future__ import annotations`: kfp reads the component signatures' real annotation objects
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from socialscore.errors import ConfigError, ModelError, SocialScoreError

PIPELINE_NAME = "socialscore-retrain"
DEFAULT_IMAGE = "social-score-api-pipeline:latest"  # the Dockerfile's `pipeline` target
INSTALL_HINT = (
    "install the Vertex AI extra: uv sync --extra vertex (or pip install 'socialscore[vertex]')"
)

# One shell runner for every stage: copy the project in, run the steps, copy it out.
# $1 input project dir ("" for the first stage), $2 output dir, $3 mode, $4 steps, $5 --set overrides,
# $6 data URI (first stage only; gs://b/f → /gcs/b/f, Vertex's Cloud Storage FUSE mount),
# $7 and $8 kept as $extra1/$extra2 for what a component appends (the runner reuses "$@").
_RUN_STEPS = r"""
set -eu
work="$(mktemp -d)"
if [ -n "$1" ]; then cp -R "$1"/. "$work"/; fi
out="$2"; mode="$3"; steps="$4"; sets="$5"; data="$6"; extra1="${7:-}"; extra2="${8:-}"
set --
for s in $sets; do set -- "$@" --set "$s"; done
case "$data" in
  "") ;;
  gs://*) set -- "$@" --data "/gcs/${data#gs://}" ;;
  *) set -- "$@" --data "$data" ;;
esac
socialscore run --project-dir "$work" --mode "$mode" --steps $steps "$@"
mkdir -p "$out"
cp -R "$work"/. "$out"/
"""


# Batch scoring on Dataflow: the published bundle (gs://) scores $2 into $3 through Apache Beam's
# DataflowRunner; $4 holds Beam pipeline options (--runner=DataflowRunner --project=… --region=…
# --temp_location=gs://…). The launcher waits for the job, like GCPC's DataflowPythonJobOp +
# WaitGcpResourcesOp; the image needs the beam extra (socialscore[beam]).
_DATAFLOW_PREDICT = r"""
set -eu
models="$1"; input="$2"; output="$3"; options="$4"
set --
for o in $options; do set -- "$@" --beam-arg "$o"; done
socialscore predict --engine beam --input "$input" --output "$output" --models-dir "$models" "$@"
"""


def _kfp() -> Any:
    try:
        import kfp
        from kfp import dsl
    except ImportError:
        raise SocialScoreError(f"kfp is not installed: {INSTALL_HINT}") from None
    return kfp, dsl


ENGINES = ("local", "dataflow")


def build_pipeline(image: str = DEFAULT_IMAGE, engine: str = "local") -> Any:
    """The pipeline function, its components running in ``image``; with ``engine="dataflow"`` the
    transform and features steps run as Dataflow jobs (socialscore.beam.dataflow)."""
    _, dsl = _kfp()
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}: use local or dataflow")
    from socialscore.beam.dataflow import dataflow_components

    dataflow_transform, dataflow_features = dataflow_components(dsl, image, _RUN_STEPS)

    @dsl.container_component
    def prepare_data(mode: str, data_uri: str, sets: str, project: dsl.Output[dsl.Artifact]):
        """extract, transform, load: the cleaned comments in the project's database."""
        return dsl.ContainerSpec(
            image=image,
            command=["sh", "-c", _RUN_STEPS, "prepare-data"],
            args=["", project.path, mode, "extract transform load", sets, data_uri],
        )

    @dsl.container_component
    def run_steps(
        steps: str,
        mode: str,
        sets: str,
        project_in: dsl.Input[dsl.Artifact],
        project: dsl.Output[dsl.Artifact],
    ):
        """Run ``steps`` on the project directory from the previous component."""
        return dsl.ContainerSpec(
            image=image,
            command=["sh", "-c", _RUN_STEPS, "run-steps"],
            args=[project_in.path, project.path, mode, steps, sets, ""],
        )

    @dsl.container_component
    def evaluate(
        mode: str,
        sets: str,
        metric_key: str,
        project_in: dsl.Input[dsl.Artifact],
        project: dsl.Output[dsl.Artifact],
        metric: dsl.OutputPath(float),
    ):
        """Score the held-out split; output ``metric_key`` from the metrics report as a number."""
        return dsl.ContainerSpec(
            image=image,
            command=[
                "sh",
                "-c",
                _RUN_STEPS + 'mkdir -p "$(dirname "$extra1")"\n'
                'python -m socialscore.deploy.vertex metric "$out" "$mode" "$extra2" > "$extra1"\n',
                "evaluate",
            ],
            args=[project_in.path, project.path, mode, "evaluate", sets, "", metric, metric_key],
        )

    @dsl.container_component
    def publish(
        destination: str, project_in: dsl.Input[dsl.Artifact], published: dsl.OutputPath(str)
    ):
        """Copy the verified serving bundle to ``destination`` (gs:// or a path)."""
        return dsl.ContainerSpec(
            image=image,
            command=[
                "sh",
                "-c",
                (
                    'mkdir -p "$(dirname "$3")"\npython -m socialscore.deploy.vertex publish "$1" "$2" > "$3"\n'
                ),
                "publish",
            ],
            args=[project_in.path, destination, published],
        )

    @dsl.container_component
    def dataflow_predict(models_uri: str, input_uri: str, output_uri: str, dataflow_options: str):
        """Score ``input_uri`` into ``output_uri`` as a Dataflow job (socialscore.beam.predict)."""
        return dsl.ContainerSpec(
            image=image,
            command=["sh", "-c", _DATAFLOW_PREDICT, "dataflow-predict"],
            args=[models_uri, input_uri, output_uri, dataflow_options],
        )

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Retrain the social score model; publish it if it is good enough.",
    )
    def pipeline(
        mode: str = "prod",
        data_uri: str = "",
        sets: str = "",
        metric_key: str = "macro.roc_auc",
        min_metric: float = 0.8,
        model_destination: str = "",
        batch_input_uri: str = "",
        batch_output_uri: str = "",
        dataflow_options: str = "--runner=DataflowRunner",
    ):
        if engine == "dataflow":
            data = dataflow_transform(mode=mode, data_uri=data_uri, sets=sets, dataflow_options=dataflow_options)
        else:
            data = prepare_data(mode=mode, data_uri=data_uri, sets=sets)
        data.set_caching_options(False)  # the file behind data_uri can change under the same name
        if engine == "dataflow":
            features = dataflow_features(
                mode=mode, sets=sets, dataflow_options=dataflow_options, project_in=data.outputs["project"]
            )
        else:
            features = run_steps(
                steps="features", mode=mode, sets=sets, project_in=data.outputs["project"]
            )
        train = run_steps(
            steps="train", mode=mode, sets=sets, project_in=features.outputs["project"]
        )
        train.set_cpu_limit("4").set_memory_limit("16G")
        scored = evaluate(
            mode=mode, sets=sets, metric_key=metric_key, project_in=train.outputs["project"]
        )
        with dsl.If(scored.outputs["metric"] >= min_metric, name="metric-clears-threshold"):
            published = publish(destination=model_destination, project_in=scored.outputs["project"])
            with dsl.If(batch_input_uri != "", name="batch-scoring-requested"):
                dataflow_predict(
                    models_uri=model_destination,
                    input_uri=batch_input_uri,
                    output_uri=batch_output_uri,
                    dataflow_options=dataflow_options,
                ).after(published)

    return pipeline


def compile_pipeline(output: Path, image: str | None = None, engine: str = "local") -> Path:
    """Write the pipeline YAML to ``output``; the image is ``image``, $SOCIALSCORE_IMAGE or a local default.
    ``engine="dataflow"``: transform and features as Dataflow jobs, options from ``dataflow_options``."""
    _kfp()  # a missing kfp is a one-line error with the install hint
    from kfp import compiler

    image = image or os.environ.get("SOCIALSCORE_IMAGE") or DEFAULT_IMAGE
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(build_pipeline(image, engine), package_path=str(output))
    return output


def set_image(package: Path, image: str, output: Path) -> Path:
    """Rewrite every executor's container image in a compiled pipeline YAML."""
    import yaml

    spec = yaml.safe_load(Path(package).read_text(encoding="utf-8"))
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    if not executors:
        raise ConfigError(
            f"{package} is not a compiled KFP v2 pipeline (no deploymentSpec.executors)"
        )
    for executor in executors.values():
        executor["container"]["image"] = image
    Path(output).write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return Path(output)


def submit_pipeline(
    project: str,
    region: str,
    pipeline_root: str | None,
    image: str | None,
    package: Path,
    parameter_values: dict[str, Any] | None = None,
) -> str:
    """Submit the compiled pipeline to Vertex AI Pipelines; return the job's resource name."""
    try:
        from google.cloud import aiplatform
    except ImportError:
        raise SocialScoreError(
            f"google-cloud-aiplatform is not installed: {INSTALL_HINT}"
        ) from None
    package = Path(package)
    if not package.exists():
        raise ConfigError(
            f"{package} does not exist: run `socialscore vertex compile --output {package}` first"
        )
    if pipeline_root is None:
        pipeline_root = f"gs://{project}-vertex-pipelines"
    with tempfile.TemporaryDirectory() as tmp:
        template = set_image(package, image, Path(tmp) / "pipeline.yaml") if image else package
        aiplatform.init(project=project, location=region)
        job = aiplatform.PipelineJob(
            display_name=PIPELINE_NAME,
            template_path=str(template),
            pipeline_root=pipeline_root,
            parameter_values=parameter_values or {},
        )
        job.submit(service_account=os.environ.get("VERTEX_SERVICE_ACCOUNT") or None)
    return job.resource_name


# --- helpers the components call (python -m socialscore.deploy.vertex …) -------------------------------------


def read_metric(project_dir: Path, mode: str, key: str) -> float:
    """The number at dotted ``key`` in the project's metrics report; a missing/None value is an error."""
    from socialscore.config import load_settings
    from socialscore.layout import Layout

    path = Layout.for_settings(load_settings(mode, project_dir), project_dir).metrics
    if not path.exists():
        raise ModelError(f"{path} does not exist: run the 'evaluate' step first")
    value: Any = json.loads(path.read_text(encoding="utf-8"))
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ConfigError(f"metric '{key}' is not in {path.name} (no '{part}')")
        value = value[part]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ModelError(f"metric '{key}' in {path.name} is {value!r}, not a number")
    return float(value)


def publish_bundle(project_dir: Path, destination: str) -> str:
    """Verify the project's served (production) model and copy it to ``destination``/<model_version>/ and …/latest/."""
    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.registry.serving import MANIFEST, load_served, read_manifest

    if not destination:
        raise ConfigError("no model_destination given: set the pipeline parameter to a gs:// path")
    models = Layout.for_settings(load_settings("prod", project_dir), project_dir).models_dir
    pipeline = load_served(models)  # refuses files whose sha256s do not match bundle.json
    names = [*read_manifest(models)["files"], MANIFEST]  # manifest last: complete when it exists
    root = (
        Path("/gcs/" + destination[len("gs://") :])
        if destination.startswith("gs://")
        else Path(destination)
    )
    for target in (root / pipeline.version, root / "latest"):
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(models / name, target / name)
    return f"{destination.rstrip('/')}/{pipeline.version}"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if len(args) == 4 and args[0] == "metric":
            print(read_metric(Path(args[1]), args[2], args[3]))
        elif len(args) == 3 and args[0] == "publish":
            print(publish_bundle(Path(args[1]), args[2]))
        else:
            print(
                "usage: python -m socialscore.deploy.vertex metric PROJECT MODE KEY | publish PROJECT DEST",
                file=sys.stderr,
            )
            return 2
    except SocialScoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
