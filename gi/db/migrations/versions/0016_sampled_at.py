"""sampled at: where a sample was taken (抽样环节), at the producer or at an outlet, so that a notice can name the
sampled unit (被抽样单位) of a sample taken at the farm

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SAMPLED_AT = postgresql.ENUM("producer", "outlet", name="sampled_at", create_type=False)


def upgrade() -> None:
    """Apply this revision."""
    SAMPLED_AT.create(op.get_bind(), checkfirst=True)
    op.add_column(
        "sample",
        sa.Column(
            "sampled_at",
            SAMPLED_AT,
            nullable=True,
            comment="抽样环节: producer (at the producer) or outlet (shop, market, online store)",
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("sample", "sampled_at")
    SAMPLED_AT.drop(op.get_bind(), checkfirst=True)
