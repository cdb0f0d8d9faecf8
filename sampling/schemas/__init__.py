"""JSON Schemas (draft 2020-12) of every published file of a plan, used by `gi plan verify` and the tests.

``notice.csv`` and ``notice.md`` are checked through their rows: each is parsed into a list of objects keyed by
the Chinese column names and validated against ``notice.schema.json``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_OF = {
    "frame.json": "frame",
    "parameters.json": "parameters",
    "commitment.json": "commitment",
    "reveal.json": "reveal",
    "selection.json": "selection",
    "assignment.json": "assignment",
    "results.json": "results",
    "failure.json": "failure",
    "notice.csv": "notice",
    "notice.md": "notice",
}


@cache
def schema(name: str) -> dict[str, Any]:
    """The schema of a published file (by file name, e.g. ``selection.json``) or by schema name."""
    stem = SCHEMA_OF.get(name, name)
    text = resources.files(__package__).joinpath(f"{stem}.schema.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def _validator(name: str) -> Draft202012Validator:
    document = schema(name)
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


def validation_errors(name: str, instance: Any) -> list[tuple[str, str]]:
    """Every schema violation of a published file's content: (JSON path, message), in document order."""
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [(e.json_path, e.message) for e in errors]
