# Reference values for cart_outcomes.stats.km and stats.proportions, from R survival and base R stats.
# Regenerate (from the repository root):  Rscript tests/reference/km_reference.R
# Writes tests/reference/km_reference.json and tests/reference/lung.csv (reads small_n200.csv, the survey's n = 200
# cohort written once from the benchmarks' generator, benchmarks/_data.py). Never edit the outputs by hand.
suppressMessages(library(survival))
out_dir <- "tests/reference"

# ---- minimal JSON writer (no jsonlite on the reference machine); NA/NaN -> null, 17 significant digits ----
js <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      return(paste0("{", paste0('"', names(x), '":', vapply(x, js, ""), collapse = ","), "}"))
    }
    return(paste0("[", paste(vapply(x, js, ""), collapse = ","), "]"))
  }
  if (is.factor(x)) x <- as.character(x)
  if (is.character(x)) {
    v <- ifelse(is.na(x), "null", paste0('"', gsub('"', '\\\\"', x), '"'))
  } else if (is.logical(x)) {
    v <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    x <- as.numeric(x)
    v <- ifelse(is.na(x), "null", ifelse(is.infinite(x), ifelse(x > 0, '"Inf"', '"-Inf"'), sprintf("%.17g", x)))
  }
  paste0("[", paste(v, collapse = ","), "]")
}

# ---- datasets ---------------------------------------------------------------------------------------------
lung_df <- data.frame(time = survival::lung$time, status = survival::lung$status - 1L, sex = survival::lung$sex)
write.csv(lung_df, file.path(out_dir, "lung.csv"), row.names = FALSE)

set.seed(20240601)
ties <- data.frame(time = sample(1:8, 90, replace = TRUE), status = rbinom(90, 1, 0.6),
                   group = sample(c("A", "B", "C"), 90, replace = TRUE))
flat20 <- data.frame(time = 1:20, status = rep(1L, 20))
flat6 <- data.frame(time = c(1, 2, 3, 5, 6, 7), status = c(1, 1, 1, 0, 1, 1))
flat10 <- data.frame(time = 1:10, status = rep(1L, 10))
flat4 <- data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 1))
special <- data.frame(  # A: ordinary; B: no events; C: a single patient
  time = c(2, 3, 3, 5, 8, 8, 9, 12, 4, 6, 6, 10, 7),
  status = c(1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1),
  group = c(rep("A", 8), rep("B", 4), "C"))
time0 <- data.frame(time = c(0, 0, 0, 1, 2, 2, 3, 5, 5, 8), status = c(1, 1, 0, 1, 1, 0, 1, 0, 1, 0))
n_cp <- 60
entry_t <- sample(0:10, n_cp, replace = TRUE)
counting <- data.frame(entry = entry_t, time = entry_t + sample(1:15, n_cp, replace = TRUE),
                       status = rbinom(n_cp, 1, 0.7), group = sample(c("A", "B"), n_cp, replace = TRUE))
wint <- data.frame(time = sample(1:12, 40, replace = TRUE), status = rbinom(40, 1, 0.65),
                   w = sample(1:4, 40, replace = TRUE), group = sample(c("A", "B"), 40, replace = TRUE))
wfrac <- data.frame(time = sample(1:12, 40, replace = TRUE), status = rbinom(40, 1, 0.65),
                    w = round(runif(40, 0.2, 3), 3), group = sample(c("A", "B"), 40, replace = TRUE))
wfrac$status[which.max(wfrac$time)] <- 1  # a curve that reaches 0 with fractional weights
counting$w <- round(runif(n_cp, 0.2, 3), 3)  # (start, stop] data with fractional weights: IJ variance

# survey D.8: n = 200 integer-day cohort (benchmarks/_data.py make(200), seed 20240601, written once to CSV);
# events and censorings fall exactly on the tick days 30/60/90/180/365
small200 <- read.csv(file.path(out_dir, "small_n200.csv"))

datasets <- list(lung = lung_df, small200 = small200, ties = ties, flat20 = flat20, flat6 = flat6, flat10 = flat10, flat4 = flat4,
                 special = special, time0 = time0, counting = counting, wint = wint, wfrac = wfrac)

