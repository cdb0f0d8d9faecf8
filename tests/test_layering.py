"""Imports only point down: geo_data < gi < sampling/maps/reports < demo < api (read from the source, with ast)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The layers, lowest first. A package may import its own layer's packages and those below, never one above.
LAYERS: list[set[str]] = [{"geo_data"}, {"gi"}, {"sampling", "maps", "reports"}, {"demo"}, {"api"}]
# Within the middle layer one direction only, so that it never forms a cycle: reports draw maps and charts
# (maps.static, maps.style), nothing in maps or sampling reads a report.
SIDEWAYS = {"sampling": {"maps", "reports"}, "maps": {"reports", "sampling"}}


def forbidden() -> dict[str, set[str]]:
    """Each package, and the top-level packages its modules must never import."""
    table: dict[str, set[str]] = {}
    for level, layer in enumerate(LAYERS):
        above = set().union(*LAYERS[level + 1 :])
        for package in layer:
            table[package] = above | SIDEWAYS.get(package, set())
    return table


FORBIDDEN = forbidden()


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


def test_the_table_follows_the_layers() -> None:
    """The table the check reads is the order the guide states: geo_data < gi < sampling/maps/reports < demo < api."""
    assert FORBIDDEN["geo_data"] == {"gi", "sampling", "maps", "reports", "demo", "api"}
    assert FORBIDDEN["gi"] == {"sampling", "maps", "reports", "demo", "api"}
    assert (
        FORBIDDEN["reports"] == {"demo", "api"} and FORBIDDEN["demo"] == {"api"} and FORBIDDEN["api"] == set()
    )
    assert FORBIDDEN["maps"] == {"reports", "sampling", "demo", "api"}
    assert all((ROOT / package / "__init__.py").is_file() for package in FORBIDDEN)


@pytest.mark.parametrize("package", sorted(p for p, above in FORBIDDEN.items() if above))
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


def test_an_upward_import_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a module of gi that imports the demo (even lazily) is named with its line."""
    package = tmp_path / "gi"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text(
        "from geo_data import crs\n\n\ndef f():\n    from demo.quality import x\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match=r"gi/bad.py:5 imports demo"):
        test_no_module_imports_a_layer_above_its_own("gi")


def test_the_check_sees_lazy_and_dotted_imports(tmp_path: Path) -> None:
    """The test above can fail: an import inside a function, or of a submodule, is found."""
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom gi.db import session_scope\n\ndef f():\n    import api.cli as c\n    from demo import x\n"
    )
    assert {name for _, name in imported_packages(module)} == {"os", "gi", "api", "demo"}
