"""Characteristic-quality control (特色质量控制): a sample's lab results against its product's specification.

- The specification used is the one valid on the sample's collection date (local date, Asia/Shanghai):
  ``valid_from <= date < valid_to`` (``valid_to`` is the first day a limit no longer applies, as for areas).
- The decision rule is the product's (``quality_rule``, latest ``valid_from`` on or before the collection date);
  a product with none is judged by simple acceptance on the full value (GB/T 8170-2008 4.3.1), the practice of
  Chinese product standards. The rules themselves are in gi.quality.decision (ILAC-G8:09/2019).
- Grades (等级) and product classes (雌蟹/雄蟹, 杯类 ...) with their own limits: a sample that declares one is judged
  against the limits for all grades plus that grade's; a sample that declares none is judged against each grade
  and the verdict names the grades it meets (``grades_met``) — its overall outcome is the best over the grades.
- Several results of one indicator (a re-test, 复检): the latest test date decides; every result id is stored.
- Every tested indicator counts, mandatory or not; a mandatory indicator with no result makes the sample
  inconclusive (never a pass) and is listed in ``missing_mandatory``.
- Overall: any fail -> fail; else any inconclusive or missing mandatory indicator -> inconclusive; else pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gi.errors import InputError
from gi.models import (
    DecisionRuleKind,
    GIProduct,
    LabResult,
    QualityOutcome,
    QualityRule,
    QualitySpec,
    QualityVerdict,
    Sample,
)
from gi.quality.decision import (
    Comparison,
    DecisionRule,
    Limit,
    Measurement,
    Outcome,
    RuleKind,
    combine,
    decide,
    plain_number,
)
from gi.quality.units import convert, indicator_kind
from gi.register.areas import as_aware, find_product
from gi.settings import get_settings

DEFAULT_RULE = DecisionRule(RuleKind.SIMPLE_ACCEPTANCE, Decimal(1), Comparison.FULL_VALUE)
_RANK = {Outcome.PASS: 2, Outcome.INCONCLUSIVE: 1, Outcome.FAIL: 0}


def grade_matches(spec_grade: str, declared: str) -> bool:
    """True when a declared grade names a specification grade: '雌蟹' and 'female' both name '雌蟹 (female)'."""
    declared = declared.strip().lower()
    spec = spec_grade.strip().lower()
    if declared == spec:
        return True
    head, _, rest = spec.partition(" (")
    return declared in (head.strip(), rest.rstrip(")").strip())


def collection_date(sample: Sample) -> date:
    """The local date (configured time zone) on which a sample was collected."""
    return as_aware(sample.collected_at).astimezone(ZoneInfo(get_settings().timezone)).date()


# ---------------------------------------------------------------------------------------------------- rules


def rule_at(session: Session, product_id: int, on: date) -> tuple[DecisionRule, QualityRule | None]:
    """The decision rule of a product in force on ``on`` (the default when none is stored)."""
    stored = session.scalars(
        select(QualityRule)
        .where(QualityRule.product_id == product_id, QualityRule.valid_from <= on)
        .order_by(QualityRule.valid_from.desc())
        .limit(1)
    )
    return _rule_in_force(stored, on)


def set_rule(
    session: Session,
    product_key: str,
    kind: str,
    guard_factor: Decimal | float | str = 1,
    comparison: str = Comparison.FULL_VALUE.value,
    valid_from: date | None = None,
    note: str | None = None,
) -> QualityRule:
    """Configure the decision rule of a product from ``valid_from`` (default: the earliest specification date)."""
    product = find_product(session, product_key)
    try:
        rule_kind = DecisionRuleKind(kind)
    except ValueError:
        raise InputError(
            "rule", f"{kind!r} is not one of {', '.join(k.value for k in DecisionRuleKind)}"
        ) from None
    try:
        comparison_kind = Comparison(comparison)
    except ValueError:
        raise InputError(
            "comparison", f"{comparison!r} is not one of {', '.join(c.value for c in Comparison)}"
        ) from None
    factor = Decimal(str(guard_factor))
    if factor < 0 or factor > 10:
        raise InputError("guard_factor", f"{factor} is not between 0 and 10")
    if valid_from is None:
        valid_from = session.scalar(
            select(func.min(QualitySpec.valid_from)).where(QualitySpec.product_id == product.id)
        ) or date(2000, 1, 1)
    stored = session.scalars(
        select(QualityRule).where(QualityRule.product_id == product.id, QualityRule.valid_from == valid_from)
    ).first()
    if stored is None:
        stored = QualityRule(product_id=product.id, valid_from=valid_from)
        session.add(stored)
    stored.kind, stored.guard_factor, stored.comparison, stored.note = (
        rule_kind,
        factor,
        comparison_kind.value,
        note,
    )
    session.flush()
    return stored


# ----------------------------------------------------------------------------------------------- evaluation


def specs_at(session: Session, product_id: int, on: date) -> list[QualitySpec]:
    """The product's limits valid on ``on``: per (indicator, grade) the one with the latest ``valid_from``."""
    rows = session.scalars(
        select(QualitySpec)
        .where(QualitySpec.product_id == product_id)
        .order_by(QualitySpec.indicator_code, QualitySpec.grade, QualitySpec.valid_from.desc())
    )
    return _in_force_specs(rows, on)


