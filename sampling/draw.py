"""The draw: for each round and each stratum (a product, or a product's segment), a randomized systematic PPS
sample whose first-order inclusion probabilities equal the design's targets exactly; then random inspectors
for the round's targets.

Randomized systematic PPS (Goodman & Kish 1950; Hartley & Rao 1962) with implicit stratification by county:
the counties of the stratum are put in a random order and each county's eligible targets in a random order
inside it (sorted by keyed hashes); their inclusion probabilities pi_i (in ticks of 1/2**32, summing to the
integer n) are laid end to end on [0, n), and the n points u, u+1, ..., u+n-1 with one uniform start u select
the units whose segment they hit. A segment of length pi_i <= 1 is hit by exactly one point with probability
pi_i, so P(i drawn) = pi_i for every unit and every order, the sample size is exactly n, and each county gets
the floor or the ceiling of its expected share — which one is decided by the seed, not by the frame.
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

from gi.errors import InputError
from sampling.assign import NATIONAL, InfeasiblePlanError, TaskNeed, assign_round, pool_of
from sampling.design import DesignParameters, allocate, inclusion_ticks, product_sample_size, risk_weight
from sampling.frames import UNKNOWN_COUNTY, Frame, FrameProducer
from sampling.lots import lot_sample
from sampling.rng import TICKS, SeedStream
from sampling.seasons import Round, round_kind


@dataclass(frozen=True, slots=True)
class DrawnTask:
    """One drawn target with its inspectors, in the round's assignment order."""

    round: int
    order: int
    product: str
    segment: str
    county: str
    producer_id: int
    pi_ticks: int
    weight: int
    season_kind: str
    inspectors: tuple[str, ...]

    @property
    def inclusion_probability(self) -> float:
        """The target inclusion probability pi = ticks / 2**32 (given the draw's earlier steps)."""
        return self.pi_ticks / TICKS


@dataclass(frozen=True, slots=True)
class CountyDraw:
    """One county of a stratum in a round: what it needed, was guaranteed, expected and got."""

    county: str
    eligible: int
    need: int
    minimum: int
    ticks: int  # expected number of targets drawn, in ticks of 1/2**32
    drawn: int

    def to_dict(self) -> dict[str, Any]:
        """Published form."""
        return {
            "county": self.county,
            "eligible": self.eligible,
            "need": self.need,
            "minimum": self.minimum,
            "ticks": self.ticks,
            "drawn": self.drawn,
        }


@dataclass(frozen=True)
class Stratum:
    """What the design decided for one stratum in one round (published with the selection)."""

    round: int
    product: str
    segment: str
    season_kind: str
    ratio_bp: int
    directory: int
    eligible: int
    sample_size: int
    counties: tuple[CountyDraw, ...] = ()
    short_counties: tuple[str, ...] = ()  # counties whose coverage need exceeds their eligible targets

    def to_dict(self) -> dict[str, Any]:
        """Published form."""
        return {
            "round": self.round,
            "product": self.product,
            "segment": self.segment,
            "season_kind": self.season_kind,
            "ratio_bp": self.ratio_bp,
            "directory": self.directory,
            "eligible": self.eligible,
            "sample_size": self.sample_size,
            "counties": [c.to_dict() for c in self.counties],
            "short_counties": list(self.short_counties),
        }


@dataclass
class DrawResult:
    """A complete draw: coverage rounds, strata, tasks (selection + assignment) and loads per round."""

    coverage: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
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


def target_pool(p: FrameProducer, scope: str) -> str | None:
    """Where a target's inspectors come from: its own ``pool`` if the frame sets one, else its province (the
    whole directory under the national scope); None for a target of unknown county under the provincial scope,
    which no pool can staff and which is therefore never drawn."""
    if p.pool is not None:
        return p.pool
    if scope == "province" and p.county == UNKNOWN_COUNTY:
        return None
    return pool_of(p.county, scope)


StratumKey = tuple[str, str]  # (product code, segment)


def strata_of(frame: Frame) -> list[StratumKey]:
    """The strata of a frame in processing order: each product (ascending code) with segment "" and each
    other segment its targets carry (ascending)."""
    segments: dict[str, set[str]] = defaultdict(set)
    for p in frame.producers:
        segments[p.product].add(p.segment)
    return [
        (product.code, segment)
        for product in sorted(frame.products, key=lambda p: p.code)
        for segment in sorted(segments[product.code] | {""})
    ]


def active_rounds(
    frame: Frame, params: DesignParameters, strata: list[StratumKey] | None = None
) -> dict[StratumKey, list[int]]:
    """Per stratum, the numbers of the rounds in which its ratio is above 0."""
    windows = {p.code: p.windows for p in frame.products}
    return {
        (product, segment): [
            r.number
            for r in params.rounds
            if params.ratios_of(product, segment).of(round_kind(windows[product], r.starts_on, r.ends_on)) > 0
        ]
        for product, segment in (strata if strata is not None else strata_of(frame))
    }


