"""The current verdicts of a set of samples: the newest stored origin, quality, fingerprint and evidence rows.

Verdicts are appended, never updated, so "current" means the newest row per sample (latest ``checked_at``, then
highest id: rows written in one transaction share ``checked_at``). Every reader (quality, evidence, maps,
reports, the dashboard, the OGC API, the service) asks here, in one query per kind of verdict whatever the
number of samples. This module is the one definition of that order, in three forms:

- :func:`latest_query` / :func:`latest_of`: the current verdicts of given samples (``DISTINCT ON``);
- :func:`current_join`: an ORM join of each sample to its current verdict, for reads over many samples (a
  season): an anti-join the planner hashes, matched on the partition key so a season reads its months only;
- :func:`current_lateral`: the same as SQL text, one index look-up per sample, for raw SQL (the intake's
  psycopg worker, re-judgement, the OGC collections).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, any_, bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Uuid

from gi.models import FingerprintVerdict, OriginEvidence, OriginVerdictRecord, QualityVerdict, Sample

VerdictKind = Literal["origin", "quality", "fingerprint", "evidence"]
VERDICT_MODELS: dict[str, Any] = {
    "origin": OriginVerdictRecord,
    "quality": QualityVerdict,
    "fingerprint": FingerprintVerdict,
    "evidence": OriginEvidence,
}
ALL_KINDS: tuple[VerdictKind, ...] = ("origin", "quality", "fingerprint", "evidence")
VERDICT_TABLES: dict[str, str] = {kind: model.__tablename__ for kind, model in VERDICT_MODELS.items()}


@dataclass(frozen=True)
class CurrentVerdicts:
    """The newest stored verdict of each kind for one sample (None: never judged that way)."""

    origin: OriginVerdictRecord | None = None
    quality: QualityVerdict | None = None
    fingerprint: FingerprintVerdict | None = None
    evidence: OriginEvidence | None = None


NO_VERDICTS = CurrentVerdicts()


def current_lateral(kind: VerdictKind, alias: str, columns: str = "*", sample: str = "s") -> str:
    """``LEFT JOIN LATERAL`` of the current verdict of ``kind`` (``columns`` of it, SQL text) as ``alias`` on a
    sample aliased ``sample``: one index look-up per sample, in the one partition its ``collected_at`` names."""
    table = VERDICT_TABLES[kind]
    return (
        f"LEFT JOIN LATERAL (SELECT {columns} FROM {table} x WHERE x.sample_id = {sample}.id "
        f"AND x.collected_at = {sample}.collected_at ORDER BY x.checked_at DESC, x.id DESC LIMIT 1) {alias} ON true"
    )


# The current origin verdict for raw SQL (the intake's database worker, re-judgement), joined as ``v`` on ``s``.
CURRENT_ORIGIN_JOIN = current_lateral("origin", "v")


def current_join(
    kind: VerdictKind, within: tuple[datetime, datetime] | None = None, sample: Any = Sample
) -> tuple[Any, ColumnElement[bool]]:
    """An alias of the verdict table of ``kind`` and the condition joining ``sample`` to its current verdict
    there (outer-join it: samples never judged keep NULLs). ``within``: the samples' collection moments
    ``[start, end)``, repeated on the verdicts' partition key so the plan reads those months' partitions only."""
    model = VERDICT_MODELS[kind]
    verdict = aliased(model)
    newer = aliased(model)
    # "No later verdict for the sample": an anti-join the planner hashes, where DISTINCT ON over every verdict
    # ever written sorts them all. Later means (checked_at, id) greater, the order latest_query uses.
    later = select(newer.id).where(
        newer.sample_id == verdict.sample_id,
        newer.collected_at == verdict.collected_at,
        tuple_(newer.checked_at, newer.id) > tuple_(verdict.checked_at, verdict.id),
    )
    on = [verdict.sample_id == sample.id, verdict.collected_at == sample.collected_at]
    if within is not None:
        # The planner does not carry a range through an equality join: state it on each partitioned side.
        start, end = within
        on += [verdict.collected_at >= start, verdict.collected_at < end]
        later = later.where(newer.collected_at >= start, newer.collected_at < end)
    return verdict, and_(*on, ~later.exists())


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
