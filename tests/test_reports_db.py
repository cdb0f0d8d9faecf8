"""Maps and reports from the database: a season seeded with the system's own domain functions (real
register, synthetic directories, a drawn plan, samples through intake with their origin verdicts, simulated
lab results and quality verdicts) in a database of its own, then the `gi map` and `gi report` commands end to
end."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import scratch_database
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gi import db as gi_db
from gi.models import Inspector, OriginVerdictRecord, Sample
from maps.browser import MapPage, chromium, chromium_path
from maps.data import gather_season, non_conformities

pytestmark = pytest.mark.postgis

SEASON = (date(2025, 4, 1), date(2025, 6, 30))
PLAN = "MAPS-2025"
SOURCE = "maps-reports seed"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def seed_season(session: Session, seed: int = 5) -> None:
    """A spring season through the system's own functions: directories, a committed and drawn plan, samples of
    most tasks (a few far from their producer, some with poor GPS), lab results and quality verdicts."""
    from demo.directories import create_synthetic_directory
    from demo.lab_results import simulate_results
    from gi.origin.intake import record_samples
    from gi.quality.judge import check_quality
    from gi.quality.lab import add_results
    from sampling.planning import create_plan, draw_plan, record_result, tasks_of_plan

    tz = ZoneInfo("Asia/Shanghai")
    rng = random.Random(seed)
    create_synthetic_directory(session, producers_per_product=18, seed=seed)
    create_plan(session, PLAN, "2025年春季地理标志产品监督抽查", *SEASON, 2, secret="m" * 40)
    tasks = tasks_of_plan(session, draw_plan(session, PLAN, "20250401", "test").plan.id)
    rows = []
    for task in tasks:
        if rng.random() < 0.2:
            continue  # not sampled yet: the coverage shows it
        home = to_shape(task.producer.location)
        for _ in range(rng.randint(1, 2)):
            far = rng.random() < 0.12
            dx, dy = (
                (rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3))
                if far
                else (rng.gauss(0, 0.002), rng.gauss(0, 0.002))
            )
            day = task.due_from + timedelta(days=rng.randint(0, (task.due_to - task.due_from).days))
            rows.append(
                (
                    len(rows) + 1,
                    {
                        "product": task.product.code,
                        "producer": task.producer.credit_code,
                        "task_id": task.id,
                        "collected_at": datetime.combine(
                            day, time(9 + rng.randint(0, 7), rng.randint(0, 59)), tz
                        ),
                        "x": round(home.x + dx, 6),
                        "y": round(home.y + dy, 6),
                        "crs": "WGS84",
                        "gps_accuracy_m": rng.choice([3.0, 4.5, 8.0, 12.0, 150.0]),
                        "lot_number": f"L{len(rows):05d}",
                        "lot_size": 500,
                        "collector": task.inspectors[0].code,
                    },
                )
            )
    record_samples(session, rows, source=SOURCE)
    samples = list(session.scalars(select(Sample).where(Sample.source == SOURCE)))
    tested = [s for s in samples if rng.random() < 0.85]
    lab_rows, _ = simulate_results(session, tested, seed=seed)
    add_results(session, lab_rows, source="seed")
    check_quality(session, tested)
    for task in tasks[:3]:
        record_result(session, task.id, "conforming")


@pytest.fixture(scope="module")
def season_db(db_url: str) -> Iterator[str]:
    """A database of its own (so other modules' counts are untouched) holding the register and a season."""
    from gi.register.loader import load_register_into_db

    with scratch_database(db_url, "gi_test_maps") as url:
        engine = gi_db.get_engine(url)
        with gi_db.session_scope(engine) as session:
            load_register_into_db(session)
        with gi_db.session_scope(engine) as session:
            seed_season(session)
        yield url


def gi(args: list[str], url: str, out: Path) -> subprocess.CompletedProcess[str]:
    """Run the `gi` CLI against ``url`` with outputs under ``out``."""
    env = {**os.environ, "GI_DATABASE_URL": url, "GI_OUTPUT_DIR": str(out)}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )


def printed_path(stdout: str, suffix: str) -> Path:
    """The file path a command printed (the last one ending with ``suffix``)."""
    paths = re.findall(r"(/\S+" + re.escape(suffix) + r")", stdout.replace("\n", ""))
    assert paths, stdout
    return Path(paths[-1])


def pdf_text(path: Path) -> str:
    """The PDF's text without whitespace (pdftotext)."""
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", out)


