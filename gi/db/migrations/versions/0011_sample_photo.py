"""sample photos: content hash, EXIF position and time, and their cross-check flags; upload job runner; a plan
task becomes sampled when a sample for it is stored

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# A task is sampled as soon as a sample naming it is stored, whichever way it came (a JSON upload, an ODK
# submission, a sample file): one statement-level trigger on sample, so a 100,000-row batch costs one UPDATE.
TASK_SAMPLED_FUNCTION = """
CREATE FUNCTION gi_task_sampled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE plan_task t SET status = 'sampled'
    FROM (SELECT DISTINCT task_id FROM arrived WHERE task_id IS NOT NULL) a
    WHERE t.id = a.task_id AND t.status = 'planned';
    RETURN NULL;
END $$
"""
TASK_SAMPLED_TRIGGER = (
    "CREATE TRIGGER gi_task_sampled AFTER INSERT ON sample REFERENCING NEW TABLE AS arrived "
    "FOR EACH STATEMENT EXECUTE FUNCTION gi_task_sampled()"
)


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
    op.execute(TASK_SAMPLED_FUNCTION)
    op.execute(TASK_SAMPLED_TRIGGER)
    op.execute(
        "UPDATE plan_task t SET status = 'sampled' WHERE t.status = 'planned' "
        "AND EXISTS (SELECT 1 FROM sample s WHERE s.task_id = t.id)"
    )


def downgrade() -> None:
    """Revert this revision (tasks marked sampled stay so)."""
    op.execute("DROP TRIGGER gi_task_sampled ON sample")
    op.execute("DROP FUNCTION gi_task_sampled()")
    op.drop_column("upload_job", "runner")
    op.drop_index(op.f("ix_sample_photo_sha256"), table_name="sample_photo")
    op.drop_index(op.f("ix_sample_photo_sample_id"), table_name="sample_photo")
    op.drop_table("sample_photo")
