"""batchfk: the two keys a batch's samples and verdicts check among themselves, one query per statement

Revision ID: 0024_batchfk
Revises: 0023_intake

``sample (id, collected_at) -> sample_identity`` and ``origin_verdict (sample_id, collected_at) -> sample`` were
foreign keys: PostgreSQL checks a foreign key with one query per inserted row (and locks the referenced row).
The batch statement (``gi.origin.store.STORE_STAGED``) inserts 100,000 identities, samples and verdicts at once,
and these two checks, each probing a row the same statement had just written, took about 0.9 s of every
20,000 samples (4.4 s of 100,000; benchmarks/origin.py (c), measured with the constraints dropped in a rolled
back transaction). The other keys (products, areas, producers, inspectors, tasks) cost 0.15 s per 20,000 and stay.

Each key is now checked by statement triggers, with the same guarantees:

- **Insert or update of the referencing rows** (``AFTER INSERT`` / ``AFTER UPDATE ... FOR EACH STATEMENT`` with
  transition tables, on the partitioned parent, so every writer's statement is covered: the batch, the single
  intake, the ORM, COPY, SQL by hand): the distinct keys the statement wrote (for an update, only keys it changed)
  are looked up in one join and locked ``FOR KEY SHARE``, exactly as a foreign key's check locks them, so a
  concurrent delete of a referenced row waits for this transaction (or this one waits and then finds it gone);
  if fewer are found than written, the statement fails with SQLSTATE 23503 (``foreign_key_violation``), the
  constraint's old name and PostgreSQL's own message and detail ("Key (id, collected_at)=(...) is not present in
  table ..."). The written keys drive a nested loop (LATERAL) with hash and merge joins and sequential scans off
  inside the check, so each key probes the parent's key index whatever the sizes and statistics say (never a scan
  of a large table for a one-row insert, nor the written keys rescanned per parent row).
- **Delete or key update of the referenced rows** (``AFTER DELETE OR UPDATE ... FOR EACH ROW``): a delete cascades
  as ``ON DELETE CASCADE`` did (a sample's verdicts are append-only, so deleting a sample that has any is refused
  by their refusal trigger, as before); changing a referenced key is refused (``NO ACTION``).
- **TRUNCATE** of ``sample`` (or a partition) that would leave verdicts of its samples, or of
  ``sample_identity`` that would leave samples, is refused (after the statement, so listing the referencing
  tables in the same TRUNCATE is fine). ``TRUNCATE sample CASCADE`` no longer reaches ``origin_verdict``: name it
  (``TRUNCATE sample, origin_verdict CASCADE``; its own refusal still requires the audit log's switch).

The archive of a month (``gi db archive``, gi/db/archive.py) gives the archived samples and verdicts these two as
real foreign keys, as before: nothing is inserted into an archive. Downgrade restores the foreign keys.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from gi.db.partitions import PARTITION_TRUNCATE_TRIGGERS
from gi.db.statement_keys import cascade_parent_function, check_function

revision = "0024_batchfk"
down_revision = "0023_intake"
branch_labels = None
depends_on = None

# (constraint, child, child key columns, parent, parent key columns, the foreign key's definition)
KEYS = (
    (
        "fk_sample_id_sample_identity",
        "sample",
        ("id", "collected_at"),
        "sample_identity",
        ("id", "collected_at"),
        "FOREIGN KEY (id, collected_at) REFERENCES sample_identity (id, collected_at) ON DELETE CASCADE",
    ),
    (
        "fk_origin_verdict_sample_id_sample",
        "origin_verdict",
        ("sample_id", "collected_at"),
        "sample",
        ("id", "collected_at"),
        "FOREIGN KEY (sample_id, collected_at) REFERENCES sample (id, collected_at) ON DELETE CASCADE",
    ),
)


# TRUNCATE leaves no dangling reference: a truncated ``sample_identity`` while samples remain, or a truncated
# ``sample`` (or partition) while verdicts of its samples remain, is refused, as the foreign keys refused it;
# listing the referencing tables in the same TRUNCATE is fine (they are empty when this runs, after the statement).
# On ``sample`` the trigger is on the parent and, since a partition's TRUNCATE fires only its own triggers, on each
# partition (gi.db.partitions.protect_partition).
TRUNCATE = """
CREATE FUNCTION sample_truncate_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'sample_identity' THEN
        IF EXISTS (SELECT 1 FROM sample s WHERE NOT EXISTS (
                SELECT 1 FROM sample_identity i WHERE i.id = s.id AND i.collected_at = s.collected_at)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'foreign_key_violation',
                CONSTRAINT = 'fk_sample_id_sample_identity',
                MESSAGE = 'TRUNCATE on sample_identity is refused: samples reference it',
                HINT = 'truncate them together: TRUNCATE sample, origin_verdict, sample_identity CASCADE';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM origin_verdict v WHERE v.sample_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sample s WHERE s.id = v.sample_id AND s.collected_at = v.collected_at)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'fk_origin_verdict_sample_id_sample',
            MESSAGE = format('TRUNCATE on %s is refused: origin verdicts reference its samples', TG_TABLE_NAME),
            HINT = 'truncate them together: TRUNCATE sample, origin_verdict CASCADE';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sample_truncate_check AFTER TRUNCATE ON sample_identity
    FOR EACH STATEMENT EXECUTE FUNCTION sample_truncate_check();
CREATE TRIGGER sample_truncate_check AFTER TRUNCATE ON sample
    FOR EACH STATEMENT EXECUTE FUNCTION sample_truncate_check();
"""


def _partitions(table: str) -> list[str]:
    return [
        r[0]
        for r in op.get_bind().execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:t) ORDER BY 1"
            ),
            {"t": table},
        )
    ]


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    for name, child, cols, parent, pcols, _ in KEYS:
        bind.execute(text(f'ALTER TABLE "{child}" DROP CONSTRAINT "{name}"'))
        bind.execute(text(check_function(name, child, cols, parent, pcols)))
        bind.execute(text(cascade_parent_function(name, child, cols, parent, pcols)))
    bind.execute(text(TRUNCATE))
    assert PARTITION_TRUNCATE_TRIGGERS["sample_truncate_check"] == "AFTER"
    for partition in _partitions("sample"):
        bind.execute(
            text(
                f'CREATE TRIGGER sample_truncate_check AFTER TRUNCATE ON "{partition}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION sample_truncate_check()"
            )
        )


def downgrade() -> None:
    """Revert this revision: the two foreign keys again (every stored row is validated)."""
    bind = op.get_bind()
    for partition in _partitions("sample"):
        bind.execute(text(f'DROP TRIGGER IF EXISTS sample_truncate_check ON "{partition}"'))
    bind.execute(text("DROP TRIGGER sample_truncate_check ON sample"))
    bind.execute(text("DROP TRIGGER sample_truncate_check ON sample_identity"))
    bind.execute(text("DROP FUNCTION sample_truncate_check() CASCADE"))  # and an archive's copy
    for name, child, _, parent, _, definition in reversed(KEYS):
        bind.execute(text(f'DROP TRIGGER "{name}_parent" ON "{parent}"'))
        bind.execute(text(f'DROP TRIGGER "{name}_insert" ON "{child}"'))
        bind.execute(text(f'DROP TRIGGER "{name}_update" ON "{child}"'))
        bind.execute(text(f'DROP FUNCTION "{name}_parent"()'))
        bind.execute(text(f'DROP FUNCTION "{name}_check"()'))
        bind.execute(text(f'ALTER TABLE "{child}" ADD CONSTRAINT "{name}" {definition}'))
