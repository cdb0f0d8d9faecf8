"""`gi db archive YYYY-MM`: detach a closed month of the data tables into archive tables (docs/scale.md,
"Partitioned history"; docs/audit.md, "Archived data months").

A month's partitions of the sample-keyed tables (a sample, its verdicts and evidence go together) and of
``listing`` are detached in one transaction and kept as ``<table>_archive_pYYYY_MM``: protected like the log
(UPDATE, DELETE and TRUNCATE refused), with the foreign keys between them that the live tables have between
theirs, and recorded in ``data_archive`` (row count and an order-independent digest per table). `gi audit verify`
reads each archive as part of its table, so an archived row is still checked against its latest audit entry.
The DEFAULT partitions get a CHECK refusing rows of an archived month, so a late row is refused, not hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from gi.db import table_exists
from gi.db.partitions import (
    PARTITION_ZONE,
    PARTITIONED,
    SAMPLE_KEYED,
    bound,
    is_partitioned,
    month_start,
    next_month,
    partition_name,
)
from gi.errors import ConflictError, InputError, NotFoundError

# Detach order: a table before the tables it references (evidence, then verdicts, then samples); attach reverses.
ARCHIVE_ORDER = (
    "origin_evidence",
    "origin_verdict",
    "quality_verdict",
    "fingerprint_verdict",
    "sample",
    "listing",
)
# The archive's own refusal triggers (the cloned row triggers of the live table are dropped by DETACH).
REFUSE_CHANGE = "archive_refuse_change"
REFUSE_TRUNCATE = "archive_refuse_truncate"
# An order-independent digest of a table's rows: the sum of each row text's 64-bit MD5 prefix (as migration 0019).
DIGEST_SQL = (
    "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0) FROM {} t"
)
_REFERENCES = re.compile(r"REFERENCES (\S+?)\(")
# Keys the live tables check with statement triggers instead of foreign keys (migrations 0024_batchfk and
# 0026_productfk), as (table, constraint, referenced table, definition): an archive, into which nothing is
# inserted, gets them as foreign keys again (to the archive of the referenced table when it is archived with it).
TRIGGER_KEYS = (
    (
        "sample",
        "fk_sample_id_sample_identity",
        "sample_identity",
        "FOREIGN KEY (id, collected_at) REFERENCES sample_identity(id, collected_at) ON DELETE CASCADE",
    ),
    (
        "origin_verdict",
        "fk_origin_verdict_sample_id_sample",
        "sample",
        "FOREIGN KEY (sample_id, collected_at) REFERENCES sample(id, collected_at) ON DELETE CASCADE",
    ),
    # Migration 0026_productfk: the products and areas of samples and verdicts.
    (
        "sample",
        "fk_sample_product_id_gi_product",
        "gi_product",
        "FOREIGN KEY (product_id) REFERENCES gi_product(id) ON DELETE RESTRICT",
    ),
    (
        "origin_verdict",
        "fk_origin_verdict_product_id_gi_product",
        "gi_product",
        "FOREIGN KEY (product_id) REFERENCES gi_product(id) ON DELETE RESTRICT",
    ),
    (
        "origin_verdict",
        "fk_origin_verdict_area_id_production_area",
        "production_area",
        "FOREIGN KEY (area_id) REFERENCES production_area(id) ON DELETE RESTRICT",
    ),
)
assert set(ARCHIVE_ORDER) == set(PARTITIONED) - {"audit_entry"} and set(SAMPLE_KEYED) < set(ARCHIVE_ORDER)


def archive_name(table: str, month: date) -> str:
    """The name of the table ``table``'s archived ``month`` is kept in."""
    return f"{table}_archive_p{month:%Y_%m}"


def default_check_name(table: str, month: date) -> str:
    """The CHECK on ``table``'s DEFAULT partition refusing rows of archived ``month``."""
    return f"{table}_default_archived_p{month:%Y_%m}"


@dataclass(frozen=True)
class ArchivedTable:
    """One table's archived month, as ``data_archive`` records it."""

    parent: str
    month: date
    table_name: str
    rows: int
    digest: int


@dataclass(frozen=True)
class DataMonthArchive:
    """What `gi db archive` did: the month and each table's archive."""

    month: date
    tables: list[ArchivedTable]

    def lines(self) -> list[str]:
        """The report as the CLI prints it."""
        total = sum(t.rows for t in self.tables)
        out = [f"archived {self.month:%Y-%m}: {total:,} rows in {len(self.tables)} tables"]
        out += [f"  {t.parent}: {t.rows:,} rows in {t.table_name}" for t in self.tables]
        return out


def has_record(conn: Connection) -> bool:
    """True when the database has ``data_archive`` (migration 0022 on)."""
    return table_exists(conn, "data_archive")


