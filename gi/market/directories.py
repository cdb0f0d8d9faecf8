"""The two directories of 双随机 (检查对象名录库, 执法检查人员名录库) imported from office files: producers of GI
products, market outlets that sell them (with their declared suppliers), and law-enforcement inspectors.

Each import reads a CSV or .xlsx file with English or Chinese headers, checks every row (credit codes by their
GB 32100-2015 check character, products, dates, counties, coordinates and their CRS) and stores nothing unless
every row is good. Rows are upserted: producers and outlets by (product, unified social credit code),
inspectors by staff number; the report lists what was created and, field by field, what changed. A blank cell
keeps what is stored. The county comes from the credit code (characters 3-8) where the file gives none.
Producers' locations are origin-checked on import with the domain's origin check (:mod:`gi.origin.rule`), and
the verdicts stored like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gi import clock
from gi.market.rows import (
    COMMON_ALIASES,
    PRODUCT_SEPARATORS,
    Cells,
    Change,
    ImportReport,
    Location,
    ProductLookup,
    apply_changes,
    duplicate_check,
    read_rows,
    reject_if,
)
from gi.models import CATEGORY_ZH, Inspector, OriginVerdictRecord, OutletSupplier, Producer, ProductCategory

PRODUCER_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "authorization_number": (
        "authorization_number",
        "authorization",
        "核准编号",
        "专用标志核准编号",
        "核准号",
    ),
    "authorized_from": ("authorized_from", "核准日期", "有效期起", "核准起始日期"),
    "authorized_to": ("authorized_to", "有效期至", "有效期止", "核准截止日期"),
}
OUTLET_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "suppliers": (
        "suppliers",
        "supplier_credit_codes",
        "供货方",
        "供货方信用代码",
        "供货单位信用代码",
        "进货来源",
    ),
}
STAFF_NUMBER = re.compile(r"[!-{}~]+")  # printable ASCII without space or "|"

INSPECTOR_ALIASES: dict[str, tuple[str, ...]] = {
    "staff_number": ("staff_number", "staff_no", "code", "工号", "执法证号", "执法证件号", "人员编号"),
    "name": ("name", "姓名"),
    "unit": ("unit", "单位", "所在单位", "工作单位"),
    "home_county": ("home_county", "county", "county_code", "所在县区代码", "行政区划代码", "区县代码"),
    "qualifications": ("qualifications", "categories", "资质", "检查类别", "专业领域"),
    "capacity": ("capacity", "capacity_per_round", "每轮任务上限", "任务上限"),
    "active": ("active", "在岗", "状态"),
    "synthetic": COMMON_ALIASES["synthetic"],
}
_CATEGORY_WORDS: dict[str, ProductCategory] = {
    **{c.value: c for c in ProductCategory},
    **{zh: c for c, zh in CATEGORY_ZH.items()},
    "初级农产品": ProductCategory.FARM_PRODUCT,
    "食品": ProductCategory.PROCESSED_FOOD,
    "中药材": ProductCategory.MEDICINAL_HERB,
    "工艺品": ProductCategory.HANDICRAFT,
}


def _same_point(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return bool(to_shape(old).equals_exact(to_shape(new), 1e-9))


def _point(location: Location) -> Any:
    return from_shape(Point(round(location.lon, 7), round(location.lat, 7)), srid=4326)


def _show(value: Any) -> Any:
    """A stored value as a report shows it (points as lon, lat)."""
    if value is None or isinstance(value, (str, int, float, bool, date)):
        return value
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    try:
        p = to_shape(value)
        return f"{p.x:.6f}, {p.y:.6f}"
    except Exception:  # not a geometry: its text
        return str(value)


def _change(key: str, created: bool, fields: Mapping[str, tuple[Any, Any]]) -> Change:
    return Change(key, created, {k: (_show(a), _show(b)) for k, a, b in ((k, *v) for k, v in fields.items())})


def import_producers(
    session: Session, path: str | Path, sheet: str | None = None, moment: datetime | None = None
) -> ImportReport:
    """Import the producers' directory; all or nothing; new or moved locations are origin-checked."""
    from gi.origin.rule import LocationClaim, check_origins

    table = read_rows(path, PRODUCER_ALIASES, ("credit_code", "name", "product"), sheet, "producer")
    products = ProductLookup(session)
    problems: list[Any] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        code = cells.credit_code()
        name = cells.text("name", required=True, max_length=200)
        product = products(cells)
        county = cells.county()
        location = cells.location()
        authorization = cells.text("authorization_number", max_length=100)
        start, end = cells.day("authorized_from"), cells.day("authorized_to")
        if start and end and end < start:
            cells.problem("authorized_to", f"{end} is before authorized_from {start}")
        values = {
            "name": name,
            "address": cells.text("address"),
            "county_code": county or (code.county if code else None),
            "authorization_number": authorization,
            "authorized_from": start,
            "authorized_to": end,
            "synthetic": cells.flag("synthetic") if cells.present("synthetic") else None,
        }
        if not cells.ok or code is None or product is None:
            continue
        if duplicate_check(seen, (product.id, code.code), cells, "product and credit code"):
            parsed.append(
                {"row": number, "product": product, "code": code.code, "location": location, **values}
            )
    reject_if(table.source, problems)

    existing = _existing(session, {(r["product"].id, r["code"]) for r in parsed})
    for r in parsed:
        found = existing.get((r["product"].id, r["code"]))
        if found is not None and found.kind != "producer":
            Cells(r["row"], {}, problems).problem(
                "credit_code",
                f"{r['code']} is registered as a {found.kind} of {r['product'].name_zh}, not a producer",
            )
    reject_if(table.source, problems)

    report = ImportReport(table.source, "producer", rows=len(parsed))
    moment = moment or clock.now()
    to_check: list[tuple[Producer, Location]] = []
    for r in parsed:
        where: Location | None = r.pop("location")
        product, code = r.pop("product"), r.pop("code")
        r.pop("row")
        key = f"{product.code} {code}"
        producer = existing.get((product.id, code))
        if where is not None:
            r["location"] = _point(where)
        if producer is None:
            producer = Producer(
                product_id=product.id,
                credit_code=code,
                kind="producer",
                source=table.source,
                **{k: v for k, v in r.items() if v is not None},
            )
            producer.synthetic = bool(r.get("synthetic"))
            session.add(producer)
            report.changes.append(_change(key, True, {}))
            if where is not None:
                to_check.append((producer, where))
            continue
        changed = apply_changes(producer, r, {"location": _same_point})
        if changed:
            producer.updated_at = moment
            producer.source = table.source
            report.changes.append(_change(key, False, changed))
            if where is not None and "location" in changed:
                to_check.append((producer, where))
        else:
            report.unchanged += 1
    session.flush()

    if to_check:
        claims = [
            LocationClaim(
                product_id=p.product_id,
                x=loc.x,
                y=loc.y,
                collected_at=moment,
                crs=loc.crs,
                gps_accuracy_m=None,
                location_source=None,  # a registered location, not a field fix
            )
            for p, loc in to_check
        ]
        verdicts = check_origins(session, claims)
        session.add_all(
            OriginVerdictRecord(producer_id=p.id, **v.record_fields())
            for (p, _), v in zip(to_check, verdicts, strict=True)
        )
        session.flush()
        counts: dict[str, int] = {}
        for v in verdicts:
            counts[v.verdict.value] = counts.get(v.verdict.value, 0) + 1
        report.details["origin"] = counts
        report.details["not_inside"] = [
            {
                "name": p.name,
                "credit_code": p.credit_code,
                "verdict": v.verdict.value,
                "distance_m": None if v.distance_m is None else round(v.distance_m),
            }
            for (p, _), v in zip(to_check, verdicts, strict=True)
            if v.verdict.value != "inside"
        ]
    _note_counties(report, parsed)
    return report


