"""The benchmark data: the survival-software survey's generator (``shared/reference/perf/gen_data.py``, seeded).

Two arms 50/50 (HR 0.8: exponential event times with scale 650 and 650 / 0.8), Uniform(0, 2300) censoring,
administrative censoring at day 2000; integer days are the observed times rounded up and clipped to 1..2000
(~30% censored). ``continuous=True`` keeps the float times (``gen_data_cont.py``, all distinct). The benchmarks
import it as ``from _data import make`` (they are run as scripts from the repository root, so ``benchmarks/`` is on
``sys.path``).
"""

from __future__ import annotations

import numpy as np

SEED = 20240601


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    group = (rng.random(n) < 0.5).astype(np.int32)
    scale = np.where(group == 1, 650.0 / 0.8, 650.0)
    t_event = rng.exponential(scale)
    t_cens = rng.uniform(0, 2300, n)
    t_obs = np.minimum(np.minimum(t_event, t_cens), 2000.0)
    event = ((t_event <= t_cens) & (t_event <= 2000.0)).astype(np.int32)
    return t_obs, event, group


def _days(t_obs: np.ndarray) -> np.ndarray:
    return np.clip(np.ceil(t_obs), 1, 2000).astype(np.int32)


def make(n: int, seed: int = SEED, continuous: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time, event, group)``: gen_data.make (integer days) or gen_data_cont.py (``continuous=True``)."""
    t_obs, event, group = _draw(np.random.default_rng(seed), n)
    return (t_obs if continuous else _days(t_obs)), event, group


def make_competing(
    n: int, seed: int = SEED, continuous: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time, cause, group)``: :func:`make`, each event then assigned to cause 1 or 2 by a seeded coin
    (p = 0.6 / 0.4) drawn after the same stream; 0 = censored."""
    rng = np.random.default_rng(seed)
    t_obs, event, group = _draw(rng, n)
    cause = np.where(event == 1, np.where(rng.random(n) < 0.6, 1, 2), 0).astype(np.int32)
    return (t_obs if continuous else _days(t_obs)), cause, group
