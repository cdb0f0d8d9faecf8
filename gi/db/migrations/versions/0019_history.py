"""partitioned history: market listings partitioned by the month they were observed; listing_identity;
audit_archive (months of the audit log detached and archived, docs/audit.md "Archived months")

Revision ID: 0019_history
Revises: 0018

``listing`` becomes a table partitioned by ``observed_on`` month (with a DEFAULT partition), like the samples,
verdicts and audit entries of 0018. A partitioned table's primary and unique keys must hold its partition key,
so its key becomes (id, observed_on) and ``listing_identity (id PRIMARY KEY, platform, listing_key UNIQUE)``
keeps what the table's own keys kept until now: one id one listing, one (platform, item) one listing. Triggers on
``listing`` keep it in step (an insert adds the identity, a change of platform or item id moves it, a DELETE
statement removes it); ``balance_flag.listing_id`` references it (a listing deleted still takes its flags).

The table is rebuilt as in 0018, both ways: created beside the old one from the old one's columns as they are,
rows copied, count and an order-independent digest of every row compared (a difference raises and the whole
migration rolls back), the old table dropped, indexes and triggers (the audit log's among them) recreated from
its own definitions. Ids are kept, so ``gi audit verify`` re-verifies every recorded listing as before.

``audit_archive`` records each month of the audit log detached by ``gi audit archive``: its entry range, count,
the hash its first entry links to and the hash at its end (the live chain continues from it), and the kept table.
The chain function falls back to the last archived head when every live entry has been archived. Downgrade
attaches archived months back to ``audit_entry``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from alembic import op
from sqlalchemy import Connection, text

from gi.db.partitions import (
    PARTITION_ZONE,
    add_months,
    bound,
    create_default,
    create_month,
    month_start,
    next_month,
    partition_name,
    protect_partition,
)

revision = "0019_history"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLE = "listing"
KEY = "observed_on"
AHEAD = 3
UNIQUE = "uq_listing_platform_key"
FLAG_FK = "fk_balance_flag_listing_id_listing"
FLAG_IDENTITY_FK = "fk_balance_flag_listing_id_listing_identity"

IDENTITY = """
CREATE TABLE listing_identity (
    id integer NOT NULL,
    platform varchar(60) NOT NULL,
    listing_key varchar(300) NOT NULL,
    CONSTRAINT pk_listing_identity PRIMARY KEY (id),
    CONSTRAINT uq_listing_identity_platform_key UNIQUE (platform, listing_key)
);
COMMENT ON TABLE listing_identity IS 'one row per listing: the keys the month-partitioned listing table cannot hold';
INSERT INTO listing_identity (id, platform, listing_key) SELECT id, platform, listing_key FROM listing;
"""

# A row moved to another month by an UPDATE of observed_on is deleted and inserted by PostgreSQL: its BEFORE
# UPDATE trigger has already written the new identity, so the insert's finds it (ON CONFLICT (id)) and the
# DELETE statement trigger, which an UPDATE never fires, leaves it alone.
IDENTITY_TRIGGERS = """
CREATE FUNCTION listing_identity_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO listing_identity (id, platform, listing_key) VALUES (NEW.id, NEW.platform, NEW.listing_key)
            ON CONFLICT (id) DO NOTHING;
    ELSIF (NEW.id, NEW.platform, NEW.listing_key) IS DISTINCT FROM (OLD.id, OLD.platform, OLD.listing_key) THEN
        UPDATE listing_identity SET id = NEW.id, platform = NEW.platform, listing_key = NEW.listing_key
            WHERE id = OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION listing_identity_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM listing_identity i USING listing_gone g WHERE i.id = g.id;
    RETURN NULL;
END $$;
CREATE TRIGGER listing_identity_keep BEFORE INSERT OR UPDATE ON listing
    FOR EACH ROW EXECUTE FUNCTION listing_identity_keep();
CREATE TRIGGER listing_identity_forget AFTER DELETE ON listing REFERENCING OLD TABLE AS listing_gone
    FOR EACH STATEMENT EXECUTE FUNCTION listing_identity_forget();
