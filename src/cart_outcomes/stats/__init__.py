"""Statistics with numbers identical to R: survival (``survival``/``cmprsk``), proportions and rank tests.

Nothing here knows about CAR-T: functions take a DataFrame plus column names (or arrays), or event counts (rows
collapsed to distinct cells, from :func:`event_counts` or :mod:`cart_outcomes.engine`), and return frozen results.
"""

from cart_outcomes.stats._counts import EventCounts, event_counts
from cart_outcomes.stats._cox_counts import CoxCountsResult, cox_counts
from cart_outcomes.stats.competing import (
    CumulativeIncidence,
    FineGray,
    GrayTest,
    cumulative_incidence,
    fine_gray,
    gray_test,
)
from cart_outcomes.stats.cox import CoxResult, PHTest, cox_ph
from cart_outcomes.stats.finegray import finegray
from cart_outcomes.stats.km import (
    KaplanMeier,
    ReverseKMFollowup,
    RMSTComparison,
    at_risk_table,
    compare_rmst,
    kaplan_meier,
    reverse_km_followup,
)
from cart_outcomes.stats.logrank import (
    ExactLogrankResult,
    LogrankHazardRatio,
    LogrankResult,
    TrendTestResult,
    exact_logrank_test,
    hazard_ratio_logrank,
    logrank_test,
    logrank_trend_test,
)
from cart_outcomes.stats.multiplicity import PairwiseTests, p_adjust, pairwise_gray_test, pairwise_logrank_test
from cart_outcomes.stats.proportions import (
    BinomialCI,
    BinomialTest,
    FisherExact,
    binomial_ci,
    binomial_test,
    fisher_exact,
)
from cart_outcomes.stats.rank_tests import (
    KruskalWallis,
    RankSumTest,
    SpearmanTest,
    kruskal_wallis,
    spearman,
    wilcoxon_rank_sum,
)
from cart_outcomes.stats.timedep import (
    Landmark,
    MantelByar,
    SimonMakuch,
    landmark,
    mantel_byar,
    simon_makuch,
    split_at_exposure,
)

__all__: list[str] = [
    "BinomialCI",
    "BinomialTest",
    "CoxCountsResult",
    "CoxResult",
    "CumulativeIncidence",
    "EventCounts",
    "ExactLogrankResult",
    "FineGray",
    "FisherExact",
    "GrayTest",
    "KaplanMeier",
    "KruskalWallis",
    "Landmark",
    "LogrankHazardRatio",
    "LogrankResult",
    "MantelByar",
    "PairwiseTests",
    "PHTest",
    "RankSumTest",
    "RMSTComparison",
    "ReverseKMFollowup",
    "SimonMakuch",
    "SpearmanTest",
    "TrendTestResult",
    "at_risk_table",
    "compare_rmst",
    "binomial_ci",
    "binomial_test",
    "cox_counts",
    "cox_ph",
    "cumulative_incidence",
    "event_counts",
    "exact_logrank_test",
    "fine_gray",
    "finegray",
    "fisher_exact",
    "gray_test",
    "hazard_ratio_logrank",
    "kaplan_meier",
    "kruskal_wallis",
    "landmark",
    "logrank_test",
    "logrank_trend_test",
    "mantel_byar",
    "p_adjust",
    "pairwise_gray_test",
    "pairwise_logrank_test",
    "reverse_km_followup",
    "simon_makuch",
    "spearman",
    "split_at_exposure",
    "wilcoxon_rank_sum",
]