def coverage_rounds(
    frame: Frame,
    params: DesignParameters,
    stream: SeedStream,
    pools: dict[int, str | None],
    strata: list[StratumKey] | None = None,
) -> dict[StratumKey, dict[str, int]]:
    """The round from which each county of each stratum must be covered (``min_per_county``), drawn from the
    seed: the counties in random order, dealt round-robin over the stratum's active rounds from a random
    offset, so that every county falls in each active round with the same probability and the rounds share
    the counties evenly."""
    strata = strata if strata is not None else strata_of(frame)
    active = active_rounds(frame, params, strata)
    counties: dict[StratumKey, set[str]] = defaultdict(set)
    for p in frame.producers:
        if pools[p.id] is not None:
            counties[(p.product, p.segment)].add(p.county)
    out: dict[StratumKey, dict[str, int]] = {}
    for key in strata:
        rounds, cs = active[key], counties.get(key, set())
        if not rounds or not cs:
            continue
        product, segment = key
        ordered = sorted(cs, key=lambda c: (stream.key64(f"coverage|{product}|{segment}|{c}"), c))
        offset = stream.below(f"coverage|{product}|{segment}", len(rounds))
        out[key] = {c: rounds[(k + offset) % len(rounds)] for k, c in enumerate(ordered)}
    return out


@dataclass
class _State:
    """What earlier rounds of the draw leave to later ones."""

    history: dict[int, list[date]]
    covered: dict[tuple[str, str, str], int]
    previous: dict[int, tuple[str, ...]]


def select_round(
    frame: Frame,
    params: DesignParameters,
    stream: SeedStream,
    rnd: Round,
    members_of: dict[StratumKey, list[FrameProducer]],
    pools: dict[int, str | None],
    weights: dict[int, int],
    coverage: dict[StratumKey, dict[str, int]],
    state: _State,
    strata_keys: list[StratumKey],
) -> tuple[list[Stratum], list[tuple[FrameProducer, int, int, str]]]:
    """The strata and drawn targets (producer, ticks, weight, season kind) of one round."""
    strata: list[Stratum] = []
    drawn: list[tuple[FrameProducer, int, int, str]] = []
    windows = {p.code: p.windows for p in frame.products}
    for key in strata_keys:
        product, segment = key
        members = members_of.get(key, [])
        kind = round_kind(windows[product], rnd.starts_on, rnd.ends_on)
        ratio = params.ratios_of(product, segment).of(kind)
        by_county: dict[str, list[FrameProducer]] = {}
        for p in members:
            if pools[p.id] is None:
                continue  # no pool could staff it: never drawn
            bucket = by_county.setdefault(p.county, [])
            past = state.history.get(p.id)
            if not past or is_eligible(past, rnd, params):
                bucket.append(p)
        counties = sorted(by_county)
        eligible = {c: len(by_county[c]) for c in counties}
        due = coverage.get(key, {})
        need = {
            c: (
                max(0, params.min_per_county - state.covered.get((product, segment, c), 0))
                if ratio > 0 and rnd.number >= due.get(c, rnd.number + 1)
                else 0
            )
            for c in counties
        }
        n, minimums = product_sample_size(len(members), ratio, eligible, need, params)
        if not n:
            minimums = {c: 0 for c in counties}
        county_ticks = {c: 0 for c in counties}
        hits: dict[str, int] = defaultdict(int)
        if n:
            extra = allocate(
                (n - sum(minimums.values())) * TICKS,
                {c: sum(weights[p.id] for p in by_county[c]) for c in counties},
                {c: (eligible[c] - minimums[c]) * TICKS for c in counties},
            )
            county_ticks = {c: minimums[c] * TICKS + extra[c] for c in counties}
            # Counties in random order, each county's targets in random order inside it, one start.
            order = sorted(
                (c for c in counties if county_ticks[c]),
                key=lambda c: (stream.key64(f"county|{rnd.number}|{product}|{segment}|{c}"), c),
            )
            units: list[FrameProducer] = []
            ticks: list[np.ndarray] = []
            for c in order:
                in_c = by_county[c]
                ids = [p.id for p in in_c]
                keys = stream.sort_keys(f"order|{rnd.number}|", ids)
                ranked = [in_c[k] for _, _, k in sorted(zip(keys, ids, range(len(ids)), strict=True))]
                units.extend(ranked)
                ticks.append(
                    inclusion_ticks([weights[p.id] for p in ranked], [p.id for p in ranked], county_ticks[c])
                )
            flat = np.concatenate(ticks)
            start = stream.ticks(f"start|{rnd.number}|{product}|{segment}")
            for i in systematic_pps(flat, start):
                unit = units[i]
                hits[unit.county] += 1
                drawn.append((unit, int(flat[i]), weights[unit.id], kind))
        strata.append(
            Stratum(
                rnd.number,
                product,
                segment,
                kind,
                ratio,
                len(members),
                sum(eligible.values()),
                n,
                tuple(
                    CountyDraw(c, eligible[c], need[c], minimums[c], county_ticks[c], hits[c])
                    for c in counties
                ),
                tuple(c for c in counties if need[c] > eligible[c]),
            )
        )
    return strata, drawn


