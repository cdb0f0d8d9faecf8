"""Sample intake and batches: field validation, idempotency, files in every format, result files, the CLI."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo_data.crs import from_wgs84
from geo_data.io import as_multipolygon
from gi.errors import InputError
from gi.models import GIKind, GIProduct, OriginVerdictRecord, Producer, ProductCategory, Sample
from gi.origin.intake import check_sample_file, record_sample, record_samples
from gi.register.areas import AreaImport, add_area_version

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def product(session: Session) -> GIProduct:
    """A product with a 10 x 11 km square area near Hangzhou."""
    p = GIProduct(
        code="test-batch-tea",
        name_zh="测试批量茶",
        name_pinyin="Cèshì",
        name_en="Batch Tea",
        gi_kind=GIKind.PROTECTED_PRODUCT,
        category=ProductCategory.FARM_PRODUCT,
    )
    session.add(p)
    session.flush()
    add_area_version(
        session,
        p,
        AreaImport(
            geometry=as_multipolygon(box(120.0, 30.0, 120.1, 30.1)),
            legal_basis="test",
            source="test",
            source_crs="WGS84",
            valid_from=datetime(2010, 1, 1, tzinfo=SH),
            admin_units=[],
        ),
    )
    return p


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


@pytest.mark.postgis
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


@pytest.mark.postgis
def test_same_uuid_is_idempotent_and_a_conflicting_one_refused(session: Session, product: GIProduct) -> None:
    sample_id = str(uuid.uuid4())
    assert record_sample(session, _sample(id=sample_id)).created
    again = record_sample(session, _sample(id=sample_id))
    assert not again.created
    assert (
        session.scalar(select(func.count()).select_from(Sample).where(Sample.id == uuid.UUID(sample_id))) == 1
    )
    with pytest.raises(InputError) as err:
        record_sample(session, _sample(id=sample_id, x=120.06))
    assert err.value.field == "id"


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
@pytest.mark.postgis
def test_each_field_is_validated(session: Session, product: GIProduct, change: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        record_sample(session, _sample(**change))
    assert err.value.field == field


@pytest.mark.postgis
def test_swapped_coordinates_are_kept_and_flagged(session: Session, product: GIProduct) -> None:
    recorded = record_sample(session, _sample(x=30.05456, y=120.05123))
    assert recorded.verdict.verdict.value == "outside" and "swapped_lat_lon" in recorded.verdict.flags


def _write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.postgis
def test_csv_batch_reports_bad_rows_and_is_idempotent(
    session: Session, product: GIProduct, tmp_path: Path
) -> None:
    gx, gy = from_wgs84(np.array([120.03]), np.array([30.04]), "GCJ02")
    rows = [
        {
            "product": "test-batch-tea",
            "collected_at": "2024-04-02 09:30",
            "lon": "120.05123",
            "lat": "30.05456",
            "accuracy": "4",
        },
        {
            "product": "test-batch-tea",
            "collected_at": "2024-04-02 10:30",
            "lon": f"{gx[0]:.7f}",
            "lat": f"{gy[0]:.7f}",
            "accuracy": "6",
            "crs": "GCJ02",
        },
        {
            "product": "test-batch-tea",
            "collected_at": "2024-04-02 11:30",
            "lon": "120.05123",
            "lat": "",
            "accuracy": "4",
        },
        {"product": "nope", "collected_at": "2024-04-02 11:30", "lon": "120.05", "lat": "30.05"},
        {"product": "test-batch-tea", "collected_at": "not a date", "lon": "120.05", "lat": "30.05"},
        {
            "product": "test-batch-tea",
            "collected_at": "2024-04-03 08:00",
            "lon": "119.5012",
            "lat": "30.0512",
            "accuracy": "0",
        },
    ]
    path = _write_csv(tmp_path / "samples.csv", rows)
    out = tmp_path / "result.csv"
    result, written = check_sample_file(session, path, out=out)
    assert [r.status for r in result.rows] == ["stored", "stored", "refused", "refused", "refused", "stored"]
    assert [r.row for r in result.refused] == [4, 5, 6]  # CSV line numbers: the header is line 1
    assert [r.field for r in result.refused] == ["y", "product", "collected_at"]
    verdicts = [r.verdict.verdict.value for r in result.stored]
    assert verdicts == ["inside", "inside", "outside"]
    assert "accuracy_zero" in result.stored[2].verdict.flags
    assert result.stored[1].verdict.lon == pytest.approx(120.03, abs=1e-7)
    lines = list(csv.DictReader(written.open(encoding="utf-8-sig")))
    assert len(lines) == 6 and lines[2]["status"] == "refused" and lines[2]["field"] == "y"
    again, _ = check_sample_file(session, path)
    assert [r.status for r in again.rows] == ["already stored"] * 2 + ["refused"] * 3 + ["already stored"]
    count = session.scalar(select(func.count()).select_from(Sample).where(Sample.product_id == product.id))
    assert count == 3
    # Stored points are bit for bit the checked ones.
    for r in result.stored:
        x, y = session.execute(
            text("SELECT ST_X(location), ST_Y(location) FROM sample WHERE id = :i"), {"i": r.sample_id}
        ).one()
        assert (x, y) == (r.verdict.lon, r.verdict.lat)
    assert (
        session.scalar(
            select(func.count())
            .select_from(OriginVerdictRecord)
            .where(OriginVerdictRecord.product_id == product.id)
        )
        == 3
    )


@pytest.mark.postgis
@pytest.mark.parametrize("suffix", ["geojson", "gpkg"])
def test_vector_files_with_file_and_row_crs(
    session: Session, product: GIProduct, tmp_path: Path, suffix: str
) -> None:
    wgs = [(120.0212, 30.0313), (120.0815, 30.0716), (120.0517, 30.0918)]
    gx, gy = from_wgs84(np.array([p[0] for p in wgs]), np.array([p[1] for p in wgs]), "GCJ02")
    bx, by = from_wgs84(np.array([wgs[2][0]]), np.array([wgs[2][1]]), "BD09")
    frame = gpd.GeoDataFrame(
        {
            "product": ["test-batch-tea"] * 4,
            "collected_at": ["2024-05-01T08:00:00+08:00"] * 4,
            "gps_accuracy_m": [5.0, 5.0, 5.0, 5.0],
            "crs": [None, None, "BD09", None],
            "lot": ["L1", "L2", "L3", "L4"],
        },
        geometry=[
            Point(gx[0], gy[0]),
            Point(gx[1], gy[1]),
            Point(bx[0], by[0]),
            shapely.LineString([(120, 30), (120.1, 30.1)]),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / f"samples.{suffix}"
    frame.to_file(path)
    result, _ = check_sample_file(session, path, crs="GCJ02")
    assert [r.status for r in result.rows] == ["stored", "stored", "stored", "refused"]
    assert result.rows[3].field == "geometry"
    for r, (x, y) in zip(result.stored, wgs, strict=True):
        assert (r.verdict.lon, r.verdict.lat) == pytest.approx((x, y), abs=1e-8)
        assert r.verdict.verdict.value == "inside"


@pytest.mark.postgis
def test_cli_check_file_and_producers(use_test_db: str, loaded_register: None, tmp_path: Path) -> None:
    from api.cli import app
    from gi.db import session_scope

    with session_scope() as s:
        xihu = s.scalars(select(GIProduct).where(GIProduct.code == "xihu-longjing")).one()
        geom = shapely.from_wkb(
            s.execute(
                text(
                    "SELECT ST_AsBinary(geom) FROM production_area WHERE product_id = :p AND valid_to IS NULL"
                ),
                {"p": xihu.id},
            ).scalar_one()
        )
        inner = geom.buffer(-0.01).representative_point()
        credit = f"91330106{uuid.uuid4().hex[:9].upper()}X"[:18]
        s.add(
            Producer(
                product_id=xihu.id,
                name="测试茶厂",
                credit_code=credit,
                kind="producer",
                location=f"SRID=4326;POINT({inner.x} {inner.y})",
                synthetic=True,
            )
        )
        s.add(
            Producer(
                product_id=xihu.id,
                name="测试外地茶厂",
                credit_code=credit[:-1] + "Y",
                kind="producer",
                location="SRID=4326;POINT(118.8 32.05)",
                synthetic=True,
            )
        )
    rows = [
        {
            "product": "西湖龙井",
            "collected_at": "2024-03-28 09:00",
            "lon": f"{inner.x:.6f}",
            "lat": f"{inner.y:.6f}",
            "accuracy": "5",
            "id": str(uuid.uuid4()),
        },
        {"product": "西湖龙井", "collected_at": "2024-03-28 09:00", "lon": "abc", "lat": "30.2"},
    ]
    path = _write_csv(tmp_path / "spring.csv", rows)
    out = tmp_path / "spring.result.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["check", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 stored" in result.output and "1 refused" in result.output and out.exists()
    result = runner.invoke(app, ["check", "producers", "--product", "xihu-longjing"])
    assert result.exit_code == 0, result.output
    assert "测试外地茶厂" in result.output and "outside" in result.output
    with session_scope() as s:
        stored = s.scalar(
            select(func.count())
            .select_from(OriginVerdictRecord)
            .where(OriginVerdictRecord.producer_id.is_not(None))
        )
        assert stored >= 2


@pytest.mark.postgis
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


@pytest.mark.postgis
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
        rows.append((i + 1, d))
    rows += [(n + 1 + j, dict(rows[j][1])) for j in range(0, n, 37)]  # repeats of earlier rows
    return rows


@pytest.mark.postgis
def test_batch_rows_equal_single_samples(session: Session, product: GIProduct) -> None:
    """Column-wise validation, chunked checks and COPY give every row what record_sample's path gives it."""
    from gi.origin.intake import _Resolver, parse_sample, prepare_sample
    from gi.origin.rule import check_origin

    rows = _mixed_rows(session, product, 900, seed=21)
    result = record_samples(session, rows, source="mixed", chunk=250)
    assert len(result.rows) == len(rows) and len(result.stored) > 500 and len(result.refused) > 100
    resolver = _Resolver(session)
    first: dict[uuid.UUID, int] = {}
    for (number, data), row in zip(rows, result.rows, strict=True):
        assert row.row == number
        try:
            p = prepare_sample(resolver, parse_sample({**data, "source": data.get("source") or "mixed"}))
        except InputError as exc:
            assert (row.status, row.field, row.problem) == ("refused", exc.field, exc.problem), number
            continue
        if p.id in first:
            repeat = f"repeats the sample of row {first[p.id]}"
            assert (row.status, row.field, row.problem) == ("refused", "id", repeat), number
            continue
        first[p.id] = number
        assert (row.status, row.sample_id, row.product_code) == ("stored", p.id, "test-batch-tea"), number
        single = check_origin(session, p.claim)
        assert row.verdict == single and row.verdict.inputs == single.inputs, number
        assert repr(row.verdict) == repr(single)  # the same types too (5 is not 5.0 in a JSON record)
    # What was stored is what record_sample stores.
    stored = {r.sample_id: r for r in result.stored}
    for s in session.scalars(select(Sample).where(Sample.source == "mixed")):
        v = stored[s.id].verdict
        assert (s.submitted_x, s.submitted_y) == (v.inputs["submitted"]["x"], v.inputs["submitted"]["y"])
        assert s.declared_crs == v.inputs["submitted"]["crs"]
        assert s.collected_at == datetime.fromisoformat(v.inputs["collected_at"])
    for record in session.scalars(
        select(OriginVerdictRecord).where(OriginVerdictRecord.sample_id.in_(stored))
    ):
        v = stored[record.sample_id].verdict
        expected = v.record_fields()
        assert {k: getattr(record, k) for k in expected if k not in ("inputs", "other_areas")} == {
            k: val for k, val in expected.items() if k not in ("inputs", "other_areas")
        }
        assert record.inputs == json.loads(json.dumps(v.inputs)) and record.other_areas == list(v.other_areas)
    # Running the same rows again stores nothing and says why, row by row.
    again = record_samples(session, rows, source="mixed", chunk=100)
    assert [r.status for r in again.rows] == [
        "already stored" if r.status == "stored" else r.status for r in result.rows
    ]