def test_season_summary_from_the_database(season_db: str) -> None:
    with gi_db.session_scope(gi_db.get_engine(season_db)) as session:
        summary = gather_season(session, *SEASON)
        stored = session.scalar(select(func.count()).select_from(Sample).where(Sample.source == SOURCE))
        outside = session.scalar(
            select(func.count())
            .select_from(OriginVerdictRecord)
            .where(OriginVerdictRecord.sample_id.is_not(None), OriginVerdictRecord.verdict == "outside")
        )
    samples = summary.samples
    assert len(samples) == stored > 50
    assert summary.title == "2025年春季地理标志产品监督抽查"  # the plan's title
    assert (samples["origin"] == "outside").sum() == outside
    assert samples["quality"].isin(["pass", "fail", "inconclusive"]).sum() > 0.7 * len(samples)
    assert (samples.loc[samples["quality"] == "fail", "quality_reason"] != "").all()
    assert samples["task_id"].notna().all() and (samples["county_code"] != "").all()
    assert summary.planning_available and summary.quality_available
    planned = sum(r.planned or 0 for r in summary.coverage)
    done = sum(r.done or 0 for r in summary.coverage)
    assert 0 < done < planned and sum(r.samples for r in summary.coverage) == len(samples)
    assert len(summary.areas) == 14 and summary.producers_outside
    assert all(p.distance_m > 0 for p in summary.producers_outside)
    assert non_conformities(summary)


def test_cli_writes_maps_and_reports(season_db: str, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed")
    with gi_db.session_scope(gi_db.get_engine(season_db)) as session:
        summary = gather_season(session, *SEASON)
        inspectors = list(session.scalars(select(Inspector)))
    names = [a.name_zh for a in summary.areas if (summary.samples["product_code"] == a.product_code).any()]

    result = gi(["map", "samples", "--from", "2025-04-01", "--to", "2025-06-30"], season_db, tmp_path)
    assert result.returncode == 0, result.stderr
    season_html = printed_path(result.stdout, ".html")
    assert season_html.is_file() and (season_html.parent / "map-assets").is_dir()
    result = gi(["map", "areas", "--png"], season_db, tmp_path)
    assert result.returncode == 0, result.stderr
    assert printed_path(result.stdout, ".png").is_file()

    result = gi(
        ["report", "campaign", "--from", "2025-04-01", "--to", "2025-06-30", "--issuer", "测试市场监管局"],
        season_db,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    text = pdf_text(printed_path(result.stdout, ".pdf"))
    assert "2025年春季地理标志产品监督抽查工作报告" in text and "测试市场监管局" in text
    assert all(name in text for name in names)
    assert f"抽取样品{len(summary.samples):,}批次" in text

    result = gi(["report", "notice", "--from", "2025-04-01", "--to", "2025-06-30"], season_db, tmp_path)
    assert result.returncode == 0, result.stderr
    notice = pdf_text(printed_path(result.stdout, ".pdf"))
    assert "结果的公告" in notice and all(name in notice for name in names)
    # A public document: no inspector's name or code.
    leaked = [i.name for i in inspectors if i.name in notice] + [
        i.code for i in inspectors if i.code in notice
    ]
    assert leaked == []

    bad = summary.samples[summary.samples["quality"] == "fail"].iloc[0]
    photo = tmp_path / "sample.png"
    from PIL import Image

    Image.new("RGB", (640, 480), (200, 180, 120)).save(photo)
    result = gi(["report", "record", bad["code"], "--photo", str(photo)], season_db, tmp_path)
    assert result.returncode == 0, result.stderr
    record = pdf_text(printed_path(result.stdout, ".pdf"))
    assert bad["code"] in record and bad["product_name"] in record and "不合格" in record
    assert "照片1：sample.png" in record
    assert any(i.name in record for i in inspectors)  # the internal record names its inspectors
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-png",
            "-f",
            "1",
            "-l",
            "2",
            str(printed_path(result.stdout, ".pdf")),
            str(ARTIFACTS / "reports" / "record"),
        ],
        check=True,
    )

    result = gi(["report", "record", "ffffffff"], season_db, tmp_path)
    assert result.returncode == 1 and "no sample" in result.stderr

    if chromium_path() is not None:
        with chromium() as browser:
            view = MapPage(browser, season_html)
            try:
                state = view.state()
                view.screenshot(ARTIFACTS / "maps" / "season_db.png")
                assert view.report.page_errors == [] and view.report.console_errors == []
                assert view.report.blocked_requests == []
                assert state["layers"]["origin"] == len(summary.samples)
                assert state["areaPaths"] == 14
                assert state["producerMarkers"] == len(summary.producers_outside)
            finally:
                view.close()


def test_demo_step_writes_the_three_files(
    season_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gi.settings import get_settings

    monkeypatch.setenv("GI_DATABASE_URL", season_db)
    get_settings.cache_clear()
    try:
        from api.commands.reports import run_maps_reports_demo

        written = run_maps_reports_demo(tmp_path)
    finally:
        get_settings.cache_clear()
    suffixes = [p.suffix for p in written]
    assert suffixes[0] == ".html" and suffixes.count(".pdf") == 2
    assert all(p.is_file() and p.parent == tmp_path for p in written)
    assert json.dumps([str(p) for p in written])  # plain paths, printable
