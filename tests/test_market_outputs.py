"""The market side as reports and maps show it: the season's balance table and flagged sellers read back from a
rendered PDF (pdftotext), and the map layer of flagged holders and outlets."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import folium
import pytest
from fixtures import pdf_text
from market_fixtures import B, X, build_season
from sqlalchemy.orm import Session

from gi.market.balance import BalanceSettings, run_season
from gi.market.reads import flagged_places, flagged_sellers, season_balance
from gi.reads.season import gather_season
from gi.register.areas import find_product
from maps.folium_maps import season_map
from maps.market import balance_layer
from reports.campaign import campaign_report
from reports.layout import ReportMeta, ReportOptions, Styles, build_pdf
from reports.market import balance_section, flagged_sellers_section

OFFICE = ReportOptions(issuer="杭州市市场监督管理局")  # a published document names its issuer

pytestmark = pytest.mark.postgis


@pytest.fixture
def season(session: Session, loaded_register: None, tmp_path: Path) -> Session:
    """The constructed season with its balance run."""
    build_season(session, tmp_path)
    run_season(session, 2025, settings=BalanceSettings())
    return session


def test_read_models_of_the_season(season: Session) -> None:
    rows = {r.product_code: r for r in season_balance(season, [2025])}
    assert set(rows) == {"xihu-longjing", "wuchang-rice", "yangchenghu-crab"}
    longjing = rows["xihu-longjing"]
    assert (
        longjing.flags["listing_unauthorized"] == 3
        and longjing.capacity_estimate
        and longjing.capacity_year == 2021
    )
    assert rows["wuchang-rice"].flags == {}
    sellers = {(s.platform, s.shop): s for s in flagged_sellers(season, [2025])}
    suzhou = sellers[("淘宝", "苏州茗茶")]
    assert suzhou.credit_code == X and set(suzhou.kinds) == {
        "listing_unauthorized",
        "listing_ship_from_outside",
    }
    assert suzhou.ship_from == "江苏省苏州市姑苏区" and suzhou.target_id is not None
    assert sellers[("拼多多", "无照小店")].credit_code is None
    places = {p.credit_code: p for p in flagged_places(season, [2025])}
    # B: marks beyond capacity and after its authorization lapsed, and a listing of its own after that.
    assert set(places[B].kinds) == {"mark_outside_validity", "holder_over_capacity", "listing_unauthorized"}
    longjing_only = season_balance(season, [2025], [find_product(season, "西湖龙井").id])
    assert [r.product_code for r in longjing_only] == ["xihu-longjing"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_report_sections_print_the_balance_and_the_sellers(season: Session, tmp_path: Path) -> None:
    styles = Styles()
    story = balance_section(season_balance(season, [2025]), styles) + flagged_sellers_section(
        flagged_sellers(season, [2025]), styles
    )
    meta = ReportMeta("TEST-MARKET", "产销平衡测试", "产销平衡", datetime(2026, 1, 5), "测试市场监管局")
    pdf = build_pdf(tmp_path / "market.pdf", story, meta)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    for expected in (
        "地理标志产品产销平衡",
        "西湖龙井",
        "580,000（估算）",
        "专用标志发放量超过产能",
        "电商平台经营者授权信息核查",
        "苏州茗茶",
        "未公示",
        "发货地在保护范围外",
    ):
        assert expected in flat, expected
    # No season data: the sections say so instead of printing empty tables.
    empty = balance_section([], styles) + flagged_sellers_section([], styles)
    pdf = build_pdf(tmp_path / "empty.pdf", empty, meta)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "未进行产销平衡核查" in "".join(text.split())


def test_map_layer_of_flagged_holders_and_outlets(season: Session) -> None:
    places = flagged_places(season, [2025])
    fmap = folium.Map(location=[30.2, 120.1], zoom_start=8, tiles=None)
    balance_layer(places).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    page = fmap.get_root().render()
    assert (
        json.dumps(f"产销平衡预警的使用人与经营者（{len(places)}）")[1:-1] in page
    )  # the layer control's name
    assert "专用标志发放量超过产能" in page and B in page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_campaign_report_and_season_map_carry_the_market(season: Session, tmp_path: Path) -> None:
    from gi.origin.intake import record_sample

    # A campaign report needs samples (an empty period is 本期无抽检): one tea sample in each season.
    for day in ("2026-05-02", "2023-05-02"):
        fields = {"product": "xihu-longjing", "collected_at": f"{day}T09:40:00+08:00", "x": "120.100000"}
        record_sample(season, {**fields, "y": "30.226843", "crs": "WGS84", "lot_number": f"MKT-{day}"})
    # A 2026 spring campaign reads the 2025 season's balance (the last complete one).
    summary = gather_season(season, date(2026, 4, 1), date(2026, 6, 30))
    assert summary.market is not None and summary.market.seasons == (2025, 2026)
    assert {r.product_code for r in summary.market.balance} == {
        "xihu-longjing",
        "wuchang-rice",
        "yangchenghu-crab",
    }
    only = gather_season(season, date(2026, 4, 1), date(2026, 6, 30), ["阳澄湖大闸蟹"])
    assert only.market is not None and [r.product_code for r in only.market.balance] == ["yangchenghu-crab"]
    files = campaign_report(summary, tmp_path / "campaign.pdf", OFFICE)
    flat = "".join(pdf_text(files.pdf).split())
    for expected in (
        "产销平衡与电商平台经营者核查",
        "（一）地理标志产品产销平衡",
        "580,000（估算）",
        "苏州茗茶",
    ):
        assert expected in flat, expected
    page = season_map(summary).get_root().render()
    layer = f"产销平衡预警的使用人与经营者（{len(summary.market.places)}）"
    assert summary.market.places and json.dumps(layer)[1:-1] in page and B in page
    # Another season without balance runs: no market section, no layer.
    earlier = gather_season(season, date(2023, 4, 1), date(2023, 6, 30))
    assert earlier.market is not None and earlier.market.balance == []
    flat = "".join(pdf_text(campaign_report(earlier, tmp_path / "earlier.pdf", OFFICE).pdf).split())
    assert "产销平衡" not in flat
    assert "产销平衡预警" not in season_map(earlier).get_root().render()
