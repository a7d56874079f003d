"""cart-outcomes: CAR-T cohort outcomes analysis with numbers identical to R survival/cmprsk.

Subpackages (imported on first use, so the command line starts fast): ``cohort``, ``engine``, ``endpoints``, ``stats``,
``toxicity``, ``kinetics``, ``plan``, ``report``.
"""

from __future__ import annotations

import importlib
from typing import Any

from cart_outcomes._version import __version__
from cart_outcomes.errors import (
    CartOutcomesError,
    DataQualityWarning,
    InputError,
    StatisticalWarning,
    ValidationFailed,
)

__all__ = [
    "CartOutcomesError",
    "DataQualityWarning",
    "InputError",
    "StatisticalWarning",
    "ValidationFailed",
    "__version__",
    "read_cohort",
    "run_plan",
]

_SUBPACKAGES = ("cohort", "engine", "endpoints", "stats", "toxicity", "kinetics", "plan", "report")
_LAZY = {"run_plan": "cart_outcomes.plan.run", "read_cohort": "cart_outcomes.cohort.io"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"cart_outcomes.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cart_outcomes' has no attribute {name!r}")
