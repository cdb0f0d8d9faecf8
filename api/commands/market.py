"""`gi marks`, `gi capacity`, `gi outlets volumes`, `gi listings` and `gi balance`: authorized users of the GI
special mark, marks issued, capacity, volume seen on the market, online listings, and the season's mass balance."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.commands.directories import FILE_HELP, SHEET, print_import
from api.console import console, table, working
from gi.db import session_scope
from gi.errors import InputError
from gi.market.rows import ImportReport

if TYPE_CHECKING:
    from demo.market import MarketStep
    from gi.market.balance import BalanceResult

marks_app = typer.Typer(
    help="Authorized users of the GI special mark and marks issued (专用标志).", no_args_is_help=True
)
authorizations_app = typer.Typer(
    help="Authorizations to use the special mark (专用标志使用核准).", no_args_is_help=True
)
issuance_app = typer.Typer(help="Marks issued per holder and season (标志发放).", no_args_is_help=True)
marks_app.add_typer(authorizations_app, name="authorizations")
marks_app.add_typer(issuance_app, name="issuance")
capacity_app = typer.Typer(help="Production capacity of holders and products (产能).", no_args_is_help=True)
volumes_app = typer.Typer(help="Outlets' volumes recorded by outlet inspections.", no_args_is_help=True)
listings_app = typer.Typer(help="Online listings of GI products (电商平台经营者).", no_args_is_help=True)
balance_app = typer.Typer(help="Mass balance per product and season (产销平衡).", no_args_is_help=True)


def _import(importer: Callable[..., ImportReport], file: Path, sheet: str | None) -> ImportReport:
    with working(f"reading and checking {file.name}"), session_scope() as session:
        return importer(session, file, sheet)


@authorizations_app.command("import")
def import_authorizations(file: Path = typer.Argument(..., help=FILE_HELP), sheet: str = SHEET) -> None:
    """Import authorizations: product, number, credit_code, valid_from (and valid_to, name, announcement).
    Upserted by product and number; holders not in the directory are added to it."""
    from gi.market.marks import import_authorizations as run

    print_import(_import(run, file, sheet))


@issuance_app.command("import")
def import_issuance(file: Path = typer.Argument(..., help=FILE_HELP), sheet: str = SHEET) -> None:
    """Import marks issued: product, credit_code, reference, issued_on, quantity, unit (kg, 斤, box, crab,
    label ...; unit_size gives kg or items per box or label), and season (default: year issued)."""
    from gi.market.marks import import_issuance as run

    print_import(_import(run, file, sheet))


@capacity_app.command("import")
def import_capacity(file: Path = typer.Argument(..., help=FILE_HELP), sheet: str = SHEET) -> None:
    """Import holders' production bases: product, credit_code, season, area (and basis: planted_area, lake_pen,
    pond, herd; area_unit: mu, ha, head; yield_per_unit with yield_source to override the register)."""
    from gi.market.capacity import import_capacity as run

    print_import(_import(run, file, sheet))


@capacity_app.command("figures")
def figures(
    product: str = typer.Argument(None, help="A product (default: every product with figures)."),
) -> None:
    """The register's capacity figures with their sources, and whether each is an estimate."""
    from gi.market.capacity import figures_of

    with session_scope() as session:
        found = figures_of(session, product)
    rows = [
        [
            p.name_zh,
            f.kind,
            f.scope,
            _figure(f.value) + (f" ({_figure(f.low)})" if f.low else ""),
            f.unit,
            f.year or "",
            "yes" if f.estimate else "no",
            f.verified.value,
        ]
        for p, f in found
    ]
    if not rows:
        console.print("no capacity figure in the register for that selection")
        return
    console.print(
        table(
            "capacity figures (value = upper end; low in brackets)",
            ["product", "figure", "scope", "value", "unit", "year", "estimate", "verified"],
            rows,
        )
    )
    console.print(
        "sources: geo_data/register/products.json (market.figures[].source) and geo_data/register/SOURCES.md"
    )


@volumes_app.command("import")
def import_volumes(file: Path = typer.Argument(..., help=FILE_HELP), sheet: str = SHEET) -> None:
    """Import outlets' volumes from outlet inspections: product, credit_code (the outlet), reference,
    observed_on, quantity, unit (and unit_size, season)."""
    from gi.market.volumes import import_volumes as run

    print_import(_import(run, file, sheet))


@listings_app.command("import")
def import_listings(
    file: Path = typer.Argument(..., help=FILE_HELP),
    sheet: str = SHEET,
    check: bool = typer.Option(True, help="Run the balance of the products and seasons the file touches."),
) -> None:
    """Import online listings: platform, listing_key (item id or URL), shop, title, observed_on (and
    seller_credit_code, product, claimed_gi, claimed_mark, ship_from or x/y/crs, price, volume_sold, unit)."""
    from gi.market.balance import run_balance
    from gi.market.listings import import_listings as run
    from gi.models import GIProduct

    with working(f"reading and checking {file.name}") as step, session_scope() as session:
        report = run(session, file, sheet)
        step("balancing the products and seasons it touches")
        results = []
        if check:
            for product_id, season in report.details["seasons"]:
                product = session.get(GIProduct, product_id)
                assert product is not None
                results.append(run_balance(session, product, season))
    print_import(report)
    console.print(f"{report.details['using_gi_name']} listing(s) use a GI name or claim the GI or its mark")
    for result in results:
        print_flags(result, listings_only=True)


