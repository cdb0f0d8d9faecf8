"""The keys sample -> sample_identity and origin_verdict -> sample, checked per statement (migration 0024_batchfk):
a dangling reference from any writer is refused, a referenced row is not deleted or re-keyed from under its rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fixtures import square_product
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gi.models import GIProduct
from gi.origin.batch import record_samples

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.postgis

_SAMPLE = text(
    "INSERT INTO sample (id, product_id, collected_at, submitted_x, submitted_y, declared_crs, location_source, "
    "location) VALUES (:id, :product, :at, 120.05, 30.05, 'EPSG:4326', 'device_gps', "
    "ST_SetSRID(ST_MakePoint(120.05, 30.05), 4326))"
)
_VERDICT = text(
    "INSERT INTO origin_verdict (sample_id, collected_at, product_id, verdict, band_m, flags, other_areas, rule, "
    "inputs) SELECT s, :at, :product, 'inside', 30, '{}', '[]', 'test', '{}' FROM unnest(CAST(:ids AS uuid[])) s"
)
AT = datetime(2024, 4, 2, 9, 30, tzinfo=SH)


@pytest.fixture
def product(session: Session) -> GIProduct:
    """A product with a square area near Hangzhou."""
    return square_product(session, "test-keys-tea", "测试键茶", "Keys Tea")


def _refused(session: Session, statement: object, params: dict[str, object], constraint: str) -> str:
    """Run a statement in a savepoint; it must fail as a foreign key violation of ``constraint``; its message."""
    nested = session.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        session.execute(statement, params)  # type: ignore[call-overload]
    nested.rollback()
    diag = caught.value.orig.diag  # type: ignore[union-attr]
    assert caught.value.orig.sqlstate == "23503", caught.value  # type: ignore[union-attr]
    assert diag.constraint_name == constraint
    return str(caught.value.orig)


def test_a_verdict_of_a_missing_sample_is_refused_among_many(session: Session, product: GIProduct) -> None:
    stored = [uuid.uuid4() for _ in range(3)]
    for sid in stored:
        session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
    session.execute(_VERDICT, {"ids": stored, "at": AT, "product": product.id})  # every sample exists: fine
    ghost = uuid.uuid4()
    message = _refused(
        session,
        _VERDICT,
        {"ids": [*stored, ghost], "at": AT, "product": product.id},
        "fk_origin_verdict_sample_id_sample",
    )
    assert f"Key (sample_id, collected_at)=({ghost}," in message and 'table "sample"' in message
    # The right UUID at another moment is another key: refused too.
    _refused(
        session,
        _VERDICT,
        {"ids": stored[:1], "at": datetime(2024, 5, 2, tzinfo=SH), "product": product.id},
        "fk_origin_verdict_sample_id_sample",
    )
    # A producer's verdict (no sample) references nothing.
    assert (
        session.scalar(text("SELECT count(*) FROM origin_verdict WHERE sample_id = ANY (:i)"), {"i": stored})
        == 3
    )


def test_a_sample_without_its_identity_is_refused(session: Session, product: GIProduct) -> None:
    # The identity trigger writes it for every writer; with the batch's skip on, nothing writes it: refused.
    session.execute(text("SELECT set_config('gi.sample_identity_written', 'on', true)"))
    try:
        message = _refused(
            session,
            _SAMPLE,
            {"id": uuid.uuid4(), "product": product.id, "at": AT},
            "fk_sample_id_sample_identity",
        )
    finally:
        session.execute(text("SELECT set_config('gi.sample_identity_written', '', true)"))
    assert 'is not present in table "sample_identity"' in message
    # Moving a sample to a moment its identity does not have is refused too (an update's changed keys).
    sid = uuid.uuid4()
    session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
    _refused(
        session,
        text("UPDATE sample SET collected_at = collected_at + interval '1 hour' WHERE id = :id"),
        {"id": sid},
        "fk_sample_id_sample_identity",
    )
    session.execute(
        text("UPDATE sample SET notes = 'checked' WHERE id = :id"), {"id": sid}
    )  # key unchanged: fine


def test_referenced_rows_are_not_deleted_or_rekeyed_from_under_their_rows(
    session: Session, product: GIProduct
) -> None:
    judged, bare = uuid.uuid4(), uuid.uuid4()
    for sid in (judged, bare):
        session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
    session.execute(_VERDICT, {"ids": [judged], "at": AT, "product": product.id})
    # A sample with a verdict: the delete would cascade to an append-only verdict, which refuses it.
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match=r"DELETE on origin_verdict\w* is refused"):
        session.execute(text("DELETE FROM sample WHERE id = :id"), {"id": judged})
    nested.rollback()
    _refused(
        session,
        text("UPDATE sample_identity SET collected_at = collected_at + interval '1 hour' WHERE id = :id"),
        {"id": judged},
        "fk_sample_id_sample_identity",
    )
    # An identity deleted takes its sample with it (ON DELETE CASCADE, as before).
    session.execute(text("DELETE FROM sample_identity WHERE id = :id"), {"id": bare})
    assert session.scalar(text("SELECT count(*) FROM sample WHERE id = :id"), {"id": bare}) == 0


def test_the_batch_statement_passes_the_checks(session: Session, product: GIProduct) -> None:
    rows = [
        (
            i + 1,
            {
                "product": "test-keys-tea",
                "collected_at": "2024-04-02T09:30:00+08:00",
                "x": 120.05 + i * 1e-4,
                "y": 30.05,
                "lot_number": f"K{i}",
            },
        )
        for i in range(30)
    ]
    result = record_samples(session, rows, chunk=10)
    assert len(result.stored) == 30
    assert (
        session.scalar(
            text(
                "SELECT count(*) FROM origin_verdict v JOIN sample s ON s.id = v.sample_id AND s.collected_at = "
                "v.collected_at JOIN sample_identity i ON i.id = s.id AND i.collected_at = s.collected_at "
                "WHERE v.sample_id = ANY (:ids)"
            ),
            {"ids": [r.sample_id for r in result.stored]},
        )
        == 30
    )


def test_truncate_leaves_no_dangling_reference(session: Session, product: GIProduct) -> None:
    sid = uuid.uuid4()
    session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
    session.execute(_VERDICT, {"ids": [sid], "at": AT, "product": product.id})
    partition = session.scalar(
        text("SELECT tableoid::regclass::text FROM sample WHERE id = :id"), {"id": sid}
    )
    # The audit log's switch, so that only the keys can refuse (the tests' database is thrown away).
    session.execute(text("SET LOCAL gi.audit_truncate = 'discard audited data'"))
    for statement, constraint in (
        ("TRUNCATE sample CASCADE", "fk_origin_verdict_sample_id_sample"),
        (f'TRUNCATE "{partition}" CASCADE', "fk_origin_verdict_sample_id_sample"),
        ("TRUNCATE sample_identity CASCADE", "fk_sample_id_sample_identity"),
    ):
        _refused(session, text(statement), {}, constraint)
    session.execute(text("TRUNCATE sample, origin_verdict, sample_identity CASCADE"))  # together: fine
    assert session.scalar(text("SELECT count(*) FROM origin_verdict WHERE sample_id IS NOT NULL")) == 0


def test_a_key_look_up_reads_one_entry_whichever_index_is_picked(session: Session) -> None:
    # Samples often share their moment (a file giving only the date). A look-up by (id, collected_at) planned
    # through an index on collected_at alone read every sample of that moment per key: the 0024 checks became
    # quadratic (benchmarks/origin.py (c)). So every index of sample and its partitions that leads with
    # collected_at also holds id (migration 0025_collectedid).
    rows = session.execute(
        text(
            "SELECT c.relname AS index, array_agg(a.attname::text ORDER BY k.ord) AS columns "
            "FROM pg_inherits h RIGHT JOIN pg_class t ON t.oid = h.inhrelid "
            "JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class c ON c.oid = i.indexrelid "
            "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relname = 'sample' OR h.inhparent = 'sample'::regclass "
            "GROUP BY c.relname"
        )
    ).all()
    leading = {r.index: r.columns for r in rows if r.columns[0] == "collected_at"}
    assert leading, "the samples' time index is missing"
    assert {name: cols for name, cols in leading.items() if "id" not in cols} == {}
