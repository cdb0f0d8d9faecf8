"""`gi demo`: the one place that shows the whole system on the real register."""

from __future__ import annotations

import logging

from api.commands.register import load_with_progress
from api.console import console, table
from gi import db as gi_db
from gi.db import session_scope
from gi.register.products import register_summary, short_standard


def demo() -> None:
    """Bring the database up, load the real GI register, and print its summary."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    gi_db.upgrade()
    console.rule("[bold]1. Register of GI products (地理标志产品名录)")
    report = load_with_progress()
    console.print(
        f"{report.products_added} products added, {report.products_updated} refreshed, "
        f"{report.area_versions_added} area versions added"
    )
    with session_scope() as session:
        rows = register_summary(session)
    console.print(
        table(
            "GI products and their protected areas (保护范围)",
            ["产品", "name", "类别", "standard", "area versions", "km²", "counties", "limits", "seasons"],
            [
                [
                    r.name_zh,
                    r.name_en,
                    r.category_zh,
                    short_standard(r.standard),
                    r.area_versions,
                    r.area_km2,
                    r.counties,
                    r.indicators,
                    r.seasons,
                ]
                for r in rows
            ],
        )
    )
    total = sum(r.area_km2 or 0 for r in rows)
    console.print(
        f"{len(rows)} products, {len({r.category for r in rows})} categories, "
        f"{total:,.0f} km² of protected area in all"
    )

    console.rule("[bold]2. Seasonal double-random inspection plan (双随机、一公开)")
    from api.commands.plan import run_planning_demo

    plan_id = run_planning_demo()

    console.rule("[bold]3. Origin control of the season's samples (产地控制)")
    from api.commands.check import run_origin_demo

    run_origin_demo()

    console.rule(
        "[bold]4. Characteristic quality and origin fingerprint of the season's samples (特色质量与产地指纹)"
    )
    from api.commands.quality import run_quality_demo

    run_quality_demo(source_prefix="demo season")

    console.rule("[bold]5. Season map, campaign report and public notice (地图与报告)")
    from api.commands.reports import run_maps_reports_demo
    from gi.models import Plan

    with session_scope() as session:
        plan = session.get(Plan, plan_id)
        period = (plan.period_from, plan.period_to) if plan else None
    run_maps_reports_demo(period=period)
