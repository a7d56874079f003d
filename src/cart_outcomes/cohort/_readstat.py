"""SPSS, Stata and SAS files (``.sav``, ``.zsav``, ``.dta``, ``.sas7bdat``, ``.xpt``) read with pyreadstat.

What a statistician's file knows beyond its cells is kept, by three rules:

1. Value labels become the values seen: a cell coded ``1`` under the label set ``1 = "Complete remission"`` is read
   as ``Complete remission``, which the value mapping then recodes to ``CR`` (codes without a label stay codes).
2. Variable labels name columns: a variable whose name is not a canonical column nor one of its clinical wordings,
   but whose label is (``v3`` labelled ``Date of CAR-T``), is headed by its label. The other variables keep their
   names, so ``init`` and ``run`` see the same headers.
3. Date formats are honoured: variables with a date or datetime display format are read as dates, not as day counts
   since 1582 (SPSS), 1960 (Stata, SAS) or 1970.

pyreadstat is an optional extra (``pip install 'cart-outcomes[readstat]'``); R's ``haven::read_sav`` /
``read_dta`` / ``read_sas`` / ``read_xpt`` read the same files, with ``haven::as_factor`` for rule 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cart_outcomes.cohort._convert import normalise_header
from cart_outcomes.cohort.mapping import synonym_column
from cart_outcomes.cohort.schema import TABLES
from cart_outcomes.errors import InputError

#: Suffix -> pyreadstat reader.
READERS = {".sav": "read_sav", ".zsav": "read_sav", ".dta": "read_dta", ".sas7bdat": "read_sas7bdat",
           ".xpt": "read_xport"}
SUFFIXES = tuple(READERS)
_CANONICAL = frozenset(c for t in TABLES.values() for c in t.names)


def _known(header: str) -> bool:
    return normalise_header(header) in _CANONICAL or synonym_column(header) is not None


def choose_header(name: str, label: str | None) -> str:
    """Rule 2: the label when it names a column (or a clinical wording of one) and the name does not."""
    if label and not _known(name) and _known(label):
        return label.strip()
    return name


def read_labelled(path: Path) -> np.ndarray:
    """The file as an object grid: headers (row 0) over cells, value labels applied and dates typed.

    Raises
    ------
    InputError
        pyreadstat is not installed (naming the extra), or the file is not a readable file of its kind.
    """
    try:
        import pyreadstat
    except ImportError:
        raise InputError(f"{path.name}: reading {path.suffix.lower()} files needs pyreadstat; install it with "
                         "pip install 'cart-outcomes[readstat]'") from None
    reader = getattr(pyreadstat, READERS[path.suffix.lower()])
    try:
        labelled = {"apply_value_formats": True, "formats_as_category": False} if reader.__name__ in (
            "read_sav", "read_dta") else {}  # SAS value labels live in a separate catalog file, not read
        frame, meta = reader(str(path), **labelled)
    except Exception as exc:  # pyreadstat raises ReadstatError/PyreadstatError and OSErrors for corrupt files
        raise InputError(f"{path.name} could not be read as a {path.suffix.lower()} file "
                         f"({type(exc).__name__}: {exc})") from None
    labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names), strict=True))
    grid = np.empty((len(frame) + 1, frame.shape[1]), dtype=object)
    grid[0] = [choose_header(str(c), labels.get(c)) for c in frame.columns]
    for j, c in enumerate(frame.columns):
        values = frame[c].astype(object).to_numpy(copy=True)
        values[pd.isna(values)] = None
        grid[1:, j] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return grid
