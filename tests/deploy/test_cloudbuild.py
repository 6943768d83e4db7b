"""cloudbuild.yaml: the original spec's DAG with a quality gate, caches in the build-cache bucket, tests
with PostgreSQL and no skips, a tag that exists without SHORT_SHA, nothing masking a failure."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
STEPS = {step["id"]: step for step in CONFIG["steps"]}
SCRIPTS = sorted((ROOT / "scripts" / "ci").glob("*.sh"))
MASKS = [r"\|\|\s*true\b", r"\|\|\s*echo\b", r"\|\|\s*:", r"\bset\s+\+e\b", r"\|\|\s*exit\s+0\b"]


def ancestors(step_id: str) -> set[str]:
    """Every step that must finish before ``step_id`` starts (Cloud Build: no waitFor = all earlier)."""
    ids = [s["id"] for s in CONFIG["steps"]]
    wait = STEPS[step_id].get("waitFor")
    direct = ids[: ids.index(step_id)] if wait is None else [w for w in wait if w != "-"]
    found = set(direct)
    for parent in direct:
        found |= ancestors(parent)
    return found


def script_of(step_id: str) -> Path:
    (arg,) = [a for a in STEPS[step_id]["args"] if a.startswith("scripts/ci/")]
    return ROOT / arg


def test_required_step_ids() -> None:
    required = {
        "tests",
        "train-model",
        "docker-build",
        "docker-push",
        "deploy-gke",
        "vertex-pipeline",
        "restore-cache",
        "save-cache",
        "quality-gate",
    }
    assert required <= set(STEPS)


def test_a_quality_gate_stands_between_training_and_the_image() -> None:
    (gate,) = [step_id for step_id in STEPS if "gate" in step_id]
    assert "train-model" in ancestors(gate)
    assert gate in ancestors("docker-build")
    for later in ("docker-push", "deploy-gke", "vertex-pipeline"):
        assert gate in ancestors(later), later
    script = script_of(gate).read_text()
    assert re.search(r"^uv_run socialscore models gate --mode \"\$TRAIN_MODE\"$", script, re.M)
    assert 'source "$(dirname "$0")/common.sh"' in script  # set -euo pipefail: its exit fails the step
    assert CONFIG["substitutions"]["_TRAIN_MODE"] == "prod"  # `models gate --mode prod` by default


def test_the_tests_step_has_postgres_and_no_skips() -> None:
    step = STEPS["tests"]
    assert "SOCIALSCORE_NO_SKIP=1" in step.get("env", [])
    script = script_of("tests").read_text()
    assert "scripts/ci/postgres.sh" in script and "SOCIALSCORE_TEST_DATABASE_URL" in script
    postgres = (ROOT / "scripts/ci/postgres.sh").read_text()
    assert "pg_isready" in postgres and "CREATE DATABASE test" in postgres


def test_the_image_tag_exists_without_short_sha() -> None:
    """A manual `gcloud builds submit` has no SHORT_SHA: the tag must come from elsewhere."""
    text = (ROOT / "cloudbuild.yaml").read_text()
    code = "\n".join(line.split(" #")[0] for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "SHORT_SHA" not in code
    import importlib.util

    spec = importlib.util.spec_from_file_location("cb_local", ROOT / "scripts/ci/cloudbuild_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values = module.substitutions(CONFIG, {})
    values = {k: v for k, v in values.items() if k != "SHORT_SHA"}  # as in a manual submit
    values["BUILD_ID"] = "0b1c3ee3-5916-4ce1-6bc1-3f6b96f812f9"
    env = dict(e.split("=", 1) for e in CONFIG["options"]["env"])
    tag = module.expand(env["TAG"], values)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag), tag  # a valid Docker tag
    for image in CONFIG["images"]:
        assert re.search(r":[A-Za-z0-9_][A-Za-z0-9_.-]*$", module.expand(image, {**values, "_TAG": tag}))


def test_base_images_are_pinned() -> None:
    """The Dockerfile's base by digest, uv by the sha256 of its wheels: no FROM that can drift."""
    text = (ROOT / "Dockerfile").read_text()
    (default,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert re.search(r"@sha256:[0-9a-f]{64}$", default), default
    stages = re.findall(r"^FROM (\S+) AS (\S+)$", text, re.M)
    names = {name for _, name in stages}
    assert all(base == "${PYTHON_IMAGE}" or base in names for base, _ in stages), stages
    assert "--require-hashes" in text
    requirements = (ROOT / "deploy/docker/uv-requirements.txt").read_text()
    assert re.search(r"^uv==\d+\.\d+\.\d+ ", requirements, re.M)
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", requirements)) >= 1


def test_train_model_refuses_to_run_without_training_data(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRAIN_DATA"}
    env["CI_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        ["bash", str(script_of("train-model"))], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "no training data configured" in result.stderr and "TRAIN_DATA" in result.stderr
    assert not (tmp_path / "cache").exists()  # refused before any cache or training work


def test_train_model_refuses_a_dev_run_up_front(tmp_path: Path) -> None:
    """A dev model is never promoted, so it makes no bundle: the §8 recipe with TRAIN_MODE=dev trained
    for minutes and then failed with "bundle.json missing". It is refused, saying what to do."""
    data = tmp_path / "train.csv"
    data.write_text("id,comment_text,toxic\n1,hello,0\n")
    env = {**os.environ, "TRAIN_DATA": str(data), "TRAIN_MODE": "dev", "CI_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(
        ["bash", str(script_of("train-model"))], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "only a prod run exports a serving bundle" in result.stderr and "TRAIN_MODE=prod" in result.stderr
    assert not (tmp_path / "cache").exists()  # refused before any cache or training work


def test_the_dag_is_the_original_specs() -> None:
    assert "tests" in ancestors("train-model")
    assert "train-model" in ancestors("docker-build")
    assert "docker-build" in ancestors("docker-push")
    assert "docker-push" in ancestors("deploy-gke")
    assert "docker-push" in ancestors("vertex-pipeline")
    # the Vertex pipeline runs in parallel with the deploy
    assert "deploy-gke" not in ancestors("vertex-pipeline")
    assert "vertex-pipeline" not in ancestors("deploy-gke")
    # caches: restored before the tests (uv) and training (model); saved after training
    assert "restore-cache" in ancestors("tests")
    assert "train-model" in ancestors("save-cache")
    for step in STEPS.values():  # every step names what it waits for: no accidental serialisation
        assert "waitFor" in step, step["id"]


def test_every_step_runs_a_script_that_exists() -> None:
    """Every step but `sbom` (the syft image: no shell, syft's own arguments) runs one of our scripts."""
    for step_id in STEPS:
        if step_id == "sbom":
            assert "entrypoint" not in STEPS[step_id] and STEPS[step_id]["args"][0] == "scan"
            continue
        assert script_of(step_id).is_file(), step_id


def test_no_failure_is_masked() -> None:
    for step_id, step in STEPS.items():
        text = " ".join(step.get("args", []))
        assert "|| true" not in text
        assert not any(re.search(m, text) for m in MASKS), step_id
        assert not step.get("allowFailure"), f"{step_id} must fail the build"
        assert not step.get("allowExitCodes"), f"{step_id} must fail the build"
    for path in [
        script_of("tests"),
        script_of("train-model"),
        ROOT / "scripts/ci/common.sh",
        ROOT / "scripts/ci/nltk_data.sh",
    ]:
        body = "\n".join(l for l in path.read_text().splitlines() if not l.lstrip().startswith("#"))
        for mask in MASKS:
            assert not re.search(mask, body), f"{path.name} masks a failure: {mask}"
        assert "set -euo pipefail" in (ROOT / "scripts/ci/common.sh").read_text()
        assert 'source "$(dirname "$0")/common.sh"' in path.read_text() or path.name == "common.sh"


def test_a_failed_deploy_fails_the_build() -> None:
    """No allowFailure: the rollout is awaited within a timeout, undone when it fails, and the step fails
    (the behaviour itself: tests/deploy/test_deploy_rollout.py)."""
    assert "allowFailure" not in STEPS["deploy-gke"]
    script = script_of("deploy-gke").read_text()
    assert "rollout status" in script and "--timeout" in script and "rollout undo" in script
    assert "/proxy/health" in script or "proxy/$path" in script
    timeout = dict(e.split("=", 1) for e in STEPS["deploy-gke"]["env"])["ROLLOUT_TIMEOUT"]
    assert re.fullmatch(r"\d+s", timeout) and int(timeout[:-1]) <= 600


def test_caches_live_in_the_build_cache_bucket_and_save_steps_have_gsutil() -> None:
    env = dict(e.split("=", 1) for e in CONFIG["options"]["env"])
    assert env["CACHE_URL"].startswith("gs://${PROJECT_ID}-build-cache/")
    gsutil_image = CONFIG["substitutions"]["_GSUTIL_IMAGE"]
    assert "cloud-sdk" in gsutil_image
    for step_id in ("restore-cache", "save-deps-cache", "save-cache"):
        assert STEPS[step_id]["name"] == "${_GSUTIL_IMAGE}"


def test_the_uv_cache_is_saved_before_anything_that_can_fail_later() -> None:
    """Cloud Build runs no step after a failure: uv's cache is saved right after the install, before the
    tests and training, so a red build still leaves a warm cache."""
    savers = [s for s in STEPS.values() if "save_cache.sh" in " ".join(s.get("args", []))]
    uv_saver = next(s for s in savers if "uv" in dict(e.split("=", 1) for e in s.get("env", [])).get("CI_CACHES", "").split())
    assert uv_saver["id"] in ancestors("tests") and uv_saver["id"] in ancestors("train-model")
    assert not {"tests", "train-model", "audit"} & ancestors(uv_saver["id"])
    assert "sync-deps" in ancestors(uv_saver["id"])
    assert "uv sync --frozen" in (ROOT / "scripts/ci/sync_deps.sh").read_text()


def test_substitutions_cover_project_region_cluster_zone_and_cache_version() -> None:
    assert {"_PROJECT", "_REGION", "_CLUSTER", "_ZONE", "_CACHE_VERSION"} <= set(
        CONFIG["substitutions"]
    )
    used = (ROOT / "cloudbuild.yaml").read_text()
    for name in CONFIG["substitutions"]:
        assert used.count("${" + name + "}") >= 1, f"{name} is never used"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse(path: Path) -> None:
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_the_local_runner_substitutes_like_cloud_build() -> None:
    """scripts/ci/run.sh expands substitutions and lets the caller's CACHE_URL win."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "cloudbuild_local", ROOT / "scripts/ci/cloudbuild_local.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values = module.substitutions(CONFIG, {"LOCAL_PROJECT_ID": "demo"})
    assert (
        module.expand("gs://${PROJECT_ID}-build-cache/${_CACHE_VERSION}", values)
        == "gs://demo-build-cache/" + CONFIG["substitutions"]["_CACHE_VERSION"]
    )
    assert module.expand("$$HOME", values) == "$HOME"
    env = module.step_env(
        CONFIG, STEPS["deploy-gke"], {"LOCAL_PROJECT_ID": "demo", "CACHE_URL": "file:///x"}
    )
    assert env["CACHE_URL"] == "file:///x" and env["CLUSTER"] == "social-score"
    # Cloud Build's /workspace is the checkout; locally it must not mean this machine's /workspace
    assert env["CI_CACHE_DIR"] == str(ROOT / ".ci-cache")
    assert module.run(["no-such-step"], {}) == 2
    # a step on its image's own entrypoint (syft) runs the tool of that name locally
    assert module.step_command(STEPS["sbom"], values)[:2] == ["syft", "scan"]
    assert module.step_command(STEPS["tests"], values) == ["bash", "scripts/ci/tests.sh"]


def test_github_workflow_mirrors_the_build() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    jobs = workflow["jobs"]
    assert jobs["train-model"]["needs"] == "tests"
    assert jobs["tests"]["env"]["SOCIALSCORE_NO_SKIP"] == "1"
    runs = [str(s.get("run", "")) for s in jobs["train-model"]["steps"]]
    train = next(i for i, r in enumerate(runs) if "scripts/ci/train_model.sh" in r)
    gate = next(i for i, r in enumerate(runs) if "scripts/ci/quality_gate.sh" in r)
    assert train < gate  # the docker job needs train-model, so a refused model stops it
    assert jobs["docker"]["needs"] == "train-model"
    assert jobs["deploy"]["needs"] == "docker" and jobs["vertex"]["needs"] == "docker"
    assert not any(job.get("continue-on-error") for job in jobs.values())
    assert any("scripts/ci/deploy_gke.sh" in str(s.get("run", "")) for s in jobs["deploy"]["steps"])
    scripts = {
        s["run"].split()[1]
        for job in jobs.values()
        for s in job["steps"]
        if str(s.get("run", "")).startswith("bash scripts/ci/")
    }
    assert {"scripts/ci/tests.sh", "scripts/ci/train_model.sh", "scripts/ci/audit.sh"} <= scripts
    assert all((ROOT / s).is_file() for s in scripts)
