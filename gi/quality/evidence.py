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

Each reason is stored (in ``origin_evidence.reasons``) as a stable code with its parameters and both of its texts,
English for the command line and Chinese for the reports; the wording lives in gi.quality.wording.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from gi.quality.wording import CODES, deviations_param, is_finite, reason_text
from gi.reads.verdicts import VerdictKind, current_verdicts

RULE = (
    "evidence/1: any contradiction -> inconsistent; else any doubt or no supporting evidence -> doubtful; "
    "else consistent. GPS outside contradicts, uncertain or flagged doubts, inside supports; fingerprint "
    "consistent supports, atypical contradicts when another area fits or p < alpha/10, else doubts"
)

# GPS flags that say something about the area, not about the fix: they do not cast doubt on an inside verdict.
INFORMATIONAL_FLAGS = {"in_other_gi_area"}
# Flags meaning "inside if the coordinates were entered differently": an outside verdict is then only doubtful.
# Swapped axes are an entry error beyond doubt (the point is not even in the country as entered); a doubtful
# coordinate system is a doubt to check, never on its own a reason to soften an outside verdict.
ENTRY_ERROR_FLAGS = {"swapped_lat_lon"}
# Flags meaning the position itself is wrong (swapped, abroad, 0,0): its distance is a data error, not a distance.
SUSPECT_POSITION_FLAGS = {"swapped_lat_lon", "outside_china", "null_island"}
# The not-assessed reason of fingerprint verdicts stored before reasons had codes (gi.quality.fingerprint._area_fit).
_TOO_FEW_VARIABLES = re.compile(
    r"only (?P<measured>\d+) of .*'s variables \((?P<variables>[^)]*)\) were measured; "
    r"at least (?P<needed>\d+) needed"
)


