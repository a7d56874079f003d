"""A seeded example cohort of 150 CAR-T patients with a 3-level diagnosis, for the multi-arm, subgroup, Table 1 and
regression reference tests (tests/reference/arms_reference.R reads the CSV this writes).

Regenerate the committed sheet with ``python -m tests.example_cohort`` (from the repository root); the tests read
the committed file, and one test checks that the builder still writes the same bytes.

Design: diagnosis B-ALL / LBCL / MCL with different relapse hazards (so hazard ratios are far from 1), day-28
responses CR/PR/SD/PD/NE, relapse and non-relapse death as competing events, consolidative allo-HSCT in some
responders, integer days (so ties occur), and two sheet columns the schema does not know (``ldh`` numeric with
missing values, ``ecog`` categorical) for Table 1. A few ages and sexes are missing (Table 1 "Unknown" rows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PATH = Path(__file__).parent / "reference" / "arms_cohort" / "patients.csv"

_RELAPSE_MEDIAN = {"B-ALL": 240.0, "LBCL": 420.0, "MCL": 900.0}
_PRODUCTS = {"B-ALL": ["tisa-cel", "brexu-cel"], "LBCL": ["axi-cel", "liso-cel", "tisa-cel"], "MCL": ["brexu-cel"]}
_AGE = {"B-ALL": (30, 12), "LBCL": (60, 10), "MCL": (66, 8)}


def example_cohort(n: int = 150, seed: int = 20261207) -> pd.DataFrame:
    """The patients sheet (canonical column names plus ``ldh`` and ``ecog``), one row per patient."""
    rng = np.random.default_rng(seed)
    diagnosis = rng.choice(["B-ALL", "LBCL", "MCL"], size=n, p=[0.35, 0.4, 0.25])
    rows = []
    for i, dx in enumerate(diagnosis):
        mu, sd = _AGE[dx]
        age = float(np.clip(round(rng.normal(mu, sd)), 18, 82))
        sex = rng.choice(["M", "F"], p=[0.6, 0.4])
        source = "allogeneic" if rng.random() < 0.2 else "autologous"
        product = rng.choice(_PRODUCTS[dx])
        ldh = float(round(np.exp(rng.normal(5.6, 0.5))))
        ecog = str(rng.choice(["0", "1", "2"], p=[0.45, 0.4, 0.15]))
        d28 = str(rng.choice(["CR", "PR", "SD", "PD", "NE"], p=[0.5, 0.17, 0.1, 0.16, 0.07]))
        best = "CR" if d28 == "PR" and rng.random() < 0.35 else d28
        censor = int(rng.integers(150, 1100))
        progression = death = hsct = None
        cause = None
        if best in ("CR", "PR"):
            relapse = 28 + int(rng.exponential(_RELAPSE_MEDIAN[dx] / np.log(2)))
            nrm = 28 + int(rng.exponential(2500.0))
            if rng.random() < 0.25:
                hsct_day = int(rng.integers(50, 120))
                if hsct_day < min(relapse, nrm, censor):
                    hsct = hsct_day
            if relapse <= min(nrm, censor):
                progression = relapse
                after = relapse + 1 + int(rng.exponential(250.0))
                if after <= censor:
                    death, cause = after, "disease progression"
            elif nrm <= censor:
                death, cause = nrm, "infection"
        else:
            progression = 28 if best == "PD" else int(rng.integers(29, 90))
            after = progression + 1 + int(rng.exponential(150.0))
            if after <= censor:
                death, cause = after, "disease progression"
        rows.append({
            "patient_id": f"EX-{i + 1:03d}",
            "age_years": age,
            "sex": sex,
            "diagnosis": dx,
            "car_t_source": source,
            "car_t_product": product,
            "day28_response": d28,
            "best_response": best,
            "response_assessment_day": 28,
            "progression_day": progression,
            "death_day": death,
            "death_cause": cause,
            "last_followup_day": death if death is not None else censor,
            "hsct_day": hsct,
            "hsct_intent": "consolidative" if hsct is not None else None,
            "ldh": ldh,
            "ecog": ecog,
        })
    frame = pd.DataFrame(rows)
    for col, k in (("age_years", 5), ("sex", 4), ("ldh", 12)):
        frame.loc[rng.choice(n, size=k, replace=False), col] = None
    for col in ("progression_day", "death_day", "hsct_day"):
        frame[col] = frame[col].astype("Int64")
    return frame


def write(path: Path = PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    example_cohort().to_csv(path, index=False, lineterminator="\n")
    return path


if __name__ == "__main__":
    print(write())
