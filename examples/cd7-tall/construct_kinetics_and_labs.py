"""Write illustrative CAR-T kinetics and laboratory tables for the reconstructed CD7 seed cohort.

The seed study (Xiao et al. 2025) reports no kinetics or laboratory data, so nothing here reproduces a published
number. The levels follow the published shape of CAR-T kinetics (Stein et al. 2019: exponential expansion to Tmax,
then a fast and a slow exponential decline) with CD7-like magnitudes (a CD7 CAR-T phase I, NCT05290155: median Cmax
about 6 x 10^4 transgene copies/ug gDNA at a median of day 12). Each patient's peak, time of peak and time of loss is
chosen by hand in :data:`PROFILES` to fit the patient's story in ``construct_seed_cohort.py`` (responders expand
more; allo-HSCT conditioning clears the CAR-T cells). Blood counts and inflammation markers follow lymphodepletion
(days -5 to -3) and each patient's CRS grade and onset. The script is deterministic: re-running it rewrites
``kinetics.csv`` and ``labs.csv`` byte for byte.

Run from the repository root::

    python examples/cd7-tall/construct_kinetics_and_labs.py
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
LLOQ = 50.0  # qPCR lower limit of quantification, transgene copies/ug genomic DNA
SAMPLE_DAYS = (0, 4, 7, 10, 14, 21, 28, 60, 90, 180, 270, 365)
FLOW_DAYS = (7, 14, 21, 28)
LAB_DAYS = (-5, *range(0, 15), 17, 21, 24, 28, 35, 42, 60, 90)

#: patient -> (Cmax copies/ug gDNA, Tmax day, day the CAR becomes undetectable or None, neutrophil recovery day or
#: None when ANC never recovers, platelet recovery day or None)
PROFILES: dict[str, tuple[float, int, int | None, int | None, int | None]] = {
    "CD7-01": (8_200.0, 10, None, None, None),       # rapid progression, died day 14
    "CD7-02": (61_500.0, 14, 40, 16, 21),            # CR, CAR lost before the day-45 relapse
    "CD7-03": (88_900.0, 10, None, 14, 19),          # CR, cleared by HSCT conditioning (day 48)
    "CD7-04": (3_200.0, 7, 28, 12, 17),              # refractory: poor expansion
    "CD7-05": (42_300.0, 14, 60, 21, 28),            # CRi, lost by day 60, relapse day 70
    "CD7-06": (326_000.0, 10, None, 24, None),       # CR with ICANS: the highest expansion
    "CD7-07": (11_800.0, 21, 28, None, None),        # progression: marrow never recovers
    "CD7-08": (54_100.0, 12, None, 13, 17),          # PR then CR, HSCT day 58
    "CD7-09": (150_200.0, 12, None, 17, 24),         # allogeneic CAR-T, HSCT day 71
    "CD7-10": (5_600.0, 14, 21, 11, 14),             # no response
    "CD7-11": (23_400.0, 12, None, 14, 21),          # PR, no HSCT: the CAR persists past month 6
    "CD7-12": (69_900.0, 12, None, 12, 17),          # CR, HSCT day 41
}


def car_level(day: int, cmax: float, tmax: int) -> float:
    """Expansion at 0.6/day to Tmax, then 90% of the peak contracting at 0.25/day and 10% at 0.02/day."""
    if day <= tmax:
        return cmax * math.exp(0.6 * (day - tmax))
    dt = day - tmax
    return cmax * (0.9 * math.exp(-0.25 * dt) + 0.1 * math.exp(-0.02 * dt))


def kinetics(patients: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for p in patients.itertuples():
        cmax, tmax, lost, _, _ = PROFILES[p.patient_id]
        end = p.last_followup_day
        cleared = p.hsct_day + 7 if not pd.isna(p.hsct_day) else None  # conditioning clears CAR-T cells
        for day in (d for d in SAMPLE_DAYS if d <= end):
            level = 0.0 if day == 0 else car_level(day, cmax, tmax)
            gone = (lost is not None and day >= lost) or (cleared is not None and day >= cleared)
            blq = gone or level < LLOQ
            rows.append(dict(patient_id=p.patient_id, day=day, matrix="peripheral_blood", assay="qpcr",
                             value=None if blq else round(level, 1), unit="copies_per_ug_dna", below_loq=blq,
                             lloq=LLOQ))
            if day == 28 and not pd.isna(p.response_assessment_day):  # marrow at the response assessment
                marrow = 0.6 * level
                rows.append(dict(patient_id=p.patient_id, day=day, matrix="bone_marrow", assay="qpcr",
                                 value=None if gone or marrow < LLOQ else round(marrow, 1), unit="copies_per_ug_dna",
                                 below_loq=gone or marrow < LLOQ, lloq=LLOQ))
            if day in FLOW_DAYS:
                share = 0.0 if gone else 100.0 * level / (level + 20_000.0)
                rows.append(dict(patient_id=p.patient_id, day=day, matrix="peripheral_blood", assay="flow",
                                 value=round(share, 1), unit="percent_of_cd3", below_loq=False, lloq=None))
        if p.patient_id == "CD7-06":  # lumbar puncture during ICANS
            rows.append(dict(patient_id=p.patient_id, day=7, matrix="csf", assay="qpcr", value=12_400.0,
                             unit="copies_per_ug_dna", below_loq=False, lloq=LLOQ))
    out = pd.DataFrame(rows).sort_values(["patient_id", "day", "matrix", "assay"], kind="stable")
    return out.reset_index(drop=True)


def _recovering(day: int, start: float, nadir: float, recovered: float, recovery: int | None) -> float:
    """Lymphodepletion nadir from day 0, log-linear climb over the 3 days before ``recovery``, plateau after."""
    if day < -3:
        return start
    if day < 0:
        return start * (nadir / start) ** ((day + 3) / 3)
    if recovery is None or day < recovery - 3:
        return nadir
    if day >= recovery:
        return recovered
    return nadir * (recovered / nadir) ** ((day - recovery + 4) / 4)


def labs(patients: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, p in enumerate(patients.itertuples()):
        _, _, _, anc_day, plt_day = PROFILES[p.patient_id]
        grade, onset = int(p.crs_grade), int(p.crs_onset_day)
        own = 0.7 + 0.1 * (i % 7)  # patients differ in their baseline and recovered counts
        for day in (d for d in LAB_DAYS if d <= p.last_followup_day):
            deep = anc_day is None or anc_day > 20  # profound neutropenia when recovery is late or absent
            anc = _recovering(day, 1_800.0 * own, 60.0 if deep else 300.0, 1_600.0 * own, anc_day)
            plt = _recovering(day, 70_000.0 * own, 8_000.0, 60_000.0 * own, plt_day)
            since = day - onset
            inflammation = math.exp(-((since - 2) ** 2) / 8.0) if since >= 0 else 0.0
            rows.append(dict(
                patient_id=p.patient_id, day=day, anc_per_ul=round(anc), platelets_per_ul=round(plt, -2),
                hemoglobin_g_dl=round(8.0 + 2.0 * own - 1.5 * inflammation, 1),
                crp_mg_dl=round(0.5 + 6.0 * grade * inflammation, 1),
                ferritin_ng_ml=round(600.0 + 1_500.0 * grade ** 2 * inflammation),
                il6_pg_ml=round(5.0 + 15.0 * 4 ** grade * inflammation, 1),
                platelet_transfusion=bool(day >= 0 and plt < 10_000.0 and day % 3 == 0),
            ))
    return pd.DataFrame(rows)


def main() -> None:
    patients = pd.read_csv(HERE / "patients.csv")
    kinetics(patients).to_csv(HERE / "kinetics.csv", index=False, lineterminator="\n")
    labs(patients).to_csv(HERE / "labs.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
