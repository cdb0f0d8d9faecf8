"""Imports only point down: geo_data < gi < sampling/maps/reports < demo < api (read from the source, with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package, and the top-level packages its modules must never import.
FORBIDDEN = {
    "geo_data": {"gi", "sampling", "maps", "reports", "demo", "api"},
    "gi": {"sampling", "maps", "reports", "demo", "api"},
    "sampling": {"demo", "api"},
    "maps": {"demo", "api"},
    "reports": {"demo", "api"},
    "demo": {"api"},
}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every absolute import in a module, lazy imports inside functions too."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


def modules_of(package: str) -> list[Path]:
    """Every Python module of a package (its migrations included)."""
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_layer_above_its_own(package: str) -> None:
    modules = modules_of(package)
    assert modules, f"no module found in {package}/"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules
        for line, name in sorted(imported_packages(path))
        if name in FORBIDDEN[package]
    ]
    assert wrong == []


def test_the_check_sees_lazy_and_dotted_imports(tmp_path: Path) -> None:
    """The test above can fail: an import inside a function, or of a submodule, is found."""
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom gi.db import session_scope\n\ndef f():\n    import api.cli as c\n    from demo import x\n"
    )
    assert {name for _, name in imported_packages(module)} == {"os", "gi", "api", "demo"}
