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


def _store_outside_sample(url: str, collector: str, swapped: bool = False) -> tuple[str, float, float]:
    """One sample 2 degrees north of a producer of its product: far outside the product's protected area; or,
    ``swapped``, at the producer's position with latitude and longitude swapped (a possible entry error)."""
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
        lon, lat = (float(y), float(x)) if swapped else (float(x), float(y) + 2.0)
        record_sample(
            session,
            {
                "id": sample_id,
                "product": code,
                "collected_at": (datetime.now(UTC) - timedelta(days=4 if swapped else 3)).isoformat(),
                "x": lon,
                "y": lat,
                "gps_accuracy_m": 5.0,
                "collector": user.inspector.code,
            },
        )
    return sample_id, lon, lat


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    with service_database(db_url, prefix="gi_pagedash", inspectors=12) as url:
        add_accounts(url)
        on_site = store_samples(url, "insp", 12)[0]  # at the first producer's site
        outside, lon, lat = _store_outside_sample(url, "insp")
        swapped, _, _ = _store_outside_sample(url, "insp", swapped=True)
        with running_service(url, env={"GI_ISSUING_OFFICE": "杭州市市场监督管理局"}) as svc:
            # The samples' ids and the outside one's position, kept with the service for the tests.
            svc.tokens |= {"outside": outside, "lon": str(lon), "lat": str(lat), "db_url": url}
            svc.tokens |= {"swapped": swapped, "on_site": on_site}
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
        # Verdict counts: the 14 samples of the region, two outside its area (one a possible entry error).
        assert "14\n样品" in figures
        totals = page.locator("#verdicts tfoot th").all_inner_texts()
        assert totals[:2] == ["合计", "14"] and int(totals[4]) >= 2  # samples, and outside its area
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
    """The map page renders the service's vector tiles with MapLibre: the region's 13 drawable samples (the 14th
    has latitude and longitude swapped: the page says it is not drawn) aggregated at national scale, areas, provinces and the maritime line; zoomed in, the outside sample is a point whose popup
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
        assert "另有 1 件样品坐标不可用" in page.inner_text("#undrawable")
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


def _signed_in(
    browser: Any, service: Service, next_path: str, username: str = "super"
) -> tuple[Any, Any, Any]:
    """A context and page of ``username`` (the supervisor), at ``next_path``."""
    context, log = open_context(browser, service.url)
    page = context.new_page()
    from urllib.parse import quote

    page.goto(f"{service.url}/login?next={quote(next_path, safe='/')}")
    _sign_in(page, service.url, username)
    page.wait_for_url(f"**{next_path}")
    return context, log, page


def test_a_possible_entry_error_is_to_verify_as_in_the_documents(
    service: Service, plan: dict, browser: Any, tmp_path: Path
) -> None:
    """A sample whose latitude and longitude are swapped is outside its area but may be an entry error: the
    dashboard lists it as 待核实 (not 不符合), counts the final findings as the campaign report does, and the
    sample's page gives the same conclusion."""
    import re

    swapped = service.tokens["swapped"]
    # The admin's: the campaign report narrows a region by the samples' located county, the dashboard by the
    # task's, producer's or collector's (a difference of scope, not of counting).
    context, log, page = _signed_in(browser, service, "/dashboard", "admin")
    try:
        row = page.locator("#findings tr", has=page.locator(f"a[href='/dashboard/samples/{swapped}']"))
        assert row.count() == 1 and row.locator(".badge.severity").inner_text() == "待核实"
        assert "doubt" in (row.locator(".badge.severity").get_attribute("class") or "")
        outside = page.locator(
            "#findings tr", has=page.locator(f"a[href='/dashboard/samples/{service.tokens['outside']}']")
        )
        assert outside.locator(".badge.severity").first.inner_text() == "不符合"
        # Sample numbers as the record and the notice print them: local date and code.
        code = row.locator("a.record-link").inner_text()
        assert re.fullmatch(r"\d{6}-[0-9A-F]{8}", code) and code.endswith(
            swapped.replace("-", "")[:8].upper()
        )
        assert "1 件疑为坐标录入错误" in page.inner_text("#entry-errors")
        failed, verify = (int(page.inner_text(f"#{k}-total").replace(",", "")) for k in ("failed", "verify"))
        assert failed >= 1 and verify >= 1
        season = page.inner_text(".season-title")
        assert "·" not in season  # the plan's title names its period: not repeated
        screenshot(page, "dashboard_entry_error")
        with page.expect_download(timeout=180_000) as got:
            page.click("#report-pdf")
        report = tmp_path / "report.pdf"
        got.value.save_as(report)
        words = re.sub(r"\s", "", pdf_text(report))
        assert f"不合格{failed}批次，待核实{verify}批次" in words, words[:600]

        page.click(f"a[href='/dashboard/samples/{swapped}']")
        page.wait_for_url(f"**/dashboard/samples/{swapped}")
        assert page.inner_text("#result") == "待核实" and "需核实" in page.inner_text("#conclusion")
        # The number the documents print opens the record too.
        page.goto(f"{service.url}/dashboard/samples/{code}")
        assert page.inner_text("#result") == "待核实"
        log.assert_clean()
    finally:
        context.close()


def test_an_empty_period_offers_no_campaign_report_and_says_why(
    service: Service, plan: dict, browser: Any
) -> None:
    context, log, page = _signed_in(browser, service, "/dashboard?from=2001-01-01&to=2001-03-31")
    try:
        assert page.locator("#report-pdf").count() == 0
        assert "没有样品" in page.inner_text("#no-samples")
        assert page.locator("#notice-pdf").count() == 1  # the notice says 本期无抽检
        log.assert_clean()
    finally:
        context.close()


