"""The supervisor dashboard in real headless Chromium, every request that is not to the service blocked and
counted: sign-in through the form (CSRF, wrong password, redirect back), the season of the supervisor's region
(coverage with overdue tasks, verdict counts, non-conformities, the draw verified), a click through to a
sample's inspection record, the record, report and notice downloads, other regions and roles refused, sign-out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures import pdf_text
from page_fixtures import commit_and_draw, open_context, screenshot
from service_fixtures import PASSWORD, Service, add_accounts, running_service, service_database, store_samples

from gi import db as gi_db
from maps.browser import chromium, chromium_path

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed"),
]

PLAN = "DASH-NOW"


def _store_outside_sample(url: str, collector: str) -> tuple[str, float, float]:
    """One sample 2 degrees north of a producer of its product: far outside the product's protected area."""
    from sqlalchemy import func, select

    from gi.models import GIProduct, Producer, User
    from gi.origin.intake import record_sample

    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        user = session.scalar(select(User).where(User.username == collector))
        assert user is not None and user.inspector is not None
        code, x, y = session.execute(
            select(GIProduct.code, func.ST_X(Producer.location), func.ST_Y(Producer.location))
            .join(GIProduct, GIProduct.id == Producer.product_id)
            .where(Producer.location.is_not(None))
            .order_by(Producer.id)
            .limit(1)
        ).one()
        sample_id = str(uuid.uuid4())
        record_sample(
            session,
            {
                "id": sample_id,
                "product": code,
                "collected_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                "x": float(x),
                "y": float(y) + 2.0,
                "gps_accuracy_m": 5.0,
                "collector": user.inspector.code,
            },
        )
    return sample_id, float(x), float(y) + 2.0


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    with service_database(db_url, prefix="gi_pagedash", inspectors=12) as url:
        add_accounts(url)
        store_samples(url, "insp", 12)
        outside, lon, lat = _store_outside_sample(url, "insp")
        with running_service(url, env={"GI_ISSUING_OFFICE": "杭州市市场监督管理局"}) as svc:
            # The sample's id and position, kept with the service for the tests.
            svc.tokens |= {"outside": outside, "lon": str(lon), "lat": str(lat), "db_url": url}
            yield svc


@pytest.fixture(scope="module")
def plan(service: Service) -> dict[str, Any]:
    """A plan running now: its first round is past (overdue tasks), its last still due."""
    today = datetime.now(UTC).date()
    with service.client(service.sign_in("admin")) as c:
        # 120 days in two rounds of 60: the first ends a month ago, overdue whatever the hour (the dashboard's
        # "today" is Beijing's, up to a day ahead of UTC); the second runs to a month ahead.
        start, end = today - timedelta(days=90), today + timedelta(days=29)
        commit_and_draw(c, PLAN, str(start), str(end), "福彩3D 456")
    with service.client(service.sign_in("super")) as c:
        mine = c.get(f"/plans/{PLAN}/tasks", params={"limit": 1000}).json()
    return {"scoped_tasks": mine}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")


