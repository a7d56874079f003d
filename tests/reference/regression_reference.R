# Reference values for the plan's regression and rmst sections (issue 20, items 1 and 5), on the example cohort of
# 150 patients (tests/reference/arms_cohort/patients.csv, written by tests/example_cohort.py), and the demo's
# univariable models on the seed study (examples/cd7-tall/patients.csv).
#
# * Cox: survival::coxph, univariable and multivariable; summary()'s coefficients, CIs, likelihood-ratio, Wald,
#   score and robust score tests; cox.zph (transform "km"); the joint Wald test of a 3-level factor.
# * Fine-Gray: cmprsk::crr on the complete cases; summary.crr's coefficients and CIs, the pseudo likelihood-ratio
#   test 2 (loglik - loglik.null) and the Wald test b' V^-1 b.
# * RMST: survRM2 is NOT installed on the reference machine (and there is no network): rmst1/rmst2 below are
#   written from survRM2 1.0-4's source (R/rmst1.R, R/rmst2.R of github.com/cran/survRM2: the same survfit, areas,
#   Greenwood plug-in variance, default-tau rule and contrasts), with survival's survfit underneath.
#
# Endpoints are derived here from the sheet with cart-outcomes' default rules (plan defaults: allo-HSCT and new
# therapy ignored; a best response of SD/NR/PD is a progression on the response-assessment day):
#   OS  = death (any cause) or last follow-up;
#   relapse day = the earlier of progression_day and, for non-responders, response_assessment_day;
#   PFS = the earlier of relapse and death, else last follow-up;
#   cir_status = 1 relapse first, 2 death without relapse (non-relapse mortality), 0 censored.
# The Python test runs the plan on the same sheet: identical n and events per model check that both derive alike.
#
# Run from the repository root:  Rscript tests/reference/regression_reference.R
# Writes tests/reference/regression_reference.json. Never edit the output by hand.
suppressMessages({library(survival); library(cmprsk)})
source(file.path("tests", "reference", "_json.R"))
out_dir <- file.path("tests", "reference")

d <- read.csv(file.path(out_dir, "arms_cohort", "patients.csv"), na.strings = c("", "NA"), stringsAsFactors = FALSE)
d$os_time <- ifelse(is.na(d$death_day), d$last_followup_day, d$death_day)
d$os_event <- as.integer(!is.na(d$death_day))
fail_day <- ifelse(d$best_response %in% c("SD", "NR", "PD"), d$response_assessment_day, NA)
relapse <- pmin(d$progression_day, fail_day, na.rm = TRUE)
stopifnot(all(is.na(relapse) | is.na(d$death_day) | relapse != d$death_day))  # no same-day relapse and death
first_relapse <- !is.na(relapse) & relapse <= d$os_time
d$pfs_time <- ifelse(first_relapse, relapse, d$os_time)
d$pfs_event <- as.integer(first_relapse | d$os_event == 1)
d$cir_time <- d$pfs_time
d$cir_status <- ifelse(first_relapse, 1L, ifelse(d$os_event == 1, 2L, 0L))
d$diagnosis <- relevel(factor(d$diagnosis), ref = "LBCL")
d$sex <- factor(d$sex)                      # reference F (first in sorted order)
d$car_t_source <- factor(d$car_t_source)    # reference allogeneic
d$ecog <- factor(d$ecog)                    # a numeric column the plan names categorical: reference 0

wald <- function(b, V) {
  stat <- drop(t(b) %*% solve(V) %*% b)
  list(statistic = stat, df = length(b), p = pchisq(stat, length(b), lower.tail = FALSE))
}
test_row <- function(x) list(statistic = unname(x[["test"]]), df = unname(x[["df"]]), p = unname(x[["pvalue"]]))

