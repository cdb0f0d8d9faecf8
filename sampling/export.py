"""Export a plan: the published files (what `gi plan verify` checks, the public notice included) and, once
drawn, the internal work list, in ``<directory>/published`` and ``<directory>/internal``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from gi.models import Plan, PlanStatus
from gi.settings import get_settings
from sampling.notice import write_worklist
from sampling.planning import write_published


@dataclass
class ExportedPlan:
    """Where the files of a plan were written."""

    directory: Path
    published: list[Path] = field(default_factory=list)
    internal: list[Path] = field(default_factory=list)


def default_export_dir(plan: Plan) -> Path:
    """``<output_dir>/plans/<plan code>``."""
    return get_settings().output_dir / "plans" / plan.code


def export_plan(session: Session, plan: Plan, directory: Path | None = None) -> ExportedPlan:
    """Write the plan's published files (and, once drawn, the internal work list)."""
    directory = directory or default_export_dir(plan)
    out = ExportedPlan(directory)
    out.published = write_published(session, plan, directory / "published")
    if plan.status == PlanStatus.DRAWN:
        out.internal = write_worklist(session, plan, directory / "internal")
    return out
