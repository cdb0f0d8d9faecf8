"""sample grid: samples counted per map cell, zoom, year, product and county for the national map's tiles

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


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "sample_grid",
        sa.Column("level", sa.SmallInteger(), nullable=False, comment="tile zoom the cell belongs to"),
        sa.Column("cx", sa.Integer(), nullable=False, comment="cell column, 64 per tile"),
        sa.Column("cy", sa.Integer(), nullable=False, comment="cell row from the north, 64 per tile"),
        sa.Column("year", sa.SmallInteger(), nullable=False, comment="local year of collection"),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column(
            "county_code",
            sa.String(length=6),
            nullable=False,
            comment="the sample's region (task, producer or inspector county); '' unknown",
        ),
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
        sa.PrimaryKeyConstraint(
            "level", "cx", "cy", "year", "product_id", "county_code", name="pk_sample_grid"
        ),
    )
    op.create_table(
        "sample_grid_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin_mark", sa.BigInteger(), nullable=False, comment="max(origin_verdict.id) seen"),
        sa.Column("quality_mark", sa.BigInteger(), nullable=False, comment="max(quality_verdict.id) seen"),
        sa.Column(
            "sample_mark", sa.DateTime(timezone=True), nullable=True, comment="max(sample.created_at) seen"
        ),
        sa.Column("samples", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False, comment="time the build took"),
        sa.PrimaryKeyConstraint("id", name="pk_sample_grid_state"),
    )
    op.create_index("ix_sample_created_at", "sample", ["created_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_sample_created_at", table_name="sample")
    op.drop_table("sample_grid_state")
    op.drop_table("sample_grid")
