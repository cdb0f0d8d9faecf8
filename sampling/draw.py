"""The draw: for each round, each product and each county, a randomized systematic PPS sample whose
first-order inclusion probabilities equal the design's targets exactly; then random inspectors for the round's
targets.

Randomized systematic PPS (Goodman & Kish 1950; Hartley & Rao 1962): the county's eligible targets are put in
a random order (sorted by a keyed hash), their inclusion probabilities pi_i (in ticks of 1/2**32, summing to
the integer n) are laid end to end on [0, n), and the n points u, u+1, ..., u+n-1 with one uniform start u
select the units whose segment they hit. A segment of length pi_i <= 1 is hit by exactly one point with
probability pi_i, so P(i drawn) = pi_i for every unit and every order, and the sample size is exactly n.
(Efraimidis-Spirakis keys u**(1/w) would give the right order of preference but not inclusion probabilities
proportional to w.)

Everything is a pure function of (frame, parameters, seed): ``run_draw`` is what the plan's draw and
``verify`` both call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from sampling.assign import InfeasiblePlanError, TaskNeed, assign_round
from sampling.design import DesignParameters, allocate, inclusion_ticks, product_sample_size, risk_weight
from sampling.frames import RISK_FACTORS, UNKNOWN_COUNTY, Frame, FrameProducer
from sampling.lots import lot_sample
from sampling.rng import TICKS, SeedStream
from sampling.seasons import Round, round_kind


@dataclass(frozen=True, slots=True)
class DrawnTask:
    """One drawn target with its inspectors, in the round's assignment order."""

    round: int
    order: int
    product: str
    county: str
    producer_id: int
    pi_ticks: int
    weight: int
    season_kind: str
    inspectors: tuple[str, ...]

    @property
    def inclusion_probability(self) -> float:
        """The target inclusion probability pi = ticks / 2**32."""
        return self.pi_ticks / TICKS


@dataclass(frozen=True)
class Stratum:
    """What the design decided for one product in one round (published with the selection)."""

    round: int
    product: str
    season_kind: str
    ratio_bp: int
    directory: int
    eligible: int
    sample_size: int
    counties: dict[str, int]  # county -> allocated sample size
    short_counties: tuple[str, ...] = ()  # counties with fewer eligible targets than min_per_county

    def to_dict(self) -> dict[str, Any]:
        """Snapshot form."""
        return {
            "round": self.round,
            "product": self.product,
            "season_kind": self.season_kind,
            "ratio_bp": self.ratio_bp,
            "directory": self.directory,
            "eligible": self.eligible,
            "sample_size": self.sample_size,
            "counties": dict(sorted(self.counties.items())),
            "short_counties": list(self.short_counties),
        }


@dataclass
class DrawResult:
    """A complete draw: strata, tasks (selection + assignment) and the inspectors' loads per round."""

    strata: list[Stratum] = field(default_factory=list)
    tasks: list[DrawnTask] = field(default_factory=list)
    loads: dict[int, dict[str, int]] = field(default_factory=dict)

    def tasks_of_round(self, number: int) -> list[DrawnTask]:
        """Tasks of one round in assignment order."""
        return [t for t in self.tasks if t.round == number]


def is_eligible(inspections: Sequence[date], rnd: Round, params: DesignParameters) -> bool:
    """A target can be drawn in a round unless the yearly cap is used up or an inspection is too close."""
    if not inspections:
        return True
    start = rnd.starts_on
    if sum(1 for d in inspections if d.year == start.year) >= params.yearly_cap:
        return False
    gap = params.min_gap_days
    return not (gap and any(abs((start - d).days) < gap for d in inspections))


def systematic_pps(ticks: Sequence[int] | np.ndarray, start: int) -> list[int]:
    """Indices hit by the points start, start + 2**32, ... on the segments laid end to end in list order."""
    edges = np.cumsum(np.asarray(ticks, dtype=np.int64))
    n = int(edges[-1]) // TICKS if edges.size else 0
    points = start + TICKS * np.arange(n, dtype=np.int64)
    # Unit i is hit when edges[i-1] <= point < edges[i]: the first edge strictly above the point.
    return np.searchsorted(edges, points, side="right").tolist()


def last_active_rounds(frame: Frame, params: DesignParameters) -> dict[str, int]:
    """Per product, the number of the plan's last round in which its ratio is above 0 (0 if none)."""
    out = {}
    for product in frame.products:
        active = [
            r.number
            for r in params.rounds
            if params.ratios_of(product.code).of(round_kind(product.windows, r.starts_on, r.ends_on)) > 0
        ]
        out[product.code] = max(active, default=0)
    return out


