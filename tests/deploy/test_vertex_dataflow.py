"""The Vertex AI pipeline's Dataflow batch-scoring stage: compiled offline, gated, and its command line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from socialscore.deploy import vertex


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = vertex.compile_pipeline(tmp_path_factory.mktemp("kfp") / "pipeline.yaml", image="registry/img:1")
    return yaml.safe_load(path.read_text())


def _all_tasks(spec: dict) -> dict[str, dict]:
    tasks = dict(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        tasks.update(component.get("dag", {}).get("tasks", {}))
    return tasks


@pytest.mark.slow
def test_dataflow_scoring_runs_after_publish_only_when_asked(compiled: dict) -> None:
    tasks = _all_tasks(compiled)
    params = compiled["root"]["inputDefinitions"]["parameters"]
    assert {"batch_input_uri", "batch_output_uri", "dataflow_options"} <= set(params)
    assert params["dataflow_options"]["defaultValue"] == "--runner=DataflowRunner"
    (gate,) = [t for t in tasks.values() if "batch_input_uri" in t.get("triggerPolicy", {}).get("condition", "")]
    assert "!=" in gate["triggerPolicy"]["condition"] and gate["dependentTasks"] == ["publish"]
    inner = compiled["components"][gate["componentRef"]["name"]]["dag"]["tasks"]
    (task,) = [t for name, t in inner.items() if name.startswith("dataflow-predict")]
    label = compiled["components"][task["componentRef"]["name"]]["executorLabel"]
    container = compiled["deploymentSpec"]["executors"][label]["container"]
    assert container["image"] == "registry/img:1"
    assert "socialscore predict --engine beam" in container["command"][2]


def test_dataflow_command_passes_the_options_to_beam(tmp_path: Path) -> None:
    """The component's shell script, with ``socialscore`` stubbed: what it would launch."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "socialscore").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (stub / "socialscore").chmod(0o755)
    out = subprocess.run(
        ["sh", "-c", vertex._DATAFLOW_PREDICT, "dataflow-predict", "gs://m/models", "gs://d/in.csv", "gs://d/out.csv",
         "--runner=DataflowRunner --project=p --region=europe-west1"],
        capture_output=True, text=True, check=True, env={"PATH": f"{stub}:/usr/bin:/bin"},
    ).stdout.split("\n")
    assert out[:8] == ["predict", "--engine", "beam", "--input", "gs://d/in.csv", "--output", "gs://d/out.csv", "--models-dir"]
    assert out[8] == "gs://m/models"
    assert out[9:15] == ["--beam-arg", "--runner=DataflowRunner", "--beam-arg", "--project=p", "--beam-arg", "--region=europe-west1"]
