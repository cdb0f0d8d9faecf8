"""The keys of samples and verdicts to products and areas, checked per statement (migration 0026_productfk): a
missing product or area is refused from every writer (one row, the batch's COPY-staged statements), a referenced
product or area is not deleted, re-keyed or truncated from under its rows, an archived month keeps real foreign
keys, and the downgrade gives the foreign keys back."""

from __future__ import annotations

import hashlib
import importlib.util
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures import scratch_database, square_product
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session

import gi.origin.batch
import gi.origin.store
from gi import db as gi_db
from gi.db.archive import TRIGGER_KEYS, archive_data_month, archive_name
from gi.db.partitions import ensure_partitions
from gi.db.statement_keys import cascade_parent_function, check_function
from gi.models import GIKind, GIProduct, ProductCategory
from gi.origin.batch import record_samples

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2024, 4, 2, 9, 30, tzinfo=SH)
VERSIONS = Path(gi_db.__file__).parent / "migrations" / "versions"
GHOST = 987_654_321  # no product or area has this id

SAMPLE_PRODUCT = "fk_sample_product_id_gi_product"
VERDICT_PRODUCT = "fk_origin_verdict_product_id_gi_product"
VERDICT_AREA = "fk_origin_verdict_area_id_production_area"
KEYS = {
    SAMPLE_PRODUCT: ("sample", "gi_product"),
    VERDICT_PRODUCT: ("origin_verdict", "gi_product"),
    VERDICT_AREA: ("origin_verdict", "production_area"),
}

_SAMPLE = text(
    "INSERT INTO sample (id, product_id, collected_at, submitted_x, submitted_y, declared_crs, location_source, "
    "location) VALUES (:id, :product, :at, 120.05, 30.05, 'EPSG:4326', 'device_gps', "
    "ST_SetSRID(ST_MakePoint(120.05, 30.05), 4326))"
)
_VERDICT = text(
    "INSERT INTO origin_verdict (sample_id, collected_at, product_id, area_id, area_version, verdict, band_m, "
    "flags, other_areas, rule, inputs) VALUES (:id, :at, :product, :area, 1, 'inside', 30, '{}', '[]', 'test', "
    "'{}')"
)

pytestmark = pytest.mark.postgis


