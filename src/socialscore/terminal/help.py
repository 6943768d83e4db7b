"""Typer apps whose help reads well: ``-h`` beside ``--help``, and plain metavars.

Typer renders every option's Python type (``<bool>`` on a flag, ``<list[Path]>``); here a flag shows
no value at all and a value shows click's words (TEXT, INTEGER, PATH), with ``...`` when repeatable.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

import typer
from typer.core import TyperCommand, TyperGroup

HELP_NAMES = {"help_option_names": ["-h", "--help"]}
_WORDS = {str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN"}


def metavar_for(param: Any) -> str:
    """The metavar a parameter shows: '' for a flag, else TEXT/INTEGER/FLOAT/PATH (``...`` if repeatable)."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    annotation = param.type_descriptor.annotation
    repeatable = get_origin(annotation) is list
    if repeatable:
        annotation = get_args(annotation)[0]
    if param.type_descriptor.is_choice:
        word = "|".join(str(getattr(c, "value", c)) for c in param.type_descriptor.choices or ())
    elif param.type_descriptor.is_path:
        word = "PATH"
    else:
        word = _WORDS.get(annotation, getattr(annotation, "__name__", str(annotation)).upper())
    return f"{word}..." if repeatable else word


def _plain_metavars(params: list[Any]) -> list[Any]:
    for param in params:
        if param.param_type_name == "option" and param.metavar is None:
            param.metavar = metavar_for(param)
    return params


class PlainCommand(TyperCommand):
    """A command whose options show plain metavars (nothing on a flag)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))


class PlainGroup(TyperGroup):
    """A group (app or sub-app) whose own options show plain metavars and whose commands do too."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))


class App(typer.Typer):
    """``typer.Typer`` with ``-h``, plain metavars and no completion options, for every command it adds."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", PlainGroup)
        kwargs.setdefault("context_settings", dict(HELP_NAMES))
        kwargs.setdefault("add_completion", False)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("rich_markup_mode", None)  # click's plain help: rendering it with rich costs ~0.3 CPU s
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", PlainCommand)
        context = dict(HELP_NAMES)
        context.update(kwargs.get("context_settings") or {})
        kwargs["context_settings"] = context
        return super().command(*args, **kwargs)
