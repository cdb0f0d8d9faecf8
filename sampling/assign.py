"""Random inspectors for the drawn targets (the second 随机): at least two per target, from the target's
province, never from its county, never with a declared conflict, never one of its previous inspectors,
qualified for the product's category, and the workload balanced: each pick takes the least-loaded eligible
inspector, with ties broken by a fresh random key per load level, so that loads stay within one task of each
other when the constraints and capacities allow. When that greedy pass leaves targets short, an exact repair
(augmenting paths in a fixed order) staffs them whenever any valid staffing of the round exists."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Sequence
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
    pool: str  # "*" (every inspector) or a province code (inspectors whose home county starts with it)


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

    def to_dict(self) -> dict[str, object]:
        """Published form (failure.json)."""
        return {
            "round": self.round,
            "producer_id": self.producer_id,
            "product": self.product,
            "county": self.county,
            "pool": self.pool,
            "found": self.found,
            "needed": self.needed,
            "excluded": {k.replace(" ", "_"): v for k, v in self.excluded.items()},
            "binding": self.binding.replace(" ", "_"),
        }


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
    # Targets the greedy pass left short and the repair staffed (for tests and diagnostics; not published).
    repaired: list[int] = field(default_factory=list)


NATIONAL = "*"


def pool_of(county: str, scope: str) -> str:
    """The inspector pool a county draws from by default: its province (first two digits) or the country."""
    return county[:2] if scope == "province" else NATIONAL


def in_pool(home_county: str, pool: str) -> bool:
    """Whether an inspector of this home county belongs to the pool."""
    return pool == NATIONAL or home_county[:2] == pool


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
    require_qualification: bool = True,
) -> RoundAssignment:
    """Assign ``per_task`` inspectors to each task in the given (random) order, repairing a short round exactly.

    Each task draws from its own pool. Inspectors are kept in groups (one per province, or a single group when
    every task draws from the whole directory); a task of the national pool merges the groups' orders, which
    gives the same picks as one national order would.
    """
    grouped = any(t.pool != NATIONAL for t in tasks)
    pools: dict[str, _Pool] = {}
    members: dict[str, list[FrameInspector]] = {}
    for ins in sorted(inspectors, key=lambda i: i.code):
        key = ins.home_county[:2] if grouped else NATIONAL
        members.setdefault(key, []).append(ins)
        if ins.capacity < 1:
            continue
        home_pool = pools.setdefault(key, _Pool(stream, round_number))
        home_pool.capacity[ins.code] = ins.capacity
        home_pool.insert(ins.code, 0)
    home = {i.code: i.home_county for i in inspectors}
    qualified = {i.code: frozenset(i.qualifications) for i in inspectors}
    out = RoundAssignment(loads={i.code: 0 for i in inspectors})
    loads = out.loads
    short: list[int] = []  # positions of the tasks the greedy pass could not staff
    for position, task in enumerate(tasks):
        county, pid, previous, category = (
            task.county,
            task.producer_id,
            task.previous_inspectors,
            task.category,
        )
        groups = list(pools) if task.pool == NATIONAL else ([task.pool] if task.pool in pools else [])
        # Per group the first ``per_task`` eligible inspectors in (load, key) order; the task takes the
        # ``per_task`` smallest of them by (load, key, code).
        found: list[tuple[int, bytes, str, str, int]] = []  # (load, key, code, group, index in level)
        for g in groups:
            taken = 0
            for load, level in enumerate(pools[g].levels):
                for index, (rank_key, code) in enumerate(level):
                    if (
                        home[code] == county
                        or (code, pid) in conflicts
                        or code in previous
                        or (require_qualification and category not in qualified[code])
                    ):
                        continue
                    found.append((load, rank_key, code, g, index))
                    taken += 1
                    if taken == per_task:
                        break
                if taken == per_task:
                    break
        if len(found) < per_task:
            short.append(position)
            continue
        if len(groups) > 1:
            chosen = sorted(found)[:per_task]
            chosen.sort(key=lambda c: (c[3], c[0], c[4]))
        else:
            chosen = found  # already in (level, index) order
        # Take from the back (highest level, highest index first) so earlier picks' positions stay valid.
        for load, _, _, g, index in reversed(chosen):
            pools[g].take(load, index)
        codes = tuple(c[2] for c in sorted(chosen)) if len(groups) > 1 else tuple(c[2] for c in chosen)
        for code in codes:
            loads[code] += 1
        out.inspectors[task.producer_id] = codes
    if short:
        _repair(
            round_number, tasks, short, inspectors, conflicts, stream, per_task, require_qualification, out
        )
    return out


def _repair(
    round_number: int,
    tasks: Sequence[TaskNeed],
    short: list[int],
    inspectors: Sequence[FrameInspector],
    conflicts: set[tuple[str, int]],
    stream: SeedStream,
    per_task: int,
    require_qualification: bool,
    out: RoundAssignment,
) -> None:
    """Staff the tasks the greedy pass left short by augmenting paths, in the order of docs/sampling.md § 4."""
    loads = out.loads
    everyone = sorted(inspectors, key=lambda i: i.code)
    capacity = {i.code: i.capacity for i in everyone}
    home = {i.code: i.home_county for i in everyone}
    qualified = {i.code: frozenset(i.qualifications) for i in everyone}
    # Searches rank every inspector of the directory and skip those outside the visited task's pool. When no
    # task of the round draws from the national pool, a search only ever visits tasks of its root's province,
    # so ranking that province alone finds the same paths, faster.
    mixed = any(t.pool == NATIONAL for t in tasks)

    def members(pool: str) -> list[FrameInspector]:
        return [i for i in everyone if in_pool(i.home_county, pool)]

    position = {t.producer_id: n for n, t in enumerate(tasks)}
    staff: dict[int, list[str]] = {position[pid]: list(codes) for pid, codes in out.inspectors.items()}
    holds: dict[str, list[int]] = {code: [] for code in capacity}
    for n, codes in staff.items():
        for code in codes:
            holds[code].append(n)
    keys: dict[tuple[str, int], bytes] = {}

    def rank(code: str) -> tuple[int, bytes, str]:
        load = loads[code]
        key = keys.get((code, load))
        if key is None:
            key = keys[(code, load)] = stream.key8(f"inspector|{round_number}|{load}|{code}")
        return load, key, code

    def eligible(code: str, task: TaskNeed) -> bool:
        return in_pool(home[code], task.pool) and not (
            home[code] == task.county
            or (code, task.producer_id) in conflicts
            or code in task.previous_inspectors
            or (require_qualification and task.category not in qualified[code])
        )

    # Nodes a failed search reached can never lie on an augmenting path later (augmenting elsewhere leaves their
    # closed, spare-free part of the residual graph untouched), so skipping them saves time without changing
    # which path any search finds.
    dead_tasks: set[int] = set()
    dead_inspectors: set[str] = set()
    stuck: list[tuple[int, Infeasibility]] = []
    for root in short:
        task = tasks[root]
        pool_key = task.pool
        universe = everyone if mixed else members(pool_key)
        pool = [ins.code for ins in universe if ins.capacity >= 1]
        staff[root] = []
        while len(staff[root]) < per_task:
            order = sorted(pool, key=rank)
            if not _augment(
                root, tasks, order, staff, holds, loads, capacity, eligible, dead_tasks, dead_inspectors
            ):
                break
        if len(staff[root]) < per_task:
            found = staff[root]
            stuck.append(
                (
                    root,
                    _diagnose(
                        round_number,
                        task,
                        len(found),
                        per_task,
                        pool_key,
                        [i for i in members(pool_key) if i.code not in found],
                        loads,
                        conflicts,
                        require_qualification,
                    ),
                )
            )
    # A task that stays short keeps its partial staff until every short task had its searches (so the searches
    # see a fixed state), then gives it back: only fully staffed tasks are published.
    for root, problem in stuck:
        for code in staff.pop(root):
            holds[code].remove(root)
            loads[code] -= 1
        out.problems.append(problem)
    out.repaired = [tasks[n].producer_id for n in short if n in staff]
    # Keep the greedy pass's dict order (assignment order); only the inspectors of some tasks changed.
    out.inspectors = {tasks[n].producer_id: tuple(staff[n]) for n in sorted(staff)}


def _augment(
    root: int,
    tasks: Sequence[TaskNeed],
    order: list[str],
    staff: dict[int, list[str]],
    holds: dict[str, list[int]],
    loads: dict[str, int],
    capacity: dict[str, int],
    eligible: Callable[[str, TaskNeed], bool],
    dead_tasks: set[int],
    dead_inspectors: set[str],
) -> bool:
    """One breadth-first search for a path from ``root`` to an inspector with spare capacity; apply it if found."""
    # Per reached inspector the task that would take it; per visited task the inspector it would give up.
    came_from: dict[str, int] = {}
    gives_up: dict[int, str | None] = {root: None}
    queue = deque([root])
    while queue:
        n = queue.popleft()
        task, current = tasks[n], staff[n]
        for code in order:
            if code in came_from or code in dead_inspectors or code in current or not eligible(code, task):
                continue
            came_from[code] = n
            if loads[code] < capacity[code]:
                loads[code] += 1
                # Walk back: each task on the path takes the inspector reached from it, in the place of the one
                # it gives up, so the lead stays the lead unless it is the one given up.
                while True:
                    n = came_from[code]
                    holds[code].append(n)
                    given = gives_up[n]
                    if given is None:
                        staff[n].append(code)
                        return True
                    staff[n][staff[n].index(given)] = code
                    holds[given].remove(n)
                    code = given
            for m in sorted(holds[code]):
                if m not in gives_up and m not in dead_tasks:
                    gives_up[m] = code
                    queue.append(m)
    dead_tasks.update(gives_up)
    dead_inspectors.update(came_from)
    return False


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
