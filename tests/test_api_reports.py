"""Maps and reports through the service: the campaign report (PDF, Chinese) and the season map (offline assets
served by the service) for supervisors of the region, the public notice for everyone, a sample's record."""

from __future__ import annotations

import hashlib
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from photo_fixtures import jpeg
from service_fixtures import PASSWORD, Service, add_accounts, running_service, service_database

pytestmark = pytest.mark.postgis
# PDFs and the season map are built per request: seconds each, more on a loaded machine.
DOCUMENTS_S = 180


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    with service_database(db_url, prefix="gi_apireports") as url:
        add_accounts(url)
        from sqlalchemy import select

        from gi import db as gi_db
        from gi.accounts.users import add_user
        from gi.models import Inspector

        with gi_db.session_scope(gi_db.get_engine(url)) as session:  # Zhejiang's supervisor (西湖龙井)
            add_user(session, "zj", "supervisor", PASSWORD, regions=["330000"])
            add_user(session, "xj", "supervisor", PASSWORD, regions=["650000"])
            zhejiang = session.scalars(
                select(Inspector).where(Inspector.home_county_code.startswith("33")).order_by(Inspector.code)
            ).first()
            assert zhejiang is not None
            add_user(session, "zjinsp", "inspector", PASSWORD, inspector=zhejiang.code)
        # Published documents need their issuing office (no placeholder): configured for the service.
        with running_service(url, env={"GI_ISSUING_OFFICE": "杭州市市场监督管理局"}) as svc:
            yield svc


@pytest.fixture(scope="module")
def samples(service: Service) -> list[str]:
    ids = []
    with service.client(service.sign_in("insp"), timeout=DOCUMENTS_S) as c:
        for k in range(6):
            body = {
                "id": str(uuid.uuid4()),
                "product": "xihu-longjing",
                "collected_at": (datetime.now(UTC) - timedelta(days=3 + k)).isoformat(timespec="seconds"),
                "x": 120.1138 + k * 0.02,
                "y": 30.2402,
                "gps_accuracy_m": 5,
            }
            assert c.post("/samples", json=body).status_code == 201
            ids.append(str(body["id"]))
    return ids


def _text(pdf: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_campaign_report_for_the_region(service: Service, samples: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The region's samples by the dashboard's rule (the county a sample belongs to: its task's, else its
    # producer's, else its collector's home county), not every sample of the region's products: of the seven
    # 西湖龙井 samples, only the one of the Zhejiang inspector is Zhejiang's.
    with service.client(service.sign_in("zjinsp"), timeout=DOCUMENTS_S) as c:
        body = {
            "id": str(uuid.uuid4()),
            "product": "xihu-longjing",
            "collected_at": (datetime.now(UTC) - timedelta(days=4)).isoformat(timespec="seconds"),
            "x": 120.1138,
            "y": 30.2502,
            "gps_accuracy_m": 5,
        }
        assert c.post("/samples", json=body).status_code == 201
    with service.client(service.sign_in("zj"), timeout=DOCUMENTS_S) as c:
        r = c.get("/reports/campaign", params={"product": "xihu-longjing"})
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    text = _text(r.content, tmp_path)
    assert "西湖龙井" in text and "（浙江省）" in re.sub(r"\s+", "", text)
    assert "抽取样品1批次" in re.sub(r"\s+", "", text), text[:800]
    with service.client(
        service.sign_in("xj"), timeout=DOCUMENTS_S
    ) as c:  # Xinjiang's supervisor: longjing is not his region's
        other = c.get("/reports/campaign", params={"product": "xihu-longjing"})
    assert other.status_code == 404 and other.json()["field"] == "product"
    with service.client(service.sign_in("insp"), timeout=DOCUMENTS_S) as c:
        assert c.get("/reports/campaign").status_code == 403


def test_public_notice_and_record(service: Service, samples: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    with service.client(timeout=DOCUMENTS_S) as c:
        notice = c.get("/reports/notice", params={"product": "xihu-longjing"})
        assert c.get(f"/reports/records/{samples[0]}").status_code == 401
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    assert "合成检查员" not in _text(notice.content, tmp_path)  # no inspectors' personal data
    assert "杭州市市场监督管理局" in _text(notice.content, tmp_path)
    bare = jpeg(exif=False, colour=(200, 10, 10))
    with service.client(service.sign_in("insp"), timeout=DOCUMENTS_S) as c:
        stored = c.post(f"/samples/{samples[0]}/photos", files=[("photo", ("bare.jpg", bare, "image/jpeg"))])
        assert stored.status_code in (200, 201), stored.text
        record = c.get(f"/reports/records/{samples[0]}")
        again = c.get(f"/reports/records/{samples[0]}")
    assert record.status_code == 200 and record.content.startswith(b"%PDF")
    text = _text(record.content, tmp_path)
    # The photo stored with the sample is printed with its hash and what its EXIF says; the record number is
    # the sample's, the same at every regeneration.
    digest = hashlib.sha256(bare).hexdigest()
    assert samples[0][:8] in text and f"SHA-256 {digest[:16]}" in text and "无 EXIF 信息" in text
    number = re.search(r"JL-\d{6}-[0-9A-F]{8}", text)
    assert number and number.group() in _text(again.content, tmp_path)
    with service.client(service.sign_in("insp2"), timeout=DOCUMENTS_S) as c:
        assert c.get(f"/reports/records/{samples[0]}").status_code == 404


def test_season_map_with_its_assets(service: Service, samples: list[str]) -> None:
    with service.client(service.sign_in("admin"), timeout=DOCUMENTS_S) as c:
        page = c.get("/maps/season", params={"product": "xihu-longjing"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assets = sorted(set(__import__("re").findall(r'"(/maps/assets/[^"]+\.(?:js|css))"', page.text)))
        assert assets and all(c.get(a).status_code == 200 for a in assets)
        assert "cdn" not in page.text.lower() or "cdn.jsdelivr" not in page.text
