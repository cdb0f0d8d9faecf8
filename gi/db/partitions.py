"""Monthly partitions of the history tables (docs/scale.md, "Partitioned history"): which tables, by which
column, the month partitions created ahead of time, and the rows that fell into a table's DEFAULT partition.

Months are calendar months in Asia/Shanghai, fixed here rather than read from ``GI_TIMEZONE``: partition bounds
are part of the schema, and a setting changed later must not make new bounds overlap the old ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ProgrammingError

from gi.db import table_exists

PARTITION_ZONE = ZoneInfo("Asia/Shanghai")
# Partitioned table -> its partition key. The sample's verdicts carry their sample's collection moment; market
# listings are partitioned by the date they were observed on (migration 0019).
PARTITIONED: dict[str, str] = {
    "sample": "collected_at",
    "origin_verdict": "collected_at",
    "quality_verdict": "collected_at",
    "fingerprint_verdict": "collected_at",
    "origin_evidence": "collected_at",
    "audit_entry": "recorded_at",
    "listing": "observed_on",
}
# Tables partitioned by their sample's collection moment (written with the sample's collected_at).
SAMPLE_KEYED = ("sample", "origin_verdict", "quality_verdict", "fingerprint_verdict", "origin_evidence")
# A partition's name: <table>_pYYYY_MM, or <table>_default.
PARTITION_NAME = re.compile(r"^(?P<table>.+)_(p(?P<year>\d{4})_(?P<month>\d{2})|default)$")
# A month of the audit log detached by `gi audit archive`, kept as its own table.
ARCHIVED_MONTH = re.compile(r"^audit_archive_p\d{4}_\d{2}$")
# A month of a data table detached by `gi db archive` (gi/db/archive.py), kept as <table>_archive_pYYYY_MM.
ARCHIVED_DATA_MONTH = re.compile(r"^(?P<table>.+)_archive_p(?P<year>\d{4})_(?P<month>\d{2})$")


def month_start(moment: datetime | date) -> date:
    """The first day of the (Asia/Shanghai) month holding ``moment``."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(PARTITION_ZONE).date() if moment.tzinfo else moment.date()
    return moment.replace(day=1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def add_months(month: date, n: int) -> date:
    """``month`` moved by ``n`` months (either way)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def bound(month: date) -> str:
    """The partition bound of a month's first instant, as a timestamptz literal with its offset."""
    return datetime(month.year, month.month, 1, tzinfo=PARTITION_ZONE).isoformat(sep=" ")


def partition_name(table: str, month: date) -> str:
    """The name of ``table``'s partition for ``month``."""
    return f"{table}_p{month:%Y_%m}"


def is_partition_name(name: str) -> bool:
    """True when ``name`` is one of our partitions (autogenerate compares parents only)."""
    match = PARTITION_NAME.match(name)
    return match is not None and match.group("table") in PARTITIONED


def _has_trigger(conn: Connection, table: str, trigger: str) -> bool:
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND tgname = :g)"),
            {"t": table, "g": trigger},
        ).scalar()
    )


# Statement triggers on TRUNCATE of a partitioned table that its partitions need too, with their timing: the audit
# log's refusal, and the refusal of a truncated sample whose verdicts remain (migration 0024_batchfk). Each trigger
# runs the function of its own name.
PARTITION_TRUNCATE_TRIGGERS = {"audit_refuse_truncate": "BEFORE", "sample_truncate_check": "AFTER"}


def protect_partition(conn: Connection, table: str, partition: str) -> None:
    """TRUNCATE of a partition does not fire its parent's statement triggers: give the partition them too.
    (The parent's row triggers, which refuse UPDATE and DELETE, are cloned to every partition by PostgreSQL.)"""
    for trigger, timing in PARTITION_TRUNCATE_TRIGGERS.items():
        if _has_trigger(conn, table, trigger) and not _has_trigger(conn, partition, trigger):
            conn.execute(
                text(
                    f'CREATE TRIGGER {trigger} {timing} TRUNCATE ON "{partition}" '
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()"
                )
            )


def create_month(conn: Connection, table: str, month: date, parent: str | None = None) -> str:
    """Create ``table``'s partition for ``month`` (its indexes, foreign keys and row triggers come from the
    parent) and protect it like its parent; its name. (``parent``: the table is being built under that name.)"""
    name = partition_name(table, month)
    conn.execute(
        text(
            f'CREATE TABLE "{name}" PARTITION OF "{parent or table}" '
            f"FOR VALUES FROM ('{bound(month)}') TO ('{bound(next_month(month))}')"
        )
    )
    protect_partition(conn, table, name)
    return name


def create_default(conn: Connection, table: str, parent: str | None = None) -> str:
    """Create ``table``'s DEFAULT partition (rows outside every month partition; origin verdicts of producers,
    which have no collection moment, live there)."""
    name = f"{table}_default"
    conn.execute(text(f'CREATE TABLE "{name}" PARTITION OF "{parent or table}" DEFAULT'))
    protect_partition(conn, table, name)
    return name


def existing_months(conn: Connection, table: str) -> set[date]:
    """The months ``table`` has a partition for."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": table},
    ).scalars()
    months = set()
    for name in names:
        match = PARTITION_NAME.match(name)
        if match and match.group("year"):
            months.add(date(int(match.group("year")), int(match.group("month")), 1))
    return months


def is_partitioned(conn: Connection, table: str) -> bool:
    """True when ``table`` exists and is partitioned (before migration 0015 none is)."""
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t))"),
            {"t": table},
        ).scalar()
    )


def default_rows(conn: Connection, table: str) -> int:
    """Rows of ``table``'s DEFAULT partition that have a partition key (a month partition should hold them)."""
    key = PARTITIONED[table]
    if not table_exists(conn, f"{table}_default"):
        return 0
    return int(
        conn.execute(text(f'SELECT count(*) FROM "{table}_default" WHERE "{key}" IS NOT NULL')).scalar_one()
    )


