"""Feasibility before the commitment: can every target that may be drawn get its inspectors, and can every
pool carry the largest demand a draw can put on it? Checked on the frame alone, when the plan is created, so
that a plan is never committed to a draw that cannot be staffed; a frame that fails is refused with the
targets and pools named, or repaired (the targets' pools widened to the whole directory) and the change
reported. The draw itself stays exact: a draw that still fails is final and published (docs/sampling.md § 6).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from gi.errors import InputError
from sampling.assign import NATIONAL, in_pool
from sampling.design import BP, DesignParameters
from sampling.draw import StratumKey, is_eligible, strata_of, target_pool
from sampling.frames import Frame, FrameProducer
from sampling.seasons import round_kind


@dataclass(frozen=True)
class TargetShortfall:
    """A target that may be drawn but has too few eligible inspectors in its pool."""

    producer_id: int
    name: str
    product: str
    county: str
    pool: str
    available: int  # eligible inspectors, the frame's previous inspectors excluded
    available_any: int  # eligible inspectors, previous ones included
    needed: int
    twice: bool  # may be drawn in two rounds of the plan (then 2 x inspectors_per_task are needed)

    def text(self) -> str:
        """One line naming the target, its pool and what is missing."""
        why = (
            f"{self.available} eligible inspectors besides its previous ones, {self.needed} needed"
            if not self.twice or self.available < self.needed // 2
            else f"{self.available_any} eligible inspectors in all; it may be drawn twice, {self.needed} needed"
        )
        return (
            f"target {self.producer_id} {self.name} ({self.product}, county {self.county}, pool {self.pool}): "
            f"{why}"
        )


@dataclass(frozen=True)
class PoolSlack:
    """A pool's capacity per round against the largest demand (inspector visits) a draw can put on it."""

    pool: str
    capacity: int
    demand: int
    round: int
    tightest_category: str = ""
    category_capacity: int = 0
    category_demand: int = 0

    @property
    def slack(self) -> int:
        """Capacity left in the worst round (negative: the pool cannot carry the draw)."""
        return self.capacity - self.demand

    @property
    def category_slack(self) -> int:
        """Slack of the tightest product category (its qualified inspectors against its demand)."""
        return self.category_capacity - self.category_demand

    @property
    def ok(self) -> bool:
        """Both slacks are non-negative."""
        return self.slack >= 0 and (not self.tightest_category or self.category_slack >= 0)

    def text(self) -> str:
        """One line: the pool, its capacity, the largest demand and the slack."""
        line = (
            f"pool {self.pool}: capacity {self.capacity} per round, largest demand {self.demand} "
            f"(round {self.round}), slack {self.slack}"
        )
        if self.tightest_category:
            line += (
                f"; tightest category {self.tightest_category}: capacity {self.category_capacity}, "
                f"demand {self.category_demand}, slack {self.category_slack}"
            )
        return line


