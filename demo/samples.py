"""Simulated field samples of one season, for the demo and the tests: synthetic, never mistaken for real ones.

If the planning module has drawn inspection tasks, each task yields one sample (its product, its target producer,
collected by its lead inspector within its due window); otherwise samples are drawn per product from its producers'
registered locations or from its protected area. The mix exercises every path of the origin check: most samples
inside, some outside, some within metres of a boundary, some submitted in GCJ-02 or BD-09, a few with latitude and
longitude swapped, and one mock location (accuracy 0). Everything is deterministic for a given seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_data.china import china_outline
from geo_data.crs import CoordinateSystem, from_wgs84
from gi import clock
from gi.origin.index import AreaIndex, IndexedArea, area_index

SCENARIOS = ("inside", "outside", "near boundary", "GCJ-02", "BD-09", "swapped", "mock location")
_WEIGHTS = (0.58, 0.12, 0.12, 0.09, 0.05, 0.04, 0.0)
# The scenario in the sample's notes, which the Chinese inspection record prints.
SCENARIOS_ZH = {
    "inside": "区域内",
    "outside": "区域外",
    "near boundary": "边界附近",
    "GCJ-02": "GCJ-02 坐标",
    "BD-09": "BD-09 坐标",
    "swapped": "经纬度颠倒",
    "mock location": "模拟定位",
}


@dataclass(frozen=True)
class Target:
    """Whom and when a simulated sample is taken from."""

    product_id: int
    product_code: str
    producer_id: int | None
    producer_xy: tuple[float, float] | None
    task_id: int | None
    collector: str | None
    collected_at: datetime


@dataclass(frozen=True)
class SimulatedSample:
    """A simulated sample: the fields a client would submit, and the scenario it was made for."""

    scenario: str
    fields: dict[str, Any]


def _tasks(session: Session, limit: int) -> list[Target]:
    exists = session.execute(text("SELECT to_regclass('plan_task') IS NOT NULL")).scalar_one()
    if not exists:
        return []
    rows = session.execute(
        text(
            "SELECT t.id, t.product_id, p.code, t.producer_id, ST_X(r.location) AS x, ST_Y(r.location) AS y, "
            "t.due_from, t.due_to, (SELECT i.code FROM plan_task_inspector ti JOIN inspector i ON i.id = ti.inspector_id "
            "WHERE ti.task_id = t.id ORDER BY ti.position LIMIT 1) AS collector "
            "FROM plan_task t JOIN gi_product p ON p.id = t.product_id JOIN producer r ON r.id = t.producer_id "
            "ORDER BY t.id LIMIT :limit"
        ),
        {"limit": limit},
    ).all()
    return [
        Target(
            r.product_id,
            r.code,
            r.producer_id,
            (r.x, r.y) if r.x is not None else None,
            r.id,
            r.collector,
            _moment_in(r.due_from, r.due_to, r.id),
        )
        for r in rows
    ]


def _moment_in(start: date, end: date, salt: int) -> datetime:
    """A working-hours moment in the due window; a task not yet due is taken as sampled yesterday."""
    tz = clock.zone()
    now = clock.now()
    yesterday = now.date() - timedelta(days=1)
    end = min(end, yesterday)
    start = min(start, end)
    day = start + timedelta(days=salt % ((end - start).days + 1))
    return datetime.combine(day, time(9 + salt % 8, (salt * 7) % 60), tzinfo=tz)


def _targets_from_register(
    session: Session, index: AreaIndex, per_product: int, rng: np.random.Generator
) -> list[Target]:
    from gi.models import GIProduct, Inspector, Producer

    tz = clock.zone()
    now = clock.now()
    today = datetime.combine(now.date(), time(0), tzinfo=tz)  # whole minutes: the same samples all day
    inspectors = list(
        session.scalars(select(Inspector.code).where(Inspector.active.is_(True)).order_by(Inspector.code))
    )
    targets = []
    for product in session.scalars(select(GIProduct).order_by(GIProduct.code)):
        if index.area_valid_at(product.id, now) is None:
            continue
        producers = session.execute(
            select(Producer.id, Producer.location)
            .where(
                Producer.product_id == product.id, Producer.kind == "producer", Producer.location.is_not(None)
            )
            .order_by(Producer.id)
        ).all()
        for k in range(per_product):
            producer = producers[k % len(producers)] if producers else None
            xy = None
            if producer is not None:
                point = shapely.from_wkb(bytes(producer.location.data))
                xy = (point.x, point.y)
            when = (
                today
                - timedelta(days=int(rng.integers(1, 90)))
                + timedelta(hours=int(rng.integers(8, 17)), minutes=int(rng.integers(0, 60)))
            )
            targets.append(
                Target(
                    product.id,
                    product.code,
                    producer.id if producer else None,
                    xy,
                    None,
                    inspectors[int(rng.integers(len(inspectors)))] if inspectors else None,
                    when,
                )
            )
    return targets


def _offset(lon: float, lat: float, metres: float, bearing: float) -> tuple[float, float]:
    return (
        lon + metres * math.sin(bearing) / (111_320.0 * math.cos(math.radians(lat))),
        lat + metres * math.cos(bearing) / 110_574.0,
    )


def _inside_point(
    area: IndexedArea, near: tuple[float, float] | None, rng: np.random.Generator
) -> tuple[float, float]:
    """A point inside the area, more than 80 m from its boundary (near ``near`` when that is inside)."""
    minx, miny, maxx, maxy = area.geom.bounds
    for attempt in range(400):
        if near is not None and attempt < 100:
            x, y = _offset(near[0], near[1], float(rng.uniform(0, 300)), float(rng.uniform(0, 2 * math.pi)))
        else:
            x, y = float(rng.uniform(minx, maxx)), float(rng.uniform(miny, maxy))
        covered, distance = area.covers_and_distance(np.array([x]), np.array([y]))
        if covered[0] and distance[0] > 80:
            return x, y
    point = area.geom.representative_point()
    return point.x, point.y


def _boundary_point(area: IndexedArea, rng: np.random.Generator) -> tuple[float, float]:
    ring = shapely.get_coordinates(area.geom.boundary)
    x, y = ring[int(rng.integers(len(ring)))]
    return float(x), float(y)


def _outside_point(area: IndexedArea, rng: np.random.Generator) -> tuple[float, float]:
    """A point in China, 2–12 km outside the area."""
    outline = china_outline()
    for _ in range(200):
        bx, by = _boundary_point(area, rng)
        x, y = _offset(bx, by, float(rng.uniform(2000, 12000)), float(rng.uniform(0, 2 * math.pi)))
        _, distance = area.covers_and_distance(np.array([x]), np.array([y]))
        if distance[0] < -1500 and shapely.intersects_xy(outline, x, y):
            return x, y
    minx, miny, _, _ = area.geom.bounds
    return minx - 0.1, miny - 0.1


def simulate_season(
    session: Session, seed: int = 2024, per_product: int = 10, max_tasks: int = 400
) -> list[SimulatedSample]:
    """Simulated samples of a season (see the module docstring); plan tasks are used when there are any."""
    rng = np.random.default_rng(seed)
    index = area_index(session)
    targets = _tasks(session, max_tasks) or _targets_from_register(session, index, per_product, rng)
    samples: list[SimulatedSample] = []
    mock_done = False
    for k, target in enumerate(targets):
        area = index.area_valid_at(target.product_id, target.collected_at)
        if area is None:
            continue
        scenario = SCENARIOS[int(rng.choice(len(_WEIGHTS), p=np.array(_WEIGHTS) / sum(_WEIGHTS)))]
        if not mock_done and k >= len(targets) // 3:
            scenario, mock_done = "mock location", True
        elif k in (len(targets) // 2, (3 * len(targets)) // 4):
            scenario = "swapped"  # a few swapped coordinates in every season, whatever the draw
        accuracy = round(float(rng.uniform(2.5, 9.0)), 1)
        crs = CoordinateSystem.WGS84
        if scenario == "outside":
            lon, lat = _outside_point(area, rng)
        elif scenario == "near boundary":
            bx, by = _boundary_point(area, rng)
            lon, lat = _offset(bx, by, float(rng.uniform(2, 20)), float(rng.uniform(0, 2 * math.pi)))
        else:
            lon, lat = _inside_point(area, target.producer_xy, rng)
        if scenario == "GCJ-02":
            crs = CoordinateSystem.GCJ02
        elif scenario == "BD-09":
            crs = CoordinateSystem.BD09
        if scenario == "mock location":
            accuracy = 0.0
        x, y = (float(v[0]) for v in from_wgs84(np.array([lon]), np.array([lat]), crs))
        x, y = round(x, 6), round(y, 6)
        if scenario == "swapped":
            x, y = y, x
        fields: dict[str, Any] = {
            "product": target.product_code,
            "collected_at": target.collected_at,
            "x": x,
            "y": y,
            "x_text": f"{x:.6f}",
            "y_text": f"{y:.6f}",
            "crs": str(crs),
            "gps_accuracy_m": accuracy,
            "location_source": "device_gps",
            "lot_number": f"SIM-{seed}-{k + 1:04d}",
            "lot_size": int(rng.integers(50, 5000)),
            "notes": f"模拟样品（{SCENARIOS_ZH[scenario]}）",
        }
        if target.producer_id is not None:
            fields["producer"] = str(target.producer_id)
        if target.task_id is not None:
            fields["task_id"] = target.task_id
        if target.collector:
            fields["collector"] = target.collector
        samples.append(SimulatedSample(scenario, fields))
    return samples
