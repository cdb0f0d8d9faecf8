"""Origin fingerprint: does a sample's isotope/element profile fit the authentic references of its claimed area?

Method (a one-class check, so frauds from areas absent from the references are caught too):

1. Variables are those measured on the sample *and* present in the reference set; concentrations are
   log10-transformed where the set says so (they are right-skewed).
2. The reference population is screened robustly: the Minimum Covariance Determinant (Rousseeuw 1984; FAST-MCD,
   scikit-learn ``MinCovDet``, support fraction 0.75, random_state 0) gives robust distances of the references,
   and references beyond the 99.9 % chi-square quantile are dropped as gross outliers (mislabelled or
   contaminated samples); a second pass drops references whose in-sample distance to the mean and covariance of
   the rest is beyond the 99.9 % quantile of its Beta distribution. The centre and covariance of the m kept
   references are then the ordinary ones (a reweighted MCD estimate with a strict cut-off).
3. The squared Mahalanobis distance d² of the sample to that centre is compared with the distribution of a new
   observation from the same population (Hotelling's prediction region): d²·m(m−p)/(p(m−1)(m+1)) ~ F(p, m−p);
   the p-value is its upper tail. As m grows this is the chi-square test on p degrees of freedom (the chi-square
   p-value is kept beside it); with m = 60–120 references and p = 6 the chi-square test on raw MCD distances
   flagged 3.5–12 % of authentic samples at α = 1 %, the prediction form about 1 % (see tests).
   The sample is *atypical* when p < α (default 0.01).
4. Each variable's share of d² (cᵢ·(Σ⁻¹c)ᵢ / d², the shares sum to 1) and its z-score (cᵢ / √Σᵢᵢ) say which
   variables deviate most.
5. The sample is also compared with every other reference set of the same commodity; the one with the highest
   p-value is named as the best fit.

A reference set is refused when it is too small for the number of variables: fewer than ``min_ratio``·p complete
rows (default 10·p: at 5·p the measured false-flag rate at α = 1 % was 9–17 %), or fewer than MCD needs.
A refusal is a ReferenceTooSmallError (an InputError) with the numbers in it. Every refusal that leaves a sample
``not_assessed`` is a NotAssessableError carrying a stable ``code`` and its ``params``, stored with the verdict
(``inputs["not_assessed"]``) so that reports can word the reason in Chinese (gi.quality.wording).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import beta, chi2
from scipy.stats import f as f_dist
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data.reference_sets import ReferenceSet, read_reference_sets
from gi.errors import InputError
from gi.models import FingerprintOutcome, FingerprintVerdict, LabResult, Sample
from gi.quality.units import to_spec_unit

DEFAULT_ALPHA = 0.01
DEFAULT_MIN_RATIO = 10.0
SUPPORT_FRACTION = 0.75
OUTLIER_QUANTILE = 0.999
MIN_VARIABLES = 2
RULE = (
    "Mahalanobis distance to the references kept after MCD screening (MinCovDet support 0.75, random_state "
    "0; references beyond the 99.9 % quantile dropped), log10 for concentrations; p from Hotelling's "
    "prediction F(p, m-p); atypical when p < alpha; references need at least {ratio:g}·p complete rows"
)


class NotAssessableError(InputError):
    """A fingerprint that cannot be judged; ``code`` and ``params`` say why in a form any language can word."""

    def __init__(self, field: str, problem: str, code: str = "other", **params: Any) -> None:
        super().__init__(field, problem)
        self.code = code
        self.params = params


class ReferenceTooSmallError(NotAssessableError):
    """The reference set has too few complete rows for the number of variables."""


@dataclass(frozen=True)
class Deviation:
    """How far one variable of the sample lies from the reference centre."""

    variable: str
    value: float
    unit: str
    reference_centre: float
    z: float
    share: float

    def text(self) -> str:
        """'Rb 96 mg/kg (ref. 44; z +4.1, 52 % of d²)'."""
        return (
            f"{self.variable} {_short(self.value)} {self.unit} (ref. {_short(self.reference_centre)}; "
            f"z {self.z:+.1f}, {self.share:.0%} of d²)"
        )


@dataclass(frozen=True)
class AreaFit:
    """The distance of a sample to one reference population."""

    product_code: str
    area_zh: str
    reference_set: str
    n_reference: int
    variables: tuple[str, ...]
    distance_sq: float
    p_value: float
    p_chi2: float = 1.0  # the asymptotic chi-square p-value, for comparison
    references_dropped: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready values."""
        return {
            "product_code": self.product_code,
            "area_zh": self.area_zh,
            "reference_set": self.reference_set,
            "n_reference": self.n_reference,
            "variables": list(self.variables),
            "distance_sq": round(self.distance_sq, 4),
            "p_value": self.p_value,
            "p_chi2": self.p_chi2,
            "references_dropped": list(self.references_dropped),
        }


