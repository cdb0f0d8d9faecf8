"""Sample intake: validate each field, normalize the location, check origin, store sample and verdict together.

One sample (:func:`record_sample`, used by the API and the CLI) and many (:func:`record_samples`, used by
``gi check FILE`` and the demo) go through the same validation and the same origin rule; a batch stores its rows
with ``COPY``. Intake is idempotent on the sample's UUID: a client may send its own; a file row without one gets a
UUID derived from its content, so re-running a file stores nothing twice. A UUID that comes back with different
content is refused.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from numpy.typing import NDArray
from psycopg.rows import class_row
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_data.crs import CoordinateSystem
from gi.db import psycopg_connection
from gi.errors import InputError
from gi.models import GIProduct, Inspector, LocationSource, OriginVerdictRecord, Producer, Sample
from gi.origin.index import AreaIndex, area_index
from gi.origin.rule import ClaimBatch, LocationClaim, OriginVerdict, check_claims, check_origin, parse_system
from gi.settings import Settings, get_settings

# Namespace of the UUIDs derived from a file row's content (uuid5).
SAMPLE_NAMESPACE = uuid.UUID("4f1c2a9e-6a53-5b0c-9d3e-2b7f1e0c6d41")
EARLIEST = datetime(1990, 1, 1, tzinfo=ZoneInfo("UTC"))
_EARLIEST_TS = EARLIEST.timestamp()


class SampleInput(BaseModel):
    """A sample as submitted (API body, CLI, or a file row); coordinates are in ``crs``."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    id: uuid.UUID | None = Field(default=None, description="client-supplied UUID (idempotent uploads)")
    product: str = Field(min_length=1, description="product code, Chinese name or id")
    producer: str | None = Field(default=None, description="producer id or unified social credit code")
    task_id: int | None = Field(default=None, gt=0)
    collected_at: datetime
    x: float = Field(description="longitude (or easting) as submitted")
    y: float = Field(description="latitude (or northing) as submitted")
    crs: str = "WGS84"
    gps_accuracy_m: float | None = Field(default=None, ge=0)
    location_source: LocationSource = LocationSource.DEVICE_GPS
    lot_number: str | None = Field(default=None, max_length=100)
    lot_size: int | None = Field(default=None, gt=0)
    collector: str | None = Field(default=None, description="inspector code")
    notes: str | None = None
    source: str | None = None
    x_text: str | None = None
    y_text: str | None = None

    @field_validator("x", "y", "gps_accuracy_m")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("collected_at")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        return _plausible_moment(value)


def _plausible_moment(value: datetime) -> datetime:
    """A collection moment made aware (local time when naive), refused before 1990 or in the future."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    stamp = value.timestamp()
    if stamp < _EARLIEST_TS:
        raise ValueError("is before 1990")
    if stamp > time.time() + 3600:
        raise ValueError("is in the future")
    return value


def parse_sample(data: dict[str, Any]) -> SampleInput:
    """Validate submitted fields; the first problem becomes an :class:`InputError` naming the field."""
    try:
        sample = SampleInput.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "sample"
        raise InputError(name, first["msg"]) from exc
    _check_coordinates(sample)
    return sample


def _check_coordinates(sample: SampleInput) -> None:
    system = parse_system(sample.crs)
    geographic = system in (
        CoordinateSystem.WGS84,
        CoordinateSystem.CGCS2000,
        CoordinateSystem.GCJ02,
        CoordinateSystem.BD09,
        "EPSG:4326",
        "EPSG:4490",
    )
    if not geographic:
        return
    x, y = sample.x, sample.y
    if abs(x) <= 180 and abs(y) <= 90:
        return
    if abs(y) <= 180 and abs(x) <= 90:
        return  # latitude and longitude swapped: kept as submitted, the check flags it
    if abs(x) > 1000 or abs(y) > 1000:
        raise InputError(
            "x",
            f"({x:g}, {y:g}) are not degrees in {system}; projected coordinates need their "
            "EPSG code as crs (e.g. EPSG:4549)",
        )
    raise InputError("y" if abs(y) > 90 else "x", f"({x:g}, {y:g}) is not a longitude/latitude pair")


def content_uuid(sample: SampleInput, product_id: int) -> uuid.UUID:
    """The UUID of a sample without a client UUID, derived from what identifies it."""
    key = "|".join(
        str(v)
        for v in (
            product_id,
            sample.collected_at.isoformat(),
            sample.x_text or repr(sample.x),
            sample.y_text or repr(sample.y),
            parse_system(sample.crs),
            sample.lot_number,
            sample.collector,
            sample.producer,
            sample.task_id,
        )
    )
    return uuid.uuid5(SAMPLE_NAMESPACE, key)


class _Resolver:
    """Looks up products, producers, inspectors and plan tasks once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.products: dict[str, GIProduct] = {}
        for p in session.scalars(select(GIProduct)):
            for key in (p.code, p.name_zh, p.name_en.lower(), p.name_pinyin.lower(), str(p.id)):
                self.products.setdefault(key, p)
        self.producers: dict[tuple[int, str], int | None] = {}
        self.inspectors: dict[str, int | None] = {}
        self.tasks: dict[int, tuple[int, int | None]] | None = None
        # How database look-ups run: at once, or (in a batch) in the thread that owns the connection meanwhile.
        self.run: Callable[[Callable[[], Any]], Any] = lambda query: query()

    def product(self, key: str) -> GIProduct:
        product = self.products.get(key) or self.products.get(key.lower())
        if product is None:
            raise InputError("product", f"no GI product {key!r}")
        return product

    def producer(self, product: GIProduct, key: str) -> int:
        cache_key = (product.id, key)
        if cache_key not in self.producers:
            query = select(Producer.id).where(Producer.product_id == product.id)
            query = query.where(
                (Producer.id == int(key))
                if key.isdigit() and len(key) < 18
                else (Producer.credit_code == key.upper())
            )
            self.producers[cache_key] = self.run(lambda: self.session.scalar(query))
        found = self.producers[cache_key]  # misses are remembered too: one query per key
        if found is None:
            raise InputError("producer", f"no producer {key!r} of {product.name_zh}")
        return found

    def inspector(self, code: str) -> int:
        if code not in self.inspectors:
            self.inspectors[code] = self.run(
                lambda: self.session.scalar(select(Inspector.id).where(Inspector.code == code))
            )
        found = self.inspectors[code]
        if found is None:
            raise InputError("collector", f"no inspector {code!r}")
        return found

    def task(self, task_id: int, product_id: int) -> None:
        if self.tasks is None:
            self.tasks = self.run(self._load_tasks)
        task = self.tasks.get(task_id)
        if task is None:
            raise InputError("task_id", f"no plan task {task_id}")
        if task[0] != product_id:
            raise InputError("task_id", f"plan task {task_id} is for another product")

    def _load_tasks(self) -> dict[int, tuple[int, int | None]]:
        if not self.session.execute(text("SELECT to_regclass('plan_task') IS NOT NULL")).scalar_one():
            return {}
        return {
            r[0]: (r[1], r[2])
            for r in self.session.execute(text("SELECT id, product_id, producer_id FROM plan_task"))
        }


