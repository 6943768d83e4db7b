"""Run the Vertex AI pipeline's compiled component commands in a container image, in pipeline order,
with every artifact path on a root-owned directory — what KFP's launcher (and kfp.local's
DockerRunner) hands a component: mounts the container's user did not create.

    vertex_image_check.py IMAGE --expect success|failure

Exit 0 when the outcome is the expected one. Small generated data, prod mode, a few seconds a step.
PODMAN (default "podman --storage-driver vfs") is the command; PODMAN_RUN_OPTS (e.g.
"--ulimit nofile=20000:20000") is added to every `podman run`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from socialscore.deploy import vertex

PODMAN = os.environ.get("PODMAN", "podman --storage-driver vfs").split()
# prod: only a prod model that passes the gate becomes production, which the publish component ships;
# the small generated data's model is not held to the behaviour checks here (this is about the image)
SETS = ("train.cv_folds=2 features.char_ngram_range=null transform.sample_size=800 "
        "gate.behaviour=[] gate.min_f1=null")
ORDER = [("prepare-data", ""), ("run-steps", "features"), ("run-steps-2", "train"), ("evaluate", "")]


def executor(spec: dict[str, Any], task: str) -> dict[str, Any]:
    """The container spec (image, command, args) of a task, looking inside dsl.If sub-DAGs too."""
    tasks = dict(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        tasks.update(component.get("dag", {}).get("tasks", {}))
    label = spec["components"][tasks[task]["componentRef"]["name"]]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]["container"]


def fill(arg: str, values: dict[str, str]) -> str:
    """Replace KFP's {{$.inputs/outputs…}} placeholders with concrete values."""
    pattern = r"\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\](?:\.(path|output_file))?\}\}"
    return re.sub(pattern, lambda m: values[f"{m.group(1)}.{m.group(3)}"], arg)


def run_task(spec: dict[str, Any], task: str, values: dict[str, str], root: Path) -> bool:
    container = executor(spec, task)
    command = [fill(a, values) for a in container["command"] + container.get("args", [])]
    # the image's own user, as on Vertex; the artifact root mounted at the same path
    result = subprocess.run(
        [*PODMAN, "run", "--rm", *os.environ.get("PODMAN_RUN_OPTS", "").split(),
         "--volume", f"{root}:{root}", "--entrypoint", command[0],
         container["image"], *command[1:]],
        capture_output=True, text=True,
    )
    status = "ok" if result.returncode == 0 else f"exit {result.returncode}"
    print(f"  {task}: {status}", file=sys.stderr)
    if result.returncode:
        print("    " + (result.stderr.strip().splitlines() or ["(no stderr)"])[-1], file=sys.stderr)
    return result.returncode == 0


def run_pipeline(image: str, root: Path) -> bool:
    """Every component in order; False at the first one that fails."""
    spec = yaml.safe_load(vertex.compile_pipeline(root / "pipeline.yaml", image=image).read_text())
    params = {"inputs.mode": "prod", "inputs.data_uri": "", "inputs.metric_key": "macro.roc_auc",
              "inputs.sets": SETS}
    previous = ""
    for task, steps in ORDER:
        task_dir = root / task
        task_dir.mkdir(mode=0o755)  # created by root, like the launcher's artifact directories
        values = {**params, "inputs.project_in": previous, "inputs.steps": steps,
                  "outputs.project": str(task_dir / "project"),
                  "outputs.metric": str(task_dir / "metric")}
        if not run_task(spec, task, values, root):
            return False
        previous = str(task_dir / "project")
    metric = float((root / "evaluate" / "metric").read_text())
    (root / "publish").mkdir(mode=0o755)
    values = {"inputs.project_in": previous, "inputs.destination": str(root / "published"),
              "outputs.published": str(root / "publish" / "out")}
    if not run_task(spec, "publish", values, root):
        return False
    manifest = json.loads((root / "published" / "latest" / "bundle.json").read_text())
    print(f"  metric {metric:.3f}, published model {manifest.get('model_version')}", file=sys.stderr)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--expect", choices=["success", "failure"], required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vertex-root-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        if os.geteuid() == 0:
            os.chown(root, 0, 0)
        print(f"{args.image}: components on root-owned {root}", file=sys.stderr)
        succeeded = run_pipeline(args.image, root)
    return 0 if succeeded == (args.expect == "success") else 1


if __name__ == "__main__":
    sys.exit(main())
