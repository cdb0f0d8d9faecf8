"""data_archive: months of the data tables (samples, their verdicts and evidence, market listings) detached and
archived by `gi db archive` (docs/scale.md "Partitioned history", docs/audit.md "Archived data months")

Revision ID: 0022_archive
Revises: 0021_maps

``data_archive`` records one row per table per archived month: the live table, the kept table
(``<table>_archive_pYYYY_MM``), its row count and an order-independent digest of its rows; it refuses UPDATE,
DELETE and TRUNCATE like the audit log. Downgrade attaches every archived month back to its table (the archive's
own triggers, foreign keys between archived tables and the DEFAULT partitions' archived-month checks dropped
first), then drops the record.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from gi.db.archive import attach_back

revision = "0022_archive"
down_revision = "0021_maps"
branch_labels = None
depends_on = None

RECORD = """
CREATE TABLE data_archive (
    month date NOT NULL,
    parent text NOT NULL,
    table_name text NOT NULL,
    row_count bigint NOT NULL,
    digest numeric NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    archived_by text NOT NULL,
    CONSTRAINT pk_data_archive PRIMARY KEY (parent, month),
    CONSTRAINT uq_data_archive_table_name UNIQUE (table_name),
    CONSTRAINT ck_data_archive_row_count_non_negative CHECK (row_count >= 0)
);
CREATE TRIGGER audit_refuse_change BEFORE UPDATE OR DELETE ON data_archive
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON data_archive
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""


def upgrade() -> None:
    """Apply this revision."""
    op.get_bind().execute(text(RECORD))


def downgrade() -> None:
    """Revert this revision: archived data months attached back to their tables, the record dropped."""
    conn = op.get_bind()
    attach_back(conn)
    conn.execute(text("DROP TABLE data_archive"))
