# Reference values for cart_outcomes.stats.logrank (log-rank family).
# Regenerate from the repository root with:   Rscript tests/reference/logrank_reference.R
# Writes tests/reference/logrank_reference.json. Needs only base R + survival (no jsonlite: the writer in _json.R).
#
# Sources of the expected values:
#  * survdiff(rho = 0 / 1 / 0.5, with and without strata): R survival itself.
#  * Gehan-Breslow, Tarone-Ware and Fleming-Harrington(p, q) weights are not in survdiff, so `wlr()` below computes
#    the weighted statistic by hand, one distinct event time at a time (pooled within-stratum risk sets and the
#    pooled within-stratum Kaplan-Meier S(t-)); the script checks that `wlr()` reproduces survdiff for rho = 0 and 1
#    before trusting it for the other weights.
#  * Trend test: chi2 = (s'(O - E))^2 / (s' V s) computed from survdiff's obs, exp and var.
#  * Prism hazard ratios: the O, E and V of survdiff, turned into HRs with the GraphPad formulas.
#  * Exact permutation test: brute force, survdiff over every combn() relabelling.
suppressPackageStartupMessages(library(survival))
options(warn = 1)

out_file <- file.path("tests", "reference", "logrank_reference.json")

source(file.path("tests", "reference", "_json.R"))
arr <- function(x) I(x)  # force a JSON array even for length 1

# ---------------------------------------------------------------- hand-computed weighted log-rank
wlr <- function(time, status, group, strata = NULL, weight = c("fh", "gb", "tw"), p = 0, q = 0) {
  weight <- match.arg(weight)
  group <- factor(group)
  k <- nlevels(group)
  if (is.null(strata)) strata <- rep(1, length(time))
  O <- E <- numeric(k)
  V <- matrix(0, k, k)
  for (s in unique(strata)) {
    sel <- strata == s
    t <- time[sel]; d <- status[sel]; g <- group[sel]
    S <- 1  # pooled (within-stratum) Kaplan-Meier just before the current time
    for (tt in sort(unique(t[d == 1]))) {
      nk <- as.numeric(table(g[t >= tt]))
      dk <- as.numeric(table(g[t == tt & d == 1]))
      n <- sum(nk); dd <- sum(dk)
      w <- switch(weight, fh = S^p * (1 - S)^q, gb = n, tw = sqrt(n))
      O <- O + w * dk
      E <- E + w * dd * nk / n
      if (n > 1) V <- V + w^2 * dd * (n - dd) / (n * (n - 1)) * (diag(nk, k) - outer(nk, nk) / n)
      S <- S * (1 - dd / n)
    }
  }
  keep <- E > 0
  chisq <- if (sum(keep) < 2) 0 else {
    oe <- ((O - E)[keep])[-1]
    vv <- (V[keep, keep])[-1, -1, drop = FALSE]
    sum(solve(vv, oe) * oe)
  }
  df <- sum(keep) - 1
  list(observed = O, expected = E, var = V, chisq = chisq, df = df, p_value = pchisq(chisq, df, lower.tail = FALSE))
}

sd_result <- function(fit) {
  o <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  e <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  df <- sum(e > 0) - 1
  list(groups = arr(names(fit$n)), n = arr(as.numeric(fit$n)), observed = arr(o), expected = arr(e),
       var = fit$var, chisq = fit$chisq, df = df, p_value = pchisq(fit$chisq, df, lower.tail = FALSE))
}

check_same <- function(a, b, what) {
  ok <- isTRUE(all.equal(a$chisq, b$chisq, tolerance = 1e-12)) &&
    isTRUE(all.equal(as.numeric(a$observed), as.numeric(b$observed), tolerance = 1e-12)) &&
    isTRUE(all.equal(as.numeric(a$expected), as.numeric(b$expected), tolerance = 1e-12)) &&
    isTRUE(all.equal(unname(as.matrix(a$var)), unname(as.matrix(b$var)), tolerance = 1e-12))
  if (!ok) stop("hand-computed weighted log-rank disagrees with survdiff: ", what)
}

