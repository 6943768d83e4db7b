"""Finding NLTK data: NLTK_DATA and the standard paths → the project cache → ``nltk.download``.

Every NLTK resource the project uses goes through :func:`ensure_resource`, so a missing resource
fails once, early, with a message that says how to provide it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from socialscore.errors import ModelError

log = logging.getLogger(__name__)

# resource name → its path inside an nltk_data directory (as nltk.data.find wants it)
RESOURCE_PATHS: dict[str, str] = {
    "stopwords": "corpora/stopwords",
    "wordnet": "corpora/wordnet",
    "omw-1.4": "corpora/omw-1.4",
    "punkt_tab": "tokenizers/punkt_tab",
    "punkt": "tokenizers/punkt",
    "vader_lexicon": "sentiment/vader_lexicon.zip",
}
DEFAULT_CACHE = Path("data") / "cache" / "nltk_data"


class NltkResourceError(ModelError):
    """An NLTK resource is needed but cannot be found or downloaded."""


def _search_paths(cache_dir: Path) -> list[str]:
    """NLTK_DATA (read now, not at import), nltk's standard paths, then the project cache."""
    import nltk

    paths = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    paths += [p for p in nltk.data.path if p not in paths]
    paths.append(str(cache_dir))
    return paths


def _locate(resource_path: str, paths: list[str]) -> Path | None:
    """The file or directory holding ``resource_path`` in the first of ``paths`` that has it."""
    for root in paths:
        base = Path(root) / resource_path
        candidates = [base] if base.suffix == ".zip" else [base, base.with_name(base.name + ".zip")]
        for candidate in candidates:
            if candidate.exists():
                return candidate
    return None


def _register(found: Path, resource_path: str) -> None:
    """Make the data root of ``found`` visible to nltk's corpus readers."""
    import nltk

    root = found
    for _ in Path(resource_path).parts:
        root = root.parent
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))


def ensure_resource(name: str, cache_dir: Path | None = None) -> Path:
    """Return where NLTK resource ``name`` is, downloading it into ``cache_dir`` if it is nowhere.

    Raises :class:`NltkResourceError` when it is absent and cannot be downloaded (e.g. offline).
    """
    cache = Path(cache_dir) if cache_dir is not None else Path.cwd() / DEFAULT_CACHE
    resource_path = RESOURCE_PATHS.get(name, name)
    found = _locate(resource_path, _search_paths(cache))
    if found is None:
        found = _download(name, resource_path, cache)
    _register(found, resource_path)
    return found


def _download(name: str, resource_path: str, cache: Path) -> Path:
    import nltk

    hint = (
        f"NLTK resource '{name}' is not installed and could not be downloaded; provide it by setting "
        f"NLTK_DATA to a directory holding {resource_path}, or copy it into {cache}"
    )
    log.info("downloading NLTK resource %s into %s", name, cache)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        ok = nltk.download(name, download_dir=str(cache), quiet=True, raise_on_error=True)
    except Exception as exc:  # network errors, a missing index, a read-only cache ...
        raise NltkResourceError(f"{hint} ({exc.__class__.__name__})") from exc
    found = _locate(resource_path, [str(cache)])
    if not ok or found is None:
        raise NltkResourceError(hint)
    return found
