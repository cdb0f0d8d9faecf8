"""The demo is deterministic: on a fresh database it builds the same directories, plan and draw every time."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from fixtures import scratch_database
from sqlalchemy import select

from gi.db import get_engine, session_scope
from gi.db.partitions import add_months, existing_months, month_start
from gi.models import Inspector, Producer
from gi.settings import get_settings

pytestmark = pytest.mark.postgis


def demo_plan_on_a_fresh_database(
    db_url: str, out: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, object]:
    """Steps 1 and 2 of the demo on a database of their own; what they built, as comparable values."""
    from demo.planning import demo_season, plan_season
    from demo.register import load_register

    with scratch_database(db_url, "gi_test_demo") as url:
        monkeypatch.setenv("GI_DATABASE_URL", url)
        monkeypatch.setenv("GI_OUTPUT_DIR", str(out))
        get_settings.cache_clear()
        try:
            register = load_register()
            with get_engine(url).connect() as conn:
                listing_months = existing_months(conn, "listing")
            # Last season's market listings (a year before the plan season) get a month, not DEFAULT.
            assert add_months(month_start(demo_season()[0]), -12) in listing_months
            step = plan_season(today=date(2026, 12, 3))
            with session_scope(get_engine(url)) as session:
                producers = session.execute(
                    select(Producer.id, Producer.name, Producer.credit_code, Producer.authorized_from)
                    .where(Producer.synthetic.is_(True))
                    .order_by(Producer.id)
                ).all()
                inspectors = session.scalars(select(Inspector.code).order_by(Inspector.code)).all()
        finally:
            get_settings.cache_clear()
    published = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(step.published.iterdir())}
    assert register.load.products_added == len(register.products) > 0
    assert step.created and step.drawn_now and step.verification.ok
    return {
        "code": step.code,
        "producers": [tuple(r) for r in producers],
        "inspectors": list(inspectors),
        "commitment": step.commitment_sha256,
        "seed": step.summary.seed if step.summary else None,
        "tasks": step.verification.tasks,
        "published": published,
    }


def test_the_demo_plan_is_the_same_on_every_fresh_database(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = demo_plan_on_a_fresh_database(db_url, tmp_path / "first", monkeypatch)
    second = demo_plan_on_a_fresh_database(db_url, tmp_path / "second", monkeypatch)
    assert first["code"] == "DEMO-202609" and first["tasks"] and first["producers"]
    # Frame, commitment, seed, selection, assignment and notice: every published byte is the same.
    assert set(first["published"]) >= {"frame.json", "commitment.json", "reveal.json", "selection.json"}
    assert first == second
