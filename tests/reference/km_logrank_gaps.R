# Reference values for issue 16 (stats-km part): factor level order in survfit/survdiff/trend test, survdiff's
# p-value with fewer than two groups with expected events, print(fit, rmean=) before the first time, binom.test
# p-values and one-sided limits, one-sided fisher.test, and survRM2::rmst2's unadjusted two-group comparison.
# survRM2 is not installed on the reference machine: rmst1/rmst2 are written below from survRM2 1.0-4's published
# formulas (Uno et al., JCO 2014; package source R/rmst1.R, R/rmst2.R), with survival's survfit underneath.
# Run from the repository root:  Rscript tests/reference/km_logrank_gaps.R
# Writes tests/reference/km_logrank_gaps.json and tests/reference/colon_death.csv. Never edit the outputs by hand.
suppressMessages(library(survival))
source(file.path("tests", "reference", "_json.R"))
out_dir <- file.path("tests", "reference")

# ---- data: colon, death records (etype 2), rx a factor with levels Obs, Lev, Lev+5FU ----------------------------
colon_death <- survival::colon[survival::colon$etype == 2, c("time", "status", "rx", "sex")]
write.csv(colon_death, file.path(out_dir, "colon_death.csv"), row.names = FALSE)
colon_death$rx <- factor(colon_death$rx, levels = c("Obs", "Lev", "Lev+5FU"))

survdiff_out <- function(fit) {  # with strata, obs and exp are (group x stratum) matrices: summed over strata
  obs <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  exp <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  list(groups = sub("^[^=]*=", "", names(fit$n)), n = as.vector(fit$n), obs = as.vector(obs), exp = as.vector(exp),
       var = fit$var, chisq = fit$chisq, df = sum(exp > 0) - 1, p = fit$pvalue)
}
trend <- function(fit, s) {
  u <- sum(s * (fit$obs - fit$exp))
  list(scores = I(s), chisq = u^2 / drop(t(s) %*% fit$var %*% s))
}
km_out <- function(fit) {
  tab <- summary(fit)$table
  list(strata = sub("^[^=]*=", "", names(fit$strata)), strata_n = as.vector(fit$strata), time = fit$time,
       surv = fit$surv, median = tab[, "median"], lcl = tab[, "0.95LCL"], ucl = tab[, "0.95UCL"])
}

# orders: the declared one and a reversed one (the statistics that depend on order change; the others must not)
orders <- list(declared = c("Obs", "Lev", "Lev+5FU"), reversed = c("Lev+5FU", "Lev", "Obs"))
level_order <- lapply(orders, function(lev) {
  d <- colon_death
  d$rx <- factor(as.character(d$rx), levels = lev)
  sd0 <- survdiff(Surv(time, status) ~ rx, data = d)
  list(levels = lev,
       logrank = survdiff_out(sd0),
       peto = survdiff_out(survdiff(Surv(time, status) ~ rx, data = d, rho = 1)),
       stratified = survdiff_out(survdiff(Surv(time, status) ~ rx + strata(sex), data = d)),
       trend = trend(sd0, 1:3),
       trend_stratified = trend(survdiff(Surv(time, status) ~ rx + strata(sex), data = d), 1:3),
       km = km_out(survfit(Surv(time, status) ~ rx, data = d, conf.type = "log")))
})

# unused factor level: survfit and survdiff drop it, the others keep the declared order
unused <- data.frame(time = c(5, 6, 7, 8, 9, 10, 3, 12), status = c(1, 0, 1, 1, 0, 1, 1, 0),
                     g = factor(c("b", "b", "a", "a", "b", "a", "b", "a"), levels = c("c", "b", "a")))
unused_out <- list(data = list(time = unused$time, status = unused$status, g = as.character(unused$g)),
                   levels = levels(unused$g),
                   km = km_out(survfit(Surv(time, status) ~ g, data = unused, conf.type = "log")),
                   logrank = survdiff_out(survdiff(Surv(time, status) ~ g, data = unused)))

# ---- survdiff when fewer than two groups have expected events ---------------------------------------------------
few <- list(
  one_group_with_events = data.frame(time = c(1, 2, 7, 8), status = c(0, 0, 1, 1), g = c(1, 1, 2, 2)),
  no_events = data.frame(time = c(5, 6, 7, 8), status = c(0, 0, 0, 0), g = c(1, 1, 2, 2)),
  three_groups_one_empty = data.frame(time = c(1, 2, 7, 8, 9, 10), status = c(0, 0, 1, 1, 1, 0),
                                      g = c(1, 1, 2, 2, 3, 3)))
