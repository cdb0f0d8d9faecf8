"""Mass balance on constructed seasons: every flag fires on its case and none on a balanced season; a listing
that uses a GI name without authorization is flagged and its seller becomes a target; marks and capacity
imports convert units and refuse what cannot be converted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from market_fixtures import CRAB, O2, A, B, C, X, build_season, write_csv
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gi.market.balance import BalanceSettings, run_balance
from gi.market.capacity import product_capacity
from gi.market.directories import import_inspectors
from gi.market.marks import import_issuance
from gi.market.rows import RowsError
from gi.models import BalanceFlag, BalanceFlagKind, BalanceRun, GIProduct, Producer
from gi.register.areas import find_product
from sampling.design import DEFAULT_RISK_CAPS, DEFAULT_RISK_POINTS, risk_weight
from sampling.frames import ONLINE_SEGMENT, build_frame

pytestmark = pytest.mark.postgis


@pytest.fixture
def season(session: Session, loaded_register: None, tmp_path: Path) -> Session:
    """The constructed season, in the test's transaction."""
    build_season(session, tmp_path)
    return session


def _kinds(result) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, set[str]] = {}
    for f in result.flags:
        who = f.inputs.get("holder") or f.inputs.get("outlet") or f.inputs.get("seller") or ""
        if f.listing_id is not None:
            who = f"{f.inputs['platform']} {f.inputs['listing']}"
        out.setdefault(f.kind.value, set()).add(who)
    return out


def test_each_flag_fires_on_its_case(season: Session) -> None:
    longjing = find_product(season, "西湖龙井")
    result = run_balance(season, longjing, 2025, BalanceSettings())
    assert _kinds(result) == {
        "holder_over_capacity": {B},  # 400 kg issued against 258.9 kg
        "mark_outside_validity": {B},  # I-3 on 2025-04-10, authorization ended 2025-03-31
        "outlet_over_supply": {O2},  # 300 kg sold, its supplier A was issued 200 kg
        "listing_unauthorized": {"淘宝 1002", "拼多多 2001", "淘宝 1003"},  # unknown, no licence, lapsed
        "listing_ship_from_outside": {"淘宝 1002", "拼多多 2001"},  # 江苏 address; Shanghai point (GCJ-02)
        "listing_over_supply": {C},  # 200 kg online, 100 kg of marks issued
        "market_over_capacity": {""},  # 600,000 kg online alone against 580,000 kg
    }
    flags = {(f.kind.value, f.producer_id): f for f in result.flags}
    b = season.scalar(select(Producer).where(Producer.credit_code == B))
    assert b is not None
    over = flags[("holder_over_capacity", b.id)]
    assert (over.observed, over.allowed) == (Decimal("400"), Decimal("258.900"))
    assert over.inputs["capacity"][0]["yield_figure"]["value"] == 25.89  # the register's figure, stated
    assert over.inputs["capacity"][0]["yield_figure"]["estimate"] is True
    market = next(f for f in result.flags if f.kind is BalanceFlagKind.MARKET_OVER_CAPACITY)
    assert (
        market.inputs["capacity"]["figure"]["year"] == 2021
        and "used for season 2025" in market.inputs["capacity"]["note"]
    )
    assert result.run.inputs["settings"] == {"tolerance": "1", "market_factor": "1"}
    assert {h.credit_code: h.flags for h in result.holders}[A] == []  # 200 kg of 258.9 kg: balanced


def test_a_balanced_season_raises_no_flag(season: Session) -> None:
    wuchang = find_product(season, "五常大米")
    result = run_balance(season, wuchang, 2025, BalanceSettings())
    assert result.flags == []
    assert result.run.issued == Decimal("50000") and result.run.market_volume == Decimal("15000")
    assert result.run.capacity == Decimal("700000000")
    holder = result.holders[0]
    assert (holder.capacity, holder.issued, holder.online) == (
        Decimal("52500.000"),
        Decimal("50000"),
        Decimal("5000"),
    )
    # The same season with a stricter tolerance stays balanced; a market factor that makes the observed volume
    # exceed capacity flags the product, and the factor is stated.
    strict = run_balance(season, wuchang, 2025, BalanceSettings(Decimal(1), Decimal("0.00001")))
    assert [f.kind.value for f in strict.flags] == ["market_over_capacity"]
    assert strict.flags[0].inputs["market_factor"] == "0.00001"


def test_online_cap_per_mu_limits_a_crab_holder(season: Session) -> None:
    crab = find_product(season, "阳澄湖大闸蟹")
    assert product_capacity("yangchenghu-crab", 2025) is not None
    result = run_balance(season, crab, 2025, BalanceSettings())
    assert [f.kind.value for f in result.flags] == ["listing_over_supply"]
    flag = result.flags[0]
    assert (flag.observed, flag.allowed) == (
        Decimal("6400"),
        Decimal("5000"),
    )  # 800 boxes × 8 crabs, tags issued
    assert flag.inputs["online_cap"]["total"] == "6000" and flag.inputs["online_cap"]["per_mu"] == 600
    assert result.run.unit == "piece"


