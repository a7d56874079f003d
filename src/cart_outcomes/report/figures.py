"""Publication figures: Kaplan-Meier with a risk table, cumulative incidence, Simon-Makuch, swimmer, toxicity, forest
and kinetics plots.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global backend, no figure
manager, nothing left open), inside :func:`figure_style`, an ``rc_context`` with a fixed ``svg.hashsalt`` and no date
metadata, so the same input always gives the same bytes. SVG keeps its text as ``<text>`` elements
(``svg.fonttype = "none"``), so a label can be edited in Inkscape, Illustrator or PowerPoint; the font (DejaVu Sans by
default, shipped with matplotlib) is named with a generic fallback and nothing is fetched. Serialise with
:func:`figure_to_svg`, :func:`figure_to_png` (300 dpi by default), :func:`figure_to_pdf`, :func:`figure_to_tiff` or
:func:`save_figure`.

Survival figures (:func:`km_figure`, :func:`cif_figure`, :func:`simon_makuch_figure`) take the report's
:class:`~cart_outcomes.report.options.FigureOptions` (size, font, palette, group labels and order, CI bands, risk
table rows, median annotation, p-value placement, tick breaks and axis limit) and a :class:`GroupStyles`, which fixes
the colour and line type of each group for a whole report. The default palette is Okabe-Ito (Okabe M, Ito K. Color
Universal Design, 2008), distinguishable with every common colour-vision deficiency; ``"greyscale"`` adds line types
for print.

Times are days from infusion in every input; ``unit`` (days, weeks, months, years; see :mod:`cart_outcomes.units`)
divides them for display and names the axis. The risk table under a curve gives, at each x tick, R's
``summary(survfit, times = ticks)$n.risk`` (the fit's own ``at(ticks)``: subjects still at risk at the tick, also when
events fall on it), the cumulative number of events (the sum of ``n.event`` up to the tick) and of censorings.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError
from cart_outcomes.report._format import format_hr, format_p, format_time, is_missing, round_half_up
from cart_outcomes.report._svg import sanitize_svg
from cart_outcomes.report.options import FigureOptions
from cart_outcomes.units import axis_label, days_per_unit, default_break

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "GREYSCALE",
    "OKABE_ITO",
    "GroupStyles",
    "cif_figure",
    "figure_style",
    "figure_to_pdf",
    "figure_to_png",
    "figure_to_svg",
    "figure_to_tiff",
    "forest_figure",
    "kinetics_figure",
    "kinetics_parameter_figure",
    "km_figure",
    "lab_trajectory_figure",
    "palette_colours",
    "save_figure",
    "simon_makuch_figure",
    "suppressed_steps",
    "swimmer_figure",
    "toxicity_bars",
    "toxicity_heatmap",
]

#: Okabe-Ito colours in the order curves use them (blue, vermillion, bluish green, orange, reddish purple, sky blue,
#: yellow, black).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: Greys of the ``"greyscale"`` palette (with :data:`LINE_TYPES`, for print without colour).
GREYSCALE = ("#000000", "#666666", "#999999", "#4D4D4D")
#: Line types of the greyscale palette: solid, dashed, dotted, dash-dot, long dash, dash-dot-dot.
LINE_TYPES: tuple[Any, ...] = ("solid", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (10, 3)),
                               (0, (6, 2, 1, 2, 1, 2)))

#: Grade colours 0..5 for toxicity plots (light grey, then yellow → orange → vermillion → dark red, black = death).
GRADE_COLOURS = ("#E8E8E8", "#F0E442", "#E69F00", "#D55E00", "#8B1A00", "#000000")

_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.6,
    "axes.unicode_minus": True,
    "text.usetex": False,
    "figure.dpi": 100.0,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.bbox": None,
    "svg.fonttype": "none",
    "svg.hashsalt": "cart-outcomes",
    "svg.image_inline": True,
    "pdf.fonttype": 42,
    "path.simplify": True,
    "legend.frameon": False,
}

_SVG_META = {"Date": None}
_PNG_META = {"Software": None}
#: zlib's run-length strategy for PNG (Pillow's ``compress_type``): a figure is mostly runs of one colour; a 300-dpi
#: survival figure encodes in about 0.06 s instead of 0.085 s, the file 5-10% larger, the pixels the same.
_PNG_ZLIB = {"compress_type": 3}  # zlib.Z_RLE
_PDF_META = {"Creator": None, "Producer": None, "CreationDate": None}
_SVG_FONT = re.compile(r"font-family: ([^;\"]+)")
_SERIF = ("serif", "times", "georgia", "garamond", "roman", "c059", "liberation serif", "dejavu serif")


def _font_rc(options: FigureOptions | None) -> dict[str, Any]:
    """Font settings of ``options`` (family checked to be installed: no silent fallback to another font)."""
    if options is None:
        return {}
    from matplotlib import font_manager

    family = options.font_family
    if family not in ("sans-serif", "serif", "monospace"):
        try:
            font_manager.findfont(font_manager.FontProperties(family=[family]), fallback_to_default=False)
        except ValueError:
            installed = sorted({f.name for f in font_manager.fontManager.ttflist})
            raise InputError(f"figures.font_family {family!r} is not installed; installed fonts: "
                             f"{', '.join(installed)}") from None
    size = float(options.font_size)
    return {"font.family": family, "font.size": size, "axes.titlesize": size + 1, "axes.labelsize": size,
            "legend.fontsize": size - 1, "xtick.labelsize": size - 1, "ytick.labelsize": size - 1}


@contextlib.contextmanager
def figure_style(options: FigureOptions | None = None) -> Iterator[None]:
    """The matplotlib settings every figure is built and saved with (restored on exit); ``options`` sets the font."""
    import matplotlib as mpl
    from cycler import cycler

    with mpl.rc_context({**_RC, **_font_rc(options), "axes.prop_cycle": cycler(color=list(OKABE_ITO))}):
        yield


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _freeze_layout(fig: Figure) -> None:
    """Run the figure's constrained layout once and freeze it (under :func:`figure_style`, as :func:`_saved` does):
    every later save of the figure (SVG, PNG, PDF, in any order, in this process or a worker) draws the same
    positions.

    The builders leave the layout to the first save, so a report can lay its figures out in worker processes
    (:mod:`~cart_outcomes.report.render`). Only the layout is computed (not a full draw), and the figure is left with
    no layout engine at all: with one (even the "none" placeholder) ``savefig`` draws the whole figure once more
    before writing it. Both give the same bytes at about half the cost.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine(None)


def _plain_number(value: float, _pos: int | None = None) -> str:
    """Tick label without mathtext: 0.1, 1, 1,000, 100,000 (clinicians read these; mathtext is slow to lay out)."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _log_y(ax: Axes) -> None:
    """A log y axis labelled at the decades with plain numbers, minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _font_fallback(match: re.Match) -> str:
    family = match.group(1).strip()
    generic = "serif" if any(s in family.lower() for s in _SERIF) else "sans-serif"
    return f"font-family: {family}, {generic}"


def _saved(fig: Figure, buf: io.StringIO | io.BytesIO, **savefig: Any) -> Any:
    """What ``fig.savefig(buf, **savefig)`` writes, saved under the report style with the layout frozen first."""
    with figure_style():
        _freeze_layout(fig)
        fig.savefig(buf, **savefig)
    return buf.getvalue()


def figure_to_svg(fig: Figure) -> str:
    """SVG text of ``fig`` without the XML prolog, ready to inline in HTML: text stays ``<text>`` (editable, escaped),
    each font is followed by a generic family (``'DejaVu Sans', sans-serif``) so a machine without it still shows
    the labels, and comments and metadata are removed (:func:`~cart_outcomes.report._svg.sanitize_svg`)."""
    svg = _saved(fig, io.StringIO(), format="svg", metadata=_SVG_META)
    return sanitize_svg(_SVG_FONT.sub(_font_fallback, svg[svg.index("<svg"):]))


def figure_to_png(fig: Figure, dpi: int = 300) -> bytes:
    """PNG bytes at ``dpi`` (300 for print), without software metadata."""
    return _saved(fig, io.BytesIO(), format="png", dpi=dpi, metadata=_PNG_META, pil_kwargs=_PNG_ZLIB)


