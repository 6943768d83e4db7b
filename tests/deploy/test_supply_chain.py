"""The supply chain, checked offline: provenance VERIFIED, every image pinned by digest (and the refresh
script rewrites pins correctly), an SBOM made and stored with the image, a vulnerability scan that fails
at a configurable severity, a Binary Authorization policy that admits only what this build attested,
and the dependency audit in Cloud Build. The gcloud calls run against a fake gcloud on PATH."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "scripts" / "ci"
CONFIG = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
STEPS = {step["id"]: step for step in CONFIG["steps"]}
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"ci_{name}", CI / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ancestors(step_id: str) -> set[str]:
    found: set[str] = set()
    for parent in [w for w in STEPS[step_id]["waitFor"] if w != "-"]:
        found |= {parent} | ancestors(parent)
    return found


def step_image(step: dict) -> str:
    name = step["name"]
    match = re.fullmatch(r"\$\{(_[A-Z0-9_]+)\}", name)
    return CONFIG["substitutions"][match.group(1)] if match else name


def fake_gcloud(tmp_path: Path, body: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gcloud").write_text(f'#!/usr/bin/env bash\necho "gcloud $*" >>"$FAKE_LOG"\n{body}\n')
    (bin_dir / "gcloud").chmod(0o755)
    (tmp_path / "calls.log").write_text("")
    cache = tmp_path / "ci-cache"
    cache.mkdir(exist_ok=True)
    (cache / "image-ref").write_text("europe-west1-docker.pkg.dev/p/r/social-score-api@sha256:" + "a" * 64 + "\n")
    (cache / "pipeline-image-ref").write_text("europe-west1-docker.pkg.dev/p/r/social-score-api-pipeline@sha256:" + "b" * 64 + "\n")
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(tmp_path / "calls.log"),
            "CI_CACHE_DIR": str(cache)}


# --- provenance and pinned images ---------------------------------------------------------------

def test_provenance_is_requested_verified() -> None:
    assert CONFIG["options"]["requestedVerifyOption"] == "VERIFIED"
    assert CONFIG["images"], "provenance is generated for the images Cloud Build lists"


def test_every_step_image_is_pinned_by_digest() -> None:
    for step_id, step in STEPS.items():
        assert DIGEST.search(step_image(step)), f"{step_id}: {step_image(step)}"
    assert _module("pin_images").unpinned() == []


def test_the_python_step_image_is_the_dockerfiles_pinned_base() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert CONFIG["substitutions"]["_PYTHON_IMAGE"].split("@")[1] == base.split("@")[1]


def _copy_pinned_files(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("cloudbuild.yaml", "Dockerfile"):
        shutil.copy2(ROOT / name, root / name)
    return root


def test_the_pin_check_catches_a_tag_only_image(tmp_path: Path) -> None:
    root = _copy_pinned_files(tmp_path)
    text = (root / "cloudbuild.yaml").read_text()
    (root / "cloudbuild.yaml").write_text(re.sub(r"(_KUBECTL_IMAGE: \S+?)@sha256:[0-9a-f]{64}", r"\1", text))
    result = subprocess.run([sys.executable, str(CI / "pin_images.py"), "check", "--root", str(root)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "gcr.io/cloud-builders/kubectl:latest is not pinned" in result.stderr


def test_refresh_rewrites_each_digest_and_nothing_else(tmp_path: Path) -> None:
    root = _copy_pinned_files(tmp_path)
    resolver = tmp_path / "resolve"
    # a stand-in for `crane digest NAME`: a digest derived from the name
    resolver.write_text('#!/usr/bin/env bash\nprintf "sha256:%s\\n" "$(printf %s "$1" | sha256sum | cut -c1-64)"\n')
    resolver.chmod(0o755)
    before = {name: (root / name).read_text() for name in ("cloudbuild.yaml", "Dockerfile")}
    run = lambda *extra: subprocess.run(
        [sys.executable, str(CI / "pin_images.py"), "refresh", "--resolver", str(resolver), "--root", str(root), *extra],
        capture_output=True, text=True)
    dry = run("--dry-run")
    assert dry.returncode == 0 and dry.stdout.count(" -> sha256:") == 6
    assert {name: (root / name).read_text() for name in before} == before  # a dry run writes nothing
    result = run()
    assert result.returncode == 0, result.stderr
    pins = _module("pin_images")
    refs = pins.references(root)
    assert len(refs) == 6 and pins.unpinned(root) == []
    for _file, ref in refs:
        name, digest = pins.split_ref(ref)
        expected = subprocess.run([str(resolver), name], capture_output=True, text=True).stdout.strip()
        assert digest == expected, ref
    for name, text in before.items():  # only the digests changed: tags and every other line kept
        strip = lambda s: re.sub(r"@sha256:[0-9a-f]{64}", "@D", s)
        assert strip((root / name).read_text()) == strip(text)
    assert "every digest is current" in run().stdout


def test_refresh_refuses_a_resolver_that_prints_no_digest(tmp_path: Path) -> None:
    root = _copy_pinned_files(tmp_path)
    result = subprocess.run([sys.executable, str(CI / "pin_images.py"), "refresh", "--resolver", "echo latest",
                             "--root", str(root)], capture_output=True, text=True)
    assert result.returncode != 0 and "not a sha256 digest" in result.stderr


# --- SBOM ---------------------------------------------------------------------------------------

def test_an_sbom_of_the_built_image_is_made_and_stored_with_the_pushed_image() -> None:
    sbom = STEPS["sbom"]
    assert "syft" in step_image(sbom)
    args = " ".join(sbom["args"])
    assert "docker:${_REGION}-docker.pkg.dev/${_PROJECT}/${_REPOSITORY}/social-score-api:${_TAG}" in args
    assert "cyclonedx-json@1.5=/workspace/build/sbom/social-score-api.cdx.json" in args
    assert "docker-build" in ancestors("sbom")
    store = STEPS["sbom-store"]
    assert {"sbom", "docker-push"} <= ancestors("sbom-store")
    assert "sbom_store.sh" in " ".join(store["args"])
    assert 'SBOM_FILE:-build/sbom/social-score-api.cdx.json' in (CI / "sbom_store.sh").read_text()


def test_sbom_store_uploads_the_sbom_for_the_pushed_digest(tmp_path: Path) -> None:
    env = fake_gcloud(tmp_path, "exit 0")
    sbom = tmp_path / "sbom.cdx.json"
    env["SBOM_FILE"] = str(sbom)
    missing = subprocess.run(["bash", str(CI / "sbom_store.sh")], env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "missing or empty" in missing.stderr
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"name": "numpy"}]}))
    result = subprocess.run(["bash", str(CI / "sbom_store.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text()
    assert f"gcloud artifacts sbom load --source {sbom} --uri europe-west1-docker.pkg.dev/p/r/social-score-api@sha256:" in calls


# --- vulnerability scan -------------------------------------------------------------------------

FINDINGS = [
    {"noteName": "projects/goog-vulnz/notes/CVE-2026-0001",
     "vulnerability": {"effectiveSeverity": "HIGH", "fixAvailable": True,
                       "packageIssue": [{"affectedPackage": "openssl", "affectedVersion": {"fullName": "3.0.11-1"}}]}},
    {"noteName": "projects/goog-vulnz/notes/CVE-2026-0002", "vulnerability": {"effectiveSeverity": "LOW"}},
    {"noteName": "projects/goog-vulnz/notes/CVE-2026-0003", "vulnerability": {"severity": "MEDIUM"}},
]


@pytest.mark.parametrize(("threshold", "passes", "blocking"), [
    ("CRITICAL", True, 0), ("HIGH", False, 1), ("medium", False, 2), ("LOW", False, 3), ("NONE", True, 0)])
def test_the_scan_gate_fails_at_or_above_the_threshold(threshold: str, passes: bool, blocking: int) -> None:
    passed, counts, found = _module("scan_gate").gate(threshold, FINDINGS)
    assert passed is passes and len(found) == blocking
    assert counts["HIGH"] == 1 and counts["MEDIUM"] == 1 and counts["LOW"] == 1


def test_the_scan_gate_refuses_an_unknown_threshold() -> None:
    with pytest.raises(SystemExit, match="not one of"):
        _module("scan_gate").gate("SEVERE", FINDINGS)


def test_the_scan_step_fails_the_build_with_the_findings(tmp_path: Path) -> None:
    report = tmp_path / "findings.json"
    report.write_text(json.dumps(FINDINGS))
    env = fake_gcloud(tmp_path, f'''case "$*" in
  *"images scan"*) echo "projects/p/locations/europe/scans/s1" ;;
  *list-vulnerabilities*) cat "{report}" ;;
esac''')
    env["SCAN_LOCATION"] = "europe"
    work = tmp_path / "checkout"  # the script writes build/scan/ in the checkout: run it on a copy
    shutil.copytree(CI, work / "scripts" / "ci")
    failing = subprocess.run(["bash", str(work / "scripts/ci/scan_image.sh")], env={**env, "SCAN_FAIL_SEVERITY": "HIGH"},
                             capture_output=True, text=True)
    assert failing.returncode != 0
    assert "CVE-2026-0001 in openssl 3.0.11-1 (fix available)" in failing.stderr
    calls = (tmp_path / "calls.log").read_text()
    assert "artifacts docker images scan europe-west1-docker.pkg.dev/p/r/social-score-api@sha256:" in calls
    assert "--remote" in calls and "social-score-api-pipeline@sha256:" in calls
    passing = subprocess.run(["bash", str(work / "scripts/ci/scan_image.sh")],
                             env={**env, "SCAN_FAIL_SEVERITY": "CRITICAL"}, capture_output=True, text=True)
    assert passing.returncode == 0, passing.stderr
    assert json.loads((work / "build/scan/image-ref.json").read_text()) == FINDINGS


def test_the_scan_severity_is_a_substitution_and_the_scan_gates_deploy_and_vertex() -> None:
    env = dict(e.split("=", 1) for e in STEPS["scan"]["env"])
    assert env["SCAN_FAIL_SEVERITY"] == "${_SCAN_FAIL_SEVERITY}"
    assert CONFIG["substitutions"]["_SCAN_FAIL_SEVERITY"] in {"CRITICAL", "HIGH", "MEDIUM", "LOW", "MINIMAL"}
    assert "docker-push" in ancestors("scan")
    assert "scan" in ancestors("deploy-gke") and "scan" in ancestors("vertex-pipeline")


# --- Binary Authorization -------------------------------------------------------------------------

def test_binary_authorization_admits_only_what_this_pipeline_attested() -> None:
    policy = yaml.safe_load((ROOT / "deploy/binauthz/policy.yaml").read_text())
    assert policy["defaultAdmissionRule"]["evaluationMode"] == "ALWAYS_DENY"
    assert policy["defaultAdmissionRule"]["enforcementMode"] == "ENFORCED_BLOCK_AND_AUDIT_LOG"
    (rule,) = policy["clusterAdmissionRules"].values()
    assert rule["evaluationMode"] == "REQUIRE_ATTESTATION"
    assert rule["enforcementMode"] == "ENFORCED_BLOCK_AND_AUDIT_LOG"
    (attestor,) = rule["requireAttestationsBy"]
    signed_by = CONFIG["substitutions"]["_ATTESTOR"].replace("${PROJECT_ID}", "PROJECT_ID")
    assert attestor == signed_by
    assert not policy.get("admissionWhitelistPatterns")  # no back door
    # the attestation is made after the scan and the SBOM, and the deploy needs it
    assert {"scan", "sbom-store"} <= ancestors("attest") and "attest" in ancestors("deploy-gke")
    env = dict(e.split("=", 1) for e in STEPS["attest"]["env"])
    assert env == {"ATTESTOR": "${_ATTESTOR}", "ATTESTOR_KEY_VERSION": "${_ATTESTOR_KEY_VERSION}"}


def test_attest_signs_the_pushed_digest(tmp_path: Path) -> None:
    env = fake_gcloud(tmp_path, "exit 0")
    env.update(ATTESTOR="projects/p/attestors/a", ATTESTOR_KEY_VERSION="projects/p/locations/global/keyRings/k/cryptoKeys/c/cryptoKeyVersions/1")
    result = subprocess.run(["bash", str(CI / "attest.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text()
    assert ("gcloud beta container binauthz attestations sign-and-create --artifact-url "
            "europe-west1-docker.pkg.dev/p/r/social-score-api@sha256:" + "a" * 64) in calls
    assert "--attestor projects/p/attestors/a" in calls
    (Path(env["CI_CACHE_DIR"]) / "image-ref").write_text("europe-west1-docker.pkg.dev/p/r/social-score-api:latest\n")
    tagged = subprocess.run(["bash", str(CI / "attest.sh")], env=env, capture_output=True, text=True)
    assert tagged.returncode != 0 and "attestations name a digest" in tagged.stderr


# --- dependency audit ----------------------------------------------------------------------------

def test_the_dependency_audit_runs_in_cloud_build_before_any_image() -> None:
    (audit,) = [s for s in STEPS.values() if "scripts/ci/audit.sh" in s.get("args", [])]
    assert audit["id"] in ancestors("docker-build")
    assert "AUDIT_ALLOW_UNREACHABLE" not in " ".join(audit.get("env", []))  # unreachable = a failure there
