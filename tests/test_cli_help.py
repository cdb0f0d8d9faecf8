"""`gi --version`, `-h` on every command, and conventional value names (DATE, TEXT, INTEGER) in every help page."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

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


def leaf_commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every command that runs (not a group), with the words that reach it."""
    root = typer.main.get_command(app)
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name)) if hasattr(sub, "commands") else found.append(((*path, name), sub))

    walk(root, ())
    return found


def test_every_option_says_what_it_takes() -> None:
    """Each option and argument has a help text, and a day is always written DATE (YYYY-MM-DD in its help)."""
    silent, undated = [], []
    for path, command in leaf_commands():
        for param in command.params:
            name = f"gi {' '.join(path)} {param.opts[0]}"
            text = getattr(param, "help", None) or ""
            if not text:
                silent.append(name)
            if "YYYY-MM-DD" in text and not param.name == "season" and param.metavar != "DATE":
                undated.append(name)
    assert silent == [] and undated == []


def test_usage_lines_name_arguments_plainly() -> None:
    """`Usage: gi areas history [OPTIONS] PRODUCT`, optional arguments in brackets, never Typer's `{PRODUCT}`."""
    runner = CliRunner()
    usage = {
        path: runner.invoke(app, [*path, "-h"], env={"COLUMNS": "160"}).output.split("\n")[1].strip()
        for path in [("areas", "history"), ("map", "areas"), ("db", "upgrade")]
    }
    assert usage == {
        ("areas", "history"): "Usage: gi areas history [OPTIONS] PRODUCT",
        ("map", "areas"): "Usage: gi map areas [OPTIONS] [PRODUCTS]...",
        ("db", "upgrade"): "Usage: gi db upgrade [OPTIONS] [REVISION]",
    }


def test_later_paragraphs_flow_to_the_terminal_width() -> None:
    """A docstring's second paragraph is not broken where the source line ended."""
    out = CliRunner().invoke(app, ["check", "-h"], env={"COLUMNS": "200"}).output
    assert "when some rows were refused or conflict with stored samples (the others are stored)" in out


def test_a_bad_day_is_one_line_and_exit_1() -> None:
    """A day that is not YYYY-MM-DD is refused before the database is reached, naming the option."""
    nowhere = "postgresql://nobody@127.0.0.1:1/none"
    added = gi(nowhere, "products", "add", "--code", "x", "--name-zh", "某", "--pinyin", "mou", "--name-en", "x",
               "--category", "farm_product", "--registration-date", "2020-13-01")  # fmt: skip
    assert added.returncode == 1
    assert added.stderr.strip() == "error: --registration-date: '2020-13-01' is not a date (YYYY-MM-DD)"
    ruled = gi(nowhere, "quality", "rule", "xihu-longjing", "--set", "guard_band", "--from", "1.5.2026")
    assert (
        ruled.returncode == 1
        and ruled.stderr.strip() == "error: --from: '1.5.2026' is not a date (YYYY-MM-DD)"
    )


def test_version_as_a_user_runs_it() -> None:
    result = gi("postgresql://nobody@127.0.0.1:1/none", "--version")  # no database needed
    assert result.returncode == 0 and result.stdout.strip() == f"gi {version('gi-supervision')}"
    assert gi("postgresql://nobody@127.0.0.1:1/none", "-V").stdout == result.stdout