few_out <- lapply(few, function(d) {
  fit <- suppressWarnings(survdiff(Surv(time, status) ~ g, data = d))
  c(list(data = as.list(d)), survdiff_out(fit))
})

# ---- print(fit, rmean = tau): tau before the first time stops; tau at the first time is allowed ---------------
rm_data <- data.frame(time = c(5, 6, 7, 8, 9, 10), status = c(1, 0, 1, 1, 0, 1))
rm_fit <- survfit(Surv(time, status) ~ 1, data = rm_data)
rm_err <- tryCatch({capture.output(print(rm_fit, rmean = 4.5)); ""}, error = function(e) conditionMessage(e))
rm_first <- survival:::survmean(rm_fit, rmean = 5)$matrix
rmean_out <- list(data = as.list(rm_data), error_tau = 4.5, error = rm_err, first_tau = 5,
                  first_rmean = unname(rm_first["rmean"]), first_se = unname(rm_first["se(rmean)"]))

# ---- binom.test ------------------------------------------------------------------------------------------------
binom_cases <- expand.grid(i = 1:9, alternative = c("two.sided", "less", "greater"), stringsAsFactors = FALSE)
xs <- c(0, 1, 4, 8, 12, 3, 50, 7, 17)
ns <- c(12, 9, 12, 12, 12, 3, 111, 20, 40)
ps <- c(0.5, 0.2, 0.3, 0.5, 0.9, 0.5, 0.42, 1 / 3, 0.25)
levels_ <- c(0.95, 0.9, 0.95, 0.99, 0.95, 0.95, 0.8, 0.95, 0.95)
binom_out <- lapply(seq_len(nrow(binom_cases)), function(r) {
  i <- binom_cases$i[r]; alt <- binom_cases$alternative[r]
  b <- binom.test(xs[i], ns[i], p = ps[i], alternative = alt, conf.level = levels_[i])
  list(x = xs[i], n = ns[i], p = ps[i], alternative = alt, conf_level = levels_[i],
       p_value = b$p.value, lower = b$conf.int[1], upper = b$conf.int[2], estimate = unname(b$estimate))
})

# ---- fisher.test, all three alternatives -----------------------------------------------------------------------
tables <- list(c(3, 1, 1, 3), c(10, 2, 3, 15), c(0, 5, 6, 2), c(7, 0, 2, 9), c(12, 30, 25, 18), c(1, 9, 9, 1))
fisher_out <- list()
for (tb in tables) for (alt in c("two.sided", "less", "greater")) for (cl in c(0.95, 0.9)) {
  f <- fisher.test(matrix(tb, 2, byrow = TRUE), alternative = alt, conf.level = cl)
  fisher_out[[length(fisher_out) + 1]] <- list(
    table = I(tb), alternative = alt, conf_level = cl, p_value = f$p.value, odds_ratio = unname(f$estimate),
    lower = f$conf.int[1], upper = f$conf.int[2])
}

