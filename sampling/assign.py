"""Random inspectors for the drawn targets (the second 随机): at least two per target, from the target's
province, never from its county, never with a declared conflict, never one of its previous inspectors,
qualified for the product's category, and the workload balanced: each pick takes the least-loaded eligible
inspector, with ties broken by a fresh random key per load level, so that loads stay within one task of each
other when the constraints and capacities allow."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from gi.errors import InputError
from sampling.frames import FrameInspector
from sampling.rng import SeedStream


@dataclass(frozen=True, slots=True)
class TaskNeed:
    """What the assignment needs to know of a drawn target."""

    producer_id: int
    product: str
    category: str
    county: str
    previous_inspectors: tuple[str, ...]


@dataclass(frozen=True)
class Infeasibility:
    """A target that could not get enough inspectors, and which constraint excluded the others."""

    round: int
    producer_id: int
    product: str
    county: str
    found: int
    needed: int
    pool: str
    excluded: dict[str, int]

    @property
    def binding(self) -> str:
        """The constraint that excluded the most inspectors of the pool."""
        active = {k: v for k, v in self.excluded.items() if v}
        return max(active, key=lambda k: active[k]) if active else "pool empty"

    def text(self) -> str:
        """One line: where, and which constraint failed."""
        details = ", ".join(f"{k} {v}" for k, v in self.excluded.items() if v) or "no inspector in the pool"
        return (
            f"round {self.round}, product {self.product}, county {self.county}, target {self.producer_id}: "
            f"{self.found} of {self.needed} inspectors — constraint '{self.binding}' "
            f"(pool {self.pool}: {details})"
        )


class InfeasiblePlanError(InputError):
    """The plan cannot be staffed: lists every target short of inspectors with the failing constraint."""

    def __init__(self, problems: Sequence[Infeasibility]) -> None:
        self.problems = list(problems)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__("inspectors", f"{self.problems[0].text()}{more}")


@dataclass
class RoundAssignment:
    """Inspectors per target (lead first) and each inspector's load in one round."""

    inspectors: dict[int, tuple[str, ...]] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)
    problems: list[Infeasibility] = field(default_factory=list)


def pool_of(county: str, scope: str) -> str:
    """The inspector pool a county draws from: its province (first two digits) or the whole country."""
    return county[:2] if scope == "province" else "*"


class _Pool:
    """Inspectors of one pool, kept in order of (load, random key of that load level)."""

    __slots__ = ("capacity", "levels", "round", "stream")

    def __init__(self, stream: SeedStream, round_number: int) -> None:
        self.levels: list[list[tuple[bytes, str]]] = []
        self.stream = stream
        self.round = round_number
        self.capacity: dict[str, int] = {}

    def insert(self, code: str, load: int) -> None:
        while len(self.levels) <= load:
            self.levels.append([])
        key = self.stream.key8(f"inspector|{self.round}|{load}|{code}")
        bisect.insort(self.levels[load], (key, code))

    def take(self, load: int, index: int) -> str:
        _, code = self.levels[load].pop(index)
        if load + 1 < self.capacity[code]:
            self.insert(code, load + 1)
        return code


def assign_round(
    round_number: int,
    tasks: Sequence[TaskNeed],
    inspectors: Sequence[FrameInspector],
    conflicts: set[tuple[str, int]],
    stream: SeedStream,
    per_task: int = 2,
    scope: str = "province",
    require_qualification: bool = True,
) -> RoundAssignment:
    """Assign ``per_task`` inspectors to each task in the given (random) order; see the module docstring."""
    pools: dict[str, _Pool] = {}
    members: dict[str, list[FrameInspector]] = {}
    for ins in sorted(inspectors, key=lambda i: i.code):
        key = pool_of(ins.home_county, scope)
        members.setdefault(key, []).append(ins)
        if ins.capacity < 1:
            continue
        pool = pools.setdefault(key, _Pool(stream, round_number))
        pool.capacity[ins.code] = ins.capacity
        pool.insert(ins.code, 0)
    home = {i.code: i.home_county for i in inspectors}
    qualified = {i.code: frozenset(i.qualifications) for i in inspectors}
    out = RoundAssignment(loads={i.code: 0 for i in inspectors})
    loads = out.loads
    for task in tasks:
        pool_key = pool_of(task.county, scope)
        pool = pools.get(pool_key)
        chosen: list[tuple[int, int, str]] = []  # (load, index in that level, code)
        if pool is not None:
            county, pid, previous, category = (
                task.county,
                task.producer_id,
                task.previous_inspectors,
                task.category,
            )
            for load, level in enumerate(pool.levels):
                for index, (_, code) in enumerate(level):
                    if (
                        home[code] == county
                        or (code, pid) in conflicts
                        or code in previous
                        or (require_qualification and category not in qualified[code])
                    ):
                        continue
                    chosen.append((load, index, code))
                    if len(chosen) == per_task:
                        break
                if len(chosen) == per_task:
                    break
        if len(chosen) < per_task:
            out.problems.append(
                _diagnose(
                    round_number,
                    task,
                    len(chosen),
                    per_task,
                    pool_key,
                    members.get(pool_key, []),
                    loads,
                    conflicts,
                    require_qualification,
                )
            )
            continue
        # Take from the back (highest level, highest index first) so earlier picks' positions stay valid.
        for load, index, _ in reversed(chosen):  # chosen is in (level, index) order
            pool.take(load, index)  # type: ignore[union-attr]
        codes = tuple([c[2] for c in chosen])
        for code in codes:
            loads[code] += 1
        out.inspectors[task.producer_id] = codes
    return out


def _diagnose(
    round_number: int,
    task: TaskNeed,
    found: int,
    needed: int,
    pool_key: str,
    members: list[FrameInspector],
    loads: dict[str, int],
    conflicts: set[tuple[str, int]],
    require_qualification: bool,
) -> Infeasibility:
    """Count the pool's inspectors each constraint excluded (the first failing constraint counts)."""
    excluded = {
        "home county": 0,
        "declared conflict": 0,
        "previous inspector": 0,
        "qualification": 0,
        "capacity": 0,
    }
    for ins in members:
        if ins.home_county == task.county:
            excluded["home county"] += 1
        elif (ins.code, task.producer_id) in conflicts:
            excluded["declared conflict"] += 1
        elif ins.code in task.previous_inspectors:
            excluded["previous inspector"] += 1
        elif require_qualification and task.category not in ins.qualifications:
            excluded["qualification"] += 1
        elif loads.get(ins.code, 0) >= ins.capacity:
            excluded["capacity"] += 1
    return Infeasibility(
        round_number, task.producer_id, task.product, task.county, found, needed, pool_key, excluded
    )
