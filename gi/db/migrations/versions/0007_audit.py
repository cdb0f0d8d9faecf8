"""audit: the tamper-evident, hash-chained audit log; verdict and log tables refuse UPDATE and DELETE

Revision ID: 0007
Revises: 0006

Every INSERT, UPDATE or DELETE statement on a tracked table is captured by a statement-level trigger (transition
tables, so a 100,000-row COPY costs one set-based query, not 100,000 trigger calls): the SHA-256 leaf hash of each
row's canonical text (the row as ``COPY ... TO STDOUT`` writes it, see docs/audit.md) and the RFC 6962 Merkle root
of those leaves go into ``audit_pending``. At commit a deferred constraint trigger chains each pending capture into
``audit_entry`` under an advisory lock: entry hash = SHA-256(previous entry hash || canonical entry text). The lock
is taken last and held only while committing, so concurrent writers never fork the chain nor deadlock on it.

The functions are frozen here as this revision defines them; a later change comes as a new revision.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Verdicts: a correction is a new row (the current verdict is the latest), so UPDATE and DELETE are refused.
APPEND_ONLY = ("origin_verdict", "quality_verdict", "fingerprint_verdict", "origin_evidence")
# Recorded, not frozen: area versions (a new version closes the previous one's validity), the register, lab
# results, and plans (commitment, draw, reveal and published results are inserts and updates of these rows).
RECORDED = (
    "production_area",
    "gi_product",
    "producer",
    "inspector",
    "quality_spec",
    "market_season",
    "quality_rule",
    "lab_result",
    "plan",
    "plan_round",
    "plan_commitment",
    "plan_task",
)
LOG_TABLES = ("audit_entry",)
# pg_advisory_xact_lock key serializing appends: the first 8 bytes of SHA-256("gi.audit") as a signed bigint.
LOCK_KEY = -1_493_290_707_938_431_733

FUNCTIONS = r"""
CREATE FUNCTION audit_copy_escape(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(replace(replace(value,
        E'\\', E'\\\\'), E'\b', E'\\b'), E'\f', E'\\f'), E'\n', E'\\n'), E'\r', E'\\r'), E'\t', E'\\t'),
        E'\x0B', E'\\v')
$$;
COMMENT ON FUNCTION audit_copy_escape(text) IS
    'A field as COPY TO''s text format writes it: backslash, BS, FF, LF, CR, TAB and VT escaped.';

-- The columns a row's leaf covers: every column of the table as it is now, in order (the first is "id").
-- Each entry records them, so rows written before a migration added a column are still verified as they were.
CREATE FUNCTION audit_columns(p_table text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
     WHERE attrelid = p_table::regclass AND attnum > 0 AND NOT attisdropped
$$;

-- The SQL expression of a row's canonical text (its COPY text line) for the columns given, on alias "t".
-- Types whose output never holds a character COPY escapes are not run through audit_copy_escape (it is the
-- costly part); jsonb output holds no control character (JSON escapes them) but may hold backslashes.
CREATE FUNCTION audit_line_expression(p_table text, p_columns text[]) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(
        CASE
            -- bool::text is 'true'/'false'; COPY writes boolout's 't'/'f'
            WHEN a.atttypid = 'bool'::regtype
                THEN format('CASE t.%I WHEN true THEN %L WHEN false THEN %L ELSE %L END', c.name, 't', 'f', E'\\N')
            WHEN a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype,
                                'float8'::regtype, 'numeric'::regtype, 'uuid'::regtype,
                                'date'::regtype, 'timestamptz'::regtype, 'timestamp'::regtype)
                 OR format_type(a.atttypid, NULL) IN ('geometry', 'geography')
                THEN format('coalesce(t.%I::text, %L)', c.name, E'\\N')
            WHEN a.atttypid = 'jsonb'::regtype
                THEN format('coalesce(replace(t.%I::text, %L, %L), %L)', c.name, E'\\', E'\\\\', E'\\N')
            ELSE format('coalesce(audit_copy_escape(t.%I::text), %L)', c.name, E'\\N')
        END,
        ' || E''\t'' || ' ORDER BY c.ord)
    FROM unnest(p_columns) WITH ORDINALITY AS c(name, ord)
    JOIN pg_attribute a ON a.attrelid = p_table::regclass AND a.attname = c.name AND NOT a.attisdropped
$$;

