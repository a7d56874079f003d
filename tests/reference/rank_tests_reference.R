# Reference values for cart_outcomes.stats.rank_tests (wilcoxon_rank_sum, kruskal_wallis, spearman).
# Regenerate from the repository root with:   Rscript tests/reference/rank_tests_reference.R
# Writes tests/reference/rank_tests_reference.json. Base R only (stats::wilcox.test, kruskal.test, cor.test).
# Every case stores its data (17 significant digits; NA as null), the arguments, R's results and R's warnings.
source(file.path("tests", "reference", "_json.R"))
arr <- function(x) I(as.numeric(x))  # force a JSON array even for length 1
set.seed(20240808)

# warnings R raised, so the test can check which ones cart-outcomes raises (only where it promises to)
with_warnings <- function(expr) {
  msgs <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = msgs)
}

# ---------------------------------------------------------------- Wilcoxon rank sum
wcase <- function(name, x, y, alternative = "two.sided", exact = NULL, correct = TRUE, conf.level = NULL) {
  ci <- !is.null(conf.level)
  w <- with_warnings(wilcox.test(x, y, alternative = alternative, exact = exact, correct = correct,
                                 conf.int = ci, conf.level = if (ci) conf.level else 0.95))
  r <- w$value
  list(name = name, x = arr(x), y = arr(y), alternative = alternative, exact = exact, correct = correct,
       conf_level = conf.level, statistic = unname(r$statistic), p_value = r$p.value, method = r$method,
       estimate = if (ci) unname(r$estimate) else NULL,
       conf_int = if (ci) arr(r$conf.int) else NULL,  # an infinite limit is written as null
       reported_conf_level = if (ci) attr(r$conf.int, "conf.level") else NULL,
       r_warnings = I(w$warnings))
}
x9 <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30)
y9 <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29)
a <- round(rnorm(7), 6); b <- round(rnorm(11, 0.8), 6)
big_x <- rnorm(60); big_y <- rnorm(55, 0.4)
tied_x <- round(rnorm(30, 10, 3)); tied_y <- round(rnorm(25, 12, 3))
wilcoxon <- list(
  wcase("exact_two_sided_ci", a, b, conf.level = 0.95),
  wcase("exact_less_ci90", a, b, alternative = "less", conf.level = 0.9),
  wcase("exact_greater_ci", a, b, alternative = "greater", conf.level = 0.95),
  wcase("exact_one_vs_ten", 3.5, c(1, 2, 4, 5, 6, 7, 8, 9, 10, 11)),
  wcase("exact_separated_tail", 1:20 + 0.5, 21:45, conf.level = 0.99),
  wcase("exact_level_not_achievable", c(1.1, 2.2, 3.3), c(4.4, 5.5, 6.6), conf.level = 0.95),
  wcase("exact_false_small", a, b, exact = FALSE, conf.level = 0.95),
  wcase("exact_false_no_correction", a, b, exact = FALSE, correct = FALSE, alternative = "greater"),
  wcase("ties_two_sided_ci", x9, y9, conf.level = 0.95),
  wcase("ties_less_ci", x9, y9, alternative = "less", conf.level = 0.95),
  wcase("ties_greater_no_correction_ci", x9, y9, alternative = "greater", correct = FALSE, conf.level = 0.9),
  wcase("ties_exact_true_requested", x9, y9, exact = TRUE),
  wcase("ties_larger_integer_scores", tied_x, tied_y, conf.level = 0.95),
  wcase("n_at_least_50_two_sided_ci", big_x, big_y, conf.level = 0.95),
  wcase("n_at_least_50_less", big_x, big_y, alternative = "less"),
  wcase("n_at_least_50_exact_true", big_x, big_y[1:20], exact = TRUE, conf.level = 0.95),
  wcase("normal_extreme_tail", 1:60 + 0.5, 61:120),
  wcase("missing_values_dropped", c(a, NA, NaN), c(NA, b), conf.level = 0.95)
)

