# Reference values for multi-arm comparisons, subgroup populations, the subgroup forest (interaction p), Table 1 by
# group and sensitivity runs, on the example cohort tests/reference/arms_cohort/patients.csv (150 patients, 3-level
# diagnosis; written by `python -m tests.example_cohort`), as tests/reference/arms_cohort/study.yaml asks for them.
#
# Regenerate from the repository root:  Rscript tests/reference/arms_reference.R
# Writes tests/reference/arms_reference.json (never edit it by hand).
#
# Endpoints are derived here independently of the Python code, from the raw day columns (plan defaults):
#   OS  : death (any cause) from infusion; censored at last_followup_day.
#   PFS : first of progression_day, death_day, and for non-responders (best_response SD/PD: not CR/CRi/CRh/PR/NE) the
#         response_assessment_day; censored at last_followup_day. HSCT not censored (endpoints.hsct: ignore), or
#         censored at hsct_day in the sensitivity run (endpoints.hsct: censor).
#   CIR/NRM: status 1 = relapse/progression (or non-response at the assessment) first, 2 = death without it.
# Multi-arm comparisons: survminer::pairwise_survdiff is not installed; its computation is written out below
# (survdiff on the rows of each pair, then p.adjust over all pairs), which is what pairwise_survdiff does.
suppressPackageStartupMessages({library(survival); library(cmprsk)})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- normalizePath(file.path(dirname(script), "..", ".."))
source(file.path(root, "tests", "reference", "_json.R"))
d <- read.csv(file.path(root, "tests", "reference", "arms_cohort", "patients.csv"), stringsAsFactors = FALSE,
              na.strings = "")

resp_set <- c("CR", "CRi", "CRh", "PR")
derive <- function(d, hsct_censor = FALSE) {
  end <- d$last_followup_day
  death <- d$death_day
  # a non-evaluable (NE) or missing best response is not a failure
  nr_day <- ifelse(d$best_response %in% resp_set | d$best_response %in% "NE" | is.na(d$best_response), NA,
                   d$response_assessment_day)
  prog <- pmin(d$progression_day, nr_day, na.rm = TRUE)
  if (hsct_censor) {
    h <- d$hsct_day
    cut <- !is.na(h)
    end[cut] <- pmin(end[cut], h[cut])
    death[!is.na(death) & !is.na(h) & death > h] <- NA
    prog[!is.na(prog) & !is.na(h) & prog > h] <- NA
  }
  d$os_time <- ifelse(is.na(death), end, death)
  d$os_event <- as.integer(!is.na(death))
  fail <- pmin(prog, death, na.rm = TRUE)
  d$pfs_time <- ifelse(is.na(fail), end, fail)
  d$pfs_event <- as.integer(!is.na(fail))
  d$cir_time <- d$pfs_time
  d$cir_status <- ifelse(is.na(fail), 0L, ifelse(!is.na(prog) & prog == fail, 1L, 2L))
  d
}
d <- derive(d)
num <- function(x) unname(as.numeric(x))

