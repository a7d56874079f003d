"""The auto-written statistical methods paragraph, and the immortal-time explanation of the HSCT section.

The text names every estimator and convention the results used, from the ``options`` the results record, so a
clinician can paste it into a manuscript and a reviewer can reproduce each number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cart_outcomes.errors import InputError
from cart_outcomes.units import unit_definition

__all__ = ["IMMORTAL_TIME_EXPLANATION", "methods_paragraph"]

#: Plain-language explanation shown in the HSCT / time-dependent section of the report.
IMMORTAL_TIME_EXPLANATION = (
    "Patients who received a consolidative allogeneic HSCT had, by definition, to be alive and event-free from "
    "CAR-T infusion until the day of transplant. Comparing them from day 0 with patients who did not receive HSCT "
    "credits that event-free waiting period (immortal or guarantee time) to the HSCT group and biases the comparison "
    "in its favour. The naive comparison is therefore shown only alongside analyses that handle the timing of HSCT: "
    "a landmark analysis (patients classified by HSCT status at a fixed landmark day, followed from that day), a Cox "
    "model with HSCT as a time-dependent covariate, the Mantel-Byar test, and Simon-Makuch curves, in which each "
    "patient contributes to the no-HSCT curve until transplant and to the HSCT curve afterwards."
)

_CONF_TYPE = {
    "log-log": "the log-log transformation (log(-log S))",
    "log": "the log transformation (R survival's default)",
    "plain": "the untransformed (plain) Greenwood interval",
}
_TIES = {
    "efron": "Efron's approximation for tied event times (R survival's default)",
    "breslow": "Breslow's approximation for tied event times",
    "exact": "the exact partial likelihood for tied event times",
}
_BINOMIAL = {
    "clopper-pearson": "exact Clopper-Pearson intervals",
    "wilson": "Wilson score intervals",
    "jeffreys": "Jeffreys intervals",
}
_HR = {
    "cox": "hazard ratios from Cox proportional hazards regression with Wald confidence intervals",
    "logrank": "hazard ratios estimated by the log-rank (O/E) method, as reported by GraphPad Prism "
               "(not Cox estimates)",
    "mantel-haenszel": "hazard ratios estimated by the Mantel-Haenszel method, as reported by GraphPad Prism "
                       "(not Cox estimates)",
}
_TIME_DEPENDENT = {
    "landmark": "a landmark analysis (patients classified by exposure status at the landmark and followed from it)",
    "time_dependent_cox": "a Cox model with the exposure as a time-dependent covariate (counting-process data)",
    "mantel_byar": "the Mantel-Byar test",
    "simon_makuch": "Simon-Makuch curves",
}

_SUPPORTIVE_CARE = {"tocilizumab": "tocilizumab", "corticosteroids": "corticosteroids",
                    "icu_admission": "intensive care"}


def _list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _choice(table: Mapping[str, str], key: str, value: Any) -> str:
    try:
        return table[str(value).lower()]
    except KeyError:
        raise InputError(f"methods_paragraph: {key} must be one of {sorted(table)}, got {value!r}") from None


def methods_paragraph(options: Mapping[str, Any]) -> str:
    """Write the statistical methods paragraph from the analysis options.

    Parameters
    ----------
    options
        Mapping with any of these keys (absent keys leave their sentence out; other keys are ignored, so the options
        of several results can be merged and passed as they are):

        - ``time_zero``: text, e.g. ``"the day of CAR-T infusion (day 0)"``.
        - ``endpoints``: mapping name -> definition, e.g. ``{"OS": "death from any cause"}``.
        - ``censoring``: text, e.g. ``"patients without an event were censored at their last follow-up"``.
        - ``conf_type`` (``log``, ``log-log``, ``plain``) and ``conf_level`` (e.g. 0.95) of survival CIs.
        - ``median_rule``: ``"r"`` (R survival: smallest time with S <= 0.5, midpoint of a flat stretch at 0.5) or
          text.
        - ``followup``: ``"reverse_km"`` (median follow-up by the reverse Kaplan-Meier method) or text.
        - ``tests``: subset of ``logrank``, ``gray``, ``fisher``, ``exact_logrank``, ``logrank_trend``.
        - ``hazard_ratio``: ``cox``, ``logrank`` or ``mantel-haenszel``; ``ties`` (``efron``, ``breslow``,
          ``exact``) for Cox models.
        - ``binomial_ci``: ``clopper-pearson``, ``wilson`` or ``jeffreys``.
        - ``response``: mapping with ``day``, ``denominator`` (``all_infused`` or ``evaluable``) and ``categories``
          (e.g. ``"CR+CRi+CRh+PR"``) of the response rates.
        - ``competing_risks``: true (or the ``conf_type`` of its intervals) to describe Aalen-Johansen cumulative
          incidence (relapse vs non-relapse mortality).
        - ``time_dependent``: subset of ``landmark``, ``time_dependent_cox``, ``mantel_byar``, ``simon_makuch``;
          ``landmark_day``.
        - ``table1_tests``: true to describe the Table 1 tests.
        - ``toxicity_criteria``: text, e.g. ``"ASTCT 2019 consensus criteria (Lee et al., 2019)"``.
        - ``icaht_criteria``: text naming the ICAHT grading (e.g. the EHA/EBMT 2023 consensus) to describe how
          early and late immune effector cell-associated hematotoxicity were graded.
        - ``supportive_care``: subset of ``tocilizumab``, ``corticosteroids``, ``icu_admission`` the data record.
        - ``rounding``: the report's rounding policy (one sentence, e.g.
          :data:`~cart_outcomes.report._format.ROUNDING_POLICY`).
        - ``unit``: ``"weeks"``, ``"months"`` or ``"years"`` to state the conversion from days.
        - ``software``: mapping name -> version (cart-outcomes, Python, numpy, scipy, ...).
        - ``deidentified``: true to state that outputs were de-identified.

    Returns
    -------
    str
        One paragraph of plain text (the HTML template escapes it).
    """
    o = dict(options)
    s: list[str] = []
    if "time_zero" in o:
        s.append(f"Time was measured from {o['time_zero']}.")
    if "endpoints" in o:
        s.append("Endpoints were defined as follows: "
                 + "; ".join(f"{name}, {definition}" for name, definition in dict(o["endpoints"]).items()) + ".")
    if "censoring" in o:
        s.append(str(o["censoring"]).rstrip(".").capitalize() + ".")
    if "conf_type" in o or "conf_level" in o:
        level = int(round(100 * float(o.get("conf_level", 0.95))))
        sentence = f"Survival was estimated with the Kaplan-Meier method with Greenwood variance; {level}% pointwise " \
                   "confidence intervals"
        if "conf_type" in o:
            sentence += f" used {_choice(_CONF_TYPE, 'conf_type', o['conf_type'])}"
        s.append(sentence + ".")
    if "median_rule" in o:
        rule = o["median_rule"]
        if str(rule).lower() == "r":
            rule = ("the median is the earliest time at which the survival estimate is at or below 0.5 (with a "
                    "tolerance of the square root of machine precision); when the curve is flat at exactly 0.5 "
                    "the midpoint of the flat stretch is reported, and its confidence interval is read from the "
                    "confidence limits, as in R survival; medians not reached are reported as NR")
        s.append(f"By convention, {rule}.")
    if "followup" in o:
        fu = o["followup"]
        if str(fu).lower() == "reverse_km":
            fu = ("median follow-up was estimated by the reverse Kaplan-Meier method (death treated as censoring); "
                  "the median and range of observation times are given as well")
        s.append(str(fu)[0].upper() + str(fu)[1:] + ".")
    tests = [str(t).lower() for t in o.get("tests", ())]
    named = {
        "logrank": "the log-rank test",
        "exact_logrank": "an exact (permutation) log-rank test for small groups",
        "logrank_trend": "the log-rank test for trend across ordered groups",
        "gray": "Gray's test for cumulative incidence",
        "fisher": "Fisher's exact test for proportions",
    }
    unknown = [t for t in tests if t not in named]
    if unknown:
        raise InputError(f"methods_paragraph: unknown tests {unknown}; known: {sorted(named)}")
    if tests:
        s.append(f"Groups were compared with {_list([named[t] for t in tests])}; all tests were two-sided.")
    if "hazard_ratio" in o:
        sentence = f"Effects are given as {_choice(_HR, 'hazard_ratio', o['hazard_ratio'])}"
        if str(o["hazard_ratio"]).lower() == "cox" and "conf_level" in o:
            sentence += f" at the {int(round(100 * float(o['conf_level'])))}% level"
        if str(o["hazard_ratio"]).lower() == "cox" and "ties" in o:
            sentence += f", using {_choice(_TIES, 'ties', o['ties'])}"
        s.append(sentence + ".")
    elif "ties" in o:
        s.append(f"Cox models used {_choice(_TIES, 'ties', o['ties'])}.")
    if "binomial_ci" in o:
        s.append(f"Proportions (e.g. the overall response rate) are given with "
                 f"{_choice(_BINOMIAL, 'binomial_ci', o['binomial_ci'])}.")
    if "response" in o:
        r = dict(o["response"])
        denominator = {"all_infused": "all infused patients, not evaluable and missing assessments counted as "
                                      "non-responders",
                       "evaluable": "evaluable patients only, not evaluable and missing assessments excluded"}
        s.append(f"Response was assessed at day {r['day']}; response rates ({str(r['categories']).replace('+', ', ')}) "
                 f"use as denominator {_choice(denominator, 'response denominator', r['denominator'])}.")
    if o.get("competing_risks"):
        sentence = ("Relapse and non-relapse mortality were treated as competing risks: their cumulative incidence "
                    "was estimated with the Aalen-Johansen estimator (tied times handled exactly, without jittering)")
        if isinstance(o["competing_risks"], str):
            sentence += f"; pointwise intervals used {_choice(_CONF_TYPE, 'conf_type', o['competing_risks'])}"
        s.append(sentence + ".")
    td = [str(t).lower() for t in o.get("time_dependent", ())]
    if td:
        bad = [t for t in td if t not in _TIME_DEPENDENT]
        if bad:
            raise InputError(
                f"methods_paragraph: unknown time_dependent methods {bad}; known: {sorted(_TIME_DEPENDENT)}")
        parts = [_TIME_DEPENDENT[t] for t in td]
        if "landmark" in td and "landmark_day" in o:
            parts[td.index("landmark")] += f" at day {o['landmark_day']}"
        s.append("To avoid immortal-time bias, exposures that occur after time zero (such as allogeneic HSCT) were "
                 f"analysed with {_list(parts)}.")
    if o.get("table1_tests"):
        s.append("Baseline characteristics are summarised as median (range) or n (%) and compared with Fisher's exact "
                 "test (categorical) and the Wilcoxon rank-sum or Kruskal-Wallis test (continuous).")
    if "toxicity_criteria" in o:
        s.append(f"Cytokine release syndrome and neurotoxicity were graded according to {o['toxicity_criteria']}.")
    if "icaht_criteria" in o:
        s.append("Immune effector cell-associated hematotoxicity (ICAHT) was graded from daily absolute neutrophil "
                 f"counts (ANC) according to {o['icaht_criteria']}: early ICAHT (days 0–30) by the number of days "
                 "with ANC below 500/µL and below 100/µL (grade 1, 1–6 days below 500/µL; grade 2, 7–13 days; "
                 "grade 3, 14 days or more, or 7–13 days below 100/µL; grade 4, 14 days or more below 100/µL or never "
                 "above 500/µL), and late ICAHT (after day 30) by the lowest ANC on at least two measurements "
                 "(grade 1, below 1,500/µL; grade 2, below 1,000/µL; grade 3, below 500/µL; grade 4, below 100/µL).")
    care = [str(c) for c in o.get("supportive_care", ())]
    if care:
        unknown = [c for c in care if c not in _SUPPORTIVE_CARE]
        if unknown:
            raise InputError(f"methods_paragraph: unknown supportive_care {unknown}; known: {sorted(_SUPPORTIVE_CARE)}")
        s.append(f"Use of {_list([_SUPPORTIVE_CARE[c] for c in care])} is given as the number of patients with the "
                 "item among patients for whom it was recorded.")
    if "rounding" in o:
        s.append(str(o["rounding"]))
    definition = unit_definition(str(o.get("unit", "days")).lower())
    if definition:
        s.append(definition)
    if o.get("deidentified"):
        s.append("Patient identifiers were replaced by study codes and calendar dates removed before reporting.")
    if "software" in o:
        versions = ", ".join(f"{name.replace('_', '-')} {version}" for name, version in dict(o["software"]).items())
        s.append(f"Analyses were performed with {versions}.")
    return " ".join(s)