# ---- cases ----------------------------------------------------------------------------------------------
probs <- c(0.1, 0.25, 0.5, 0.75, 0.9)
run_case <- function(name, dname, by = NULL, entry = FALSE, weights = FALSE, conf_type = "log", ticks, taus,
                     conf_int = 0.95) {
  d <- datasets[[dname]]
  lhs <- if (entry) "Surv(entry, time, status)" else "Surv(time, status)"
  f <- as.formula(paste(lhs, "~", if (is.null(by)) "1" else by))
  fit <- if (weights) survfit(f, data = d, weights = w, conf.type = conf_type, conf.int = conf_int)
         else survfit(f, data = d, conf.type = conf_type, conf.int = conf_int)
  k <- if (is.null(fit$strata)) 1 else length(fit$strata)
  grp <- if (k == 1) rep(1L, length(fit$time)) else rep(seq_len(k), fit$strata)
  sm <- summary(fit, censored = TRUE)  # std.err on the scale of S
  tab <- list(group = grp, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor,
              survival = fit$surv, std_err = sm$std.err, lower = fit$lower, upper = fit$upper,
              cumhaz = fit$cumhaz, cumhaz_se = fit$std.chaz)
  mt <- summary(fit)$table
  if (k == 1) mt <- matrix(mt, nrow = 1, dimnames = list(NULL, names(mt)))
  lcl <- grep("LCL", colnames(mt)); ucl <- grep("UCL", colnames(mt))
  med <- list(records = mt[, "records"], events = mt[, "events"], median = mt[, "median"],
              lower = mt[, lcl], upper = mt[, ucl])
  q <- quantile(fit, probs = probs)
  quant <- list(probs = probs, time = as.vector(t(as.matrix(q$quantile))),
                lower = as.vector(t(as.matrix(q$lower))), upper = as.vector(t(as.matrix(q$upper))))
  s <- summary(fit, times = ticks, extend = TRUE)
  sg <- if (k == 1) rep(1L, length(s$time)) else as.integer(s$strata)
  at <- list(times = ticks, group = sg, time = s$time, n_risk = s$n.risk, n_event = s$n.event,
             n_censor = s$n.censor, survival = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper,
             cumhaz = s$cumhaz, cumhaz_se = s$std.chaz)
  rm <- lapply(taus, function(tau) {
    tt <- summary(fit, rmean = tau)$table
    if (k == 1) tt <- matrix(tt, nrow = 1, dimnames = list(NULL, names(tt)))
    list(tau = tau, rmst = tt[, "rmean"], std_err = tt[, "se(rmean)"])
  })
  list(name = name, dataset = dname, by = by, entry = entry, weights = weights, conf_type = conf_type,
       conf_level = conf_int,
       table = tab, medians = med, quantile = quant, at = at, rmst = rm)
}

ev_ticks <- function(d, extra) sort(unique(c(0, extra, head(sort(unique(d$time[d$status == 1])), 3),
                                             max(d$time) + 10)))
cases <- list()
for (ct in c("log", "log-log", "plain")) {
  cases[[length(cases) + 1]] <- run_case(paste0("lung_", ct), "lung", conf_type = ct,
    ticks = c(0, 5, 11, 100, 200, 365, 400, 600, 883, 1022, 1100), taus = c(365, 1000))
  cases[[length(cases) + 1]] <- run_case(paste0("lung_sex_", ct), "lung", by = "sex", conf_type = ct,
    ticks = c(0, 5, 11, 100, 200, 365, 400, 600, 883, 1022, 1100), taus = c(365, 1000))
  cases[[length(cases) + 1]] <- run_case(paste0("ties_", ct), "ties", by = "group", conf_type = ct,
    ticks = c(0, 1, 2, 3.5, 5, 8, 9), taus = c(4, 7.5))
  cases[[length(cases) + 1]] <- run_case(paste0("special_", ct), "special", by = "group", conf_type = ct,
    ticks = c(0, 2, 3, 6, 7, 10, 20), taus = c(6, 15))
  cases[[length(cases) + 1]] <- run_case(paste0("time0_", ct), "time0", conf_type = ct,
    ticks = c(0, 1, 2, 4, 8, 9), taus = c(3, 10))
  cases[[length(cases) + 1]] <- run_case(paste0("counting_", ct), "counting", by = "group", entry = TRUE,
    conf_type = ct, ticks = c(0, 3, 5, 8, 10, 12.5, 20, 30), taus = c(10, 20))
  cases[[length(cases) + 1]] <- run_case(paste0("counting_wfrac_", ct), "counting", by = "group", entry = TRUE,
    weights = TRUE, conf_type = ct, ticks = c(0, 3, 5, 8, 10, 12.5, 20, 30), taus = c(10, 20))
  cases[[length(cases) + 1]] <- run_case(paste0("wint_", ct), "wint", by = "group", weights = TRUE,
    conf_type = ct, ticks = c(0, 2, 5, 6.5, 12, 14), taus = c(6, 12))
  cases[[length(cases) + 1]] <- run_case(paste0("wfrac_", ct), "wfrac", by = "group", weights = TRUE,
    conf_type = ct, ticks = c(0, 2, 5, 6.5, 12, 14), taus = c(6, 12))
  cases[[length(cases) + 1]] <- run_case(paste0("small200_", ct), "small200", conf_type = ct,
    ticks = c(0, 30, 60, 90, 180, 365, 730), taus = c(365, 730))
  cases[[length(cases) + 1]] <- run_case(paste0("small200_group_", ct), "small200", by = "group", conf_type = ct,
    ticks = c(0, 30, 60, 90, 180, 365, 730), taus = c(365, 730))
  cases[[length(cases) + 1]] <- run_case(paste0("lung_sex_90_", ct), "lung", by = "sex", conf_type = ct,
    ticks = c(0, 11, 365, 1100), taus = c(365), conf_int = 0.9)
  for (dn in c("flat20", "flat6", "flat10", "flat4")) {
    d <- datasets[[dn]]
    cases[[length(cases) + 1]] <- run_case(paste0(dn, "_", ct), dn, conf_type = ct,
      ticks = ev_ticks(d, 4), taus = c(max(d$time)))
  }
}

