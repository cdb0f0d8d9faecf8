"""The sampling design: parameters (ratios, risk points, coverage, caps) with their defaults, risk weights,
the season ratio of a product in a round, the allocation of a product's sample to counties, and the inclusion
probabilities of the targets — all in exact integer arithmetic so that a re-implementation gets the same
numbers. See docs/sampling.md for the reasons behind each default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from gi.errors import InputError
from sampling.lots import DEFAULT_LEVEL, GENERAL_LEVELS
from sampling.rng import TICKS
from sampling.seasons import OFF_SEASON, PEAK, REGULAR, Round, check_period, check_rounds

PARAMETERS_SCHEME = "gi-plan-parameters/2"
BP = 10_000  # ratios are in basis points (1/10,000): 500 bp = 5 %


@dataclass(frozen=True)
class Ratios:
    """Sampling ratio of a round, in basis points of the product's directory, by the product's season kind."""

    peak: int = 1500
    regular: int = 500
    off_season: int = 500

    def of(self, kind: str) -> int:
        """The ratio for a season kind."""
        return {PEAK: self.peak, REGULAR: self.regular, OFF_SEASON: self.off_season}[kind]

    def to_dict(self) -> dict[str, int]:
        """Snapshot form."""
        return {"peak": self.peak, "regular": self.regular, "off_season": self.off_season}


DEFAULT_RISK_POINTS: dict[str, int] = {
    "baseline": 100,  # every target
    "failure": 200,  # a nonconforming result or an origin verdict "outside" in the last two years
    "inconclusive": 100,  # an inconclusive result or an "uncertain" origin verdict
    "complaints": 100,  # per complaint in the last year, up to its cap
    "new_authorization": 50,  # authorized to use the special mark within the last year
    "long_since_inspection": 50,  # not inspected for more than two years
    "outside_area": 200,  # registered location outside the product's protected area
    "balance_flags": 100,  # per kind of mass-balance flag in the last two harvest years, up to its cap
}
# How many times a factor's points count at most: flags count once, complaints up to twice. A factor the frame
# carries (``risk`` of a target) is weighted only through these two tables: the extension point for new risk
# inputs (e.g. mass-balance anomalies) is a new key in both, with its count in the frame.
DEFAULT_RISK_CAPS: dict[str, int] = {
    "failure": 1,
    "inconclusive": 1,
    "complaints": 2,
    "new_authorization": 1,
    "long_since_inspection": 1,
    "outside_area": 1,
    "balance_flags": 2,
}


@dataclass(frozen=True)
class DesignParameters:
    """Everything that, with the frame and the seed, decides a draw; published and hashed when committed."""

    plan: str
    period_from: date
    period_to: date
    rounds: tuple[Round, ...]
    ratios: Ratios = field(default_factory=lambda: Ratios())
    product_ratios: dict[str, Ratios] = field(default_factory=dict)
    risk_points: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RISK_POINTS))
    risk_caps: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RISK_CAPS))
    min_per_product: int = 2
    min_per_county: int = 1
    yearly_cap: int = 2
    min_gap_days: int = 90
    inspectors_per_task: int = 2
    inspector_scope: str = "province"
    require_qualification: bool = True
    inspection_level: str = DEFAULT_LEVEL
    lot_size: int = 500
    product_lot_sizes: dict[str, int] = field(default_factory=dict)
    title: str = ""

    def __post_init__(self) -> None:
        for name, r in [
            ("ratios", self.ratios),
            *((f"product_ratios.{k}", v) for k, v in self.product_ratios.items()),
        ]:
            for kind, value in r.to_dict().items():
                if not 0 <= value <= BP:
                    raise InputError(f"{name}.{kind}", f"{value} bp is outside 0..10000 (0 %..100 %)")
        if "baseline" not in self.risk_points or set(self.risk_points) - {"baseline"} != set(self.risk_caps):
            raise InputError("risk_points", "needs 'baseline' and exactly one key per factor of risk_caps")
        if self.risk_points["baseline"] < 1 or any(v < 0 for v in self.risk_points.values()):
            raise InputError("risk_points", "baseline must be at least 1 and no point may be negative")
        if any(v < 0 for v in self.risk_caps.values()):
            raise InputError("risk_caps", "no cap may be negative")
        if len(self.title) > 300:
            raise InputError("title", "is longer than 300 characters")
        for name in ("min_per_product", "min_per_county", "min_gap_days"):
            if getattr(self, name) < 0:
                raise InputError(name, "may not be negative")
        if self.yearly_cap < 1:
            raise InputError("yearly_cap", "must allow at least one inspection a year")
        if self.inspectors_per_task < 2:
            raise InputError("inspectors_per_task", "双随机 needs at least two inspectors per target")
        if self.inspector_scope not in ("province", "national"):
            raise InputError("inspector_scope", "is 'province' or 'national'")
        if self.inspection_level not in GENERAL_LEVELS:
            raise InputError("inspection_level", "is I, II or III")
        if self.lot_size < 1 or any(v < 1 for v in self.product_lot_sizes.values()):
            raise InputError("lot_size", "must be at least 1 unit")
        check_period(self.period_from, self.period_to)
        check_rounds(self.period_from, self.period_to, self.rounds)

    def ratios_of(self, product: str, segment: str = "") -> Ratios:
        """The ratios of a stratum: ``product/segment``'s own, else the product's, else the defaults."""
        if segment and f"{product}/{segment}" in self.product_ratios:
            return self.product_ratios[f"{product}/{segment}"]
        return self.product_ratios.get(product, self.ratios)

    def lot_size_of(self, product: str) -> int:
        """The lot size tasks of a product are sized for."""
        return self.product_lot_sizes.get(product, self.lot_size)

    def to_dict(self) -> dict[str, Any]:
        """Snapshot form (integers, strings and booleans only: no floating point anywhere)."""
        return {
            "scheme": PARAMETERS_SCHEME,
            "plan": self.plan,
            "title": self.title,
            "period": {"from": self.period_from.isoformat(), "to": self.period_to.isoformat()},
            "rounds": [
                {"number": r.number, "from": r.starts_on.isoformat(), "to": r.ends_on.isoformat()}
                for r in self.rounds
            ],
            "ratios_bp": self.ratios.to_dict(),
            "product_ratios_bp": {k: v.to_dict() for k, v in sorted(self.product_ratios.items())},
            "risk_points": dict(self.risk_points),
            "risk_caps": dict(self.risk_caps),
            "min_per_product": self.min_per_product,
            "min_per_county": self.min_per_county,
            "yearly_cap": self.yearly_cap,
            "min_gap_days": self.min_gap_days,
            "inspectors_per_task": self.inspectors_per_task,
            "inspector_scope": self.inspector_scope,
            "require_qualification": self.require_qualification,
            "inspection_level": self.inspection_level,
            "lot_size": self.lot_size,
            "product_lot_sizes": dict(sorted(self.product_lot_sizes.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DesignParameters:
        """Inverse of ``to_dict``; refuses another scheme."""
        if d.get("scheme") != PARAMETERS_SCHEME:
            raise InputError("parameters", f"scheme {d.get('scheme')!r} is not {PARAMETERS_SCHEME!r}")
        return cls(
            plan=str(d["plan"]),
            title=str(d["title"]),
            period_from=date.fromisoformat(d["period"]["from"]),
            period_to=date.fromisoformat(d["period"]["to"]),
            rounds=tuple(
                Round(int(r["number"]), date.fromisoformat(r["from"]), date.fromisoformat(r["to"]))
                for r in d["rounds"]
            ),
            ratios=Ratios(**d["ratios_bp"]),
            product_ratios={k: Ratios(**v) for k, v in d["product_ratios_bp"].items()},
            risk_points={k: int(v) for k, v in d["risk_points"].items()},
            risk_caps={k: int(v) for k, v in d["risk_caps"].items()},
            min_per_product=int(d["min_per_product"]),
            min_per_county=int(d["min_per_county"]),
            yearly_cap=int(d["yearly_cap"]),
            min_gap_days=int(d["min_gap_days"]),
            inspectors_per_task=int(d["inspectors_per_task"]),
            inspector_scope=str(d["inspector_scope"]),
            require_qualification=bool(d["require_qualification"]),
            inspection_level=str(d["inspection_level"]),
            lot_size=int(d["lot_size"]),
            product_lot_sizes={k: int(v) for k, v in d["product_lot_sizes"].items()},
        )

    def with_changes(self, **changes: Any) -> DesignParameters:
        """A copy with some fields changed."""
        return replace(self, **changes)


def percent_to_bp(text: str | float) -> int:
    """``'5'``, ``'5%'`` or ``5.0`` percent as basis points (500), rounded to the nearest basis point."""
    raw = str(text).strip().rstrip("%").strip()
    try:
        value = round(float(raw) * 100)
    except ValueError as exc:
        raise InputError("ratio", f"{text!r} is not a percentage") from exc
    if not 0 <= value <= BP:
        raise InputError("ratio", f"{text!r} is outside 0..100 %")
    return value


def risk_weight(risk: dict[str, int], params: DesignParameters) -> int:
    """Integer risk weight of a target: baseline plus, per factor, its points times its count (up to the cap)."""
    p, caps = params.risk_points, params.risk_caps
    unknown = set(risk) - set(caps)
    if unknown:
        # A risk input the parameters do not weigh would silently count for nothing: refuse it.
        raise InputError("risk", f"factor(s) {', '.join(sorted(unknown))} have no points in the parameters")
    w = p["baseline"]
    for factor, cap in caps.items():
        count = int(risk.get(factor, 0))
        if count < 0:
            raise InputError(f"risk.{factor}", f"count {count} is negative")
        w += p[factor] * min(count, cap)
    return w


def product_sample_size(
    directory_size: int,
    ratio_bp: int,
    eligible_by_county: dict[str, int],
    county_needs: dict[str, int],
    params: DesignParameters,
) -> tuple[int, dict[str, int]]:
    """Sample size of a product in a round and the county minimums it contains.

    n = ceil(ratio x directory size), raised to ``min_per_product`` and to the sum of the county minimums
    (each county: what it still ``needs`` for the plan's coverage, or all its eligible targets if fewer), and
    lowered to the eligible count. A ratio of 0 means the product is not inspected in that round at all.
    """
    if ratio_bp == 0:
        return 0, {}
    minimums = {c: min(county_needs.get(c, 0), e) for c, e in eligible_by_county.items()}
    eligible = sum(eligible_by_county.values())
    n = (ratio_bp * directory_size + BP - 1) // BP
    n = max(n, params.min_per_product, sum(minimums.values()))
    return min(n, eligible), minimums


def allocate(total: int, weights: dict[str, int], caps: dict[str, int]) -> dict[str, int]:
    """Split ``total`` among counties proportionally to ``weights`` without exceeding ``caps``.

    Counties whose quota reaches their cap get the cap and leave; the rest is re-split. Finally each county
    gets the floor of its quota and the units left over go to the largest remainders (ties: smaller county
    code first).
    """
    out = {c: 0 for c in weights}
    active = sorted(c for c in weights if caps[c] > 0 and weights[c] > 0)
    remaining = min(total, sum(caps[c] for c in active))
    while remaining > 0 and active:
        w_total = sum(weights[c] for c in active)
        full = [c for c in active if remaining * weights[c] >= caps[c] * w_total]
        if full:
            for c in full:
                out[c] = caps[c]
                remaining -= caps[c]
            active = [c for c in active if c not in full]
            continue
        floors = {c: remaining * weights[c] // w_total for c in active}
        left = remaining - sum(floors.values())
        by_remainder = sorted(active, key=lambda c: (-(remaining * weights[c] % w_total), c))
        for c in active:
            out[c] = floors[c]
        for c in by_remainder[:left]:
            out[c] += 1
        remaining = 0
    return out


def inclusion_ticks(weights: Sequence[int], ids: Sequence[int], total: int) -> np.ndarray:
    """Inclusion probabilities in units of 1/2**32 (ticks), proportional to ``weights`` and summing to
    ``total`` ticks (the expected sample size times 2**32; not necessarily a whole number of units).

    Units whose share would reach 2**32 are certain (2**32 ticks) and the rest is re-shared among the others
    until no share exceeds 2**32 ("capped PPS"); the remaining ticks are split by floor of the exact quota plus
    one tick to the largest remainders (ties: smaller id first). The ticks always sum to exactly ``total``.
    Exact integer arithmetic throughout (int64 when it cannot overflow, Python integers otherwise).
    """
    w = np.asarray(weights, dtype=np.int64)
    count = w.size
    if total > count * TICKS or total < 0:
        raise ValueError(f"{total} ticks for {count} units")
    ticks = np.zeros(count, dtype=np.int64)
    if total == 0:
        return ticks
    if np.any(w < 1):
        raise ValueError("weights must be positive integers")
    certain = np.zeros(count, dtype=bool)
    left, w_left = total, int(w.sum())
    while left > 0:
        if left * int(w.max()) < 2**62 and TICKS * w_left < 2**62:
            newly = ~certain & (left * w >= TICKS * w_left)
        else:
            newly = ~certain & np.array([left * int(x) >= TICKS * w_left for x in w], dtype=bool)
        if not newly.any():
            break
        certain |= newly
        left -= TICKS * int(newly.sum())
        w_left -= int(w[newly].sum())
    ticks[certain] = TICKS
    if left == 0:
        return ticks
    rest = np.flatnonzero(~certain)
    scale = left
    wr = w[rest]
    if scale * int(wr.max()) < 2**62:
        quota, remainder = np.divmod(scale * wr, w_left)
    else:  # exact big integers for huge strata
        pairs = [divmod(scale * int(x), w_left) for x in wr]
        quota = np.array([q for q, _ in pairs], dtype=np.int64)
        remainder = np.array([r for _, r in pairs], dtype=object)
    ticks[rest] = quota
    left = scale - int(quota.sum())
    if left:
        rest_ids = np.asarray(ids, dtype=np.int64)[rest]
        order = (
            sorted(range(rest.size), key=lambda k: (-int(remainder[k]), int(rest_ids[k])))[:left]
            if remainder.dtype == object
            else np.lexsort((rest_ids, -remainder))[:left]
        )
        ticks[rest[np.asarray(order, dtype=np.int64)]] += 1
    return ticks
