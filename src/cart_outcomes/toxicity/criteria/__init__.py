"""Versioned grading criteria, stored as data (one JSON file per published revision).

A future revision of a grading system is a new JSON file in this folder, not new code: the grading functions read
every threshold, device class, score band and rule text from here and record ``name``/``version``/``citation`` of
the criteria they used in each result.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from cart_outcomes.errors import InputError

__all__ = ["available_criteria", "load_criteria"]


def available_criteria() -> list[str]:
    """Names of the criteria files shipped with cart-outcomes (e.g. ``"astct2019"``, ``"icaht2023"``)."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))


@cache
def _load(name: str) -> str:
    return resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")


def load_criteria(name: str) -> dict[str, Any]:
    """Return the criteria table ``name`` as a fresh dict (callers may not mutate the shipped data).

    Raises
    ------
    InputError
        If no criteria file of that name exists; the message lists the available ones.
    """
    if not isinstance(name, str) or name not in available_criteria():
        raise InputError(f"criteria={name!r} is not known; available: {', '.join(available_criteria())}")
    return json.loads(_load(name))
