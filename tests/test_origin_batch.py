"""Sample intake, one sample and a batch in a session: field validation, identity, conflicts, batch == single."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from fixtures import square_product
from shapely.geometry import box
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo_data.crs import from_wgs84
from geo_data.io import as_multipolygon
from gi.errors import ConflictError, InputError
from gi.models import GIKind, GIProduct, LocationSource, OriginVerdictRecord, ProductCategory, Sample
from gi.origin.batch import record_samples
from gi.origin.intake import record_sample, record_samples_together
from gi.register.areas import AreaImport, add_area_version

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.postgis


@pytest.fixture
def product(session: Session) -> GIProduct:
    """A product with a 10 x 11 km square area near Hangzhou."""
    return square_product(session, "test-batch-tea", "测试批量茶", "Batch Tea")


def _sample(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "product": "test-batch-tea",
        "collected_at": "2024-04-02T09:30:00+08:00",
        "x": 120.05123,
        "y": 30.05456,
        "gps_accuracy_m": 4.0,
    }
    base.update(kw)
    return base


def test_record_sample_stores_sample_and_verdict_in_one_go(session: Session, product: GIProduct) -> None:
    sample_id = uuid.uuid4()
    recorded = record_sample(session, _sample(id=str(sample_id), crs="GCJ02", x=120.05523, y=30.05256))
    assert recorded.created and recorded.sample_id == sample_id and recorded.verdict.verdict.value == "inside"
    stored = session.get(Sample, sample_id)
    assert stored.declared_crs == "GCJ02" and (stored.submitted_x, stored.submitted_y) == (
        120.05523,
        30.05256,
    )
    x, y = session.execute(
        text("SELECT ST_X(location), ST_Y(location) FROM sample WHERE id = :i"), {"i": sample_id}
    ).one()
    assert (x, y) == (recorded.verdict.lon, recorded.verdict.lat)
    record = session.scalars(
        select(OriginVerdictRecord).where(OriginVerdictRecord.sample_id == sample_id)
    ).one()
    assert record.verdict.value == "inside" and record.inputs["submitted"]["crs"] == "GCJ02"
    assert record.inputs["area"]["version"] == 1 and record.rule.startswith("origin/1")


def test_same_uuid_is_idempotent_and_a_conflicting_one_refused(session: Session, product: GIProduct) -> None:
    sample_id = str(uuid.uuid4())
    first = record_sample(session, _sample(id=sample_id, lot_number="A1", notes="茶园"))
    assert first.created
    again = record_sample(session, _sample(id=sample_id, lot_number="A1", notes="茶园"))
    assert not again.created and again.status == "already stored"
    assert again.verdict == first.verdict and again.verdict_id == first.verdict_id
    assert (
        session.scalar(select(func.count()).select_from(Sample).where(Sample.id == uuid.UUID(sample_id))) == 1
    )
    with pytest.raises(ConflictError) as err:
        record_sample(session, _sample(id=sample_id, x=120.06, lot_number="A1", notes="茶园"))
    assert err.value.field == "x" and set(err.value.differences) == {"x"}
    assert err.value.differences["x"] == (120.05123, 120.06)


def test_a_changed_resubmission_is_a_conflict_naming_every_changed_field(
    session: Session, product: GIProduct
) -> None:
    """Issue 11: accuracy 17.7 -> 950 m, device_gps -> geocoded_address, lot and notes changed: refused, not dropped."""
    sample_id = str(uuid.uuid4())
    original = _sample(
        id=sample_id, gps_accuracy_m=17.7, location_source="device_gps", lot_number="L-7", notes="原始记录"
    )
    record_sample(session, original)
    changed = {
        **original,
        "gps_accuracy_m": 950,
        "location_source": "geocoded_address",
        "lot_number": "L-8",
        "notes": "改过",
    }
    with pytest.raises(ConflictError) as err:
        record_sample(session, changed)
    assert list(err.value.differences) == ["gps_accuracy_m", "location_source", "lot_number", "notes"]
    assert "gps_accuracy_m 17.7 -> 950" in str(err.value) and "already stored with other content" in str(
        err.value
    )
    stored = session.get(Sample, uuid.UUID(sample_id))
    session.refresh(stored)
    assert (stored.gps_accuracy_m, stored.lot_number, stored.notes) == (17.7, "L-7", "原始记录")
    # The batch path gives the same answer, row by row.
    result = record_samples(session, [(1, changed)])
    assert result.rows[0].status == "conflict" and result.rows[0].verdict is None
    assert result.rows[0].field == "gps_accuracy_m" and "lot_number" in result.rows[0].problem
    assert record_samples(session, [(1, original)]).rows[0].status == "already stored"


def test_retyped_coordinates_are_the_same_sample(session: Session, product: GIProduct) -> None:
    """Issue 11: a row without an id whose coordinates were re-typed (120.123810 -> 120.12381) is not stored twice."""
    first = record_sample(session, _sample(x="120.051230", y="30.054560", collected_at="2024-04-02 09:30"))
    again = record_sample(session, _sample(x="120.05123", y="30.05456", collected_at="2024-04-02T01:30:00Z"))
    assert first.created and not again.created and again.sample_id == first.sample_id
    batch = record_samples(
        session, [(1, _sample(x=" 120.0512300 ", y=30.05456, collected_at="2024/4/2 9:30"))]
    )
    assert batch.rows[0].status == "already stored" and batch.rows[0].sample_id == first.sample_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gps_accuracy_m": -1}, "gps_accuracy_m"),
        ({"collected_at": "2999-01-01T00:00:00+08:00"}, "collected_at"),
        ({"collected_at": "yesterday"}, "collected_at"),
        ({"product": "no-such-product"}, "product"),
        ({"x": 500000.0, "y": 3300000.0}, "x"),
        ({"crs": "MARS-2"}, "crs"),
        ({"lot_size": 0}, "lot_size"),
        ({"collector": "NOBODY"}, "collector"),
        ({"producer": "91330000000000000X"}, "producer"),
        ({"task_id": 999999}, "task_id"),
        ({"id": "not-a-uuid"}, "id"),
    ],
)
def test_each_field_is_validated(session: Session, product: GIProduct, change: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        record_sample(session, _sample(**change))
    assert err.value.field == field


def test_swapped_coordinates_are_kept_and_flagged(session: Session, product: GIProduct) -> None:
    recorded = record_sample(session, _sample(x=30.05456, y=120.05123))
    assert recorded.verdict.verdict.value == "outside" and "swapped_lat_lon" in recorded.verdict.flags


def test_record_samples_vectorized_rows(session: Session, product: GIProduct) -> None:
    rows = [
        (i + 1, _sample(x=120.0 + 0.001 * i + 0.00001, y=30.05001, lot_number=f"L{i}")) for i in range(150)
    ]
    result = record_samples(session, rows, source="test")
    counts = {
        s: sum(1 for r in result.stored if r.verdict.verdict.value == s)
        for s in ("inside", "uncertain", "outside")
    }
    # 120.000 .. 120.149: inside up to the band around 120.1, outside beyond.
    assert counts["inside"] > 90 and counts["outside"] > 40 and counts["uncertain"] >= 1
    assert json.loads(json.dumps(result.stored[0].verdict.inputs, default=str))["rule_version"] == 1


def test_copy_keeps_awkward_text_exactly(session: Session, product: GIProduct) -> None:
    notes = '第一行\n第二行\t制表 \\ 反斜杠 "引号" \\N'
    result = record_samples(
        session, [(1, _sample(notes=notes, lot_number="L\\1\tX", x_text="120.05123"))], source="src\\tab\tX"
    )
    stored = session.get(Sample, result.stored[0].sample_id)
    assert (stored.notes, stored.lot_number, stored.source) == (notes, "L\\1\tX", "src\\tab\tX")
    record = session.scalars(
        select(OriginVerdictRecord).where(OriginVerdictRecord.sample_id == stored.id)
    ).one()
    assert record.inputs == json.loads(json.dumps(result.stored[0].verdict.inputs, default=str))


# --------------------------------------------------------------------------------------------- batch == single


def _mixed_rows(
    session: Session, product: GIProduct, n: int, seed: int
) -> list[tuple[int, dict[str, object]]]:
    """Rows of every kind a file or the demo sends: CRSs, precisions, accuracies, sources, times, bad fields."""
    from gi.models import Inspector

    session.add(Inspector(code="T-INS-1", name="测试采样员", unit="测试站", home_county_code="330106"))
    session.flush()
    rng = np.random.default_rng(seed)
    # What a notice prints, drawn apart so that the rows drawn from ``rng`` stay as they were before it.
    labels = np.random.default_rng(seed + 1000)
    crss = ["WGS84", "CGCS2000", "GCJ02", "BD09", "EPSG:4326", "gcj-02", " bd09 ", "EPSG:4549", None, ""]
    bad = [
        ("product", "no-such"),
        ("collected_at", "yesterday"),
        ("gps_accuracy_m", "-1"),
        ("x", "abc"),
        ("crs", "MARS-2"),
        ("lot_size", "0"),
        ("collector", "NOBODY"),
        ("id", "not-a-uuid"),
        ("collected_at", "2999-01-01T00:00:00+08:00"),
        ("y", "nan"),
        ("task_id", "999999"),
        ("producer", "91330000000000000X"),
        ("location_source", "psychic"),
        ("product", "   "),
        ("lot_number", "x" * 101),
        ("crs", None),
        ("x", True),
        ("gps_accuracy_m", "1e400"),
        ("x", "1_20.5"),
        ("task_id", "12.0"),
        ("y", 200.0),
        ("collected_at", " 2024-05-02"),
        ("product", "test-batch-tea\x1c"),
        ("x", "\u3000120.05"),
        ("gps_accuracy_m", "+5"),
        ("lot_size", " 7"),
    ]
    rows: list[tuple[int, dict[str, object]]] = []
    for i in range(n):
        # Within about 3 km of the area's western and eastern edges, and some well inside or far out.
        lon = float(rng.choice([120.0, 120.1, 120.05, 119.9])) + rng.normal(0, 0.012)
        lat = 30.0 + rng.random() * 0.1
        crs = crss[rng.integers(0, len(crss))]
        declared = (crs or "WGS84").strip()
        sx, sy = (float(v[0]) for v in from_wgs84(np.array([lon]), np.array([lat]), declared))
        kind = rng.integers(0, 12)
        if kind == 1:  # GCJ-02 coordinates declared WGS84, and BD-09 ones declared GCJ-02
            sx, sy = (float(v[0]) for v in from_wgs84(np.array([lon]), np.array([lat]), "GCJ02"))
            crs = "WGS84"
        elif kind == 2:
            sx, sy = (float(v[0]) for v in from_wgs84(np.array([lon]), np.array([lat]), "BD09"))
            crs = "GCJ02"
        elif kind == 3:
            sx, sy = sy, sx
        d: dict[str, object] = {
            "product": "test-batch-tea",
            "collected_at": "2024-06-01T09:00:00+08:00",
            "lot_number": f"M{i}",
        }
        style = rng.integers(0, 5)
        d["x"], d["y"] = [
            (repr(sx), repr(sy)),
            (sx, sy),
            (f"{sx:.3f}", f"{sy:.2f}"),
            (f" {sx:.6f} ", f"{sy:.6f}"),
            (f"{sx:.5f}", f"{sy:.7f}"),
        ][style]
        if style != 1 and rng.random() < 0.5:
            d["x_text"], d["y_text"] = d["x"], d["y"]
        if crs is not None:
            d["crs"] = crs
        accuracy = rng.integers(0, 7)
        if accuracy < 6:
            d["gps_accuracy_m"] = ["0", 300.0, " 45.5 ", 5, "5", 40.0][accuracy]
        source = rng.integers(0, 8)
        if source < 3:
            d["location_source"] = ["map_pick", "geocoded_address", "device_gps"][source]
        when = rng.integers(0, 10)
        if when < 6:
            d["collected_at"] = [
                "2005-06-01 09:00",
                datetime(2024, 5, 1, 8, 30),
                datetime(2024, 5, 1, 8, 30, tzinfo=ZoneInfo("UTC")),
                "2024-05-02 10:11:12.5",
                "2024-05-02",
                "1700000000",
            ][when]
        if rng.random() < 0.1:
            d["id"] = str(uuid.UUID(int=int(rng.integers(0, 2**62)) * 7919 + i))
        if rng.random() < 0.05:
            d["notes"] = '第一行\n第二\t行 \\ "q" \\N'
        if rng.random() < 0.05:
            d["collector"] = "T-INS-1"
        if rng.random() < 0.05:
            d["lot_size"] = str(int(rng.integers(1, 500)))
        if rng.random() < 0.12:
            field, value = bad[rng.integers(0, len(bad))]
            d[field] = value
        for name, value, share in (
            ("labelled_producer", "标称\t企业 \\ 甲", 0.08),
            ("labelled_address", "浙江省杭州市\n西湖区", 0.04),
            ("sampled_at", "流通环节", 0.08),
            ("outlet_name", "某茶行", 0.04),
            ("outlet_address", "龙井路 1 号", 0.04),
            ("specification", "250 g/袋", 0.06),
            ("production_date", "2004-03-28", 0.04),
            ("seal_code", "SEAL-OTHER-7", 0.03),
        ):
            if labels.random() < share:
                d[name] = value
        rows.append((i + 1, d))
    rows += [(n + 1 + j, dict(rows[j][1])) for j in range(0, n, 37)]  # repeats of earlier rows
    return rows


def _stored_state(session: Session, source: str) -> tuple[dict[object, tuple], dict[object, tuple]]:
    """Every stored column of the samples from ``source`` and of their verdicts, by sample."""
    samples = {
        r[0]: tuple(r)
        for r in session.execute(
            text(
                "SELECT id, product_id, producer_id, task_id, collected_at, submitted_x, submitted_y, declared_crs, "
                "gps_accuracy_m, location_source, ST_AsEWKB(location), lot_number, lot_size, seal_code, "
                "collector_id, source, notes, labelled_producer, labelled_address, sampled_at, outlet_name, "
                "outlet_address, specification, production_date FROM sample WHERE source = :s"
            ),
            {"s": source},
        )
    }
    verdicts = {
        r[0]: tuple(r)
        for r in session.execute(
            text(
                "SELECT v.sample_id, v.product_id, v.area_id, v.area_version, v.verdict, v.distance_m, v.band_m, "
                "v.flags, v.other_areas, v.rule, v.inputs, v.supersedes_id FROM origin_verdict v "
                "JOIN sample s ON s.id = v.sample_id WHERE s.source = :s"
            ),
            {"s": source},
        )
    }
    return samples, verdicts


def test_batch_rows_equal_single_samples(session: Session, product: GIProduct) -> None:
    """record_samples stores, row for row and column for column, what record_sample stores one request at a time."""
    rows = _mixed_rows(session, product, 900, seed=21)
    singles = []
    outer = session.begin_nested()
    for number, data in rows:
        request = session.begin_nested()  # each row on its own, as the service would take it
        try:
            one = record_sample(session, {**data, "source": data.get("source") or "mixed"})
        except (InputError, ConflictError) as exc:
            request.rollback()
            singles.append((number, exc.field, getattr(exc, "problem", None), None, None))
            continue
        request.commit()
        singles.append((number, None, None, one.sample_id, one))
    single_state = _stored_state(session, "mixed")
    outer.rollback()

    result = record_samples(session, rows, source="mixed", chunk=250)
    assert _stored_state(session, "mixed") == single_state
    assert len(result.rows) == len(rows) and len(result.stored) > 500 and len(result.refused) > 100
    seen: dict[uuid.UUID, int] = {}
    for row, (number, field, problem, sample_id, one) in zip(result.rows, singles, strict=True):
        assert row.row == number
        if one is None:
            assert (row.status, row.field) == ("refused", field), number
            assert row.problem == problem, number
        elif sample_id in seen:  # a repeat: already stored for the service, refused as a repeat in a file
            assert (row.status, row.problem) == ("refused", f"repeats the sample of row {seen[sample_id]}")
        else:
            seen[sample_id] = number
            assert (row.status, row.sample_id, row.product_code) == ("stored", sample_id, "test-batch-tea")
            assert repr(row.verdict) == repr(one.verdict) and row.verdict.inputs == one.verdict.inputs, number
    # Running the same rows again stores nothing and says why, row by row, with the stored verdicts.
    again = record_samples(session, rows, source="mixed", chunk=100)
    assert [r.status for r in again.rows] == [
        "already stored" if r.status == "stored" else r.status for r in result.rows
    ]
    for known, stored in zip(again.duplicates, result.stored, strict=True):
        assert known.verdict == stored.verdict
        assert known.verdict.inputs == json.loads(json.dumps(stored.verdict.inputs))


def test_chunk_size_changes_nothing(session: Session, product: GIProduct) -> None:
    rows = _mixed_rows(session, product, 300, seed=5)
    nested = session.begin_nested()
    one = record_samples(session, rows, source="chunks", chunk=10_000)
    one_state = _stored_state(session, "chunks")
    nested.rollback()
    many = record_samples(session, rows, source="chunks", chunk=7)
    # Small chunks leave out of their COPY the columns none of their rows has: the stored rows are the same.
    assert _stored_state(session, "chunks") == one_state and len(one_state[0]) > 150
    assert [(r.row, r.status, r.sample_id, r.field, r.problem, repr(r.verdict)) for r in one.rows] == [
        (r.row, r.status, r.sample_id, r.field, r.problem, repr(r.verdict)) for r in many.rows
    ]


def test_crs_flag_does_not_depend_on_other_samples(session: Session) -> None:
    """A reading's band is the sample's own, in a batch too (it once was the widest band of its area's group)."""
    from geo_data.crs import wgs84_to_gcj02
    from gi.origin.rule import FLAG_CRS, LocationClaim, check_origin, check_origins

    small = GIProduct(
        code="test-batch-small",
        name_zh="测试小区",
        name_pinyin="x",
        name_en="x",
        gi_kind=GIKind.PROTECTED_PRODUCT,
        category=ProductCategory.FARM_PRODUCT,
    )
    session.add(small)
    session.flush()
    add_area_version(
        session,
        small,
        AreaImport(
            geometry=as_multipolygon(box(120.0, 30.0, 120.006, 30.006)),
            legal_basis="test",
            source="test",
            source_crs="WGS84",
            valid_from=datetime(2010, 1, 1, tzinfo=SH),
            admin_units=[],
        ),
    )
    gx, gy = wgs84_to_gcj02(120.003, 30.003)  # the GCJ-02 reading is the centre: about 290 m inside
    when = datetime(2024, 5, 1, 10, tzinfo=SH)
    precise = LocationClaim(
        product_id=small.id,
        x=float(gx),
        y=float(gy),
        collected_at=when,
        gps_accuracy_m=5.0,
        location_source=LocationSource.MAP_PICK,
    )
    coarse_fix = LocationClaim(
        product_id=small.id, x=119.99, y=30.003, collected_at=when, gps_accuracy_m=400.0
    )
    alone = check_origin(session, precise)
    assert FLAG_CRS in alone.flags
    assert check_origins(session, [precise, coarse_fix])[0] == alone


def test_batch_database_errors_surface_and_leave_the_session_usable(
    session: Session,
    product: GIProduct,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gi.origin.store

    monkeypatch.setattr(gi.origin.store, "STORE_STAGED", "SELECT no_such_column FROM gi_intake_stage")
    monkeypatch.setattr(gi.origin.store, "INSERT_NEW_SAMPLES", "SELECT no_such_column FROM gi_intake_stage")
    rows = [(i + 1, _sample(lot_number=f"E{i}", x=120.0 + 0.0001 * i)) for i in range(50)]
    with pytest.raises(Exception, match="no_such_column"):
        record_samples(session, rows, source="errors", chunk=10)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Sample).where(Sample.source == "errors")) == 0


