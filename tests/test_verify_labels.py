"""Every check ``gi plan verify`` can report has a Chinese label for the pages (the dashboard's 检查明细): the
check names are read from sampling/verify.py itself, so a check added there without a label fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sampling.verify
from sampling.public import check_label_zh
from sampling.published import ALL_FILES

ASCII_WORDS = re.compile(r"[A-Za-z]{3,}")
# What a label may keep in Latin letters: file names and the names of what is hashed or checked.
KEPT = {"json", "csv", "md", "SHA", "UTF", "JSON", "schema", "canonical"} | {
    part for name in ALL_FILES for part in re.split(r"\W", name)
}


def _check_names() -> set[str]:
    """The first argument of every ``report.add(...)`` and ``report.expect(...)`` in sampling/verify.py, an
    f-string named after a file expanded for every published file."""
    tree = ast.parse(Path(sampling.verify.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("add", "expect")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "report"
            and node.args
        ):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
        elif isinstance(first, ast.JoinedStr):
            rest = "".join(v.value for v in first.values if isinstance(v, ast.Constant))
            names |= {f"{file}{rest}" for file in ALL_FILES}
        else:  # pragma: no cover - a check named by an expression this test cannot read
            raise AssertionError(f"line {node.lineno}: a check name that is not a literal")
    return names


def test_every_verification_check_has_a_chinese_label() -> None:
    names = _check_names()
    assert len(names) > 20  # the parser found the checks
    english = {}
    for name in sorted(names):
        label = check_label_zh(name)
        if label == name or set(ASCII_WORDS.findall(label)) - KEPT:
            english[name] = label
    assert english == {}


def test_file_checks_name_their_file() -> None:
    assert check_label_zh("frame.json matches its schema") == "frame.json 符合其格式规范（schema）"
    assert check_label_zh("notice.csv is readable").startswith("notice.csv ")
    assert check_label_zh("some new check") == "some new check"  # unknown: shown as it is, never dropped
