"""`gi check` of a sample file as a QA walk found it: Ctrl-C and a lost database say what was committed, the result
path is checked before anything is stored, rows are reported by the file's own column names, rows that do not fit
the header are refused, dates name the forms they may take, templates are not overwritten, files get the umask's
mode, and products are named in Chinese with their codes."""

from __future__ import annotations

import csv
import os
import re
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import ROOT, default_sigint, gi, scratch_database, square_product
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gi import db as gi_db
from gi.origin.batch import BatchRow
from gi.origin.files import check_sample_file

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def url(db_url: str) -> Iterator[str]:
    """A committed database of this module's own (its runs commit, as the command line does)."""
    with scratch_database(db_url, "gi_check") as scratch:
        yield scratch


@pytest.fixture(scope="module")
def engine(url: str) -> Engine:
    """The module database's engine."""
    return gi_db.get_engine(url)


def product(engine: Engine) -> tuple[str, str]:
    """A committed product with the 0.1° square at 120.0 E, 30.0 N: its code and Chinese name."""
    code = f"check-{uuid.uuid4().hex[:8]}"
    name = f"检查茶{code[-4:]}"
    with Session(engine) as s:
        square_product(s, code, name, code)
        s.commit()
    return code, name


def rows(code: str, n: int, start: int = 0) -> list[dict[str, str]]:
    """``n`` distinct samples inside the square."""
    return [
        {
            "product": code,
            "collected_at": "2024-06-01 09:00",
            "lon": f"{120.01 + 0.08 * (i % 1000) / 1000:.6f}",
            "lat": f"{30.01 + 0.08 * (i // 1000) / 1000:.6f}",
            "accuracy": "5",
            "lot": f"L{i}",
        }
        for i in range(start, start + n)
    ]