def test_a_chunk_stored_meanwhile_falls_back_to_the_skipping_statement(
    session: Session, product: GIProduct, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows a concurrent run stored after the look-up: the new-rows path (no seal codes) undoes its identities and
    the staged statement skips and reports them; every sample is stored once, with one verdict."""
    import gi.origin.batch
    import gi.origin.store

    rows = [(i + 1, _sample(lot_number=f"M{i}", x=120.0 + 0.0001 * i)) for i in range(40)]
    first = record_samples(session, rows[:15], source="meanwhile")
    assert len(first.stored) == 15
    real = gi.origin.batch.stored_samples
    calls: list[int] = []

    def lookup_misses_them(db: object, ids: list[uuid.UUID]) -> object:
        calls.append(len(ids))
        return {} if len(calls) == 1 else real(db, ids)  # the look-up ran before the other run stored them

    monkeypatch.setattr(gi.origin.batch, "stored_samples", lookup_misses_them)
    staged: list[str] = []
    real_staged = gi.origin.store.STORE_STAGED
    monkeypatch.setattr(gi.origin.store, "STORE_STAGED", real_staged)
    real_new = gi.origin.store._store_new

    def watched(cur: object, n: int) -> bool:
        done = real_new(cur, n)
        staged.append("new" if done else "fallback")
        return done

    monkeypatch.setattr(gi.origin.store, "_store_new", watched)
    result = record_samples(session, rows, source="meanwhile")
    assert staged == ["fallback"]
    assert [r.status for r in result.rows] == ["already stored"] * 15 + ["stored"] * 25
    ids = [r.sample_id for r in result.rows]
    assert _identities(session, ids) == 40
    verdicts = session.scalar(
        text("SELECT count(*) FROM origin_verdict WHERE sample_id = ANY (:ids)"), {"ids": ids}
    )
    assert verdicts == 40
    again = record_samples(session, rows[15:], source="meanwhile")  # looked up as stored: nothing to store
    assert [r.status for r in again.rows] == ["already stored"] * 25


def test_new_rows_path_stores_what_the_staged_statement_stores(
    session: Session, product: GIProduct, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rows through the new-rows path and through the staged statement: the same stored columns."""
    import gi.origin.store

    def stored(lots: str) -> list[tuple[object, ...]]:
        return [
            tuple(r)
            for r in session.execute(
                text(
                    "SELECT s.id, s.product_id, s.producer_id, s.task_id, s.collected_at, s.submitted_x, "
                    "s.submitted_y, s.declared_crs, s.gps_accuracy_m, s.location_source::text, "
                    "ST_AsEWKB(s.location), s.lot_number, s.lot_size, s.seal_code, s.collector_id, s.notes, "
                    "s.labelled_producer, s.sampled_at::text, v.product_id, v.area_id, v.area_version, "
                    "v.verdict::text, v.distance_m, v.band_m, v.flags, v.other_areas::text, v.rule, "
                    "v.inputs::text, v.collected_at, v.producer_id, v.supersedes_id FROM sample s "
                    "JOIN origin_verdict v ON v.sample_id = s.id WHERE s.lot_number LIKE :s ORDER BY s.lot_number"
                ),
                {"s": lots},
            )
        ]

    def rows() -> list[tuple[int, dict[str, object]]]:
        return [
            (i + 1, _sample(lot_number=f"P{i}", x=120.0 + 0.001 * i, y=30.05 + 0.0001 * i)) for i in range(60)
        ]

    paths: list[bool] = []
    real_new = gi.origin.store._store_new

    def watched(cur: object, n: int) -> bool:
        paths.append(real_new(cur, n))
        return paths[-1]

    monkeypatch.setattr(gi.origin.store, "_store_new", watched)
    nested = session.begin_nested()
    record_samples(session, rows(), source="paths")
    new = stored("P%")
    assert paths == [True]
    nested.rollback()
    monkeypatch.setattr(gi.origin.store, "_store_new", lambda cur, n: False)
    record_samples(session, rows(), source="paths")
    old = stored("P%")
    assert len(new) == 60 and new == old


_DIRECT_INSERT = text(
    "INSERT INTO sample (id, product_id, collected_at, submitted_x, submitted_y, declared_crs, location_source, "
    "location) VALUES (:id, :product, '2024-05-04 12:00+08', 120.05, 30.05, 'EPSG:4326', 'device_gps', "
    "ST_SetSRID(ST_MakePoint(120.05, 30.05), 4326))"
)


def _identities(session: Session, ids: list[uuid.UUID]) -> int:
    return session.scalar(text("SELECT count(*) FROM sample_identity WHERE id = ANY (:ids)"), {"ids": ids})


def test_every_writer_but_the_batch_statement_gets_the_identity_trigger(
    session: Session, product: GIProduct
) -> None:
    """The batch skips the identity trigger only for its own statement: a direct INSERT before and after a batch
    in the same transaction still gets its identity, and a sample without one is refused even with the skip on."""
    before, after = uuid.uuid4(), uuid.uuid4()
    session.execute(_DIRECT_INSERT, {"id": before, "product": product.id})
    result = record_samples(session, [(1, _sample(lot_number="T1")), (2, _sample(lot_number="T2"))])
    assert [r.status for r in result.rows] == ["stored", "stored"]
    assert session.scalar(text("SELECT current_setting('gi.sample_identity_written', true)")) in ("", None)
    session.execute(_DIRECT_INSERT, {"id": after, "product": product.id})
    ids = [before, after, *(r.sample_id for r in result.stored)]
    assert _identities(session, ids) == 4
    nested = session.begin_nested()
    session.execute(text("SELECT set_config('gi.sample_identity_written', 'on', true)"))
    with pytest.raises(Exception, match="fk_sample_id_sample_identity"):
        session.execute(_DIRECT_INSERT, {"id": uuid.uuid4(), "product": product.id})
    nested.rollback()
    assert session.scalar(text("SELECT current_setting('gi.sample_identity_written', true)")) in ("", None)


def test_the_batch_statements_run_without_jit_and_give_the_setting_back(
    session: Session, product: GIProduct
) -> None:
    """The move and the UUID look-up turn JIT off for themselves even on a connection that has it on (compiling
    them cost more than running them), and the caller's setting is what it was afterwards."""
    from gi.db import psycopg_connection
    from gi.origin.store import _jit_back, _jit_off

    session.execute(text("SET LOCAL jit = on"))
    with psycopg_connection(session.connection()).cursor() as cur:
        before = _jit_off(cur)
        assert (before, cur.execute("SELECT current_setting('jit')").fetchone()[0]) == ("on", "off")
        _jit_back(cur, before)
    assert session.scalar(text("SELECT current_setting('jit')")) == "on"
    result = record_samples(session, [(1, _sample(lot_number="J1")), (2, _sample(lot_number="J2"))])
    assert [r.status for r in result.rows] == ["stored", "stored"]
    assert session.scalar(text("SELECT current_setting('jit')")) == "on"
    again = record_samples(session, [(1, _sample(lot_number="J1"))])  # the look-up finds it
    assert [r.status for r in again.rows] == ["already stored"]
    assert session.scalar(text("SELECT current_setting('jit')")) == "on"


def test_an_identity_without_its_sample_is_not_reported_stored(session: Session, product: GIProduct) -> None:
    """A UUID whose identity is stored without its sample row (an archived month, a removed row) stores nothing,
    and says so, in a batch and alone."""
    orphan = uuid.uuid4()
    session.execute(
        text("INSERT INTO sample_identity (id, collected_at) VALUES (:id, '2024-04-02 09:30+08')"),
        {"id": orphan},
    )
    result = record_samples(session, [(1, _sample(id=str(orphan))), (2, _sample(lot_number="O2"))])
    assert [(r.status, r.field) for r in result.rows] == [("conflict", "id"), ("stored", None)]
    assert "identity stored but no sample row" in (result.rows[0].problem or "")
    with pytest.raises(ConflictError) as err:
        record_sample(session, _sample(id=str(orphan)))
    assert err.value.field == "id" and "nothing was stored" in str(err.value)
    assert session.scalar(select(func.count()).select_from(Sample).where(Sample.id == orphan)) == 0


def test_verdict_json_is_exact_json(session: Session, product: GIProduct) -> None:
    """The verdict records are JSON that reads back as the verdict's own inputs (NaN, which JSON lacks, as null)."""
    from gi.origin.store import verdict_json

    rows = _mixed_rows(session, product, 400, seed=8)
    result = record_samples(session, rows, source="json")
    inputs = [r.verdict.inputs for r in result.stored]
    assert any("notes" in i for i in inputs) and any(i["area"] is None for i in inputs)
    stored = dict(
        session.execute(
            text("SELECT sample_id, inputs FROM origin_verdict WHERE sample_id = ANY(:ids)"),
            {"ids": [r.sample_id for r in result.stored]},
        ).all()
    )
    for r in result.stored:
        assert stored[r.sample_id] == json.loads(json.dumps(r.verdict.inputs))
    assert json.loads(verdict_json({"a": float("nan"), "b": '\\\t"', "c": [1, 2.5]})) == {
        "a": None,
        "b": '\\\t"',
        "c": [1, 2.5],
    }


def test_points_are_written_as_shapely_writes_them() -> None:
    from gi.origin.store import hex_ewkb_points

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-180, 180, 2000), rng.uniform(-90, 90, 2000)
    lon[:6], lat[:6] = [-0.0, 0.0, 5e-324, 180.0, 1e300, np.inf], [0.0, -0.0, -5e-324, -90.0, 3.0, 1.0]
    for a, b in ((lon[5:], lat[5:]), (lon[:5], lat[:5]), (lon, lat)):
        expected = shapely.to_wkb(shapely.set_srid(shapely.points(a, b), 4326), hex=True, include_srid=True)
        assert hex_ewkb_points(a, b) == expected.tolist()


