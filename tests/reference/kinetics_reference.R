# Reference values for cart_outcomes.kinetics.noncompartmental, computed independently in base R.
# Regenerate (from the repository root):  Rscript tests/reference/kinetics_reference.R
# Writes tests/reference/kinetics_reference.json. Never edit the output by hand.
#
# Conventions implemented here one profile at a time (plain loops, no vectorisation), as documented in
# clinical-definitions section 9 and in noncompartmental()'s docstring, for the default options
# blq = "zero-then-stop", day0 = "zero", window_end = "interpolate" (and the "last_sample" AUC as a second value):
#  - quantifiable = not BLQ and value > 0; BLQ before the first quantifiable -> 0, between quantifiable -> dropped,
#    the first after the last quantifiable -> 0 and the level stays 0 afterwards; day 0 level 0 when not sampled;
#  - AUC over [a, b]: each segment between consecutive kept points is integrated over its part inside the window;
#    linear, or log when the method is log-down and the level declines with both ends > 0; a clipped end takes the
#    level interpolated on its own segment (linear or log); never beyond the last point;
#  - half-life: lm(log(conc) ~ day) over the last n quantifiable points strictly after Tmax, n = 3..N;
#    the PKNCA rule: slope < 0 and adj.r.squared > max(adj.r.squared) - 1e-4, then the most points.
source(file.path("tests", "reference", "_json.R"))

profiles <- list(
  list(id = "sec13.6", day = c(0, 7, 14, 21, 28), value = c(0, 1000, 5000, 2000, 500), window = c(0, 28)),
  list(id = "no_day0", day = c(7, 14, 21, 28), value = c(1000, 5000, 2000, 500), window = c(0, 28)),
  list(id = "single_sample", day = 14, value = 1000, window = c(0, 28)),
  list(id = "all_blq", day = c(0, 7, 14), value = c(NA, NA, NA), window = c(0, 28)),
  list(id = "peak_day0", day = c(0, 7, 14, 21), value = c(800, 400, 100, 60), window = c(0, 28)),
  list(id = "tied_peaks", day = c(0, 7, 14, 21, 28), value = c(0, 900, 900, 100, 50), window = c(0, 28)),
  list(id = "blq_lead_mid_trail", day = c(0, 3, 7, 14, 21, 25, 35), value = c(NA, NA, 500, NA, 300, NA, NA),
       window = c(0, 28)),
  list(id = "interp_end", day = c(0, 4, 7, 10, 14, 21, 35, 60, 90),
       value = c(0, 150, 2400, 18000, 9000, 4000, 1500, 700, 310), window = c(0, 28)),
  list(id = "interp_to_blq", day = c(0, 7, 14, 21, 35), value = c(0, 3000, 6000, 2500, NA), window = c(0, 28)),
  list(id = "single_trailing_blq", day = c(0, 7, 14, 21, 25), value = c(0, 100, 900, 300, NA),
       window = c(0, 28)),
  list(id = "window_10_24", day = c(0, 7, 14, 21, 28), value = c(0, 1000, 5000, 2000, 500), window = c(10, 24)),
  # long_tail: the best adjusted R^2 is the last 3 points; 4-6 points are within 1e-4 of it: 6 points are chosen
  list(id = "long_tail", day = c(0, 1, 4, 7, 9, 11, 14, 21, 28, 42, 56, 90, 120, 180),
       value = c(0, 12, 340, 5200, 21000, 64000, 48000, 17000, 9100, 5900, 3990, 1400, 590, 100),
       window = c(0, 28)),
  list(id = "rising_tail", day = c(0, 7, 14, 21, 28, 60, 90), value = c(0, 5000, 1200, 900, 1000, 1300, 1500),
       window = c(0, 28)),
  list(id = "log_cross_end", day = c(0, 7, 14, 35, 63), value = c(0, 2000, 8000, 1000, 150), window = c(0, 28)),
  list(id = "blq_on_end_day", day = c(0, 7, 14, 21, 28, 42), value = c(0, 400, 1600, 700, NA, NA),
       window = c(0, 28)),
  list(id = "late_window", day = c(0, 7, 14, 28, 60, 90, 180), value = c(0, 3000, 7000, 2500, 600, 240, 30),
       window = c(28, 180))
)

level_on <- function(x, t1, t2, c1, c2, log_seg) {
  if (x == t1) return(c1)
  if (x == t2) return(c2)
  f <- (x - t1) / (t2 - t1)
  if (log_seg) c1 * exp(log(c2 / c1) * f) else c1 + (c2 - c1) * f
}

