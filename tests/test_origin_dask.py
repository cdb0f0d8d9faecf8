"""Re-judgement on Dask (``gi areas rejudge --workers N``) on a real LocalCluster of worker processes: the same
verdicts as the serial path, resumable from its state file, idempotent when run again, and a worker killed in the
middle of a partition's transaction neither loses nor duplicates verdicts."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi, scratch_database
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_data.io import as_multipolygon
from gi import db as gi_db
from gi.db.local import drop_database, libpq_dsn
from gi.models import GIKind, GIProduct, ProductCategory
from gi.origin.batch import record_samples
from gi.origin.distributed import dask_client, plan_partitions, rejudge_distributed
from gi.origin.rejudge import rejudge_samples
from gi.register.areas import AreaImport, add_area_version
from gi.settings import Settings, get_settings

pytestmark = pytest.mark.postgis

SH = ZoneInfo("Asia/Shanghai")
MONTHS = ("2024-03-10 09:00", "2024-04-15 09:00", "2024-05-20 09:00")
PER_MONTH = 40
# The campaign's rule: a wider uncertain band than the one the samples were judged with (30 m), so samples near
# the western edge (x = 120.0) change from inside or outside to uncertain.
WIDE = {"boundary_tolerance_m": 2_000.0}


def _product(session: Session, x0: float) -> int:
    code = f"dask-{uuid.uuid4().hex[:8]}"
    p = GIProduct(
        code=code,
        name_zh=f"分布式{code[-8:]}",
        name_pinyin="x",
        name_en=code,
        gi_kind=GIKind.PROTECTED_PRODUCT,
        category=ProductCategory.FARM_PRODUCT,
    )
    session.add(p)
    session.flush()
    area = AreaImport(
        geometry=as_multipolygon(box(x0, 30.0, x0 + 0.1, 30.1)),
        legal_basis="test",
        source="test",
        source_crs="WGS84",
        valid_from=datetime(2010, 1, 1, tzinfo=SH),
        admin_units=[],
    )
    add_area_version(session, p, area)
    rows = [
        (
            k * 1000 + i + 1,
            {
                "product": code,
                "collected_at": when,
                "x": f"{x0 - 0.03 + 0.1 * ((i * 7919) % PER_MONTH) / PER_MONTH:.6f}",
                "y": f"{30.02 + 0.06 * (i % 37) / 37:.6f}",
                "gps_accuracy_m": "5",
                "lot_number": f"{code}-{k}-{i}",
            },
        )
        for k, when in enumerate(MONTHS)
        for i in range(PER_MONTH)
    ]
    record_samples(session, rows, source="dask test")
    return int(p.id)


@pytest.fixture(scope="module")
def template(db_url: str) -> Iterator[str]:
    """A committed database with two products' samples over three months, judged with the usual band."""
    with scratch_database(db_url, "gi_dask") as url:
        with gi_db.session_scope(gi_db.get_engine(url)) as session:
            _product(session, 120.0)
            _product(session, 121.0)
        gi_db.get_engine(url).dispose()
        yield url


