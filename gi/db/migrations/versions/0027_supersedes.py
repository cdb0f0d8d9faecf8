"""supersedes: the verdicts' "superseded once" key indexes only the verdicts that supersede one

Revision ID: 0027_supersedes
Revises: 0026_productfk

``uq_origin_verdict_supersedes_id`` (UNIQUE (supersedes_id, collected_at)) kept an entry for every verdict,
although only a re-judgement's verdict has a ``supersedes_id`` (NULLs never conflict). On a partition just
filled, before autovacuum has gathered its statistics, PostgreSQL costed a scan of that index for the collection
moment alone (``Index Cond: (collected_at = ...)``, ``Filter: (sample_id = ...)``) like a probe of
``(sample_id, id)``: its entries, all NULL and of one moment when a file gives only the date, are deduplicated
into a few pages. A look-up of a sample's current verdict then read every verdict of that moment: a batch's
re-run of 100,000 stored rows took 86-93 s instead of 8 s, 84.5 s of it in the look-up of its first 4,000 UUIDs
(auto_explain, benchmarks/origin.py (c), 2026-12-06).

The key is now a partial unique index ``WHERE supersedes_id IS NOT NULL``: the same rows are unique, the look-up
cannot use it (its condition does not imply the predicate), and a new verdict writes one index entry less.
Downgrade restores the constraint.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0027_supersedes"
down_revision = "0026_productfk"
branch_labels = None
depends_on = None

NAME = "uq_origin_verdict_supersedes_id"


def upgrade() -> None:
    """Apply this revision."""
    op.drop_constraint(NAME, "origin_verdict", type_="unique")
    op.create_index(
        NAME,
        "origin_verdict",
        ["supersedes_id", "collected_at"],
        unique=True,
        postgresql_where=text("supersedes_id IS NOT NULL"),
    )


def downgrade() -> None:
    """Revert this revision: the unique constraint over every verdict."""
    op.drop_index(NAME, table_name="origin_verdict")
    op.create_unique_constraint(NAME, "origin_verdict", ["supersedes_id", "collected_at"])
