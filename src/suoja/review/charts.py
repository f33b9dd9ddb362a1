"""Bar charts of the review as SVG, drawn with matplotlib in the language of the page.

The words (labels, formatted values, the note on hidden cells) come in ready-made from the
message catalogues; this module only draws. A hidden cell gets no bar and the symbol of a
hidden cell where its bar would start: it is never drawn as zero. A row whose split by sex
is hidden but whose total is published shows that total as one neutral bar, marked so.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.figure import Figure as Canvas
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from suoja.codelists import OTHER, TOTAL
from suoja.review.figures import Figure
from suoja.review.sections import Chart

COLOURS = {TOTAL: "#0b5394", "F": "#b4235a", "M": "#2f6fb3", "U": "#6b7280"}
POOLED_COLOUR = "#9aa3ad"
HIDDEN_COLOUR = "#4b5563"
SPLIT_COLOUR = "#c3c8cf"  # a published total whose split by sex is not published
STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, and in the page's fonts
    "svg.hashsalt": "suoja",  # stable ids, so that the same release gives the same bytes
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
LABEL_WIDTH = 34  # characters per line of a category label
LINE_HEIGHT = 0.17  # inches per line of a category label, so that labels never overlap


@dataclass(frozen=True)
class ChartText:
    """Everything a chart says, already in the page's language."""

    categories: list[str]
    series: list[str]
    values: list[list[str]]
    hidden: str  # the word for a hidden cell, after its symbol in a one-series chart
    hidden_note: str  # the symbol and its meaning, for the legend
    axis: str
    number: Callable[[float], str]
    split: str = ""  # after the total of a row whose split is not published
    split_note: str = ""  # the neutral bar's meaning, for the legend


def _labels(text: ChartText) -> list[str]:
    return [textwrap.fill(c, LABEL_WIDTH) for c in text.categories]


def _height(rows: int, series: int, lines: int = 1) -> float:
    return 0.6 + rows * max(0.3, 0.2 * series + 0.12, LINE_HEIGHT * lines + 0.08)


def _split_total(chart: Chart, category: str) -> Figure | None:
    """The published total of a row whose split into the drawn series is hidden."""
    if TOTAL not in chart.table_only or len(chart.drawn_series) < 2:
        return None
    if not any(figs[chart.categories.index(category)].hidden for _, figs in chart.drawn_series):
        return None
    total = chart.figure(TOTAL, category)
    return total if total.value else None


def _split_bar(ax: Axes, row: int, total: Figure, text: ChartText, top: float) -> None:
    value = total.value or 0
    ax.barh(row, value, height=0.8 * 0.92, color=SPLIT_COLOUR, edgecolor=HIDDEN_COLOUR,
            linewidth=0.5, hatch="////", gid=f"split-{row}")
    ax.text(value + top * 0.01, row, f"{text.number(value)} ({text.split})", va="center",
            ha="left", fontsize=8, color=HIDDEN_COLOUR, fontstyle="italic",
            gid=f"split-label-{row}")


def _bars(ax: Axes, chart: Chart, text: ChartText) -> tuple[bool, bool]:
    """Draw every series; returns whether some cell is hidden, and some split."""
    drawn = chart.drawn
    count = len(chart.drawn_series)
    thickness = 0.8 / count
    splits = {row: total for row, c in enumerate(drawn) if (total := _split_total(chart, c))}
    top = max([*(f.value or 0 for _, figs in chart.drawn_series for f in figs),
               *(t.value or 0 for t in splits.values())], default=0) or 1
    any_hidden = False
    for row, total in splits.items():
        _split_bar(ax, row, total, text, top)
    for s, (code, figures) in enumerate(chart.drawn_series):
        for row, category in enumerate(drawn):
            if row in splits:
                continue
            figure = figures[chart.categories.index(category)]
            y = row + (s - (count - 1) / 2) * thickness
            colour = POOLED_COLOUR if category == OTHER and code == TOTAL else COLOURS[code]
            label = text.values[s][row]
            if figure.value is None:
                any_hidden = True
                shown = f"{label} {text.hidden}" if count == 1 else label
                ax.text(top * 0.01, y, shown, va="center", ha="left",
                        color=HIDDEN_COLOUR, fontstyle="italic", fontsize=8,
                        gid=f"hidden-{s}-{row}")
                continue
            ax.barh(y, figure.value, height=thickness * 0.92, color=colour,
                    label=text.series[s] if row == 0 else None)
            ax.text(figure.value + top * 0.01, y, label, va="center",
                    ha="left", fontsize=8, gid=f"value-{s}-{row}")
    ax.set_xlim(0, top * (1.45 if splits else 1.15))  # room for the words after a split
    ax.set_ylim(max(len(drawn), 1) - 0.5, -0.5)  # first row on top; an empty table keeps a row
    return any_hidden, bool(splits)


def _legend(ax: Axes, chart: Chart, text: ChartText, any_hidden: bool, split: bool) -> None:
    handles = []
    if len(chart.drawn_series) > 1:
        handles += [Patch(color=COLOURS[code], label=text.series[i])
                    for i, (code, _) in enumerate(chart.drawn_series)]
    if split:
        handles.append(Patch(facecolor=SPLIT_COLOUR, edgecolor=HIDDEN_COLOUR, hatch="////",
                             linewidth=0.5, label=text.split_note))
    if any_hidden and len(chart.drawn_series) > 1:
        handles.append(Patch(facecolor="none", edgecolor="none", label=text.hidden_note))
    if handles:
        # Above the bars, never over them.
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False,
                  ncol=len(handles) if len(handles) <= 2 else 2, borderaxespad=0.3)


def draw(chart: Chart, text: ChartText, path: Path) -> tuple[int, int]:
    """Write ``chart`` as an SVG file; returns its size in CSS pixels (width, height)."""
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        labels = _labels(text)
        lines = max((label.count("\n") + 1 for label in labels), default=1)
        canvas = Canvas(figsize=(7.2, _height(len(chart.drawn), len(chart.drawn_series), lines)))
        ax = canvas.add_subplot()
        any_hidden, split = _bars(ax, chart, text)
        ax.set_yticks(range(len(chart.drawn)), labels)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: text.number(v)))
        ax.set_xlabel(text.axis)
        ax.grid(axis="x", color="#e5e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        _legend(ax, chart, text, any_hidden, split)
        canvas.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    return svg_size(path)


def svg_size(path: Path) -> tuple[int, int]:
    """The width and height of an SVG file written by matplotlib, in CSS pixels."""
    head = path.read_text(encoding="utf-8")[:2000]
    width = re.search(r'width="([\d.]+)pt"', head)
    height = re.search(r'height="([\d.]+)pt"', head)
    if not width or not height:
        raise ValueError(f"{path}: no width and height in points")
    return round(float(width.group(1)) * 4 / 3), round(float(height.group(1)) * 4 / 3)
