"""Sample intake: validate each field, normalize the location, check origin, store sample and verdict together.

One sample (:func:`record_sample`, used by the API and the CLI) and many (:func:`record_samples`, used by
``gi check FILE`` and the demo) go through the same validation and the same origin rule; a batch stores its rows
with ``COPY``. Intake is idempotent on the sample's UUID: a client may send its own; a file row without one gets a
UUID derived from its content, so re-running a file stores nothing twice. A UUID that comes back with different
content is refused.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_data.crs import CoordinateSystem
from gi.errors import InputError
from gi.models import GIProduct, Inspector, LocationSource, OriginVerdictRecord, Producer, Sample
from gi.origin import LocationClaim, OriginVerdict, check_origin, check_origins, parse_system
from gi.settings import get_settings

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
    geographic = system in (CoordinateSystem.WGS84, CoordinateSystem.CGCS2000, CoordinateSystem.GCJ02,
                            CoordinateSystem.BD09, "EPSG:4326", "EPSG:4490")
    if not geographic:
        return
    x, y = sample.x, sample.y
    if abs(x) <= 180 and abs(y) <= 90:
        return
    if abs(y) <= 180 and abs(x) <= 90:
        return  # latitude and longitude swapped: kept as submitted, the check flags it
    if abs(x) > 1000 or abs(y) > 1000:
        raise InputError("x", f"({x:g}, {y:g}) are not degrees in {system}; projected coordinates need their "
                              "EPSG code as crs (e.g. EPSG:4549)")
    raise InputError("y" if abs(y) > 90 else "x", f"({x:g}, {y:g}) is not a longitude/latitude pair")


def content_uuid(sample: SampleInput, product_id: int) -> uuid.UUID:
    """The UUID of a sample without a client UUID, derived from what identifies it."""
    key = "|".join(str(v) for v in (
        product_id, sample.collected_at.isoformat(), sample.x_text or repr(sample.x), sample.y_text or repr(sample.y),
        parse_system(sample.crs), sample.lot_number, sample.collector, sample.producer, sample.task_id,
    ))
    return uuid.uuid5(SAMPLE_NAMESPACE, key)


class _Resolver:
    """Looks up products, producers, inspectors and plan tasks once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.products: dict[str, GIProduct] = {}
        for p in session.scalars(select(GIProduct)):
            for key in (p.code, p.name_zh, p.name_en.lower(), p.name_pinyin.lower(), str(p.id)):
                self.products.setdefault(key, p)
        self.producers: dict[tuple[int, str], int] = {}
        self.inspectors: dict[str, int] = {}
        self.tasks: dict[int, tuple[int, int | None]] | None = None

    def product(self, key: str) -> GIProduct:
        product = self.products.get(key) or self.products.get(key.lower())
        if product is None:
            raise InputError("product", f"no GI product {key!r}")
        return product

    def producer(self, product: GIProduct, key: str) -> int:
        cache_key = (product.id, key)
        if cache_key not in self.producers:
            query = select(Producer.id).where(Producer.product_id == product.id)
            query = query.where((Producer.id == int(key)) if key.isdigit() and len(key) < 18
                                else (Producer.credit_code == key.upper()))
            found = self.session.scalar(query)
            if found is None:
                raise InputError("producer", f"no producer {key!r} of {product.name_zh}")
            self.producers[cache_key] = found
        return self.producers[cache_key]

    def inspector(self, code: str) -> int:
        if code not in self.inspectors:
            found = self.session.scalar(select(Inspector.id).where(Inspector.code == code))
            if found is None:
                raise InputError("collector", f"no inspector {code!r}")
            self.inspectors[code] = found
        return self.inspectors[code]

    def task(self, task_id: int, product_id: int) -> None:
        if self.tasks is None:
            exists = self.session.execute(text("SELECT to_regclass('plan_task') IS NOT NULL")).scalar_one()
            self.tasks = {}
            if exists:
                self.tasks = {r[0]: (r[1], r[2]) for r in self.session.execute(
                    text("SELECT id, product_id, producer_id FROM plan_task"))}
        task = self.tasks.get(task_id)
        if task is None:
            raise InputError("task_id", f"no plan task {task_id}")
        if task[0] != product_id:
            raise InputError("task_id", f"plan task {task_id} is for another product")


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
        product_id=product.id, x=sample.x, y=sample.y, collected_at=sample.collected_at, crs=sample.crs,
        gps_accuracy_m=sample.gps_accuracy_m, location_source=sample.location_source,
        x_text=sample.x_text, y_text=sample.y_text,
    )
    return PreparedSample(id=sample.id or content_uuid(sample, product.id), input=sample, product=product,
                          producer_id=producer_id, collector_id=collector_id, claim=claim)