def test_error_pages_explain_in_chinese_and_keep_the_detail(
    service: Service, plan: dict, browser: Any
) -> None:
    """Errors on the pages say what went wrong in Chinese; the precise English detail stays folded below it and
    is what API clients get as problem+json."""
    context, log, page = _signed_in(browser, service, "/dashboard")
    try:
        cases = {
            "/dashboard/samples/deadbeef": ("没有编号为“deadbeef”的样品", "in your scope"),
            "/dashboard?from=2026-12-01&to=2026-09-01": ("结束日期（2026-09-01）早于开始日期", "is before"),
            "/dashboard?plan=NOPE": ("没有编号为“NOPE”的抽查计划", "no plan 'NOPE'"),
            "/dashboard/report.pdf?from=2001-01-01&to=2001-03-31": ("没有采集样品", "nothing to report"),
            "/public/plans/NOPE": ("没有编号为“NOPE”的抽查计划", "no plan 'NOPE'"),
            "/dashboard?from=someday": ("开始日期", "from"),
        }
        for path, (chinese, english) in cases.items():
            page.goto(service.url + path)
            explanation = page.inner_text(".explanation")
            assert chinese in explanation and english not in explanation, (path, explanation)
            assert english in (page.text_content("details.detail code") or ""), path
        screenshot(page, "error_page")
        assert log.blocked == [] and log.page_errors == []
    finally:
        context.close()
    with service.client(service.sign_in("super")) as c:
        r = c.get("/dashboard/samples/deadbeef")
    assert r.status_code == 404 and "in your scope" in r.json()["detail"]


def test_verification_checks_are_listed_in_chinese(service: Service, plan: dict, browser: Any) -> None:
    import re

    context, log, page = _signed_in(browser, service, f"/dashboard?plan={PLAN}")
    try:
        page.click("#verification summary")
        checks = page.locator("ul.checks li").all_inner_texts()
        assert len(checks) > 20
        files = {
            "frame",
            "parameters",
            "commitment",
            "reveal",
            "selection",
            "assignment",
            "results",
            "notice",
        }
        kept = files | {"json", "csv", "md", "schema", "canonical", "SHA", "UTF", "JSON"}
        english = [c for c in checks if set(re.findall(r"[A-Za-z]{3,}", c)) - kept]
        assert english == []
        log.assert_clean()
    finally:
        context.close()


def test_record_page_shows_the_photos_through_an_authorized_route(
    service: Service, plan: dict, browser: Any
) -> None:
    """The record page shows the sample's stored photo as a thumbnail linking to the full image, served by a page
    route to whoever may see the sample (another region's supervisor: 404); the facts and verdicts share the
    width and the verdict tables' values do not wrap."""
    on_site = service.tokens["on_site"]
    photo = Path(__file__).resolve().parents[1] / "examples" / "photo.jpg"
    with service.client(service.sign_in("insp")) as c:
        sent = c.post(
            f"/samples/{on_site}/photos", files={"photo": ("photo.jpg", photo.read_bytes(), "image/jpeg")}
        )
        assert sent.status_code in (200, 201), sent.text
    context, log, page = _signed_in(browser, service, f"/dashboard/samples/{on_site}")
    try:
        image = page.locator("#photos img")
        assert image.count() == 1
        page.wait_for_function("() => document.querySelector('#photos img').naturalWidth > 0")
        href = page.locator("#photos a").get_attribute("href") or ""
        served = context.request.get(service.url + href)
        assert served.status == 200 and served.headers["content-type"] == "image/jpeg"
        assert served.body() == photo.read_bytes()
        left, right = (page.locator(s).bounding_box() for s in ("#sample", ".board.record .side"))
        assert left and right and abs(left["width"] - right["width"]) < 40  # no narrow, wrapping column
        screenshot(page, "record_photo", full_page=True)
        log.assert_clean()
    finally:
        context.close()
    with service.client(service.sign_in("super2")) as c:
        assert c.get(href).status_code == 404


def test_clicking_a_sample_on_a_producers_site_opens_one_popup(
    service: Service, plan: dict, browser: Any
) -> None:
    """A sample taken at a producer's site: one click, one popup, the sample's first with its record link
    (clickable), the producer listed below it."""
    from sqlalchemy import func, select

    from gi.models import Sample

    with gi_db.session_scope(gi_db.get_engine(service.tokens["db_url"])) as session:
        lon, lat = session.execute(
            select(func.ST_X(Sample.location), func.ST_Y(Sample.location)).where(
                Sample.id == uuid.UUID(service.tokens["on_site"])
            )
        ).one()
    year = datetime.now(UTC).year
    context, log, page = _signed_in(browser, service, f"/dashboard/map?year={year}")
    try:
        page.wait_for_function("() => window.giMapReady === true", timeout=60_000)
        page.evaluate(
            """([lon, lat]) => new Promise((done) => {
                   window.giMap.once('idle', done); window.giMap.jumpTo({center: [lon, lat], zoom: 15}); })""",
            [lon, lat],
        )
        state = page.evaluate("() => window.giMapState()")
        assert state["samples"] >= 1 and state["producers"] >= 1, state
        point = page.evaluate("([lon, lat]) => window.giMap.project([lon, lat])", [lon, lat])
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        page.wait_for_selector(".maplibregl-popup a.record-link")
        page.wait_for_timeout(300)  # a second popup would open in the same task
        assert page.locator(".maplibregl-popup").count() == 1
        text = page.inner_text(".maplibregl-popup")
        assert text.index("查看检验记录") < text.index("生产经营主体")
        screenshot(page, "map_sample_on_producer")
        page.click(".maplibregl-popup a.record-link")
        page.wait_for_url(f"**/dashboard/samples/{service.tokens['on_site']}")
        log.assert_clean()
    finally:
        context.close()
