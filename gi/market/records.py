"""One importer for the market's per-holder records (marks issued, holders' capacity, outlets' volumes), driven by
a table that says what differs between them: the file's columns, how a row's cells become the record's values,
which directory the holder must be in, and which values identify a record.

The shape is the same for all: read the file; parse every row, collecting every problem by row and column;
refuse repeats within the file; refuse rows whose holder is not in the right directory; then upsert (create,
or update the changed fields and report them field by field). Nothing is stored when any row has a problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.market.rows import (
    Cells,
    Change,
    ImportReport,
    ProductLookup,
    apply_changes,
    duplicate_check,
    read_rows,
    reject_if,
)
from gi.models import GIProduct, Producer

DIRECTORY_NAMES = {"producer": "producers' directory", "market_outlet": "outlets' directory"}
KIND_NAMES = {"producer": "producer", "market_outlet": "outlet"}


@dataclass(frozen=True)
class RecordSpec:
    """What one kind of per-holder record import reads, checks and stores."""

    what: str  # the report's noun ("issuance") and the file's name in messages
    model: type[Any]  # the mapped class stored
    aliases: Mapping[str, Sequence[str]]  # canonical column -> headers offices use
    required: tuple[str, ...]  # columns the file must have (besides product and credit_code)
    parse: Callable[[Cells, GIProduct | None], dict[str, Any]]  # a row's values (problems on the row)
    key: tuple[str, ...]  # values that identify a record of a product (with the holder when ``per_holder``)
    key_label: str  # how a repeated key is named in the duplicate message
    holder_kind: str = "producer"  # the directory the credit code must be in
    holder_column: str = "producer_id"  # the record's column naming the holder
    per_holder: bool = False  # whether the holder is part of the record's identity


def holders_of(session: Session, product_ids: set[int]) -> dict[tuple[int, str], Producer]:
    """Directory entries (any kind) of the products, by (product id, credit code)."""
    if not product_ids:
        return {}
    rows = session.scalars(
        select(Producer).where(
            Producer.product_id.in_(sorted(product_ids)), Producer.credit_code.is_not(None)
        )
    )
    return {(p.product_id, str(p.credit_code)): p for p in rows}


def import_records(
    session: Session, spec: RecordSpec, path: str | Path, sheet: str | None = None
) -> ImportReport:
    """Import a file of ``spec``'s records; all or nothing; upserted by product and ``spec.key``."""
    table = read_rows(path, spec.aliases, ("product", "credit_code", *spec.required), sheet, spec.what)
    products = ProductLookup(session)
    problems: list[Any] = []
    parsed: list[tuple[int, GIProduct, str, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        product = products(cells)
        code = cells.credit_code()
        values = spec.parse(cells, product)
        if not cells.ok or product is None or code is None:
            continue
        identity = (product.id, *((code.code,) if spec.per_holder else ()), *(values[k] for k in spec.key))
        if duplicate_check(seen, identity, cells, spec.key_label):
            parsed.append((number, product, code.code, values))
    reject_if(table.source, problems)

    directory = holders_of(session, {product.id for _, product, _, _ in parsed})
    wanted = KIND_NAMES[spec.holder_kind]
    for number, product, credit, _ in parsed:
        holder = directory.get((product.id, credit))
        if holder is None or holder.kind != spec.holder_kind:
            what = (
                f"not in the {DIRECTORY_NAMES[spec.holder_kind]}"
                if holder is None
                else f"a {holder.kind}, not a {wanted}"
            )
            Cells(number, {}, problems).problem("credit_code", f"{credit} is {what} of {product.name_zh}")
    reject_if(table.source, problems)

    def stored_key(record: Any) -> tuple[Any, ...]:
        holder = (getattr(record, spec.holder_column),) if spec.per_holder else ()
        return (record.product_id, *holder, *(getattr(record, k) for k in spec.key))

    stored = {
        stored_key(r): r
        for r in session.scalars(
            select(spec.model).where(spec.model.product_id.in_({product.id for _, product, _, _ in parsed}))
        )
    }
    report = ImportReport(table.source, spec.what, rows=len(parsed))
    for _, product, credit, values in parsed:
        holder_id = directory[(product.id, credit)].id
        identity = tuple(values[k] for k in spec.key)
        key = (product.id, *((holder_id,) if spec.per_holder else ()), *identity)
        label = " ".join(map(str, (product.code, *((credit,) if spec.per_holder else ()), *identity)))
        found = stored.get(key)
        if found is None:
            session.add(
                spec.model(
                    product_id=product.id, source=table.source, **{spec.holder_column: holder_id}, **values
                )
            )
            report.changes.append(Change(label, True))
            continue
        changed = apply_changes(found, {spec.holder_column: holder_id, **values})
        if changed:
            found.source = table.source
            report.changes.append(Change(label, False, changed))
        else:
            report.unchanged += 1
    session.flush()
    return report