"""
OUR_TRIGGERS = ("listing_identity_keep", "listing_identity_forget")

ARCHIVE = """
CREATE TABLE audit_archive (
    month date NOT NULL,
    table_name text NOT NULL,
    origin text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL,
    entries bigint NOT NULL,
    first_prev_hash bytea NOT NULL,
    head_hash bytea NOT NULL,
    head_recorded_at timestamptz NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    archived_by text NOT NULL,
    CONSTRAINT pk_audit_archive PRIMARY KEY (month),
    CONSTRAINT uq_audit_archive_table_name UNIQUE (table_name),
    CONSTRAINT ck_audit_archive_seq_range CHECK (first_seq >= 1 AND entries = last_seq - first_seq + 1)
);
CREATE TRIGGER audit_refuse_change BEFORE UPDATE OR DELETE ON audit_archive
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON audit_archive
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""
# The chain function's look-up of the head, and the same with the archived head when no live entry is left.
HEAD_LOOKUP = "SELECT seq, entry_hash INTO head FROM audit_entry ORDER BY seq DESC LIMIT 1;"
HEAD_OR_ARCHIVED = (
    HEAD_LOOKUP
    + "\n    IF NOT FOUND THEN SELECT last_seq AS seq, head_hash AS entry_hash INTO head FROM audit_archive "
    "ORDER BY last_seq DESC LIMIT 1; END IF;"
)


def _replace_chain_head(conn: Connection, old: str, new: str) -> None:
    """Redefine audit_chain() with ``old`` (its head look-up) replaced by ``new``."""
    definition = conn.execute(text("SELECT pg_get_functiondef('audit_chain'::regproc)")).scalar_one()
    if old not in definition:
        raise RuntimeError("0019: audit_chain() does not look up its head as expected; change it by hand")
    conn.execute(text(definition.replace(old, new)))


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params))


def _columns(conn: Connection) -> list[str]:
    return [
        r[0]
        for r in _rows(
            conn,
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            t=TABLE,
        )
    ]


def _indexes(conn: Connection) -> list[Any]:
    """The table's indexes: name, definition, constraint kind ('p', 'u' or None) and name, key columns."""
    return _rows(
        conn,
        "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS indexdef, k.contype, k.conname, "
        "ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS x(n, o) "
        "      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.n ORDER BY x.o) AS cols, "
        "i.indisunique AS is_unique "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid "
        "WHERE i.indrelid = to_regclass(:t) ORDER BY c.relname",
        t=TABLE,
    )


def _foreign_keys(conn: Connection) -> list[tuple[str, str]]:
    """(name, definition) of the table's own foreign keys (to products and producers)."""
    return [
        (r[0], r[1])
        for r in _rows(
            conn,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conparentid = 0 AND conrelid = to_regclass(:t) ORDER BY 1",
            t=TABLE,
        )
    ]


def _triggers(conn: Connection) -> list[str]:
    """The table's triggers (the audit log's capture and refusal), not the identity's own."""
    return [
        r[0]
        for r in _rows(
            conn,
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND NOT tgisinternal "
            "AND NOT (tgname = ANY (:ours)) ORDER BY tgname",
            t=TABLE,
            ours=list(OUR_TRIGGERS),
        )
    ]


def _digest(conn: Connection, table: str, columns: list[str]) -> tuple[int, int]:
    """Row count and an order-independent digest (sum of each row's 64-bit MD5 prefix) of ``columns``."""
    row = ", ".join(f'o."{c}"' for c in columns)
    count, digest = conn.execute(
        text(
            f"SELECT count(*), coalesce(sum(('x' || left(md5(ROW({row})::text), 16))::bit(64)::bigint::numeric), 0) "
            f'FROM "{table}" o'
        )
    ).one()
    return int(count), int(digest)


def _months(conn: Connection, today: date) -> list[date]:
    """From the oldest listing's month (at most this one) to AHEAD months on."""
    oldest = conn.execute(text(f'SELECT min("{KEY}") FROM "{TABLE}"')).scalar()
    current = month_start(today)
    month = min(month_start(oldest), current) if oldest is not None else current
    months = []
    while month <= add_months(current, AHEAD):
        months.append(month)
        month = add_months(month, 1)
    return months


