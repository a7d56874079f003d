# Reference values for the CD7 CAR-T seed cohort (examples/cd7-tall/patients.csv), computed with R survival.
#
# Regenerate from the repository root:  Rscript tests/reference/seed_study.R
# Writes tests/reference/seed_study.json (never edit it by hand).
#
# Endpoint definitions (derived here independently of the Python code, from the raw day columns):
#   OS  : death (any cause) from infusion (day 0); censored at last_followup_day.
#   PFS : first of progression_day, death_day, and for non-responders (best_response not CR/CRi/CRh/PR) the
#         response_assessment_day; censored at last_followup_day; HSCT not censored (naive analysis of the paper).
#   Responders = day28_response in CR/CRi/CRh/PR; "HSCT" = allo-HSCT at any time (the paper's naive grouping).
suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- normalizePath(file.path(dirname(script), "..", ".."))
source(file.path(root, "tests", "reference", "_json.R"))
d <- read.csv(file.path(root, "examples", "cd7-tall", "patients.csv"), stringsAsFactors = FALSE, na.strings = "")

resp_set <- c("CR", "CRi", "CRh", "PR")
d$os_time <- ifelse(is.na(d$death_day), d$last_followup_day, d$death_day)
d$os_event <- as.integer(!is.na(d$death_day))
nr_day <- ifelse(d$best_response %in% resp_set, NA, d$response_assessment_day)
fail <- pmin(d$progression_day, d$death_day, nr_day, na.rm = TRUE)
d$pfs_time <- ifelse(is.na(fail), d$last_followup_day, fail)
d$pfs_event <- as.integer(!is.na(fail))
d$responder <- d$day28_response %in% resp_set
d$hsct <- as.integer(!is.na(d$hsct_day))

num <- function(x) if (length(x) == 1 && is.na(x)) NA_real_ else unname(as.numeric(x))

km_summary <- function(time, event) {
  fit <- survfit(Surv(time, event) ~ 1)
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  list(n = length(time), events = sum(event), median = num(q$quantile), median_lower = num(q$lower),
       median_upper = num(q$upper))
}

by_group <- function(dat, tcol, ecol, gcol, at) {
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", tcol, ecol, gcol))
  fit <- survfit(f, data = dat)
  s <- summary(fit, times = at, extend = TRUE)
  sd <- survdiff(f, data = dat)
  groups <- sub(paste0(gcol, "="), "", names(fit$strata))
  list(groups = groups, n = num(fit$n), events = num(tapply(dat[[ecol]], dat[[gcol]], sum)),
       time = at, survival = num(s$surv), std_err = num(s$std.err), lower = num(s$lower), upper = num(s$upper),
       logrank_chisq = num(sd$chisq), logrank_p = num(pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)),
       observed = num(sd$obs), expected = num(sd$exp))
}

resp <- d[d$responder, ]
six <- 182.6

# ---- landmark analyses among responders (Anderson 1983): event-free at L, grouped by HSCT on or before L
landmark <- function(tcol, ecol, L) {
  keep <- resp[resp[[tcol]] > L, ]
  keep$t_lm <- keep[[tcol]] - L
  keep$e_lm <- keep[[ecol]]
  keep$hsct_by_l <- as.integer(!is.na(keep$hsct_day) & keep$hsct_day <= L)
  out <- list(landmark_day = L, n = nrow(keep), n_hsct = sum(keep$hsct_by_l), events = sum(keep$e_lm),
              patients = keep$patient_id[order(keep$patient_id)])
  if (length(unique(keep$hsct_by_l)) == 2) {
    sd <- survdiff(Surv(t_lm, e_lm) ~ hsct_by_l, data = keep)
    out$logrank_p <- num(pchisq(sd$chisq, 1, lower.tail = FALSE))
    out$observed <- num(sd$obs)
    out$expected <- num(sd$exp)
    cf <- suppressWarnings(coxph(Surv(t_lm, e_lm) ~ hsct_by_l, data = keep))
    out$hazard_ratio <- num(exp(coef(cf)))
  }
  out
}

