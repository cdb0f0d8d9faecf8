"""All mapped tables; importing this package registers every model on ``Base.metadata``."""

from gi.models.base import Base
from gi.models.register import (
    CATEGORY_ZH,
    GI_KIND_ZH,
    GIKind,
    GIProduct,
    Inspector,
    MarketSeason,
    ProductCategory,
    ProductionArea,
    Producer,
    QualitySpec,
    SeasonKind,
)
from gi.models.samples import LocationSource, OriginOutcome, OriginVerdictRecord, Sample
from gi.models.plans import (  # noqa: E402  (planning: issue 5)
    TASK_RESULT_ZH, Commitment, InspectorConflict, Plan, PlanRound, PlanStatus, PlanTask, ProducerComplaint,
    TaskInspector, TaskResult, TaskStatus,
)
from gi.models.lab import (  # noqa: E402  (quality: issue 4)
    EVIDENCE_GRADE_ZH, QUALITY_OUTCOME_ZH, DecisionRuleKind, EvidenceGrade, FingerprintOutcome, FingerprintVerdict,
    LabResult, OriginEvidence, QualityOutcome, QualityRule, QualityVerdict,
)

__all__ = [
    "Base",
    "CATEGORY_ZH",
    "GI_KIND_ZH",
    "GIKind",
    "GIProduct",
    "Inspector",
    "LocationSource",
    "OriginOutcome",
    "OriginVerdictRecord",
    "Sample",
    "MarketSeason",
    "ProductCategory",
    "ProductionArea",
    "Producer",
    "QualitySpec",
    "SeasonKind",
    "TASK_RESULT_ZH", "Commitment", "InspectorConflict", "Plan", "PlanRound", "PlanStatus", "PlanTask",
    "ProducerComplaint", "TaskInspector", "TaskResult", "TaskStatus",
    "EVIDENCE_GRADE_ZH", "QUALITY_OUTCOME_ZH", "DecisionRuleKind", "EvidenceGrade", "FingerprintOutcome",
    "FingerprintVerdict", "LabResult", "OriginEvidence", "QualityOutcome", "QualityRule", "QualityVerdict",
]
