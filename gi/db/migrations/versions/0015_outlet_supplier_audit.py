"""outlet_supplier under the audit log: an integer id first (the log identifies rows by it), the outlet and
supplier code unique, and the table tracked like the other market records

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

AUDIT_TRIGGERS = (
    "audit_capture_insert",
    "audit_capture_update",
    "audit_capture_delete",
    "audit_refuse_change",
    "audit_refuse_truncate",
)


def _rebuild(with_id: bool) -> None:
    """Recreate outlet_supplier (its columns in a new order) keeping its rows."""
    op.rename_table("outlet_supplier", "outlet_supplier_old")
    op.execute(
        "ALTER TABLE outlet_supplier_old RENAME CONSTRAINT pk_outlet_supplier TO pk_outlet_supplier_old"
    )
    columns = [
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("supplier_credit_code", sa.String(length=18), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["producer.id"],
            name=op.f("fk_outlet_supplier_outlet_id_producer"),
            ondelete="CASCADE",
        ),
    ]
    if with_id:
        op.create_table(
            "outlet_supplier",
            sa.Column("id", sa.Integer(), nullable=False),
            *columns,
            sa.PrimaryKeyConstraint("id", name=op.f("pk_outlet_supplier")),
            sa.UniqueConstraint(
                "outlet_id", "supplier_credit_code", name=op.f("uq_outlet_supplier_outlet_id")
            ),
        )
    else:
        op.create_table(
            "outlet_supplier",
            *columns,
            sa.PrimaryKeyConstraint("outlet_id", "supplier_credit_code", name=op.f("pk_outlet_supplier")),
        )
    # In a stable order, so the ids a log snapshot records do not depend on the old table's physical order.
    op.execute(
        "INSERT INTO outlet_supplier (outlet_id, supplier_credit_code) "
        "SELECT outlet_id, supplier_credit_code FROM outlet_supplier_old ORDER BY outlet_id, supplier_credit_code"
    )
    op.drop_table("outlet_supplier_old")


def upgrade() -> None:
    """Apply this revision."""
    _rebuild(with_id=True)
    op.execute(
        "SELECT audit_track('outlet_supplier', false)"
    )  # records the rows already stored as a snapshot


def downgrade() -> None:
    """Revert this revision (the table's entries stay in the log; verify reports its rows as gone)."""
    for trigger in AUDIT_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON outlet_supplier")
    op.execute("DELETE FROM audit_table WHERE table_name = 'outlet_supplier'")
    _rebuild(with_id=False)
