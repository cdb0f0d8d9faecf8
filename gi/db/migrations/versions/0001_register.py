"""register: products, areas, specs, seasons, producers, inspectors

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "gi_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_pinyin", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column(
            "gi_kind",
            sa.Enum(
                "protected_product",
                "collective_mark",
                "certification_mark",
                "agricultural_gi",
                name="gi_kind",
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "farm_product", "processed_food", "medicinal_herb", "handicraft", name="product_category"
            ),
            nullable=False,
        ),
        sa.Column("registration_number", sa.String(length=200), nullable=True),
        sa.Column("registration_date", sa.Date(), nullable=True),
        sa.Column("administering_office", sa.String(length=200), nullable=True),
        sa.Column("standard", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gi_product")),
        sa.UniqueConstraint("code", name=op.f("uq_gi_product_code")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_gi_product_name_zh")),
    )
    op.create_table(
        "inspector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("home_county_code", sa.String(length=6), nullable=False),
        sa.Column("qualifications", postgresql.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("capacity_per_round", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector")),
        sa.UniqueConstraint("code", name=op.f("uq_inspector_code")),
    )
    op.create_index(op.f("ix_inspector_home_county_code"), "inspector", ["home_county_code"], unique=False)
    op.create_table(
        "market_season",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_month", sa.SmallInteger(), nullable=False),
        sa.Column("start_day", sa.SmallInteger(), nullable=False),
        sa.Column("end_month", sa.SmallInteger(), nullable=False),
        sa.Column("end_day", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.Enum("peak", "regular", name="season_kind"), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "start_day BETWEEN 1 AND 31 AND end_day BETWEEN 1 AND 31", name=op.f("ck_market_season_days")
        ),
        sa.CheckConstraint(
            "start_month BETWEEN 1 AND 12 AND end_month BETWEEN 1 AND 12",
            name=op.f("ck_market_season_months"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_market_season_product_id_gi_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_season")),
    )
    op.create_index(op.f("ix_market_season_product_id"), "market_season", ["product_id"], unique=False)
    op.create_geospatial_table(
        "producer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("authorization_number", sa.String(length=100), nullable=True),
        sa.Column("authorized_from", sa.Date(), nullable=True),
        sa.Column("authorized_to", sa.Date(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "authorized_to IS NULL OR authorized_to >= authorized_from",
            name=op.f("ck_producer_authorization_order"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_producer_product_id_gi_product"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_producer")),
        sa.UniqueConstraint("product_id", "credit_code", name="uq_producer_product_credit"),
    )
    op.create_geospatial_index(
        "idx_producer_location",
        "producer",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_producer_county_code"), "producer", ["county_code"], unique=False)
    op.create_index(op.f("ix_producer_product_id"), "producer", ["product_id"], unique=False)
    op.create_geospatial_table(
        "production_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("admin_units", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("approximation", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_crs", sa.String(length=40), nullable=False),
        sa.Column("area_km2", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("vertex_count", sa.Integer(), nullable=False),
        sa.Column("repair_notes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_production_area_validity_order")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_production_area_product_id_gi_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_area")),
        sa.UniqueConstraint("product_id", "version", name=op.f("uq_production_area_product_id")),
    )
    op.create_geospatial_index(
        "idx_production_area_geom",
        "production_area",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_production_area_product_id"), "production_area", ["product_id"], unique=False)
    op.create_index(
        "uq_production_area_current",
        "production_area",
        ["product_id"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_table(
        "quality_spec",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("lower_limit", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("upper_limit", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("lower_inclusive", sa.Boolean(), nullable=False),
        sa.Column("upper_inclusive", sa.Boolean(), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=True),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("method_standard", sa.String(length=200), nullable=True),
        sa.Column("source_standard", sa.String(length=200), nullable=False),
        sa.Column("clause", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "lower_limit IS NOT NULL OR upper_limit IS NOT NULL", name=op.f("ck_quality_spec_has_limit")
        ),
        sa.CheckConstraint(
            "lower_limit IS NULL OR upper_limit IS NULL OR lower_limit <= upper_limit",
            name=op.f("ck_quality_spec_limit_order"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_quality_spec_product_id_gi_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_spec")),
        sa.UniqueConstraint(
            "product_id",
            "indicator_code",
            "grade",
            "valid_from",
            name="uq_quality_spec_key",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(op.f("ix_quality_spec_product_id"), "quality_spec", ["product_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_quality_spec_product_id"), table_name="quality_spec")
    op.drop_table("quality_spec")
    op.drop_index(
        "uq_production_area_current",
        table_name="production_area",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_index(op.f("ix_production_area_product_id"), table_name="production_area")
    op.drop_geospatial_index(
        "idx_production_area_geom", table_name="production_area", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("production_area")
    op.drop_index(op.f("ix_producer_product_id"), table_name="producer")
    op.drop_index(op.f("ix_producer_county_code"), table_name="producer")
    op.drop_geospatial_index(
        "idx_producer_location", table_name="producer", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("producer")
    op.drop_index(op.f("ix_market_season_product_id"), table_name="market_season")
    op.drop_table("market_season")
    op.drop_index(op.f("ix_inspector_home_county_code"), table_name="inspector")
    op.drop_table("inspector")
    op.drop_table("gi_product")
    # Dropping tables leaves PostgreSQL enum types behind; drop them so that a new upgrade starts clean.
    for enum_name in ("season_kind", "product_category", "gi_kind"):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