@pytest.fixture
def copy_of(template: str) -> Iterator[Any]:
    """Throw-away copies of the template database (CREATE DATABASE ... TEMPLATE), dropped after the test."""
    server = make_url(template).set(database="postgres").render_as_string(hide_password=False)
    made: list[str] = []

    def make() -> str:
        import psycopg

        name = f"{make_url(template).database}_c{len(made)}"
        gi_db.dispose_engines()
        with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
        made.append(name)
        return make_url(template).set(database=name).render_as_string(hide_password=False)

    yield make
    gi_db.dispose_engines()
    for name in made:
        drop_database(server, name)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A LocalCluster of two worker processes (one thread each), as ``--workers 2`` starts."""
    with dask_client(workers=2) as c:
        yield c


def _settings() -> Settings:
    return get_settings().model_copy(update=WIDE)


def _verdicts(url: str) -> tuple[int, list[tuple[Any, ...]]]:
    """(number of verdict rows, the current verdict of every sample, comparable across databases)."""
    with gi_db.get_engine(url).connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM origin_verdict")).scalar_one()
        rows = conn.execute(
            text(
                "SELECT s.lot_number, v.area_version, v.verdict::text, round(v.distance_m::numeric, 6), v.flags, "
                "v.band_m, v.supersedes_id FROM sample s JOIN LATERAL (SELECT * FROM origin_verdict o "
                "WHERE o.sample_id = s.id ORDER BY o.id DESC LIMIT 1) v ON true ORDER BY s.lot_number"
            )
        ).all()
    return int(total), [tuple(r) for r in rows]


def _serial(url: str) -> tuple[int, list[tuple[Any, ...]]]:
    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        report = rejudge_samples(session, settings=_settings())
    assert report.rejudged > 0 and report.changed > 0  # the wider band changes outcomes
    return _verdicts(url)


def test_partitions_are_collection_months(template: str) -> None:
    with Session(gi_db.get_engine(template)) as session:
        parts = plan_partitions(session, _settings())
        one = plan_partitions(session, _settings(), since=datetime(2024, 5, 5, tzinfo=SH))
    assert [p.month.month for p in parts] == [3, 4, 5]
    assert all(p.samples == 2 * PER_MONTH for p in parts)
    assert [(p.month.month, p.since.day, p.samples) for p in one] == [(5, 5, 2 * PER_MONTH)]
    assert all(p.since.day == 1 and p.since.tzinfo is not None and p.until > p.since for p in parts)


def test_dask_gives_the_serial_verdicts_and_a_rerun_stores_nothing(
    copy_of: Any, client: Any, tmp_path: Path
) -> None:
    serial_url, dask_url = copy_of(), copy_of()
    expected = _serial(serial_url)
    seen: list[tuple[int, int | None]] = []
    state = tmp_path / "job.state"
    report = rejudge_distributed(
        client, dask_url, _settings(), state_path=state, progress=lambda _, d, t: seen.append((d, t))
    )
    assert report.partitions == len(MONTHS) and report.examined == 2 * len(MONTHS) * PER_MONTH
    assert _verdicts(dask_url) == expected
    assert seen[-1] == (report.examined, report.examined)
    # Resumed with its state file: every partition is already done.
    again = rejudge_distributed(client, dask_url, _settings(), state_path=state)
    assert again.partitions == 0 and again.skipped == len(MONTHS)
    # Run afresh: everything is examined again, nothing is stored twice.
    fresh = rejudge_distributed(client, dask_url, _settings())
    assert fresh.examined == report.examined and fresh.rejudged == 0
    assert _verdicts(dask_url) == expected


def test_a_state_file_of_another_job_is_refused(copy_of: Any, client: Any, tmp_path: Path) -> None:
    from gi.errors import InputError

    url = copy_of()
    state = tmp_path / "job.state"
    rejudge_distributed(client, url, _settings(), product_id=None, state_path=state)
    with pytest.raises(InputError, match="another job"):
        rejudge_distributed(client, url, _settings(), since=datetime(2024, 4, 1, tzinfo=SH), state_path=state)


def test_a_worker_killed_mid_transaction_loses_and_duplicates_nothing(copy_of: Any, tmp_path: Path) -> None:
    serial_url, dask_url = copy_of(), copy_of()
    expected = _serial(serial_url)
    database = make_url(dask_url).database
    blocker = gi_db.get_engine(dask_url).connect()
    # Hold the verdict table against inserts: every task judges its partition, then waits inside its
    # transaction on its INSERT, where one worker is killed.
    blocker.execute(text("LOCK TABLE origin_verdict IN SHARE MODE"))
    outcome: list[Any] = []
    with dask_client(workers=2) as client:
        job = threading.Thread(
            target=lambda: outcome.append(rejudge_distributed(client, dask_url, _settings(), state_path=None))
        )
        job.start()
        try:
            deadline = time.monotonic() + 180
            while True:
                with gi_db.get_engine(
                    dask_url
                ).connect() as probe:  # pg_stat_activity is fixed per transaction
                    waiting = probe.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO origin_verdict%'"
                        ),
                        {"d": database},
                    ).scalar_one()
                if waiting >= 2:
                    break
                assert time.monotonic() < deadline, "the workers never reached their inserts"
                time.sleep(0.2)
            pids = client.run(os.getpid)
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)  # a worker process this test started, dead in mid-transaction
        finally:
            blocker.rollback()  # releases the lock
            blocker.close()
        job.join(300)
    assert outcome, "the job did not finish"
    assert outcome[0].partitions == len(MONTHS)
    assert _verdicts(dask_url) == expected


def test_the_command_runs_the_job_on_a_local_cluster_and_refuses_a_serial_state(
    copy_of: Any, tmp_path: Path
) -> None:
    """`gi areas rejudge --workers 1 --state FILE` judges on Dask; --state without Dask is refused."""
    url = copy_of()
    state = tmp_path / "job.state"
    first = gi(url, "areas", "rejudge", "--workers", "1", "--state", str(state))
    assert first.returncode == 0, first.stderr
    assert f"{len(MONTHS)} partitions judged on Dask" in first.stdout
    assert f"{2 * len(MONTHS) * PER_MONTH} stored samples judged again, 0 new verdicts" in first.stdout
    refused = gi(url, "areas", "rejudge", "--state", str(state))
    assert refused.returncode == 1
    assert "--state" in refused.stderr and "Traceback" not in refused.stderr


def _area_changed_without_rejudgement(url: str) -> int:
    """The western product's area moved 0.02° west from April 2024, stored as the national register's load stores
    it (a version row, no re-judgement): its samples from April on are stale. Returns the product's id."""
    from geoalchemy2.shape import from_shape

    from gi.models import ProductionArea

    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        current = session.query(ProductionArea).filter(ProductionArea.valid_to.is_(None)).all()
        west = next(a for a in current if _xmin(session, a.id) == 120.0)
        moved = datetime(2024, 4, 1, tzinfo=SH)
        west.valid_to = moved
        session.flush()
        session.add(
            ProductionArea(
                product_id=west.product_id,
                version=west.version + 1,
                valid_from=moved,
                valid_to=None,
                geom=from_shape(as_multipolygon(box(119.98, 30.0, 120.08, 30.1)), srid=4326),
                legal_basis="test: moved west",
                admin_units=[],
                source="test",
                source_crs="WGS84",
                area_km2=west.area_km2,
                vertex_count=west.vertex_count,
                repair_notes=[],
            )
        )
        return int(west.product_id)


