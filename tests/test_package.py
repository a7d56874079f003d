import subprocess
import sys

import cart_outcomes as co


def test_public_entry_points_resolve_lazily():
    assert callable(co.run_plan) and callable(co.read_cohort)
    assert callable(co.stats.kaplan_meier) and callable(co.toxicity.grade_crs)


def test_importing_the_cli_does_not_import_pandas():
    code = "import sys, cart_outcomes.cli; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
