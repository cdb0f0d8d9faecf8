"""partitioned history: samples, their verdicts and the audit log partitioned by month; sample_identity

Revision ID: 0018
Revises: 0017

``sample`` and its verdicts (``origin_verdict``, ``quality_verdict``, ``fingerprint_verdict``,
``origin_evidence``, which gain their sample's ``collected_at``) become tables partitioned by collection month
(Asia/Shanghai), ``audit_entry`` by the month it was recorded; each has a DEFAULT partition. A primary or unique
key of a partitioned table must hold the partition key, so ``sample_identity (id PRIMARY KEY, collected_at)``
keeps one UUID one sample; the intake's ``ON CONFLICT`` moves to it, a trigger on ``sample`` writes it for every
other writer, and tables that point at a sample without its moment (lab results, photos, seal codes, ODK
submissions) reference it. Verdicts reference ``sample (id, collected_at)``.

Each table is rebuilt the same way in both directions: the new table is created beside the old one from the
old one's columns *as they are when the migration runs* (so a column another revision added before this one is
carried along), the rows are copied, row counts and an order-independent digest of every row are compared (any
difference raises, and the whole migration rolls back), the old table is dropped, the new one takes its name,
and its indexes, keys, foreign keys and triggers (the audit log's capture and refusal triggers among them) are
recreated from the old table's own definitions. Verdict ids and audit sequence numbers are kept, so
``gi audit verify`` re-verifies every recorded row against the log as before.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from alembic import op
from sqlalchemy import Connection, text

from gi.db.partitions import (
    PARTITION_ZONE,
    SAMPLE_KEYED,
    add_months,
    create_default,
    create_month,
    month_start,
    partition_name,
    protect_partition,
)

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KEYS = {table: "collected_at" for table in SAMPLE_KEYED} | {"audit_entry": "recorded_at"}
ORDER = (*SAMPLE_KEYED, "audit_entry")
# Tables that get the partition key as a new column (filled from their sample).
ADDED_KEY = ("origin_verdict", "quality_verdict", "fingerprint_verdict", "origin_evidence")
AHEAD = 3
# Origin verdicts of producers have no collection moment (NULL: they live in the DEFAULT partition), so the
# table's key is a unique (id, collected_at), not a primary key (whose columns cannot be NULL).
ORIGIN_VERDICT_KEY = "uq_origin_verdict_id_collected_at"
# Actions a composite foreign key cannot keep: SET NULL would null the shared collected_at too. The verdicts
# they point at are append-only (DELETE is refused), so NO ACTION behaves the same; downgrade restores them.
SET_NULL = {("origin_evidence", "origin_verdict_id"), ("origin_evidence", "fingerprint_verdict_id")}

_FK = re.compile(
    r"^FOREIGN KEY \((?P<cols>[^)]*)\) REFERENCES (?:public\.)?(?P<target>\w+)\((?P<refcols>[^)]*)\)(?P<rest>.*)$"
)

IDENTITY = """
CREATE TABLE sample_identity (
    id uuid NOT NULL,
    collected_at timestamptz NOT NULL,
    CONSTRAINT pk_sample_identity PRIMARY KEY (id),
    CONSTRAINT uq_sample_identity_id UNIQUE (id, collected_at)
);
INSERT INTO sample_identity (id, collected_at) SELECT id, collected_at FROM sample;
"""

# Every writer of sample gets its identity row: the intake writes it itself (its ON CONFLICT is on it), so the
# trigger's insert finds it and does nothing; a sample deleted takes its identity (and what cascades from it).
IDENTITY_TRIGGERS = """
CREATE FUNCTION sample_identity_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sample_identity (id, collected_at) VALUES (NEW.id, NEW.collected_at) ON CONFLICT (id) DO NOTHING;
    RETURN NEW;
END $$;
CREATE FUNCTION sample_identity_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sample_identity WHERE id = OLD.id AND collected_at = OLD.collected_at;
    RETURN NULL;
