"""Lab results of samples and the verdicts derived from them: characteristic quality (特色质量) against the
product's specification, origin fingerprint against authentic references, and the combined origin evidence.
Every verdict stores the rule and inputs that produced it, so it can be re-derived."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

from gi.models.base import Base, CreatedAt
from gi.models.register import GIProduct, _values
from gi.models.samples import OriginVerdictRecord, Sample, SampleIdentity, sample_link


class QualityOutcome(enum.StrEnum):
    """Outcome of a quality check, per indicator and overall (mirrors gi.quality.decision.Outcome)."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class DecisionRuleKind(enum.StrEnum):
    """Decision rules of ILAC-G8:09/2019 (mirrors gi.quality.decision.RuleKind)."""

    SIMPLE_ACCEPTANCE = "simple_acceptance"
    GUARD_BAND = "guard_band"
    GUARDED_ACCEPTANCE = "guarded_acceptance"
    GUARDED_REJECTION = "guarded_rejection"


class FingerprintOutcome(enum.StrEnum):
    """Whether a sample's isotope/element profile fits the authentic references of its claimed area."""

    CONSISTENT = "consistent"
    ATYPICAL = "atypical"
    NOT_ASSESSED = "not_assessed"  # no reference set, too few references, or too few variables measured


class EvidenceGrade(enum.StrEnum):
    """Combined origin grade of a sample."""

    CONSISTENT = "consistent"
    DOUBTFUL = "doubtful"
    INCONSISTENT = "inconsistent"


QUALITY_OUTCOME_ZH = {
    QualityOutcome.PASS: "合格",
    QualityOutcome.FAIL: "不合格",
    QualityOutcome.INCONCLUSIVE: "不确定",
}
EVIDENCE_GRADE_ZH = {
    EvidenceGrade.CONSISTENT: "一致",
    EvidenceGrade.DOUBTFUL: "存疑",
    EvidenceGrade.INCONSISTENT: "不一致",
}


class LabResult(CreatedAt, Base):
    """One reported result of one indicator of a sample, as the laboratory reported it, plus its conversion."""

    __tablename__ = "lab_result"
    __table_args__ = (
        # The same lab reporting the same indicator of the same sample on the same day twice is a duplicate row.
        UniqueConstraint("sample_id", "indicator_code", "laboratory", "tested_on", name="uq_lab_result_key"),
        CheckConstraint("uncertainty IS NULL OR uncertainty >= 0", name="uncertainty_non_negative"),
        CheckConstraint("coverage_factor IS NULL OR coverage_factor > 0", name="coverage_factor_positive"),
        CheckConstraint("censored IS NULL OR censored IN ('<', '>')", name="censored_sign"),
        CheckConstraint("(value_converted IS NULL) = (converted_unit IS NULL)", name="conversion_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sample_identity.id", ondelete="CASCADE"), index=True
    )
    indicator_code: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(24, 10), comment="value as reported")
    censored: Mapped[str | None] = mapped_column(
        String(1), comment="'<' below a detection limit, '>' above range"
    )
    unit: Mapped[str] = mapped_column(String(40), comment="unit as reported")
    value_converted: Mapped[Decimal | None] = mapped_column(Numeric(30, 14))
    converted_unit: Mapped[str | None] = mapped_column(
        String(40), comment="unit of the specification/reference"
    )
    uncertainty: Mapped[Decimal | None] = mapped_column(
        Numeric(24, 10), comment="expanded uncertainty U, reported unit"
    )
    coverage_factor: Mapped[Decimal | None] = mapped_column(Numeric(6, 3), comment="k of U = k·u")
    method: Mapped[str | None] = mapped_column(String(200))
    laboratory: Mapped[str] = mapped_column(String(200))
    tested_on: Mapped[date] = mapped_column(Date)
    declared_grade: Mapped[str | None] = mapped_column(String(40), comment="grade or class the sample claims")
    source_file: Mapped[str | None] = mapped_column(Text)
    source_row: Mapped[int | None] = mapped_column(Integer)

    sample: Mapped[Sample] = sample_link("LabResult")


class QualityRule(CreatedAt, Base):
    """The decision rule a product's lab results are judged by, from a date on (none stored: simple acceptance)."""

    __tablename__ = "quality_rule"
    __table_args__ = (
        UniqueConstraint("product_id", "valid_from", name="uq_quality_rule_product_from"),
        CheckConstraint("guard_factor >= 0", name="guard_factor_non_negative"),
        CheckConstraint("comparison IN ('full_value', 'rounded_value')", name="comparison_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DecisionRuleKind] = mapped_column(
        Enum(DecisionRuleKind, name="decision_rule_kind", values_callable=_values)
    )
    guard_factor: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal(1))
    comparison: Mapped[str] = mapped_column(String(20), default="full_value")
    valid_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    product: Mapped[GIProduct] = relationship()