@dataclass(frozen=True)
class IndicatorOutcome:
    """One indicator (for one grade, or all grades) of one sample: the limit, the result used, the decision."""

    code: str
    name_zh: str
    grade: str | None
    limit: str
    unit: str
    outcome: Outcome
    statement: str
    reason: str
    mandatory: bool
    spec_id: int | None
    source: str
    value: str | None = None  # in the limit's unit
    uncertainty: str | None = None  # U in the limit's unit
    reported: str | None = None  # as the lab reported it
    result_id: int | None = None
    result_ids: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (numbers as exact decimal strings)."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "grade": self.grade,
            "limit": self.limit,
            "unit": self.unit,
            "outcome": self.outcome.value,
            "statement": self.statement,
            "reason": self.reason,
            "mandatory": self.mandatory,
            "spec_id": self.spec_id,
            "source": self.source,
            "value": self.value,
            "uncertainty": self.uncertainty,
            "reported": self.reported,
            "result_id": self.result_id,
            "result_ids": list(self.result_ids),
            "notes": list(self.notes),
        }


@dataclass
class QualityEvaluation:
    """The verdict on one sample before it is stored."""

    outcome: Outcome
    rule: DecisionRule
    declared_grade: str | None
    grades_met: list[str]
    indicators: list[IndicatorOutcome]
    missing_mandatory: list[str]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: failing, inconclusive and missing indicators."""
        parts = []
        for outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE):
            names = sorted(
                {
                    f"{i.name_zh}" + (f"[{i.grade}]" if i.grade else "")
                    for i in self.indicators
                    if i.outcome is outcome and i.result_id is not None
                }
            )
            if names:
                parts.append(f"{outcome.value}: {', '.join(names)}")
        if self.missing_mandatory:
            name_of = {i.code: i.name_zh for i in self.indicators}
            parts.append(f"not tested: {', '.join(name_of.get(c, c) for c in self.missing_mandatory)}")
        if self.grades_met and self.declared_grade is None:
            parts.append(f"meets: {', '.join(self.grades_met)}")
        return "; ".join(parts) or "all indicators pass"


def _reported(result: LabResult) -> str:
    text = f"{result.censored or ''}{plain_number(Decimal(result.value))} {result.unit}"
    if result.uncertainty is not None:
        text += f" ± {plain_number(Decimal(result.uncertainty))}"
        if result.coverage_factor is not None:
            text += f" (k={plain_number(Decimal(result.coverage_factor))})"
    return f"{text}; {result.laboratory}, {result.tested_on:%Y-%m-%d}"


def _decide_spec(spec: QualitySpec, results: Sequence[LabResult], rule: DecisionRule) -> IndicatorOutcome:
    limit = Limit(
        None if spec.lower_limit is None else Decimal(spec.lower_limit),
        None if spec.upper_limit is None else Decimal(spec.upper_limit),
        spec.lower_inclusive,
        spec.upper_inclusive,
    )
    # Every outcome of this spec carries the same description of the limit.
    outcome_of_spec = partial(
        IndicatorOutcome,
        code=spec.indicator_code,
        name_zh=spec.name_zh,
        grade=spec.grade,
        limit=limit.text(spec.unit),
        unit=spec.unit,
        mandatory=spec.mandatory,
        spec_id=spec.id,
        source=f"{spec.source_standard} {spec.clause}".strip(),
    )
    if not results:
        return outcome_of_spec(
            outcome=Outcome.INCONCLUSIVE,
            statement="not tested",
            reason="no result" + (" (mandatory indicator)" if spec.mandatory else ""),
        )
    result = results[0]  # latest test date first
    ids = tuple(r.id for r in results)
    notes: list[str] = []
    if len(results) > 1:
        notes.append(
            f"{len(results)} results; the latest ({result.tested_on:%Y-%m-%d}, {result.laboratory}) used"
        )
    try:
        kind = indicator_kind(spec.indicator_code, spec.unit, spec.name_zh)
        value = convert(Decimal(result.value), result.unit, spec.unit, kind, spec.indicator_code)
        u = (
            None
            if result.uncertainty is None
            else convert(Decimal(result.uncertainty), result.unit, spec.unit, kind, spec.indicator_code)
        )
    except InputError as exc:
        return outcome_of_spec(
            outcome=Outcome.INCONCLUSIVE,
            statement="not comparable",
            reason=exc.problem,
            reported=_reported(result),
            result_id=result.id,
            result_ids=ids,
            notes=tuple(notes),
        )
    decision = decide(Measurement(value, u, result.censored), limit, rule, spec.unit)
    return outcome_of_spec(
        outcome=decision.outcome,
        statement=decision.statement,
        reason=decision.reason,
        value=plain_number(value),
        uncertainty=None if u is None else plain_number(u),
        reported=_reported(result),
        result_id=result.id,
        result_ids=ids,
        notes=tuple(notes) + decision.notes,
    )


def evaluate(
    specs: Sequence[QualitySpec],
    results: Iterable[LabResult],
    rule: DecisionRule = DEFAULT_RULE,
    declared_grade: str | None = None,
) -> QualityEvaluation:
    """Judge results against the specification limits under ``rule`` (no database access)."""
    by_code: dict[str, list[LabResult]] = {}
    for r in sorted(results, key=lambda r: (r.tested_on, r.id or 0), reverse=True):
        by_code.setdefault(r.indicator_code, []).append(r)
    if not specs:
        return QualityEvaluation(
            Outcome.INCONCLUSIVE,
            rule,
            declared_grade,
            [],
            [],
            [],
            ["no specification limits valid on the collection date"],
        )
    common = [s for s in specs if s.grade is None]
    graded: dict[str, list[QualitySpec]] = {}
    for s in specs:
        if s.grade is not None:
            graded.setdefault(s.grade, []).append(s)
    if declared_grade and graded:
        matched = [g for g in graded if grade_matches(g, declared_grade)]
        if not matched:
            raise InputError(
                "grade",
                f"{declared_grade!r} is not a grade or class of this specification "
                f"(known: {', '.join(sorted(graded))})",
            )
        scenarios: list[str | None] = list(matched[:1])
    else:
        scenarios = list(sorted(graded)) if graded else [None]

    decided = {s.id: _decide_spec(s, by_code.get(s.indicator_code, []), rule) for s in specs}
    outcome_of: dict[str | None, Outcome] = {}
    missing_of: dict[str | None, list[str]] = {}
    for g in scenarios:
        applicable = common + (graded.get(g, []) if g is not None else [])
        missing = [s.indicator_code for s in applicable if s.mandatory and not by_code.get(s.indicator_code)]
        outcomes = [decided[s.id].outcome for s in applicable if by_code.get(s.indicator_code)]
        outcome_of[g] = (
            combine(outcomes + ([Outcome.INCONCLUSIVE] if missing else []))
            if applicable
            else Outcome.INCONCLUSIVE
        )
        missing_of[g] = missing
    best = max(scenarios, key=lambda g: _RANK[outcome_of[g]])
    shown = common + [s for g in scenarios if g is not None for s in graded[g]]
    missing = list(dict.fromkeys(code for g in scenarios for code in missing_of[g]))
    grades_met = [g for g in scenarios if g is not None and outcome_of[g] is Outcome.PASS]
    notes = []
    if declared_grade and not graded:
        notes.append(
            f"declared grade {declared_grade!r} not used: the specification has no grade-specific limits"
        )
    if graded and not declared_grade:
        notes.append("no grade declared: judged against every grade/class; overall = the best of them")
    return QualityEvaluation(
        outcome_of[best], rule, declared_grade, grades_met, [decided[s.id] for s in shown], missing, notes
    )


# ------------------------------------------------------------------------------------------------- storage


def _declared_grade(results: Sequence[LabResult]) -> str | None:
    grades = sorted({r.declared_grade for r in results if r.declared_grade})
    if len(grades) > 1:
        raise InputError("grade", f"the sample's results declare different grades: {', '.join(grades)}")
    return grades[0] if grades else None


def _in_force_specs(rows: Iterable[QualitySpec], on: date) -> list[QualitySpec]:
    """Of a product's limits ordered by (indicator, grade, valid_from desc): per (indicator, grade) the one in
    force on ``on``."""
    chosen: dict[tuple[str, str | None], QualitySpec] = {}
    for spec in rows:
        if spec.valid_from <= on and (spec.valid_to is None or spec.valid_to > on):
            chosen.setdefault((spec.indicator_code, spec.grade), spec)
    return list(chosen.values())


def _rule_in_force(stored: Iterable[QualityRule], on: date) -> tuple[DecisionRule, QualityRule | None]:
    """Of a product's stored rules, newest ``valid_from`` first: the one in force on ``on`` (or the default)."""
    for rule in stored:
        if rule.valid_from <= on:
            factor = Decimal(rule.guard_factor).normalize()
            return DecisionRule(RuleKind(rule.kind.value), factor, Comparison(rule.comparison)), rule
    return DEFAULT_RULE, None


