# Reference values for cart_outcomes.toxicity.lab_trajectories: lowest ANC / highest CRP of each patient-day, then
# per day over patients n, median(), quantile(type = 7) quartiles, min, max.
# Run from the repository root: Rscript tests/reference/lab_trajectories.R
source(file.path("tests", "reference", "_json.R"))
set.seed(20261126)
n <- 400
labs <- data.frame(patient_id = sprintf("P%02d", sample(1:37, n, replace = TRUE)),
                   day = sample(-3:20, n, replace = TRUE),
                   anc_per_ul = round(rlnorm(n, 6.5, 1.3), 1),
                   crp_mg_dl = round(rlnorm(n, 0.5, 1.1), 3))
labs$anc_per_ul[sample(n, 40)] <- NA
labs$crp_mg_dl[sample(n, 60)] <- NA
daily <- function(col, fun) {
  d <- suppressWarnings(aggregate(labs[[col]], by = list(patient_id = labs$patient_id, day = labs$day),
                                 FUN = fun, na.rm = TRUE))  # all-blank patient-days give +-Inf: dropped below
  d <- d[is.finite(d$x), ]
  s <- do.call(rbind, lapply(split(d$x, d$day), function(x) {
    q <- quantile(x, c(0.25, 0.75), type = 7, names = FALSE)
    c(n = length(x), median = median(x), q1 = q[1], q3 = q[2], min = min(x), max = max(x))
  }))
  list(day = as.integer(rownames(s)), n = s[, "n"], median = s[, "median"], q1 = s[, "q1"], q3 = s[, "q3"],
       min = s[, "min"], max = s[, "max"])
}
out <- list(r_version = R.version.string,
            call = "aggregate(x ~ patient_id + day, FUN = min | max); per day: median(x), quantile(x, c(.25, .75), type = 7)",
            labs = labs, anc_per_ul = daily("anc_per_ul", min), crp_mg_dl = daily("crp_mg_dl", max))
writeLines(json(out), "tests/reference/lab_trajectories.json")
