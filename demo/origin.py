"""Demo step 3: the season's simulated samples checked against the protected areas and stored."""

from __future__ import annotations

from dataclasses import dataclass

from demo.samples import simulate_season
from gi.db import session_scope
from gi.origin.batch import BatchResult, record_samples

# The source label of the demo's samples; reports translate it (reports.texts) and the quality step selects by it.
DEMO_SOURCE_PREFIX = "demo season"


@dataclass(frozen=True)
class SampleLine:
    """One simulated sample and its origin verdict (stored now, stored by an earlier run, or refused)."""

    row: int
    product: str
    scenario: str
    crs: str
    accuracy_m: float
    verdict: str  # inside, uncertain, outside, refused or conflict
    distance_m: float | None
    flags: tuple[str, ...]

    @property
    def ordinary(self) -> bool:
        """Simulated inside and found inside: the unremarkable case."""
        return self.scenario == "inside" and self.verdict == "inside"


@dataclass
class OriginStep:
    """The batch result and every sample's line, the unusual ones first."""

    seed: int
    result: BatchResult  # rows an earlier run stored come back "already stored", with their stored verdicts
    lines: list[SampleLine]


def check_season(seed: int = 2024, per_product: int = 10) -> OriginStep:
    """Simulate the season's samples (one per drawn task, or ``per_product`` per product when no plan is
    drawn), check and store them in one transaction; a second run stores nothing new."""
    with session_scope() as session:
        simulated = simulate_season(session, seed=seed, per_product=per_product)
        rows = [(i + 1, s.fields) for i, s in enumerate(simulated)]
        result = record_samples(session, rows, source=f"{DEMO_SOURCE_PREFIX} (seed {seed})")
    lines = []
    for row, sim in zip(result.rows, simulated, strict=True):
        if row.verdict is not None:
            verdict, distance, flags = row.verdict.verdict.value, row.verdict.distance_m, row.verdict.flags
        else:
            verdict, distance, flags = row.status.value, None, (f"{row.field}: {row.problem}",)
        lines.append(
            SampleLine(
                row=row.row,
                product=row.product_code or str(sim.fields["product"]),
                scenario=sim.scenario,
                crs=str(sim.fields["crs"]),
                accuracy_m=float(sim.fields["gps_accuracy_m"]),
                verdict=verdict,
                distance_m=None if distance is None else round(distance, 1),
                flags=tuple(flags),
            )
        )
    lines.sort(key=lambda line: (line.ordinary, line.row))
    return OriginStep(seed, result, lines)
