"""Read models of the market side that reports, maps and the demo share: the season's balance table (latest run
per product and season), the flagged online sellers, and the flagged holders and outlets with their places."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.market.balance import latest_runs
from gi.models import BalanceFlag, BalanceRun, GIProduct, Listing, Producer


@dataclass(frozen=True)
class BalanceRow:
    """One product's balance of one season, as its latest run computed it."""

    product_code: str
    product_name_zh: str
    season: int
    unit: str
    capacity: Decimal | None
    capacity_estimate: bool
    capacity_year: int | None
    issued: Decimal
    market_volume: Decimal
    flags: dict[str, int]
    run_id: int
    computed_at: datetime

    @property
    def issued_ratio(self) -> float | None:
        """Marks issued / capacity."""
        return float(self.issued / self.capacity) if self.capacity else None

    @property
    def market_ratio(self) -> float | None:
        """Market volume / capacity."""
        return float(self.market_volume / self.capacity) if self.capacity else None


@dataclass(frozen=True)
class FlaggedSeller:
    """An online seller with flagged listings in a season."""

    product_name_zh: str
    platform: str
    shop: str
    credit_code: str | None
    kinds: tuple[str, ...]
    titles: tuple[str, ...]
    ship_from: str
    synthetic: bool
    target_id: int | None


@dataclass(frozen=True)
class FlaggedPlace:
    """A holder or outlet with balance flags, and where it is (WGS84)."""

    producer_id: int
    name: str
    kind: str
    credit_code: str | None
    product_name_zh: str
    lon: float
    lat: float
    kinds: tuple[str, ...]
    synthetic: bool


def _runs(session: Session, seasons: Iterable[int], product_ids: Collection[int] = ()) -> list[BalanceRun]:
    """The latest run of each product and season (of ``product_ids`` when given)."""
    wanted = set(product_ids)
    return [
        r
        for s in sorted(set(seasons))
        for r in latest_runs(session, s)
        if not wanted or r.product_id in wanted
    ]


def season_balance(
    session: Session, seasons: Iterable[int], product_ids: Collection[int] = ()
) -> list[BalanceRow]:
    """The balance table of the seasons: one row per product and season with a run (its latest)."""
    runs = _runs(session, seasons, product_ids)
    products = {
        p.id: p
        for p in session.scalars(select(GIProduct).where(GIProduct.id.in_({r.product_id for r in runs})))
    }
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for run_id, kind in session.execute(
        select(BalanceFlag.run_id, BalanceFlag.kind).where(BalanceFlag.run_id.in_([r.id for r in runs]))
    ):
        counts[run_id][kind.value] = counts[run_id].get(kind.value, 0) + 1
    rows = []
    for r in runs:
        figure = ((r.inputs or {}).get("capacity") or {}).get("figure") or {}
        rows.append(
            BalanceRow(
                products[r.product_id].code,
                products[r.product_id].name_zh,
                r.season,
                r.unit,
                r.capacity,
                bool(figure.get("estimate", False)),
                figure.get("year"),
                r.issued,
                r.market_volume,
                dict(sorted(counts[r.id].items())),
                r.id,
                r.computed_at,
            )
        )
    return sorted(rows, key=lambda x: (x.season, x.product_code))


