"""The report's own options: which documents and figures to write. Everything about the numbers (time unit,
confidence level and type, denominators, grading systems) is read from the results' recorded ``conventions``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FigureOptions", "ReportOptions"]


@dataclass(frozen=True, slots=True)
class FigureOptions:
    """Figures to draw and the file formats to save them in (the HTML always inlines SVG)."""

    km: bool = True
    cif: bool = True
    swimmer: bool = True
    toxicity: bool = True
    simon_makuch: bool = True
    kinetics: bool = True
    labs: bool = True
    forest: bool = True
    ci_bands: bool = False
    formats: tuple[Literal["svg", "png", "pdf"], ...] = ("svg",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "formats", tuple(self.formats))


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
