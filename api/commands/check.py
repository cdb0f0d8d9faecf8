"""`gi check`: origin checks of a sample file (CSV, GeoJSON, GeoPackage) or of every authorized producer."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import typer

from api.console import console, err_console, progress, table
from gi.db import session_scope
from gi.models import OriginVerdictRecord
from gi.origin.intake import BatchResult
from gi.origin.rule import FLAG_LABELS, ProducerCheck

PRODUCERS = "producers"


def check(
    target: str = typer.Argument(
        ..., help="A CSV, GeoJSON or GeoPackage file of samples, or the word 'producers'."
    ),
    crs: str = typer.Option(
        None,
        "--crs",
        help="CRS of rows without their own 'crs' column: WGS84, CGCS2000, "
        "GCJ02, BD09 or EPSG:n (default: the file's, else WGS84).",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Result CSV (default: out/<file>.result.csv)."),
    layer: str = typer.Option(None, help="Layer of a GeoPackage."),
    product: str = typer.Option(None, "--product", "-p", help="With 'producers': only this product's."),
) -> None:
    """Check samples in a file (stored with their verdicts) or every authorized producer's location."""
    if target == PRODUCERS:
        check_producers_command(product)
        return
    from gi.origin.intake import check_sample_file
    from gi.settings import get_settings

    path = Path(target)
    out = out or get_settings().output_dir / f"{path.stem}.result.csv"
    with progress() as bar:
        task = bar.add_task("reading", total=None)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        with session_scope() as session:
            result, written = check_sample_file(session, path, crs=crs, out=out, layer=layer, progress=report)
    print_batch_summary(result, title=f"Origin check of {path.name}")
    if written:
        console.print(f"result file: {written}")


def print_batch_summary(
    result: BatchResult,
    title: str,
    show_refused: int = 20,
    earlier: Mapping[uuid.UUID, OriginVerdictRecord] | None = None,
) -> None:
    """Counts by product and verdict, flag counts, and the refused rows with their reasons.

    ``earlier`` holds the stored verdicts of rows that were already stored, so that a re-run counts them too.
    """
    by_product: dict[str, Counter[str]] = {}
    flags: Counter[str] = Counter()
    outcomes = [
        (row.product_code, row.verdict.verdict.value, row.verdict.flags)
        for row in result.stored
        if row.verdict is not None
    ]
    outcomes += [
        (row.product_code, earlier[row.sample_id].verdict.value, tuple(earlier[row.sample_id].flags))
        for row in result.duplicates
        if earlier and row.sample_id is not None and row.sample_id in earlier
    ]
    for product_code, verdict, row_flags in outcomes:
        by_product.setdefault(product_code or "?", Counter())[verdict] += 1
        flags.update(row_flags)
    rows = [
        [code, c["inside"], c["uncertain"], c["outside"], sum(c.values())]
        for code, c in sorted(by_product.items())
    ]
    total = Counter[str]()
    for c in by_product.values():
        total.update(c)
    rows.append(["all", total["inside"], total["uncertain"], total["outside"], sum(total.values())])
    console.print(table(title, ["product", "inside", "uncertain", "outside", "samples"], rows))
    if flags:
        console.print(
            table(
                "Flags",
                ["flag", "meaning", "samples"],
                [[f, FLAG_LABELS.get(f, f), n] for f, n in flags.most_common()],
            )
        )
    console.print(
        f"{len(result.stored)} stored, {len(result.duplicates)} already stored (same UUID), "
        f"{len(result.refused)} refused"
    )
    refused = result.refused
    if refused:
        console.print(
            table(
                "Refused rows",
                ["row", "field", "reason"],
                [[r.row, r.field, r.problem] for r in refused[:show_refused]],
                justify_numbers=False,
            )
        )
        if len(refused) > show_refused:
            err_console.print(f"... and {len(refused) - show_refused} more (see the result file)")


def check_producers_command(product: str | None) -> None:
    """`gi check producers`: every authorized producer's registered location against its current area."""
    from gi.origin.rule import check_producers
    from gi.register.areas import find_product

    with session_scope() as session:
        product_id = find_product(session, product).id if product else None
        checks = check_producers(session, product_id=product_id)
    print_producer_checks(checks)


def print_producer_checks(checks: Sequence[ProducerCheck]) -> None:
    """Summary by product, then the producers not clearly inside."""
    counts: dict[str, Counter[str]] = {}
    for c in checks:
        counts.setdefault(f"{c.product_name_zh} ({c.product_code})", Counter())[c.verdict.verdict.value] += 1
    console.print(
        table(
            "Authorized producers against the current protected area",
            ["product", "inside", "uncertain", "outside"],
            [[k, v["inside"], v["uncertain"], v["outside"]] for k, v in sorted(counts.items())],
        )
    )
    doubtful = [c for c in checks if c.verdict.verdict.value != "inside"]
    if doubtful:
        console.print(
            table(
                "Producers not clearly inside",
                ["product", "producer", "credit code", "verdict", "distance m", "flags"],
                [
                    [
                        c.product_code,
                        c.producer_name,
                        c.credit_code,
                        c.verdict.verdict.value,
                        c.verdict.distance_m,
                        ", ".join(c.verdict.flags),
                    ]
                    for c in doubtful
                ],
                justify_numbers=False,
            )
        )
    console.print(f"{len(checks)} producers checked, {len(doubtful)} not clearly inside")
