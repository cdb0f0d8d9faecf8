"""Register loads under faults an operator meets: before the migrations, and two at once (issue 11)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fixtures import gi, scratch_database
from sqlalchemy import text

from gi import db as gi_db

pytestmark = pytest.mark.postgis

ROOT = Path(__file__).resolve().parent.parent


def test_register_load_before_the_migrations_says_what_to_do(db_url: str) -> None:
    with scratch_database(db_url, "gi_nomigr", migrate=False) as url:
        result = gi(url, "register", "load")
    assert result.returncode == 4, result.stderr
    assert "run `gi db upgrade`" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_two_register_loads_at_once_serialize(db_url: str) -> None:
    from gi.db import session_scope
    from gi.register.loader import load_register_into_db

    with scratch_database(db_url, "gi_twoloads") as url:
        engine = gi_db.get_engine(url)
        reports, failures = [], []

        def load() -> None:
            try:
                with session_scope(engine) as session:
                    reports.append(load_register_into_db(session))
            except BaseException as exc:  # noqa: BLE001 - asserted below
                failures.append(exc)

        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert not failures, failures
        added = sorted(r.products_added for r in reports)
        assert added[0] == 0 and added[1] > 10  # the second waited, then found every product stored
        with engine.connect() as c:
            codes = c.execute(text("SELECT count(*), count(DISTINCT code) FROM gi_product")).one()
            open_versions = c.execute(
                text(
                    "SELECT count(*) FROM production_area WHERE valid_to IS NULL GROUP BY product_id HAVING count(*) > 1"
                )
            ).all()
        assert codes[0] == codes[1] == added[1] and open_versions == []