def archived_tables(conn: Connection) -> list[ArchivedTable]:
    """Every archived data month's tables, oldest month first (none before migration 0022)."""
    if not has_record(conn):
        return []
    rows = conn.execute(
        text("SELECT parent, month, table_name, row_count, digest FROM data_archive ORDER BY month, parent")
    ).all()
    return [ArchivedTable(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]


def archived_sample_months(db: Session | Connection, start: date, end: date) -> list[date]:
    """The archived months of samples between ``start`` and ``end`` (dates, inclusive): reads of the live tables
    (season reports, dashboards, maps) do not see their samples."""
    if not table_exists(db, "data_archive"):
        return []
    return list(
        db.execute(
            text(
                "SELECT month FROM data_archive WHERE parent = 'sample' AND month >= :a AND month <= :b "
                "ORDER BY month"
            ),
            {"a": month_start(start), "b": end},
        ).scalars()
    )


def _is_partition_of(conn: Connection, parent: str, name: str) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass(:p) "
                "AND inhrelid = to_regclass(:n))"
            ),
            {"p": parent, "n": name},
        ).scalar()
    )


def _rows_in_default(conn: Connection, table: str, month: date) -> int:
    if not table_exists(conn, f"{table}_default"):
        return 0
    key = PARTITIONED[table]
    return int(
        conn.execute(
            text(f'SELECT count(*) FROM "{table}_default" WHERE "{key}" >= :a AND "{key}" < :b'),
            {"a": bound(month), "b": bound(next_month(month))},
        ).scalar_one()
    )


def stale_samples(conn: Connection, month: date) -> int:
    """Samples of ``month`` whose current origin verdict is missing or names another version of their area than
    the one valid at collection (what `gi areas rejudge --only-stale` would judge again)."""
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM sample s LEFT JOIN LATERAL (SELECT o.id, o.area_id, o.area_version "
                "FROM origin_verdict o WHERE o.sample_id = s.id AND o.collected_at = s.collected_at "
                "ORDER BY o.checked_at DESC, o.id DESC LIMIT 1) v ON true "
                "WHERE s.collected_at >= :a AND s.collected_at < :b AND (v.id IS NULL OR EXISTS ("
                "SELECT 1 FROM production_area a WHERE a.product_id = s.product_id AND a.valid_from <= s.collected_at "
                "AND (a.valid_to IS NULL OR s.collected_at < a.valid_to) "
                "AND (a.id, a.version) IS DISTINCT FROM (v.area_id, v.area_version)))"
            ),
            {"a": bound(month), "b": bound(next_month(month))},
        ).scalar_one()
    )