def test_dashboard_sign_in_season_record_downloads_and_sign_out(
    service: Service, plan: dict, browser: Any, tmp_path: Path
) -> None:
    outside = service.tokens["outside"]
    context, log = open_context(browser, service.url)
    try:
        page = context.new_page()
        page.goto(f"{service.url}/dashboard")
        page.wait_for_url("**/login?next=%2Fdashboard")
        screenshot(page, "login")
        _sign_in(page, service.url, "super", "not the password")
        assert "用户名或密码错误" in page.inner_text(".message.error")
        _sign_in(page, service.url, "super")
        page.wait_for_url(f"{service.url}/dashboard")
        assert context.cookies()[0]["httpOnly"]

        # Coverage of the supervisor's region: the plan's tasks in scope, the first round's overdue.
        figures = page.inner_text(".figures")
        scoped = plan["scoped_tasks"]["total"]
        assert scoped > 0 and f"{scoped}\n计划任务" in figures
        assert int(page.inner_text("#overdue-total").replace(",", "")) > 0
        assert page.locator("#coverage tbody tr").count() > 0
        # Verdict counts: the 13 samples of the region, one outside its area.
        assert "13\n样品" in figures
        totals = page.locator("#verdicts tfoot th").all_inner_texts()
        assert totals[:2] == ["合计", "13"] and int(totals[4]) >= 1  # samples, and outside its area
        assert "核验通过" in page.inner_text("#verification")
        findings = page.locator("#findings a.record-link")
        assert findings.count() >= 1
        screenshot(page, "dashboard")

        # A click through to the outside sample's record.
        page.click(f"a[href='/dashboard/samples/{outside}']")
        page.wait_for_url(f"**/dashboard/samples/{outside}")
        assert page.inner_text("#origin-verdict") == "在保护范围外"
        screenshot(page, "record")
        with page.expect_download() as got:
            page.click("#record-pdf")
        record_pdf = tmp_path / "record.pdf"
        got.value.save_as(record_pdf)
        assert record_pdf.read_bytes().startswith(b"%PDF") and outside.replace("-", "")[
            :8
        ].upper() in pdf_text(record_pdf)

        page.goto(f"{service.url}/dashboard")
        for button, title in (("#notice-pdf", "结果公告"), ("#report-pdf", "工作报告")):
            with page.expect_download(timeout=180_000) as got:
                page.click(button)
            path = tmp_path / f"{button[1:]}.pdf"
            got.value.save_as(path)
            assert path.read_bytes().startswith(b"%PDF")
            assert title in pdf_text(path).replace(" ", ""), button

        # Sign out: the session ends, the dashboard asks for a sign-in again.
        page.click("text=退出")
        page.wait_for_url(f"{service.url}/public")
        page.goto(f"{service.url}/dashboard")
        page.wait_for_url("**/login?next=%2Fdashboard")
        log.assert_clean()
        assert len(log.requests) > 10
    finally:
        context.close()


def test_other_regions_and_roles_are_refused(service: Service, plan: dict, browser: Any) -> None:
    outside = service.tokens["outside"]
    context, log = open_context(browser, service.url)
    try:
        page = context.new_page()
        page.goto(f"{service.url}/login?next=/dashboard/samples/{outside}")
        _sign_in(page, service.url, "super2")  # another province's supervisor: the sample is not his
        page.wait_for_url(f"**/dashboard/samples/{outside}")
        assert "未找到" in page.inner_text("h1")
        page.goto(f"{service.url}/dashboard")
        assert outside not in page.content()
        context.clear_cookies()
        page.goto(f"{service.url}/login")
        _sign_in(page, service.url, "insp")  # an inspector has no dashboard
        page.wait_for_url(f"{service.url}/public")
        response = page.goto(f"{service.url}/dashboard")
        assert response is not None and response.status == 403 and "无权访问" in page.inner_text("h1")
        assert log.blocked == [] and log.page_errors == []
    finally:
        context.close()


def test_without_an_issuer_the_pages_offer_no_pdf_and_say_why(
    service: Service, plan: dict, browser: Any
) -> None:
    """A service without GI_ISSUING_OFFICE cannot issue official PDFs: the pages say so rather than offer a
    download that would answer 422."""
    outside = service.tokens["outside"]
    with running_service(service.tokens["db_url"], env={"GI_ISSUING_OFFICE": ""}) as bare:
        context, log = open_context(browser, bare.url)
        try:
            page = context.new_page()
            page.goto(f"{bare.url}/login?next=/dashboard")
            _sign_in(page, bare.url, "super")
            page.wait_for_url(f"{bare.url}/dashboard")
            assert page.locator("#report-pdf").count() == 0 and page.locator("#notice-pdf").count() == 0
            assert "GI_ISSUING_OFFICE" in page.inner_text("#no-issuer")
            page.goto(f"{bare.url}/dashboard/samples/{outside}")
            assert page.locator("#record-pdf").count() == 0
            assert "GI_ISSUING_OFFICE" in (page.get_attribute("h1 .button.disabled", "title") or "")
            assert log.blocked == [] and log.page_errors == []
        finally:
            context.close()