# ---- survRM2::rmst2 (unadjusted), written from its published formulas -------------------------------------------
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
rmst2_tau <- function(time, status, arm, tau) {
  tt0max <- max(time[arm == 0]); ss0max <- min(status[arm == 0][time[arm == 0] == tt0max])
  tt1max <- max(time[arm == 1]); ss1max <- min(status[arm == 1][time[arm == 1] == tt1max])
  ttmax <- max(tt0max, tt1max); ttmin <- min(tt0max, tt1max)
  larger <- (ss0max == 1 & ss1max == 1) | (ss0max == 0 & ss1max == 1 & tt0max >= tt1max) |
    (ss0max == 1 & ss1max == 0 & tt1max > tt0max)
  limit <- if (larger) ttmax else ttmin
  if (is.null(tau)) return(list(tau = limit, ok = TRUE, limit = limit))
  list(tau = tau, ok = tau <= limit, limit = limit)
}
rmst2 <- function(time, status, arm, tau = NULL, alpha = 0.05) {
  tt <- rmst2_tau(time, status, arm, tau)
  if (!tt$ok) return(list(tau = tau, error = TRUE, limit = tt$limit))
  tau <- tt$tau
  wk1 <- rmst1(time[arm == 1], status[arm == 1], tau, alpha)
  wk0 <- rmst1(time[arm == 0], status[arm == 0], tau, alpha)
  z <- qnorm(1 - alpha / 2)
  contrast <- function(est, se, log) {
    p <- pnorm(-abs(est) / se) * 2
    if (log) c(exp(est), exp(est - z * se), exp(est + z * se), p) else c(est, est - z * se, est + z * se, p)
  }
  out <- rbind(
    contrast(wk1$rmst[1] - wk0$rmst[1], sqrt(wk1$var + wk0$var), FALSE),
    contrast(log(wk1$rmst[1]) - log(wk0$rmst[1]),
             sqrt(wk1$var / wk1$rmst[1]^2 + wk0$var / wk0$rmst[1]^2), TRUE),
    contrast(log(wk1$rmtl[1]) - log(wk0$rmtl[1]),
             sqrt(wk1$var / wk1$rmtl[1]^2 + wk0$var / wk0$rmtl[1]^2), TRUE))
  list(tau = tau, error = FALSE, limit = tt$limit, result = out, arm0 = c(wk0$rmst, wk0$rmtl),
       arm1 = c(wk1$rmst, wk1$rmtl))
}
lung_df <- data.frame(time = survival::lung$time, status = survival::lung$status - 1L, sex = survival::lung$sex)
two_arm <- colon_death[colon_death$rx != "Lev", ]
rmst_small <- list(  # survRM2's four cases of the default tau (last record of each arm event/censored)
  case1 = data.frame(time = c(2, 4, 5, 7, 3, 6, 8, 9), status = c(1, 0, 1, 1, 1, 1, 0, 1), arm = rep(0:1, each = 4)),
  case2 = data.frame(time = c(2, 4, 5, 9, 3, 6, 8, 7), status = c(1, 1, 1, 0, 1, 0, 1, 1), arm = rep(0:1, each = 4)),
  case3 = data.frame(time = c(2, 4, 5, 9, 3, 6, 8, 7), status = c(1, 1, 1, 1, 1, 1, 0, 1), arm = rep(0:1, each = 4)),
  case4 = data.frame(time = c(2, 4, 5, 9, 3, 6, 8, 7), status = c(1, 1, 1, 0, 1, 1, 0, 1), arm = rep(0:1, each = 4)))
rmst_cases <- list(
  list(name = "lung_sex_default", data = "lung", by = "sex", arm = lung_df$sex == 2, tau = NULL, alpha = 0.05),
  list(name = "lung_sex_365", data = "lung", by = "sex", arm = lung_df$sex == 2, tau = 365, alpha = 0.05),
  list(name = "lung_sex_800_90", data = "lung", by = "sex", arm = lung_df$sex == 2, tau = 800, alpha = 0.1),
  list(name = "colon_default", data = "colon", by = "rx", arm = two_arm$rx == "Lev+5FU", tau = NULL, alpha = 0.05),
  list(name = "colon_1500", data = "colon", by = "rx", arm = two_arm$rx == "Lev+5FU", tau = 1500, alpha = 0.05),
  list(name = "lung_too_far", data = "lung", by = "sex", arm = lung_df$sex == 2, tau = 1100, alpha = 0.05))
rmst_out <- lapply(rmst_cases, function(cs) {
  d <- if (cs$data == "lung") lung_df else two_arm
  r <- rmst2(d$time, d$status, as.integer(cs$arm), tau = cs$tau, alpha = cs$alpha)
  c(list(name = cs$name, data = cs$data, by = cs$by, tau_given = if (is.null(cs$tau)) NA else cs$tau,
         conf_level = 1 - cs$alpha), r)
})
for (nm in names(rmst_small)) {
  d <- rmst_small[[nm]]
  r <- rmst2(d$time, d$status, d$arm, tau = NULL)
  rmst_out[[length(rmst_out) + 1]] <- c(list(name = nm, data = "small", by = "arm", tau_given = NA,
                                             conf_level = 0.95, small = as.list(d)), r)
}

out <- list(versions = versions(), level_order = level_order, unused_level = unused_out, few_groups = few_out,
            rmean = rmean_out, binom = binom_out, fisher = fisher_out, rmst2 = rmst_out)
writeLines(json(out), file.path(out_dir, "km_logrank_gaps.json"))
