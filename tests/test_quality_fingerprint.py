"""Origin fingerprint on constructed populations, refusal on small reference sets, and combined evidence."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from geo_data.reference_sets import REFERENCES_DIR, ReferenceSetError, read_reference_set, read_reference_sets
from gi.errors import InputError
from gi.quality.fingerprint import ReferenceTooSmallError, check_fingerprint, distance, fit_reference

# Three constructed areas on four variables: two isotopes (normal) and two elements (log-normal).
VARS = {"d13C": ("‰", "none"), "d15N": ("‰", "none"), "Rb": ("mg/kg", "log10"), "Sr": ("mg/kg", "log10")}
AREAS = {
    "area-a": {"mean": [-27.0, 4.0, np.log10(40), np.log10(10)], "sd": [0.5, 1.0, 0.12, 0.10]},
    "area-b": {"mean": [-25.0, 8.0, np.log10(120), np.log10(10)], "sd": [0.5, 1.0, 0.12, 0.10]},
    "area-c": {"mean": [-28.5, 2.0, np.log10(40), np.log10(25)], "sd": [0.5, 1.0, 0.12, 0.10]},
}
CORR = np.array([[1, 0.3, 0, 0], [0.3, 1, 0, 0], [0, 0, 1, 0.5], [0, 0, 0.5, 1]])


def draw(area: str, n: int, seed: int) -> list[dict[str, float]]:
    """Samples from an area's true distribution, as a lab would report them (concentrations in mg/kg)."""
    spec = AREAS[area]
    cov = np.outer(spec["sd"], spec["sd"]) * CORR
    rows = np.random.default_rng(seed).multivariate_normal(spec["mean"], cov, size=n)
    rows[:, 2:] = 10 ** rows[:, 2:]
    return [dict(zip(VARS, row, strict=True)) for row in rows]


