"""Time-to-event endpoints on the hand-worked cohort of conftest.py (expected values worked out from its table)."""

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.endpoints import (
    DEATH,
    CensorSource,
    EventSource,
    derive_cir_nrm,
    derive_dor,
    derive_efs,
    derive_followup,
    derive_os,
    derive_pfs,
    derive_rfs,
    derive_time_to_event,
)
from cart_outcomes.endpoints.tte import chained
from cart_outcomes.errors import InputError


def outcome(frame: pd.DataFrame, ep: str) -> dict[str, tuple]:
    """{patient: (time, event, status, source)}; time None outside the endpoint's population."""
    out = {}
    for row in frame.itertuples(index=False):
        t = getattr(row, f"{ep}_time_days")
        out[row.patient_id] = (
            None if pd.isna(t) else float(t),
            bool(getattr(row, f"{ep}_event")),
            int(getattr(row, f"{ep}_status")),
            getattr(row, f"{ep}_source"),
        )
    return out


DEATH_ = (True, 1, "death")
LFU = (False, 0, "last_followup")


def test_os_default(cohort):
    got = outcome(derive_os(cohort), "os")
    assert got == {
        "A": (100, *DEATH_),
        "B": (90, *DEATH_),
        "C": (400, *LFU),
        "D": (200, *LFU),
        "E": (10, *DEATH_),
        "F": (300, *LFU),
        "G": (200, *LFU),
    }


def test_os_columns_and_dtypes(cohort):
    out = derive_os(cohort)
    assert list(out.columns[-4:]) == ["os_time_days", "os_event", "os_status", "os_source"]
    assert out["os_time_days"].dtype == np.float64
    assert out["os_event"].dtype == bool
    assert out["os_status"].dtype == np.int64


def test_input_is_not_mutated(cohort):
    before = cohort.copy()
    for derive in (derive_os, derive_pfs, derive_efs, derive_rfs, derive_dor, derive_cir_nrm, derive_followup):
        derive(cohort)
    pd.testing.assert_frame_equal(cohort, before)


def test_a_chain_shares_columns_and_gives_the_same_endpoints(cohort):
    """Inside chained() each derive_* builds on its input's columns (no deep copy): the endpoints are the same and
    the input is unchanged; outside it a result never shares memory with its input."""
    def chain(frame: pd.DataFrame) -> pd.DataFrame:
        for derive in (derive_os, derive_pfs, derive_efs, derive_rfs, derive_dor, derive_cir_nrm, derive_followup):
            frame = derive(frame)
        return frame

    cohort = cohort.assign(weight=np.arange(len(cohort), dtype=float))
    before = cohort.copy()
    alone = chain(cohort)
    with chained():
        shared = chain(cohort)
        assert np.shares_memory(derive_os(cohort)["weight"].to_numpy(), cohort["weight"].to_numpy())
    pd.testing.assert_frame_equal(shared, alone)
    pd.testing.assert_frame_equal(cohort, before)
    assert not np.shares_memory(derive_os(cohort)["weight"].to_numpy(), cohort["weight"].to_numpy())


def test_os_hsct_censor_and_competing(cohort):
    censored = outcome(derive_os(cohort, hsct="censor"), "os")
    assert censored["C"] == (50, False, 0, "hsct_censor")
    assert censored["F"] == (45, False, 0, "hsct_censor")
    assert censored["A"] == (100, *DEATH_)
    competing = outcome(derive_os(cohort, hsct="competing"), "os")
    assert competing["C"] == (50, False, 3, "hsct_competing")
    assert competing["F"] == (45, False, 3, "hsct_competing")


def test_os_new_therapy_censor(cohort):
    got = outcome(derive_os(cohort, new_therapy="censor"), "os")
    assert got["B"] == (65, False, 0, "new_therapy_censor")  # new therapy day 65 before death day 90
    assert got["D"] == (35, False, 0, "new_therapy_censor")
    assert got["F"] == (125, False, 0, "new_therapy_censor")
    assert got["G"] == (40, False, 0, "new_therapy_censor")
    assert got["A"] == (100, *DEATH_)


