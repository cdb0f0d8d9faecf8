"""service: a compiled audit capture per tracked table; the task-status trigger fires only for samples of a task

Revision ID: 0020_service
Revises: 0019_history

Uploads spent most of their PostgreSQL time in triggers (benchmarks/api.py). Two changes, same stored rows and
the same audit leaves:

- The generic ``audit_capture()`` builds each row's canonical-text expression from the catalog and runs it with
  EXECUTE, so every captured statement pays catalog reads and a fresh plan. ``audit_compile(table)`` writes
  ``audit_capture__<table>()`` with that expression as static SQL (planned once per connection). It first compares
  the table's columns and types with those it was compiled for (one cached catalog read); a table altered since
  then takes the generic path inlined beside it, so every column is still covered until it is recompiled
  (``audit_track`` and this revision compile; a migration that alters a tracked table may call
  ``audit_compile``). A table whose function name would not fit an identifier keeps the generic ``audit_capture``.
- ``gi_task_sampled`` was a statement trigger with a transition table on every sample INSERT. It is now a row
  trigger ``WHEN (NEW.task_id IS NOT NULL)``, and it updates the task only while it is still planned, so an upload
  without a task runs no trigger and an already sampled task is not rewritten (nor captured by the log).
"""

from __future__ import annotations

from alembic import op

revision = "0020_service"
down_revision = "0019_history"
branch_labels = None
depends_on = None

COMPILE = r"""
CREATE FUNCTION audit_signature(p_table text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(attname::text || ':' || atttypid::text, ',' ORDER BY attnum) FROM pg_attribute
     WHERE attrelid = p_table::regclass AND attnum > 0 AND NOT attisdropped
$$;
COMMENT ON FUNCTION audit_signature(text) IS
    'The columns and types a compiled audit capture was written for (it falls back when they differ).';

-- Write audit_capture__<table>() and point the table's capture triggers at it; false (nothing changed) when the
-- name would be truncated. The leaves are those of audit_capture(): the same expression, fixed at compile time.
CREATE FUNCTION audit_compile(p_table text) RETURNS boolean
LANGUAGE plpgsql AS $compile$
DECLARE
    fn text := 'audit_capture__' || p_table;
    cols text[] := audit_columns(p_table);
    line text := audit_line_expression(p_table, cols);
    capture text := 'SELECT array_agg(id ORDER BY id), string_agg(leaf, ''''::bytea ORDER BY id), '
        'count(*)::integer INTO ids, leaves, n FROM (SELECT t.id, '
        'sha256(''\x00''::bytea || convert_to(' || line || ', ''UTF8'')) AS leaf FROM @source t) s';
    trig record;
BEGIN
    IF octet_length(fn) > 63 THEN
        RETURN false;
    END IF;
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION %1$I() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET extra_float_digits = 1 SET timezone = 'UTC' SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres'
SET bytea_output = 'hex'
AS $body$
DECLARE
    cols text[];
    ids bigint[];
    leaves bytea;
    n integer;
BEGIN
    -- Compiled by audit_compile(%2$L); the table's columns are checked so that an altered table is still
    -- captured whole (by the generic path below) until it is compiled again.
    IF (SELECT string_agg(attname::text || ':' || atttypid::text, ',' ORDER BY attnum) FROM pg_attribute
         WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped) = %3$L THEN
        cols := %4$L::text[];
        IF TG_OP = 'DELETE' THEN
            %5$s;
        ELSE
            %6$s;
        END IF;
    ELSE
        cols := audit_columns(TG_TABLE_NAME);
        EXECUTE format(
            'SELECT array_agg(id ORDER BY id), string_agg(leaf, ''''::bytea ORDER BY id), count(*)::integer '
            'FROM (SELECT t.id, sha256(''\x00''::bytea || convert_to(%%s, ''UTF8'')) AS leaf FROM %%I t) s',
            audit_line_expression(TG_TABLE_NAME, cols),
            CASE TG_OP WHEN 'DELETE' THEN 'audit_old' ELSE 'audit_new' END)
        INTO ids, leaves, n;
    END IF;
    IF n > 0 THEN
        INSERT INTO audit_pending (kind, op, columns, row_ids, leaves, leaf_count, merkle_root)
        VALUES (TG_TABLE_NAME, lower(TG_OP), cols, ids, leaves, n, audit_merkle_root(leaves));
    END IF;
    RETURN NULL;
END $body$
$f$, fn, p_table, audit_signature(p_table), cols::text, replace(capture, '@source', 'audit_old'),
        replace(capture, '@source', 'audit_new'));
    -- Re-point the table's capture triggers (their events and transition tables stay as audit_track made them).
    FOR trig IN
        SELECT t.tgname, pg_get_triggerdef(t.oid) AS def FROM pg_trigger t
         WHERE t.tgrelid = p_table::regclass AND NOT t.tgisinternal
           AND t.tgname IN ('audit_capture_insert', 'audit_capture_update', 'audit_capture_delete')
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', trig.tgname, p_table);
        EXECUTE regexp_replace(trig.def, 'EXECUTE FUNCTION \S+\(\)$', format('EXECUTE FUNCTION %I()', fn));
    END LOOP;
    RETURN true;
END $compile$;
REVOKE EXECUTE ON FUNCTION audit_compile(text) FROM PUBLIC;
"""