def figure_to_pdf(fig: Figure) -> bytes:
    """PDF bytes with fonts embedded as TrueType and no creation date."""
    return _saved(fig, io.BytesIO(), format="pdf", metadata=_PDF_META)


def figure_to_tiff(fig: Figure, dpi: int = 300) -> bytes:
    """TIFF bytes at ``dpi`` (LZW-compressed RGB, as journals that ask for TIFF accept)."""
    from PIL import Image

    image = Image.open(io.BytesIO(figure_to_png(fig, dpi=dpi))).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="TIFF", compression="tiff_lzw", dpi=(dpi, dpi))
    return buf.getvalue()


def save_figure(fig: Figure, path: str | Path, dpi: int = 300) -> Path:
    """Write ``fig`` to ``path``; the format follows the suffix (``.svg``, ``.png``, ``.pdf``, ``.tif``/``.tiff``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(figure_to_svg(fig), encoding="utf-8")
    elif suffix == ".png":
        path.write_bytes(figure_to_png(fig, dpi=dpi))
    elif suffix == ".pdf":
        path.write_bytes(figure_to_pdf(fig))
    elif suffix in (".tif", ".tiff"):
        path.write_bytes(figure_to_tiff(fig, dpi=dpi))
    else:
        raise InputError(f"figure path must end in .svg, .png, .pdf or .tiff, got {path.name!r}")
    return path


# ----------------------------------------------------------------------------------------------------------------
# helpers


def _table_of(result: Any, what: str) -> pd.DataFrame:
    table = result if isinstance(result, pd.DataFrame) else getattr(result, "table", None)
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{what} must be a result with a .table DataFrame or a DataFrame, got {type(result).__name__}")
    return table


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def _groups(table: pd.DataFrame) -> list[Any]:
    """Group values in table order; ``[None]`` when the table has no group column."""
    if "group" not in table.columns:
        return [None]
    return list(dict.fromkeys(table["group"].tolist()))


def _rows(table: pd.DataFrame, group: Any) -> pd.DataFrame:
    if group is None:
        return table
    return table[table["group"] == group]


def _label(value: Any, labels: Mapping[Any, str] | None, n_values: int) -> str:
    """Display name: ``labels[value]`` when given, "All patients" for a lone curve, else the value itself."""
    if labels is not None and value in labels:
        return str(labels[value])
    return "All patients" if n_values == 1 or value is None else str(value)


def _step_xy(times: np.ndarray, values: np.ndarray, start: float) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([[0.0], times]), np.concatenate([[start], values])


#: Per-patient figures label each row up to this many patients; larger cohorts get unlabelled, thinner rows.
MAX_LABELLED_ROWS = 60
_MAX_HEIGHT_IN = 12.0
#: Heat maps up to this many patient-day cells are drawn as vector cells; larger ones as an embedded PNG.
MAX_VECTOR_CELLS = 4000
#: Per-patient line figures draw one line artist per patient up to this many patients; beyond, one line broken
#: between patients (the same picture: a line per patient costs layout and drawing time per artist).
MAX_LINE_ARTISTS = 200


def _rows_height(n_rows: int, per_row: float) -> float:
    """Figure height for a one-row-per-patient plot, capped so a 1,000-patient cohort still fits a page."""
    return min(1.0 + per_row * max(n_rows, 1), _MAX_HEIGHT_IN)


def _short(value: Any, limit: int = 24) -> str:
    """Axis label text, cut with an ellipsis so one long id cannot squeeze the plot away."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _hr_text(hazard_ratio: Any, label: str) -> str:
    """``label hr (95% CI lo–hi)`` from a 3-tuple, or a mapping / object / table row with ``hazard_ratio, lower,
    upper`` (and ``conf_level`` when the level is not 95%)."""
    level = 0.95
    if isinstance(hazard_ratio, (tuple, list)) and len(hazard_ratio) == 3:
        hr, lo, hi = hazard_ratio
    else:
        get = hazard_ratio.get if isinstance(hazard_ratio, Mapping) else lambda k: getattr(hazard_ratio, k)
        try:
            hr, lo, hi = get("hazard_ratio"), get("lower"), get("upper")
        except (AttributeError, KeyError):
            raise InputError(
                "hazard_ratio must be (hr, lower, upper) or have hazard_ratio, lower and upper"
            ) from None
        with contextlib.suppress(AttributeError, KeyError):
            level = float(get("conf_level"))
    return f"{label} {round_half_up(hr, 2)} ({round(100 * level)}% CI {round_half_up(lo, 2)}–{round_half_up(hi, 2)})"


def _p_of(test: Any) -> float:
    if isinstance(test, (int, float, np.floating)):
        return float(test)
    p = getattr(test, "p_value", None)
    if p is None:
        raise InputError(f"logrank must be a p-value or a result with .p_value, got {type(test).__name__}")
    return float(p)


def palette_colours(options: FigureOptions) -> tuple[str, ...]:
    """The colours of ``options.palette``: :data:`OKABE_ITO`, :data:`GREYSCALE` or the plan's own list."""
    if options.palette == "okabe-ito":
        return OKABE_ITO
    return GREYSCALE if options.palette == "greyscale" else tuple(options.palette)


class GroupStyles:
    """Colour and line type of each group, fixed for a whole report.

    The first figure that draws a group gives it the next entry of the palette of ``options``
    (:class:`~cart_outcomes.report.options.FigureOptions`); every later figure draws the same group (by value, e.g.
    ``"HSCT"``) with the same colour and line type, so a group never swaps colours between the naive Kaplan-Meier
    and the Simon-Makuch figure. Colour palettes use solid lines; ``"greyscale"`` cycles greys and line types.
    """

    def __init__(self, options: FigureOptions | None = None) -> None:
        options = options or FigureOptions()
        self._colours = palette_colours(options)
        self._lines = LINE_TYPES if options.palette == "greyscale" else ("solid",)
        self._given: dict[str, tuple[str, Any]] = {}

    def __call__(self, group: Any) -> tuple[str, Any]:
        """``(colour, line type)`` of ``group``."""
        key = str(group)
        if key not in self._given:
            i = len(self._given)
            self._given[key] = (self._colours[i % len(self._colours)], self._lines[i % len(self._lines)])
        return self._given[key]

    def colour(self, group: Any) -> str:
        return self(group)[0]


#: Row titles of the risk table.
RISK_ROW_NAMES = {"at_risk": "At risk", "events": "Events", "censored": "Censored"}
_RISK_TITLES = {"at_risk": "Number at risk", "events": "Cumulative number of events",
                "censored": "Cumulative number censored"}


def _ordered(groups: list[Any], options: FigureOptions, labels: Mapping[Any, str] | None) -> list[Any]:
    """``groups`` in ``options.group_order`` (by value or display label), the others after them in data order."""
    if not options.group_order:
        return groups
    rank = {name: i for i, name in enumerate(options.group_order)}

    def key(g: Any) -> int:
        label = labels.get(g) if labels else None
        return min(rank.get(str(g), len(rank)), rank.get(str(label), len(rank)))

    return sorted(groups, key=key)


def _names(groups: list[Any], options: FigureOptions, labels: Mapping[Any, str] | None) -> list[str]:
    """Display names: explicit ``labels`` first, then ``options.group_labels`` (by value or by label)."""
    out = []
    for g in groups:
        name = _label(g, labels, len(groups))
        out.append(_short(options.group_labels.get(str(g), options.group_labels.get(name, name)), 32))
    return out


def _time_ticks(max_days: float, unit: str, times: Sequence[float] | None,
                options: FigureOptions) -> tuple[np.ndarray, float]:
    """X ticks (display units) and the right end of the axis: ``times`` if given, else every ``time_breaks`` (or
    the unit's usual spacing: 0/3/6/9/12 months) up to ``time_max`` (or the last time)."""
    scale = days_per_unit(unit)
    end = float(options.time_max) if options.time_max is not None else max_days / scale
    if times is not None:
        ticks = np.unique(np.asarray(list(times), dtype=float))
        if ticks.size == 0 or ticks[0] < 0 or not np.isfinite(ticks).all():
            raise InputError(f"times must be non-negative and not empty, got {list(times)}")
    else:
        step = float(options.time_breaks) if options.time_breaks is not None else default_break(unit, end)
        ticks = np.arange(0.0, end + step * 1e-9, step) if end > 0 else np.array([0.0])
        ticks = np.round(ticks, 10)
    right = float(options.time_max) if options.time_max is not None else (
        max(float(ticks[-1]), end) * 1.02 if end > 0 else 1.0)
    return ticks, right