@dataclass
class FeasibilityReport:
    """What the check found, and what a repair changed."""

    targets: list[TargetShortfall] = field(default_factory=list)
    pools: list[PoolSlack] = field(default_factory=list)
    unpooled: list[int] = field(default_factory=list)  # targets no pool can staff (unknown county)
    repairs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No target short of inspectors and no pool short of capacity."""
        return not self.targets and all(p.ok for p in self.pools)

    def problems(self) -> list[str]:
        """Every failing target and pool, one line each."""
        return [t.text() for t in self.targets] + [p.text() for p in self.pools if not p.ok]


class InfeasibleFrameError(InputError):
    """The frame cannot be staffed: refused before anything is committed, with every target and pool named."""

    def __init__(self, report: FeasibilityReport) -> None:
        self.report = report
        lines = report.problems()
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        super().__init__("frame", f"not feasible: {lines[0]}{more}; `--repair` widens the pools concerned")


def _may_be_drawn(
    frame: Frame, params: DesignParameters
) -> tuple[dict[int, list[int]], dict[tuple[StratumKey, int], dict[str, dict[str, int]]]]:
    """Per target, the rounds in which it can have pi > 0; per (stratum, round), eligible counts per pool and
    county (from the frame's history: later rounds can only make fewer targets eligible)."""
    windows = {p.code: p.windows for p in frame.products}
    ratio = {
        (key, r.number): params.ratios_of(*key).of(round_kind(windows[key[0]], r.starts_on, r.ends_on))
        for key in strata_of(frame)
        for r in params.rounds
    }
    rounds: dict[int, list[int]] = {}
    counts: dict[tuple[StratumKey, int], dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for p in frame.producers:
        pool = target_pool(p, params.inspector_scope)
        if pool is None:
            continue
        key = (p.product, p.segment)
        mine = []
        for r in params.rounds:
            if ratio[(key, r.number)] > 0 and is_eligible(p.inspections, r, params):
                mine.append(r.number)
                counts[(key, r.number)][pool][p.county] += 1
        rounds[p.id] = mine
    return rounds, counts


def _twice(p: FrameProducer, rounds: list[int], params: DesignParameters) -> bool:
    """Whether the target could be drawn in two rounds of the plan (a task counts on its round's first day)."""
    by_number = {r.number: r for r in params.rounds}
    for i, a in enumerate(rounds):
        for b in rounds[i + 1 :]:
            if is_eligible((*p.inspections, by_number[a].starts_on), by_number[b], params):
                return True
    return False


def check_feasibility(frame: Frame, params: DesignParameters) -> FeasibilityReport:
    """Check every target that may be drawn and every pool, on the frame alone."""
    report = FeasibilityReport()
    k = params.inspectors_per_task
    category = {p.code: p.category for p in frame.products}
    rounds, counts = _may_be_drawn(frame, params)
    conflicts: dict[int, set[str]] = defaultdict(set)
    for code, pid in frame.conflicts:
        conflicts[pid].add(code)
    staffable = [i for i in frame.inspectors if i.capacity >= 1]
    qualified = {i.code: set(i.qualifications) for i in staffable}
    home = {i.code: i.home_county for i in staffable}

    def fits(code: str, p: FrameProducer, pool: str) -> bool:
        return (
            in_pool(home[code], pool)
            and home[code] != p.county
            and (not params.require_qualification or category[p.product] in qualified[code])
        )

    # Eligible inspectors per (pool, county, category), before conflicts and previous inspectors.
    base: dict[tuple[str, str, str], int] = {}
    for p in frame.producers:
        pool = target_pool(p, params.inspector_scope)
        if pool is None:
            report.unpooled.append(p.id)
            continue
        if not rounds.get(p.id):
            continue
        group = (pool, p.county, category[p.product])
        if group not in base:
            base[group] = sum(1 for i in staffable if fits(i.code, p, pool))
        excluded = {c for c in conflicts.get(p.id, ()) if c in home and fits(c, p, pool)}
        total = base[group] - len(excluded)
        previous = {c for c in p.previous_inspectors if c in home and c not in excluded and fits(c, p, pool)}
        available = total - len(previous)
        twice = _twice(p, rounds[p.id], params)
        if available < k or (twice and total < 2 * k):
            report.targets.append(
                TargetShortfall(
                    p.id, p.name, p.product, p.county, pool, available, total, 2 * k if twice else k, twice
                )
            )

    # Largest demand per pool and round: per stratum at most n_max targets, and no more than its eligible
    # targets in the pool.
    members: dict[StratumKey, int] = defaultdict(int)
    for p in frame.producers:
        members[(p.product, p.segment)] += 1
    demand: dict[tuple[str, int, str], int] = defaultdict(int)  # (pool, round, category) -> tasks
    for (key, number), by_pool in counts.items():
        r = next(x for x in params.rounds if x.number == number)
        windows = next(p.windows for p in frame.products if p.code == key[0])
        ratio = params.ratios_of(*key).of(round_kind(windows, r.starts_on, r.ends_on))
        by_county: dict[str, int] = defaultdict(int)
        for pool_counts in by_pool.values():
            for county, n in pool_counts.items():
                by_county[county] += n
        eligible = sum(by_county.values())
        minimums = sum(min(params.min_per_county, n) for n in by_county.values())
        n_max = min(eligible, max((ratio * members[key] + BP - 1) // BP, params.min_per_product, minimums))
        for pool, pool_counts in by_pool.items():
            demand[(pool, number, category[key[0]])] += min(n_max, sum(pool_counts.values()))

    pools = sorted({pool for pool, _, _ in demand})
    categories = sorted(set(category.values()))

    def capacity(pool: str, cat: str | None) -> int:
        return sum(
            i.capacity
            for i in staffable
            if in_pool(i.home_county, pool)
            and (cat is None or not params.require_qualification or cat in qualified[i.code])
        )

    def load(pool: str, number: int, cat: str | None) -> int:
        # The national pool also carries every provincial pool's demand (they share its inspectors).
        sources = pools if pool == NATIONAL else [pool]
        cats = categories if cat is None else [cat]
        return k * sum(demand.get((s, number, c), 0) for s in sources for c in cats)

    for pool in pools:
        worst = max(params.rounds, key=lambda r: (load(pool, r.number, None), -r.number))
        slack = PoolSlack(pool, capacity(pool, None), load(pool, worst.number, None), worst.number)
        if params.require_qualification:
            tight = min(
                (
                    (capacity(pool, c) - load(pool, r.number, c), c, r.number)
                    for c in categories
                    for r in params.rounds
                    if load(pool, r.number, c)
                ),
                default=None,
            )
            if tight is not None:
                _, c, number = tight
                slack = replace(
                    slack,
                    tightest_category=c,
                    category_capacity=capacity(pool, c),
                    category_demand=load(pool, number, c),
                )
        report.pools.append(slack)
    return report


def repair_frame(frame: Frame, params: DesignParameters) -> tuple[Frame, FeasibilityReport]:
    """Widen to the whole directory (pool "*") the pool of every target short of inspectors, of every target
    of a pool short of capacity, and of every target no pool could staff; return the repaired frame and its
    report (with the changes listed), or raise InfeasibleFrameError when widening is not enough."""
    report = check_feasibility(frame, params)
    repairs: list[str] = []
    widen: dict[int, str] = {}
    for t in report.targets:
        if t.pool != NATIONAL:
            widen[t.producer_id] = (
                f"target {t.producer_id} {t.name}: pool {t.pool} -> * ({t.text().split(': ', 1)[1]})"
            )
    short_pools = {p.pool for p in report.pools if not p.ok and p.pool != NATIONAL}
    for p in frame.producers:
        pool = target_pool(p, params.inspector_scope)
        if pool in short_pools and p.id not in widen:
            widen[p.id] = f"target {p.id} {p.name}: pool {pool} -> * (pool {pool} lacks capacity)"
        elif pool is None:
            widen[p.id] = f"target {p.id} {p.name}: no county, no pool -> * (the whole directory)"
    for pool in sorted(short_pools):
        n = sum(1 for p in frame.producers if target_pool(p, params.inspector_scope) == pool)
        repairs.append(f"pool {pool} lacks capacity: its {n} targets draw from the whole directory (*)")
    repairs += [
        widen[pid]
        for pid in sorted(widen)
        if not any(widen[pid].endswith(f"(pool {q} lacks capacity)") for q in short_pools)
    ]
    if not widen:
        return frame, report
    repaired = replace(
        frame, producers=[replace(p, pool=NATIONAL) if p.id in widen else p for p in frame.producers]
    )
    after = check_feasibility(repaired, params)
    after.repairs = repairs
    if not after.ok:
        raise InfeasibleFrameError(after)
    return repaired, after
