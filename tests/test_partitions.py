"""Partitioned history (migration 0015, docs/scale.md): a database with 14 months of samples and re-judged
verdicts is migrated up and down and loses nothing; a season's query reads exactly its months' partitions; the
partitions command creates months ahead and reports rows in DEFAULT; the audit log still refuses changes on a
partition and verifies after the migration."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi, scratch_database
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gi import db as gi_db
from gi.audit.archive import archive_month
from gi.audit.verify import verify_log
from gi.db.partitions import add_months, default_rows, ensure_partitions, existing_months
from gi.reads.season import season_samples, season_samples_query
from gi.reads.verdicts import latest_of

pytestmark = pytest.mark.postgis

SH = ZoneInfo("Asia/Shanghai")
TABLES = (
    "sample",
    "origin_verdict",
    "quality_verdict",
    "fingerprint_verdict",
    "origin_evidence",
    "lab_result",
    "listing",
    "balance_flag",
)
FIRST = date(2025, 9, 1)  # 14 months: September 2025 .. October 2026
MONTHS = [
    date(FIRST.year + (FIRST.month - 1 + k) // 12, (FIRST.month - 1 + k) % 12 + 1, 1) for k in range(14)
]


def _fill(conn: Connection) -> None:
    """Samples over 14 months with origin verdicts (half re-judged), quality and fingerprint verdicts, evidence,
    lab results and a producer's verdicts, written as the 0014 schema stores them."""
    product = conn.execute(
        text(
            "INSERT INTO gi_product (code, name_zh, name_pinyin, name_en, gi_kind, category) "
            "VALUES ('part-test', '分区测试', 'fenqu', 'partition test', 'protected_product', 'farm_product') "
            "RETURNING id"
        )
    ).scalar_one()
    producer = conn.execute(
        text(
            "INSERT INTO producer (product_id, name, kind, synthetic, credit_code) VALUES (:p, '测试茶厂', 'producer', true, "
            "'91330100MA2H000001') "
            "RETURNING id"
        ),
        {"p": product},
    ).scalar_one()
    verdict_cols = "product_id, verdict, distance_m, band_m, flags, other_areas, rule, inputs"
    first = conn.execute(
        text(
            f"INSERT INTO origin_verdict (producer_id, {verdict_cols}) VALUES (:pr, :p, 'inside', 12.5, 30, "
            "'{}', '[]', 'r1', '{\"x\": 1}') RETURNING id"
        ),
        {"pr": producer, "p": product},
    ).scalar_one()
    conn.execute(
        text(
            f"INSERT INTO origin_verdict (producer_id, supersedes_id, {verdict_cols}) VALUES (:pr, :s, :p, "
            "'uncertain', 2.5, 30, '{near_edge}', '[]', 'r2', '{\"x\": 2}')"
        ),
        {"pr": producer, "p": product, "s": first},
    )
    for k, month in enumerate(MONTHS):
        for i in range(3):
            when = datetime(month.year, month.month, 1 + 9 * i, 10, 30, tzinfo=SH) + timedelta(microseconds=k)
            sid = uuid.uuid4()
            conn.execute(
                text(
                    "INSERT INTO sample (id, product_id, producer_id, collected_at, submitted_x, submitted_y, "
                    "declared_crs, gps_accuracy_m, location_source, location, lot_number, notes) VALUES (:id, :p, "
                    ":pr, :at, :x, :y, 'EPSG:4326', 4.5, 'device_gps', ST_SetSRID(ST_MakePoint(:x, :y), 4326), "
                    ":lot, E'tab\\there')"
                ),
                {
                    "id": sid,
                    "p": product,
                    "pr": producer,
                    "at": when,
                    "x": 120.1 + 0.001 * i,
                    "y": 30.2,
                    "lot": f"L{k}-{i}",
                },
            )
            v1 = conn.execute(
                text(
                    f"INSERT INTO origin_verdict (sample_id, {verdict_cols}) VALUES (:s, :p, 'inside', 40.25, 30, "
                    "'{}', '[]', 'r1', :inputs) RETURNING id"
                ),
                {"s": sid, "p": product, "inputs": json.dumps({"at": when.isoformat(), "k": k})},
            ).scalar_one()
            current = v1
            if i % 2 == 0:  # re-judged after an area change
                current = conn.execute(
                    text(
                        f"INSERT INTO origin_verdict (sample_id, supersedes_id, {verdict_cols}) VALUES (:s, :v, :p, "
                        "'outside', -3.5, 30, '{moved}', '[{\"code\": \"x\"}]', 'r2', '{}') RETURNING id"
                    ),
                    {"s": sid, "v": v1, "p": product},
                ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO lab_result (sample_id, indicator_code, value, unit, laboratory, tested_on) "
                    "VALUES (:s, 'moisture', 6.5, 'g/100g', '测试实验室', :d)"
                ),
                {"s": sid, "d": month},
            )
            conn.execute(
                text(
                    "INSERT INTO quality_verdict (sample_id, product_id, outcome, grades_met, indicators, "
                    "missing_mandatory, rule, rule_config, inputs) VALUES (:s, :p, 'pass', '{特级}', '[]', '{}', "
                    "'simple_acceptance', '{}', '{}')"
                ),
                {"s": sid, "p": product},
            )
            fp = conn.execute(
                text(
                    "INSERT INTO fingerprint_verdict (sample_id, product_id, outcome, synthetic_reference, "
                    "variables, alpha, deviations, candidates, reason, rule, inputs, p_value) VALUES (:s, :p, "
                    "'consistent', false, '{d13C}', 0.01, '[]', '[]', '一致', 'mcd', '{}', 0.5)"
                    " RETURNING id"
                ),
                {"s": sid, "p": product},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO origin_evidence (sample_id, grade, reasons, origin_verdict_id, fingerprint_verdict_id,"
                    " rule) VALUES (:s, 'consistent', '[]', :v, :f, 'evidence-1')"
                ),
                {"s": sid, "v": current, "f": fp},
            )


