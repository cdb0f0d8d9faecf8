"""The design: integer inclusion probabilities, allocation, sample sizes, risk weights, caps and coverage, and
a statistical check that inclusion frequencies over many draws match the target probabilities."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import date

import pytest
from scipy import stats

from demo.directories import synthetic_frame
from gi.errors import InputError
from sampling.design import (
    DEFAULT_RISK_POINTS,
    DesignParameters,
    Ratios,
    allocate,
    inclusion_ticks,
    percent_to_bp,
    product_sample_size,
    risk_weight,
)
from sampling.draw import run_draw, systematic_pps
from sampling.frames import Frame, FrameInspector, FrameProducer, FrameProduct
from sampling.rng import TICKS
from sampling.seasons import Round, split_rounds

NO_RISK = {
    k: 0
    for k in (
        "failure",
        "inconclusive",
        "complaints",
        "new_authorization",
        "long_since_inspection",
        "outside_area",
    )
}


def params_for(rounds: list[Round], **changes: object) -> DesignParameters:
    return DesignParameters("T", rounds[0].starts_on, rounds[-1].ends_on, tuple(rounds), **changes)  # type: ignore[arg-type]


def test_inclusion_ticks_sum_and_proportionality() -> None:
    weights = [100, 150, 300, 100, 250, 700, 100]
    ticks = inclusion_ticks(weights, list(range(7)), 3 * TICKS)
    assert int(ticks.sum()) == 3 * TICKS
    assert all(0 < t <= TICKS for t in ticks)
    exact = [3 * w / sum(weights) for w in weights]
    # 700 * 3 / 1600 > 1: certain; the others share the remaining 2 in proportion to their weights.
    assert ticks[5] == TICKS and exact[5] > 1
    rest = [0, 1, 2, 3, 4, 6]
    w_rest = sum(weights[i] for i in rest)
    for i in rest:
        assert abs(ticks[i] - 2 * TICKS * weights[i] / w_rest) <= 1


def test_inclusion_ticks_ties_and_edges() -> None:
    # 1 from 3 equal weights: 2**32 is not divisible by 3; the extra tick goes to the smallest id.
    ticks = inclusion_ticks([1, 1, 1], [30, 10, 20], TICKS)
    assert int(ticks.sum()) == TICKS and ticks[1] == TICKS // 3 + 1 and ticks[0] == ticks[2] == TICKS // 3
    assert inclusion_ticks([5, 5], [1, 2], 2 * TICKS).tolist() == [TICKS, TICKS]
    assert inclusion_ticks([5, 5], [1, 2], 0).tolist() == [0, 0]
    with pytest.raises(ValueError):
        inclusion_ticks([1], [1], TICKS + 1)
    # Huge weights take the exact big-integer path and still sum exactly.
    big = inclusion_ticks([10**12, 3 * 10**12, 10**12 + 7], [1, 2, 3], 2 * TICKS)
    assert int(big.sum()) == 2 * TICKS and big[1] == TICKS
    # A county's expected share need not be a whole number of targets: 1.5 targets over weights 1, 1, 4 —
    # the heavy one is certain (1.5 x 4/6 = 1 >= 1), the others share the remaining half.
    half = inclusion_ticks([1, 1, 4], [1, 2, 3], 3 * TICKS // 2)
    assert half.tolist() == [TICKS // 4, TICKS // 4, TICKS]


def test_systematic_pps_hits_one_unit_per_point() -> None:
    ticks = [TICKS // 2, TICKS // 2, TICKS, TICKS // 4, TICKS // 4, TICKS // 2]
    assert systematic_pps(ticks, 0) == [0, 2, 3]
    assert systematic_pps(ticks, TICKS - 1) == [1, 2, 5]
    assert systematic_pps(ticks, TICKS // 2) == [1, 2, 5]


def test_allocate_proportional_with_caps() -> None:
    assert allocate(10, {"a": 1, "b": 1}, {"a": 10, "b": 10}) == {"a": 5, "b": 5}
    assert allocate(10, {"a": 9, "b": 1}, {"a": 4, "b": 10}) == {"a": 4, "b": 6}
    out = allocate(7, {"b": 1, "a": 1, "c": 1}, {"a": 5, "b": 5, "c": 5})
    assert sum(out.values()) == 7 and out == {"a": 3, "b": 2, "c": 2}  # tie: smaller code first
    assert allocate(50, {"a": 1, "b": 1}, {"a": 3, "b": 4}) == {"a": 3, "b": 4}


def test_product_sample_size() -> None:
    rounds = split_rounds(date(2026, 1, 1), date(2026, 1, 31), 1)
    p = params_for(rounds)
    assert product_sample_size(101, 500, {"a": 101}, {}, p) == (6, {"a": 0})  # ceil(5.05)
    assert product_sample_size(100, 500, {"a": 100}, {}, p) == (5, {"a": 0})  # exactly 5, no float surprise
    assert product_sample_size(10, 500, {"a": 10}, {}, p)[0] == 2  # min_per_product
    n, mins = product_sample_size(40, 500, {"a": 30, "b": 1, "c": 0}, {"a": 1, "b": 1, "c": 1, "d": 1}, p)
    assert n == 2 and mins == {"a": 1, "b": 1, "c": 0}
    assert product_sample_size(40, 0, {"a": 40}, {"a": 1}, p) == (0, {})  # ratio 0: not inspected
    assert product_sample_size(3, 10000, {"a": 1}, {}, p)[0] == 1  # never more than eligible


def test_risk_weight_and_parameters() -> None:
    rounds = split_rounds(date(2026, 1, 1), date(2026, 1, 31), 1)
    p = params_for(rounds)
    assert risk_weight(NO_RISK, p) == 100
    assert (
        risk_weight({**NO_RISK, "failure": 1, "complaints": 5, "outside_area": 1}, p) == 100 + 200 + 200 + 200
    )
    assert set(DEFAULT_RISK_POINTS) == set(p.risk_points)
    # A new risk input (the extension point) needs its points and cap; without them it is refused, not ignored.
    with pytest.raises(InputError, match="mass_balance"):
        risk_weight({**NO_RISK, "mass_balance": 2}, p)
    extended = p.with_changes(
        risk_points={**p.risk_points, "mass_balance": 150}, risk_caps={**p.risk_caps, "mass_balance": 2}
    )
    assert risk_weight({**NO_RISK, "mass_balance": 3}, extended) == 100 + 300
    with pytest.raises(InputError, match="risk_points"):
        p.with_changes(risk_caps={**p.risk_caps, "mass_balance": 2})
    assert DesignParameters.from_dict(p.to_dict()) == p
    assert percent_to_bp("5%") == 500 and percent_to_bp(12.5) == 1250
    with pytest.raises(InputError):
        percent_to_bp("120")
    with pytest.raises(InputError, match="inspectors_per_task"):
        params_for(rounds, inspectors_per_task=1)


def _small_frame(n_units: int = 30) -> Frame:
    producers = []
    for i in range(n_units):
        risk = dict(NO_RISK)
        risk["failure"] = int(i % 7 == 0)
        risk["complaints"] = int(i % 5 == 0) * 2
        risk["new_authorization"] = int(i % 3 == 0)
        producers.append(
            FrameProducer(i + 1, "p", "330101" if i % 3 else "330102", "producer", "X", f"u{i}", True, risk)
        )
    inspectors = [FrameInspector(f"I{k:02d}", "330100", ("farm_product",), 50) for k in range(6)]
    return Frame(
        "S",
        "2026-01-01T00:00:00+08:00",
        [FrameProduct("p", 1, "产品", "farm_product", ())],
        producers,
        inspectors,
    )


def test_inclusion_frequencies_match_targets() -> None:
    """2,000 seeded draws: each unit's frequency is within 4.5 binomial standard errors of its target, and the
    chi-square statistic over all units is unremarkable."""
    frame = _small_frame()
    rounds = split_rounds(date(2026, 1, 1), date(2026, 1, 31), 1)
    params = params_for(rounds, ratios=Ratios(peak=2500, regular=2500, off_season=2500), min_per_county=1)
    draws = 2000
    counts: Counter[int] = Counter()
    targets: dict[int, int] = {}
    for k in range(draws):
        result = run_draw(frame, params, hashlib.sha256(f"stat-{k}".encode()).digest())
        for t in result.tasks:
            counts[t.producer_id] += 1
            assert (
                targets.setdefault(t.producer_id, t.pi_ticks) == t.pi_ticks
            )  # targets do not depend on the seed
    assert len(result.tasks) == 8  # ceil(25 % of 30)
    assert len(targets) == 30  # every unit has a positive probability and was drawn at least once
    chi2, df = 0.0, 0
    for pid, ticks in targets.items():
        pi = ticks / TICKS
        if ticks == TICKS:
            assert counts[pid] == draws
            continue
        se = (draws * pi * (1 - pi)) ** 0.5
        z = (counts[pid] - draws * pi) / se
        assert abs(z) < 4.5, (pid, pi, counts[pid] / draws)
        chi2 += z * z
        df += 1
    assert stats.chi2.sf(chi2, df) > 0.001
    # Higher risk, higher probability in a county: unit 8 (a failure, weight 300) vs unit 2 (no factor, 100).
    assert frame.producers[7].county == frame.producers[1].county
    assert abs(targets[8] - 3 * targets[2]) <= 1


def test_yearly_cap_and_minimum_gap() -> None:
    frame = _small_frame(20)
    inspected = {1: (date(2026, 1, 10), date(2026, 2, 20)), 2: (date(2026, 2, 15),), 3: (date(2025, 12, 15),)}
    frame.producers = [
        FrameProducer(
            p.id,
            p.product,
            p.county,
            p.kind,
            p.credit_code,
            p.name,
            p.synthetic,
            p.risk,
            inspected.get(p.id, ()),
        )
        for p in frame.producers
    ]
    rounds = [Round(1, date(2026, 3, 1), date(2026, 3, 31))]
    params = params_for(
        rounds, ratios=Ratios(peak=10000, regular=10000, off_season=10000), yearly_cap=2, min_gap_days=90
    )
    drawn = {t.producer_id for t in run_draw(frame, params, bytes(32)).tasks}
    # 100 %: everyone eligible is drawn; 1 used its yearly cap, 2 and 3 were inspected within 90 days.
    assert drawn == set(range(4, 21))
    relaxed = params.with_changes(min_gap_days=0)
    assert {t.producer_id for t in run_draw(frame, relaxed, bytes(32)).tasks} == set(range(2, 21))


def test_within_plan_gap_and_coverage() -> None:
    frame = synthetic_frame(600, 120, 2, seed=11, counties_per_product=6, history_share=0)
    params = params_for(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3), min_per_county=2)
    result = run_draw(frame, params, hashlib.sha256(b"coverage").digest())
    per_target = Counter(t.producer_id for t in result.tasks)
    assert max(per_target.values()) == 1  # monthly rounds, 90-day gap: once per plan
    covered: dict[tuple[str, str], int] = defaultdict(int)
    for t in result.tasks:
        covered[(t.product, t.county)] += 1
    for p in frame.producers:
        assert covered[(p.product, p.county)] >= 2  # every county with targets covered twice over the plan
    for s in result.strata:
        assert s.sample_size >= params.min_per_product
        assert len(result.tasks_of_round(s.round)) == sum(
            x.sample_size for x in result.strata if x.round == s.round
        )


def test_county_timing_differs_between_public_values() -> None:
    """Which counties a round visits and from which round each county's coverage is due are drawn from the seed:
    they differ between public values, every county is visited in round 1 under some of them, and each county's
    coverage round is uniform over the product's active rounds."""
    frame = synthetic_frame(600, 120, 2, seed=11, counties_per_product=6, history_share=0)
    params = params_for(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3), min_per_county=1)
    round_one: dict[str, set[frozenset[str]]] = defaultdict(set)
    visited_first: Counter[tuple[str, str]] = Counter()
    due: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    draws = 300
    for k in range(draws):
        result = run_draw(frame, params, hashlib.sha256(f"public value {k}".encode()).digest())
        for s in result.strata:
            if s.round == 1:
                drawn = frozenset(c.county for c in s.counties if c.drawn)
                round_one[s.product].add(drawn)
                visited_first.update((s.product, c) for c in drawn)
        for (product, _), counties in result.coverage.items():
            for county, number in counties.items():
                due[(product, county)][number] += 1
    counties = {(p.product, p.county) for p in frame.producers}
    assert len(counties) == 12
    for product, sets in round_one.items():
        assert len(sets) > 1, product  # not the same counties every time
    assert set(visited_first) == counties  # no county can tell in advance that round 1 will skip it
    assert sum(1 for n in visited_first.values() if n < draws) >= 3  # ... nor that it will be visited
    chi2 = sum((n - draws / 3) ** 2 / (draws / 3) for c in due.values() for n in (c[1], c[2], c[3]))
    assert stats.chi2.sf(chi2, 2 * len(due)) > 0.001
    # Every county is covered over the plan whatever the draw.
    result = run_draw(frame, params, hashlib.sha256(b"any").digest())
    assert {(t.product, t.county) for t in result.tasks} == counties
