"""What a caller may see: everything (admin), a region (supervisor), his own work (inspector), or what is
published (the public). Read functions take a :class:`Scope` and filter in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gi.accounts.tokens import Principal
from gi.models import Role

# The region a sample belongs to: its plan task's county, else its producer's county, else the home county of
# the inspector who collected it (the office that sent him answers for it).
SAMPLE_COUNTY_SQL = (
    "COALESCE((SELECT pt.county_code FROM plan_task pt WHERE pt.id = s.task_id),"
    " (SELECT pr.county_code FROM producer pr WHERE pr.id = s.producer_id),"
    " (SELECT ins.home_county_code FROM inspector ins WHERE ins.id = s.collector_id))"
)


@dataclass(frozen=True)
class Scope:
    """The rows a caller may read: ``everything``; else ``regions`` (adcode prefixes); else the rows of
    ``inspector_id``; else (public) only published ones."""

    everything: bool = False
    regions: tuple[str, ...] = ()
    inspector_id: int | None = None

    @property
    def public(self) -> bool:
        """True for the anonymous public."""
        return not self.everything and not self.regions and self.inspector_id is None

    def county_filter(self, column_sql: str, params: dict[str, object]) -> str:
        """A SQL condition (on a 6-digit county code expression) for this scope; binds ``params``."""
        if self.everything:
            return "TRUE"
        if self.regions:
            params["scope_patterns"] = [f"{r}%" for r in self.regions]
            return f"({column_sql}) LIKE ANY(:scope_patterns)"
        return "FALSE"

    def sample_filter(self, alias: str, params: dict[str, object]) -> str:
        """A SQL condition on the sample table aliased ``alias`` (subqueries use ``s``)."""
        if self.everything:
            return "TRUE"
        if self.inspector_id is not None:
            params["scope_inspector"] = self.inspector_id
            return f"{alias}.collector_id = :scope_inspector"
        county = SAMPLE_COUNTY_SQL.replace("s.task_id", f"{alias}.task_id")
        county = county.replace("s.producer_id", f"{alias}.producer_id")
        county = county.replace("s.collector_id", f"{alias}.collector_id")
        return self.county_filter(county, params)

    def covers_county(self, county_code: str | None) -> bool:
        """True when a county (6-digit adcode) is inside this scope."""
        if self.everything:
            return True
        return bool(county_code) and any(str(county_code).startswith(r) for r in self.regions)


PUBLIC = Scope()


def scope_of(principal: Principal | None) -> Scope:
    """The scope of a caller (None = the anonymous public)."""
    if principal is None:
        return PUBLIC
    if principal.role is Role.ADMIN:
        return Scope(everything=True)
    if principal.role is Role.SUPERVISOR:
        return Scope(regions=principal.regions)
    return Scope(inspector_id=principal.inspector_id if principal.inspector_id is not None else -1)


def products_in_scope(session: Session, scope: Scope) -> list[str] | None:
    """Codes of the GI products a caller's reports cover: those whose current protected area lies (in part) in
    his region; None means every product (administrators and the public notice)."""
    if scope.everything or scope.public:
        return None
    if not scope.regions:
        return []
    patterns = [f"{r}%" for r in scope.regions]
    rows = session.execute(
        text(
            """SELECT DISTINCT p.code FROM production_area a JOIN gi_product p ON p.id = a.product_id
               CROSS JOIN LATERAL jsonb_array_elements(a.admin_units) u
               WHERE a.valid_to IS NULL AND (u->>'code') LIKE ANY(:patterns) ORDER BY p.code"""
        ),
        {"patterns": patterns},
    )
    return [str(r[0]) for r in rows]
