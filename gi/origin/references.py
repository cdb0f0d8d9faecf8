"""What a sample refers to: its product, producer, collector, plan task and seal codes, each looked up once.

:func:`prepare_sample` turns a validated row (:func:`gi.origin.fields.validate_row`) into the
:class:`~gi.origin.fields.SampleContent` that is checked and stored, for one sample and for every row of a batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any, NamedTuple

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from gi.errors import InputError
from gi.field.seals import check_claim, codes_in
from gi.models import GIProduct, Inspector, Producer, SealCode
from gi.origin.fields import SampleContent, content_id, parse_system
from gi.origin.rule import ClaimBatch, LocationClaim
from gi.register.areas import HOLDING_AREA_VERSIONS


class ProductRef(NamedTuple):
    """What intake needs of a product (read once: ORM attributes are slow to read a million times)."""

    id: int
    code: str
    name_zh: str


_PRODUCTS = select(
    GIProduct.id, GIProduct.code, GIProduct.name_zh, GIProduct.name_en, GIProduct.name_pinyin
).order_by(GIProduct.id)
_PRODUCTS_HOLDING_AREAS = text(
    "SELECT p.id, p.code, p.name_zh, p.name_en, p.name_pinyin "
    f"FROM {HOLDING_AREA_VERSIONS} CROSS JOIN gi_product p ORDER BY p.id"
)


class References:
    """Looks up products, producers, inspectors and plan tasks, each key once (misses are remembered too)."""

    def __init__(self, db: Session | Connection, hold_areas: bool = False) -> None:
        self.db = db
        self.products: dict[str, ProductRef] = {}
        # With ``hold_areas`` the same statement takes the shared hold on the area versions
        # (gi.register.areas.hold_area_versions) that a check needs until its verdict is committed: a single
        # upload spends no round trip on it. With no product there is no hold, and no sample to check either.
        rows = db.execute(_PRODUCTS_HOLDING_AREAS if hold_areas else _PRODUCTS)
        for p in rows:
            ref = ProductRef(p.id, p.code, p.name_zh)
            for key in (p.code, p.name_zh, p.name_en.lower(), p.name_pinyin.lower(), str(p.id)):
                self.products.setdefault(key, ref)
        self.producers: dict[tuple[int, str], int | None] = {}
        self.inspectors: dict[str, int | None] = {}
        self.tasks: dict[int, tuple[int, int | None]] | None = None
        self.seal_codes: dict[str, tuple[int, uuid.UUID | None] | None] = {}
        self.claimed: dict[str, uuid.UUID] = {}  # seal codes claimed by earlier rows of this run
        # How database look-ups run: at once, or (in a batch) in the thread that owns the connection meanwhile.
        self.run: Callable[[Callable[[], Any]], Any] = lambda query: query()

    def product(self, key: str) -> ProductRef:
        """The product a code, Chinese name, English/pinyin name or id names."""
        product = self.products.get(key) or self.products.get(key.lower())
        if product is None:
            raise InputError("product", f"no GI product {key!r}")
        return product

    def producer(self, product: ProductRef, key: str) -> int:
        """The id of ``product``'s producer named by id or unified social credit code."""
        cache_key = (product.id, key)
        if cache_key not in self.producers:
            query = select(Producer.id).where(Producer.product_id == product.id)
            query = query.where(
                (Producer.id == int(key))
                if key.isdigit() and len(key) < 18
                else (Producer.credit_code == key.upper())
            )
            self.producers[cache_key] = self.run(lambda: self.db.scalar(query))
        found = self.producers[cache_key]
        if found is None:
            raise InputError("producer", f"no producer {key!r} of {product.name_zh}")
        return found

    def inspector(self, code: str) -> int:
        """The id of the inspector with ``code``."""
        if code not in self.inspectors:
            self.inspectors[code] = self.run(
                lambda: self.db.scalar(select(Inspector.id).where(Inspector.code == code))
            )
        found = self.inspectors[code]
        if found is None:
            raise InputError("collector", f"no inspector {code!r}")
        return found

    def task(self, task_id: int, product_id: int) -> None:
        """Check that plan task ``task_id`` exists and is for ``product_id``."""
        if self.tasks is None:
            self.tasks = self.run(self._load_tasks)
        task = self.tasks.get(task_id)
        if task is None:
            raise InputError("task_id", f"no plan task {task_id}")
        if task[0] != product_id:
            raise InputError("task_id", f"plan task {task_id} is for another product")

    def seals(self, codes: Sequence[str], task_id: int | None, sample_id: uuid.UUID) -> None:
        """Check that sample ``sample_id`` (of task ``task_id``) may claim the seal codes ``codes``: registered,
        issued for its task, used by no other sample (stored, or an earlier row of this run)."""
        tasks = set()
        for code in codes:
            if code not in self.seal_codes:
                query = select(SealCode.task_id, SealCode.sample_id).where(SealCode.code == code)
                row = self.run(lambda: self.db.execute(query).first())  # noqa: B023  (run at once)
                self.seal_codes[code] = None if row is None else (row[0], row[1])
            seal = self.seal_codes[code]
            issued_task, used_by = seal if seal is not None else (None, None)
            check_claim(code, issued_task, self.claimed.get(code, used_by), task_id, sample_id)
            tasks.add(issued_task)
        if task_id is None and len(tasks) > 1:
            raise InputError("seal_code", f"the codes belong to {len(tasks)} different tasks")
        for code in codes:
            self.claimed[code] = sample_id

    def _load_tasks(self) -> dict[int, tuple[int, int | None]]:
        if not self.db.execute(text("SELECT to_regclass('plan_task') IS NOT NULL")).scalar_one():
            return {}
        return {
            r[0]: (r[1], r[2])
            for r in self.db.execute(text("SELECT id, product_id, producer_id FROM plan_task"))
        }


