"""Re-judgement: stored samples judged again when the area versions that apply to them change.

A new area version (or one back-dated into the past) changes which version was valid when some stored samples were
collected. :func:`rejudge_samples` judges those samples again against the versions valid at their collection
moments and stores a new verdict wherever the outcome, the version, the distance or the flags differ. The earlier
verdict stays as history (the new one names it in ``supersedes_id``); the current verdict of a sample is its latest
(:mod:`gi.reads.verdicts`, which maps, reports and the service read).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gi.db.archive import archived_sample_months
from gi.db.partitions import month_start
from gi.models import LocationSource
from gi.origin.index import area_index
from gi.origin.rule import ClaimBatch, OriginVerdict, check_claims
from gi.origin.store import verdict_values
from gi.register.areas import lock_area_versions
from gi.settings import Settings

# Verdict columns whose difference makes a re-judgement a new verdict.
_COMPARED = ("area_id", "area_version", "verdict", "distance_m", "flags", "other_areas")


@dataclass
class RejudgeReport:
    """What a re-judgement did: samples examined, new verdicts stored, outcomes that changed (old -> new)."""

    examined: int = 0
    rejudged: int = 0
    changed: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    verdict_ids: list[int] = field(default_factory=list)
    archived_months: list[date] = field(default_factory=list)  # in the period, not re-judged (gi db archive)

    def describe(self) -> str:
        """One line for a person."""
        archived = (
            f"; archived months not re-judged (gi db archive): {', '.join(f'{m:%Y-%m}' for m in self.archived_months)}"
            if self.archived_months
            else ""
        )
        if not self.examined:
            return "no stored sample is affected" + archived
        moves = ", ".join(f"{old} -> {new}: {n:,}" for (old, new), n in self.transitions.most_common())
        return (
            f"{self.examined:,} stored samples judged again: {self.rejudged:,} new verdicts, "
            f"{self.changed:,} with another outcome" + (f" ({moves})" if moves else "") + archived
        )


# One chunk of the samples (keyset by id), then their current verdicts as one set: DISTINCT ON over the verdicts
# of just those samples (the chunk's id range) and months (the job's period), merge-joined to the chunk, rather
# than a LATERAL look-up per sample whose plan spans every month's partition.
_SELECT = (
    "WITH s AS MATERIALIZED (SELECT s.id, s.product_id, s.collected_at, s.submitted_x, s.submitted_y, "
    "s.declared_crs, s.gps_accuracy_m, s.location_source::text AS location_source FROM sample s "
    "WHERE (CAST(:product AS integer) IS NULL OR s.product_id = :product) "
    "AND (CAST(:since AS timestamptz) IS NULL OR s.collected_at >= :since) "
    "AND (CAST(:until AS timestamptz) IS NULL OR s.collected_at < :until) "
    "AND s.id > :after ORDER BY s.id LIMIT :limit), "
    "v AS (SELECT DISTINCT ON (o.sample_id) o.sample_id, o.collected_at, o.id, o.area_id, o.area_version, "
    "o.verdict, o.distance_m, o.flags, o.other_areas, o.inputs FROM origin_verdict o "
    # The chunk is a contiguous id range: a range of the verdicts' (sample_id, id) index, not a probe per sample;
    # the job's period prunes months at plan time, the chunk's own span at run time.
    "WHERE o.sample_id > :after AND o.sample_id <= (SELECT id FROM s ORDER BY id DESC LIMIT 1) "
    "AND (CAST(:since AS timestamptz) IS NULL OR o.collected_at >= :since) "
    "AND (CAST(:until AS timestamptz) IS NULL OR o.collected_at < :until) "
    "AND o.collected_at >= (SELECT min(collected_at) FROM s) AND o.collected_at <= (SELECT max(collected_at) FROM s) "
    "ORDER BY o.sample_id, o.checked_at DESC, o.id DESC) "
    "SELECT * FROM (SELECT s.*, v.id AS verdict_id, v.area_id, v.area_version, v.verdict::text AS verdict, "
    "v.distance_m, v.flags, v.other_areas, v.inputs -> 'submitted' ->> 'x_text' AS x_text, "
    "v.inputs -> 'submitted' ->> 'y_text' AS y_text, "
    # Stale: no verdict, or one judged against another area version than the one valid at collection.
    "v.id IS NULL OR (a.id, a.version) IS DISTINCT FROM (v.area_id, v.area_version) AS stale "
    "FROM s LEFT JOIN v ON v.sample_id = s.id AND v.collected_at = s.collected_at "
    "LEFT JOIN production_area a ON a.product_id = s.product_id AND a.valid_from <= s.collected_at "
    "AND (a.valid_to IS NULL OR s.collected_at < a.valid_to)) r "
    # With only_stale, the rest of the chunk stays in the database; its last sample comes along so the keyset
    # moves on (and is skipped here when it is not stale).
    "WHERE NOT :only_stale OR r.stale OR r.id = (SELECT id FROM s ORDER BY id DESC LIMIT 1) ORDER BY r.id"
)
_COLUMNS = (
    ("sample_id", "uuid", "{}"),
    ("collected_at", "timestamptz", "{}"),
    ("product_id", "integer", "{}"),
    ("area_id", "integer", "{}"),
    ("area_version", "integer", "{}"),
    ("verdict", "text", "CAST({} AS origin_outcome)"),
    ("distance_m", "double precision", "{}"),
    ("band_m", "double precision", "{}"),
    ("flags", "text", "CAST({} AS varchar(40)[])"),
    ("other_areas", "text", "CAST({} AS jsonb)"),
    ("rule", "text", "{}"),
    ("inputs", "text", "CAST({} AS jsonb)"),
    ("supersedes_id", "integer", "{}"),
)
# One statement per chunk: the new verdicts as parallel arrays, unnested into rows.
_INSERT = text(
    f"INSERT INTO origin_verdict ({', '.join(c for c, _, _ in _COLUMNS)}) "
    f"SELECT {', '.join(cast.format('u.' + c) for c, _, cast in _COLUMNS)} FROM unnest("
    + ", ".join(f"CAST(:{c} AS {kind}[])" for c, kind, _ in _COLUMNS)
    + f") AS u({', '.join(c for c, _, _ in _COLUMNS)}) ORDER BY u.sample_id RETURNING id"
)


def rejudge_samples(
    db: Session | Connection,
    product_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: Settings | None = None,
    chunk: int = 20_000,
    area_lock: Literal["exclusive", "held"] = "exclusive",
    only_stale: bool = False,
) -> RejudgeReport:
    """Judge the stored samples of ``product_id`` (all products when None) collected in [since, until) again
    against the area versions valid at their collection moments; store a new verdict where it differs.

    Runs in the caller's transaction, holding the area versions exclusively (no batch commits verdicts meanwhile),
    unless ``area_lock="held"``: the caller already holds them (shared, for the disjoint partitions of one
    distributed job, see :mod:`gi.origin.distributed`).

    ``only_stale`` judges only the samples whose current verdict is missing or names another version of their
    product's area than the one valid at collection (selected in the database): what an area change can alter.
    Without it every sample is judged, which a change of the rule's settings (the uncertain band) needs.
    """
    if area_lock == "exclusive":
        lock_area_versions(db)
    # The planner's estimates over 3 years of month partitions cross the JIT threshold: compiling took ~6 s per
    # chunk for a ~0.1 s read. Local to this transaction.
    db.execute(text("SET LOCAL jit = off"))
    index = area_index(db)
    # Only the live months are read: an archived month's samples keep the verdicts they were archived with.
    report = RejudgeReport(
        archived_months=archived_sample_months(
            db,
            month_start(since) if since else date.min,
            month_start(until - timedelta(microseconds=1)) if until else date.max,
        )
    )
    after = uuid.UUID(int=0)
    while True:
        rows = (
            db.execute(
                text(_SELECT),
                {
                    "product": product_id,
                    "since": since,
                    "until": until,
                    "after": after,
                    "limit": chunk,
                    "only_stale": only_stale,
                },
            )
            .mappings()
            .all()
        )
        if not rows:
            return report
        after = rows[-1]["id"]
        if only_stale:
            rows = [r for r in rows if r["stale"]]
            if not rows:
                continue
        verdicts = check_claims(None, _claims(rows), settings, index)
        report.examined += len(rows)
        columns: dict[str, list[Any]] = {c: [] for c, _, _ in _COLUMNS}
        for row, new in zip(rows, verdicts, strict=True):
            if row["verdict_id"] is not None and not _differs(row, new):
                continue
            values = verdict_values(new)
            values["flags"] = "{" + ",".join(new.flags) + "}"
            values.update(
                sample_id=row["id"],
                collected_at=row["collected_at"],
                product_id=new.product_id,
                supersedes_id=row["verdict_id"],
            )
            for name, column in columns.items():
                column.append(values[name])
            old = row["verdict"] or "none"
            if old != new.verdict.value:
                report.changed += 1
                report.transitions[(old, new.verdict.value)] += 1
        if columns["sample_id"]:
            report.verdict_ids += db.execute(_INSERT, columns).scalars().all()
            report.rejudged += len(columns["sample_id"])


def _claims(rows: Sequence[Any]) -> ClaimBatch:
    return ClaimBatch(
        product_id=[r["product_id"] for r in rows],
        x=[r["submitted_x"] for r in rows],
        y=[r["submitted_y"] for r in rows],
        collected_at=[r["collected_at"] for r in rows],
        crs=[r["declared_crs"] for r in rows],
        gps_accuracy_m=[r["gps_accuracy_m"] for r in rows],
        location_source=[LocationSource(r["location_source"]) for r in rows],
        x_text=[r["x_text"] for r in rows],
        y_text=[r["y_text"] for r in rows],
    )


def _differs(row: Any, new: OriginVerdict) -> bool:
    stored = (
        row["area_id"],
        row["area_version"],
        row["verdict"],
        row["distance_m"],
        list(row["flags"] or []),
        list(row["other_areas"] or []),
    )
    fresh = (
        new.area_id,
        new.area_version,
        new.verdict.value,
        new.distance_m,
        list(new.flags),
        [dict(a) for a in new.other_areas],
    )
    return stored != fresh