# -- multi-arm comparisons: hazard ratios against a reference, pairwise tests, trend --------------------------------
pair_hr <- function(dat, tcol, ecol, g, lv, ref) {
  sub <- dat[dat[[g]] %in% c(ref, lv), ]
  sub$grp <- factor(sub[[g]], levels = c(ref, lv))
  sd <- survdiff(Surv(sub[[tcol]], sub[[ecol]]) ~ sub$grp)
  o <- sd$obs; e <- sd$exp; v <- sd$var[2, 2]
  z <- qnorm(0.975)
  mh <- (o[2] - e[2]) / v
  oe <- log((o[2] / e[2]) / (o[1] / e[1]))
  se_oe <- sqrt(1 / e[1] + 1 / e[2])
  list(group = lv, p = num(pchisq(sd$chisq, 1, lower.tail = FALSE)),
       mantel_haenszel = num(exp(c(mh, mh - z / sqrt(v), mh + z / sqrt(v)))),
       logrank_oe_ratio = num(exp(c(oe, oe - z * se_oe, oe + z * se_oe))))
}
arms <- function(dat, tcol, ecol, g, ref, levels, adjust, trend_scores = NULL) {
  dat$grp <- relevel(factor(dat[[g]], levels = levels), ref = ref)
  fit <- coxph(Surv(dat[[tcol]], dat[[ecol]]) ~ grp, data = dat, ties = "efron")
  s <- summary(fit)
  others <- setdiff(levels, ref)
  cox <- lapply(others, function(lv) {
    i <- paste0("grp", lv)
    list(group = lv, hazard_ratio = num(s$conf.int[i, "exp(coef)"]), lower = num(s$conf.int[i, "lower .95"]),
         upper = num(s$conf.int[i, "upper .95"]), p = num(s$coefficients[i, "Pr(>|z|)"]))
  })
  pairs <- list(); p <- c()
  for (j in 1:(length(levels) - 1)) for (i in (j + 1):length(levels)) {
    sub <- dat[dat[[g]] %in% levels[c(j, i)], ]
    sd <- survdiff(Surv(sub[[tcol]], sub[[ecol]]) ~ sub[[g]])
    pv <- pchisq(sd$chisq, 1, lower.tail = FALSE)
    pairs[[length(pairs) + 1]] <- list(group1 = levels[i], group2 = levels[j], statistic = num(sd$chisq), p = num(pv))
    p <- c(p, pv)
  }
  adj <- p.adjust(p, method = adjust)
  for (k in seq_along(pairs)) pairs[[k]]$p_adjusted <- num(adj[k])
  k <- length(levels) - 1  # summary(fit) rounds its tests: computed from the fit
  lr <- 2 * diff(fit$loglik)
  out <- list(cox = cox, cox_tests = list(likelihood_ratio = c(lr, pchisq(lr, k, lower.tail = FALSE)),
                                          wald = c(fit$wald.test, pchisq(fit$wald.test, k, lower.tail = FALSE)),
                                          score = c(fit$score, pchisq(fit$score, k, lower.tail = FALSE))),
              pairs = lapply(others, function(lv) pair_hr(dat, tcol, ecol, g, lv, ref)), pairwise = pairs)
  if (!is.null(trend_scores)) {
    dat$grp2 <- factor(dat[[g]], levels = levels)
    sd <- survdiff(Surv(dat[[tcol]], dat[[ecol]]) ~ grp2, data = dat)
    u <- sum(trend_scores * (sd$obs - sd$exp))
    stat <- u^2 / drop(t(trend_scores) %*% sd$var %*% trend_scores)
    out$trend <- list(statistic = stat, p = pchisq(stat, 1, lower.tail = FALSE))
  }
  out
}
pairwise_gray <- function(dat, g, levels, cause, adjust) {
  pairs <- list(); p <- c()
  for (j in 1:(length(levels) - 1)) for (i in (j + 1):length(levels)) {
    sub <- dat[dat[[g]] %in% levels[c(j, i)], ]
    tests <- cuminc(sub$cir_time, sub$cir_status, group = sub[[g]], cencode = 0)$Tests
    pairs[[length(pairs) + 1]] <- list(group1 = levels[i], group2 = levels[j], statistic = num(tests[as.character(cause), "stat"]),
                                       p = num(tests[as.character(cause), "pv"]))
    p <- c(p, tests[as.character(cause), "pv"])
  }
  adj <- p.adjust(p, method = adjust)
  for (k in seq_along(pairs)) pairs[[k]]$p_adjusted <- num(adj[k])
  pairs
}
dx <- c("B-ALL", "LBCL", "MCL")
km_summary <- function(time, event) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = "log-log")
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  list(n = length(time), events = sum(event), median = num(q$quantile), lower = num(q$lower), upper = num(q$upper))
}
# -- Table 1 by group: the test gtsummary's add_p() chooses by default ---------------------------------------------
# gtsummary is not installed; the choice below follows its documented default rules (add_p.tbl_summary, test =
# NULL): continuous -> wilcox.test (2 groups) or kruskal.test (3+); categorical -> chisq.test(correct = FALSE) when
# every expected count is >= 5, else fisher.test. Patients with a missing value or group are left out of a test.
table1 <- function(dat, by, continuous, categorical) {
  g <- dat[[by]]
  out <- list()
  for (v in continuous) {
    x <- suppressWarnings(as.numeric(dat[[v]]))
    ok <- !is.na(x) & !is.na(g)
    two <- length(unique(g[ok])) == 2
    p <- if (two) suppressWarnings(wilcox.test(x[ok] ~ factor(g[ok]))$p.value) else kruskal.test(x[ok], factor(g[ok]))$p.value
    q <- lapply(c(list(All = x), split(x, g)), function(y) num(quantile(y, c(0.25, 0.5, 0.75), na.rm = TRUE)))
    out[[v]] <- list(test = if (two) "wilcox.test" else "kruskal.test", p = num(p), quartiles = q)
  }
  for (v in categorical) {
    x <- dat[[v]]
    ok <- !is.na(x) & !is.na(g)
    tab <- table(x[ok], g[ok])
    expected <- suppressWarnings(chisq.test(tab, correct = FALSE))$expected
    if (all(expected >= 5)) {
      out[[v]] <- list(test = "chisq.test", p = num(chisq.test(tab, correct = FALSE)$p.value))
    } else {
      # fisher.test with its default workspace (as add_p calls it); when it fails (FEXACT error 7 on large
      # tables) the Python code reports the chi-squared p and says so: the same here
      f <- tryCatch(fisher.test(tab)$p.value, error = function(e) NA)
      out[[v]] <- if (is.na(f)) list(test = "chisq.test (fisher.test failed)",
                                    p = num(suppressWarnings(chisq.test(tab, correct = FALSE))$p.value))
                  else list(test = "fisher.test", p = num(f))
    }
  }
  out
}
t1_cont <- c("age_years", "ldh")
t1_cat <- c("sex", "car_t_source", "ecog", "day28_response")

