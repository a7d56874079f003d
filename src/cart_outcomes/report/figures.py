"""Publication figures: Kaplan-Meier with numbers at risk, cumulative incidence, Simon-Makuch, swimmer, toxicity,
forest and kinetics plots.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global backend, no figure
manager, nothing left open), inside :func:`figure_style`, a fixed ``rc_context``: DejaVu Sans (shipped with
matplotlib), text drawn as paths in SVG, a fixed ``svg.hashsalt`` and no date metadata, so the same input always gives
the same bytes. Serialise with :func:`figure_to_svg`, :func:`figure_to_png` (300 dpi by default),
:func:`figure_to_pdf` or :func:`save_figure`.

Colours are the Okabe-Ito palette (Okabe M, Ito K. Color Universal Design, 2008), distinguishable with every common
colour-vision deficiency; curves are also told apart by their labels, not by colour alone.

Times are days from infusion in every input; ``unit="months"`` divides by 30.4375 (365.25 / 12) and says so on the
axis. Numbers at risk under survival curves are the fitted result's own ``at(ticks)`` at the x ticks, i.e.
R's ``summary(survfit, times = ticks)$n.risk`` (subjects still at risk at the tick, also when events fall on it).
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError
from cart_outcomes.report._format import DAYS_PER_MONTH, format_p, is_missing, round_half_up, unit_scale
from cart_outcomes.report._svg import sanitize_svg

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "cif_figure",
    "figure_style",
    "figure_to_pdf",
    "figure_to_png",
    "figure_to_svg",
    "forest_figure",
    "kinetics_figure",
    "kinetics_parameter_figure",
    "km_figure",
    "lab_trajectory_figure",
    "save_figure",
    "simon_makuch_figure",
    "swimmer_figure",
    "toxicity_bars",
    "toxicity_heatmap",
]

#: Okabe-Ito colours in the order curves use them (blue, vermillion, bluish green, orange, reddish purple, sky blue,
#: yellow, black).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

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
    "svg.fonttype": "path",
    "svg.hashsalt": "cart-outcomes",
    "svg.image_inline": True,
    "pdf.fonttype": 42,
    "path.simplify": True,
    "legend.frameon": False,
}

_SVG_META = {"Date": None}
_PNG_META = {"Software": None}
_PDF_META = {"Creator": None, "Producer": None, "CreationDate": None}


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """The fixed matplotlib settings every figure is built and saved with (restored on exit)."""
    import matplotlib as mpl
    from cycler import cycler

    with mpl.rc_context({**_RC, "axes.prop_cycle": cycler(color=list(OKABE_ITO))}):
        yield


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig: Figure) -> Figure:
    """Run the constrained layout once, under the report style, then freeze it: every later save of the figure
    (SVG, PNG, PDF, in any order) draws the same positions, so output bytes do not depend on earlier saves.

    Only the layout is computed (not a full draw), and the figure is left with no layout engine at all: with one
    (even the "none" placeholder) ``savefig`` draws the whole figure once more before writing it. Both give the same
    bytes at about half the cost.
    """
    with figure_style():
        fig.get_layout_engine().execute(fig)
        fig.set_layout_engine(None)
    return fig


def _plain_number(value: float, _pos: int | None = None) -> str:
    """Tick label without mathtext: 0.1, 1, 1,000, 100,000 (clinicians read these; mathtext is slow to lay out)."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _log_y(ax: Axes) -> None:
    """A log y axis labelled at the decades with plain numbers, minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.yaxis.set_minor_formatter(NullFormatter())


def figure_to_svg(fig: Figure) -> str:
    """SVG text of ``fig`` without the XML prolog, ready to inline in HTML: text is drawn as glyph paths, and the
    comments where matplotlib copies each label (patient ids, group names) are removed
    (:func:`~cart_outcomes.report._svg.sanitize_svg`)."""
    buf = io.StringIO()
    with figure_style():
        fig.savefig(buf, format="svg", metadata=_SVG_META)
    svg = buf.getvalue()
    return sanitize_svg(svg[svg.index("<svg"):])


def figure_to_png(fig: Figure, dpi: int = 300) -> bytes:
    """PNG bytes at ``dpi`` (300 for print), without software metadata."""
    buf = io.BytesIO()
    with figure_style():
        fig.savefig(buf, format="png", dpi=dpi, metadata=_PNG_META)
    return buf.getvalue()


def figure_to_pdf(fig: Figure) -> bytes:
    """PDF bytes with fonts embedded as TrueType and no creation date."""
    buf = io.BytesIO()
    with figure_style():
        fig.savefig(buf, format="pdf", metadata=_PDF_META)
    return buf.getvalue()


def save_figure(fig: Figure, path: str | Path, dpi: int = 300) -> Path:
    """Write ``fig`` to ``path``; the format follows the suffix (``.svg``, ``.png``, ``.pdf``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(figure_to_svg(fig), encoding="utf-8")
    elif suffix == ".png":
        path.write_bytes(figure_to_png(fig, dpi=dpi))
    elif suffix == ".pdf":
        path.write_bytes(figure_to_pdf(fig))
    else:
        raise InputError(f"figure path must end in .svg, .png or .pdf, got {path.name!r}")
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


def _nice_ticks(max_value: float, n: int = 6) -> np.ndarray:
    from matplotlib.ticker import MaxNLocator

    if not max_value > 0:
        return np.array([0.0])
    ticks = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 3, 5, 6, 10], integer=True).tick_values(0, max_value)
    return ticks[(ticks >= 0) & (ticks <= max_value)]