def test_unauthorized_listing_is_flagged_and_its_seller_becomes_a_target(season: Session) -> None:
    longjing = find_product(season, "西湖龙井")
    result = run_balance(season, longjing, 2025, BalanceSettings())
    targets = {(t.credit_code, t.platform, t.shop) for t in result.new_targets}
    assert targets == {(X, "淘宝", "苏州茗茶"), (None, "拼多多", "无照小店")}
    stored = season.scalars(
        select(Producer).where(Producer.product_id == longjing.id, Producer.kind == "online_seller")
    ).all()
    assert {(p.credit_code, p.shop) for p in stored} == {(X, "苏州茗茶"), (None, "无照小店")}
    assert next(p for p in stored if p.credit_code == X).county_code == "320505"
    unauthorized = [f for f in result.flags if f.kind is BalanceFlagKind.LISTING_UNAUTHORIZED]
    by_listing = {f.inputs["listing"]: f for f in unauthorized}
    assert (
        by_listing["1002"].inputs["name_match"] == "狮峰明前龙井"
        and by_listing["1002"].inputs["seller"] == "unknown"
    )
    assert by_listing["1003"].inputs["seller"] == "holder_not_valid"
    assert by_listing["2001"].producer_id in {p.id for p in stored}  # the flag names its target
    # A second run adds no duplicate targets.
    again = run_balance(season, longjing, 2025, BalanceSettings())
    assert again.new_targets == []
    shop = next(p for p in stored if p.credit_code is None)
    assert {f.producer_id for f in again.flags if f.inputs.get("listing") == "2001"} == {shop.id}
    # The rice listing of seller X ("东北大米") uses no GI name: not a 西湖龙井 listing, no flag anywhere.
    wuchang = season.scalar(select(GIProduct).where(GIProduct.code == "wuchang-rice"))
    assert wuchang is not None and run_balance(season, wuchang, 2025, BalanceSettings()).flags == []


def test_flagged_sellers_own_listings_are_linked_so_a_reimport_changes_nothing(
    season: Session, tmp_path: Path
) -> None:
    """The run that enters a flagged seller as a target links the listings it saw to it (by credit code, else
    by shop): importing the same listings file again is a no-op, not an update of every seller."""
    from gi.market.listings import import_listings
    from gi.models import Listing

    longjing = find_product(season, "西湖龙井")
    run_balance(season, longjing, 2025, BalanceSettings())
    linked = {
        x.listing_key: x.seller_id
        for x in season.scalars(select(Listing).where(Listing.product_id == longjing.id))
    }
    targets = {
        p.shop: p.id
        for p in season.scalars(
            select(Producer).where(Producer.product_id == longjing.id, Producer.kind == "online_seller")
        )
    }
    assert linked["1002"] == targets["苏州茗茶"] and linked["2001"] == targets["无照小店"]
    again = import_listings(season, tmp_path / "listings.csv")
    assert (again.created, again.updated, again.changes) == (0, 0, [])


def test_a_listing_change_names_the_seller_not_its_id(season: Session, tmp_path: Path) -> None:
    """A listing whose seller changed is reported by the sellers' names and credit codes (no database ids)."""
    from gi.market.listings import import_listings

    write_csv(
        tmp_path / "moved.csv",
        ["平台", "商品编号", "店铺名称", "经营者统一社会信用代码", "商品标题", "采集日期"],
        [["淘宝", "1001", "甲茶农店", B, "西湖龙井 明前 250g", "2025-04-01"]],
    )
    report = import_listings(season, tmp_path / "moved.csv")
    (change,) = report.changes
    assert "seller_id" not in change.fields
    stored, imported = change.fields["seller"]
    assert A in stored and B in imported and not any(c.isdigit() for c in stored.replace(A, ""))


def test_a_target_shop_showing_another_licence_is_not_entered_twice(season: Session) -> None:
    """The shop 苏州茗茶 becomes a target under credit code X; later it shows another firm's licence (a
    transferred shop). The shop stays one target: no second entry (the directory has one per platform and
    shop), no unique-key failure."""
    from gi.models import Listing

    longjing = find_product(season, "西湖龙井")
    first = run_balance(season, longjing, 2025, BalanceSettings())
    assert (X, "淘宝", "苏州茗茶") in {(t.credit_code, t.platform, t.shop) for t in first.new_targets}
    old = season.scalars(
        select(Listing).where(Listing.platform == "淘宝", Listing.listing_key == "1002")
    ).one()
    other = "91320505MA1XYZ0001"
    season.add(
        Listing(
            platform="淘宝",
            listing_key="1002-b",
            shop="苏州茗茶",
            seller_credit_code=other,
            title=old.title,
            product_id=old.product_id,
            name_match=old.name_match,
            claimed_gi=True,
            claimed_mark=False,
            observed_on=old.observed_on,
            season=old.season,
            source="a later observation",
            synthetic=False,
        )
    )
    season.flush()
    again = run_balance(season, longjing, 2025, BalanceSettings())
    assert again.new_targets == []
    shops = season.scalars(
        select(Producer).where(
            Producer.product_id == longjing.id, Producer.kind == "online_seller", Producer.shop == "苏州茗茶"
        )
    ).all()
    assert [p.credit_code for p in shops] == [X]