def test_seen_samples_find_first_rows_even_when_uuids_share_their_first_half() -> None:
    """A file's repeats are found across chunks in compact sorted arrays, by the whole UUID."""
    from gi.origin.batch import SeenSamples

    seen = SeenSamples()
    a, b, c = (uuid.UUID(int=(5 << 64) | 7), uuid.UUID(int=(5 << 64) | 9), uuid.UUID(int=3 << 64))
    assert seen.first_rows([a]).tolist() == [-1]
    seen.add({a: 10})
    assert seen.first_rows([a, b, c]).tolist() == [10, -1, -1]
    seen.add({b: 20, c: 30})
    assert seen.first_rows([c, b, a, uuid.UUID(int=(5 << 64) | 8)]).tolist() == [30, 20, 10, -1]
    assert len(seen) == 3


def test_seen_samples_answer_like_a_dict_over_many_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk after chunk, the runs (merged up to their limit) answer every UUID's first row as a dict would."""
    import random

    from gi.origin.batch import SeenSamples

    monkeypatch.setattr(SeenSamples, "MERGE_LIMIT", 5000)
    seen, expected, rng, row = SeenSamples(), {}, random.Random(1), 0
    for _ in range(60):
        # Some UUIDs share their first 8 bytes with others (few distinct halves), the rest are random.
        ids = [
            uuid.UUID(
                int=rng.getrandbits(128)
                if rng.random() < 0.9
                else (rng.getrandbits(3) << 64) | rng.getrandbits(6)
            )
            for _ in range(rng.randint(1, 700))
        ]
        probe = ids + rng.sample(sorted(expected), min(50, len(expected)))
        assert seen.first_rows(probe).tolist() == [expected.get(i, -1) for i in probe]
        firsts: dict[uuid.UUID, int] = {}
        for i in ids:
            if i not in expected and i not in firsts:
                row += 1
                firsts[i] = row
        seen.add(firsts)
        expected.update(firsts)
        assert len(seen) == len(expected)
    sizes = [len(run[2]) for run in seen.runs]
    assert 1 < len(sizes) < 20 and max(sizes) <= 5000 and sum(sizes) == len(expected) > 15_000


