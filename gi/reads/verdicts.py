"""The current verdicts of a set of samples: the newest stored origin, quality, fingerprint and evidence rows.

Verdicts are appended, never updated, so "current" means the newest row per sample (latest ``checked_at``, then
highest id: rows written in one transaction share ``checked_at``). Every reader (quality, evidence, maps,
reports, the service) asks here, in one query per kind of verdict whatever the number of samples.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Uuid

from gi.models import FingerprintVerdict, OriginEvidence, OriginVerdictRecord, QualityVerdict

VerdictKind = Literal["origin", "quality", "fingerprint", "evidence"]
VERDICT_MODELS: dict[str, Any] = {
    "origin": OriginVerdictRecord,
    "quality": QualityVerdict,
    "fingerprint": FingerprintVerdict,
    "evidence": OriginEvidence,
}
ALL_KINDS: tuple[VerdictKind, ...] = ("origin", "quality", "fingerprint", "evidence")


@dataclass(frozen=True)
class CurrentVerdicts:
    """The newest stored verdict of each kind for one sample (None: never judged that way)."""

    origin: OriginVerdictRecord | None = None
    quality: QualityVerdict | None = None
    fingerprint: FingerprintVerdict | None = None
    evidence: OriginEvidence | None = None


NO_VERDICTS = CurrentVerdicts()


# The same "current origin verdict" for raw SQL (the intake's database worker uses a psycopg connection, and
# re-judgement pages through samples): joined as ``v`` on a sample aliased ``s``, one index look-up per sample.
CURRENT_ORIGIN_JOIN = (
    # collected_at too: origin_verdict is partitioned by it, so each look-up reads one partition.
    "LEFT JOIN LATERAL (SELECT * FROM origin_verdict o WHERE o.sample_id = s.id AND o.collected_at = s.collected_at "
    "ORDER BY o.checked_at DESC, o.id DESC LIMIT 1) v ON true"
)


def any_of(column: Any, sample_ids: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """``column = ANY(:ids)``: membership with one array parameter (an IN list of 50,000 ids would hit the bind limit)."""
    ids = list(dict.fromkeys(sample_ids))
    return column == any_(bindparam(None, ids, type_=ARRAY(Uuid(as_uuid=True))))


def latest_query(kind: VerdictKind, *columns: Any) -> Select[Any]:
    """A query of the newest verdict of ``kind`` per sample (the whole row, or ``columns`` of it); join it as a
    subquery on ``sample_id`` or filter it further."""
    model = VERDICT_MODELS[kind]
    chosen = columns or (model,)
    if columns and model.sample_id not in columns:
        chosen = (model.sample_id, *columns)
    return (
        select(*chosen)
        .where(model.sample_id.is_not(None))
        .ext(distinct_on(model.sample_id))
        .order_by(model.sample_id, model.checked_at.desc(), model.id.desc())
    )


def latest_of(session: Session, kind: VerdictKind, sample_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The newest verdict row of ``kind`` for each of ``sample_ids`` that has one (one query)."""
    if not sample_ids:
        return {}
    model = VERDICT_MODELS[kind]
    rows = session.scalars(latest_query(kind).where(any_of(model.sample_id, sample_ids)))
    return {row.sample_id: row for row in rows}


def current_verdicts(
    session: Session, sample_ids: Sequence[uuid.UUID], kinds: Collection[VerdictKind] = ALL_KINDS
) -> dict[uuid.UUID, CurrentVerdicts]:
    """The current verdicts of each sample in ``sample_ids`` (one query per kind asked for; samples never judged
    map to empty ``CurrentVerdicts``)."""
    found = {kind: latest_of(session, kind, sample_ids) for kind in ALL_KINDS if kind in kinds}
    return {
        sample_id: CurrentVerdicts(**{kind: rows.get(sample_id) for kind, rows in found.items()})
        for sample_id in sample_ids
    }


def sample_verdicts(session: Session, sample_id: uuid.UUID) -> CurrentVerdicts:
    """The current verdicts of one sample."""
    return current_verdicts(session, [sample_id])[sample_id]