@dataclass(frozen=True)
class FingerprintResult:
    """The verdict on a sample's fingerprint against its claimed area, with the best-fitting area."""

    consistent: bool
    claimed: AreaFit
    alpha: float
    deviations: tuple[Deviation, ...]
    candidates: tuple[AreaFit, ...]  # every area compared, best p first (claimed area included)
    skipped: tuple[str, ...] = field(default_factory=tuple)  # other sets not compared, and why
    synthetic_reference: bool = False
    reference_sha256: str = ""

    @property
    def best_fit(self) -> AreaFit:
        """The area whose references fit the sample best (highest p-value)."""
        return self.candidates[0]

    @property
    def best_other(self) -> AreaFit | None:
        """The best-fitting area other than the claimed one."""
        return next((c for c in self.candidates if c.product_code != self.claimed.product_code), None)

    def reason(self) -> str:
        """One sentence with the distance, p-value, main deviations and the best fit."""
        c = self.claimed
        verdict = "consistent with" if self.consistent else "atypical for"
        text = (
            f"d² = {c.distance_sq:.1f} on {len(c.variables)} variables, p = {_p(c.p_value)} "
            f"{'≥' if self.consistent else '<'} α {self.alpha:g}: {verdict} {c.area_zh} "
            f"(n = {c.n_reference}{', synthetic references' if self.synthetic_reference else ''})"
        )
        if not self.consistent and self.deviations:
            text += "; largest deviations " + ", ".join(d.text() for d in self.deviations[:3])
        other = self.best_other
        if other is not None:
            if self.best_fit.product_code != c.product_code:
                text += f"; fits {other.area_zh} best (p = {_p(other.p_value)})"
            else:
                text += f"; next best {other.area_zh} (p = {_p(other.p_value)})"
        return text


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _short(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@dataclass(frozen=True)
class _Model:
    """A fitted robust reference model on a fixed list of variables."""

    variables: tuple[str, ...]
    log: tuple[bool, ...]
    location: np.ndarray
    covariance: np.ndarray
    precision: np.ndarray
    n: int  # complete reference rows
    m: int  # rows kept after screening
    dropped: tuple[str, ...]  # sample ids of the references screened out
    synthetic: bool = False  # synthetic references were among those fitted


def _transform(values: np.ndarray, log: Sequence[bool]) -> np.ndarray:
    out = np.array(values, dtype=float, copy=True)
    for j, is_log in enumerate(log):
        if is_log:
            out[..., j] = np.log10(out[..., j])
    return out


def _check_size(ref: ReferenceSet, n: int, p: int, min_ratio: float) -> None:
    needed = max(math.ceil(min_ratio * p), p + 2)
    if n < needed:
        raise ReferenceTooSmallError(
            "reference_set",
            f"{ref.name} ({ref.area_zh}) has {n} complete authentic samples for {p} variables; at least "
            f"{needed} are needed ({min_ratio:g}·p, and MCD needs n > p + 1): measure fewer variables or add "
            "references",
            "too_few_references",
            area_zh=ref.area_zh,
            n=n,
            p=p,
            needed=needed,
        )


@lru_cache(maxsize=256)
def _fit_cached(sha: str, path: str, variables: tuple[str, ...], min_ratio: float) -> _Model:
    del sha  # part of the cache key only: a changed file is refitted
    ref = _SETS_BY_PATH[path]
    return _fit(ref, variables, min_ratio)


_SETS_BY_PATH: dict[str, ReferenceSet] = {}


def _fit(ref: ReferenceSet, variables: tuple[str, ...], min_ratio: float) -> _Model:
    from sklearn.covariance import MinCovDet

    codes = list(variables)
    p = len(variables)
    complete = [i for i in range(ref.size) if all(ref.values[c][i] is not None for c in codes)]
    # Real references replace synthetic ones as soon as there are enough of them; until then all are used and
    # every verdict says synthetic references were involved.
    real = [i for i in complete if not ref.is_synthetic(i)]
    chosen = real if len(real) >= max(math.ceil(min_ratio * p), p + 2) else complete
    synthetic = any(ref.is_synthetic(i) for i in chosen)
    ids = [ref.sample_ids[i] for i in chosen]
    rows = np.array([[ref.values[c][i] for c in codes] for i in chosen], dtype=float).reshape(len(chosen), p)
    _check_size(ref, len(rows), p, min_ratio)
    log = tuple(ref.variables[v].transform == "log10" for v in variables)
    data = _transform(rows, log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sklearn warns on near-singular subsets and recovers
        mcd = MinCovDet(support_fraction=SUPPORT_FRACTION, random_state=0).fit(data)
    keep = mcd.dist_ < chi2.ppf(OUTLIER_QUANTILE, p)
    if keep.sum() > p + 1:
        # second pass: in-sample distances to the kept references follow a scaled Beta distribution
        location, covariance = data[keep].mean(axis=0), np.cov(data[keep].T)
        centred = data - location
        d2 = np.einsum("ij,jk,ik->i", centred, np.linalg.pinv(covariance), centred)
        m = int(keep.sum())
        keep = beta.sf(m * d2 / (m - 1) ** 2, p / 2, (m - p - 1) / 2) >= 1 - OUTLIER_QUANTILE
    m = int(keep.sum())
    if m < p + 2:
        raise ReferenceTooSmallError(
            "reference_set",
            f"{ref.name}: only {m} references remain after outlier screening for {p} variables",
            "too_few_after_screening",
            area_zh=ref.area_zh,
            m=m,
            p=p,
        )
    location, covariance = data[keep].mean(axis=0), np.cov(data[keep].T).reshape(p, p)
    if np.linalg.matrix_rank(covariance) < p:
        raise NotAssessableError(
            "reference_set",
            f"{ref.name}: the covariance of {', '.join(variables)} is "
            "singular (a variable is constant or two are collinear)",
            "singular_covariance",
            area_zh=ref.area_zh,
            variables=list(variables),
        )
    dropped = tuple(i for i, k in zip(ids, keep, strict=True) if not k)
    return _Model(
        variables, log, location, covariance, np.linalg.inv(covariance), len(rows), m, dropped, synthetic
    )


def fit_reference(
    ref: ReferenceSet, variables: Sequence[str], min_ratio: float = DEFAULT_MIN_RATIO
) -> _Model:
    """The robust model of ``ref`` on ``variables`` (cached by file content and variables)."""
    missing = [v for v in variables if v not in ref.variables]
    if missing:
        raise InputError("variables", f"{ref.name} has no column {', '.join(missing)}")
    key = str(ref.path or ref.name)
    _SETS_BY_PATH[key] = ref
    return _fit_cached(ref.sha256 or str(id(ref)), key, tuple(variables), float(min_ratio))


def p_value(model: _Model, d2: float) -> float:
    """P-value of d² for a new observation of the reference population (Hotelling prediction, F(p, m − p))."""
    p, m = len(model.variables), model.m
    return float(f_dist.sf(d2 * m * (m - p) / (p * (m - 1) * (m + 1)), p, m - p))


def distance(model: _Model, sample: Mapping[str, float]) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(d², p-value, per-variable contributions to d², z-scores) of a sample against a model."""
    x = np.array([sample[v] for v in model.variables], dtype=float)
    for v, value, is_log in zip(model.variables, x, model.log, strict=True):
        if is_log and value <= 0:
            raise NotAssessableError(
                v,
                f"{value} cannot be compared on a log scale (must be > 0)",
                "not_positive",
                variable=v,
                value=float(value),
            )
    centred = _transform(x, model.log) - model.location
    weighted = model.precision @ centred
    contributions = centred * weighted
    d2 = float(centred @ weighted)
    z = centred / np.sqrt(np.diag(model.covariance))
    return d2, p_value(model, d2), contributions, z


def _area_fit(
    ref: ReferenceSet, sample: Mapping[str, float], min_ratio: float
) -> tuple[AreaFit, _Model, tuple]:
    variables = tuple(v for v in ref.variables if v in sample)
    if len(variables) < MIN_VARIABLES:
        raise NotAssessableError(
            "variables",
            f"only {len(variables)} of {ref.name}'s variables "
            f"({', '.join(ref.variables)}) were measured; at least {MIN_VARIABLES} "
            "needed",
            "too_few_variables",
            measured=len(variables),
            variables=list(ref.variables),
            needed=MIN_VARIABLES,
        )
    model = fit_reference(ref, variables, min_ratio)
    d2, p, contributions, z = distance(model, sample)
    fit = AreaFit(
        ref.product_code,
        ref.area_zh,
        ref.name,
        model.m,
        variables,
        d2,
        p,
        float(chi2.sf(d2, len(variables))),
        model.dropped,
    )
    return fit, model, (contributions, z)


def check_fingerprint(
    sample: Mapping[str, float],
    claimed_code: str,
    reference_sets: Sequence[ReferenceSet],
    alpha: float = DEFAULT_ALPHA,
    min_ratio: float = DEFAULT_MIN_RATIO,
) -> FingerprintResult:
    """Compare a sample's values (variable -> value in the reference unit) with its claimed area's references."""
    if not 0 < alpha < 1:
        raise InputError("alpha", f"{alpha} is not a significance level between 0 and 1")
    claimed_sets = [r for r in reference_sets if r.product_code == claimed_code]
    if not claimed_sets:
        raise InputError(
            "reference_set",
            f"no reference set of authentic samples for {claimed_code!r} "
            f"(sets: {', '.join(sorted({r.product_code for r in reference_sets}))})",
        )
    ref = claimed_sets[0]
    claimed, model, (contributions, z) = _area_fit(ref, sample, min_ratio)
    d2 = claimed.distance_sq
    deviations = []
    for j, v in enumerate(model.variables):
        centre = float(10 ** model.location[j]) if model.log[j] else float(model.location[j])
        deviations.append(
            Deviation(
                v,
                float(sample[v]),
                ref.variables[v].unit,
                centre,
                float(z[j]),
                float(contributions[j] / d2) if d2 > 0 else 0.0,
            )
        )
    deviations.sort(key=lambda d: d.share, reverse=True)
    candidates = [claimed]
    skipped = []
    for other in reference_sets:
        if other.product_code == claimed_code or (ref.commodity and other.commodity != ref.commodity):
            continue
        try:
            fit, _, _ = _area_fit(other, sample, min_ratio)
        except InputError as exc:
            skipped.append(f"{other.name}: {exc.problem}")
            continue
        candidates.append(fit)
    candidates.sort(key=lambda c: (-c.p_value, c.distance_sq))
    return FingerprintResult(
        consistent=claimed.p_value >= alpha,
        claimed=claimed,
        alpha=alpha,
        deviations=tuple(deviations),
        candidates=tuple(candidates),
        skipped=tuple(skipped),
        synthetic_reference=model.synthetic,
        reference_sha256=ref.sha256,
    )


def rule_text(min_ratio: float = DEFAULT_MIN_RATIO) -> str:
    """The rule as stored with each fingerprint verdict."""
    return RULE.format(ratio=min_ratio)


@lru_cache(maxsize=8)
def _load(directory: str) -> tuple[ReferenceSet, ...]:
    return tuple(read_reference_sets(directory or None))


def load_reference_sets(directory: str | Path | None = None) -> list[ReferenceSet]:
    """The reference sets in ``directory`` (default: GI_REFERENCES_DIR, else the bundled synthetic sets)."""
    if directory is None:
        from gi.settings import get_settings

        directory = getattr(get_settings(), "references_dir", None)
    return list(_load(str(directory or "")))


def fingerprint_variables(product_code: str, directory: str | Path | None = None) -> dict[str, str]:
    """Variable -> unit of the reference set(s) of a product (empty when it has none)."""
    out: dict[str, str] = {}
    for ref in load_reference_sets(directory):
        if ref.product_code == product_code:
            out.update({code: v.unit for code, v in ref.variables.items()})
    return out


# ----------------------------------------------------------------------------------------- stored verdicts


def sample_values(
    results: Sequence[LabResult], variables: Mapping[str, str]
) -> tuple[dict[str, float], list[str]]:
    """Latest value of each reference variable among a sample's results, in the reference unit; and notes."""
    wanted = {code.lower(): (code, unit) for code, unit in variables.items()}
    latest: dict[str, LabResult] = {}
    for r in sorted(results, key=lambda r: (r.tested_on, r.id or 0), reverse=True):
        key = r.indicator_code.lower()
        if key in wanted and key not in latest:
            latest[key] = r
    values: dict[str, float] = {}
    notes: list[str] = []
    for key, r in latest.items():
        code, unit = wanted[key]
        if r.censored:
            notes.append(f"{code}: censored result {r.censored}{r.value} left out")
            continue
        try:
            values[code] = float(to_spec_unit(code, Decimal(r.value), r.unit, unit))
        except InputError as exc:
            notes.append(f"{code}: {exc.problem}")
    return values, notes


def check_sample_fingerprint(
    session: Session,
    sample: Sample,
    alpha: float = DEFAULT_ALPHA,
    min_ratio: float = DEFAULT_MIN_RATIO,
    directory: str | Path | None = None,
) -> FingerprintVerdict | None:
    """Compare a stored sample's isotope/element results with its product's references and store the verdict.

    Returns None when the product has no reference set (nothing to judge); a set that exists but cannot be used
    (too few references for the variables measured, too few variables) gives a stored ``not_assessed`` verdict.
    """
    results = list(session.scalars(select(LabResult).where(LabResult.sample_id == sample.id)))
    verdict = fingerprint_verdict(sample, results, load_reference_sets(directory), alpha, min_ratio)
    if verdict is not None:
        session.add(verdict)
        session.flush()
    return verdict


def fingerprint_verdict(
    sample: Sample,
    results: Sequence[LabResult],
    sets: Sequence[ReferenceSet],
    alpha: float = DEFAULT_ALPHA,
    min_ratio: float = DEFAULT_MIN_RATIO,
) -> FingerprintVerdict | None:
    """The (not yet stored) fingerprint verdict of a sample from its results and the reference sets (None when
    its product has none)."""
    product = sample.product
    own = [r for r in sets if r.product_code == product.code]
    if not own:
        return None
    ref = own[0]
    values, notes = sample_values(results, {c: v.unit for c, v in ref.variables.items()})
    base: dict[str, Any] = dict(
        sample_id=sample.id,
        product_id=product.id,
        reference_set=ref.name,
        reference_sha256=ref.sha256,
        synthetic_reference=ref.synthetic,
        alpha=alpha,
        rule=rule_text(min_ratio),
    )
    inputs: dict[str, Any] = {
        "values": values,
        "units": {c: ref.variables[c].unit for c in values},
        "notes": notes,
        "result_ids": sorted(r.id for r in results),
    }
    try:
        result = check_fingerprint(values, product.code, sets, alpha, min_ratio)
    except InputError as exc:
        if isinstance(exc, NotAssessableError):
            inputs["not_assessed"] = {"code": exc.code, "params": exc.params}
        verdict = FingerprintVerdict(
            outcome=FingerprintOutcome.NOT_ASSESSED,
            variables=sorted(values),
            reason=exc.problem,
            inputs=inputs,
            deviations=[],
            candidates=[],
            **base,
        )
    else:
        claimed = result.claimed
        best_other = result.best_other
        verdict = FingerprintVerdict(
            outcome=FingerprintOutcome.CONSISTENT if result.consistent else FingerprintOutcome.ATYPICAL,
            n_reference=claimed.n_reference,
            variables=list(claimed.variables),
            distance_sq=claimed.distance_sq,
            p_value=claimed.p_value,
            deviations=[
                {
                    "variable": d.variable,
                    "value": d.value,
                    "unit": d.unit,
                    "reference_centre": d.reference_centre,
                    "z": round(d.z, 3),
                    "share": round(d.share, 4),
                }
                for d in result.deviations
            ],
            best_fit_code=result.best_fit.product_code,
            candidates=[c.as_dict() for c in result.candidates] + [{"skipped": s} for s in result.skipped],
            reason=result.reason(),
            inputs={**inputs, "best_other": best_other.as_dict() if best_other else None},
            **base,
        )
    return verdict
