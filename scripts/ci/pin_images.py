"""Every image the build runs or builds FROM, pinned by digest: check the pins, or refresh them.

    pin_images.py check                  # exit 1 naming each image reference without @sha256:<digest>
    pin_images.py list                   # the references, one per line (FILE: REF)
    pin_images.py refresh [--resolver CMD] [--dry-run]
                                         # resolve each NAME:TAG to the registry's current digest and
                                         # rewrite NAME:TAG@sha256:<digest> in place

Files: cloudbuild.yaml (step `name:`s and the image substitutions `_*_IMAGE`) and the Dockerfile's
`ARG PYTHON_IMAGE=`. The tag stays beside the digest for the reader; the digest is what is pulled.
The resolver is a command that prints the digest of the reference given as its last argument:
`crane digest` (default), or e.g. "docker buildx imagetools inspect --format {{json .Manifest.Digest}}".
It needs a registry, so refresh runs where one is reachable (a laptop, a scheduled build); check runs
anywhere (tests/deploy/test_supply_chain.py). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = ("cloudbuild.yaml", "Dockerfile")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# where an image reference sits: a step's `name:`, an image substitution, the Dockerfile's base ARG
PATTERNS = {
    "cloudbuild.yaml": re.compile(
        r"^(?P<lead>\s*(?:-\s+)?(?:name|_[A-Z0-9_]*IMAGE):\s+)(?P<ref>[^\s#]+)", re.M
    ),
    "Dockerfile": re.compile(r"^(?P<lead>ARG PYTHON_IMAGE=)(?P<ref>\S+)", re.M),
}


def split_ref(ref: str) -> tuple[str, str | None]:
    """``name:tag@sha256:x`` → (``name:tag``, ``sha256:x``); no digest → (ref, None)."""
    if "@" in ref:
        name, digest = ref.split("@", 1)
        return name, digest
    return ref, None


def references(root: Path = ROOT) -> list[tuple[str, str]]:
    """(file, reference) for every image reference; substitution uses (``${_X}``) are not references."""
    found = []
    for name in FILES:
        text = (root / name).read_text(encoding="utf-8")
        for match in PATTERNS[name].finditer(text):
            ref = match.group("ref").strip("'\"")
            if ref.startswith("${"):
                continue
            found.append((name, ref))
    return found


def unpinned(root: Path = ROOT) -> list[str]:
    problems = []
    for name, ref in references(root):
        _, digest = split_ref(ref)
        if digest is None or not DIGEST.match(digest):
            problems.append(f"{name}: {ref} is not pinned by digest (@sha256:<64 hex>)")
    return problems


def resolve(resolver: str, name: str) -> str:
    out = subprocess.run([*shlex.split(resolver), name], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"pin_images: {resolver} {name} failed: {out.stderr.strip()}")
    digest = out.stdout.strip().strip('"')
    if not DIGEST.match(digest):
        raise SystemExit(f"pin_images: {resolver} {name} printed {digest!r}, not a sha256 digest")
    return digest


def refresh(resolver: str, root: Path = ROOT, dry_run: bool = False) -> list[str]:
    """Rewrite each reference to its tag's current digest; return the changes made."""
    changes: list[str] = []
    cache: dict[str, str] = {}
    for file in FILES:
        path = root / file
        text = path.read_text(encoding="utf-8")

        def repin(match: re.Match[str]) -> str:
            ref = match.group("ref")
            quote = ref[0] if ref[0] in "'\"" else ""
            bare = ref.strip("'\"")
            if bare.startswith("${"):
                return match.group(0)
            name, old = split_ref(bare)
            if name not in cache:
                cache[name] = resolve(resolver, name)
            if cache[name] != old:
                changes.append(f"{file}: {name} {old or '(unpinned)'} -> {cache[name]}")
            return f"{match.group('lead')}{quote}{name}@{cache[name]}{quote}"

        new = PATTERNS[file].sub(repin, text)
        if new != text and not dry_run:
            path.write_text(new, encoding="utf-8")
    return changes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "list", "refresh"])
    parser.add_argument("--resolver", default="crane digest")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, ref in references(args.root):
            print(f"{name}: {ref}")
        return 0
    if args.command == "check":
        problems = unpinned(args.root)
        for line in problems:
            print(line, file=sys.stderr)
        if not problems:
            print(f"{len(references(args.root))} image references, all pinned by digest")
        return 1 if problems else 0
    changes = refresh(args.resolver, args.root, args.dry_run)
    print("\n".join(changes) if changes else "every digest is current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
