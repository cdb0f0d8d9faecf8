"""productfk: the keys of a batch's samples and verdicts to products and areas, one query per statement

Revision ID: 0026_productfk
Revises: 0025_collectedid

``sample.product_id -> gi_product``, ``origin_verdict.product_id -> gi_product`` and ``origin_verdict.area_id ->
production_area`` were foreign keys (``ON DELETE RESTRICT``): PostgreSQL checks a foreign key with one query per
inserted row, so the batch statements (``gi.origin.store``) looked the same few products and areas up once per
sample and per verdict. benchmarks/batch_keys.py (20,000 staged samples and verdicts as benchmarks/origin.py (c)
writes them, random products of 2,875, each in its area; COPY + the chunk's plain inserts, rolled back; 9 runs per
variant alternating in one process, load average 2.2, 2026-12-06): 0.982 s with the three foreign keys, 0.829 s
with the statement triggers (the database backend's CPU 0.89 -> 0.75 s), as fast as no check at all (0.830 s);
the area's key alone is 0.08 s of it (0.909 s with only that one left a foreign key), so all three are converted.
About -0.75 s of PostgreSQL's work per 100,000 rows. benchmarks/origin.py ``--only c``, three pairs alternating
the code before (0025_collectedid) and this, load average 1.9-2.5 from other sessions: 11.52 -> 10.49 s, 9.33 ->
9.05 s, 12.42 -> 9.90 s; the main thread's wait for the database 2.10/2.03/1.82 s -> 1.16/1.32/1.46 s, the database
thread busy 10.26/7.76/10.70 s -> 8.61/7.66/8.59 s (target 5 s: not met).

Each key is now checked by statement triggers, as 0024_batchfk does for its two keys and with the same SQL
(gi/db/statement_keys.py):

- **Insert or update of the referencing rows** (``AFTER INSERT`` / ``AFTER UPDATE ... FOR EACH STATEMENT`` with
  transition tables, on the partitioned parent): the distinct keys the statement wrote (for an update, only the
  keys it changed) are looked up in one join and locked ``FOR KEY SHARE`` as a foreign key's check locks them;
  a key not found fails the statement with SQLSTATE 23503, the constraint's old name and PostgreSQL's own
  message and detail. A NULL ``area_id`` (a verdict outside every area) references nothing, as before.
- **Delete or key update of a referenced product or area** (``AFTER DELETE OR UPDATE OF id ... FOR EACH ROW``):
  refused while a sample or verdict references it (``RESTRICT``), with PostgreSQL's message ("Key (id)=(...) is
  still referenced from table ...").
- **TRUNCATE** of ``gi_product`` or ``production_area`` that would leave samples or verdicts referencing it is
  refused (trigger ``product_truncate_check``, after the statement: listing the referencing tables in the same
  TRUNCATE is fine). ``TRUNCATE gi_product CASCADE`` still reaches ``sample`` and ``origin_verdict``, through
  their foreign keys to producers and plan tasks (which reference products); ``production_area`` CASCADE does not.

The archive of a month (``gi db archive``, gi/db/archive.py ``TRIGGER_KEYS``) gives the archived samples and
verdicts these keys as real foreign keys, as before: nothing is inserted into an archive. Downgrade restores the
foreign keys.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from gi.db.statement_keys import Key, check_function, restrict_parent_function, truncate_function

revision = "0026_productfk"
down_revision = "0025_collectedid"
branch_labels = None
depends_on = None

KEYS: tuple[Key, ...] = (
    (
        "fk_sample_product_id_gi_product",
        "sample",
        ("product_id",),
        "gi_product",
        ("id",),
        "FOREIGN KEY (product_id) REFERENCES gi_product (id) ON DELETE RESTRICT",
    ),
    (
        "fk_origin_verdict_product_id_gi_product",
        "origin_verdict",
        ("product_id",),
        "gi_product",
        ("id",),
        "FOREIGN KEY (product_id) REFERENCES gi_product (id) ON DELETE RESTRICT",
    ),
    (
        "fk_origin_verdict_area_id_production_area",
        "origin_verdict",
        ("area_id",),
        "production_area",
        ("id",),
        "FOREIGN KEY (area_id) REFERENCES production_area (id) ON DELETE RESTRICT",
    ),
)
TRUNCATE_CHECK = "product_truncate_check"
TRUNCATED = ("gi_product", "production_area")


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    for name, child, cols, parent, pcols, _ in KEYS:
        bind.execute(text(f'ALTER TABLE "{child}" DROP CONSTRAINT "{name}"'))
        bind.execute(text(check_function(name, child, cols, parent, pcols)))
        bind.execute(text(restrict_parent_function(name, child, cols, parent, pcols)))
    bind.execute(text(truncate_function(TRUNCATE_CHECK, KEYS)))
    for parent in TRUNCATED:
        bind.execute(
            text(
                f"CREATE TRIGGER {TRUNCATE_CHECK} AFTER TRUNCATE ON {parent} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {TRUNCATE_CHECK}()"
            )
        )


def downgrade() -> None:
    """Revert this revision: the three foreign keys again (every stored row is validated)."""
    bind = op.get_bind()
    for parent in TRUNCATED:
        bind.execute(text(f"DROP TRIGGER {TRUNCATE_CHECK} ON {parent}"))
    bind.execute(text(f"DROP FUNCTION {TRUNCATE_CHECK}()"))
    for name, child, _, parent, _, definition in reversed(KEYS):
        bind.execute(text(f'DROP TRIGGER "{name}_parent" ON "{parent}"'))
        bind.execute(text(f'DROP TRIGGER "{name}_insert" ON "{child}"'))
        bind.execute(text(f'DROP TRIGGER "{name}_update" ON "{child}"'))
        bind.execute(text(f'DROP FUNCTION "{name}_parent"()'))
        bind.execute(text(f'DROP FUNCTION "{name}_check"()'))
        bind.execute(text(f'ALTER TABLE "{child}" ADD CONSTRAINT "{name}" {definition}'))
