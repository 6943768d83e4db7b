"""Help as a user reads it: -h on every command, plain metavars, serve's environment, every command in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from socialscore.api.settings import ApiSettings
from socialscore.terminal.app import app

runner = CliRunner()
README = Path(__file__).resolve().parents[2] / "README.md"


def _command_paths(group=None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-app of the CLI, as argument tuples (``("models", "promote")``)."""
    group = group or get_command(app)
    paths = []
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        paths.append(path)
        paths += _command_paths(command, path)
    return paths


ALL_PATHS = [(), *_command_paths()]


def _help(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
@pytest.mark.parametrize("path", ALL_PATHS, ids=lambda p: " ".join(p) or "socialscore")
def test_dash_h_is_help_everywhere(path: tuple[str, ...]) -> None:
    long = _help(*path, "--help")
    assert "Usage:" in long
    assert _help(*path, "-h") == long


@pytest.mark.parametrize("path", ALL_PATHS, ids=lambda p: " ".join(p) or "socialscore")
def test_options_show_plain_metavars(path: tuple[str, ...]) -> None:
    text = _help(*path, "--help")
    assert not re.search(r"<(bool|str|int|path|list\[)", text.split("Options")[-1]), text


def test_flags_show_no_value_and_values_their_kind() -> None:
    options = [line.strip(" │") for line in _help("run", "--help").splitlines()]
    lines = {next(w.rstrip(",") for w in line.split() if w.startswith("--")): line
             for line in options if line.startswith("-") and "--" in line}
    for flag, help_start in (("--force-all", "Rerun"), ("--wait", "Wait"), ("--verbose", "Debug")):
        assert re.search(rf"{flag}\s+(-\w\s+)?{help_start}", lines[flag]), lines[flag]  # no value shown
    assert " PATH... " in lines["--data"] and " TEXT " in lines["--mode"]
    assert "or prod (all rows). [default: dev]" in " ".join(" ".join(options).replace("│", " ").split())
    assert " INTEGER " in _help("predict", "--help").split("--chunk-size")[1].splitlines()[0]


def test_serve_help_names_the_environment_and_its_defaults() -> None:
    text = " ".join(_help("serve", "--help").replace("│", " ").split())
    defaults = ApiSettings.model_fields
    for field in ("host", "port", "workers", "models_dir", "model_alias"):
        assert f"SOCIALSCORE_{field.upper()}" in text
        assert str(defaults[field].default) in text, field
    for name in ("SOCIALSCORE_API_KEYS", "SOCIALSCORE_ADMIN_KEYS"):
        assert name in text


def test_readme_lists_every_command() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = []
    for path in _command_paths():
        group, _, name = (" ".join(path)).rpartition(" ")
        shown = rf"socialscore {re.escape(group)} [^\n]*\b{name}\b" if group else rf"socialscore {name}\b"
        if not re.search(shown, readme):
            missing.append(" ".join(path))
    assert not missing, f"README.md does not show: {missing}"
