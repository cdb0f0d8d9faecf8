"""Directories from office files: credit codes by their GB 32100 check character, all-or-nothing imports with
row-numbered problems, upserts with changes reported, county from the code, and producers origin-checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import gi
from geoalchemy2.shape import to_shape
from market_fixtures import (
    ALIBABA,
    LONGJING_VILLAGE,
    SHANGHAI,
    XIAOMI,
    bad_check,
    code,
    write_csv,
    write_xlsx,
)
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gi.db import get_engine, session_scope
from gi.errors import ErrorKind, InputError, classify
from gi.market.credit_code import county_from_uscc, is_valid_uscc, parse_uscc, uscc_check
from gi.market.directories import import_inspectors, import_outlets, import_producers
from gi.market.rows import RowsError
from gi.models import Inspector, OriginVerdictRecord, OutletSupplier, Producer

pytestmark = pytest.mark.postgis

ZH_PRODUCERS = [
    "统一社会信用代码",
    "名称",
    "地理标志产品",
    "地址",
    "经度",
    "纬度",
    "坐标系",
    "核准编号",
    "核准日期",
]


# ------------------------------------------------------------------------------------------------ credit codes


def test_credit_code_check_character_of_real_codes() -> None:
    for valid in (ALIBABA, XIAOMI, "91440300708461136T", "914403001922038216"):
        assert is_valid_uscc(valid)
        assert uscc_check(valid[:17]) == valid[17]
        assert not is_valid_uscc(bad_check(valid))
    with pytest.raises(InputError, match=r"check character is 'R', GB 32100-2015 gives 'Q'"):
        parse_uscc("91110108551385082R")


def test_credit_code_structure_and_county() -> None:
    cc = parse_uscc(" 9111 0108 5513 8508 2q ")  # spaces and lower case as typed
    assert cc.code == XIAOMI and cc.registrar == "工商" and cc.entity_kind == "企业"
    assert cc.county == "110108" and cc.org_code_valid
    assert county_from_uscc(ALIBABA) is None  # registered at 杭州市 (330100): no county
    cooperative = parse_uscc(code("230184", 7, kind="3"))
    assert cooperative.entity_kind == "农民专业合作社" and cooperative.county == "230184"
    for text, problem in [
        ("9111010855138508", "has 16 characters"),
        ("91110108551385O82Q", "not a character of GB 32100"),
        ("B1110108551385082Q", "not a registration department code"),
        ("94110108551385082Q", "not a kind of entity registered by 工商"),
    ]:
        with pytest.raises(InputError, match=problem):
            parse_uscc(text)


# ------------------------------------------------------------------------------------------------ producers


def test_producers_import_validates_upserts_and_checks_origin(
    session: Session, loaded_register: None, tmp_path: Path
) -> None:
    inside, outside = code("330106", 1), code("330106", 2)
    path = write_csv(
        tmp_path / "生产者名录.csv",
        ZH_PRODUCERS,
        [
            [
                inside,
                "龙井茶叶专业合作社（测试）",
                "西湖龙井",
                "西湖区龙井村",
                *LONGJING_VILLAGE,
                "WGS84",
                "XH-001",
                "2024-03-01",
            ],
            [
                outside,
                "上海茶叶公司（测试）",
                "xihu-longjing",
                "上海市",
                *SHANGHAI,
                "",
                "XH-002",
                "2024年3月1日",
            ],
            [ALIBABA, "市级登记企业（测试）", "西湖龙井", "", "", "", "", "", ""],
        ],
    )
    report = import_producers(session, path)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    stored = {p.credit_code: p for p in session.scalars(select(Producer).where(Producer.source == path.name))}
    assert stored[inside].county_code == "330106"  # from characters 3-8 of the code
    assert stored[ALIBABA].county_code is None and report.notes  # registered at prefecture level: no county
    assert stored[inside].authorized_from.isoformat() == "2024-03-01"
    verdicts = {
        v.producer_id: v.verdict.value
        for v in session.scalars(
            select(OriginVerdictRecord).where(
                OriginVerdictRecord.producer_id.in_([p.id for p in stored.values()])
            )
        )
    }
    assert verdicts == {stored[inside].id: "inside", stored[outside].id: "outside"}
    assert report.details["origin"] == {"inside": 1, "outside": 1}
    assert [o["credit_code"] for o in report.details["not_inside"]] == [outside]

    # The same file again: nothing changes and nothing is re-checked.
    again = import_producers(session, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    # A moved producer and a new name: reported field by field, the new location checked again.
    moved = write_xlsx(
        tmp_path / "moved.xlsx",
        ["credit_code", "name", "product", "lon", "lat"],
        [[outside, "上海茶叶公司（已迁入）", "西湖龙井", *LONGJING_VILLAGE]],
    )
    changed = import_producers(session, moved)
    assert changed.updated == 1
    fields = changed.changes[0].fields
    assert fields["name"] == ("上海茶叶公司（测试）", "上海茶叶公司（已迁入）")
    assert fields["location"][1] == f"{LONGJING_VILLAGE[0]:.6f}, {LONGJING_VILLAGE[1]:.6f}"
    assert changed.details["origin"] == {"inside": 1}
    point = to_shape(session.get(Producer, stored[outside].id).location)  # type: ignore[union-attr,arg-type]
    assert (round(point.x, 4), round(point.y, 4)) == LONGJING_VILLAGE


def test_producers_import_is_all_or_nothing_with_row_numbers(
    session: Session, loaded_register: None, tmp_path: Path
) -> None:
    good = code("330106", 11)
    path = write_csv(
        tmp_path / "bad.csv",
        ["credit_code", "name", "product", "x", "y", "crs", "authorized_from", "authorized_to"],
        [
            [good, "好行（测试）", "西湖龙井", *LONGJING_VILLAGE, "", "", ""],
            [bad_check(code("330106", 12)), "校验码错（测试）", "西湖龙井", "", "", "", "", ""],
            [code("330106", 13), "无此产品（测试）", "西湖红茶", "", "", "", "", ""],
            [code("330106", 14), "坐标系（测试）", "西湖龙井", "120.1", "30.2", "EPSG:99999", "", ""],
            [code("330106", 15), "日期（测试）", "西湖龙井", "", "", "", "2025-05-01", "2024-05-01"],
            [good, "重复（测试）", "西湖龙井", "", "", "", "", ""],
        ],
    )
    before = session.scalar(select(func.count()).select_from(Producer))
    with pytest.raises(RowsError) as caught:
        import_producers(session, path)
    assert session.scalar(select(func.count()).select_from(Producer)) == before
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "credit_code"), (4, "product"), (5, "crs"), (6, "authorized_to"), (7, "row")}
    message = str(caught.value)
    assert message.startswith("bad.csv: 5 problem(s) — row 3, credit_code:") and "GB 32100-2015" in message
    assert classify(caught.value).kind is ErrorKind.BAD_INPUT
    with pytest.raises(InputError, match="missing column"):
        import_producers(session, write_csv(tmp_path / "h.csv", ["名称", "产品"], [["a", "b"]]))


# ------------------------------------------------------------------------------------------------ outlets, inspectors


def test_outlets_import_with_suppliers(session: Session, loaded_register: None, tmp_path: Path) -> None:
    supplier_a, supplier_b = code("330106", 21), code("330106", 22)
    outlet = code("310101", 23)
    path = write_csv(
        tmp_path / "outlets.csv",
        ["统一社会信用代码", "名称", "产品", "供货方信用代码", "纬度", "经度", "坐标系"],
        [
            [
                outlet,
                "茶叶店（测试）",
                "西湖龙井；五常大米",
                f"{supplier_a}、{supplier_b}",
                31.2304,
                121.4737,
                "GCJ02",
            ]
        ],
    )
    report = import_outlets(session, path)
    assert report.created == 2
    rows = session.scalars(select(Producer).where(Producer.credit_code == outlet)).all()
    assert {r.kind for r in rows} == {"market_outlet"} and len(rows) == 2
    assert rows[0].county_code == "310101"
    suppliers = set(
        session.scalars(
            select(OutletSupplier.supplier_credit_code).where(OutletSupplier.outlet_id == rows[0].id)
        )
    )
    assert suppliers == {supplier_a, supplier_b}
    point = to_shape(rows[0].location)  # type: ignore[arg-type]
    assert abs(point.x - 121.4737) > 1e-4  # GCJ-02 converted to WGS84 before storage
    changed = import_outlets(
        session,
        write_csv(
            tmp_path / "o2.csv",
            ["credit_code", "name", "product", "suppliers"],
            [[outlet, "茶叶店（测试）", "西湖龙井", supplier_a]],
        ),
    )
    assert changed.updated == 1 and changed.changes[0].fields["suppliers"][1] == supplier_a
    # A producer's credit code cannot be imported as an outlet of the same product.
    producer = code("330106", 24)
    import_producers(
        session,
        write_csv(
            tmp_path / "p.csv", ["credit_code", "name", "product"], [[producer, "茶农（测试）", "西湖龙井"]]
        ),
    )
    with pytest.raises(RowsError, match="registered as a producer"):
        import_outlets(
            session,
            write_csv(tmp_path / "o3.csv", ["credit_code", "name", "product"], [[producer, "x", "西湖龙井"]]),
        )


def test_inspectors_import_upserts_by_staff_number(session: Session, tmp_path: Path) -> None:
    header = ["工号", "姓名", "单位", "所在县区代码", "检查类别", "每轮任务上限", "在岗"]
    path = write_xlsx(
        tmp_path / "inspectors.xlsx",
        header,
        [
            ["T-330106-001", "张三（测试）", "西湖区市场监督管理局", "330106", "农产品、加工食品", 8, "是"],
            ["T-330106-002", "李四（测试）", "西湖区市场监督管理局", 330106, "全部", None, None],
        ],
    )
    report = import_inspectors(session, path)
    assert report.created == 2
    first = session.scalar(select(Inspector).where(Inspector.code == "T-330106-001"))
    assert first is not None and first.qualifications == ["farm_product", "processed_food"]
    second = session.scalar(select(Inspector).where(Inspector.code == "T-330106-002"))
    assert second is not None and len(second.qualifications) == 4 and second.home_county_code == "330106"
    update = write_xlsx(
        tmp_path / "u.xlsx",
        header,
        [["T-330106-001", "张三（测试）", "西湖区市场监督管理局", "330106", "农产品", 10, "否"]],
    )
    changed = import_inspectors(session, update)
    assert changed.updated == 1 and changed.changes[0].fields == {
        "qualifications": ("farm_product; processed_food", "farm_product"),
        "capacity_per_round": (8, 10),
        "active": (True, False),
    }
    with pytest.raises(RowsError) as caught:
        import_inspectors(
            session,
            write_csv(
                tmp_path / "b.csv",
                header,
                [
                    ["T-1", "王五", "局", "3301", "茶叶", "0", "maybe"],
                    ["合成-1", "赵六", "局", "330106", "全部", "5", "是"],  # the draw hashes codes as ASCII
                ],
            ),
        )
    assert {p.column for p in caught.value.problems} == {
        "staff_number",
        "home_county",
        "qualifications",
        "capacity",
        "active",
    }


def test_cli_imports_and_reports_errors(db_url: str, loaded_register: None, tmp_path: Path) -> None:
    valid = code("330106", 31)
    path = write_csv(
        tmp_path / "cli.csv", ["credit_code", "name", "product"], [[valid, "命令行（测试）", "西湖龙井"]]
    )
    try:
        done = gi(db_url, "producers", "import", str(path))
        assert done.returncode == 0, done.stderr
        assert "1 producer row(s): 1 created" in done.stdout
        bad = write_csv(
            tmp_path / "bad.csv", ["credit_code", "name", "product"], [[bad_check(valid), "x", "西湖龙井"]]
        )
        refused = gi(db_url, "producers", "import", str(bad))
        assert refused.returncode == 1
        assert "row 2, credit_code" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        with session_scope(get_engine(db_url)) as s:
            s.execute(
                delete(OriginVerdictRecord).where(
                    OriginVerdictRecord.producer_id.in_(
                        select(Producer.id).where(Producer.credit_code == valid)
                    )
                )
            )
            s.execute(delete(Producer).where(Producer.credit_code == valid))


# ------------------------------------------------------------------------------------------------ audit


def test_outlet_supplier_changes_are_audited_and_verified(register_copy: str, tmp_path: Path) -> None:
    import psycopg
    from sqlalchemy import text as sql

    from gi.audit import acting_as, verify_log
    from gi.db.local import libpq_dsn

    a, b, c = code("330106", 31), code("330106", 32), code("330106", 33)
    outlet = code("310101", 34)
    header = ["credit_code", "name", "product", "suppliers"]
    engine = get_engine(register_copy)
    with acting_as("office-zhang"), session_scope(engine) as session:
        first = write_csv(tmp_path / "o1.csv", header, [[outlet, "茶叶店（测试）", "西湖龙井", f"{a};{b}"]])
        import_outlets(session, first)
    with acting_as("office-li"), session_scope(engine) as session:
        second = write_csv(tmp_path / "o2.csv", header, [[outlet, "茶叶店（测试）", "西湖龙井", f"{b};{c}"]])
        assert import_outlets(session, second).updated == 1
    with session_scope(engine) as session:
        entries = session.execute(
            sql("SELECT op, leaf_count, actor FROM audit_entry WHERE kind = 'outlet_supplier' ORDER BY seq")
        ).all()
    # Two suppliers declared, then only the change: a withdrawn (deleted), c added; b is not rewritten.
    assert [tuple(e) for e in entries] == [
        ("insert", 2, "office-zhang"),
        ("delete", 1, "office-li"),
        ("insert", 1, "office-li"),
    ]
    done = gi(register_copy, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert verify_log(engine).rows["outlet_supplier"] == 2
    # A supplier swapped behind the log's back (triggers bypassed, as a superuser could) is caught and named.
    with psycopg.connect(libpq_dsn(register_copy)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE outlet_supplier SET supplier_credit_code = %s WHERE supplier_credit_code = %s", (a, c)
        )
    tampered = gi(register_copy, "audit", "verify")
    assert tampered.returncode == 5 and "outlet_supplier" in tampered.stderr, (
        tampered.stdout + tampered.stderr
    )


# ------------------------------------------------------------------------------------------------ marks, figures


def test_authorizations_import_adds_holders_upserts_and_sets_the_current_one(
    session: Session, loaded_register: None, tmp_path: Path
) -> None:
    from gi.market.marks import import_authorizations

    holder, newcomer, shop = code("330106", 41), code("330106", 42), code("310101", 43)
    import_producers(
        session,
        write_csv(
            tmp_path / "p.csv",
            ["credit_code", "name", "product", "x", "y"],
            [[holder, "甲茶农（测试）", "西湖龙井", *LONGJING_VILLAGE]],
        ),
    )
    import_outlets(
        session,
        write_csv(tmp_path / "o.csv", ["credit_code", "name", "product"], [[shop, "茶店", "西湖龙井"]]),
    )
    header = ["产品", "核准编号", "统一社会信用代码", "名称", "核准日期", "有效期至", "公告"]
    rows = [
        ["西湖龙井", "T-AU-1", holder, "", "2019-01-01", "2022-12-31", "2019年第1号"],
        ["西湖龙井", "T-AU-2", holder, "", "2023-01-01", "", "2023年第1号"],
        ["西湖龙井", "T-AU-3", newcomer, "新茶企（测试）", "2024-01-01", "", "2024年第1号"],
    ]
    report = import_authorizations(session, write_xlsx(tmp_path / "核准.xlsx", header, rows))
    assert (report.created, report.updated) == (3, 0)
    assert any(newcomer in note and "without a location" in note for note in report.notes)
    entries = {
        p.credit_code: p
        for p in session.scalars(select(Producer).where(Producer.credit_code.in_([holder, newcomer])))
    }
    assert entries[holder].authorization_number == "T-AU-2"  # the current one, not the expired one
    assert entries[newcomer].location is None and entries[newcomer].county_code == "330106"
    # Upserted by product and number: a changed validity is one update, named field by field.
    rows[1][5] = "2027-12-31"
    again = import_authorizations(session, write_csv(tmp_path / "again.csv", header, rows))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert set(again.changes[0].fields) == {"valid_to"}
    # Refused whole: an unknown holder without its name, an outlet as holder, validity ending before it starts.
    unnamed = ["西湖龙井", "T-AU-4", code("330106", 44), "", "2024-01-01", "", ""]
    outlet_row = ["西湖龙井", "T-AU-5", shop, "", "2024-01-01", "", ""]
    backwards = ["西湖龙井", "T-AU-6", holder, "", "2024-01-01", "2023-01-01", ""]

    def refused(name: str, bad: list[list[object]]) -> dict[tuple[int, str], str]:
        with pytest.raises(RowsError) as caught:
            import_authorizations(session, write_csv(tmp_path / name, header, bad))
        return {(p.row, p.column): p.problem for p in caught.value.problems}

    # The rows' own checks come first; the directory is consulted only for a file whose rows are well formed.
    assert set(refused("bad.csv", [unnamed, outlet_row, backwards])) == {(4, "valid_to")}
    found = refused("bad2.csv", [unnamed, outlet_row])
    assert "give its name" in found[(2, "name")] and "not a producer" in found[(3, "credit_code")]
    assert (
        session.scalar(
            select(func.count()).select_from(Producer).where(Producer.credit_code == code("330106", 44))
        )
        == 0
    )


def test_capacity_figures_are_cited_and_say_which_are_estimates(db_url: str, loaded_register: None) -> None:
    done = gi(db_url, "capacity", "figures", "西湖龙井")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "西湖龙井" in line]
    area = next(line for line in lines if " area " in f" {line} ")
    output = next(line for line in lines if " output " in f" {line} ")
    assert "22,404" in area and "mu" in area and "2021" in area and " no " in f" {area} "  # an official count
    assert (
        "580,000" in output and "500,000" in output and " yes " in f" {output} "
    )  # a usual range: an estimate
    assert "SOURCES.md" in done.stdout
