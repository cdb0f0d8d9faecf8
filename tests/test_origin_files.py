"""Sample files as an operator runs them: chunked commits, result files after the commit, re-runs, concurrent runs,
imports during a batch, faults, exit codes and bounded memory (issue 11), on a committed database of their own."""

from __future__ import annotations

import csv
import errno
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi, scratch_database
from shapely.geometry import box
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo_data.io import as_multipolygon
from gi import db as gi_db
from gi.models import GIKind, GIProduct, ProductCategory
from gi.origin.batch import BatchRow, record_samples
from gi.origin.files import check_sample_file
from gi.reads.verdicts import CURRENT_ORIGIN_JOIN
from gi.register.areas import AreaImport, add_area_version

pytestmark = pytest.mark.postgis

SH = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def url(db_url: str) -> Iterator[str]:
    """A committed database of this module's own (its runs commit, as the command line does)."""
    with scratch_database(db_url, "gi_files") as scratch:
        yield scratch


@pytest.fixture(scope="module")
def engine(url: str) -> Engine:
    """The module database's engine."""
    return gi_db.get_engine(url)


def make_product(engine: Engine, x0: float = 120.0) -> str:
    """A committed product with a 0.1° square area (version 1, from 2010); its code."""
    code = f"files-{uuid.uuid4().hex[:8]}"
    with Session(engine) as s:
        p = GIProduct(
            code=code,
            name_zh=f"文件测试{code[-8:]}",
            name_pinyin="x",
            name_en=code,
            gi_kind=GIKind.PROTECTED_PRODUCT,
            category=ProductCategory.FARM_PRODUCT,
        )
        s.add(p)
        s.flush()
        add_area_version(s, p, _area(box(x0, 30.0, x0 + 0.1, 30.1), datetime(2010, 1, 1, tzinfo=SH)))
        s.commit()
    return code


def _area(geometry: object, valid_from: datetime) -> AreaImport:
    return AreaImport(
        geometry=as_multipolygon(geometry),
        legal_basis="test",
        source="test",
        source_crs="WGS84",
        valid_from=valid_from,
        admin_units=[],
    )


def sample_rows(code: str, n: int, start: int = 0, when: str = "2024-06-01 09:00") -> list[dict[str, str]]:
    """``n`` distinct samples across the area's western edge (x from 119.98 to 120.08)."""
    return [
        {
            "product": code,
            "collected_at": when,
            "lon": f"{119.98 + 0.1 * ((i * 7919) % n) / n:.6f}",
            "lat": f"{30.02 + 0.06 * (i % 97) / 97:.6f}",
            "accuracy": "5",
            "lot": f"L{i}",
        }
        for i in range(start, start + n)
    ]


def as_fields(rows: Sequence[dict[str, str]], first: int = 1) -> list[tuple[int, dict[str, str]]]:
    """The rows as (row number, intake fields), for record_samples."""
    names = {"lon": "x", "lat": "y", "accuracy": "gps_accuracy_m", "lot": "lot_number"}
    return [(first + i, {names.get(k, k): v for k, v in r.items()}) for i, r in enumerate(rows)]