def _fill_listings(conn: Connection) -> None:
    """Listings observed over the same 14 months (two a month, one a re-listing on another platform) and a
    balance run flagging every third, written as the 0017 schema stores them."""
    product = conn.execute(text("SELECT id FROM gi_product WHERE code = 'part-test'")).scalar_one()
    run = conn.execute(
        text(
            "INSERT INTO balance_run (product_id, season, unit, issued, market_volume, rule, inputs) "
            "VALUES (:p, 2026, 'kg', 100, 120, 'balance-1', '{}') RETURNING id"
        ),
        {"p": product},
    ).scalar_one()
    for k, month in enumerate(MONTHS):
        for i, platform in enumerate(("淘宝", "京东")):
            listing = conn.execute(
                text(
                    "INSERT INTO listing (platform, listing_key, shop, title, product_id, claimed_gi, claimed_mark, "
                    "ship_from, ship_from_submitted, price, observed_on, season, synthetic) VALUES (:pl, :key, "
                    "'测试店', '分区测试 特级', :p, true, false, ST_SetSRID(ST_MakePoint(120.1, 30.2), 4326), "
                    "'{\"x\": 120.1}', 88.5, :on, :season, true) RETURNING id"
                ),
                {
                    "pl": platform,
                    "key": f"item-{k}",
                    "p": product,
                    "on": month + timedelta(days=3 + 10 * i),
                    "season": month.year,
                },
            ).scalar_one()
            if (2 * k + i) % 3 == 0:
                conn.execute(
                    text(
                        "INSERT INTO balance_flag (run_id, kind, product_id, season, listing_id, threshold, rule, "
                        "inputs) VALUES (:r, 'listing_unauthorized', :p, :season, :l, 0, 'balance-1', '{}')"
                    ),
                    {"r": run, "p": product, "season": month.year, "l": listing},
                )