def _internal_foreign_keys(conn: Connection, tables: list[str]) -> list[tuple[str, str, str, str]]:
    """(table, name, referenced table, definition) of the live tables' foreign keys between ``tables``."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in conn.execute(
            text(
                "SELECT conrelid::regclass::text, conname, confrelid::regclass::text, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 "
                "AND conrelid::regclass::text = ANY (:t) AND confrelid::regclass::text = ANY (:t) ORDER BY 1, 2"
            ),
            {"t": tables},
        )
    ]


def _has_constraint(conn: Connection, table: str, name: str) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(:t) AND conname = :n)"
            ),
            {"t": f'"{table}"', "n": name},
        ).scalar()
    )


def archive_data_month(engine: Engine, month: date, today: date | None = None) -> DataMonthArchive:
    """Detach ``month``'s partitions of the data tables into archive tables (one transaction); what was archived.
    Only a month before the current one, with no row in a DEFAULT partition and no stale origin verdict."""
    # Imported here: gi.audit's verifier imports this module to read the archives.
    from gi.audit.actor import current_actor
    from gi.audit.verify import CANONICAL_SETTINGS

    month = month_start(month)
    current = month_start(today or datetime.now(PARTITION_ZONE).date())
    label = f"{month:%Y-%m}"
    if month >= current:
        raise InputError(
            "month", f"{label} is not over yet: only months before {current:%Y-%m} can be archived"
        )
    with engine.begin() as conn:
        if not has_record(conn):
            raise InputError("database", "the schema has no data_archive table: run `gi db upgrade`")
        tables = [t for t in ARCHIVE_ORDER if is_partitioned(conn, t)]
        # Every table at once, in detach order: no sample, verdict or listing is written or read half-archived,
        # and two runs cannot interleave.
        conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        if conn.execute(text("SELECT 1 FROM data_archive WHERE month = :m"), {"m": month}).first():
            raise InputError("month", f"{label} is already archived (gi db partitions lists archived months)")
        present = [t for t in tables if _is_partition_of(conn, t, partition_name(t, month))]
        if not present:
            raise NotFoundError(f"no data table has a partition for {label}", field="month")
        for table in tables:
            stray = _rows_in_default(conn, table, month)
            if stray:
                raise ConflictError(
                    f"month: {table}_default holds {stray:,} rows of {label}: create the month's partition and "
                    "move them first (docs/scale.md)"
                )
        stale = stale_samples(conn, month)
        if stale:
            raise ConflictError(
                f"month: {stale:,} samples of {label} have no current origin verdict for the area valid at "
                "collection: run `gi areas rejudge --only-stale` first (an archived month is not re-judged)"
            )
        internal = _internal_foreign_keys(conn, present)
        # PostgreSQL 15 refuses to detach a partition referenced by its own table's foreign key (a re-judged
        # verdict's supersedes_id): drop that key on the parent around the detach and add it back after.
        own = [fk for fk in internal if fk[0] == fk[2]]
        for table, name, _, _ in own:
            conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
        kept: dict[str, str] = {}
        for table in present:
            live = partition_name(table, month)
            conn.execute(text(f'ALTER TABLE "{table}" DETACH PARTITION "{live}"'))
            # The detached table keeps a copy of each foreign key, still pointing at the live parents: the
            # keys between archived tables are re-pointed below, the rest (products, producers...) stay.
            for source, name, _, _ in internal:
                if source == table and (source, name) not in {(t, n) for t, n, _, _ in own}:
                    conn.execute(text(f'ALTER TABLE "{live}" DROP CONSTRAINT "{name}"'))
            kept[table] = archive_name(table, month)
            conn.execute(text(f'ALTER TABLE "{live}" RENAME TO "{kept[table]}"'))
        for source, name, target, definition in internal:
            pointed = _REFERENCES.sub(f'REFERENCES "{kept[target]}"(', definition, count=1)
            conn.execute(text(f'ALTER TABLE "{kept[source]}" ADD CONSTRAINT "{name}" {pointed}'))
        for source, name, target, definition in TRIGGER_KEYS:
            if source in kept and not _has_constraint(conn, kept[source], name):
                pointed = _REFERENCES.sub(f'REFERENCES "{kept.get(target, target)}"(', definition, count=1)
                conn.execute(text(f'ALTER TABLE "{kept[source]}" ADD CONSTRAINT "{name}" {pointed}'))
            if source in kept:  # a partition's TRUNCATE check (an archive refuses TRUNCATE anyway)
                conn.execute(text(f'DROP TRIGGER IF EXISTS sample_truncate_check ON "{kept[source]}"'))
        for table, name, _, definition in own:
            conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
        for table in present:
            if table_exists(conn, f"{table}_default"):
                key = PARTITIONED[table]
                conn.execute(
                    text(
                        f'ALTER TABLE "{table}_default" ADD CONSTRAINT "{default_check_name(table, month)}" '
                        f'CHECK ("{key}" IS NULL OR "{key}" < \'{bound(month)}\' '
                        f"OR \"{key}\" >= '{bound(next_month(month))}')"
                    )
                )
        for name, value in CANONICAL_SETTINGS:
            conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
        done = []
        for table in present:
            name = kept[table]
            conn.execute(
                text(
                    f'CREATE TRIGGER {REFUSE_CHANGE} BEFORE UPDATE OR DELETE ON "{name}" '
                    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
                )
            )
            conn.execute(
                text(
                    f'CREATE TRIGGER {REFUSE_TRUNCATE} BEFORE TRUNCATE ON "{name}" '
                    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()"
                )
            )
            count, digest = conn.execute(text(DIGEST_SQL.format(f'"{name}"'))).one()
            archived = ArchivedTable(table, month, name, int(count), int(digest))
            conn.execute(
                text(
                    "INSERT INTO data_archive (month, parent, table_name, row_count, digest, archived_by) "
                    "VALUES (:m, :p, :t, :r, :d, :by)"
                ),
                {
                    "m": month,
                    "p": table,
                    "t": name,
                    "r": archived.rows,
                    "d": archived.digest,
                    "by": current_actor(),
                },
            )
            done.append(archived)
    return DataMonthArchive(month, done)


def attach_back(conn: Connection) -> list[str]:
    """Attach every archived data month back to its table (migration 0022's downgrade); the tables attached.
    The archives' triggers, the keys between them and the DEFAULT partitions' checks go first."""
    if not has_record(conn):
        return []
    archived = archived_tables(conn)
    names = [a.table_name for a in archived]
    for archive in archived:
        if not table_exists(conn, archive.table_name):
            raise RuntimeError(
                f"{archive.table_name} is not in the database: restore it from its dump before downgrading"
            )
        conn.execute(text(f'DROP TRIGGER IF EXISTS {REFUSE_CHANGE} ON "{archive.table_name}"'))
        conn.execute(text(f'DROP TRIGGER IF EXISTS {REFUSE_TRUNCATE} ON "{archive.table_name}"'))
    for table, name, _, _ in _internal_foreign_keys(conn, names):
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    attached = []
    for archive in sorted(archived, key=lambda a: (a.month, -ARCHIVE_ORDER.index(a.parent))):
        check = default_check_name(archive.parent, archive.month)
        conn.execute(
            text(f'ALTER TABLE IF EXISTS "{archive.parent}_default" DROP CONSTRAINT IF EXISTS "{check}"')
        )
        live = partition_name(archive.parent, archive.month)
        conn.execute(text(f'ALTER TABLE "{archive.table_name}" RENAME TO "{live}"'))
        conn.execute(
            text(
                f'ALTER TABLE "{archive.parent}" ATTACH PARTITION "{live}" '
                f"FOR VALUES FROM ('{bound(archive.month)}') TO ('{bound(next_month(archive.month))}')"
            )
        )
        attached.append(live)
    return attached
