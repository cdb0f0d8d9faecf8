"""Archived data months (`gi db archive`, migration 0022, docs/scale.md "Partitioned history"): a month of
samples, verdicts, evidence and listings is detached into protected archive tables and recorded; `gi audit
verify` still checks every archived row (and catches one altered, or an archive dropped); the refusals; the
partitions command lists archived months and does not create them again; the downgrade attaches them back."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime

import psycopg
import pytest
from fixtures import database_copy, gi, scratch_database
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from test_partitions import MONTHS, SH, TABLES, _columns, _fill, _fill_listings, _rows

from gi import db as gi_db
from gi.audit.verify import Verification, verify_log
from gi.db.archive import archive_data_month, archive_name
from gi.db.local import libpq_dsn
from gi.db.partitions import PARTITIONED, ensure_partitions, existing_months, partition_name
from gi.errors import ConflictError, ErrorKind, InputError, NotFoundError, classify

pytestmark = pytest.mark.postgis

MONTH = MONTHS[2]  # November 2025: 3 samples (2 re-judged: 5 origin verdicts), 2 listings
LABEL = f"{MONTH:%Y-%m}"
DATA_TABLES = (
    "sample",
    "origin_verdict",
    "quality_verdict",
    "fingerprint_verdict",
    "origin_evidence",
    "listing",
)
EXPECTED_ROWS = {
    "sample": 3,
    "origin_verdict": 5,
    "quality_verdict": 3,
    "fingerprint_verdict": 3,
    "origin_evidence": 3,
    "listing": 2,
}


@pytest.fixture(scope="module")
def history_template(db_url: str) -> Iterator[str]:
    """A database with 14 months of samples, re-judged verdicts, evidence and listings (test_partitions' history),
    migrated to the head; copied by each test."""
    with scratch_database(db_url, "gi_arch", migrate=False) as url:
        gi_db.upgrade(url, "0017")
        engine = create_engine(url)
        with engine.begin() as conn:
            _fill(conn)
            _fill_listings(conn)
        engine.dispose()
        gi_db.upgrade(url)
        gi_db.get_engine(url).dispose()
        yield url


@pytest.fixture
def history(history_template: str) -> Iterator[str]:
    """A throw-away copy of the history (archiving commits; archived rows cannot be cleaned up)."""
    with database_copy(history_template, "gi_arch_copy") as url:
        yield url


@pytest.fixture
def engine(history: str) -> Iterator[Engine]:
    """An engine on the copy, disposed after."""
    engine = create_engine(history)
    yield engine
    engine.dispose()


def _as_superuser(url: str, *statements: str) -> None:
    """Run SQL with every trigger bypassed, as a superuser attacker would."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_archiving_a_month_detaches_it_and_every_row_still_verifies(history: str, engine: Engine) -> None:
    before = _rows(history)
    assert verify_log(engine).findings == []
    done = gi(history, "db", "archive", LABEL)
    assert done.returncode == 0, done.stderr
    assert f"archived {LABEL}: {sum(EXPECTED_ROWS.values())} rows in 6 tables" in done.stdout
    for table, rows in EXPECTED_ROWS.items():
        kept = archive_name(table, MONTH)
        assert f"{table}: {rows} rows in {kept}" in done.stdout
        assert _count(engine, f"SELECT count(*) FROM {kept}") == rows
        assert MONTH not in _months(engine, table)
        key = PARTITIONED[table]
        live = f"SELECT count(*) FROM {table} WHERE {key} >= '{MONTH}' AND {key} < '{MONTHS[3]}'"
        assert _count(engine, live) == 0
    # Nothing lost: the live tables and the archives together hold every row as before.
    after = _rows(history)
    for table in DATA_TABLES:
        union = sorted(after[table] + _archived_rows(engine, table))
        assert union == before[table], table
    # The verifier reads each archive as part of its table: every recorded row checked, nothing reported missing.
    result = verify_log(engine)
    assert result.findings == []
    assert result.rows["origin_verdict"] == len(before["origin_verdict"])
    assert result.rows["listing"] == len(before["listing"])
    cli = gi(history, "audit", "verify")
    assert cli.returncode == 0 and "audit log verified" in cli.stdout, cli.stderr
    # Foreign keys between the archived tables hold as between the live ones.
    with engine.connect() as conn:
        keys = dict(
            conn.execute(
                text(
                    "SELECT conname, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                    "AND conrelid = to_regclass(:t)"
                ),
                {"t": archive_name("origin_evidence", MONTH)},
            ).all()
        )
    assert keys["fk_origin_evidence_sample_id_sample"] == archive_name("sample", MONTH)
    assert keys["fk_origin_evidence_origin_verdict_id_origin_verdict"] == archive_name(
        "origin_verdict", MONTH
    )
    # The keys the live tables check with statement triggers (0024_batchfk, 0026_productfk) are foreign keys on the
    # archives.
    with engine.connect() as conn:
        for table, name, target in (
            ("origin_verdict", "fk_origin_verdict_sample_id_sample", archive_name("sample", MONTH)),
            ("sample", "fk_sample_id_sample_identity", "sample_identity"),
            ("sample", "fk_sample_product_id_gi_product", "gi_product"),
            ("origin_verdict", "fk_origin_verdict_product_id_gi_product", "gi_product"),
            ("origin_verdict", "fk_origin_verdict_area_id_production_area", "production_area"),
        ):
            assert (
                conn.execute(
                    text(
                        "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                        "AND conrelid = to_regclass(:t) AND conname = :n"
                    ),
                    {"t": archive_name(table, MONTH), "n": name},
                ).scalar()
                == target
            ), name
    # The live self-reference of re-judged verdicts is back on the live table.
    assert (
        _count(
            engine,
            "SELECT count(*) FROM pg_constraint WHERE conname = 'fk_origin_verdict_supersedes_id_origin_verdict' "
            "AND conrelid = 'origin_verdict'::regclass",
        )
        == 1
    )


def _archived_rows(engine: Engine, table: str) -> list[str]:
    """The rows of ``table``'s archived month as test_partitions' ``_rows`` writes the live table's."""
    with engine.connect() as conn:
        conn.execute(text("SET timezone = 'UTC'"))
        cols = [c for c in _columns(conn, table) if c != "collected_at" or table == "sample"]
        rows = conn.execute(text(f"SELECT ROW({', '.join(cols)})::text FROM {archive_name(table, MONTH)}"))
        return sorted(rows.scalars().all())


def _months(engine: Engine, table: str) -> set[date]:
    with engine.connect() as conn:
        return existing_months(conn, table)


def test_an_archive_is_protected_and_its_month_stays_closed(history: str, engine: Engine) -> None:
    archive_data_month(engine, MONTH)
    kept = archive_name("origin_verdict", MONTH)
    for statement in (
        f"UPDATE {kept} SET rule = 'forged'",
        f"DELETE FROM {kept}",
        f"TRUNCATE {kept} CASCADE",
        f"DELETE FROM {archive_name('sample', MONTH)}",
        "UPDATE data_archive SET row_count = 0",
        "DELETE FROM data_archive",
    ):
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text(statement))
        assert "refused" in str(refused.value), statement
    # A late sample of the archived month is refused, not hidden in the DEFAULT partition.
    with pytest.raises(DBAPIError) as late, engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sample (id, product_id, collected_at, submitted_x, submitted_y, declared_crs, "
                "location_source, location) SELECT gen_random_uuid(), id, :at, 120.1, 30.2, 'EPSG:4326', "
                "'device_gps', ST_SetSRID(ST_MakePoint(120.1, 30.2), 4326) FROM gi_product LIMIT 1"
            ),
            {"at": datetime(MONTH.year, MONTH.month, 15, 12, tzinfo=SH)},
        )
    assert f"sample_default_archived_p{MONTH:%Y_%m}" in str(late.value)
    problem = classify(late.value)
    assert problem.kind is ErrorKind.CONFLICT
    assert problem.message == (
        f"refused: sample: {LABEL} is an archived month (gi db archive); rows of it can no longer be stored"
    )
    # The partitions command does not create the archived month again, and lists it.
    with engine.begin() as conn:
        report = ensure_partitions(conn, since=MONTHS[0])
    assert partition_name("sample", MONTH) not in report.created
    listed = gi(history, "db", "partitions")
    assert listed.returncode == 0, listed.stderr
    assert (
        f"archived {LABEL}" in listed.stdout and "sample 3" in listed.stdout and "listing 2" in listed.stdout
    )
    assert verify_log(engine).findings == []