-- RFC 6962 Merkle tree hash of leaf hashes (32 bytes each, concatenated): MTH of no leaves is SHA-256 of the
-- empty string; a node is SHA-256(0x01 || left || right); an odd node at the end of a level moves up unchanged,
-- which builds the same tree as RFC 6962's split at the largest power of two below n.
CREATE FUNCTION audit_merkle_root(leaves bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    level bytea := leaves;
    n integer := length(leaves) / 32;
BEGIN
    IF length(leaves) % 32 <> 0 THEN
        RAISE EXCEPTION 'audit_merkle_root: % bytes is not a list of 32-byte hashes', length(leaves);
    END IF;
    IF n = 0 THEN
        RETURN sha256(''::bytea);
    END IF;
    WHILE n > 1 LOOP
        SELECT string_agg(
                   CASE WHEN 2 * i + 1 < n
                        THEN sha256('\x01'::bytea || substring(level FROM 64 * i + 1 FOR 64))
                        ELSE substring(level FROM 64 * i + 1 FOR 32) END,
                   ''::bytea ORDER BY i)
          INTO level
          FROM generate_series(0, (n + 1) / 2 - 1) AS i;
        n := (n + 1) / 2;
    END LOOP;
    RETURN level;
END $$;

-- The canonical text of an entry, hashed after the previous entry's hash (docs/audit.md has it byte for byte).
CREATE FUNCTION audit_entry_text(
    p_seq bigint, p_kind text, p_op text, p_columns text[], p_leaf_count integer, p_root bytea,
    p_actor text, p_db_role text, p_recorded_at timestamptz, p_note text
) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT concat_ws(E'\n',
        'gi-audit-entry v1',
        p_seq::text,
        p_kind,
        p_op,
        array_to_string(p_columns, ','),
        p_leaf_count::text,
        encode(p_root, 'hex'),
        replace(replace(replace(p_actor, E'\\', E'\\\\'), E'\n', E'\\n'), E'\r', E'\\r'),
        replace(replace(replace(p_db_role, E'\\', E'\\\\'), E'\n', E'\\n'), E'\r', E'\\r'),
        to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        replace(replace(replace(p_note, E'\\', E'\\\\'), E'\n', E'\\n'), E'\r', E'\\r')
    ) || E'\n'
$$;

-- Statement-level capture: leaf hashes of the rows a statement inserted, updated (their new state) or deleted
-- (their last state), in id order, and their Merkle root, pending until commit. The SET clauses fix the text
-- output of floats, times and bytes, so the leaves match COPY TO under the settings docs/audit.md gives.
CREATE FUNCTION audit_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET extra_float_digits = 1 SET timezone = 'UTC' SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres'
SET bytea_output = 'hex'
AS $$
DECLARE
    cols text[];
    ids bigint[];
    leaves bytea;
    n integer;
BEGIN
    cols := audit_columns(TG_TABLE_NAME);
    EXECUTE format(
        'SELECT array_agg(id ORDER BY id), string_agg(leaf, ''''::bytea ORDER BY id), count(*)::integer '
        'FROM (SELECT t.id, sha256(''\x00''::bytea || convert_to(%s, ''UTF8'')) AS leaf FROM %I t) s',
        audit_line_expression(TG_TABLE_NAME, cols),
        CASE TG_OP WHEN 'DELETE' THEN 'audit_old' ELSE 'audit_new' END)
    INTO ids, leaves, n;
    IF n > 0 THEN
        INSERT INTO audit_pending (kind, op, columns, row_ids, leaves, leaf_count, merkle_root)
        VALUES (TG_TABLE_NAME, lower(TG_OP), cols, ids, leaves, n, audit_merkle_root(leaves));
    END IF;
    RETURN NULL;
END $$;

-- The capture, chain and snapshot functions run as the log's owner (SECURITY DEFINER): an application role
-- needs no privilege on the log's tables, so it can neither write nor forge entries (docs/audit.md, roles).

-- At commit: chain one pending capture as the next entry. The advisory lock serializes appends until the
-- transaction ends; it is the last lock a writer takes, so it cannot close a cycle of lock waits.
CREATE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    head record;
    next_seq bigint;
    prev bytea;
    at timestamptz;
    who text := coalesce(nullif(current_setting('gi.actor', true), ''), session_user::text);
    body text;
BEGIN
    PERFORM pg_advisory_xact_lock(LOCK_KEY);
    SELECT seq, entry_hash INTO head FROM audit_entry ORDER BY seq DESC LIMIT 1;
    next_seq := coalesce(head.seq, 0) + 1;
    prev := coalesce(head.entry_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    at := clock_timestamp();
    body := audit_entry_text(next_seq, NEW.kind, NEW.op, NEW.columns, NEW.leaf_count, NEW.merkle_root, who,
                             session_user::text, at, NEW.note);
    INSERT INTO audit_entry (seq, kind, op, columns, leaf_count, merkle_root, actor, db_role, recorded_at, note,
                             prev_hash, entry_hash, row_ids, id_range, leaves)
    VALUES (next_seq, NEW.kind, NEW.op, NEW.columns, NEW.leaf_count, NEW.merkle_root, who, session_user::text, at,
            NEW.note, prev, sha256(prev || convert_to(body, 'UTF8')), NEW.row_ids,
            CASE WHEN NEW.leaf_count > 0
                 THEN int8range(NEW.row_ids[1], NEW.row_ids[array_upper(NEW.row_ids, 1)], '[]') END,
            NEW.leaves);
    DELETE FROM audit_pending WHERE id = NEW.id;
    RETURN NULL;
END $$;

CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'GIA01',
        MESSAGE = format('%s on %s is refused: its rows are append-only (tamper-evident audit log)',
                         TG_OP, TG_TABLE_NAME),
        HINT = 'a correction is a new row; the current verdict is the latest one';
END $$;

-- TRUNCATE bypasses row triggers: refused unless the session says it means it (tests and benchmarks on
-- throw-away databases; docs/audit.md). A truncated log is caught only against a published checkpoint.
CREATE FUNCTION audit_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('gi.audit_truncate', true), '') <> 'discard audited data' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'GIA01',
            MESSAGE = format('TRUNCATE on %s is refused: it is covered by the tamper-evident audit log',
                             TG_TABLE_NAME),
            HINT = 'drop the throw-away database instead, or see docs/audit.md';
    END IF;
    RETURN NULL;
END $$;

-- Record every stored row of a table as snapshot entries of up to 100,000 rows (a table put under the log with
-- rows already in it; a migration that drops a column of a table under the log calls it afterwards).
CREATE FUNCTION audit_snapshot(p_table text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET extra_float_digits = 1 SET timezone = 'UTC' SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres'
SET bytea_output = 'hex'
AS $$
DECLARE
    cols text[];
    part record;
    total integer := 0;
BEGIN
    cols := audit_columns(p_table);
    FOR part IN EXECUTE format(
        'SELECT array_agg(id ORDER BY id) AS ids, string_agg(leaf, ''''::bytea ORDER BY id) AS leaves, '
        'count(*)::integer AS n FROM (SELECT t.id, sha256(''\x00''::bytea || convert_to(%s, ''UTF8'')) AS leaf, '
        '(row_number() OVER (ORDER BY t.id) - 1) / 100000 AS part FROM %I t) s GROUP BY part ORDER BY part',
        audit_line_expression(p_table, cols), p_table)
    LOOP
        INSERT INTO audit_pending (kind, op, columns, row_ids, leaves, leaf_count, merkle_root)
        VALUES (p_table, 'snapshot', cols, part.ids, part.leaves, part.n, audit_merkle_root(part.leaves));
        total := total + part.n;
    END LOOP;
    RETURN total;
END $$;

-- Put a table under the log: capture its inserts, updates and deletes (its first column must be the integer
-- primary key "id"); an append-only table refuses UPDATE and DELETE; every one refuses TRUNCATE. Rows already
-- stored are recorded as a snapshot when the table is first put under the log.
CREATE FUNCTION audit_track(p_table text, p_append_only boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    known boolean;
BEGIN
    IF (audit_columns(p_table))[1] IS DISTINCT FROM 'id' THEN
        RAISE EXCEPTION 'audit_track(%): the first column must be the integer primary key id', p_table;
    END IF;
    known := EXISTS (SELECT 1 FROM audit_table WHERE table_name = p_table);
    INSERT INTO audit_table (table_name, append_only) VALUES (p_table, p_append_only)
    ON CONFLICT (table_name) DO UPDATE SET append_only = EXCLUDED.append_only;
    EXECUTE format('DROP TRIGGER IF EXISTS audit_capture_insert ON %1$I;
        DROP TRIGGER IF EXISTS audit_capture_update ON %1$I;
        DROP TRIGGER IF EXISTS audit_capture_delete ON %1$I;
        DROP TRIGGER IF EXISTS audit_refuse_change ON %1$I;
        DROP TRIGGER IF EXISTS audit_refuse_truncate ON %1$I;
        CREATE TRIGGER audit_capture_insert AFTER INSERT ON %1$I REFERENCING NEW TABLE AS audit_new
            FOR EACH STATEMENT EXECUTE FUNCTION audit_capture();
        CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON %1$I
            FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()', p_table);
    IF p_append_only THEN
        EXECUTE format('CREATE TRIGGER audit_refuse_change BEFORE UPDATE OR DELETE ON %1$I
            FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()', p_table);
    ELSE
        EXECUTE format('
            CREATE TRIGGER audit_capture_update AFTER UPDATE ON %1$I REFERENCING NEW TABLE AS audit_new
                FOR EACH STATEMENT EXECUTE FUNCTION audit_capture();
            CREATE TRIGGER audit_capture_delete AFTER DELETE ON %1$I REFERENCING OLD TABLE AS audit_old
                FOR EACH STATEMENT EXECUTE FUNCTION audit_capture()', p_table);
    END IF;
    IF NOT known THEN
        PERFORM audit_snapshot(p_table);
    END IF;
END $$;
REVOKE EXECUTE ON FUNCTION audit_snapshot(text), audit_track(text, boolean) FROM PUBLIC;
"""

TABLES = """
CREATE TABLE audit_table (
    table_name text NOT NULL,
    append_only boolean NOT NULL,
    CONSTRAINT pk_audit_table PRIMARY KEY (table_name)
);

CREATE TABLE audit_entry (
    seq bigint NOT NULL,
    kind text NOT NULL,
    op text NOT NULL,
    columns text[] NOT NULL,
    leaf_count integer NOT NULL,
    merkle_root bytea NOT NULL,
    actor text NOT NULL,
    db_role text NOT NULL,
    recorded_at timestamptz NOT NULL,
    note text NOT NULL DEFAULT '',
    prev_hash bytea NOT NULL,
    entry_hash bytea NOT NULL,
    row_ids bigint[] NOT NULL,
    id_range int8range,
    leaves bytea NOT NULL,
    CONSTRAINT pk_audit_entry PRIMARY KEY (seq),
    CONSTRAINT uq_audit_entry_entry_hash UNIQUE (entry_hash),
    CONSTRAINT ck_audit_entry_seq_positive CHECK (seq > 0),
    CONSTRAINT ck_audit_entry_op_known CHECK (op IN ('genesis', 'snapshot', 'insert', 'update', 'delete')),
    CONSTRAINT ck_audit_entry_leaf_count_non_negative CHECK (leaf_count >= 0),
    CONSTRAINT ck_audit_entry_hash_sizes
        CHECK (length(merkle_root) = 32 AND length(prev_hash) = 32 AND length(entry_hash) = 32)
);
COMMENT ON COLUMN audit_entry.kind IS 'the table whose rows the entry records (''audit'': genesis)';
COMMENT ON COLUMN audit_entry.columns IS 'the columns each leaf covers, in order';
COMMENT ON COLUMN audit_entry.actor IS 'user as the application names it';
COMMENT ON COLUMN audit_entry.db_role IS 'database role as PostgreSQL authenticated it';
COMMENT ON COLUMN audit_entry.leaves IS '32-byte leaf hashes of row_ids, concatenated';
CREATE INDEX ix_audit_entry_id_range ON audit_entry USING gist (id_range) WHERE id_range IS NOT NULL;
CREATE INDEX ix_audit_entry_kind_seq ON audit_entry (kind, seq);

-- Captures of the current transaction waiting for its commit (always empty between transactions).
CREATE TABLE audit_pending (
    id bigserial NOT NULL,
    kind text NOT NULL,
    op text NOT NULL,
    columns text[] NOT NULL,
    row_ids bigint[] NOT NULL,
    leaves bytea NOT NULL,
    leaf_count integer NOT NULL,
    merkle_root bytea NOT NULL,
    note text NOT NULL DEFAULT '',
    CONSTRAINT pk_audit_pending PRIMARY KEY (id)
);
CREATE CONSTRAINT TRIGGER audit_chain AFTER INSERT ON audit_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain();

CREATE TRIGGER audit_refuse_change BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""

SNAPSHOT = """
-- The genesis entry names the log (a checkpoint's origin line); rows stored before this revision are recorded
-- as snapshot entries of up to 100,000 rows each.
INSERT INTO audit_pending (kind, op, columns, row_ids, leaves, leaf_count, merkle_root, note)
VALUES ('audit', 'genesis', '{}', '{}', ''::bytea, 0, sha256(''::bytea), 'gi-audit/' || gen_random_uuid());
"""


def upgrade() -> None:
    """Apply this revision."""
    op.execute(FUNCTIONS.replace("LOCK_KEY", str(LOCK_KEY)))
    op.execute(TABLES)
    op.execute(SNAPSHOT)
    for table in APPEND_ONLY + RECORDED:
        op.execute(f"SELECT audit_track('{table}', {table in APPEND_ONLY})")


def downgrade() -> None:
    """Revert this revision: the triggers go first, then the log (its data is dropped with it)."""
    for table in APPEND_ONLY + RECORDED:
        for trigger in (
            "audit_capture_insert",
            "audit_capture_update",
            "audit_capture_delete",
            "audit_refuse_change",
            "audit_refuse_truncate",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP TABLE audit_pending, audit_entry, audit_table")
    for function in (
        "audit_track(text, boolean)",
        "audit_snapshot(text)",
        "audit_refuse_truncate()",
        "audit_refuse_change()",
        "audit_chain()",
        "audit_capture()",
        "audit_entry_text(bigint, text, text, text[], integer, bytea, text, text, timestamptz, text)",
        "audit_merkle_root(bytea)",
        "audit_line_expression(text, text[])",
        "audit_copy_escape(text)",
        "audit_columns(text)",
    ):
        op.execute(f"DROP FUNCTION {function}")
