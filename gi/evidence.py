"""Combined origin evidence (产地综合判定) of a sample: GPS origin verdict + isotope/element fingerprint
(+ photo location, later) -> consistent / doubtful / inconsistent, with every reason listed.

Each source contributes items with an effect: ``supports``, ``doubt``, ``contradicts`` or ``neutral``.

- GPS verdict: inside with no flag -> supports; inside with a flag that questions the fix (accuracy 0, poor or
  missing accuracy, not a device fix, swapped coordinates, implausible CRS, coarse precision) -> doubt;
  uncertain -> doubt; outside -> contradicts, unless the origin check found the point inside with latitude and
  longitude swapped or under another coordinate system (a data-entry error is suspected) -> doubt; no verdict
  stored -> doubt.
- Fingerprint: consistent (p ≥ α) -> supports; atypical and another area's references fit (p ≥ α) ->
  contradicts; atypical with p < α/10 -> contradicts; otherwise atypical -> doubt; not assessed or no reference
  set -> neutral (it neither supports nor questions the claim); synthetic references -> a neutral note.
- Grade: any contradiction -> inconsistent; else any doubt, or nothing that supports the claim -> doubtful;
  else consistent.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.models import (
    EvidenceGrade,
    FingerprintOutcome,
    FingerprintVerdict,
    OriginEvidence,
    OriginOutcome,
    OriginVerdictRecord,
    Sample,
)

RULE = ("evidence/1: any contradiction -> inconsistent; else any doubt or no supporting evidence -> doubtful; "
        "else consistent. GPS outside contradicts, uncertain or flagged doubts, inside supports; fingerprint "
        "consistent supports, atypical contradicts when another area fits or p < alpha/10, else doubts")

# GPS flags that say something about the area, not about the fix: they do not cast doubt on an inside verdict.
INFORMATIONAL_FLAGS = {"in_other_gi_area"}
# Flags meaning "inside if the coordinates were entered differently": an outside verdict is then only doubtful.
ENTRY_ERROR_FLAGS = {"swapped_lat_lon", "crs_implausible"}


class Effect(enum.StrEnum):
    """What one piece of evidence does to the origin claim."""

    SUPPORTS = "supports"
    DOUBT = "doubt"
    CONTRADICTS = "contradicts"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class EvidenceItem:
    """One reason: its source (gps, fingerprint, photo), its effect, and the text shown to people."""

    source: str
    effect: Effect
    text: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready values."""
        return {"source": self.source, "effect": self.effect.value, "text": self.text}


def _flag_label(flag: str) -> str:
    try:
        from gi.origin import FLAG_LABELS
    except ImportError:  # pragma: no cover - the origin module is always present in a full install
        return flag
    return FLAG_LABELS.get(flag, flag)


def gps_items(origin: OriginVerdictRecord | None) -> list[EvidenceItem]:
    """What the stored GPS origin verdict says about the claim."""
    if origin is None:
        return [EvidenceItem("gps", Effect.DOUBT, "no GPS origin verdict stored for the sample")]
    where = f"area version {origin.area_version}" if origin.area_version else "no area version"
    distance = f", {origin.distance_m:+,.0f} m from the boundary" if origin.distance_m is not None else ""
    items: list[EvidenceItem] = []
    if origin.verdict is OriginOutcome.OUTSIDE and ENTRY_ERROR_FLAGS & set(origin.flags or []):
        items.append(EvidenceItem("gps", Effect.DOUBT, f"GPS point outside the protected area as submitted ({where}"
                                                       f"{distance}), inside if re-read: data-entry error suspected"))
    elif origin.verdict is OriginOutcome.OUTSIDE:
        items.append(EvidenceItem("gps", Effect.CONTRADICTS, f"GPS point outside the protected area ({where}"
                                                              f"{distance})"))
    elif origin.verdict is OriginOutcome.UNCERTAIN and (
        origin.distance_m is None or abs(origin.distance_m) <= origin.band_m
    ):
        items.append(EvidenceItem("gps", Effect.DOUBT, f"GPS point within the uncertain band of the boundary "
                                                       f"({where}{distance}, band {origin.band_m:,.0f} m)"))
    elif origin.verdict is OriginOutcome.UNCERTAIN:
        # Beyond the band, "uncertain" means the location itself is not trusted (its flags say why).
        items.append(EvidenceItem("gps", Effect.DOUBT, f"location not trusted, so origin uncertain although the "
                                                       f"point lies inside ({where}{distance})"
                                  if origin.distance_m > 0 else
                                  f"location not trusted ({where}{distance})"))
    else:
        items.append(EvidenceItem("gps", Effect.SUPPORTS, f"GPS point inside the protected area ({where}"
                                                          f"{distance})"))
    for flag in origin.flags or []:
        effect = Effect.NEUTRAL if flag in INFORMATIONAL_FLAGS else Effect.DOUBT
        items.append(EvidenceItem("gps", effect, f"GPS flag: {_flag_label(flag)}"))
    return items


