# Reference values for cart_outcomes.stats.timedep (split_at_exposure, mantel_byar, simon_makuch, landmark).
# Regenerate from the repository root with:   Rscript tests/reference/timedep_reference.R
# Writes tests/reference/timedep_reference.json (input data included, so the Python tests never need R).
#
#  * jasa: Stanford heart transplant, prepared as in the survival vignette "Using time dependent covariates"
#    (futime = max(0.5, fu.date - accept.dt); txtime moved 0.5 day earlier when transplant and end of follow-up
#    fall on the same day). Tied death times: Mantel-Byar and the Breslow score test differ.
#  * notie: 40 subjects with continuous times and no tied event times: Mantel-Byar = Breslow score test.
#  * toy: clinical-definitions 13.5 (chi-square 0.0588).
#  * conventions: tmerge on exposure missing / after follow-up / on the event day / at 0.
# Values: tmerge splits; coxph(Surv(tstart, tstop, event) ~ exposed) with Breslow and Efron ties (score, Wald, LR,
# coef); naive coxph/survdiff on "ever transplanted"; survfit on the counting-process data (Simon-Makuch); a
# landmark analysis (subset futime > L, group by transplant at or before L, time re-zeroed) with survfit/survdiff;
# the Mantel-Byar statistic computed by hand in R, one event time at a time (mb_by_hand below).
suppressPackageStartupMessages(library(survival))
source(file.path("tests", "reference", "_json.R"))
out_file <- file.path("tests", "reference", "timedep_reference.json")

split_r <- function(d) {
  d$id <- seq_len(nrow(d))
  b <- tmerge(d[, c("id", "time", "status")], d[, c("id", "time", "status")], id = id, event = event(time, status))
  b <- tmerge(b, d[, c("id", "h")], id = id, exposed = tdc(h))
  b$exposed[is.na(b$exposed)] <- 0
  b
}

mb_by_hand <- function(b) {
  ev_times <- sort(unique(b$tstop[b$event == 1]))
  o1 <- 0; e1 <- 0; v <- 0
  for (t in ev_times) {
    risk <- b$tstart < t & b$tstop >= t
    n1 <- sum(risk & b$exposed == 1); n0 <- sum(risk & b$exposed == 0); n <- n0 + n1
    dd <- b$event == 1 & b$tstop == t
    d <- sum(dd); d1 <- sum(dd & b$exposed == 1)
    o1 <- o1 + d1; e1 <- e1 + d * n1 / n
    if (n > 1) v <- v + d * (n1 / n) * (n0 / n) * (n - d) / (n - 1)
  }
  list(observed_exposed = o1, expected_exposed = e1, variance = v, statistic = (o1 - e1)^2 / v)
}

cox_td <- function(b) {
  res <- list()
  for (ties in c("breslow", "efron")) {
    f <- coxph(Surv(tstart, tstop, event) ~ exposed, data = b, ties = ties)
    res[[ties]] <- list(coef = unname(coef(f)), se = unname(sqrt(diag(vcov(f)))), score = f$score,
                        wald = unname(f$wald.test), lr = 2 * diff(f$loglik))
  }
  res
}

simon_makuch_r <- function(b) {
  f <- survfit(Surv(tstart, tstop, event) ~ exposed, data = b)
  st <- rep(c("unexposed", "exposed"), f$strata)
  list(state = I(st), time = I(f$time), n_risk = I(f$n.risk), n_event = I(f$n.event), n_censor = I(f$n.censor),
       surv = I(f$surv), std_err_log = I(f$std.err), lower = I(f$lower), upper = I(f$upper),
       at_risk_times = I(c(0, 10, 50, 100, 365)),
       at_risk = lapply(split(summary(f, times = c(0, 10, 50, 100, 365), extend = TRUE)$n.risk,
                              rep(c("unexposed", "exposed"), each = 5)), I))
}

pack <- function(d, b) list(
  data = list(time = I(d$time), status = I(d$status), h = I(d$h)),
  split = list(row = I(b$id - 1), start = I(b$tstart), stop = I(b$tstop), event = I(b$event),
               exposed = I(b$exposed)),
  mantel_byar = mb_by_hand(b),
  cox = cox_td(b)
)

# ---- jasa
j <- jasa
tdata <- with(j, data.frame(
  time = pmax(0.5, as.numeric(fu.date - accept.dt)),
  status = fustat,
  h = ifelse(tx.date == fu.date, as.numeric(tx.date - accept.dt) - 0.5, as.numeric(tx.date - accept.dt))
))
jb <- split_r(tdata)
jasa_out <- pack(tdata, jb)
naive <- coxph(Surv(time, status) ~ I(!is.na(h)), data = tdata)
jasa_out$naive <- list(coef = unname(coef(naive)), hazard_ratio = unname(exp(coef(naive))),
                       logrank = survdiff(Surv(time, status) ~ !is.na(h), data = tdata)$chisq)
jasa_out$simon_makuch <- simon_makuch_r(jb)
lm_at <- 30
keep <- tdata$time > lm_at
ld <- data.frame(row = which(keep) - 1, time = tdata$time[keep] - lm_at, status = tdata$status[keep],
                 group = ifelse(!is.na(tdata$h[keep]) & tdata$h[keep] <= lm_at, "exposed", "unexposed"))
lf <- survfit(Surv(time, status) ~ group, data = ld)
jasa_out$landmark <- list(
  at = lm_at, row = I(ld$row), time = I(ld$time), status = I(ld$status), group = I(ld$group),
  n_excluded_event = sum(!keep & tdata$status == 1), n_excluded_censored = sum(!keep & tdata$status == 0),
  km_strata = I(rep(sub("group=", "", names(lf$strata)), lf$strata)), km_time = I(lf$time), km_surv = I(lf$surv),
  km_n_risk = I(lf$n.risk),
  logrank_chisq = survdiff(Surv(time, status) ~ group, data = ld)$chisq,
  cox_coef = unname(coef(coxph(Surv(time, status) ~ I(group == "exposed"), data = ld)))
)

# ---- tie-free data
set.seed(13)
n <- 40
nt <- data.frame(time = round(rexp(n, 1 / 300), 3) + 1, status = rbinom(n, 1, 0.7),
                 h = ifelse(runif(n) < 0.5, round(runif(n, 0, 400), 3), NA))
stopifnot(!any(duplicated(nt$time)))
ntb <- split_r(nt)
notie_out <- pack(nt, ntb)
notie_out$simon_makuch <- simon_makuch_r(ntb)

# ---- toy (clinical-definitions 13.5) and conventions
toy <- data.frame(time = c(100, 30, 200, 70, 150), status = c(1, 1, 0, 1, 0), h = c(40, NA, 50, NA, NA))
toy_out <- pack(toy, split_r(toy))
conv <- data.frame(time = c(10, 10, 10, 10, 10), status = c(1, 1, 1, 1, 0), h = c(5, 10, 0, 15, NA))
conv_out <- pack(conv, split_r(conv))

out <- list(versions = versions(), jasa = jasa_out, notie = notie_out, toy = toy_out, conventions = conv_out)
writeLines(json(out), out_file)
cat("wrote", out_file, "\n")
