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
    period_to: str = typer.Option(
        ...,
        "--to",
        metavar="DATE",
        help="Last day, YYYY-MM-DD; a plan covers at most one year (366 days).",
    ),
    value_source: str = typer.Option(
        ...,
        "--value-source",
        metavar="TEXT",
        help="Announced source of the public value, e.g. '中国福利彩票 福彩3D'.",
    ),
    value_date: str = typer.Option(
        ...,
        "--value-date",
        metavar="DATE",
        help="Date (YYYY-MM-DD, after today) or date-time with offset of the announced draw whose value is used.",
    ),
    value_issue: str = typer.Option(
        "", "--value-issue", metavar="TEXT", help="Issue number of the announced draw, e.g. 2026309."
    ),
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
    supersedes: str = typer.Option(
        None, "--supersedes", help="The failed plan this plan re-draws (named in the new commitment)."
    ),
    repair: bool = typer.Option(
        False, "--repair", help="Widen the pools of targets or pools that cannot be staffed, and report it."
    ),
    secret: str = typer.Option(
        None, help="Secret seed part (default: 32 random bytes); kept until the draw."
    ),
    out: Path = typer.Option(None, help="Export directory (default: out/plans/CODE)."),
    reference_tasks: bool = typer.Option(
        True, help="Plan reference-collection tasks where a product's fingerprint references are thin."
    ),
) -> None:
    """Create a plan: freeze frame and parameters, check they can be staffed, publish the commitment with the
    announced public value; plan reference-collection tasks where references are thin."""
    from sampling.commit import Announcement
    from sampling.design import Ratios, percent_to_bp
    from sampling.export import export_plan
    from sampling.feasibility import InfeasibleFrameError
    from sampling.planning import create_plan, find_plan

    start, end = _required_day(period_from, "--from"), _required_day(period_to, "--to")
    announcement = Announcement.make(value_source, value_date, value_issue)
    try:
        with working(f"freezing the frame of {code}, checking it and committing"), session_scope() as session:
            created = create_plan(
                session,
                code,
                title,
                start,
                end,
                rounds,
                products=product or None,
                secret=secret,
                announcement=announcement,
                supersedes=supersedes,
                repair=repair,
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
                reference_tasks=reference_tasks,
            )
            report, warnings = created.feasibility, created.warnings
            references = [(need.product.name_zh, len(tasks)) for need, tasks in created.references]
            blocked = [
                f"{need.product.name_zh}: {need.blocked or 'references thin, no task planned'}"
                for need, tasks in created.references
                if not tasks and need.thin
            ]
            products, targets = len(created.frame.products), len(created.frame.producers)
            inspectors, n_rounds = len(created.frame.inspectors), len(created.parameters.rounds)
            plan_code = created.plan.code
    except InfeasibleFrameError as exc:
        err_console.print("[bold red]not feasible:[/] nothing was committed", highlight=False)
        for line in exc.report.problems():
            err_console.print(f"  {line}", highlight=False)
        err_console.print("  create the plan with --repair to widen the pools concerned, or add inspectors")
        raise typer.Exit(1) from exc
    # Written only now that the commitment is stored.
    with session_scope() as session:
        plan = find_plan(session, plan_code)
        exported = export_plan(session, plan, out)
        sha = plan.commitment.commitment_sha256 if plan.commitment else ""
    console.print(
        f"plan [bold]{plan_code}[/] committed: {products} products, {targets:,} targets, "
        f"{inspectors:,} inspectors, {n_rounds} rounds"
    )
    thin = [f"{name} {n}" for name, n in references if n]
    if thin:
        console.print(f"reference-collection tasks (apart from the inspections): {', '.join(thin)}")
    elif reference_tasks and not blocked:
        console.print("references sufficient for every product: no reference-collection task")
    for line in blocked:
        console.print(f"[yellow]no reference task[/] {line}", highlight=False)
    for line in report.repairs:
        console.print(f"[yellow]repaired[/] {line}", highlight=False)
    console.print(
        table(
            "inspector pools: capacity per round against the largest demand a draw can make (inspector visits)",
            ["pool", "capacity", "largest demand", "round", "slack", "tightest category", "its slack"],
            [
                [
                    p.pool,
                    p.capacity,
                    p.demand,
                    p.round,
                    p.slack,
                    p.tightest_category or "-",
                    p.category_slack if p.tightest_category else "-",
                ]
                for p in report.pools
            ],
        )
    )
    console.print(f"commitment SHA-256 [bold]{sha}[/]")
    console.print(f"public value: {announcement.text()} (announced in the commitment)")
    console.print(f"publish now, before the public value is known: {exported.directory / 'published'}")
    for warning in warnings:
        console.print(f"[yellow]warning[/] {warning}", highlight=False)