def test_an_altered_or_dropped_archive_is_caught(history: str, engine: Engine) -> None:
    archive_data_month(engine, MONTH)
    verdicts, samples = archive_name("origin_verdict", MONTH), archive_name("sample", MONTH)
    forged = _count(engine, f"SELECT min(id) FROM {verdicts}")
    _as_superuser(history, f"UPDATE {verdicts} SET verdict = 'inside', rule = 'forged' WHERE id = {forged}")
    found = [f.text() for f in verify_log(engine).findings]
    assert any(t.startswith(f"origin_verdict {forged}: the row differs from what entry") for t in found), (
        found
    )
    assert any(t.startswith(f"origin_verdict archive {LABEL}: {verdicts} holds 5 rows") for t in found), found
    assert gi(history, "audit", "verify").returncode == 5
    # The samples are not recorded row by row in the log: the archive's digest catches an altered one.
    _as_superuser(history, f"UPDATE {samples} SET submitted_x = submitted_x + 0.5")
    found = [f.text() for f in verify_log(engine).findings]
    assert any(
        t.startswith(f"sample archive {LABEL}: {samples} holds 3 rows with another digest") for t in found
    )
    # A dropped archive: one clear finding, not each of its rows as deleted.
    listings = archive_name("listing", MONTH)
    _as_superuser(history, f"DROP TABLE {listings}")
    found = [f.text() for f in verify_log(engine).findings]
    assert (
        f"listing archive {LABEL}: its table {listings} is not in the database: restore it from its dump to "
        "verify the 2 rows it holds" in found
    )
    assert not any(t.startswith("listing ") and "it was deleted" in t for t in found)
    cli = gi(history, "audit", "verify")
    assert cli.returncode == 5 and "restore it from its dump" in cli.stderr


