"""The self-contained HTML report: a small document model and its rendering with Jinja2 (autoescape on).

The integrator fills a :class:`ReportDocument` from the results; :func:`render_html` returns one HTML file with the
CSS inline, figures as inline SVG and nothing fetched from anywhere (a Content-Security-Policy of ``default-src
'none'`` makes the browser refuse scripts and network requests even if some slipped in). All text of the model is
escaped by the template; the only markup passed through is SVG produced by :func:`cart_outcomes.report.figures
.figure_to_svg`, cleaned by :func:`~cart_outcomes.report._svg.sanitize_svg` (comments, where matplotlib copies
label text, and metadata removed; no scripts, event handlers, foreign objects or external references in the
markup) before use. Patient text is never refused: escaping and the CSP are the defence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cart_outcomes._version import __version__
from cart_outcomes.errors import InputError
from cart_outcomes.report._format import is_missing
from cart_outcomes.report._stamp import generation_time
from cart_outcomes.report._svg import sanitize_svg

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "SECTION_ORDER",
    "FigureBlock",
    "Footer",
    "ReportDocument",
    "Section",
    "TableBlock",
    "figure_block",
    "numbering",
    "render_html",
]

#: Section ids of the report in the order the runner should add them (absent ones are simply left out).
SECTION_ORDER = ("cohort", "data-quality", "response", "survival", "hsct", "regression", "rmst", "safety", "kinetics",
                 "methods")

_SECTION_ID = re.compile(r"[a-z][a-z0-9-]{0,63}")
#: A caption must not number itself: the renderers number figures and tables (the same numbers in HTML and Word).
_SELF_NUMBERED = re.compile(r"\s*(table|figure|fig\.)\s*\d+", re.IGNORECASE)
#: Columns whose cells never wrap (an estimate with its interval, a p-value, a count with its percent).
_NOWRAP = re.compile(r"\bCI\b|^HR\b|^p$|^p\b|^n/N|^N$|^n$|^Events$", re.IGNORECASE)


def _check_caption(caption: str) -> None:
    if _SELF_NUMBERED.match(caption):
        raise InputError(f"caption {caption!r}: leave out the number; figures and tables are numbered when the "
                         "report is rendered (report.html.numbering)")


@dataclass(frozen=True, slots=True)
class FigureBlock:
    """A figure: static SVG (from :func:`figure_to_svg`) with its caption (plain text, escaped, without a number).

    ``figure`` is the matplotlib figure the SVG was drawn from (set by :func:`figure_block`): the Word report
    renders its PNG from the same object.
    """

    svg: str
    caption: str
    alt: str = ""
    figure: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_caption(self.caption)
        object.__setattr__(self, "svg", sanitize_svg(self.svg))


@dataclass(frozen=True, slots=True)
class TableBlock:
    """A table: any DataFrame (builders of :mod:`~cart_outcomes.report.tables` give display-ready ones), its caption
    (without a number: see :func:`numbering`) and a note printed below it.

    ``landscape``: put the table on a landscape page in Word (``None``: decided from its width).
    """

    frame: pd.DataFrame
    caption: str
    note: str = ""
    landscape: bool | None = None

    def __post_init__(self) -> None:
        _check_caption(self.caption)


@dataclass(frozen=True, slots=True)
class Section:
    """One report section; content is shown as warnings, paragraphs, figures, then tables."""

    id: str
    title: str
    paragraphs: Sequence[str] = ()
    warnings: Sequence[str] = ()
    tables: Sequence[TableBlock] = ()
    figures: Sequence[FigureBlock] = ()

    def __post_init__(self) -> None:
        if not _SECTION_ID.fullmatch(self.id):
            raise InputError(f"section id must match [a-z][a-z0-9-]*, got {self.id!r}")
        for name in ("paragraphs", "warnings", "tables", "figures"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True, slots=True)
class Footer:
    """Reproducibility footer: input file SHA-256, the analysis plan text, package version and generation date.

    ``date`` defaults to ``SOURCE_DATE_EPOCH`` when set, else none (never the clock: reruns are byte-identical).
    """

    input_sha256: str | None = None
    plan_text: str | None = None
    package_version: str = __version__
    date: str | None = field(default_factory=lambda: format_generation_time(generation_time()))
    extra: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """The whole report: a title, sections in order, and the footer."""

    title: str
    sections: Sequence[Section]
    footer: Footer = field(default_factory=Footer)
    subtitle: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        ids = [s.id for s in self.sections]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise InputError(f"section ids must be unique; repeated: {dupes}")


def numbering(doc: ReportDocument) -> dict[int, str]:
    """``id(block) -> "Figure k"`` / ``"Table k"``: figures and tables numbered separately, in document order.

    The HTML and the Word report both number through this function, so a number means the same item in both.
    """
    numbers: dict[int, str] = {}
    for kind, attribute in (("Figure", "figures"), ("Table", "tables")):
        blocks = [b for s in doc.sections for b in getattr(s, attribute)]
        numbers.update({id(b): f"{kind} {k}" for k, b in enumerate(blocks, start=1)})
    return numbers


def format_generation_time(when: dt.datetime | None) -> str | None:
    """``2026-12-07`` for a midnight time, ``2026-12-07 10:30 UTC`` otherwise; ``None`` stays ``None``."""
    if when is None:
        return None
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%d") if when.time() == dt.time() else when.strftime("%Y-%m-%d %H:%M UTC")


def figure_block(fig: MplFigure, caption: str, alt: str = "") -> FigureBlock:
    """A :class:`FigureBlock` from a matplotlib figure (serialised with the fixed report style)."""
    from cart_outcomes.report.figures import figure_to_svg

    return FigureBlock(svg=figure_to_svg(fig), caption=caption, alt=alt or caption, figure=fig)


def _cell(value: Any) -> tuple[str, bool]:
    """Cell text and whether it is numeric (right-aligned); raw floats get 4 significant digits."""
    if is_missing(value):
        return "", False
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if pd.api.types.is_number(value):
        number = float(value)
        return (str(int(number)) if number.is_integer() else f"{number:.4g}"), True
    return str(value), False


def nowrap_columns(columns: Sequence[Any]) -> list[bool]:
    """Which columns must not wrap (estimates with intervals, p-values, counts): one rule for HTML and Word."""
    return [bool(_NOWRAP.search(str(c))) for c in columns]


def _cell_view(value: Any, nowrap: bool) -> tuple[str, str]:
    text, numeric = _cell(value)
    return text, " ".join(c for c, on in (("num", numeric), ("nowrap", nowrap)) if on)


def _table_view(block: TableBlock, number: str) -> dict[str, Any]:
    frame = block.frame
    nowrap = nowrap_columns(frame.columns)
    return {
        "number": number,
        "anchor": number.lower().replace(" ", "-"),
        "caption": block.caption,
        "note": block.note,
        "columns": [(str(c), keep) for c, keep in zip(frame.columns, nowrap, strict=True)],
        "rows": [[_cell_view(v, keep) for v, keep in zip(row, nowrap, strict=True)]
                 for row in frame.itertuples(index=False)],
    }


def render_html(doc: ReportDocument) -> str:
    """Render ``doc`` to one self-contained HTML5 string (UTF-8 text; write it with ``encoding="utf-8"``)."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cart_outcomes.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    numbers = numbering(doc)
    sections = [
        {
            "id": s.id,
            "title": s.title,
            "paragraphs": list(s.paragraphs),
            "warnings": list(s.warnings),
            "tables": [_table_view(t, numbers[id(t)]) for t in s.tables],
            # the SVG was cleaned by FigureBlock; matplotlib escapes every text it writes into it
            "figures": [{"svg": Markup(sanitize_svg(f.svg)), "caption": f.caption, "alt": f.alt or f.caption,
                         "number": numbers[id(f)], "anchor": numbers[id(f)].lower().replace(" ", "-")}
                        for f in s.figures],
        }
        for s in doc.sections
    ]
    return env.get_template("report.html.j2").render(doc=doc, sections=sections, footer=doc.footer)
