"""`gi demo`: the one place that shows the whole system on the real register.

Each step is a function of the `demo` package that does the work and returns what it did; this module only
shows progress and prints the results.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from api.commands.check import print_summary as print_intake_summary
from api.commands.market import print_market_step
from api.commands.plan import print_summary
from api.commands.quality import print_evidence_table, print_quality_table
from api.console import console, progress_callback, table
from gi.register.products import short_standard

if (
    TYPE_CHECKING
):  # the steps import maps, reports and statistics: only `gi demo` loads them (not every command)
    from demo.origin import OriginStep
    from demo.outputs import OutputsStep
    from demo.planning import FindingsStep, PlanStep
    from demo.quality import QualityStep
    from demo.register import RegisterStep

ORIGIN_LINES = 40  # samples listed in the origin step's table; the rest are ordinary


def demo() -> None:
    """Bring the database up, load the real register, balance last season's market, then plan, sample, judge,
    map and report a season."""
    from demo.market import last_season_market
    from demo.origin import DEMO_SOURCE_PREFIX, check_season
    from demo.outputs import write_season_outputs
    from demo.planning import plan_season, publish_findings
    from demo.quality import judge_season
    from demo.register import load_register

    logging.getLogger("alembic").setLevel(logging.WARNING)
    console.rule("[bold]1. Register of GI products (地理标志产品名录)")
    with progress_callback("loading register") as on_progress:
        register = load_register(on_progress)
    print_register_step(register)

    console.rule("[bold]2. Last season's market: marks, capacity, mass balance, online sellers (产销平衡)")
    with progress_callback("the market side") as on_progress:
        on_progress("synthetic directories and office files, imports, balance", 0, None)
        market = last_season_market()
    print_market_step(market)

    console.rule("[bold]3. Seasonal double-random inspection plan (双随机、一公开)")
    with progress_callback("planning the season") as on_progress:
        on_progress("synthetic directories, plan, draw and verification", 0, None)
        planning = plan_season()
    print_plan_step(planning)

    console.rule("[bold]4. Origin control of the season's samples (产地控制)")
    with progress_callback("checking the season's samples") as on_progress:
        on_progress("simulating, checking and storing the season's samples", 0, None)
        origin = check_season()
    print_origin_step(origin)

    console.rule(
        "[bold]5. Characteristic quality and origin fingerprint of the season's samples (特色质量与产地指纹)"
    )
    with progress_callback("judging") as on_progress:
        quality = judge_season(source_prefix=DEMO_SOURCE_PREFIX, on_progress=on_progress)
    print_quality_step(quality)

    console.rule("[bold]6. The plan's results, published (检查结果公开)")
    with progress_callback("publishing the results") as on_progress:
        on_progress("task results from the final findings, published files", 0, None)
        published = publish_findings(planning.code)
    print_findings_step(published)

    console.rule("[bold]7. Season map, campaign report and public notice (地图与报告)")
    with progress_callback("maps and reports") as on_progress:
        outputs = write_season_outputs(period=planning.period, on_progress=on_progress)
    print_outputs_step(outputs)


def print_register_step(step: RegisterStep) -> None:
    """What the load changed, and the register's products with their areas."""
    load = step.load
    console.print(
        f"{load.products_added} products added, {load.products_updated} refreshed, "
        f"{load.area_versions_added} area versions added"
    )
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
                for r in step.products
            ],
        )
    )
    console.print(
        f"{len(step.products)} products, {step.categories} categories, "
        f"{step.area_km2:,.0f} km² of protected area in all"
    )


