"""Vector tiles from PostGIS: the sample grid counts every sample once per zoom level, knows when it is stale and
is rebuilt; tiles are Mapbox Vector Tiles narrowed to the caller's region; tile addresses are checked."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

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


def _features(body: bytes, key: tuple[int, int, int], tmp_path: Path) -> list[dict[str, object]]:
    """The features of a sample tile, read back by GDAL's MVT driver (a real client)."""
    import pyogrio

    z, x, y = key  # (the features' attributes are read; their position in the tile is not)
    path = tmp_path / f"{z}-{x}-{y}-{len(list(tmp_path.iterdir()))}.mvt"
    path.write_bytes(body)
    frame = pyogrio.read_dataframe(path, layer="samples", read_geometry=False)
    return frame.to_dict("records")  # type: ignore[no-any-return]


def _tile_of(url: str, z: int) -> tuple[int, int, int]:
    """The tile at zoom ``z`` holding the first stored sample."""
    from sqlalchemy import func, select

    from gi.models import Sample

    with Session(gi_db.get_engine(url)) as session:
        lon, lat = session.execute(
            select(func.ST_X(Sample.location), func.ST_Y(Sample.location))
            .order_by(Sample.collected_at)
            .limit(1)
        ).one()
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def test_national_grid_sums_the_counties_and_serves_32_cells_a_side(url: str, tmp_path: Path) -> None:
    engine = gi_db.get_engine(url)
    with Session(engine) as session:
        refresh_sample_grid(session, force=True)
        per_level = dict(
            session.execute(text("SELECT level, sum(n) FROM sample_grid GROUP BY level")).all()  # type: ignore[arg-type]
        )
        national = dict(
            session.execute(text("SELECT level, sum(n) FROM sample_grid_national GROUP BY level")).all()  # type: ignore[arg-type]
        )
        assert national == per_level and set(national) == set(GRID_LEVELS)
        key = _tile_of(url, 6)
        everything = _features(
            layer_tile(session, "samples", tile_key(*key), Scope(everything=True)), key, tmp_path
        )
        province = session.execute(
            text(
                "SELECT i.home_county_code FROM app_user u JOIN inspector i ON i.id = u.inspector_id"
                " WHERE u.username = 'insp'"
            )
        ).scalar_one()[:2]
        region_body = layer_tile(session, "samples", tile_key(*key), Scope(regions=(province,)))
        region = _features(region_body, key, tmp_path)
    # Every cell is a cluster with its count; the region sees its own samples, here all of them.
    assert everything and all(f["cluster"] for f in everything)
    assert sum(int(f["n"]) for f in everything) == sum(int(f["n"]) for f in region) > 0  # type: ignore[call-overload]


