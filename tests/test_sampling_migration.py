"""Migration 0007 (plan failures) on a real PostGIS: plans drawn before it keep the reveal bytes they were
published with, a recorded draw can no longer change (triggers), and the downgrade turns failed plans into
cancelled ones."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from gi import db as gi_db

pytestmark = pytest.mark.postgis

BEFORE = "0008"  # the revision just before the plan failures
THIS = "0009"  # the plan failures


@pytest.fixture
def before(db_url: str) -> Iterator[str]:
    """An empty database of its own, migrated to the revision just before the plan failures."""
    from gi.db.local import create_database, drop_database

    server = make_url(db_url).set(database="postgres").render_as_string(hide_password=False)
    name = f"gi_mpf_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    create_database(server, name)
    url = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    try:
        gi_db.upgrade(url, BEFORE)
        yield url
    finally:
        gi_db.get_engine(url).dispose()
        drop_database(server, name)


def test_legacy_reveal_kept_draw_final_and_downgrade(before: str) -> None:
    engine = create_engine(before)
    revealed = datetime(2026, 8, 3, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with engine.begin() as conn:
        plan_id = conn.execute(
            text(
                "INSERT INTO plan (code, title, period_from, period_to, status, parameters) "
                "VALUES ('OLD-1', 't', '2026-08-01', '2026-08-31', 'drawn', '{}') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO plan_commitment (plan_id, scheme, frame_sha256, parameters_sha256, secret_sha256, "
                "commitment_sha256, commitment_json, frame_json, parameters_json, committed_at, secret, "
                "public_value, public_value_source, seed_sha256, revealed_at, selection_json, assignment_json) "
                "VALUES (:p, 'gi-plan-commitment/1', 'f', 'p', 's', :c, '{}', '{}', '{}', :t, :secret, '4 1 7', "
                "'lottery', 'x', :t, '{}', '{}')"
            ),
            {"p": plan_id, "c": "c" * 64, "t": revealed, "secret": "k" * 40},
        )
    gi_db.upgrade(before, THIS)
    with engine.begin() as conn:
        reveal = conn.execute(text("SELECT reveal_json FROM plan_commitment")).scalar_one()
    seed = hashlib.sha256(f"gi-plan-seed/1\n{'c' * 64}\n{'k' * 40}\n4 1 7".encode()).hexdigest()
    assert json.loads(reveal) == {
        "scheme": "gi-plan-reveal/1",
        "plan": "OLD-1",
        "commitment_sha256": "c" * 64,
        "secret": "k" * 40,
        "public_value": "4 1 7",
        "public_value_source": "lottery",
        "seed": seed,
        "revealed_at": "2026-08-03T09:30:00+08:00",
    }
    with pytest.raises(DBAPIError, match="a draw is final"), engine.begin() as conn:
        conn.execute(text("UPDATE plan_commitment SET public_value = '4 1 8'"))
    with pytest.raises(DBAPIError, match="never changes"), engine.begin() as conn:
        conn.execute(text("UPDATE plan_commitment SET frame_json = :f"), {"f": '{"x": 1}'})
    with pytest.raises(DBAPIError, match="is final"), engine.begin() as conn:
        conn.execute(text("UPDATE plan SET status = 'committed'"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE plan SET status = 'cancelled'"))  # a drawn plan may still be cancelled
        conn.execute(
            text(
                "INSERT INTO plan (code, title, period_from, period_to, status, parameters) "
                "VALUES ('FAILED-1', 't', '2026-08-01', '2026-08-31', 'failed', '{}')"
            )
        )
    engine.dispose()
    gi_db.downgrade(before, BEFORE)
    engine = create_engine(before)
    with engine.begin() as conn:
        statuses = dict(conn.execute(text("SELECT code, status::text FROM plan")).all())
    engine.dispose()
    assert statuses == {"OLD-1": "cancelled", "FAILED-1": "cancelled"}