def write_csv(path: Path, records: Sequence[dict[str, str]]) -> Path:
    """A CSV with the records' keys as headers."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return path


def any_stored(engine: Engine, code: str) -> bool:
    """Whether a sample of product ``code`` is committed: one index probe, however many samples other tests left
    in the shared database (a count over them took long enough under the suite for a whole file to be stored)."""
    with engine.connect() as c:
        return bool(
            c.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM sample WHERE product_id = "
                    "(SELECT id FROM gi_product WHERE code = :c))"
                ),
                {"c": code},
            ).scalar_one()
        )


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


def outcomes(engine: Engine, path: Path) -> list[BatchRow]:
    """Every row outcome of check_sample_file on ``path``."""
    out: list[BatchRow] = []
    with engine.connect() as conn:
        check_sample_file(conn, path, on_rows=out.extend)
    return out


def run_main(monkeypatch: pytest.MonkeyPatch, engine: Engine, *args: str) -> int:
    """`gi ARGS` in this process (so that a test can patch the domain), against the module's database."""
    from api.cli import main
    from gi.settings import get_settings

    monkeypatch.setenv("GI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr(sys, "argv", ["gi", *args])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stop:
            main()
    finally:
        get_settings.cache_clear()
    return int(stop.value.code or 0)


# --------------------------------------------------------------------------------------------- interruptions


@pytest.mark.postgis
def test_ctrl_c_says_how_many_samples_were_committed(url: str, engine: Engine, tmp_path: Path) -> None:
    code, _ = product(engine)
    n = 200_000  # long enough (some 20 s here) never to finish before the first commit is seen
    path = write_csv(tmp_path / "big.csv", rows(code, n))
    out = tmp_path / "big.result.csv"
    env = {**os.environ, "GI_DATABASE_URL": url, "COLUMNS": "200", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "check", str(path), "--out", str(out)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 300
        while not any_stored(engine, code) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, error = process.communicate(timeout=120)
    finally:
        process.kill()
    stored = count(engine, code)
    if stored == n:
        pytest.skip("the run finished before it could be interrupted (an unusually fast machine)")
    assert process.returncode == 130, error
    lines = [line for line in error.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), error
    # The count is what the database holds: the chunk being stored when Ctrl-C came is counted if committed.
    assert f"{stored:,} samples of big.csv were stored and committed" in error and "re-running" in error
    assert not out.exists()


@pytest.mark.postgis
def test_a_connection_lost_mid_run_still_says_what_was_committed(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gi.origin.batch

    code, _ = product(engine)
    path = write_csv(tmp_path / "s.csv", rows(code, 300))
    real = gi.origin.batch.store_staged
    calls = []

    def server_gone(raw: object, staged: object) -> list[uuid.UUID]:
        calls.append(1)
        if len(calls) == 2:  # the connection really goes: closing it afterwards cannot roll back either
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": raw.info.backend_pid})  # type: ignore[attr-defined]
        return real(raw, staged)  # type: ignore[arg-type]

    monkeypatch.setattr(gi.origin.batch, "store_staged", server_gone)
    monkeypatch.setenv("GI_INTAKE_CHUNK_ROWS", "100")
    code_ = run_main(monkeypatch, engine, "check", str(path), "--out", str(tmp_path / "r.csv"))
    error = capsys.readouterr().err
    assert code_ == 4 and error.startswith("error: database: "), error
    assert (
        "100 samples of s.csv were stored and committed" in error and "re-running the file is safe" in error
    )
    assert count(engine, code) == 100 and not (tmp_path / "r.csv").exists()


# --------------------------------------------------------------------------------------------- output files


@pytest.mark.postgis
def test_an_unwritable_result_path_is_refused_before_anything_is_stored(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    code, _ = product(engine)
    path = write_csv(tmp_path / "s.csv", rows(code, 5))
    folder = tmp_path / "results"
    folder.mkdir()
    into_folder = gi(url, "check", str(path), "-o", str(folder))
    assert into_folder.returncode == 1, into_folder.stderr
    assert f"error: {folder}: is a directory" in into_folder.stderr and ".part" not in into_folder.stderr
    (tmp_path / "plain").write_text("a file, not a folder")
    under_file = gi(url, "check", str(path), "-o", str(tmp_path / "plain" / "r.csv"))
    assert under_file.returncode == 1, under_file.stderr
    assert f"{tmp_path / 'plain' / 'r.csv'}: cannot be written" in under_file.stderr
    assert count(engine, code) == 0  # refused before a single sample was stored
    assert not list(tmp_path.rglob("*.part"))


def test_result_files_and_templates_get_the_mode_the_umask_gives(tmp_path: Path) -> None:
    from geo_data.sample_files import ResultFile, write_template

    for mask, mode in ((0o022, 0o644), (0o027, 0o640)):
        old = os.umask(mask)
        try:
            with ResultFile(tmp_path / f"r{mask:o}.csv", ["row"]) as out:
                written = out.commit()
            template = write_template(tmp_path / f"t{mask:o}.csv")
        finally:
            os.umask(old)
        assert stat.S_IMODE(written.stat().st_mode) == mode
        assert stat.S_IMODE(template.stat().st_mode) == mode


def test_a_template_is_not_overwritten_without_force(tmp_path: Path) -> None:
    target = tmp_path / "samples.csv"
    target.write_text("my own samples\n", encoding="utf-8")
    refused = gi("postgresql+psycopg://unused@127.0.0.1:1/unused", "check", "--template", str(target))
    assert refused.returncode == 1
    assert f"{target}: exists already" in refused.stderr and "--force" in refused.stderr
    assert target.read_text(encoding="utf-8") == "my own samples\n"
    forced = gi(
        "postgresql+psycopg://unused@127.0.0.1:1/unused", "check", "--template", str(target), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert target.read_text(encoding="utf-8-sig").startswith("id,product,")


# --------------------------------------------------------------------------------------------- rows


@pytest.mark.postgis
def test_rows_are_reported_by_the_files_own_column_names(engine: Engine, tmp_path: Path) -> None:
    code, _ = product(engine)
    english = rows(code, 2)
    english[1]["lon"] = "abc"
    got = outcomes(engine, write_csv(tmp_path / "en.csv", english))
    assert (got[1].status.value, got[1].field) == ("refused", "lon")

    sample_id = str(uuid.uuid4())
    first = {
        "样品编号": sample_id,
        "产品": code,
        "采样时间": "2024-06-01 09:00",
        "经度": "120.052",
        "纬度": "30.05",
    }
    empty = {**first, "样品编号": "", "纬度": ""}
    got = outcomes(engine, write_csv(tmp_path / "zh.csv", [first, empty]))
    assert got[0].status.value == "stored"
    assert (got[1].field, got[1].problem) == ("纬度", "is empty")

    moved = {
        **first,
        "经度": "120.0521",
    }  # the same UUID, another position: a conflict named as the file names it
    got = outcomes(engine, write_csv(tmp_path / "zh2.csv", [moved]))
    assert got[0].status.value == "conflict" and got[0].field == "经度"
    assert "经度 120.052 -> 120.0521 differ" in (got[0].problem or "")


@pytest.mark.postgis
def test_a_row_with_more_fields_than_the_header_is_refused(engine: Engine, tmp_path: Path) -> None:
    code, _ = product(engine)
    path = tmp_path / "ragged.csv"
    path.write_text(
        "product,collected_at,lon,lat,accuracy,lot,collector,notes,specification,crs\n"
        f"{code},2024-06-01 09:00,120.05,30.05,5,A,,,,WGS84\n"
        f"{code},2024-06-01 09:00,120.05,30.06,5,B,,杭州,西湖区,龙井村,250 g,WGS84,x\n"  # 13 fields
        f"{code},2024-06-01 09:00,120.05,30.07,5,C\n"  # 6 fields: the rest are empty
        f"{code},2024-06-01 09:00,120.05\n",  # 3 fields: no latitude
        encoding="utf-8",
    )
    got = outcomes(engine, path)
    assert [r.status.value for r in got] == ["stored", "refused", "stored", "refused"]
    assert got[1].row == 3 and got[1].field == "row"
    assert (got[1].problem or "").startswith("has 13 fields, the header 10")
    assert (got[3].field, got[3].problem) == ("lat", "is empty (the row has 3 fields, the header 10)")
    assert count(engine, code) == 2


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("46117.375", "'46117.375' is a number, not a date/time (an Excel date serial"),
        ("1712345678", "'1712345678' is a number, not a date/time; use ISO 8601"),
        (
            "2026-04-05 25:61",
            "'2026-04-05 25:61' is not a valid date/time (hour must be in 0..23); use ISO 8601",
        ),
        ("4/7/2026", "'4/7/2026' is not a date/time; use ISO 8601 like 2026-04-05 09:30+08:00"),
        ("2026/2/30", "'2026/2/30' is not a valid date/time (day is out of range for month)"),
    ],
)
def test_dates_that_cannot_be_read_name_the_accepted_forms(typed: str, said: str) -> None:
    from gi.errors import InputError
    from gi.origin.fields import validate_row

    with pytest.raises(InputError) as refused:
        validate_row({"product": "p", "collected_at": typed, "x": "120.1", "y": "30.2"})
    assert refused.value.field == "collected_at"
    assert refused.value.problem.startswith(said), refused.value.problem
    assert "2026/4/5 9:30" in refused.value.problem and "2026年4月5日" in refused.value.problem


def test_a_production_date_that_cannot_be_read_names_the_date_forms() -> None:
    from gi.errors import InputError
    from gi.origin.fields import validate_row

    row = {"product": "p", "collected_at": "2026-04-05 09:30", "x": "120.1", "y": "30.2"}
    with pytest.raises(InputError) as refused:
        validate_row({**row, "production_date": "3/28/2026"})
    assert refused.value.problem == "'3/28/2026' is not a date; use 2026-03-28, 2026/3/28 or 2026年3月28日"


@pytest.mark.postgis
def test_a_number_in_a_workbooks_time_column_is_an_excel_date(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    code, _ = product(engine)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["产品", "采样时间", "经度", "纬度", "生产日期"])
    sheet.append(
        [code, 45444.375, 120.05, 30.05, 45440]
    )  # 2024-06-01 09:00 and 2024-05-28, in General format
    sheet.append([code, 1717203600, 120.05, 30.06, None])  # Unix seconds: not a serial, refused
    path = tmp_path / "serials.xlsx"
    workbook.save(path)
    got = outcomes(engine, path)
    assert got[0].status.value == "stored", got[0]
    assert got[1].field == "采样时间" and "is a number, not a date/time" in (got[1].problem or "")
    with engine.connect() as c:
        moment, made = c.execute(
            text(
                "SELECT collected_at, production_date FROM sample s JOIN gi_product p ON p.id = s.product_id "
                "WHERE p.code = :c"
            ),
            {"c": code},
        ).one()
    assert moment == datetime(2024, 6, 1, 9, 0, tzinfo=SH) and made.isoformat() == "2024-05-28"


# --------------------------------------------------------------------------------------------- what is printed


@pytest.mark.postgis
def test_the_summary_names_products_in_chinese_with_counts_and_refusals_on_stdout(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    code, name = product(engine)
    records = rows(code, 1_200)
    for r in records[:25]:
        r["lon"] = "abc"
    done = gi(url, "check", str(write_csv(tmp_path / "many.csv", records)), "-o", str(tmp_path / "r.csv"))
    assert done.returncode == 3, done.stderr
    assert f"{name} ({code})" in done.stdout
    assert re.search(r"│\s+1,175\s+│", done.stdout), done.stdout  # the table's counts, as the line's
    assert "1,175 stored" in done.stdout and "25 refused" in done.stdout
    assert "... and 5 more (see the result file)" in done.stdout and "more" not in done.stderr

    unknown = gi(url, "check", "producers", "--product", "no-such-product")
    assert unknown.returncode == 1
    assert f"{name} ({code})" in unknown.stderr  # the known products, by name and code


def test_producers_not_clearly_inside_are_named_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    from api.commands.check import print_producer_checks
    from gi.models import OriginOutcome
    from gi.origin.rule import OriginVerdict, ProducerCheck

    verdict = OriginVerdict(
        OriginOutcome.OUTSIDE, 1, 120.2, 30.2, -1234.5, 30.0, 1, 1, (), (), (), "origin/1", {}
    )
    print_producer_checks(
        [ProducerCheck(7, "某茶厂", "91330100MA0000000X", "xihu-longjing", "西湖龙井", verdict)]
    )
    printed = capsys.readouterr().out
    table = printed.split("Producers not clearly inside", 1)[1]
    assert "西湖龙井 (xihu-longjing)" in table and "-1,234.5" in table


def test_no_negative_zero_metres() -> None:
    from gi.quality.wording import reason_text

    for distance in (-0.3, -0.0, 0.2):
        said = reason_text("gps_outside", {"area_version": 1, "distance_m": distance})
        assert said.endswith("(area version 1, 0 m from the boundary)"), said
    assert reason_text("gps_outside", {"area_version": 1, "distance_m": -12.6}).endswith(
        "-13 m from the boundary)"
    )