def _note_counties(report: ImportReport, parsed: list[dict[str, Any]]) -> None:
    unknown = sum(1 for r in parsed if not r.get("county_code"))
    if unknown:
        report.notes.append(
            f"{unknown} row(s) without a county: no county column and a credit code registered above county level"
        )


def _existing(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], Producer]:
    if not keys:
        return {}
    product_ids = sorted({k[0] for k in keys})
    codes = sorted({k[1] for k in keys})
    rows = session.scalars(
        select(Producer).where(Producer.product_id.in_(product_ids), Producer.credit_code.in_(codes))
    )
    return {(p.product_id, str(p.credit_code)): p for p in rows if (p.product_id, p.credit_code) in keys}


def import_outlets(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import market outlets (经销店, 专卖店, 市场摊位) of GI products with their declared suppliers; all or nothing."""
    table = read_rows(path, OUTLET_ALIASES, ("credit_code", "name", "product"), sheet, "outlet")
    products = ProductLookup(session)
    problems: list[Any] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        code = cells.credit_code()
        name = cells.text("name", required=True, max_length=200)
        named = cells.items("product", separators=PRODUCT_SEPARATORS)
        if not named:
            cells.problem("product", "missing product")
        found = [products(cells, value=n) for n in named]
        county = cells.county()
        location = cells.location()
        suppliers: list[str] | None = None
        if cells.present("suppliers"):
            suppliers = []
            for item in cells.items("suppliers"):
                supplier = _supplier(cells, item)
                if supplier:
                    suppliers.append(supplier)
        values = {
            "name": name,
            "address": cells.text("address"),
            "county_code": county or (code.county if code else None),
            "synthetic": cells.flag("synthetic") if cells.present("synthetic") else None,
        }
        if not cells.ok or code is None:
            continue
        for product in found:
            assert product is not None
            if duplicate_check(seen, (product.id, code.code), cells, "product and credit code"):
                parsed.append(
                    {
                        "row": number,
                        "product": product,
                        "code": code.code,
                        "location": location,
                        "suppliers": suppliers,
                        **values,
                    }
                )
    reject_if(table.source, problems)
    existing = _existing(session, {(r["product"].id, r["code"]) for r in parsed})
    for r in parsed:
        found_row = existing.get((r["product"].id, r["code"]))
        if found_row is not None and found_row.kind != "market_outlet":
            Cells(r["row"], {}, problems).problem(
                "credit_code",
                f"{r['code']} is registered as a {found_row.kind} of {r['product'].name_zh}, not an outlet",
            )
    reject_if(table.source, problems)

    report = ImportReport(table.source, "outlet", rows=len(parsed))
    now = clock.now()
    for r in parsed:
        location, suppliers = r.pop("location"), r.pop("suppliers")
        product, code = r.pop("product"), r.pop("code")
        r.pop("row")
        if location is not None:
            r["location"] = _point(location)
        key = f"{product.code} {code}"
        outlet = existing.get((product.id, code))
        if outlet is None:
            outlet = Producer(
                product_id=product.id,
                credit_code=code,
                kind="market_outlet",
                source=table.source,
                **{k: v for k, v in r.items() if v is not None},
            )
            outlet.synthetic = bool(r.get("synthetic"))
            session.add(outlet)
            session.flush()
            changed: dict[str, tuple[Any, Any]] = {}
            created = True
        else:
            changed = apply_changes(outlet, r, {"location": _same_point})
            created = False
        if suppliers is not None:
            stored = set(
                session.scalars(
                    select(OutletSupplier.supplier_credit_code).where(OutletSupplier.outlet_id == outlet.id)
                )
            )
            if stored != set(suppliers):
                # Only what changed is deleted or added, so the audit log records the change, not a rewrite.
                gone = stored - set(suppliers)
                if gone:
                    session.execute(
                        delete(OutletSupplier).where(
                            OutletSupplier.outlet_id == outlet.id,
                            OutletSupplier.supplier_credit_code.in_(sorted(gone)),
                        )
                    )
                session.add_all(
                    OutletSupplier(outlet_id=outlet.id, supplier_credit_code=s)
                    for s in sorted(set(suppliers) - stored)
                )
                if not created:
                    changed["suppliers"] = ("; ".join(sorted(stored)), "; ".join(sorted(set(suppliers))))
        if created:
            report.changes.append(_change(key, True, {}))
        elif changed:
            outlet.updated_at = now
            outlet.source = table.source
            report.changes.append(_change(key, False, changed))
        else:
            report.unchanged += 1
    session.flush()
    _note_counties(report, parsed)
    return report


def _supplier(cells: Cells, item: str) -> str | None:
    """One supplier's credit code of a suppliers cell (a problem of the row when invalid)."""
    from gi.errors import InputError
    from gi.market.credit_code import parse_uscc

    try:
        return parse_uscc(item, "suppliers").code
    except InputError as exc:
        cells.problem("suppliers", exc.problem)
        return None


def _qualifications(text: Any) -> list[str]:
    import re

    words = [w for w in re.split(r"[;；,，、/\s]+", str(text).strip()) if w]
    out: set[str] = set()
    for w in words:
        if w.lower() in ("all", "全部"):
            out.update(c.value for c in ProductCategory)
            continue
        category = _CATEGORY_WORDS.get(w) or _CATEGORY_WORDS.get(w.lower())
        if category is None:
            known = ", ".join(f"{c.value} ({CATEGORY_ZH[c]})" for c in ProductCategory)
            raise ValueError(f"{w!r} is not a product category ({known}, or all)")
        out.add(category.value)
    return sorted(out)


def import_inspectors(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import the inspectors' directory (执法检查人员名录库), upserted by staff number; all or nothing."""
    table = read_rows(
        path, INSPECTOR_ALIASES, ("staff_number", "name", "unit", "home_county"), sheet, "inspector"
    )
    problems: list[Any] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        code = cells.text("staff_number", required=True, max_length=40)
        if code is not None and not STAFF_NUMBER.fullmatch(code):
            # The published draw hashes inspector codes as ASCII labels (docs/sampling.md).
            cells.problem("staff_number", f"{code!r} is not printable ASCII without spaces or '|'")
            code = None
        values = {
            "name": cells.text("name", required=True, max_length=100),
            "unit": cells.text("unit", required=True, max_length=200),
            "home_county_code": cells.county("home_county"),
            "qualifications": cells.typed("qualifications", _qualifications),
            "capacity_per_round": cells.integer("capacity", low=1, high=200),
            "active": cells.flag("active") if cells.present("active") else None,
            "synthetic": cells.flag("synthetic") if cells.present("synthetic") else None,
        }
        if values["home_county_code"] is None and cells.ok:
            cells.problem("home_county", "missing home_county")
        if not cells.ok or code is None:
            continue
        if duplicate_check(seen, code, cells, "staff number"):
            parsed.append({"code": code, **values})
    reject_if(table.source, problems)

    stored = {
        i.code: i
        for i in session.scalars(select(Inspector).where(Inspector.code.in_([r["code"] for r in parsed])))
    }
    report = ImportReport(table.source, "inspector", rows=len(parsed))
    for r in parsed:
        code = r.pop("code")
        inspector = stored.get(code)
        if inspector is None:
            inspector = Inspector(
                code=code,
                qualifications=r.pop("qualifications") or [c.value for c in ProductCategory],
                active=r.pop("active") is not False,
                **{k: v for k, v in r.items() if v is not None},
            )
            session.add(inspector)
            report.changes.append(Change(code, True))
            continue
        changed = apply_changes(inspector, r)
        if changed:
            report.changes.append(_change(code, False, changed))
        else:
            report.unchanged += 1
    session.flush()
    return report