def quality_verdict(
    sample: Sample,
    results: Sequence[LabResult],
    specs: Sequence[QualitySpec],
    rule: DecisionRule,
    stored_rule: QualityRule | None,
    declared_grade: str | None = None,
) -> QualityVerdict:
    """The (not yet stored) quality verdict of a sample from its results, the limits and the rule in force."""
    on = collection_date(sample)
    grade = declared_grade or _declared_grade(results)
    evaluation = evaluate(specs, results, rule, grade)
    return QualityVerdict(
        sample_id=sample.id,
        product_id=sample.product_id,
        outcome=QualityOutcome(evaluation.outcome.value),
        declared_grade=grade,
        grades_met=evaluation.grades_met,
        indicators=[i.as_dict() for i in evaluation.indicators],
        missing_mandatory=evaluation.missing_mandatory,
        rule=rule.describe(),
        rule_config={**rule.as_dict(), "quality_rule_id": stored_rule.id if stored_rule else None},
        inputs={
            "collected_on": on.isoformat(),
            "spec_ids": sorted(s.id for s in specs),
            "result_ids": sorted(r.id for r in results),
            "declared_grade": grade,
            "grade_source": "argument" if declared_grade else ("lab results" if grade else None),
            "notes": evaluation.notes,
            "summary": evaluation.summary(),
        },
    )


