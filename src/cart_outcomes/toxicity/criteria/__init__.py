"""Versioned grading criteria, stored as data (one JSON file per published revision).

A future revision of a grading system is a new JSON file in this folder, not new code: the grading functions read
every threshold, device class, score band and rule text from here and record ``name``/``version``/``citation`` of
the criteria they used in each result.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cart_outcomes.errors import InputError

__all__ = ["available_criteria", "load_criteria"]


def available_criteria() -> list[str]:
    """Names of the criteria files shipped with cart-outcomes (e.g. ``"astct2019"``, ``"icaht2023"``)."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))


@cache
def _load(name: str) -> str:
    return resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")


_HEADER = ("name", "system", "version", "citation")


def load_criteria(name: str | Path | dict[str, Any]) -> dict[str, Any]:
    """Return a criteria table as a fresh dict (callers never mutate the shipped data).

    Parameters
    ----------
    name : the name of a shipped file (``"astct2019"``, ``"icaht2023"``, ``"hematotox2021"``, ``"iechs2023"``), the
        path of a JSON file with the same structure (a local or future revision), or such a dict.

    Raises
    ------
    InputError
        Unknown name (the message lists the available ones), unreadable file, or a table without
        ``name``/``system``/``version``/``citation``.
    """
    if isinstance(name, dict):
        crit = copy.deepcopy(name)
    elif isinstance(name, Path) or (isinstance(name, str) and name.lower().endswith(".json")):
        try:
            crit = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"criteria file {str(name)!r} cannot be read: {exc}") from None
    elif isinstance(name, str) and name in available_criteria():
        crit = json.loads(_load(name))
    else:
        raise InputError(f"criteria={name!r} is not known; available: {', '.join(available_criteria())} "
                         "(or give the path of a criteria JSON file)")
    missing = [k for k in _HEADER if k not in crit]
    if missing:
        raise InputError(f"criteria table lacks {missing}: every table must name its system, version and citation")
    return crit
