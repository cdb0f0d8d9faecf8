"""Mass balance of a GI product and season: capacity against marks issued, against volume seen on the market,
and the checks of online listings; every flag stored like a verdict, with the figures it compared and its inputs.

Flags (kinds of :class:`gi.models.BalanceFlagKind`), with ``tolerance`` and ``market_factor`` from the settings
(``GI_BALANCE_TOLERANCE``, ``GI_BALANCE_MARKET_FACTOR``, both 1 by default):

* ``holder_over_capacity``: marks issued to a holder for the season > its capacity × tolerance (capacity: its
  base for the season × its assessed yield, else the register's yield or per-亩 cap);
* ``market_over_capacity``: volume seen on the market (outlet inspections and listings using the name) > the
  product's capacity (register output figure) × market factor;
* ``outlet_over_supply``: an outlet's volume > the marks issued for the season to the suppliers it declared;
* ``mark_outside_validity``: marks issued on a day no authorization of the holder covers;
* ``listing_unauthorized``: a listing uses the GI name (title, variants) or claims the GI or mark, and its
  seller is neither an authorized holder on that day nor a registered outlet of an authorized holder;
* ``listing_ship_from_outside``: such a listing ships from outside the area valid that day (a point, by the
  domain's origin check; an address, by :mod:`gi.market.places`); registered outlets ship from their premises;
* ``listing_over_supply``: an authorized seller's online volume > its supply (marks issued to it, else its
  capacity; for products with a per-亩 online cap, at most that cap × its water; an outlet: its suppliers' marks).

A run stores its totals, settings, register figures (with sources and the estimate mark) and per-subject
tables in ``inputs``; each flag repeats the figures it compared. Sellers flagged online that are in no
directory become targets (``online_seller``) of the planner's online-market stratum.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.market.capacity import Capacity, holder_capacity, market_facts, per_mu_figure, product_capacity
from gi.market.places import address_side
from gi.models import (
    BalanceFlag,
    BalanceFlagKind,
    BalanceRun,
    GIProduct,
    HolderCapacity,
    Listing,
    MarkAuthorization,
    MarketVolume,
    MarkIssuance,
    OutletSupplier,
    Producer,
    ProductionArea,
)
from gi.settings import get_settings

RULE = "gi-balance/1"
ZERO = Decimal(0)


@dataclass(frozen=True)
class BalanceSettings:
    """The factors of a run (stated in its inputs)."""

    tolerance: Decimal = Decimal(1)
    market_factor: Decimal = Decimal(1)

    @classmethod
    def from_settings(cls) -> BalanceSettings:
        """The factors configured in the settings."""
        s = get_settings()
        return cls(Decimal(str(s.balance_tolerance)), Decimal(str(s.balance_market_factor)))

    def to_dict(self) -> dict[str, str]:
        """Inputs form."""
        return {"tolerance": str(self.tolerance), "market_factor": str(self.market_factor)}


@dataclass
class HolderLine:
    """One holder's row of the balance table."""

    producer_id: int
    name: str
    credit_code: str
    capacity: Decimal | None
    issued: Decimal
    online: Decimal
    flags: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """Issued / capacity."""
        return float(self.issued / self.capacity) if self.capacity else None


@dataclass
class BalanceResult:
    """A stored run with its tables: holders, outlets, flagged listings, and the targets it created."""

    run: BalanceRun
    product: GIProduct
    holders: list[HolderLine]
    outlets: list[dict[str, Any]]
    flags: list[BalanceFlag]
    new_targets: list[Producer]

    @property
    def ratio_issued(self) -> float | None:
        """Marks issued / product capacity."""
        cap = self.run.capacity
        return float(self.run.issued / cap) if cap else None

    @property
    def ratio_market(self) -> float | None:
        """Market volume / product capacity."""
        cap = self.run.capacity
        return float(self.run.market_volume / cap) if cap else None


