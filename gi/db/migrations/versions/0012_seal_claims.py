"""seal claims: a sample's seal field holds all its seal codes; the current origin verdict as gi.reads defines it

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The current origin verdict of each sample, ordered as every reader orders it (gi.reads.verdicts): latest
# checked_at, then highest id.
CURRENT_VIEW = (
    "CREATE VIEW current_origin_verdict AS SELECT DISTINCT ON (sample_id) * FROM origin_verdict "
    "WHERE sample_id IS NOT NULL ORDER BY sample_id, checked_at DESC, id DESC"
)
PREVIOUS_VIEW = (
    "CREATE VIEW current_origin_verdict AS "
    "SELECT DISTINCT ON (sample_id) * FROM origin_verdict WHERE sample_id IS NOT NULL ORDER BY sample_id, id DESC"
)


def upgrade() -> None:
    """Apply this revision."""
    # Room for every unit's code (GI-XXXX-XXXX-X, 14 characters and a separator each): claimed by the intake.
    op.alter_column(
        "sample",
        "seal_code",
        type_=sa.String(length=400),
        existing_nullable=True,
        comment="seal codes (封样编号) of the sealed units, or the number on a seal of another kind",
        existing_comment="number on the seal of the retained portion",
    )
    op.execute("DROP VIEW current_origin_verdict")
    op.execute(CURRENT_VIEW)


def downgrade() -> None:
    """Revert this revision (a seal field longer than 64 characters is refused: shorten it first)."""
    op.execute("DROP VIEW current_origin_verdict")
    op.execute(PREVIOUS_VIEW)
    op.alter_column(
        "sample",
        "seal_code",
        type_=sa.String(length=64),
        existing_nullable=True,
        comment="number on the seal of the retained portion",
        existing_comment="seal codes (封样编号) of the sealed units, or the number on a seal of another kind",
    )
