"""The README's "season by hand": the example files through the real CLI, as a newcomer pastes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures import gi, pdf_text, scratch_database

from gi.db import get_engine, session_scope
from gi.register.loader import load_register_into_db

pytestmark = pytest.mark.postgis


@pytest.fixture
def own_db(db_url: str) -> Iterator[str]:
    """A database of this test's own holding the register: the commands commit, and `quality check` judges
    every sample of the season, so other tests' samples must not be there (nor these left behind)."""
    with scratch_database(db_url, "gi_test_examples") as url:
        with session_scope(get_engine(url)) as session:
            load_register_into_db(session)
        yield url


def test_a_season_by_hand(own_db: str, tmp_path: Path) -> None:
    db_url = own_db
    checked = gi(db_url, "check", "examples/samples.csv", out=tmp_path)
    assert checked.returncode == 3, checked.stderr  # stored, but one row refused: exit status 3
    assert "5 stored" in checked.stdout and "1 refused" in checked.stdout
    assert "'Beijing1954' is not one of" in checked.stdout
    result = (tmp_path / "samples.result.csv").read_text(encoding="utf-8-sig").splitlines()
    verdicts = {line.split(",")[2][:8]: line.split(",")[4] for line in result[1:] if ",stored," in line}
    assert verdicts == {
        "3f2a9c41": "inside",
        "8c51e0b7": "inside",
        "c47d1a93": "outside",
        "0e9b6d25": "uncertain",
        "6a3e8f10": "outside",
    }

    imported = gi(db_url, "results", "import", "examples/lab_results.csv", out=tmp_path)
    assert imported.returncode == 0, imported.stderr
    again = gi(db_url, "results", "import", "examples/lab_results.csv", out=tmp_path)
    assert again.returncode != 0 and "already stored" in (again.stdout + again.stderr)

    judged = gi(db_url, "quality", "check", "--from", "2026-04-01", "--to", "2026-10-31", out=tmp_path)
    assert judged.returncode == 0, judged.stderr
    assert "西湖龙井" in judged.stdout and "fail: 水分, 水浸出物, 粉末" in judged.stdout

    record = gi(db_url, "report", "record", "3f2a9c41", "--issuer", "杭州市市场监督管理局", out=tmp_path)
    assert record.returncode == 0, record.stderr
    pdf = next((tmp_path / "reports").glob("record_3F2A9C41*.pdf"))
    text = pdf_text(pdf)
    assert "西湖龙井" in text and "产地相符" in text and "41.2" in text