def test_pfs_default(cohort):
    got = outcome(derive_pfs(cohort), "pfs")
    assert got == {
        "A": (100, *DEATH_),
        "B": (60, True, 1, "progression"),
        "C": (400, *LFU),
        "D": (30, True, 1, "no_response"),  # non-responder: event on the assessment day
        "E": (10, *DEATH_),  # NE: no no_response event, death decides
        "F": (120, True, 1, "progression"),  # PR is a response: progression decides, HSCT ignored
        "G": (150, True, 1, "progression"),
    }


def test_pfs_nonresponder_day0(cohort):
    got = outcome(derive_pfs(cohort, nonresponder_event="day0"), "pfs")
    assert got["D"] == (0, True, 1, "no_response")
    assert got["B"] == (60, True, 1, "progression")


def test_pfs_hsct_censor(cohort):
    got = outcome(derive_pfs(cohort, hsct="censor"), "pfs")
    assert got["C"] == (50, False, 0, "hsct_censor")
    assert got["F"] == (45, False, 0, "hsct_censor")
    assert got["B"] == (60, True, 1, "progression")


def test_pfs_new_therapy_censor_and_competing(cohort):
    censored = outcome(derive_pfs(cohort, new_therapy="censor"), "pfs")
    assert censored["B"] == (60, True, 1, "progression")  # progression (60) before new therapy (65)
    assert censored["D"] == (30, True, 1, "no_response")  # non-response (30) before new therapy (35)
    assert censored["G"] == (40, False, 0, "new_therapy_censor")  # maintenance before relapse
    competing = outcome(derive_pfs(cohort, new_therapy="competing"), "pfs")
    assert competing["G"] == (40, False, 4, "new_therapy_competing")


def test_pfs_narrower_response_set_does_not_make_pr_a_failure(cohort):
    got = outcome(derive_pfs(cohort, responses=("CR", "CRi")), "pfs")
    # PR is not a response any more but also not SD/NR/PD: only evaluated non-responders fail
    assert got["F"] == (120, True, 1, "progression")
    assert got["D"] == (30, True, 1, "no_response")


def test_efs_default_and_day0(cohort):
    got = outcome(derive_efs(cohort), "efs")
    assert got == {
        "A": (100, *DEATH_),
        "B": (60, True, 1, "relapse"),
        "C": (400, *LFU),
        "D": (30, True, 1, "induction_failure"),
        "E": (10, *DEATH_),
        "F": (28, True, 1, "induction_failure"),  # PR, no CR/CRi at the day-28 assessment
        "G": (150, True, 1, "relapse"),
    }
    day0 = outcome(derive_efs(cohort, failure_event="day0"), "efs")
    assert day0["D"] == (0, True, 1, "induction_failure")
    assert day0["F"] == (0, True, 1, "induction_failure")


def test_rfs_from_cr(cohort):
    got = outcome(derive_rfs(cohort), "rfs")
    assert got == {
        "A": (72, *DEATH_),  # 100 - 28
        "B": (32, True, 1, "relapse"),  # 60 - 28
        "C": (372, *LFU),  # 400 - 28
        "D": (None, False, 0, "not_applicable"),
        "E": (None, False, 0, "not_applicable"),
        "F": (None, False, 0, "not_applicable"),
        "G": (122, True, 1, "relapse"),  # 150 - 28
    }
    censored = outcome(derive_rfs(cohort, hsct="censor"), "rfs")
    assert censored["C"] == (22, False, 0, "hsct_censor")  # 50 - 28


def test_dor_from_first_response(cohort):
    got = outcome(derive_dor(cohort), "dor")
    assert got["A"] == (72, *DEATH_)
    assert got["B"] == (32, True, 1, "progression")
    assert got["C"] == (372, *LFU)
    assert got["F"] == (92, True, 1, "progression")  # PR day 28 to progression day 120
    assert got["G"] == (122, True, 1, "progression")
    assert got["D"][3] == got["E"][3] == "not_applicable"
    origin = derive_dor(cohort).set_index("patient_id")["dor_origin_day"]
    assert origin["F"] == 28 and origin["F"] + 92 == 120 and np.isnan(origin["D"])  # time zero: the response day


