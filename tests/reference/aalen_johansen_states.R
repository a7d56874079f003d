# Reference values for CumulativeIncidence.states() and .rmean() (cart_outcomes.stats.competing).
# Regenerate from the repository root with:   Rscript tests/reference/aalen_johansen_states.R
# Writes tests/reference/aalen_johansen_states.json (data included, so the Python tests never need R).
#
# Every state of survfit(Surv(time, factor(event)) ~ group, influence = TRUE) (multi-state Aalen-Johansen), the
# event-free state "(s0)" included: pstate, std.err, lower/upper with conf.type "log" and "log-log", n.risk and
# n.event per state; and summary(fit, rmean = tau)$table (n, nevent, rmean, se(rmean)) at several tau.
#  * mgus2 (survival): time to PCM or death, PCM = cause 1, death before PCM = cause 2; overall and by sex.
#  * tied: 60 rows, integer times 1..12 (heavy ties of both causes and censorings), 3 groups.
#  * tiny: 6 rows whose last time is an event of everyone still at risk (the event-free state drops to 0).
#  * small: 8 rows, the last time a censoring (the curves stay flat to tau beyond it).
suppressPackageStartupMessages(library(survival))
source(file.path("tests", "reference", "_json.R"))
out_file <- file.path("tests", "reference", "aalen_johansen_states.json")

mg <- mgus2
mg <- data.frame(time = ifelse(mg$pstat == 0, mg$futime, mg$ptime),
                 event = ifelse(mg$pstat == 0, 2 * mg$death, 1), sex = as.character(mg$sex))
set.seed(20261125)
tied <- data.frame(
  time = sample(1:12, 60, replace = TRUE),
  event = sample(0:2, 60, replace = TRUE, prob = c(0.3, 0.4, 0.3)),
  group = sample(c("A", "B", "C"), 60, replace = TRUE)
)
tiny <- data.frame(time = c(1, 2, 2, 3, 3, 4), event = c(1, 2, 0, 1, 2, 1))
small <- data.frame(time = c(1, 2, 2, 3, 3, 4, 4, 5), event = c(1, 2, 0, 1, 2, 0, 1, 0))

states <- function(d, by = NULL) {
  res <- list()
  groups <- if (is.null(by)) "all" else sort(unique(d[[by]]))
  for (g in groups) {
    dd <- if (is.null(by)) d else d[d[[by]] == g, ]
    f <- survfit(Surv(time, factor(event)) ~ 1, data = dd)
    fll <- survfit(Surv(time, factor(event)) ~ 1, data = dd, conf.type = "log-log")
    for (k in seq_along(f$states)) {
      res[[length(res) + 1]] <- list(
        group = g, state = f$states[k], time = I(f$time), n_risk = I(f$n.risk[, k]),
        n_event = I(f$n.event[, k]), estimate = I(f$pstate[, k]), std_err = I(f$std.err[, k]),
        lower = I(f$lower[, k]), upper = I(f$upper[, k]),
        lower_loglog = I(fll$lower[, k]), upper_loglog = I(fll$upper[, k])
      )
    }
  }
  res
}

rmean <- function(d, by = NULL, taus) {
  f <- if (is.null(by)) survfit(Surv(time, factor(event)) ~ 1, data = d, influence = TRUE) else
    survfit(Surv(time, factor(event)) ~ grp, data = transform(d, grp = d[[by]]), influence = TRUE)
  ngrp <- max(1, length(f$strata))
  grp <- if (is.null(by)) rep("all", length(f$states)) else
    rep(sub("^grp=", "", names(f$strata)), length(f$states))
  lapply(taus, function(tau) {
    tab <- summary(f, rmean = tau)$table
    list(tau = tau, group = I(grp), state = I(rep(f$states, each = ngrp)), n = I(unname(tab[, "n"])),
         n_event = I(unname(tab[, "nevent"])), rmean = I(unname(tab[, "rmean"])),
         se = I(unname(tab[, "se(rmean)"])))
  })
}

out <- list(
  versions = versions(),
  data = list(mgus2 = as.list(mg), tied = as.list(tied), tiny = as.list(tiny), small = as.list(small)),
  states = list(
    mgus2 = states(mg),
    mgus2_by_sex = states(mg, "sex"),
    tied_by_group = states(tied, "group"),
    tiny = states(tiny),
    small = states(small)
  ),
  rmean = list(
    mgus2 = rmean(mg, NULL, c(1, 120, 240, 500)),
    mgus2_by_sex = rmean(mg, "sex", c(60, 120)),
    tied_by_group = rmean(tied, "group", c(1, 6, 6.5, 12, 20)),
    tiny = rmean(tiny, NULL, c(1, 2.5, 4, 10)),
    small = rmean(small, NULL, c(2, 4, 10))
  )
)
writeLines(json(out), out_file)
cat("wrote", out_file, "\n")
