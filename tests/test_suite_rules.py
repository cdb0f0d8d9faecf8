"""The rules conftest.py enforces on the suite, shown on small suites run in a subprocess: under
GI_REQUIRE_DB=1 (the test command, CI) a skipped test fails; a database test without the postgis mark stops
the run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

SKIPPING = """
import pytest

@pytest.mark.postgis
def test_without_a_server():
    pytest.skip("PostGIS unavailable")

@pytest.mark.skipif(True, reason="Debian's chromium is not installed")
def test_without_chromium():
    pass

def test_that_runs():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty project with this suite's conftest.py and markers."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    postgis: needs PostGIS\n")
    return pytester


def test_skips_are_failures_when_every_test_must_run(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(test_skipping=SKIPPING)
    monkeypatch.setenv("GI_REQUIRE_DB", "1")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    # A skip in the test is a failure; a skip at setup (skipif, a fixture) an error: the run fails either way.
    result.assert_outcomes(passed=1, failed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*GI_REQUIRE_DB=1 requires every test to run*PostGIS unavailable*"])


def test_skips_stay_skips_otherwise(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    suite.makepyfile(test_skipping=SKIPPING)
    monkeypatch.delenv("GI_REQUIRE_DB", raising=False)
    suite.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1, skipped=2)


def test_a_database_test_without_the_mark_stops_the_run(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_unmarked="""
def test_uses_the_database(engine):
    pass
"""
    )
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*1 database test(s) without @pytest.mark.postgis: test_unmarked.py::*"])


def runs_of_the_cli(path: Path) -> list[int]:
    """Lines where a module calls ``subprocess.run`` on ``api.cli`` itself instead of using ``fixtures.gi``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "run"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "subprocess"
            and any(isinstance(n, ast.Constant) and n.value == "api.cli" for n in ast.walk(node))
        ):
            lines.append(node.lineno)
    return lines


def test_the_gi_subprocess_helper_is_written_once() -> None:
    """Tests run `gi` as a user does through fixtures.gi (one environment, one timeout, wide plain output);
    only a run that must be killed or watched on a terminal starts its own process (subprocess.Popen)."""
    tests = CONFTEST.parent
    found = {
        f"{path.name}:{line}" for path in sorted(tests.glob("*.py")) if path.name != "fixtures.py"
        for line in runs_of_the_cli(path)
    }  # fmt: skip
    assert found == set()
    assert runs_of_the_cli(tests / "fixtures.py"), "the check can see a run of api.cli"
