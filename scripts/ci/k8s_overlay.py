"""The Kubernetes manifests with the build's image: write a kustomize overlay, or render without kustomize.

    k8s_overlay.py write IMAGE_REF OUT_DIR   # OUT_DIR/kustomization.yaml: deploy/k8s + images: IMAGE_REF
    k8s_overlay.py render IMAGE_REF          # print the rendered manifests (a Python subset of kustomize)

IMAGE_REF is ``registry/name@sha256:<64 hex>``: overlays deploy by digest only (a tag can move; Binary
Authorization admits digests; a rollback must bring back the same bytes). The renderer covers exactly the
kustomize features deploy/k8s uses (resources, namespace, images) and is what the tests validate;
when ``kubectl`` is present the tests check that ``kubectl kustomize`` renders the same objects.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s"
IMAGE_NAME = "social-score-api"  # the placeholder name the Deployment uses


DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def split_image(ref: str) -> dict[str, str]:
    """``reg/name[:tag]@sha256:x`` → newName + digest; anything without a digest is refused."""
    name, _, digest = ref.partition("@")
    if not DIGEST.match(digest):
        raise SystemExit(f"k8s_overlay: deploy by digest only (registry/name@sha256:<64 hex>), got {ref!r}")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:  # a tag beside the digest is only a label: the digest decides
        name = name.rsplit(":", 1)[0]
    return {"name": IMAGE_NAME, "newName": name, "digest": digest}


def write_overlay(image_ref: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    overlay = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(BASE, out_dir)],
        "images": [split_image(image_ref)],
    }
    path = out_dir / "kustomization.yaml"
    # JSON is YAML, and keeps `write` stdlib-only for the kubectl builder image
    path.write_text(json.dumps(overlay, indent=2) + "\n", encoding="utf-8")
    return path


def _image_for(current: str, images: list[dict[str, str]]) -> str:
    name = current.split("@")[0]
    name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    for rule in images:
        if rule["name"] == name:
            new = rule.get("newName", name)
            if "digest" in rule:
                return f"{new}@{rule['digest']}"
            return f"{new}:{rule['newTag']}" if "newTag" in rule else new
    return current


def render(image_ref: str | None = None, base: Path = BASE) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize`` would produce for the base (+ the image override)."""
    import yaml

    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text(encoding="utf-8"))
    images = list(kustomization.get("images", []))
    if image_ref:
        images = [split_image(image_ref)] + [i for i in images if i["name"] != IMAGE_NAME]
    namespace = kustomization.get("namespace")
    objects = []
    for resource in kustomization["resources"]:
        for doc in yaml.safe_load_all((base / resource).read_text(encoding="utf-8")):
            if not doc:
                continue
            doc = copy.deepcopy(doc)
            if namespace and doc["kind"] != "Namespace":
                doc["metadata"]["namespace"] = namespace
            pod = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                container["image"] = _image_for(container["image"], images)
            objects.append(doc)
    return objects


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "write":
        print(write_overlay(sys.argv[2], Path(sys.argv[3])))
    elif len(sys.argv) == 3 and sys.argv[1] == "render":
        import yaml

        print(yaml.safe_dump_all(render(sys.argv[2]), sort_keys=False), end="")
    else:
        sys.exit(__doc__)
