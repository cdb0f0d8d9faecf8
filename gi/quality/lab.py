"""Lab results of samples: import a results file (CSV or Excel), validate every row against the sample's product
(its specification indicators and origin-fingerprint variables), convert units, and store — all rows or none."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import String, cast, select, tuple_
from sqlalchemy.orm import Session

from geo_data.lab_files import LabFileError, LabRow, RowProblem, read_lab_rows
from gi import clock
from gi.errors import InputError, NotFoundError
from gi.models import GIProduct, LabResult, QualitySpec, Sample
from gi.quality.fingerprint import fingerprint_variables
from gi.quality.units import indicator_kind, may_be_negative, to_spec_unit


class LabImportError(InputError):
    """A results file with rows that cannot be stored; ``problems`` lists each one with its row number."""

    def __init__(self, source: str, problems: list[RowProblem]) -> None:
        shown = "; ".join(p.text() for p in problems[:3])
        more = f"; … and {len(problems) - 3} more" if len(problems) > 3 else ""
        super().__init__(source, f"{len(problems)} row problem(s), nothing imported — {shown}{more}")
        self.problems = problems


@dataclass(frozen=True)
class IndicatorInfo:
    """What a lab result may report for a product: a specification indicator or a fingerprint variable."""

    code: str
    name_zh: str
    units: tuple[str, ...]  # units it can be converted to (spec units, or the reference set's unit)
    source: str  # "specification" | "fingerprint"


@dataclass
class ImportReport:
    """What an import stored."""

    source: str
    results: list[LabResult] = field(default_factory=list)

    @property
    def sample_ids(self) -> list[uuid.UUID]:
        """The samples that received results, in file order."""
        return list(dict.fromkeys(r.sample_id for r in self.results))


def resolve_sample(session: Session, key: str) -> Sample:
    """A sample by its UUID or an unambiguous prefix of it (at least 8 hex digits)."""
    text = key.strip().lower()
    try:
        sample = session.get(Sample, uuid.UUID(text))
    except ValueError:
        sample = None
        if len(text.replace("-", "")) >= 8 and all(c in "0123456789abcdef-" for c in text):
            matches = session.scalars(
                select(Sample).where(cast(Sample.id, String).like(f"{text}%")).limit(2)
            ).all()
            if len(matches) > 1:
                raise InputError(
                    "sample_id", f"{key!r} matches more than one sample; give more digits"
                ) from None
            sample = matches[0] if matches else None
    if sample is None:
        raise NotFoundError(f"sample_id: no sample {key!r}")
    return sample


def indicator_catalogue(session: Session, product: GIProduct) -> dict[str, IndicatorInfo]:
    """Every indicator a result may report for ``product``, keyed by lower-case code and by Chinese name."""
    units: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for spec in session.scalars(
        select(QualitySpec)
        .where(QualitySpec.product_id == product.id)
        .order_by(QualitySpec.valid_from.desc(), QualitySpec.id)
    ):
        units.setdefault(spec.indicator_code, [])
        if spec.unit not in units[spec.indicator_code]:
            units[spec.indicator_code].append(spec.unit)
        names.setdefault(spec.indicator_code, spec.name_zh)
    catalogue: dict[str, IndicatorInfo] = {}
    for code, spec_units in units.items():
        info = IndicatorInfo(code, names[code], tuple(spec_units), "specification")
        catalogue[code.lower()] = info
        catalogue.setdefault(names[code], info)
    for code, unit in fingerprint_variables(product.code).items():
        catalogue.setdefault(code.lower(), IndicatorInfo(code, code, (unit,), "fingerprint"))
    return catalogue


def _known_codes(catalogue: dict[str, IndicatorInfo]) -> str:
    return ", ".join(sorted({i.code for i in catalogue.values()}, key=str.lower)) or "none"


def convert_to_catalogue_unit(info: IndicatorInfo, value: Decimal, unit: str) -> tuple[Decimal, str]:
    """The value in the first unit of ``info`` it converts to; the first failure is raised if none."""
    first_error: InputError | None = None
    for target in info.units:
        try:
            return to_spec_unit(info.code, value, unit, target, info.name_zh), target
        except InputError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def add_results(
    session: Session, rows: Sequence[LabRow], source: str | None = None, problems: Sequence[RowProblem] = ()
) -> ImportReport:
    """Validate and store result rows; every problem (with those found reading the file) is collected and
    nothing is stored if there is one."""
    source = source or "results"
    problems = list(problems)
    samples: dict[str, Sample] = {}
    catalogues: dict[int, dict[str, IndicatorInfo]] = {}
    grades: dict[int, set[str]] = {}
    pending: list[tuple[LabRow, LabResult]] = []
    declared: dict[uuid.UUID, tuple[str, int]] = {}

    from gi.quality.judge import collection_date, grade_matches  # the grade vocabulary is the specification's

    today = clock.today()
    for row in rows:
        try:
            sample = samples.get(row.sample) or resolve_sample(session, row.sample)
        except (InputError, NotFoundError) as exc:
            problems.append(RowProblem(row.row, "sample_id", exc.detail))
            continue
        samples[row.sample] = sample
        # A test date after today or before the sampling is a typo; stored, it would also become the "latest"
        # result that judging uses (latest by test date) and hide every later correction.
        if row.tested_on > today:
            problems.append(
                RowProblem(row.row, "tested_on", f"{row.tested_on} is in the future (today is {today})")
            )
            continue
        collected = collection_date(sample)
        if row.tested_on < collected:
            problems.append(
                RowProblem(
                    row.row, "tested_on", f"{row.tested_on} is before the sample was collected ({collected})"
                )
            )
            continue
        product = sample.product
        catalogue = catalogues.get(product.id)
        if catalogue is None:
            catalogue = catalogues[product.id] = indicator_catalogue(session, product)
        info = catalogue.get(row.indicator.strip().lower()) or catalogue.get(row.indicator.strip())
        if info is None:
            problems.append(
                RowProblem(
                    row.row,
                    "indicator",
                    f"unknown indicator {row.indicator!r} for "
                    f"{product.name_zh} ({product.code}); known: {_known_codes(catalogue)}",
                )
            )
            continue
        try:
            converted, target = convert_to_catalogue_unit(info, row.value, row.unit)
        except InputError as exc:
            problems.append(RowProblem(row.row, "unit", exc.problem))
            continue
        kind = indicator_kind(info.code, target, info.name_zh)
        if row.value < 0 and not may_be_negative(kind):
            problems.append(
                RowProblem(
                    row.row,
                    "value",
                    f"{row.value} {row.unit}: {info.code} ({info.name_zh}, a {kind.value.replace('_', ' ')}) "
                    "cannot be negative",
                )
            )
            continue
        if row.grade:
            known = grades.get(product.id)
            if known is None:
                known = grades[product.id] = {
                    g
                    for g in session.scalars(
                        select(QualitySpec.grade).where(
                            QualitySpec.product_id == product.id, QualitySpec.grade.is_not(None)
                        )
                    )
                    if g
                }
            if not any(grade_matches(g, row.grade) for g in known):
                problems.append(
                    RowProblem(
                        row.row,
                        "grade",
                        f"{row.grade!r} is not a grade or class of "
                        f"{product.name_zh} (known: {', '.join(sorted(known)) or 'none'})",
                    )
                )
                continue
            earlier = declared.get(sample.id)
            if earlier and earlier[0] != row.grade:
                problems.append(
                    RowProblem(
                        row.row,
                        "grade",
                        f"sample declared {earlier[0]!r} in row {earlier[1]} and {row.grade!r} here",
                    )
                )
                continue
            declared[sample.id] = (row.grade, row.row)
        pending.append(
            (
                row,
                LabResult(
                    sample_id=sample.id,
                    indicator_code=info.code,
                    value=row.value,
                    censored=row.censored,
                    unit=row.unit,
                    value_converted=converted,
                    converted_unit=target,
                    uncertainty=row.uncertainty,
                    coverage_factor=row.coverage_factor,
                    method=row.method,
                    laboratory=row.laboratory,
                    tested_on=row.tested_on,
                    declared_grade=row.grade,
                    source_file=source,
                    source_row=row.row,
                ),
            )
        )

    if pending:
        keys = [(r.sample_id, r.indicator_code, r.laboratory, r.tested_on) for _, r in pending]
        stored = {
            (s, i, lab, d): (f, n)
            for s, i, lab, d, f, n in session.execute(
                select(
                    LabResult.sample_id,
                    LabResult.indicator_code,
                    LabResult.laboratory,
                    LabResult.tested_on,
                    LabResult.source_file,
                    LabResult.source_row,
                ).where(
                    tuple_(
                        LabResult.sample_id,
                        LabResult.indicator_code,
                        LabResult.laboratory,
                        LabResult.tested_on,
                    ).in_(keys)
                )
            )
        }
        seen: dict[tuple, int] = {}
        for (row, result), key in zip(pending, keys, strict=True):
            if key in stored:
                where = stored[key]
                origin = f"{where[0]} row {where[1]}" if where[0] else "an earlier import"
                problems.append(
                    RowProblem(
                        row.row,
                        "row",
                        f"duplicate result: {result.indicator_code} of this "
                        f"sample by {result.laboratory} on {result.tested_on} is already stored"
                        f" (from {origin})",
                    )
                )
            elif key in seen:  # the same indicator named by code in one row and by Chinese name in another
                problems.append(
                    RowProblem(
                        row.row,
                        "row",
                        f"duplicate of row {seen[key]}: the same sample, indicator, laboratory and test date",
                    )
                )
            else:
                seen[key] = row.row
    if problems:
        problems.sort(key=lambda p: p.row)
        raise LabImportError(source, problems)
    report = ImportReport(source)
    for _, result in pending:
        session.add(result)
        report.results.append(result)
    session.flush()
    return report


def import_results(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Read a CSV or .xlsx results file and store its rows (all or none)."""
    path = Path(path)
    try:
        rows, problems = read_lab_rows(path, sheet)
    except LabFileError as exc:
        if exc.problems:
            raise LabImportError(path.name, exc.problems) from exc
        raise InputError(path.name, exc.detail) from exc
    return add_results(session, rows, path.name, problems)


def results_of(session: Session, sample_id: uuid.UUID) -> list[LabResult]:
    """A sample's stored results, by indicator then newest test first."""
    return list(
        session.scalars(
            select(LabResult)
            .where(LabResult.sample_id == sample_id)
            .order_by(LabResult.indicator_code, LabResult.tested_on.desc(), LabResult.id.desc())
        )
    )
