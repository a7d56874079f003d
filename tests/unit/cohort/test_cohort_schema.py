"""The schema is the one source of truth: date/day pairs, vocabularies, and the generated data dictionary."""

from __future__ import annotations

from pathlib import Path

from cart_outcomes.cohort.schema import GRADING_SYSTEMS, RESPONSE_RANK, RESPONSES, TABLES, render_data_dictionary

ROOT = Path(__file__).resolve().parents[3]


def test_data_dictionary_is_current() -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render_data_dictionary(), "run: PYTHONPATH=src python -m cart_outcomes.cohort --write"


def test_every_patient_date_has_a_day_alternative_and_back() -> None:
    pts = TABLES["patients"]
    for c in pts.columns:
        if c.dtype == "date" and c.name != "infusion_date":
            day = pts.column(c.alternative)
            assert (c.name[:-5] + "_day", day.dtype, day.alternative) == (day.name, "day", c.name)
            assert day.minimum == 0 and day.range_rule == "BEFORE_INFUSION"


def test_contract_columns_exist() -> None:
    pts = TABLES["patients"]
    for name in ("patient_id", "infusion_date", "age_years", "sex", "diagnosis", "car_t_source", "day28_response",
                 "best_response", "progression_date", "death_date", "death_cause", "last_followup_date", "hsct_date",
                 "hsct_intent", "new_therapy_date", "crs_grade", "icans_grade", "crs_grading_system",
                 "crs_onset_date", "cr_date", "response_assessment_date"):
        assert name in pts
    assert pts.column("patient_id").unique and pts.column("last_followup_date").required
    assert pts.column("crs_grading_system").default is None  # a blank system is not stated, never assumed
    assert pts.column("icans_grading_system").vocabulary == GRADING_SYSTEMS
    assert pts.column("day28_response").vocabulary == RESPONSES == ("CR", "CRi", "CRh", "PR", "SD", "NR", "PD", "NE")


def test_long_tables_have_patient_and_time() -> None:
    for name, t in TABLES.items():
        if name == "patients":
            continue
        assert t.column("patient_id").required
        assert "day" in t or "onset_day" in t
    assert TABLES["labs"].column("day").minimum is None  # pre-lymphodepletion labs may have negative days
    assert TABLES["crs_observations"].column("oxygen_device").vocabulary[0] == "none"
    assert TABLES["neuro_assessments"].column("capd_score").maximum == 32


def test_response_rank_orders_every_response_but_ne() -> None:
    assert set(RESPONSE_RANK) == set(RESPONSES) - {"NE"}
    assert RESPONSE_RANK["CR"] < RESPONSE_RANK["CRi"] < RESPONSE_RANK["PR"] < RESPONSE_RANK["NR"] < RESPONSE_RANK["PD"]
