"""The house rules of issues #16 and #24: few modules at the package root, none over 450 lines, no
import circle, and every import between top-level packages points down the layer order.

The import graph is read statically with the step cache's walker over import statements
(``socialscore.pipeline.codehash``): imports inside functions count, imports under
``if TYPE_CHECKING:`` do not (they never run). ``from pkg import mod`` is an edge to ``pkg.mod``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from socialscore.pipeline.codehash import PACKAGE, _import_nodes, module_file, package_root

MAX_ROOT_MODULES = 8
MAX_LINES = 450

# The layers, top (entry points) to bottom (leaves). A top-level package or root module may import
# only from a lower layer, never from its own layer's siblings or from above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("terminal",),  # the command line
    ("deploy",),  # Vertex AI pipeline compile/submit
    ("beam",),  # the Beam engines of the batch steps
    ("api", "steps"),  # the web service; the pipeline's steps
    ("pipeline",),  # the generic orchestrator, its artifact catalog, cache and run lock
    ("registry", "reports"),  # model versions and aliases; the evaluation report
    ("modeling",),  # featurizers, training, behaviour, the scorer
    ("storage",),  # files (atomic writes, parquet, CSV), input discovery, the database
    ("ingest", "text"),  # reading input files safely; text rules and PII scrubbing
    ("config", "layout", "logs", "settings"),
    ("errors",),
    ("socialscore",),  # the package face: __version__
)


def module_names(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports, anywhere in its body."""
    graph = {}
    for name, path in module_names(root).items():
        found = set()
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join([*anchor[: len(anchor) - node.level + 1], *([base] if base else [])])
            # ``from pkg import mod`` depends on pkg.mod (as grimp counts it); ``from pkg import f`` on pkg
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if module_file(submodule, root) else base)
        graph[name] = {m for m in found if m != name and m.startswith(PACKAGE) and module_file(m, root)}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_at_most_eight_modules_at_the_package_root() -> None:
    root_modules = sorted(p.name for p in package_root().glob("*.py"))
    assert len(root_modules) <= MAX_ROOT_MODULES, root_modules


def test_no_module_over_450_lines() -> None:
    src = package_root()
    long = {
        str(p.relative_to(src)): n
        for p in src.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_import_circle() -> None:
    assert circles(import_graph(package_root())) == []


def top_level(module: str) -> str:
    """socialscore.storage.atomic -> storage; socialscore.config -> config; socialscore -> socialscore."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports between top-level packages that do not point to a lower layer (or name no layer)."""
    rank = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    found = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            a, b = top_level(module), top_level(target)
            if a != b and not rank.get(a, -1) < rank.get(b, -1):
                found.append(f"{module} -> {target}")
    return found


def test_every_package_has_a_layer() -> None:
    packages = {top_level(m) for m in module_names(package_root())}
    assert packages == {name for layer in LAYERS for name in layer}


def test_no_import_points_up() -> None:
    assert upward_imports(import_graph(package_root())) == []


@pytest.mark.parametrize(
    "relative, source, expected",
    [
        ("storage/a.py", "from socialscore.pipeline.b import f\n", ["socialscore.storage.a -> socialscore.pipeline.b"]),
        ("api/a.py", "def f():\n    from socialscore.steps import b\n", ["socialscore.api.a -> socialscore.steps.b"]),
        ("pipeline/a.py", "from socialscore.storage.b import f\n", []),
    ],
    ids=["upward", "sibling-in-a-function", "downward"],
)
def test_a_planted_upward_import_is_found(tmp_path: Path, relative: str, source: str, expected: list[str]) -> None:
    root = tmp_path / "socialscore"
    for name in ("__init__.py", "storage/__init__.py", "pipeline/__init__.py", "api/__init__.py",
                 "steps/__init__.py", "pipeline/b.py", "steps/b.py", "storage/b.py"):
        _write(root, name, "def f():\n    return 1\n")
    _write(root, relative, source)
    assert upward_imports(import_graph(root)) == expected


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "a_imports, expected",
    [
        ("def f():\n    from socialscore.pkg import b\n", [["socialscore.pkg.a", "socialscore.pkg.b"]]),
        ("import socialscore.pkg.b\n", [["socialscore.pkg.a", "socialscore.pkg.b"]]),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from socialscore.pkg.b import g\n", []),
    ],
    ids=["function-level", "module-level", "type-checking-only"],
)
def test_a_planted_circle_is_found(tmp_path: Path, a_imports: str, expected: list[list[str]]) -> None:
    root = tmp_path / "socialscore"
    _write(root, "__init__.py", "")
    _write(root, "pkg/__init__.py", "")
    _write(root, "pkg/a.py", a_imports)
    _write(root, "pkg/b.py", "from socialscore.pkg.a import f\n\ndef g():\n    return f\n")
    assert circles(import_graph(root)) == expected


def test_every_layout_path_is_used() -> None:
    """A path in layout.py that no module asks for is a stale promise about the project's files."""
    from socialscore.layout import Layout

    src = package_root()
    code = "\n".join(p.read_text(encoding="utf-8") for p in src.rglob("*.py"))
    names = [n for n in vars(Layout) if not n.startswith("_") and n not in {"project_dir", "mode"}]
    assert [n for n in names if f".{n}" not in code] == []


def test_src_builds_layouts_from_settings_only() -> None:
    """``Layout.for_settings`` is the one way in the package: a ``Layout(dir, mode)`` call beside a
    Settings object holds the mode twice, and the two can disagree."""
    calls = []
    for path in package_root().rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Layout":
                calls.append(f"{path.relative_to(package_root())}:{node.lineno}")
    assert calls == []
