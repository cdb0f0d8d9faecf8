"""Decision rules at and around every kind of limit: inclusive and exclusive, lower and upper, each rule."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gi.quality.decision import (
    Comparison,
    DecisionRule,
    Limit,
    Measurement,
    Outcome,
    RuleKind,
    combine,
    decide,
    meets,
    round_gbt8170,
)

P, F, I = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE  # noqa: E741
SIMPLE = DecisionRule(RuleKind.SIMPLE_ACCEPTANCE)
GUARD = DecisionRule(RuleKind.GUARD_BAND)
G_ACC = DecisionRule(RuleKind.GUARDED_ACCEPTANCE)
G_REJ = DecisionRule(RuleKind.GUARDED_REJECTION)

UPPER_INCL = Limit(upper=D(13))  # moisture ≤ 13 %
UPPER_EXCL = Limit(upper=D(13), upper_inclusive=False)  # < 13 %
LOWER_INCL = Limit(lower=D("5.0"))  # free amino acids ≥ 5.0 %
LOWER_EXCL = Limit(lower=D("5.0"), lower_inclusive=False)  # > 5.0 %
RANGE = Limit(lower=D("6.0"), upper=D("8.0"))


def outcome(value: str, limit: Limit, rule: DecisionRule, u: str | None = None, censored: str | None = None):
    return decide(Measurement(D(value), None if u is None else D(u), censored), limit, rule).outcome


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        # exactly at the limit: inclusive meets, exclusive does not
        ("13", UPPER_INCL, P),
        ("13.000", UPPER_INCL, P),
        ("13", UPPER_EXCL, F),
        ("5.0", LOWER_INCL, P),
        ("5", LOWER_INCL, P),
        ("5.0", LOWER_EXCL, F),
        # the smallest step either side
        ("12.999999", UPPER_INCL, P),
        ("13.000001", UPPER_INCL, F),
        ("12.999999", UPPER_EXCL, P),
        ("13.000001", UPPER_EXCL, F),
        ("4.999999", LOWER_INCL, F),
        ("5.000001", LOWER_INCL, P),
        ("4.999999", LOWER_EXCL, F),
        ("5.000001", LOWER_EXCL, P),
        # two-sided
        ("6.0", RANGE, P),
        ("8.0", RANGE, P),
        ("5.99", RANGE, F),
        ("8.01", RANGE, F),
        ("7", RANGE, P),
    ],
)
def test_simple_acceptance_at_and_around_limits(value: str, limit: Limit, expected: Outcome) -> None:
    assert outcome(value, limit, SIMPLE) is expected
    assert outcome(value, limit, SIMPLE, u="5") is expected  # U is recorded, never used by simple acceptance
    assert meets(D(value), limit) is (expected is P)


def test_float_trap_is_avoided() -> None:
    # 0.1 + 0.2 > 0.3 in binary floating point; in Decimal it is exactly the limit
    assert outcome(str(D("0.1") + D("0.2")), Limit(upper=D("0.3")), SIMPLE) is P


@pytest.mark.parametrize(
    ("value", "u", "limit", "guard", "acc", "rej"),
    [
        # upper ≤ 13, U = 0.4: pass iff v + U ≤ 13, fail iff v − U > 13
        ("12.5", "0.4", UPPER_INCL, P, P, P),
        ("12.6", "0.4", UPPER_INCL, P, P, P),  # interval [12.2, 13.0] touches an inclusive limit: within
        ("12.61", "0.4", UPPER_INCL, I, F, P),  # straddles, value meets: conditional pass
        ("13", "0.4", UPPER_INCL, I, F, P),  # value at the limit
        ("13.4", "0.4", UPPER_INCL, I, F, P),  # interval [13.0, 13.8]: 13.0 still meets ≤ 13
        ("13.41", "0.4", UPPER_INCL, F, F, F),  # wholly above
        # upper < 13 (exclusive): the limit value itself is outside
        ("12.6", "0.4", UPPER_EXCL, I, F, P),  # [12.2, 13.0] includes 13, which fails < 13
        ("12.59", "0.4", UPPER_EXCL, P, P, P),
        ("13.4", "0.4", UPPER_EXCL, F, F, F),  # [13.0, 13.8] wholly ≥ 13
        ("13.39", "0.4", UPPER_EXCL, I, F, P),
        # lower ≥ 5.0, U = 0.3
        ("5.3", "0.3", LOWER_INCL, P, P, P),  # [5.0, 5.6] touches an inclusive limit
        ("5.29", "0.3", LOWER_INCL, I, F, P),
        ("5.0", "0.3", LOWER_INCL, I, F, P),
        ("4.7", "0.3", LOWER_INCL, I, F, P),  # [4.4, 5.0]: 5.0 meets ≥ 5.0
        ("4.69", "0.3", LOWER_INCL, F, F, F),
        # lower > 5.0 (exclusive)
        ("5.3", "0.3", LOWER_EXCL, I, F, P),
        ("5.31", "0.3", LOWER_EXCL, P, P, P),
        ("4.7", "0.3", LOWER_EXCL, F, F, F),
        ("4.71", "0.3", LOWER_EXCL, I, F, P),
        # two-sided 6.0–8.0 with an interval wider than the range: neither wholly in nor wholly out
        ("7", "1.5", RANGE, I, F, P),
        ("7", "1.0", RANGE, P, P, P),
        ("9.1", "1.0", RANGE, F, F, F),
        ("9.0", "1.0", RANGE, I, F, P),
    ],
)
def test_guard_band_rules_at_and_around_limits(value, u, limit, guard, acc, rej) -> None:
    assert outcome(value, limit, GUARD, u) is guard
    assert outcome(value, limit, G_ACC, u) is acc
    assert outcome(value, limit, G_REJ, u) is rej


def test_guard_band_statements_follow_ilac_g8() -> None:
    conditional_pass = decide(Measurement(D("12.8"), D("0.4")), UPPER_INCL, GUARD)
    conditional_fail = decide(Measurement(D("13.2"), D("0.4")), UPPER_INCL, GUARD)
    assert conditional_pass.statement == "conditional pass" and conditional_pass.outcome is I
    assert conditional_fail.statement == "conditional fail" and conditional_fail.outcome is I
    assert "[12.4, 13.2]" in conditional_pass.reason and "≤ 13" in conditional_pass.reason


def test_guard_factor_scales_the_band() -> None:
    half = DecisionRule(RuleKind.GUARD_BAND, guard_factor=D("0.5"))
    assert outcome("12.7", UPPER_INCL, GUARD, "0.4") is I
    assert outcome("12.7", UPPER_INCL, half, "0.4") is P  # w = 0.2: [12.5, 12.9]
    assert outcome("12.8", UPPER_INCL, half, "0.4") is P  # [12.6, 13.0] touches
    assert outcome("12.81", UPPER_INCL, half, "0.4") is I


def test_guard_band_without_uncertainty_falls_back_to_the_value_and_says_so() -> None:
    decision = decide(Measurement(D(13)), UPPER_INCL, GUARD)
    assert decision.outcome is P
    assert any("no expanded uncertainty" in n for n in decision.notes)
    assert decide(Measurement(D(13)), UPPER_EXCL, GUARD).outcome is F


@pytest.mark.parametrize("rule", [SIMPLE, GUARD, G_ACC, G_REJ])
@pytest.mark.parametrize(
    ("censored", "value", "limit", "expected"),
    [
        ("<", "0.05", Limit(upper=D("0.1")), P),  # below LOD, LOD under the limit
        ("<", "0.1", Limit(upper=D("0.1")), P),  # every value below 0.1 meets ≤ 0.1
        ("<", "0.1", Limit(upper=D("0.1"), upper_inclusive=False), P),  # and < 0.1
        ("<", "0.2", Limit(upper=D("0.1")), I),  # the LOD is above the limit: cannot tell
        ("<", "0.02", LOWER_INCL, F),  # below 0.02 can never reach ≥ 5
        ("<", "6", LOWER_INCL, I),
        (">", "900", Limit(upper=D(900)), F),  # every value above 900 misses ≤ 900
        (">", "899", Limit(upper=D(900)), I),
        (">", "5.0", LOWER_INCL, P),
        (">", "5.0", LOWER_EXCL, P),
    ],
)
def test_censored_results_are_decided_by_their_interval(rule, censored, value, limit, expected) -> None:
    assert outcome(value, limit, rule, u="0.01", censored=censored) is expected


@pytest.mark.parametrize(
    ("value", "digits", "rounded"),
    [
        ("12.35", 1, "12.4"),
        ("12.25", 1, "12.2"),
        ("12.2501", 1, "12.3"),
        ("13.04", 0, "13"),
        ("13.5", 0, "14"),
        ("12.5", 0, "12"),
        ("-0.25", 1, "-0.2"),
    ],
)
def test_gbt8170_rounding_half_to_even(value: str, digits: int, rounded: str) -> None:
    assert round_gbt8170(D(value), digits) == D(rounded)


def test_rounded_value_comparison_differs_from_full_value() -> None:
    rounded = DecisionRule(RuleKind.SIMPLE_ACCEPTANCE, comparison=Comparison.ROUNDED_VALUE)
    assert outcome("13.4", UPPER_INCL, SIMPLE) is F
    assert outcome("13.4", UPPER_INCL, rounded) is P  # 13.4 rounds to 13 for a limit written "13"
    assert outcome("13.5", UPPER_INCL, rounded) is F  # 13.5 rounds to 14
    # a stored limit keeps no trailing zeros (Numeric(18, 6)): "5.0" rounds to whole numbers
    assert outcome("4.5", LOWER_INCL, rounded) is F  # 4.5 -> 4 (half to even)
    assert outcome("4.51", LOWER_INCL, rounded) is P  # 4.51 -> 5
    decision = decide(Measurement(D("13.4")), UPPER_INCL, rounded)
    assert "rounded to 13" in decision.notes[0]


def test_limit_text_and_digits() -> None:
    assert UPPER_INCL.text("%") == "≤ 13 %"
    assert LOWER_EXCL.text() == "> 5"
    assert RANGE.text("g/L") == "≥ 6, ≤ 8 g/L"
    assert Limit(upper=D("0.050000")).digits() == 2
    with pytest.raises(ValueError):
        Limit()
    with pytest.raises(ValueError):
        Limit(lower=D(2), upper=D(1))


def test_combine() -> None:
    assert combine([P, P]) is P
    assert combine([P, I]) is I
    assert combine([I, F, P]) is F
    assert combine([]) is I


def test_rule_descriptions_cite_the_guidance() -> None:
    assert "ILAC-G8:09/2019 4.2.1" in SIMPLE.describe()
    assert "w = 1·U" in GUARD.describe()
    assert SIMPLE.as_dict() == {"kind": "simple_acceptance", "guard_factor": "1", "comparison": "full_value"}