END $$;
CREATE TRIGGER sample_identity_insert BEFORE INSERT ON sample
    FOR EACH ROW EXECUTE FUNCTION sample_identity_insert();
CREATE TRIGGER sample_identity_forget AFTER DELETE ON sample
    FOR EACH ROW EXECUTE FUNCTION sample_identity_forget();
ALTER TABLE sample ADD CONSTRAINT fk_sample_id_sample_identity
    FOREIGN KEY (id, collected_at) REFERENCES sample_identity (id, collected_at) ON DELETE CASCADE;
"""


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params))


def _columns(conn: Connection, table: str) -> list[str]:
    return [
        r[0]
        for r in _rows(
            conn,
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            t=table,
        )
    ]


def _foreign_keys(conn: Connection, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, name, definition) of every foreign key from or to ``tables``."""
    return [
        (r[0], r[1], r[2])
        for r in _rows(
            conn,
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conparentid = 0 AND (conrelid::regclass::text = ANY (:t) "
            "OR confrelid::regclass::text = ANY (:t)) ORDER BY 1, 2",
            t=list(tables),
        )
    ]


def _indexes(conn: Connection, table: str) -> list[Any]:
    """The table's indexes: name, definition, constraint kind ('p', 'u' or None) and key columns."""
    return _rows(
        conn,
        "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS indexdef, k.contype, k.conname, "
        "ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS x(n, o) "
        "      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.n ORDER BY x.o) AS cols, "
        "i.indisunique AS is_unique "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid "
        "WHERE i.indrelid = to_regclass(:t) ORDER BY c.relname",
        t=table,
    )


def _triggers(conn: Connection, table: str) -> list[str]:
    return [
        r[0]
        for r in _rows(
            conn,
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND NOT tgisinternal "
            "ORDER BY tgname",
            t=table,
        )
    ]


def _sequences(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(column, sequence) of the sequences the table's columns own (serial ids)."""
    return [
        (r[0], r[1])
        for r in _rows(
            conn,
            "SELECT a.attname, s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
            "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
            "WHERE d.refobjid = to_regclass(:t) AND d.deptype = 'a'",
            t=table,
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


def _compare(conn: Connection, old: str, new: str, columns: list[str], table: str) -> None:
    before, after = _digest(conn, old, columns), _digest(conn, new, columns)
    if before != after:
        raise RuntimeError(
            f"0015: {table} copied with a difference (rows {before[0]:,} -> {after[0]:,}, digest "
            f"{before[1]} -> {after[1]}); nothing was changed"
        )


def _months(conn: Connection, table: str, key: str, today: date) -> list[date]:
    """The months to create: from the oldest stored row's month (at most this one) to AHEAD months on."""
    oldest = conn.execute(text(f'SELECT min("{key}") FROM "{table}"')).scalar()
    current = month_start(today)
    month = min(month_start(oldest), current) if oldest is not None else current
    months = []
    while month <= add_months(current, AHEAD):
        months.append(month)
        month = add_months(month, 1)
    return months


def _constraint_sql(table: str, name: str, kind: str, cols: list[str]) -> str:
    quoted = ", ".join(f'"{c}"' for c in cols)
    return f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {"PRIMARY KEY" if kind == "p" else "UNIQUE"} ({quoted})'


def _rebuild(conn: Connection, table: str, key: str, partition: bool, today: date) -> None:
    """Rebuild ``table`` partitioned by ``key`` (``partition``) or back as a plain table, losing nothing."""
    scratch = f"{table}__rebuilt"
    added = table in ADDED_KEY
    columns = _columns(conn, table)
    carried = [c for c in columns if not (added and not partition and c == key)]
    indexes = _indexes(conn, table)
    triggers = _triggers(conn, table)
    sequences = _sequences(conn, table)
    like = f'LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS INCLUDING STORAGE'
    months: list[date] = []
    if partition:
        extra = ""
        if added:
            extra = f', "{key}" timestamptz' + ("" if table == "origin_verdict" else " NOT NULL")
        conn.execute(text(f'CREATE TABLE "{scratch}" ({like}{extra}) PARTITION BY RANGE ("{key}")'))
        if added:
            conn.execute(
                text(
                    f"COMMENT ON COLUMN \"{scratch}\".\"{key}\" IS 'its sample''s collection moment (partition key)'"
                )
            )
        if table == "origin_verdict":
            conn.execute(
                text(
                    f'ALTER TABLE "{scratch}" ADD CONSTRAINT ck_origin_verdict_sample_collected '
                    "CHECK ((sample_id IS NULL) = (collected_at IS NULL))"
                )
            )
        source = "sample_identity" if added else None
        months = _months(conn, source or table, key, today)
        for month in months:
            create_month(conn, table, month, parent=scratch)
        create_default(conn, table, parent=scratch)
    else:
        conn.execute(text(f'CREATE TABLE "{scratch}" ({like})'))
        if added:
            conn.execute(text(f'ALTER TABLE "{scratch}" DROP COLUMN "{key}"'))
    names = ", ".join(f'"{c}"' for c in carried)
    old_names = ", ".join(f'o."{c}"' for c in carried)
    if partition and added:
        conn.execute(
            text(
                f'INSERT INTO "{scratch}" ({names}, "{key}") SELECT {old_names}, '
                f'i.collected_at FROM "{table}" o LEFT JOIN sample_identity i ON i.id = o.sample_id'
            )
        )
    else:
        conn.execute(text(f'INSERT INTO "{scratch}" ({names}) SELECT {names} FROM "{table}"'))
    _compare(conn, table, scratch, carried, table)
    for column, sequence in sequences:
        conn.execute(text(f'ALTER SEQUENCE "{sequence}" OWNED BY "{scratch}"."{column}"'))
    conn.execute(text(f'DROP TABLE "{table}"'))
    conn.execute(text(f'ALTER TABLE "{scratch}" RENAME TO "{table}"'))
    for index in indexes:
        cols = list(index.cols)
        if index.contype in ("p", "u"):
            name, kind = index.conname, index.contype
            if partition:
                if key not in cols:
                    cols.append(key)
                if table == "origin_verdict" and kind == "p":
                    name, kind = ORIGIN_VERDICT_KEY, "u"
            else:
                if name == ORIGIN_VERDICT_KEY:
                    name, kind = "pk_origin_verdict", "p"
                if key in cols and len(cols) > 1:
                    cols.remove(key)
            conn.execute(text(_constraint_sql(table, name, kind, cols)))
        elif index.is_unique:
            raise RuntimeError(
                f"0015: unique index {index.name} of {table} is not a constraint; add it by hand"
            )
        else:
            conn.execute(text(index.indexdef.replace(" ON ONLY ", " ON ")))
    for trigger in triggers:
        conn.execute(text(trigger))
    if partition:
        for name in [partition_name(table, m) for m in months] + [f"{table}_default"]:
            protect_partition(conn, table, name)


def _fk_up(table: str, name: str, definition: str) -> tuple[str, str] | None:
    """A foreign key as it becomes under partitioning (its name and definition)."""
    m = _FK.match(definition)
    if m is None:
        raise RuntimeError(f"0015: cannot read foreign key {name} of {table}: {definition}")
    target, cols, rest = m["target"], m["cols"], m["rest"]
    if target not in SAMPLE_KEYED:
        return name, definition
    if table in SAMPLE_KEYED:
        if (table, cols) in SET_NULL:
            rest = rest.replace(" ON DELETE SET NULL", "")
        return (
            name,
            f"FOREIGN KEY ({cols}, collected_at) REFERENCES {target}({m['refcols']}, collected_at){rest}",
        )
    if target == "sample":
        return name.replace("_sample", "_sample_identity") if name.endswith("_sample") else name, (
            f"FOREIGN KEY ({cols}) REFERENCES sample_identity(id){rest}"
        )
    raise RuntimeError(
        f"0015: {table}.{cols} references {target}, which is partitioned; add its collected_at"
    )


def _fk_down(table: str, name: str, definition: str) -> tuple[str, str] | None:
    """A foreign key as it was before partitioning (None: it goes away with sample_identity)."""
    m = _FK.match(definition)
    if m is None:
        raise RuntimeError(f"0015: cannot read foreign key {name} of {table}: {definition}")
    target, rest = m["target"], m["rest"]
    cols = [c.strip() for c in m["cols"].split(",")]
    if target == "sample_identity":
        if table == "sample":
            return None
        base = name[: -len("_identity")] if name.endswith("_sample_identity") else name
        return base, f"FOREIGN KEY ({cols[0]}) REFERENCES sample(id){rest}"
    if target in SAMPLE_KEYED and len(cols) == 2 and cols[1] == "collected_at":
        if (table, cols[0]) in SET_NULL:
            rest = " ON DELETE SET NULL" + rest
        return name, f"FOREIGN KEY ({cols[0]}) REFERENCES {target}(id){rest}"
    return name, definition


def _today() -> date:
    return datetime.now(PARTITION_ZONE).date()


def upgrade() -> None:
    """Apply this revision."""
    conn = op.get_bind()
    keys = _foreign_keys(conn, ORDER)
    for table, name, _ in keys:
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    conn.execute(text(IDENTITY))
    today = _today()
    for table in ORDER:
        _rebuild(conn, table, KEYS[table], True, today)
    for table, name, definition in keys:
        new = _fk_up(table, name, definition)
        if new is not None:
            conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{new[0]}" {new[1]}'))
    conn.execute(text(IDENTITY_TRIGGERS))
    # Producers' origin verdicts (no collection moment) all sit in the DEFAULT partition: keep their ids and
    # the one-successor rule unique there, where the partitioned table's keys cannot (NULL collected_at).
    conn.execute(text("CREATE UNIQUE INDEX uq_origin_verdict_default_id ON origin_verdict_default (id)"))
    conn.execute(
        text(
            "CREATE UNIQUE INDEX uq_origin_verdict_default_supersedes_id ON origin_verdict_default (supersedes_id) "
            "WHERE collected_at IS NULL"
        )
    )


def downgrade() -> None:
    """Revert this revision: every table back to a plain one, rows compared the same way."""
    conn = op.get_bind()
    keys = _foreign_keys(conn, (*ORDER, "sample_identity"))
    for table, name, _ in keys:
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    conn.execute(text("DROP TRIGGER sample_identity_insert ON sample"))
    conn.execute(text("DROP TRIGGER sample_identity_forget ON sample"))
    today = _today()
    for table in reversed(ORDER):
        _rebuild(conn, table, KEYS[table], False, today)
    conn.execute(text("DROP TABLE sample_identity"))
    conn.execute(text("DROP FUNCTION sample_identity_insert(), sample_identity_forget()"))
    for table, name, definition in keys:
        old = _fk_down(table, name, definition)
        if old is not None:
            conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{old[0]}" {old[1]}'))
    # Rows recorded with the dropped collected_at cannot be re-verified without it: record them again.
    for table in ADDED_KEY:
        recorded = conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM audit_entry WHERE kind = :t AND 'collected_at' = ANY (columns))"
            ),
            {"t": table},
        ).scalar()
        if recorded:
            conn.execute(text("SELECT audit_snapshot(:t)"), {"t": table})
    # Chain the snapshots now, not at commit: a further downgrade in this transaction may drop the log.
    conn.execute(text("SET CONSTRAINTS audit_chain IMMEDIATE"))
    conn.execute(text("SET CONSTRAINTS audit_chain DEFERRED"))