cox_case <- function(time, event, covariates, strata = NULL, ties = "efron", robust = FALSE, factor3 = NULL) {
  vars <- c(covariates, strata)
  cc <- d[complete.cases(d[, vars, drop = FALSE]), ]
  rhs <- paste(c(covariates, if (!is.null(strata)) sprintf("strata(%s)", strata)), collapse = " + ")
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", time, event, rhs))
  fit <- coxph(f, data = cc, ties = ties, robust = robust)
  s <- summary(fit)
  co <- s$coefficients
  se <- if (robust) co[, "robust se"] else co[, "se(coef)"]
  k <- length(coef(fit))  # summary()$waldtest is rounded to 2 digits: the Wald statistic is taken from the fit
  tests <- list(likelihood_ratio = test_row(s$logtest),
                wald = list(statistic = fit$wald.test, df = k, p = pchisq(fit$wald.test, k, lower.tail = FALSE)),
                score = test_row(s$sctest))
  if (robust) tests$robust_score <- list(statistic = as.vector(fit$rscore), df = k,
                                             p = pchisq(as.vector(fit$rscore), k, lower.tail = FALSE))
  zph <- cox.zph(fit, transform = "km")$table
  out <- list(model = "cox", n = fit$n, events = fit$nevent, term = I(rownames(co)), coef = I(unname(co[, "coef"])),
              se = I(unname(se)), p = I(unname(co[, ncol(co)])), hazard_ratio = I(unname(s$conf.int[, 1])),
              lower = I(unname(s$conf.int[, 3])), upper = I(unname(s$conf.int[, 4])), tests = tests,
              zph = list(term = I(rownames(zph)), statistic = I(unname(zph[, "chisq"])), df = I(unname(zph[, "df"])),
                         p = I(unname(zph[, "p"]))))
  if (!is.null(factor3)) {
    idx <- grep(paste0("^", factor3), names(coef(fit)))
    out$term_test <- c(list(variable = factor3), wald(coef(fit)[idx], vcov(fit)[idx, idx]))
  }
  out
}

crr_case <- function(covariates, failcode, factor3 = NULL) {
  cc <- d[complete.cases(d[, covariates, drop = FALSE]), ]
  m <- model.matrix(as.formula(paste("~", paste(covariates, collapse = " + "))), cc)[, -1, drop = FALSE]
  fit <- crr(cc$cir_time, cc$cir_status, m, failcode = failcode, cencode = 0)
  s <- summary(fit)
  co <- s$coef
  lr <- 2 * (fit$loglik - fit$loglik.null)
  out <- list(model = "fine-gray", n = fit$n, events = sum(cc$cir_status == failcode), term = I(colnames(m)),
              coef = I(unname(co[, "coef"])), se = I(unname(co[, "se(coef)"])),
              p = I(unname(2 * pnorm(-abs(co[, "z"])))),  # summary.crr rounds its p-values (signif)
              hazard_ratio = I(unname(s$conf.int[, 1])), lower = I(unname(s$conf.int[, 3])),
              upper = I(unname(s$conf.int[, 4])),
              tests = list(pseudo_likelihood_ratio = list(statistic = lr, df = ncol(m),
                                                          p = pchisq(lr, ncol(m), lower.tail = FALSE)),
                           wald = wald(fit$coef, fit$var)))
  if (!is.null(factor3)) {
    idx <- grep(paste0("^", factor3), colnames(m))
    out$term_test <- c(list(variable = factor3), wald(fit$coef[idx], fit$var[idx, idx]))
  }
  out
}

os_covs <- c("age_years", "sex", "diagnosis", "ldh")
models <- list()
for (v in os_covs) {
  models[[paste0("os_cox/univariable/", v)]] <- cox_case("os_time", "os_event", v,
                                                         factor3 = if (v == "diagnosis") "diagnosis")
}
models[["os_cox/multivariable"]] <- cox_case("os_time", "os_event", os_covs, factor3 = "diagnosis")
for (v in c("age_years", "diagnosis")) {
  models[[paste0("cir_finegray/univariable/", v)]] <- crr_case(v, 1, factor3 = if (v == "diagnosis") "diagnosis")
}
models[["cir_finegray/multivariable"]] <- crr_case(c("age_years", "diagnosis"), 1, factor3 = "diagnosis")
models[["nrm_finegray/multivariable"]] <- crr_case(c("age_years", "diagnosis"), 2, factor3 = "diagnosis")
# cause-specific Cox of relapse: the competing deaths censor
d$relapse_event <- as.integer(d$cir_status == 1)
models[["cir_cox/multivariable"]] <- cox_case("cir_time", "relapse_event", c("age_years", "diagnosis"),
                                              factor3 = "diagnosis")
# Breslow ties, strata and the robust variance
for (v in c("ecog", "car_t_source")) {
  models[[paste0("pfs_cox/univariable/", v)]] <- cox_case("pfs_time", "pfs_event", v, strata = "sex", ties = "breslow",
                                                          robust = TRUE, factor3 = if (v == "ecog") "ecog")
}
models[["pfs_cox/multivariable"]] <- cox_case("pfs_time", "pfs_event", c("ecog", "car_t_source"), strata = "sex",
                                              ties = "breslow", robust = TRUE, factor3 = "ecog")