class QualityVerdict(Base):
    """A sample's characteristic-quality verdict against the specification valid at its collection date."""

    __tablename__ = "quality_verdict"
    __table_args__ = (
        ForeignKeyConstraint(
            ["sample_id", "collected_at"],
            ["sample.id", "sample.collected_at"],
            ondelete="CASCADE",
            name="fk_quality_verdict_sample_id_sample",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    collected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="its sample's collection moment (partition key)"
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    outcome: Mapped[QualityOutcome] = mapped_column(
        Enum(QualityOutcome, name="quality_outcome", values_callable=_values), index=True
    )
    declared_grade: Mapped[str | None] = mapped_column(String(40))
    grades_met: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, comment="per-indicator outcomes and reasons"
    )
    missing_mandatory: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    rule: Mapped[str] = mapped_column(Text)
    rule_config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="collection date, spec and result ids")
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    sample: Mapped[Sample] = relationship()
    product: Mapped[GIProduct] = relationship()


class FingerprintVerdict(Base):
    """A sample's isotope/element fingerprint compared with the authentic references of its claimed area."""

    __tablename__ = "fingerprint_verdict"
    __table_args__ = (
        CheckConstraint("p_value IS NULL OR (p_value >= 0 AND p_value <= 1)", name="p_value_range"),
        ForeignKeyConstraint(
            ["sample_id", "collected_at"],
            ["sample.id", "sample.collected_at"],
            ondelete="CASCADE",
            name="fk_fingerprint_verdict_sample_id_sample",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    collected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="its sample's collection moment (partition key)"
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    outcome: Mapped[FingerprintOutcome] = mapped_column(
        Enum(FingerprintOutcome, name="fingerprint_outcome", values_callable=_values), index=True
    )
    reference_set: Mapped[str | None] = mapped_column(String(200), comment="reference file name")
    reference_sha256: Mapped[str | None] = mapped_column(String(64))
    synthetic_reference: Mapped[bool] = mapped_column(default=False)
    n_reference: Mapped[int | None] = mapped_column(Integer)
    variables: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    distance_sq: Mapped[float | None] = mapped_column(
        Float, comment="squared robust (MCD) Mahalanobis distance"
    )
    p_value: Mapped[float | None] = mapped_column(Float)
    alpha: Mapped[float] = mapped_column(Float)
    deviations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    best_fit_code: Mapped[str | None] = mapped_column(String(64))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    sample: Mapped[Sample] = relationship()


class OriginEvidence(Base):
    """The combined origin grade of a sample from its GPS verdict, fingerprint and (later) photo location."""

    __tablename__ = "origin_evidence"
    __table_args__ = (
        ForeignKeyConstraint(
            ["sample_id", "collected_at"],
            ["sample.id", "sample.collected_at"],
            ondelete="CASCADE",
            name="fk_origin_evidence_sample_id_sample",
        ),
        # Composite: the verdicts are of the same sample, so in the same partition. NO ACTION where it was
        # SET NULL (which would null the shared collected_at too); verdicts are append-only anyway.
        ForeignKeyConstraint(
            ["origin_verdict_id", "collected_at"],
            ["origin_verdict.id", "origin_verdict.collected_at"],
            name="fk_origin_evidence_origin_verdict_id_origin_verdict",
        ),
        ForeignKeyConstraint(
            ["fingerprint_verdict_id", "collected_at"],
            ["fingerprint_verdict.id", "fingerprint_verdict.collected_at"],
            name="fk_origin_evidence_fingerprint_verdict_id_fingerprint_verdict",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    collected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="its sample's collection moment (partition key)"
    )
    grade: Mapped[EvidenceGrade] = mapped_column(
        Enum(EvidenceGrade, name="evidence_grade", values_callable=_values), index=True
    )
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, comment="every reason: source, effect, text")
    origin_verdict_id: Mapped[int | None] = mapped_column(Integer)
    fingerprint_verdict_id: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    sample: Mapped[Sample] = relationship(foreign_keys=[sample_id, collected_at])
    origin_verdict: Mapped[OriginVerdictRecord | None] = relationship(
        foreign_keys=[origin_verdict_id, collected_at], viewonly=True
    )
    fingerprint_verdict: Mapped[FingerprintVerdict | None] = relationship(
        foreign_keys=[fingerprint_verdict_id, collected_at], viewonly=True
    )


_KEYED_BY_SAMPLE = (OriginVerdictRecord, QualityVerdict, FingerprintVerdict, OriginEvidence)


@event.listens_for(Session, "before_flush")
def _collected_at_from_sample(session: Session, _context: Any, _instances: Any) -> None:
    """A verdict built with ``sample_id`` alone gets its sample's ``collected_at`` (its partition key) before it
    is written; one built through its ``sample`` relationship gets it from the relationship."""
    missing = [
        o
        for o in session.new
        if isinstance(o, _KEYED_BY_SAMPLE) and o.collected_at is None and o.sample_id is not None
    ]
    if not missing:
        return
    known: dict[uuid.UUID | None, datetime] = {
        s.id: s.collected_at for s in session.new if isinstance(s, Sample) and s.collected_at is not None
    }
    for o in missing:
        sample = session.identity_map.get(identity_key(Sample, o.sample_id))
        if sample is not None:
            known[o.sample_id] = sample.collected_at
    wanted = {o.sample_id for o in missing} - set(known)
    if wanted:
        with session.no_autoflush:
            known |= dict(
                session.execute(
                    select(SampleIdentity.id, SampleIdentity.collected_at).where(
                        SampleIdentity.id.in_(wanted)
                    )
                ).tuples()
            )
    for o in missing:
        if o.sample_id in known:
            o.collected_at = known[o.sample_id]
