"""The demo's market step on a database of its own: synthetic office files through the imports, the season's
balance table with each planted anomaly flagged, and the flagged sellers kept as targets; a re-run adds no row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fixtures import scratch_database
from sqlalchemy import func, select

from demo.market import market_season
from gi.db import get_engine, session_scope
from gi.models import Listing, Producer
from gi.settings import get_settings

pytestmark = pytest.mark.postgis


@pytest.fixture
def scratch(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database with the register loaded, and the settings pointing at it and at ``tmp_path``."""
    from gi.register.loader import load_register_into_db

    with scratch_database(db_url, "gi_market_demo") as url:
        monkeypatch.setenv("GI_DATABASE_URL", url)
        monkeypatch.setenv("GI_OUTPUT_DIR", str(tmp_path))
        get_settings.cache_clear()
        with session_scope(get_engine(url)) as session:
            load_register_into_db(session)
        yield url
        get_settings.cache_clear()


def test_market_step_shows_the_season_balance(scratch: str, tmp_path: Path) -> None:
    season = (date(2025, 9, 1), date(2025, 11, 30))
    step = market_season(season, reference_day=date(2026, 12, 1), producers_per_product=12)
    assert step.season == 2025 and sorted(p.name for p in step.directory.iterdir())[0].startswith("合成_")
    rows = {r.product_code: r for r in step.rows}
    assert set(rows) == {"xihu-longjing", "wuchang-rice", "yangchenghu-crab"}
    for row in rows.values():
        assert row.capacity is not None and row.issued > 0 and row.market_volume > 0
        assert {"holder_over_capacity", "outlet_over_supply", "listing_unauthorized"} <= set(row.flags), row
    assert all(s.target_id is not None for s in step.sellers)
    planted = [s for s in step.sellers if s.shop.startswith(("合成·优选店", "合成·无照小店"))]
    assert len(planted) == 9 and step.targets_added == 9  # two unlicensed-name sellers and a shop per product
    with session_scope(get_engine(scratch)) as session:
        listings = session.scalar(select(func.count()).select_from(Listing))
        sellers = session.scalar(
            select(func.count()).select_from(Producer).where(Producer.kind == "online_seller")
        )
    again = market_season(season, reference_day=date(2026, 12, 1), producers_per_product=12)
    assert all(r.created == 0 for r in again.imports) and again.targets_added == 0
    with session_scope(get_engine(scratch)) as session:
        assert session.scalar(select(func.count()).select_from(Listing)) == listings
        assert (
            session.scalar(select(func.count()).select_from(Producer).where(Producer.kind == "online_seller"))
            == sellers
        )
