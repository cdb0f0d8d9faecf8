"""Online listings (the national plan's spot checks of platform sellers' authorization information).

A listings file (a platform's export, or what inspectors collected) gives per listing: platform, item id or URL,
shop, the seller's unified social credit code (from the licence the shop must display), title, the GI or mark
the listing claims, where it ships from (an address, or coordinates with their CRS: any CRS the project reads,
e.g. GCJ-02 from a map app), price and volume sold. On import each title is searched for GI names and their
variants (:mod:`gi.market.names`), the seller is matched to the directories by credit code, the ship-from point
is converted to WGS84 (:mod:`geo_data.crs`), and the volume to the product's balance unit. Listings are upserted
by (platform, item); the checks that flag them are part of a product's season balance (:mod:`gi.market.balance`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.db.partitions import ensure_months
from gi.errors import InputError
from gi.market.capacity import market_facts
from gi.market.names import NamePattern, find_gi_names
from gi.market.rows import (
    COMMON_ALIASES,
    Cells,
    Change,
    ImportReport,
    ProductLookup,
    apply_changes,
    duplicate_check,
    read_rows,
    reject_if,
)
from gi.market.units import parse_unit, to_balance
from gi.models import GIProduct, Listing, Producer

LISTING_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "platform": ("platform", "平台", "电商平台"),
    "listing_key": ("listing_key", "item_id", "url", "商品编号", "商品链接", "链接"),
    "shop": ("shop", "store", "店铺", "店铺名称", "网店名称"),
    "credit_code": (
        "seller_credit_code",
        "credit_code",
        "经营者统一社会信用代码",
        "统一社会信用代码",
        "信用代码",
    ),
    "title": ("title", "商品标题", "标题", "商品名称"),
    "claimed_gi": ("claimed_gi", "声称地理标志", "标注地理标志"),
    "claimed_mark": ("claimed_mark", "使用专用标志", "专用标志"),
    "ship_from": ("ship_from", "ship_from_address", "发货地", "发货地址"),
    "price": ("price", "价格", "售价"),
    "price_unit": ("price_unit", "价格单位", "计价单位"),
    "volume_sold": ("volume_sold", "sold", "销量", "月销量", "已售"),
    "unit": ("unit", "volume_unit", "销量单位", "单位"),
    "observed_on": ("observed_on", "date", "采集日期", "检查日期"),
}


def name_patterns(session: Session) -> list[NamePattern]:
    """The name patterns of every product of the register."""
    return [
        NamePattern.of(p.code, p.name_zh, (f.names if (f := market_facts(p.code)) else None))
        for p in session.scalars(select(GIProduct).order_by(GIProduct.code))
    ]


def import_listings(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import online listings; all or nothing; GI names detected in titles and sellers matched by credit code."""
    table = read_rows(
        path, LISTING_ALIASES, ("platform", "listing_key", "shop", "title", "observed_on"), sheet, "listing"
    )
    products = ProductLookup(session)
    patterns = name_patterns(session)
    by_code = {p.code: p for p in session.scalars(select(GIProduct))}
    problems: list[Any] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        platform = cells.text("platform", required=True, max_length=60)
        key = cells.text("listing_key", required=True, max_length=300)
        shop = cells.text("shop", required=True, max_length=200)
        title = cells.text("title", required=True) or ""
        code = cells.credit_code(required=False)
        observed_on = cells.day("observed_on", required=True)
        season = cells.season(fallback=observed_on)
        matches = find_gi_names(title, patterns)
        declared = products(cells) if cells.present("product") else None
        product = declared or (by_code[matches[0].product_code] if matches else None)
        match = next((m for m in matches if product is not None and m.product_code == product.code), None)
        location = cells.location()
        volume = cells.number("volume_sold")
        unit = (
            cells.typed("unit", parse_unit)
            if cells.present("unit")
            else ("piece" if volume is not None else None)
        )
        size = cells.number("unit_size", positive=True)
        balance: Decimal | None = None
        if product is not None and volume is not None and unit is not None:
            facts = market_facts(product.code)
            try:
                balance = to_balance(volume, unit, size, facts.balance_unit if facts else "kg")
            except InputError as exc:
                cells.problem(exc.field or "unit", f"{exc.problem} (volume_sold {volume} {unit})")
        values = {
            "shop": shop,
            "seller_credit_code": code.code if code else None,
            "title": title,
            "product_id": product.id if product else None,
            "name_match": match.matched if match else None,
            "claimed_gi": cells.flag("claimed_gi", default=match is not None),
            "claimed_mark": cells.flag("claimed_mark"),
            "ship_from_address": cells.text("ship_from"),
            "ship_from": from_shape(Point(round(location.lon, 7), round(location.lat, 7)), srid=4326)
            if location
            else None,
            "ship_from_submitted": location.submitted() if location else None,
            "price": cells.number("price"),
            "price_unit": cells.text("price_unit", max_length=40),
            "volume_sold": volume,
            "volume_unit": unit,
            "unit_size": size,
            "balance_quantity": balance,
            "observed_on": observed_on,
            "season": season,
            "synthetic": cells.flag("synthetic"),
        }
        if not cells.ok:
            continue
        if duplicate_check(seen, (platform, key), cells, "platform and item"):
            parsed.append({"platform": platform, "listing_key": key, **values})
    reject_if(table.source, problems)
    # Old observations get their own months (created in this transaction) rather than the DEFAULT partition.
    created = ensure_months(session.connection(), "listing", {r["observed_on"] for r in parsed})

    sellers = _sellers(session, {(r["product_id"], r["seller_credit_code"]) for r in parsed})
    stored = {
        (x.platform, x.listing_key): x
        for x in session.scalars(select(Listing).where(Listing.platform.in_({r["platform"] for r in parsed})))
    }
    report = ImportReport(table.source, "listing", rows=len(parsed))
    using = 0
    for r in parsed:
        seller = sellers.get((r["product_id"], r["seller_credit_code"]))
        r["seller_id"] = seller.id if seller else None
        using += r["name_match"] is not None or r["claimed_gi"] or r["claimed_mark"]
        k = f"{r['platform']} {r['listing_key']}"
        found = stored.get((r["platform"], r["listing_key"]))
        if found is None:
            session.add(Listing(source=table.source, **r))
            report.changes.append(Change(k, True))
            continue
        changed = apply_changes(found, r, {"ship_from": _same_geometry})
        if changed:
            found.source = table.source
            report.changes.append(Change(k, False, _shown_changes(session, changed)))
        else:
            report.unchanged += 1
    session.flush()
    report.details["using_gi_name"] = using
    if created:
        report.details["partitions_created"] = created
    report.details["seasons"] = sorted({(r["product_id"], r["season"]) for r in parsed if r["product_id"]})
    return report