def test_archiving_refuses_open_unknown_stale_and_repeated_months(history: str, engine: Engine) -> None:
    this_month = f"{datetime.now(SH):%Y-%m}"
    current = gi(history, "db", "archive", this_month)
    assert (
        current.returncode == 1
        and current.stderr.startswith("error: month: ")
        and "not over yet" in current.stderr
    )
    bad = gi(history, "db", "archive", "2025-13")
    assert bad.returncode == 1 and bad.stderr.startswith("error: month: '2025-13' is not a month")
    assert "Traceback" not in bad.stderr
    with pytest.raises(NotFoundError, match="no data table has a partition for 2020-01"):
        archive_data_month(engine, date(2020, 1, 1))
    # A sample of the month without a current origin verdict (re-judgement pending): refused until judged.
    stale = MONTHS[4]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sample (id, product_id, collected_at, submitted_x, submitted_y, declared_crs, "
                "location_source, location) SELECT gen_random_uuid(), id, :at, 120.1, 30.2, 'EPSG:4326', "
                "'device_gps', ST_SetSRID(ST_MakePoint(120.1, 30.2), 4326) FROM gi_product "
                "WHERE code = 'part-test'"
            ),
            {"at": datetime(stale.year, stale.month, 20, 9, tzinfo=SH)},
        )
    with pytest.raises(ConflictError, match="1 samples of .* have no current origin verdict"):
        archive_data_month(engine, stale)
    assert MONTHS[4] in _months(engine, "sample")  # nothing was detached
    archive_data_month(engine, MONTH)
    with pytest.raises(InputError, match="already archived"):
        archive_data_month(engine, MONTH)
    again = gi(history, "db", "archive", LABEL)
    assert again.returncode == 1 and "already archived" in again.stderr


