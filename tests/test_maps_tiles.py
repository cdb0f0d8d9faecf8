"""Vector tiles from PostGIS: the sample grid counts every sample once per zoom level, knows when it is stale and
is rebuilt; tiles are Mapbox Vector Tiles narrowed to the caller's region; tile addresses are checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_fixtures import add_accounts, service_database, store_samples
from sqlalchemy import text
from sqlalchemy.orm import Session

from gi import db as gi_db
from gi.accounts.scope import Scope
from gi.errors import InputError, NotFoundError
from maps.tiles import GRID_LEVELS, grid_status, layer_tile, refresh_in_request, refresh_sample_grid, tile_key

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def url(db_url: str) -> Iterator[str]:
    with service_database(db_url, prefix="gi_tiles") as found:
        add_accounts(found)
        store_samples(found, "insp", 10)
        yield found


def test_grid_counts_each_sample_once_per_level_and_follows_new_samples(url: str) -> None:
    engine = gi_db.get_engine(url)
    with Session(engine) as session:
        assert not grid_status(session).current
        status = refresh_sample_grid(session, force=True)
        assert status is not None and status.current and status.samples == 10
        per_level = dict(
            session.execute(text("SELECT level, sum(n) FROM sample_grid GROUP BY level")).all()  # type: ignore[arg-type]
        )
        assert per_level == {level: 10 for level in GRID_LEVELS}
        assert refresh_sample_grid(session) is None  # current: nothing to do
    _more_samples(url, 3)
    with Session(engine) as session:
        assert not grid_status(session).current
        status, background = refresh_in_request(session)  # small: rebuilt in the request
        assert status.current and status.samples == 13 and not background


def _more_samples(url: str, count: int) -> None:
    """``count`` new samples 1 km east of the first stored one (same product and collector)."""
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from gi.models import GIProduct, Inspector, Sample
    from gi.origin.intake import record_sample

    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        first = session.scalars(select(Sample).order_by(Sample.collected_at).limit(1)).one()
        product = session.get(GIProduct, first.product_id)
        collector = session.get(Inspector, first.collector_id)
        x, y = session.execute(select(func.ST_X(first.location), func.ST_Y(first.location))).one()
        assert product is not None and collector is not None
        for k in range(count):
            record_sample(
                session,
                {
                    "id": str(uuid.uuid4()),
                    "product": product.code,
                    "collected_at": datetime.now(UTC).isoformat(),
                    "x": float(x) + 0.01 * (k + 1),
                    "y": float(y),
                    "gps_accuracy_m": 5.0,
                    "collector": collector.code,
                },
            )


def test_tiles_are_scoped_and_addresses_checked(url: str) -> None:
    engine = gi_db.get_engine(url)
    with Session(engine) as session:
        refresh_sample_grid(session, force=True)
        key = tile_key(0, 0, 0)
        everything = layer_tile(session, "samples", key, Scope(everything=True))
        nowhere = layer_tile(session, "samples", key, Scope(regions=("99",)))
        assert len(everything) > 0 and nowhere == b""
        assert len(layer_tile(session, "areas", key, Scope())) > 0
        assert layer_tile(session, "producers", key, Scope()) == b""  # producers from zoom 7 on
        with pytest.raises(NotFoundError):
            layer_tile(session, "roads", key, Scope())
    with pytest.raises(InputError) as raised:
        tile_key(3, 8, 0)
    assert raised.value.field == "x"