def test_dense_point_tiles_are_served_as_cells(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maps import tiles

    key = _tile_of(url, 12)
    with Session(gi_db.get_engine(url)) as session:
        refresh_sample_grid(session, force=True)
        points = _features(
            layer_tile(session, "samples", tile_key(*key), Scope(everything=True)), key, tmp_path
        )
        assert points and not any(f["cluster"] for f in points) and all(f["code"] for f in points)
        monkeypatch.setattr(tiles, "POINT_CAP", len(points) - 1)
        cells = _features(
            layer_tile(session, "samples", tile_key(*key), Scope(everything=True)), key, tmp_path
        )
        assert cells and all(f["cluster"] for f in cells)
        assert sum(int(f["n"]) for f in cells) >= len(points)  # type: ignore[call-overload]


def test_tiles_are_cached_under_their_data_version_with_an_etag(url: str) -> None:
    from maps.tiles import TILE_CACHE, serve_tile

    TILE_CACHE.clear()
    key = tile_key(*_tile_of(url, 5))
    with Session(gi_db.get_engine(url)) as session:
        first = serve_tile(session, "samples", key, Scope(everything=True))
        hits = TILE_CACHE.hits
        again = serve_tile(session, "samples", key, Scope(everything=True))
        assert again.body == first.body and again.etag == first.etag and TILE_CACHE.hits == hits + 1
        assert (
            serve_tile(session, "samples", key, Scope(everything=True), if_none_match=first.etag).body is None
        )
        # Another region's view of the same address is another tile.
        assert serve_tile(session, "samples", key, Scope(regions=("99",))).etag != first.etag
        areas = serve_tile(session, "areas", key, Scope())
    _more_samples(url, 1)
    with Session(gi_db.get_engine(url)) as session:
        after = serve_tile(session, "samples", key, Scope(everything=True), if_none_match=first.etag)
        assert after.body is not None and after.etag != first.etag  # a new sample: the old copy is stale
        assert serve_tile(session, "areas", key, Scope(), if_none_match=areas.etag).body is None


def test_tile_cache_drops_the_least_recently_used_beyond_its_budget() -> None:
    from maps.tiles import TileCache

    cache = TileCache(3 * (TileCache.ENTRY_OVERHEAD + 100))
    for k in range(3):
        cache.put(("t", k), bytes(100))
    assert cache.get(("t", 0)) is not None  # 0 is now the most recently used
    cache.put(("t", 3), bytes(100))
    assert cache.get(("t", 1)) is None and cache.get(("t", 0)) is not None and len(cache) == 3
    cache.put(("big",), bytes(cache.max_bytes))  # larger than the whole budget: not kept
    assert cache.get(("big",)) is None and cache.size_bytes <= cache.max_bytes


def _xyz(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The address of the tile at zoom ``z`` holding a point."""
    n = 1 << z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _reference_features(body: bytes, tmp_path: Path, name: str) -> list[dict[str, object]]:
    """The features of a reference tile, read back by GDAL's MVT driver."""
    import pyogrio

    path = tmp_path / f"{name}.mvt"
    path.write_bytes(body)
    return pyogrio.read_dataframe(path, layer="reference", read_geometry=False).to_dict("records")  # type: ignore[no-any-return]


def test_reference_tiles_draw_the_whole_territory_in_small_tiles(url: str, tmp_path: Path) -> None:
    """The national view's reference tiles (zoom 3) hold the country, all 34 provinces (Taiwan, Hong Kong and
    Macao among them) and the maritime line in a few tens of kB; every island of the country is kept at every
    level (simplified, never dropped) and drawn where it shows: 永兴岛 in its zoom-8 tile."""
    with Session(gi_db.get_engine(url)) as session:
        national = {
            (x, y): layer_tile(session, "reference", tile_key(3, x, y), Scope())
            for x in (5, 6)
            for y in (2, 3)
        }
        features = [
            f for (x, y), body in national.items() for f in _reference_features(body, tmp_path, f"3-{x}-{y}")
        ]
        islands = dict(
            session.execute(
                text("SELECT level, ST_NumGeometries(geom) FROM map_reference WHERE kind = 'country'")
            ).all()
        )
        island = _reference_features(  # 永兴岛 (Woody Island), 112.336 E 16.834 N
            layer_tile(session, "reference", tile_key(*_xyz(112.336, 16.834, 8)), Scope()), tmp_path, "island"
        )
        deeper = layer_tile(
            session, "reference", tile_key(*_xyz(112.336, 16.834, 12)), Scope()
        )  # from level 8
    provinces = {str(f["adcode"]) for f in features if f["kind"] == "province"}
    assert len(provinces) == 34 and {"710000", "810000", "820000"} <= provinces
    assert {f["kind"] for f in features} == {"country", "province", "maritime"}
    assert sum(len(body) for body in national.values()) < 60_000  # the GeoJSON overview was ~290 kB
    assert len(set(islands.values())) == 1 and min(islands.values()) > 1000 and len(islands) == 9
    assert "country" in {f["kind"] for f in island}
    assert "country" in {f["kind"] for f in _reference_features(deeper, tmp_path, "deeper")}
