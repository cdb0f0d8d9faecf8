"""Helpers of the page tests: a page of the running service in real headless Chromium (Debian's chromium driven
by Playwright) with every request that is not to the service itself blocked and counted, and every console or
page error recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "pages"
VIEWPORT = {"width": 1366, "height": 768}


@dataclass
class PageLog:
    """What a browser context did: requests blocked (not to the service), errors, failed requests."""

    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No request left the machine, and the page reported no error."""
        assert self.blocked == [], f"non-local requests: {self.blocked[:5]}"
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors
        assert self.failed == [], self.failed


def open_context(browser: Any, base_url: str) -> tuple[Any, PageLog]:
    """A browser context at 1366x768 whose requests go only to ``base_url`` (the rest are aborted and logged)."""
    context = browser.new_context(
        viewport=VIEWPORT, device_scale_factor=1, locale="zh-CN", accept_downloads=True
    )
    log = PageLog()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith((base_url + "/", "data:", "blob:", "about:")) or url == base_url:
            log.requests.append(url)
            r.continue_()
        else:
            log.blocked.append(url)
            r.abort()

    context.route("**/*", route)

    def watch(page: Any) -> None:
        page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))
        page.on(
            "requestfailed",
            lambda r: log.failed.append(f"{r.url} {r.failure}") if r.url not in log.blocked else None,
        )

    context.on("page", watch)
    return context, log


def screenshot(page: Any, name: str, full_page: bool = False) -> Path:
    """Save a PNG of ``page`` under test-artifacts/pages/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def commit_and_draw(
    client: Any, code: str, start: str, end: str, public_value: str | None, rounds: int = 2
) -> None:
    """Commit a plan through the service announcing a public value drawn 2 s later, then (unless
    ``public_value`` is None) wait for that moment and draw with it."""
    import time
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    draw_at = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0) + timedelta(seconds=2)
    announced = {"public_value_source": "中国福利彩票 福彩3D", "public_value_draw_at": draw_at.isoformat()}
    body = {
        "code": code,
        "period_from": start,
        "period_to": end,
        "rounds": rounds,
        "repair": True,
        **announced,
    }
    created = client.post("/plans", json=body)
    assert created.status_code == 201, created.text
    if public_value is None:
        return
    time.sleep(max(0.0, (draw_at - datetime.now(ZoneInfo("Asia/Shanghai"))).total_seconds() + 0.5))
    drawn = client.post(f"/plans/{code}/draw", json={"public_value": public_value, **announced})
    assert drawn.status_code == 200, drawn.text