def _weights(frame: Frame, params: DesignParameters) -> dict[int, int]:
    """Risk weight of every target (memoized on the risk factors: few distinct combinations)."""
    memo: dict[tuple[tuple[str, int], ...], int] = {}
    out = {}
    for p in frame.producers:
        key = tuple(p.risk.items())  # same factors in another order: another key, the same weight
        w = memo.get(key)
        if w is None:
            w = memo[key] = risk_weight(p.risk, params)
        out[p.id] = w
    return out


def _check_labels(frame: Frame) -> None:
    """Product codes, segments and counties enter hash labels: printable ASCII without '|'."""
    names = [("product", p.code) for p in frame.products]
    names += [("segment", p.segment) for p in frame.producers if p.segment]
    for field_name, value in names:
        if not value.isascii() or not value.isprintable() or "|" in value or " " in value:
            raise InputError(
                f"frame.{field_name}", f"{value!r} must be printable ASCII without '|' or spaces"
            )
    for p in frame.producers:
        if p.pool is not None and p.pool != NATIONAL and not (len(p.pool) == 2 and p.pool.isdigit()):
            raise InputError(
                "frame.pool", f"target {p.id}: pool {p.pool!r} is neither '*' nor a province code"
            )
        if not (len(p.county) == 6 and p.county.isdigit()):
            raise InputError("frame.county", f"target {p.id}: county {p.county!r} is not six digits")


def run_draw(frame: Frame, params: DesignParameters, seed: bytes) -> DrawResult:
    """Draw every round of the plan and assign its inspectors; raises InfeasiblePlanError listing every target
    that cannot be staffed."""
    _check_labels(frame)
    stream = SeedStream(seed)
    pools = {p.id: target_pool(p, params.inspector_scope) for p in frame.producers}
    members_of: dict[StratumKey, list[FrameProducer]] = defaultdict(list)
    for p in sorted(frame.producers, key=lambda p: p.id):
        members_of[(p.product, p.segment)].append(p)
    category = {p.code: p.category for p in frame.products}
    state = _State(
        history=defaultdict(list, {p.id: list(p.inspections) for p in frame.producers if p.inspections}),
        covered=defaultdict(int),
        previous={p.id: tuple(p.previous_inspectors) for p in frame.producers if p.previous_inspectors},
    )
    conflicts = set(frame.conflicts)
    weights = _weights(frame, params)
    keys = strata_of(frame)
    result = DrawResult(coverage=coverage_rounds(frame, params, stream, pools, keys))
    problems = []
    for rnd in params.rounds:
        strata, drawn = select_round(
            frame, params, stream, rnd, members_of, pools, weights, result.coverage, state, keys
        )
        result.strata.extend(strata)
        task_ids = [d[0].id for d in drawn]
        task_keys = stream.sort_keys(f"task|{rnd.number}|", task_ids)
        drawn = [drawn[k] for _, _, k in sorted(zip(task_keys, task_ids, range(len(drawn)), strict=True))]
        needs = [
            TaskNeed(
                p.id,
                p.product,
                category[p.product],
                p.county,
                state.previous.get(p.id, ()),
                pools[p.id] or "",
            )
            for p, *_ in drawn
        ]
        assignment = assign_round(
            rnd.number,
            needs,
            frame.inspectors,
            conflicts,
            stream,
            params.inspectors_per_task,
            params.require_qualification,
        )
        problems.extend(assignment.problems)
        result.loads[rnd.number] = assignment.loads
        for order, (p, ticks, weight, kind) in enumerate(drawn, start=1):
            codes = assignment.inspectors.get(p.id, ())
            result.tasks.append(
                DrawnTask(rnd.number, order, p.product, p.segment, p.county, p.id, ticks, weight, kind, codes)
            )
            # A task counts as an inspection on the first day of its round (yearly cap, minimum gap), and its
            # inspectors replace the target's previous inspectors.
            state.history[p.id].append(rnd.starts_on)
            state.covered[(p.product, p.segment, p.county)] += 1
            if codes:
                state.previous[p.id] = tuple(sorted(codes))
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