def check_sample_quality(
    session: Session,
    sample: Sample,
    declared_grade: str | None = None,
    rules: Mapping[int, DecisionRule] | None = None,
) -> QualityVerdict:
    """Judge a sample's stored results against its product's specification and store the verdict.

    ``rules`` (by product id) replace the products' stored decision rules for this judgement only: the
    configuration is left as it is, and the verdict records the rule it was judged by.
    """
    checks = check_samples(session, [sample], declared_grade, False, False, rules)
    return checks[0].quality


def samples_with_results(
    session: Session,
    sample_ids: Sequence[uuid.UUID] = (),
    product: GIProduct | None = None,
    collected_from: date | None = None,
    collected_to: date | None = None,
) -> list[Sample]:
    """Samples that have lab results, filtered by ids, product and local collection dates (both included)."""
    query = select(Sample).where(Sample.id.in_(select(LabResult.sample_id).distinct()))
    if sample_ids:
        query = query.where(Sample.id.in_(list(sample_ids)))
    if product is not None:
        query = query.where(Sample.product_id == product.id)
    if collected_from is not None:
        query = query.where(Sample.collected_at >= as_aware(collected_from))
    if collected_to is not None:
        query = query.where(Sample.collected_at < as_aware(date.fromordinal(collected_to.toordinal() + 1)))
    return list(session.scalars(query.order_by(Sample.collected_at, Sample.id)))


def select_samples(
    session: Session,
    sample_key: str | None = None,
    season: tuple[date | None, date | None] | None = None,
    product_key: str | None = None,
) -> list[Sample]:
    """The samples to judge: one sample (UUID or code), or those with lab results collected in ``season`` and/or
    of a product."""
    from gi.quality.lab import resolve_sample

    if sample_key is None and season is None and product_key is None:
        raise InputError("selection", "give a sample, a season or a product")
    if sample_key is not None:
        return [resolve_sample(session, sample_key)]
    start, end = season or (None, None)
    return samples_with_results(
        session,
        product=find_product(session, product_key) if product_key else None,
        collected_from=start,
        collected_to=end,
    )


def check_quality(session: Session, samples: Sequence[Sample]) -> list[QualityVerdict]:
    """Judge and store the quality verdict of each sample."""
    return [c.quality for c in check_samples(session, samples, with_fingerprint=False, with_evidence=False)]


# ------------------------------------------------------------------------------------------ all sample checks