def _cumulative(table: pd.DataFrame, ticks_days: np.ndarray, column: str) -> np.ndarray:
    """Sum of ``column`` over the rows of ``table`` with ``time <= tick``, for each tick (R: ``cumsum`` of
    ``summary(fit, times = ticks)$n.event``)."""
    times = table["time"].to_numpy(dtype=float)
    values = table[column].to_numpy(dtype=float)
    return np.array([values[times <= t + 1e-9].sum() for t in ticks_days])


def _draw_risk_table(ax: Axes, blocks: list[tuple[str, list[tuple[str, str, list[str]]]]],
                     ticks_display: np.ndarray, title: str) -> None:
    """Rows of counts centred on the x ticks (the axis is shared with the curves). ``blocks`` is a list of
    ``(row kind, [(row label, colour, texts per tick)])``; a block title row is drawn when there are several kinds
    and several groups. Each count's gid is ``risk-<kind>-<row>-<tick>`` (``row`` numbers the groups of a kind)."""
    labelled = len(blocks) > 1 and len(blocks[0][1]) > 1
    lines: list[tuple[str, str, bool]] = []
    y = 0
    total = sum(len(rows) + (1 if labelled else 0) for _, rows in blocks)
    for kind, rows in blocks:
        if labelled:
            lines.append((RISK_ROW_NAMES[kind], "#000000", True))
            y += 1
        for row, (label, colour, texts) in enumerate(rows):
            level = total - 1 - y
            for k, (x, text) in enumerate(zip(ticks_display, texts, strict=True)):
                ax.text(x, level, text, ha="center", va="center", color=colour, clip_on=False,
                        fontsize=_RISK_FONT_SCALE * _rc_size(), gid=f"risk-{kind}-{row}-{k}")
            lines.append((label, colour, False))
            y += 1
    ax.set_ylim(-0.6, total - 0.4)
    ax.set_yticks(range(total - 1, -1, -1), labels=[label for label, _, _ in lines])
    for tick_label, (_, colour, header) in zip(ax.get_yticklabels(), lines, strict=True):
        tick_label.set_color(colour)
        if header:
            tick_label.set_fontweight("bold")
    ax.tick_params(axis="y", length=0, pad=14)  # clear of the counts centred on x = 0
    ax.tick_params(axis="x", length=0, labelbottom=False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, loc="left", fontsize=_rc_size() * 0.95, fontweight="bold")


_RISK_FONT_SCALE = 0.9


def _rc_size() -> float:
    import matplotlib as mpl

    return float(mpl.rcParams["font.size"])


def _risk_blocks(counts: Mapping[str, Mapping[Any, np.ndarray]], kinds: Sequence[str], groups: list[Any],
                 names: list[str], colours: list[str]) -> list[tuple[str, list[tuple[str, str, list[str]]]]]:
    """Risk-table blocks from ``counts[kind][group]`` (one value per tick); a single group's rows are named by kind."""
    blocks = []
    for kind in kinds:
        if kind not in counts:
            continue
        rows = []
        for group, name, colour in zip(groups, names, colours, strict=True):
            values = counts[kind][group]
            texts = ["NA" if is_missing(v) else f"{float(v):g}" for v in values]
            rows.append((RISK_ROW_NAMES[kind] if len(groups) == 1 else name, colour, texts))
        blocks.append((kind, rows))
    return blocks


def _risk_title(blocks: list[tuple[str, list]]) -> str:
    kinds = [kind for kind, _ in blocks]
    return _RISK_TITLES[kinds[0]] if len(kinds) == 1 else "Number at risk"


def _risk_height(blocks: list[tuple[str, list]]) -> float:
    rows = sum(len(r) for _, r in blocks) + (len(blocks) if len(blocks) > 1 and len(blocks[0][1]) > 1 else 0)
    return 0.32 + 0.2 * rows if rows else 0.0


def _p_text(test: Any, label: str) -> str:
    return f"{label} = {format_p(_p_of(test))}".replace("= <", "<")


def _curve_figure(table: pd.DataFrame, *, counts_of: Callable[[np.ndarray], Mapping[str, Mapping[Any, np.ndarray]]],
                  medians: pd.DataFrame | None, what: str, ylabel: str, times: Sequence[float] | None, unit: str,
                  ci: bool, show_median: bool, title: str | None, labels: Mapping[Any, str] | None,
                  test_text: str | None, extra_legend: str | None, xlabel: str | None, options: FigureOptions,
                  styles: Callable[[Any], tuple[str, Any]], width: float | None, height: float | None,
                  starts: Mapping[Any, float] | None = None, min_at_risk: int | None = None,
                  median_note: bool = False) -> Figure:
    """Step curves from ``table`` (``group, time, survival`` [``n_risk, n_censor, lower, upper``]) with a risk table
    of ``counts_of(ticks_in_days)`` (``{kind: {group: values per tick}}``) beneath.

    ``starts`` gives a group's entry time in days (its curve starts there at 1, not at day 0); steps resting on
    fewer than ``min_at_risk`` patients (``n_risk``) are not drawn.
    """
    _require(table, ["time", "survival"], what)
    if ci:
        _require(table, ["lower", "upper"], what)
    scale = days_per_unit(unit)
    groups = _ordered(_groups(table), options, labels)
    names = _names(groups, options, labels)
    looks = [styles(g) if len(groups) > 1 else ("#000000", "solid") for g in groups]
    colours = [c for c, _ in looks]
    legend_names = dict(zip(groups, names, strict=True))
    if isinstance(medians, pd.DataFrame) and {"n", "events"} <= set(medians.columns):
        for group, name in zip(groups, names, strict=True):
            sub = medians if group is None or "group" not in medians.columns else medians[medians["group"] == group]
            if len(sub) == 1:
                legend_names[group] = f"{name} (n = {sub['n'].iloc[0]:g}, events = {sub['events'].iloc[0]:g})"
                if median_note and len(groups) == 1 and {"median", "lower", "upper"} <= set(sub.columns):
                    legend_names[group] += "\n" + _median_text(sub.iloc[0], scale, unit, medians)

    max_days = float(table["time"].max()) if len(table) else 0.0
    ticks_display, right = _time_ticks(max_days, unit, times, options)
    ticks_days = ticks_display * scale
    blocks = _risk_blocks(counts_of(ticks_days), options.risk_table, groups, names, colours)
    panel = options.height if height is None else height
    risk_h = _risk_height(blocks)

    with figure_style(options):
        fig = _new_figure(options.width if width is None else width, panel + risk_h)
        if blocks:
            grid = fig.add_gridspec(2, 1, height_ratios=[panel, risk_h])
            ax = fig.add_subplot(grid[0])
            risk_ax = fig.add_subplot(grid[1], sharex=ax)
        else:
            ax = fig.add_subplot()
        for group, (colour, line) in zip(groups, looks, strict=True):
            rows = _rows(table, group).sort_values("time", kind="stable")
            t = rows["time"].to_numpy(dtype=float) / scale
            s = rows["survival"].to_numpy(dtype=float)
            origin = 0.0 if starts is None or group not in starts else float(starts[group]) / scale
            keep = t >= origin
            t, s, rows = t[keep], s[keep], rows[keep]
            if min_at_risk is not None and "n_risk" in rows.columns:
                s = np.where(rows["n_risk"].to_numpy(dtype=float) >= min_at_risk, s, np.nan)
            x, y = np.concatenate([[origin], t]), np.concatenate([[1.0], s])
            ax.step(x, y, where="post", color=colour, linestyle=line, label=legend_names[group])
            if ci:
                lo = np.concatenate([[1.0], rows["lower"].to_numpy(dtype=float)])
                hi = np.concatenate([[1.0], rows["upper"].to_numpy(dtype=float)])
                ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.15, linewidth=0)
            if "n_censor" in rows.columns:
                censored = rows["n_censor"].to_numpy() > 0
                ax.plot(t[censored], s[censored], linestyle="none", marker="|", markersize=7, markeredgewidth=1.2,
                        color=colour)

        if show_median and isinstance(medians, pd.DataFrame):
            for group, colour in zip(groups, colours, strict=True):
                sub = medians if group is None or "group" not in medians.columns else medians[
                    medians["group"] == group]
                if len(sub) and not is_missing(sub["median"].iloc[0]):
                    m = float(sub["median"].iloc[0]) / scale
                    ax.plot([0, m], [0.5, 0.5], color="#7F7F7F", linestyle=":", linewidth=0.9)
                    ax.plot([m, m], [0, 0.5], color=colour, linestyle=":", linewidth=0.9)

        ax.set_xticks(ticks_display, labels=[f"{v:g}" for v in ticks_display])
        ax.set_xlim(0, right)
        ax.set_ylim(0, 1.03)
        ax.set_yticks(np.linspace(0, 1, 6), labels=[f"{int(v * 100)}%" for v in np.linspace(0, 1, 6)])
        ax.set_ylabel(ylabel)
        ax.set_xlabel(axis_label(unit) if xlabel is None else xlabel)
        if title:
            ax.set_title(title, loc="left")
        parts = [p for p in ((test_text if options.p_value == "legend" else None), extra_legend) if p]
        ax.legend(loc="upper right", title="\n".join(parts) or None, alignment="left")
        if test_text and options.p_value == "plot":
            ax.text(0.02, 0.04, test_text, transform=ax.transAxes, ha="left", va="bottom", gid="p-value")
        if blocks:
            _draw_risk_table(risk_ax, blocks, ticks_display, _risk_title(blocks))
    return fig


