# Reference values for cart_outcomes.kinetics.summarize_kinetics: geometric mean and geometric CV% over positive
# values, median and range by group, Wilcoxon rank-sum by response, Spearman by CRS grade, Kruskal-Wallis by grade.
# Run from the repository root: Rscript tests/reference/kinetics_summary.R
source(file.path("tests", "reference", "_json.R"))
d <- read.csv(file.path("tests", "reference", "kinetics_summary.csv"))
geo <- function(x) {
  p <- x[!is.na(x) & x > 0]
  list(n_positive = length(p), geo_mean = if (length(p)) exp(mean(log(p))) else NA,
       geo_cv_pct = if (length(p) > 1) 100 * sqrt(exp(sd(log(p))^2) - 1) else NA)
}
describe <- function(x) {
  x <- x[!is.na(x)]
  list(n = length(x), median = median(x), minimum = min(x), maximum = max(x))
}
cases <- list()
for (parameter in c("cmax", "auc", "tmax_days")) {
  for (by in c("response", "crs_grade")) {
    for (g in sort(unique(d[[by]]))) {
      x <- d[[parameter]][d[[by]] == g]
      row <- c(list(parameter = parameter, by = by, group = g), describe(x))
      if (parameter != "tmax_days") row <- c(row, geo(x))
      cases[[length(cases) + 1]] <- row
    }
  }
}
tests <- list()
for (parameter in c("cmax", "auc", "tmax_days")) {
  ok <- !is.na(d[[parameter]])
  w <- suppressWarnings(wilcox.test(d[[parameter]][ok & d$response == "Non-responder"],
                                    d[[parameter]][ok & d$response == "Responder"]))
  s <- suppressWarnings(cor.test(d[[parameter]][ok], d$crs_grade[ok], method = "spearman"))
  k <- kruskal.test(d[[parameter]][ok], factor(d$crs_grade[ok]))
  tests[[length(tests) + 1]] <- list(parameter = parameter, wilcox_w = unname(w$statistic), wilcox_p = w$p.value,
                                     wilcox_method = w$method, spearman_rho = unname(s$estimate),
                                     spearman_s = unname(s$statistic), spearman_p = s$p.value,
                                     kruskal_stat = unname(k$statistic), kruskal_p = k$p.value, n = sum(ok))
}
out <- list(r_version = R.version.string, summaries = cases, tests = tests)
writeLines(json(out), file.path("tests", "reference", "kinetics_summary.json"))