def archived_data_months(conn: Connection) -> dict[str, dict[date, int]]:
    """Table -> its months archived by `gi db archive`, with their row counts (none before migration 0022)."""
    if not table_exists(conn, "data_archive"):
        return {}
    out: dict[str, dict[date, int]] = {}
    for parent, month, rows in conn.execute(
        text("SELECT parent, month, row_count FROM data_archive ORDER BY month, parent")
    ):
        out.setdefault(parent, {})[month] = int(rows)
    return out


@dataclass
class PartitionReport:
    """What `gi db partitions` did: partitions created, months it could not create, and DEFAULT rows."""

    created: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    default_rows: dict[str, int] = field(default_factory=dict)
    through: date | None = None
    archived: dict[str, dict[date, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no DEFAULT partition holds rows with a key (they belong to a month partition)."""
        return not any(self.default_rows.values())

    def lines(self) -> list[str]:
        """The report as the CLI prints it."""
        out = [
            f"partitions: {len(self.created)} created, every table has its months through {self.through:%Y-%m}"
        ]
        out += [f"created {name}" for name in self.created]
        out += [
            f"not created {name}: rows for that month are in the DEFAULT partition" for name in self.blocked
        ]
        for table, n in sorted(self.default_rows.items()):
            if n:
                out.append(
                    f"{table}_default: {n:,} rows with a {PARTITIONED[table]} outside every month partition "
                    "(docs/scale.md: create their months and move them)"
                )
        months = sorted({m for by_month in self.archived.values() for m in by_month})
        for month in months:
            kept = ", ".join(
                f"{table} {by_month[month]:,}"
                for table, by_month in self.archived.items()
                if month in by_month
            )
            out.append(
                f"archived {month:%Y-%m} (gi db archive; rows in <table>_archive_p{month:%Y_%m}): {kept}"
            )
        return out


def _default_has_month(conn: Connection, table: str, month: date) -> bool:
    if not table_exists(conn, f"{table}_default"):
        return False
    key = PARTITIONED[table]
    return bool(
        conn.execute(
            text(f'SELECT EXISTS (SELECT 1 FROM "{table}_default" WHERE "{key}" >= :a AND "{key}" < :b)'),
            {"a": bound(month), "b": bound(next_month(month))},
        ).scalar()
    )


def ensure_partitions(
    conn: Connection, ahead: int = 3, since: date | None = None, today: date | None = None
) -> PartitionReport:
    """Create every partitioned table's missing month partitions from ``since`` (default: its newest existing
    month) through ``ahead`` months after the current one; months whose rows already sit in DEFAULT are
    reported, not created (creating one would fail). Runs in the caller's transaction."""
    if ahead < 0:
        raise ValueError("ahead must be 0 or more")
    current = month_start(today or datetime.now(PARTITION_ZONE))
    last = add_months(current, ahead)
    report = PartitionReport(through=last, archived=archived_data_months(conn))
    for table in PARTITIONED:
        if not is_partitioned(conn, table):
            continue
        # An archived month is not created again: its rows are kept in its archive table (gi db archive).
        have = existing_months(conn, table) | set(report.archived.get(table, {}))
        month = month_start(since) if since else (max(have) if have else current)
        while month <= last:
            if month not in have:
                if _default_has_month(conn, table, month):
                    report.blocked.append(partition_name(table, month))
                else:
                    report.created.append(create_month(conn, table, month))
            month = next_month(month)
        report.default_rows[table] = default_rows(conn, table)
    return report


# pg_advisory_xact_lock key: two runs (cron and `gi db up`) create a month once, not twice.
_LOCK_KEY = 0x6769_7061_7274  # "giprt"


def ensure_months(conn: Connection, table: str, months: Iterable[date | datetime]) -> list[str]:
    """Create, in the caller's transaction, the month partitions of ``table`` that rows of ``months`` are about
    to need, so that an import of old rows fills their months instead of DEFAULT (from which no month could be
    created later without moving them). A month archived, or with rows in DEFAULT already, is left alone; so is
    every month when the role may not create partitions (it does not own the table): the rows then go to
    DEFAULT, as before, and `gi db partitions` reports them. The names created."""
    wanted = {month_start(m) for m in months}
    if not wanted or not is_partitioned(conn, table) or wanted <= existing_months(conn, table):
        return []
    # The lock `gi db partitions` takes: two imports (or an import and the cron run) create a month once.
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    have = existing_months(conn, table) | set(archived_data_months(conn).get(table, {}))
    created: list[str] = []
    for month in sorted(wanted - have):
        if _default_has_month(conn, table, month):
            continue
        try:
            with conn.begin_nested():
                created.append(create_month(conn, table, month))
        except ProgrammingError as exc:  # InsufficientPrivilege: the service's role does not own the table
            if getattr(exc.orig, "sqlstate", None) != "42501":
                raise
            return created
    return created


def maintain_partitions(
    engine: Engine, ahead: int = 3, since: date | None = None, today: date | None = None
) -> PartitionReport:
    """`gi db partitions`: create the months ahead (and from ``since``) in one transaction; the report."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        return ensure_partitions(conn, ahead=ahead, since=since, today=today)
