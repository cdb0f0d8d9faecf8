"""The current-verdicts read model, and quality judging a set of samples in a fixed number of queries."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import event
from sqlalchemy.orm import Session

from gi.models import LabResult, OriginOutcome, OriginVerdictRecord, Sample
from gi.register.areas import find_product

pytestmark = pytest.mark.postgis
SH = ZoneInfo("Asia/Shanghai")


def _samples(session: Session, n: int, product: str = "xihu-longjing") -> list[Sample]:
    """``n`` tea samples with a moisture result and an origin verdict each."""
    p = find_product(session, product)
    samples = []
    for i in range(n):
        s = Sample(
            id=uuid.uuid4(),
            product_id=p.id,
            collected_at=datetime(2025, 4, 2 + i % 20, 9, tzinfo=SH),
            submitted_x=120.12,
            submitted_y=30.24,
            declared_crs="WGS84",
            location=from_shape(Point(120.12, 30.24), srid=4326),
        )
        session.add(s)
        session.flush()
        session.add(
            OriginVerdictRecord(
                sample_id=s.id,
                product_id=p.id,
                verdict=OriginOutcome.INSIDE,
                band_m=30.0,
                distance_m=500.0,
                flags=[],
                other_areas=[],
                rule="t",
                inputs={},
            )
        )
        session.add(
            LabResult(
                sample_id=s.id,
                indicator_code="moisture",
                value=Decimal("6.0") if i % 3 else Decimal("7.5"),
                unit="%",
                laboratory="lab",
                tested_on=date(2025, 4, 25),
            )
        )
        samples.append(s)
    session.flush()
    return samples


def _count_selects(session: Session):  # type: ignore[no-untyped-def]
    counted: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            counted.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    return counted, lambda: event.remove(engine, "before_cursor_execute", before)


def test_current_verdicts_are_the_newest_of_each_kind(session: Session, loaded_register: None) -> None:
    from gi.quality.judge import check_samples
    from gi.reads.verdicts import current_verdicts

    samples = _samples(session, 3)
    first = check_samples(session, samples)
    second = check_samples(session, samples[:1])
    current = current_verdicts(session, [s.id for s in samples] + [uuid.uuid4()])
    assert current[samples[0].id].quality is second[0].quality
    assert current[samples[0].id].evidence is second[0].evidence
    assert current[samples[1].id].quality is first[1].quality
    assert all(c.origin is not None for k, c in current.items() if k in {s.id for s in samples})
    unknown = [c for k, c in current.items() if k not in {s.id for s in samples}]
    assert unknown and unknown[0].quality is None and unknown[0].origin is None


def test_quality_judges_a_set_in_a_fixed_number_of_queries(session: Session, loaded_register: None) -> None:
    from gi.quality.judge import check_samples

    small, large = _samples(session, 2), _samples(session, 30)
    counts = []
    for batch in (small, large):
        session.expire_all()  # nothing cached between the two runs
        batch = [session.get(Sample, s.id) for s in batch]  # type: ignore[misc]
        selects, stop = _count_selects(session)
        try:
            checks = check_samples(session, batch)
        finally:
            stop()
        counts.append(len(selects))
        assert [c.quality.outcome.value for c in checks].count("fail") == len(batch[::3])
        assert all(c.evidence.origin_verdict_id is not None for c in checks)
    assert counts[0] == counts[1], counts