# ---------------------------------------------------------------- Kruskal-Wallis
kcase <- function(name, values, groups) {
  r <- kruskal.test(values, factor(groups))
  list(name = name, values = arr(values), groups = I(as.character(groups)), statistic = unname(r$statistic),
       df = unname(r$parameter), p_value = r$p.value, method = r$method)
}
kw_g4 <- rep(c("A", "B", "C", "D"), c(4, 7, 5, 9))
kw_g5 <- rep(c("g1", "g2", "g3", "g4", "g5"), c(6, 3, 8, 5, 4))
kw5_values <- round(rnorm(26, rep(c(0, 0.5, 1, 0.2, 2), c(6, 3, 8, 5, 4))), 1)
kw5_values[c(3, 17)] <- NA
kw_g5_na <- kw_g5; kw_g5_na[c(9, 20)] <- NA
kruskal <- list(
  kcase("three_groups_ties", c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8), rep(c("a", "b", "c"), 4)),
  kcase("four_groups_unequal_no_ties", rnorm(25, rep(c(0, 1, 0.5, 2), c(4, 7, 5, 9))), kw_g4),
  kcase("five_groups_ties_missing", kw5_values, kw_g5_na),
  kcase("two_groups", c(x9, y9), rep(c("x", "y"), each = 9))
)

# ---------------------------------------------------------------- Spearman
scase <- function(name, x, y, exact = NULL, store_data = TRUE) {
  p <- list(); warned <- character(0)
  for (alt in c("two.sided", "less", "greater")) {
    w <- with_warnings(cor.test(x, y, method = "spearman", alternative = alt, exact = exact))
    p[[alt]] <- w$value$p.value
    warned <- unique(c(warned, w$warnings))
  }
  list(name = name, x = if (store_data) arr(x) else NULL, y = if (store_data) arr(y) else NULL, exact = exact,
       rho = unname(w$value$estimate), statistic = unname(w$value$statistic), p_value = p,
       method = w$value$method, r_warnings = I(warned))
}
correlated <- function(n, strength) { u <- rnorm(n); list(u, strength * u + rnorm(n)) }
spearman <- list()
for (n in 3:9) {  # exact enumeration
  d <- correlated(n, 1)
  spearman[[length(spearman) + 1]] <- scase(sprintf("exact_n%d", n), d[[1]], d[[2]])
}
spearman[[length(spearman) + 1]] <- scase("exact_n9_strong_negative", 1:9, c(9, 8, 7, 5, 6, 4, 3, 1, 2) + 0.5)
for (n in c(10, 12, 15, 20, 25, 30)) {  # Edgeworth series
  d <- correlated(n, 0.6)
  spearman[[length(spearman) + 1]] <- scase(sprintf("edgeworth_n%d", n), d[[1]], d[[2]])
}
big_x <- sample(1300); big <- list(big_x, rank(big_x + rnorm(1300, sd = 6000)))  # integer ranks: a small file
spearman <- c(spearman, list(
  scase("edgeworth_n30_strong", 1:30, 1:30 + rnorm(30, sd = 2)),
  scase("t_approx_n1300", big[[1]], big[[2]]),
  scase("edgeworth_n1290_boundary", big[[1]][1:1290], big[[2]][1:1290]),
  scase("ties_t_approx", c(1, 2, 2, 3, 4, 4, 4, 5, 6, 7, 8, 8), c(2, 1, 3, 3, 5, 4, 6, 6, 8, 7, 9, 9)),
  scase("ties_exact_true_requested", c(1, 2, 2, 3, 4, 5, 6), c(1, 3, 2, 4, 6, 5, 7), exact = TRUE),
  scase("exact_false_t_approx", c(0.3, 1.2, 0.7, 2.2, 1.9, 3.1, 2.8), c(1, 2, 4, 3, 6, 7, 5), exact = FALSE),
  scase("perfect_positive_exact", c(2.5, 3.1, 4.7, 5.2, 8.8, 9.9, 10.1), 1:7),
  scase("perfect_negative_edgeworth", 1:15, -(1:15)^2),
  scase("perfect_with_ties_t", c(1, 1, 2, 3, 4, 5, 6, 7), c(10, 10, 20, 30, 40, 50, 60, 70)),
  scase("missing_pairs_dropped", c(1.5, NA, 2.5, 3.1, 0.2, 4.4, NaN, 5.0, 2.0, 3.9),
        c(2.0, 1.0, NA, 3.3, 0.1, 4.0, 2.2, 6.1, 1.1, 3.0))
))

out <- list(r_version = R.version.string, wilcoxon = wilcoxon, kruskal = kruskal, spearman = spearman)
writeLines(json(out), file.path("tests", "reference", "rank_tests_reference.json"))
