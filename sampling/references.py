"""Reference-sample planning: where a product's origin-fingerprint reference set is thin, plan the collection of
authentic samples inside its protected area, by county and harvest year, apart from the inspections.

A set is **thin** for a harvest year when it holds fewer authentic (not synthetic) samples of that year than the
minimum (``GI_REFERENCE_MIN_PER_YEAR``; by default what the fingerprint needs for the set's variables,
``ceil(min_ratio · p)``, e.g. 10 × 6 = 60), when it holds none of that year (a new year), or when a county of
the area valid that year has none. Tasks: each county without a reference of the year gets one; the rest of
the shortfall is shared among the counties by their area inside the protected area (largest remainder, ties
by county code; equal shares when county boundaries are not installed). Each task has a suggested point inside
the county and the area, drawn from a generator seeded by SHA-256 of ``campaign|product|number``, so anyone can
re-derive it, and a due window (the product's first market window of that year, else the whole year).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data.reference_sets import ReferenceSet
from gi.errors import ConflictError, InputError
from gi.models import GIProduct, Plan, ProductionArea, ReferenceTask
from gi.settings import get_settings

REASON_ZH = {
    "new_year": "本年度尚无真实参照样品",
    "below_minimum": "本年度真实参照样品不足",
    "county_without": "该县（区）尚无本年度真实参照样品",
}


@dataclass
class ReferenceNeed:
    """How thin a product's references are for a harvest year, and why."""

    product: GIProduct
    harvest_year: int
    reference_set: str | None
    minimum: int
    authentic: int
    synthetic: int
    by_county: dict[str, int]
    counties: list[str]
    reasons: list[str] = field(default_factory=list)
    blocked: str | None = None  # why no task can be planned although the set is thin

    @property
    def thin(self) -> bool:
        """Whether reference tasks are needed."""
        return bool(self.reasons)

    @property
    def counties_without(self) -> list[str]:
        """Counties of the area with no authentic reference of the year."""
        return [c for c in self.counties if not self.by_county.get(c)]


def _area_on(session: Session, product: GIProduct, year: int) -> ProductionArea | None:
    from gi.register.areas import local_midnight

    moment = local_midnight(date(year, 7, 1))
    return session.scalar(
        select(ProductionArea)
        .where(
            ProductionArea.product_id == product.id,
            ProductionArea.valid_from <= moment,
            (ProductionArea.valid_to.is_(None)) | (ProductionArea.valid_to > moment),
        )
        .order_by(ProductionArea.version.desc())
    )


def reference_need(
    session: Session,
    product: GIProduct,
    harvest_year: int,
    sets: list[ReferenceSet],
    minimum: int | None = None,
) -> ReferenceNeed:
    """Count a product's authentic references of ``harvest_year`` overall and by county, and say if thin."""
    from gi.quality.fingerprint import DEFAULT_MIN_RATIO

    mine = [s for s in sets if s.product_code == product.code]
    ref = mine[0] if mine else None
    area = _area_on(session, product, harvest_year)
    counties = sorted({str(u["code"])[:6] for u in (area.admin_units if area else []) if u.get("code")})
    if minimum is None:
        configured = get_settings().reference_min_per_year
        p = len(ref.variables) if ref else 6
        minimum = configured if configured is not None else math.ceil(DEFAULT_MIN_RATIO * p)
    by_county: dict[str, int] = {}
    authentic = synthetic = 0
    if ref is not None:
        for i in range(ref.size):
            if ref.years[i] != harvest_year:
                continue
            if ref.is_synthetic(i):
                synthetic += 1
                continue
            authentic += 1
            county = ref.counties[i] if ref.counties else None
            if county:
                by_county[county] = by_county.get(county, 0) + 1
    need = ReferenceNeed(
        product, harvest_year, ref.name if ref else None, minimum, authentic, synthetic, by_county, counties
    )
    if authentic == 0:
        need.reasons.append("new_year")
    elif authentic < minimum:
        need.reasons.append("below_minimum")
    if need.counties_without:
        need.reasons.append("county_without")
    if need.thin and not counties:  # tasks are planned by county: none can be without counties
        need.blocked = (
            f"no area version is valid in {harvest_year}"
            if area is None
            else f"area version {area.version} names no counties (tasks are planned by county)"
        )
    return need


@lru_cache(maxsize=16)
def county_units(codes: frozenset[str]) -> dict[str, Any]:
    """County boundaries (WGS84) of ``codes``, read once per set of codes (reading the boundaries is the slow
    part of planning reference tasks); empty when county boundaries are not installed."""
    if not codes:
        return {}
    from geo_data.build_areas import default_boundaries, read_units
    from geo_data.crs import parse_crs

    root = default_boundaries()
    if root is None:
        return {}
    return dict(read_units(root, set(codes), parse_crs("GCJ02"), "adcode"))


def _county_shapes(codes: list[str], area: ProductionArea | None, units: dict[str, Any]) -> dict[str, Any]:
    """County parts inside the area (WGS84), from ``units``; empty when they lack the area's counties."""
    if area is None:
        return {}
    geom = to_shape(area.geom)
    if len(codes) == 1:
        return {codes[0]: geom}
    # Clipped to the area's box first: counties are far larger and more detailed than most areas.
    parts = {c: shapely.clip_by_rect(units[c], *geom.bounds).intersection(geom) for c in codes if c in units}
    return {c: g for c, g in parts.items() if not g.is_empty and g.area > 0}