def _median_text(row: pd.Series, scale: float, unit: str, medians: pd.DataFrame) -> str:
    """``Median 4.4 months (95% CI 1.0–NR)`` from a ``medians`` row in days, rounded as the tables are
    (:func:`~cart_outcomes.report._format.format_time`: one decimal in weeks, months and years, whole days)."""
    level = float(medians["conf_level"].iloc[0]) if "conf_level" in medians.columns else 0.95

    def value(v: Any) -> str:
        if is_missing(v):
            return "NR"
        return format_time(float(v) / scale, unit)

    ci = f"({round(100 * level)}% CI {value(row['lower'])}–{value(row['upper'])})"
    return f"Median not reached {ci}" if is_missing(row["median"]) else f"Median {value(row['median'])} {unit} {ci}"


# ----------------------------------------------------------------------------------------------------------------
# survival curves


def km_figure(km_result: Any, *, logrank: Any = None, hazard_ratio: Any = None, hr_label: str = "HR",
              times: Sequence[float] | None = None, unit: str = "days", ci: bool | None = None,
              show_median: bool = True, title: str | None = None, labels: Mapping[Any, str] | None = None,
              ylabel: str = "Survival probability", xlabel: str | None = None, width: float | None = None,
              height: float | None = None, options: FigureOptions | None = None,
              styles: GroupStyles | None = None) -> Figure:
    """Kaplan-Meier curves with censor ticks, optional CI bands and median lines, and a risk table beneath.

    Parameters
    ----------
    km_result
        The result of :func:`cart_outcomes.stats.kaplan_meier` (``.table`` with ``group, time, n_risk, n_event,
        n_censor, survival, lower, upper``, ``.medians`` and ``.at(times)``).
    logrank
        A log-rank result (``.p_value``) or a p-value; placed as ``options.p_value`` says (legend title default).
    hazard_ratio
        ``(hr, lower, upper)`` or an object/mapping with ``hazard_ratio, lower, upper``; shown after the p-value with
        ``hr_label`` (say which HR it is: "Cox HR", "HR (log-rank O/E)").
    times
        X ticks in display units; the risk table is given at exactly these times. Default: every
        ``options.time_breaks`` or the unit's usual spacing (0/3/6/9/12 months).
    unit
        ``"days"``, ``"weeks"``, ``"months"`` or ``"years"`` (:mod:`cart_outcomes.units`), named on the axis.
    ci
        Draw the pointwise confidence band of the result (its ``conf_type``); default ``options.ci_bands``.
    show_median
        Dotted lines at S = 0.5 down to each reached median; a single curve also gets "Median X months (95% CI a–b)"
        in its legend entry when ``options.median``.
    labels
        Display names for group values (over ``options.group_labels``).
    width, height
        Inches of the curve panel (default ``options.width``/``options.height``); the risk table is added below.
    options, styles
        Figure options and the report's :class:`GroupStyles` (a fresh one per figure when not given).

    Returns
    -------
    matplotlib.figure.Figure
        The curves, then (when ``options.risk_table`` is not empty) the risk table sharing the x axis, so each count
        sits under its tick: number at risk (R ``summary(fit, times = ticks)$n.risk``), cumulative events
        (``cumsum(summary(fit, times = ticks)$n.event)``) and cumulative censored, as the options ask.

    Notes
    -----
    Equivalent R: ``ggsurvfit(survfit2(Surv(time, event) ~ group)) + add_risktable()`` (at risk and cumulative
    events), or survminer's ``ggsurvplot(fit, risk.table = TRUE, cumevents = TRUE, xscale = "d_m",
    break.time.by = 3)``. Curves start at (0, 1) and are right-continuous steps.
    """
    options = options or FigureOptions()
    parts = []
    if logrank is not None:
        parts.append(_p_text(logrank, "Log-rank p"))
    if hazard_ratio is not None:
        parts.append(_hr_text(hazard_ratio, hr_label))
    medians = getattr(km_result, "medians", None)
    table = _table_of(km_result, "km_result")

    def counts_of(ticks: np.ndarray) -> dict[str, dict[Any, np.ndarray]]:
        at = km_result.at(ticks)
        out: dict[str, dict[Any, np.ndarray]] = {"at_risk": {}, "events": {}, "censored": {}}
        for group in _groups(table):
            sub = at if group is None or "group" not in at.columns else at[at["group"] == group]
            if len(sub) != len(ticks):
                raise InputError(f"km_result.at gave {len(sub)} rows for group {group!r}, expected {len(ticks)}")
            out["at_risk"][group] = sub["n_risk"].to_numpy(dtype=float)
            out["events"][group] = np.cumsum(sub["n_event"].to_numpy(dtype=float))
            out["censored"][group] = np.cumsum(sub["n_censor"].to_numpy(dtype=float))
        return out

    return _curve_figure(table, counts_of=counts_of, medians=medians if isinstance(medians, pd.DataFrame) else None,
                         what="km_result", ylabel=ylabel, times=times, unit=unit,
                         ci=options.ci_bands if ci is None else ci, show_median=show_median, title=title,
                         labels=labels, test_text=parts[0] if logrank is not None else None,
                         extra_legend="\n".join(parts[1:] if logrank is not None else parts) or None, xlabel=xlabel,
                         options=options, styles=styles or GroupStyles(options), width=width, height=height,
                         median_note=show_median and options.median)


#: Default names of the Simon-Makuch states (the exposure of a CAR-T cohort is consolidative allo-HSCT).
SIMON_MAKUCH_LABELS = {"unexposed": "No HSCT (yet)", "exposed": "After allo-HSCT"}


def suppressed_steps(result: Any, min_at_risk: int) -> dict[str, dict[str, float]]:
    """The Simon-Makuch states whose curve is cut by ``min_at_risk``: ``{state: {"time": last drawn time (days),
    "survival": last drawn value, "hidden_survival": last estimate, "steps": number of steps not drawn}}``
    (states with every step drawn are left out). The captions say where each curve stops and why."""
    table = _table_of(result, "simon_makuch result")
    _require(table, ["state", "time", "survival", "n_risk"], "simon_makuch result")
    out = {}
    for state, rows in table.groupby("state", sort=False):
        rows = rows.sort_values("time", kind="stable")
        hidden = rows["n_risk"].to_numpy(dtype=float) < min_at_risk
        if hidden.any():
            shown = rows[~hidden]
            out[str(state)] = {"time": float(shown["time"].iloc[-1]) if len(shown) else float("nan"),
                               "survival": float(shown["survival"].iloc[-1]) if len(shown) else 1.0,
                               "hidden_survival": float(rows["survival"].iloc[-1]), "steps": int(hidden.sum())}
    return out


