"""The `gi` command line as a user runs it (a subprocess): database, products, areas, errors."""

from __future__ import annotations

import pytest
from fixtures import DATA, gi, scratch_database


@pytest.mark.postgis
def test_db_status_reports_postgis_and_schema(db_url: str) -> None:
    result = gi(db_url, "db", "status")
    assert result.returncode == 0, result.stderr
    assert "postgis:  3." in result.stdout
    assert "up to date" in result.stdout


@pytest.mark.postgis
def test_add_product_then_import_area_versions_and_history(db_url: str) -> None:
    with scratch_database(db_url, "gi_test_cli") as url:  # what the commands commit goes with it
        added_then_imported(url)


def added_then_imported(db_url: str) -> None:
    """Add a product, import two area versions and read its history, each in a `gi` process."""
    added = gi(
        db_url,
        "products",
        "add",
        "--code",
        "cli-test-tea",
        "--name-zh",
        "命令行测试茶",
        "--pinyin",
        "Mìnglìngxíng Cèshì Chá",
        "--name-en",
        "CLI test tea",
        "--category",
        "farm_product",
    )
    assert added.returncode == 0, added.stderr
    first = gi(
        db_url,
        "areas",
        "import",
        str(DATA / "xihu_gcj02.geojson"),
        "--product",
        "cli-test-tea",
        "--crs",
        "GCJ02",
        "--valid-from",
        "2008-10-01",
    )
    assert first.returncode == 0, first.stderr
    assert "area version 1 stored" in first.stdout
    second = gi(
        db_url,
        "areas",
        "box",
        "--product",
        "命令行测试茶",
        "--west",
        "120°00′00″E",
        "--south",
        "30°06′N",
        "--east",
        "120°12′E",
        "--north",
        "30°18′N",
        "--legal-basis",
        "test amendment",
        "--valid-from",
        "2021-01-01",
    )
    assert second.returncode == 0, second.stderr
    history = gi(db_url, "areas", "history", "cli-test-tea")
    assert history.returncode == 0, history.stderr
    assert "2008-10-01" in history.stdout and "2021-01-01" in history.stdout and "current" in history.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "products",
                "add",
                "--code",
                "Bad Code",
                "--name-zh",
                "坏",
                "--pinyin",
                "huai",
                "--name-en",
                "bad",
                "--category",
                "farm_product",
            ],
            "error: code: String should match pattern",
        ),
        (
            [
                "products",
                "add",
                "--code",
                "no-chinese",
                "--name-zh",
                "Longjing",
                "--pinyin",
                "x",
                "--name-en",
                "x",
                "--category",
                "farm_product",
            ],
            "error: name_zh: Value error, must keep the product's Chinese name",
        ),
        (["areas", "history", "no-such-product"], "error: product: no GI product 'no-such-product'"),
        (["areas", "import", "missing.geojson", "--product", "x"], "missing.geojson: file not found"),
        (
            ["areas", "import", str(DATA / "xihu_gcj02.geojson"), "--product", "x", "--crs", "MARS9"],
            "crs: 'MARS9' is not one of",
        ),
    ],
)
@pytest.mark.postgis
def test_bad_input_is_one_clear_line_and_a_non_zero_exit(db_url: str, args: list[str], message: str) -> None:
    result = gi(db_url, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_a_clear_error() -> None:
    result = gi("postgresql://nobody@127.0.0.1:1/none", "db", "status")
    assert result.returncode == 4  # unavailable (api/errors.py): safe to retry
    assert "error: database: cannot connect" in result.stderr