@dataclass
class SampleCheck:
    """Everything the lab results say about one sample: quality, fingerprint and combined origin evidence."""

    sample: Sample
    quality: QualityVerdict
    fingerprint: Any  # FingerprintVerdict | None (imported lazily: fingerprint fitting needs scikit-learn)
    evidence: Any  # OriginEvidence


def check_samples(
    session: Session,
    samples: Sequence[Sample],
    declared_grade: str | None = None,
    with_fingerprint: bool = True,
    with_evidence: bool = True,
    rules: Mapping[int, DecisionRule] | None = None,
) -> list[SampleCheck]:
    """Quality verdict, fingerprint verdict and combined origin evidence of each sample, all stored
    (``rules``: decision rules by product id used instead of the stored ones, see check_sample_quality).

    The whole set is judged in a fixed number of queries (results, products, limits, rules, current origin
    verdicts, then the inserts), whatever its size."""
    from gi.quality.evidence import evidence_of
    from gi.quality.fingerprint import fingerprint_verdict, load_reference_sets
    from gi.reads.verdicts import any_of, latest_of

    if not samples:
        return []
    ids = [s.id for s in samples]
    product_ids = sorted({s.product_id for s in samples})
    # Loaded into the identity map, so that sample.product below needs no query of its own.
    list(session.scalars(select(GIProduct).where(GIProduct.id.in_(product_ids))))
    results: dict[uuid.UUID, list[LabResult]] = {i: [] for i in ids}
    for result in session.scalars(select(LabResult).where(any_of(LabResult.sample_id, ids))):
        results[result.sample_id].append(result)
    specs: dict[int, list[QualitySpec]] = {p: [] for p in product_ids}
    for spec in session.scalars(
        select(QualitySpec)
        .where(QualitySpec.product_id.in_(product_ids))
        .order_by(QualitySpec.indicator_code, QualitySpec.grade, QualitySpec.valid_from.desc())
    ):
        specs[spec.product_id].append(spec)
    stored_rules: dict[int, list[QualityRule]] = {p: [] for p in product_ids}
    for stored in session.scalars(
        select(QualityRule)
        .where(QualityRule.product_id.in_(product_ids))
        .order_by(QualityRule.valid_from.desc())
    ):
        stored_rules[stored.product_id].append(stored)

    qualities = []
    for sample in samples:
        on = collection_date(sample)
        if rules is not None and sample.product_id in rules:
            rule, stored_rule = rules[sample.product_id], None
        else:
            rule, stored_rule = _rule_in_force(stored_rules[sample.product_id], on)
        in_force = _in_force_specs(specs[sample.product_id], on)
        qualities.append(
            quality_verdict(sample, results[sample.id], in_force, rule, stored_rule, declared_grade)
        )
    session.add_all(qualities)
    fingerprints: list[Any] = [None] * len(samples)
    if with_fingerprint:
        sets = load_reference_sets()
        fingerprints = [fingerprint_verdict(s, results[s.id], sets) for s in samples]
        session.add_all([f for f in fingerprints if f is not None])
    session.flush()
    evidences: list[Any] = [None] * len(samples)
    if with_evidence:
        origins = latest_of(session, "origin", ids)
        # A product without references keeps the fingerprint verdict stored earlier, if any.
        unjudged = [s.id for s, f in zip(samples, fingerprints, strict=True) if f is None]
        earlier = latest_of(session, "fingerprint", unjudged)
        fingerprints = [f or earlier.get(s.id) for s, f in zip(samples, fingerprints, strict=True)]
        evidences = [evidence_of(s, origins.get(s.id), f) for s, f in zip(samples, fingerprints, strict=True)]
        session.add_all(evidences)
        session.flush()
    return [
        SampleCheck(sample, quality, fingerprint if with_fingerprint else None, evidence)
        for sample, quality, fingerprint, evidence in zip(
            samples, qualities, fingerprints, evidences, strict=True
        )
    ]


def judge_samples(
    session: Session,
    samples: Sequence[Sample],
    declared_grade: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch: int = 500,
    rules: Mapping[int, DecisionRule] | None = None,
) -> list[SampleCheck]:
    """``check_samples`` in batches of ``batch`` samples, calling ``on_progress(n)`` after each (a progress bar)."""
    checks: list[SampleCheck] = []
    for first in range(0, len(samples), batch):
        chunk = samples[first : first + batch]
        checks += check_samples(session, chunk, declared_grade, rules=rules)
        if on_progress is not None:
            on_progress(len(chunk))
    return checks
