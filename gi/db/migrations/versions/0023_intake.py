"""intake: the batch statement that writes its samples' identities itself skips the identity trigger

Revision ID: 0023_intake
Revises: 0022_archive

``sample_identity_insert`` (0018) gives every sample written by any writer its ``sample_identity`` row. The
batch intake's one ``INSERT ... ON CONFLICT`` statement (``gi.origin.store.STORE_STAGED``) inserts the identities
itself first, since its conflict is decided on them, so for its rows the trigger only ran a PL/pgSQL call and an
``INSERT ... ON CONFLICT DO NOTHING`` that found the row: 1-2 s of 100,000 samples (benchmarks/origin.py (c)).

The trigger now carries ``WHEN (current_setting('gi.sample_identity_written', true) IS DISTINCT FROM 'on')``.
The batch sets that transaction-local setting just before its statement and clears it just after, so every
other writer (the single intake, the ORM, a direct ``INSERT``) still gets its identity written as before. Nothing
depends on the setting for correctness: ``sample``'s foreign key to ``sample_identity`` still refuses a sample
without its identity, whoever sets it. A trigger on the partitioned ``sample`` is cloned onto each of its
partitions, existing and future.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0023_intake"
down_revision = "0022_archive"
branch_labels = None
depends_on = None

SKIPPABLE = """
DROP TRIGGER sample_identity_insert ON sample;
CREATE TRIGGER sample_identity_insert BEFORE INSERT ON sample
    FOR EACH ROW WHEN (current_setting('gi.sample_identity_written', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION sample_identity_insert();
"""

ALWAYS = """
DROP TRIGGER sample_identity_insert ON sample;
CREATE TRIGGER sample_identity_insert BEFORE INSERT ON sample
    FOR EACH ROW EXECUTE FUNCTION sample_identity_insert();
"""


def upgrade() -> None:
    """Apply this revision."""
    op.get_bind().execute(text(SKIPPABLE))


def downgrade() -> None:
    """Revert this revision: the identity trigger runs for every row again."""
    op.get_bind().execute(text(ALWAYS))
