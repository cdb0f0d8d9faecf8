"""Many rows at once: what :func:`~gi.origin.fields.validate_row` and :func:`~gi.origin.references.prepare_sample`
give each row, worked out column by column.

A batch's rows mostly repeat a few values (one product code, one moment, one CRS per upload) and type their
numbers plainly. :func:`prepare_rows` validates each distinct value of a column once, with the field's own
validator (:func:`field_validator`, built from :class:`~gi.origin.fields.SampleInput` as the row validator is),
and reads plain values inline: ASCII text with nothing to strip, decimals such as ``120.12381``, floats. A row it
cannot prove valid that way (any field refused, a missing field, an unknown key, a reference that needs a look-up
of its own: producer, collector, plan task, seal codes) is left to the per-row path, so a refused row gets
exactly today's field and problem, and a row taken here exactly today's values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import TypeAdapter, ValidationError

from gi.errors import InputError
from gi.models import LocationSource
from gi.origin.fields import (
    SampleContent,
    SampleInput,
    check_coordinates,
    check_production_date,
    content_id,
    parse_system,
)
from gi.origin.references import References

# A row left to the per-row path (validate_row, then prepare_sample).
SLOW: Any = object()
_ABSENT: Any = object()
_MISSING: Any = object()

# Decimals both Python's float() and pydantic's parser read to the same, correctly rounded double.
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?").fullmatch
_UNSIGNED = re.compile(r"[0-9]+(?:\.[0-9]+)?").fullmatch
# Optional text fields with no rule but blank-is-None, strip and a length limit: a plain value is taken as is.
_TEXT_FIELDS = (
    "lot_number",
    "notes",
    "source",
    "labelled_producer",
    "labelled_address",
    "outlet_name",
    "outlet_address",
    "specification",
    "x_text",
    "y_text",
)
# References looked up row by row (seal codes are claimed in row order): rows giving one go the per-row path.
_LOOKED_UP = frozenset({"producer", "collector", "task_id", "seal_code"})
_FIELDS = frozenset(SampleInput.model_fields)
_REQUIRED = tuple(name for name, info in SampleInput.model_fields.items() if info.is_required())


@cache
def field_validator(name: str) -> Any:
    """A validator of one field of :class:`SampleInput`: its declared type, constraints and the model's config."""
    info = SampleInput.model_fields[name]
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(annotation, config=SampleInput.model_config).validator  # type: ignore[arg-type]


def _exact(name: str) -> Callable[[Any], Any]:
    validate = field_validator(name).validate_python

    def convert(value: Any) -> Any:
        try:
            return validate(value)
        except ValidationError:
            return SLOW

    return convert


def _limit(name: str) -> int:
    return next(
        (m.max_length for m in SampleInput.model_fields[name].metadata if isinstance(m, MaxLen)), 1 << 62
    )


def _plain(value: Any, limit: int) -> bool:
    """Text the field's validator returns as it is: ASCII, not blank, nothing to strip, within the limit."""
    return (
        type(value) is str
        and value.isascii()
        and 0 < len(value) <= limit
        and not value[0].isspace()
        and not value[-1].isspace()
    )


def _text(name: str, optional: bool = True) -> Callable[[Any], Any]:
    exact, limit = _exact(name), _limit(name)

    def convert(value: Any) -> Any:
        if value is None and optional:
            return None
        return value if _plain(value, limit) else exact(value)

    return convert


def _coordinate(name: str) -> Callable[[Any], Any]:
    exact = _exact(name)

    def convert(value: Any) -> Any:
        kind = type(value)
        if kind is float:
            return value if math.isfinite(value) else SLOW
        if kind is str and _DECIMAL(value):
            number = float(value)
            return number if math.isfinite(number) else SLOW
        return exact(value)

    return convert


def _accuracy_converter() -> Callable[[Any], Any]:
    exact = _exact("gps_accuracy_m")

    def convert(value: Any) -> Any:
        kind = type(value)
        if value is None:
            return None
        if kind is float and math.isfinite(value) and value >= 0:
            return value
        if kind is str and _UNSIGNED(value):
            number = float(value)
            return number if math.isfinite(number) else SLOW
        return exact(value)

    return convert


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "x": _coordinate("x"),
    "y": _coordinate("y"),
    "gps_accuracy_m": _accuracy_converter(),
    "product": _text("product", optional=False),
    "crs": _text("crs", optional=False),
    **{name: _text(name) for name in _TEXT_FIELDS},
}
# Columns whose values mostly repeat: each distinct text is validated once.
_UNIQUE = frozenset({"x", "y", "x_text", "y_text", "lot_number", "id", "notes"})


