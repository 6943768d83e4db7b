"""The Vertex AI pipeline: it compiles, its gate and images are right, and its components' own command
lines run the pipeline on small data (kfp.local cannot run container components without Docker)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from socialscore.deploy import vertex
from socialscore.errors import SocialScoreError

ROOT = Path(__file__).resolve().parents[2]
TASKS = ["prepare-data", "run-steps", "run-steps-2", "evaluate", "publish"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = vertex.compile_pipeline(
        tmp_path_factory.mktemp("kfp") / "pipeline.yaml", image="registry/img:1"
    )
    return yaml.safe_load(path.read_text())


def _executor(spec: dict, task: str) -> dict:
    components = spec["components"]
    tasks = dict(spec["root"]["dag"]["tasks"])
    for comp in components.values():  # tasks inside the dsl.If sub-DAG
        tasks.update(comp.get("dag", {}).get("tasks", {}))
    label = components[tasks[task]["componentRef"]["name"]]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]["container"]


def test_pipeline_compiles_with_every_stage_in_the_project_image(compiled: dict) -> None:
    for task in TASKS:
        assert _executor(compiled, task)["image"] == "registry/img:1"
    params = compiled["root"]["inputDefinitions"]["parameters"]
    assert {"mode", "data_uri", "metric_key", "min_metric", "model_destination"} <= set(params)
    assert params["min_metric"]["parameterType"] == "NUMBER_DOUBLE"


def test_publish_is_gated_on_the_metric(compiled: dict) -> None:
    root_tasks = compiled["root"]["dag"]["tasks"]
    assert "publish" not in root_tasks
    (condition,) = [t for t in root_tasks.values() if "triggerPolicy" in t]
    expression = condition["triggerPolicy"]["condition"]
    assert "evaluate-metric" in expression and ">=" in expression and "min_metric" in expression


def test_submitting_rewrites_the_image(compiled: dict, tmp_path: Path) -> None:
    package = tmp_path / "p.yaml"
    package.write_text(yaml.safe_dump(compiled))
    rewritten = yaml.safe_load(
        vertex.set_image(
            package, "europe-docker.pkg.dev/p/r/api@sha256:ab", tmp_path / "o.yaml"
        ).read_text()
    )
    assert {e["container"]["image"] for e in rewritten["deploymentSpec"]["executors"].values()} == {
        "europe-docker.pkg.dev/p/r/api@sha256:ab"
    }


def test_submit_without_the_extra_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.aiplatform", None)
    with pytest.raises(SocialScoreError, match="uv sync --extra vertex"):
        vertex.submit_pipeline("p", "europe-west1", None, None, tmp_path / "pipeline.yaml")


@pytest.mark.slow
def test_cli_compile(tmp_path: Path) -> None:
    out = tmp_path / "cli.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "socialscore.terminal.app", "vertex", "compile", "--output", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(out.read_text())["pipelineInfo"]["name"] == vertex.PIPELINE_NAME


def test_read_metric(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "metrics_dev.json").write_text(
        json.dumps({"macro": {"roc_auc": 0.91, "brier": None}})
    )
    assert vertex.read_metric(tmp_path, "dev", "macro.roc_auc") == 0.91
    with pytest.raises(SocialScoreError, match="not a number"):
        vertex.read_metric(tmp_path, "dev", "macro.brier")
    with pytest.raises(SocialScoreError, match="no 'f1'"):
        vertex.read_metric(tmp_path, "dev", "macro.f1")


def _fill(arg: str, values: dict[str, str]) -> str:
    pattern = r"\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\](?:\.(path|output_file))?\}\}"
    return re.sub(pattern, lambda m: values[f"{m.group(1)}.{m.group(3)}"], arg)


@pytest.mark.slow
def test_component_commands_run_the_pipeline_locally(compiled: dict, tmp_path: Path) -> None:
    """Run each compiled component's command line, in pipeline order, with local paths for its artifacts."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    params = {
        "inputs.mode": "prod",  # a prod model that passes the gate becomes production, which publish ships
        "inputs.data_uri": "",
        "inputs.metric_key": "macro.roc_auc",
        "inputs.sets": "train.cv_folds=2 features.char_ngram_range=null transform.sample_size=800 "
        "gate.behaviour=[] gate.min_f1=null",
    }
    previous = ""
    for task, steps in [
        ("prepare-data", None),
        ("run-steps", "features"),
        ("run-steps-2", "train"),
        ("evaluate", None),
    ]:
        out = tmp_path / task / "project"
        values = {
            **params,
            "inputs.project_in": previous,
            "outputs.project": str(out),
            "outputs.metric": str(tmp_path / task / "metric"),
            "inputs.steps": steps or "",
        }
        container = _executor(compiled, task)
        command = [_fill(a, values) for a in container["command"] + container.get("args", [])]
        result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, f"{task}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        previous = str(out)
    metric = float((tmp_path / "evaluate" / "metric").read_text())
    assert 0.0 <= metric <= 1.0
    assert (Path(previous) / "models" / "bundle.json").exists()
    # the gate: publish runs with a threshold the metric clears
    destination = tmp_path / "published"
    container = _executor(compiled, "publish")
    values = {
        "inputs.project_in": previous,
        "inputs.destination": str(destination),
        "outputs.published": str(tmp_path / "publish" / "out"),
    }
    command = [_fill(a, values) for a in container["command"] + container.get("args", [])]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    version = json.loads((destination / "latest" / "bundle.json").read_text())["model_version"]
    assert (destination / version / "arrays.npz").read_bytes() == (
        Path(previous) / "models" / "arrays.npz"
    ).read_bytes()
    from socialscore.registry.serving import load_served

    assert load_served(destination / "latest").version == version