def _rows(url: str, tables: tuple[str, ...] = TABLES) -> dict[str, list[str]]:
    """Every row of ``tables`` as text, over the columns the 0014 schema has (sorted: order-independent)."""
    engine = create_engine(url)
    out = {}
    with engine.connect() as conn:
        conn.execute(text("SET timezone = 'UTC'"))
        for table in tables:
            cols = [c for c in _columns(conn, table) if c != "collected_at" or table == "sample"]
            out[table] = sorted(
                conn.execute(text(f"SELECT ROW({', '.join(cols)})::text FROM {table}")).scalars().all()
            )
    engine.dispose()
    return out


def _columns(conn: Connection, table: str) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum"
            ),
            {"t": table},
        ).scalars()
    )


@pytest.fixture(scope="module")
def history(db_url: str) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """A database at 0014 with 14 months of history, then migrated to 0015; and its rows before."""
    with scratch_database(db_url, "gi_part", migrate=False) as url:
        gi_db.upgrade(url, "0017")
        engine = create_engine(url)
        with engine.begin() as conn:
            _fill(conn)
            _fill_listings(conn)
        engine.dispose()
        before = _rows(url)
        gi_db.upgrade(url)
        yield url, before


def test_migration_up_and_down_loses_nothing(history: tuple[str, dict[str, list[str]]]) -> None:
    url, before = history
    assert len(before["sample"]) == 42 and len(before["origin_verdict"]) == 42 + 28 + 2
    assert _rows(url) == before
    engine = create_engine(url)
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(
                text("SELECT relname, relkind FROM pg_class WHERE relname = ANY (:t)"),
                {"t": [*TABLES, "audit_entry", "sample_identity"]},
            ).all()
        )
        # Each sample verdict carries its sample's moment; producers' verdicts have none and sit in DEFAULT.
        mismatched = conn.execute(
            text(
                "SELECT count(*) FROM origin_verdict v JOIN sample s ON s.id = v.sample_id "
                "WHERE v.collected_at <> s.collected_at"
            )
        ).scalar_one()
        producers = conn.execute(text("SELECT count(*) FROM origin_verdict_default")).scalar_one()
        identities = conn.execute(text("SELECT count(*) FROM sample_identity")).scalar_one()
    engine.dispose()
    assert {t: kinds[t] for t in TABLES[:5]} == dict.fromkeys(TABLES[:5], "p")
    assert kinds["audit_entry"] == "p" and kinds["lab_result"] == "r" and kinds["sample_identity"] == "r"
    assert (mismatched, producers, identities) == (0, 2, 42)
    assert verify_log(create_engine(url)).findings == []

    gi_db.downgrade(url, "0017")
    try:
        assert _rows(url) == before
        assert verify_log(create_engine(url)).findings == []
    finally:
        gi_db.upgrade(url)
    assert _rows(url) == before


