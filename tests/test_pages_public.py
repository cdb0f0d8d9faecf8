"""The public results pages in real headless Chromium, with every request that is not to the service blocked:
published plans, a plan's files with their hashes and the verification steps, the notice with recorded results
and its CSV download; no personal data (no inspector) on any public page; errors as pages in Chinese."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from page_fixtures import commit_and_draw, open_context, screenshot
from service_fixtures import Service, add_accounts, running_service, service_database

from maps.browser import chromium, chromium_path

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed"),
]

DRAWN = "PUB-2025Q2"
COMMITTED = "PUB-2025Q3"


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    with service_database(db_url, prefix="gi_pagepub", inspectors=12) as url:
        add_accounts(url)
        with running_service(url) as svc:
            yield svc


@pytest.fixture(scope="module")
def plans(service: Service) -> dict[str, Any]:
    """A drawn plan with two recorded results, and a plan only committed."""
    with service.client(service.sign_in("admin")) as c:
        commit_and_draw(c, DRAWN, "2025-04-01", "2025-06-30", "2025-03-31 福彩3D 123")
        commit_and_draw(c, COMMITTED, "2025-07-01", "2025-09-30", None)
        tasks = c.get(f"/plans/{DRAWN}/tasks", params={"limit": 1000}).json()
        first, second = tasks["tasks"][0], tasks["tasks"][1]
        for task, result in ((first, "nonconforming"), (second, "conforming")):
            r = c.post(f"/tasks/{task['id']}/result", json={"result": result, "note": "感官指标不符"})
            assert r.status_code == 200, r.text
    return {"tasks": tasks, "nonconforming": first, "conforming": second}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_public_pages_show_plans_files_verification_and_results(
    service: Service, plans: dict, browser: Any
) -> None:
    context, log = open_context(browser, service.url)
    try:
        page = context.new_page()
        page.goto(f"{service.url}/public")
        rows = page.locator("table.grid tbody tr")
        assert rows.count() == 2
        text = page.inner_text("main")
        assert DRAWN in text and COMMITTED in text and "已抽取" in text and "已承诺，待抽取" in text
        screenshot(page, "public_index")

        page.click(f"text={DRAWN}")
        page.wait_for_url(f"**/public/plans/{DRAWN}")
        names = set(page.locator("#files tbody tr a").all_inner_texts())
        assert names >= {"frame.json", "parameters.json", "commitment.json", "reveal.json", "selection.json"}
        # Each file's shown hash is the hash of the bytes the service serves for download.
        for row in page.locator("#files tbody tr").all():
            name = row.locator("a").inner_text()
            shown = row.locator("code").get_attribute("title")
            served = context.request.get(f"{service.url}/plans/{DRAWN}/files/{name}").body()
            assert hashlib.sha256(served).hexdigest() == shown, name
        commitment = context.request.get(f"{service.url}/plans/{DRAWN}/files/commitment.json").body()
        assert page.inner_text("#commitment-sha") == hashlib.sha256(commitment).hexdigest()
        verify = page.inner_text("#verify")
        assert "gi plan verify" in verify and "2025-03-31 福彩3D 123" in verify
        notice = page.locator("#notice tbody tr")
        assert notice.count() == plans["tasks"]["total"]
        results = page.inner_text("#results")
        assert "不合格 1" in results and "合格 1" in results
        assert "“待检查”指该任务尚未公布检查结果" in results  # sampled tasks still to verify included
        assert plans["nonconforming"]["producer_name"] in page.inner_text("#notice")
        # No personal data: no inspector's name or code appears on the public page.
        html = page.content()
        assert "感官指标不符" not in html  # the supervisor's note stays internal
        for task in plans["tasks"]["tasks"]:
            for inspector in task["inspectors"]:
                assert inspector["name"] not in html and inspector["code"] not in html
        screenshot(page, "public_plan")
        screenshot(page, "public_plan_full", full_page=True)

        with page.expect_download() as download_info:
            page.click("text=下载公示表（CSV）")
        data = download_info.value.path().read_bytes()
        assert data.startswith("\ufeff".encode())
        table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert table[0][0] == "轮次" and len(table) == plans["tasks"]["total"] + 1
        assert sum(1 for r in table[1:] if r[9] == "不合格") == 1

        page.goto(f"{service.url}/public/plans/{COMMITTED}")
        names = set(page.locator("#files tbody tr a").all_inner_texts())
        assert {"frame.json", "parameters.json", "commitment.json"} <= names and "reveal.json" not in names
        assert page.locator("#notice").count() == 0 and "抽取后将公开" in page.inner_text("main")
        # The public value the commitment announced, to be watched before the draw; moments in one format.
        announced = page.inner_text("#announced")
        assert announced.startswith("预告的公开随机数：中国福利彩票 福彩3D"), announced
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d$", announced.split("（")[0].strip()), announced
        facts = page.inner_text("dl.facts")
        assert re.search(r"承诺时间\s+\d{4}-\d\d-\d\d \d\d:\d\d(\n|$)", facts), facts
        icon = page.locator("link[rel=icon]").get_attribute("href") or ""
        assert icon.startswith("data:image/svg+xml")  # no /favicon.ico request on any page
        screenshot(page, "public_plan_committed")
        log.assert_clean()
        assert any(u.endswith("/static/pages.css") for u in log.requests)
    finally:
        context.close()


def test_a_committed_plan_announces_its_public_value_in_the_api(service: Service, plans: dict) -> None:
    with service.client() as c:
        body = c.get(f"/plans/{COMMITTED}").json()
    assert body["status"] == "committed" and body["public_value"] is None
    assert body["public_value_source"] == "中国福利彩票 福彩3D" and body["public_value_draw_at"]


def test_public_pages_fit_a_phone(service: Service, plans: dict, browser: Any) -> None:
    """On a 390 px wide screen the navigation is whole (no link clipped) and nothing scrolls sideways."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        page = context.new_page()
        for path in ("/public", f"/public/plans/{DRAWN}"):
            page.goto(service.url + path)
            link = page.locator(".topbar nav a", has_text="公开结果")
            clipped = link.evaluate(
                "a => a.scrollWidth > a.clientWidth + 1 || a.getBoundingClientRect().left < 0"
            )
            assert not clipped and link.bounding_box()["width"] >= 50, path
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path
        screenshot(page, "public_plan_390")
    finally:
        context.close()


def test_missing_plan_is_a_page_for_browsers_and_a_problem_for_clients(
    service: Service, browser: Any
) -> None:
    context, log = open_context(browser, service.url)
    try:
        page = context.new_page()
        response = page.goto(f"{service.url}/public/plans/NO-SUCH-PLAN")
        assert response is not None and response.status == 404
        assert "未找到" in page.inner_text("h1") and "NO-SUCH-PLAN" in page.inner_text("main")
        assert "没有编号为“NO-SUCH-PLAN”的抽查计划" in page.inner_text(".explanation")
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        # The only error Chromium reports is the document's own 404.
        assert log.blocked == [] and log.page_errors == [] and len(log.console_errors) == 1
    finally:
        context.close()
    with service.client() as c:
        r = c.get("/public/plans/NO-SUCH-PLAN")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