def select_round(
    frame: Frame,
    params: DesignParameters,
    stream: SeedStream,
    rnd: Round,
    history: dict[int, list[date]],
    by_product: dict[str, list[FrameProducer]],
    covered: dict[tuple[str, str], int],
    last_active: dict[str, int],
    weights: dict[int, int],
) -> tuple[list[Stratum], list[tuple[FrameProducer, int, int, str]]]:
    """The strata and drawn targets (producer, ticks, weight, season kind) of one round.

    ``covered`` counts the targets drawn so far in the plan per (product, county); in a product's last active
    round every county still below ``min_per_county`` gets the difference as its minimum.
    """
    strata: list[Stratum] = []
    drawn: list[tuple[FrameProducer, int, int, str]] = []
    unmatched = UNKNOWN_COUNTY if params.inspector_scope == "province" else None
    for product in sorted(frame.products, key=lambda p: p.code):
        members = by_product.get(product.code, [])
        kind = round_kind(product.windows, rnd.starts_on, rnd.ends_on)
        ratio = params.ratios_of(product.code).of(kind)
        by_county: dict[str, list[FrameProducer]] = defaultdict(list)
        for p in members:
            if p.county == unmatched:
                continue  # no provincial pool can staff a target of unknown county
            past = history.get(p.id)
            if not past or is_eligible(past, rnd, params):
                by_county[p.county].append(p)
        counts = {c: len(v) for c, v in by_county.items()}
        all_counties = sorted({p.county for p in members} - {unmatched})
        needs = {}
        if rnd.number == last_active.get(product.code):
            needs = {
                c: max(0, params.min_per_county - covered.get((product.code, c), 0)) for c in all_counties
            }
        n, minimums = product_sample_size(len(members), ratio, counts, needs, params)
        short = tuple(c for c in all_counties if needs.get(c, 0) > counts.get(c, 0)) if n else ()
        sizes: dict[str, int] = {}
        if n:
            extra = allocate(
                n - sum(minimums.values()),
                {c: sum(weights[p.id] for p in units) for c, units in by_county.items()},
                {c: counts[c] - minimums[c] for c in by_county},
            )
            sizes = {c: minimums[c] + extra[c] for c in by_county if minimums[c] + extra[c] > 0}
        strata.append(
            Stratum(
                rnd.number, product.code, kind, ratio, len(members), sum(counts.values()), n, sizes, short
            )
        )
        for county in sorted(sizes):
            members_c = by_county[county]
            ids = [p.id for p in members_c]
            keys = stream.sort_keys(f"order|{rnd.number}|", ids)
            units = [members_c[k] for _, _, k in sorted(zip(keys, ids, range(len(ids)), strict=False))]
            ticks = inclusion_ticks([weights[p.id] for p in units], [p.id for p in units], sizes[county])
            start = stream.ticks(f"start|{rnd.number}|{product.code}|{county}")
            for i in systematic_pps(ticks, start):
                drawn.append((units[i], int(ticks[i]), weights[units[i].id], kind))
    return strata, drawn


def _weights(frame: Frame, params: DesignParameters) -> dict[int, int]:
    """Risk weight of every target (memoized on the risk factors: few distinct combinations)."""
    memo: dict[tuple[int, ...], int] = {}
    out = {}
    f1, f2, f3, f4, f5, f6 = RISK_FACTORS
    for p in frame.producers:
        r = p.risk
        key = (r.get(f1, 0), r.get(f2, 0), r.get(f3, 0), r.get(f4, 0), r.get(f5, 0), r.get(f6, 0))
        w = memo.get(key)
        if w is None:
            w = memo[key] = risk_weight(r, params)
        out[p.id] = w
    return out


def run_draw(frame: Frame, params: DesignParameters, seed: bytes) -> DrawResult:
    """Draw every round of the plan and assign its inspectors; raises InfeasiblePlanError listing every target
    that cannot be staffed."""
    stream = SeedStream(seed)
    by_product: dict[str, list[FrameProducer]] = defaultdict(list)
    for p in sorted(frame.producers, key=lambda p: p.id):
        by_product[p.product].append(p)
    category = {p.code: p.category for p in frame.products}
    history: dict[int, list[date]] = defaultdict(list)
    for p in frame.producers:
        if p.inspections:
            history[p.id] = list(p.inspections)
    previous = {p.id: p.previous_inspectors for p in frame.producers if p.previous_inspectors}
    conflicts = set(frame.conflicts)
    covered: dict[tuple[str, str], int] = defaultdict(int)
    last_active = last_active_rounds(frame, params)
    weights = _weights(frame, params)
    result = DrawResult()
    problems = []
    for rnd in params.rounds:
        strata, drawn = select_round(
            frame, params, stream, rnd, history, by_product, covered, last_active, weights
        )
        result.strata.extend(strata)
        task_ids = [d[0].id for d in drawn]
        task_keys = stream.sort_keys(f"task|{rnd.number}|", task_ids)
        drawn = [drawn[k] for _, _, k in sorted(zip(task_keys, task_ids, range(len(drawn)), strict=False))]
        needs = [
            TaskNeed(p.id, p.product, category[p.product], p.county, previous.get(p.id, ()))
            for p, *_ in drawn
        ]
        assignment = assign_round(
            rnd.number,
            needs,
            frame.inspectors,
            conflicts,
            stream,
            params.inspectors_per_task,
            params.inspector_scope,
            params.require_qualification,
        )
        problems.extend(assignment.problems)
        result.loads[rnd.number] = assignment.loads
        for order, (p, ticks, weight, kind) in enumerate(drawn, start=1):
            codes = assignment.inspectors.get(p.id, ())
            result.tasks.append(
                DrawnTask(rnd.number, order, p.product, p.county, p.id, ticks, weight, kind, codes)
            )
            # A task counts as an inspection on the first day of its round (yearly cap, minimum gap), and its
            # inspectors become the target's previous inspectors.
            history[p.id].append(rnd.starts_on)
            covered[(p.product, p.county)] += 1
            if codes:
                previous[p.id] = tuple(sorted(codes))
    if problems:
        raise InfeasiblePlanError(problems)
    return result


def lot_of(task: DrawnTask, params: DesignParameters) -> dict[str, Any]:
    """The ISO 2859-1 lot sample of a task: lot size, level, code letter, units to take."""
    lot = lot_sample(params.lot_size_of(task.product), params.inspection_level)
    return {
        "lot_size": lot.lot_size,
        "level": lot.level,
        "code_letter": lot.code_letter,
        "units_to_take": lot.units_to_take,
    }
