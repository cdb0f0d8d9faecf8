"""sample documents: what a public notice prints of a sample (labelled producer, outlet, specification,
production date)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _sample_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column(
            "labelled_producer", sa.String(length=200), nullable=True, comment="标称生产企业 on the label"
        ),
        sa.Column("labelled_address", sa.Text(), nullable=True, comment="标称生产企业地址 on the label"),
        sa.Column(
            "outlet_name", sa.String(length=200), nullable=True, comment="被抽样单位 when not registered"
        ),
        sa.Column("outlet_address", sa.Text(), nullable=True, comment="被抽样单位地址 when not registered"),
        sa.Column("specification", sa.String(length=100), nullable=True, comment="规格型号 (e.g. 250 g/袋)"),
        sa.Column("production_date", sa.Date(), nullable=True, comment="生产日期 on the label"),
    )


def upgrade() -> None:
    """Apply this revision."""
    for column in _sample_columns():
        op.add_column("sample", column)


def downgrade() -> None:
    """Revert this revision."""
    for column in reversed(_sample_columns()):
        op.drop_column("sample", column.name)
