"""Per-step code versions: a hash of the modules a step's code imports, found statically.

The imports of each module (at the top or inside functions, never those under ``if TYPE_CHECKING``)
are read with ``ast`` without importing anything, so a cached run stays cheap; a step's code is its
adapter's module, its sources function's module and the step machinery, with all they import inside
the package. Editing reports/evaluation.py's CSS then reruns evaluate, not extract..train.
A module that reads files shipped beside it names them in a module-level ``PACKAGE_DATA`` tuple
(paths relative to the module); they count as that module's code.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

PACKAGE = "socialscore"
# What runs around every step's adapter: the context it is handed and the artifact readers/writers.
MACHINERY = ("socialscore.pipeline.context",)


def package_root() -> Path:
    import socialscore

    return Path(socialscore.__file__).parent


def module_file(name: str, root: Path) -> Path | None:
    """The source file of ``socialscore.a.b`` under ``root``; of another module, from ``sys.modules``."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        loaded = getattr(sys.modules.get(name), "__file__", None)  # e.g. a test's own step functions
        return Path(loaded) if loaded and loaded.endswith(".py") else None
    parts = name.split(".")[1:]
    candidates = [root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")]
    if not parts:
        candidates = [root / "__init__.py"]
    return next((p for p in candidates if p.is_file()), None)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, source: str, is_package: bool) -> set[str]:
    """The package modules ``source`` (the module ``name``) imports: ``from a import b`` gives a.b when b is one."""
    found: set[str] = set()
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        found.add(base)
        found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def _with_parents(name: str) -> list[str]:
    if not name.startswith(PACKAGE):
        return [name]
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def module_closure(roots: Iterable[str], root: Path | None = None) -> dict[str, Path]:
    """Every package module the roots import, directly or not, with its file (parent packages included)."""
    root = root or package_root()
    files: dict[str, Path] = {}
    todo = [m for r in roots for m in _with_parents(r)]
    while todo:
        name = todo.pop()
        if name in files:
            continue
        path = module_file(name, root)
        if path is None:  # an attribute imported with ``from``, not a module
            continue
        files[name] = path
        for found in _imports_of(name, path):
            todo.extend(m for m in _with_parents(found) if m not in files)
    return files


@cache
def _imports_of(name: str, path: Path) -> frozenset[str]:
    """``imported_modules`` of one file, parsed once per process (steps share most of their modules)."""
    source = path.read_text(encoding="utf-8")
    return frozenset(imported_modules(name, source, path.name == "__init__.py"))


def declared_data(source: str) -> tuple[str, ...]:
    """The string paths of a module-level ``PACKAGE_DATA = (...)`` tuple (names resolved within the module)."""
    tree = ast.parse(source)
    strings = {
        t.id: n.value.value
        for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value.value, str)
    }
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PACKAGE_DATA" for t in node.targets):
            items = node.value.elts if isinstance(node.value, (ast.Tuple, ast.List)) else []
            return tuple(
                e.value if isinstance(e, ast.Constant) else strings.get(getattr(e, "id", ""), "")
                for e in items
            )
    return ()


@cache
def _data_of(path: Path) -> tuple[Path, ...]:
    return tuple(path.parent / rel for rel in declared_data(path.read_text(encoding="utf-8")) if rel)


@cache
def _file_bytes(path: Path) -> bytes:
    return path.read_bytes()


@cache
def code_digest(roots: tuple[str, ...], root: Path | None = None) -> str:
    """sha256 over the names and bytes of the closure of ``roots`` (computed once per process)."""
    digest = hashlib.sha256()
    for name, path in sorted(module_closure(roots, root).items()):
        digest.update(name.encode() + b"\0" + _file_bytes(path) + b"\0")
        for data in _data_of(path):
            digest.update(data.name.encode() + b"\0" + _file_bytes(data) + b"\0")
    return digest.hexdigest()[:12]


def function_module(func: Callable[..., object]) -> str:
    """The module a step function's code lives in (a lazy adapter names its target's module)."""
    return getattr(func, "target_module", None) or func.__module__


def step_code_roots(run: Callable[..., object], sources: Callable[..., object] | None) -> tuple[str, ...]:
    """The modules a step's code starts from: its adapter's, its sources function's and the machinery."""
    roots = [function_module(run), *MACHINERY]
    if sources is not None:
        roots.append(function_module(sources))
    return tuple(sorted(set(roots)))


def forget() -> None:
    """Drop what this process remembers of the source (after editing it in place)."""
    for cached in (_imports_of, _data_of, _file_bytes, code_digest):
        cached.cache_clear()