# ---- survRM2::rmst2 (unadjusted), written from survRM2 1.0-4's R/rmst1.R and R/rmst2.R ---------------------------
rmst1 <- function(time, status, tau, alpha) {
  ft <- survfit(Surv(time, status) ~ 1)
  idx <- ft$time <= tau
  wk.time <- sort(c(ft$time[idx], tau))
  wk.surv <- ft$surv[idx]
  wk.n.risk <- ft$n.risk[idx]
  wk.n.event <- ft$n.event[idx]
  areas <- diff(c(0, wk.time)) * c(1, wk.surv)
  rmst <- sum(areas)
  wk.var <- ifelse((wk.n.risk - wk.n.event) == 0, 0, wk.n.event / (wk.n.risk * (wk.n.risk - wk.n.event)))
  wk.var <- c(wk.var, 0)
  rmst.var <- sum(cumsum(rev(areas[-1]))^2 * rev(wk.var)[-1])
  se <- sqrt(rmst.var)
  z <- qnorm(1 - alpha / 2)
  list(rmst = c(rmst, se, rmst - z * se, rmst + z * se),
       rmtl = c(tau - rmst, se, tau - (rmst + z * se), tau - (rmst - z * se)), var = rmst.var)
}
rmst2_tau <- function(time, status, arm) {  # survRM2's four cases: the largest tau allowed, the default
  tt0max <- max(time[arm == 0]); ss0max <- min(status[arm == 0][time[arm == 0] == tt0max])
  tt1max <- max(time[arm == 1]); ss1max <- min(status[arm == 1][time[arm == 1] == tt1max])
  larger <- (ss0max == 1 & ss1max == 1) | (ss0max == 0 & ss1max == 1 & tt0max >= tt1max) |
    (ss0max == 1 & ss1max == 0 & tt1max > tt0max)
  if (larger) max(tt0max, tt1max) else min(tt0max, tt1max)
}
rmst2 <- function(time, status, arm, tau = NULL, alpha = 0.05) {
  limit <- rmst2_tau(time, status, arm)
  if (is.null(tau)) tau <- limit
  stopifnot(tau <= limit)
  wk1 <- rmst1(time[arm == 1], status[arm == 1], tau, alpha)
  wk0 <- rmst1(time[arm == 0], status[arm == 0], tau, alpha)
  z <- qnorm(1 - alpha / 2)
  contrast <- function(est, se, log) {
    p <- pnorm(-abs(est) / se) * 2
    if (log) c(exp(est), exp(est - z * se), exp(est + z * se), p) else c(est, est - z * se, est + z * se, p)
  }
  result <- rbind(
    contrast(wk1$rmst[1] - wk0$rmst[1], sqrt(wk1$var + wk0$var), FALSE),
    contrast(log(wk1$rmst[1]) - log(wk0$rmst[1]), sqrt(wk1$var / wk1$rmst[1]^2 + wk0$var / wk0$rmst[1]^2), TRUE),
    contrast(log(wk1$rmtl[1]) - log(wk0$rmtl[1]), sqrt(wk1$var / wk1$rmtl[1]^2 + wk0$var / wk0$rmtl[1]^2), TRUE))
  list(tau = tau, contrasts = result, arm0 = c(wk0$rmst, wk0$rmtl), arm1 = c(wk1$rmst, wk1$rmtl))
}
rmst <- list()
# OS by CAR-T source, arm 1 = autologous, tau = 12 months of 30.4375 days (the plan says 12 in months)
rmst[["os_car_t_source"]] <- rmst2(d$os_time, d$os_event, as.integer(d$car_t_source == "autologous"),
                                   tau = 12 * 30.4375)
# PFS by sex (patients without sex left out), arm 1 = M, survRM2's default tau
ds <- d[!is.na(d$sex), ]
rmst[["pfs_sex"]] <- c(rmst2(ds$pfs_time, ds$pfs_event, as.integer(ds$sex == "M")), list(n = nrow(ds)))

# ---- the demo (seed study, 12 patients): univariable Cox models of OS, as examples/cd7-tall/study.yaml asks ------
d <- read.csv(file.path("examples", "cd7-tall", "patients.csv"), na.strings = c("", "NA"), stringsAsFactors = FALSE)
d$os_time <- ifelse(is.na(d$death_day), d$last_followup_day, d$death_day)
d$os_event <- as.integer(!is.na(d$death_day))
d$sex <- factor(d$sex)              # reference F
d$diagnosis <- factor(d$diagnosis)  # reference T-ALL
demo <- list()
for (v in c("age_years", "sex", "diagnosis")) demo[[paste0("os_cox/univariable/", v)]] <- cox_case("os_time", "os_event", v)

writeLines(json(list(versions = versions(), models = models, rmst = rmst, demo = demo)),
           file.path(out_dir, "regression_reference.json"))