@balance_app.command("check")
def check(
    season: int = typer.Option(..., "--season", help="Harvest year, e.g. 2025."),
    product: list[str] = typer.Option(None, "--product", "-p", help="Only these products (repeatable)."),
    tolerance: float = typer.Option(
        None, help="Flag above capacity × this (default GI_BALANCE_TOLERANCE, 1)."
    ),
    market_factor: float = typer.Option(None, help="Flag a product's market volume above capacity × this."),
) -> None:
    """Compute and store the mass balance of a season: capacity, marks issued, market volume, and flags."""
    from gi.market.balance import BalanceSettings, run_season
    from gi.register.areas import find_product

    settings = BalanceSettings.from_settings()
    if tolerance is not None:
        if tolerance < 1:
            raise InputError("tolerance", f"{tolerance} is below 1: a balanced holder would be flagged")
        settings = BalanceSettings(Decimal(str(tolerance)), settings.market_factor)
    if market_factor is not None:
        if market_factor <= 0:
            raise InputError("market_factor", f"{market_factor} is not positive")
        settings = BalanceSettings(settings.tolerance, Decimal(str(market_factor)))
    with working(f"balancing season {season}"), session_scope() as session:
        chosen = [find_product(session, p) for p in product] if product else None
        results = run_season(session, season, chosen, settings)
    if not results:
        console.print(f"no marks, capacities, volumes or listings recorded for season {season}")
        return
    print_balance_table(results)
    for result in results:
        print_holders(result)
        print_flags(result)


def _figure(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:g}"


def _num(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def print_balance_table(results: list[BalanceResult]) -> None:
    """The season's balance table: one row per product."""
    rows = [
        [
            f"{r.product.name_zh} {r.product.code}",
            r.run.season,
            r.run.unit,
            _num(r.run.capacity),
            _num(r.run.issued),
            _ratio(r.ratio_issued),
            _num(r.run.market_volume),
            _ratio(r.ratio_market),
            len(r.flags),
        ]
        for r in results
    ]
    console.print(
        table(
            "season balance (capacity: the register's upper figure; see `gi capacity figures`)",
            [
                "product",
                "season",
                "unit",
                "capacity",
                "marks issued",
                "issued/cap",
                "market volume",
                "market/cap",
                "flags",
            ],
            rows,
        )
    )


def print_holders(result: BalanceResult) -> None:
    """Each holder's capacity, marks issued and online volume."""
    if not result.holders:
        return
    rows = [
        [
            h.name,
            h.credit_code,
            _num(h.capacity),
            _num(h.issued),
            _ratio(h.ratio),
            _num(h.online),
            ", ".join(h.flags),
        ]
        for h in result.holders
    ]
    console.print(
        table(
            f"{result.product.name_zh} {result.run.season}: holders ({result.run.unit})",
            ["holder", "credit code", "capacity", "issued", "issued/cap", "online", "flags"],
            rows,
        )
    )


def print_flags(result: BalanceResult, listings_only: bool = False) -> None:
    """The run's flags: what, whom, the figures compared."""
    from gi.models import BALANCE_FLAG_ZH

    flags = [f for f in result.flags if not listings_only or f.listing_id is not None]
    if not flags:
        console.print(f"{result.product.name_zh} {result.run.season}: no flag")
        return
    rows = []
    for f in flags:
        who = (
            f.inputs.get("holder")
            or f.inputs.get("outlet")
            or f.inputs.get("seller_credit_code")
            or f.inputs.get("seller")
            or ""
        )
        if f.listing_id is not None:
            who = f"{f.inputs.get('platform')} {f.inputs.get('shop')} {f.inputs.get('seller_credit_code') or ''}".strip()
        compared = (
            ""
            if f.observed is None
            else f"{f.observed:,.0f}"
            + ("" if f.allowed is None else f" > {f.allowed:,.0f} × {f.threshold.normalize()}")
        )
        rows.append([f.kind.value, BALANCE_FLAG_ZH[f.kind.value], who, compared])
    console.print(
        table(
            f"{result.product.name_zh} {result.run.season}: flags",
            ["flag", "说明", "subject", "observed > allowed"],
            rows,
        )
    )
    if result.new_targets:
        console.print(
            f"{len(result.new_targets)} flagged seller(s) added as targets of the online-market stratum: "
            + ", ".join(t.shop or t.name for t in result.new_targets)
        )


def print_market_step(step: MarketStep) -> None:
    """The demo's market step: the files imported, the season's balance table, and the flagged sellers."""
    console.print(f"synthetic office files (合成) in {step.directory}, imported as an office would:")
    for report in step.imports:
        console.print(f"  {report.summary()}")
    print_balance_table(step.results)
    for result in step.results:
        print_holders_flagged(result)
    if step.sellers:
        console.print(
            table(
                f"flagged online sellers of season {step.season} (targets of the online-market stratum)",
                ["product", "platform", "shop", "credit code", "flags", "ships from"],
                [
                    [
                        s.product_name_zh,
                        s.platform,
                        s.shop,
                        s.credit_code or "not shown",
                        ", ".join(s.kinds),
                        s.ship_from,
                    ]
                    for s in step.sellers
                ],
            )
        )
    console.print(
        f"{sum(1 for s in step.sellers if s.target_id)} flagged seller(s) are targets of the next plan "
        f"({step.targets_added} new); capacity figures are real published figures (`gi capacity figures`), "
        "everything else is synthetic"
    )


def print_holders_flagged(result: BalanceResult) -> None:
    """Only the flagged holders of a run (the demo's directories are long)."""
    flagged = [h for h in result.holders if h.flags]
    if flagged:
        console.print(
            table(
                f"{result.product.name_zh} {result.run.season}: flagged holders ({result.run.unit})",
                ["holder", "credit code", "capacity", "issued", "issued/cap", "flags"],
                [
                    [
                        h.name,
                        h.credit_code,
                        _num(h.capacity),
                        _num(h.issued),
                        _ratio(h.ratio),
                        ", ".join(h.flags),
                    ]
                    for h in flagged
                ],
            )
        )