def flagged_sellers(
    session: Session, seasons: Iterable[int], product_ids: Collection[int] = ()
) -> list[FlaggedSeller]:
    """Online sellers whose listings were flagged in the latest runs of the seasons."""
    runs = _runs(session, seasons, product_ids)
    query = (
        select(BalanceFlag, Listing, GIProduct.name_zh)
        .join(Listing, Listing.id == BalanceFlag.listing_id)
        .join(GIProduct, GIProduct.id == BalanceFlag.product_id)
        .where(BalanceFlag.run_id.in_([r.id for r in runs]))
        .order_by(GIProduct.code, Listing.platform, Listing.shop, BalanceFlag.id)
    )
    grouped: dict[tuple[str, str, str, str | None], _Seller] = {}
    for flag, listing, name in session.execute(query):
        entry = grouped.setdefault(
            (name, listing.platform, listing.shop, listing.seller_credit_code), _Seller()
        )
        if flag.kind.value not in entry.kinds:
            entry.kinds.append(flag.kind.value)
        if listing.title not in entry.titles:
            entry.titles.append(listing.title)
        entry.ship = entry.ship or listing.ship_from_address or _where(listing)
        entry.synthetic = entry.synthetic or listing.synthetic
        entry.target = entry.target or flag.producer_id
    return [
        FlaggedSeller(
            name, platform, shop, code, tuple(e.kinds), tuple(e.titles), e.ship, e.synthetic, e.target
        )
        for (name, platform, shop, code), e in grouped.items()
    ]


@dataclass
class _Seller:
    kinds: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    ship: str = ""
    synthetic: bool = False
    target: int | None = None


def _where(listing: Listing) -> str:
    if listing.ship_from is None:
        return ""
    p = to_shape(listing.ship_from)
    return f"{p.x:.4f}, {p.y:.4f}"


def flagged_places(
    session: Session, seasons: Iterable[int], product_ids: Collection[int] = ()
) -> list[FlaggedPlace]:
    """Holders and outlets with flags in the latest runs of the seasons that have a registered location."""
    runs = _runs(session, seasons, product_ids)
    kinds: dict[int, list[str]] = defaultdict(list)
    for producer_id, kind in session.execute(
        select(BalanceFlag.producer_id, BalanceFlag.kind).where(
            BalanceFlag.run_id.in_([r.id for r in runs]), BalanceFlag.producer_id.is_not(None)
        )
    ):
        if producer_id is not None and kind.value not in kinds[producer_id]:
            kinds[producer_id].append(kind.value)
    out = []
    for p, name in session.execute(
        select(Producer, GIProduct.name_zh)
        .join(GIProduct, GIProduct.id == Producer.product_id)
        .where(Producer.id.in_(list(kinds)), Producer.location.is_not(None))
        .order_by(Producer.id)
    ):
        assert p.location is not None
        point = to_shape(p.location)
        out.append(
            FlaggedPlace(
                p.id, p.name, p.kind, p.credit_code, name, point.x, point.y, tuple(kinds[p.id]), p.synthetic
            )
        )
    return out


def flag_counts(session: Session, product_ids: Iterable[int], seasons: Iterable[int]) -> dict[int, int]:
    """Per directory entry: how many kinds of balance flag the latest runs of ``seasons`` raised on it (the
    planner's ``balance_flags`` risk factor)."""
    runs = _runs(session, seasons, list(product_ids) or [-1])
    kinds: dict[int, set[str]] = defaultdict(set)
    for producer_id, kind in session.execute(
        select(BalanceFlag.producer_id, BalanceFlag.kind).where(
            BalanceFlag.run_id.in_([r.id for r in runs]), BalanceFlag.producer_id.is_not(None)
        )
    ):
        if producer_id is not None:
            kinds[producer_id].add(kind.value)
    return {pid: len(k) for pid, k in kinds.items()}


@dataclass(frozen=True)
class MarketSummary:
    """The market side of a season's report and map: the balance table, flagged sellers and flagged places of the
    harvest years ``seasons``."""

    seasons: tuple[int, ...]
    balance: list[BalanceRow]
    sellers: list[FlaggedSeller]
    places: list[FlaggedPlace]


def market_summary(
    session: Session, seasons: Iterable[int], product_ids: Collection[int] = ()
) -> MarketSummary:
    """The latest balance runs of ``seasons`` (of ``product_ids``, default all) as the report and map show them."""
    years = tuple(sorted(set(seasons)))
    return MarketSummary(
        years,
        season_balance(session, years, product_ids),
        flagged_sellers(session, years, product_ids),
        flagged_places(session, years, product_ids),
    )
