"""Properties of the endpoint derivations over generated cohorts (hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes.endpoints import derive_cir_nrm, derive_dor, derive_efs, derive_os, derive_pfs, derive_rfs

RESPONSES = ["CR", "CRi", "CRh", "PR", "SD", "NR", "PD", "NE", None]
OPTIONS = ["ignore", "censor", "competing"]
EVENT_COLUMNS = {
    "death": "death_day",
    "progression": "progression_day",
    "relapse": "progression_day",
    "no_response": "response_assessment_day",
    "induction_failure": "response_assessment_day",
}


@st.composite
def patient(draw) -> dict:
    lfu = draw(st.integers(0, 1000))

    def maybe_day(lo: int = 0) -> int | None:
        return draw(st.one_of(st.none(), st.integers(min(lo, lfu), lfu)))

    response = draw(st.sampled_from(RESPONSES))
    assess = None if response in ("NE", None) else draw(st.integers(0, lfu))
    cr = assess if response in ("CR", "CRi", "CRh") else None
    responded = response in ("CR", "CRi", "CRh", "PR")
    progression = maybe_day(assess if responded else 0)  # a responder progresses after the response
    died = draw(st.booleans())
    return {
        "day28_response": response,
        "best_response": response,
        "response_assessment_day": assess,
        "cr_day": cr,
        "progression_day": progression,
        "death_day": lfu if died else None,
        "last_followup_day": lfu,
        "hsct_day": maybe_day(),
        "new_therapy_day": maybe_day(),
    }


cohorts = st.lists(patient(), min_size=1, max_size=15).map(
    lambda rows: (
        pd.DataFrame(rows)
        .assign(patient_id=lambda f: [f"P{i:02d}" for i in range(len(f))])
        .astype(
            {
                c: "Int64"
                for c in (
                    "response_assessment_day",
                    "cr_day",
                    "progression_day",
                    "death_day",
                    "last_followup_day",
                    "hsct_day",
                    "new_therapy_day",
                )
            }
        )
    )
)


@settings(max_examples=30, deadline=None)
@given(cohorts, st.sampled_from(OPTIONS), st.sampled_from(OPTIONS), st.sampled_from(["assessment", "day0"]))
def test_time_bounds_and_events_have_a_source_day(frame, hsct, new_therapy, nonresponder):
    before = frame.copy()
    out = derive_pfs(frame, hsct=hsct, new_therapy=new_therapy, nonresponder_event=nonresponder)
    pd.testing.assert_frame_equal(frame, before)
    t = out["pfs_time_days"].to_numpy()
    lfu = frame["last_followup_day"].to_numpy(dtype=float)
    assert (t >= 0).all() and (t <= lfu).all()
    for row, time in zip(out.itertuples(index=False), t, strict=True):
        if row.pfs_event:
            assert row.pfs_status == 1
            column = EVENT_COLUMNS[row.pfs_source]
            expected = 0 if (row.pfs_source == "no_response" and nonresponder == "day0") else getattr(row, column)
            assert not pd.isna(expected) and time == expected
        else:
            assert row.pfs_status in (0, 3, 4)


@settings(max_examples=30, deadline=None)
@given(cohorts, st.sampled_from(OPTIONS), st.sampled_from(OPTIONS))
def test_pfs_never_exceeds_os_and_censoring_only_shortens(frame, hsct, new_therapy):
    os_ = derive_os(frame, hsct=hsct, new_therapy=new_therapy)["os_time_days"].to_numpy()
    pfs = derive_pfs(frame, hsct=hsct, new_therapy=new_therapy)["pfs_time_days"].to_numpy()
    pfs_ignore = derive_pfs(frame)["pfs_time_days"].to_numpy()
    assert (pfs <= os_).all()
    assert (pfs <= pfs_ignore).all()


@settings(max_examples=30, deadline=None)
@given(cohorts, st.sampled_from(OPTIONS))
def test_cir_and_nrm_partition_pfs(frame, hsct):
    pfs = derive_pfs(frame, hsct=hsct)
    cir = derive_cir_nrm(frame, hsct=hsct)
    np.testing.assert_array_equal(cir["cir_time_days"], pfs["pfs_time_days"])
    np.testing.assert_array_equal(cir["cir_status"].isin([1, 2]), pfs["pfs_event"])
    np.testing.assert_array_equal(cir["cir_event"], cir["cir_status"] == 1)


@settings(max_examples=25, deadline=None)
@given(cohorts)
def test_population_endpoints_and_row_order(frame):
    rfs = derive_rfs(frame)
    inside = frame["cr_day"].notna().to_numpy()
    assert rfs["rfs_time_days"].notna().to_numpy().tolist() == inside.tolist()
    assert (rfs.loc[~inside, "rfs_source"] == "not_applicable").all()
    dor = derive_dor(frame)
    assert (dor["dor_time_days"].dropna() >= 0).all()
    efs = derive_efs(frame)
    shuffled = derive_efs(frame.iloc[::-1]).iloc[::-1]
    pd.testing.assert_frame_equal(efs, shuffled)


CAUSES = [None, "Progression", "relapse", "disease", "sepsis", "GVHD", "infection"]


@st.composite
def sheet_patient(draw) -> dict:
    """A row as clinicians record it: day-28 response, maybe a best response, maybe no assessment date, maybe no
    relapse date or last contact for a patient who died, a free-text cause of death."""
    lfu = draw(st.integers(0, 1000))
    day28 = draw(st.sampled_from(RESPONSES))
    best = draw(st.sampled_from([None, day28, "CR"])) if day28 not in ("NE", None) else draw(st.sampled_from([None]))
    assess = draw(st.one_of(st.none(), st.integers(0, lfu))) if day28 not in ("NE", None) else None
    responded = best in ("CR", "CRi", "CRh", "PR") or day28 in ("CR", "CRi", "CRh", "PR")
    lo = (assess if assess is not None else min(28, lfu)) if responded else 0
    progression = draw(st.one_of(st.none(), st.integers(min(lo, lfu), lfu)))
    died = draw(st.booleans())
    return {
        "day28_response": day28,
        "best_response": best,
        "response_assessment_day": assess,
        "progression_day": progression,
        "death_day": lfu if died else None,
        "death_cause": draw(st.sampled_from(CAUSES)) if died else None,
        "last_followup_day": None if died and draw(st.booleans()) else lfu,
    }


sheets = st.lists(sheet_patient(), min_size=1, max_size=15).map(
    lambda rows: pd.DataFrame(rows)
    .assign(patient_id=lambda f: [f"P{i:02d}" for i in range(len(f))])
    .astype({c: "Int64" for c in ("response_assessment_day", "progression_day", "death_day", "last_followup_day")})
)


@settings(max_examples=40, deadline=None)
@given(sheets)
def test_derived_pfs_efs_cir_nrm_are_mutually_consistent(frame):
    """After the derivation rules (clinical-definitions section 7.1): CIR + NRM partition PFS (same time, PFS event
    iff relapse or NRM); a disease death is never NRM; a day-28 non-responder fails on the same day in PFS, EFS and
    CIR; EFS (CR needed at day 28) never ends later than PFS."""
    from cart_outcomes.endpoints.derivation import apply_derivation_rules, is_disease_death

    p = apply_derivation_rules(frame).patients
    pfs, efs, cir = derive_pfs(p), derive_efs(p), derive_cir_nrm(p)
    np.testing.assert_array_equal(pfs["pfs_time_days"], cir["cir_time_days"])
    np.testing.assert_array_equal(pfs["pfs_event"], cir["cir_status"].isin([1, 2]))
    nrm = (cir["cir_status"] == 2).to_numpy()
    assert not any(is_disease_death(c) for c in frame["death_cause"][nrm])
    non_responder = frame["day28_response"].isin(["SD", "NR", "PD"]) & frame["best_response"].isna()
    np.testing.assert_array_equal(efs["efs_time_days"][non_responder], pfs["pfs_time_days"][non_responder])
    assert efs["efs_event"][non_responder].all() and pfs["pfs_event"][non_responder].all()
    assert (efs["efs_time_days"] <= pfs["pfs_time_days"]).all()
    assert (efs["efs_event"] | ~pfs["pfs_event"]).all()