# ---- HSCT as a time-dependent covariate (tmerge), Mantel-Byar = score test, Simon-Makuch = KM by current state
timedep <- function(tcol, ecol) {
  base <- data.frame(id = resp$patient_id, futime = resp[[tcol]], status = resp[[ecol]])
  td <- tmerge(base, base, id = id, event = event(futime, status))
  hs <- resp[!is.na(resp$hsct_day) & resp$hsct_day < resp[[tcol]], c("patient_id", "hsct_day")]
  td <- tmerge(td, data.frame(id = hs$patient_id, hsct_day = hs$hsct_day), id = id, hsct = tdc(hsct_day))
  res <- list()
  for (ties in c("efron", "breslow")) {
    cf <- coxph(Surv(tstart, tstop, event) ~ hsct, data = td, ties = ties)
    sm <- summary(cf)
    res[[ties]] <- list(coef = num(coef(cf)), hazard_ratio = num(exp(coef(cf))),
                        lower = num(sm$conf.int[, "lower .95"]), upper = num(sm$conf.int[, "upper .95"]),
                        wald_p = num(sm$waldtest["pvalue"]), score_chisq = num(sm$sctest["test"]),
                        score_p = num(sm$sctest["pvalue"]), lr_p = num(sm$logtest["pvalue"]))
  }
  sm_fit <- survfit(Surv(tstart, tstop, event) ~ hsct, data = td)
  s <- summary(sm_fit, times = six, extend = TRUE)
  res$simon_makuch_6mo <- list(groups = sub("hsct=", "", names(sm_fit$strata)), survival = num(s$surv),
                               n_risk = num(s$n.risk))
  res$intervals <- nrow(td)
  res
}

naive_hsct_censored_pfs <- function() {
  t <- ifelse(!is.na(d$hsct_day) & d$hsct_day < d$pfs_time, d$hsct_day, d$pfs_time)
  e <- ifelse(!is.na(d$hsct_day) & d$hsct_day < d$pfs_time, 0L, d$pfs_event)
  km_summary(t, e)
}

obs <- d$os_time
rev_fit <- survfit(Surv(os_time, 1 - os_event) ~ 1, data = d)
out <- list(
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  six_months_days = six,
  n = nrow(d),
  car_t_source = as.list(table(d$car_t_source)),
  orr_day28 = list(responders = sum(d$responder), n = nrow(d),
                   exact_ci = num(binom.test(sum(d$responder), nrow(d))$conf.int)),
  followup = list(plain_median = num(median(obs)), min = num(min(obs)), max = num(max(obs)),
                  reverse_km_median = num(quantile(rev_fit, 0.5)$quantile)),
  os = km_summary(d$os_time, d$os_event),
  pfs = km_summary(d$pfs_time, d$pfs_event),
  pfs_censored_at_hsct = naive_hsct_censored_pfs(),
  responders_hsct = sum(resp$hsct),
  naive_os_by_hsct = by_group(resp, "os_time", "os_event", "hsct", six),
  naive_pfs_by_hsct = by_group(resp, "pfs_time", "pfs_event", "hsct", six),
  immortal_days_credited = num(sum(resp$hsct_day, na.rm = TRUE)),
  landmark = list(os_60 = landmark("os_time", "os_event", 60), os_90 = landmark("os_time", "os_event", 90),
                  pfs_60 = landmark("pfs_time", "pfs_event", 60), pfs_90 = landmark("pfs_time", "pfs_event", 90)),
  timedep_os = timedep("os_time", "os_event"),
  timedep_pfs = timedep("pfs_time", "pfs_event"),
  crs = list(any = sum(d$crs_grade >= 1), grade_1_2 = sum(d$crs_grade %in% 1:2), grade_3 = sum(d$crs_grade == 3)),
  icans_any = sum(d$icans_grade >= 1),
  pfs_derived = list(patient_id = d$patient_id, time = d$pfs_time, event = d$pfs_event),
  os_derived = list(patient_id = d$patient_id, time = d$os_time, event = d$os_event)
)

writeLines(json(out), file.path(root, "tests", "reference", "seed_study.json"))
