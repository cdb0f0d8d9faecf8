"""collectedid: the samples' time index also holds the id, so a key look-up finds one row whatever the plan

Revision ID: 0025_collectedid
Revises: 0024_batchfk

The key checks of 0024 (and the other tables' foreign keys to ``sample``) look a sample up by
``id = ... AND collected_at = ...``. Planned when a partition is empty or its statistics are stale (a fresh
database, a new month, a partition just emptied), both of its indexes cost the same, and PostgreSQL could pick
``ix_sample_collected_at`` (collected_at alone) with ``id`` as a filter: every look-up then read all the samples
of that moment. Rows that share their moment are common (a file that gives only the collection date: every row
at midnight), so a batch's check became quadratic: in benchmarks/origin.py (c), whose 100,000 rows share one
moment, runs took 46-305 s instead of about 10 s, now and then (auto_explain: the check's nested loop over
``sample_default_collected_at_idx`` with ``Filter: (id = new_rows.sample_id)``).

The index is now on (collected_at, id): still the index of time ranges and orderings, and a look-up by both
columns through it reads one entry, so either index gives the same one-row probe. Downgrade restores the
single-column index.
"""

from __future__ import annotations

from alembic import op

revision = "0025_collectedid"
down_revision = "0024_batchfk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.drop_index("ix_sample_collected_at", table_name="sample")
    op.create_index("ix_sample_collected_at", "sample", ["collected_at", "id"], unique=False)


def downgrade() -> None:
    """Revert this revision: the index on collected_at alone."""
    op.drop_index("ix_sample_collected_at", table_name="sample")
    op.create_index("ix_sample_collected_at", "sample", ["collected_at"], unique=False)
