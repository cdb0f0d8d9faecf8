"""Decision rules for statements of conformity to a specification limit (ILAC-G8:09/2019), exact in Decimal.

A measured value ``v`` with expanded uncertainty ``U`` (coverage factor ``k``, usually 2 for about 95 %) is
compared with a limit. Four rules are offered; the rule is chosen per product (see gi.quality.judge):

- ``simple_acceptance`` (ILAC-G8 4.2.1, guard band w = 0): the value itself decides; U is recorded, not used.
  This is GB/T 8170-2008's full-value comparison (全数值比较法), the default practice of Chinese standards.
- ``guard_band`` (ILAC-G8 4.2.3, non-binary statement, w = r·U): the interval [v − w, v + w] decides:
  wholly within the limit -> pass, wholly outside -> fail, straddling the limit -> inconclusive (ILAC's
  "conditional pass" when v itself meets the limit, "conditional fail" when it does not).
- ``guarded_acceptance`` (ILAC-G8 4.2.2, binary, w = r·U): pass only when the whole interval meets the limit —
  low risk of false accept (a producer's release decision).
- ``guarded_rejection`` (binary, w = r·U): fail only when the whole interval misses the limit — low risk of false
  reject; this is how an official control proves non-conformity beyond reasonable doubt.

Limits are exact: a value equal to an inclusive limit meets it, equal to an exclusive limit does not. An
interval is closed ([v − w, v + w]), so an interval that only touches an inclusive limit is wholly within it.
A censored result ("<0.05", below a detection limit; ">900") is an open interval and is always decided by the
interval, whatever the rule: "<0.05" against "≤ 0.1" is a pass, against "≥ 0.02" it is inconclusive.
With ``comparison="rounded"`` the value is first rounded to the limit's last digit, half to even with GB/T 8170
rules (修约值比较法), before anything is compared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

INF = Decimal("Infinity")


class RuleKind(enum.StrEnum):
    """The decision rules offered (ILAC-G8:09/2019)."""

    SIMPLE_ACCEPTANCE = "simple_acceptance"
    GUARD_BAND = "guard_band"
    GUARDED_ACCEPTANCE = "guarded_acceptance"
    GUARDED_REJECTION = "guarded_rejection"


class Comparison(enum.StrEnum):
    """GB/T 8170-2008 4.3: compare the full value (default) or the value rounded to the limit's digits."""

    FULL_VALUE = "full_value"
    ROUNDED_VALUE = "rounded_value"


class Outcome(enum.StrEnum):
    """Outcome of one indicator or of a whole sample."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class DecisionRule:
    """A decision rule with its guard-band factor r (w = r·U) and value comparison."""

    kind: RuleKind = RuleKind.SIMPLE_ACCEPTANCE
    guard_factor: Decimal = Decimal(1)
    comparison: Comparison = Comparison.FULL_VALUE

    def describe(self) -> str:
        """One line naming the rule, its guard band and the comparison, as stored with each verdict."""
        factor = plain_number(self.guard_factor)
        names = {
            RuleKind.SIMPLE_ACCEPTANCE: "simple acceptance (ILAC-G8:09/2019 4.2.1, w = 0)",
            RuleKind.GUARD_BAND: f"guard band, non-binary (ILAC-G8:09/2019 4.2.3, w = {factor}·U)",
            RuleKind.GUARDED_ACCEPTANCE: f"guarded acceptance (ILAC-G8:09/2019 4.2.2, w = {factor}·U)",
            RuleKind.GUARDED_REJECTION: f"guarded rejection (JCGM 106:2012, w = {factor}·U)",
        }
        comparison = (
            "full-value comparison (GB/T 8170-2008 4.3.1)"
            if self.comparison is Comparison.FULL_VALUE
            else "rounded-value comparison (GB/T 8170-2008 4.3.2)"
        )
        return f"{names[self.kind]}; {comparison}"

    def as_dict(self) -> dict[str, str]:
        """The rule as JSON-ready values."""
        return {
            "kind": self.kind.value,
            "guard_factor": plain_number(self.guard_factor),
            "comparison": self.comparison.value,
        }


@dataclass(frozen=True)
class Limit:
    """A specification limit: lower and/or upper bound, each inclusive (≥, ≤) or exclusive (>, <)."""

    lower: Decimal | None = None
    upper: Decimal | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = True

    def __post_init__(self) -> None:
        if self.lower is None and self.upper is None:
            raise ValueError("a limit needs a lower or an upper bound")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"lower limit {self.lower} is above upper limit {self.upper}")

    def text(self, unit: str = "") -> str:
        """The limit as people write it: '≥ 5 %', '< 13 g/100 g', '≥ 5, ≤ 9 %'."""
        parts = []
        if self.lower is not None:
            parts.append(f"{'≥' if self.lower_inclusive else '>'} {plain_number(self.lower)}")
        if self.upper is not None:
            parts.append(f"{'≤' if self.upper_inclusive else '<'} {plain_number(self.upper)}")
        return ", ".join(parts) + (f" {unit}" if unit else "")

    def digits(self) -> int:
        """Decimal places of the limit as written (the rounding target of rounded-value comparison)."""
        places = [-decimal_exponent(_plain_decimal(b)) for b in (self.lower, self.upper) if b is not None]
        return max(0, *places) if places else 0


@dataclass(frozen=True)
class Measurement:
    """A result in the limit's unit: value, expanded uncertainty U (same unit), and censoring ('<' or '>')."""

    value: Decimal
    uncertainty: Decimal | None = None
    censored: str | None = None

    def __post_init__(self) -> None:
        if self.censored not in (None, "<", ">"):
            raise ValueError(f"censoring must be '<', '>' or None, not {self.censored!r}")
        if self.uncertainty is not None and self.uncertainty < 0:
            raise ValueError("an expanded uncertainty cannot be negative")