trend <- function(fit, scores) {
  o <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  e <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  u <- sum(scores * (o - e))
  v <- as.numeric(t(scores) %*% fit$var %*% scores)
  list(scores = arr(scores), u = u, v = v, chisq = u^2 / v, df = 1, p_value = pchisq(u^2 / v, 1, lower.tail = FALSE))
}

# ---------------------------------------------------------------- data sets
cases <- list()
add_case <- function(name, df, strata_col = NULL, trend_scores = NULL, hr = FALSE) {
  f <- if (is.null(strata_col)) Surv(time, event) ~ group else
    as.formula(paste("Surv(time, event) ~ group + strata(", strata_col, ")"))
  st <- if (is.null(strata_col)) NULL else df[[strata_col]]
  res <- list(data = list(time = df$time, event = df$event, group = as.character(df$group)))
  if (!is.null(strata_col)) res$data$strata <- as.character(st)
  res$strata_column <- strata_col
  fits <- list()
  for (rho in c(0, 0.5, 1)) {
    fit <- survdiff(f, data = df, rho = rho)
    fits[[as.character(rho)]] <- fit
    r <- sd_result(fit)
    if (rho %in% c(0, 1)) check_same(r, wlr(df$time, df$event, df$group, st, "fh", p = rho), paste(name, rho))
    res[[paste0("survdiff_rho_", rho)]] <- r
  }
  res$gehan_breslow <- wlr(df$time, df$event, df$group, st, "gb")
  res$tarone_ware <- wlr(df$time, df$event, df$group, st, "tw")
  res$fleming_harrington_1_1 <- wlr(df$time, df$event, df$group, st, "fh", p = 1, q = 1)
  res$fleming_harrington_0_1 <- wlr(df$time, df$event, df$group, st, "fh", p = 0, q = 1)
  for (nm in c("gehan_breslow", "tarone_ware", "fleming_harrington_1_1", "fleming_harrington_0_1")) {
    res[[nm]]$observed <- arr(res[[nm]]$observed); res[[nm]]$expected <- arr(res[[nm]]$expected)
  }
  if (!is.null(trend_scores)) res$trend <- trend(fits[["0"]], trend_scores)
  if (hr) {  # GraphPad Prism formulas; group 2 (second level) vs group 1 (first level, the reference)
    fit <- fits[["0"]]
    o <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
    e <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
    v <- fit$var[2, 2]; z <- qnorm(0.975)
    hr_lr <- (o[2] / e[2]) / (o[1] / e[1]); se_lr <- sqrt(1 / e[1] + 1 / e[2])
    hr_mh <- exp((o[2] - e[2]) / v)
    res$hazard_ratio <- list(
      logrank = list(hr = hr_lr, lower = exp(log(hr_lr) - z * se_lr), upper = exp(log(hr_lr) + z * se_lr)),
      mantel_haenszel = list(hr = hr_mh, lower = exp((o[2] - e[2]) / v - z / sqrt(v)),
                             upper = exp((o[2] - e[2]) / v + z / sqrt(v))))
  }
  cases[[name]] <<- res
}

lung_df <- data.frame(time = lung$time, event = as.integer(lung$status == 2),
                      group = factor(lung$sex, levels = 1:2, labels = c("male", "female")),
                      inst = lung$inst, ecog = lung$ph.ecog)
add_case("lung_sex", lung_df, hr = TRUE)
ecog_df <- lung_df[!is.na(lung_df$ecog), ]
ecog_df$group <- factor(ecog_df$ecog)
add_case("lung_ecog", ecog_df, trend_scores = c(0, 1, 2, 3))
inst_df <- lung_df[!is.na(lung_df$inst), ]
add_case("lung_sex_strata_inst", inst_df, strata_col = "inst", hr = TRUE)

set.seed(20251125)
n <- 60
ties_df <- data.frame(time = sample(1:6, n, replace = TRUE), event = rbinom(n, 1, 0.7),
                      group = factor(sample(c("a", "b", "c"), n, replace = TRUE)))
ties_df$stratum <- ifelse(seq_len(n) %% 3 == 0, "s1", "s2")
add_case("heavy_ties_k3", ties_df, trend_scores = c(1, 2, 3))
add_case("heavy_ties_k3_strata", ties_df, strata_col = "stratum", trend_scores = c(1, 2, 3))

