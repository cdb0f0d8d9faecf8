"""The bundled register in PostGIS: every product has a valid current area; every limit is complete."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo_data.register import load_register
from gi.db import session_scope
from gi.models import GIProduct, ProductCategory, ProductionArea, QualitySpec
from gi.register.areas import area_at
from gi.register.loader import load_register_into_db

pytestmark = pytest.mark.postgis


def test_every_product_has_a_valid_non_empty_current_area(session: Session, loaded_register: None) -> None:
    rows = session.execute(
        text(
            "SELECT p.code, ST_IsValid(a.geom), ST_IsEmpty(a.geom), GeometryType(a.geom), ST_SRID(a.geom), "
            "ST_Area(a.geom::geography) / 1e6, a.area_km2 FROM gi_product p "
            "LEFT JOIN production_area a ON a.product_id = p.id AND a.valid_to IS NULL"
        )
    ).all()
    assert len(rows) >= 12
    for code, valid, empty, kind, srid, km2_postgis, km2_stored in rows:
        assert valid and not empty, code
        assert (kind, srid) == ("MULTIPOLYGON", 4326), code
        assert float(km2_stored) == __import__("pytest").approx(km2_postgis, rel=1e-3), code


def test_register_covers_all_four_categories(session: Session, loaded_register: None) -> None:
    categories = set(session.scalars(select(GIProduct.category)))
    assert categories == set(ProductCategory)


def test_every_limit_is_a_number_with_unit_and_cited_clause(session: Session, loaded_register: None) -> None:
    specs = session.scalars(select(QualitySpec)).all()
    assert len(specs) >= 36
    for spec in specs:
        assert spec.lower_limit is not None or spec.upper_limit is not None, spec.indicator_code
        assert spec.unit.strip() and spec.source_standard.strip() and spec.clause.strip(), spec.indicator_code


def test_area_history_is_versioned_by_date(session: Session, loaded_register: None) -> None:
    crab = session.scalars(select(GIProduct).where(GIProduct.code == "yangchenghu-crab")).one()
    versions = crab.areas
    assert [a.version for a in versions] == [1, 2]
    assert versions[0].valid_to == versions[1].valid_from
    assert area_at(session, crab.id, versions[0].valid_from).version == 1
    assert area_at(session, crab.id, versions[1].valid_from).version == 2


def test_loading_again_changes_nothing(engine, loaded_register: None) -> None:  # type: ignore[no-untyped-def]
    register = load_register()
    # Other tests of the session may add products of their own: count the register's products only.
    of_register = (
        select(func.count())
        .select_from(ProductionArea)
        .join(GIProduct)
        .where(GIProduct.code.in_([p.code for p in register.products]))
    )
    with session_scope(engine) as sess:
        before = sess.scalar(of_register)
        report = load_register_into_db(sess)
        after = sess.scalar(of_register)
    assert report.products_added == 0 and report.area_versions_added == 0
    assert report.products_updated == 0  # an unchanged register updates nothing
    assert before == after == sum(len(p.area_versions) for p in register.products)
    assert report.notes == []


def test_reload_brings_the_wording_of_bundled_versions_up_to_date(
    session: Session, loaded_register: None
) -> None:
    """A register whose legal basis was reworded (same date, same geometry) updates the stored text, and only it."""
    rice = session.scalars(select(GIProduct).where(GIProduct.code == "wuchang-rice")).one()
    stored = rice.areas[0]
    geometry, valid_from = stored.geom.desc, stored.valid_from
    stored.legal_basis = "AQSIQ approval (date from a secondary source)"
    session.flush()
    report = load_register_into_db(session)
    assert stored.legal_basis == load_register().product("wuchang-rice").area_versions[0].legal_basis
    assert (stored.geom.desc, stored.valid_from, report.area_versions_added) == (geometry, valid_from, 0)
    assert report.notes == ["wuchang-rice: legal basis of version 1 updated from the register"]
