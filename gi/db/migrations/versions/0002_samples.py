"""samples and origin verdicts

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_geospatial_table(
        "sample",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_x", sa.Float(), nullable=False, comment="longitude or easting as submitted"),
        sa.Column("submitted_y", sa.Float(), nullable=False, comment="latitude or northing as submitted"),
        sa.Column("declared_crs", sa.String(length=40), nullable=False),
        sa.Column("gps_accuracy_m", sa.Float(), nullable=True),
        sa.Column(
            "location_source",
            sa.Enum("device_gps", "map_pick", "geocoded_address", name="location_source"),
            nullable=False,
        ),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("lot_number", sa.String(length=100), nullable=True),
        sa.Column("lot_size", sa.Integer(), nullable=True),
        sa.Column("collector_id", sa.Integer(), nullable=True),
        sa.Column(
            "source", sa.Text(), nullable=True, comment="upload channel or batch file the sample came from"
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "gps_accuracy_m IS NULL OR gps_accuracy_m >= 0", name=op.f("ck_sample_accuracy_non_negative")
        ),
        sa.CheckConstraint("lot_size IS NULL OR lot_size > 0", name=op.f("ck_sample_lot_size_positive")),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["inspector.id"],
            name=op.f("fk_sample_collector_id_inspector"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"], ["producer.id"], name=op.f("fk_sample_producer_id_producer"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_sample_product_id_gi_product"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample")),
    )
    op.create_geospatial_index(
        "idx_sample_location",
        "sample",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_sample_collected_at"), "sample", ["collected_at"], unique=False)
    op.create_index(op.f("ix_sample_collector_id"), "sample", ["collector_id"], unique=False)
    op.create_index(op.f("ix_sample_producer_id"), "sample", ["producer_id"], unique=False)
    op.create_index(op.f("ix_sample_product_id"), "sample", ["product_id"], unique=False)
    op.create_index(op.f("ix_sample_task_id"), "sample", ["task_id"], unique=False)
    op.create_table(
        "origin_verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=True),
        sa.Column("producer_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("area_version", sa.Integer(), nullable=True),
        sa.Column(
            "verdict", sa.Enum("inside", "outside", "uncertain", name="origin_outcome"), nullable=False
        ),
        sa.Column(
            "distance_m", sa.Float(), nullable=True, comment="signed distance to the boundary, + inside"
        ),
        sa.Column("band_m", sa.Float(), nullable=False, comment="half-width of the uncertain band used"),
        sa.Column("flags", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("other_areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(sample_id IS NULL) <> (producer_id IS NULL)", name=op.f("ck_origin_verdict_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["production_area.id"],
            name=op.f("fk_origin_verdict_area_id_production_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"],
            ["producer.id"],
            name=op.f("fk_origin_verdict_producer_id_producer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["gi_product.id"],
            name=op.f("fk_origin_verdict_product_id_gi_product"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_origin_verdict_sample_id_sample"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_origin_verdict")),
    )
    op.create_index(op.f("ix_origin_verdict_producer_id"), "origin_verdict", ["producer_id"], unique=False)
    op.create_index(op.f("ix_origin_verdict_product_id"), "origin_verdict", ["product_id"], unique=False)
    op.create_index(op.f("ix_origin_verdict_sample_id"), "origin_verdict", ["sample_id"], unique=False)
    op.create_index(op.f("ix_origin_verdict_verdict"), "origin_verdict", ["verdict"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_origin_verdict_verdict"), table_name="origin_verdict")
    op.drop_index(op.f("ix_origin_verdict_sample_id"), table_name="origin_verdict")
    op.drop_index(op.f("ix_origin_verdict_product_id"), table_name="origin_verdict")
    op.drop_index(op.f("ix_origin_verdict_producer_id"), table_name="origin_verdict")
    op.drop_table("origin_verdict")
    op.drop_index(op.f("ix_sample_task_id"), table_name="sample")
    op.drop_index(op.f("ix_sample_product_id"), table_name="sample")
    op.drop_index(op.f("ix_sample_producer_id"), table_name="sample")
    op.drop_index(op.f("ix_sample_collector_id"), table_name="sample")
    op.drop_index(op.f("ix_sample_collected_at"), table_name="sample")
    op.drop_geospatial_index(
        "idx_sample_location", table_name="sample", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("sample")
    for enum_name in ("origin_outcome", "location_source"):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