def test_listings_migration_up_and_down_loses_nothing(history: tuple[str, dict[str, list[str]]]) -> None:
    """0019: listings partitioned by observed month, listing_identity keeping one platform item one listing,
    and back; every listing and balance flag the same each way, and the audit log still verifies."""
    url, before = history
    assert len(before["listing"]) == 28 and len(before["balance_flag"]) == 10

    def state() -> tuple[str, int, list[str]]:
        engine = create_engine(url)
        with engine.connect() as conn:
            kind = conn.execute(
                text("SELECT relkind::text FROM pg_class WHERE relname = 'listing'")
            ).scalar_one()
            has_identity = conn.execute(text("SELECT to_regclass('listing_identity')")).scalar() is not None
            identities = (
                conn.execute(text("SELECT count(*) FROM listing_identity")).scalar_one()
                if has_identity
                else -1
            )
            months = sorted(
                conn.execute(
                    text(
                        "SELECT DISTINCT tableoid::regclass::text FROM listing WHERE observed_on >= '2026-06-01' "
                        "AND observed_on < '2026-09-01'"
                    )
                ).scalars()
            )
        engine.dispose()
        return kind, identities, months

    assert _rows(url, ("listing", "balance_flag")) == {t: before[t] for t in ("listing", "balance_flag")}
    assert state() == ("p", 28, ["listing_p2026_06", "listing_p2026_07", "listing_p2026_08"])
    gi_db.downgrade(url, "0018")
    try:
        assert _rows(url, ("listing", "balance_flag")) == {t: before[t] for t in ("listing", "balance_flag")}
        assert state() == ("r", -1, ["listing"])
        assert verify_log(create_engine(url)).findings == []
    finally:
        gi_db.upgrade(url)
    assert _rows(url) == before
    assert state()[0] == "p"
    assert verify_log(create_engine(url)).findings == []


def test_listing_identity_keeps_one_platform_item_one_listing(
    history: tuple[str, dict[str, list[str]]],
) -> None:
    """The keys the partitioned table cannot hold: a platform item listed twice (in another month) is refused;
    a listing moved to another month keeps its identity and its flags; a listing deleted takes its identity (a flagged one stays: its flags are append-only)."""
    url, _ = history
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            with pytest.raises(DBAPIError) as duplicate, conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO listing (platform, listing_key, shop, title, claimed_gi, claimed_mark, "
                        "observed_on, season, synthetic) VALUES ('淘宝', 'item-0', '别的店', 't', false, false, "
                        "'2026-08-20', 2026, true)"
                    )
                )
            assert "uq_listing_identity_platform_key" in str(duplicate.value)
            moved = conn.execute(
                text(
                    "UPDATE listing SET observed_on = '2026-10-02' WHERE platform = '淘宝' AND listing_key = 'item-0' "
                    "RETURNING id, tableoid::regclass::text"
                )
            ).one()
            assert moved[1] == "listing_p2026_10"
            kept = conn.execute(
                text("SELECT count(*) FROM listing_identity WHERE id = :i"), {"i": moved[0]}
            ).scalar_one()
            flags = conn.execute(
                text("SELECT count(*) FROM balance_flag WHERE listing_id = :i"), {"i": moved[0]}
            ).scalar_one()
            assert (kept, flags) == (1, 1)
            # A listing without flags can be deleted and takes its identity; a flagged one cannot (its flags
            # are append-only), as before partitioning.
            unflagged = conn.execute(
                text("SELECT id FROM listing WHERE platform = '京东' AND listing_key = 'item-0'")
            ).scalar_one()
            conn.execute(text("DELETE FROM listing WHERE id = :i"), {"i": unflagged})
            gone = conn.execute(
                text("SELECT count(*) FROM listing_identity WHERE id = :i"), {"i": unflagged}
            ).scalar_one()
            assert gone == 0
            with pytest.raises(DBAPIError) as refused, conn.begin_nested():
                conn.execute(text("DELETE FROM listing WHERE id = :i"), {"i": moved[0]})
            assert "append-only" in str(refused.value)
            tx.rollback()
    finally:
        engine.dispose()


def _plan_relations(plan: Any) -> set[str]:
    found = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= _plan_relations(value)
    elif isinstance(plan, list):
        for item in plan:
            found |= _plan_relations(item)
    return found