@pytest.mark.postgis
def test_chunk_size_changes_nothing(session: Session, product: GIProduct) -> None:
    rows = _mixed_rows(session, product, 300, seed=5)
    nested = session.begin_nested()
    one = record_samples(session, rows, source="chunks", chunk=10_000)
    nested.rollback()
    many = record_samples(session, rows, source="chunks", chunk=7)
    assert [(r.row, r.status, r.sample_id, r.field, r.problem, repr(r.verdict)) for r in one.rows] == [
        (r.row, r.status, r.sample_id, r.field, r.problem, repr(r.verdict)) for r in many.rows
    ]


@pytest.mark.postgis
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
        product_id=small.id, x=float(gx), y=float(gy), collected_at=when, gps_accuracy_m=5.0
    )
    coarse_fix = LocationClaim(
        product_id=small.id, x=119.99, y=30.003, collected_at=when, gps_accuracy_m=400.0
    )
    alone = check_origin(session, precise)
    assert FLAG_CRS in alone.flags
    assert check_origins(session, [precise, coarse_fix])[0] == alone


@pytest.mark.postgis
def test_batch_database_errors_surface_and_leave_the_session_usable(
    session: Session,
    product: GIProduct,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gi.origin.intake

    monkeypatch.setattr(gi.origin.intake, "_VERDICT_COPY", "COPY origin_verdict (no_such_column) FROM STDIN")
    rows = [(i + 1, _sample(lot_number=f"E{i}", x=120.0 + 0.0001 * i)) for i in range(50)]
    with pytest.raises(Exception, match="no_such_column"):
        record_samples(session, rows, source="errors", chunk=10)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Sample).where(Sample.source == "errors")) == 0


