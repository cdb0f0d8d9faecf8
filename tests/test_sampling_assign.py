"""Random inspectors: two per target, recusal (home county, declared conflicts, previous inspector),
qualification, capacity, balanced workload, and infeasibility reported with the constraint and the place."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date

import pytest

from sampling.assign import InfeasiblePlanError, TaskNeed, assign_round, pool_of
from sampling.design import DesignParameters
from sampling.draw import run_draw
from sampling.frames import FrameInspector
from sampling.rng import SeedStream
from sampling.seasons import split_rounds
from sampling.synthetic import synthetic_frame


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
    tasks = [TaskNeed(7, "syn-00", "farm_product", "330106", ())]
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
        TaskNeed(7, "syn-00", "farm_product", "330106", ()),
        TaskNeed(8, "syn-00", "farm_product", "330106", ()),
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