@dataclass
class PreparedSample:
    """A validated sample, resolved against the register and ready to be checked and stored."""

    id: uuid.UUID
    input: SampleInput
    product: GIProduct
    producer_id: int | None
    collector_id: int | None
    claim: LocationClaim


def prepare_sample(resolver: _Resolver, sample: SampleInput) -> PreparedSample:
    """Resolve references and build the origin claim of one validated sample."""
    product = resolver.product(sample.product)
    producer_id = resolver.producer(product, sample.producer) if sample.producer else None
    collector_id = resolver.inspector(sample.collector) if sample.collector else None
    if sample.task_id is not None:
        resolver.task(sample.task_id, product.id)
    claim = LocationClaim(
        product_id=product.id,
        x=sample.x,
        y=sample.y,
        collected_at=sample.collected_at,
        crs=sample.crs,
        gps_accuracy_m=sample.gps_accuracy_m,
        location_source=sample.location_source,
        x_text=sample.x_text,
        y_text=sample.y_text,
    )
    return PreparedSample(
        id=sample.id or content_uuid(sample, product.id),
        input=sample,
        product=product,
        producer_id=producer_id,
        collector_id=collector_id,
        claim=claim,
    )


class _StoredSample(NamedTuple):
    """What decides whether a resubmitted UUID is the same sample."""

    id: uuid.UUID
    product_id: int
    collected_at: datetime
    submitted_x: float
    submitted_y: float
    declared_crs: str


def _same_sample(row: Any, p: PreparedSample) -> bool:
    return (
        row.product_id == p.product.id
        and row.collected_at == p.input.collected_at
        and row.submitted_x == p.input.x
        and row.submitted_y == p.input.y
        and row.declared_crs == str(parse_system(p.input.crs))
    )


@dataclass
class RecordedSample:
    """A stored sample and its origin verdict; ``created`` is False when the UUID was already stored."""

    sample_id: uuid.UUID
    verdict: OriginVerdict | None
    created: bool


def record_sample(session: Session, data: SampleInput | dict[str, Any]) -> RecordedSample:
    """Validate, check and store one sample with its verdict (in the caller's transaction)."""
    sample = data if isinstance(data, SampleInput) else parse_sample(data)
    if isinstance(data, SampleInput):
        _check_coordinates(sample)
    prepared = prepare_sample(_Resolver(session), sample)
    existing = session.execute(
        text(
            "SELECT id, product_id, collected_at, submitted_x, submitted_y, declared_crs FROM sample WHERE id = :id"
        ),
        {"id": prepared.id},
    ).first()
    if existing is not None:
        if not _same_sample(existing, prepared):
            raise InputError("id", f"{prepared.id} is already used by a different sample")
        return RecordedSample(prepared.id, None, created=False)
    verdict = check_origin(session, prepared.claim)
    session.add(_sample_model(prepared, verdict))
    session.flush()
    session.add(OriginVerdictRecord(sample_id=prepared.id, **verdict.record_fields()))
    session.flush()
    return RecordedSample(prepared.id, verdict, created=True)


def _sample_model(p: PreparedSample, verdict: OriginVerdict) -> Sample:
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point

    s = p.input
    return Sample(
        id=p.id,
        product_id=p.product.id,
        producer_id=p.producer_id,
        task_id=s.task_id,
        collected_at=s.collected_at,
        submitted_x=s.x,
        submitted_y=s.y,
        declared_crs=str(parse_system(s.crs)),
        gps_accuracy_m=s.gps_accuracy_m,
        location_source=s.location_source,
        location=from_shape(Point(verdict.lon, verdict.lat), srid=4326),
        lot_number=s.lot_number,
        lot_size=s.lot_size,
        collector_id=p.collector_id,
        source=s.source,
        notes=s.notes,
    )


# --------------------------------------------------------------------------------------------- batches


@dataclass
class BatchRow:
    """The outcome of one input row: stored, already stored, or refused (with the field and the reason)."""

    row: int
    status: str  # stored | already stored | refused
    sample_id: uuid.UUID | None = None
    product_code: str | None = None
    verdict: OriginVerdict | None = None
    field: str | None = None
    problem: str | None = None