def _same_sample(row: Any, p: PreparedSample) -> bool:
    return (row.product_id == p.product.id and row.collected_at == p.input.collected_at
            and row.submitted_x == p.input.x and row.submitted_y == p.input.y
            and row.declared_crs == str(parse_system(p.input.crs)))


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
    existing = session.execute(text(
        "SELECT id, product_id, collected_at, submitted_x, submitted_y, declared_crs FROM sample WHERE id = :id"
    ), {"id": prepared.id}).first()
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
        id=p.id, product_id=p.product.id, producer_id=p.producer_id, task_id=s.task_id,
        collected_at=s.collected_at, submitted_x=s.x, submitted_y=s.y, declared_crs=str(parse_system(s.crs)),
        gps_accuracy_m=s.gps_accuracy_m, location_source=s.location_source,
        location=from_shape(Point(verdict.lon, verdict.lat), srid=4326), lot_number=s.lot_number,
        lot_size=s.lot_size, collector_id=p.collector_id, source=s.source, notes=s.notes,
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
    """Everything a batch did, row by row."""

    rows: list[BatchRow] = field(default_factory=list)

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


def record_samples(
    session: Session,
    rows: Sequence[tuple[int, dict[str, Any]]],
    source: str | None = None,
    progress: Progress | None = None,
    chunk: int = 200_000,
) -> BatchResult:
    """Validate, check and store many samples (row number, fields); bad rows are reported, never fatal."""
    resolver = _Resolver(session)
    result = BatchResult()
    prepared: list[tuple[int, PreparedSample]] = []
    seen: dict[uuid.UUID, int] = {}
    for number, data in rows:
        try:
            sample = parse_sample({**data, "source": data.get("source") or source})
            p = prepare_sample(resolver, sample)
        except InputError as exc:
            result.rows.append(BatchRow(number, "refused", field=exc.field, problem=exc.problem))
            continue
        if p.id in seen:
            result.rows.append(BatchRow(number, "refused", p.id, p.product.code, field="id",
                                        problem=f"repeats the sample of row {seen[p.id]}"))
            continue
        seen[p.id] = number
        prepared.append((number, p))
    if progress:
        progress("validated", len(rows), len(rows))

    existing = _existing(session, [p.id for _, p in prepared])
    fresh: list[tuple[int, PreparedSample]] = []
    for number, p in prepared:
        row = existing.get(p.id)
        if row is None:
            fresh.append((number, p))
        elif _same_sample(row, p):
            result.rows.append(BatchRow(number, "already stored", p.id, p.product.code))
        else:
            result.rows.append(BatchRow(number, "refused", p.id, p.product.code, field="id",
                                        problem=f"{p.id} is already used by a different sample"))

    for start in range(0, len(fresh), chunk):
        part = fresh[start:start + chunk]
        verdicts = check_origins(session, [p.claim for _, p in part])
        if progress:
            progress("checked", min(start + chunk, len(fresh)), len(fresh))
        _copy_samples(session, [p for _, p in part], verdicts)
        for (number, p), v in zip(part, verdicts, strict=True):
            result.rows.append(BatchRow(number, "stored", p.id, p.product.code, v))
        if progress:
            progress("stored", min(start + chunk, len(fresh)), len(fresh))
    result.rows.sort(key=lambda r: r.row)
    return result


def _existing(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    found: dict[uuid.UUID, Any] = {}
    for start in range(0, len(ids), 10_000):
        for row in session.execute(text(
            "SELECT id, product_id, collected_at, submitted_x, submitted_y, declared_crs FROM sample "
            "WHERE id = ANY(:ids)"), {"ids": ids[start:start + 10_000]}):
            found[row.id] = row
    return found


_SAMPLE_COLUMNS = ("id", "product_id", "producer_id", "task_id", "collected_at", "submitted_x", "submitted_y",
                   "declared_crs", "gps_accuracy_m", "location_source", "location", "lot_number", "lot_size",
                   "collector_id", "source", "notes")
_VERDICT_COLUMNS = ("sample_id", "product_id", "area_id", "area_version", "verdict", "distance_m", "band_m",
                    "flags", "other_areas", "rule", "inputs")


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    """One field of COPY's text format (NULL is \\N)."""
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)  # shortest exact round trip
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _array(items: Sequence[str]) -> str:
    # Flags are lower-case identifiers: no quoting needed inside the array literal.
    return "{" + ",".join(items) + "}"


