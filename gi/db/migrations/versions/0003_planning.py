"""planning: plans, rounds, commitments, tasks, task inspectors, conflicts, complaints; FK sample.task_id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 05:18:35.937200
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("status", sa.Enum("committed", "drawn", "cancelled", name="plan_status"), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("period_to >= period_from", name=op.f("ck_plan_period_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("code", name=op.f("uq_plan_code")),
    )
    op.create_table(
        "plan_commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=40), nullable=False),
        sa.Column("frame_sha256", sa.String(length=64), nullable=False),
        sa.Column("parameters_sha256", sa.String(length=64), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("commitment_sha256", sa.String(length=64), nullable=False),
        sa.Column("commitment_json", sa.Text(), nullable=False),
        sa.Column("frame_json", sa.Text(), nullable=False),
        sa.Column("parameters_json", sa.Text(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "secret",
            sa.String(length=128),
            nullable=False,
            comment="secret seed part; published only after the draw",
        ),
        sa.Column("public_value", sa.Text(), nullable=True),
        sa.Column("public_value_source", sa.Text(), nullable=True),
        sa.Column("seed_sha256", sa.String(length=64), nullable=True),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("selection_json", sa.Text(), nullable=True, comment="published selection, exact bytes"),
        sa.Column("assignment_json", sa.Text(), nullable=True, comment="published assignment, exact bytes"),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_commitment_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_commitment")),
        sa.UniqueConstraint("commitment_sha256", name=op.f("uq_plan_commitment_commitment_sha256")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_plan_commitment_plan_id")),
    )
    op.create_table(
        "plan_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_plan_round_window_order")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_round_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_round")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_plan_round_plan_id")),
    )
    op.create_index(op.f("ix_plan_round_plan_id"), "plan_round", ["plan_id"], unique=False)
    op.create_table(
        "inspector_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspector.id"],
            name=op.f("fk_inspector_conflict_inspector_id_inspector"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"],
            ["producer.id"],
            name=op.f("fk_inspector_conflict_producer_id_producer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_conflict")),
        sa.UniqueConstraint("inspector_id", "producer_id", name=op.f("uq_inspector_conflict_inspector_id")),
    )
    op.create_index(
        op.f("ix_inspector_conflict_inspector_id"), "inspector_conflict", ["inspector_id"], unique=False
    )
    op.create_index(
        op.f("ix_inspector_conflict_producer_id"), "inspector_conflict", ["producer_id"], unique=False
    )
    op.create_table(
        "plan_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("round_number", sa.SmallInteger(), nullable=False),
        sa.Column(
            "draw_order", sa.Integer(), nullable=False, comment="position in the round's assignment order"
        ),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("due_from", sa.Date(), nullable=False),
        sa.Column("due_to", sa.Date(), nullable=False),
        sa.Column("season_kind", sa.String(length=12), nullable=False, comment="peak | regular | off_season"),
        sa.Column("inclusion_probability", sa.Float(), nullable=False),
        sa.Column("risk_weight", sa.Integer(), nullable=False),
        sa.Column("risk_factors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "inspection_level",
            sa.String(length=3),
            nullable=False,
            comment="ISO 2859-1 general inspection level",
        ),
        sa.Column(
            "lot_size", sa.Integer(), nullable=False, comment="lot size N the sample size was computed for"
        ),
        sa.Column("code_letter", sa.String(length=1), nullable=False),
        sa.Column("units_to_take", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("planned", "sampled", "completed", "cancelled", name="task_status"),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.Enum("conforming", "nonconforming", "inconclusive", "not_found", name="task_result"),
            nullable=True,
        ),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("result_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("due_to >= due_from", name=op.f("ck_plan_task_due_order")),
        sa.CheckConstraint(
            "inclusion_probability > 0 AND inclusion_probability <= 1",
            name=op.f("ck_plan_task_probability_range"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_task_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"],
            ["producer.id"],
            name=op.f("fk_plan_task_producer_id_producer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_plan_task_product_id_gi_product"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["plan_round.id"], name=op.f("fk_plan_task_round_id_plan_round"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_task")),
        sa.UniqueConstraint("plan_id", "round_number", "producer_id", name="uq_plan_task_round_producer"),
    )
    op.create_index(op.f("ix_plan_task_plan_id"), "plan_task", ["plan_id"], unique=False)
    op.create_index(op.f("ix_plan_task_producer_id"), "plan_task", ["producer_id"], unique=False)
    op.create_index(op.f("ix_plan_task_product_id"), "plan_task", ["product_id"], unique=False)
    op.create_index(op.f("ix_plan_task_round_id"), "plan_task", ["round_id"], unique=False)
    op.create_table(
        "producer_complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["producer_id"],
            ["producer.id"],
            name=op.f("fk_producer_complaint_producer_id_producer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_producer_complaint")),
    )
    op.create_index(
        op.f("ix_producer_complaint_producer_id"), "producer_complaint", ["producer_id"], unique=False
    )
    op.create_table(
        "plan_task_inspector",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspector.id"],
            name=op.f("fk_plan_task_inspector_inspector_id_inspector"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["plan_task.id"],
            name=op.f("fk_plan_task_inspector_task_id_plan_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "inspector_id", name=op.f("pk_plan_task_inspector")),
    )
    op.create_index(
        op.f("ix_plan_task_inspector_inspector_id"), "plan_task_inspector", ["inspector_id"], unique=False
    )
    op.create_foreign_key(
        "fk_sample_task_id_plan_task", "sample", "plan_task", ["task_id"], ["id"], ondelete="SET NULL"
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_constraint("fk_sample_task_id_plan_task", "sample", type_="foreignkey")
    op.drop_index(op.f("ix_plan_task_inspector_inspector_id"), table_name="plan_task_inspector")
    op.drop_table("plan_task_inspector")
    op.drop_index(op.f("ix_producer_complaint_producer_id"), table_name="producer_complaint")
    op.drop_table("producer_complaint")
    op.drop_index(op.f("ix_plan_task_round_id"), table_name="plan_task")
    op.drop_index(op.f("ix_plan_task_product_id"), table_name="plan_task")
    op.drop_index(op.f("ix_plan_task_producer_id"), table_name="plan_task")
    op.drop_index(op.f("ix_plan_task_plan_id"), table_name="plan_task")
    op.drop_table("plan_task")
    op.drop_index(op.f("ix_inspector_conflict_producer_id"), table_name="inspector_conflict")
    op.drop_index(op.f("ix_inspector_conflict_inspector_id"), table_name="inspector_conflict")
    op.drop_table("inspector_conflict")
    op.drop_index(op.f("ix_plan_round_plan_id"), table_name="plan_round")
    op.drop_table("plan_round")
    op.drop_table("plan_commitment")
    op.drop_table("plan")
    for enum_name in ("task_result", "task_status", "plan_status"):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