@dataclass
class BatchResult:
    """Everything a batch did, row by row (and, for diagnostics, seconds spent per stage)."""

    rows: list[BatchRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def stored(self) -> list[BatchRow]:
        """Rows stored now."""
        return [r for r in self.rows if r.status == "stored"]

    @property
    def refused(self) -> list[BatchRow]:
        """Rows that could not become samples."""
        return [r for r in self.rows if r.status == "refused"]

    @property
    def duplicates(self) -> list[BatchRow]:
        """Rows whose UUID was already stored with the same content."""
        return [r for r in self.rows if r.status == "already stored"]


Progress = Callable[[str, int, int], None]

# The first chunk is small, so that the database starts storing early while later chunks are checked.
FIRST_CHUNK = 4000


def record_samples(
    session: Session,
    rows: Sequence[tuple[int, dict[str, Any]]],
    source: str | None = None,
    progress: Progress | None = None,
    chunk: int = 20_000,
) -> BatchResult:
    """Validate, check and store many samples (row number, fields); bad rows are reported, never fatal.

    Rows go through in chunks, as a pipeline: while the database stores one chunk (COPY of samples and verdicts,
    run by a worker thread that alone uses the session's connection until the batch ends), the next chunks are
    validated and checked. Each row gets exactly what :func:`record_sample` would give it.
    """
    started = time.perf_counter()
    session.flush()
    resolver = _Resolver(session)
    index = area_index(session)
    settings = get_settings()
    result = BatchResult()
    batch = _Batch(session, resolver, source, settings, index, result, progress, len(rows))
    bounds = _chunk_bounds(len(rows), chunk)
    # A batch makes millions of small objects (fields, verdicts, COPY texts) and keeps nearly all of them: the
    # cyclic collector would walk them again and again (a second or more per 100,000 rows) and find nothing to free.
    # It is paused for the batch (when it was running) and resumes afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        pending = None
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            part = batch.validate(rows[lo:hi])
            if pending is not None:
                batch.check_and_store(*pending)
            pending = part
        if pending is not None:
            batch.check_and_store(*pending)
        batch.finish()
        result.rows = batch.ordered_rows()
    finally:
        batch.close()
        if collecting:
            gc.enable()
    result.timings["total"] = time.perf_counter() - started
    return result


def _chunk_bounds(total: int, chunk: int) -> list[int]:
    """Limits of the pipeline's chunks: a small first one, full ones, then a tail halving down to the first's size.

    The database stores a chunk while the next one is checked; what it stores after the last check is time the batch
    waits for, so the last chunks are small.
    """
    small = min(FIRST_CHUNK, chunk)
    bounds = [0]
    while bounds[-1] < total:
        left = total - bounds[-1]
        step = small if len(bounds) == 1 else min(chunk, max(small, left // 2))
        if left - step < small // 2 and left <= chunk:
            step = left  # no sliver of a chunk at the end
        bounds.append(bounds[-1] + min(step, left))
    return bounds


class _ProductRef(NamedTuple):
    """What a batch needs of a product, read once (ORM attributes are slow to read 100,000 times)."""

    id: int
    code: str
    product: GIProduct | None


_NO_PRODUCT = _ProductRef(-1, "", None)
_NAMESPACE_BYTES = SAMPLE_NAMESPACE.bytes


def _uuid5(name: str) -> uuid.UUID:
    """``uuid.uuid5(SAMPLE_NAMESPACE, name)`` without re-reading the namespace's bytes each time."""
    return uuid.UUID(bytes=hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()[:16], version=5)


class _Slow(Exception):
    """A row the column-wise validator leaves to :func:`parse_sample` (which names its problem, if any)."""


_SLOW = _Slow()
_ABSENT = object()
_ASCII_SPACE = " \t\n\r\x0b\x0c"
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?").fullmatch
_PLAIN_INT = re.compile(r"[1-9][0-9]{0,17}").fullmatch
_UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
).fullmatch
_SOURCES = {s.value: s for s in LocationSource}
_EXACT_INT = 2**53


def _str_column(
    values: list[Any],
    bad: bytearray,
    max_length: int | None = None,
    required: bool = False,
    non_empty: bool = False,
) -> list[str | None]:
    """A ``str`` field as :class:`SampleInput` strips it (None stays None unless required); rows with anything
    unusual are marked bad and left to the model."""
    out: list[str | None] = []
    for i, value in enumerate(values):
        if type(value) is str:
            stripped = value.strip(_ASCII_SPACE)  # both strip ASCII white space; other white space: the model
            if (
                stripped.strip() != stripped
                or (max_length is not None and len(stripped) > max_length)
                or (non_empty and not stripped)
            ):
                bad[i] = 1
            out.append(stripped)
        else:
            if value is not None or required:
                bad[i] = 1
            out.append(None)
    return out


def _float_column(
    values: list[Any], bad: bytearray, optional: bool = False, minimum: float | None = None
) -> list[float | None]:
    """A finite float field as the model reads it: a float, a small int, or a plain decimal string."""
    out: list[float | None] = []
    for i, value in enumerate(values):
        kind = type(value)
        if kind is float:
            number = value
        elif kind is str and _PLAIN_NUMBER(value):
            number = float(value)  # correctly rounded, as the model's parser
        elif kind is int and -_EXACT_INT <= value <= _EXACT_INT:
            number = float(value)
        else:
            if value is not None or not optional:
                bad[i] = 1
            out.append(None)
            continue
        if not (number - number == 0.0 and (minimum is None or number >= minimum)):
            bad[i] = 1
        out.append(number)
    return out


def _positive_int_column(values: list[Any], bad: bytearray) -> list[int | None]:
    out: list[int | None] = []
    for i, value in enumerate(values):
        kind = type(value)
        if value is None:
            out.append(None)
        elif kind is int and 0 < value < _EXACT_INT:
            out.append(value)
        elif kind is str and _PLAIN_INT(value):
            out.append(int(value))
        else:
            bad[i] = 1
            out.append(None)
    return out


class _Batch:
    """One run of :func:`record_samples`: validation by columns, checks, and the database worker."""

    def __init__(
        self,
        session: Session,
        resolver: _Resolver,
        source: str | None,
        settings: Settings,
        index: AreaIndex,
        result: BatchResult,
        progress: Progress | None,
        total: int,
    ) -> None:
        self.session = session
        self.resolver = resolver
        self.source = source
        self.settings = settings
        self.index = index
        self.result = result
        self.progress = progress
        self.total = total
        self.seen: dict[uuid.UUID, int] = {}
        self.moments: dict[str, datetime | None] = {}
        self.systems: dict[str, CoordinateSystem | str | None] = {}
        self.refused: list[BatchRow] = []
        self.known: list[BatchRow] = []
        self.stored: list[BatchRow] = []
        self.validated = self.checked = 0
        self.timings = result.timings
        for stage in ("validate", "check", "format", "wait", "database"):
            self.timings[stage] = 0.0
        self.raw = psycopg_connection(session.connection())
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="gi-batch-db")
        self.jobs: list[Future[Any]] = []
        self.copies: list[tuple[Future[Any], int]] = []
        self.stored_count = 0
        self.iso: dict[int, tuple[datetime, str]] = {}
        self.refs: dict[str, _ProductRef] = {}
        self.ref_of: dict[int, _ProductRef] = {}
        resolver.run = self.call

    # ------------------------------------------------------------------ the database worker

    def _failure(self) -> BaseException | None:
        """The first failed job (a later one may only have failed because the transaction was aborted)."""
        for job in self.jobs:
            if job.done() and not job.cancelled() and job.exception() is not None:
                return job.exception()
        return None

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue database work; jobs run one after another, in order."""
        failure = self._failure()
        if failure is not None:
            raise failure
        self.jobs = [j for j in self.jobs if not j.done()]

        def timed() -> Any:
            t = time.perf_counter()
            try:
                return job(*args)
            finally:
                self.timings["database"] += time.perf_counter() - t

        future = self.pool.submit(timed)
        self.jobs.append(future)
        return future

    def call(self, job: Callable[[], Any]) -> Any:
        """Run database work (after what is queued) and wait for its result."""
        return self.wait(self.submit(job))

    def wait(self, future: Future[Any]) -> Any:
        """The result of a queued job (or the first failure of the jobs before it)."""
        t = time.perf_counter()
        try:
            return future.result()
        except Exception:
            failure = self._failure()
            if failure is not None:
                raise failure from None
            raise
        finally:
            self.timings["wait"] += time.perf_counter() - t
            self._report_stored()

    def _report_stored(self) -> None:
        while self.copies and self.copies[0][0].done() and self.copies[0][0].exception() is None:
            self.stored_count += self.copies.pop(0)[1]
            if self.progress:
                self.progress("stored", self.stored_count, self.total)

    def finish(self) -> None:
        """Wait for every queued job, raising the first failure."""
        for job in list(self.jobs):
            self.wait(job)
        self.jobs = []

    def close(self) -> None:
        """Stop the worker (after its current job): the connection is the caller's again."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.resolver.run = lambda query: query()

    def ordered_rows(self) -> list[BatchRow]:
        """All outcomes by row number (refusals, then known UUIDs, then stored rows among equal numbers)."""
        rows = self.refused + self.known + self.stored
        rows.sort(key=lambda r: r.row)
        return rows

    # ------------------------------------------------------------------ validation

    def validate(
        self, rows: Sequence[tuple[int, dict[str, Any]]]
    ) -> tuple[list[tuple[Any, ...]], Future[Any]]:
        """Validate and resolve rows; queue the look-up of their UUIDs among stored samples."""
        t = time.perf_counter()
        good: list[tuple[Any, ...]] = []
        for (number, data), fast in zip(rows, self._fast([data for _, data in rows]), strict=True):
            try:
                try:
                    if fast is None:
                        raise _SLOW
                    fields = self._resolve(fast)
                except _Slow:
                    fields = self._slow(data)
            except InputError as exc:
                self.refused.append(BatchRow(number, "refused", field=exc.field, problem=exc.problem))
                continue
            sample_id, product = fields[0], fields[1]
            first = self.seen.get(sample_id)
            if first is not None:
                self.refused.append(
                    BatchRow(
                        number,
                        "refused",
                        sample_id,
                        product.code,
                        field="id",
                        problem=f"repeats the sample of row {first}",
                    )
                )
                continue
            self.seen[sample_id] = number
            good.append((number, *fields))
        self.timings["validate"] += time.perf_counter() - t
        self.validated += len(rows)
        if self.progress:
            self.progress("validated", self.validated, self.total)
        ids = [g[1] for g in good]
        return good, self.submit(self._existing, ids)

    def _fast(self, datas: Sequence[dict[str, Any]]) -> list[tuple[Any, ...] | None]:
        """The model's fields for ordinary rows, column by column; None for a row left to the model itself."""
        n = len(datas)
        bad = bytearray(n)

        def column(key: str, default: Any = None) -> list[Any]:
            return [d.get(key, default) for d in datas]

        ids = []
        for i, value in enumerate(column("id")):
            if value is None or type(value) is uuid.UUID:
                ids.append(value)
            elif type(value) is str and _UUID_TEXT(value):
                ids.append(uuid.UUID(value))
            else:
                ids.append(None)
                bad[i] = 1
        product_keys = _str_column(column("product", _ABSENT), bad, required=True, non_empty=True)
        producers = _str_column(column("producer"), bad)
        task_ids = _positive_int_column(column("task_id"), bad)
        moments = [self._moment(v, bad, i) for i, v in enumerate(column("collected_at", _ABSENT))]
        xs = _float_column(column("x"), bad)
        ys = _float_column(column("y"), bad)
        crss = _str_column(
            [("WGS84" if v is _ABSENT else v) for v in column("crs", _ABSENT)], bad, required=True
        )
        accuracies = _float_column(column("gps_accuracy_m"), bad, optional=True, minimum=0.0)
        sources: list[LocationSource | None] = []  # None where the value is refused (its row is bad)
        for i, value in enumerate(column("location_source", _ABSENT)):
            if value is _ABSENT:
                sources.append(LocationSource.DEVICE_GPS)
            elif type(value) is LocationSource:
                sources.append(value)
            else:
                member = _SOURCES.get(value) if type(value) is str else None
                sources.append(member)
                if member is None:
                    bad[i] = 1
        lot_numbers = _str_column(column("lot_number"), bad, max_length=100)
        lot_sizes = _positive_int_column(column("lot_size"), bad)
        collectors = _str_column(column("collector"), bad)
        notes = _str_column(column("notes"), bad)
        origins = _str_column([d.get("source") or self.source for d in datas], bad)
        x_texts = _str_column(column("x_text"), bad)
        y_texts = _str_column(column("y_text"), bad)
        out: list[tuple[Any, ...] | None] = []
        for i, row in enumerate(
            zip(
                ids,
                product_keys,
                producers,
                task_ids,
                moments,
                xs,
                ys,
                crss,
                accuracies,
                sources,
                lot_numbers,
                lot_sizes,
                collectors,
                notes,
                origins,
                x_texts,
                y_texts,
                strict=True,
            )
        ):
            out.append(None if bad[i] else row)
        return out

    def _resolve(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """Coordinates checked and references resolved as :func:`parse_sample` and :func:`prepare_sample` do,
        for a row whose fields passed :meth:`_fast`; anything they would refuse is left to them."""
        (
            sample_id,
            product_key,
            producer,
            task_id,
            moment,
            x,
            y,
            crs,
            accuracy,
            location_source,
            lot_number,
            lot_size,
            collector,
            notes,
            source,
            x_text,
            y_text,
        ) = row
        system = self.systems.get(crs, _ABSENT)
        if system is _ABSENT:
            try:
                system = self.systems[crs] = parse_system(crs)
            except InputError:
                system = self.systems[crs] = None
        resolver = self.resolver
        ref = self.refs.get(product_key)
        if ref is None:
            found = resolver.products.get(product_key) or resolver.products.get(product_key.lower())
            ref = self.refs[product_key] = self._ref(found) if found is not None else _NO_PRODUCT
        product = ref.product
        if (
            system is None
            or product is None
            or (
                system in _GEOGRAPHIC_SYSTEMS
                and not (abs(x) <= 180 and abs(y) <= 90)
                and not (abs(y) <= 180 and abs(x) <= 90)
            )
        ):
            raise _SLOW
        producer_id = resolver.producer(product, producer) if producer else None
        collector_id = resolver.inspector(collector) if collector else None
        if task_id is not None:
            resolver.task(task_id, ref.id)
        if sample_id is None:
            key = (
                f"{ref.id}|{self._iso(moment)}|{x_text or repr(x)}|{y_text or repr(y)}|{system}|{lot_number}|"
                f"{collector}|{producer}|{task_id}"
            )
            sample_id = _uuid5(key)
        return (
            sample_id,
            ref,
            producer_id,
            task_id,
            moment,
            x,
            y,
            crs,
            accuracy,
            location_source,
            lot_number,
            lot_size,
            collector_id,
            source,
            notes,
            x_text,
            y_text,
        )

    def _moment(self, value: Any, bad: bytearray, i: int) -> datetime | None:
        if type(value) is str:
            moment = self.moments.get(value, _ABSENT)
            if moment is _ABSENT:
                # Each distinct text is read once, by the model itself (rows with it share the datetime).
                try:
                    moment = SampleInput.model_validate(
                        {"product": "-", "collected_at": value, "x": 0.0, "y": 0.0}
                    ).collected_at
                except ValidationError:
                    moment = None
                self.moments[value] = moment
        elif type(value) is datetime:
            try:
                moment = _plausible_moment(value)
            except ValueError:
                moment = None
        else:
            moment = None
        if moment is None:
            bad[i] = 1
        return moment  # type: ignore[return-value]

    def _slow(self, data: dict[str, Any]) -> tuple[Any, ...]:
        sample = parse_sample({**data, "source": data.get("source") or self.source})
        p = prepare_sample(self.resolver, sample)
        return (
            p.id,
            self._ref(p.product),
            p.producer_id,
            sample.task_id,
            sample.collected_at,
            sample.x,
            sample.y,
            sample.crs,
            sample.gps_accuracy_m,
            sample.location_source,
            sample.lot_number,
            sample.lot_size,
            p.collector_id,
            sample.source,
            sample.notes,
            sample.x_text,
            sample.y_text,
        )

    def _ref(self, product: GIProduct) -> _ProductRef:
        ref = self.ref_of.get(id(product))
        if ref is None:
            ref = self.ref_of[id(product)] = _ProductRef(product.id, product.code, product)
        return ref

    def _iso(self, moment: datetime) -> str:
        cached = self.iso.get(id(moment))
        if cached is None or cached[0] is not moment:
            cached = self.iso[id(moment)] = (moment, moment.isoformat())
        return cached[1]

    def _existing(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, _StoredSample]:
        """Stored samples among ``ids`` (in the worker)."""
        if not ids:
            return {}
        with self.raw.cursor(row_factory=class_row(_StoredSample)) as cur:
            cur.execute(
                "SELECT s.id, s.product_id, s.collected_at, s.submitted_x, s.submitted_y, s.declared_crs "
                "FROM unnest(%b::uuid[]) AS u(id) JOIN sample s ON s.id = u.id",
                (ids,),
            )
            return {row.id: row for row in cur}

    # ------------------------------------------------------------------ checks and storage

    def check_and_store(self, good: list[tuple[Any, ...]], existing_job: Future[Any]) -> None:
        """Check the validated rows not stored yet, and queue their COPY."""
        existing = self.wait(existing_job)
        t = time.perf_counter()
        fresh = []
        for row in good:
            stored = existing.get(row[1]) if existing else None
            if stored is None:
                fresh.append(row)
                continue
            number, sample_id, product = row[0], row[1], row[2]
            if (
                stored.product_id == product.id
                and stored.collected_at == row[5]
                and stored.submitted_x == row[6]
                and stored.submitted_y == row[7]
                and stored.declared_crs == str(parse_system(row[8]))
            ):
                self.known.append(BatchRow(number, "already stored", sample_id, product.code))
            else:
                self.known.append(
                    BatchRow(
                        number,
                        "refused",
                        sample_id,
                        product.code,
                        field="id",
                        problem=f"{sample_id} is already used by a different sample",
                    )
                )
        if not fresh:
            self.timings["check"] += time.perf_counter() - t
            return
        (
            numbers,
            ids,
            products,
            producer_ids,
            task_ids,
            moments,
            xs,
            ys,
            crss,
            accuracies,
            sources,
            lot_numbers,
            lot_sizes,
            collector_ids,
            origins,
            notes,
            x_texts,
            y_texts,
        ) = (list(c) for c in zip(*fresh, strict=True))
        claims = ClaimBatch(
            product_id=[ref.id for ref in products],
            x=xs,
            y=ys,
            collected_at=moments,
            crs=crss,
            gps_accuracy_m=accuracies,
            location_source=sources,
            x_text=x_texts,
            y_text=y_texts,
        )
        verdicts = check_claims(None, claims, self.settings, self.index)
        t2 = time.perf_counter()
        self.timings["check"] += t2 - t
        self.checked += len(fresh)
        if self.progress:
            self.progress("checked", self.checked, self.total)
        id_texts = [str(i) for i in ids]  # written in both COPYs
        sample_text = _sample_lines(
            id_texts,
            products,
            producer_ids,
            task_ids,
            moments,
            xs,
            ys,
            crss,
            accuracies,
            sources,
            lot_numbers,
            lot_sizes,
            collector_ids,
            origins,
            notes,
            verdicts,
        )
        verdict_text = _verdict_lines(id_texts, verdicts)
        self.timings["format"] += time.perf_counter() - t2
        self.copies.append((self.submit(self._copy, sample_text, verdict_text), len(fresh)))
        self._report_stored()
        self.stored.extend(
            BatchRow(number, "stored", sample_id, product.code, v)
            for number, sample_id, product, v in zip(numbers, ids, products, verdicts, strict=True)
        )

    def _copy(self, sample_text: str, verdict_text: str) -> None:
        """COPY one chunk's samples, then their verdicts (in the worker)."""
        with self.raw.cursor() as cur:
            with cur.copy(_SAMPLE_COPY) as copy:
                copy.write(sample_text)
            with cur.copy(_VERDICT_COPY) as copy:
                copy.write(verdict_text)


_GEOGRAPHIC_SYSTEMS = (
    CoordinateSystem.WGS84,
    CoordinateSystem.CGCS2000,
    CoordinateSystem.GCJ02,
    CoordinateSystem.BD09,
    "EPSG:4326",
    "EPSG:4490",
)


_SAMPLE_COLUMNS = (
    "id",
    "product_id",
    "producer_id",
    "task_id",
    "collected_at",
    "submitted_x",
    "submitted_y",
    "declared_crs",
    "gps_accuracy_m",
    "location_source",
    "location",
    "lot_number",
    "lot_size",
    "collector_id",
    "source",
    "notes",
)
_VERDICT_COLUMNS = (
    "sample_id",
    "product_id",
    "area_id",
    "area_version",
    "verdict",
    "distance_m",
    "band_m",
    "flags",
    "other_areas",
    "rule",
    "inputs",
)
_SAMPLE_COPY = f"COPY sample ({', '.join(_SAMPLE_COLUMNS)}) FROM STDIN"
_VERDICT_COPY = f"COPY origin_verdict ({', '.join(_VERDICT_COLUMNS)}) FROM STDIN"


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value: Any) -> str:
    """One field of COPY's text format (NULL is \\N)."""
    if value is None:
        return _NULL
    if isinstance(value, float):
        return repr(value)  # shortest exact round trip
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _array(items: Sequence[str]) -> str:
    # Flags are lower-case identifiers: no quoting needed inside the array literal.
    return "{" + ",".join(items) + "}"


def _fields(values: Iterable[Any], render: Callable[[Any], str]) -> list[str]:
    """Values (or None) as COPY fields; repeated values (ids of products, areas; lot numbers) are rendered once."""
    cache: dict[Any, str] = {None: _NULL}
    out = []
    for v in values:
        field_text = cache.get(v)
        if field_text is None:
            field_text = cache[v] = render(v)
        out.append(field_text)
    return out


def _or_null(values: Iterable[Any]) -> list[str]:
    """Integers (or None) as COPY fields."""
    return _fields(values, str)


def _repr_or_null(values: Iterable[float | None]) -> list[str]:
    """Floats (or None) as COPY fields: the shortest text that reads back as the same double."""
    return [_NULL if v is None else repr(v) for v in values]


def _texts(values: Iterable[str | None]) -> list[str]:
    """Free text (or None) as COPY fields, escaped."""
    return _fields(values, _text)


def _lines(columns: Sequence[Sequence[str]]) -> str:
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _sample_lines(
    ids: list[str],
    products: list[_ProductRef],
    producer_ids: list[int | None],
    task_ids: list[int | None],
    moments: list[datetime],
    xs: list[float],
    ys: list[float],
    crss: list[str],
    accuracies: list[float | None],
    sources: list[LocationSource],
    lot_numbers: list[str | None],
    lot_sizes: list[int | None],
    collector_ids: list[int | None],
    origins: list[str | None],
    notes: list[str | None],
    verdicts: Sequence[OriginVerdict],
) -> str:
    """COPY text of the samples, column by column; the location is the checked point, as hex EWKB."""
    locations = _hex_ewkb_points(np.array([v.lon for v in verdicts]), np.array([v.lat for v in verdicts]))
    iso: dict[int, str] = {}
    moment_texts = []
    for m in moments:
        stamp = iso.get(id(m))
        if stamp is None:
            stamp = iso[id(m)] = m.isoformat()
        moment_texts.append(stamp)
    systems = {c: str(parse_system(c)) for c in set(crss)}
    return _lines(
        (
            ids,
            _or_null(p.id for p in products),
            _or_null(producer_ids),
            _or_null(task_ids),
            moment_texts,
            [repr(x) for x in xs],
            [repr(y) for y in ys],
            [systems[c] for c in crss],
            _repr_or_null(accuracies),
            [s.value for s in sources],
            locations,
            _texts(lot_numbers),
            _or_null(lot_sizes),
            _or_null(collector_ids),
            _texts(origins),
            _texts(notes),
        )
    )


_EWKB_POINT_4326 = np.frombuffer(bytes.fromhex("0101000020E6100000"), np.uint8)  # little endian, SRID 4326


def _hex_ewkb_points(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> list[str]:
    """Hex EWKB of SRID-4326 points, as ``shapely.to_wkb(..., hex=True, include_srid=True)`` writes it.

    Hex EWKB carries the binary doubles: the stored point is bit for bit the one that was checked.
    """
    n = len(lon)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        points = shapely.set_srid(shapely.points(lon, lat), 4326)
        return list(shapely.to_wkb(points, hex=True, include_srid=True).tolist())
    record = np.empty((n, 25), np.uint8)
    record[:, :9] = _EWKB_POINT_4326
    record[:, 9:17] = np.ascontiguousarray(lon, dtype="<f8").view(np.uint8).reshape(n, 8)
    record[:, 17:] = np.ascontiguousarray(lat, dtype="<f8").view(np.uint8).reshape(n, 8)
    text_ = record.tobytes().hex().upper()
    return [text_[i : i + 50] for i in range(0, 50 * n, 50)]


def _verdict_lines(ids: list[str], verdicts: Sequence[OriginVerdict]) -> str:
    """COPY text of the verdicts, column by column (JSON exactly as :data:`_ENCODER` writes it)."""
    flags: dict[tuple[str, ...], str] = {}
    others: dict[tuple[Any, ...], str] = {}
    written: dict[int, tuple[tuple[dict[str, Any], ...], str]] = {}
    rules: dict[str, str] = {}
    flag_texts, other_texts, rule_texts, input_texts = [], [], [], []
    for v in verdicts:
        text_ = flags.get(v.flags)
        if text_ is None:
            text_ = flags[v.flags] = _array(v.flags)
        flag_texts.append(text_)
        if v.other_areas:
            # Verdicts in the same other areas share one tuple (see gi.origin.rule._judge): written once.
            done = written.get(id(v.other_areas))
            if done is None or done[0] is not v.other_areas:
                parts = []
                for area in v.other_areas:
                    key = tuple(area.items())
                    part = others.get(key)
                    if part is None:
                        part = others[key] = _json(area)
                    parts.append(part)
                others_text = "[" + ",".join(parts) + "]"
                done = written[id(v.other_areas)] = (
                    v.other_areas,
                    others_text.translate(_COPY_ESCAPES) if "\\" in others_text else others_text,
                )
            other_texts.append(done[1])
        else:
            other_texts.append("[]")
        text_ = rules.get(v.rule)
        if text_ is None:
            text_ = rules[v.rule] = _text(v.rule)
        rule_texts.append(text_)
    for inputs in _inputs_json_many([v.inputs for v in verdicts]):
        input_texts.append(inputs.translate(_COPY_ESCAPES) if "\\" in inputs else inputs)
    return _lines(
        (
            ids,
            _or_null(v.product_id for v in verdicts),
            _or_null(v.area_id for v in verdicts),
            _or_null(v.area_version for v in verdicts),
            [v.verdict.value for v in verdicts],
            _repr_or_null(v.distance_m for v in verdicts),
            [repr(v.band_m) for v in verdicts],
            flag_texts,
            other_texts,
            rule_texts,
            input_texts,
        )
    )


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
_encode_string = json.encoder.encode_basestring  # what _ENCODER uses for strings (ensure_ascii=False)


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


def _scalar_json(value: Any) -> str:
    """``_json(value)`` for a scalar, without the encoder's set-up."""
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return repr(value)
    elif kind is str:
        return _encode_string(value)
    elif value is None:
        return "null"
    elif value is True:
        return "true"
    elif value is False:
        return "false"
    elif kind is int:
        return repr(value)
    return _ENCODER.encode(value)


_INPUT_KEYS = (
    "rule_version",
    "submitted",
    "wgs84",
    "collected_at",
    "gps_accuracy_m",
    "location_source",
    "tolerance_m",
    "max_gps_accuracy_m",
    "covered",
    "trusted_fix",
    "area",
)
_SUBMITTED_KEYS = ("x", "y", "crs", "x_text", "y_text")
_AREA_KEYS = ("id", "version", "wkb_md5")


def _inputs_json(inputs: dict[str, Any]) -> str:
    """``_json(inputs)`` of a verdict's inputs, written field by field (the same text, several times faster)."""
    return _inputs_json_many([inputs])[0]


def _inputs_json_many(many: Sequence[dict[str, Any]]) -> list[str]:
    """:func:`_inputs_json` of many inputs; repeated strings and areas are encoded once."""
    out = []
    j = _scalar_json
    strings: dict[str, str] = {}
    areas: dict[tuple[Any, ...], str] = {}

    def string(value: Any) -> str:
        if type(value) is not str:
            return j(value)
        encoded = strings.get(value)
        if encoded is None:
            encoded = strings[value] = _encode_string(value)
        return encoded

    for inputs in many:
        keys = tuple(inputs)
        notes = inputs.get("notes")
        submitted, wgs84, area = inputs.get("submitted"), inputs.get("wgs84"), inputs.get("area")
        if (
            keys[:11] != _INPUT_KEYS
            or keys[11:] not in ((), ("notes",))
            or type(submitted) is not dict
            or tuple(submitted) != _SUBMITTED_KEYS
            or type(wgs84) is not list
            or len(wgs84) != 2
            or not (area is None or (type(area) is dict and tuple(area) == _AREA_KEYS))
            or not (notes is None or type(notes) is list)
        ):
            out.append(_json(inputs))
            continue
        if area is None:
            area_text = "null"
        else:
            key = (type(area["id"]), area["id"], type(area["version"]), area["version"], area["wkb_md5"])
            area_text = areas.get(key)  # type: ignore[assignment]
            if area_text is None:
                area_text = areas[key] = (
                    f'{{"id":{j(area["id"])},"version":{j(area["version"])},"wkb_md5":{j(area["wkb_md5"])}}}'
                )
        notes_text = "" if notes is None else ',"notes":[' + ",".join(string(n) for n in notes) + "]"
        x, y, lon, lat, accuracy = (
            submitted["x"],
            submitted["y"],
            wgs84[0],
            wgs84[1],
            inputs["gps_accuracy_m"],
        )
        # Finite floats are written as repr() writes them; anything else as the encoder does.
        out.append(
            f'{{"rule_version":{j(inputs["rule_version"])},"submitted":{{"x":'
            f"{repr(x) if type(x) is float and x - x == 0.0 else j(x)},"
            f'"y":{repr(y) if type(y) is float and y - y == 0.0 else j(y)},"crs":{string(submitted["crs"])},'
            f'"x_text":{string(submitted["x_text"])},"y_text":{string(submitted["y_text"])}}},"wgs84":['
            f"{repr(lon) if type(lon) is float and lon - lon == 0.0 else j(lon)},"
            f"{repr(lat) if type(lat) is float and lat - lat == 0.0 else j(lat)}],"
            f'"collected_at":{string(inputs["collected_at"])},"gps_accuracy_m":'
            f"{repr(accuracy) if type(accuracy) is float and accuracy - accuracy == 0.0 else j(accuracy)},"
            f'"location_source":{string(inputs["location_source"])},"tolerance_m":{j(inputs["tolerance_m"])},'
            f'"max_gps_accuracy_m":{j(inputs["max_gps_accuracy_m"])},"covered":{j(inputs["covered"])},'
            f'"trusted_fix":{j(inputs["trusted_fix"])},"area":{area_text}{notes_text}}}'
        )
    return out


def samples_from_file_rows(rows: Iterable[Any], default_crs: str) -> list[tuple[int, dict[str, Any]]]:
    """Plain (row, fields) pairs from a read sample file, with each row's CRS and typed coordinates kept."""
    out = []
    for r in rows:
        fields = {k: v for k, v in r.fields.items() if v is not None}
        fields.setdefault("crs", default_crs)
        if "x" in fields:
            fields["x_text"] = fields["x"]
        if "y" in fields:
            fields["y_text"] = fields["y"]
        out.append((r.row, fields))
    return out


def check_sample_file(
    session: Session,
    path: str | Path,
    crs: str | None = None,
    out: str | Path | None = None,
    layer: str | None = None,
    progress: Progress | None = None,
) -> tuple[BatchResult, Path | None]:
    """Read a sample file, store its samples and verdicts, and write a result CSV (one line per input row)."""
    from geo_data.sample_files import read_sample_file, write_result_csv

    if crs:
        parse_system(crs)
    sample_file = read_sample_file(path, crs=crs, layer=layer)
    bad = {p.row: p for p in sample_file.problems}
    usable = [r for r in sample_file.rows if r.row not in bad]
    result = record_samples(
        session,
        samples_from_file_rows(usable, sample_file.default_crs),
        source=sample_file.source,
        progress=progress,
    )
    result.rows.extend(BatchRow(p.row, "refused", field=p.field, problem=p.problem) for p in bad.values())
    result.rows.sort(key=lambda r: r.row)
    written = None
    if out is not None:
        written = write_result_csv(out, RESULT_HEADER, (result_line(r) for r in result.rows))
    return result, written


RESULT_HEADER = (
    "row",
    "status",
    "sample_id",
    "product",
    "verdict",
    "distance_m",
    "band_m",
    "area_version",
    "lon",
    "lat",
    "flags",
    "other_areas",
    "field",
    "problem",
)


def result_line(r: BatchRow) -> tuple[Any, ...]:
    """One line of the result file."""
    v = r.verdict
    return (
        r.row,
        r.status,
        r.sample_id,
        r.product_code,
        v.verdict.value if v else None,
        v.distance_m if v else None,
        v.band_m if v else None,
        v.area_version if v else None,
        round(v.lon, 8) if v else None,
        round(v.lat, 8) if v else None,
        ";".join(v.flags) if v else None,
        ";".join(o["product_code"] for o in v.other_areas) if v else None,
        r.field,
        r.problem,
    )
