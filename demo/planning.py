"""Demo step 2: synthetic directories, then a seasonal double-random plan committed, drawn, exported and verified.

The demo's season is the three whole months before the current one (every round is over, so the later steps
can show a whole cycle, from the draw to the samples of every task and the report). Everything else is derived
from that season, never from the clock or from random bytes: the directories' reference day, the moments of
commitment and draw, the secret and the public value. So on a fresh database the demo builds the same
directories, plan and draw every time it runs in the same month. The fixed secret and public value make it a
demo, not a fair draw (docs/sampling.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from demo.directories import SyntheticReport, create_synthetic_directory
from demo.market import ONLINE_SELLER_COUNTIES
from gi import clock
from gi.db import session_scope
from gi.models import Plan
from gi.settings import get_settings
from sampling.commit import Announcement
from sampling.export import export_plan
from sampling.findings import FindingsRecorded, record_findings
from sampling.planning import PlanSummary, create_plan, draw_plan, find_plan, plan_summary
from sampling.seasons import season_period
from sampling.verify import VerificationReport, verify

DEMO_PUBLIC_VALUE = "DEMO-2026-PUBLIC-VALUE"
# Printed on the public pages and the notice, so in Chinese: a fixed value, documented, not a fair draw.
DEMO_SOURCE = "演示用固定值（见 docs/sampling.md；仅供演示，并非公平抽取）"
# Published here, so anyone can see the demo's draw is not secret: 32-128 printable characters.
DEMO_SECRET = "gi-demo-secret-published-in-demo/planning.py-not-a-fair-draw"
DEMO_ROUNDS = 3


@dataclass
class PlanStep:
    """What the planning step did, and the plan as it now stands."""

    directory: SyntheticReport
    code: str
    plan_id: int
    period: tuple[date, date]
    created: bool  # False: the plan existed already and is reused
    status_before: str | None  # the status of the plan found, when it was reused
    commitment_sha256: str
    warnings: list[str] = field(default_factory=list)
    drawn_now: bool = False
    public_value: str = DEMO_PUBLIC_VALUE
    published: Path = Path()
    verification: VerificationReport = field(default_factory=VerificationReport)
    summary: PlanSummary | None = None
    reference_tasks: dict[str, int] = field(default_factory=dict)  # product (Chinese name) -> tasks planned


def demo_season(today: date | None = None) -> tuple[date, date]:
    """The demo's season: the three whole calendar months before the month of ``today`` (default: today)."""
    today = today or clock.today()
    months = today.year * 12 + today.month - 1 - DEMO_ROUNDS
    return season_period(date(months // 12, months % 12 + 1, 1), DEMO_ROUNDS)


def demo_plan_code(period_from: date) -> str:
    """The demo plan's code: DEMO-YYYYMM of its first month."""
    return f"DEMO-{period_from:%Y%m}"


def plan_season(
    today: date | None = None,
    public_value: str = DEMO_PUBLIC_VALUE,
    producers_per_product: int = 40,
) -> PlanStep:
    """Create the synthetic directories (once), then commit, draw, export and verify the demo season's plan
    (a plan of that code found in the database is reused, and drawn if it is not yet)."""
    period_from, period_to = demo_season(today)
    code = demo_plan_code(period_from)
    tz = ZoneInfo(get_settings().timezone)
    # The day the season's directories are read as of: the first day after it.
    reference_day = period_to + timedelta(days=1)
    # Committed the morning before the season starts, announcing the value "drawn" at 14:00 (a second party's
    # value at a draw meeting, in a real plan), revealed at 15:00.
    eve = period_from - timedelta(days=1)
    committed_at = datetime.combine(eve, time(9, 0), tzinfo=tz)
    announcement = Announcement.make(DEMO_SOURCE, datetime.combine(eve, time(14, 0), tzinfo=tz).isoformat())
    revealed_at = datetime.combine(eve, time(15, 0), tzinfo=tz)

    with session_scope() as session:
        directory = create_synthetic_directory(
            session,
            producers_per_product=producers_per_product,
            today=reference_day,
            target_counties=ONLINE_SELLER_COUNTIES,
        )
    with session_scope() as session:
        existing = session.scalars(select(Plan).where(Plan.code == code)).first()
        status_before = existing.status.value if existing is not None else None
        warnings: list[str] = []
        references: dict[str, int] = {}
        if existing is None:
            created = create_plan(
                session,
                code,
                f"地理标志产品季节性双随机抽查（演示）{period_from} 至 {period_to}",
                period_from,
                period_to,
                DEMO_ROUNDS,
                secret=DEMO_SECRET,
                committed_at=committed_at,
                announcement=announcement,
                repair=True,
            )
            warnings = [f"repaired: {line}" for line in created.feasibility.repairs] + created.warnings
            references = {need.product.name_zh: len(tasks) for need, tasks in created.references if tasks}
    with session_scope() as session:
        plan = find_plan(session, code)
        drawn_now = plan.commitment is not None and plan.commitment.public_value is None
        if drawn_now:
            draw_plan(
                session,
                code,
                public_value,
                announcement.source,
                announcement.draw_at,
                revealed_at=revealed_at,
            )
    with session_scope() as session:  # exported once the draw is committed
        plan = find_plan(session, code)
        exported = export_plan(session, plan)
        summary = plan_summary(session, plan)
        plan_id = plan.id
    published = exported.directory / "published"
    return PlanStep(
        directory=directory,
        code=code,
        plan_id=plan_id,
        period=(period_from, period_to),
        created=existing is None,
        status_before=status_before,
        commitment_sha256=summary.commitment_sha256,
        warnings=warnings,
        drawn_now=drawn_now,
        public_value=summary.public_value or public_value,
        published=published,
        verification=verify([published], summary.commitment_sha256),
        summary=summary,
        reference_tasks=references,
    )


@dataclass
class FindingsStep:
    """The plan's task results recorded from the season's final findings, and the re-published files."""

    findings: FindingsRecorded
    published: Path
    verification: VerificationReport


def publish_findings(code: str) -> FindingsStep:
    """Record the results of the plan's tasks from their samples' final findings, then (after the commit)
    re-export the published files, which now carry the results, and verify them."""
    with session_scope() as session:
        findings = record_findings(session, code)
    with session_scope() as session:  # exported once the results are committed
        plan = find_plan(session, code)
        exported = export_plan(session, plan)
        commitment = plan_summary(session, plan).commitment_sha256
    published = exported.directory / "published"
    return FindingsStep(findings, published, verify([published], commitment))
