"""sample photos: content hash, EXIF position and time, and their cross-check flags; upload job runner

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "sample_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True, comment="from the sample's declared point"),
        sa.Column("limit_m", sa.Float(), nullable=False, comment="max(GPS accuracy, 100 m)"),
        sa.Column("flags", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_sample_photo_sample_id_sample"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_photo")),
        sa.UniqueConstraint("sample_id", "sha256", name="uq_sample_photo"),
    )
    op.create_index(op.f("ix_sample_photo_sample_id"), "sample_photo", ["sample_id"], unique=False)
    op.create_index(op.f("ix_sample_photo_sha256"), "sample_photo", ["sha256"], unique=False)
    op.add_column(
        "upload_job",
        sa.Column(
            "runner", sa.String(length=100), nullable=True, comment="host:pid of the process running it"
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("upload_job", "runner")
    op.drop_index(op.f("ix_sample_photo_sha256"), table_name="sample_photo")
    op.drop_index(op.f("ix_sample_photo_sample_id"), table_name="sample_photo")
    op.drop_table("sample_photo")
