"""The Vertex AI pipeline with transform and features as Dataflow jobs: compiled offline, DAG order, commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

pytest.importorskip("kfp")

from socialscore.beam.dataflow import beam_runner_script
from socialscore.deploy import vertex
from socialscore.errors import ConfigError


def compile_spec(tmp_path: Path, engine: str) -> dict:
    path = vertex.compile_pipeline(tmp_path / f"{engine}.yaml", image="registry/img:1", engine=engine)
    return yaml.safe_load(path.read_text())


def executor(spec: dict, task: dict) -> dict:
    label = spec["components"][task["componentRef"]["name"]]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]["container"]


@pytest.mark.slow
def test_dataflow_engine_compiles_with_dataflow_tasks_in_order(tmp_path: Path) -> None:
    spec = compile_spec(tmp_path, "dataflow")
    tasks = spec["root"]["dag"]["tasks"]
    assert "prepare-data" not in tasks and "dataflow-transform" in tasks and "dataflow-features" in tasks
    assert tasks["dataflow-features"]["dependentTasks"] == ["dataflow-transform"]
    (train,) = [t for name, t in tasks.items() if "dataflow-features" in t.get("dependentTasks", [])]
    assert train["inputs"]["parameters"]["steps"]["runtimeValue"]["constant"] == "train"
    options = tasks["dataflow-features"]["inputs"]["parameters"]["dataflow_options"]
    assert options["componentInputParameter"] == "dataflow_options"
    for name in ("dataflow-transform", "dataflow-features"):
        container = executor(spec, tasks[name])
        assert container["image"] == "registry/img:1"
        assert "--engine beam" in container["command"][2] and "--beam-arg" in container["command"][2]


def test_local_engine_has_no_dataflow_steps(tmp_path: Path) -> None:
    tasks = compile_spec(tmp_path, "local")["root"]["dag"]["tasks"]
    assert "prepare-data" in tasks and not any(name.startswith("dataflow-") for name in tasks)
    with pytest.raises(ConfigError, match="unknown engine"):
        vertex.compile_pipeline(tmp_path / "x.yaml", engine="spark")


def test_cli_compile_engine_dataflow(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from socialscore.terminal.app import app

    result = CliRunner().invoke(app, ["vertex", "compile", "-o", str(tmp_path / "p.yaml"), "--engine", "dataflow"])
    assert result.exit_code == 0, result.output
    assert "dataflow-features" in yaml.safe_load((tmp_path / "p.yaml").read_text())["root"]["dag"]["tasks"]


def test_dataflow_step_script_runs_the_beam_engine_with_the_options(tmp_path: Path) -> None:
    """The component's shell script with ``socialscore`` stubbed: the command it would launch."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "socialscore").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (stub / "socialscore").chmod(0o755)
    project_in = tmp_path / "in"
    project_in.mkdir()
    out = subprocess.run(
        ["sh", "-c", beam_runner_script(vertex._RUN_STEPS), "dataflow-features", str(project_in), str(tmp_path / "out"),
         "prod", "features", "features.hash_bits=18", "", "--runner=DataflowRunner --temp_location=gs://b/tmp"],
        capture_output=True, text=True, check=True, env={"PATH": f"{stub}:/usr/bin:/bin"},
    ).stdout.split("\n")
    assert out[0] == "run" and out[3:7] == ["--mode", "prod", "--steps", "features"]
    assert out[7:] == ["--set", "features.hash_bits=18", "--beam-arg", "--runner=DataflowRunner",
                       "--beam-arg", "--temp_location=gs://b/tmp", "--engine", "beam", ""]