# reverse Kaplan-Meier follow-up (lung): survfit(Surv(time, 1 - status) ~ 1)
reverse <- lapply(c("log", "log-log"), function(ct) {
  tt <- summary(survfit(Surv(time, 1 - status) ~ 1, data = lung_df, conf.type = ct))$table
  tb <- summary(survfit(Surv(time, 1 - status) ~ sex, data = lung_df, conf.type = ct))$table
  list(conf_type = ct, median = tt[["median"]], lower = tt[["0.95LCL"]], upper = tt[["0.95UCL"]],
       median_by_sex = tb[, "median"], lower_by_sex = tb[, "0.95LCL"], upper_by_sex = tb[, "0.95UCL"],
       observed_quartiles = unname(quantile(lung_df$time, c(0.25, 0.5, 0.75))),
       observed_range = range(lung_df$time),
       censored_median = median(lung_df$time[lung_df$status == 0]))
})

# ---- proportions ----------------------------------------------------------------------------------------
xn <- list(c(0, 10), c(10, 10), c(3, 10), c(7, 25), c(50, 200), c(1, 1), c(0, 1), c(13, 17))
binom <- lapply(xn, function(v) {
  x <- v[1]; n <- v[2]; res <- list(x = x, n = n)
  for (cl in c(0.95, 0.9)) {
    a <- 1 - cl
    cp <- binom.test(x, n, conf.level = cl)$conf.int
    wi <- suppressWarnings(prop.test(x, n, correct = FALSE, conf.level = cl))$conf.int
    # Jeffreys: equal-tailed Beta(x + 1/2, n - x + 1/2) quantiles; lower = 0 at x = 0, upper = 1 at x = n
    je <- qbeta(c(a / 2, 1 - a / 2), x + 0.5, n - x + 0.5)
    if (x == 0) je[1] <- 0
    if (x == n) je[2] <- 1
    res[[paste0("cl", cl * 100)]] <- list(conf_level = cl, clopper_pearson = as.numeric(cp),
                                          wilson = as.numeric(wi), jeffreys = je)
  }
  res
})
tables <- list(c(3, 1, 1, 3), c(10, 2, 3, 15), c(0, 5, 6, 2), c(12, 0, 7, 9), c(25, 30, 14, 41),
               c(1, 0, 0, 1), c(2, 7, 8, 2))
fisher <- lapply(tables, function(v) {
  m <- matrix(v, 2, byrow = TRUE)
  ft <- fisher.test(m)
  f90 <- fisher.test(m, conf.level = 0.9)
  list(table = v, p_value = ft$p.value, odds_ratio = unname(ft$estimate), lower = ft$conf.int[1],
       upper = ft$conf.int[2], lower90 = f90$conf.int[1], upper90 = f90$conf.int[2])
})

meta <- list(R = R.version.string, survival = as.character(packageVersion("survival")),
             script = "tests/reference/km_reference.R",
             note = "std_err is on the scale of S (summary.survfit); NA/NaN written as null")
data_json <- lapply(datasets[names(datasets) != "lung"], as.list)
json <- js(list(meta = meta, datasets = data_json, cases = cases, reverse = reverse, binom = binom,
                fisher = fisher))
writeLines(json, file.path(out_dir, "km_reference.json"))
cat("wrote", length(cases), "cases\n")
