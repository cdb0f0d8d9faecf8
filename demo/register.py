"""Demo step 1: the database at the newest schema and the bundled register of real GI products loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from demo.progress import StepProgress, no_progress
from gi import db as gi_db
from gi.db import session_scope
from gi.db.partitions import PARTITION_ZONE, add_months, maintain_partitions, month_start
from gi.register.loader import RegisterLoadReport, load_register_into_db
from gi.register.products import ProductSummary, register_summary


@dataclass(frozen=True)
class RegisterStep:
    """What the register step loaded, and the register as it now stands."""

    load: RegisterLoadReport
    products: list[ProductSummary]

    @property
    def categories(self) -> int:
        """Number of product categories in the register."""
        return len({p.category for p in self.products})

    @property
    def area_km2(self) -> float:
        """Protected area of every product's current version, in km²."""
        return sum(p.area_km2 or 0 for p in self.products)


def load_register(on_progress: StepProgress = no_progress) -> RegisterStep:
    """Migrate the database, load (or refresh) the bundled register in one transaction, and summarize it."""
    from geo_data.register import load_register as read_register

    gi_db.upgrade()
    # The demo's seasons reach back a year before its plan season (last season's market listings): their months
    # get partitions, not the DEFAULT one, so `gi db partitions` finds nothing out of place after the demo.
    from demo.planning import demo_season

    first = min(
        add_months(month_start(demo_season()[0]), -12),
        add_months(month_start(datetime.now(PARTITION_ZONE)), -12),
    )
    maintain_partitions(gi_db.get_engine(), since=first)
    total = len(read_register().products)
    done = 0

    def loaded(name: str) -> None:
        nonlocal done
        done += 1
        on_progress(f"loading {name}", done, total)

    with session_scope() as session:
        report = load_register_into_db(session, on_product=loaded)
    with session_scope() as session:
        products = register_summary(session)
    return RegisterStep(report, products)