def write_set(directory: Path, code: str, rows: list[dict[str, float]], commodity: str = "test crop") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{code}.csv"
    lines = ["# constructed test population", "product_code,sample_id,year," + ",".join(VARS)]
    lines += [
        f"{code},{code}-{i:04d},2024," + ",".join(f"{r[v]:.6g}" for v in VARS) for i, r in enumerate(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = {
        "product_code": code,
        "area_zh": code.upper(),
        "commodity": commodity,
        "synthetic": True,
        "variables": {v: {"unit": u, "transform": t} for v, (u, t) in VARS.items()},
    }
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def constructed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("refs")
    for i, area in enumerate(AREAS):
        write_set(directory, area, draw(area, 200, seed=100 + i))
    return directory


def test_authentic_samples_pass_at_the_stated_rate(tmp_path: Path) -> None:
    """Over 5 independent reference sets x 2,000 authentic draws, the false-flag rate is close to alpha."""
    rates = {0.01: [], 0.05: []}
    for k in range(5):
        ref = read_reference_set(write_set(tmp_path / f"r{k}", "area-a", draw("area-a", 200, seed=10 + k)))
        model = fit_reference(ref, list(VARS))
        p = np.array([distance(model, s)[1] for s in draw("area-a", 2000, seed=1000 + k)])
        for alpha in rates:
            rates[alpha].append(float((p < alpha).mean()))
    assert 0.004 <= np.mean(rates[0.01]) <= 0.018, rates[0.01]
    assert 0.03 <= np.mean(rates[0.05]) <= 0.075, rates[0.05]


def test_samples_from_another_area_are_flagged_and_the_right_area_is_named(constructed: Path) -> None:
    sets = read_reference_sets(constructed)
    for true_area in ("area-b", "area-c"):
        results = [check_fingerprint(s, "area-a", sets) for s in draw(true_area, 300, seed=7)]
        flagged = np.mean([not r.consistent for r in results])
        named = np.mean([r.best_fit.product_code == true_area for r in results])
        assert flagged >= 0.95 and named >= 0.95, (true_area, flagged, named)
    # and authentic samples of area A are best fitted by area A
    results = [check_fingerprint(s, "area-a", sets) for s in draw("area-a", 200, seed=8)]
    assert np.mean([r.best_fit.product_code == "area-a" for r in results]) >= 0.97


def test_the_deviating_variable_is_named(constructed: Path) -> None:
    sets = read_reference_sets(constructed)
    sample = {"d13C": -27.0, "d15N": 4.0, "Rb": 40.0, "Sr": 10 ** (1 + 6 * 0.10)}  # Sr 6 SD high
    result = check_fingerprint(sample, "area-a", sets)
    assert not result.consistent
    assert result.deviations[0].variable == "Sr" and result.deviations[0].share > 0.8
    assert result.deviations[0].z == pytest.approx(6, abs=1.2)
    assert abs(sum(d.share for d in result.deviations) - 1) < 1e-9
    assert "Sr" in result.reason() and "atypical for AREA-A" in result.reason()


def test_reference_set_too_small_is_refused_with_the_numbers(tmp_path: Path) -> None:
    ref = read_reference_set(write_set(tmp_path, "area-a", draw("area-a", 30, seed=1)))
    with pytest.raises(ReferenceTooSmallError) as err:
        check_fingerprint(draw("area-a", 1, seed=2)[0], "area-a", [ref])
    assert "30 complete authentic samples for 4 variables" in str(err.value) and "40" in str(err.value)
    # with two variables measured, 30 references are enough (10·p = 20)
    sample = {k: v for k, v in draw("area-a", 1, seed=2)[0].items() if k in ("d13C", "d15N")}
    assert check_fingerprint(sample, "area-a", [ref]).claimed.variables == ("d13C", "d15N")
    with pytest.raises(InputError, match="at least 2 needed"):
        check_fingerprint({"d13C": -27.0}, "area-a", [ref])
    with pytest.raises(InputError, match="no reference set"):
        check_fingerprint(sample, "area-z", [ref])


def test_gross_outliers_among_references_are_screened_out(tmp_path: Path) -> None:
    rows = draw("area-a", 190, seed=3) + draw("area-b", 10, seed=4)  # 5 % mislabelled references
    model = fit_reference(read_reference_set(write_set(tmp_path, "area-a", rows)), list(VARS))
    assert sum(d.startswith("area-a-01") for d in model.dropped) >= 9  # rows 190-199 are the area-b ones
    p = np.array([distance(model, s)[1] for s in draw("area-a", 2000, seed=5)])
    assert (p < 0.01).mean() <= 0.02


def test_reference_file_errors(tmp_path: Path) -> None:
    path = write_set(tmp_path, "area-a", draw("area-a", 50, seed=1))
    meta = json.loads(path.with_suffix(".json").read_text())
    del meta["variables"]["Sr"]
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ReferenceSetError, match="Sr not described"):
        read_reference_set(path)
    path.with_suffix(".json").unlink()
    with pytest.raises(ReferenceSetError, match="no sidecar"):
        read_reference_set(path)


def test_bundled_sets_are_labelled_synthetic_and_cite_sources() -> None:
    sets = read_reference_sets()
    assert len(sets) >= 8
    for ref in sets:
        assert ref.synthetic and ref.sources and all(s.get("doi") for s in ref.sources)
        assert ref.path is not None and "SYNTHETIC" in ref.path.read_text(encoding="utf-8").splitlines()[0]
        assert ref.size >= 10 * len(ref.variables)
    thai = next(r for r in sets if r.product_code == "thai-hom-mali-rice")
    meta = json.loads(thai.path.with_suffix(".json").read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert meta["generator"]["parameters"]["d13C"] == {"mean": -26.4, "sd": 0.4, "status": "published"}


def test_bundled_rice_from_jiamusi_is_named_as_such() -> None:
    sys.path.insert(0, str(REFERENCES_DIR))
    import build_synthetic  # the generator of the bundled sets

    spec = dict(next(s for s in build_synthetic.SETS if s["product_code"] == "heilongjiang-jiamusi-rice"))
    spec.update(n=200, seed=77)
    codes, rows = build_synthetic.draw(spec)
    sets = read_reference_sets()
    results = [check_fingerprint(dict(zip(codes, r, strict=True)), "wuchang-rice", sets) for r in rows]
    assert np.mean([r.best_fit.product_code == "heilongjiang-jiamusi-rice" for r in results]) >= 0.9
    assert all(c.product_code != "xihu-longjing" for r in results for c in r.candidates)  # rice only


# ------------------------------------------------------------------------------------ stored, with evidence

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.postgis
def test_stored_fingerprint_and_combined_evidence(session, loaded_register) -> None:  # type: ignore[no-untyped-def]
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point

    from gi.models import LabResult, OriginOutcome, OriginVerdictRecord, Sample
    from gi.quality.evidence import record_evidence
    from gi.quality.fingerprint import check_sample_fingerprint
    from gi.register.areas import find_product

    def sample(code: str, verdict: OriginOutcome | None, flags: list[str] | None = None) -> Sample:
        product = find_product(session, code)
        s = Sample(
            id=uuid.uuid4(),
            product_id=product.id,
            collected_at=datetime(2025, 4, 2, 9, tzinfo=SH),
            submitted_x=120.1,
            submitted_y=30.2,
            declared_crs="WGS84",
            gps_accuracy_m=5.0,
            location=from_shape(Point(120.1, 30.2), srid=4326),
        )
        session.add(s)
        session.flush()
        if verdict is not None:
            session.add(
                OriginVerdictRecord(
                    sample_id=s.id,
                    product_id=product.id,
                    verdict=verdict,
                    band_m=30.0,
                    distance_m=120.0,
                    flags=flags or [],
                    other_areas=[],
                    rule="t",
                    inputs={},
                )
            )
        return s

    def measure(s: Sample, values: dict[str, float]) -> None:
        for code, value in values.items():
            unit = "‰" if code.startswith("d") else "mg/kg"
            session.add(
                LabResult(
                    sample_id=s.id,
                    indicator_code=code,
                    value=D(f"{value:.6g}"),
                    unit=unit,
                    laboratory="iso lab",
                    tested_on=datetime(2025, 4, 20).date(),
                )
            )
        session.flush()

    xihu = {"d13C": -27.8, "d15N": 3.5, "Rb": 44.0, "Mg": 1890.0, "K": 17400.0, "Mn": 880.0}
    yuezhou = {"d13C": -27.1, "d15N": 4.8, "Rb": 140.0, "Mg": 2300.0, "K": 18600.0, "Mn": 1500.0}
    cases = {
        "authentic": (sample("xihu-longjing", OriginOutcome.INSIDE), xihu, "consistent"),
        "fraud": (sample("xihu-longjing", OriginOutcome.INSIDE), yuezhou, "inconsistent"),
        "outside": (sample("xihu-longjing", OriginOutcome.OUTSIDE), xihu, "inconsistent"),
        "edge": (sample("xihu-longjing", OriginOutcome.UNCERTAIN), xihu, "doubtful"),
        "mock": (sample("xihu-longjing", OriginOutcome.INSIDE, ["accuracy_zero"]), xihu, "doubtful"),
        "no_gps": (sample("xihu-longjing", None), xihu, "doubtful"),
        "swapped": (sample("xihu-longjing", OriginOutcome.OUTSIDE, ["swapped_lat_lon"]), xihu, "doubtful"),
    }
    for name, (s, values, expected) in cases.items():
        measure(s, values)
        fp = check_sample_fingerprint(session, s)
        assert fp is not None
        evidence = record_evidence(session, s)
        assert evidence.grade.value == expected, (name, evidence.reasons)
        assert evidence.fingerprint_verdict_id == fp.id
        assert any("SYNTHETIC" in r["text"] for r in evidence.reasons)
    fraud_reasons = record_evidence(session, cases["fraud"][0]).reasons
    assert any("fits 龙井茶越州产区" in r["text"] and r["effect"] == "contradicts" for r in fraud_reasons)
    fraud_fp = check_sample_fingerprint(session, cases["fraud"][0])
    assert fraud_fp is not None and fraud_fp.outcome.value == "atypical"
    assert fraud_fp.best_fit_code == "longjing-yuezhou" and fraud_fp.deviations[0]["variable"] in ("Rb", "Mn")

    # too few variables measured: stored as not assessed, which neither supports nor questions the claim
    few = sample("xihu-longjing", OriginOutcome.INSIDE)
    measure(few, {"d13C": -27.8})
    fp = check_sample_fingerprint(session, few)
    assert fp is not None and fp.outcome.value == "not_assessed" and "at least 2" in fp.reason
    assert record_evidence(session, few).grade.value == "consistent"

    # a product with no reference set: GPS alone decides, and the reason says so
    bayberry = sample("yuyao-bayberry", OriginOutcome.INSIDE)
    assert check_sample_fingerprint(session, bayberry) is None
    evidence = record_evidence(session, bayberry)
    assert evidence.grade.value == "consistent" and "no reference set" in evidence.reasons[-1]["text"]
