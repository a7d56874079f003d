"""The report's own options: which documents and figures to write, and how figures look. Everything about the numbers
(time unit, confidence level and type, denominators, grading systems) is read from the results' recorded
``conventions``; this module mirrors the plan's ``figures:`` and ``report:`` sections without importing the plan."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cart_outcomes.errors import InputError

__all__ = ["FIGURE_FORMATS", "RISK_TABLE_ROWS", "FigureOptions", "ReportOptions"]

#: File formats a figure can be saved in (the HTML always inlines SVG).
FIGURE_FORMATS = ("svg", "png", "pdf", "tiff")
#: Rows a risk table under a survival figure can show, as survminer/ggsurvfit name them.
RISK_TABLE_ROWS = ("at_risk", "events", "censored")
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True, slots=True)
class FigureOptions:
    """Figures to draw, how they look and the file formats to save them in.

    ``width``/``height`` (inches) are those of a survival figure's curve panel (the risk table is added below);
    ``font_family``/``font_size`` (points) apply to every survival figure (Kaplan-Meier, cumulative incidence,
    Simon-Makuch); ``palette`` is ``"okabe-ito"`` (default, colour-blind safe), ``"greyscale"`` (greys with line
    types, for print) or a list of ``#RRGGBB`` colours; a group keeps its colour in every figure of a report.
    ``group_labels`` renames group values and ``group_order`` orders them (values not listed follow in data order).
    ``risk_table`` lists the rows under the curves (``at_risk``, ``events`` = cumulative events, ``censored`` =
    cumulative censored; empty for none; default at risk and cumulative events as ggsurvfit's
    ``add_risktable()``). ``median`` annotates a single-arm Kaplan-Meier figure with "Median X months (95% CI a–b)";
    ``p_value`` places the test's p in the legend title, in the plot, or nowhere. ``time_breaks`` (tick spacing) and
    ``time_max`` (right end of the axis) are in the results' time unit. Simon-Makuch steps with fewer than
    ``min_at_risk`` patients at risk in their state are not drawn, and the caption says so (1 draws every step).
    """

    km: bool = True
    cif: bool = True
    swimmer: bool = True
    toxicity: bool = True
    simon_makuch: bool = True
    kinetics: bool = True
    labs: bool = True
    forest: bool = True
    ci_bands: bool = False
    formats: tuple[Literal["svg", "png", "pdf", "tiff"], ...] = ("svg",)
    dpi: int = 300
    width: float = 6.5
    height: float = 4.0
    font_family: str = "DejaVu Sans"
    font_size: float = 9.0
    palette: str | tuple[str, ...] = "okabe-ito"
    group_labels: Mapping[str, str] = field(default_factory=dict)
    group_order: tuple[str, ...] = ()
    risk_table: tuple[Literal["at_risk", "events", "censored"], ...] = ("at_risk", "events")
    median: bool = True
    p_value: Literal["legend", "plot", "none"] = "legend"
    time_breaks: float | None = None
    time_max: float | None = None
    min_at_risk: int = 3

    def __post_init__(self) -> None:
        for name in ("formats", "group_order", "risk_table"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "group_labels", {str(k): str(v) for k, v in dict(self.group_labels).items()})
        if not isinstance(self.palette, str):
            object.__setattr__(self, "palette", tuple(self.palette))
        problems = []
        if bad := [f for f in self.formats if f not in FIGURE_FORMATS]:
            problems.append(f"formats {bad} not in {list(FIGURE_FORMATS)}")
        if bad := [r for r in self.risk_table if r not in RISK_TABLE_ROWS]:
            problems.append(f"risk_table rows {bad} not in {list(RISK_TABLE_ROWS)}")
        if isinstance(self.palette, str):
            if self.palette not in ("okabe-ito", "greyscale"):
                problems.append(f"palette {self.palette!r} must be 'okabe-ito', 'greyscale' or a list of colours")
        elif not self.palette or (bad := [c for c in self.palette if not _HEX.fullmatch(str(c))]):
            problems.append(f"palette colours must be '#RRGGBB', got {list(self.palette)}")
        if self.p_value not in ("legend", "plot", "none"):
            problems.append(f"p_value must be 'legend', 'plot' or 'none', got {self.p_value!r}")
        for name in ("width", "height", "font_size", "dpi"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("time_breaks", "time_max"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                problems.append(f"{name} must be positive, got {getattr(self, name)!r}")
        if not (isinstance(self.min_at_risk, int) and self.min_at_risk >= 1):
            problems.append(f"min_at_risk must be a positive integer, got {self.min_at_risk!r}")
        if problems:
            raise InputError("figure options: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Documents to write and the figures in them; ``date`` is the stated generation date (the plan's
    ``report.date``; default ``SOURCE_DATE_EPOCH`` if set, else none: never the clock, so reruns are byte-identical).
    """

    html: bool = True
    docx: bool = True
    xlsx: bool = True
    figures: FigureOptions = field(default_factory=FigureOptions)
    date: dt.date | None = None