def _fingerprint_text(verdict: FingerprintVerdict) -> str:
    """A short account of a fingerprint verdict: claimed area, p, main deviations, best other area."""
    candidates = [c for c in verdict.candidates or [] if "product_code" in c]
    claimed = next((c for c in candidates if c.get("reference_set") == verdict.reference_set), None)
    area = claimed["area_zh"] if claimed else verdict.reference_set
    p = verdict.p_value if verdict.p_value is not None else float("nan")
    if verdict.outcome is FingerprintOutcome.CONSISTENT:
        return f"isotope/element profile consistent with {area} references (p = {p:.2g}, n = {verdict.n_reference})"
    text = f"isotope/element profile atypical for {area} (p = {p:.1e}, d² = {verdict.distance_sq:.1f})"
    top = [f"{d['variable']} z {d['z']:+.1f}" for d in (verdict.deviations or [])[:2]]
    if top:
        text += f"; deviating most: {', '.join(top)}"
    best_other = (verdict.inputs or {}).get("best_other") or {}
    if best_other.get("p_value") is not None:
        fits = "fits" if best_other["p_value"] >= verdict.alpha else "nearest"
        text += f"; {fits} {best_other['area_zh']} (p = {best_other['p_value']:.2g})"
    return text


def fingerprint_items(verdict: FingerprintVerdict | None, product_code: str) -> list[EvidenceItem]:
    """What the stored fingerprint verdict says about the claim."""
    if verdict is None:
        return [EvidenceItem("fingerprint", Effect.NEUTRAL, f"no reference set of authentic samples for "
                                                            f"{product_code}: fingerprint not checked")]
    items: list[EvidenceItem] = []
    if verdict.outcome is FingerprintOutcome.NOT_ASSESSED:
        items.append(EvidenceItem("fingerprint", Effect.NEUTRAL, f"fingerprint not assessed: {verdict.reason}"))
    elif verdict.outcome is FingerprintOutcome.CONSISTENT:
        items.append(EvidenceItem("fingerprint", Effect.SUPPORTS, _fingerprint_text(verdict)))
    else:
        best_other = (verdict.inputs or {}).get("best_other") or {}
        other_fits = best_other.get("p_value") is not None and best_other["p_value"] >= verdict.alpha
        strong = verdict.p_value is not None and verdict.p_value < verdict.alpha / 10
        effect = Effect.CONTRADICTS if other_fits or strong else Effect.DOUBT
        items.append(EvidenceItem("fingerprint", effect, _fingerprint_text(verdict)))
    if verdict.synthetic_reference:
        items.append(EvidenceItem("fingerprint", Effect.NEUTRAL, "the reference set is SYNTHETIC (demonstration "
                                                                 "only, not authentic measurements)"))
    return items


def grade(items: Sequence[EvidenceItem]) -> EvidenceGrade:
    """The combined grade of a list of evidence items."""
    effects = {i.effect for i in items}
    if Effect.CONTRADICTS in effects:
        return EvidenceGrade.INCONSISTENT
    if Effect.DOUBT in effects or Effect.SUPPORTS not in effects:
        return EvidenceGrade.DOUBTFUL
    return EvidenceGrade.CONSISTENT


def latest_origin_verdict(session: Session, sample: Sample) -> OriginVerdictRecord | None:
    """The newest stored GPS origin verdict of a sample."""
    return session.scalars(select(OriginVerdictRecord).where(OriginVerdictRecord.sample_id == sample.id)
                           .order_by(OriginVerdictRecord.checked_at.desc(), OriginVerdictRecord.id.desc())
                           .limit(1)).first()


def latest_fingerprint_verdict(session: Session, sample: Sample) -> FingerprintVerdict | None:
    """The newest stored fingerprint verdict of a sample."""
    return session.scalars(select(FingerprintVerdict).where(FingerprintVerdict.sample_id == sample.id)
                           .order_by(FingerprintVerdict.checked_at.desc(), FingerprintVerdict.id.desc())
                           .limit(1)).first()


def record_evidence(
    session: Session,
    sample: Sample,
    fingerprint: FingerprintVerdict | None = None,
    extra: Sequence[EvidenceItem] = (),
) -> OriginEvidence:
    """Combine the sample's latest GPS verdict and fingerprint verdict (and ``extra`` items, e.g. a photo
    location) into one stored origin grade with every reason."""
    origin = latest_origin_verdict(session, sample)
    fingerprint = fingerprint or latest_fingerprint_verdict(session, sample)
    items = gps_items(origin) + fingerprint_items(fingerprint, sample.product.code) + list(extra)
    evidence = OriginEvidence(
        sample_id=sample.id, grade=grade(items), reasons=[i.as_dict() for i in items],
        origin_verdict_id=origin.id if origin else None,
        fingerprint_verdict_id=fingerprint.id if fingerprint else None, rule=RULE,
    )
    session.add(evidence)
    session.flush()
    return evidence
