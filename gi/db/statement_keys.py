"""Foreign keys checked once per statement by triggers instead of one query per row (migrations 0024_batchfk and
0026_productfk): the SQL those migrations run.

A key is (constraint, child, child key columns, parent, parent key columns, the foreign key's definition). For
each key, statement triggers on the child (``AFTER INSERT`` / ``AFTER UPDATE`` with transition tables) look the
distinct written keys up in the parent in one join, lock them ``FOR KEY SHARE`` as a foreign key's check does,
and raise SQLSTATE 23503 with the constraint's name and PostgreSQL's own message and detail when one is missing;
a row trigger on the parent refuses (``RESTRICT``) or cascades (``CASCADE``) a delete, and refuses a change of a
referenced key.

Migrations run this text: what a function returns for a given key is part of the migrations that call it and
must not change (a migration run again must build the same schema). A new form is a new function.
"""

from __future__ import annotations

from collections.abc import Sequence

# (constraint, child, child key columns, parent, parent key columns, the foreign key's definition)
Key = tuple[str, str, tuple[str, ...], str, tuple[str, ...], str]

# Names of the missing key's columns in the check's record (a, b, ...).
_ALIASES = "abcdefgh"


def check_function(name: str, child: str, cols: tuple[str, ...], parent: str, pcols: tuple[str, ...]) -> str:
    """The statement trigger function checking (and locking) the parents of the keys a statement wrote, and its
    insert and update triggers on ``child``."""
    listed = ", ".join(cols)
    present = " AND ".join(
        f"{c} IS NOT NULL" for c in cols
    )  # MATCH SIMPLE: a key with a NULL references nothing
    match = " AND ".join(f"p.{p} = n.{c}" for c, p in zip(cols, pcols, strict=True))
    inserted = f"SELECT DISTINCT {listed} FROM new_rows WHERE {present}"
    changed = f"SELECT {listed} FROM new_rows WHERE {present} EXCEPT SELECT {listed} FROM old_rows"
    # LATERAL: the written keys drive the loop and each probes the parent's key index (never the other way round,
    # whatever the statistics say, which would rescan the keys once per parent row).
    lock = (
        f"PERFORM 1 FROM ({{keys}}) n, LATERAL (SELECT 1 FROM {parent} p WHERE {match} "
        "FOR KEY SHARE) l;\n"
        "        GET DIAGNOSTICS locked = ROW_COUNT;\n"
        "        SELECT count(*) INTO wanted FROM ({keys}) n;"
    )
    aliases = _ALIASES[: len(cols)]
    found = ", ".join(f"n.{c} AS {x}" for c, x in zip(cols, aliases, strict=True))
    found_present = " AND ".join(f"n.{c} IS NOT NULL" for c in cols)
    placeholders = ", ".join("%s" for _ in cols)
    values = ", ".join(f"missing.{x}" for x in aliases)
    return f"""
CREATE FUNCTION {name}_check() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
DECLARE
    wanted bigint;
    locked bigint;
    missing record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        {lock.format(keys=inserted)}
    ELSE
        {lock.format(keys=changed)}
    END IF;
    IF locked = wanted THEN
        RETURN NULL;
    END IF;
    SELECT {found} INTO missing FROM new_rows n WHERE {found_present}
        AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match}) LIMIT 1;
    RAISE EXCEPTION USING
        ERRCODE = 'foreign_key_violation',
        CONSTRAINT = '{name}',
        TABLE = '{child}',
        MESSAGE = 'insert or update on table "{child}" violates foreign key constraint "{name}"',
        DETAIL = format('Key ({listed})=({placeholders}) is not present in table "{parent}".', {values});
END $$;
CREATE TRIGGER {name}_insert AFTER INSERT ON {child} REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {name}_check();
CREATE TRIGGER {name}_update AFTER UPDATE ON {child} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {name}_check();
"""