def test_dor_death_censored(cohort):
    got = outcome(derive_dor(cohort, death="censor"), "dor")
    assert got["A"] == (72, False, 0, "death_censor")
    assert got["B"] == (32, True, 1, "progression")


def test_dor_first_response_day_column_wins(cohort):
    frame = cohort.assign(first_response_day=pd.array([14, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA], "Int64"))
    assert outcome(derive_dor(frame), "dor")["A"] == (86, *DEATH_)  # 100 - 14


def test_dor_responder_without_response_day_is_an_error(cohort):
    frame = cohort.copy()
    frame.loc[frame.patient_id == "F", "response_assessment_day"] = pd.NA
    with pytest.raises(InputError, match="F"):
        derive_dor(frame)


def test_cir_nrm(cohort):
    got = outcome(derive_cir_nrm(cohort), "cir")
    assert got == {
        "A": (100, False, 2, "non_relapse_death"),
        "B": (60, True, 1, "progression"),
        "C": (400, *LFU),
        "D": (30, True, 1, "no_response"),
        "E": (10, False, 2, "non_relapse_death"),
        "F": (120, True, 1, "progression"),
        "G": (150, True, 1, "progression"),
    }
    without_nr = outcome(derive_cir_nrm(cohort, nonresponder_event="none"), "cir")
    assert without_nr["D"] == (200, *LFU)
    competing = outcome(derive_cir_nrm(cohort, hsct="competing"), "cir")
    assert competing["C"] == (50, False, 3, "hsct_competing")


def test_followup(cohort):
    got = outcome(derive_followup(cohort), "followup")
    assert {k: v[0] for k, v in got.items()} == {"A": 100, "B": 90, "C": 400, "D": 200, "E": 10, "F": 300, "G": 200}
    assert got["C"][3] == "last_followup"
    assert got["E"][3] == "death"
    # HSCT / new therapy never shorten follow-up
    assert outcome(derive_followup(cohort), "followup") == outcome(
        derive_followup(cohort.drop(columns="hsct_day")), "followup"
    )


def test_ties_follow_the_precedence_rules():
    frame = pd.DataFrame(
        {
            "patient_id": ["tie_death_lfu", "tie_prog_hsct", "tie_prog_death"],
            "best_response": ["CR", "CR", "CR"],
            "response_assessment_day": [28, 28, 28],
            "progression_day": pd.array([pd.NA, 80, 80], "Int64"),
            "death_day": pd.array([50, pd.NA, 80], "Int64"),
            "last_followup_day": [50, 200, 80],
            "hsct_day": pd.array([pd.NA, 80, pd.NA], "Int64"),
            "new_therapy_day": pd.array([pd.NA, pd.NA, pd.NA], "Int64"),
        }
    )
    got = outcome(derive_pfs(frame, hsct="censor"), "pfs")
    assert got["tie_death_lfu"] == (50, *DEATH_)  # event beats the censoring on the same day
    assert got["tie_prog_hsct"] == (80, True, 1, "progression")  # event beats HSCT censoring on the same day
    assert got["tie_prog_death"] == (80, True, 1, "progression")  # first listed event source wins


def test_generic_derive_with_custom_sources(cohort):
    cns = EventSource("cns_relapse", "cns_relapse_day", "isolated CNS relapse")
    frame = cohort.assign(cns_relapse_day=pd.array([pd.NA, pd.NA, 70, pd.NA, pd.NA, pd.NA, pd.NA], "Int64"))
    out = derive_time_to_event(
        frame,
        prefix="cnsfs",
        events=[cns, DEATH],
        censors=[CensorSource("hsct", "hsct_day")],
    )
    got = outcome(out, "cnsfs")
    assert got["C"] == (50, False, 0, "hsct")  # HSCT on day 50 censors before the CNS relapse on day 70
    assert got["A"] == (100, *DEATH_)


def test_restricted_source_applies_only_where_told(cohort):
    only_g = DEATH.restricted(lambda f: (f["patient_id"] == "A").to_numpy(), name="death_of_a")
    got = outcome(derive_time_to_event(cohort, prefix="x", events=[only_g]), "x")
    assert got["A"] == (100, True, 1, "death_of_a")
    assert got["B"] == (90, *LFU)  # B's death is not a source here