def test_marks_imports_convert_units_and_refuse_what_they_cannot(season: Session, tmp_path: Path) -> None:
    with pytest.raises(RowsError) as caught:
        import_issuance(
            season,
            write_csv(
                tmp_path / "bad.csv",
                ["product", "credit_code", "reference", "issued_on", "quantity", "unit"],
                [
                    ["西湖龙井", A, "I-9", "2025-03-20", 10, "盒"],  # a box without its net content
                    ["阳澄湖大闸蟹", CRAB, "I-10", "2025-09-26", 10, "kg"],  # crabs are counted
                    ["西湖龙井", X, "I-11", "2025-03-20", 10, "kg"],  # not a holder
                    ["西湖龙井", A, "I-12", "2025-03-20", 10, "桶"],
                ],
            ),
        )
    assert {(p.row, p.column) for p in caught.value.problems} == {(2, "unit_size"), (3, "unit"), (5, "unit")}
    with pytest.raises(RowsError, match="not in the producers' directory"):
        import_issuance(
            season,
            write_csv(
                tmp_path / "bad2.csv",
                ["product", "credit_code", "reference", "issued_on", "quantity", "unit"],
                [["西湖龙井", X, "I-11", "2025-03-20", 10, "kg"]],
            ),
        )
    report = import_issuance(
        season,
        write_csv(
            tmp_path / "again.csv",
            ["product", "credit_code", "reference", "issued_on", "quantity", "unit", "unit_size"],
            [["西湖龙井", A, "I-1", "2025-03-20", 1000, "枚", "0.25"]],
        ),
    )
    assert report.updated == 1
    assert report.changes[0].fields["balance_quantity"] == (Decimal("200.000"), Decimal("250.00"))


def test_balance_runs_and_flags_are_append_only_under_the_audit_log(season: Session) -> None:
    longjing = find_product(season, "西湖龙井")
    result = run_balance(season, longjing, 2025, BalanceSettings())
    captured = dict(
        season.execute(
            text(
                "SELECT kind, sum(leaf_count) FROM audit_pending WHERE kind IN "
                "('balance_run', 'balance_flag', 'mark_issuance', 'mark_authorization', 'listing') GROUP BY kind"
            )
        ).all()
    )
    assert captured["balance_run"] == 1 and captured["balance_flag"] == len(result.flags) > 0
    assert captured["mark_issuance"] > 0 and captured["mark_authorization"] > 0 and captured["listing"] > 0
    for statement in (
        update(BalanceFlag).where(BalanceFlag.id == result.flags[0].id).values(threshold=2),
        update(BalanceRun).where(BalanceRun.id == result.run.id).values(season=2024),
    ):
        with pytest.raises(DBAPIError, match="append-only"), season.begin_nested():
            season.execute(statement)


def test_flags_weigh_in_the_frame_and_flagged_sellers_form_the_online_stratum(season: Session) -> None:
    longjing = find_product(season, "西湖龙井")
    run_balance(season, longjing, 2025, BalanceSettings())
    import_inspectors(season, Path(__file__).parents[1] / "examples" / "market" / "inspectors.csv")
    # The first quarter of 2025, while B's authorization is valid: the 2025 season's flags count.
    frame = build_frame(season, "MK-RISK", date(2025, 1, 1), date(2025, 3, 31), ["xihu-longjing"])
    by_code = {p.credit_code: p for p in frame.producers}
    # B: marks beyond its capacity, after its authorization lapsed, and sold online under the name after that;
    # O2 sold beyond its supplier's marks; A balanced.
    assert by_code[B].risk["balance_flags"] == 3 and by_code[O2].risk["balance_flags"] == 1
    assert by_code[A].risk["balance_flags"] == 0
    flags_only = {k: (v if k == "balance_flags" else 0) for k, v in by_code[B].risk.items()}
    points, caps = DEFAULT_RISK_POINTS, DEFAULT_RISK_CAPS
    assert caps["balance_flags"] == 2  # three kinds count as two
    assert risk_weight(flags_only, SimpleNamespace(risk_points=points, risk_caps=caps)) == 100 + 2 * 100  # type: ignore[arg-type]
    online = [p for p in frame.producers if p.kind == "online_seller"]
    assert {p.name for p in online} == {"苏州茗茶", "无照小店"}
    assert all(p.segment == ONLINE_SEGMENT and p.risk["balance_flags"] >= 1 for p in online)
    shop = next(p for p in online if not p.credit_code)
    assert shop.county == "000000" and shop.pool == "*"  # known only by its shop: checked online, any pool
    assert all(p.segment == "" for p in frame.producers if p.kind != "online_seller")
    # The flags are carried in the published frame, so the draw stays verifiable from the files.
    assert frame.to_dict()["producers"][0]["risk"].keys() >= {"balance_flags"}
