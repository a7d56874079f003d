# Reference values for the post-fit tools of cart_outcomes.stats.cox_ph (R survival 3.5-3): residuals() of every
# type, predict() (lp, risk, expected, survival, terms; se.fit), basehaz(), survfit.coxph curves with std.err and CI,
# concordance pair counts, fit$means, cox.zph output (all transforms), the robust default for non-integer case
# weights, and finegray() + weighted counting-process coxph (with cmprsk::crr beside it).
# Regenerate from the repository root:  Rscript tests/reference/cox_extras.R
# Reads cox_lung.csv / cox_heart.csv (written by cox_reference.R), writes cox_mgus2.csv, cox_ovarian.csv,
# cox_tied.csv and cox_extras.json beside this script. Base R + survival + cmprsk only.
suppressPackageStartupMessages({library(survival); library(cmprsk)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
source(file.path(here, "_json.R"))

lung2 <- read.csv(file.path(here, "cox_lung.csv"))
heart2 <- read.csv(file.path(here, "cox_heart.csv"))
dbl <- function(d) { for (v in names(d)) if (is.integer(d[[v]])) d[[v]] <- as.double(d[[v]]); d }
lung2 <- dbl(lung2)
heart2 <- dbl(heart2)
ovarian2 <- ovarian[, c("futime", "fustat", "age", "rx", "ecog.ps")]
write.csv(ovarian2, file.path(here, "cox_ovarian.csv"), row.names = FALSE)
mg <- mgus2[, c("id", "age", "sex", "ptime", "pstat", "futime", "death")]
mg$etime <- with(mg, ifelse(pstat == 0, futime, ptime))
mg$event <- with(mg, ifelse(pstat == 0, 2 * death, 1))     # 0 censored, 1 PCM, 2 death
write.csv(mg, file.path(here, "cox_mgus2.csv"), row.names = FALSE)
# small edge case: heavy ties, two strata, non-integer case weights, a tie of deaths with equal x
tied <- data.frame(
  time  = c(1, 1, 2, 2, 2, 3, 3, 3, 4, 5, 5, 5, 6, 7, 7, 8, 9, 9, 10, 10),
  event = c(1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1),
  x     = c(0.5, 0.5, -1, 2, 0.3, 1.2, -0.4, 0, 0.8, -1.5, 1, 0.2, 0.7, -0.2, 1.1, 0.4, -0.9, 0.6, 0.1, 1.4),
  z     = c(1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1),
  g     = rep(c("a", "b"), 10),
  w     = c(1, 0.5, 2, 1.5, 1, 0.7, 1.3, 1, 2.5, 1, 0.8, 1, 1.2, 1, 0.6, 1, 1.4, 2, 1, 0.9))
write.csv(tied, file.path(here, "cox_tied.csv"), row.names = FALSE)

m <- function(x) unname(as.matrix(x))   # rows of a matrix (one per observation)
col <- function(x) I(unname(as.vector(x)))
zph_all <- function(fit) {
  out <- list()
  for (tr in c("km", "rank", "identity", "log")) {
    z <- cox.zph(fit, transform = tr)
    out[[tr]] <- list(term = I(rownames(z$table)), statistic = col(z$table[, "chisq"]), df = col(z$table[, "df"]),
                      p = col(z$table[, "p"]), time = col(z$time), x = col(z$x), y = m(z$y), var = m(z$var),
                      strata = if (is.null(z$strata)) NULL else I(as.character(z$strata)))
  }
  out
}
sfit <- function(fit, newdata) {
  one <- function(ct) {
    s <- if (is.null(newdata)) survfit(fit, conf.type = ct) else survfit(fit, newdata = newdata, conf.type = ct)
    list(time = col(s$time), n_risk = col(s$n.risk), n_event = col(s$n.event), n_censor = col(s$n.censor),
         surv = m(s$surv), cumhaz = m(s$cumhaz), std_err = m(s$std.err), lower = m(s$lower), upper = m(s$upper),
         strata = if (is.null(s$strata)) NULL else I(unname(s$strata)))
  }
  list(log = one("log"), loglog = one("log-log"))
}
pr <- function(fit, type, ...) {
  p <- predict(fit, type = type, se.fit = TRUE, ...)
  list(fit = if (type == "terms") m(p$fit) else col(p$fit), se = if (type == "terms") m(p$se.fit) else col(p$se.fit))
}
pr_nose <- function(fit, type, ...) {
  p <- predict(fit, type = type, ...)
  list(fit = if (type == "terms") m(p) else col(p))
}
summ <- function(fit) {
  s <- summary(fit)
  cf <- s$coefficients
  robust <- "robust se" %in% colnames(cf)
  list(coef = col(fit$coefficients), se = col(sqrt(diag(if (robust) fit$naive.var else fit$var))),
       robust_se = if (robust) col(cf[, "robust se"]) else NULL, z = col(cf[, "z"]), p = col(cf[, "Pr(>|z|)"]),
       lower = col(s$conf.int[, "lower .95"]), upper = col(s$conf.int[, "upper .95"]), var = m(fit$var),
       wald = unname(fit$wald.test), robust_score = if (robust) unname(fit$rscore) else NULL)
}
extras <- function(fit, newdata, strata_ref = FALSE, collapse = NULL, exact = FALSE) {
  cc <- fit$concordance
  out <- list(
    summary = summ(fit), means = col(fit$means),
    concordance = list(concordant = unname(cc["concordant"]), discordant = unname(cc["discordant"]),
                       tied_risk = unname(cc["tied.x"]), tied_time = unname(cc["tied.y"]),
                       tied_both = unname(cc["tied.xy"]), value = unname(cc["concordance"]), se = unname(cc["std"])),
    residuals = list(martingale = col(residuals(fit, "martingale")), deviance = col(residuals(fit, "deviance")),
                     partial = m(residuals(fit, "partial")),
                     martingale_weighted = col(residuals(fit, "martingale", weighted = TRUE))),
    basehaz = list(centered = col(basehaz(fit)$hazard), uncentered = col(basehaz(fit, centered = FALSE)$hazard),
                   time = col(basehaz(fit)$time)),
    survfit_means = sfit(fit, NULL)$log,
    predict = list(lp = pr(fit, "lp"), risk = pr(fit, "risk"), expected = pr(fit, "expected"),
                   survival = pr(fit, "survival"),
                   terms = pr(fit, "terms"), lp_sample = pr(fit, "lp", reference = "sample"),
                   terms_strata = pr_nose(fit, "terms", reference = "strata")))
  if (!exact) {
    sch <- residuals(fit, "schoenfeld")
    out$residuals <- c(out$residuals, list(
      score = m(residuals(fit, "score")), dfbeta = m(residuals(fit, "dfbeta")),
      dfbetas = m(residuals(fit, "dfbetas")), schoenfeld = m(sch),
      schoenfeld_time = col(as.numeric(if (is.matrix(sch)) rownames(sch) else names(sch))),
      scaledsch = m(residuals(fit, "scaledsch")), dfbeta_unweighted = m(residuals(fit, "dfbeta", weighted = FALSE)),
      schoenfeld_weighted = m(residuals(fit, "schoenfeld", weighted = TRUE))))
    out$zph <- zph_all(fit)
  }
  if (!is.null(collapse)) out$collapsed <- list(
    martingale = col(residuals(fit, "martingale", collapse = collapse)),
    deviance = col(residuals(fit, "deviance", collapse = collapse)),
    score = m(residuals(fit, "score", collapse = collapse)),
    dfbeta = m(residuals(fit, "dfbeta", collapse = collapse)),
    dfbetas = m(residuals(fit, "dfbetas", collapse = collapse)),
    key = col(sort(unique(collapse))))
  if (!is.null(newdata)) {
    out$newdata <- list(
      lp = pr(fit, "lp", newdata = newdata), risk = pr(fit, "risk", newdata = newdata),
      terms = pr(fit, "terms", newdata = newdata), lp_sample = pr(fit, "lp", newdata = newdata, reference = "sample"),
      expected = if (ncol(fit$y) == 2) pr(fit, "expected", newdata = newdata)
                 else pr_nose(fit, "expected", newdata = newdata),
      survival = if (ncol(fit$y) == 2) pr(fit, "survival", newdata = newdata)
                 else pr_nose(fit, "survival", newdata = newdata),
      survfit = sfit(fit, newdata))
  }
  out
}

cases <- list()
lung_used <- lung2[complete.cases(lung2[, c("age", "sex", "ph.ecog")]), ]
nd_lung <- data.frame(age = c(60, 70, 50), sex = c(1, 2, 2), ph.ecog = c(0, 2, 1), time = c(100, 400, 1000),
                      event = c(1, 0, 1))
f <- Surv(time, event) ~ age + sex + ph.ecog
cases$lung_efron <- extras(coxph(f, lung2), nd_lung)
cases$lung_breslow <- extras(coxph(f, lung2, ties = "breslow"), nd_lung)
cases$lung_exact <- extras(coxph(f, lung2, ties = "exact"), NULL, exact = TRUE)
cases$lung_strata <- extras(coxph(Surv(time, event) ~ age + ph.ecog + strata(sex), lung2), nd_lung)
cases$lung_weights <- extras(coxph(f, lung2, weights = w), nd_lung)
lc <- lung2[complete.cases(lung2[, c("age", "sex", "ph.ecog", "inst")]), ]
cases$lung_cluster <- extras(coxph(Surv(time, event) ~ age + sex + ph.ecog + cluster(inst), lung2), nd_lung,
                             collapse = lc$inst)
cases$lung_factor <- extras(coxph(Surv(time, event) ~ age + sex + factor(ph.ecog), lung2),
                            data.frame(age = c(60, 70), sex = c(1, 2), ph.ecog = c(0, 2), time = c(100, 400),
                                       event = c(1, 0)))
nd_heart <- data.frame(transplant = c(0, 1), age = c(-5, 5), surgery = c(0, 1), start = c(0, 10), stop = c(50, 300),
                       event = c(1, 0))
cases$heart <- extras(coxph(Surv(start, stop, event) ~ transplant + age + surgery, heart2), nd_heart,
                      collapse = heart2$id)
cases$heart_weights_breslow <- extras(
  coxph(Surv(start, stop, event) ~ transplant + age + strata(surgery), heart2, weights = w, ties = "breslow"),
  nd_heart)
cases$ovarian <- extras(coxph(Surv(futime, fustat) ~ age + rx + ecog.ps, ovarian2),
                        data.frame(age = c(45, 65), rx = c(1, 2), ecog.ps = c(2, 1), futime = c(300, 700),
                                   fustat = c(1, 0)))
nd_tied <- data.frame(x = c(0, 1), z = c(1, 0), g = c("a", "b"), time = c(3, 8), event = c(1, 0))
cases$tied <- extras(coxph(Surv(time, event) ~ x + z + strata(g), tied, weights = w), nd_tied)
cases$tied_breslow <- extras(coxph(Surv(time, event) ~ x + z, tied, weights = w, ties = "breslow"), nd_tied)
# explicit robust = FALSE keeps the model-based variance with non-integer weights
cases$tied_not_robust <- list(summary = summ(coxph(Surv(time, event) ~ x + z + strata(g), tied, weights = w,
                                                   robust = FALSE)))

# ---- finegray ------------------------------------------------------------------------------------------------
fg_case <- function(data, formula, etype, covs, every = 1L) {
  fg_fit(finegray(formula, data = data, etype = etype, id = rowid), covs, every)
}
fg_fit <- function(pd, covs, every = 1L) {
  fit <- coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", paste(covs, collapse = " + "))),
               weights = fgwt, data = pd)
  keep <- seq(1L, nrow(pd), by = every)     # big expansions: every k-th row, plus the column sums
  list(nrow = nrow(pd), every = every, sums = col(colSums(pd[, c("fgstart", "fgstop", "fgstatus", "fgwt")])),
       rowid = col(pd$rowid[keep] - 1L), fgstart = col(pd$fgstart[keep]), fgstop = col(pd$fgstop[keep]),
       fgstatus = col(pd$fgstatus[keep]), fgwt = col(pd$fgwt[keep]), fit = summ(fit),
       loglik = col(fit$loglik), score = unname(fit$score))
}
mg$rowid <- seq_len(nrow(mg))
mg$ev <- factor(mg$event, 0:2, labels = c("censor", "pcm", "death"))
mg$sex <- as.integer(mg$sex == "M")
fg <- list()
fg$mgus2_pcm <- fg_case(mg, Surv(etime, ev) ~ age + sex + rowid, "pcm", c("age", "sex"), 97L)
fg$mgus2_death <- fg_case(mg, Surv(etime, ev) ~ age + sex + rowid, "death", c("age", "sex"), 97L)
crr_pcm <- crr(mg$etime, mg$event, cbind(age = mg$age, sex = mg$sex), failcode = 1, cencode = 0)
fg$mgus2_pcm$crr <- list(coef = col(crr_pcm$coef), se = col(sqrt(diag(crr_pcm$var))))
tied$rowid <- seq_len(nrow(tied))
tied$cr <- ifelse(tied$event == 1, ifelse(seq_len(nrow(tied)) %% 3 == 0, 2, 1), 0)   # 0 censored, 1, 2
tied$crf <- factor(tied$cr, 0:2, labels = c("censor", "one", "two"))
fg$tied <- fg_case(tied, Surv(time, crf) ~ x + z + rowid, "one", c("x", "z"))
fg$tied_strata <- fg_case(tied, Surv(time, crf) ~ x + strata(g) + rowid, "one", c("x"))
fg$tied_weights <- fg_fit(finegray(Surv(time, crf) ~ x + z + rowid, data = tied, etype = "one", weights = w),
                          c("x", "z"))
# untied times: crr and finegray + coxph estimate the same model (times jittered deterministically)
ut <- tied
ut$time <- ut$time + seq_len(nrow(ut)) / 100
ut$crf2 <- ut$crf
fg$untied <- fg_case(ut, Surv(time, crf2) ~ x + z + rowid, "one", c("x", "z"))
crr_ut <- crr(ut$time, ut$cr, cbind(x = ut$x, z = ut$z), failcode = 1, cencode = 0)
fg$untied$crr <- list(coef = col(crr_ut$coef), se = col(sqrt(diag(crr_ut$var))))
write.csv(tied[, c("time", "event", "x", "z", "g", "w", "cr")], file.path(here, "cox_tied.csv"), row.names = FALSE)

out <- list(versions = versions(), generated_by = "tests/reference/cox_extras.R", cases = cases, finegray = fg)
writeLines(json(out), file.path(here, "cox_extras.json"))
