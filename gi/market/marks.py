"""Authorized users of the GI special mark (专用标志使用核准) and the marks issued to them per season.

Authorizations come as a file per product (authorization number, holder's credit code and name, validity,
announcement); a holder not yet in the producers' directory is added to it (without a location) and reported.
The holder's current authorization is copied onto its directory entry, which the planner's frame reads.
Issuance records (labels, codes or tags issued to a holder for a harvest season, with quantity and unit) are
converted to the product's balance unit on import. Both imports are all or nothing and upsert: authorizations
by (product, number), issuance by (product, record number).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gi import clock
from gi.errors import InputError
from gi.market.capacity import market_facts
from gi.market.records import RecordSpec, holders_of, import_records
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
from gi.models import GIProduct, MarkAuthorization, MarkIssuance, Producer

AUTHORIZATION_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "number": ("number", "authorization_number", "核准编号", "专用标志核准编号", "核准号", "授权编号"),
    "valid_from": ("valid_from", "authorized_from", "核准日期", "有效期起", "生效日期"),
    "valid_to": ("valid_to", "authorized_to", "有效期至", "有效期止", "截止日期"),
    "announcement": ("announcement", "公告", "核准公告", "公告号"),
}
ISSUANCE_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "reference": ("reference", "record_number", "发放单号", "记录编号", "发放编号"),
    "issued_on": ("issued_on", "issue_date", "date", "发放日期", "领用日期"),
    "code_from": ("code_from", "起始码", "起始编码"),
    "code_to": ("code_to", "终止码", "终止编码"),
}


def import_authorizations(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import authorizations to use the special mark; all or nothing; upserted by product and number."""
    table = read_rows(
        path,
        AUTHORIZATION_ALIASES,
        ("product", "number", "credit_code", "valid_from"),
        sheet,
        "authorization",
    )
    products = ProductLookup(session)
    problems: list[Any] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        product = products(cells)
        code = cells.credit_code()
        start, end = cells.day("valid_from", required=True), cells.day("valid_to")
        values = {
            "number": cells.text("number", required=True, max_length=100),
            "valid_from": start,
            "valid_to": end,
            "announcement": cells.text("announcement"),
        }
        name = cells.text("name", max_length=200)
        if start and end and end < start:
            cells.problem("valid_to", f"{end} is before valid_from {start}")
        if not cells.ok or product is None or code is None:
            continue
        if duplicate_check(seen, (product.id, values["number"]), cells, "product and authorization number"):
            parsed.append({"row": number, "product": product, "code": code, "name": name, **values})
    reject_if(table.source, problems)

    directory = holders_of(session, {r["product"].id for r in parsed})
    for r in parsed:
        holder = directory.get((r["product"].id, r["code"].code))
        if holder is not None and holder.kind != "producer":
            Cells(r["row"], {}, problems).problem(
                "credit_code",
                f"{r['code'].code} is a {holder.kind} of {r['product'].name_zh}, not a producer",
            )
        elif holder is None and not r["name"]:
            Cells(r["row"], {}, problems).problem(
                "name",
                f"{r['code'].code} is not in the producers' directory of {r['product'].name_zh}: give its name",
            )
    reject_if(table.source, problems)

    report = ImportReport(table.source, "authorization", rows=len(parsed))
    stored = {
        (a.product_id, a.number): a
        for a in session.scalars(
            select(MarkAuthorization).where(
                MarkAuthorization.product_id.in_({r["product"].id for r in parsed})
            )
        )
    }
    added: list[str] = []
    touched: set[int] = set()
    now = clock.now()
    for r in parsed:
        item: GIProduct = r["product"]
        code = r["code"]
        holder = directory.get((item.id, code.code))
        if holder is None:
            holder = Producer(
                product_id=item.id,
                credit_code=code.code,
                name=r["name"],
                kind="producer",
                county_code=code.county,
                source=table.source,
            )
            session.add(holder)
            session.flush()
            directory[(item.id, code.code)] = holder
            added.append(code.code)
        touched.add(holder.id)
        key = f"{item.code} {r['number']}"
        found = stored.get((item.id, r["number"]))
        if found is None:
            session.add(
                MarkAuthorization(
                    product_id=item.id,
                    producer_id=holder.id,
                    number=r["number"],
                    valid_from=r["valid_from"],
                    valid_to=r["valid_to"],
                    announcement=r["announcement"],
                    source=table.source,
                )
            )
            report.changes.append(Change(key, True))
            continue
        changed = apply_changes(
            found,
            {
                "producer_id": holder.id,
                "valid_from": r["valid_from"],
                "valid_to": r["valid_to"],
                "announcement": r["announcement"],
            },
        )
        if changed:
            found.updated_at = now
            found.source = table.source
            report.changes.append(Change(key, False, changed))
        else:
            report.unchanged += 1
    session.flush()
    if added:
        report.notes.append(
            f"{len(added)} holder(s) added to the producers' directory without a location: {', '.join(added)}"
        )
    copied = sync_current_authorizations(session, touched, now.date())
    if copied:
        report.notes.append(f"{copied} directory entr(ies) now carry their current authorization")
    return report