def test_downgrade_attaches_archived_data_months_back(history: str, engine: Engine) -> None:
    before = _rows(history, TABLES)
    archive_data_month(engine, MONTH)
    archive_data_month(engine, MONTHS[3])
    engine.dispose()
    gi_db.downgrade(history, "0021_maps")
    gi_db.get_engine(history).dispose()
    assert _rows(history, TABLES) == before
    for table in DATA_TABLES:
        assert {MONTH, MONTHS[3]} <= _months(engine, table)
    assert verify_log(engine).findings == []
    gi_db.upgrade(history)
    gi_db.get_engine(history).dispose()
    assert _rows(history, TABLES) == before
    assert _count(engine, "SELECT count(*) FROM data_archive") == 0
    archive_data_month(engine, MONTH)  # and a month can be archived again
    assert verify_log(engine).findings == []


def test_a_season_report_reads_live_months_and_says_which_are_archived(engine: Engine) -> None:
    from gi.reads.season import gather_season

    end = date(MONTHS[5].year, MONTHS[5].month, 28)
    with Session(engine) as session:
        before = gather_season(session, MONTHS[0], end, ["part-test"])
    assert len(before.samples) == 18 and not any("归档" in n for n in before.notes)
    archive_data_month(engine, MONTH)
    with Session(engine) as session:
        after = gather_season(session, MONTHS[0], end, ["part-test"])
    assert len(after.samples) == 15
    assert (
        f"{MONTH.year}年{MONTH.month}月的样品已归档（gi db archive），未计入本报告；归档数据仍由审计日志校验。"
        in (after.notes)
    )


def test_a_sample_of_an_archived_month_is_not_submitted_again(engine: Engine) -> None:
    from gi.origin.store import stored_samples

    with engine.connect() as conn:
        archived_id = conn.execute(
            text("SELECT id FROM sample WHERE collected_at >= :a AND collected_at < :b LIMIT 1"),
            {"a": MONTH, "b": MONTHS[3]},
        ).scalar_one()
    archive_data_month(engine, MONTH)
    unknown = uuid.uuid4()
    with Session(engine) as session:
        assert stored_samples(session, [unknown]) == {}  # a new sample: nothing stored, nothing refused
        with pytest.raises(
            ConflictError, match=f"sample {archived_id} is stored in {LABEL}, an archived month"
        ):
            stored_samples(session, [unknown, archived_id])


def test_a_verification_under_way_is_not_shown_a_half_archived_month(engine: Engine) -> None:
    """`gi db archive` waits for a running `gi audit verify` (its locks come before its snapshot), so the
    verifier never sees a month detached but not yet recorded."""
    started, release = threading.Event(), threading.Event()

    def pause(_step: str) -> None:
        if not started.is_set():
            started.set()
            release.wait(60)

    results: dict[str, object] = {}
    verifier = threading.Thread(target=lambda: results.update(verified=verify_log(engine, progress=pause)))
    archiver = threading.Thread(target=lambda: results.update(archived=archive_data_month(engine, MONTH)))
    verifier.start()
    assert started.wait(60)
    archiver.start()
    archiver.join(2)
    assert archiver.is_alive()  # waiting for the verification's locks
    release.set()
    verifier.join(120)
    archiver.join(120)
    verified = results["verified"]
    assert isinstance(verified, Verification) and verified.findings == []
    assert "archived" in results
    assert verify_log(engine).findings == []


def test_rejudgement_reads_live_months_and_says_which_it_skipped(engine: Engine) -> None:
    from gi.origin.rejudge import rejudge_samples

    archive_data_month(engine, MONTH)
    since = datetime(MONTH.year, MONTH.month, 1, tzinfo=SH)
    until = datetime(MONTHS[3].year, MONTHS[3].month, 1, tzinfo=SH)
    with engine.begin() as conn:
        report = rejudge_samples(conn, since=since, until=until)
    assert (report.examined, report.archived_months) == (0, [MONTH])
    assert (
        report.describe()
        == f"no stored sample is affected; archived months not re-judged (gi db archive): {LABEL}"
    )
    with engine.begin() as conn:  # a period ending where the archived month starts does not name it
        assert (
            rejudge_samples(conn, since=since.replace(month=since.month - 1), until=since).archived_months
            == []
        )