def simon_makuch_figure(result: Any, *, times: Sequence[float] | None = None, unit: str = "days",
                        title: str | None = None, labels: Mapping[Any, str] | None = None,
                        ylabel: str = "Survival probability", xlabel: str | None = None, test: Any = None,
                        test_label: str = "Mantel-Byar p", width: float | None = None, height: float | None = None,
                        options: FigureOptions | None = None, styles: GroupStyles | None = None,
                        style_keys: Mapping[str, Any] | None = None) -> Figure:
    """Simon-Makuch curves (KM-type curves by current exposure state) with per-state numbers at risk.

    Patients count in the unexposed state until their exposure day (e.g. HSCT) and in the exposed state afterwards
    (delayed entry), so the numbers at risk of the exposed state can rise. ``result`` is
    :func:`cart_outcomes.stats.simon_makuch` (``.table`` with ``state, time, survival, n_risk, n_event, n_censor``,
    ``.split`` with the ``start`` of each (start, stop] row). The exposed curve starts on the first exposure day
    (nobody is in that state before); steps with fewer than ``options.min_at_risk`` patients at risk in their state
    are not drawn (:func:`suppressed_steps` says which, for the caption). The risk table gives the number in each
    state at the tick (``result.at_risk(ticks)``) and, when asked, the cumulative events in the state (moving to the
    exposed state is not a censoring, so no censored row is drawn). ``labels`` names the states (default
    :data:`SIMON_MAKUCH_LABELS`); ``style_keys`` maps each state to the group whose colour it takes (e.g.
    ``{"exposed": "HSCT", "unexposed": "no HSCT"}``, so it matches the naive figure). ``test`` (a p-value or a
    result with ``.p_value``, typically Mantel-Byar) is placed as ``options.p_value`` says.

    Equivalent R: ``plot(survfit(Surv(start, stop, event) ~ state, data = tmerge(...)))`` (Simon R, Makuch RW.
    Stat Med 1984;3:35-44).
    """
    options = options or FigureOptions()
    styles = styles or GroupStyles(options)
    table = _table_of(result, "simon_makuch result")
    _require(table, ["state", "n_risk"], "simon_makuch result")
    starts = None
    split = getattr(result, "split", None)
    if isinstance(split, pd.DataFrame) and {"start", "exposed"} <= set(split.columns):
        entered = split.loc[split["exposed"].to_numpy().astype(bool), "start"]
        if len(entered):
            starts = {"exposed": float(entered.min())}

    def counts_of(ticks: np.ndarray) -> dict[str, dict[Any, np.ndarray]]:
        at = result.at_risk(ticks)
        out: dict[str, dict[Any, np.ndarray]] = {"at_risk": {}, "events": {}}
        for state in _groups(table.rename(columns={"state": "group"})):
            out["at_risk"][state] = at.loc[at["state"] == state, "n_risk"].to_numpy(dtype=float)
            out["events"][state] = _cumulative(table[table["state"] == state], ticks, "n_event")
        return out

    keys = dict(style_keys or {})
    return _curve_figure(table.rename(columns={"state": "group"}), counts_of=counts_of, medians=None,
                         what="simon_makuch result", ylabel=ylabel, times=times, unit=unit, ci=False,
                         show_median=False, title=title, labels=SIMON_MAKUCH_LABELS if labels is None else labels,
                         test_text=None if test is None else _p_text(test, test_label), extra_legend=None,
                         xlabel=xlabel, options=options, styles=lambda state: styles(keys.get(state, state)),
                         width=width, height=height, starts=starts, min_at_risk=options.min_at_risk)


def cif_figure(cif_result: Any, *, layout: str = "side", cause_labels: Mapping[Any, str] | None = None,
               labels: Mapping[Any, str] | None = None, unit: str = "days", times: Sequence[float] | None = None,
               ci: bool | None = None, at_risk: bool = True, title: str | None = None, test: Any = None,
               test_label: str = "Gray's test p", width: float | None = None, height: float | None = None,
               options: FigureOptions | None = None, styles: GroupStyles | None = None) -> Figure:
    """Cumulative incidence curves (Aalen-Johansen) of competing events, e.g. relapse and non-relapse mortality.

    Parameters
    ----------
    cif_result
        :func:`cart_outcomes.stats.cumulative_incidence` (``.table`` with ``group, cause, time, n_event, estimate,
        lower, upper``; ``.at(times)``) or that table (then ``at_risk=False``).
    layout
        ``"side"``: one panel per cause, groups coloured; ``"stacked"``: one panel per group with the causes stacked
        (the top edge is the probability of any event, 1 - KM).
    cause_labels
        Names of the causes, e.g. ``{1: "Relapse", 2: "Non-relapse mortality"}``.
    ci
        Pointwise CI bands of each curve (``side`` layout); default ``options.ci_bands``.
    at_risk
        A risk table under each panel, labelled on its own: patients still event-free and under observation
        (``cif_result.at(ticks).n_risk``, R's ``summary(fit, times=)$n.risk``) and, as ``options.risk_table`` asks,
        the cumulative events of that panel's cause (``side``) or of any cause (``stacked``) and cumulative censored.
    test
        A p-value or result with ``.p_value`` (Gray's test), placed as ``options.p_value`` says.

    Equivalent R: ``ggcuminc(tidycmprsk::cuminc(Surv(time, factor(status)) ~ group)) + add_risktable()`` /
    ``plot(survfit(Surv(time, factor(status)) ~ group))``.
    """
    options = options or FigureOptions()
    styles = styles or GroupStyles(options)
    table = _table_of(cif_result, "cif_result")
    _require(table, ["cause", "time", "estimate"], "cif_result")
    if layout not in ("side", "stacked"):
        raise InputError(f"layout must be 'side' or 'stacked', got {layout!r}")
    ci = options.ci_bands if ci is None else ci
    if ci:
        _require(table, ["lower", "upper"], "cif_result")
    scale = days_per_unit(unit)
    groups = _ordered(_groups(table), options, labels)
    causes = list(dict.fromkeys(table["cause"].tolist()))
    cause_names = [str(cause_labels[c]) if cause_labels and c in cause_labels else str(c) for c in causes]
    max_days = float(table["time"].max()) if len(table) else 0.0
    ticks, right = _time_ticks(max_days, unit, times, options)
    panels = causes if layout == "side" else groups
    kinds = options.risk_table if at_risk else ()
    risk = None
    if kinds:
        if not hasattr(cif_result, "at"):
            raise InputError("numbers at risk need the cumulative_incidence result (with .at); pass at_risk=False")
        risk = cif_result.at(ticks * scale)
        risk = risk[risk["cause"] == causes[0]]  # event-free patients at risk: the same for every cause

    def curve(group: Any, cause: Any) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        rows = _rows(table, group)
        rows = rows[rows["cause"] == cause].sort_values("time", kind="stable")
        return rows["time"].to_numpy(dtype=float) / scale, rows["estimate"].to_numpy(dtype=float), rows

    looks = [styles(g) if len(groups) > 1 else ("#000000", "solid") for g in groups]
    group_names = _names(groups, options, labels)

    def panel_blocks(panel: Any) -> list:
        shown = groups if layout == "side" else [panel]
        counts: dict[str, dict[Any, np.ndarray]] = {"at_risk": {}, "events": {}, "censored": {}}
        for g in shown:
            sub = risk if g is None or "group" not in risk.columns else risk[risk["group"] == g]
            counts["at_risk"][g] = sub["n_risk"].to_numpy(dtype=float)
            rows = _rows(table, g)
            if "n_event" in rows.columns:
                mine = rows[rows["cause"] == panel] if layout == "side" else rows
                counts["events"][g] = _cumulative(mine, ticks * scale, "n_event")
            if "n_censor" in rows.columns:
                counts["censored"][g] = _cumulative(rows[rows["cause"] == causes[0]], ticks * scale, "n_censor")
        idx = [groups.index(g) for g in shown]
        return _risk_blocks({k: v for k, v in counts.items() if v}, kinds, shown, [group_names[i] for i in idx],
                            [looks[i][0] if layout == "side" else "#000000" for i in idx])

    blocks = [panel_blocks(p) for p in panels] if risk is not None else [[] for _ in panels]
    panel_h = (options.height * 0.9) if height is None else height
    risk_h = max((_risk_height(b) for b in blocks), default=0.0)
    base_w = options.width if width is None else width
    test_text = None if test is None else _p_text(test, test_label)
    with figure_style(options):
        fig = _new_figure(base_w if len(panels) > 1 else base_w * 0.6, panel_h + risk_h)
        grid = fig.add_gridspec(2 if risk_h else 1, len(panels), height_ratios=[panel_h, risk_h] if risk_h else None)
        axes: list[Axes] = []
        for k in range(len(panels)):
            axes.append(fig.add_subplot(grid[0, k], sharey=axes[0] if axes else None))
        for k, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
            if layout == "side":
                for group, (colour, line), name in zip(groups, looks, group_names, strict=True):
                    t, est, rows = curve(group, panel)
                    x, y = _step_xy(t, est, 0.0)
                    ax.step(x, y, where="post", color=colour, linestyle=line, label=name)
                    if ci:
                        lo = np.concatenate([[0.0], rows["lower"].to_numpy(dtype=float)])
                        hi = np.concatenate([[0.0], rows["upper"].to_numpy(dtype=float)])
                        ax.fill_between(x, np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=0.0), step="post",
                                        color=colour, alpha=0.15, linewidth=0)
                ax.set_title(cause_names[k], loc="left")
            else:
                knots = np.unique(np.concatenate([[0.0], _rows(table, panel)["time"].to_numpy(dtype=float) / scale]))
                bottom = np.zeros_like(knots)
                fills = palette_colours(options)
                for i, cause in enumerate(causes):
                    t, est, _ = curve(panel, cause)
                    idx = np.searchsorted(t, knots, side="right") - 1
                    value = np.where(idx >= 0, est[np.clip(idx, 0, None)] if est.size else 0.0, 0.0)
                    ax.fill_between(knots, bottom, bottom + value, step="post", color=fills[i % len(fills)],
                                    alpha=0.85, linewidth=0, label=cause_names[i])
                    bottom = bottom + value
                ax.set_title(_names([panel], options, labels)[0] if len(groups) > 1 else
                             _label(panel, labels, len(groups)), loc="left")
            ax.set_xticks(ticks, labels=[f"{v:g}" for v in ticks])
            ax.set_xlim(0, right)
            ax.set_ylim(0, 1.0)
            ax.set_xlabel(axis_label(unit))
            if k == 0:
                ax.set_ylabel("Cumulative incidence")
                ax.set_yticks(np.linspace(0, 1, 6), labels=[f"{int(v * 100)}%" for v in np.linspace(0, 1, 6)])
            else:
                ax.tick_params(labelleft=False)
            if blocks[k]:
                risk_ax = fig.add_subplot(grid[1, k], sharex=ax)
                _draw_risk_table(risk_ax, blocks[k], ticks, _risk_title(blocks[k]))
        legend_title = test_text if options.p_value == "legend" else None
        if layout == "stacked" or len(groups) > 1:
            axes[0].legend(loc="upper left", title=legend_title, alignment="left")
        if test_text and options.p_value == "plot" or (test_text and options.p_value == "legend"
                                                       and layout == "side" and len(groups) == 1):
            axes[0].text(0.02, 0.96, test_text, transform=axes[0].transAxes, ha="left", va="top", gid="p-value")
        if title:
            fig.suptitle(title, x=0.01, ha="left")
    return fig


