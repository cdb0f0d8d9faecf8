"""field: sample seal codes issued per task and unit, ODK submissions and their attachments

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "seal_code",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column(
            "unit_number", sa.SmallInteger(), nullable=False, comment="unit n of the task's units to take"
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=True, comment="the sample that used the code"),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("unit_number >= 1", name=op.f("ck_seal_code_unit_positive")),
        sa.CheckConstraint(
            "(sample_id IS NULL) = (used_at IS NULL)", name=op.f("ck_seal_code_used_with_sample")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_seal_code_sample_id_sample"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["plan_task.id"], name=op.f("fk_seal_code_task_id_plan_task"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_seal_code")),
        sa.UniqueConstraint("task_id", "unit_number", name="uq_seal_code_task_unit"),
    )
    op.create_index(op.f("ix_seal_code_sample_id"), "seal_code", ["sample_id"], unique=False)
    op.create_index(op.f("ix_seal_code_task_id"), "seal_code", ["task_id"], unique=False)
    op.create_table(
        "odk_submission",
        sa.Column("instance_id", sa.String(length=100), nullable=False, comment="meta/instanceID"),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("form_version", sa.String(length=32), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False, comment="the submission XML, byte for byte"),
        sa.Column("xml_sha256", sa.String(length=64), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=False),
        sa.Column(
            "submitted_by",
            sa.String(length=100),
            nullable=False,
            comment="user name of the authenticated sender",
        ),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("subject_kind", sa.String(length=20), nullable=True, comment="producer | outlet"),
        sa.Column(
            "subject_name", sa.String(length=200), nullable=True, comment="producer or outlet as recorded"
        ),
        sa.Column("subject_credit_code", sa.String(length=18), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("expected_attachments", postgresql.ARRAY(sa.String(length=255)), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_odk_submission_sample_id_sample"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_odk_submission")),
    )
    op.create_index(op.f("ix_odk_submission_sample_id"), "odk_submission", ["sample_id"], unique=False)
    op.create_table(
        "odk_attachment",
        sa.Column("instance_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["odk_submission.instance_id"],
            name=op.f("fk_odk_attachment_instance_id_odk_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", "name", name=op.f("pk_odk_attachment")),
    )
    op.create_index(op.f("ix_odk_attachment_sha256"), "odk_attachment", ["sha256"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_odk_attachment_sha256"), table_name="odk_attachment")
    op.drop_table("odk_attachment")
    op.drop_index(op.f("ix_odk_submission_sample_id"), table_name="odk_submission")
    op.drop_table("odk_submission")
    op.drop_index(op.f("ix_seal_code_task_id"), table_name="seal_code")
    op.drop_index(op.f("ix_seal_code_sample_id"), table_name="seal_code")
    op.drop_table("seal_code")
