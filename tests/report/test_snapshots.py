"""Figure snapshot tests: each figure rendered to PNG at a fixed size is compared with a committed baseline
(``matplotlib.testing.compare.compare_images``, RMS tolerance ``TOLERANCE`` on a 0-255 scale), so layout
regressions (a moved at-risk table, lost legend, clipped labels) fail loudly.

Regenerate the baselines after an intended change, look at them, and commit them::

    CART_OUTCOMES_UPDATE_BASELINES=1 PYTHONPATH=src python -m pytest tests/report/test_snapshots.py

(the tests then write tests/report/baseline/<name>.png and skip).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_cases import CASES, build

from cart_outcomes.report.figures import figure_to_png

BASELINE = Path(__file__).parent / "baseline"
DPI = 60
TOLERANCE = 3.0


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_matches_baseline(name, tmp_path):
    from matplotlib.testing.compare import compare_images

    png = figure_to_png(build(name), dpi=DPI)
    expected = BASELINE / f"{name}.png"
    if os.environ.get("CART_OUTCOMES_UPDATE_BASELINES") == "1":
        BASELINE.mkdir(exist_ok=True)
        expected.write_bytes(png)  # then compared with itself below
    assert expected.exists(), f"no baseline {expected}; see the module docstring to create it"
    actual = tmp_path / f"{name}.png"
    actual.write_bytes(png)
    result = compare_images(str(expected), str(actual), tol=TOLERANCE)
    assert result is None, result
