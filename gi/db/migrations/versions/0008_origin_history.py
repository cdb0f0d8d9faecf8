"""origin history: re-judged verdicts supersede earlier ones, one current verdict per sample; seal codes

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The current origin verdict of each sample: its latest (verdicts are only ever added; a re-judgement after a
# new area version supersedes the earlier verdict, which stays as history).
CURRENT_VIEW = (
    "CREATE VIEW current_origin_verdict AS "
    "SELECT DISTINCT ON (sample_id) * FROM origin_verdict WHERE sample_id IS NOT NULL ORDER BY sample_id, id DESC"
)


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "sample",
        sa.Column(
            "seal_code",
            sa.String(length=64),
            nullable=True,
            comment="number on the seal of the retained portion",
        ),
    )
    op.add_column(
        "origin_verdict",
        sa.Column(
            "supersedes_id",
            sa.Integer(),
            nullable=True,
            comment="the earlier verdict of the same subject this re-judgement replaces",
        ),
    )
    op.create_foreign_key(
        op.f("fk_origin_verdict_supersedes_id_origin_verdict"),
        "origin_verdict",
        "origin_verdict",
        ["supersedes_id"],
        ["id"],
    )
    op.create_unique_constraint(op.f("uq_origin_verdict_supersedes_id"), "origin_verdict", ["supersedes_id"])
    op.drop_index("ix_origin_verdict_sample_id", table_name="origin_verdict")
    op.create_index("ix_origin_verdict_sample_id_id", "origin_verdict", ["sample_id", "id"], unique=False)
    # The moment each verdict row is written (not its transaction's start), so that "latest checked_at" and
    # "highest id" agree: a re-judgement waits for the batches it supersedes and is written after them.
    op.alter_column("origin_verdict", "checked_at", server_default=sa.text("clock_timestamp()"))
    op.execute(CURRENT_VIEW)


def downgrade() -> None:
    """Revert this revision."""
    op.execute("DROP VIEW current_origin_verdict")
    op.alter_column("origin_verdict", "checked_at", server_default=sa.text("now()"))
    op.drop_index("ix_origin_verdict_sample_id_id", table_name="origin_verdict")
    op.create_index("ix_origin_verdict_sample_id", "origin_verdict", ["sample_id"], unique=False)
    op.drop_constraint(op.f("uq_origin_verdict_supersedes_id"), "origin_verdict", type_="unique")
    op.drop_constraint(
        op.f("fk_origin_verdict_supersedes_id_origin_verdict"), "origin_verdict", type_="foreignkey"
    )
    op.drop_column("origin_verdict", "supersedes_id")
    op.drop_column("sample", "seal_code")
