# Reference values for cart_outcomes.stats.competing (cumulative_incidence, gray_test, fine_gray).
# Regenerate from the repository root with:   Rscript tests/reference/competing_reference.R
# Writes tests/reference/competing_reference.json (data included, so the Python tests never need R).
#
#  * mgus2 (survival): time to PCM or death, PCM = cause 1, death before PCM = cause 2.
#  * tied: 60 rows, integer times 1..12 (heavy ties of both causes and censorings), 3 groups, 2 strata.
#  * tiny: 6 rows whose last time is an event of everyone still at risk (all-cause KM drops to 0).
# Estimates/SEs/CIs: survfit(Surv(time, factor(event)) ~ group) (multi-state, infinitesimal jackknife) with
# conf.type "log" (default) and "log-log"; cmprsk::cuminc estimates and var via timepoints(); Gray's test from
# cuminc (rho 0 and 1, with and without strata); crr coefficients/var/loglik; finegray() + coxph for comparison.
suppressPackageStartupMessages({ library(survival); library(cmprsk) })
source(file.path("tests", "reference", "_json.R"))
out_file <- file.path("tests", "reference", "competing_reference.json")

mg <- mgus2
mg$etime <- with(mg, ifelse(pstat == 0, futime, ptime))
mg$event <- with(mg, ifelse(pstat == 0, 2 * death, 1))
mg <- mg[, c("etime", "event", "sex", "age", "hgb")]

set.seed(20261125)
tied <- data.frame(
  time = sample(1:12, 60, replace = TRUE),
  event = sample(0:2, 60, replace = TRUE, prob = c(0.3, 0.4, 0.3)),
  group = sample(c("A", "B", "C"), 60, replace = TRUE),
  strata = sample(c("x", "y"), 60, replace = TRUE),
  x = round(rnorm(60), 2)
)
tiny <- data.frame(time = c(1, 2, 2, 3, 3, 4), event = c(1, 2, 0, 1, 2, 1))

survfit_ms <- function(d, by = NULL) {
  res <- list()
  groups <- if (is.null(by)) "all" else sort(unique(d[[by]]))
  for (g in groups) {
    dd <- if (is.null(by)) d else d[d[[by]] == g, ]
    f <- survfit(Surv(time, factor(event)) ~ 1, data = dd)
    fll <- survfit(Surv(time, factor(event)) ~ 1, data = dd, conf.type = "log-log")
    for (k in seq_along(f$states)[-1]) {
      res[[length(res) + 1]] <- list(
        group = g, cause = f$states[k], time = I(f$time), n_risk = I(f$n.risk[, 1]),
        n_event = I(f$n.event[, k]), estimate = I(f$pstate[, k]), std_err = I(f$std.err[, k]),
        lower = I(f$lower[, k]), upper = I(f$upper[, k]),
        lower_loglog = I(fll$lower[, k]), upper_loglog = I(fll$upper[, k])
      )
    }
  }
  res
}

cuminc_at <- function(d, by = NULL) {
  times <- sort(unique(d$time))
  ci <- if (is.null(by)) cuminc(d$time, d$event) else cuminc(d$time, d$event, d[[by]])
  tp <- timepoints(ci, times)
  list(times = I(times), curves = I(rownames(tp$est)), est = tp$est, var = tp$var)
}

gray <- function(d, rho = 0, strata = FALSE) {
  ci <- if (strata) cuminc(d$time, d$event, d$group, d$strata, rho = rho) else
    cuminc(d$time, d$event, d$group, rho = rho)
  t <- ci$Tests
  list(rho = rho, strata = strata, cause = I(rownames(t)), statistic = I(t[, "stat"]), p = I(t[, "pv"]),
       df = I(t[, "df"]))
}

crr_fit <- function(d, formula, failcode) {
  m <- model.matrix(formula, d)[, -1, drop = FALSE]
  f <- crr(d$time, d$event, m, failcode = failcode)
  fg <- finegray(Surv(time, factor(event)) ~ ., data = d, etype = as.character(failcode))
  rhs <- paste(attr(terms(formula), "term.labels"), collapse = " + ")
  cx <- coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", rhs)), data = fg, weights = fgwt)
  list(failcode = failcode, terms = I(colnames(m)), coef = I(unname(f$coef)), se = I(sqrt(diag(f$var))),
       var = f$var, loglik = f$loglik, loglik_null = f$loglik.null, converged = f$converged, n = f$n,
       finegray_coxph_coef = I(unname(coef(cx))))
}

mg_t <- data.frame(time = mg$etime, event = mg$event, sex = mg$sex, age = mg$age, hgb = mg$hgb)
mg_cc <- na.omit(mg_t)
out <- list(
  versions = versions(),
  data = list(
    mgus2 = list(time = I(mg_t$time), event = I(mg_t$event), sex = I(as.character(mg_t$sex)), age = I(mg_t$age),
                 hgb = I(mg_t$hgb)),
    tied = as.list(tied),
    tiny = as.list(tiny)
  ),
  survfit = list(
    mgus2 = survfit_ms(mg_t),
    mgus2_by_sex = survfit_ms(transform(mg_t, group = as.character(sex)), "group"),
    tied_by_group = survfit_ms(tied, "group"),
    tiny = survfit_ms(tiny)
  ),
  cuminc = list(
    mgus2 = cuminc_at(mg_t),
    tied_by_group = cuminc_at(tied, "group"),
    tiny = cuminc_at(tiny)
  ),
  gray = list(
    mgus2_sex = gray(transform(mg_t, group = as.character(sex))),
    tied = gray(tied),
    tied_rho1 = gray(tied, rho = 1),
    tied_strata = gray(tied, strata = TRUE)
  ),
  crr = list(
    mgus2_cause1 = crr_fit(mg_cc, ~ sex + age + hgb, 1),
    mgus2_cause2 = crr_fit(mg_cc, ~ sex + age + hgb, 2),
    tied_cause1 = crr_fit(tied, ~ group + x, 1)
  )
)
writeLines(json(out), out_file)
cat("wrote", out_file, "\n")
