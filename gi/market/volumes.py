"""Volume seen on the market: what outlet inspections recorded an outlet sold or held of a GI product in a
season (purchase invoices, sales ledgers, stock), in the product's balance unit. Upserted by (product, record
number); all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.market.marks import convert, holders_of
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
from gi.models import MarketVolume

VOLUME_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "reference": ("reference", "record_number", "检查记录编号", "记录编号", "文书编号"),
    "observed_on": ("observed_on", "date", "检查日期", "记录日期"),
    "quantity": ("quantity", "volume", "销量", "经营数量", "数量"),
}


def import_volumes(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import outlets' volumes from outlet inspections; the outlet must be in the outlets' directory."""
    table = read_rows(
        path,
        VOLUME_ALIASES,
        ("product", "credit_code", "reference", "observed_on", "quantity", "unit"),
        sheet,
        "volume",
    )
    products = ProductLookup(session)
    problems: list[Any] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        product = products(cells)
        code = cells.credit_code()
        reference = cells.text("reference", required=True, max_length=100)
        observed_on = cells.day("observed_on", required=True)
        season = cells.season(fallback=observed_on)
        quantity = cells.number("quantity", required=True)
        unit, size, balance = convert(cells, product, quantity) if product else ("", None, None)
        if not cells.ok or product is None or code is None:
            continue
        if duplicate_check(seen, (product.id, reference), cells, "product and record number"):
            parsed.append(
                {
                    "row": number,
                    "product": product,
                    "code": code.code,
                    "reference": reference,
                    "season": season,
                    "observed_on": observed_on,
                    "quantity": quantity,
                    "unit": unit,
                    "unit_size": size,
                    "balance_quantity": balance,
                }
            )
    reject_if(table.source, problems)
    directory = holders_of(session, {r["product"].id for r in parsed})
    for r in parsed:
        outlet = directory.get((r["product"].id, r["code"]))
        if outlet is None or outlet.kind != "market_outlet":
            what = "not in the outlets' directory" if outlet is None else f"a {outlet.kind}, not an outlet"
            Cells(r["row"], {}, problems).problem(
                "credit_code", f"{r['code']} is {what} of {r['product'].name_zh}"
            )
    reject_if(table.source, problems)
    stored = {
        (v.product_id, v.reference): v
        for v in session.scalars(
            select(MarketVolume).where(MarketVolume.product_id.in_({r["product"].id for r in parsed}))
        )
    }
    report = ImportReport(table.source, "volume", rows=len(parsed))
    for r in parsed:
        product, code = r.pop("product"), r.pop("code")
        r.pop("row")
        outlet = directory[(product.id, code)]
        key = f"{product.code} {r['reference']}"
        found = stored.get((product.id, r["reference"]))
        if found is None:
            session.add(MarketVolume(product_id=product.id, outlet_id=outlet.id, source=table.source, **r))
            report.changes.append(Change(key, True))
            continue
        changed = apply_changes(found, {"outlet_id": outlet.id, **r})
        if changed:
            found.source = table.source
            report.changes.append(Change(key, False, changed))
        else:
            report.unchanged += 1
    session.flush()
    return report
