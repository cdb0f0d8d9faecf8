"""A constructed season (areas from the county reference layer, random samples) for rendering tests and the
map benchmark, so maps and reports can be exercised without a database. Never used for real output."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon

from geo_data import admin
from gi import clock
from gi.reads.season import (
    AreaInfo,
    CoverageRow,
    ProducerFinding,
    SeasonSummary,
    coverage_from_samples,
    with_derived_columns,
)

# (code, Chinese name, pinyin, English, category, county adcodes forming the area)
PRODUCTS: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    ("xihu-longjing", "西湖龙井", "Xihu Longjing", "West Lake Longjing tea", "农产品", ("330106",)),
    ("anji-baicha", "安吉白茶", "Anji Baicha", "Anji white tea", "农产品", ("330523",)),
    ("wuchang-rice", "五常大米", "Wuchang Dami", "Wuchang rice", "农产品", ("230184",)),
    (
        "gannan-navel-orange",
        "赣南脐橙",
        "Gannan Qicheng",
        "Gannan navel orange",
        "农产品",
        (
            "360702",
            "360703",
            "360704",
            "360722",
            "360723",
            "360724",
            "360725",
            "360726",
            "360728",
            "360729",
            "360730",
            "360731",
            "360732",
            "360733",
            "360734",
            "360735",
            "360781",
            "360783",
        ),
    ),
    ("korla-pear", "库尔勒香梨", "Korla Xiangli", "Korla fragrant pear", "农产品", ("652801", "652823")),
)

TZ = ZoneInfo("Asia/Shanghai")


def synthetic_areas() -> list[AreaInfo]:
    """Protected areas made of real county outlines (the reference layer), one version each."""
    counties = admin.counties().set_index("adcode")
    areas = []
    for code, name, pinyin, english, category, adcodes in PRODUCTS:
        present = [a for a in adcodes if a in counties.index]
        geom = shapely.union_all(counties.loc[present].geometry.to_numpy())
        multi = geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
        km2 = float(
            admin.counties()
            .loc[admin.counties()["adcode"].isin(present)]
            .to_crs("+proj=aea +lat_1=25 +lat_2=47 +lon_0=105")
            .area.sum()
            / 1e6
        )
        areas.append(
            AreaInfo(
                product_code=code,
                name_zh=name,
                name_pinyin=pinyin,
                name_en=english,
                category_zh=category,
                gi_kind_zh="地理标志保护产品",
                standard="（构造数据）",
                registration_number=None,
                administering_office=None,
                version=1,
                valid_from=date(2020, 1, 1),
                valid_to=None,
                area_km2=km2,
                legal_basis="构造数据：以县级行政区界线近似",
                admin_units=tuple(counties.loc[present, "name"]),
                geometry=multi,
            )
        )
    return areas


def synthetic_summary(
    n_samples: int = 2_000,
    seed: int = 7,
    start: date = date(2025, 4, 1),
    days: int = 90,
    outside_share: float = 0.06,
) -> SeasonSummary:
    """A season of ``n_samples`` random samples around the synthetic areas, with a few non-conformities."""
    rng = np.random.default_rng(seed)
    areas = synthetic_areas()
    weights = np.array([max(a.area_km2, 1.0) ** 0.5 for a in areas])
    which = rng.choice(len(areas), size=n_samples, p=weights / weights.sum())
    lon = np.empty(n_samples)
    lat = np.empty(n_samples)
    outside = rng.random(n_samples) < outside_share
    for i, area in enumerate(areas):
        idx = np.flatnonzero(which == i)
        west, south, east, north = area.geometry.bounds
        # Inside points: rejection sampling in the area; outside points: in a ring up to ~30 km out.
        inside_idx = idx[~outside[idx]]
        pts = _points_in(area.geometry, len(inside_idx), rng)
        lon[inside_idx], lat[inside_idx] = pts[:, 0], pts[:, 1]
        out_idx = idx[outside[idx]]
        ring = area.geometry.buffer(0.3).difference(area.geometry)
        pts = _points_in(ring, len(out_idx), rng) if len(out_idx) else np.empty((0, 2))
        lon[out_idx], lat[out_idx] = pts[:, 0], pts[:, 1]
    origin = np.where(outside, "outside", "inside").astype(object)
    origin[(~outside) & (rng.random(n_samples) < 0.02)] = "uncertain"
    origin[rng.random(n_samples) < 0.01] = "unchecked"
    quality = rng.choice(
        ["pass", "fail", "inconclusive", "pending"], size=n_samples, p=[0.86, 0.05, 0.02, 0.07]
    )
    distance = np.where(
        origin == "outside",
        -rng.uniform(200, 30_000, n_samples),
        np.where(origin == "uncertain", rng.uniform(-30, 30, n_samples), rng.uniform(40, 20_000, n_samples)),
    )
    distance[origin == "unchecked"] = np.nan
    collected = [
        datetime.combine(start + timedelta(days=int(d)), time(9, 0), TZ) + timedelta(minutes=int(m))
        for d, m in zip(rng.integers(0, days, n_samples), rng.integers(0, 540, n_samples), strict=True)
    ]
    ids = [f"{rng.integers(0, 2**63):016x}" for _ in range(n_samples)]
    counties = admin.county_of(lon, lat)
    producer_no = rng.integers(0, 90, n_samples)
    frame = pd.DataFrame(
        {
            "sample_id": ids,
            "code": [i[:8].upper() for i in ids],
            "product_code": [areas[i].product_code for i in which],
            "product_name": [areas[i].name_zh for i in which],
            "lon": lon,
            "lat": lat,
            "collected_at": collected,
            "origin": origin,
            "distance_m": distance,
            "band_m": np.where(origin == "unchecked", np.nan, 30.0),
            "area_version": pd.array([1] * n_samples, dtype="Int64"),
            "flags": [("gps_accuracy_poor",) if f else () for f in rng.random(n_samples) < 0.01],
            "quality": quality,
            "quality_reason": ["可溶性固形物 12.6% 低于下限 14%" if q == "fail" else "" for q in quality],
            "producer_name": [f"示例合作社{k:03d}" if k < 60 else "" for k in producer_no],
            "producer_code": [f"93{k:016d}" if k < 60 else "" for k in producer_no],
            "task_id": pd.array([None] * n_samples, dtype="Int64"),
            "county_code": counties["county_code"],
            "county_name": counties["county_name"],
            "province_name": counties["province_name"],
        }
    )
    frame = with_derived_columns(frame).sort_values("collected_at", ignore_index=True)
    producers = [
        ProducerFinding(
            f"示例农业公司{i}",
            f"91330100MA2{i:07d}X",
            a.product_code,
            a.name_zh,
            float(p[0]),
            float(p[1]),
            float(rng.uniform(1_000, 25_000)),
            1,
            "（构造地址）",
            "",
        )
        for i, a in enumerate(areas[:3])
        for p in _points_in(a.geometry.buffer(0.25).difference(a.geometry), 1, rng)
    ]
    planned = {}
    for r in coverage_from_samples(frame):
        if r.samples < 5:  # a few stray samples outside the areas: no task was planned there
            continue
        tasks = max(1, int(r.samples / 3 * rng.uniform(0.9, 1.3)))
        planned[(r.product_code, r.county_code)] = (tasks, min(tasks, int(tasks * rng.uniform(0.7, 1.0))))
    coverage: list[CoverageRow] = coverage_from_samples(frame, planned)
    return SeasonSummary(
        title=f"{start:%Y}年春季地理标志产品监督抽检（构造数据）",
        start=start,
        end=start + timedelta(days=days - 1),
        generated_at=clock.now(),
        areas=areas,
        samples=frame,
        producers_outside=producers,
        coverage=coverage,
        planning_available=True,
        quality_available=True,
    )


def _points_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``geom`` (rejection sampling in its bounding box)."""
    if n == 0:
        return np.empty((0, 2))
    west, south, east, north = geom.bounds
    shapely.prepare(geom)
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        cand = np.column_stack([rng.uniform(west, east, 4 * n + 16), rng.uniform(south, north, 4 * n + 16)])
        keep = cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]
        found.append(keep)
        total += len(keep)
    return np.concatenate(found)[:n]