def test_a_season_query_reads_only_its_months(history: tuple[str, dict[str, list[str]]]) -> None:
    url, _ = history
    engine = create_engine(url)
    with engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN (FORMAT JSON) SELECT v.verdict, count(*) FROM sample s "
                "JOIN origin_verdict v ON v.sample_id = s.id AND v.collected_at = s.collected_at "
                "WHERE s.collected_at >= '2026-06-01 00:00+08' AND s.collected_at < '2026-09-01 00:00+08' "
                "AND v.collected_at >= '2026-06-01 00:00+08' AND v.collected_at < '2026-09-01 00:00+08' "
                "GROUP BY v.verdict"
            )
        ).scalar_one()
        season = conn.execute(
            text(
                "SELECT count(*) FROM sample WHERE collected_at >= '2026-06-01 00:00+08' "
                "AND collected_at < '2026-09-01 00:00+08'"
            )
        ).scalar_one()
    engine.dispose()
    print(json.dumps(plan, indent=1))
    assert _plan_relations(plan) == {
        "sample_p2026_06",
        "sample_p2026_07",
        "sample_p2026_08",
        "origin_verdict_p2026_06",
        "origin_verdict_p2026_07",
        "origin_verdict_p2026_08",
    }
    assert season == 9


def test_a_season_read_of_current_verdicts_reads_only_its_months(
    history: tuple[str, dict[str, list[str]]],
) -> None:
    """The season read (gi/reads/season.py, through gi/reads/verdicts.py's current_join) plans the season's month
    partitions of samples and of both verdict tables, and nothing of the other 11 months; and what it returns is
    each sample's current verdict as latest_of (the other form of the same definition) finds it."""
    url, _ = history
    engine = create_engine(url)
    query = season_samples_query(date(2026, 6, 1), date(2026, 8, 31))
    compiled = query.compile(dialect=engine.dialect)
    try:
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
            ).scalar_one()
        with Session(engine) as session:
            frame = season_samples(session, date(2026, 6, 1), date(2026, 8, 31))
            latest = latest_of(session, "origin", [uuid.UUID(i) for i in frame["sample_id"]])
    finally:
        engine.dispose()
    partitions = {name for name in _plan_relations(plan) if re.search(r"_p\d{4}_\d{2}$|_default$", name)}
    assert partitions == {
        f"{table}_p2026_{month:02d}"
        for table in ("sample", "origin_verdict", "quality_verdict")
        for month in (6, 7, 8)
    }
    assert len(frame) == 9
    # Re-judged samples (every other one) show the later verdict, written in the same transaction (same
    # checked_at: the id decides).
    shown = {str(i): getattr(v, "value", v) for i, v in zip(frame["sample_id"], frame["origin"], strict=True)}
    assert shown == {str(k): v.verdict.value for k, v in latest.items()}
    assert set(shown.values()) == {"inside", "outside"}


def test_partitions_command_creates_ahead_and_reports_default_rows(
    history: tuple[str, dict[str, list[str]]],
) -> None:
    url, _ = history
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            report = ensure_partitions(conn, ahead=6, today=date(2027, 2, 10))
            assert "sample_p2027_08" in report.created and "origin_evidence_p2027_08" in report.created
            assert "audit_entry_p2027_08" in report.created and "listing_p2027_08" in report.created
            assert date(2027, 8, 1) in existing_months(conn, "quality_verdict")
            assert report.ok
            again = ensure_partitions(conn, ahead=6, today=date(2027, 2, 10))
            assert again.created == []
            # A sample from before the first partition lands in DEFAULT: reported, and its month is not created.
            conn.execute(
                text(
                    "INSERT INTO sample (id, product_id, collected_at, submitted_x, submitted_y, declared_crs, "
                    "location_source, location) SELECT gen_random_uuid(), id, '2019-05-04 12:00+08', 120, 30, "
                    "'EPSG:4326', 'device_gps', ST_SetSRID(ST_MakePoint(120, 30), 4326) FROM gi_product LIMIT 1"
                )
            )
            late = ensure_partitions(conn, ahead=0, since=date(2019, 4, 1), today=date(2019, 6, 1))
            assert "sample_p2019_05" in late.blocked and "sample_p2019_04" in late.created
            assert late.default_rows["sample"] == 1 and not late.ok
            assert any("sample_default: 1 rows" in line for line in late.lines())
            tx.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE origin_verdict_p2026_06 SET rule = 'forged'",
        "DELETE FROM origin_verdict_p2026_06",
        "DELETE FROM quality_verdict WHERE collected_at >= '2026-06-01 00:00+08'",
        "UPDATE audit_entry_p{now} SET note = 'forged'",
        "TRUNCATE origin_verdict_p2026_06 CASCADE",
        "TRUNCATE fingerprint_verdict_default CASCADE",
        "TRUNCATE audit_entry_p{now}",
    ],
)
def test_audit_triggers_refuse_changes_on_partitions(
    history: tuple[str, dict[str, list[str]]], statement: str
) -> None:
    url, _ = history
    now = datetime.now(SH)
    engine = create_engine(url)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as refused:
            conn.execute(text(statement.format(now=f"{now:%Y_%m}")))
    finally:
        engine.dispose()
    assert "refused" in str(refused.value)