@dataclass(frozen=True)
class Interval:
    """The values a result stands for; an open end excludes its bound."""

    lo: Decimal
    hi: Decimal
    lo_open: bool = False
    hi_open: bool = False

    def text(self) -> str:
        """Interval notation, e.g. [12.6, 13.4] or (0, 0.05)."""
        lo = "-∞" if self.lo == -INF else plain_number(self.lo)
        hi = "∞" if self.hi == INF else plain_number(self.hi)
        return f"{'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"


@dataclass(frozen=True)
class Decision:
    """The outcome of one result against one limit, and why."""

    outcome: Outcome
    reason: str
    value_used: Decimal
    interval: Interval | None = None
    statement: str = ""  # ILAC-G8 wording: pass, conditional pass, conditional fail, fail
    notes: tuple[str, ...] = field(default_factory=tuple)


def decimal_exponent(value: Decimal) -> int:
    """The exponent of a finite decimal (limits, results and uncertainties are never NaN or infinite)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {value}")
    return exponent


def _plain_decimal(value: Decimal) -> Decimal:
    """Remove trailing zeros but never switch to exponent notation (5E+1 -> 50)."""
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if decimal_exponent(normalized) > 0 else normalized


def plain_number(value: Decimal) -> str:
    """A decimal as people write it: no trailing zeros, never exponent notation (5E+1 -> '50')."""
    return f"{_plain_decimal(value):f}"


def round_gbt8170(value: Decimal, digits: int) -> Decimal:
    """Round to ``digits`` decimal places by GB/T 8170-2008 3.3 (四舍六入五成双: half to even, exact)."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def _all_meet_lower(iv: Interval, limit: Limit) -> bool:
    if limit.lower is None:
        return True
    if iv.lo_open:  # every value above lo meets the bound iff lo is at or above it
        return iv.lo >= limit.lower
    return iv.lo >= limit.lower if limit.lower_inclusive else iv.lo > limit.lower


def _any_meets_lower(iv: Interval, limit: Limit) -> bool:
    if limit.lower is None:
        return True
    if iv.hi_open:
        return iv.hi > limit.lower
    return iv.hi >= limit.lower if limit.lower_inclusive else iv.hi > limit.lower


def _all_meet_upper(iv: Interval, limit: Limit) -> bool:
    if limit.upper is None:
        return True
    if iv.hi_open:
        return iv.hi <= limit.upper
    return iv.hi <= limit.upper if limit.upper_inclusive else iv.hi < limit.upper


def _any_meets_upper(iv: Interval, limit: Limit) -> bool:
    if limit.upper is None:
        return True
    if iv.lo_open:
        return iv.lo < limit.upper
    return iv.lo <= limit.upper if limit.upper_inclusive else iv.lo < limit.upper


def meets(value: Decimal, limit: Limit) -> bool:
    """True when the single value ``value`` meets the limit (inclusive/exclusive exact)."""
    return _all_meet_lower(Interval(value, value), limit) and _all_meet_upper(Interval(value, value), limit)


