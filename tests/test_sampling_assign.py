"""Random inspectors: two per target, recusal (home county, declared conflicts, previous inspector),
qualification, capacity, balanced workload, the exact repair of rounds the greedy pass leaves short, and
infeasibility reported with the constraint and the place."""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict, deque
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sampling_fixtures import publish  # what `gi plan create` + `draw` + `export` publish, without a database
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

import sampling.draw
from demo.directories import synthetic_frame
from sampling.assign import InfeasiblePlanError, RoundAssignment, TaskNeed, assign_round, pool_of
from sampling.commit import sha256_hex
from sampling.design import DesignParameters
from sampling.draw import run_draw
from sampling.frames import FrameInspector
from sampling.rng import SeedStream
from sampling.seasons import split_rounds
from sampling.verify import verify


def _params(**changes: object) -> DesignParameters:
    rounds = tuple(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3))
    return DesignParameters("A", date(2026, 1, 1), date(2026, 3, 31), rounds, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def drawn():  # type: ignore[no-untyped-def]
    frame = synthetic_frame(6000, 600, 6, seed=21, conflict_share=0.05, history_share=0.3, capacity=(6, 12))
    params = _params(min_gap_days=0, yearly_cap=3)  # let targets come back, so previous inspectors matter
    return frame, params, run_draw(frame, params, hashlib.sha256(b"assign").digest())


def test_every_target_gets_two_distinct_inspectors_of_its_province(drawn) -> None:  # type: ignore[no-untyped-def]
    frame, _, result = drawn
    home = {i.code: i.home_county for i in frame.inspectors}
    for t in result.tasks:
        assert len(t.inspectors) == 2 and len(set(t.inspectors)) == 2
        assert all(home[c][:2] == t.county[:2] for c in t.inspectors)


def test_recusal_home_county_conflicts_previous_inspectors(drawn) -> None:  # type: ignore[no-untyped-def]
    frame, _, result = drawn
    home = {i.code: i.home_county for i in frame.inspectors}
    conflicts = set(frame.conflicts)
    previous = {p.id: set(p.previous_inspectors) for p in frame.producers}
    assert len(conflicts) > 50 and sum(1 for v in previous.values() if v) > 500
    repeats = 0
    for t in sorted(result.tasks, key=lambda t: (t.round, t.order)):
        for code in t.inspectors:
            assert home[code] != t.county
            assert (code, t.producer_id) not in conflicts
            assert code not in previous[t.producer_id]
        repeats += bool(previous[t.producer_id]) and any(
            x.producer_id == t.producer_id and x.round < t.round for x in result.tasks
        )
        previous[t.producer_id] = set(t.inspectors)  # the next inspection of this target must avoid them
    assert repeats > 0  # some targets were drawn in two rounds, so the within-plan rule was exercised


def test_qualification_and_capacity(drawn) -> None:  # type: ignore[no-untyped-def]
    frame, _, result = drawn
    category = {p.code: p.category for p in frame.products}
    by_code = {i.code: i for i in frame.inspectors}
    for t in result.tasks:
        assert all(category[t.product] in by_code[c].qualifications for c in t.inspectors)
    for loads in result.loads.values():
        assert all(loads[c] <= by_code[c].capacity for c in loads)


def test_workload_balanced_within_one_task(drawn) -> None:  # type: ignore[no-untyped-def]
    """In each pool and round, every inspector qualified for the pool's product is within one task of the
    busiest one, unless at capacity."""
    frame, params, result = drawn
    categories = defaultdict(set)
    for p in frame.producers:
        categories[pool_of(p.county, params.inspector_scope)].add(
            next(x.category for x in frame.products if x.code == p.product)
        )
    for loads in result.loads.values():
        pools = defaultdict(list)
        for ins in frame.inspectors:
            pool = pool_of(ins.home_county, params.inspector_scope)
            if categories[pool] & set(ins.qualifications):
                pools[pool].append(ins)
        for members in pools.values():
            top = max(loads[i.code] for i in members)
            assert top >= 2
            assert all(loads[i.code] >= min(i.capacity, top - 1) for i in members)


def test_infeasible_reports_constraint_and_place() -> None:
    stream = SeedStream(bytes(32))
    tasks = [TaskNeed(7, "syn-00", "farm_product", "330106", (), "33")]
    only_home = [
        FrameInspector("I1", "330106", ("farm_product",), 5),
        FrameInspector("I2", "330106", ("farm_product",), 5),
        FrameInspector("I3", "330102", ("farm_product",), 5),
    ]
    out = assign_round(1, tasks, only_home, set(), stream)
    assert out.problems and out.problems[0].binding == "home county"
    text = out.problems[0].text()
    assert "round 1" in text and "county 330106" in text and "target 7" in text and "1 of 2" in text
    conflicted = assign_round(
        1, tasks, only_home[2:] + [FrameInspector("I4", "330102", ("farm_product",), 5)], {("I4", 7)}, stream
    )
    assert conflicted.problems[0].binding == "declared conflict"
    unqualified = assign_round(
        1, tasks, [FrameInspector("I5", "330102", ("handicraft",), 5)] * 1 + only_home[2:], set(), stream
    )
    assert unqualified.problems[0].binding == "qualification"
    # Capacity: two inspectors with capacity 1 can staff one task, not two.
    two = [
        TaskNeed(7, "syn-00", "farm_product", "330106", (), "33"),
        TaskNeed(8, "syn-00", "farm_product", "330106", (), "33"),
    ]
    tight = [
        FrameInspector("I6", "330102", ("farm_product",), 1),
        FrameInspector("I7", "330103", ("farm_product",), 1),
    ]
    out = assign_round(2, two, tight, set(), stream)
    assert len(out.inspectors) == 1 and out.problems[0].binding == "capacity" and out.problems[0].round == 2


def test_infeasible_plan_raises_with_every_problem() -> None:
    frame = synthetic_frame(2000, 20, 4, seed=2)  # 5 inspectors per province for ~40 tasks each
    with pytest.raises(InfeasiblePlanError) as info:
        run_draw(frame, _params(), hashlib.sha256(b"tight").digest())
    err = info.value
    assert len(err.problems) > 1 and err.field == "inspectors"
    assert "constraint '" in str(err) and "more)" in str(err)


# ------------------------------------------------------------------------------------------------------------
# The repair (docs/sampling.md section 4).


def _check_constraints(
    out: RoundAssignment,
    tasks: list[TaskNeed],
    inspectors: list[FrameInspector],
    conflicts: set[tuple[str, int]],
    per_task: int = 2,
) -> None:
    by_code = {i.code: i for i in inspectors}
    loads: dict[str, int] = defaultdict(int)
    for t in tasks:
        codes = out.inspectors.get(t.producer_id)
        if codes is None:
            continue
        assert len(codes) == per_task and len(set(codes)) == per_task
        for code in codes:
            ins = by_code[code]
            assert ins.home_county != t.county and (t.pool == "*" or ins.home_county[:2] == t.pool)
            assert (code, t.producer_id) not in conflicts and code not in t.previous_inspectors
            assert t.category in ins.qualifications
            loads[code] += 1
    assert all(out.loads[c] == loads[c] <= by_code[c].capacity for c in by_code)


def test_repair_staffs_a_round_the_greedy_pass_left_short() -> None:
    """Task 1 can only have A and B, task 3 only C and D (A and B live in its county). The greedy pass gives
    task 1 A and B, then task 2 the least loaded C and D, so nothing is left for task 3; the repair hands C and
    D over to task 3 and gives task 2 A and B in their places."""
    tasks = [
        TaskNeed(1, "syn-00", "farm_product", "330301", (), "33"),
        TaskNeed(2, "syn-00", "farm_product", "330302", (), "33"),
        TaskNeed(3, "syn-00", "farm_product", "330101", (), "33"),
    ]
    inspectors = [
        FrameInspector("A", "330101", ("farm_product",), 2),
        FrameInspector("B", "330101", ("farm_product",), 2),
        FrameInspector("C", "330102", ("farm_product",), 1),
        FrameInspector("D", "330102", ("farm_product",), 1),
    ]
    conflicts = {("C", 1), ("D", 1)}
    stream = SeedStream(hashlib.sha256(b"repair").digest())
    greedy = assign_round(1, tasks[:2], inspectors, conflicts, stream)
    assert {k: set(v) for k, v in greedy.inspectors.items()} == {1: {"A", "B"}, 2: {"C", "D"}}

    out = assign_round(1, tasks, inspectors, conflicts, stream)
    assert not out.problems and out.repaired == [3]
    assert {k: set(v) for k, v in out.inspectors.items()} == {1: {"A", "B"}, 2: {"A", "B"}, 3: {"C", "D"}}
    _check_constraints(out, tasks, inspectors, conflicts)
    # Lead first, exactly as documented (replacements take the place of the inspector handed over).
    assert out.inspectors == _reference_round(1, tasks, inspectors, conflicts, stream.seed)[0]
    # The greedy result stands untouched when it staffs every task.
    assert assign_round(1, tasks[:2], inspectors, conflicts, stream) == greedy and not greedy.repaired


def test_truly_infeasible_round_still_reported_with_constraint_and_place() -> None:
    """Tasks 7 and 8 both need C and D (A, B and E live in their county) and C and D have room for one task: no
    staffing exists, the repair changes nothing, and task 8 is reported with the constraint that failed."""
    tasks = [
        TaskNeed(7, "syn-00", "farm_product", "330106", (), "33"),
        TaskNeed(8, "syn-00", "farm_product", "330106", (), "33"),
    ]
    inspectors = [
        FrameInspector("A", "330106", ("farm_product",), 5),
        FrameInspector("B", "330106", ("farm_product",), 5),
        FrameInspector("E", "330106", ("farm_product",), 5),
        FrameInspector("C", "330102", ("farm_product",), 1),
        FrameInspector("D", "330103", ("farm_product",), 1),
    ]
    out = assign_round(3, tasks, inspectors, set(), SeedStream(bytes(32)))
    assert set(out.inspectors) == {7} and set(out.inspectors[7]) == {"C", "D"} and not out.repaired
    assert len(out.problems) == 1
    problem = out.problems[0]
    assert problem.binding == "home county" and problem.excluded["capacity"] == 2
    text = problem.text()
    assert "round 3" in text and "county 330106" in text and "target 8" in text and "0 of 2" in text
    assert "constraint 'home county'" in text
    _check_constraints(out, tasks, inspectors, set())
    # A partial staff found by the repair is given back: with C alone eligible, task 7 finds 1 of 2 and keeps none.
    half = assign_round(3, tasks, inspectors[:4], set(), SeedStream(bytes(32)))
    assert half.inspectors == {} and set(half.loads.values()) == {0}
    assert [(p.producer_id, p.found) for p in half.problems] == [(7, 1), (8, 0)]


def _max_staffing(
    tasks: list[TaskNeed], inspectors: list[FrameInspector], conflicts: set[tuple[str, int]], per_task: int
) -> int:
    """The most inspector slots any assignment fills (a maximum flow), to tell infeasible rounds apart."""
    n_t, n_i = len(tasks), len(inspectors)
    sink = n_t + n_i + 1
    rows, cols, caps = [], [], []
    for k, t in enumerate(tasks):
        rows.append(0), cols.append(1 + k), caps.append(per_task)
        for j, ins in enumerate(inspectors):
            if _eligible(ins, t, conflicts, pool=True):
                rows.append(1 + k), cols.append(1 + n_t + j), caps.append(1)
    for j, ins in enumerate(inspectors):
        rows.append(1 + n_t + j), cols.append(sink), caps.append(max(ins.capacity, 0))
    graph = csr_matrix((np.array(caps, dtype=np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    return int(maximum_flow(graph, 0, sink).flow_value)


def _eligible(ins: FrameInspector, t: TaskNeed, conflicts: set[tuple[str, int]], pool: bool = False) -> bool:
    return (
        (not pool or t.pool == "*" or ins.home_county[:2] == t.pool)
        and ins.home_county != t.county
        and (ins.code, t.producer_id) not in conflicts
        and ins.code not in t.previous_inspectors
        and t.category in ins.qualifications
    )


def _reference_round(
    number: int,
    tasks: list[TaskNeed],
    inspectors: list[FrameInspector],
    conflicts: set[tuple[str, int]],
    seed: bytes,
    per_task: int = 2,
) -> tuple[dict[int, tuple[str, ...]], dict[str, int], list[tuple[int, int, dict[str, int]]]]:
    """Section 4 of docs/sampling.md re-implemented plainly (each task's pool, qualification required), without
    the shortcuts of skipping what failed searches visited and of ranking only the root's province: (inspectors
    per task, loads, short tasks with found and excluded counts)."""
    load = {i.code: 0 for i in inspectors}

    def rank(i: FrameInspector) -> tuple[int, int, str]:
        label = f"inspector|{number}|{load[i.code]}|{i.code}".encode("ascii")
        return load[i.code], int.from_bytes(hashlib.sha256(seed + label).digest()[:8], "big"), i.code

    def pool_members(t: TaskNeed) -> list[FrameInspector]:
        return [i for i in inspectors if t.pool == "*" or i.home_county[:2] == t.pool]

    staff: dict[int, list[str]] = {}
    short = []
    for k, t in enumerate(tasks):  # the greedy pass
        ranked = sorted((i for i in pool_members(t) if load[i.code] < i.capacity), key=rank)
        picks = [i.code for i in ranked if _eligible(i, t, conflicts)][:per_task]
        if len(picks) < per_task:
            short.append(k)
            continue
        for code in picks:
            load[code] += 1
        staff[k] = picks
    capacity = {i.code: i.capacity for i in inspectors}
    failed = []
    for s in short:  # the repair
        staff[s] = []
        while len(staff[s]) < per_task:
            ranked = sorted((i for i in inspectors if i.capacity >= 1), key=rank)
            reached_from: dict[str, int] = {}
            through: dict[int, str | None] = {s: None}
            queue, end = deque([s]), None
            while queue and end is None:
                t = queue.popleft()
                for ins in ranked:
                    code = ins.code
                    if (
                        code in reached_from
                        or not _eligible(ins, tasks[t], conflicts, pool=True)
                        or code in staff[t]
                    ):
                        continue
                    reached_from[code] = t
                    if load[code] < capacity[code]:
                        end = code
                        break
                    for u in sorted(u for u, codes in staff.items() if code in codes):
                        if u not in through:
                            through[u] = code
                            queue.append(u)
            if end is None:
                break
            load[end] += 1
            code = end
            while True:
                t = reached_from[code]
                given = through[t]
                if given is None:
                    staff[t].append(code)
                    break
                staff[t][staff[t].index(given)] = code
                code = given
        if len(staff[s]) < per_task:
            t, excluded = (
                tasks[s],
                dict.fromkeys(
                    ("home county", "declared conflict", "previous inspector", "qualification", "capacity"), 0
                ),
            )
            for ins in pool_members(t):
                if ins.code in staff[s]:
                    continue
                if ins.home_county == t.county:
                    excluded["home county"] += 1
                elif (ins.code, t.producer_id) in conflicts:
                    excluded["declared conflict"] += 1
                elif ins.code in t.previous_inspectors:
                    excluded["previous inspector"] += 1
                elif t.category not in ins.qualifications:
                    excluded["qualification"] += 1
                elif load[ins.code] >= ins.capacity:
                    excluded["capacity"] += 1
            failed.append((s, len(staff[s]), excluded))
    for s, _, _ in failed:
        for code in staff.pop(s):
            load[code] -= 1
    return (
        {tasks[k].producer_id: tuple(v) for k, v in sorted(staff.items())},
        load,
        [(tasks[s].producer_id, found, excluded) for s, found, excluded in failed],
    )


def test_repair_follows_the_documented_rule_and_is_exact() -> None:
    """Random small rounds (two provinces, tight capacities, recusal and qualification): the assignment equals a
    plain re-implementation of the documented rule, respects every constraint, and reports a task short only
    when no assignment at all staffs the round (maximum flow below the demand)."""
    rng = random.Random(2026)
    counties = ["330101", "330102", "330103", "330104", "320101", "320102", "320103"]
    categories = ["farm_product", "handicraft"]
    repaired = infeasible = 0
    for case in range(1000):
        per_task = 2 if case % 8 else 3
        inspectors = [
            FrameInspector(
                f"I{j:02d}",
                rng.choice(counties),
                tuple(sorted(rng.sample(categories, rng.choice((1, 2, 2))))),
                rng.choice((0, 1, 2, 2, 3, 3, 4)),
            )
            for j in range(rng.randint(8, 18))
        ]
        tasks = []
        for k in range(rng.randint(2, 7)):
            county = rng.choice(counties)
            tasks.append(
                TaskNeed(
                    100 + k,
                    "syn-00",
                    rng.choice(categories),
                    county,
                    tuple(i.code for i in inspectors if rng.random() < 0.05),
                    # Some rounds mix in targets whose pool was widened to the whole directory.
                    "*" if case % 3 == 0 and rng.random() < 0.3 else county[:2],
                )
            )
        conflicts = {(i.code, t.producer_id) for i in inspectors for t in tasks if rng.random() < 0.1}
        seed = hashlib.sha256(b"case %d" % case).digest()
        out = assign_round(case, tasks, inspectors, conflicts, SeedStream(seed), per_task)
        staff, loads, short = _reference_round(case, tasks, inspectors, conflicts, seed, per_task)
        assert out.inspectors == staff and out.loads == loads, case
        assert [(p.producer_id, p.found, p.excluded) for p in out.problems] == short, case
        _check_constraints(out, tasks, inspectors, conflicts, per_task)
        feasible = _max_staffing(tasks, inspectors, conflicts, per_task) == per_task * len(tasks)
        assert feasible == (not out.problems), case
        repaired += bool(out.repaired)
        infeasible += bool(out.problems)
    assert repaired >= 30 and infeasible >= 100  # both sides of the repair were exercised


def test_repaired_plan_is_published_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tight directory where, with this public value, the greedy pass leaves a round short: the repaired
    draw is published, respects every constraint, and `gi plan verify` reproduces it from the files."""
    frame = synthetic_frame(1500, 55, 3, seed=8, conflict_share=0.05, history_share=0.3, capacity=(2, 5))
    frame.plan = "V-1"
    params = DesignParameters(
        "V-1",
        date(2026, 1, 1),
        date(2026, 3, 31),
        tuple(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3)),
        min_gap_days=45,
        min_per_county=2,
    )
    rounds: list[RoundAssignment] = []

    def recording(*args, **kwargs) -> RoundAssignment:  # type: ignore[no-untyped-def]
        rounds.append(assign_round(*args, **kwargs))
        return rounds[-1]

    monkeypatch.setattr(sampling.draw, "assign_round", recording)
    files = publish(frame, params, tmp_path, "07 13 22 28 31 + 05")
    assert [len(r.repaired) for r in rounds] == [1, 0, 0]
    monkeypatch.undo()

    report = verify([tmp_path], sha256_hex(files["commitment.json"].read_bytes()))
    assert report.ok, [c for c in report.checks if not c.ok]
    published = json.loads(files["assignment.json"].read_bytes())["tasks"]
    assert len(published) == 225 and all(len(set(t["inspectors"])) == 2 for t in published)
    repaired = rounds[0].repaired[0]
    assert any(t["producer_id"] == repaired and t["round"] == 1 for t in published)
    by_code = {i.code: i for i in frame.inspectors}
    category = {p.code: p.category for p in frame.products}
    previous = {p.id: set(p.previous_inspectors) for p in frame.producers}
    conflicts = set(frame.conflicts)
    result = run_draw(frame, params, bytes.fromhex(json.loads(files["reveal.json"].read_bytes())["seed"]))
    for t in sorted(result.tasks, key=lambda t: (t.round, t.order)):
        for code in t.inspectors:
            ins = by_code[code]
            assert ins.home_county != t.county and ins.home_county[:2] == t.county[:2]
            assert (code, t.producer_id) not in conflicts and code not in previous[t.producer_id]
            assert category[t.product] in ins.qualifications
        previous[t.producer_id] = set(t.inspectors)
    for loads in result.loads.values():
        assert all(loads[c] <= by_code[c].capacity for c in loads)
