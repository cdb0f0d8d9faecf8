"""Office files through the running service (POST /imports/{kind}): the directories, authorizations to use the GI
special mark, marks issued, capacity, volumes and listings, each stored by the same domain function as its
`gi ... import` command; supervisors and admins only; all or nothing, a refused file answered 422 as RFC 9457
problem details listing each row's problem by row and column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from market_fixtures import LONGJING_VILLAGE, bad_check, code, write_csv, write_xlsx
from service_fixtures import Service, add_accounts, running_service, service_database
from sqlalchemy import func, select

from gi import db as gi_db
from gi.models import HolderCapacity, MarkAuthorization, MarketVolume, MarkIssuance, Producer

pytestmark = pytest.mark.postgis

A, B = code("330106", 601), code("330106", 602)
OUTLET = code("310101", 611)


@pytest.fixture(scope="module")
def database(db_url: str) -> Iterator[str]:
    with service_database(db_url, prefix="gi_apiimports", producers=2, inspectors=2) as url:
        add_accounts(url)
        yield url


@pytest.fixture(scope="module")
def service(database: str) -> Iterator[Service]:
    with running_service(database) as svc:
        yield svc


def _upload(path: Path) -> dict[str, tuple[str, bytes, str]]:
    kind = (
        "text/csv"
        if path.suffix == ".csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return {"file": (path.name, path.read_bytes(), kind)}


def _count(url: str, model: type) -> int:
    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_season_of_office_files_through_the_service(
    service: Service, database: str, tmp_path: Path
) -> None:
    files = {
        "producers": write_csv(
            tmp_path / "producers.csv",
            ["统一社会信用代码", "名称", "地理标志产品", "经度", "纬度"],
            [
                [A, "甲茶农（测试）", "西湖龙井", *LONGJING_VILLAGE],
                [B, "乙茶企（测试）", "西湖龙井", *LONGJING_VILLAGE],
            ],
        ),
        "authorizations": write_xlsx(
            tmp_path / "核准.xlsx",
            ["产品", "核准编号", "统一社会信用代码", "核准日期", "有效期至"],
            [
                ["西湖龙井", "API-XH-1", A, "2024-03-01", ""],
                ["西湖龙井", "API-XH-2", B, "2024-03-01", "2027-03-31"],
            ],
        ),
        "issuance": write_csv(
            tmp_path / "issuance.csv",
            ["product", "credit_code", "reference", "issued_on", "quantity", "unit", "unit_size"],
            [
                ["西湖龙井", A, "API-I-1", "2025-03-20", 800, "枚", "0.25"],
                ["西湖龙井", B, "API-I-2", "2025-03-20", 300, "kg", ""],
            ],
        ),
        "capacity": write_csv(
            tmp_path / "capacity.csv",
            ["product", "credit_code", "season", "basis", "area", "area_unit"],
            [["西湖龙井", A, 2025, "茶园面积", 10, "亩"]],
        ),
        "outlets": write_csv(
            tmp_path / "outlets.csv",
            ["credit_code", "name", "product", "suppliers"],
            [[OUTLET, "茶店（测试）", "西湖龙井", A]],
        ),
        "volumes": write_csv(
            tmp_path / "volumes.csv",
            ["product", "credit_code", "reference", "observed_on", "quantity", "unit"],
            [["西湖龙井", OUTLET, "API-V-1", "2025-05-10", 150, "kg"]],
        ),
    }
    with service.client(service.sign_in("super")) as c:
        for kind, path in files.items():
            r = c.post(f"/imports/{kind}", files=_upload(path))
            assert r.status_code == 200, f"{kind}: {r.text}"
            body = r.json()
            assert (
                body["kind"] == kind and body["created"] == body["rows"] > 0 and body["source"] == path.name
            )
        # The same authorizations again, one validity changed: one update, named field by field.
        again = write_xlsx(
            tmp_path / "核准2.xlsx",
            ["产品", "核准编号", "统一社会信用代码", "核准日期", "有效期至"],
            [
                ["西湖龙井", "API-XH-1", A, "2024-03-01", ""],
                ["西湖龙井", "API-XH-2", B, "2024-03-01", "2026-12-31"],
            ],
        )
        r = c.post("/imports/authorizations", files=_upload(again))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
        assert body["changes"] == [
            {
                "record": "xihu-longjing API-XH-2",
                "created": False,
                "fields": {"valid_to": {"stored": "2027-03-31", "imported": "2026-12-31"}},
            }
        ]
    assert _count(database, MarkAuthorization) == 2 and _count(database, MarkIssuance) == 2
    assert _count(database, HolderCapacity) == 1 and _count(database, MarketVolume) == 1
    with gi_db.session_scope(gi_db.get_engine(database)) as session:
        holder = session.scalars(select(Producer).where(Producer.credit_code == B)).one()
        assert holder.authorization_number == "API-XH-2"  # the directory carries the current authorization


def test_a_bad_file_is_refused_whole_with_each_row_named(
    service: Service, database: str, tmp_path: Path
) -> None:
    before = _count(database, MarkIssuance)
    unknown = code("320505", 621)
    path = write_csv(
        tmp_path / "issuance.csv",
        ["product", "credit_code", "reference", "issued_on", "quantity", "unit"],
        [
            ["西湖龙井", A, "BAD-1", "2025-03-20", 10, "kg"],  # fine on its own
            ["西湖龙井", bad_check(A), "BAD-2", "2025-03-20", 10, "kg"],
            ["西湖龙井", A, "BAD-3", "2025-03-20", -5, "桶"],
            ["no such product", unknown, "BAD-4", "2025-03-20", 10, "kg"],
        ],
    )
    with service.client(service.sign_in("admin")) as c:
        r = c.post("/imports/issuance", files=_upload(path))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    problem = r.json()
    assert problem["status"] == 422 and "issuance.csv" in problem["detail"]
    where = {(e["row"], e["field"]) for e in problem["errors"]}
    assert {(3, "credit_code"), (4, "quantity"), (4, "unit"), (5, "product")} <= where
    assert all(e["problem"].startswith(f"row {e['row']}, {e['field']}: ") for e in problem["errors"])
    assert _count(database, MarkIssuance) == before  # not even row 2 was stored
    # A holder missing from the directory is refused too, naming the row.
    ghost = write_csv(
        tmp_path / "ghost.csv",
        ["product", "credit_code", "reference", "issued_on", "quantity", "unit"],
        [["西湖龙井", unknown, "BAD-5", "2025-03-20", 10, "kg"]],
    )
    with service.client(service.sign_in("super")) as c:
        r = c.post("/imports/issuance", files=_upload(ghost))
        assert r.status_code == 422 and r.json()["errors"][0]["row"] == 2, r.text
        assert "not in the producers' directory" in r.json()["errors"][0]["problem"]
        wrong = c.post("/imports/capacity", files={"file": ("capacity.pdf", b"%PDF", "application/pdf")})
        assert wrong.status_code == 422 and wrong.json()["field"] == "file"
        unknown_kind = c.post("/imports/recipes", files=_upload(ghost))
        assert unknown_kind.status_code == 400 and "kind" in unknown_kind.json()["detail"]


def test_a_file_that_is_not_what_its_name_says_is_refused_422(
    service: Service, database: str, tmp_path: Path
) -> None:
    """Text behind .xlsx, or a UTF-16 CSV: 422 naming the file and the problem (was 500 / an unnamed text error)."""
    utf16 = "credit_code,name,product\n" + f"{code('330106', 641)},戊茶农（测试）,西湖龙井\n"
    before = _count(database, Producer)
    with service.client(service.sign_in("super")) as c:
        bad_xlsx = c.post(
            "/imports/producers", files={"file": ("x.xlsx", b"hello\n", "application/octet-stream")}
        )
        bad_text = c.post("/imports/producers", files={"file": ("u.csv", utf16.encode("utf-16"), "text/csv")})
    assert bad_xlsx.status_code == 422, bad_xlsx.text
    assert "x.xlsx: not readable as an Excel .xlsx workbook" in bad_xlsx.json()["detail"]
    assert bad_text.status_code == 422, bad_text.text
    assert "u.csv: not UTF-8 or GB18030 text (save it as CSV UTF-8)" in bad_text.json()["detail"]
    assert _count(database, Producer) == before


def test_only_supervisors_and_admins_import(service: Service, database: str, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "producers.csv",
        ["credit_code", "name", "product"],
        [[code("330106", 631), "丁茶农（测试）", "西湖龙井"]],
    )
    before = _count(database, Producer)
    with service.client() as c:
        assert c.post("/imports/producers", files=_upload(path)).status_code == 401
    with service.client(service.sign_in("insp")) as c:
        r = c.post("/imports/producers", files=_upload(path))
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert _count(database, Producer) == before