# group c has no events (but is at risk, so its expected count is positive)
noev_df <- data.frame(time = c(2, 3, 3, 5, 8, 9, 1, 4, 4, 6, 7, 10, 3, 6, 9, 11),
                      event = c(1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0),
                      group = factor(rep(c("a", "b", "c"), c(6, 6, 4))))
add_case("group_without_events", noev_df, trend_scores = c(1, 2, 3))

# group c leaves before the first event: expected 0, so R drops it from the test and the degrees of freedom
zero_exp_df <- data.frame(time = c(2, 3, 5, 8, 1, 4, 6, 7, 0.5, 0.5),
                          event = c(1, 1, 1, 0, 1, 1, 0, 1, 0, 0),
                          group = factor(rep(c("a", "b", "c"), c(4, 4, 2))))
add_case("group_with_zero_expected", zero_exp_df)

# events at time 0
t0_df <- data.frame(time = c(0, 0, 1, 2, 2, 4, 0, 1, 3, 3, 5, 6),
                    event = c(1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0),
                    group = factor(rep(c("x", "y"), each = 6)))
add_case("time_zero_events", t0_df, hr = TRUE)

# ---------------------------------------------------------------- exact permutation test by brute force
exact_case <- function(df) {
  n <- nrow(df); lev <- levels(df$group); n2 <- sum(df$group == lev[2])
  oe_of <- function(g) {
    fit <- survdiff(Surv(time, event) ~ g, data = data.frame(time = df$time, event = df$event,
                                                               g = factor(g, levels = lev)))
    c(fit$obs[2] - fit$exp[2], fit$chisq)
  }
  obs <- oe_of(df$group)
  cmb <- combn(n, n2)
  all <- t(apply(cmb, 2, function(idx) { g <- rep(lev[1], n); g[idx] <- lev[2]; oe_of(g) }))
  tol <- 1e-7
  list(data = list(time = df$time, event = df$event, group = as.character(df$group)),
       o_minus_e = unname(obs[1]), chisq = unname(obs[2]), n_relabellings = ncol(cmb),
       p_value_abs_o_minus_e = mean(abs(all[, 1]) >= abs(obs[1]) - tol),
       p_value_chisq = mean(all[, 2] >= obs[2] - tol),
       p_value_asymptotic = pchisq(obs[2], 1, lower.tail = FALSE),
       all_o_minus_e = sort(unname(all[, 1])))
}
exact <- list(
  five_vs_three = exact_case(data.frame(time = c(45, 120, 200, 310, 400, 30, 60, 90),
                                        event = c(1, 0, 1, 0, 0, 1, 1, 0),
                                        group = factor(rep(c("A", "B"), c(5, 3))))),
  ties_ten = exact_case(data.frame(time = c(1, 2, 2, 3, 4, 2, 2, 3, 5, 5),
                                   event = c(1, 1, 0, 1, 0, 1, 1, 1, 0, 1),
                                   group = factor(rep(c("A", "B"), c(4, 6))))),
  fourteen = exact_case(data.frame(time = c(3, 8, 8, 12, 15, 20, 26, 4, 6, 6, 9, 10, 14, 30),
                                   event = c(1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0),
                                   group = factor(rep(c("ctl", "trt"), c(7, 7)))))
)

ref <- list(
  generated_by = "tests/reference/logrank_reference.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  cases = cases,
  exact = exact
)
writeLines(json(ref), out_file)
cat("wrote", out_file, "\n")
cat("lung sex: chisq", cases$lung_sex$survdiff_rho_0$chisq, "rho=1", cases$lung_sex$survdiff_rho_1$chisq,
    "GB", cases$lung_sex$gehan_breslow$chisq, "TW", cases$lung_sex$tarone_ware$chisq, "\n")
print(unlist(cases$lung_sex$hazard_ratio))
for (nm in names(exact)) cat(nm, unlist(exact[[nm]][c("o_minus_e", "p_value_abs_o_minus_e", "p_value_chisq")]), "\n")
