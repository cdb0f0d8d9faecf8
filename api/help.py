"""Conventional value names in `gi` help: `--from DATE`, `--out FILE`, `TEXT`, `INTEGER`, and nothing after a
flag, where Typer (0.2x) prints its Python types (`<str>`, `<int>`, `<bool>`).

Typer renders the value column of both its Rich and plain help from ``display_type``, and names arguments by
``display_name_raw``; this module replaces those on Typer's parameter classes, keeping Typer's own label for
choices. A parameter's ``metavar`` (for example ``metavar="DATE"``) always wins. tests/test_cli_help.py checks every command's help.
"""

from __future__ import annotations

from typing import Any

from typer import rich_utils
from typer.core import TyperArgument, TyperOption

# Typer's labels (without the angle brackets) and the names click and most command lines use for them.
_CONVENTIONAL = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "FLOAT",
    "bool": "BOOLEAN",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIR",
    "datetime": "DATETIME",
    "uuid": "UUID",
}


def conventional_type(label: str) -> str:
    """``<list[str]>`` -> ``TEXT``, ``<int>`` -> ``INTEGER``; a choice ``<a|b>`` -> ``[a|b]``."""
    bare = label.strip("<>")
    if bare.startswith("list[") and bare.endswith("]"):
        bare = bare[5:-1]
    if bare in _CONVENTIONAL:
        return _CONVENTIONAL[bare]
    if "|" in bare:
        return f"[{bare}]"
    return bare.upper()


_typer_display_type = TyperOption.display_type  # the same method on arguments and options


def _option_type(self: TyperOption, ctx: Any) -> str:  # ctx: the click Context Typer vendors
    if self.is_flag or self.count:
        return ""  # a flag takes no value
    return conventional_type(_typer_display_type(self, ctx))


def _argument_type(self: TyperArgument, ctx: Any) -> str:
    # The argument's name column shows its metavar (CODE, FILE...); the type column then adds nothing.
    return "" if self.metavar is not None else conventional_type(_typer_display_type(self, ctx))


def _argument_name(self: TyperArgument) -> str:
    # An argument is named in capitals, as usage lines write it: `gi plan show CODE`.
    return self.metavar if self.metavar is not None else (self.name or "").upper()


def _usage_name(self: TyperArgument) -> str:
    # Typer writes a required argument as `{NAME}`, which reads as a choice; usage lines write `NAME`, an
    # optional one `[NAME]`, and `NAME...` when it repeats.
    name = self.display_name_raw
    if not self.required:
        name = f"[{name}]"
    return f"{name}..." if self.nargs != 1 else name


def _reflow(paragraphs: list[str], markup_mode: Any = None) -> str:
    # A docstring's later paragraphs are wrapped at the source's width and the terminal wraps them again, so each
    # single line break showed as a short line; list items ("- ...") and click's "\b" paragraphs keep theirs.
    flowed = []
    for paragraph in paragraphs:
        if paragraph.startswith("\b"):
            flowed.append(paragraph)
            continue
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if lines and not line.lstrip().startswith(("- ", "* ", "• ")):
                lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
            else:
                lines.append(line)
        flowed.append("\n".join(lines))
    return "\n\n".join(flowed)


def install() -> None:
    """Use conventional value names in every `gi` help page (idempotent)."""
    setattr(TyperOption, "display_type", _option_type)  # noqa: B010 (replacing a method, deliberately)
    setattr(TyperArgument, "display_type", _argument_type)  # noqa: B010
    setattr(TyperArgument, "display_name_raw", property(_argument_name))  # noqa: B010
    setattr(TyperArgument, "_usage_display_name", _usage_name)  # noqa: B010
    setattr(rich_utils, "_fix_linebreaks", _reflow)  # noqa: B010
