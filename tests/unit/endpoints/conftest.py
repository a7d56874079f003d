"""A 7-patient cohort, worked by hand, exercising every source of every endpoint (days after infusion).

| id | day28 | best | assess | cr | prog | death | lfu | hsct | new therapy |
|----|-------|------|--------|----|------|-------|-----|------|-------------|
| A  | CR    | CR   | 28     | 28 |      | 100   | 100 |      |             |
| B  | CR    | CR   | 28     | 28 | 60   | 90    | 90  |      | 65          |
| C  | CRi   | CRi  | 28     | 28 |      |       | 400 | 50   |             |
| D  | NR    | NR   | 30     |    |      |       | 200 |      | 35          |
| E  | NE    | NE   |        |    |      | 10    | 10  |      |             |
| F  | PR    | PR   | 28     |    | 120  |       | 300 | 45   | 125         |
| G  | CR    | CR   | 28     | 28 | 150  |       | 200 |      | 40          |
"""

import pandas as pd
import pytest

NA = pd.NA


@pytest.fixture
def cohort() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "patient_id": list("ABCDEFG"),
            "day28_response": ["CR", "CR", "CRi", "NR", "NE", "PR", "CR"],
            "best_response": ["CR", "CR", "CRi", "NR", "NE", "PR", "CR"],
            "response_assessment_day": [28, 28, 28, 30, NA, 28, 28],
            "cr_day": [28, 28, 28, NA, NA, NA, 28],
            "progression_day": [NA, 60, NA, NA, NA, 120, 150],
            "death_day": [100, 90, NA, NA, 10, NA, NA],
            "last_followup_day": [100, 90, 400, 200, 10, 300, 200],
            "hsct_day": [NA, NA, 50, NA, NA, 45, NA],
            "new_therapy_day": [NA, 65, NA, 35, NA, 125, 40],
        }
    )
    day_cols = [c for c in frame.columns if c.endswith("_day")]
    frame[day_cols] = frame[day_cols].astype("Int64")
    return frame
