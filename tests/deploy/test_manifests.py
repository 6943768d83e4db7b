"""deploy/k8s: every manifest validates against the Kubernetes schemas (kubernetes-validate --strict,
kubectl kustomize, checkov) and says what production needs: HPA-owned replicas, a NetworkPolicy, API
keys from a Secret file."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from k8s_helpers import K8S_DIR, by_kind, overlay_module, rendered

K8S_VERSION = "1.30"  # GKE regular channel at the time of writing
MANIFESTS = sorted(p for p in K8S_DIR.glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_validates_strictly(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("version", ["1.30", "1.33", "1.37"])
def test_rendered_overlay_validates_and_lists_every_manifest(version: str) -> None:
    """The overlay the build deploys, strictly, on the GKE channel's oldest and newest schemas."""
    listed = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in MANIFESTS)
    for doc in rendered("europe-west1-docker.pkg.dev/p/r/social-score-api@sha256:" + "c" * 64):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_a_broken_deployment() -> None:
    deployment = copy.deepcopy(by_kind(rendered(), "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["prot"] = (
        8000
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_deployment_is_production_ready() -> None:
    objects = rendered()
    deployment = by_kind(objects, "Deployment")
    assert deployment["metadata"]["name"] == "social-score-api"
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        "production"
    }
    assert by_kind(objects, "Namespace")["metadata"]["name"] == "production"
    spec = deployment["spec"]
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert spec["selector"]["matchLabels"] == {"app": "social-score-api"}
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["labels"]["app"] == "social-score-api"
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert "startupProbe" in container
    assert set(container["resources"]) == {"requests", "limits"}
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][part])
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    preStop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] > preStop
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "/tmp" in mounts and "emptyDir" in volumes["tmp"]


def test_service_hpa_and_pdb_target_the_deployment() -> None:
    objects = rendered()
    service = by_kind(objects, "Service")
    assert service["spec"]["selector"] == {"app": "social-score-api"}
    container = by_kind(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}
    hpa = by_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "social-score-api"
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = by_kind(objects, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == {"app": "social-score-api"}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (
            "europe-docker.pkg.dev/p/r/social-score-api@sha256:" + "a" * 64,
            "europe-docker.pkg.dev/p/r/social-score-api@sha256:" + "a" * 64,
        ),
        (  # a tag beside the digest is a label only
            "europe-docker.pkg.dev/p/r/social-score-api:1a2b3c@sha256:" + "b" * 64,
            "europe-docker.pkg.dev/p/r/social-score-api@sha256:" + "b" * 64,
        ),
    ],
)
def test_the_build_injects_its_image_by_digest(ref: str, expected: str) -> None:
    container = by_kind(rendered(ref), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == expected


@pytest.mark.parametrize("ref", ["europe-docker.pkg.dev/p/r/social-score-api:1a2b3c",
                                 "localhost:5000/social-score-api", "social-score-api:latest"])
def test_an_overlay_refuses_an_image_without_a_digest(ref: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="deploy by digest only"):
        overlay_module().write_overlay(ref, tmp_path / "overlay")


def test_the_base_alone_names_no_pullable_or_latest_image() -> None:
    """`kubectl apply -k deploy/k8s` must not deploy `:latest` (checkov CKV_K8S_14/43)."""
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert "latest" not in json.dumps(kustomization.get("images", []))
    container = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "social-score-api"


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl (with built-in kustomize) is not installed"
)
def test_kubectl_kustomize_renders_the_same_objects_as_the_python_renderer(tmp_path: Path) -> None:
    ref = "europe-docker.pkg.dev/p/r/social-score-api@sha256:" + "d" * 64
    overlay = overlay_module().write_overlay(ref, tmp_path / "overlay").parent
    out = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True
    )
    ours = {(o["kind"], o["metadata"]["name"]): o for o in rendered(ref)}
    theirs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(out.stdout) if o}
    assert ours == theirs


def test_the_hpa_owns_the_replica_count() -> None:
    """With spec.replicas set, every `kubectl apply -k` resets a scaled-out Deployment to it."""
    objects = rendered()
    hpa = by_kind(objects, "HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    deployment = by_kind(objects, target["kind"])
    assert deployment["metadata"]["name"] == target["name"]
    assert "replicas" not in deployment["spec"]
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]


def test_a_network_policy_admits_only_http_in_and_dns_out() -> None:
    objects = rendered()
    policy = by_kind(objects, "NetworkPolicy")
    pod = by_kind(objects, "Deployment")["spec"]["template"]
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    container_ports = {p["name"] for p in pod["spec"]["containers"][0]["ports"]}
    (ingress,) = policy["spec"]["ingress"]
    assert {p["port"] for p in ingress["ports"]} <= container_ports
    (egress,) = policy["spec"]["egress"]
    assert {p["port"] for p in egress["ports"]} == {53}


