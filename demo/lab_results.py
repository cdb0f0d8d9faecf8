"""Simulated lab results for the demo's simulated samples (clearly labelled: laboratory "模拟实验室（演示数据）").

Per sample, reproducibly (the random stream is seeded by the seed and the sample's UUID, so the order of samples
does not matter): one scenario for the quality indicators — conforming (most), one indicator clearly failing,
one indicator within its expanded uncertainty of a limit (inconclusive under a guard-band rule), or a mandatory
indicator not tested — and, for products with an origin-fingerprint reference set, isotope/element values drawn
from the claimed area's reference population or, for a share of samples (more of them when the GPS verdict is
outside), from another area of the same commodity. Some results are reported in an equivalent unit (g/kg for %,
µg/g for mg/kg, g/L for g/100 mL) and contaminants mostly below the quantification limit ("<0.1").
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from sqlalchemy.orm import Session

from geo_data.lab_files import LabRow
from geo_data.reference_sets import ReferenceSet
from gi import clock
from gi.errors import InputError
from gi.models import OriginOutcome, QualitySpec, Sample
from gi.quality.decision import decimal_exponent
from gi.quality.fingerprint import load_reference_sets
from gi.quality.judge import collection_date, specs_at
from gi.quality.units import normalize_unit, to_spec_unit
from gi.reads.verdicts import latest_of

SIMULATED_LAB = "模拟实验室（演示数据）"  # Chinese documents print it: no English gloss
ISOTOPE_LAB = "模拟同位素实验室（演示数据）"
SCENARIOS = (("conforming", 0.70), ("fail", 0.12), ("near_limit", 0.12), ("missing", 0.06))
CONTAMINANTS = {"lead", "cadmium", "lead_release", "cadmium_release"}
# Equivalent units a lab may use instead of the specification's (value factor from the spec unit).
ALTERNATIVE_UNITS = {
    "%": ("g/kg", Decimal(10)),
    "mg/kg": ("µg/g", Decimal(1)),
    "g/100ml": ("g/L", Decimal(10)),
    "mg/100ml": ("mg/L", Decimal(10)),
    "g/100g": ("g/kg", Decimal(10)),
    "count/50g": ("count/100g", Decimal(2)),
    "mg/l": ("µg/mL", Decimal(1)),
}


@dataclass(frozen=True)
class SimulatedSample:
    """What the simulation chose for one sample (for the demo's narrative and the tests)."""

    sample_id: uuid.UUID
    scenario: str
    target_indicator: str | None
    grade: str | None
    fingerprint_from: str | None  # product code of the population the isotope values were drawn from


def _round(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def _places(spec: QualitySpec) -> int:
    bounds = [Decimal(b) for b in (spec.lower_limit, spec.upper_limit) if b is not None]
    digits = max((-decimal_exponent(b.normalize()) for b in bounds), default=0)
    return max(1, min(4, digits + 1))


def _value(spec: QualitySpec, mode: str, rng: random.Random) -> tuple[float, float]:
    """(value, expanded uncertainty U) in the spec unit: passing, failing, or straddling a limit."""
    lo = None if spec.lower_limit is None else float(spec.lower_limit)
    hi = None if spec.upper_limit is None else float(spec.upper_limit)
    if mode == "near_limit":
        limit = lo if lo is not None else hi
        assert limit is not None
        u = abs(limit) * 0.04 or 0.05
        return limit + rng.uniform(-0.5, 0.5) * u, u
    if lo is not None and hi is not None:
        span = hi - lo
        value = (
            lo + span * rng.uniform(0.3, 0.7)
            if mode != "fail"
            else (
                hi + span * rng.uniform(0.15, 0.4)
                if rng.random() < 0.5
                else lo - span * rng.uniform(0.15, 0.4)
            )
        )
    elif lo is not None:
        value = lo * rng.uniform(1.06, 1.35) if mode != "fail" else lo * rng.uniform(0.7, 0.9)
        if lo <= 0:
            value = lo + rng.uniform(1, 5) if mode != "fail" else lo - rng.uniform(1, 5)
    else:
        assert hi is not None
        value = hi * rng.uniform(0.45, 0.85) if mode != "fail" else hi * rng.uniform(1.1, 1.35)
    return value, abs(value) * 0.03


def _convertible(spec: QualitySpec, unit: str) -> bool:
    try:
        to_spec_unit(spec.indicator_code, Decimal(1), unit, spec.unit, spec.name_zh)
    except InputError:
        return False
    return True


def _fingerprint_draw(ref: ReferenceSet, rng: np.random.Generator) -> dict[str, float]:
    """One synthetic sample from a reference population (normal in its transformed space)."""
    codes = list(ref.variables)
    rows = np.array(ref.complete_rows(codes), dtype=float)
    log = [ref.variables[c].transform == "log10" for c in codes]
    for j, is_log in enumerate(log):
        if is_log:
            rows[:, j] = np.log10(rows[:, j])
    x = rng.multivariate_normal(rows.mean(axis=0), np.cov(rows.T))
    return {c: float(10**v) if is_log else float(v) for c, v, is_log in zip(codes, x, log, strict=True)}


def simulate_results(
    session: Session, samples: Sequence[Sample], seed: int = 2025, mismatch_share: float = 0.12
) -> tuple[list[LabRow], list[SimulatedSample]]:
    """Simulated result rows for ``samples`` (not stored) and what was chosen for each sample."""
    references = load_reference_sets()
    rows: list[LabRow] = []
    chosen: list[SimulatedSample] = []
    row_no = 1
    origins = latest_of(session, "origin", [s.id for s in samples])  # the current verdicts, in one query
    for sample in samples:
        rng = random.Random(f"{seed}:{sample.id}")
        np_rng = np.random.default_rng(rng.getrandbits(64))
        on = collection_date(sample)
        # Tested 5-20 days after sampling, but not after today: a sample of last week has today's results.
        tested_on = min(on + timedelta(days=rng.randint(5, 20)), max(on, clock.today()))
        specs = specs_at(session, sample.product_id, on)
        grades = sorted({s.grade for s in specs if s.grade})
        grade = rng.choice(grades) if grades else None
        applicable = [s for s in specs if s.grade in (None, grade)]
        scenario = rng.choices([s for s, _ in SCENARIOS], [w for _, w in SCENARIOS])[0]
        target = rng.choice(applicable) if applicable and scenario != "conforming" else None
        if scenario == "near_limit" and target is not None:
            limited = [s for s in applicable if s.indicator_code not in CONTAMINANTS]
            target = rng.choice(limited) if limited else target
        for spec in applicable:
            if target is not None and spec.id == target.id and scenario == "missing":
                continue
            mode = scenario if target is not None and spec.id == target.id else "pass"
            value, u = _value(spec, mode, rng)
            places = _places(spec)
            unit, factor = spec.unit, Decimal(1)
            alternative = ALTERNATIVE_UNITS.get(normalize_unit(spec.unit))
            if alternative and rng.random() < 0.2 and _convertible(spec, alternative[0]):
                unit, factor = alternative
            censored = None
            if spec.indicator_code in CONTAMINANTS and mode == "pass" and rng.random() < 0.6:
                censored, value, u = "<", float(spec.upper_limit or 1) * 0.1, 0.0
            reported = _round(value, places) * factor
            rows.append(
                LabRow(
                    row=row_no,
                    sample=str(sample.id),
                    indicator=spec.indicator_code,
                    value=reported.normalize(),
                    censored=censored,
                    unit=unit,
                    uncertainty=None if censored else (_round(u, places + 1) * factor),
                    coverage_factor=None if censored else Decimal(2),
                    method=spec.method_standard,
                    laboratory=SIMULATED_LAB,
                    tested_on=tested_on,
                    grade=grade,
                )
            )
            row_no += 1
        source_code = None
        own = [r for r in references if r.product_code == sample.product.code]
        if own:
            others = [
                r
                for r in references
                if r.commodity == own[0].commodity
                and r.product_code != own[0].product_code
                and set(own[0].variables) <= set(r.variables)
            ]
            origin = origins.get(sample.id)
            share = 0.6 if origin is not None and origin.verdict is OriginOutcome.OUTSIDE else mismatch_share
            source = rng.choice(others) if others and rng.random() < share else own[0]
            source_code = source.product_code
            for code, value in _fingerprint_draw(source, np_rng).items():
                unit = own[0].variables[code].unit
                places = 2 if unit == "‰" else (1 if value >= 10 else 3)
                rows.append(
                    LabRow(
                        row=row_no,
                        sample=str(sample.id),
                        indicator=code,
                        value=_round(value, places).normalize(),
                        censored=None,
                        unit=unit,
                        uncertainty=Decimal("0.2") if unit == "‰" else None,
                        coverage_factor=Decimal(2) if unit == "‰" else None,
                        method="EA-IRMS" if unit == "‰" else "ICP-MS",
                        laboratory=ISOTOPE_LAB,
                        tested_on=tested_on,
                        grade=None,
                    )
                )
                row_no += 1
        chosen.append(
            SimulatedSample(
                sample.id, scenario, target.indicator_code if target else None, grade, source_code
            )
        )
    return rows, chosen