# -- subgroup forest: HR of car_t_source (allogeneic vs autologous) within subgroups, interaction LR test -----------
d$x <- as.integer(d$car_t_source == "allogeneic")
d$age65 <- ifelse(is.na(d$age_years), NA, ifelse(d$age_years >= 65, "age_years >= 65", "age_years < 65"))
sg_hr <- function(dat) {
  s <- summary(coxph(Surv(os_time, os_event) ~ x, data = dat, ties = "efron"))
  list(n = nrow(dat), events = sum(dat$os_event), hazard_ratio = num(s$conf.int[1, "exp(coef)"]),
       lower = num(s$conf.int[1, "lower .95"]), upper = num(s$conf.int[1, "upper .95"]),
       p = num(s$coefficients[1, "Pr(>|z|)"]))
}
forest <- function(var) {
  dat <- d[!is.na(d[[var]]), ]
  dat$sub <- factor(dat[[var]])
  fit0 <- coxph(Surv(os_time, os_event) ~ x + sub, data = dat, ties = "efron")
  fit1 <- coxph(Surv(os_time, os_event) ~ x * sub, data = dat, ties = "efron")
  a <- anova(fit0, fit1)
  rows <- lapply(levels(dat$sub), function(lv) c(list(subgroup = lv), sg_hr(dat[dat$sub == lv, ])))
  list(rows = rows, interaction = list(statistic = num(a$Chisq[2]), df = num(a$Df[2]), p = num(a[2, "Pr(>|Chi|)"])))
}

# -- sensitivity: allo-HSCT censored instead of ignored ----------------------------------------------------------
h <- derive(d, hsct_censor = TRUE)
sens_km <- function(dat, tcol, ecol) {
  fit <- survfit(Surv(dat[[tcol]], dat[[ecol]]) ~ diagnosis, data = dat, conf.type = "log-log")
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  s <- summary(fit, times = 365.25, extend = TRUE)
  sd <- survdiff(Surv(dat[[tcol]], dat[[ecol]]) ~ diagnosis, data = dat)
  list(events = num(tapply(dat[[ecol]], dat$diagnosis, sum)),
       median = num(q$quantile), lower = num(q$lower), upper = num(q$upper), rate = num(s$surv),
       rate_lower = num(s$lower), rate_upper = num(s$upper),
       logrank_p = num(pchisq(sd$chisq, 2, lower.tail = FALSE)))
}
sens <- function(dat) list(
  os = sens_km(dat, "os_time", "os_event"), pfs = sens_km(dat, "pfs_time", "pfs_event"),
  cir_gray_p = num(cuminc(dat$cir_time, dat$cir_status, group = dat$diagnosis, cencode = 0)$Tests["1", "pv"]))

pop <- d[d$diagnosis == "LBCL" & !is.na(d$age_years) & d$age_years >= 50, ]

out <- list(
  versions = versions(),
  derived = list(patient_id = d$patient_id, os_time = d$os_time, os_event = d$os_event, pfs_time = d$pfs_time,
                 pfs_event = d$pfs_event, cir_status = d$cir_status),
  os_by_diagnosis = arms(d, "os_time", "os_event", "diagnosis", "LBCL", dx, "holm", trend_scores = c(1, 2, 3)),
  pfs_by_diagnosis = arms(d, "pfs_time", "pfs_event", "diagnosis", "B-ALL", dx, "bonferroni"),
  cir_by_diagnosis = list(gray = num(cuminc(d$cir_time, d$cir_status, group = d$diagnosis, cencode = 0)$Tests["1", c("stat", "pv")]),
                          pairwise = pairwise_gray(d, "diagnosis", dx, 1, "holm")),
  nrm_by_diagnosis = list(pairwise = pairwise_gray(d, "diagnosis", dx, 2, "holm")),
  pfs_lbcl_50 = km_summary(pop$pfs_time, pop$pfs_event),
  table1_by_diagnosis = table1(d, "diagnosis", t1_cont, t1_cat),
  table1_by_source = table1(d, "car_t_source", t1_cont, c("sex", "diagnosis", "ecog", "day28_response")),
  forest = list(overall = sg_hr(d), diagnosis = forest("diagnosis"), sex = forest("sex"), age_years = forest("age65")),
  sensitivity = list(primary = sens(d), hsct_censored = sens(h))
)
writeLines(json(out), file.path(root, "tests", "reference", "arms_reference.json"))
