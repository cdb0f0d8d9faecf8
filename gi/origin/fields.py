"""The one declaration of a sample: its fields and their rules, its content identity, and its sameness.

:class:`SampleInput` declares every field a sample may be submitted with (an API body, a CLI call, a file row) and
the rules each must meet. Both intake paths validate with it: :func:`parse_sample` builds the model (one sample),
:func:`validate_row` checks a plain row against the same fields and rules without building a model (a file of a
million rows). Rules that involve several fields (:func:`check_coordinates`) are written once and called by both.

A sample submitted without a UUID gets one derived from its normalized content (:func:`content_id`: numbers as
numbers, the moment in UTC, references as resolved ids), so a re-typed ``120.123810`` is the same sample as
``120.12381``. A UUID that comes back is the same sample only when every field in :data:`CONFLICT_FIELDS` is
equal (:func:`differences`); otherwise the submission is refused as a conflict that names the fields.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any, NamedTuple, NotRequired, Required
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic import model_validator as _model_validator
from typing_extensions import TypedDict

from geo_data.crs import CoordinateSystem, is_geographic, parse_crs
from geo_data.values import angle, local_date, local_moment
from gi.errors import InputError
from gi.models import LocationSource, SampledAt
from gi.settings import get_settings

# Namespace of the UUIDs derived from a sample's content (uuid5).
SAMPLE_NAMESPACE = uuid.UUID("4f1c2a9e-6a53-5b0c-9d3e-2b7f1e0c6d41")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_EARLIEST_TS = EARLIEST.timestamp()
# A device clock may run a little ahead: an hour is tolerated, more is "in the future".
_FUTURE_SLACK_S = 3600.0


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def plausible_moment(value: datetime) -> datetime:
    """A collection moment made aware (local time when naive), refused before 1990 or in the future."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(get_settings().timezone))
    stamp = value.timestamp()
    if stamp < _EARLIEST_TS:
        raise ValueError("is before 1990")
    if stamp > time.time() + _FUTURE_SLACK_S:
        raise ValueError("is in the future")
    return value


def _blank_is_none(value: Any) -> Any:
    return None if type(value) is str and not value.strip() else value


def canonical_seal(value: str | None) -> str | None:
    """A sample's seal field: this system's seal codes in canonical form (see :func:`gi.field.seals.codes_in`),
    or a seal number of another kind as written."""
    from gi.field.seals import codes_in, seal_text

    try:
        codes = codes_in(value)
    except InputError as exc:
        raise ValueError(exc.problem) from None
    return value if codes is None else seal_text(codes)


_SAMPLED_AT_WORDS = {
    "producer": SampledAt.PRODUCER,
    "production": SampledAt.PRODUCER,
    "farm": SampledAt.PRODUCER,
    "生产": SampledAt.PRODUCER,
    "生产环节": SampledAt.PRODUCER,
    "生产者": SampledAt.PRODUCER,
    "生产企业": SampledAt.PRODUCER,
    "outlet": SampledAt.OUTLET,
    "market": SampledAt.OUTLET,
    "online": SampledAt.OUTLET,
    "流通": SampledAt.OUTLET,
    "流通环节": SampledAt.OUTLET,
    "经营者": SampledAt.OUTLET,
    "销售场所": SampledAt.OUTLET,
    "市场": SampledAt.OUTLET,
    "网络": SampledAt.OUTLET,
}


def sampled_at_value(value: Any) -> Any:
    """``sampled_at`` as people write it (producer/outlet, 生产环节/流通环节, 生产者/经营者); blank is None."""
    if type(value) is not str:
        return value
    text = value.strip()
    if not text:
        return None
    found = _SAMPLED_AT_WORDS.get(text.lower())
    if found is None:
        raise ValueError(f"{text!r} is not producer (生产环节) or outlet (流通环节)")
    return found


OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]
Coordinate = Annotated[float, BeforeValidator(angle), Field(allow_inf_nan=False)]