def _copy_samples(session: Session, samples: Sequence[PreparedSample], verdicts: Sequence[OriginVerdict]) -> None:
    """Store samples and their verdicts with COPY (text format, written in blocks), in the session's transaction."""
    if not samples:
        return
    session.flush()
    # Hex EWKB carries the binary doubles: the stored point is bit for bit the one that was checked.
    points = shapely.set_srid(
        shapely.points(np.array([v.lon for v in verdicts]), np.array([v.lat for v in verdicts])), 4326)
    locations = shapely.to_wkb(points, hex=True, include_srid=True)
    raw = session.connection().connection.driver_connection
    block = 5000
    null = "\\N"
    with raw.cursor() as cur:
        with cur.copy(f"COPY sample ({', '.join(_SAMPLE_COLUMNS)}) FROM STDIN") as copy:
            for start in range(0, len(samples), block):
                lines = []
                for p, location in zip(samples[start:start + block], locations[start:start + block], strict=True):
                    s = p.input
                    # Identifiers, numbers, enums and hex need no escaping; free text does.
                    lines.append(
                        f"{p.id}\t{p.product.id}\t{null if p.producer_id is None else p.producer_id}\t"
                        f"{null if s.task_id is None else s.task_id}\t{s.collected_at.isoformat()}\t{s.x!r}\t{s.y!r}\t"
                        f"{parse_system(s.crs)}\t{null if s.gps_accuracy_m is None else repr(s.gps_accuracy_m)}\t"
                        f"{s.location_source.value}\t{location}\t{_text(s.lot_number)}\t"
                        f"{null if s.lot_size is None else s.lot_size}\t"
                        f"{null if p.collector_id is None else p.collector_id}\t{_text(s.source)}\t{_text(s.notes)}"
                    )
                copy.write("\n".join(lines) + "\n")
        rule = _text(verdicts[0].rule) if verdicts else ""
        with cur.copy(f"COPY origin_verdict ({', '.join(_VERDICT_COLUMNS)}) FROM STDIN") as copy:
            for start in range(0, len(samples), block):
                lines = []
                for p, v in zip(samples[start:start + block], verdicts[start:start + block], strict=True):
                    lines.append(
                        f"{p.id}\t{v.product_id}\t{null if v.area_id is None else v.area_id}\t"
                        f"{null if v.area_version is None else v.area_version}\t{v.verdict.value}\t"
                        f"{null if v.distance_m is None else repr(v.distance_m)}\t{v.band_m!r}\t{_array(v.flags)}\t"
                        f"{_text(_json(v.other_areas)) if v.other_areas else '[]'}\t"
                        f"{rule if v.rule == verdicts[0].rule else _text(v.rule)}\t{_text(_json(v.inputs))}"
                    )
                copy.write("\n".join(lines) + "\n")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


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
    session: Session, path: str | Path, crs: str | None = None, out: str | Path | None = None,
    layer: str | None = None, progress: Progress | None = None,
) -> tuple[BatchResult, Path | None]:
    """Read a sample file, store its samples and verdicts, and write a result CSV (one line per input row)."""
    from geo_data.sample_files import read_sample_file, write_result_csv

    if crs:
        parse_system(crs)
    sample_file = read_sample_file(path, crs=crs, layer=layer)
    bad = {p.row: p for p in sample_file.problems}
    usable = [r for r in sample_file.rows if r.row not in bad]
    result = record_samples(session, samples_from_file_rows(usable, sample_file.default_crs),
                            source=sample_file.source, progress=progress)
    result.rows.extend(BatchRow(p.row, "refused", field=p.field, problem=p.problem) for p in bad.values())
    result.rows.sort(key=lambda r: r.row)
    written = None
    if out is not None:
        written = write_result_csv(out, RESULT_HEADER, (result_line(r) for r in result.rows))
    return result, written


RESULT_HEADER = ("row", "status", "sample_id", "product", "verdict", "distance_m", "band_m", "area_version", "lon",
                 "lat", "flags", "other_areas", "field", "problem")


def result_line(r: BatchRow) -> tuple[Any, ...]:
    """One line of the result file."""
    v = r.verdict
    return (
        r.row, r.status, r.sample_id, r.product_code, v.verdict.value if v else None,
        v.distance_m if v else None, v.band_m if v else None, v.area_version if v else None,
        round(v.lon, 8) if v else None, round(v.lat, 8) if v else None, ";".join(v.flags) if v else None,
        ";".join(o["product_code"] for o in v.other_areas) if v else None, r.field, r.problem,
    )
