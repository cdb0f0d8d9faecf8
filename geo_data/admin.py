"""Administrative reference layers shipped with the maps: country outline (with Taiwan and the South China Sea
islands), provinces, counties and the South China Sea maritime line. Drawn light, for orientation only: they
are simplified (see geo_data/admin_data/SOURCES.md) and never decide a verdict."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

DATA_DIR = Path(__file__).resolve().parent / "admin_data"
COUNTRY_FILE = DATA_DIR / "china_country.geojson"
PROVINCES_FILE = DATA_DIR / "china_provinces.geojson"
COUNTIES_FILE = DATA_DIR / "china_counties.geojson.gz"
MARITIME_FILE = DATA_DIR / "china_maritime.geojson"


def _read(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: reference layer missing; rebuild it with `python -m geo_data.build_admin`"
        )
    source = f"/vsigzip/{path}" if path.suffix == ".gz" else str(path)
    frame = gpd.read_file(source)
    return frame.set_crs(4326, allow_override=True)


@lru_cache(maxsize=1)
def country() -> gpd.GeoDataFrame:
    """The national territory as one feature, including Taiwan, Hainan and the South China Sea islands."""
    return _read(COUNTRY_FILE)


@lru_cache(maxsize=1)
def provinces() -> gpd.GeoDataFrame:
    """The 34 provincial-level units (adcode, name), including Taiwan (710000), Hong Kong and Macao."""
    return _read(PROVINCES_FILE)


@lru_cache(maxsize=1)
def counties() -> gpd.GeoDataFrame:
    """The county-level units (adcode, name, city, province)."""
    return _read(COUNTIES_FILE)


@lru_cache(maxsize=1)
def maritime_line() -> gpd.GeoDataFrame:
    """The South China Sea maritime boundary line (断续线) as a MultiLineString."""
    return _read(MARITIME_FILE)


def counties_near(geometry: BaseGeometry, margin_deg: float = 0.15) -> gpd.GeoDataFrame:
    """Counties that touch ``geometry`` grown by ``margin_deg`` degrees (the neighbourhood of an area)."""
    frame = counties()
    zone = geometry.buffer(margin_deg) if margin_deg else geometry
    hits = frame.sindex.query(zone, predicate="intersects")
    return frame.iloc[np.sort(hits)]


def counties_covered(
    geometry: BaseGeometry, min_area_share: float = 0.01, min_county_share: float = 0.5
) -> list[dict[str, str]]:
    """The counties (``{"code", "name"}``, by code) an area lies in: each holding at least ``min_area_share`` of
    the area, or lying at least ``min_county_share`` inside it (a small county within a large area). The layer is
    simplified, so the slivers an area drawn along county borders shares with its neighbours are left out."""
    if geometry.is_empty or geometry.area == 0:
        return []
    frame = counties()
    hits = np.sort(frame.sindex.query(geometry, predicate="intersects"))
    units = []
    for code, name, county in frame.iloc[hits][["adcode", "name", "geometry"]].itertuples(index=False):
        part = shapely.intersection(county, geometry).area
        if part >= min_area_share * geometry.area or (county.area and part >= min_county_share * county.area):
            units.append({"code": str(code), "name": str(name)})
    return sorted(units, key=lambda u: u["code"])


def county_of(lon: ArrayLike, lat: ArrayLike) -> pd.DataFrame:
    """County adcode, name and province of each point (empty strings outside every county)."""
    frame = counties()
    points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    point_idx, county_idx = frame.sindex.query(points, predicate="within")
    result = pd.DataFrame(
        {
            "county_code": [""] * len(points),
            "county_name": [""] * len(points),
            "province_name": [""] * len(points),
        }
    )
    if len(point_idx):
        # A point on a shared edge may match two counties; keep the first.
        first = pd.Series(county_idx, index=point_idx).groupby(level=0).first()
        rows = frame.iloc[first.to_numpy()]
        result.loc[first.index, "county_code"] = rows["adcode"].astype(str).to_numpy()
        result.loc[first.index, "county_name"] = rows["name"].astype(str).to_numpy()
        result.loc[first.index, "province_name"] = rows["province"].astype(str).to_numpy()
    return result


@lru_cache(maxsize=1)
def county_parts() -> dict[str, tuple[str, str]]:
    """County adcode -> (province name, county name)."""
    frame = counties()
    return {
        str(code): (str(province), str(name))
        for code, name, province in frame[["adcode", "name", "province"]].itertuples(index=False)
    }


def county_names() -> dict[str, str]:
    """County adcode -> "province city county" label, for codes stored without names."""
    frame = counties()
    labels = {}
    for code, name, city, province in frame[["adcode", "name", "city", "province"]].itertuples(index=False):
        labels[str(code)] = "".join(dict.fromkeys(p for p in (province, city, name) if p))
    return labels
