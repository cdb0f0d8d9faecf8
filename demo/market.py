"""Demo step: the market side of a season on the synthetic directories and the register's real published
capacity figures.

For the three products whose capacity the register cites (西湖龙井, 五常大米, 阳澄湖大闸蟹) the step writes clearly
labelled synthetic office files (every name starts with 合成) under ``out/demo/market/``: authorizations of the
directory's holders (one lapses before the season), each holder's production base, the marks issued to them
(most within capacity, one holder at 1.6 times its capacity, one after its authorization lapsed), outlets'
suppliers and volumes (one outlet selling three times its suppliers' marks), and online listings (authorized
holders and outlets, unauthorized sellers using the name or its variants and shipping from elsewhere, a shop
without a licence). The files go through the same imports an office uses; then the season's balance runs,
its flags are stored with their inputs, and the flagged online sellers become targets of the next plan's
online-market stratum. Everything is drawn from a fixed seed, so a second run changes nothing but adds a run.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from sqlalchemy import select

from demo.directories import SYNTHETIC_PREFIX, create_synthetic_directory, make_uscc
from geo_data.register import MarketFacts
from gi.db import session_scope
from gi.market.balance import BalanceResult, BalanceSettings, run_season
from gi.market.capacity import import_capacity, market_facts, per_mu_figure
from gi.market.directories import import_outlets
from gi.market.listings import import_listings
from gi.market.marks import import_authorizations, import_issuance
from gi.market.reads import BalanceRow, FlaggedSeller, flagged_sellers, season_balance
from gi.market.rows import ImportReport
from gi.market.volumes import import_volumes
from gi.models import GIProduct, Producer
from gi.settings import get_settings

PRODUCTS = ("xihu-longjing", "wuchang-rice", "yangchenghu-crab")
SEED = 20261616


@dataclass(frozen=True)
class ProductPlan:
    """How the demo makes up one product's season: production base, how marks are issued and listings sell,
    listing titles (the name and its variants), and places outside the area for unauthorized sellers."""

    basis: str
    area: tuple[int, int]  # 亩 per holder
    issue_unit: str
    issue_size: Decimal | None  # kg per label, or None for mass or counted units
    sell_unit: str
    sell_size: Decimal  # kg or items per unit sold online
    titles: tuple[str, str, str]
    elsewhere: tuple[tuple[str, str], ...]  # (address, county code)
    gcj02: tuple[float, float]  # a ship-from point outside the area, as a map app gives it


PLAN: dict[str, ProductPlan] = {
    "xihu-longjing": ProductPlan(
        "茶园面积",
        (5, 60),
        "枚",
        Decimal("0.25"),
        "盒",
        Decimal("0.25"),
        ("{y}新茶 西湖龙井 明前特级 250g", "正宗狮峰明前龙井 礼盒装", "杭州西湖龍井茶 雨前 半斤"),
        (("江苏省苏州市", "320505"), ("安徽省黄山市", "341002")),
        (121.4795, 31.2363),
    ),
    "wuchang-rice": ProductPlan(
        "种植面积",
        (200, 3000),
        "吨",
        None,
        "袋",
        Decimal("5"),
        ("五常大米 稻花香2号 5kg 新米", "五常稻花香大米 10斤 真空装", "东北五常香米 长粒香"),
        (("吉林省长春市", "220102"), ("辽宁省沈阳市", "210102")),
        (125.3245, 43.8868),
    ),
    "yangchenghu-crab": ProductPlan(
        "池塘",
        (20, 150),
        "只",
        None,
        "盒",
        Decimal("8"),
        ("阳澄湖大闸蟹 公4母3 8只装", "陽澄湖大閘蟹 鲜活现货", "阳澄湖清水大闸蟹 礼券"),
        (("安徽省宣城市", "341802"), ("江苏省泰州市", "321202")),
        (118.7969, 32.0603),
    ),
}
# Where the synthetic online sellers registered their firms (their credit codes' counties): flagged, they
# become targets in those provinces, which the directory therefore staffs with inspectors too.
ONLINE_SELLER_COUNTIES = tuple(sorted({county for spec in PLAN.values() for _, county in spec.elsewhere}))
YIELD_SHARE = (0.55, 0.95)  # marks issued as a share of capacity, for the ordinary holders


@dataclass
class MarketStep:
    """What the market step did: its files and imports, the balance runs, the table and the flagged sellers."""

    season: int
    directory: Path
    imports: list[ImportReport] = field(default_factory=list)
    results: list[BalanceResult] = field(default_factory=list)
    rows: list[BalanceRow] = field(default_factory=list)
    sellers: list[FlaggedSeller] = field(default_factory=list)
    targets_added: int = 0


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_market_files(season: tuple[date, date], directory: Path) -> dict[str, Path]:
    """Write the synthetic market files of the season from the directory's holders and outlets."""
    rng = np.random.default_rng(SEED)
    start, end = season
    year = start.year
    files: dict[str, list[list[object]]] = {
        k: [] for k in ("auth", "capacity", "issuance", "outlets", "volumes", "listings")
    }
    with session_scope() as session:
        for code in PRODUCTS:
            product = session.scalar(select(GIProduct).where(GIProduct.code == code))
            facts = market_facts(code)
            if product is None or facts is None:
                continue
            spec = PLAN[code]
            members = list(
                session.scalars(
                    select(Producer)
                    .where(Producer.product_id == product.id, Producer.synthetic.is_(True))
                    .order_by(Producer.id)
                )
            )
            holders = [p for p in members if p.kind == "producer" and p.credit_code]
            outlets = [p for p in members if p.kind == "market_outlet" and p.credit_code]
            if len(holders) < 4:
                continue
            low, high = spec.area
            yield_per_mu = _per_mu(facts)
            over, lapsed = holders[1], holders[2]
            issued: dict[str, Decimal] = {}
            for i, h in enumerate(holders):
                valid_from = h.authorized_from or date(year - 3, 1, 1)
                valid_to = start - timedelta(days=20) if h is lapsed else None
                files["auth"].append(
                    [
                        product.name_zh,
                        h.authorization_number or f"合成-{h.id}",
                        h.credit_code,
                        h.name,
                        valid_from,
                        valid_to or "",
                        "合成示例公告（非真实公告）",
                    ]
                )
                area = int(rng.integers(low, high + 1))
                files["capacity"].append([product.name_zh, h.credit_code, year, spec.basis, area, "亩"])
                capacity = Decimal(area) * yield_per_mu
                share = Decimal("1.6") if h is over else Decimal(str(round(rng.uniform(*YIELD_SHARE), 2)))
                quantity_balance = (capacity * share).quantize(Decimal("1"))
                issued[str(h.credit_code)] = quantity_balance
                unit, size = spec.issue_unit, spec.issue_size
                quantity = (
                    quantity_balance / size
                    if size
                    else (quantity_balance / 1000 if unit == "吨" else quantity_balance)
                )
                day = (
                    start + timedelta(days=int(rng.integers(0, 20)))
                    if h is lapsed
                    else start - timedelta(days=int(rng.integers(5, 60)))
                )
                files["issuance"].append(
                    [
                        product.name_zh,
                        h.credit_code,
                        f"合成-{code}-{year}-{i + 1:03d}",
                        day,
                        f"{quantity.quantize(Decimal('0.001')):f}",
                        unit,
                        size or "",
                        year,
                    ]
                )
            for j, o in enumerate(outlets):
                suppliers = [
                    holders[int(k)]
                    for k in rng.choice(len(holders), size=min(2, len(holders)), replace=False)
                ]
                files["outlets"].append(
                    [o.credit_code, o.name, product.name_zh, "；".join(str(s.credit_code) for s in suppliers)]
                )
                supply = sum((issued[str(s.credit_code)] for s in suppliers), Decimal(0))
                factor = Decimal(3) if j == 0 else Decimal(str(round(rng.uniform(0.05, 0.3), 2)))
                files["volumes"].append(
                    [
                        product.name_zh,
                        o.credit_code,
                        f"合成-检查-{code}-{j + 1:03d}",
                        start + timedelta(days=30 + j),
                        f"{(supply * factor).quantize(Decimal('1')):f}",
                        "千克" if facts.balance_unit == "kg" else "只",
                    ]
                )
            titles = spec.titles
            sell_unit, sell_size = spec.sell_unit, spec.sell_size
            day = start + timedelta(days=15)
            for k, h in enumerate(holders[3:6]):
                sold = (
                    issued[str(h.credit_code)] * Decimal(str(round(rng.uniform(0.1, 0.4), 2))) / sell_size
                ).quantize(Decimal("1"))
                files["listings"].append(
                    [
                        "天猫",
                        f"合成-{code}-H{k}",
                        f"{h.name}旗舰店",
                        h.credit_code,
                        titles[0].format(y=year),
                        "",
                        "",
                        "",
                        "",
                        f"{sold:f}",
                        sell_unit,
                        f"{sell_size:f}",
                        day,
                        "是",
                    ]
                )
            if outlets:
                o = outlets[-1]
                files["listings"].append(
                    [
                        "京东",
                        f"合成-{code}-O",
                        f"{o.name}网店",
                        o.credit_code,
                        titles[0].format(y=year),
                        "",
                        "",
                        "",
                        "",
                        "40",
                        sell_unit,
                        f"{sell_size:f}",
                        day,
                        "是",
                    ]
                )
            for k, (place, county) in enumerate(spec.elsewhere):
                # Its own stream per product and shop: the same code on every run, whatever else the directory holds.
                seller = make_uscc(county, np.random.default_rng([SEED, zlib.crc32(code.encode()), k]))
                files["listings"].append(
                    [
                        "淘宝",
                        f"合成-{code}-U{k}",
                        f"{SYNTHETIC_PREFIX}·优选店{k + 1}",
                        seller,
                        titles[1 + k % 2].format(y=year),
                        place,
                        "",
                        "",
                        "",
                        f"{int(rng.integers(500, 5000))}",
                        sell_unit,
                        f"{sell_size:f}",
                        day + timedelta(days=k),
                        "是",
                    ]
                )
            x, y = spec.gcj02
            files["listings"].append(
                [
                    "拼多多",
                    f"合成-{code}-N",
                    f"{SYNTHETIC_PREFIX}·无照小店",
                    "",
                    titles[2].format(y=year),
                    "",
                    x,
                    y,
                    "GCJ02",
                    "900",
                    sell_unit,
                    f"{sell_size:f}",
                    day,
                    "是",
                ]
            )
    header = {
        "auth": ["地理标志产品", "核准编号", "统一社会信用代码", "名称", "核准日期", "有效期至", "公告"],
        "capacity": ["地理标志产品", "统一社会信用代码", "年度", "类型", "面积", "面积单位"],
        "issuance": [
            "地理标志产品",
            "统一社会信用代码",
            "发放单号",
            "发放日期",
            "数量",
            "单位",
            "规格",
            "年度",
        ],
        "outlets": ["统一社会信用代码", "名称", "产品", "供货方信用代码"],
        "volumes": ["地理标志产品", "统一社会信用代码", "检查记录编号", "检查日期", "数量", "单位"],
        "listings": [
            "平台",
            "商品编号",
            "店铺名称",
            "经营者统一社会信用代码",
            "商品标题",
            "发货地",
            "经度",
            "纬度",
            "坐标系",
            "销量",
            "销量单位",
            "规格",
            "采集日期",
            "合成",
        ],
    }
    names = {
        "auth": "合成_专用标志核准.csv",
        "capacity": "合成_产能.csv",
        "issuance": "合成_标志发放.csv",
        "outlets": "合成_经营者供货方.csv",
        "volumes": "合成_经营量.csv",
        "listings": "合成_网络商品.csv",
    }
    return {k: _csv(directory / names[k], header[k], rows) for k, rows in files.items() if rows}