# ----------------------------------------------------------------------------------------------------------------
# per-patient figures

_BAR_COLOURS = ("#9AD0F0", "#F5EC8A", "#E3AECB", "#F2C766", "#BBBBBB")  # light Okabe-Ito tints behind the markers

_RESPONSE_MARKERS = {
    "response": ("o", "#009E73", "CR/CRi"),
    "hsct": ("D", "#0072B2", "Allo-HSCT"),
    "progression": ("X", "#D55E00", "Relapse/progression"),
    "death": ("s", "#000000", "Death"),
}


def _tint(colour: str, white: float = 0.6) -> str:
    """``colour`` (``#RRGGBB``) mixed with ``white`` parts of white: a bar light enough for the markers on it."""
    rgb = [int(colour[k:k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * white):02X}" for c in rgb)


def swimmer_figure(patients: pd.DataFrame, *, id_column: str = "patient_id", responses: Sequence[str] = ("CR", "CRi"),
                   response_column: str = "day28_response", assessment_day: float = 28.0,
                   colour_by: str | None = None, unit: str = "days", title: str | None = None,
                   width: float = 6.5, styles: GroupStyles | None = None) -> Figure:
    """Swimmer plot: one bar per patient from infusion (day 0) to death or last follow-up, longest on top.

    Parameters
    ----------
    patients
        One row per patient with ``id_column`` and ``last_followup_day``; optional ``death_day``,
        ``progression_day`` (relapse/progression), ``hsct_day``, ``cr_day`` (day a response in ``responses`` was
        first recorded) and ``response_column`` (used at ``assessment_day`` when ``cr_day`` is missing).
    responses
        Response categories drawn with the response marker.
    response_column, assessment_day
        The response at the primary assessment and its day (the run's recorded conventions).
    colour_by
        Optional column colouring the bars (e.g. diagnosis or product): a light tint of the group's colour in
        ``styles`` (the report's :class:`GroupStyles`, so T-ALL has the hue it has in the Kaplan-Meier figure), or
        of fixed light colours without ``styles``.

    Markers: circle = response, diamond = allo-HSCT, cross = relapse/progression, square = death; an arrow after the
    bar marks an ongoing response (responder, alive, no relapse/progression at last follow-up).
    """
    _require(patients, [id_column, "last_followup_day"], "patients")
    if patients[id_column].isna().any() or patients[id_column].duplicated().any():
        bad = patients.index[patients[id_column].isna() | patients[id_column].duplicated(keep=False)].tolist()
        raise InputError(f"column {id_column!r} must be unique and present; offending rows {bad[:5]}")
    scale = days_per_unit(unit)

    def col(name: str) -> pd.Series:
        if name in patients.columns:
            return pd.to_numeric(patients[name], errors="raise").astype(float)
        return pd.Series(np.nan, index=patients.index)

    death, last = col("death_day"), col("last_followup_day")
    end = death.where(death.notna(), last)
    progression, hsct = col("progression_day"), col("hsct_day")
    response_day = col("cr_day")
    if response_column in patients.columns:
        at_assessment = patients[response_column].isin(list(responses))
        response_day = response_day.where(response_day.notna() | ~at_assessment, float(assessment_day))
    order = end.sort_values(ascending=True, kind="stable").index  # bottom to top: longest on top
    n = len(order)

    with figure_style():
        fig = _new_figure(width, _rows_height(n, 0.24))
        ax = fig.add_subplot()
        bar_colours: dict[Any, str] = {}
        if colour_by is not None:
            _require(patients, [colour_by], "patients")
            for i, level in enumerate(dict.fromkeys(patients[colour_by].tolist())):
                bar_colours[level] = (_tint(styles.colour(level)) if styles is not None
                                      else _BAR_COLOURS[i % len(_BAR_COLOURS)])
        y = np.arange(n)
        ends = end[order].to_numpy() / scale
        few = n <= MAX_LABELLED_ROWS
        colours = ([bar_colours[v] for v in patients.loc[order, colour_by]] if colour_by else "#BBBBBB")
        ax.barh(y, ends, height=0.6 if few else 0.9, color=colours, edgecolor="none")
        for kind, days in (("response", response_day), ("hsct", hsct), ("progression", progression),
                           ("death", death)):
            d = days[order].to_numpy() / scale
            keep = ~np.isnan(d)
            marker, mcolour, _ = _RESPONSE_MARKERS[kind]
            ax.plot(d[keep], y[keep], marker=marker, color=mcolour, markersize=5.5 if few else 2.5, linestyle="none",
                    markeredgecolor="white", markeredgewidth=0.5 if few else 0, gid=f"swimmer-{kind}")
        ongoing = (response_day.notna() & death.isna()
                   & (progression.isna() | (progression < response_day)))[order].to_numpy()
        ax.plot(ends[ongoing] + 0.015 * (ends.max() if n else 1), y[ongoing], marker=">", color="#000000",
                markersize=5 if few else 2.5, linestyle="none", gid="swimmer-ongoing")
        if n <= MAX_LABELLED_ROWS:
            ax.set_yticks(range(n), labels=[_short(patients.at[i, id_column]) for i in order])
        else:
            ax.set_yticks([])
            ax.set_ylabel(f"{n} patients (sorted by follow-up)")
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlim(0, float(end.max()) / scale * 1.08 if n else 1)
        ax.set_xlabel(axis_label(unit))
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [Line2D([], [], marker=m, color=c, linestyle="none", markersize=6, label=lab)
                   for m, c, lab in _RESPONSE_MARKERS.values()]
        handles.append(Line2D([], [], marker=">", color="#000000", linestyle="none", markersize=5,
                              label="Ongoing response"))
        handles += [Patch(color=c, label=str(level)) for level, c in bar_colours.items()]
        ax.legend(handles=handles, loc="lower right", fontsize=7)
        if title:
            ax.set_title(title, loc="left")
    return fig


def toxicity_bars(patients: pd.DataFrame, columns: Mapping[str, str], *, max_grade: int = 5,
                  title: str | None = None, width: float = 5.5, height: float = 3.2) -> Figure:
    """Grouped bars of the number (and %) of patients by maximum grade, one colour per toxicity.

    ``patients`` has one row per patient; ``columns`` maps max-grade columns to display names, e.g.
    ``{"crs_max_grade": "CRS", "icans_max_grade": "ICANS"}``. Missing grades are not counted (the denominator of each
    toxicity is its number of graded patients, written in the legend).
    """
    _require(patients, list(columns), "patients")
    grades = np.arange(0, max_grade + 1)
    with figure_style():
        fig = _new_figure(width, height)
        ax = fig.add_subplot()
        k = len(columns)
        bar_w = 0.8 / k
        for i, (column, name) in enumerate(columns.items()):
            values = pd.to_numeric(patients[column], errors="raise").dropna().astype(int)
            bad = values[(values < 0) | (values > max_grade)]
            if len(bad):
                raise InputError(
                    f"column {column!r} has grades outside 0..{max_grade} at rows {bad.index[:5].tolist()}")
            counts = np.bincount(values.to_numpy(), minlength=max_grade + 1)
            total = int(counts.sum())
            x = grades + (i - (k - 1) / 2) * bar_w
            bars = ax.bar(x, counts, width=bar_w * 0.95, color=OKABE_ITO[i % len(OKABE_ITO)],
                          label=f"{name} (N = {total})")
            texts = [f"{c}\n({round_half_up(100 * c / total)}%)" if total and c else "" for c in counts]
            ax.bar_label(bars, labels=texts, fontsize=6.5, padding=1)
        ax.set_xticks(grades, labels=[f"Grade {g}" for g in grades])
        ax.set_ylabel("Patients")
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.margins(y=0.25)
        ax.legend(loc="upper right")
        if title:
            ax.set_title(title, loc="left")
    return fig


def toxicity_heatmap(daily: pd.DataFrame, *, id_column: str = "patient_id", day: str = "day", grade: str = "grade",
                     toxicity: str | None = None, max_grade: int = 4, title: str | None = None,
                     width: float = 6.5) -> Figure:
    """Per-patient daily grade heat map (patients x days), one panel per toxicity when ``toxicity`` is given.

    ``daily`` is long: one row per patient and day (several rows per day keep the highest grade). Days without an
    assessment stay white; grade 0 is light grey.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    _require(daily, [id_column, day, grade] + ([toxicity] if toxicity else []), "daily")
    frame = daily.copy()
    frame[grade] = pd.to_numeric(frame[grade], errors="raise")
    kinds = list(dict.fromkeys(frame[toxicity].tolist())) if toxicity else [None]
    patients = list(dict.fromkeys(frame[id_column].tolist()))
    days = np.arange(int(frame[day].min()), int(frame[day].max()) + 1)
    cmap = ListedColormap(list(GRADE_COLOURS[: max_grade + 1])).with_extremes(bad="white")
    norm = BoundaryNorm(np.arange(-0.5, max_grade + 1.5), cmap.N)
    with figure_style():
        fig = _new_figure(width, _rows_height(len(patients) * len(kinds), 0.2))
        axes = fig.subplots(len(kinds), 1, squeeze=False, sharex=True)[:, 0]
        for ax, kind in zip(axes, kinds, strict=True):
            sub = frame if kind is None else frame[frame[toxicity] == kind]
            wide = (sub.groupby([id_column, day])[grade].max().unstack(day)
                    .reindex(index=patients, columns=days))
            cells = np.ma.masked_invalid(wide.to_numpy(dtype=float))  # white where nothing was assessed
            if cells.size <= MAX_VECTOR_CELLS:
                ax.pcolormesh(np.append(days, days[-1] + 1) - 0.5, np.arange(len(patients) + 1) - 0.5, cells,
                              cmap=cmap, norm=norm)
            else:  # an embedded PNG keeps large cohorts fast and small
                ax.imshow(cells, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest",
                          extent=(days[0] - 0.5, days[-1] + 0.5, len(patients) - 0.5, -0.5))
            ax.set_ylim(len(patients) - 0.5, -0.5)
            if len(patients) <= MAX_LABELLED_ROWS:
                ax.set_yticks(range(len(patients)), labels=[_short(p) for p in patients])
            else:
                ax.set_yticks([])
                ax.set_ylabel(f"{len(patients)} patients")
            if kind is not None:
                ax.set_title(str(kind), loc="left")
        axes[-1].set_xlabel(axis_label("days"))
        axes[0].legend(handles=[Patch(color=GRADE_COLOURS[g], label=f"Grade {g}") for g in range(max_grade + 1)],
                       loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
        if title:
            fig.suptitle(title, x=0.01, ha="left")
    return fig


def forest_figure(frame: pd.DataFrame, *, title: str | None = None, xlabel: str = "Hazard ratio (95% CI, log scale)",
                  header: str = "HR (95% CI)", width: float | None = None,
                  options: FigureOptions | None = None) -> Figure:
    """Forest plot of (subgroup) hazard ratios on a log axis with N, events and ``header`` ("HR (95% CI)") columns.

    ``frame`` columns: ``term, hr, lower, upper`` and optionally ``n, events`` and ``text`` (the estimate cell as the
    report's table writes it; default the ratio and limits to two decimals, half up), one row per line, top to
    bottom; a row whose ``hr`` is NaN is a heading (its term only, e.g. a subgrouping variable with its interaction
    p). ``options`` gives the font, the width (``width`` overrides it) and the estimate's colour (the palette's
    first); the text stays ``<text>`` in SVG as in every figure.

    Equivalent R: ``forestplot::forestplot`` / ``survminer::ggforest`` of a ``coxph`` fit.
    """
    options = options or FigureOptions()
    colour = palette_colours(options)[0]
    _require(frame, ["term", "hr", "lower", "upper"], "frame")
    values = frame[["hr", "lower", "upper"]].apply(pd.to_numeric, errors="raise").astype(float)
    finite = values.to_numpy()
    if (finite[np.isfinite(finite)] <= 0).any():
        raise InputError("hazard ratios and their limits must be positive")
    n = len(frame)
    with figure_style(options):
        size = _rc_size()
        fig = _new_figure(options.width if width is None else width, 0.9 + 0.3 * (size / 9.0) * max(n, 1))
        grid = fig.add_gridspec(1, 2, width_ratios=[3, 2])
        ax = fig.add_subplot(grid[0])
        text_ax = fig.add_subplot(grid[1], sharey=ax)
        y = np.arange(n)[::-1]
        for yi, (hr, lo, hi) in zip(y, values.itertuples(index=False), strict=True):
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([lo, hi], [yi, yi], color="#000000", linewidth=1.0)
            if math.isfinite(hr):
                ax.plot(hr, yi, marker="s", color=colour, markersize=5)
        ax.axvline(1.0, color="#7F7F7F", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        from matplotlib.ticker import FixedLocator, NullLocator

        finite_values = finite[np.isfinite(finite)]
        lo_x, hi_x = (min(finite_values.min(), 1.0), max(finite_values.max(), 1.0)) if finite_values.size else (1, 1)
        candidates = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
        ax.xaxis.set_major_locator(FixedLocator(candidates[(candidates >= lo_x / 1.5) & (candidates <= hi_x * 1.5)]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
        ax.set_yticks(y, labels=[_short(t, 40) for t in frame["term"]])
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(xlabel)
        heads = [header] + [c.capitalize() for c in ("n", "events") if c in frame.columns]
        xs = np.linspace(0.05, 0.95, len(heads))
        for x, h in zip(xs, heads, strict=True):
            text_ax.text(x, n - 0.3, h, ha="center", va="bottom", fontweight="bold", fontsize=size - 1)
        for yi, (_, row) in zip(y, frame.iterrows(), strict=True):
            if not math.isfinite(float(row["hr"])):  # a heading row (e.g. a subgrouping variable): no numbers
                continue
            cells = [str(row["text"]) if "text" in frame.columns else format_hr(row["hr"], row["lower"], row["upper"])]
            cells += [f"{row[c]:g}" if not is_missing(row[c]) else "NA" for c in ("n", "events") if c in frame.columns]
            for x, cell in zip(xs, cells, strict=True):
                text_ax.text(x, yi, cell, ha="center", va="center", fontsize=size - 1)
        text_ax.set_xlim(0, 1)
        text_ax.axis("off")
        if title:
            ax.set_title(title, loc="left")
    return fig


def kinetics_figure(frame: pd.DataFrame, *, id_column: str = "patient_id", day: str = "day",
                    value: str = "value", log: bool = True, ylabel: str = "CAR transgene copies/µg gDNA",
                    lloq: float | None = None, title: str | None = None, width: float = 5.5,
                    height: float = 3.4) -> Figure:
    """CAR-T expansion: one grey line per patient and the median per day in black (log y axis by default).

    Values <= 0 (samples below the limit of quantification, given as 0) cannot be shown on a log axis and are left
    out of the drawing, not of the median; ``lloq`` draws the limit as a dashed line.
    """
    _require(frame, [id_column, day, value], "frame")
    data = frame[[id_column, day, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="raise").astype(float)
    with figure_style():
        fig = _new_figure(width, height)
        ax = fig.add_subplot()
        ordered = data.sort_values([id_column, day], kind="stable")
        if ordered[id_column].nunique() <= MAX_LINE_ARTISTS:
            for _, sub in ordered.groupby(id_column, sort=False):
                v = sub[value].to_numpy()
                keep = v > 0 if log else np.isfinite(v)
                ax.plot(sub[day].to_numpy()[keep], v[keep], color="#9E9E9E", linewidth=0.8, marker="o",
                        markersize=2.5)
        else:  # one line broken between patients: the same drawing, one artist instead of one per patient
            v = ordered[value].to_numpy(dtype=float)
            keep = v > 0 if log else np.isfinite(v)
            ids = pd.factorize(ordered[id_column])[0][keep]
            x, y = ordered[day].to_numpy(dtype=float)[keep], v[keep]
            breaks = np.flatnonzero(ids[1:] != ids[:-1]) + 1
            ax.plot(np.insert(x, breaks, np.nan), np.insert(y, breaks, np.nan), color="#9E9E9E", linewidth=0.8,
                    marker="o", markersize=2.5)
        median = data.groupby(day)[value].median()
        shown = median[median > 0] if log else median
        ax.plot(shown.index, shown.to_numpy(), color="#000000", linewidth=2.0, label="Median")
        if lloq is not None and lloq > 0:
            ax.axhline(lloq, color="#000000", linewidth=0.8, linestyle="--", label="LLOQ")
        if log:
            _log_y(ax)
        ax.set_xlabel(axis_label("days"))
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper right")
        if title:
            ax.set_title(title, loc="left")
    return fig


def kinetics_parameter_figure(frame: pd.DataFrame, parameters: Mapping[str, str], *, by: str,
                              order: Sequence[Any] | None = None, log: Sequence[str] = ("cmax", "auc"),
                              width: float = 5.5, height: float = 2.8,
                              styles: GroupStyles | None = None) -> Figure:
    """One panel per kinetic parameter: each patient's value as a dot in its group, the group median as a bar.

    ``styles`` (the report's :class:`GroupStyles`) gives each group the colour it has in every other figure.

    ``parameters`` maps columns of ``frame`` (one row per patient) to axis labels; columns in ``log`` use a log
    axis, where values <= 0 (no quantifiable expansion) are drawn on the lower edge as open circles.
    """
    _require(frame, [by, *parameters], "frame")
    groups = list(order) if order is not None else sorted(frame[by].dropna().unique(), key=str)
    with figure_style():
        fig = _new_figure(width, height)
        axes = fig.subplots(1, len(parameters), squeeze=False)[0]
        for ax, (column, label) in zip(axes, parameters.items(), strict=True):
            values = pd.to_numeric(frame[column], errors="coerce").astype(float)
            use_log = column in log
            positive = values[values > 0]
            floor = positive.min() / 2 if use_log and len(positive) else 0.0
            for i, group in enumerate(groups):
                v = values[(frame[by] == group).to_numpy()].dropna().to_numpy()
                offsets = np.linspace(-0.12, 0.12, v.size) if v.size > 1 else np.zeros(v.size)
                colour = styles.colour(group) if styles is not None else OKABE_ITO[i % len(OKABE_ITO)]
                shown = v > 0 if use_log else np.ones(v.size, bool)
                ax.plot(i + offsets[shown], v[shown], "o", color=colour, markersize=4, alpha=0.85)
                ax.plot(i + offsets[~shown], np.full((~shown).sum(), floor), "o", markerfacecolor="none",
                        color=colour, markersize=4)
                if v.size:
                    ax.plot([i - 0.25, i + 0.25], [np.median(v)] * 2 if np.median(v) > 0 or not use_log
                            else [floor] * 2, color="#000000", linewidth=1.6)
            if use_log and len(positive):
                _log_y(ax)
            ax.set_xticks(range(len(groups)), [str(g) for g in groups])
            ax.set_xlim(-0.6, len(groups) - 0.4)
            ax.set_ylabel(label)
    return fig


def lab_trajectory_figure(summary: pd.DataFrame, labels: Mapping[str, str], *, log: Sequence[str] = (),
                          thresholds: Mapping[str, float] | None = None, columns: int = 3, width: float = 7.0,
                          panel_height: float = 2.0) -> Figure:
    """Small multiples: per analyte, the median over patients by day (line) and the interquartile range (band).

    ``summary`` has analyte, day, n, median, q1, q3 (as ``toxicity.lab_trajectories(...).summary``); ``labels``
    maps the analytes to draw, in order, to their axis labels; analytes in ``log`` use a log axis; ``thresholds``
    draws a dashed line per analyte (e.g. ANC 500/µL).
    """
    _require(summary, ["analyte", "day", "median", "q1", "q3"], "summary")
    analytes = [a for a in labels if (summary["analyte"] == a).any()]
    if not analytes:
        raise InputError("summary has none of the analytes in labels")
    rows = math.ceil(len(analytes) / columns)
    with figure_style():
        fig = _new_figure(width, panel_height * rows)
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, analyte in zip(axes, analytes, strict=False):
            d = summary[summary["analyte"] == analyte].sort_values("day")
            ax.fill_between(d["day"], d["q1"], d["q3"], color=OKABE_ITO[0], alpha=0.25, linewidth=0)
            ax.plot(d["day"], d["median"], color=OKABE_ITO[0], linewidth=1.4)
            if analyte in log:
                _log_y(ax)
            if thresholds and analyte in thresholds:
                ax.axhline(thresholds[analyte], color="#D55E00", linewidth=0.8, linestyle="--")
            ax.set_title(labels[analyte], loc="left", fontsize=9)
            ax.axvline(0, color="#9E9E9E", linewidth=0.6, linestyle=":")
        for ax in axes[len(analytes):]:
            ax.axis("off")
        for ax in axes[max(0, len(analytes) - columns):len(analytes)]:
            ax.set_xlabel(axis_label("days"))
    return fig