class SampleInput(BaseModel):
    """A sample as submitted (API body, CLI, or a file row); coordinates are in ``crs``."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    id: uuid.UUID | None = Field(default=None, description="client-supplied UUID (idempotent uploads)")
    product: str = Field(min_length=1, description="product code, Chinese name or id")
    producer: OptionalText = Field(default=None, description="producer id or unified social credit code")
    task_id: int | None = Field(default=None, gt=0, description="plan task the sample fulfils")
    collected_at: Annotated[datetime, BeforeValidator(local_moment), AfterValidator(plausible_moment)] = (
        Field(description="collection moment; local time (GI_TIMEZONE) when no offset is given")
    )
    x: Coordinate = Field(description="longitude (or easting) as submitted; decimal degrees or D°M′S″")
    y: Coordinate = Field(description="latitude (or northing) as submitted; decimal degrees or D°M′S″")
    crs: str = Field(default="WGS84", description="WGS84, CGCS2000, GCJ02, BD09 or EPSG:n")
    gps_accuracy_m: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    location_source: LocationSource = LocationSource.DEVICE_GPS
    lot_number: OptionalText = Field(default=None, max_length=100)
    lot_size: int | None = Field(default=None, gt=0)
    seal_code: Annotated[OptionalText, AfterValidator(canonical_seal)] = Field(
        default=None,
        max_length=400,
        description="seal codes of the sealed units (GI-XXXX-XXXX-X, printed by gi labels; several separated by "
        "commas), or the number on a seal of another kind",
    )
    collector: OptionalText = Field(default=None, description="inspector code")
    notes: OptionalText = None
    source: OptionalText = Field(default=None, description="upload channel or file the sample came from")
    # What the public notice prints of the sample (抽检结果公告): the label and where the sample was taken.
    labelled_producer: OptionalText = Field(
        default=None, max_length=200, description="标称生产企业: the manufacturer named on the label"
    )
    labelled_address: OptionalText = Field(
        default=None, max_length=500, description="标称生产企业地址: its address as on the label"
    )
    sampled_at: Annotated[SampledAt | None, BeforeValidator(sampled_at_value)] = Field(
        default=None,
        description="where the sample was taken: producer (生产环节, at the producer) or outlet (流通环节, a shop, "
        "market or online store)",
    )
    outlet_name: OptionalText = Field(
        default=None,
        max_length=200,
        description="被抽样单位: the unit the sample was taken from (the outlet, or the producer itself)",
    )
    outlet_address: OptionalText = Field(default=None, max_length=500, description="被抽样单位地址")
    specification: OptionalText = Field(
        default=None, max_length=100, description="规格型号 as on the label, e.g. 250 g/袋"
    )
    production_date: Annotated[date | None, BeforeValidator(local_date)] = Field(
        default=None,
        description="生产日期 (or harvest date) on the label: 2026-03-28, 2026/3/28, 2026年3月28日",
    )
    x_text: OptionalText = Field(default=None, description="x exactly as typed (its precision is judged)")
    y_text: OptionalText = Field(default=None, description="y exactly as typed")

    @_model_validator(mode="after")
    def _coordinates(self) -> SampleInput:
        check_coordinates(self.crs, self.x, self.y)
        check_production_date(self.production_date, self.collected_at)
        return self


def check_production_date(production_date: date | None, collected_at: datetime) -> None:
    """A labelled production date after the collection day is a typing error (an :class:`InputError`)."""
    if production_date is not None and production_date > collected_at.date():
        raise InputError(
            "production_date",
            f"{production_date:%Y-%m-%d} is after the collection date {collected_at:%Y-%m-%d}",
        )


def check_coordinates(crs: str, x: float, y: float) -> CoordinateSystem | str:
    """The declared system, after checking that (x, y) can be coordinates in it (an :class:`InputError` if not).

    Longitude and latitude swapped are kept as submitted: the origin check flags them.
    """
    system = parse_system(crs)
    if not is_geographic(system):
        return system
    if abs(x) <= 180 and abs(y) <= 90:
        return system
    if abs(y) <= 180 and abs(x) <= 90:
        return system  # latitude and longitude swapped: kept as submitted, the check flags it
    if abs(x) > 1000 or abs(y) > 1000:
        raise InputError(
            "x",
            f"({x:g}, {y:g}) are not degrees in {system}; projected coordinates need their "
            "EPSG code as crs (e.g. EPSG:4549)",
        )
    raise InputError("y" if abs(y) > 90 else "x", f"({x:g}, {y:g}) is not a longitude/latitude pair")


@lru_cache(maxsize=256)
def parse_system(crs: str | None) -> CoordinateSystem | str:
    """The declared coordinate system, or an :class:`InputError` on field ``crs``."""
    from geo_data.crs import UnknownCRSError

    try:
        return parse_crs(crs)
    except UnknownCRSError as exc:
        raise InputError("crs", str(exc).removeprefix("crs: ")) from exc


def _first_problem(exc: ValidationError) -> InputError:
    first = exc.errors(include_url=False)[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InputError):
        return cause  # a cross-field rule names its own field
    name = ".".join(str(p) for p in first["loc"]) or "sample"
    return InputError(name, str(first["msg"]).removeprefix("Value error, "))


def parse_sample(data: SampleInput | Mapping[str, Any]) -> SampleInput:
    """Validate submitted fields; the first problem becomes an :class:`InputError` naming the field."""
    if isinstance(data, SampleInput):
        data = data.model_dump()
    try:
        return SampleInput.model_validate(data)
    except ValidationError as exc:
        raise _first_problem(exc) from exc


def _row_validator() -> Any:
    """A validator of plain rows with exactly :class:`SampleInput`'s fields and per-field rules (no model built)."""
    fields: dict[str, Any] = {}
    for name, info in SampleInput.model_fields.items():
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[name] = Required[annotation] if info.is_required() else NotRequired[annotation]
    row_type = TypedDict("SampleRow", fields)  # type: ignore[misc]  # built from the model's fields
    row_type.__pydantic_config__ = SampleInput.model_config  # type: ignore[attr-defined]
    return TypeAdapter(row_type).validator


