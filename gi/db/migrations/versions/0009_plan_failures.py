"""plan failures and re-draws: status 'failed', plan.supersedes_id, reveal and failure bytes; a revealed draw
and a committed frame can no longer change (triggers)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import hashlib
import json
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FINAL_DRAW = """
CREATE FUNCTION plan_commitment_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.commitment_json IS DISTINCT FROM OLD.commitment_json
       OR NEW.frame_json IS DISTINCT FROM OLD.frame_json
       OR NEW.parameters_json IS DISTINCT FROM OLD.parameters_json
       OR NEW.commitment_sha256 IS DISTINCT FROM OLD.commitment_sha256 THEN
        RAISE EXCEPTION 'plan_commitment %: a published commitment never changes', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.public_value IS NOT NULL AND (
           NEW.public_value IS DISTINCT FROM OLD.public_value
        OR NEW.seed_sha256 IS DISTINCT FROM OLD.seed_sha256
        OR NEW.reveal_json IS DISTINCT FROM OLD.reveal_json
        OR NEW.selection_json IS DISTINCT FROM OLD.selection_json
        OR NEW.assignment_json IS DISTINCT FROM OLD.assignment_json
        OR NEW.failure_json IS DISTINCT FROM OLD.failure_json) THEN
        RAISE EXCEPTION 'plan_commitment %: a draw is final; a re-draw needs a new plan and commitment', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER plan_commitment_final BEFORE UPDATE ON plan_commitment
    FOR EACH ROW EXECUTE FUNCTION plan_commitment_is_final();
CREATE FUNCTION plan_draw_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('drawn', 'failed') AND NEW.status IS DISTINCT FROM OLD.status
       AND NOT (OLD.status = 'drawn' AND NEW.status = 'cancelled') THEN
        RAISE EXCEPTION 'plan %: status % is final', OLD.code, OLD.status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER plan_draw_final BEFORE UPDATE OF status ON plan
    FOR EACH ROW EXECUTE FUNCTION plan_draw_is_final();
"""


def _legacy_reveal(row: sa.Row) -> bytes:
    """The reveal bytes plans drawn before this revision published (scheme gi-plan-reveal/1)."""
    message = "\n".join(["gi-plan-seed/1", row.commitment_sha256, row.secret, row.public_value])
    document = {
        "scheme": "gi-plan-reveal/1",
        "plan": row.code,
        "commitment_sha256": row.commitment_sha256,
        "secret": row.secret,
        "public_value": row.public_value,
        "public_value_source": row.public_value_source or "",
        "seed": hashlib.sha256(message.encode("utf-8")).hexdigest(),
        "revealed_at": row.revealed_at.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()
        if row.revealed_at
        else "",
    }
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def upgrade() -> None:
    """Apply this revision."""
    op.execute("ALTER TYPE plan_status ADD VALUE IF NOT EXISTS 'failed' BEFORE 'cancelled'")
    op.add_column(
        "plan",
        sa.Column(
            "supersedes_id",
            sa.Integer(),
            nullable=True,
            comment="the failed plan this plan re-draws (at most one re-draw per failed plan)",
        ),
    )
    op.create_foreign_key(
        op.f("fk_plan_supersedes_id_plan"), "plan", "plan", ["supersedes_id"], ["id"], ondelete="RESTRICT"
    )
    op.create_unique_constraint(op.f("uq_plan_supersedes_id"), "plan", ["supersedes_id"])
    op.add_column(
        "plan_commitment",
        sa.Column("reveal_json", sa.Text(), nullable=True, comment="published reveal, exact bytes"),
    )
    op.add_column(
        "plan_commitment",
        sa.Column(
            "failure_json", sa.Text(), nullable=True, comment="published failure of the draw, exact bytes"
        ),
    )
    # Plans drawn before this revision keep the reveal bytes they were published with.
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT c.id, p.code, c.commitment_sha256, c.secret, c.public_value, c.public_value_source, "
            "c.revealed_at FROM plan_commitment c JOIN plan p ON p.id = c.plan_id WHERE c.public_value IS NOT NULL"
        )
    ).all()
    for row in rows:
        conn.execute(
            sa.text("UPDATE plan_commitment SET reveal_json = :r WHERE id = :id"),
            {"r": _legacy_reveal(row).decode("utf-8"), "id": row.id},
        )
    op.execute(FINAL_DRAW)


def downgrade() -> None:
    """Revert this revision: failed plans become cancelled (revision 0006 knows no 'failed')."""
    op.execute("DROP TRIGGER plan_draw_final ON plan")
    op.execute("DROP FUNCTION plan_draw_is_final()")
    op.execute("DROP TRIGGER plan_commitment_final ON plan_commitment")
    op.execute("DROP FUNCTION plan_commitment_is_final()")
    op.drop_column("plan_commitment", "failure_json")
    op.drop_column("plan_commitment", "reveal_json")
    op.drop_constraint(op.f("uq_plan_supersedes_id"), "plan", type_="unique")
    op.drop_constraint(op.f("fk_plan_supersedes_id_plan"), "plan", type_="foreignkey")
    op.drop_column("plan", "supersedes_id")
    op.execute("UPDATE plan SET status = 'cancelled' WHERE status = 'failed'")
    op.execute("ALTER TYPE plan_status RENAME TO plan_status_0007")
    op.execute("CREATE TYPE plan_status AS ENUM ('committed', 'drawn', 'cancelled')")
    op.execute("ALTER TABLE plan ALTER COLUMN status TYPE plan_status USING status::text::plan_status")
    op.execute("DROP TYPE plan_status_0007")