TRACK = r"""
CREATE OR REPLACE FUNCTION audit_track(p_table text, p_append_only boolean) RETURNS void
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
    PERFORM audit_compile(p_table);
END $$;
REVOKE EXECUTE ON FUNCTION audit_track(text, boolean) FROM PUBLIC;
"""

TASK_SAMPLED = """
DROP TRIGGER gi_task_sampled ON sample;
CREATE FUNCTION gi_task_sampled_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Checked first so that a task already sampled is not updated again (nor an empty UPDATE captured).
    IF EXISTS (SELECT 1 FROM plan_task WHERE id = NEW.task_id AND status = 'planned') THEN
        UPDATE plan_task SET status = 'sampled' WHERE id = NEW.task_id AND status = 'planned';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER gi_task_sampled AFTER INSERT ON sample
    FOR EACH ROW WHEN (NEW.task_id IS NOT NULL) EXECUTE FUNCTION gi_task_sampled_row();
"""

TASK_SAMPLED_DOWN = """
DROP TRIGGER gi_task_sampled ON sample;
DROP FUNCTION gi_task_sampled_row();
CREATE TRIGGER gi_task_sampled AFTER INSERT ON sample REFERENCING NEW TABLE AS arrived
    FOR EACH STATEMENT EXECUTE FUNCTION gi_task_sampled();
"""

CAPTURE_TRIGGERS = ("audit_capture_insert", "audit_capture_update", "audit_capture_delete")


def upgrade() -> None:
    """Apply this revision."""
    op.execute(COMPILE)
    op.execute(TRACK)
    op.execute("SELECT audit_compile(table_name) FROM audit_table ORDER BY table_name")
    op.execute(TASK_SAMPLED)


def downgrade() -> None:
    """Revert this revision: the capture triggers call the generic audit_capture() again."""
    op.execute(TASK_SAMPLED_DOWN)
    op.execute(
        r"""
DO $$
DECLARE
    trig record;
BEGIN
    FOR trig IN
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) AS def, p.proname
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE NOT t.tgisinternal AND p.proname LIKE 'audit\_capture\_\_%'
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', trig.tgname, trig.relname);
        EXECUTE regexp_replace(trig.def, 'EXECUTE FUNCTION \S+\(\)$', 'EXECUTE FUNCTION audit_capture()');
    END LOOP;
    FOR trig IN SELECT oid::regprocedure AS fn FROM pg_proc WHERE proname LIKE 'audit\_capture\_\_%' LOOP
        EXECUTE format('DROP FUNCTION %s', trig.fn);
    END LOOP;
END $$
"""
    )
    # audit_track as 0007 defined it: the same body without the compile step.
    op.execute(TRACK.replace("    PERFORM audit_compile(p_table);\n", ""))
    op.execute("DROP FUNCTION audit_compile(text), audit_signature(text)")