def prepare_sample(refs: References, row: Mapping[str, Any], source: str | None = None) -> SampleContent:
    """Resolve a validated row's references and give it its identity (its own UUID, or its content's);
    ``source`` is the channel or file, for rows that do not name their own."""
    product = refs.product(row["product"])
    producer = row.get("producer")
    collector = row.get("collector")
    task_id = row.get("task_id")
    producer_id = refs.producer(product, producer) if producer else None
    collector_id = refs.inspector(collector) if collector else None
    if task_id is not None:
        refs.task(task_id, product.id)
    system = parse_system(row["crs"])
    x, y, moment, lot_number = row["x"], row["y"], row["collected_at"], row.get("lot_number")
    label = (row.get("labelled_producer"), row.get("specification"), row.get("production_date"))
    sample_id = row.get("id") or content_id(
        product.id, moment, x, y, system, lot_number, collector_id, producer_id, task_id, label
    )
    seals = codes_in(row.get("seal_code"))
    if seals:
        refs.seals(seals, task_id, sample_id)
    return SampleContent(
        id=sample_id,
        product_id=product.id,
        producer_id=producer_id,
        task_id=task_id,
        collected_at=moment,
        submitted_x=x,
        submitted_y=y,
        declared_crs=str(system),
        gps_accuracy_m=row.get("gps_accuracy_m"),
        location_source=row["location_source"],
        lot_number=lot_number,
        lot_size=row.get("lot_size"),
        seal_code=row.get("seal_code"),
        collector_id=collector_id,
        source=row.get("source") or source,
        notes=row.get("notes"),
        labelled_producer=row.get("labelled_producer"),
        labelled_address=row.get("labelled_address"),
        sampled_at=row.get("sampled_at"),
        outlet_name=row.get("outlet_name"),
        outlet_address=row.get("outlet_address"),
        specification=row.get("specification"),
        production_date=row.get("production_date"),
        product_code=product.code,
        system=system,
        x_text=row.get("x_text"),
        y_text=row.get("y_text"),
    )


# A sample stores its claim's coordinates and CRS as submitted: the claim's field -> the sample's.
CLAIM_NAMES = {"x": "submitted_x", "y": "submitted_y", "crs": "declared_crs"}
_CLAIM_FIELDS = tuple((f.name, CLAIM_NAMES.get(f.name, f.name)) for f in fields(LocationClaim))


def claim_of(content: SampleContent) -> LocationClaim:
    """The origin claim of one sample."""
    return LocationClaim(**{name: getattr(content, own) for name, own in _CLAIM_FIELDS})


def claims_of(contents: Sequence[SampleContent]) -> ClaimBatch:
    """The origin claims of samples, column by column."""
    return ClaimBatch.of(contents, CLAIM_NAMES)
