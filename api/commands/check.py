"""`gi check`: origin checks of a sample file (CSV, Excel, GeoJSON, GeoPackage) or of every authorized producer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import typer

from api.console import console, progress, table, working
from api.errors import EXIT_PARTIAL, EXIT_REFUSED
from gi.db import session_scope
from gi.origin.batch import IntakeSummary
from gi.origin.rule import FLAG_LABELS, ProducerCheck

PRODUCERS = "producers"


def check(
    target: str = typer.Argument(
        None, help="A CSV, Excel .xlsx, GeoJSON or GeoPackage file of samples, or the word 'producers'."
    ),
    crs: str = typer.Option(
        None,
        "--crs",
        help="CRS of rows without their own 'crs' column: WGS84, CGCS2000, "
        "GCJ02, BD09 or EPSG:n (default: the file's, else WGS84).",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Result CSV (default: out/<file>.result.csv)."),
    layer: str = typer.Option(None, help="Layer of a GeoPackage, or sheet of a workbook."),
    product: str = typer.Option(None, "--product", "-p", help="With 'producers': only this product's."),
    template: Path = typer.Option(
        None,
        "--template",
        help="Write an example sample file with every accepted column (CSV or .xlsx) and stop.",
    ),
    chinese: bool = typer.Option(False, "--chinese", help="With --template: Chinese column headers."),
    force: bool = typer.Option(False, "--force", help="With --template: overwrite an existing file."),
) -> None:
    """Check samples in a file (stored with their verdicts) or every authorized producer's location.

    Exit status: 0 when every row is stored (or was stored before), 3 when some rows were refused or conflict
    with stored samples (the others are stored), 1 when none could be stored (or the result file cannot be
    written: that is checked before anything is stored), 130 when interrupted (Ctrl-C).
    """
    if template is not None:
        from geo_data.sample_files import write_template

        written = write_template(template, chinese=chinese, overwrite=force)
        console.print(
            f"template written: {written} (fill in one row per sample, then `gi check {written.name}`)"
        )
        return
    if target is None:
        raise typer.BadParameter("give a sample file, 'producers', or --template FILE", param_hint="TARGET")
    if target == PRODUCERS:
        check_producers_command(product)
        return
    from geo_data.sample_files import ResultFile
    from gi.db import get_engine
    from gi.origin.files import RESULT_HEADER, check_sample_file, result_line
    from gi.settings import get_settings

    path = Path(target)
    out = out or get_settings().output_dir / f"{path.stem}.result.csv"
    with progress() as bar, ResultFile(out, RESULT_HEADER) as result_file, get_engine().connect() as conn:
        task = bar.add_task("reading", total=None)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        summary = check_sample_file(
            conn,
            path,
            crs=crs,
            layer=layer,
            progress=report,
            on_rows=lambda rows: result_file.write(result_line(r) for r in rows),
        )
        written = result_file.commit()  # only once every row's chunk is committed
    print_summary(summary, title=f"Origin check of {path.name}")
    console.print(f"result file: {written}")
    if not summary.complete:
        some = summary.stored + summary.already_stored > 0
        raise typer.Exit(EXIT_PARTIAL if some else EXIT_REFUSED)


def print_summary(summary: IntakeSummary, title: str) -> None:
    """Counts by product and verdict (stored now or before), flag counts, and the first refused rows."""
    rows = [
        [product_label(code, summary.names), c["inside"], c["uncertain"], c["outside"], sum(c.values())]
        for code, c in sorted(summary.by_product.items())
    ]
    total = summary.verdicts
    rows.append(["all", total["inside"], total["uncertain"], total["outside"], sum(total.values())])
    console.print(table(title, ["product", "inside", "uncertain", "outside", "samples"], rows, counts=True))
    if summary.flags:
        console.print(
            table(
                "Flags",
                ["flag", "meaning", "samples"],
                [[f, FLAG_LABELS.get(f, f), n] for f, n in summary.flags.most_common()],
                counts=True,
            )
        )
    console.print(
        f"{summary.stored:,} stored, {summary.already_stored:,} already stored (same UUID, same content), "
        f"{summary.refused:,} refused, {summary.conflicts:,} in conflict with stored samples"
    )
    if summary.problems:
        console.print(
            table(
                "Refused and conflicting rows",
                ["row", "status", "field", "reason"],
                [[r.row, r.status.value, r.field, r.problem] for r in summary.problems],
                justify_numbers=False,
            )
        )
        shown = len(summary.problems)
        if summary.refused + summary.conflicts > shown:  # on stdout, with the table it continues
            console.print(
                f"... and {summary.refused + summary.conflicts - shown:,} more (see the result file)"
            )


def product_label(code: str, names: Mapping[str, str]) -> str:
    """A product as the summaries name it: 西湖龙井 (xihu-longjing), or its code when its name is unknown."""
    name = names.get(code)
    return f"{name} ({code})" if name else code


def check_producers_command(product: str | None) -> None:
    """`gi check producers`: every authorized producer's registered location against its current area."""
    from gi.origin.rule import check_producers
    from gi.register.areas import find_product

    with working("checking every authorized producer's location"), session_scope() as session:
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
            counts=True,
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
                        f"{c.product_name_zh} ({c.product_code})",
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
    console.print(f"{len(checks):,} producers checked, {len(doubtful):,} not clearly inside")
