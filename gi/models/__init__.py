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
]