# ------------------------------------------------------------------------------------------------ errors


def test_missing_last_followup_names_the_patient(cohort):
    frame = cohort.copy()
    frame.loc[frame.patient_id == "C", "last_followup_day"] = pd.NA
    with pytest.raises(InputError, match=r"last_followup_day.*C"):
        derive_os(frame)


def test_missing_column_is_named(cohort):
    with pytest.raises(InputError, match="death_day"):
        derive_os(cohort.drop(columns="death_day"))


@pytest.mark.parametrize("value", [-3, 2.5])
def test_bad_day_values_are_located(cohort, value):
    frame = cohort.astype({"progression_day": float})
    frame.loc[frame.patient_id == "G", "progression_day"] = value
    with pytest.raises(InputError, match=r"progression_day.*G"):
        derive_pfs(frame)


def test_non_numeric_day_is_located(cohort):
    frame = cohort.astype({"death_day": object})
    frame.loc[frame.patient_id == "B", "death_day"] = "ninety"
    with pytest.raises(InputError, match=r"death_day.*B"):
        derive_os(frame)


def test_event_after_last_followup_is_an_error(cohort):
    frame = cohort.copy()
    frame.loc[frame.patient_id == "G", "progression_day"] = 250
    with pytest.raises(InputError, match=r"after 'last_followup_day'.*G"):
        derive_pfs(frame)


def test_relapse_before_cr_is_an_error(cohort):
    frame = cohort.copy()
    frame.loc[frame.patient_id == "B", "progression_day"] = 20
    with pytest.raises(InputError, match=r"before time zero.*B"):
        derive_rfs(frame)


def test_nonresponder_without_assessment_day(cohort):
    frame = cohort.copy()
    frame.loc[frame.patient_id == "D", "response_assessment_day"] = pd.NA
    with pytest.raises(InputError, match=r"response_assessment_day.*D.*day0"):
        derive_pfs(frame)
    assert outcome(derive_pfs(frame, nonresponder_event="day0"), "pfs")["D"] == (0, True, 1, "no_response")


def test_unknown_response_is_located(cohort):
    frame = cohort.copy()
    frame.loc[frame.patient_id == "C", "best_response"] = "MRD-neg"
    with pytest.raises(InputError, match=r"MRD-neg.*C"):
        derive_pfs(frame)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: derive_os(f, hsct="drop"), "hsct='drop'"),
        (lambda f: derive_pfs(f, new_therapy="event"), "new_therapy='event'"),
        (lambda f: derive_pfs(f, nonresponder_event="day28"), "nonresponder_event='day28'"),
        (lambda f: derive_efs(f, failure_event="day1"), "failure_event='day1'"),
        (lambda f: derive_dor(f, death="ignore"), "death='ignore'"),
        (lambda f: derive_cir_nrm(f, nonresponder_event="never"), "nonresponder_event='never'"),
        (lambda f: derive_pfs(f, responses=("CR", "VGPR")), "VGPR"),
        (lambda f: derive_time_to_event(f, prefix="PFS 2", events=[DEATH]), "prefix"),
    ],
)
def test_bad_options_are_named(cohort, call, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        call(cohort)


def test_not_a_dataframe():
    with pytest.raises(InputError, match="DataFrame"):
        derive_os([{"death_day": 1}])


def test_dor_origin_follows_the_response_column_of_the_plan(cohort):
    # F responded (PR) at the plan's assessment, recorded in day90_response; its day28_response says NR
    frame = cohort.assign(day90_response=cohort["day28_response"])
    frame.loc[frame.patient_id == "F", "day28_response"] = "NR"
    with pytest.raises(InputError, match="'day28_response'"):
        derive_dor(frame)  # by default the day-28 column decides, and F has no dated response there
    got = outcome(derive_dor(frame, response_column="day90_response"), "dor")
    assert got["F"] == (92, True, 1, "progression")  # assessment day 28 to progression day 120
