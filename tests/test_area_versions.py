"""Area versions in PostGIS: a re-import makes a new version and closes the old one; history is kept."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
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