def _column(values: list[Any], convert: Callable[[Any], Any], repeated: bool) -> list[Any]:
    if not repeated:
        return list(map(convert, values))
    done: dict[str, Any] = {}
    out = []
    for value in values:
        if type(value) is str:
            result = done.get(value, _MISSING)
            if result is _MISSING:
                result = done[value] = convert(value)
        else:
            result = convert(value)
        out.append(result)
    return out


def prepare_rows(
    refs: References,
    rows: Sequence[Mapping[str, Any]],
    source: str | None = None,
    moments: dict[str, Any] | None = None,
) -> list[SampleContent | None]:
    """For each row, the :class:`SampleContent` that ``prepare_sample(refs, validate_row(row), source)`` gives it,
    or None where the row is left to that per-row path (a refused row, or anything unusual).

    ``moments`` (collection-time text -> the datetime already used for it) lets rows that type the same moment
    share one object, as the batch's per-row path does.
    """
    n = len(rows)
    present: set[str] = set()
    for data in rows:
        present.update(data)
    slow = [False] * n
    if not present <= _FIELDS or present & _LOOKED_UP:
        for i, data in enumerate(rows):
            if not data.keys() <= _FIELDS or any(data.get(name) is not None for name in _LOOKED_UP):
                slow[i] = True
    columns: dict[str, list[Any]] = {}
    for name in present & _FIELDS - _LOOKED_UP:
        values = [data.get(name, _ABSENT) for data in rows]
        convert = _CONVERTERS.get(name) or _exact(name)
        converted = _column(values, convert, name not in _UNIQUE)
        for i, (value, result) in enumerate(zip(values, converted, strict=True)):
            if result is SLOW or value is _ABSENT:
                converted[i] = _ABSENT
                if value is not _ABSENT or name in _REQUIRED:
                    slow[i] = True
        columns[name] = converted
    for name in _REQUIRED:
        if name not in columns:
            return [None] * n

    if moments is not None:
        typed = [data.get("collected_at") for data in rows]
        stamps = columns["collected_at"]
        for i, (text, moment) in enumerate(zip(typed, stamps, strict=True)):
            if type(text) is str and not slow[i]:
                stamps[i] = moments.setdefault(text, moment)

    def optional(name: str, default: Any = None) -> list[Any]:
        values = columns.get(name)
        if values is None:
            return [default] * n
        return [default if v is _ABSENT else v for v in values]

    products = columns["product"]
    moments_ = columns["collected_at"]
    xs, ys = columns["x"], columns["y"]
    crs = optional("crs", "WGS84")
    ids = optional("id")
    location_source = optional("location_source", LocationSource.DEVICE_GPS)
    accuracy, lot_number, lot_size = optional("gps_accuracy_m"), optional("lot_number"), optional("lot_size")
    notes, own_source = optional("notes"), optional("source")
    labelled_producer, labelled_address = optional("labelled_producer"), optional("labelled_address")
    sampled_at, outlet_name = optional("sampled_at"), optional("outlet_name")
    outlet_address, specification = optional("outlet_address"), optional("specification")
    production_date, x_text, y_text = optional("production_date"), optional("x_text"), optional("y_text")

    product_refs: dict[str, Any] = {}
    systems: dict[str, Any] = {}
    out: list[SampleContent | None] = [None] * n
    for i in range(n):
        if slow[i]:
            continue
        key = products[i]
        product = product_refs.get(key, _MISSING)
        if product is _MISSING:
            try:
                product = product_refs[key] = refs.product(key)
            except InputError:
                product = product_refs[key] = None
        if product is None:
            continue
        x, y, moment, declared = xs[i], ys[i], moments_[i], crs[i]
        system = systems.get(declared, _MISSING)
        if system is _MISSING:
            try:
                system = systems[declared] = parse_system(declared)
            except InputError:
                system = systems[declared] = None
        if system is None:
            continue
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            try:
                check_coordinates(declared, x, y)
            except InputError:
                continue
        made_on = production_date[i]
        if made_on is not None:
            try:
                check_production_date(made_on, moment)
            except InputError:
                continue
        lot, maker, spec = lot_number[i], labelled_producer[i], specification[i]
        sample_id = ids[i] or content_id(
            product.id, moment, x, y, system, lot, None, None, None, (maker, spec, made_on)
        )
        out[i] = SampleContent(
            sample_id,
            product.id,
            None,
            None,
            moment,
            x,
            y,
            str(system),
            accuracy[i],
            location_source[i],
            lot,
            lot_size[i],
            None,
            None,
            own_source[i] or source,
            notes[i],
            maker,
            labelled_address[i],
            sampled_at[i],
            outlet_name[i],
            outlet_address[i],
            spec,
            made_on,
            product.code,
            system,
            x_text[i],
            y_text[i],
        )
    return out