def test_samples_recorded_together_equal_single_samples(session: Session, product: GIProduct) -> None:
    """record_samples_together stores, column for column, what record_sample stores for each sample alone, and
    answers a sample stored before as record_sample does; any one's problem raises and stores none of them."""
    rows = [
        _sample(
            id=str(uuid.uuid4()), x=120.05 + k * 0.013, y=30.02 + k * 0.011, lot_number=f"G{k}", source="grp"
        )
        for k in range(6)
    ]
    rows[2] = {**rows[2], "crs": "GCJ02"}
    rows[4] = {**rows[4], "x": 120.2, "y": 30.2, "gps_accuracy_m": 30}  # outside the area, poor accuracy
    outer = session.begin_nested()
    singles = [record_sample(session, row) for row in rows]
    single_state = _stored_state(session, "grp")
    outer.rollback()

    together = record_samples_together(session, rows)
    assert _stored_state(session, "grp") == single_state
    assert [r.sample_id for r in together] == [r.sample_id for r in singles] and all(
        r.created for r in together
    )
    for one, grouped in zip(singles, together, strict=True):
        assert repr(grouped.verdict) == repr(one.verdict) and grouped.content == one.content
    # Again, with a new sample beside them: the stored ones are answered as stored, the new one stored.
    fresh = _sample(id=str(uuid.uuid4()), lot_number="G-new", source="grp")
    again = record_samples_together(session, [*rows[:2], fresh])
    assert [r.created for r in again] == [False, False, True]
    assert again[0].verdict == together[0].verdict
    count = session.scalar(select(func.count()).select_from(Sample).where(Sample.source == "grp"))
    # Any problem raises and stores nothing of the group: a conflict, a bad field, the same UUID twice.
    for group, error in (
        ([_sample(id=str(uuid.uuid4()), source="grp"), {**rows[0], "lot_number": "changed"}], ConflictError),
        ([_sample(id=str(uuid.uuid4()), source="grp"), _sample(product="no-such-product")], InputError),
        ([fresh, fresh], ConflictError),
    ):
        attempt = session.begin_nested()
        with pytest.raises(error):
            record_samples_together(session, group)
        attempt.rollback()
    assert session.scalar(select(func.count()).select_from(Sample).where(Sample.source == "grp")) == count


