"""Rendering all figures at once: worker processes give the same bytes as this process, the layout is computed once
whatever the order of the saves, and workers are used only when forking is safe and pays."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.report import figures as F
from cart_outcomes.report import render
from cart_outcomes.stats.km import kaplan_meier


def test_layout_is_computed_at_the_first_save_whatever_the_format(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event", by="hsct")
    svg_first, png_first = F.km_figure(km), F.km_figure(km)
    assert svg_first.get_layout_engine() is not None  # built, not yet laid out
    svg = F.figure_to_svg(svg_first)
    assert svg_first.get_layout_engine() is None  # laid out once, frozen
    png = F.figure_to_png(png_first, dpi=72)
    assert F.figure_to_svg(png_first) == svg
    assert F.figure_to_png(svg_first, dpi=72) == png


def test_render_in_this_process_gives_svg_and_each_format(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event")
    figs = [F.km_figure(km), F.swimmer_figure(cohort)]
    out = render.render_figures(figs, [("png", 72), ("pdf", 300)], workers=1)
    assert [r.svg[:4] for r in out] == ["<svg", "<svg"]
    assert all(r.files[("png", 72)].startswith(b"\x89PNG") and r.files[("pdf", 300)].startswith(b"%PDF")
               for r in out)
    assert out[0].svg == F.figure_to_svg(F.km_figure(km))


def test_workers_only_when_forking_is_safe_and_pays(monkeypatch):
    assert render._workers(3, 8) == 3 and render._workers(5, 0) == 1  # asked: at most one per figure, at least 1
    assert render._workers(render.MIN_PARALLEL - 1, None) == 1  # too few figures to pay for the processes
    monkeypatch.setattr(render.threading, "active_count", lambda: 2)
    assert render._workers(50, None) == 1  # another thread runs: no fork
    monkeypatch.setattr(render.threading, "active_count", lambda: 1)
    monkeypatch.setattr(render.sys, "platform", "linux")
    monkeypatch.setenv(render.WORKERS_VARIABLE, "1")
    assert render._workers(50, None) == 1  # the user asked for this process only
    monkeypatch.setenv(render.WORKERS_VARIABLE, "3")
    assert render._workers(50, None) == 3 and render._workers(render.MIN_PARALLEL - 1, None) == 1
    for bad in ("0", "two", "-2", "1.5"):
        monkeypatch.setenv(render.WORKERS_VARIABLE, bad)
        with pytest.raises(InputError, match="CART_OUTCOMES_WORKERS must be a whole number"):
            render._workers(50, None)
    monkeypatch.setenv(render.WORKERS_VARIABLE, "3")
    monkeypatch.setattr(render.sys, "platform", "darwin")
    assert render._workers(50, None) == 1  # no fork outside Linux


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked (Linux only)")
def test_worker_processes_give_the_bytes_of_this_process(tmp_path):
    # in a fresh process: the test runner's own threads would (rightly) keep render_figures from forking
    script = textwrap.dedent("""
        import os, sys
        import pandas as pd
        from cart_outcomes.report import figures as F, render
        from cart_outcomes.stats.km import kaplan_meier
        frame = pd.DataFrame({"t": [5, 8, 12, 20, 33, 40, 41, 60, 75, 90], "e": [1, 0, 1, 1, 0, 1, 0, 1, 1, 0],
                              "g": list("ABABABABAB")})
        km = kaplan_meier(frame, "t", "e", by="g")
        build = lambda: [F.km_figure(km, times=[0, 30, 60, 90]) for _ in range(5)] + [F.km_figure(kaplan_meier(
            frame, "t", "e"))]
        formats = [("png", 100), ("pdf", 300)]
        os.environ.pop("CART_OUTCOMES_WORKERS", None)
        auto = render._workers(6, None)
        assert auto == min(len(os.sched_getaffinity(0)), 6), auto
        serial = render.render_figures(build(), formats, workers=1)
        forked = render.render_figures(build(), formats, workers=3)
        assert forked == serial
        assert render._JOB is None
        print("same bytes", len(serial))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "same bytes 6"


def test_a_bad_workers_variable_stops_the_run_before_any_file_is_written(demo_run, tmp_path, monkeypatch):
    from cart_outcomes.report.write import write_outputs

    monkeypatch.setenv(render.WORKERS_VARIABLE, "all")
    with pytest.raises(InputError, match="CART_OUTCOMES_WORKERS must be a whole number of processes"):
        write_outputs(demo_run, tmp_path / "out")
    assert not (tmp_path / "out").exists()