class Effect(enum.StrEnum):
    """What one piece of evidence does to the origin claim."""

    SUPPORTS = "supports"
    DOUBT = "doubt"
    CONTRADICTS = "contradicts"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class EvidenceItem:
    """One reason: its source (gps, fingerprint, photo), its effect, and a stable ``code`` with ``params`` from
    which both its English ``text`` (command line, logs) and its Chinese ``text_zh`` (reports) are worded."""

    source: str
    effect: Effect
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The reason in English."""
        return reason_text(self.code, self.params, "en")

    @property
    def text_zh(self) -> str:
        """The reason in Chinese, as reports print it."""
        return reason_text(self.code, self.params, "zh")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (both texts are stored beside the code, for readers of the raw record)."""
        return {
            "source": self.source,
            "effect": self.effect.value,
            "code": self.code,
            "params": self.params,
            "text": self.text,
            "text_zh": self.text_zh,
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> EvidenceItem:
        """An item from its stored form; a reason stored before codes existed keeps its text (code ``text``)."""
        effect = Effect(stored.get("effect", Effect.NEUTRAL.value))
        if stored.get("code") in CODES:
            return cls(
                str(stored.get("source", "")), effect, str(stored["code"]), dict(stored.get("params") or {})
            )
        return cls(
            str(stored.get("source", "")),
            effect,
            "text",
            {"text": str(stored.get("text", "")), "text_zh": stored.get("text_zh")},
        )


def gps_items(origin: OriginVerdictRecord | None) -> list[EvidenceItem]:
    """What the stored GPS origin verdict says about the claim."""
    if origin is None:
        return [EvidenceItem("gps", Effect.DOUBT, "gps_missing")]
    flags = list(origin.flags or [])
    params: dict[str, Any] = {
        "area_version": origin.area_version or None,
        "distance_m": float(origin.distance_m) if origin.distance_m is not None else None,
        "band_m": float(origin.band_m),
        "position_suspect": bool(SUSPECT_POSITION_FLAGS & set(flags)),
    }
    items: list[EvidenceItem] = []
    if origin.verdict is OriginOutcome.OUTSIDE and ENTRY_ERROR_FLAGS & set(flags):
        items.append(EvidenceItem("gps", Effect.DOUBT, "gps_outside_entry_error", params))
    elif origin.verdict is OriginOutcome.OUTSIDE:
        items.append(EvidenceItem("gps", Effect.CONTRADICTS, "gps_outside", params))
    elif (
        origin.verdict is OriginOutcome.UNCERTAIN
        and origin.distance_m is not None
        and abs(origin.distance_m) > origin.band_m
    ):
        # Beyond the band, "uncertain" means the location itself is not trusted (its flags say why).
        code = "gps_untrusted_inside" if origin.distance_m > 0 else "gps_untrusted"
        items.append(EvidenceItem("gps", Effect.DOUBT, code, params))
    elif origin.verdict is OriginOutcome.UNCERTAIN:
        items.append(EvidenceItem("gps", Effect.DOUBT, "gps_band", params))
    else:
        items.append(EvidenceItem("gps", Effect.SUPPORTS, "gps_inside", params))
    for flag in flags:
        effect = Effect.NEUTRAL if flag in INFORMATIONAL_FLAGS else Effect.DOUBT
        items.append(EvidenceItem("gps", effect, "gps_flag", {"flag": flag}))
    return items


def _profile_params(verdict: FingerprintVerdict) -> dict[str, Any]:
    """What a fingerprint verdict's reason names: claimed area, p, main deviations, best other area."""
    candidates = [c for c in verdict.candidates or [] if "product_code" in c]
    claimed = next((c for c in candidates if c.get("reference_set") == verdict.reference_set), None)
    params: dict[str, Any] = {
        "consistent": verdict.outcome is FingerprintOutcome.CONSISTENT,
        "area_zh": claimed["area_zh"] if claimed else verdict.reference_set,
        "p_value": verdict.p_value if is_finite(verdict.p_value) else None,
        "n_reference": verdict.n_reference,
        "distance_sq": verdict.distance_sq if is_finite(verdict.distance_sq) else None,
    }
    if not params["consistent"]:
        params["deviations"] = deviations_param(verdict.deviations or [])
        best_other = (verdict.inputs or {}).get("best_other") or {}
        if best_other.get("p_value") is not None:
            params["best_other"] = {
                "area_zh": best_other["area_zh"],
                "p_value": float(best_other["p_value"]),
                "fits": best_other["p_value"] >= verdict.alpha,
            }
    return params


def _not_assessed_params(verdict: FingerprintVerdict) -> dict[str, Any]:
    """The stored reason of a not-assessed fingerprint, with its code (older verdicts: read from the text)."""
    stored = (verdict.inputs or {}).get("not_assessed") or {}
    code, params = stored.get("code"), stored.get("params")
    if code is None:
        match = _TOO_FEW_VARIABLES.search(verdict.reason or "")
        if match:
            code = "too_few_variables"
            params = {
                "measured": int(match["measured"]),
                "variables": match["variables"].split(", "),
                "needed": int(match["needed"]),
            }
    return {"reason": verdict.reason, "reason_code": code, "reason_params": params or {}}


def fingerprint_items(
    verdict: FingerprintVerdict | None, product_code: str, product_name_zh: str | None = None
) -> list[EvidenceItem]:
    """What the stored fingerprint verdict says about the claim."""
    if verdict is None:
        return [
            EvidenceItem(
                "fingerprint",
                Effect.NEUTRAL,
                "fingerprint_no_reference",
                {"product_code": product_code, "product_name_zh": product_name_zh},
            )
        ]
    items: list[EvidenceItem] = []
    if verdict.outcome is FingerprintOutcome.NOT_ASSESSED:
        items.append(
            EvidenceItem(
                "fingerprint", Effect.NEUTRAL, "fingerprint_not_assessed", _not_assessed_params(verdict)
            )
        )
    elif verdict.outcome is FingerprintOutcome.CONSISTENT:
        items.append(
            EvidenceItem("fingerprint", Effect.SUPPORTS, "fingerprint_profile", _profile_params(verdict))
        )
    else:
        best_other = (verdict.inputs or {}).get("best_other") or {}
        other_fits = best_other.get("p_value") is not None and best_other["p_value"] >= verdict.alpha
        strong = verdict.p_value is not None and verdict.p_value < verdict.alpha / 10
        effect = Effect.CONTRADICTS if other_fits or strong else Effect.DOUBT
        items.append(EvidenceItem("fingerprint", effect, "fingerprint_profile", _profile_params(verdict)))
    if verdict.synthetic_reference:
        items.append(EvidenceItem("fingerprint", Effect.NEUTRAL, "fingerprint_synthetic"))
    return items


def grade(items: Sequence[EvidenceItem]) -> EvidenceGrade:
    """The combined grade of a list of evidence items."""
    effects = {i.effect for i in items}
    if Effect.CONTRADICTS in effects:
        return EvidenceGrade.INCONSISTENT
    if Effect.DOUBT in effects or Effect.SUPPORTS not in effects:
        return EvidenceGrade.DOUBTFUL
    return EvidenceGrade.CONSISTENT


def evidence_of(
    sample: Sample,
    origin: OriginVerdictRecord | None,
    fingerprint: FingerprintVerdict | None,
    extra: Sequence[EvidenceItem] = (),
) -> OriginEvidence:
    """The (not yet stored) combined origin grade of a sample from its GPS and fingerprint verdicts."""
    items = (
        gps_items(origin)
        + fingerprint_items(fingerprint, sample.product.code, sample.product.name_zh)
        + list(extra)
    )
    return OriginEvidence(
        sample_id=sample.id,
        grade=grade(items),
        reasons=[i.as_dict() for i in items],
        origin_verdict_id=origin.id if origin else None,
        fingerprint_verdict_id=fingerprint.id if fingerprint else None,
        rule=RULE,
    )


def record_evidence(
    session: Session,
    sample: Sample,
    fingerprint: FingerprintVerdict | None = None,
    extra: Sequence[EvidenceItem] = (),
) -> OriginEvidence:
    """Combine the sample's current GPS verdict and fingerprint verdict (and ``extra`` items, e.g. a photo
    location) into one stored origin grade with every reason."""
    kinds: tuple[VerdictKind, ...] = ("origin",) if fingerprint else ("origin", "fingerprint")
    current = current_verdicts(session, [sample.id], kinds)
    evidence = evidence_of(
        sample, current[sample.id].origin, fingerprint or current[sample.id].fingerprint, extra
    )
    session.add(evidence)
    session.flush()
    return evidence


def stored_items(session: Session, evidence: OriginEvidence) -> list[EvidenceItem]:
    """The reasons of a stored origin grade as items. Reasons stored before they had codes are rebuilt from the
    verdicts the grade was made from when that gives the very same English texts (else they keep their text)."""
    items = [EvidenceItem.from_dict(r) for r in evidence.reasons or []]
    if all(i.code != "text" for i in items):
        return items
    origin = (
        session.get(OriginVerdictRecord, evidence.origin_verdict_id) if evidence.origin_verdict_id else None
    )
    fingerprint = (
        session.get(FingerprintVerdict, evidence.fingerprint_verdict_id)
        if evidence.fingerprint_verdict_id
        else None
    )
    sample = session.get(Sample, evidence.sample_id)
    product = sample.product if sample is not None else None
    rebuilt = gps_items(origin) + fingerprint_items(
        fingerprint, product.code if product else "", product.name_zh if product else None
    )
    return rebuilt if [i.text for i in rebuilt] == [i.text for i in items] else items
