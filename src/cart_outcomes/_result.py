"""The one protocol of every public result (stats, endpoints, toxicity, kinetics).

Every result is a frozen dataclass that also derives from :class:`Result` and so has:

- ``table``: its tidy ``pandas.DataFrame`` (a field, or a property built from the fields);
- ``options``: a read-only mapping of every choice made, with ``r_equivalent`` (the R call that gives the same
  numbers, or None where no R function does) and the package ``version``;
- ``excluded``: a DataFrame of the input rows or patients left out and why (a ``reason`` column; empty when nothing
  was left out);
- ``to_frame()``: a copy of ``table`` the caller may change;
- ``to_record()``: the result as JSON-ready Python values (no NaN or infinity, which become None; numpy scalars
  become Python numbers; dates become ISO text);
- ``_repr_html_()``: the notebook display.

lifelines' ``StatisticalResult`` and statsmodels' results classes are the model: one protocol, so every consumer
(the plan, the report, a user's notebook) reads every result the same way. Nothing here knows about CAR-T.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PROTOCOL", "Result", "plain"]

#: What every public result offers (checked for every public result class by tests/test_result_protocol.py).
PROTOCOL = ("table", "options", "excluded", "to_frame", "to_record", "_repr_html_")

_SCALARS = (str, bool, int, float, np.generic, type(None))


def _no_exclusions(self: Result) -> pd.DataFrame:
    """Nothing left out: an empty ``row, reason`` frame."""
    return pd.DataFrame({"row": pd.Series(dtype="int64"), "reason": pd.Series(dtype="object")})


def _table_from_frame(self: Result) -> pd.DataFrame:
    """The one-row (or few-row) frame of ``to_frame()``."""
    return self.to_frame()


class Result:
    """Base of every public result class: ``to_frame``, ``to_record``, ``_repr_html_`` and read-only ``options``.

    A subclass is a ``@dataclass(frozen=True, slots=True)``; it declares ``table``, ``options`` and ``excluded``
    as fields or properties. When it declares no ``excluded``, nothing was left out (an empty ``row, reason``
    frame); when it has no ``table`` but its own ``to_frame()``, ``table`` is that frame. ``options`` given as a
    plain dict is made read-only when the result is built.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = {name for klass in cls.__mro__ for name in vars(klass).get("__annotations__", {})}
        # Set on the class only when neither a field nor an attribute of that name exists (a property on this
        # base would become the default value of a dataclass field of the same name).
        if "excluded" not in declared and not hasattr(cls, "excluded"):
            cls.excluded = property(_no_exclusions, doc="Input rows left out, with the reason (none).")
        if "table" not in declared and not hasattr(cls, "table") and "to_frame" in vars(cls):
            cls.table = property(_table_from_frame, doc="The result as a tidy frame (as ``to_frame()``).")

    def __post_init__(self) -> None:
        opts = getattr(self, "options", None)
        if isinstance(opts, dict):
            object.__setattr__(self, "options", MappingProxyType(opts))

    def to_frame(self) -> pd.DataFrame:
        """The tidy ``table`` (a copy the caller may change)."""
        return self.table.copy()

    def to_record(self) -> dict[str, Any]:
        """The result as JSON-ready values: ``type``, the scalar attributes in ``values``, ``table`` and
        ``excluded`` as lists of row dicts, and ``options`` (NaN and infinity become None)."""
        values = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)
                  if not f.name.startswith("_") and isinstance(getattr(self, f.name), _SCALARS)}
        return {"type": type(self).__name__, "values": values, "table": plain(self.table),
                "options": plain(self.options), "excluded": plain(self.excluded)}

    def _repr_html_(self) -> str:
        r_call = self.options.get("r_equivalent")
        head = f"<p><strong>{html.escape(type(self).__name__)}</strong>"
        head += f" &middot; R: <code>{html.escape(str(r_call))}</code></p>" if r_call else "</p>"
        return head + self.table.to_html(index=False, na_rep="NA")


def plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: frames as lists of row dicts, mappings as dicts, sequences as lists, numpy
    scalars as Python numbers, NaN/infinity/NA as None, dates as ISO text, anything else as its text."""
    if isinstance(value, pd.DataFrame):
        return [{str(k): plain(v) for k, v in row.items()} for row in value.to_dict(orient="records")]
    if isinstance(value, pd.Series | pd.Index):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [plain(v) for v in (sorted(value, key=str) if isinstance(value, set | frozenset) else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    return str(value)