@app.command("draw")
def draw(
    plan: str = typer.Argument(..., help="Plan code or id."),
    public_value: str = typer.Option(..., "--public-value", help="The value the announced draw produced."),
    source: str = typer.Option(..., help="Its source, as announced in the commitment."),
    date_: str = typer.Option(..., "--date", help="Date (or date-time) of its draw, as announced."),
    issue: str = typer.Option("", help="Issue number of its draw, as announced."),
    out: Path = typer.Option(None, help="Export directory (default: out/plans/CODE)."),
) -> None:
    """Reveal the secret, draw targets and inspectors with the announced public value, store and publish.

    A plan is drawn once: if the draw cannot be staffed, the plan becomes failed and that is published too."""
    from sampling.export import export_plan
    from sampling.planning import draw_plan, find_plan, plan_summary

    with working(f"drawing {plan}"), session_scope() as session:
        drawn = draw_plan(session, plan, public_value, source, date_, issue)
        plan_code, failed = drawn.plan.code, drawn.failed
        problems = [p.text() for p in drawn.problems]
    # Exported only now that the draw (or its failure) is stored.
    with working(f"publishing {plan}"), session_scope() as session:
        stored = find_plan(session, plan_code)
        exported = export_plan(session, stored, out)
        summary = plan_summary(session, stored)
    published = exported.directory / "published"
    if failed:
        err_console.print(
            f"[bold red]draw failed:[/] {len(problems)} target(s) cannot be staffed. The draw is final and "
            f"published with its public value ({published}); re-draw with a new plan: gi plan create NEW "
            f"--supersedes {plan_code} ...",
            highlight=False,
        )
        for line in problems:
            err_console.print(f"  {line}", highlight=False)
        raise typer.Exit(1)
    print_summary(summary)
    console.print(
        f"published files: {published}  (verify: gi plan verify {published} --commitment "
        f"{summary.commitment_sha256})"
    )


@app.command("verify")
def verify_cmd(
    files: list[str] = typer.Argument(
        ..., help="The published directory, its URL (http/https), or the published files."
    ),
    commitment: str = typer.Option(
        None, "--commitment", help="The commitment SHA-256 published before the draw (pins the frame)."
    ),
) -> None:
    """Check every published file and reproduce the draw from the files alone; exit 1 when anything differs."""
    from sampling.verify import verify

    with working("checking every published file and reproducing the draw"):
        report = verify(files, commitment)
    console.print(
        table(
            f"verification of plan {report.plan} ({report.status or 'unreadable'})",
            ["check", "ok"],
            [[c.name, "✔" if c.ok else "✘"] for c in report.checks],
        )
    )
    for check in report.checks:
        for d in check.differences:
            err_console.print(f"[red]✘ {check.name}[/]: {d.text()}", highlight=False, soft_wrap=True)
    if report.public_value:
        console.print(
            f"committed {report.committed_at}; public value {report.public_value!r} "
            f"({report.public_value_source}), revealed {report.revealed_at}",
            highlight=False,
        )
    if not report.ok:
        err_console.print("[bold red]NOT verified[/]: the files do not reproduce what was published")
        raise typer.Exit(1)
    if not report.pinned:
        console.print(
            "[yellow]commitment not pinned[/]: compare "
            f"{report.commitment_sha256} with the hash published before the draw, or pass --commitment HASH"
        )
    what = {
        "drawn": f"{report.tasks} tasks and {report.results} results reproduced exactly from the files",
        "failed": "the failed draw reproduced exactly from the files",
        "committed": "the commitment matches its frame and parameters (not drawn yet)",
    }[report.status]
    console.print(f"[bold green]verified[/]: {what}")


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
        rows = [
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
        ]
    if not rows:  # an empty table says less than this to someone who has just set up
        console.print("no plans yet: create one with `gi plan create CODE --from DATE --to DATE ...`")
        return
    console.print(table("plans", ["id", "code", "status", "from", "to", "rounds", "tasks", "title"], rows))


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
    """Write the public notice of the targets drawn (no inspector data) and results.json, with the results
    recorded so far (after a failed draw: the notice of the failure)."""
    from sampling.export import default_export_dir
    from sampling.notice import write_notice
    from sampling.planning import find_plan

    with working(f"writing the public notice of {plan}"), session_scope() as session:
        p = find_plan(session, plan)
        written = write_notice(session, p, out or default_export_dir(p) / "published")
    for path in written:
        console.print(f"notice {path}")


