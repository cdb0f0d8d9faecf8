"""`gi map`: write offline maps (HTML) and map images (PNG) of protected areas and of a season's samples."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.console import console, working
from api.options import PERIOD_FROM, PERIOD_SEASON, PERIOD_TO, parse_day, parse_period
from gi.errors import InputError

if TYPE_CHECKING:  # the domain is imported when a command runs, so `gi --help` stays quick
    from gi.reads.season import SeasonSummary
    from maps.folium_maps import MapOptions

app = typer.Typer(
    help="Maps of protected areas and of a season's samples (offline HTML and PNG).", no_args_is_help=True
)

ASSET_HELP = (
    "Where the HTML finds Leaflet and its plugins: 'copy' (a map-assets folder beside the file, default), "
    "'file' (file:// links to the installed copy) or a URL prefix served by your web server."
)


def gather(
    start: str | None,
    end: str | None,
    products: list[str] | None,
    title: str | None,
    season: str | None = None,
) -> SeasonSummary:
    """The season summary for the CLI options (--from/--to, or --season as their alias)."""
    from gi.db import session_scope
    from gi.reads.season import gather_season

    first, last = parse_period(start, end, season)
    with session_scope() as session:
        return gather_season(session, first, last, products or [], title=title)


def _options(asset_base: str | None, tile_url: str | None, layers: str | None = None) -> MapOptions:
    from maps.folium_maps import MapOptions

    extra = {"layers": tuple(x.strip() for x in layers.split(",") if x.strip())} if layers else {}
    return MapOptions.from_settings(asset_base=asset_base, tile_url=tile_url, **extra)


def _default_path(name: str, suffix: str) -> Path:
    from gi.settings import get_settings

    return get_settings().output_dir / "maps" / f"{name}{suffix}"


def selection_stem(base: str, product_codes: Iterable[str] = (), day: date | None = None) -> str:
    """The default file name (without suffix) of a map of a selection, so that maps of different selections never
    share a file: ``areas`` (every product), ``areas_xihu-longjing``, ``areas_5-products-1a2b3c4d``, with
    ``_YYYYMMDD`` for the areas of another day."""
    codes = sorted(set(product_codes))
    parts = [base]
    if len(codes) > 3:  # a long list would make an unwieldy name: its count and a digest of it
        parts.append(f"{len(codes)}-products-{hashlib.sha256('+'.join(codes).encode()).hexdigest()[:8]}")
    elif codes:
        parts.append("+".join(codes))
    if day is not None:
        parts.append(f"{day:%Y%m%d}")
    return "_".join(parts)


@app.command("areas")
def areas(
    products: list[str] = typer.Argument(
        None, help="Product codes or Chinese names (default: every product)."
    ),
    at: str = typer.Option(
        None, "--at", metavar="DATE", help="Show the area versions valid on YYYY-MM-DD (default: today)."
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        metavar="FILE",
        help="HTML file (default: out/maps/areas.html for every product, areas_<codes>[_<date>].html otherwise).",
    ),
    png: bool = typer.Option(False, "--png", help="Also write a PNG image beside the HTML."),
    asset_base: str = typer.Option(None, "--asset-base", help=ASSET_HELP),
    tile_url: str = typer.Option(
        None, "--tile-url", help="XYZ tile URL of a base map (default: GI_TILE_URL, none)."
    ),
) -> None:
    """Map the protected areas (version, km², product details in popups) of PRODUCTS."""
    from gi.db import session_scope
    from gi.reads.season import area_infos
    from maps.folium_maps import areas_map, write_map

    day = parse_day(at, "--at")
    with working("reading the protected areas") as step:
        with session_scope() as session:
            infos = area_infos(session, products or [], at=day)
        if products and not infos:  # an empty map under the all-products name would replace that map
            raise InputError(
                "products",
                f"{', '.join(products)}: no protected area valid on {day or 'today'}; nothing to map",
            )
        stem = selection_stem("areas", [i.product_code for i in infos] if products else (), day)
        options = _options(asset_base, tile_url)
        step("drawing the map")
        path = write_map(areas_map(infos, options), out or _default_path(stem, ".html"), options)
        image = path.with_suffix(".png")
        if png:
            from maps import static

            step("drawing the image")
            if static.is_national(infos):
                static.national_overview_png(image, infos, title="地理标志产品保护范围")
            else:
                static.regional_png(image, infos, title="地理标志产品保护范围")
    console.print(f"map of {len(infos)} protected area{'' if len(infos) == 1 else 's'}: {path}")
    if png:
        console.print(f"image: {image}")


@app.command("samples")
def samples(
    start: str = PERIOD_FROM,
    end: str = PERIOD_TO,
    season: str = PERIOD_SEASON,
    products: list[str] = typer.Option(None, "--product", "-p", help="Only this product (repeatable)."),
    title: str = typer.Option(None, "--title", help="Title of the season (default: from the dates)."),
    layers: str = typer.Option(
        None,
        "--layers",
        help="Comma-separated subset of reference,areas,origin,quality,heat,producers,balance (default: all).",
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        metavar="FILE",
        help="HTML file (default: out/maps/season_<from>_<to>[_<codes>][_layers-<layers>].html).",
    ),
    png: bool = typer.Option(
        False, "--png", help="Also write PNG images (origin and quality) beside the HTML."
    ),
    asset_base: str = typer.Option(None, "--asset-base", help=ASSET_HELP),
    tile_url: str = typer.Option(
        None, "--tile-url", help="XYZ tile URL of a base map (default: GI_TILE_URL, none)."
    ),
) -> None:
    """Map a season's samples by origin and quality verdict, the density of non-conformities and the producers
    outside their areas."""
    from maps.folium_maps import MapOptions, season_map, write_map

    with working("reading the season") as step:
        summary = gather(start, end, products, title, season)
        stem = selection_stem(
            f"season_{summary.start:%Y%m%d}_{summary.end:%Y%m%d}",
            [a.product_code for a in summary.areas] if products else (),
        )
        options = _options(asset_base, tile_url, layers)
        chosen = options.layers
        if set(chosen) != set(MapOptions().layers):  # a map of some layers never overwrites the full map
            stem += "_layers-" + "+".join(chosen)
        step("drawing the map")
        path = write_map(season_map(summary, options), out or _default_path(stem, ".html"), options)
        images = []
        if png:
            from maps import static

            for colour_by in ("origin", "quality"):
                step(f"drawing the {colour_by} image")
                images.append(
                    static.season_png(
                        summary, path.with_name(f"{path.stem}_{colour_by}.png"), colour_by=colour_by
                    )
                )
    drawn = []  # what the map shows, as chosen with --layers
    if {"origin", "quality", "heat"} & set(chosen):
        drawn.append(f"{len(summary.samples):,} samples")
    if "areas" in chosen:
        drawn.append(f"{len(summary.areas)} areas")
    if "producers" in chosen:
        drawn.append(f"{len(summary.producers_outside)} producers outside")
    if "balance" in chosen:
        places = summary.market.places if summary.market is not None else []
        drawn.append(f"{len(places)} holders and outlets with balance flags")
    console.print(f"season map ({', '.join(drawn) or 'reference layers only'}): {path}")
    for image in images:
        console.print(f"image: {image}")


@app.command("producers")
def producers(
    products: list[str] = typer.Option(None, "--product", "-p", help="Only this product (repeatable)."),
    at: str = typer.Option(
        None, "--at", metavar="DATE", help="Judge against the areas valid on YYYY-MM-DD (default: today)."
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        metavar="FILE",
        help="HTML file (default: out/maps/producers_outside[_<codes>][_<date>].html).",
    ),
    asset_base: str = typer.Option(None, "--asset-base", help=ASSET_HELP),
) -> None:
    """Map the authorized producers located outside the area they are authorized for."""
    from gi.db import session_scope
    from gi.reads.season import producers_outside_summary
    from maps.folium_maps import season_map, write_map

    day = parse_day(at, "--at")
    with working("checking the producers' locations") as step:
        with session_scope() as session:
            summary = producers_outside_summary(session, products or [], at=day)
        stem = selection_stem(
            "producers_outside", [a.product_code for a in summary.areas] if products else (), day
        )
        options = _options(asset_base, None, "reference,areas,producers")
        step("drawing the map")
        path = write_map(season_map(summary, options), out or _default_path(stem, ".html"), options)
    console.print(f"{len(summary.producers_outside)} producers outside their areas: {path}")