def test_the_uuid_look_up_probes_key_indexes_and_gives_the_settings_back(
    session: Session, product: GIProduct
) -> None:
    """The look-up of stored UUIDs finds each by index probes (identity, then its sample in one partition), never
    by scanning or hashing whole tables, even where the caller's settings would let a cached generic plan do
    so; and the caller's settings are what they were afterwards."""
    from gi.db import psycopg_connection
    from gi.origin.store import _STORED_SQL, run_lookup, stored_samples

    result = record_samples(session, [(1, _sample(lot_number="L1")), (2, _sample(lot_number="L2"))])
    ids = [r.sample_id for r in result.stored]
    assert len(ids) == 2
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    session.execute(text("SET LOCAL enable_seqscan = on"))
    session.execute(text("SET LOCAL enable_hashjoin = on"))
    session.execute(text("SET LOCAL enable_bitmapscan = on"))
    raw = psycopg_connection(session.connection())
    plan = "\n".join(
        row["QUERY PLAN"] for row in run_lookup(raw, "EXPLAIN " + _STORED_SQL, {"ids": [*ids, uuid.uuid4()]})
    )
    assert "Index" in plan and "sample_identity i" in plan, plan
    for shape in ("Seq Scan", "Hash", "Merge", "Materialize", "Join Filter", "Bitmap"):
        assert shape not in plan, plan
    settings = session.execute(
        text(
            "SELECT current_setting('plan_cache_mode'), current_setting('enable_seqscan'), "
            "current_setting('enable_hashjoin')"
        )
    ).one()
    assert tuple(settings) == ("force_generic_plan", "on", "on")
    for _ in range(7):  # past psycopg's prepare threshold: the same answer each time
        found = stored_samples(session, [*ids, uuid.uuid4()])
        assert sorted(found) == sorted(ids)
        assert {s.columns["lot_number"] for s in found.values()} == {"L1", "L2"}
    assert session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "force_generic_plan"


