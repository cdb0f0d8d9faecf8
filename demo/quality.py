"""Demo step 4: simulated lab results for the season's samples, judged for characteristic quality, origin
fingerprint and combined origin evidence.

To show inconclusive values too, the demo judges a few products under a guard band or guarded rejection
(DEMO_RULES) when they have no decision rule of their own. It does so for its own judgements only: the
products' configuration is left as it is, and each verdict records the rule it was judged by.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from demo.lab_results import simulate_results
from demo.progress import StepProgress, no_progress
from gi.db import session_scope
from gi.models import GIProduct, LabResult, QualityRule, Sample
from gi.quality.decision import DecisionRule, RuleKind
from gi.quality.judge import SampleCheck, judge_samples
from gi.quality.lab import add_results

# Decision rules of the simulated control plan (guard bands for teas and goji, guarded rejection for rice).
DEMO_RULES = {
    "xihu-longjing": RuleKind.GUARD_BAND,
    "ningxia-goji": RuleKind.GUARD_BAND,
    "anji-white-tea": RuleKind.GUARD_BAND,
    "wuchang-rice": RuleKind.GUARDED_REJECTION,
}
LAB_SOURCE = "simulated lab results (demo.lab_results)"


@dataclass(frozen=True)
class SimulatedLab:
    """The lab results simulated by this run."""

    results: int
    samples: int
    scenarios: Counter[str]
    mismatched: int  # samples whose isotopes/elements were drawn from another area's population


@dataclass
class QualityStep:
    """Every sample's checks, and what this run simulated (None: every sample had results already)."""

    checks: list[SampleCheck]
    simulated: SimulatedLab | None
    # Product code -> the demo's rule its samples were judged by (products without a rule of their own).
    rules: dict[str, str] = field(default_factory=dict)


def judge_season(
    sample_ids: Sequence[uuid.UUID] | None = None,
    seed: int = 2025,
    source_prefix: str | None = None,
    on_progress: StepProgress = no_progress,
) -> QualityStep:
    """Add simulated lab results to the samples that have none, then judge every sample.

    ``sample_ids`` None: every sample (whose ``source`` starts with ``source_prefix``, if given). A second run
    adds no results and judges again.
    """
    with session_scope() as session:
        query = select(Sample).options(selectinload(Sample.product))
        if sample_ids is not None:
            query = query.where(Sample.id.in_(list(sample_ids)))
        if source_prefix is not None:
            query = query.where(Sample.source.startswith(source_prefix, autoescape=True))
        samples = list(session.scalars(query.order_by(Sample.collected_at, Sample.id)))
        if not samples:
            return QualityStep([], None)
        configured = set(session.scalars(select(QualityRule.product_id).distinct()))
        rules: dict[int, DecisionRule] = {}
        applied: dict[str, str] = {}
        judged = {s.product_id for s in samples}
        for product in session.scalars(select(GIProduct).where(GIProduct.code.in_(list(DEMO_RULES)))):
            if product.id in judged and product.id not in configured:
                rules[product.id] = DecisionRule(DEMO_RULES[product.code])
                applied[product.code] = DEMO_RULES[product.code].value
        tested = set(
            session.scalars(
                select(LabResult.sample_id).where(LabResult.sample_id.in_([s.id for s in samples])).distinct()
            )
        )
        fresh = [s for s in samples if s.id not in tested]
        simulated = None
        if fresh:
            rows, chosen = simulate_results(session, fresh, seed)
            add_results(session, rows, LAB_SOURCE)
            simulated = SimulatedLab(
                results=len(rows),
                samples=len(fresh),
                scenarios=Counter(c.scenario for c in chosen),
                mismatched=sum(
                    1
                    for c, s in zip(chosen, fresh, strict=True)
                    if c.fingerprint_from and c.fingerprint_from != s.product.code
                ),
            )
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            on_progress("judging", done[0], len(samples))

        checks: list[SampleCheck] = judge_samples(session, samples, on_progress=advance, rules=rules)
    return QualityStep(checks, simulated, applied)
