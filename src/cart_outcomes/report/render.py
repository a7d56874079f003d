"""Render a report's figures, all at once: the SVG the HTML inlines and the files asked for (PNG, PDF, TIFF at a
resolution), laid out and drawn in worker processes when that pays.

Drawing is most of a report's cost (a 300-dpi PNG of a survival figure takes about 0.15 s, its layout and SVG
another 0.1 s) and is done by matplotlib in Python, one figure after another. On Linux, once every figure is built,
:func:`render_figures` forks one worker per available core: each inherits the built figures (nothing is pickled or
imported again), lays out and draws its share, and sends back only the bytes. A figure gives the same bytes in a
worker as in the parent. Elsewhere (no ``fork``), with a thread running (forking a threaded process is unsafe), for a
handful of figures, with ``workers=1`` or with ``CART_OUTCOMES_WORKERS=1`` in the environment, the figures are
drawn in this process.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cart_outcomes.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MIN_PARALLEL", "WORKERS_VARIABLE", "AddFigure", "Rendered", "configured_workers", "render_figures"]

#: How a report section hands over a built figure: ``add(figures, file stem, figure, caption)`` returns the figure's
#: place in the section, filled once every figure is rendered.
AddFigure = Callable[[dict, str, Any, str], Any]

#: Fewest figures drawn in worker processes (below this, starting them costs more than it saves).
MIN_PARALLEL = 4
#: Most worker processes started (each holds a copy-on-write image of the parent).
MAX_WORKERS = 8
#: Environment variable that sets the number of processes drawing figures (1: this process only), as
#: ``OMP_NUM_THREADS`` sets threads; default one per available core.
WORKERS_VARIABLE = "CART_OUTCOMES_WORKERS"

# The figures and formats of the render under way: set before the workers are forked, which inherit them.
_JOB: tuple[Sequence[Figure], tuple[tuple[str, int], ...]] | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """One figure rendered: its SVG text (as :func:`~cart_outcomes.report.figures.figure_to_svg` gives it) and the
    bytes of each file format asked for, by ``(format, dpi)``."""

    svg: str
    files: dict[tuple[str, int], bytes] = field(default_factory=dict)


def _render(fig: Figure, formats: tuple[tuple[str, int], ...]) -> Rendered:
    from cart_outcomes.report.figures import figure_to_pdf, figure_to_png, figure_to_svg, figure_to_tiff

    draw = {"png": figure_to_png, "tiff": figure_to_tiff, "pdf": lambda f, dpi: figure_to_pdf(f)}
    svg = figure_to_svg(fig)  # lays the figure out first; every format then draws the same positions
    return Rendered(svg=svg, files={(fmt, dpi): draw[fmt](fig, dpi) for fmt, dpi in formats})


def _render_job(index: int) -> Rendered:
    figures, formats = _JOB
    return _render(figures[index], formats)


def _workers(n_figures: int, workers: int | None) -> int:
    """Worker processes for ``n_figures``: ``workers`` if given, else, when forking is safe and there are at least
    :data:`MIN_PARALLEL` figures, ``CART_OUTCOMES_WORKERS`` if set or one per available core."""
    if workers is not None:
        return max(1, min(int(workers), n_figures))
    wanted = configured_workers()
    if sys.platform != "linux" or threading.active_count() > 1 or n_figures < MIN_PARALLEL:
        return 1
    return max(1, min(wanted or len(os.sched_getaffinity(0)), MAX_WORKERS, n_figures))


def configured_workers() -> int | None:
    """The number of processes ``CART_OUTCOMES_WORKERS`` asks for, ``None`` when unset; anything but a whole
    number of at least 1 is an :class:`~cart_outcomes.errors.InputError` (checked before a run writes anything)."""
    wanted = os.environ.get(WORKERS_VARIABLE, "").strip()
    if wanted and not (wanted.isdigit() and int(wanted) >= 1):
        raise InputError(f"{WORKERS_VARIABLE} must be a whole number of processes, 1 or more (1: draw the figures "
                         f"in this process), got {wanted!r}")
    return int(wanted) if wanted else None


def render_figures(figures: Sequence[Figure], formats: Sequence[tuple[str, int]] = (), *,
                   workers: int | None = None) -> list[Rendered]:
    """Every figure's SVG and its files in ``formats``, in the order given.

    Parameters
    ----------
    figures
        Built figures (laid out here if not yet).
    formats
        ``(format, dpi)`` pairs besides the SVG: ``"png"``, ``"tiff"`` (at ``dpi``) or ``"pdf"`` (vector; ``dpi``
        only names it).
    workers
        Processes to draw in; default, on Linux when no other thread runs and there are at least
        :data:`MIN_PARALLEL` figures, ``CART_OUTCOMES_WORKERS`` if set, else one per available core; otherwise 1
        (this process). More than 1 needs ``fork`` (Linux).
    """
    global _JOB
    formats = tuple((str(fmt), int(dpi)) for fmt, dpi in formats)
    n = _workers(len(figures), workers)
    if n == 1:
        return [_render(fig, formats) for fig in figures]
    import multiprocessing

    _JOB = (figures, formats)
    try:
        with multiprocessing.get_context("fork").Pool(n) as pool:
            return pool.map(_render_job, range(len(figures)), chunksize=1)
    finally:
        _JOB = None