def _shown_changes(session: Session, changed: dict[str, tuple[Any, Any]]) -> dict[str, tuple[str, str]]:
    """Changed fields as a user reads them: the seller and the product by name, not by their database ids."""
    shown: dict[str, tuple[str, str]] = {}
    for name, (old, new) in changed.items():
        if name == "seller_id":
            shown["seller"] = (_seller_name(session, old), _seller_name(session, new))
        elif name == "product_id":
            shown["product"] = (_product_name(session, old), _product_name(session, new))
        else:
            shown[name] = (str(old), str(new))
    return shown


def _seller_name(session: Session, producer_id: int | None) -> str:
    seller = session.get(Producer, producer_id) if producer_id is not None else None
    if seller is None:
        return "none"
    return f"{seller.name} {seller.credit_code}" if seller.credit_code else seller.name


def _product_name(session: Session, product_id: int | None) -> str:
    product = session.get(GIProduct, product_id) if product_id is not None else None
    return product.name_zh if product is not None else "none"


def _same_geometry(old: Any, new: Any) -> bool:
    from geoalchemy2.shape import to_shape

    if old is None or new is None:
        return old is None and new is None
    return bool(to_shape(old).equals_exact(to_shape(new), 1e-9))


def _sellers(session: Session, keys: set[tuple[int | None, str | None]]) -> dict[tuple[int, str], Producer]:
    codes = {c for _, c in keys if c}
    if not codes:
        return {}
    rows = session.scalars(select(Producer).where(Producer.credit_code.in_(sorted(codes))))
    return {(p.product_id, str(p.credit_code)): p for p in rows}


def season_of(day: date) -> int:
    """The harvest year a listing seen on ``day`` is counted in (its calendar year)."""
    return day.year
