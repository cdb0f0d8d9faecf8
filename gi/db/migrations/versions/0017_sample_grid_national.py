"""national sample grid: the sample grid summed over counties, for the map tiles of callers who see every region

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "sample_grid_national",
        sa.Column("level", sa.SmallInteger(), nullable=False, comment="tile zoom the cell belongs to"),
        sa.Column("cx", sa.Integer(), nullable=False, comment="cell column, 64 per tile"),
        sa.Column("cy", sa.Integer(), nullable=False, comment="cell row from the north, 64 per tile"),
        sa.Column("year", sa.SmallInteger(), nullable=False, comment="local year of collection"),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False, comment="samples"),
        sa.Column("n_bad", sa.Integer(), nullable=False, comment="outside the area or failing quality"),
        sa.Column(
            "n_doubt",
            sa.Integer(),
            nullable=False,
            comment="in the boundary band or inconclusive, none failing",
        ),
        sa.Column(
            "sx", sa.Float(), nullable=False, comment="sum of Web Mercator x (the cell's centre of mass)"
        ),
        sa.Column("sy", sa.Float(), nullable=False, comment="sum of Web Mercator y"),
        sa.PrimaryKeyConstraint("level", "cx", "cy", "year", "product_id", name="pk_sample_grid_national"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("sample_grid_national")
