"""Charts of a season's results for the reports (matplotlib PNG in the embedded CJK font)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gi.reads.season import CoverageRow
from maps.cjk_font import use_cjk_font_in_matplotlib
from maps.style import Category


def _style_axes(ax: plt.Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#888888")
    ax.spines["bottom"].set_color("#888888")
    ax.tick_params(colors="#333333", labelsize=8)


def verdict_bars(counts: pd.DataFrame, categories: Sequence[Category], title: str, path: str | Path) -> Path:
    """Horizontal 100 % stacked bars: per product, the share of each verdict (counts on wide segments)."""
    use_cjk_font_in_matplotlib()
    names = list(counts["product_name"]) if len(counts) else []
    height = 0.9 + 0.34 * max(len(names), 1)
    fig, ax = plt.subplots(figsize=(7.2, height), dpi=200)
    totals = counts["samples"].to_numpy(dtype=float) if len(counts) else np.array([])
    left = np.zeros(len(names))
    for category in categories:
        values = counts[category.code].to_numpy(dtype=float) if len(counts) else np.array([])
        share = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0) * 100
        ax.barh(
            names,
            share,
            left=left,
            color=category.colour,
            label=category.label,
            height=0.62,
            edgecolor="white",
            linewidth=0.5,
        )
        for y, (s, v, l0) in enumerate(zip(share, values, left, strict=True)):
            if s >= 7:
                ax.text(
                    l0 + s / 2,
                    y,
                    f"{int(v):,}",
                    ha="center",
                    va="center",
                    fontsize=6.8,
                    color="white" if category.code not in ("pending", "unchecked") else "#222222",
                )
        left += share
    ax.set_xlim(0, 100)
    ax.set_xlabel("占样品数比例（%）", fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10, loc="left")
    _style_axes(ax)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.22 if len(names) > 3 else -0.4),
        ncol=len(categories),
        fontsize=7.5,
        frameon=False,
    )
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, facecolor="white")
    plt.close(fig)
    return path


def coverage_bars(rows: Sequence[CoverageRow], title: str, path: str | Path) -> Path:
    """Per product: tasks planned and done (bars), or samples taken when there was no plan."""
    use_cjk_font_in_matplotlib()
    frame = pd.DataFrame(
        [
            {"product": r.product_name, "planned": r.planned or 0, "done": r.done, "samples": r.samples}
            for r in rows
        ]
    )
    by_product = frame.groupby("product", sort=False).sum() if len(frame) else frame
    names = list(by_product.index)
    fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.34 * max(len(names), 1)), dpi=200)
    y = np.arange(len(names))
    planned = any(r.planned is not None for r in rows)
    if planned:
        ax.barh(y - 0.18, by_product["planned"], height=0.34, color="#b0bec5", label="计划任务")
        ax.barh(y + 0.18, by_product["done"], height=0.34, color="#1f78b4", label="已完成任务")
        for yi, (p, d) in enumerate(zip(by_product["planned"], by_product["done"], strict=True)):
            rate = f"{d / p:.0%}" if p else "—"
            ax.text(max(p, d) * 1.01 + 0.2, yi, rate, va="center", fontsize=7)
    else:
        ax.barh(y, by_product["samples"], height=0.55, color="#1f78b4", label="样品数")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10, loc="left")
    ax.margins(x=0.12)
    _style_axes(ax)
    ax.legend(fontsize=7.5, frameon=False, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, facecolor="white")
    plt.close(fig)
    return path


def weekly_results(
    samples: pd.DataFrame, column: str, categories: Sequence[Category], title: str, path: str | Path
) -> Path:
    """Samples per week, stacked by verdict: when in the season problems were found."""
    use_cjk_font_in_matplotlib()
    fig, ax = plt.subplots(figsize=(7.2, 2.6), dpi=200)
    if len(samples):
        weeks = pd.Series([t.date() for t in samples["collected_at"]])
        week_start = pd.to_datetime(weeks) - pd.to_timedelta(pd.to_datetime(weeks).dt.day_of_week, unit="D")
        table = pd.crosstab(week_start.to_numpy(), samples[column].to_numpy())
        table = table.reindex(columns=[c.code for c in categories], fill_value=0)
        bottom = np.zeros(len(table))
        x = np.arange(len(table))
        for category in categories:
            ax.bar(
                x, table[category.code], bottom=bottom, color=category.colour, label=category.label, width=0.8
            )
            bottom += table[category.code].to_numpy()
        step = max(1, len(x) // 10)
        ax.set_xticks(x[::step], [f"{d:%m-%d}" for d in table.index[::step]])
    ax.set_ylabel("样品数（周）", fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    _style_axes(ax)
    ax.legend(
        fontsize=7, frameon=False, ncol=len(categories), loc="upper center", bbox_to_anchor=(0.5, -0.14)
    )
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, facecolor="white")
    plt.close(fig)
    return path
