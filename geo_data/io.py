"""Reading, validating and repairing GI area files (GeoJSON, GeoPackage, zipped Shapefile, KML, boxes).

Every reader returns WGS84 MultiPolygons and a list of what was repaired; input that cannot be an area
(empty, points, lines, unreadable) raises :class:`AreaFileError` naming the file and the feature.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo_data.crs import CoordinateSystem, UnknownCRSError, parse_crs, transform_geometries_to_wgs84

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp", ".kml", ".kmz")


class AreaFileError(ValueError):
    """An area file or feature that cannot be imported; the message names the file, feature and problem."""


@dataclass
class AreaFeature:
    """One areal feature read from a file, already in WGS84."""

    index: int
    geometry: MultiPolygon
    properties: dict[str, Any]
    repairs: list[str] = field(default_factory=list)


@dataclass
class AreaFile:
    """The features of one area file with the coordinate system they were declared in."""

    source: str
    declared_crs: str
    features: list[AreaFeature]

    @property
    def repairs(self) -> list[str]:
        """Every repair made, prefixed by its feature number."""
        return [f"feature {f.index}: {note}" for f in self.features for note in f.repairs]

    def union(self) -> MultiPolygon:
        """All features merged into one valid MultiPolygon."""
        merged = shapely.union_all([f.geometry for f in self.features])
        return as_multipolygon(shapely.make_valid(merged))


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Keep the polygonal parts of ``geom`` as one MultiPolygon (empty if there are none)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom]) if not geom.is_empty else MultiPolygon()
    parts: list[Polygon] = []
    for part in getattr(geom, "geoms", []):
        if isinstance(part, Polygon) and not part.is_empty:
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(p for p in part.geoms if not p.is_empty)
        elif hasattr(part, "geoms"):
            parts.extend(as_multipolygon(part).geoms)
    return MultiPolygon(parts)


def repair_areal(geom: BaseGeometry | None, where: str) -> tuple[MultiPolygon, list[str]]:
    """Validate one geometry as an area: repair it with ``make_valid`` and report, or reject it."""
    if geom is None or geom.is_empty:
        raise AreaFileError(f"{where}: geometry is empty")
    geom = shapely.force_2d(geom)
    kind = geom.geom_type
    if kind not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise AreaFileError(f"{where}: geometry is a {kind}, not an area (Polygon or MultiPolygon)")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise AreaFileError(f"{where}: geometry has non-finite coordinates")
    repairs: list[str] = []
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = shapely.make_valid(geom)
        repairs.append(f"invalid geometry repaired with make_valid ({reason})")
    multi = as_multipolygon(geom)
    if kind == "GeometryCollection" or len(multi.geoms) != len(getattr(geom, "geoms", [geom])):
        dropped = shapely.get_num_geometries(geom) - len(multi.geoms)
        if dropped > 0:
            repairs.append(f"{dropped} non-areal part(s) dropped")
    if multi.is_empty or multi.area == 0:
        raise AreaFileError(f"{where}: geometry has no area (degenerate polygon)")
    return multi, repairs


def _reader_path(path: Path) -> str:
    if path.suffix.lower() == ".zip":
        return f"/vsizip/{path}"
    if path.suffix.lower() == ".kmz":
        return f"/vsizip/{path}/{_kmz_document(path)}"
    return str(path)


# The namespaces of KML 2.2 (OGC) and of Google's earlier versions, which GDAL reads alike.
KML_NAMESPACES = (
    "http://www.opengis.net/kml/2.2",
    "http://earth.google.com/kml/2.2",
    "http://earth.google.com/kml/2.1",
    "http://earth.google.com/kml/2.0",
)


def _kmz_document(path: Path) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
    except zipfile.BadZipFile as exc:
        raise AreaFileError(f"{path.name}: not a KMZ (zip) archive") from exc
    if not names:
        raise AreaFileError(f"{path.name}: no .kml document in the KMZ archive")
    return "doc.kml" if "doc.kml" in names else names[0]


def _check_xml(data: bytes, where: str) -> None:
    """Refuse entity declarations (they can expand without bound) and KML in a namespace we do not know."""
    import xml.etree.ElementTree as ET

    head = data[:65536]
    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise AreaFileError(
            f"{where}: XML entity declarations (<!DOCTYPE>/<!ENTITY>) are refused: they can expand without bound; "
            "save the file again without them"
        )
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
    root: ET.Element | None = None
    try:
        parser.feed(head)
        events: list[Any] = list(parser.read_events())  # ("start", element) pairs
        for _, element in events:
            if isinstance(element, ET.Element):
                root = element
                break
    except ET.ParseError as exc:
        raise AreaFileError(f"{where}: not well-formed XML ({exc})") from exc
    if root is None:
        raise AreaFileError(f"{where}: no XML element found")
    namespace, _, local = root.tag.rpartition("}")
    namespace = namespace.lstrip("{")
    if local != "kml":
        raise AreaFileError(f"{where}: the root element is <{local}>, not <kml>")
    if namespace not in KML_NAMESPACES:
        shown = namespace or "none"
        raise AreaFileError(
            f"{where}: unknown KML namespace {shown!r} (expected {KML_NAMESPACES[0]}); "
            "the file may not be KML, or its coordinates may mean something else"
        )


def _check_container(path: Path) -> None:
    """What GDAL would only call 'not recognized': a zip without a shapefile, KML with entities or an odd
    namespace."""
    import zipfile

    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as exc:
            raise AreaFileError(f"{path.name}: not a zip archive") from exc
        if not any(n.lower().endswith(".shp") for n in names):
            listed = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "") if names else "nothing"
            raise AreaFileError(
                f"{path.name}: no .shp in the zip (it holds {listed}); zip the shapefile's .shp, .shx, .dbf and .prj"
            )
    elif suffix == ".kml":
        _check_xml(path.read_bytes(), path.name)
    elif suffix == ".kmz":
        with zipfile.ZipFile(path) as archive:
            _check_xml(archive.read(_kmz_document(path)), f"{path.name} ({_kmz_document(path)})")


def _file_crs(path: Path, layer: str | None) -> str | None:
    import pyogrio

    info = pyogrio.read_info(_reader_path(path), layer=layer)
    return info.get("crs")


def _unclosed_ring(path: Path, layer: str | None) -> str | None:
    """Which feature has a ring whose first and last points differ (GEOS refuses such a ring), if any."""
    import pyogrio.raw

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Non closed ring detected")
        _, _, wkbs, _ = pyogrio.raw.read(_reader_path(path), layer=layer, columns=[])
    for i, wkb in enumerate(wkbs, start=1):
        if wkb is None:
            continue
        try:
            shapely.from_wkb(wkb)
        except shapely.errors.GEOSException:
            fixed = shapely.from_wkb(wkb, on_invalid="fix")
            where = ""
            if fixed is not None:
                rings = shapely.get_rings(fixed)
                if len(rings):
                    x, y = shapely.get_coordinates(rings[0])[0]
                    where = f" (the ring starting at {x:g}, {y:g})"
            return f"feature {i}: a ring is not closed{where}: its first and last points differ"
    return None


def read_area_file(path: str | Path, crs: str | int | None = None, layer: str | None = None) -> AreaFile:
    """Read an area file, convert it from its declared CRS to WGS84, and repair/validate each feature.

    ``crs`` is what the user declares; when omitted, the file's own CRS is used (WGS84 when it has none).
    GCJ-02 and BD-09 files usually label themselves WGS84, so a declared CRS always wins. A file that cannot be
    an area gets a message naming the problem: an unclosed ring, a KML namespace we do not know, a zip without a
    shapefile, XML entity declarations.
    """
    import pyogrio

    path = Path(path)
    where = path.name
    if not path.exists():
        raise AreaFileError(f"{where}: file not found")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise AreaFileError(
            f"{where}: unsupported format {path.suffix!r}; use GeoJSON, GeoPackage, zipped Shapefile or KML"
        )
    _check_container(path)
    try:
        declared: CoordinateSystem | str
        if crs is not None and str(crs).strip():
            declared = parse_crs(crs)
        else:
            declared = parse_crs(_file_crs(path, layer) or CoordinateSystem.WGS84)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Non closed ring detected")
            frame = pyogrio.read_dataframe(_reader_path(path), layer=layer)
    except UnknownCRSError as exc:
        raise AreaFileError(f"{where}: {exc}") from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise AreaFileError(f"{where}: cannot be read as a vector file ({exc})") from exc
    except shapely.errors.GEOSException as exc:
        problem = _unclosed_ring(path, layer)
        raise AreaFileError(
            f"{where}, {problem}" if problem else f"{where}: invalid geometry ({exc})"
        ) from exc
    if len(frame) == 0:
        raise AreaFileError(f"{where}: contains no features")

    features: list[AreaFeature] = []
    originals = np.asarray(frame.geometry.values, dtype=object)
    for i, geom in enumerate(originals, start=1):
        # Validate in the declared system first: emptiness and geometry type don't depend on it.
        if geom is None or geom.is_empty:
            raise AreaFileError(f"{where}, feature {i}: geometry is empty")
    converted = transform_geometries_to_wgs84(originals, declared)
    property_rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    for i, (geom, props) in enumerate(zip(converted, property_rows, strict=True), start=1):
        multi, repairs = repair_areal(geom, f"{where}, feature {i}")
        _check_lonlat(multi, f"{where}, feature {i}", declared)
        clean_props = {k: (None if _is_missing(v) else v) for k, v in props.items()}
        # KML says "Name", shapefiles often "NAME" or "ADCODE": offer the lower-case keys the importer reads.
        for key in list(clean_props):
            clean_props.setdefault(key.lower(), clean_props[key])
        features.append(AreaFeature(index=i, geometry=multi, properties=clean_props, repairs=repairs))
    return AreaFile(source=str(path), declared_crs=str(declared), features=features)


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN
    except (TypeError, ValueError):
        return False


def _check_lonlat(geom: MultiPolygon, where: str, declared: CoordinateSystem | str) -> None:
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise AreaFileError(
            f"{where}: coordinates {geom.bounds} are not longitude/latitude after conversion from {declared}; "
            "is the declared CRS right (a projected file needs its EPSG code)?"
        )


_DMS = re.compile(
    r"^\s*(?P<deg>-?\d+(?:\.\d+)?)\s*[°度d]?\s*(?:(?P<min>\d+(?:\.\d+)?)\s*['′分m]?)?\s*"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:\"|″|''|秒|s)?)?\s*(?P<hemi>[NSEW])?\s*$",
    re.IGNORECASE,
)


def parse_angle(text: str | float) -> float:
    """Parse decimal degrees or degrees-minutes-seconds such as ``111°42′00″E`` into decimal degrees."""
    if isinstance(text, (int, float)):
        return float(text)
    match = _DMS.match(text.strip())
    if not match or (match["min"] is None and match["sec"] is None and not re.search(r"\d", text)):
        raise ValueError(f"{text!r} is not an angle in decimal degrees or D°M′S″")
    deg = float(match["deg"])
    minutes = float(match["min"] or 0)
    seconds = float(match["sec"] or 0)
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"{text!r}: minutes and seconds must be below 60")
    value = abs(deg) + minutes / 60 + seconds / 3600
    negative = deg < 0 or (match["hemi"] or "").upper() in ("S", "W")
    return -value if negative else value


def area_from_box(
    west: str | float,
    south: str | float,
    east: str | float,
    north: str | float,
    crs: str | int | None = None,
) -> MultiPolygon:
    """An area defined by a longitude/latitude box (e.g. 程村蚝: 111°42′00″–111°48′45″E, 21°38′30″–21°46′30″N)."""
    angles = []
    for name, value in (("west", west), ("south", south), ("east", east), ("north", north)):
        try:
            angles.append(parse_angle(value))
        except ValueError as exc:
            raise AreaFileError(f"{name}: {exc}") from exc
    w, s, e, n = angles
    if not (w < e and s < n):
        raise AreaFileError(f"box: west < east and south < north required, got {w}, {s}, {e}, {n}")
    return area_from_coordinates(list(box(w, s, e, n).exterior.coords), crs=crs)


def area_from_coordinates(
    coordinates: Sequence[Sequence[str | float]], crs: str | int | None = None
) -> MultiPolygon:
    """An area defined by a list of boundary coordinates (lon, lat), as some legal texts give it."""
    if len(coordinates) < 3:
        raise AreaFileError(f"coordinates: at least 3 points are needed for an area, got {len(coordinates)}")
    try:
        points = np.array([[parse_angle(c[0]), parse_angle(c[1])] for c in coordinates], dtype=float)
    except (ValueError, IndexError, TypeError) as exc:
        raise AreaFileError(f"coordinates: {exc}") from exc
    polygon = Polygon(points)
    converted = transform_geometries_to_wgs84(np.array([polygon], dtype=object), parse_crs(crs))[0]
    multi, _ = repair_areal(converted, "coordinates")
    return multi


def write_geojson(
    features: list[dict[str, Any]], geometries: Sequence[BaseGeometry], path: str | Path
) -> Path:
    """Write geometries with their property dicts to a GeoJSON file (WGS84)."""
    import geopandas as gpd

    path = Path(path)
    frame = gpd.GeoDataFrame(features, geometry=list(geometries), crs="EPSG:4326")
    frame.to_file(path, driver="GeoJSON")
    return path