def _step_xy(times: np.ndarray, values: np.ndarray, start: float) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([[0.0], times]), np.concatenate([[start], values])


#: Per-patient figures label each row up to this many patients; larger cohorts get unlabelled, thinner rows.
MAX_LABELLED_ROWS = 60
_MAX_HEIGHT_IN = 12.0
#: Heat maps up to this many patient-day cells are drawn as vector cells; larger ones as an embedded PNG.
MAX_VECTOR_CELLS = 4000


def _rows_height(n_rows: int, per_row: float) -> float:
    """Figure height for a one-row-per-patient plot, capped so a 1,000-patient cohort still fits a page."""
    return min(1.0 + per_row * max(n_rows, 1), _MAX_HEIGHT_IN)


def _short(value: Any, limit: int = 24) -> str:
    """Axis label text, cut with an ellipsis so one long id cannot squeeze the plot away."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _time_label(unit: str) -> str:
    if unit == "months":
        return f"Months since CAR-T infusion (1 month = {DAYS_PER_MONTH} days)"
    return "Days since CAR-T infusion"


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
    return f"{label} {float(hr):.2f} ({round(100 * level)}% CI {float(lo):.2f}–{float(hi):.2f})"


def _p_of(test: Any) -> float:
    if isinstance(test, (int, float, np.floating)):
        return float(test)
    p = getattr(test, "p_value", None)
    if p is None:
        raise InputError(f"logrank must be a p-value or a result with .p_value, got {type(test).__name__}")
    return float(p)


def _draw_at_risk(ax: Axes, at_risk: pd.DataFrame, groups: list[Any], labels: list[str], colours: list[str],
                  ticks_display: np.ndarray, ticks_days: np.ndarray, title: str) -> None:
    """One row per group of numbers at risk, centred on the x ticks (the axis is shared with the curves)."""
    n = len(groups)
    for row, (group, colour) in enumerate(zip(groups, colours, strict=True)):
        sub = at_risk if group is None or "group" not in at_risk.columns else at_risk[at_risk["group"] == group]
        times = sub["time"].to_numpy(dtype=float)
        counts = sub["n_risk"].to_numpy()
        y = n - 1 - row
        for x_display, x_days in zip(ticks_display, ticks_days, strict=True):
            hit = np.flatnonzero(np.isclose(times, x_days, rtol=0, atol=1e-9))
            if hit.size != 1:
                raise InputError(f"at_risk_table gave {hit.size} rows for group {group!r} at time {x_days}")
            count = counts[hit[0]]
            text = "NA" if is_missing(count) else f"{float(count):g}"
            t = ax.text(x_display, y, text, ha="center", va="center", color=colour, fontsize=8, clip_on=False)
            t.set_gid(f"at-risk-{row}-{len(ax.texts) - 1}")
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(range(n - 1, -1, -1), labels=labels)
    for tick_label, colour in zip(ax.get_yticklabels(), colours, strict=True):
        tick_label.set_color(colour)
    ax.tick_params(axis="y", length=0, pad=14)  # clear of the counts centred on x = 0
    ax.tick_params(axis="x", length=0, labelbottom=False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, loc="left", fontsize=8.5, fontweight="bold")


def _curve_figure(table: pd.DataFrame, *, at_risk_of: Any, medians: pd.DataFrame | None, what: str, ylabel: str,
                  times: Sequence[float] | None, unit: str, ci: bool, show_median: bool, title: str | None,
                  labels: Mapping[Any, str] | None, legend_title: str | None, xlabel: str | None, width: float,
                  height: float) -> Figure:
    """Step curves from ``table`` (``group, time, survival`` [``n_censor, lower, upper, displayed``]) with the
    numbers at risk ``at_risk_of(ticks_in_days)`` (``group, time, n_risk``) beneath."""
    _require(table, ["time", "survival"], what)
    if ci:
        _require(table, ["lower", "upper"], what)
    scale = unit_scale(unit)
    groups = _groups(table)
    names = [_short(_label(g, labels, len(groups)), 32) for g in groups]
    colours = [OKABE_ITO[i % len(OKABE_ITO)] if len(groups) > 1 else "#000000" for i in range(len(groups))]
    counts: dict[Any, str] = {}
    if isinstance(medians, pd.DataFrame) and {"n", "events"} <= set(medians.columns):
        for group, name in zip(groups, names, strict=True):
            sub = medians if group is None or "group" not in medians.columns else medians[medians["group"] == group]
            if len(sub) == 1:
                counts[group] = f"{name} (n = {sub['n'].iloc[0]:g}, events = {sub['events'].iloc[0]:g})"

    max_days = float(table["time"].max()) if len(table) else 0.0
    if times is None:
        ticks_display = _nice_ticks(max_days / scale)
    else:
        ticks_display = np.unique(np.asarray(list(times), dtype=float))
        if ticks_display.size == 0 or ticks_display[0] < 0 or not np.isfinite(ticks_display).all():
            raise InputError(f"times must be non-negative and not empty, got {list(times)}")
    ticks_days = ticks_display * scale
    at_risk = at_risk_of(ticks_days)
    _require(at_risk, ["time", "n_risk"], "numbers at risk")

    with figure_style():
        fig = _new_figure(width, height + 0.22 * len(groups))
        grid = fig.add_gridspec(2, 1, height_ratios=[height, 0.32 + 0.22 * len(groups)])
        ax = fig.add_subplot(grid[0])
        risk_ax = fig.add_subplot(grid[1], sharex=ax)

        for group, name, colour in zip(groups, names, colours, strict=True):
            rows = _rows(table, group).sort_values("time", kind="stable")
            t = rows["time"].to_numpy(dtype=float) / scale
            s = rows["survival"].to_numpy(dtype=float)
            if "displayed" in rows.columns:  # steps resting on too few patients are not drawn
                shown = rows["displayed"].to_numpy(dtype=bool)
                s = np.where(shown, s, np.nan)
                x, y = _step_xy(t, s, 1.0 if shown[:1].all() else np.nan)
            else:
                x, y = _step_xy(t, s, 1.0)
            ax.step(x, y, where="post", color=colour, label=counts.get(group, name))
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

        ax.set_xticks(ticks_display)
        ax.set_xlim(0, max(ticks_display[-1], max_days / scale) * 1.02 if max_days > 0 else 1)
        ax.set_ylim(0, 1.03)
        ax.set_yticks(np.linspace(0, 1, 6), labels=[f"{int(v * 100)}%" for v in np.linspace(0, 1, 6)])
        ax.set_ylabel(ylabel)
        ax.set_xlabel(_time_label(unit) if xlabel is None else xlabel)
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="upper right", title=legend_title, alignment="left")
        _draw_at_risk(risk_ax, at_risk, groups, names, colours, ticks_display, ticks_days, "Number at risk")
    return _finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# survival curves


def km_figure(km_result: Any, *, logrank: Any = None, hazard_ratio: Any = None, hr_label: str = "HR",
              times: Sequence[float] | None = None, unit: str = "days", ci: bool = False, show_median: bool = True,
              title: str | None = None, labels: Mapping[Any, str] | None = None, ylabel: str = "Survival probability",
              xlabel: str | None = None, width: float = 6.5, height: float = 4.0) -> Figure:
    """Kaplan-Meier curves with censor ticks, optional CI bands and median lines, and numbers at risk beneath.

    Parameters
    ----------
    km_result
        The result of :func:`cart_outcomes.stats.kaplan_meier` (``.table`` with ``group, time, n_risk, n_event,
        n_censor, survival, lower, upper`` and ``.medians``).
    logrank
        A log-rank result (``.p_value``) or a p-value; shown in the legend title when comparing groups.
    hazard_ratio
        ``(hr, lower, upper)`` or an object/mapping with ``hazard_ratio, lower, upper``; shown after the p-value with
        ``hr_label`` (say which HR it is: "Cox HR", "HR (log-rank O/E)").
    times
        X ticks in display units; numbers at risk are given at exactly these times. Default: about six round ticks.
    unit
        ``"days"`` or ``"months"`` (days / 30.4375, stated on the axis).
    ci
        Draw the pointwise confidence band of the result (its ``conf_type``).
    show_median
        Dotted lines at S = 0.5 down to each reached median.
    labels
        Display names for group values.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the curves, then the number-at-risk table (its texts have gid ``at-risk-<row>-<i>``) sharing the
        x axis, so each count sits under its tick.

    Notes
    -----
    Equivalent R: ``plot(survfit(Surv(time, event) ~ group), mark.time = TRUE)`` with
    ``summary(fit, times = ticks)$n.risk`` under the ticks (survminer's ``risk.table = TRUE``). Curves start at
    (0, 1) and are right-continuous steps.
    """
    legend_title = None
    parts = []
    if logrank is not None:
        parts.append(f"Log-rank p = {format_p(_p_of(logrank))}".replace("= <", "<"))
    if hazard_ratio is not None:
        parts.append(_hr_text(hazard_ratio, hr_label))
    if parts:
        legend_title = "\n".join(parts)
    medians = getattr(km_result, "medians", None)
    return _curve_figure(_table_of(km_result, "km_result"),
                         at_risk_of=lambda ticks: km_result.at(ticks)[["group", "time", "n_risk"]],
                         medians=medians if isinstance(medians, pd.DataFrame) else None, what="km_result",
                         ylabel=ylabel, times=times, unit=unit, ci=ci, show_median=show_median, title=title,
                         labels=labels, legend_title=legend_title, xlabel=xlabel, width=width, height=height)


#: Default names of the Simon-Makuch states (the exposure of a CAR-T cohort is consolidative allo-HSCT).
SIMON_MAKUCH_LABELS = {"unexposed": "No HSCT (yet)", "exposed": "After allo-HSCT"}


def simon_makuch_figure(result: Any, *, times: Sequence[float] | None = None, unit: str = "days",
                        title: str | None = None, labels: Mapping[Any, str] | None = None,
                        ylabel: str = "Survival probability", xlabel: str | None = None, test: Any = None,
                        test_label: str = "Mantel-Byar p", width: float = 6.5, height: float = 4.0) -> Figure:
    """Simon-Makuch curves (KM-type curves by current exposure state) with per-state numbers at risk.

    Patients count in the unexposed state until their exposure day (e.g. HSCT) and in the exposed state afterwards
    (delayed entry), so the numbers at risk of the exposed state can rise. ``result`` is
    :func:`cart_outcomes.stats.simon_makuch` (``.table`` with ``state, time, survival, n_censor, displayed``);
    steps flagged ``displayed = False`` (fewer than ``min_at_risk`` patients at risk) are not drawn. Numbers at
    risk per state come from ``result.at_risk(ticks)`` (R's ``summary(fit, times=)$n.risk`` on the counting-process
    fit). ``labels`` names the states (default :data:`SIMON_MAKUCH_LABELS`). ``test`` (a p-value or a result with
    ``.p_value``, typically Mantel-Byar) goes in the legend title.

    Equivalent R: ``plot(survfit(Surv(start, stop, event) ~ state, data = tmerge(...)))`` (Simon R, Makuch RW.
    Stat Med 1984;3:35-44).
    """
    legend_title = None if test is None else f"{test_label} = {format_p(_p_of(test))}".replace("= <", "<")
    table = _table_of(result, "simon_makuch result")
    _require(table, ["state"], "simon_makuch result")

    def at_risk_of(ticks: np.ndarray) -> pd.DataFrame:
        return result.at_risk(ticks).rename(columns={"state": "group"})

    return _curve_figure(table.rename(columns={"state": "group"}), at_risk_of=at_risk_of, medians=None,
                         what="simon_makuch result", ylabel=ylabel, times=times, unit=unit, ci=False,
                         show_median=False, title=title, labels=SIMON_MAKUCH_LABELS if labels is None else labels,
                         legend_title=legend_title, xlabel=xlabel, width=width, height=height)


def cif_figure(cif_result: Any, *, layout: str = "side", cause_labels: Mapping[Any, str] | None = None,
               labels: Mapping[Any, str] | None = None, unit: str = "days", times: Sequence[float] | None = None,
               ci: bool = False, at_risk: bool = True, title: str | None = None, test: Any = None,
               test_label: str = "Gray's test p", width: float = 6.5, height: float = 3.6) -> Figure:
    """Cumulative incidence curves (Aalen-Johansen) of competing events, e.g. relapse and non-relapse mortality.

    Parameters
    ----------
    cif_result
        :func:`cart_outcomes.stats.cumulative_incidence` (``.table`` with ``group, cause, time, estimate, lower,
        upper``) or that table.
    layout
        ``"side"``: one panel per cause, groups coloured; ``"stacked"``: one panel per group with the causes stacked
        (the top edge is the probability of any event, 1 - KM).
    cause_labels
        Names of the causes, e.g. ``{1: "Relapse", 2: "Non-relapse mortality"}``.
    at_risk
        Numbers at risk (patients still event-free and under observation, ``cif_result.at(ticks).n_risk``, R's
        ``summary(fit, times=)$n.risk``) under each panel, aligned with the x ticks.
    test
        A p-value or result with ``.p_value`` (Gray's test) shown in the first panel.

    Equivalent R: ``plot(survfit(Surv(time, factor(status)) ~ group))`` / ``cmprsk::cuminc``.
    """
    table = _table_of(cif_result, "cif_result")
    _require(table, ["cause", "time", "estimate"], "cif_result")
    if layout not in ("side", "stacked"):
        raise InputError(f"layout must be 'side' or 'stacked', got {layout!r}")
    if ci:
        _require(table, ["lower", "upper"], "cif_result")
    scale = unit_scale(unit)
    groups = _groups(table)
    causes = list(dict.fromkeys(table["cause"].tolist()))
    cause_names = [str(cause_labels[c]) if cause_labels and c in cause_labels else str(c) for c in causes]
    max_days = float(table["time"].max()) if len(table) else 0.0
    ticks = _nice_ticks(max_days / scale) if times is None else np.unique(np.asarray(list(times), dtype=float))
    xlabel = _time_label(unit)
    panels = causes if layout == "side" else groups
    risk = None
    if at_risk:
        if not hasattr(cif_result, "at"):
            raise InputError("numbers at risk need the cumulative_incidence result (with .at); pass at_risk=False")
        risk = cif_result.at(ticks * scale)
        risk = risk[risk["cause"] == causes[0]]  # event-free patients at risk: the same for every cause

    def curve(group: Any, cause: Any) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        rows = _rows(table, group)
        rows = rows[rows["cause"] == cause].sort_values("time", kind="stable")
        return rows["time"].to_numpy(dtype=float) / scale, rows["estimate"].to_numpy(dtype=float), rows

    group_colours = [OKABE_ITO[i % len(OKABE_ITO)] if len(groups) > 1 else "#000000" for i in range(len(groups))]
    group_names = [_short(_label(g, labels, len(groups)), 32) for g in groups]
    risk_rows = (len(groups) if layout == "side" else 1) if at_risk else 0
    with figure_style():
        fig = _new_figure(width if len(panels) > 1 else width * 0.6, height + 0.22 * risk_rows)
        grid = fig.add_gridspec(2 if at_risk else 1, len(panels),
                                height_ratios=[height, 0.32 + 0.22 * risk_rows] if at_risk else None)
        axes: list[Axes] = []
        for k in range(len(panels)):
            axes.append(fig.add_subplot(grid[0, k], sharey=axes[0] if axes else None))
        for k, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
            if layout == "side":
                for group, colour, name in zip(groups, group_colours, group_names, strict=True):
                    t, est, rows = curve(group, panel)
                    x, y = _step_xy(t, est, 0.0)
                    ax.step(x, y, where="post", color=colour, label=name)
                    if ci:
                        lo = np.concatenate([[0.0], rows["lower"].to_numpy(dtype=float)])
                        hi = np.concatenate([[0.0], rows["upper"].to_numpy(dtype=float)])
                        ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.15, linewidth=0)
                ax.set_title(cause_names[k], loc="left")
            else:
                knots = np.unique(np.concatenate([[0.0], _rows(table, panel)["time"].to_numpy(dtype=float) / scale]))
                bottom = np.zeros_like(knots)
                for i, cause in enumerate(causes):
                    t, est, _ = curve(panel, cause)
                    idx = np.searchsorted(t, knots, side="right") - 1
                    value = np.where(idx >= 0, est[np.clip(idx, 0, None)] if est.size else 0.0, 0.0)
                    ax.fill_between(knots, bottom, bottom + value, step="post", color=OKABE_ITO[i % len(OKABE_ITO)],
                                    alpha=0.85, linewidth=0, label=cause_names[i])
                    bottom = bottom + value
                ax.set_title(_label(panel, labels, len(groups)), loc="left")
            ax.set_xticks(ticks)
            ax.set_xlim(0, max(ticks[-1], max_days / scale) * 1.02 if max_days > 0 else 1)
            ax.set_ylim(0, 1.0)
            ax.set_xlabel(xlabel)
            if k == 0:
                ax.set_ylabel("Cumulative incidence")
                ax.set_yticks(np.linspace(0, 1, 6), labels=[f"{int(v * 100)}%" for v in np.linspace(0, 1, 6)])
            else:
                ax.tick_params(labelleft=False)
            if risk is not None:
                risk_ax = fig.add_subplot(grid[1, k], sharex=ax)
                shown = list(range(len(groups))) if layout == "side" else [groups.index(panel)]
                _draw_at_risk(risk_ax, risk, [groups[i] for i in shown], [group_names[i] for i in shown],
                              [group_colours[i] for i in shown], ticks, ticks * scale,
                              "Number at risk" if k == 0 else "")
                if k > 0:
                    risk_ax.tick_params(labelleft=False)
        legend_title = None if test is None else f"{test_label} = {format_p(_p_of(test))}".replace("= <", "<")
        if layout == "stacked" or len(groups) > 1:
            axes[0].legend(loc="upper left", title=legend_title, alignment="left")
        if title:
            fig.suptitle(title, x=0.01, ha="left")
    return _finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# per-patient figures

_BAR_COLOURS = ("#9AD0F0", "#F5EC8A", "#E3AECB", "#F2C766", "#BBBBBB")  # light Okabe-Ito tints behind the markers

_RESPONSE_MARKERS = {
    "response": ("o", "#009E73", "CR/CRi"),
    "hsct": ("D", "#0072B2", "Allo-HSCT"),
    "progression": ("X", "#D55E00", "Relapse/progression"),
    "death": ("s", "#000000", "Death"),
}


def swimmer_figure(patients: pd.DataFrame, *, id_column: str = "patient_id", responses: Sequence[str] = ("CR", "CRi"),
                   response_column: str = "day28_response", assessment_day: float = 28.0,
                   colour_by: str | None = None, unit: str = "days", title: str | None = None,
                   width: float = 6.5) -> Figure:
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
        Optional column colouring the bars (e.g. diagnosis or product).

    Markers: circle = response, diamond = allo-HSCT, cross = relapse/progression, square = death; an arrow after the
    bar marks an ongoing response (responder, alive, no relapse/progression at last follow-up).
    """
    _require(patients, [id_column, "last_followup_day"], "patients")
    if patients[id_column].isna().any() or patients[id_column].duplicated().any():
        bad = patients.index[patients[id_column].isna() | patients[id_column].duplicated(keep=False)].tolist()
        raise InputError(f"column {id_column!r} must be unique and present; offending rows {bad[:5]}")
    scale = unit_scale(unit)

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
                bar_colours[level] = _BAR_COLOURS[i % len(_BAR_COLOURS)]
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
        ax.set_xlabel(_time_label(unit))
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
    return _finish(fig)


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
    return _finish(fig)


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
        axes[-1].set_xlabel("Days since CAR-T infusion")
        axes[0].legend(handles=[Patch(color=GRADE_COLOURS[g], label=f"Grade {g}") for g in range(max_grade + 1)],
                       loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
        if title:
            fig.suptitle(title, x=0.01, ha="left")
    return _finish(fig)


def forest_figure(frame: pd.DataFrame, *, title: str | None = None, xlabel: str = "Hazard ratio (95% CI, log scale)",
                  width: float = 6.5) -> Figure:
    """Forest plot of (subgroup) hazard ratios on a log axis with N, events and "HR (95% CI)" columns.

    ``frame`` columns: ``term, hr, lower, upper`` and optionally ``n, events`` (one row per line, top to bottom); a
    row whose ``hr`` is NaN is a heading (its term only, e.g. a subgrouping variable with its interaction p).
    """
    _require(frame, ["term", "hr", "lower", "upper"], "frame")
    values = frame[["hr", "lower", "upper"]].apply(pd.to_numeric, errors="raise").astype(float)
    finite = values.to_numpy()
    if (finite[np.isfinite(finite)] <= 0).any():
        raise InputError("hazard ratios and their limits must be positive")
    n = len(frame)
    with figure_style():
        fig = _new_figure(width, 0.9 + 0.3 * max(n, 1))
        grid = fig.add_gridspec(1, 2, width_ratios=[3, 2])
        ax = fig.add_subplot(grid[0])
        text_ax = fig.add_subplot(grid[1], sharey=ax)
        y = np.arange(n)[::-1]
        for yi, (hr, lo, hi) in zip(y, values.itertuples(index=False), strict=True):
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([lo, hi], [yi, yi], color="#000000", linewidth=1.0)
            if math.isfinite(hr):
                ax.plot(hr, yi, marker="s", color=OKABE_ITO[0], markersize=5)
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
        header = ["HR (95% CI)"] + [c.capitalize() for c in ("n", "events") if c in frame.columns]
        xs = np.linspace(0.05, 0.95, len(header))
        for x, h in zip(xs, header, strict=True):
            text_ax.text(x, n - 0.3, h, ha="center", va="bottom", fontweight="bold", fontsize=8)
        for yi, (_, row) in zip(y, frame.iterrows(), strict=True):
            if not math.isfinite(float(row["hr"])):  # a heading row (e.g. a subgrouping variable): no numbers
                continue
            cells = [f"{float(row['hr']):.2f} ({float(row['lower']):.2f}–{float(row['upper']):.2f})"]
            cells += [f"{row[c]:g}" if not is_missing(row[c]) else "NA" for c in ("n", "events") if c in frame.columns]
            for x, cell in zip(xs, cells, strict=True):
                text_ax.text(x, yi, cell, ha="center", va="center", fontsize=8)
        text_ax.set_xlim(0, 1)
        text_ax.axis("off")
        if title:
            ax.set_title(title, loc="left")
    return _finish(fig)


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
        for _, sub in data.sort_values([id_column, day], kind="stable").groupby(id_column, sort=False):
            v = sub[value].to_numpy()
            keep = v > 0 if log else np.isfinite(v)
            ax.plot(sub[day].to_numpy()[keep], v[keep], color="#9E9E9E", linewidth=0.8, marker="o", markersize=2.5)
        median = data.groupby(day)[value].median()
        shown = median[median > 0] if log else median
        ax.plot(shown.index, shown.to_numpy(), color="#000000", linewidth=2.0, label="Median")
        if lloq is not None and lloq > 0:
            ax.axhline(lloq, color="#000000", linewidth=0.8, linestyle="--", label="LLOQ")
        if log:
            _log_y(ax)
        ax.set_xlabel("Days since CAR-T infusion")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper right")
        if title:
            ax.set_title(title, loc="left")
    return _finish(fig)


def kinetics_parameter_figure(frame: pd.DataFrame, parameters: Mapping[str, str], *, by: str,
                              order: Sequence[Any] | None = None, log: Sequence[str] = ("cmax", "auc"),
                              width: float = 5.5, height: float = 2.8) -> Figure:
    """One panel per kinetic parameter: each patient's value as a dot in its group, the group median as a bar.

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
                colour = OKABE_ITO[i % len(OKABE_ITO)]
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
    return _finish(fig)


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
            ax.set_xlabel("Days since CAR-T infusion")
    return _finish(fig)
