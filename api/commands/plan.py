"""`gi plan`: seasonal double-random inspection plans (双随机、一公开) — create (commit), draw, verify, show,
export, notice, results."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.console import console, err_console, table, working
from api.options import parse_day
from gi.db import session_scope
from gi.errors import InputError

if TYPE_CHECKING:  # the domain is imported when a command runs, so `gi --help` stays quick
    from sampling.planning import PlanSummary

app = typer.Typer(help="Seasonal double-random inspection plans (双随机、一公开).", no_args_is_help=True)


def _required_day(value: str, field: str) -> date:
    """A required YYYY-MM-DD option."""
    day = parse_day(value, field)
    if day is None:
        raise InputError(field, "a date (YYYY-MM-DD) is required")
    return day


def _product_ratio(text: str) -> tuple[str, object]:
    """``CODE=peak/regular/off`` in percent, e.g. ``yangchenghu-crab=20/5/0``."""
    from sampling.design import Ratios, percent_to_bp

    try:
        code, values = text.split("=", 1)
        peak, regular, off = values.split("/")
    except ValueError as exc:
        raise InputError("--product-ratio", f"{text!r} is not CODE=PEAK/REGULAR/OFF (percent)") from exc
    return code.strip(), Ratios(percent_to_bp(peak), percent_to_bp(regular), percent_to_bp(off))


@app.command("create")
def create(
    code: str = typer.Argument(..., help="Plan code, e.g. 2026Q4-GI."),
    period_from: str = typer.Option(
        ..., "--from", metavar="DATE", help="First day, YYYY-MM-DD (Asia/Shanghai)."
    ),
    period_to: str = typer.Option(..., "--to", metavar="DATE", help="Last day, YYYY-MM-DD."),
    rounds: int = typer.Option(3, help="Number of rounds the period is split into."),
    title: str = typer.Option(None, help="Title of the plan (default: from the code and period)."),
    product: list[str] = typer.Option(None, "--product", "-p", help="Product code (repeat); default all."),
    base: str = typer.Option("5", help="Base ratio per round in % (regular season)."),
    peak: str = typer.Option("15", help="Raised ratio per round in % (peak season)."),
    off_season: str = typer.Option(
        "5", "--off-season", help="Ratio per round in % outside every market window."
    ),
    product_ratio: list[str] = typer.Option(
        None, "--product-ratio", help="CODE=PEAK/REGULAR/OFF in % (repeat)."
    ),
    min_per_product: int = typer.Option(
        2, "--min-per-product", help="Minimum targets per product and round."
    ),
    min_per_county: int = typer.Option(
        1, "--min-per-county", help="Minimum per product and county over the plan."
    ),
    yearly_cap: int = typer.Option(
        2, "--yearly-cap", help="Maximum inspections per target per calendar year."
    ),
    min_gap_days: int = typer.Option(
        90, "--min-gap-days", help="No repeat inspection within this many days."
    ),
    inspectors_per_task: int = typer.Option(2, "--inspectors-per-task", help="Inspectors per target (>= 2)."),
    scope: str = typer.Option("province", help="Inspector pool: province or national."),
    level: str = typer.Option("II", help="ISO 2859-1 general inspection level: I, II or III."),
    lot_size: int = typer.Option(500, "--lot-size", help="Lot size the tasks' samples are computed for."),
    secret: str = typer.Option(
        None, help="Secret seed part (default: 32 random bytes); kept until the draw."
    ),
    out: Path = typer.Option(None, help="Export directory (default: out/plans/CODE)."),
) -> None:
    """Create a plan: freeze frame and parameters, publish the commitment (frame, parameters, hashes)."""
    from sampling.design import Ratios, percent_to_bp
    from sampling.export import export_plan
    from sampling.planning import create_plan

    start, end = _required_day(period_from, "--from"), _required_day(period_to, "--to")
    with working(f"freezing the frame of {code} and committing"), session_scope() as session:
        created = create_plan(
            session,
            code,
            title,
            start,
            end,
            rounds,
            products=product or None,
            secret=secret,
            ratios=Ratios(percent_to_bp(peak), percent_to_bp(base), percent_to_bp(off_season)),
            product_ratios=dict(_product_ratio(x) for x in product_ratio or []),
            min_per_product=min_per_product,
            min_per_county=min_per_county,
            yearly_cap=yearly_cap,
            min_gap_days=min_gap_days,
            inspectors_per_task=inspectors_per_task,
            inspector_scope=scope,
            inspection_level=level,
            lot_size=lot_size,
        )
        exported = export_plan(session, created.plan, out)
    # Printed once committed: the output describes what is stored.
    console.print(
        f"plan [bold]{created.plan.code}[/] committed: {len(created.frame.products)} products, "
        f"{len(created.frame.producers):,} targets, {len(created.frame.inspectors):,} inspectors, "
        f"{len(created.parameters.rounds)} rounds"
    )
    console.print(f"commitment SHA-256 [bold]{created.commitment.commitment_sha256}[/]")
    console.print(f"publish now, before the public value is known: {exported.directory / 'published'}")
    for warning in created.warnings:
        console.print(f"[yellow]warning[/] {warning}")


@app.command("draw")
def draw(
    plan: str = typer.Argument(..., help="Plan code or id."),
    public_value: str = typer.Option(..., "--public-value", help="Value known only after the commitment."),
    source: str = typer.Option("", help="Where the public value comes from (lottery, draw, second party)."),
    out: Path = typer.Option(None, help="Export directory (default: out/plans/CODE)."),
) -> None:
    """Reveal the secret, draw targets and inspectors with the public value, store the tasks, export."""
    from sampling.assign import InfeasiblePlanError
    from sampling.export import export_plan
    from sampling.planning import draw_plan, plan_summary

    try:
        with working(f"drawing {plan}"), session_scope() as session:
            drawn = draw_plan(session, plan, public_value, source)
            exported = export_plan(session, drawn.plan, out)
            summary = plan_summary(session, drawn.plan)
    except InfeasiblePlanError as exc:
        err_console.print(
            f"[bold red]infeasible:[/] {len(exc.problems)} target(s) cannot be staffed; nothing was stored"
        )
        for problem in exc.problems[:20]:
            err_console.print(f"  {problem.text()}", highlight=False)
        raise typer.Exit(1) from exc
    print_summary(summary)
    console.print(
        f"published files: {exported.directory / 'published'}  (verify: gi plan verify "
        f"{exported.directory / 'published'})"
    )


@app.command("verify")
def verify_cmd(
    files: list[Path] = typer.Argument(..., help="The export directory or the six published JSON files."),
) -> None:
    """Check the hashes and reproduce selection and assignment from the published files alone."""
    from sampling.verify import verify

    with working("reproducing the draw from the published files"):
        report = verify(files)
    console.print(
        table(
            f"verification of plan {report.plan}",
            ["check", "ok", "detail"],
            [[c.name, "✔" if c.ok else "✘", c.detail[:80]] for c in report.checks],
        )
    )
    console.print(
        f"committed {report.committed_at}; public value {report.public_value!r} "
        f"({report.public_value_source or 'source not given'}), revealed {report.revealed_at}"
    )
    if not report.ok:
        err_console.print("[bold red]NOT verified[/]: the files do not reproduce the published draw")
        raise typer.Exit(1)
    console.print(f"[bold green]verified[/]: {report.tasks} tasks reproduced exactly from the files")


@app.command("show")
def show(
    plan: str = typer.Argument(..., help="Plan code or id."),
    tasks: int = typer.Option(20, help="How many tasks to list (0: none)."),
) -> None:
    """Show a plan: commitment, strata per round, loads, results and the first tasks."""
    from sampling.planning import find_plan, plan_summary, tasks_of_plan

    with session_scope() as session:
        p = find_plan(session, plan)
        print_summary(plan_summary(session, p))
        rows = tasks_of_plan(session, p.id)[:tasks] if tasks else []
        if rows:
            console.print(
                table(
                    f"tasks (first {len(rows)})",
                    [
                        "id",
                        "round",
                        "#",
                        "product",
                        "target",
                        "county",
                        "π",
                        "weight",
                        "lot",
                        "inspectors",
                        "status",
                    ],
                    [
                        [
                            t.id,
                            t.round_number,
                            t.draw_order,
                            t.product.name_zh,
                            t.producer.name,
                            t.county_code,
                            f"{t.inclusion_probability:.3f}",
                            t.risk_weight,
                            f"{t.code_letter} {t.units_to_take}/{t.lot_size}",
                            " ".join(i.code for i in t.inspectors),
                            t.result.value if t.result else t.status.value,
                        ]
                        for t in rows
                    ],
                )
            )


@app.command("list")
def list_cmd() -> None:
    """List the plans, newest first."""
    from sampling.planning import list_plans

    with session_scope() as session:
        console.print(
            table(
                "plans",
                ["id", "code", "status", "from", "to", "rounds", "tasks", "title"],
                [
                    [
                        p.id,
                        p.code,
                        p.status.value,
                        str(p.period_from),
                        str(p.period_to),
                        len(p.rounds),
                        len(p.tasks),
                        p.title,
                    ]
                    for p in list_plans(session)
                ],
            )
        )


@app.command("export")
def export(
    plan: str = typer.Argument(..., help="Plan code or id."),
    out: Path = typer.Option(None, help="Directory (default: out/plans/CODE)."),
) -> None:
    """Export published files (JSON, notice CSV/Markdown) and the internal work list (CSV, Excel)."""
    from sampling.export import export_plan
    from sampling.planning import find_plan

    with working(f"exporting {plan}"), session_scope() as session:
        exported = export_plan(session, find_plan(session, plan), out)
    for path in exported.published:
        console.print(f"published  {path}")
    for path in exported.internal:
        console.print(f"internal   {path}")


@app.command("notice")
def notice(
    plan: str = typer.Argument(..., help="Plan code or id."),
    out: Path = typer.Option(None, help="Directory (default: out/plans/CODE/published)."),
) -> None:
    """Write the public notice of the targets drawn (no inspector data), with the results recorded so far."""
    from sampling.export import default_export_dir
    from sampling.notice import write_notice
    from sampling.planning import find_plan

    with session_scope() as session:
        p = find_plan(session, plan)
        if not p.tasks:
            raise InputError("plan", f"{p.code} has not been drawn yet")
        for path in write_notice(session, p, out or default_export_dir(p) / "published"):
            console.print(f"notice {path}")


@app.command("result")
def result(
    task_id: int = typer.Argument(..., help="Task id (see `gi plan show`)."),
    outcome: str = typer.Argument(..., help="conforming, nonconforming, inconclusive or not_found."),
    note: str = typer.Option(None, help="Short public note."),
) -> None:
    """Record the result of an inspection task; re-export to complete the public notice."""
    from sampling.planning import record_result

    with session_scope() as session:
        task = record_result(session, task_id, outcome, note)
        console.print(f"task {task.id} ({task.producer.name}): {task.result.value if task.result else ''}")


@app.command("conflict")
def conflict(
    inspector: str = typer.Argument(..., help="Inspector code."),
    producer_id: int = typer.Argument(..., help="Producer id."),
    reason: str = typer.Option(..., help="Declared reason for recusal (回避事由)."),
) -> None:
    """Declare a conflict of interest: the inspector is never drawn for that producer in later plans."""
    from sampling.planning import declare_conflict

    with session_scope() as session:
        declare_conflict(session, inspector, producer_id, reason)
    console.print(f"conflict recorded: {inspector} / producer {producer_id}")


def print_summary(summary: PlanSummary) -> None:
    """Print a PlanSummary: header, strata per round and product, rounds with loads, results."""
    console.print(
        f"[bold]{summary.code}[/] {summary.title} — {summary.status}, {summary.period_from} to "
        f"{summary.period_to}; frame: {summary.products} products, {summary.targets:,} targets, "
        f"{summary.inspectors:,} inspectors"
    )
    console.print(f"commitment {summary.commitment_sha256} (committed {summary.committed_at})")
    if summary.public_value:
        console.print(
            f"public value {summary.public_value!r} ({summary.public_value_source or '-'}); "
            f"seed {summary.seed}"
        )
    if summary.strata:
        products = sorted({s["product"] for s in summary.strata})
        numbers = sorted({s["round"] for s in summary.strata})
        cell = {(s["product"], s["round"]): s for s in summary.strata}
        kind_mark = {"peak": "▲", "regular": "", "off_season": "·"}
        console.print(
            table(
                "targets drawn per product and round (▲ peak season, · off season; n of eligible, counties)",
                ["product", *[f"round {n}" for n in numbers]],
                [
                    [
                        f"{summary.product_names.get(p, '')} {p}",
                        *[
                            f"{kind_mark[cell[p, n]['season_kind']]}{cell[p, n]['sample_size']} "
                            f"of {cell[p, n]['eligible']}"
                            f" ({len(cell[p, n]['counties'])})"
                            for n in numbers
                        ],
                    ]
                    for p in products
                ],
            )
        )
    if summary.rounds:
        console.print(
            table(
                "rounds",
                ["round", "from", "to", "tasks", "peak products", "inspectors used", "load min–max"],
                [
                    [
                        r.number,
                        str(r.starts_on),
                        str(r.ends_on),
                        r.tasks,
                        len(r.peak_products),
                        r.inspectors_used,
                        f"{r.load_min}–{r.load_max}",
                    ]
                    for r in summary.rounds
                ],
            )
        )
    if summary.results:
        console.print("tasks: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.results.items())))