auc_profile <- function(pt, pc, a, b, zero_from, method, window_end) {
  last <- max(pt)
  if (!is.na(zero_from) && zero_from < b) {
    kind <- "zero_after_blq"; hi <- b
  } else if (any(pt == b)) {
    kind <- "observed"; hi <- b
  } else if (window_end == "interpolate" && last > b && any(pt <= b)) {
    kind <- "interpolated"; hi <- b
  } else {
    kind <- "last_sample"; hi <- if (any(pt <= b)) max(pt[pt <= b]) else NA
  }
  lo <- if (min(pt) <= a) a else min(pt)
  if (is.na(hi) || lo > hi) return(list(auc = NA, start = NA, end = NA, kind = kind))
  top <- min(hi, last)
  total <- 0
  if (length(pt) > 1) for (i in seq_len(length(pt) - 1)) {
    u <- max(pt[i], lo); v <- min(pt[i + 1], top)
    if (v <= u) next
    log_seg <- method == "log" && pc[i + 1] < pc[i] && pc[i + 1] > 0
    cu <- level_on(u, pt[i], pt[i + 1], pc[i], pc[i + 1], log_seg)
    cv <- level_on(v, pt[i], pt[i + 1], pc[i], pc[i + 1], log_seg)
    total <- total + if (log_seg) (v - u) * (cu - cv) / log(cu / cv) else (v - u) * (cu + cv) / 2
  }
  list(auc = total, start = lo, end = hi, kind = kind)
}

half_life <- function(day, conc, q, tmax) {
  keep <- q & day > tmax
  x <- day[keep]; y <- log(conc[keep]); n_all <- length(x)
  none <- list(lambda_z = NA, half_life = NA, n_points = NA, adj_r2 = NA)
  if (n_all < 3) return(none)
  fits <- lapply(3:n_all, function(n) {
    idx <- (n_all - n + 1):n_all
    fit <- lm(y ~ x, data = data.frame(x = x[idx], y = y[idx]))
    list(n = n, slope = unname(coef(fit)[2]), adj = summary(fit)$adj.r.squared)
  })
  adj <- vapply(fits, function(f) f$adj, 0)
  best <- max(adj, na.rm = TRUE)
  ok <- vapply(fits, function(f) f$slope < 0, TRUE) & !is.na(adj) & adj > best - 1e-4
  if (!any(ok)) return(none)
  f <- fits[[max(which(ok))]]  # fits are in increasing n: the last eligible one has the most points
  list(lambda_z = -f$slope, half_life = log(2) / -f$slope, n_points = f$n, adj_r2 = f$adj)
}

one <- function(p) {
  blq <- is.na(p$value)
  q <- !blq & p$value > 0
  conc <- ifelse(q, p$value, 0)
  i <- seq_along(p$day)
  if (any(q)) {
    first <- min(which(q)); last <- max(which(q))
    keep <- q | (!q & i < first) | (i == last + 1)
    zero_from <- if (last < length(p$day)) p$day[last + 1] else NA
    cmax <- max(conc[q]); tmax <- min(p$day[q & conc == cmax])
    clast <- conc[last]; tlast <- p$day[last]
  } else {
    keep <- rep(TRUE, length(q)); zero_from <- NA
    cmax <- 0; tmax <- NA; clast <- NA; tlast <- NA
  }
  pt <- p$day[keep]; pc <- conc[keep]
  if (!any(p$day == 0)) { pt <- c(0, pt); pc <- c(0, pc) }
  res <- list(id = p$id, day = I(p$day), value = I(p$value), window = I(p$window),
              cmax = cmax, tmax = tmax, clast = clast, tlast = tlast)
  for (m in c("linear", "log")) {
    for (we in c("interpolate", "last_sample")) {
      r <- auc_profile(pt, pc, p$window[1], p$window[2], zero_from, m, we)
      if (!any(q)) r$auc <- 0
      res[[paste0("auc_", m, "_", we)]] <- r
    }
  }
  res$half_life <- if (any(q)) half_life(p$day, conc, q, tmax) else list(lambda_z = NA, half_life = NA,
                                                                           n_points = NA, adj_r2 = NA)
  res
}

out <- list(r_version = R.version.string,
            method = "base R: closed-form trapezoids; lm(log(conc) ~ day) + summary()$adj.r.squared",
            profiles = lapply(profiles, one))
writeLines(json(out), file.path("tests", "reference", "kinetics_reference.json"))