def test_forms_need_the_csrf_token(service: Service) -> None:
    with httpx.Client(base_url=service.url) as c:
        page = c.get("/login", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "gi_csrf" in page.cookies
        forged = c.post("/login", data={"username": "super", "password": PASSWORD, "csrf": "x" * 43})
        assert forged.status_code == 400 and forged.json()["field"] == "csrf"
        token = page.cookies["gi_csrf"]
        ok = c.post("/login", data={"username": "super", "password": PASSWORD, "csrf": token})
        assert ok.status_code == 303 and ok.headers["location"] == "/dashboard"
        assert "gi_session" in ok.cookies
        # The session cookie opens pages only: the JSON API still wants a bearer token.
        assert c.get("/users/me").status_code == 401
        assert c.get("/dashboard").status_code == 200


def test_national_map_draws_tiles_of_the_region_and_clicks_through_to_a_record(
    service: Service, plan: dict, browser: Any
) -> None:
    """The map page renders the service's vector tiles with MapLibre: the region's 13 samples aggregated at
    national scale, areas, provinces and the maritime line; zoomed in, the outside sample is a point whose popup
    links to its record. Not one request leaves the service."""
    outside = service.tokens["outside"]
    lon, lat = float(service.tokens["lon"]), float(service.tokens["lat"])
    year = datetime.now(UTC).year
    context, log = open_context(browser, service.url)
    try:
        page = context.new_page()
        page.goto(f"{service.url}/login?next=/dashboard/map?year={year}")
        _sign_in(page, service.url, "super")
        page.wait_for_function("() => window.giMapReady === true", timeout=60_000)
        state = page.evaluate("() => window.giMapState()")
        assert state["clusteredSamples"] == 13 and state["clusters"] >= 1, state
        assert state["areas"] > 0 and state["provinces"] > 30 and state["maritime"] >= 1, state
        # The page asked for exactly the national view's tiles before MapLibre did (its prefetch computes the
        # same view): none missed, none wasted.
        prefetched = page.evaluate("() => window.giMapPrefetch")
        drawn = {u for u in log.requests if "/dashboard/tiles/" in u}
        assert prefetched and set(prefetched) == drawn, (sorted(prefetched), sorted(drawn))
        assert {u.split("/")[5] for u in prefetched} == {"reference", "areas", "samples"}
        screenshot(page, "map_national")

        page.evaluate(
            """([lon, lat]) => new Promise((done) => {
                   window.giMap.once('idle', done); window.giMap.jumpTo({center: [lon, lat], zoom: 14}); })""",
            [lon, lat],
        )
        assert page.evaluate("() => window.giMapState().samples") >= 1
        point = page.evaluate("([lon, lat]) => window.giMap.project([lon, lat])", [lon, lat])
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        page.wait_for_selector(".maplibregl-popup a.record-link")
        assert "在保护范围外" in page.inner_text(".maplibregl-popup")
        screenshot(page, "map_sample")
        page.click(".maplibregl-popup a.record-link")
        page.wait_for_url(f"**/dashboard/samples/{outside}")
        assert page.inner_text("#origin-verdict") == "在保护范围外"
        log.assert_clean()
        tiles = [u for u in log.requests if "/dashboard/tiles/" in u]
        assert any("/samples/" in u for u in tiles) and any("/areas/" in u for u in tiles)
    finally:
        context.close()
    # Another province's supervisor gets tiles without this region's samples.
    with service.client(service.sign_in("super2")) as c, service.client(service.sign_in("super")) as mine:
        theirs = c.get("/dashboard/tiles/samples/0/0/0.mvt", params={"year": year})
        own = mine.get("/dashboard/tiles/samples/0/0/0.mvt", params={"year": year})
    assert theirs.status_code == own.status_code == 200
    assert (
        theirs.headers["content-type"] == own.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    )
    assert len(own.content) > len(theirs.content)