def _rebuild(conn: Connection, partition: bool) -> None:
    """Rebuild ``listing`` partitioned by month (``partition``) or back as a plain table, losing nothing."""
    scratch = f"{TABLE}__rebuilt"
    columns = _columns(conn)
    indexes = _indexes(conn)
    foreign_keys = _foreign_keys(conn)
    triggers = _triggers(conn)
    like = f'LIKE "{TABLE}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS INCLUDING STORAGE'
    months: list[date] = []
    if partition:
        conn.execute(text(f'CREATE TABLE "{scratch}" ({like}) PARTITION BY RANGE ("{KEY}")'))
        months = _months(conn, datetime.now(PARTITION_ZONE).date())
        for month in months:
            create_month(conn, TABLE, month, parent=scratch)
        create_default(conn, TABLE, parent=scratch)
    else:
        conn.execute(text(f'CREATE TABLE "{scratch}" ({like})'))
    names = ", ".join(f'"{c}"' for c in columns)
    conn.execute(text(f'INSERT INTO "{scratch}" ({names}) SELECT {names} FROM "{TABLE}"'))
    before, after = _digest(conn, TABLE, columns), _digest(conn, scratch, columns)
    if before != after:
        raise RuntimeError(
            f"0019: {TABLE} copied with a difference (rows {before[0]:,} -> {after[0]:,}, digest "
            f"{before[1]} -> {after[1]}); nothing was changed"
        )
    conn.execute(text(f'ALTER SEQUENCE "{TABLE}_id_seq" OWNED BY "{scratch}".id'))
    conn.execute(text(f'DROP TABLE "{TABLE}"'))
    conn.execute(text(f'ALTER TABLE "{scratch}" RENAME TO "{TABLE}"'))
    for index in indexes:
        cols = list(index.cols)
        if index.contype == "p":
            cols = [c for c in cols if c != KEY] + ([KEY] if partition else [])
            quoted = ", ".join(f'"{c}"' for c in cols)
            conn.execute(
                text(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{index.conname}" PRIMARY KEY ({quoted})')
            )
        elif index.contype == "u" or index.is_unique:
            raise RuntimeError(f"0019: unique key {index.name} of {TABLE} is unexpected; add it by hand")
        else:
            conn.execute(text(index.indexdef.replace(" ON ONLY ", " ON ")))
    if not partition:
        conn.execute(text(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{UNIQUE}" UNIQUE (platform, listing_key)'))
    for name, definition in foreign_keys:
        conn.execute(text(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{name}" {definition}'))
    for trigger in triggers:
        conn.execute(text(trigger))
    for name in [partition_name(TABLE, m) for m in months] + ([f"{TABLE}_default"] if partition else []):
        protect_partition(conn, TABLE, name)


def upgrade() -> None:
    """Apply this revision."""
    conn = op.get_bind()
    conn.execute(text(f'ALTER TABLE balance_flag DROP CONSTRAINT "{FLAG_FK}"'))
    conn.execute(text(IDENTITY))
    # The platform's item is unique in listing_identity now; the partitioned table cannot hold that key.
    conn.execute(text(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT "{UNIQUE}"'))
    _rebuild(conn, partition=True)
    conn.execute(text(IDENTITY_TRIGGERS))
    conn.execute(
        text(
            f'ALTER TABLE balance_flag ADD CONSTRAINT "{FLAG_IDENTITY_FK}" FOREIGN KEY (listing_id) '
            "REFERENCES listing_identity (id) ON DELETE CASCADE"
        )
    )
    conn.execute(text(ARCHIVE))
    _replace_chain_head(conn, HEAD_LOOKUP, HEAD_OR_ARCHIVED)


def downgrade() -> None:
    """Revert this revision: archived audit months attached again, ``listing`` back to a plain table with its own
    keys, rows compared the same way."""
    conn = op.get_bind()
    _replace_chain_head(conn, HEAD_OR_ARCHIVED, HEAD_LOOKUP)
    for month, table in _rows(conn, "SELECT month, table_name FROM audit_archive ORDER BY month"):
        name = partition_name("audit_entry", month)
        conn.execute(text(f'DROP TRIGGER audit_refuse_change ON "{table}"'))
        conn.execute(text(f'ALTER TABLE "{table}" RENAME TO "{name}"'))
        conn.execute(
            text(
                f'ALTER TABLE audit_entry ATTACH PARTITION "{name}" '
                f"FOR VALUES FROM ('{bound(month)}') TO ('{bound(next_month(month))}')"
            )
        )
    conn.execute(text("DROP TABLE audit_archive"))
    conn.execute(text(f'ALTER TABLE balance_flag DROP CONSTRAINT "{FLAG_IDENTITY_FK}"'))
    for trigger in OUR_TRIGGERS:
        conn.execute(text(f'DROP TRIGGER "{trigger}" ON "{TABLE}"'))
    _rebuild(conn, partition=False)
    conn.execute(text("DROP TABLE listing_identity"))
    conn.execute(text("DROP FUNCTION listing_identity_keep(), listing_identity_forget()"))
    conn.execute(
        text(
            f'ALTER TABLE balance_flag ADD CONSTRAINT "{FLAG_FK}" FOREIGN KEY (listing_id) '
            "REFERENCES listing (id) ON DELETE CASCADE"
        )
    )
