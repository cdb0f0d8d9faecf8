"""seal claims: a sample's seal field holds all its seal codes; the current verdict is defined once, in gi.reads

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The view of 0008, dropped: "the current origin verdict" is gi.reads.verdicts' (one definition for every
# reader), and a view over every column of origin_verdict would block any later change of those columns.
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
    op.execute("DROP VIEW IF EXISTS current_origin_verdict")


def downgrade() -> None:
    """Revert this revision (a seal field longer than 64 characters is refused: shorten it first)."""
    op.execute(PREVIOUS_VIEW)
    op.alter_column(
        "sample",
        "seal_code",
        type_=sa.String(length=64),
        existing_nullable=True,
        comment="number on the seal of the retained portion",
        existing_comment="seal codes (封样编号) of the sealed units, or the number on a seal of another kind",
    )