def _windows(producer: Producer, auths: list[MarkAuthorization]) -> list[tuple[date, date | None, str]]:
    if auths:
        return [(a.valid_from, a.valid_to, a.number) for a in auths]
    if producer.authorized_from is not None:
        return [
            (producer.authorized_from, producer.authorized_to, producer.authorization_number or "directory")
        ]
    return []


def _covers(windows: list[tuple[date, date | None, str]], day: date) -> bool:
    return any(start <= day and (end is None or day <= end) for start, end, _ in windows)


def _window_text(windows: list[tuple[date, date | None, str]]) -> list[str]:
    return [f"{n}: {s.isoformat()}..{e.isoformat() if e else ''}" for s, e, n in windows]


def _q(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class _Flags:
    def __init__(self, product: GIProduct, season: int, unit: str) -> None:
        self.product, self.season, self.unit = product, season, unit
        self.items: list[BalanceFlag] = []

    def add(
        self,
        kind: BalanceFlagKind,
        inputs: dict[str, Any],
        observed: Decimal | None = None,
        allowed: Decimal | None = None,
        threshold: Decimal = ZERO,
        producer_id: int | None = None,
        listing_id: int | None = None,
    ) -> BalanceFlag:
        flag = BalanceFlag(
            kind=kind,
            product_id=self.product.id,
            season=self.season,
            producer_id=producer_id,
            listing_id=listing_id,
            observed=observed,
            allowed=allowed,
            threshold=threshold,
            unit=self.unit,
            rule=RULE,
            inputs=inputs,
        )
        self.items.append(flag)
        return flag


def run_balance(
    session: Session, product: GIProduct, season: int, settings: BalanceSettings | None = None
) -> BalanceResult:
    """Compute, store and return the mass balance of ``product`` for ``season`` (a harvest year)."""
    settings = settings or BalanceSettings.from_settings()
    facts = market_facts(product.code)
    unit = facts.balance_unit if facts else "kg"
    tol = settings.tolerance
    flags = _Flags(product, season, unit)
    directory = list(session.scalars(select(Producer).where(Producer.product_id == product.id)))
    by_id = {p.id: p for p in directory}
    by_code: dict[str | None, Producer] = {p.credit_code: p for p in directory if p.credit_code}
    auths: dict[int, list[MarkAuthorization]] = defaultdict(list)
    for a in session.scalars(select(MarkAuthorization).where(MarkAuthorization.product_id == product.id)):
        auths[a.producer_id].append(a)
    windows = {p.id: _windows(p, auths.get(p.id, [])) for p in directory if p.kind == "producer"}
    issuances = list(
        session.scalars(
            select(MarkIssuance)
            .where(MarkIssuance.product_id == product.id, MarkIssuance.season == season)
            .order_by(MarkIssuance.issued_on, MarkIssuance.id)
        )
    )
    issued: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for i in issuances:
        issued[i.producer_id] += i.balance_quantity
        w = windows.get(i.producer_id, [])
        if not _covers(w, i.issued_on):
            holder = by_id[i.producer_id]
            flags.add(
                BalanceFlagKind.MARK_OUTSIDE_VALIDITY,
                {
                    "issuance": i.reference,
                    "issued_on": i.issued_on.isoformat(),
                    "quantity": _q(i.quantity),
                    "unit": i.unit,
                    "holder": holder.credit_code,
                    "authorizations": _window_text(w) or "none on record",
                },
                observed=i.balance_quantity,
                producer_id=i.producer_id,
            )

    # Holders' capacity for the season.
    capacities: dict[int, list[Capacity | None]] = defaultdict(list)
    for c in session.scalars(
        select(HolderCapacity).where(HolderCapacity.product_id == product.id, HolderCapacity.season == season)
    ):
        capacities[c.producer_id].append(holder_capacity(c, product.code))
    cap_of: dict[int, Decimal | None] = {}
    cap_inputs: dict[int, list[dict[str, Any]]] = {}
    for pid, caps in capacities.items():
        known = [c for c in caps if c is not None]
        cap_of[pid] = sum((c.value for c in known), ZERO) if len(known) == len(caps) else None
        cap_inputs[pid] = [c.as_input() for c in known]
    for pid, total in sorted(issued.items()):
        cap = cap_of.get(pid)
        if cap is not None and total > cap * tol:
            flags.add(
                BalanceFlagKind.HOLDER_OVER_CAPACITY,
                {
                    "holder": by_id[pid].credit_code,
                    "issued": _q(total),
                    "capacity": cap_inputs[pid],
                    "tolerance": str(tol),
                },
                observed=total,
                allowed=cap,
                threshold=tol,
                producer_id=pid,
            )

    # Outlets: volume against their suppliers' marks.
    suppliers: dict[int, list[str]] = defaultdict(list)
    for outlet_id, code in session.execute(
        select(OutletSupplier.outlet_id, OutletSupplier.supplier_credit_code).where(
            OutletSupplier.outlet_id.in_([p.id for p in directory if p.kind == "market_outlet"])
        )
    ):
        suppliers[outlet_id].append(code)
    volumes: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for v in session.scalars(
        select(MarketVolume).where(MarketVolume.product_id == product.id, MarketVolume.season == season)
    ):
        volumes[v.outlet_id] += v.balance_quantity

    def supply_of(outlet_id: int) -> tuple[Decimal, dict[str, Any]]:
        codes = sorted(suppliers.get(outlet_id, []))
        known = {c: by_code[c] for c in codes if c in by_code and by_code[c].kind == "producer"}
        total = sum((issued.get(p.id, ZERO) for p in known.values()), ZERO)
        return total, {
            "suppliers": {c: _q(issued.get(p.id, ZERO)) for c, p in known.items()},
            "unknown_suppliers": [c for c in codes if c not in known],
        }

    outlet_rows: list[dict[str, Any]] = []
    for oid, volume in sorted(volumes.items()):
        supply, detail = supply_of(oid)
        outlet = by_id[oid]
        flagged = volume > supply * tol
        if flagged:
            flags.add(
                BalanceFlagKind.OUTLET_OVER_SUPPLY,
                {
                    "outlet": outlet.credit_code,
                    "volume": _q(volume),
                    "supply": _q(supply),
                    "tolerance": str(tol),
                    **detail,
                },
                observed=volume,
                allowed=supply,
                threshold=tol,
                producer_id=oid,
            )
        outlet_rows.append(
            {
                "producer_id": oid,
                "name": outlet.name,
                "credit_code": outlet.credit_code,
                "volume": volume,
                "supply": supply,
                "flagged": flagged,
            }
        )

    # Online listings.
    listings = list(
        session.scalars(
            select(Listing)
            .where(Listing.product_id == product.id, Listing.season == season)
            .order_by(Listing.id)
        )
    )
    online: dict[int, Decimal] = defaultdict(lambda: ZERO)
    flagged_listings: list[tuple[Listing, BalanceFlag]] = []
    listing_volume = ZERO
    ship_checks = _ship_from_checks(session, product, [x for x in listings if _uses_name(x)])
    for x in listings:
        if not _uses_name(x):
            continue
        listing_volume += x.balance_quantity or ZERO
        seller = by_code.get(x.seller_credit_code) if x.seller_credit_code else None
        role, detail = _seller_role(seller, x.observed_on, windows, suppliers, by_code)
        base = {
            "platform": x.platform,
            "listing": x.listing_key,
            "shop": x.shop,
            "seller_credit_code": x.seller_credit_code,
            "title": x.title,
            "name_match": x.name_match,
            "claimed_gi": x.claimed_gi,
            "claimed_mark": x.claimed_mark,
            "observed_on": x.observed_on.isoformat(),
            "seller": role,
            **detail,
        }
        if role not in ("authorized_holder", "registered_outlet"):
            flagged_listings.append(
                (x, flags.add(BalanceFlagKind.LISTING_UNAUTHORIZED, base, listing_id=x.id))
            )
        elif x.balance_quantity is not None and seller is not None:
            online[seller.id] += x.balance_quantity
        side, reason, where = ship_checks.get(x.id, ("undetermined", "no ship-from given", {}))
        if side == "outside" and role != "registered_outlet":
            flagged_listings.append(
                (
                    x,
                    flags.add(
                        BalanceFlagKind.LISTING_SHIP_FROM_OUTSIDE,
                        {**base, "ship_from": where, "reason": reason},
                        listing_id=x.id,
                    ),
                )
            )

    sale_cap = per_mu_figure(facts, "sale_cap")
    for sid, sold in sorted(online.items()):
        seller = by_id[sid]
        available: Decimal | None
        if seller.kind == "market_outlet":
            available, detail = supply_of(sid)
        else:
            available, detail = _holder_supply(sid, issued, cap_of, capacities, sale_cap)
        if available is not None and sold > available * tol:
            flags.add(
                BalanceFlagKind.LISTING_OVER_SUPPLY,
                {
                    "seller": seller.credit_code,
                    "sold_online": _q(sold),
                    "supply": _q(available),
                    "tolerance": str(tol),
                    **detail,
                },
                observed=sold,
                allowed=available,
                threshold=tol,
                producer_id=sid,
            )

    # The product as a whole.
    capacity = product_capacity(product.code, season)
    total_issued = sum(issued.values(), ZERO)
    market = sum(volumes.values(), ZERO) + listing_volume
    if capacity is not None and market > capacity.value * settings.market_factor:
        flags.add(
            BalanceFlagKind.MARKET_OVER_CAPACITY,
            {
                "market_volume": _q(market),
                "outlet_volume": _q(sum(volumes.values(), ZERO)),
                "online_volume": _q(listing_volume),
                "capacity": capacity.as_input(),
                "market_factor": str(settings.market_factor),
            },
            observed=market,
            allowed=capacity.value,
            threshold=settings.market_factor,
        )

    new_targets = _targets_for(session, product, flagged_listings, by_code)
    shops = {
        (p.platform, p.shop): p
        for p in session.scalars(
            select(Producer).where(Producer.product_id == product.id, Producer.kind == "online_seller")
        )
    }
    # Listings are linked to their seller's directory entry as soon as it exists (a new target included), so
    # a re-import of the same file finds them linked and changes nothing.
    for x in listings:
        if x.seller_id is None and (seller := _seller_row(x, by_code, shops)) is not None:
            x.seller_id = seller.id
    # Flags are append-only (the audit log refuses UPDATE): each names its target before it is stored.
    for x, f in flagged_listings:
        if f.producer_id is None:
            seller = _seller_row(x, by_code, shops)
            f.producer_id = seller.id if seller else None
    holders = [
        HolderLine(
            p.id,
            p.name,
            p.credit_code or "",
            cap_of.get(p.id),
            issued.get(p.id, ZERO),
            online.get(p.id, ZERO),
        )
        for p in sorted(directory, key=lambda p: p.name)
        if p.kind == "producer" and (p.id in issued or p.id in cap_of or p.id in online)
    ]
    for f in flags.items:
        for h in holders:
            if f.producer_id == h.producer_id:
                h.flags.append(f.kind.value)
    run = BalanceRun(
        product_id=product.id,
        season=season,
        unit=unit,
        capacity=capacity.value if capacity else None,
        issued=total_issued,
        market_volume=market,
        rule=RULE,
        inputs={
            "settings": settings.to_dict(),
            "capacity": capacity.as_input() if capacity else None,
            "figures": [
                f.model_dump(mode="json", exclude_defaults=True) for f in (facts.figures if facts else [])
            ],
            "holders": [
                {
                    "credit_code": h.credit_code,
                    "capacity": _q(h.capacity),
                    "issued": _q(h.issued),
                    "online": _q(h.online),
                    "capacity_basis": cap_inputs.get(h.producer_id, []),
                }
                for h in holders
            ],
            "outlets": [
                {"credit_code": o["credit_code"], "volume": _q(o["volume"]), "supply": _q(o["supply"])}
                for o in outlet_rows
            ],
            "issuance_records": len(issuances),
            "listings": len(listings),
            "listings_using_name": sum(1 for x in listings if _uses_name(x)),
        },
    )
    session.add(run)
    session.flush()
    for f in flags.items:
        f.run_id = run.id
        session.add(f)
    session.flush()
    return BalanceResult(run, product, holders, outlet_rows, flags.items, new_targets)


def _uses_name(x: Listing) -> bool:
    return bool(x.name_match or x.claimed_gi or x.claimed_mark)


def _seller_role(
    seller: Producer | None,
    day: date,
    windows: dict[int, list[tuple[date, date | None, str]]],
    suppliers: dict[int, list[str]],
    by_code: dict[str | None, Producer],
) -> tuple[str, dict[str, Any]]:
    """What the seller is for the product on ``day``: authorized_holder, registered_outlet (of an authorized
    holder), holder_not_valid, outlet_without_authorized_supplier, or unknown."""
    if seller is None:
        return "unknown", {"directory": "not in the directories of this product"}
    if seller.kind == "producer":
        w = windows.get(seller.id, [])
        if _covers(w, day):
            return "authorized_holder", {}
        return "holder_not_valid", {"authorizations": _window_text(w) or "none on record"}
    if seller.kind == "market_outlet":
        valid = [
            c
            for c in suppliers.get(seller.id, [])
            if c in by_code and _covers(windows.get(by_code[c].id, []), day)
        ]
        if valid:
            return "registered_outlet", {"authorized_suppliers": sorted(valid)}
        return "outlet_without_authorized_supplier", {"suppliers": sorted(suppliers.get(seller.id, []))}
    return "unknown", {"directory": f"listed only as {seller.kind}"}


def _holder_supply(
    sid: int,
    issued: dict[int, Decimal],
    cap_of: dict[int, Decimal | None],
    capacities: dict[int, list[Capacity | None]],
    sale_cap: Any,
) -> tuple[Decimal | None, dict[str, Any]]:
    detail: dict[str, Any] = {}
    supply: Decimal | None = None
    if sid in issued:
        supply = issued[sid]
        detail["issued"] = _q(supply)
    elif cap_of.get(sid) is not None:
        supply = cap_of[sid]
        detail["capacity"] = _q(supply)
    if sale_cap is not None:
        mu = sum(
            (Decimal(c.basis["mu"]) for c in capacities.get(sid, []) if c is not None and "mu" in c.basis),
            ZERO,
        )
        if mu:
            cap_total = mu * Decimal(str(sale_cap.value))
            detail["online_cap"] = {
                "mu": _q(mu),
                "per_mu": sale_cap.value,
                "total": _q(cap_total),
                "source": sale_cap.source,
            }
            supply = cap_total if supply is None else min(supply, cap_total)
    return supply, detail


def _ship_from_checks(
    session: Session, product: GIProduct, listings: list[Listing]
) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """Per listing: ('inside' | 'outside' | 'uncertain' | 'undetermined', reason, the ship-from as stated)."""
    from gi.origin.rule import LocationClaim, check_origins
    from gi.register.areas import local_midnight

    out: dict[int, tuple[str, str, dict[str, Any]]] = {}
    points = [x for x in listings if x.ship_from is not None]
    if points:
        claims = []
        for x in points:
            submitted = x.ship_from_submitted or {}
            p = to_shape(x.ship_from)  # type: ignore[arg-type]
            claims.append(
                LocationClaim(
                    product_id=product.id,
                    x=float(submitted.get("x", p.x)),
                    y=float(submitted.get("y", p.y)),
                    collected_at=local_midnight(x.observed_on),
                    crs=str(submitted.get("crs", "WGS84")),
                    gps_accuracy_m=None,
                    location_source=None,
                )
            )
        for x, v in zip(points, check_origins(session, claims), strict=True):
            where = {**(x.ship_from_submitted or {}), "lon": round(v.lon, 6), "lat": round(v.lat, 6)}
            out[x.id] = (
                v.verdict.value,
                f"origin check: {v.verdict.value}, area version {v.area_version}, distance {round(v.distance_m or 0)} m",
                where,
            )
    addresses = [x for x in listings if x.ship_from is None and x.ship_from_address]
    if addresses:
        areas = list(session.scalars(select(ProductionArea).where(ProductionArea.product_id == product.id)))
        for x in addresses:
            moment = datetime.combine(x.observed_on, datetime.min.time(), ZoneInfo(get_settings().timezone))
            valid = [
                a for a in areas if a.valid_from <= moment and (a.valid_to is None or a.valid_to > moment)
            ]
            units = valid[0].admin_units if valid else []
            side, reason = address_side(x.ship_from_address or "", units)
            out[x.id] = (side, reason, {"address": x.ship_from_address})
    return out


def _seller_row(
    x: Listing, by_code: dict[str | None, Producer], shops: dict[tuple[str | None, str | None], Producer]
) -> Producer | None:
    """The directory entry of a listing's seller: by credit code, else its online shop."""
    if x.seller_credit_code:
        return by_code.get(x.seller_credit_code)
    return shops.get((x.platform, x.shop))


def _targets_for(
    session: Session,
    product: GIProduct,
    flagged: list[tuple[Listing, BalanceFlag]],
    by_code: dict[str | None, Producer],
) -> list[Producer]:
    """Directory entries (kind online_seller) for flagged sellers that are in no directory of the product."""
    from gi.market.credit_code import county_from_uscc

    created: list[Producer] = []
    existing_shops = {
        (p.platform, p.shop): p
        for p in session.scalars(
            select(Producer).where(Producer.product_id == product.id, Producer.kind == "online_seller")
        )
    }
    for x, _ in flagged:
        if x.seller_credit_code and x.seller_credit_code in by_code:
            continue
        # A shop is one target per product, whoever's licence it shows now: a shop already in the directory
        # under another credit code (a transferred shop, a corrected licence) is not entered twice.
        if (x.platform, x.shop) in existing_shops:
            continue
        if any(
            (x.seller_credit_code and t.credit_code == x.seller_credit_code)
            or (t.platform, t.shop) == (x.platform, x.shop)
            for t in created
        ):
            continue
        target = Producer(
            product_id=product.id,
            name=x.shop,
            credit_code=x.seller_credit_code,
            kind="online_seller",
            county_code=county_from_uscc(x.seller_credit_code),
            platform=x.platform,
            shop=x.shop,
            synthetic=x.synthetic,
            source=f"listing {x.platform} {x.listing_key}",
        )
        session.add(target)
        created.append(target)
        if x.seller_credit_code:
            by_code[x.seller_credit_code] = target
        existing_shops[(x.platform, x.shop)] = target
    session.flush()
    return created


def latest_runs(session: Session, season: int | None = None) -> list[BalanceRun]:
    """The latest run of each product (and season, when given), newest first."""
    query = select(BalanceRun).order_by(BalanceRun.product_id, BalanceRun.season, BalanceRun.id.desc())
    if season is not None:
        query = query.where(BalanceRun.season == season)
    seen: set[tuple[int, int]] = set()
    out = []
    for run in session.scalars(query):
        if (run.product_id, run.season) not in seen:
            seen.add((run.product_id, run.season))
            out.append(run)
    return out


def products_with_data(session: Session, season: int) -> list[GIProduct]:
    """Products with marks issued, capacities, outlet volumes or listings in ``season``."""
    from sqlalchemy import union

    ids: Any = union(
        select(MarkIssuance.product_id).where(MarkIssuance.season == season),
        select(HolderCapacity.product_id).where(HolderCapacity.season == season),
        select(MarketVolume.product_id).where(MarketVolume.season == season),
        select(Listing.product_id).where(Listing.season == season, Listing.product_id.is_not(None)),
    )
    return list(session.scalars(select(GIProduct).where(GIProduct.id.in_(ids)).order_by(GIProduct.code)))


def run_season(
    session: Session,
    season: int,
    products: list[GIProduct] | None = None,
    settings: BalanceSettings | None = None,
) -> list[BalanceResult]:
    """Run the balance of every product with data in ``season`` (or of ``products``)."""
    chosen = products if products is not None else products_with_data(session, season)
    return [run_balance(session, p, season, settings) for p in chosen]