@pytest.mark.postgis
def test_verdict_json_is_written_as_the_encoder_writes_it(session: Session, product: GIProduct) -> None:
    from gi.origin.intake import _inputs_json, _json

    rows = _mixed_rows(session, product, 400, seed=8)
    result = record_samples(session, rows, source="json")
    inputs = [r.verdict.inputs for r in result.stored]
    assert any("notes" in i for i in inputs) and any(i["area"] is None for i in inputs)
    odd = [
        {**inputs[0], "gps_accuracy_m": float("nan")},
        {**inputs[0], "submitted": {"x": 1}},
        {**inputs[0], "extra": [1, {"a": "\\\t"}]},
        {**inputs[0], "trusted_fix": np.True_},
    ]
    for value in inputs + odd:
        assert _inputs_json(value) == _json(value)


def test_points_are_written_as_shapely_writes_them() -> None:
    from gi.origin.intake import _hex_ewkb_points

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-180, 180, 2000), rng.uniform(-90, 90, 2000)
    lon[:6], lat[:6] = [-0.0, 0.0, 5e-324, 180.0, 1e300, np.inf], [0.0, -0.0, -5e-324, -90.0, 3.0, 1.0]
    for a, b in ((lon[5:], lat[5:]), (lon[:5], lat[:5]), (lon, lat)):
        expected = shapely.to_wkb(shapely.set_srid(shapely.points(a, b), 4326), hex=True, include_srid=True)
        assert _hex_ewkb_points(a, b) == expected.tolist()