def print_plan_step(step: PlanStep) -> None:
    """The synthetic directories, the plan's commitment and draw, the verification, and the plan summary."""
    d = step.directory
    if d.county_source == "already present":
        console.print(
            f"synthetic directories (合成数据, clearly labelled) already present: {d.producers} "
            f"targets, {d.inspectors} inspectors"
        )
    else:
        console.print(
            f"synthetic directories (合成数据, clearly labelled): {d.producers} targets "
            f"({d.outside} placed outside their area, {d.market_outlets} market outlets), "
            f"{d.inspectors} inspectors, {d.conflicts} declared conflicts, "
            f"{d.complaints} complaints; counties from {d.county_source}"
        )
    if step.created:
        console.print(f"plan {step.code} committed: commitment SHA-256 {step.commitment_sha256}")
        for warning in step.warnings:
            console.print(f"[yellow]warning[/] {warning}")
        if step.reference_tasks:
            planned = ", ".join(f"{name} {n}" for name, n in step.reference_tasks.items())
            console.print(
                f"reference-collection tasks planned with it, apart from the inspections "
                f"({sum(step.reference_tasks.values())}; the bundled references are synthetic): {planned}"
            )
    else:
        console.print(f"plan {step.code} exists already (status {step.status_before}); reusing it")
    if step.drawn_now:
        console.print(f"drawn with the public value {step.public_value!r}")
    verification = step.verification
    failed = [c.name for c in verification.checks if not c.ok]
    console.print(
        f"verification from the exported files alone ({step.published}): "
        + (
            f"[bold green]reproduced exactly[/], {verification.tasks} tasks"
            if verification.ok
            else f"[bold red]FAILED[/] {failed}"
        )
    )
    if step.summary is not None:
        print_summary(step.summary)


def print_origin_step(step: OriginStep, show: int = ORIGIN_LINES) -> None:
    """The simulated samples with their verdicts (the unusual ones first), then the batch summary."""
    lines = step.lines
    console.print(
        table(
            f"Simulated season: {len(lines)} samples, origin verdicts (产地核验结果)",
            ["#", "product", "scenario", "CRS", "acc. m", "verdict", "distance m", "flags"],
            [
                [
                    s.row,
                    s.product,
                    s.scenario,
                    s.crs,
                    s.accuracy_m,
                    s.verdict,
                    s.distance_m,
                    ", ".join(s.flags),
                ]
                for s in lines[:show]
            ],
            justify_numbers=False,
        )
    )
    if len(lines) > show:
        console.print(f"... {len(lines) - show} more ordinary samples inside their areas")
    print_intake_summary(step.result.summary(), title="Season summary by product")


def print_quality_step(step: QualityStep) -> None:
    """What was simulated, then the quality and origin-evidence tables."""
    if not step.checks:
        console.print("no samples: nothing to judge")
        return
    sim = step.simulated
    if sim is None:
        console.print(f"all {len(step.checks)} samples already have lab results: judging them again")
    else:
        console.print(
            f"{sim.results} simulated results for {sim.samples} samples (laboratory '模拟实验室（演示数据）', "
            f"synthetic): {sim.scenarios['conforming']} conforming, {sim.scenarios['fail']} with a failing "
            f"indicator, {sim.scenarios['near_limit']} near a limit, {sim.scenarios['missing']} with a "
            f"mandatory indicator untested; {sim.mismatched} with isotopes/elements from another area"
        )
    if step.rules:
        console.print(
            "judged under the simulated control plan's decision rules (the products' own configuration is "
            "unchanged): " + ", ".join(f"{code} {kind}" for code, kind in sorted(step.rules.items()))
        )
    print_quality_table(step.checks)
    print_evidence_table(step.checks)
    console.print(
        "[dim]Fingerprint references are SYNTHETIC (geo_data/references/SOURCES.md); limits from the "
        "register's standards (gi products show).[/]"
    )


def print_findings_step(step: FindingsStep) -> None:
    """The task results recorded from the final findings, and the re-published files' verification."""
    f = step.findings
    console.print(
        f"results of {f.plan_code} recorded from the final findings: {f.recorded['conforming']} conforming (合格), "
        f"{f.recorded['nonconforming']} nonconforming (不合格); {f.to_verify} still to verify (待核实) and "
        f"{f.unsampled} not sampled stay open; {f.kept} recorded before, kept"
    )
    verification = step.verification
    state = "[green]verified[/]" if verification.ok else "[red]NOT verified[/]"
    console.print(f"published files with the results: {step.published} ({state})")


def print_outputs_step(step: OutputsStep) -> None:
    """The season and the paths of the files written."""
    if step.summary is None:
        console.print(f"[yellow]maps and reports skipped:[/] {step.skipped}")
        return
    summary = step.summary
    console.print(f"season {summary.period}: {len(summary.samples):,} samples, {len(summary.areas)} products")
    console.print(f"season map (HTML, opens offline): {step.season_map}")
    console.print(f"campaign report (PDF): {step.campaign_report}")
    for path in step.attachments:
        console.print(f"attachment (CSV): {path}")
    console.print(f"public notice (PDF): {step.public_notice}")
