"""`gi audit archive YYYY-MM`: detach a closed month of the audit log into an archive (docs/audit.md,
"Archived months").

The month's partition of ``audit_entry`` is detached and kept as ``audit_archive_pYYYY_MM`` (protected like the
log: UPDATE, DELETE and TRUNCATE refused), and ``audit_archive`` records its entry range, count, the hash its
first entry links to and the hash at its end. The live chain continues from that head: `gi audit verify` starts
there, and `gi audit verify --archived YYYY-MM` recomputes an archived month on its own. Months are archived
oldest first, so the archives and the live log always form one unbroken chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, text

from gi.audit.actor import current_actor
from gi.db import table_exists
from gi.db.partitions import PARTITION_ZONE, month_start, partition_name
from gi.errors import InputError, NotFoundError

# The same advisory lock as the chain function (migration 0007): no entry is appended while a month is detached.
_CHAIN_LOCK = -1_493_290_707_938_431_733


@dataclass(frozen=True)
class ArchivedMonth:
    """One archived month of the log, as ``audit_archive`` records it."""

    month: date
    table_name: str
    origin: str
    first_seq: int
    last_seq: int
    entries: int
    first_prev_hash: bytes
    head_hash: bytes
    head_recorded_at: datetime


def archive_table_name(month: date) -> str:
    """The name of the table an archived month is kept in."""
    return f"audit_archive_p{month:%Y_%m}"


def parse_month(value: str, field: str = "month") -> date:
    """``YYYY-MM`` as the month's first day; an InputError naming ``field`` otherwise."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        raise InputError(field, f"{value!r} is not a month (YYYY-MM, e.g. 2026-01)") from None


def has_archive_table(conn: Connection) -> bool:
    """True when the database has ``audit_archive`` (migration 0019 on)."""
    return table_exists(conn, "audit_archive")


def archived_months(conn: Connection) -> list[ArchivedMonth]:
    """Every archived month, oldest first (none before migration 0019)."""
    if not has_archive_table(conn):
        return []
    rows = conn.execute(
        text(
            "SELECT month, table_name, origin, first_seq, last_seq, entries, first_prev_hash, head_hash, "
            "head_recorded_at FROM audit_archive ORDER BY first_seq"
        )
    ).all()
    return [
        ArchivedMonth(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), bytes(r[6]), bytes(r[7]), r[8])
        for r in rows
    ]


def _is_live_partition(conn: Connection, name: str) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = 'audit_entry'::regclass "
                "AND inhrelid = to_regclass(:n))"
            ),
            {"n": name},
        ).scalar()
    )


def archive_month(engine: Engine, month: date, today: date | None = None) -> ArchivedMonth:
    """Detach ``month``'s audit entries into an archive (one transaction); what was archived. Only a month
    before the current one, holding entries, with no older live entry (archive oldest first)."""
    month = month_start(month)
    current = month_start(today or datetime.now(PARTITION_ZONE).date())
    label = f"{month:%Y-%m}"
    if month >= current:
        raise InputError(
            "month", f"{label} is not over yet: only months before {current:%Y-%m} can be archived"
        )
    live = partition_name("audit_entry", month)
    with engine.begin() as conn:
        if not has_archive_table(conn):
            raise InputError("database", "the schema has no audit_archive table: run `gi db upgrade`")
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
        if conn.execute(text("SELECT 1 FROM audit_archive WHERE month = :m"), {"m": month}).first():
            raise InputError("month", f"{label} is already archived (in {archive_table_name(month)})")
        if not _is_live_partition(conn, live):
            raise NotFoundError(f"the audit log has no partition for {label} ({live})")
        span = conn.execute(text(f'SELECT min(seq), max(seq), count(*) FROM "{live}"')).one()
        if not span[2]:
            raise InputError("month", f"{label} has no audit entries: nothing to archive")
        first, last, count = int(span[0]), int(span[1]), int(span[2])
        if last - first + 1 != count:
            raise InputError(
                "month",
                f"{label}'s entries {first}-{last} have gaps ({count:,} entries): run `gi audit verify`",
            )
        older = conn.execute(text("SELECT min(seq) FROM audit_entry WHERE seq < :s"), {"s": first}).scalar()
        if older is not None:
            raise InputError(
                "month", f"entry {older} is older than {label} and still live: archive the older months first"
            )
        head_row = conn.execute(
            text(f'SELECT entry_hash, recorded_at FROM "{live}" WHERE seq = :s'), {"s": last}
        ).one()
        first_prev = bytes(
            conn.execute(text(f'SELECT prev_hash FROM "{live}" WHERE seq = :s'), {"s": first}).scalar_one()
        )
        previous = conn.execute(
            text("SELECT last_seq, head_hash, origin FROM audit_archive ORDER BY last_seq DESC LIMIT 1")
        ).first()
        if previous is not None and (int(previous[0]) + 1 != first or bytes(previous[1]) != first_prev):
            raise InputError(
                "month", f"{label} does not continue the last archived month's chain: run `gi audit verify`"
            )
        genesis = (
            previous[2]
            if previous is not None
            else conn.execute(text(f"SELECT note FROM \"{live}\" WHERE seq = 1 AND op = 'genesis'")).scalar()
        )
        if genesis is None:
            raise InputError("month", f"{label} does not start with the log's genesis entry")
        origin = str(genesis)
        kept = archive_table_name(month)
        conn.execute(text(f'ALTER TABLE audit_entry DETACH PARTITION "{live}"'))
        conn.execute(text(f'ALTER TABLE "{live}" RENAME TO "{kept}"'))
        # Detaching drops the row trigger cloned from the log; the archive refuses changes the same way.
        conn.execute(
            text(
                f'CREATE TRIGGER audit_refuse_change BEFORE UPDATE OR DELETE ON "{kept}" '
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
        )
        archived = ArchivedMonth(
            month, kept, str(origin), first, last, count, first_prev, bytes(head_row[0]), head_row[1]
        )
        conn.execute(
            text(
                "INSERT INTO audit_archive (month, table_name, origin, first_seq, last_seq, entries, "
                "first_prev_hash, head_hash, head_recorded_at, archived_by) VALUES (:month, :table_name, "
                ":origin, :first_seq, :last_seq, :entries, :first_prev_hash, :head_hash, :head_recorded_at, :by)"
            ),
            {**archived.__dict__, "by": current_actor()},
        )
    return archived