def _migration(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0024_runs_the_same_sql_as_when_it_was_written() -> None:
    # 0024_batchfk's SQL now comes from gi.db.statement_keys, shared with 0026: a migration run again must build the
    # same schema, so its text is pinned (the hash of the functions and triggers 0024 created, as first written).
    m = _migration("0024_batchfk")
    sql = "".join(
        check_function(name, child, cols, parent, pcols)
        + cascade_parent_function(name, child, cols, parent, pcols)
        for name, child, cols, parent, pcols, _ in m.KEYS
    )
    assert hashlib.sha256(sql.encode()).hexdigest() == (
        "7e4dc453880a59be8b5711d6bb54eca378b7da93a91d638b026f1cf346a863f3"
    )


@pytest.fixture
def product(session: Session) -> GIProduct:
    """A product with a square area near Hangzhou."""
    return square_product(session, "test-pkeys-tea", "测试产品键茶", "Product Keys Tea")


def _area(session: Session, product: GIProduct) -> int:
    return int(
        session.scalar(text("SELECT id FROM production_area WHERE product_id = :p"), {"p": product.id})
    )


def _error(caught: pytest.ExceptionInfo[BaseException]) -> Any:
    """The psycopg error of an exception (SQLAlchemy's wraps it; the batch's raw connection raises it bare)."""
    error = caught.value
    return getattr(error, "orig", None) or error


def _refused(session: Session, run: Callable[[], object], constraint: str) -> str:
    """Run ``run`` in a savepoint; it must fail as a foreign key violation of ``constraint``; its message."""
    nested = session.begin_nested()
    with pytest.raises(Exception) as caught:  # noqa: PT011 - checked below: SQLSTATE and constraint
        run()
    nested.rollback()
    error = _error(caught)
    assert error.sqlstate == "23503", caught.value
    assert error.diag.constraint_name == constraint, caught.value
    return str(error)


def test_a_sample_or_verdict_of_a_missing_product_or_area_is_refused(
    session: Session, product: GIProduct
) -> None:
    area = _area(session, product)
    sid = uuid.uuid4()
    session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
    session.execute(_VERDICT, {"id": sid, "at": AT, "product": product.id, "area": area})
    message = _refused(
        session,
        lambda: session.execute(_SAMPLE, {"id": uuid.uuid4(), "product": GHOST, "at": AT}),
        SAMPLE_PRODUCT,
    )
    assert message.startswith(
        f'insert or update on table "sample" violates foreign key constraint "{SAMPLE_PRODUCT}"'
    )
    assert f'Key (product_id)=({GHOST}) is not present in table "gi_product".' in message
    message = _refused(
        session,
        lambda: session.execute(_VERDICT, {"id": sid, "at": AT, "product": GHOST, "area": area}),
        VERDICT_PRODUCT,
    )
    assert f'Key (product_id)=({GHOST}) is not present in table "gi_product".' in message
    message = _refused(
        session,
        lambda: session.execute(_VERDICT, {"id": sid, "at": AT, "product": product.id, "area": GHOST}),
        VERDICT_AREA,
    )
    assert f'Key (area_id)=({GHOST}) is not present in table "production_area".' in message
    # A verdict outside every area (no area) references nothing: fine, as with the foreign key.
    session.execute(_VERDICT, {"id": sid, "at": AT, "product": product.id, "area": None})
    # An update to a missing product is refused too; one leaving the key alone is not checked.
    _refused(
        session,
        lambda: session.execute(
            text("UPDATE sample SET product_id = :g WHERE id = :id"), {"g": GHOST, "id": sid}
        ),
        SAMPLE_PRODUCT,
    )
    session.execute(text("UPDATE sample SET notes = 'checked' WHERE id = :id"), {"id": sid})


def _rows(n: int, prefix: str) -> list[tuple[int, dict[str, object]]]:
    return [
        (
            i + 1,
            {
                "product": "test-pkeys-tea",
                "collected_at": "2024-04-02T09:30:00+08:00",
                "x": 120.05 + i * 1e-4,
                "y": 30.05,
                "lot_number": f"{prefix}{i}",
            },
        )
        for i in range(n)
    ]


_STAGE_TEXT = gi.origin.store.stage_text  # the real one, whatever a test has put in its place


def _ghost_in(column: str) -> Callable[..., str]:
    """stage_text, but the last row of each block names the ghost id in ``column``."""
    real = _STAGE_TEXT

    def staged(contents: Sequence[Any], verdicts: Sequence[Any], columns: Sequence[str]) -> str:
        block = real(contents, verdicts, columns)
        lines = block.rstrip("\n").split("\n")
        fields = lines[-1].split("\t")
        fields[list(columns).index(column)] = str(GHOST)
        lines[-1] = "\t".join(fields)
        return "\n".join(lines) + "\n"

    return staged


@pytest.mark.parametrize("plain", [True, False], ids=["plain inserts", "store_staged statement"])
def test_the_batch_statements_check_the_keys(
    session: Session, product: GIProduct, monkeypatch: pytest.MonkeyPatch, plain: bool
) -> None:
    if not plain:  # the statement that skips stored UUIDs (a concurrent run, seal codes)
        monkeypatch.setattr(gi.origin.store, "_store_new", lambda cur, n: False)
    nested = session.begin_nested()
    result = record_samples(session, _rows(30, "B"), chunk=10)
    assert len(result.stored) == 30  # the checks pass the batch's own rows
    area = _area(session, product)
    assert (
        session.scalar(
            text("SELECT count(*) FROM origin_verdict WHERE sample_id = ANY (:ids) AND area_id = :a"),
            {"ids": [r.sample_id for r in result.stored], "a": area},
        )
        == 30
    )
    nested.rollback()
    for column, constraint in (("product_id", SAMPLE_PRODUCT), ("area_id", VERDICT_AREA)):
        monkeypatch.setattr(gi.origin.store, "stage_text", _ghost_in(column))
        message = _refused(
            session, lambda c=column: record_samples(session, _rows(30, c), chunk=10), constraint
        )
        assert f"Key ({column})=({GHOST}) is not present" in message


def test_a_referenced_product_or_area_is_not_deleted_or_rekeyed(session: Session, product: GIProduct) -> None:
    area = _area(session, product)
    sid = uuid.uuid4()
    session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
    # A sample: its key refuses the product's delete and re-key (a product without an area, whose own foreign key
    # would refuse the re-key first).
    bare = GIProduct(
        code="test-pkeys-bare",
        name_zh="测试无产地茶",
        name_pinyin="Cèshì",
        name_en="Bare Tea",
        gi_kind=GIKind.PROTECTED_PRODUCT,
        category=ProductCategory.FARM_PRODUCT,
    )
    session.add(bare)
    session.flush()
    session.execute(_SAMPLE, {"id": uuid.uuid4(), "product": bare.id, "at": AT})
    for statement, key in (
        ("DELETE FROM gi_product WHERE id = :p", product.id),
        ("DELETE FROM gi_product WHERE id = :p", bare.id),
        ("UPDATE gi_product SET id = id + 100000 WHERE id = :p", bare.id),
    ):
        message = _refused(
            session, lambda s=statement, k=key: session.execute(text(s), {"p": k}), SAMPLE_PRODUCT
        )
        assert message.startswith(
            f'update or delete on table "gi_product" violates foreign key constraint "{SAMPLE_PRODUCT}" on table '
            '"sample"'
        )
        assert f'Key (id)=({key}) is still referenced from table "sample".' in message
    # An update leaving the key alone is fine.
    session.execute(text("UPDATE gi_product SET name_en = 'Renamed' WHERE id = :p"), {"p": product.id})
    # A verdict naming another product (no sample of it, no area): the verdict's key refuses that product's delete.
    other = square_product(session, "test-pkeys-other", "测试其他茶", "Other Tea")
    session.execute(_VERDICT, {"id": sid, "at": AT, "product": other.id, "area": None})
    message = _refused(
        session,
        lambda: session.execute(text("DELETE FROM gi_product WHERE id = :p"), {"p": other.id}),
        VERDICT_PRODUCT,
    )
    assert f'Key (id)=({other.id}) is still referenced from table "origin_verdict".' in message
    # A verdict in an area: the area is not deleted or re-keyed from under it.
    session.execute(_VERDICT, {"id": sid, "at": AT, "product": product.id, "area": area})
    message = _refused(
        session,
        lambda: session.execute(text("DELETE FROM production_area WHERE id = :a"), {"a": area}),
        VERDICT_AREA,
    )
    assert message.startswith(
        f'update or delete on table "production_area" violates foreign key constraint "{VERDICT_AREA}" on table '
        '"origin_verdict"'
    )
    assert f'Key (id)=({area}) is still referenced from table "origin_verdict".' in message
    _refused(
        session,
        lambda: session.execute(
            text("UPDATE production_area SET id = id + 100000 WHERE id = :a"), {"a": area}
        ),
        VERDICT_AREA,
    )
    # An unreferenced product goes, with its area (ON DELETE CASCADE of the area's own foreign key).
    free = square_product(session, "test-pkeys-free", "测试无样品茶", "Free Tea")
    session.execute(text("DELETE FROM gi_product WHERE id = :p"), {"p": free.id})
    assert (
        session.scalar(text("SELECT count(*) FROM production_area WHERE product_id = :p"), {"p": free.id})
        == 0
    )


def test_truncate_of_a_referenced_product_or_area_is_refused(session: Session, product: GIProduct) -> None:
    area = _area(session, product)
    sid = uuid.uuid4()
    session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
    session.execute(_VERDICT, {"id": sid, "at": AT, "product": product.id, "area": area})
    # The audit log's switch, so that only the keys can refuse (the tests' database is thrown away).
    session.execute(text("SET LOCAL gi.audit_truncate = 'discard audited data'"))
    # TRUNCATE gi_product CASCADE reaches samples and verdicts through their real keys to producers and tasks
    # (which reference products): without those, only the checks stand between the products and their rows.
    loose = (
        "ALTER TABLE sample DROP CONSTRAINT fk_sample_task_id_plan_task, "
        "DROP CONSTRAINT fk_sample_producer_id_producer; "
        "ALTER TABLE origin_verdict DROP CONSTRAINT fk_origin_verdict_producer_id_producer"
    )
    for statement, constraint in (
        ("TRUNCATE production_area CASCADE", VERDICT_AREA),
        (f"{loose}; TRUNCATE gi_product CASCADE", SAMPLE_PRODUCT),
        (f"{loose}; TRUNCATE gi_product, sample, sample_identity CASCADE", VERDICT_PRODUCT),
    ):
        message = _refused(session, lambda s=statement: session.execute(text(s)), constraint)
        assert "is refused" in message
    # Together with the referencing tables: fine.
    session.execute(
        text("TRUNCATE sample, origin_verdict, sample_identity, production_area, gi_product CASCADE")
    )
    assert session.scalar(text("SELECT count(*) FROM gi_product")) == 0


def _foreign_keys(conn: Connection, table: str) -> dict[str, str]:
    """A table's own foreign keys: name -> referenced table."""
    return dict(
        conn.execute(
            text(
                "SELECT conname, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = to_regclass(:t) AND conparentid = 0"
            ),
            {"t": table},
        ).all()
    )


# The triggers and functions of the three keys and of the TRUNCATE check.
KEY_OBJECTS = {
    *(f"{name}_{kind}" for name in KEYS for kind in ("insert", "update", "parent")),
    *(f"{name}_{kind}()" for name in KEYS for kind in ("check", "parent")),
    "product_truncate_check",
    "product_truncate_check()",
}


def _key_objects(conn: Connection) -> set[str]:
    """The triggers and functions of the three keys (and of the TRUNCATE check) in the database."""
    names = [*KEYS, "product_truncate_check"]
    rows = conn.execute(
        text(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE ANY (:n) "
            "UNION SELECT proname || '()' FROM pg_proc WHERE proname LIKE ANY (:n)"
        ),
        {"n": [f"{n}%" for n in names]},
    ).scalars()
    return set(rows)


def test_an_archived_month_keeps_real_keys_and_the_downgrade_restores_them(db_url: str) -> None:
    month = date(2024, 4, 1)
    with scratch_database(db_url, "gi_pkeys") as url:
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                product = square_product(session, "test-pkeys-arch", "测试归档茶", "Archive Tea")
                area = _area(session, product)
                ensure_partitions(session.connection(), ahead=0, since=month)
                sid = uuid.uuid4()
                session.execute(_SAMPLE, {"id": sid, "product": product.id, "at": AT})
                session.execute(_VERDICT, {"id": sid, "at": AT, "product": product.id, "area": area})
                session.commit()
            with engine.connect() as conn:
                assert _foreign_keys(conn, "sample").keys().isdisjoint(KEYS)
                assert _foreign_keys(conn, "origin_verdict").keys().isdisjoint(KEYS)
                assert _key_objects(conn) == KEY_OBJECTS
            archive_data_month(engine, month, today=date(2024, 6, 15))
            expected = {
                archive_name(table, month): {
                    name: parent for name, (child, parent) in KEYS.items() if child == table
                }
                for table in ("sample", "origin_verdict")
            }
            assert {(t, n) for t, n, _, _ in TRIGGER_KEYS} >= {(c, n) for n, (c, _) in KEYS.items()}

            def archived(conn: Connection) -> dict[str, dict[str, str]]:
                return {
                    table: {n: p for n, p in _foreign_keys(conn, table).items() if n in KEYS}
                    for table in expected
                }

            with engine.connect() as conn:
                assert archived(conn) == expected
                # A real key: a missing product is refused by PostgreSQL itself on the archive.
                assert (
                    conn.execute(
                        text("SELECT count(*) FROM pg_constraint WHERE conname = :n AND contype = 'f'"),
                        {"n": SAMPLE_PRODUCT},
                    ).scalar_one()
                    == 1
                )
            engine.dispose()
            gi_db.downgrade(url, "0025_collectedid")
            with engine.connect() as conn:
                assert _foreign_keys(conn, "sample").get(SAMPLE_PRODUCT) == "gi_product"
                assert _foreign_keys(conn, "origin_verdict").get(VERDICT_PRODUCT) == "gi_product"
                assert _foreign_keys(conn, "origin_verdict").get(VERDICT_AREA) == "production_area"
                assert _key_objects(conn) == set()
                assert archived(conn) == expected
            engine.dispose()
            gi_db.upgrade(url)
            with engine.connect() as conn:
                assert _foreign_keys(conn, "sample").keys().isdisjoint(KEYS)
                assert _foreign_keys(conn, "origin_verdict").keys().isdisjoint(KEYS)
                assert _key_objects(conn) == KEY_OBJECTS
                assert archived(conn) == expected
        finally:
            engine.dispose()
