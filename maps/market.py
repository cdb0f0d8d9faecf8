"""The map layer of the market side: holders and outlets with mass-balance flags (gi.market.reads.FlaggedPlace),
one marker each, coloured by role, with the flags and the figures in the popup (Chinese, offline)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import folium

from gi.market.reads import FlaggedPlace
from gi.models import BALANCE_FLAG_ZH, PRODUCER_KIND_ZH

ROLE = {
    "producer": (PRODUCER_KIND_ZH["producer"], "fa-industry", "#9a3412"),
    "market_outlet": (PRODUCER_KIND_ZH["market_outlet"], "fa-store", "#6d28d9"),
    "online_seller": (PRODUCER_KIND_ZH["online_seller"], "fa-cart-shopping", "#be123c"),
}


def _row(label: str, value: object) -> str:
    return f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>" if value else ""


def balance_layer(places: Sequence[FlaggedPlace], show: bool = True) -> folium.FeatureGroup:
    """Markers of holders and outlets with balance flags in the season."""
    group = folium.FeatureGroup(name=f"产销平衡预警的使用人与经营者（{len(places)}）", show=show)
    for p in places:
        role, icon, colour = ROLE.get(p.kind, (p.kind, "fa-circle-exclamation", "#9a3412"))
        flags = "；".join(BALANCE_FLAG_ZH.get(k, k) for k in p.kinds)
        rows = "".join(
            [
                _row("类型", role),
                _row("统一社会信用代码", p.credit_code),
                _row("产品", p.product_name_zh),
                _row("预警", flags),
                _row("数据", "合成示例数据" if p.synthetic else ""),
            ]
        )
        popup = f'<div class="gi-popup"><h3>{html.escape(p.name)}</h3><table>{rows}</table></div>'
        folium.Marker(
            [p.lat, p.lon],
            icon=folium.DivIcon(
                html=f'<div class="gi-producer" style="background:{colour}"><i class="fa-solid {icon}"></i></div>',
                icon_size=(20, 20),
                icon_anchor=(10, 10),
                class_name="gi-balance-icon",
            ),
            popup=folium.Popup(popup, max_width=360),
            tooltip=html.escape(f"{p.name}（{flags}）"),
        ).add_to(group)
    return group