def test_the_network_policy_admits_only_the_ingress_and_monitoring_namespaces_by_label() -> None:
    policy = by_kind(rendered(), "NetworkPolicy")
    (ingress,) = policy["spec"]["ingress"]
    namespaces = [peer["namespaceSelector"] for peer in ingress["from"] if "namespaceSelector" in peer]
    # no empty selector (= every namespace), no pod-less wildcard: each names a labelled namespace
    assert namespaces and all(s.get("matchLabels") for s in namespaces)
    assert sorted(v for s in namespaces for v in s["matchLabels"].values()) == ["ingress", "monitoring"]
    blocks = {peer["ipBlock"]["cidr"] for peer in ingress["from"] if "ipBlock" in peer}
    assert blocks == {"35.191.0.0/16", "130.211.0.0/22"}  # Google's load balancers and health checks
    (egress,) = policy["spec"]["egress"]
    (dns,) = egress["to"]
    assert dns["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}


def test_pods_spread_over_zones_and_request_ephemeral_storage() -> None:
    pod = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]
    keys = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
    assert keys[0] == "topology.kubernetes.io/zone" and "kubernetes.io/hostname" in keys
    resources = pod["containers"][0]["resources"]
    assert "ephemeral-storage" in resources["requests"] and "ephemeral-storage" in resources["limits"]


def test_api_keys_come_from_the_secret_never_a_plain_value() -> None:
    pod = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for entry in container["env"]:
        name = entry["name"]
        if any(word in name for word in ("KEY", "SECRET", "PASSWORD", "TOKEN")):
            assert name.endswith("_FILE") or "secretKeyRef" in entry.get("valueFrom", {}), name
    env = {e["name"]: e.get("value") for e in container["env"]}
    secrets = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
    (mount,) = [m for m in container["volumeMounts"] if m["name"] in secrets]
    assert mount["readOnly"] is True
    (item,) = secrets[mount["name"]]["items"]
    assert secrets[mount["name"]]["secretName"] == "social-score-api-keys" and item["key"] == "api-keys"
    assert env["SOCIALSCORE_API_KEYS_FILE"] == f"{mount['mountPath']}/{item['path']}"
    assert "SOCIALSCORE_API_KEYS_FILE" in " ".join(container["command"])


CHECKOV = ["uv", "tool", "run", "--from", "checkov==3.3.30", "checkov"]


def _checkov(manifests: dict[str, list[dict]], tmp_path: Path) -> dict[str, dict[str, list[dict]]]:
    """checkov's kubernetes checks on rendered objects, each list in its own file, all in one checkov run
    (isolated tool env: its pins would downgrade ours; its start-up is most of its cost): file name ->
    ``{"passed": [...], "failed": [...]}`` checks."""
    files = []
    for name, objects in manifests.items():
        (tmp_path / name).write_text(yaml.safe_dump_all(objects))
        files += ["--file", str(tmp_path / name)]
    result = subprocess.run(
        [*CHECKOV, *files, "--framework", "kubernetes", "--skip-download", "--output", "json"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    results = (report[0] if isinstance(report, list) else report)["results"]
    by_file: dict[str, dict[str, list[dict]]] = {name: {"passed": [], "failed": []} for name in manifests}
    for outcome in ("passed", "failed"):
        for check in results.get(f"{outcome}_checks", []):
            by_file[Path(check["file_path"]).name][outcome].append(check)
    return by_file


@pytest.mark.slow
def test_checkov_passes_the_overlay_the_build_deploys(tmp_path: Path) -> None:
    """The overlay deploy_gke.sh applies (k8s_overlay.py write, by digest), rendered by kubectl kustomize
    when present: 0 failed checks, CKV_K8S_14 (no latest) and CKV_K8S_43 (digest) among the passed."""
    ref = "europe-docker.pkg.dev/p/r/social-score-api@sha256:" + "a" * 64
    objects = rendered(ref)
    if shutil.which("kubectl"):
        overlay = overlay_module().write_overlay(ref, tmp_path / "overlay").parent
        out = subprocess.run(["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True)
        objects = [o for o in yaml.safe_load_all(out.stdout) if o]
    # the check is live: the API keys in a plain env var again are flagged (checked in the same run)
    keys_in_env = copy.deepcopy(objects)
    container = by_kind(keys_in_env, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    container["env"].append(
        {"name": "SOCIALSCORE_API_KEYS",
         "valueFrom": {"secretKeyRef": {"name": "social-score-api-keys", "key": "api-keys"}}}
    )
    report = _checkov({"rendered.yaml": objects, "keys_in_env.yaml": keys_in_env}, tmp_path)
    failed = [(c["check_id"], c["resource"]) for c in report["rendered.yaml"]["failed"]]
    assert failed == [], failed
    assert len(report["rendered.yaml"]["passed"]) > 50
    passed = {c["check_id"] for c in report["rendered.yaml"]["passed"]}
    assert {"CKV_K8S_14", "CKV_K8S_43"} <= passed

    flagged = report["keys_in_env.yaml"]["failed"]
    assert {c["check_id"] for c in flagged} == {"CKV_K8S_35"}