def _coverage(iv: Interval, limit: Limit) -> tuple[bool, bool]:
    """(every value in the interval meets the limit, no value in it does)."""
    all_meet = _all_meet_lower(iv, limit) and _all_meet_upper(iv, limit)
    # Two intervals on a line that both meet the half-lines [L, ∞) and (-∞, U] share a point with [L, U].
    none_meet = not (_any_meets_lower(iv, limit) and _any_meets_upper(iv, limit))
    return all_meet, none_meet


def decide(result: Measurement, limit: Limit, rule: DecisionRule, unit: str = "") -> Decision:
    """Pass, fail or inconclusive for one result against one limit under ``rule``, with the reason."""
    notes: list[str] = []
    value = result.value
    if rule.comparison is Comparison.ROUNDED_VALUE:
        rounded = round_gbt8170(value, limit.digits())
        if rounded != value:
            notes.append(f"value {plain_number(value)} rounded to {plain_number(rounded)} (GB/T 8170-2008)")
        value = rounded
    limit_text = limit.text(unit)
    suffix = f" {unit}" if unit else ""

    if result.censored is not None:
        iv = (
            Interval(Decimal(0), value, lo_open=False, hi_open=True)
            if result.censored == "<"
            else Interval(value, INF, lo_open=True, hi_open=False)
        )
        all_meet, none_meet = _coverage(iv, limit)
        shown = f"{result.censored}{plain_number(value)}{suffix}"
        if all_meet:
            return Decision(Outcome.PASS, f"{shown} is within {limit_text}", value, iv, "pass", tuple(notes))
        if none_meet:
            return Decision(Outcome.FAIL, f"{shown} is outside {limit_text}", value, iv, "fail", tuple(notes))
        return Decision(
            Outcome.INCONCLUSIVE,
            f"{shown} may or may not meet {limit_text} (censored result)",
            value,
            iv,
            "inconclusive",
            tuple(notes),
        )

    if rule.kind is RuleKind.SIMPLE_ACCEPTANCE:
        ok = meets(value, limit)
        outcome = Outcome.PASS if ok else Outcome.FAIL
        verb = "meets" if ok else "does not meet"
        return Decision(
            outcome,
            f"{plain_number(value)}{suffix} {verb} {limit_text}",
            value,
            None,
            outcome.value,
            tuple(notes),
        )

    if result.uncertainty is None:
        notes.append("no expanded uncertainty reported: guard band w = 0 (simple acceptance)")
        w = Decimal(0)
    else:
        w = rule.guard_factor * result.uncertainty
    iv = Interval(value - w, value + w)
    all_meet, none_meet = _coverage(iv, limit)
    point_meets = meets(value, limit)
    shown = f"{plain_number(value)}{suffix} ± {plain_number(w)}" if w else f"{plain_number(value)}{suffix}"
    if all_meet:
        return Decision(
            Outcome.PASS,
            f"{shown}: interval {iv.text()} wholly within {limit_text}",
            value,
            iv,
            "pass",
            tuple(notes),
        )
    if none_meet:
        return Decision(
            Outcome.FAIL,
            f"{shown}: interval {iv.text()} wholly outside {limit_text}",
            value,
            iv,
            "fail",
            tuple(notes),
        )
    statement = "conditional pass" if point_meets else "conditional fail"
    if rule.kind is RuleKind.GUARDED_ACCEPTANCE:
        return Decision(
            Outcome.FAIL,
            f"{shown}: interval {iv.text()} straddles {limit_text}; guarded acceptance "
            "accepts only a whole interval within the limit",
            value,
            iv,
            statement,
            tuple(notes),
        )
    if rule.kind is RuleKind.GUARDED_REJECTION:
        return Decision(
            Outcome.PASS,
            f"{shown}: interval {iv.text()} straddles {limit_text}; guarded rejection "
            "rejects only a whole interval outside the limit",
            value,
            iv,
            statement,
            tuple(notes),
        )
    return Decision(
        Outcome.INCONCLUSIVE,
        f"{shown}: interval {iv.text()} straddles {limit_text} ({statement})",
        value,
        iv,
        statement,
        tuple(notes),
    )


def combine(outcomes: list[Outcome]) -> Outcome:
    """Overall outcome: any fail fails, else any inconclusive is inconclusive, else pass (empty: inconclusive)."""
    if not outcomes:
        return Outcome.INCONCLUSIVE
    if Outcome.FAIL in outcomes:
        return Outcome.FAIL
    if Outcome.INCONCLUSIVE in outcomes:
        return Outcome.INCONCLUSIVE
    return Outcome.PASS
