"""The market sections of the campaign report: the season's mass balance (capacity, marks issued, volume seen on
the market, flags) and the table of flagged online sellers. Text in Chinese; figures from the latest balance run
of each product and season (gi.market.reads)."""

from __future__ import annotations

import re
from decimal import Decimal

from reportlab.platypus import CondPageBreak, Flowable

from gi.market.reads import BalanceRow, FlaggedSeller, MarketSummary
from gi.models import BALANCE_FLAG_ZH
from reports.layout import Styles, data_table, para

UNIT_ZH = {"kg": "千克", "piece": "件（只）"}


def _num(value: Decimal | None) -> str:
    return "未知" if value is None else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def _place(text: str) -> str:
    """A ship-from as printed: an address as given, a point as 坐标 lon, lat (WGS84)."""
    if not text:
        return "—"
    return f"坐标 {text}" if re.fullmatch(r"-?[\d.]+, -?[\d.]+", text) else text


def balance_section(rows: list[BalanceRow], s: Styles, sub: bool = False) -> list[Flowable]:
    """标志发放与产销平衡: one row per product and season, the flags by kind, and how capacity was obtained
    (``sub``: as a subsection, under a heading of the caller's)."""
    title = para("（一）地理标志产品产销平衡", s.h2) if sub else para("地理标志产品产销平衡", s.h1)
    out: list[Flowable] = [CondPageBreak(60 * 2.83), title]
    if not rows:
        out.append(para("本期未录入专用标志发放、产能、经营量或网络销售数据，未进行产销平衡核查。", s.body))
        return out
    out.append(
        para(
            "产能为保护范围内的种植面积（或养殖水面）与单产的乘积，或公开发布的年产量；标志发放量与市场流通量"
            "（经营者检查记录与网络销量）均折算为同一计量单位后与产能比较。比值大于 1 说明发放或流通数量超过产能，"
            "应核查标志转让、倒卖或假冒。",
            s.body,
        )
    )
    table_rows = []
    alert = []
    for i, r in enumerate(rows):
        flags = sum(r.flags.values())
        if flags:
            alert.append(i)
        capacity = _num(r.capacity) + ("（估算）" if r.capacity is not None and r.capacity_estimate else "")
        table_rows.append(
            [
                r.product_name_zh,
                r.season,
                UNIT_ZH.get(r.unit, r.unit),
                capacity,
                _num(r.issued),
                _ratio(r.issued_ratio),
                _num(r.market_volume),
                _ratio(r.market_ratio),
                flags,
            ]
        )
    out.append(
        data_table(
            ["产品", "产季", "单位", "产能", "标志发放量", "发放/产能", "市场流通量", "流通/产能", "预警"],
            table_rows,
            [24, 12, 15, 36, 24, 15, 24, 15, 11],
            s,
            align=["left", "centre", "centre", "right", "right", "right", "right", "right", "right"],
            highlight=alert,
        )
    )
    kinds: dict[str, int] = {}
    for r in rows:
        for k, n in r.flags.items():
            kinds[k] = kinds.get(k, 0) + n
    if kinds:
        out.append(para("预警按类型统计：", s.body_flush))
        out.append(
            data_table(
                ["预警类型", "数量"],
                [[BALANCE_FLAG_ZH[k], n] for k, n in sorted(kinds.items())],
                [120, 20],
                s,
                align=["left", "right"],
            )
        )
    estimated = sorted({r.product_name_zh for r in rows if r.capacity_estimate})
    if estimated:
        out.append(
            para(
                f"注：{'、'.join(estimated)}的产能为依据公开报道数据的估算值（取公布范围的上限），来源为新闻报道"
                "和主管部门公布的种植面积、产量数据，每项数字的出处载于本系统的地理标志产品登记簿。",
                s.note,
            )
        )
    return out


def flagged_sellers_section(sellers: list[FlaggedSeller], s: Styles, sub: bool = False) -> list[Flowable]:
    """网络经营者核查: flagged sellers with platform, shop, credit code, what was flagged and where they ship from
    (``sub``: as a subsection)."""
    title = (
        para("（二）电商平台经营者授权信息核查", s.h2) if sub else para("电商平台经营者授权信息核查", s.h1)
    )
    out: list[Flowable] = [CondPageBreak(50 * 2.83), title]
    if not sellers:
        out.append(para("本期抽查的网络商品链接中未发现未经核准使用地理标志名称或专用标志的经营者。", s.body))
        return out
    out.append(
        para(
            "下列网络经营者在商品标题中使用地理标志名称（含常见变体）或声称使用专用标志，经与专用标志核准使用人"
            "名录比对存在下列问题；已列入本期“网络市场”检查对象。",
            s.body,
        )
    )
    rows = [
        [
            x.product_name_zh,
            x.platform,
            x.shop + ("（合成）" if x.synthetic else ""),
            x.credit_code or "未公示",
            "；".join(BALANCE_FLAG_ZH[k] for k in x.kinds),
            _place(x.ship_from),
        ]
        for x in sellers
    ]
    out.append(
        data_table(
            ["产品", "平台", "店铺", "统一社会信用代码", "问题", "发货地"],
            rows,
            [22, 16, 30, 36, 48, 28],
            s,
            align=["left", "left", "left", "code", "left", "left"],
        )
    )
    return out


def market_section(market: MarketSummary, heading: Flowable, s: Styles) -> list[Flowable]:
    """The campaign report's market section under ``heading``: the balance table and the flagged sellers of the
    harvest years ``market.seasons``; nothing when no balance was run for them."""
    if not market.balance:
        return []
    years = "、".join(f"{y}年" for y in sorted({r.season for r in market.balance}))
    return [
        CondPageBreak(80 * 2.83),
        heading,
        para(
            f"依据专用标志核准使用人名录、标志发放记录、产能核定、经营者检查记录与网络商品链接（{years}产季，"
            "每个产品与产季取最近一次核查），核对地理标志产品的产销平衡与网络经营者的授权信息。",
            s.body,
        ),
        *balance_section(market.balance, s, sub=True),
        *flagged_sellers_section(market.sellers, s, sub=True),
    ]