_ROW = _row_validator()
_DEFAULTS = {
    name: info.default
    for name, info in SampleInput.model_fields.items()
    if not info.is_required() and info.default is not None
}


def validate_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of one submitted row, validated as :func:`parse_sample` validates them, as a plain dict.

    Each field gets its declared type, constraints and default; the cross-field rules are the same functions.
    """
    try:
        values = _ROW.validate_python(data)
    except ValidationError as exc:
        raise _first_problem(exc) from exc
    row = {**_DEFAULTS, **values}
    check_coordinates(row["crs"], row["x"], row["y"])
    check_production_date(row.get("production_date"), row["collected_at"])
    return row


# --------------------------------------------------------------------------------------------- identity


class SampleContent(NamedTuple):
    """A validated sample with its references resolved: the stored columns, plus what the check needs."""

    id: uuid.UUID
    product_id: int
    producer_id: int | None
    task_id: int | None
    collected_at: datetime
    submitted_x: float
    submitted_y: float
    declared_crs: str
    gps_accuracy_m: float | None
    location_source: LocationSource
    lot_number: str | None
    lot_size: int | None
    seal_code: str | None
    collector_id: int | None
    source: str | None
    notes: str | None
    labelled_producer: str | None
    labelled_address: str | None
    sampled_at: SampledAt | None
    outlet_name: str | None
    outlet_address: str | None
    specification: str | None
    production_date: date | None
    product_code: str
    system: CoordinateSystem | str
    x_text: str | None
    y_text: str | None


_NAMESPACE_BYTES = SAMPLE_NAMESPACE.bytes


@lru_cache(maxsize=1024)
def _utc_text(moment: datetime) -> str:
    # Equal moments are the same instant (or, naive, the same fields): one UTC text, computed once for a file's
    # rows that share it.
    return moment.astimezone(UTC).isoformat()


def content_id(
    product_id: int,
    collected_at: datetime,
    x: float,
    y: float,
    system: CoordinateSystem | str,
    lot_number: str | None,
    collector_id: int | None,
    producer_id: int | None,
    task_id: int | None,
    label: tuple[str | None, str | None, date | None] = (None, None, None),
) -> uuid.UUID:
    """The UUID of a sample submitted without one, from what identifies it, normalized.

    Numbers enter as numbers (``120.123810`` and ``120.12381`` are one value; -0.0 is 0.0), the moment in UTC,
    the coordinate system by its canonical name, producer and collector by their ids. ``label`` is the labelled
    producer, specification and production date: two packages of different labels taken at one stall in the
    same minute are two samples. A sample without a label keeps the identity it had before labels were read.
    """
    key = (
        f"{product_id}|{_utc_text(collected_at)}|{x + 0.0!r}|{y + 0.0!r}|{system}|"
        f"{lot_number or ''}|{collector_id or ''}|{producer_id or ''}|{task_id or ''}"
    )
    if label[0] is not None or label[1] is not None or label[2] is not None:
        maker, specification, made_on = label
        key += f"|{maker or ''}|{specification or ''}|{made_on.isoformat() if made_on else ''}"
    return key_id(key)


_VERSION_5_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_VERSION_5_SET = (0x8000 << 48) | (5 << 76)
_new_uuid = object.__new__
_set = object.__setattr__


def key_id(key: str) -> uuid.UUID:
    """``uuid.uuid5(SAMPLE_NAMESPACE, key)``: the identity of a content key (see :func:`content_id`).

    Built from the SHA-1 digest's integer directly (what ``uuid.UUID(bytes=..., version=5)`` computes, without its
    argument checks) and without re-reading the namespace's bytes, for each of a million rows.
    """
    digest = hashlib.sha1(_NAMESPACE_BYTES + key.encode()).digest()
    made: uuid.UUID = _new_uuid(uuid.UUID)
    _set(made, "int", int.from_bytes(digest[:16]) & _VERSION_5_CLEAR | _VERSION_5_SET)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made


# Fields whose difference makes a re-submitted UUID a different sample, as (name the submitter knows, stored
# column). Everything that matters to a verdict or the record: position, system, accuracy, source, time, product,
# producer, task, lot, seal, collector, notes, and what the notice prints (label, sampled unit, specification, date).
CONFLICT_FIELDS: tuple[tuple[str, str], ...] = (
    ("product", "product_id"),
    ("collected_at", "collected_at"),
    ("x", "submitted_x"),
    ("y", "submitted_y"),
    ("crs", "declared_crs"),
    ("gps_accuracy_m", "gps_accuracy_m"),
    ("location_source", "location_source"),
    ("producer", "producer_id"),
    ("task_id", "task_id"),
    ("lot_number", "lot_number"),
    ("lot_size", "lot_size"),
    ("seal_code", "seal_code"),
    ("collector", "collector_id"),
    ("notes", "notes"),
    ("labelled_producer", "labelled_producer"),
    ("labelled_address", "labelled_address"),
    ("sampled_at", "sampled_at"),
    ("outlet_name", "outlet_name"),
    ("outlet_address", "outlet_address"),
    ("specification", "specification"),
    ("production_date", "production_date"),
)


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, LocationSource | SampledAt):
        return value.value
    if isinstance(value, float):
        return value + 0.0
    return value


def differences(stored: Mapping[str, Any], submitted: SampleContent) -> dict[str, tuple[Any, Any]]:
    """The fields of :data:`CONFLICT_FIELDS` in which a stored sample and a submission differ: name -> (stored,
    submitted). Empty when they are the same sample."""
    found = {}
    for name, column in CONFLICT_FIELDS:
        old, new = stored[column], getattr(submitted, column)
        if _comparable(old) != _comparable(new):
            found[name] = (old, new)
    return found


def conflict_message(
    sample_id: uuid.UUID, found: Mapping[str, tuple[Any, Any]], names: Mapping[str, str] | None = None
) -> str:
    """One line naming the differing fields of a conflicting re-submission (by ``names``: a file's own column
    headers, when given)."""
    from gi.errors import field_list

    def shown(value: Any) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, LocationSource | SampledAt):
            return value.value
        if isinstance(value, date):
            return value.isoformat()
        return "empty" if value is None else str(value)

    names = names or {}
    parts = [
        f"{names.get(name, name)} {shown(old)} -> {shown(new)}"
        for name, (old, new) in found.items()
        if name != "notes"
    ]
    if "notes" in found:
        parts.append(names.get("notes", "notes"))
    return (
        f"sample {sample_id} is already stored with other content: {field_list(parts)} differ; "
        "a correction is a new sample"
    )
