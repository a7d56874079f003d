"""The bundled demo: the CD7 CAR-T seed study (examples/cd7-tall), run with no arguments."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from cart_outcomes.errors import CartOutcomesError
from cart_outcomes.plan.run import Progress, run_plan
from cart_outcomes.results.run import RunResult

DEMO = "cd7-tall"


def demo_plan_path() -> Path:
    """``study.yaml`` of the demo: inside an installed wheel, or in the source checkout's ``examples/``."""
    packaged = resources.files("cart_outcomes") / "_examples" / DEMO / "study.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "examples" / DEMO / "study.yaml"
    if checkout.is_file():
        return checkout
    raise CartOutcomesError("the demo cohort is not installed with this copy of cart-outcomes")


def new_output_dir(parent: Path | None = None) -> Path:
    """A folder name that does not exist yet: ``cart-outcomes-demo``, then ``-2``, ``-3`` ..."""
    parent = Path.cwd() if parent is None else parent
    candidate, n = parent / "cart-outcomes-demo", 1
    while candidate.exists():
        n += 1
        candidate = parent / f"cart-outcomes-demo-{n}"
    return candidate


def run_demo(out: str | Path | None = None, *, progress: Progress | None = None) -> RunResult:
    """Run the seed-study plan and write its outputs to ``out`` (default: a new folder in the current directory)."""
    return run_plan(demo_plan_path(), out=new_output_dir() if out is None else Path(out), progress=progress)
