"""Production capacity: of a holder (its planted area, ponds or herd inside the protected area for a season,
times a yield figure) and of a product where only totals exist (the register's published output figures).

Yield and output figures come from the register's ``market`` block (``geo_data/register/products.json``, cited
in its SOURCES.md); a capacity file may give a holder's own assessed yield instead (West Lake's surveyed area ×
assessed yield), with its source. Every capacity says where its figures came from and whether they are
estimates, so a balance run can state its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data.register import CapacityFigure, MarketFacts, load_register
from gi.market.records import RecordSpec, import_records
from gi.market.rows import COMMON_ALIASES, Cells, ImportReport
from gi.models import GIProduct, HolderCapacity

MU_PER: dict[str, Decimal] = {"mu": Decimal(1), "ha": Decimal(15), "head": Decimal(1)}
_BASIS_WORDS = {
    "planted_area": "planted_area",
    "种植面积": "planted_area",
    "茶园面积": "planted_area",
    "面积": "planted_area",
    "lake_pen": "lake_pen",
    "围网": "lake_pen",
    "围网面积": "lake_pen",
    "pond": "pond",
    "池塘": "pond",
    "池塘面积": "pond",
    "herd": "herd",
    "存栏": "herd",
}
_UNIT_WORDS = {
    "mu": "mu",
    "亩": "mu",
    "ha": "ha",
    "公顷": "ha",
    "hectare": "ha",
    "head": "head",
    "头": "head",
    "只": "head",
}

CAPACITY_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "basis": ("basis", "基础", "产能基础", "类型"),
    "area": ("area", "basis_quantity", "面积", "数量", "规模"),
    "area_unit": ("area_unit", "basis_unit", "面积单位"),
    "yield_per_unit": ("yield_per_unit", "yield", "单产", "核定单产"),
    "yield_source": ("yield_source", "单产来源", "核定依据"),
}


@lru_cache(maxsize=1)
def _register_facts() -> dict[str, MarketFacts]:
    return {p.code: p.market for p in load_register().products if p.market is not None}


def market_facts(product_code: str) -> MarketFacts | None:
    """The register's market block of a product (balance unit, capacity figures, name variants), if any."""
    return _register_facts().get(product_code)


def figure_dict(figure: CapacityFigure) -> dict[str, Any]:
    """A register figure as a run's inputs state it (value, range, year, estimate, source)."""
    return figure.model_dump(mode="json", exclude_defaults=True)


def per_mu_figure(facts: MarketFacts | None, kind: str) -> CapacityFigure | None:
    """The register's per-亩 figure of ``kind`` (yield or sale_cap) in the balance unit, if any."""
    if facts is None:
        return None
    unit = f"{facts.balance_unit}/mu"
    found = [f for f in facts.figures if f.kind == kind and f.unit == unit]
    return max(found, key=lambda f: f.year or 0) if found else None


@dataclass(frozen=True)
class Capacity:
    """A capacity in the balance unit and how it was obtained."""

    value: Decimal
    unit: str
    basis: dict[str, Any]

    def as_input(self) -> dict[str, Any]:
        """The capacity as a run's inputs state it."""
        return {"value": str(self.value), "unit": self.unit, **self.basis}


def product_capacity(product_code: str, season: int) -> Capacity | None:
    """The product's capacity for a season: the register's output figure of the latest year up to the season
    (else the earliest later one), in the balance unit; None when the register has none."""
    facts = market_facts(product_code)
    if facts is None:
        return None
    outputs = [f for f in facts.figures if f.kind == "output" and f.unit == facts.balance_unit]
    if not outputs:
        return None
    before = [f for f in outputs if (f.year or 0) <= season]
    chosen = max(before, key=lambda f: f.year or 0) if before else min(outputs, key=lambda f: f.year or 0)
    note = "" if chosen.year == season else f"figure of {chosen.year} used for season {season}"
    return Capacity(
        Decimal(str(chosen.value)),
        facts.balance_unit,
        {"source": "register", "figure": figure_dict(chosen), **({"note": note} if note else {})},
    )


def holder_capacity(row: HolderCapacity, product_code: str) -> Capacity | None:
    """A holder's capacity from its base (area, ponds, herd) × its own yield, else the register's yield (or,
    for products counted in pieces with a sales cap per 亩, the cap); None when no yield is known."""
    facts = market_facts(product_code)
    unit = facts.balance_unit if facts else "kg"
    mu = row.basis_quantity * MU_PER.get(row.basis_unit, Decimal(1))
    base = {"basis": row.basis, "quantity": str(row.basis_quantity), "basis_unit": row.basis_unit}
    if row.yield_per_unit is not None:
        per = row.yield_per_unit
        return Capacity(
            row.basis_quantity * per,
            unit,
            {**base, "yield_per_unit": str(per), "yield_source": row.yield_source or "capacity file"},
        )
    if row.basis_unit == "head":
        return None
    figure = per_mu_figure(facts, "yield") or per_mu_figure(facts, "sale_cap")
    if figure is None:
        return None
    per = Decimal(str(figure.value))
    return Capacity(
        (mu * per).quantize(Decimal("0.001")),
        unit,
        {**base, "mu": str(mu), "yield_figure": figure_dict(figure)},
    )


def _basis(text: Any) -> str:
    key = str(text).strip().lower()
    if key not in _BASIS_WORDS:
        raise ValueError(f"{text!r} is not planted_area, lake_pen, pond or herd (种植面积, 围网, 池塘, 存栏)")
    return _BASIS_WORDS[key]


def _area_unit(text: Any) -> str:
    key = str(text).strip().lower()
    if key not in _UNIT_WORDS:
        raise ValueError(f"{text!r} is not mu (亩), ha (公顷) or head (头)")
    return _UNIT_WORDS[key]


def _capacity_values(cells: Cells, product: GIProduct | None) -> dict[str, Any]:
    """The values of one capacity row (problems recorded on the row)."""
    season = cells.season()
    basis = cells.typed("basis", _basis) or "planted_area"
    unit = cells.typed("area_unit", _area_unit) or ("head" if basis == "herd" else "mu")
    area = cells.number("area", required=True)
    per = cells.number("yield_per_unit")
    source = cells.text("yield_source")
    if per is not None and not source:
        cells.problem("yield_source", "an assessed yield needs its source (survey, decision, standard)")
    if unit == "head" and per is None and cells.ok:
        cells.problem("yield_per_unit", "a herd needs its yield per head")
    return {
        "season": season,
        "basis": basis,
        "basis_quantity": area,
        "basis_unit": unit,
        "yield_per_unit": per,
        "yield_source": source,
    }


CAPACITY = RecordSpec(
    what="capacity",
    model=HolderCapacity,
    aliases=CAPACITY_ALIASES,
    required=("season", "area"),
    parse=_capacity_values,
    key=("season", "basis"),
    key_label="holder, season and basis",
    per_holder=True,
)


def import_capacity(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import holders' production bases per season (area, ponds or herd, and an assessed yield if any)."""
    return import_records(session, CAPACITY, path, sheet)


def figures_of(session: Session, product: str | None = None) -> list[tuple[GIProduct, CapacityFigure]]:
    """The register's capacity figures of one product (code or name) or of every product, in code order."""
    from gi.register.areas import find_product

    chosen = (
        [find_product(session, product)]
        if product
        else list(session.scalars(select(GIProduct).order_by(GIProduct.code)))
    )
    return [(p, f) for p in chosen if (facts := market_facts(p.code)) for f in facts.figures]