def test_gi_db_partitions_command(history: tuple[str, dict[str, list[str]]]) -> None:
    url, _ = history
    done = gi(url, "db", "partitions", "--ahead", "4")
    assert done.returncode == 0, done.stderr
    assert "partitions:" in done.stdout and "every table has its months through" in done.stdout
    bad = gi(url, "db", "partitions", "--since", "2026-13")
    assert bad.returncode != 0 and "--since" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr


def test_downgrade_attaches_archived_audit_months_back(history: tuple[str, dict[str, list[str]]]) -> None:
    """An audit month archived (gi audit archive) is attached back to audit_entry by 0019's downgrade, and the
    log verifies before and after; upgrading again starts with no archive."""
    url, _ = history
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            month = conn.execute(
                text(
                    "SELECT date_trunc('month', min(recorded_at) AT TIME ZONE 'Asia/Shanghai')::date FROM audit_entry"
                )
            ).scalar_one()
            entries = conn.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
        archived = archive_month(engine, month, today=add_months(month, 1)) if entries else None
        if archived is None or archived.last_seq != entries:
            pytest.skip("the log's entries span more than one month")
        assert verify_log(engine).findings == []
        gi_db.downgrade(url, "0018")
        with engine.connect() as conn:
            back = conn.execute(
                text("SELECT count(*) FROM audit_entry WHERE seq BETWEEN :a AND :b"),
                {"a": archived.first_seq, "b": archived.last_seq},
            ).scalar_one()
        assert back == archived.entries
        assert verify_log(engine).findings == []
    finally:
        gi_db.upgrade(url)
        engine.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_archive")).scalar_one() == 0
    assert verify_log(engine).findings == []
    engine.dispose()


def test_an_import_of_old_listings_fills_their_own_month_not_default(
    session: Session, loaded_register: None, tmp_path: Path
) -> None:
    """Listings observed in a month without a partition (an old file) get that month, created in the import's
    transaction: nothing lands in DEFAULT, from which no month could be created without moving rows."""
    from market_fixtures import write_csv

    from gi.market.listings import import_listings

    conn = session.connection()
    assert date(2019, 3, 1) not in existing_months(conn, "listing")
    path = write_csv(
        tmp_path / "old-listings.csv",
        ["平台", "商品编号", "店铺名称", "商品标题", "采集日期"],
        [
            ["淘宝", "OLD-1", "旧店", "西湖龙井 2019", "2019-03-05"],
            ["淘宝", "OLD-2", "旧店", "龙井", "2019-03-28"],
        ],
    )
    report = import_listings(session, path)
    assert report.details["partitions_created"] == ["listing_p2019_03"]
    assert date(2019, 3, 1) in existing_months(conn, "listing")
    assert conn.execute(text("SELECT count(*) FROM listing_p2019_03")).scalar_one() == 2
    assert default_rows(conn, "listing") == 0
    again = import_listings(session, path)  # the month exists now: nothing to create
    assert "partitions_created" not in again.details
