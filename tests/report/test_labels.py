"""The label table and the numbering: no internal id reaches visible text, categories in clinical order, figures
and tables numbered once, the same way for HTML and Word."""

from __future__ import annotations

import pandas as pd
import pytest

import cart_outcomes.report as R
from cart_outcomes.errors import InputError
from cart_outcomes.report.html import numbering
from cart_outcomes.report.labels import clinical_order, comparison_label, label


def test_ids_become_words():
    assert label("system", "ASTCT2019") == "ASTCT 2019"
    assert label("system", "EHA_EBMT_ICAHT2023") == "EHA/EBMT 2023"
    assert label("sex", "F") == "Female" and label("sex", "m") == "Male"  # vocabularies match without case
    assert label("car_t_source", "allogeneic") == "Allogeneic"
    assert label("grade", "grade_3_or_higher") == "Grade ≥3"
    assert label("toxicity", "icaht_early").startswith("Early ICAHT")
    assert label("ties", "efron") == "Efron"
    # an id the table does not know is never shown as an identifier
    assert label("column", "some_new_column") == "some new column"
    assert label("diagnosis", "T-ALL") == "T-ALL"


def test_a_condition_population_is_said_in_words():
    # the plan's {age_years: ">= 18", diagnosis: [B-ALL]} is recorded as populations.describe() writes it
    assert label("population", "age_years >= 18") == "age ≥ 18"
    assert (label("population", "diagnosis in {B-ALL}, dose_cells_per_kg < 1e+06")
            == "diagnosis in {B-ALL}, dose < 1e+06")
    assert label("population", "responders") == "responders"


def test_clinical_order_puts_not_evaluable_and_missing_last():
    assert clinical_order("response", ["PD", "NE", "CR", "missing", "PR", "CRi"]) == ["CR", "CRi", "PR", "PD", "NE",
                                                                                     "missing"]
    assert clinical_order("day28_response", ["NE", "NR", "CR"]) == ["CR", "NR", "NE"]
    assert clinical_order("sex", ["F", "other", "M"]) == ["M", "F", "other"]  # schema vocabulary order
    assert clinical_order("car_t_product", ["b", "Unknown", "a"]) == ["b", "a", "Unknown"]  # no vocabulary: as given


def test_comparison_label_comes_from_the_record_never_the_plan_id():
    record = {"comparison": "responders_by_hsct", "population": "responders",
              "labels": {"unexposed": "no HSCT", "exposed": "HSCT"}}
    assert comparison_label(record) == "Responders: HSCT vs no HSCT"
    assert comparison_label({"comparison": "by_dx", "population": "all", "by": "car_t_source"}) == \
        "All patients by CAR-T source"


def _doc() -> R.ReportDocument:
    frame = pd.DataFrame({"a": [1]})
    fig = R.FigureBlock(svg='<svg xmlns="http://www.w3.org/2000/svg"></svg>', caption="first figure")
    return R.ReportDocument("t", [
        R.Section("one", "One", tables=[R.TableBlock(frame, "first table"), R.TableBlock(frame, "second table")],
                  figures=[fig]),
        R.Section("two", "Two", tables=[R.TableBlock(frame, "third table")], figures=[
            R.FigureBlock(svg='<svg xmlns="http://www.w3.org/2000/svg"></svg>', caption="second figure")]),
    ])


def test_figures_and_tables_are_numbered_separately_in_document_order():
    doc = _doc()
    numbers = numbering(doc)
    tables = [numbers[id(t)] for s in doc.sections for t in s.tables]
    figures = [numbers[id(f)] for s in doc.sections for f in s.figures]
    assert tables == ["Table 1", "Table 2", "Table 3"] and figures == ["Figure 1", "Figure 2"]
    html = R.render_html(doc)
    assert '<caption><span class="label">Table 3.</span> third table</caption>' in html
    assert '<figcaption><span class="label">Figure 2.</span> second figure</figcaption>' in html


@pytest.mark.parametrize("caption", ["Table 1. Baseline", "Figure 2: KM", "fig. 3 curves"])
def test_a_caption_that_numbers_itself_is_refused(caption):
    with pytest.raises(InputError, match="leave out the number"):
        R.TableBlock(pd.DataFrame({"a": [1]}), caption)