def allocate(need: ReferenceNeed, shares: dict[str, float]) -> dict[str, int]:
    """Tasks per county: one for each county without a reference of the year, the rest of the shortfall by
    area share (largest remainder; ties by county code)."""
    counts = {c: 1 for c in need.counties_without}
    rest = max(need.minimum - need.authentic - sum(counts.values()), 0)
    if rest and need.counties:
        weights = {c: shares.get(c, 0.0) for c in need.counties}
        total = sum(weights.values())
        if total <= 0:
            weights, total = {c: 1.0 for c in need.counties}, float(len(need.counties))
        quota = {c: rest * w / total for c, w in weights.items()}
        floor = {c: int(math.floor(q)) for c, q in quota.items()}
        left = rest - sum(floor.values())
        for c in sorted(quota, key=lambda c: (-(quota[c] - floor[c]), c))[:left]:
            floor[c] += 1
        for c, n in floor.items():
            if n:
                counts[c] = counts.get(c, 0) + n
    return dict(sorted(counts.items()))


def _seeded_point(geom: Any, key: str) -> Point | None:
    """A point inside ``geom`` from a generator seeded by SHA-256 of ``key`` (rejection sampling)."""
    seed = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    for _ in range(10_000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geom, x, y):
            return Point(round(float(x), 6), round(float(y), 6))
    return None


def _due(product: GIProduct, year: int) -> tuple[date, date]:
    from sampling.seasons import windows_of

    windows = windows_of(product.seasons)
    if not windows:
        return date(year, 1, 1), date(year, 12, 31)
    w = windows[0]
    start = date(year, w.start_month, w.start_day)
    end_year = year + 1 if (w.end_month, w.end_day) < (w.start_month, w.start_day) else year
    return start, date(end_year, w.end_month, w.end_day)


def campaign_code(campaign: str | None, plan_code: str | None, product: GIProduct, harvest_year: int) -> str:
    """The campaign of reference tasks: as given, else the plan's code, else REF-<product>-<year>."""
    return campaign or plan_code or f"REF-{product.code}-{harvest_year}"


def derive_reference_tasks(
    session: Session,
    products: list[GIProduct],
    harvest_year: int,
    campaign: str | None = None,
    plan: Plan | None = None,
    minimum: int | None = None,
    directory: str | None = None,
) -> list[tuple[ReferenceNeed, list[ReferenceTask]]]:
    """The reference-collection tasks of each product (none where its references suffice), not stored.

    A pure function of public inputs: the reference sets, the area valid in the harvest year, the county
    boundaries and the campaign code (a plan's code); the same inputs give the same tasks, points included.
    """
    from gi.quality.fingerprint import load_reference_sets

    if not 2000 <= harvest_year <= 2100:
        raise InputError("year", f"{harvest_year} is not a plausible harvest year")
    sets = load_reference_sets(directory)
    needs = [reference_need(session, product, harvest_year, sets, minimum) for product in products]
    # The boundaries of every county concerned, read in one pass.
    units = county_units(frozenset(c for n in needs if n.thin and len(n.counties) > 1 for c in n.counties))
    out = []
    for product, need in zip(products, needs, strict=True):
        code = campaign_code(campaign, plan.code if plan else None, product, harvest_year)
        tasks: list[ReferenceTask] = []
        if need.thin:
            area = _area_on(session, product, harvest_year)
            shapes = _county_shapes(need.counties, area, units)
            counts = allocate(need, {c: float(g.area) for c, g in shapes.items()})
            due_from, due_to = _due(product, harvest_year)
            number = 0
            for county, n in counts.items():
                for i in range(n):
                    number += 1
                    reason = (
                        "county_without" if county in need.counties_without and i == 0 else need.reasons[0]
                    )
                    shape = shapes.get(county)
                    point = (
                        _seeded_point(shape, f"{code}|{product.code}|{number}") if shape is not None else None
                    )
                    tasks.append(
                        ReferenceTask(
                            campaign=code,
                            plan_id=plan.id if plan else None,
                            product_id=product.id,
                            harvest_year=harvest_year,
                            number=number,
                            county_code=county,
                            reason=reason,
                            point=from_shape(point, srid=4326) if point is not None else None,
                            due_from=due_from,
                            due_to=due_to,
                            status="planned",
                            reference_set=need.reference_set,
                        )
                    )
        out.append((need, tasks))
    return out


def plan_reference_tasks(
    session: Session,
    products: list[GIProduct],
    harvest_year: int,
    campaign: str | None = None,
    plan_code: str | None = None,
    minimum: int | None = None,
    directory: str | None = None,
) -> list[tuple[ReferenceNeed, list[ReferenceTask]]]:
    """Plan and store reference-collection tasks for each product whose references are thin (none where
    sufficient); a campaign plans a product's tasks once."""
    plan = None
    if plan_code is not None:
        plan = session.scalar(select(Plan).where(Plan.code == plan_code))
        if plan is None:
            raise InputError("plan", f"no plan {plan_code!r}")
    for product in products:
        code = campaign_code(campaign, plan_code, product, harvest_year)
        existing = session.scalar(
            select(ReferenceTask.id).where(
                ReferenceTask.campaign == code, ReferenceTask.product_id == product.id
            )
        )
        if existing is not None:
            raise ConflictError(
                f"campaign: {code} already has reference tasks for {product.name_zh}", field="campaign"
            )
    planned = derive_reference_tasks(session, products, harvest_year, campaign, plan, minimum, directory)
    for _, tasks in planned:
        session.add_all(tasks)
    session.flush()
    return planned


def products_named(session: Session, keys: list[str] | None) -> list[GIProduct]:
    """The products named by code or name, or every product of the register."""
    from gi.register.areas import find_product

    if keys:
        return [find_product(session, k) for k in keys]
    return list(session.scalars(select(GIProduct).order_by(GIProduct.code)))
