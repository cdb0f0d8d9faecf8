"""Maps and reports from the database: a season seeded with the system's own domain functions (real
register, synthetic directories, a drawn plan, samples through intake with their origin verdicts, simulated
lab results and quality verdicts) in a database of its own, then the `gi map` and `gi report` commands end to
end."""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi, pdf_text, scratch_database
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gi import db as gi_db
from gi.models import Inspector, LabResult, OriginVerdictRecord, Sample
from gi.reads.season import gather_season, non_conformities
from maps.browser import MapPage, chromium, chromium_path

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
    from gi.origin.batch import record_samples
    from gi.quality.judge import check_quality
    from gi.quality.lab import add_results
    from sampling.commit import Announcement
    from sampling.planning import create_plan, draw_plan, record_result, tasks_of_plan

    tz = ZoneInfo("Asia/Shanghai")
    rng = random.Random(seed)
    create_synthetic_directory(session, producers_per_product=18, seed=seed)
    # Committed before the season, drawn with the value of the lottery draw it announced.
    lottery = Announcement.make("test lottery", "2025-03-01")
    committed, revealed = datetime(2025, 2, 20, 10, tzinfo=tz), datetime(2025, 3, 1, 21, tzinfo=tz)
    create_plan(
        session,
        PLAN,
        "2025年春季地理标志产品监督抽查",
        *SEASON,
        2,
        secret="m" * 40,
        announcement=lottery,
        committed_at=committed,
    )
    drawn = draw_plan(session, PLAN, "20250401", lottery.source, lottery.draw_at, revealed_at=revealed)
    tasks = tasks_of_plan(session, drawn.plan.id)
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


def flat_text(path: Path) -> str:
    """The PDF's text without whitespace (table cells and lines break inside phrases)."""
    return re.sub(r"\s+", "", pdf_text(path))


def same_document(text: str) -> str:
    """A document's text without what differs between two generations of it (its number, the time)."""
    text = re.sub(r"GI-[A-Z]{2}-\d{8}-[0-9A-F]{6}", "GI-number", text)
    return re.sub(r"生成时间\d{4}-\d{2}-\d{2}\d{2}:\d{2}", "生成时间", text)


def printed_path(stdout: str, suffix: str) -> Path:
    """The file path a command printed (the last one ending with ``suffix``)."""
    paths = re.findall(r"(/\S+" + re.escape(suffix) + r")", stdout.replace("\n", ""))
    assert paths, stdout
    return Path(paths[-1])


def test_season_summary_from_the_database(season_db: str) -> None:
    with gi_db.session_scope(gi_db.get_engine(season_db)) as session:
        summary = gather_season(session, *SEASON)
        stored = session.scalar(select(func.count()).select_from(Sample).where(Sample.source == SOURCE))
        outside = session.scalar(
            select(func.count())
            .select_from(OriginVerdictRecord)
            .where(OriginVerdictRecord.sample_id.is_not(None), OriginVerdictRecord.verdict == "outside")
        )
        laboratories = set(session.scalars(select(LabResult.laboratory).distinct()))
    samples = summary.samples
    # Each tested sample names the laboratories that tested it (检验机构 on the notice), whole names, "、"-joined.
    named = [labs for labs in samples["laboratories"] if labs]
    assert laboratories and named
    assert all(set(labs.split("、")) <= laboratories for labs in named), named[:3]
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