def _xmin(session: Session, area_id: int) -> float:
    return float(
        session.execute(
            text("SELECT ST_XMin(geom) FROM production_area WHERE id = :id"), {"id": area_id}
        ).scalar_one()
    )


def test_after_an_area_change_only_the_stale_samples_are_judged_again(copy_of: Any, client: Any) -> None:
    serial_url, dask_url = copy_of(), copy_of()
    product_id = _area_changed_without_rejudgement(serial_url)
    assert _area_changed_without_rejudgement(dask_url) == product_id
    with gi_db.session_scope(gi_db.get_engine(serial_url)) as session:
        rejudge_samples(session)  # every sample judged again: the reference
    before = _verdicts(dask_url)[0]
    report = rejudge_distributed(client, dask_url, get_settings(), only_stale=True)
    # Exactly the moved product's samples collected from April: two months of one product.
    assert report.examined == report.rejudged == 2 * PER_MONTH
    with gi_db.get_engine(dask_url).connect() as conn:
        judged = conn.execute(
            text(
                "SELECT DISTINCT s.product_id, date_trunc('month', s.collected_at AT TIME ZONE 'Asia/Shanghai'), "
                "v.area_version FROM origin_verdict v JOIN sample s ON s.id = v.sample_id "
                "WHERE v.supersedes_id IS NOT NULL"
            )
        ).all()
    assert sorted((p, m.month, version) for p, m, version in judged) == [
        (product_id, 4, 2),
        (product_id, 5, 2),
    ]
    after = _verdicts(dask_url)
    assert after[0] == before + 2 * PER_MONTH
    assert after[1] == _verdicts(serial_url)[1]  # the same current verdicts as judging everything
    # Nothing is stale any more.
    again = rejudge_distributed(client, dask_url, get_settings(), only_stale=True)
    assert again.examined == 0 and _verdicts(dask_url)[0] == after[0]


def test_ctrl_c_stops_the_job_in_one_line_and_the_workers_quietly(copy_of: Any, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the terminal's process group: the command and its worker processes) while the
    partitions are being judged: one line saying what was committed and how to resume, exit 130, no traceback
    or Dask log line from the workers (they never see the signal) or from their shutdown."""
    import subprocess
    import sys

    from fixtures import ROOT, default_sigint

    from gi.register.areas import lock_area_versions

    url = copy_of()
    state = tmp_path / "r.state"
    holder = gi_db.get_engine(url).connect()
    lock_area_versions(holder)  # every partition waits for the area versions: the job is mid-way when stopped
    env = {**os.environ, "GI_DATABASE_URL": url, "COLUMNS": "200", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "api.cli", "areas", "rejudge", "--workers", "2", "--state", str(state)]
    job = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            with gi_db.get_engine(url).connect() as probe:  # pg_stat_activity is fixed per transaction
                waiting = probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND wait_event_type = 'Lock' "
                        "AND query LIKE '%pg_advisory_xact_lock_shared%'"
                    ),
                    {"d": make_url(url).database},
                ).scalar_one()
            if waiting >= 2:
                break
            assert job.poll() is None and time.monotonic() < deadline, "the workers never started judging"
            time.sleep(0.2)
        os.killpg(job.pid, signal.SIGINT)  # the process group this test started, as a terminal's Ctrl-C
        try:
            out, err = job.communicate(timeout=240)
        except subprocess.TimeoutExpired as late:
            # Say what the job had printed, to tell a hang from slowness.
            raise AssertionError(f"no exit 240 s after Ctrl-C; stderr so far: {late.stderr!r}") from late
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
        holder.rollback()
        holder.close()
    assert job.returncode == 130, err
    assert err.strip().splitlines() == [
        f"interrupted: no partition committed; run it again with --state {state} to resume "
        "(committed months are skipped)"
    ]
    assert out == ""
    again = gi(url, "areas", "rejudge", "--workers", "2", "--state", str(state))
    assert again.returncode == 0 and f"{len(MONTHS)} partitions judged on Dask" in again.stdout, again.stderr
