"""socialscore: labelled comments in, a deployed toxicity social score out."""

from typing import Any


def __getattr__(name: str) -> Any:
    """``__version__`` on first use: importlib.metadata costs every command ~0.05 CPU s otherwise."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("socialscore")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0.0.0+local"
    globals()["__version__"] = found
    return found