def test_a_verdict_is_superseded_once_and_only_superseding_verdicts_are_in_that_key(
    session: Session, product: GIProduct
) -> None:
    """The "superseded once" key still refuses a second verdict superseding the same one, and indexes only the
    verdicts that supersede one: an index of every verdict's (NULL, moment) was tiny enough for the planner to scan
    it for a moment alone, reading every verdict of that moment per look-up (a re-run of 100,000 rows sharing one
    moment took 86-93 s instead of 8 s; migration 0027_supersedes)."""
    from sqlalchemy.exc import IntegrityError

    result = record_samples(session, [(1, _sample(lot_number="S1")), (2, _sample(lot_number="S2"))])
    first = session.scalar(
        select(OriginVerdictRecord.id).where(OriginVerdictRecord.sample_id == result.stored[0].sample_id)
    )
    supersede = text(
        "INSERT INTO origin_verdict (sample_id, collected_at, product_id, area_id, area_version, verdict, "
        "distance_m, band_m, flags, other_areas, rule, inputs, supersedes_id) SELECT sample_id, collected_at, "
        "product_id, area_id, area_version, verdict, distance_m, band_m, flags, other_areas, rule, inputs, id "
        "FROM origin_verdict WHERE id = :id"
    )
    session.execute(supersede, {"id": first})
    nested = session.begin_nested()
    with pytest.raises(IntegrityError, match="supersedes_id_collected_at"):
        session.execute(supersede, {"id": first})
    nested.rollback()
    predicates = session.execute(
        text(
            "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname LIKE 'origin_verdict%' AND i.indisunique AND i.indnatts = 2 "
            "AND (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) = '{supersedes_id,collected_at}'"
        )
    ).all()
    assert len(predicates) >= 2, predicates  # the parent's index and each partition's
    assert all(pred == "(supersedes_id IS NOT NULL)" for _, pred in predicates), predicates