def _still_referenced(name: str, child: str, parent: str, pcols: tuple[str, ...], indent: str) -> str:
    """The RAISE of a delete or key update of a referenced parent row, as PostgreSQL words it."""
    olds = ", ".join(f"OLD.{p}" for p in pcols)
    return (
        f"{indent}RAISE EXCEPTION USING\n"
        f"{indent}    ERRCODE = 'foreign_key_violation',\n"
        f"{indent}    CONSTRAINT = '{name}',\n"
        f"{indent}    TABLE = '{parent}',\n"
        f'{indent}    MESSAGE = \'update or delete on table "{parent}" violates foreign key constraint "{name}" '
        f'on table "{child}"\',\n'
        f"{indent}    DETAIL = format('Key ({', '.join(pcols)})=({', '.join('%s' for _ in pcols)}) is still "
        f'referenced from table "{child}".\', {olds});\n'
    )


def cascade_parent_function(
    name: str, child: str, cols: tuple[str, ...], parent: str, pcols: tuple[str, ...]
) -> str:
    """The row trigger function of the parent of an ``ON DELETE CASCADE`` key (two columns): a delete cascades,
    a referenced key is not changed."""
    a, b = cols
    pa, pb = pcols
    return f"""
CREATE FUNCTION {name}_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM {child} WHERE {a} = OLD.{pa} AND {b} = OLD.{pb};
    ELSIF (OLD.{pa}, OLD.{pb}) IS DISTINCT FROM (NEW.{pa}, NEW.{pb})
          AND EXISTS (SELECT 1 FROM {child} WHERE {a} = OLD.{pa} AND {b} = OLD.{pb}) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = '{name}',
            TABLE = '{parent}',
            MESSAGE = 'update or delete on table "{parent}" violates foreign key constraint "{name}" on table "{child}"',
            DETAIL = format('Key ({pa}, {pb})=(%s, %s) is still referenced from table "{child}".', OLD.{pa}, OLD.{pb});
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {name}_parent AFTER DELETE OR UPDATE ON {parent}
    FOR EACH ROW EXECUTE FUNCTION {name}_parent();
"""


def restrict_parent_function(
    name: str, child: str, cols: tuple[str, ...], parent: str, pcols: tuple[str, ...]
) -> str:
    """The row trigger function of the parent of an ``ON DELETE RESTRICT`` key: a delete of a referenced row, or
    a change of its key, is refused (checked after the statement, as the foreign key's trigger was). Only an
    update naming a key column fires it."""
    olds = ", ".join(f"OLD.{p}" for p in pcols)
    news = ", ".join(f"NEW.{p}" for p in pcols)
    where = " AND ".join(f"{c} = OLD.{p}" for c, p in zip(cols, pcols, strict=True))
    return f"""
CREATE FUNCTION {name}_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF ({olds}) IS NOT DISTINCT FROM ({news}) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM {child} WHERE {where}) THEN
{_still_referenced(name, child, parent, pcols, " " * 8)}    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {name}_parent AFTER DELETE OR UPDATE OF {", ".join(pcols)} ON {parent}
    FOR EACH ROW EXECUTE FUNCTION {name}_parent();
"""


def truncate_function(function: str, keys: Sequence[Key]) -> str:
    """A statement trigger function, for ``AFTER TRUNCATE`` on the keys' parents, refusing a TRUNCATE that leaves
    a row of a child referencing a parent row that is gone (listing the children in the same TRUNCATE is fine:
    they are empty when this runs). One test per key whose parent is the truncated table."""
    tests = []
    for name, child, cols, parent, pcols, _ in keys:
        present = " AND ".join(f"c.{c} IS NOT NULL" for c in cols)
        match = " AND ".join(f"p.{p} = c.{c}" for c, p in zip(cols, pcols, strict=True))
        tests.append(
            f"""    IF TG_TABLE_NAME = '{parent}' THEN
        IF EXISTS (SELECT 1 FROM {child} c WHERE {present}
                AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'foreign_key_violation',
                CONSTRAINT = '{name}',
                MESSAGE = 'TRUNCATE on {parent} is refused: rows of {child} reference it',
                HINT = 'truncate them together: TRUNCATE {child}, {parent} CASCADE';
        END IF;
    END IF;
"""
        )
    return f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{"".join(tests)}    RETURN NULL;
END $$;
"""
