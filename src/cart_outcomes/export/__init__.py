"""Exports of a run's output folder into other standards: CDISC ADaM (:func:`write_adam`).

Beside ``report/`` on the floor above ``results/``: an export reads only the files a run wrote, reshapes them and
computes nothing.
"""

from cart_outcomes.export.adam import Dataset, Variable, adam_datasets, require_writers, write_adam

__all__ = ["Dataset", "Variable", "adam_datasets", "require_writers", "write_adam"]
