"""Shared helpers of the market tests: valid credit codes, directory files in CSV and xlsx, and places."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gi.market.capacity import import_capacity
from gi.market.credit_code import org_code_check, uscc_check
from gi.market.directories import import_outlets, import_producers
from gi.market.listings import import_listings
from gi.market.marks import import_authorizations, import_issuance
from gi.market.volumes import import_volumes

# Real published codes (their firms' business licences): 阿里巴巴（中国）有限公司, 小米科技有限责任公司.
ALIBABA = "91330100716105852F"
XIAOMI = "91110108551385082Q"

# Points (WGS84): 龙井村 in 西湖区 (inside 西湖龙井's area), Shanghai People's Square (outside every area),
# 五常市 centre, and 阳澄湖 (相城区 shore).
LONGJING_VILLAGE = (120.1195, 30.2290)
SHANGHAI = (121.4737, 31.2304)
WUCHANG = (127.1676, 44.9318)
YANGCHENG_LAKE = (120.7740, 31.4060)


def code(county: str, serial: int, kind: str = "1") -> str:
    """A valid unified social credit code registered in ``county`` (market regulation, ``kind`` 1 enterprise,
    3 cooperative) with a body made from ``serial``."""
    body = f"T{serial:07d}"
    first17 = "9" + kind + county + body + org_code_check(body)
    return first17 + uscc_check(first17)


def bad_check(valid: str) -> str:
    """``valid`` with a wrong 18th (check) character."""
    return valid[:-1] + ("0" if valid[-1] != "0" else "1")


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """A UTF-8 CSV file (with BOM, as Excel writes it)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """An .xlsx workbook with one sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


# ------------------------------------------------------------------ a constructed 2025 season of three products

A, B, C = code("330106", 501), code("330106", 502), code("330106", 503)
O1, O2 = code("310101", 511), code("310101", 512)
X = code("320505", 521)  # a Suzhou firm in no directory
W, WO = code("230184", 531, "3"), code("110105", 532)
CRAB, CRAB_SHOP = code("320507", 541, "3"), code("320505", 542)


def build_season(session: Session, tmp: Path) -> None:
    """Directories, authorizations, capacity, marks, outlet volumes and listings of three products."""
    import_producers(
        session,
        write_csv(
            tmp / "producers.csv",
            ["credit_code", "name", "product", "x", "y"],
            [
                [A, "甲茶农（测试）", "西湖龙井", *LONGJING_VILLAGE],
                [B, "乙茶企（测试）", "西湖龙井", *LONGJING_VILLAGE],
                [C, "丙茶企（测试）", "西湖龙井", *LONGJING_VILLAGE],
                [W, "稻米合作社（测试）", "五常大米", *WUCHANG],
                [CRAB, "蟹农合作社（测试）", "阳澄湖大闸蟹", *YANGCHENG_LAKE],
            ],
        ),
    )
    import_authorizations(
        session,
        write_csv(
            tmp / "auth.csv",
            ["产品", "核准编号", "统一社会信用代码", "核准日期", "有效期至", "公告"],
            [
                ["西湖龙井", "T-XH-1", A, "2024-03-01", "", "测试公告"],
                ["西湖龙井", "T-XH-2", B, "2024-03-01", "2025-03-31", "测试公告"],
                ["西湖龙井", "T-XH-3", C, "2024-03-01", "", "测试公告"],
                ["五常大米", "T-WC-1", W, "2023-09-01", "", "测试公告"],
                ["阳澄湖大闸蟹", "T-YC-1", CRAB, "2024-08-01", "", "测试公告"],
            ],
        ),
    )
    import_capacity(
        session,
        write_csv(
            tmp / "capacity.csv",
            ["product", "credit_code", "season", "basis", "area", "area_unit"],
            [
                ["西湖龙井", A, 2025, "茶园面积", 10, "亩"],  # 258.9 kg at 25.89 kg/亩
                ["西湖龙井", B, 2025, "茶园面积", 10, "亩"],
                ["西湖龙井", C, 2025, "茶园面积", 10, "亩"],
                ["五常大米", W, 2025, "种植面积", 100, "亩"],  # 52,500 kg at 525 kg/亩
                ["阳澄湖大闸蟹", CRAB, 2025, "池塘", 10, "亩"],  # 6,000 crabs at the 600-per-亩 cap
            ],
        ),
    )
    import_issuance(
        session,
        write_csv(
            tmp / "issuance.csv",
            ["product", "credit_code", "reference", "issued_on", "quantity", "unit", "unit_size"],
            [
                ["西湖龙井", A, "I-1", "2025-03-20", 800, "枚", "0.25"],  # 200 kg of 250 g labels
                ["西湖龙井", B, "I-2", "2025-03-20", 300, "kg", ""],
                ["西湖龙井", B, "I-3", "2025-04-10", 200, "斤", ""],  # 100 kg, after B's authorization ended
                ["西湖龙井", C, "I-4", "2025-03-25", 100, "kg", ""],
                ["五常大米", W, "I-5", "2025-10-20", 50, "t", ""],
                ["阳澄湖大闸蟹", CRAB, "I-6", "2025-09-26", 5000, "只", ""],
            ],
        ),
    )
    import_outlets(
        session,
        write_csv(
            tmp / "outlets.csv",
            ["credit_code", "name", "product", "suppliers"],
            [
                [O1, "守规茶店（测试）", "西湖龙井", A],
                [O2, "超量茶店（测试）", "西湖龙井", A],
                [WO, "粮油店（测试）", "五常大米", W],
            ],
        ),
    )
    import_volumes(
        session,
        write_csv(
            tmp / "volumes.csv",
            ["product", "credit_code", "reference", "observed_on", "quantity", "unit"],
            [
                ["西湖龙井", O1, "V-1", "2025-05-10", 150, "kg"],
                ["西湖龙井", O2, "V-2", "2025-05-10", 300, "kg"],
                ["五常大米", WO, "V-3", "2025-11-10", 10000, "kg"],
            ],
        ),
    )
    import_listings(
        session,
        write_csv(
            tmp / "listings.csv",
            [
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
            ],
            [
                [
                    "淘宝",
                    "1001",
                    "甲茶农店",
                    A,
                    "西湖龙井 明前 250g",
                    "",
                    *LONGJING_VILLAGE,
                    "WGS84",
                    100,
                    "盒",
                    "0.25",
                    "2025-04-01",
                ],
                [
                    "淘宝",
                    "1002",
                    "苏州茗茶",
                    X,
                    "正宗狮峰明前龙井 礼盒",
                    "江苏省苏州市姑苏区",
                    "",
                    "",
                    "",
                    300000,
                    "盒",
                    "2",
                    "2025-04-02",
                ],
                [
                    "拼多多",
                    "2001",
                    "无照小店",
                    "",
                    "杭州西湖龍井 新茶",
                    "",
                    *SHANGHAI,
                    "GCJ02",
                    10,
                    "盒",
                    "0.5",
                    "2025-04-03",
                ],
                [
                    "京东",
                    "3001",
                    "丙茶企旗舰店",
                    C,
                    "西湖龙井茶 特级",
                    "",
                    *LONGJING_VILLAGE,
                    "",
                    400,
                    "盒",
                    "0.5",
                    "2025-04-04",
                ],
                [
                    "淘宝",
                    "1003",
                    "乙茶企店",
                    B,
                    "西湖龙井 雨前",
                    "浙江省杭州市西湖区",
                    "",
                    "",
                    "",
                    10,
                    "盒",
                    "0.25",
                    "2025-06-01",
                ],
                ["京东", "3002", "杂货铺", X, "东北大米 10kg", "", "", "", "", 5, "袋", "10", "2025-11-01"],
                [
                    "京东",
                    "4001",
                    "稻米合作社店",
                    W,
                    "五常稻花香大米 5kg",
                    "",
                    *WUCHANG,
                    "",
                    1000,
                    "袋",
                    "5",
                    "2025-11-02",
                ],
                [
                    "京东",
                    "5001",
                    "蟹农旗舰店",
                    CRAB,
                    "阳澄湖大闸蟹 8只装",
                    "",
                    *YANGCHENG_LAKE,
                    "",
                    800,
                    "盒",
                    "8",
                    "2025-10-01",
                ],
            ],
        ),
    )
