"""social-score-api. ``socialscore.api:app`` is built on first access, so importing the package stays light."""

from __future__ import annotations

from typing import Any

__all__ = ["app", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from socialscore.api.service import create_app

        globals()["app"] = application = create_app()
        return application
    if name == "create_app":
        from socialscore.api.service import create_app

        return create_app
    raise AttributeError(name)
