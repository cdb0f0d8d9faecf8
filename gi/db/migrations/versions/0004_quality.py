"""quality: lab results, decision rules, quality / fingerprint verdicts and combined origin evidence

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ENUMS = ("evidence_grade", "fingerprint_outcome", "quality_outcome", "decision_rule_kind")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "quality_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "simple_acceptance",
                "guard_band",
                "guarded_acceptance",
                "guarded_rejection",
                name="decision_rule_kind",
            ),
            nullable=False,
        ),
        sa.Column("guard_factor", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("comparison", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "comparison IN ('full_value', 'rounded_value')", name=op.f("ck_quality_rule_comparison_kind")
        ),
        sa.CheckConstraint("guard_factor >= 0", name=op.f("ck_quality_rule_guard_factor_non_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_quality_rule_product_id_gi_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_rule")),
        sa.UniqueConstraint("product_id", "valid_from", name="uq_quality_rule_product_from"),
    )
    op.create_index(op.f("ix_quality_rule_product_id"), "quality_rule", ["product_id"], unique=False)
    op.create_table(
        "lab_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=False),
        sa.Column("indicator_code", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Numeric(precision=24, scale=10), nullable=False, comment="value as reported"),
        sa.Column(
            "censored",
            sa.String(length=1),
            nullable=True,
            comment="'<' below a detection limit, '>' above range",
        ),
        sa.Column("unit", sa.String(length=40), nullable=False, comment="unit as reported"),
        sa.Column("value_converted", sa.Numeric(precision=30, scale=14), nullable=True),
        sa.Column(
            "converted_unit",
            sa.String(length=40),
            nullable=True,
            comment="unit of the specification/reference",
        ),
        sa.Column(
            "uncertainty",
            sa.Numeric(precision=24, scale=10),
            nullable=True,
            comment="expanded uncertainty U, reported unit",
        ),
        sa.Column("coverage_factor", sa.Numeric(precision=6, scale=3), nullable=True, comment="k of U = k·u"),
        sa.Column("method", sa.String(length=200), nullable=True),
        sa.Column("laboratory", sa.String(length=200), nullable=False),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column(
            "declared_grade", sa.String(length=40), nullable=True, comment="grade or class the sample claims"
        ),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "censored IS NULL OR censored IN ('<', '>')", name=op.f("ck_lab_result_censored_sign")
        ),
        sa.CheckConstraint(
            "(value_converted IS NULL) = (converted_unit IS NULL)",
            name=op.f("ck_lab_result_conversion_complete"),
        ),
        sa.CheckConstraint(
            "coverage_factor IS NULL OR coverage_factor > 0",
            name=op.f("ck_lab_result_coverage_factor_positive"),
        ),
        sa.CheckConstraint(
            "uncertainty IS NULL OR uncertainty >= 0", name=op.f("ck_lab_result_uncertainty_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_lab_result_sample_id_sample"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_result")),
        sa.UniqueConstraint(
            "sample_id", "indicator_code", "laboratory", "tested_on", name="uq_lab_result_key"
        ),
    )
    op.create_index(op.f("ix_lab_result_indicator_code"), "lab_result", ["indicator_code"], unique=False)
    op.create_index(op.f("ix_lab_result_sample_id"), "lab_result", ["sample_id"], unique=False)
    op.create_table(
        "quality_verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Enum("pass", "fail", "inconclusive", name="quality_outcome"), nullable=False),
        sa.Column("declared_grade", sa.String(length=40), nullable=True),
        sa.Column("grades_met", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column(
            "indicators",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="per-indicator outcomes and reasons",
        ),
        sa.Column("missing_mandatory", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("rule_config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "inputs",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="collection date, spec and result ids",
        ),
        sa.Column("checked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_quality_verdict_product_id_gi_product"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_quality_verdict_sample_id_sample"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_verdict")),
    )
    op.create_index(op.f("ix_quality_verdict_outcome"), "quality_verdict", ["outcome"], unique=False)
    op.create_index(op.f("ix_quality_verdict_product_id"), "quality_verdict", ["product_id"], unique=False)
    op.create_index(op.f("ix_quality_verdict_sample_id"), "quality_verdict", ["sample_id"], unique=False)
    op.create_table(
        "fingerprint_verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum("consistent", "atypical", "not_assessed", name="fingerprint_outcome"),
            nullable=False,
        ),
        sa.Column("reference_set", sa.String(length=200), nullable=True, comment="reference file name"),
        sa.Column("reference_sha256", sa.String(length=64), nullable=True),
        sa.Column("synthetic_reference", sa.Boolean(), nullable=False),
        sa.Column("n_reference", sa.Integer(), nullable=True),
        sa.Column("variables", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column(
            "distance_sq", sa.Float(), nullable=True, comment="squared robust (MCD) Mahalanobis distance"
        ),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("deviations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("best_fit_code", sa.String(length=64), nullable=True),
        sa.Column("candidates", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "p_value IS NULL OR (p_value >= 0 AND p_value <= 1)",
            name=op.f("ck_fingerprint_verdict_p_value_range"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_fingerprint_verdict_product_id_gi_product"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["sample.id"],
            name=op.f("fk_fingerprint_verdict_sample_id_sample"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fingerprint_verdict")),
    )
    op.create_index(op.f("ix_fingerprint_verdict_outcome"), "fingerprint_verdict", ["outcome"], unique=False)
    op.create_index(
        op.f("ix_fingerprint_verdict_product_id"), "fingerprint_verdict", ["product_id"], unique=False
    )
    op.create_index(
        op.f("ix_fingerprint_verdict_sample_id"), "fingerprint_verdict", ["sample_id"], unique=False
    )
    op.create_table(
        "origin_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=False),
        sa.Column(
            "grade", sa.Enum("consistent", "doubtful", "inconsistent", name="evidence_grade"), nullable=False
        ),
        sa.Column(
            "reasons",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="every reason: source, effect, text",
        ),
        sa.Column("origin_verdict_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint_verdict_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fingerprint_verdict_id"],
            ["fingerprint_verdict.id"],
            name=op.f("fk_origin_evidence_fingerprint_verdict_id_fingerprint_verdict"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["origin_verdict_id"],
            ["origin_verdict.id"],
            name=op.f("fk_origin_evidence_origin_verdict_id_origin_verdict"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_origin_evidence_sample_id_sample"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_origin_evidence")),
    )
    op.create_index(op.f("ix_origin_evidence_grade"), "origin_evidence", ["grade"], unique=False)
    op.create_index(op.f("ix_origin_evidence_sample_id"), "origin_evidence", ["sample_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_origin_evidence_grade"), table_name="origin_evidence")
    op.drop_index(op.f("ix_origin_evidence_sample_id"), table_name="origin_evidence")
    op.drop_table("origin_evidence")
    op.drop_index(op.f("ix_fingerprint_verdict_outcome"), table_name="fingerprint_verdict")
    op.drop_index(op.f("ix_fingerprint_verdict_product_id"), table_name="fingerprint_verdict")
    op.drop_index(op.f("ix_fingerprint_verdict_sample_id"), table_name="fingerprint_verdict")
    op.drop_table("fingerprint_verdict")
    op.drop_index(op.f("ix_quality_verdict_outcome"), table_name="quality_verdict")
    op.drop_index(op.f("ix_quality_verdict_product_id"), table_name="quality_verdict")
    op.drop_index(op.f("ix_quality_verdict_sample_id"), table_name="quality_verdict")
    op.drop_table("quality_verdict")
    op.drop_index(op.f("ix_lab_result_indicator_code"), table_name="lab_result")
    op.drop_index(op.f("ix_lab_result_sample_id"), table_name="lab_result")
    op.drop_table("lab_result")
    op.drop_index(op.f("ix_quality_rule_product_id"), table_name="quality_rule")
    op.drop_table("quality_rule")
    for enum_name in ENUMS:
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
