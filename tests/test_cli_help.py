"""`gi --version`, `-h` on every command, and conventional value names (DATE, TEXT, INTEGER) in every help page."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest
import typer
from fixtures import gi
from typer.testing import CliRunner

from api.cli import app

# Typer's own value labels (help texts may still say "<file>" in prose).
TYPER_LABEL = re.compile(r"<(str|int|float|bool|path|list\[[a-z]+\]|datetime|uuid)>")


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of `gi`, as the words that reach it."""
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]

    def walk(command: object, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():  # a group (Typer vendors click)
            paths.append((*path, name))
            walk(sub, (*path, name))

    walk(root, ())
    return paths


def test_every_command_is_reached() -> None:
    paths = command_paths()
    assert {("demo",), ("plan", "create"), ("map", "areas"), ("report", "campaign")} <= set(paths)


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "gi")
def test_help_uses_conventional_value_names(path: tuple[str, ...]) -> None:
    runner = CliRunner()
    short = runner.invoke(app, [*path, "-h"], env={"COLUMNS": "160"})
    assert short.exit_code == 0, short.output
    assert short.output == runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160"}).output
    assert "Usage: gi" in short.output
    assert TYPER_LABEL.findall(short.output) == []


@pytest.mark.parametrize(
    "path", [("report", "campaign"), ("report", "notice"), ("map", "samples"), ("quality", "check")]
)
def test_one_period_syntax(path: tuple[str, ...]) -> None:
    """--from DATE --to DATE on every command that reads a period, --season PERIOD as their alias."""
    out = CliRunner().invoke(app, [*path, "-h"], env={"COLUMNS": "160"}).output
    assert re.search(r"--from\s+DATE", out) and re.search(r"--to\s+DATE", out)
    assert re.search(r"--season\s+PERIOD\s+Alias of --from/--to", out)


def test_version_as_a_user_runs_it() -> None:
    result = gi("postgresql://nobody@127.0.0.1:1/none", "--version")  # no database needed
    assert result.returncode == 0 and result.stdout.strip() == f"gi {version('gi-supervision')}"
    assert gi("postgresql://nobody@127.0.0.1:1/none", "-V").stdout == result.stdout
