"""Area versions in PostGIS: a re-import makes a new version and closes the old one; history is kept."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo_data.io import as_multipolygon
from gi.errors import InputError, NotFoundError
from gi.models import GIKind, GIProduct, ProductCategory, ProductionArea
from gi.register.areas import (
    AreaImport,
    add_area_version,
    area_at,
    area_history,
    current_area,
    import_area_file,
)

pytestmark = pytest.mark.postgis

DATA = Path(__file__).parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def product(session: Session) -> GIProduct:
    """A test product (rolled back with the session)."""
    p = GIProduct(
        code="test-longjing",
        name_zh="测试龙井",
        name_pinyin="Cèshì Lóngjǐng",
        name_en="Test Longjing",
        gi_kind=GIKind.PROTECTED_PRODUCT,
        category=ProductCategory.FARM_PRODUCT,
    )
    session.add(p)
    session.flush()
    return p


def test_import_stores_a_valid_geodesic_area(session: Session, product: GIProduct) -> None:
    area = import_area_file(
        session,
        "test-longjing",
        DATA / "xihu_gcj02.geojson",
        crs="GCJ02",
        legal_basis="GB/T 18650-2008 3",
        valid_from=date(2008, 10, 1),
    ).area
    assert area.version == 1 and area.valid_to is None
    assert area.valid_from == datetime(2008, 10, 1, tzinfo=SHANGHAI)
    valid, km2_postgis = session.execute(
        text("SELECT ST_IsValid(geom), ST_Area(geom::geography) / 1e6 FROM production_area WHERE id = :id"),
        {"id": area.id},
    ).one()
    assert valid
    # 西湖区 is about 312 km² (incl. the West Lake); our ellipsoidal area agrees with PostGIS's geography area.
    assert 280 < float(area.area_km2) < 340
    assert float(area.area_km2) == pytest.approx(km2_postgis, rel=1e-4)
    assert area.source_crs == "GCJ02" and area.vertex_count > 100


def test_reimport_creates_new_version_and_closes_previous(session: Session, product: GIProduct) -> None:
    first = import_area_file(
        session, "test-longjing", DATA / "xihu_gcj02.geojson", crs="GCJ02", valid_from=date(2008, 10, 1)
    ).area
    second = add_area_version(
        session,
        product,
        AreaImport(
            geometry=as_multipolygon(box(120.0, 30.1, 120.2, 30.3)),
            legal_basis="amended",
            source="test",
            source_crs="WGS84",
            valid_from=datetime(2020, 1, 1, tzinfo=SHANGHAI),
            admin_units=[],
        ),
        replace=True,
    ).area
    session.refresh(first)
    assert (first.version, second.version) == (1, 2)
    assert first.valid_to == second.valid_from
    assert current_area(session, product.id).id == second.id
    assert area_at(session, product.id, date(2015, 6, 1)).id == first.id
    assert area_at(session, product.id, datetime(2019, 12, 31, 23, 59, tzinfo=SHANGHAI)).id == first.id
    assert area_at(session, product.id, datetime(2020, 1, 1, tzinfo=SHANGHAI)).id == second.id
    assert area_at(session, product.id, date(2000, 1, 1)) is None
    assert [a.version for a in area_history(session, "测试龙井")] == [1, 2]


def test_version_not_after_current_is_refused_and_nothing_changes(
    session: Session, product: GIProduct
) -> None:
    import_area_file(
        session, "test-longjing", DATA / "xihu_gcj02.geojson", crs="GCJ02", valid_from=date(2010, 1, 1)
    )
    before = session.execute(select(ProductionArea.id, ProductionArea.valid_to)).all()
    with pytest.raises(InputError, match="valid_from: .* not after the current version 1"):
        add_area_version(
            session,
            product,
            AreaImport(
                geometry=as_multipolygon(box(120, 30, 121, 31)),
                legal_basis="x",
                source="x",
                source_crs="WGS84",
                valid_from=datetime(2009, 1, 1, tzinfo=SHANGHAI),
                admin_units=[],
            ),
            replace=True,
        )
    assert session.execute(select(ProductionArea.id, ProductionArea.valid_to)).all() == before


def test_two_open_versions_are_impossible_in_the_database(session: Session, product: GIProduct) -> None:
    import_area_file(
        session, "test-longjing", DATA / "xihu_gcj02.geojson", crs="GCJ02", valid_from=date(2010, 1, 1)
    )
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO production_area (product_id, version, valid_from, geom, legal_basis, admin_units, "
                "approximation, source, source_crs, area_km2, vertex_count, repair_notes) SELECT product_id, 9, "
                "valid_from + interval '1 day', geom, '', '[]', '', '', '', 1, 1, '[]' FROM production_area "
                "WHERE product_id = :p"
            ),
            {"p": product.id},
        )
    assert (
        session.scalar(
            select(func.count()).select_from(ProductionArea).where(ProductionArea.product_id == product.id)
        )
        == 1
    )


def test_unknown_product_is_a_clear_error(session: Session) -> None:
    with pytest.raises(NotFoundError, match="product: no GI product 'nope'"):
        import_area_file(session, "nope", DATA / "xihu_gcj02.geojson")


def _version(product: GIProduct, geometry: object, year: int, basis: str = "amended") -> AreaImport:
    return AreaImport(
        geometry=as_multipolygon(geometry),
        legal_basis=basis,
        source="test",
        source_crs="WGS84",
        valid_from=datetime(year, 1, 1, tzinfo=SHANGHAI),
        admin_units=[],
    )


def test_an_import_reports_its_change_and_a_far_replacement_needs_replace(
    session: Session, product: GIProduct
) -> None:
    from shapely.geometry import Polygon

    from gi.errors import ConflictError

    first = add_area_version(session, product, _version(product, box(120.0, 30.0, 120.1, 30.1), 2010, "v1"))
    assert (
        first.stored
        and first.change.km2_before is None
        and first.change.describe().startswith("first version")
    )
    shifted = add_area_version(session, product, _version(product, box(120.02, 30.0, 120.12, 30.1), 2012))
    change = shifted.change
    assert shifted.stored and change.km2_before == pytest.approx(change.km2_after, rel=1e-3)
    assert change.overlap_share == pytest.approx(0.8, abs=0.01)
    assert change.largest_shift_m == pytest.approx(
        0.02 * 111_320 * 0.866, rel=0.02
    )  # 0.02° of longitude at 30°N
    far = Polygon([(112.0, 35.0), (112.1, 35.0), (112.05, 35.1)])  # a triangle 800 km away, in Henan
    with pytest.raises(ConflictError, match=r"keeps only 0.0 % of the current area.*--replace") as err:
        add_area_version(session, product, _version(product, far, 2014))
    assert err.value.field == "geometry"
    huge = box(119.5, 29.5, 120.6, 30.6)  # covers it all, but 100 times the size
    with pytest.raises(ConflictError, match="changes the size by a factor"):
        add_area_version(session, product, _version(product, huge, 2014))
    assert current_area(session, product.id).version == 2  # nothing changed
    replaced = add_area_version(session, product, _version(product, far, 2014), replace=True)
    assert replaced.stored and replaced.area.version == 3 and replaced.change.overlap_share == 0.0


def test_an_area_outside_china_or_of_no_size_is_refused_even_with_replace(
    session: Session, product: GIProduct
) -> None:
    """A box at 10-11°E 50-51°N, or lon/lat read as metres of a projected CRS (a few m²), is a coordinate
    mistake, not a legal change: --replace does not store it."""
    from gi.register.areas import import_area_box

    add_area_version(session, product, _version(product, box(120.0, 30.0, 120.1, 30.1), 2010, "v1"))
    with pytest.raises(InputError, match=r"lies outside China \(0 % within") as err:
        add_area_version(session, product, _version(product, box(10, 50, 11, 51), 2014), replace=True)
    assert err.value.field == "geometry" and "7,892" in str(err.value)
    with pytest.raises(InputError, match=r"area is only .* m²") as err:
        add_area_version(session, product, _version(product, box(120.0, 30.0, 120.0001, 30.0001), 2014), True)
    with pytest.raises(InputError, match="declared coordinate system"):
        import_area_box(
            session, "test-longjing", "111.7", "21.64", "111.81", "21.77", "x", crs="EPSG:4549", replace=True
        )
    assert [a.version for a in area_history(session, "test-longjing")] == [1]


def test_an_imported_area_gets_the_counties_it_lies_in(session: Session, product: GIProduct) -> None:
    """A file without county codes (or a box) is given the counties it covers, so that reference planning and
    regional scopes, which work by county, still work after an import."""
    from gi.register.areas import import_area_box

    area = import_area_file(
        session, "test-longjing", DATA / "xihu_gcj02.geojson", crs="GCJ02", valid_from=date(2010, 1, 1)
    ).area
    assert area.admin_units == [{"code": "330106", "name": "西湖区"}]
    boxed = import_area_box(
        session,
        "test-longjing",
        "120.0",
        "30.1",
        "120.2",
        "30.3",
        "box",
        valid_from=date(2012, 1, 1),
        replace=True,
    ).area
    assert {"330106", "330110"} <= {u["code"] for u in boxed.admin_units}  # 西湖区, 余杭区


def test_identical_geometry_on_the_same_basis_is_a_no_op(session: Session, product: GIProduct) -> None:
    path = DATA / "xihu_gcj02.geojson"
    first = import_area_file(session, "test-longjing", path, crs="GCJ02", valid_from=date(2010, 1, 1))
    again = import_area_file(session, "test-longjing", path, crs="GCJ02", valid_from=date(2011, 1, 1))
    assert first.stored and not again.stored and again.change.identical and again.area.id == first.area.id
    assert [a.version for a in area_history(session, "test-longjing")] == [1]
    # The same area under a new announcement is a new version (its history matters).
    renewed = import_area_file(
        session, "test-longjing", path, crs="GCJ02", valid_from=date(2011, 1, 1), legal_basis="2011年公告"
    )
    assert renewed.stored and renewed.area.version == 2 and renewed.change.identical


def test_cli_import_prints_the_change_and_refuses_without_replace(db_url: str, tmp_path: Path) -> None:
    from functools import partial

    from fixtures import gi as run_gi
    from fixtures import scratch_database

    with scratch_database(db_url, "gi_areacli") as url:  # the commands commit: a database of its own
        _cli_import(partial(run_gi, url), tmp_path)


def _cli_import(gi: Any, tmp_path: Path) -> None:
    import json
    import uuid

    code = f"cli-area-{uuid.uuid4().hex[:6]}"
    added = gi(
        "products",
        "add",
        "--code",
        code,
        "--name-zh",
        f"命令行区{code[-6:]}",
        "--pinyin",
        "Mìnglìng",
        "--name-en",
        code,
        "--category",
        "farm_product",
    )
    assert added.returncode == 0, added.stderr
    first = gi(
        "areas",
        "import",
        str(DATA / "xihu_gcj02.geojson"),
        "-p",
        code,
        "--crs",
        "GCJ02",
        "--valid-from",
        "2010-01-01",
    )
    assert first.returncode == 0 and "first version" in first.stdout, first.stderr
    triangle = tmp_path / "far.geojson"
    triangle.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [[[112, 35], [112.1, 35], [112.05, 35.1], [112, 35]]],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    refused = gi("areas", "import", str(triangle), "-p", code, "--valid-from", "2020-01-01")
    assert refused.returncode == 1 and "--replace" in refused.stderr and "Traceback" not in refused.stderr
    replaced = gi("areas", "import", str(triangle), "-p", code, "--valid-from", "2020-01-01", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert (
        "0.0 % of the current area kept" in replaced.stdout
        and "re-judged: no stored sample" in replaced.stdout
    )
    same = gi("areas", "import", str(triangle), "-p", code, "--valid-from", "2021-01-01")
    assert same.returncode == 0 and "nothing stored" in same.stdout
    # A corner that is not an angle is refused naming its option (it was an internal error, exit 70).
    edges = ["--south", "30", "--east", "121", "--north", "31", "--legal-basis", "x"]
    bad = gi("areas", "box", "-p", code, "--west", "abc", *edges)
    assert bad.returncode == 1, bad.stderr
    assert "--west: 'abc' is not an angle in decimal degrees or D°M′S″" in bad.stderr