@app.command("result")
def result(
    task_id: int = typer.Argument(..., help="Task id (see `gi plan show`)."),
    outcome: str = typer.Argument(..., help="conforming, nonconforming, inconclusive or not_found."),
    note: str = typer.Option(None, help="Short public note (required with --correct: it says why)."),
    correct: bool = typer.Option(
        False,
        "--correct",
        help="Change a result recorded before (a published correction; the log keeps both).",
    ),
) -> None:
    """Record the result of an inspection task; re-export to complete the public notice."""
    from gi.models import PlanTask
    from sampling.planning import record_result

    with session_scope() as session:
        before = session.get(PlanTask, task_id)
        previous = (before.result, before.result_note) if before is not None else (None, None)
        task = record_result(session, task_id, outcome, note, correct=correct)
        now = (task.result, task.result_note)
        plan_code = task.plan.code
        label = f"task {task.id} ({task.producer.name}) of {plan_code}"
    if previous == now:
        console.print(f"{label}: {now[0].value if now[0] else ''} already recorded; nothing changed")
        return
    change = f"{previous[0].value} -> " if previous[0] is not None else ""
    console.print(
        f"{label}: {change}{now[0].value if now[0] else ''}{' (correction)' if previous[0] else ''}"
    )
    console.print(f"publish it with `gi plan export {plan_code}` (the service's pages show it now)")


@app.command("findings")
def findings(plan: str = typer.Argument(..., help="Plan code or id.")) -> None:
    """Record the results of a plan's sampled tasks from their final findings (合格 / 不合格); tasks still to
    verify (待核实) or unsampled stay open, recorded results are kept. Re-export to publish them."""
    from sampling.findings import record_findings

    with working(f"recording the findings of {plan}"), session_scope() as session:
        report = record_findings(session, plan)
    done = report.recorded
    console.print(
        f"{report.plan_code}: {report.total_recorded} task result(s) recorded from final findings "
        f"(conforming {done['conforming']}, nonconforming {done['nonconforming']}); "
        f"left open: {report.to_verify} still to verify (待核实), {report.unsampled} not sampled; "
        f"{report.kept} recorded before, kept"
    )
    if report.total_recorded:
        console.print(f"publish them: gi plan export {report.plan_code}")


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
    if summary.failure:
        console.print(
            f"[bold red]draw failed[/] (final, published): {len(summary.failure)} target(s) could not be staffed; "
            f"re-draw with a new plan: gi plan create NEW --supersedes {summary.code} ...",
            highlight=False,
        )
        for p in summary.failure:
            console.print(
                f"  round {p['round']}, {p['product']}, county {p['county']}, target {p['producer_id']}: "
                f"{p['found']} of {p['needed']} inspectors (pool {p['pool']}: {p['binding']})",
                highlight=False,
            )
    if summary.strata:
        # A stratum is a product or a product's segment (e.g. its online-market sellers): one row each.
        products = sorted({(s["product"], s.get("segment", "")) for s in summary.strata})
        numbers = sorted({s["round"] for s in summary.strata})
        cell = {((s["product"], s.get("segment", "")), s["round"]): s for s in summary.strata}
        kind_mark = {"peak": "▲", "regular": "", "off_season": "·"}
        console.print(
            table(
                "targets drawn per product and round (▲ peak season, · off season; n of eligible, counties)",
                ["product", *[f"round {n}" for n in numbers]],
                [
                    [
                        f"{summary.product_names.get(p[0], '')} {p[0]}" + (f" · {p[1]}" if p[1] else ""),
                        *[
                            f"{kind_mark[cell[p, n]['season_kind']]}{cell[p, n]['sample_size']} "
                            f"of {cell[p, n]['eligible']}"
                            f" ({sum(1 for c in cell[p, n]['counties'] if c['drawn'])})"
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
