"""The README's "season by hand": the example files through the real CLI, as a newcomer pastes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def gi(db_url: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `gi ARGS` in the project root against the test database."""
    env = {**os.environ, "GI_DATABASE_URL": db_url, "GI_OUTPUT_DIR": str(out), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.usefixtures("loaded_register")
def test_a_season_by_hand(db_url: str, tmp_path: Path) -> None:
    checked = gi(db_url, tmp_path, "check", "examples/samples.csv")
    assert checked.returncode == 0, checked.stderr
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

    imported = gi(db_url, tmp_path, "results", "import", "examples/lab_results.csv")
    assert imported.returncode == 0, imported.stderr
    again = gi(db_url, tmp_path, "results", "import", "examples/lab_results.csv")
    assert again.returncode != 0 and "already stored" in (again.stdout + again.stderr)

    judged = gi(db_url, tmp_path, "quality", "check", "--season", "2026-04-01..2026-10-31")
    assert judged.returncode == 0, judged.stderr
    assert "西湖龙井" in judged.stdout and "fail: 水分, 水浸出物, 粉末" in judged.stdout

    record = gi(db_url, tmp_path, "report", "record", "3f2a9c41")
    assert record.returncode == 0, record.stderr
    pdf = next((tmp_path / "reports").glob("record_3F2A9C41*.pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "西湖龙井" in text and "产地相符" in text and "41.2" in text
