"""cart-outcomes: CAR-T cohort outcomes analysis with numbers identical to R survival/cmprsk."""

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
]