def sync_current_authorizations(session: Session, producer_ids: set[int], today: date) -> int:
    """Copy each producer's current (else latest) authorization onto its directory entry; return how many changed."""
    if not producer_ids:
        return 0
    by_holder: dict[int, list[MarkAuthorization]] = {}
    for a in session.scalars(
        select(MarkAuthorization).where(MarkAuthorization.producer_id.in_(sorted(producer_ids)))
    ):
        by_holder.setdefault(a.producer_id, []).append(a)
    changed = 0
    for producer_id, auths in by_holder.items():
        current = [a for a in auths if a.valid_from <= today and (a.valid_to is None or a.valid_to >= today)]
        chosen = max(current or auths, key=lambda a: a.valid_from)
        producer = session.get(Producer, producer_id)
        assert producer is not None
        target = (chosen.number, chosen.valid_from, chosen.valid_to)
        if (producer.authorization_number, producer.authorized_from, producer.authorized_to) != target:
            producer.authorization_number, producer.authorized_from, producer.authorized_to = target
            changed += 1
    session.flush()
    return changed


def balance_unit_of(product: GIProduct) -> str:
    """The product's balance unit (kg unless the register counts it in pieces)."""
    facts = market_facts(product.code)
    return facts.balance_unit if facts else "kg"


def convert(
    cells: Cells, product: GIProduct, quantity: Decimal | None, column: str = "unit"
) -> tuple[str, Decimal | None, Decimal | None]:
    """(unit, unit_size, quantity in the balance unit) of a row, with problems recorded on the row."""
    unit = cells.typed(column, parse_unit, required=True)
    size = cells.number("unit_size", positive=True)
    if unit is None or quantity is None:
        return unit or "", size, None
    try:
        return unit, size, to_balance(quantity, unit, size, balance_unit_of(product))
    except InputError as exc:
        cells.problem(exc.field or column, exc.problem)
        return unit, size, None


def dated_quantity(cells: Cells, product: GIProduct | None, dated: str, positive: bool) -> dict[str, Any]:
    """A row's record number, date (column ``dated``) and season, and its quantity with the unit and the
    quantity in the product's balance unit (problems recorded on the row)."""
    reference = cells.text("reference", required=True, max_length=100)
    day = cells.day(dated, required=True)
    quantity = cells.number("quantity", required=True, positive=positive)
    unit, size, balance = convert(cells, product, quantity) if product else ("", None, None)
    return {
        "reference": reference,
        "season": cells.season(fallback=day),
        dated: day,
        "quantity": quantity,
        "unit": unit,
        "unit_size": size,
        "balance_quantity": balance,
    }


def _issuance_values(cells: Cells, product: GIProduct | None) -> dict[str, Any]:
    """The values of one issuance row: labels or codes issued, with the range of codes if given."""
    return {
        **dated_quantity(cells, product, "issued_on", positive=True),
        "code_from": cells.text("code_from", max_length=60),
        "code_to": cells.text("code_to", max_length=60),
    }


ISSUANCE = RecordSpec(
    what="issuance",
    model=MarkIssuance,
    aliases=ISSUANCE_ALIASES,
    required=("reference", "issued_on", "quantity", "unit"),
    parse=_issuance_values,
    key=("reference",),
    key_label="product and record number",
)


def import_issuance(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import mark issuance records (labels, codes, tags per holder and season); all or nothing."""
    return import_records(session, ISSUANCE, path, sheet)