def write_csv(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    """A CSV with the rows' keys as headers."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(engine: Engine, code: str) -> int:
    """Samples stored for product ``code``."""
    with engine.connect() as c:
        return int(
            c.execute(
                text(
                    "SELECT count(*) FROM sample s JOIN gi_product p ON p.id = s.product_id WHERE p.code = :c"
                ),
                {"c": code},
            ).scalar_one()
        )


def run_file(engine: Engine, path: Path, chunk: int = 20_000, **kw: object) -> tuple[object, list[BatchRow]]:
    """check_sample_file on a connection of its own; the summary and every row outcome."""
    rows: list[BatchRow] = []
    with engine.connect() as conn:
        summary = check_sample_file(conn, path, on_rows=rows.extend, chunk=chunk, **kw)  # type: ignore[arg-type]
    return summary, rows


# --------------------------------------------------------------------------------------------- files


def test_a_file_is_stored_chunk_by_chunk_and_a_rerun_reports_the_stored_verdicts(
    engine: Engine, tmp_path: Path
) -> None:
    code = make_product(engine)
    rows = sample_rows(code, 30)
    rows[4]["lat"] = ""
    rows[9]["product"] = "no-such"
    path = write_csv(tmp_path / "s.csv", rows)
    summary, first = run_file(engine, path, chunk=7)
    assert [r.row for r in first] == list(range(2, 32))  # CSV lines, in file order
    assert (summary.stored, summary.refused) == (28, 2)  # type: ignore[attr-defined]
    assert [r.field for r in first if r.status == "refused"] == ["lat", "product"]  # the file's column names
    again_summary, again = run_file(engine, path, chunk=5)
    assert [r.status.value for r in again] == [
        "already stored" if r.status == "stored" else r.status.value for r in first
    ]
    for old, new in zip(first, again, strict=True):
        assert new.verdict == old.verdict  # the stored verdict, not a blank
    assert again_summary.by_product == summary.by_product  # type: ignore[attr-defined]
    assert count(engine, code) == 28


def test_cli_exit_codes_and_result_file(url: str, engine: Engine, tmp_path: Path) -> None:
    code = make_product(engine)
    good = write_csv(tmp_path / "good.csv", sample_rows(code, 5))
    done = gi(url, "check", str(good), "--out", str(tmp_path / "good.result.csv"))
    assert done.returncode == 0, done.stderr
    assert "5 stored" in done.stdout
    assert gi(url, "check", str(good), "--out", str(tmp_path / "again.csv")).returncode == 0  # already stored
    lines = list(csv.DictReader((tmp_path / "again.csv").open(encoding="utf-8-sig")))
    assert {line["status"] for line in lines} == {"already stored"} and all(line["verdict"] for line in lines)

    some = sample_rows(code, 3, start=100)
    some[1]["lon"] = "abc"
    partial = gi(url, "check", str(write_csv(tmp_path / "some.csv", some)), "-o", str(tmp_path / "r.csv"))
    assert partial.returncode == 3, partial.stderr
    assert "2 stored" in partial.stdout and "1 refused" in partial.stdout

    bad = [dict(r, product="no-such") for r in sample_rows(code, 2, start=200)]
    refused = gi(url, "check", str(write_csv(tmp_path / "bad.csv", bad)), "-o", str(tmp_path / "b.csv"))
    assert refused.returncode == 1, refused.stderr

    changed = sample_rows(code, 5)  # the same samples (the same content identity), one accuracy changed
    changed[2]["accuracy"] = "950"
    clash = gi(url, "check", str(write_csv(tmp_path / "clash.csv", changed)), "-o", str(tmp_path / "d.csv"))
    assert clash.returncode == 3 and "1 in conflict" in clash.stdout, clash.stdout
    problems = [line for line in csv.DictReader((tmp_path / "d.csv").open(encoding="utf-8-sig"))]
    assert problems[2]["status"] == "conflict" and problems[2]["field"] == "accuracy"  # the file's column
    assert "accuracy 5.0 -> 950.0" in problems[2]["problem"]


def test_a_failed_run_leaves_no_result_file_and_says_what_was_stored(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    import gi.origin.batch
    import gi.origin.files
    from api.cli import main

    code = make_product(engine)
    path = write_csv(tmp_path / "s.csv", sample_rows(code, 300))
    out = tmp_path / "s.result.csv"
    real = gi.origin.batch.store_staged
    calls = []

    def failing(raw: object, staged: str) -> list[uuid.UUID]:
        calls.append(1)
        if len(calls) == 2:  # the database goes away after the first chunk is committed
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real(raw, staged)

    monkeypatch.setattr(gi.origin.batch, "store_staged", failing)
    monkeypatch.setenv("GI_INTAKE_CHUNK_ROWS", "100")
    monkeypatch.setenv("GI_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    monkeypatch.setattr(sys, "argv", ["gi", "check", str(path), "--out", str(out)])
    from gi.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(SystemExit) as stop:
        main()
    error = capsys.readouterr().err
    assert stop.value.code == 4
    assert "connection was lost" in error and "Traceback" not in error
    assert (
        "100 samples of s.csv were stored and committed" in error and "re-running the file is safe" in error
    )
    assert not out.exists() and not list(tmp_path.glob(".s.result.csv.*"))
    assert count(engine, code) == 100  # the first chunk, committed; nothing after the failure
    monkeypatch.setattr(gi.origin.batch, "store_staged", real)
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code in (0, None)
    lines = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [line["status"] for line in lines] == ["already stored"] * 100 + ["stored"] * 200
    assert count(engine, code) == 300
    get_settings.cache_clear()


def test_a_killed_run_leaves_no_result_file_and_a_rerun_finishes_the_job(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    code = make_product(engine)
    n = 60_000
    path = write_csv(tmp_path / "big.csv", sample_rows(code, n))
    out = tmp_path / "big.result.csv"
    env = {**os.environ, "GI_DATABASE_URL": url, "COLUMNS": "200", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "check", str(path), "--out", str(out)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while count(engine, code) == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    stored = count(engine, code)
    if stored == n:
        pytest.skip("the run finished before it could be killed (an unusually fast machine)")
    assert 0 < stored < n
    assert not out.exists()  # nothing claims what the database does not hold
    rerun = gi(url, "check", str(path), "--out", str(out))
    assert rerun.returncode == 0, rerun.stderr
    lines = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    statuses = [line["status"] for line in lines]
    assert (
        len(lines) == n
        and statuses.count("already stored") == stored
        and statuses.count("stored") == n - stored
    )
    assert count(engine, code) == n


def test_concurrent_runs_of_the_same_rows_neither_fail_nor_deadlock(engine: Engine, tmp_path: Path) -> None:
    code = make_product(engine)
    rows = sample_rows(code, 3000)
    forward = write_csv(tmp_path / "forward.csv", rows)
    backward = write_csv(tmp_path / "backward.csv", rows[::-1])
    overlap = write_csv(tmp_path / "overlap.csv", sample_rows(code, 490, start=5000) + rows[:10])
    results: dict[str, list[BatchRow]] = {}
    failures: list[BaseException] = []

    def run(name: str, path: Path) -> None:
        try:
            results[name] = run_file(engine, path, chunk=400)[1]
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    threads = [
        threading.Thread(target=run, args=(name, path))
        for name, path in (
            ("forward", forward),
            ("again", forward),
            ("backward", backward),
            ("overlap", overlap),
        )
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures
    assert count(engine, code) == 3000 + 490
    for name, n in (("forward", 3000), ("again", 3000), ("backward", 3000), ("overlap", 500)):
        statuses = [r.status.value for r in results[name]]
        assert len(statuses) == n and set(statuses) <= {"stored", "already stored"}, name
    stored = sum(r.status == "stored" for rs in results.values() for r in rs)
    assert stored == 3000 + 490  # each sample stored exactly once, whichever run got there first


# --------------------------------------------------------------------------------------------- areas


def _current(engine: Engine, code: str) -> list[tuple[str, int, str]]:
    """(lot, area version, verdict) of every sample's current verdict."""
    with engine.connect() as c:
        return [
            tuple(r)  # type: ignore[misc]
            for r in c.execute(
                text(
                    "SELECT s.lot_number, v.area_version, v.verdict::text FROM sample s "
                    f"JOIN gi_product p ON p.id = s.product_id {CURRENT_ORIGIN_JOIN} "
                    "WHERE p.code = :c ORDER BY s.lot_number"
                ),
                {"c": code},
            )
        ]


def _new_version(engine: Engine, code: str, valid_from: datetime, x0: float = 120.05) -> object:
    with Session(engine) as s:
        p = s.query(GIProduct).filter_by(code=code).one()
        result = add_area_version(s, p, _area(box(x0, 30.0, x0 + 0.1, 30.1), valid_from), replace=True)
        s.commit()
        return result


def test_an_import_waits_for_an_open_batch_then_rejudges_its_samples(engine: Engine) -> None:
    code = make_product(engine)
    rows = as_fields(sample_rows(code, 200))
    with Session(engine) as batch:
        result = record_samples(batch, rows, source="open batch")
        assert len(result.stored) == 200
        with Session(engine) as importer:
            importer.execute(text("SET lock_timeout = '300ms'"))
            p = importer.query(GIProduct).filter_by(code=code).one()
            with pytest.raises(DBAPIError) as err:
                add_area_version(
                    importer,
                    p,
                    _area(box(120.05, 30.0, 120.15, 30.1), datetime(2024, 1, 1, tzinfo=SH)),
                    replace=True,
                )
            assert getattr(err.value.orig, "sqlstate", None) == "55P03"  # waiting for the batch to commit
        batch.commit()
    before = {lot: verdict for lot, _, verdict in _current(engine, code)}
    imported = _new_version(engine, code, datetime(2024, 1, 1, tzinfo=SH))
    report = imported.rejudged  # type: ignore[attr-defined]
    assert report.examined == 200 and report.rejudged == 200
    after = _current(engine, code)
    assert {version for _, version, _ in after} == {2}
    changed = sum(before[lot] != verdict for lot, _, verdict in after)
    assert changed == report.changed > 20
    assert sum(report.transitions.values()) == report.changed


def test_an_import_between_chunks_is_used_for_the_rest_and_rejudges_what_was_committed(
    engine: Engine, tmp_path: Path
) -> None:
    code = make_product(engine)
    path = write_csv(tmp_path / "s.csv", sample_rows(code, 400))
    paused, resume = threading.Event(), threading.Event()

    def progress(step: str, done: int, total: int) -> None:
        # Pause once the second chunk is checked but before its storage is queued: the first chunk alone may be
        # stored. (Pausing at the first "stored" report let a slow run commit all four chunks first: the report
        # comes from this thread while the database worker goes on storing what was queued.)
        if step == "checked" and done >= 200 and not paused.is_set():
            paused.set()
            resume.wait(120)  # the batch holds no lock between its chunks

    outcome: list[object] = []
    worker = threading.Thread(
        target=lambda: outcome.append(run_file(engine, path, chunk=100, progress=progress))
    )
    worker.start()
    assert paused.wait(120)
    deadline = time.monotonic() + 120
    while count(engine, code) < 100 and time.monotonic() < deadline:  # the first chunk's commit
        time.sleep(0.05)
    assert count(engine, code) == 100
    imported = _new_version(engine, code, datetime(2024, 1, 1, tzinfo=SH))
    resume.set()
    worker.join(300)
    summary, rows = outcome[0]  # type: ignore[misc]
    assert summary.stored == 400  # type: ignore[attr-defined]
    assert 100 <= imported.rejudged.examined < 400  # type: ignore[attr-defined]
    current = _current(engine, code)
    assert {version for _, version, _ in current} == {2}  # every verdict follows the version valid then
    # The samples judged after the import carry version 2 in their first and only verdict.
    late = [r for r in rows if r.verdict is not None and r.verdict.area_version == 2]
    assert len(late) == 400 - imported.rejudged.examined  # type: ignore[attr-defined]


def test_a_backdated_version_rejudges_only_later_samples_and_keeps_history(engine: Engine) -> None:
    code = make_product(engine)
    early = as_fields(sample_rows(code, 50, when="2024-03-01 10:00"))
    late = as_fields(sample_rows(code, 50, start=50, when="2024-05-01 10:00"), first=100)
    with Session(engine) as s:
        record_samples(s, early + late, source="history")
        s.commit()
    imported = _new_version(engine, code, datetime(2024, 4, 1, tzinfo=SH))
    assert imported.rejudged.examined == 50  # type: ignore[attr-defined]
    current = dict((lot, version) for lot, version, _ in _current(engine, code))
    assert {current[f"L{i}"] for i in range(50)} == {1} and {current[f"L{i}"] for i in range(50, 100)} == {2}
    with engine.connect() as c:
        history = c.execute(
            text(
                "SELECT count(*), count(supersedes_id) FROM origin_verdict v JOIN sample s ON s.id = v.sample_id "
                "JOIN gi_product p ON p.id = s.product_id WHERE p.code = :c"
            ),
            {"c": code},
        ).one()
    assert tuple(history) == (150, 50)  # the first verdicts stay, superseded
    with Session(engine) as s:
        from gi.origin.rejudge import rejudge_samples

        p = s.query(GIProduct).filter_by(code=code).one()
        assert rejudge_samples(s, p.id).rejudged == 0  # nothing is stale
        s.rollback()


# --------------------------------------------------------------------------------------------- faults


def test_an_oversized_field_is_one_clear_line(url: str, engine: Engine, tmp_path: Path) -> None:
    code = make_product(engine)
    rows = sample_rows(code, 5)
    rows[2]["lot"] = "x" * 200_000
    result = gi(url, "check", str(write_csv(tmp_path / "long.csv", rows)), "-o", str(tmp_path / "r.csv"))
    assert result.returncode == 1
    assert "long.csv, line 4: a field is longer than 131,072 characters" in result.stderr
    assert "nothing of long.csv was stored" in result.stderr and "Traceback" not in result.stderr
    assert count(engine, code) == 0 and not (tmp_path / "r.csv").exists()


def test_a_full_disk_is_one_clear_line_and_leaves_no_file(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main
    from geo_data.sample_files import ResultFile
    from gi.settings import get_settings

    def full(self: ResultFile, rows: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.temporary))

    code = make_product(engine)
    out = tmp_path / "r.csv"
    monkeypatch.setattr(ResultFile, "write", full)
    monkeypatch.setenv("GI_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    monkeypatch.setattr(
        sys, "argv", ["gi", "check", str(write_csv(tmp_path / "s.csv", sample_rows(code, 5))), "-o", str(out)]
    )
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as stop:
        main()
    error = capsys.readouterr().err
    get_settings.cache_clear()
    assert stop.value.code == 4 and "disk full" in error and "no space left" in error
    assert not out.exists() and not list(tmp_path.glob(".r.csv.*"))


def test_database_faults_are_named() -> None:
    import psycopg

    from gi.errors import classify

    assert "disk is full" in classify(psycopg.errors.DiskFull("could not extend file")).message
    assert "lock could not be obtained" in classify(psycopg.errors.LockNotAvailable("x")).message
    assert "serialize" in classify(psycopg.errors.SerializationFailure("x")).message
    assert "gi db upgrade" in classify(psycopg.errors.UndefinedTable("relation does not exist")).message
    assert "connection was lost" in classify(psycopg.OperationalError("server closed the connection")).message
    assert "out of memory" in classify(MemoryError()).message


def test_memory_stays_bounded_as_the_file_grows(url: str, engine: Engine, tmp_path: Path) -> None:
    """Peak RSS of `gi check` hardly grows from 10,000 to 50,000 rows (it grew by about 4 KB a row): it depends
    on the chunk (2,000 rows here), not on the file."""
    probe = (
        "import atexit, resource, sys\n"
        "atexit.register(lambda: print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "file=sys.stderr))\n"
        "from api.cli import main\n"
        "sys.argv = ['gi', *sys.argv[1:]]\n"
        "main()\n"
    )
    env = {**os.environ, "GI_DATABASE_URL": url, "GI_INTAKE_CHUNK_ROWS": "2000", "COLUMNS": "200"}
    peaks = []
    for n in (10_000, 50_000):
        code = make_product(engine)
        path = write_csv(tmp_path / f"m{n}.csv", sample_rows(code, n))
        done = subprocess.run(
            [sys.executable, "-c", probe, "check", str(path), "-o", str(tmp_path / f"m{n}.result.csv")],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        peaks.append(int(done.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) / 1024)
    assert peaks[1] - peaks[0] < 30, peaks  # MB for 40,000 more rows (the old reader: about 160 MB)


def test_xlsx_chinese_dates_and_dms_files_are_stored(url: str, engine: Engine, tmp_path: Path) -> None:
    """Issue 15: a workbook with Chinese headers, Excel and Chinese dates and D°M′S″ coordinates is accepted."""
    from openpyxl import Workbook

    code = make_product(engine)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["地理标志产品", "采样时间", "经度", "纬度", "定位精度", "批号", "封样编号"])
    sheet.append([code, datetime(2024, 6, 1, 9, 40), 120.05123, 30.05456, 4.0, "X1", "FY-1"])
    sheet.append([code, "2024年6月1日 10时05分", "120°03′04.4″E", "30°03′16.4″N", "4", "X2", "FY-2"])
    sheet.append([code, "2024/6/1 11:00", "120°10′E", "30°03′N", "4", "X3", "FY-3"])
    path = tmp_path / "采样.xlsx"
    workbook.save(path)
    done = gi(url, "check", str(path), "-o", str(tmp_path / "r.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8-sig")))
    assert [line["verdict"] for line in lines] == ["inside", "inside", "outside"]
    assert "coarse_precision" in lines[2]["flags"]  # whole minutes: about 1.8 km
    with engine.connect() as c:
        stored = c.execute(
            text(
                "SELECT lot_number, seal_code, collected_at FROM sample s JOIN gi_product p ON p.id = s.product_id "
                "WHERE p.code = :c ORDER BY lot_number"
            ),
            {"c": code},
        ).all()
    assert [(r[0], r[1]) for r in stored] == [("X1", "FY-1"), ("X2", "FY-2"), ("X3", "FY-3")]
    assert stored[1][2] == datetime(2024, 6, 1, 10, 5, tzinfo=SH)