@pytest.fixture(scope="module")
def season_html(season_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The season's map, written by `gi map samples` as a user runs it."""
    result = gi(
        season_db,
        "map",
        "samples",
        "--from",
        "2025-04-01",
        "--to",
        "2025-06-30",
        out=tmp_path_factory.mktemp("map"),
    )
    assert result.returncode == 0, result.stderr
    return printed_path(result.stdout, ".html")


def test_cli_writes_maps_and_reports(season_db: str, season_html: Path, tmp_path: Path) -> None:
    with gi_db.session_scope(gi_db.get_engine(season_db)) as session:
        summary = gather_season(session, *SEASON)
        inspectors = list(session.scalars(select(Inspector)))
    names = [a.name_zh for a in summary.areas if (summary.samples["product_code"] == a.product_code).any()]

    assert season_html.is_file() and (season_html.parent / "map-assets").is_dir()
    result = gi(season_db, "map", "areas", "--png", out=tmp_path)
    assert result.returncode == 0, result.stderr
    assert printed_path(result.stdout, ".png").is_file()

    result = gi(
        season_db,
        "report",
        "campaign",
        "--from",
        "2025-04-01",
        "--to",
        "2025-06-30",
        "--issuer",
        "测试市场监管局",
        out=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    text = flat_text(printed_path(result.stdout, ".pdf"))
    # The plan is titled …监督抽查; the report names the activity as the notice does: 监督抽检, throughout.
    assert "2025年春季地理标志产品监督抽检工作报告" in text and "测试市场监管局" in text
    assert "监督抽查" not in text
    assert all(name in text for name in names)
    assert f"抽取样品{len(summary.samples):,}批次" in text

    args = ("report", "notice", "--from", "2025-04-01", "--to", "2025-06-30")
    result = gi(season_db, *args, out=tmp_path)
    assert result.returncode == 1 and "issuer" in result.stderr  # no placeholder issuer on a public notice
    result = gi(season_db, *args, "--issuer", "测试市场监管局", out=tmp_path)
    assert result.returncode == 0, result.stderr
    notice = flat_text(printed_path(result.stdout, ".pdf"))
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
    # --photo stores the photo with the sample (the media store); a later record without it prints it too,
    # under the same record number.
    os.environ["GI_MEDIA_DIR"] = str(tmp_path / "media")
    try:
        args = ("report", "record", bad["code"], "--issuer", "测试局")
        first = gi(season_db, *args, "--photo", str(photo), out=tmp_path)
        result = gi(season_db, *args, out=tmp_path)
    finally:
        del os.environ["GI_MEDIA_DIR"]
    assert first.returncode == 0, first.stderr
    assert result.returncode == 0, result.stderr
    record = flat_text(printed_path(result.stdout, ".pdf"))
    assert bad["code"] in record and bad["product_name"] in record and "不合格" in record
    assert "抽检结论不合格" in record  # the overall conclusion first, decided as the notice decides it
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert list((tmp_path / "media").rglob(digest)) and f"照片1（SHA-256{digest[:16]}" in record
    assert first.stdout.split()[2] == result.stdout.split()[2] == f"JL-{bad['number']}:"
    assert any(i.name in record for i in inspectors)  # the internal record names its inspectors
    (ARTIFACTS / "reports").mkdir(parents=True, exist_ok=True)
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

    result = gi(season_db, "report", "record", "ffffffff", out=tmp_path)
    assert result.returncode == 1 and "no sample" in result.stderr


def test_season_is_an_alias_of_from_and_to(season_db: str, tmp_path: Path) -> None:
    office = ("--issuer", "杭州市市场监督管理局")
    by_dates = gi(
        season_db, "report", "notice", "--from", "2025-04-01", "--to", "2025-06-30", *office, out=tmp_path
    )
    by_season = gi(
        season_db, "report", "notice", "--season", "2025-04-01..2025-06-30", *office, out=tmp_path / "alias"
    )
    assert by_dates.returncode == 0 and by_season.returncode == 0, by_season.stderr
    first, second = printed_path(by_dates.stdout, ".pdf"), printed_path(by_season.stdout, ".pdf")
    assert first.name == second.name == "notice_20250401_20250630.pdf"
    # The same document, but for its number and the moment it was generated.
    assert same_document(flat_text(first)) == same_document(flat_text(second))
    both = gi(season_db, "map", "samples", "--season", "2025", "--from", "2025-04-01", out=tmp_path)
    assert both.returncode == 1 and "error: --season:" in both.stderr and "not both" in both.stderr


def test_maps_of_different_selections_never_share_a_file(season_db: str, tmp_path: Path) -> None:
    every = gi(season_db, "map", "areas", "--png", out=tmp_path)
    assert every.returncode == 0, every.stderr
    whole_html, whole_png = printed_path(every.stdout, ".html"), printed_path(every.stdout, ".png")
    before = (whole_html.read_bytes(), whole_png.read_bytes())
    one = gi(season_db, "map", "areas", "西湖龙井", "--png", out=tmp_path)
    two = gi(season_db, "map", "areas", "anji-white-tea", "西湖龙井", out=tmp_path)
    dated = gi(season_db, "map", "areas", "西湖龙井", "--at", "2010-01-01", out=tmp_path)
    assert all(r.returncode == 0 for r in (one, two, dated)), [r.stderr for r in (one, two, dated)]
    names = [printed_path(r.stdout, ".html").name for r in (every, one, two, dated)]
    assert names == [
        "areas.html",
        "areas_xihu-longjing.html",
        "areas_anji-white-tea+xihu-longjing.html",
        "areas_xihu-longjing_20100101.html",
    ]
    assert printed_path(one.stdout, ".png").name == "areas_xihu-longjing.png"
    # The map of every product is still the map of every product.
    assert (whole_html.read_bytes(), whole_png.read_bytes()) == before
    assert "map of 14 protected areas" in every.stdout and "map of 1 protected area:" in one.stdout


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")
def test_the_cli_season_map_in_chromium(season_db: str, season_html: Path) -> None:
    with gi_db.session_scope(gi_db.get_engine(season_db)) as session:
        summary = gather_season(session, *SEASON)
    with chromium() as browser:
        view = MapPage(browser, season_html)
        try:
            state = view.state()
            view.screenshot(ARTIFACTS / "maps" / "season_db.png")
            assert view.report.page_errors == [] and view.report.console_errors == []
            assert view.report.blocked_requests == []
            assert state["layers"]["origin"] == len(summary.samples)
            assert state["areaPaths"] == 14
            # Producers outside their area are a layer of their own, off at opening (tests/test_maps_browser.py
            # switches it on).
            assert state["producerMarkers"] == 0 and len(summary.producers_outside) > 0
        finally:
            view.close()


def test_demo_step_writes_the_three_files(
    season_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.commands.demo import print_outputs_step
    from demo.outputs import write_season_outputs
    from gi.settings import get_settings

    monkeypatch.setenv("GI_DATABASE_URL", season_db)
    get_settings.cache_clear()
    try:
        step = write_season_outputs(tmp_path)
    finally:
        get_settings.cache_clear()
    assert step.skipped is None and step.summary is not None
    assert step.season_map is not None and step.season_map.suffix == ".html"
    assert step.campaign_report is not None and step.public_notice is not None
    written = step.written
    assert written[0] == step.season_map and written[-1] == step.public_notice
    assert all(p.is_file() and p.parent == tmp_path for p in written)
    # Named after the season read from the stored samples (no period given).
    stem = f"{step.summary.start:%Y%m%d}_{step.summary.end:%Y%m%d}"
    assert [p.name for p in (step.season_map, step.campaign_report, step.public_notice)] == [
        f"season_{stem}.html",
        f"campaign_{stem}.pdf",
        f"notice_{stem}.pdf",
    ]
    assert "公告" in flat_text(step.public_notice) and "报告" in flat_text(step.campaign_report)
    print_outputs_step(step)
    out = capsys.readouterr().out.replace("\n", "")
    assert all(str(p) in out for p in written)