def _per_mu(facts: MarketFacts) -> Decimal:
    figure = per_mu_figure(facts, "yield") or per_mu_figure(facts, "sale_cap")
    assert figure is not None
    return Decimal(str(figure.value))


def market_season(
    season: tuple[date, date], reference_day: date, producers_per_product: int = 40
) -> MarketStep:
    """Directories (once), the season's synthetic market files through the office imports, and the balance."""
    with session_scope() as session:
        create_synthetic_directory(
            session,
            producers_per_product=producers_per_product,
            today=reference_day,
            target_counties=ONLINE_SELLER_COUNTIES,
        )
    directory = get_settings().output_dir / "demo" / "market"
    step = MarketStep(season[0].year, directory)
    files = write_market_files(season, directory)
    importers = [
        ("auth", import_authorizations),
        ("capacity", import_capacity),
        ("issuance", import_issuance),
        ("outlets", import_outlets),
        ("volumes", import_volumes),
        ("listings", import_listings),
    ]
    for key, importer in importers:
        if key in files:
            with session_scope() as session:
                step.imports.append(importer(session, files[key]))
    with session_scope() as session:
        step.results = run_season(session, step.season, settings=BalanceSettings.from_settings())
        step.targets_added = sum(len(r.new_targets) for r in step.results)
    with session_scope() as session:
        step.rows = season_balance(session, [step.season])
        step.sellers = flagged_sellers(session, [step.season])
    return step


def last_season_market(today: date | None = None) -> MarketStep:
    """The market step of the demo: the season a year before the demo's plan season, on the directories the plan
    reads (so last season's flags and flagged sellers weigh in this season's draw)."""
    from demo.planning import demo_season

    period_from, period_to = demo_season(today)
    last = (_year_before(period_from), _year_before(period_to))
    return market_season(last, reference_day=period_to + timedelta(days=1))


def _year_before(day: date) -> date:
    """The same day a year earlier (28 February for a 29th)."""
    return day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)
