# Reference values for the exact (Clopper-Pearson) binomial CI used by cart_outcomes.toxicity.ae_tables.
# Run from the repository root: Rscript tests/reference/clopper_pearson.R
x <- c(0, 1, 4, 8, 12, 3, 50, 0, 7)
n <- c(12, 9, 12, 12, 12, 3, 111, 1, 20)
ci <- t(mapply(function(a, b) binom.test(a, b, conf.level = 0.95)$conf.int, x, n))
out <- list(r_version = R.version.string, call = "binom.test(x, n, conf.level = 0.95)$conf.int",
            conf_level = 0.95, x = x, n = n, lower = ci[, 1], upper = ci[, 2])
writeLines(jsonlite_free <- (function(o) {
  num <- function(v) paste0("[", paste(trimws(formatC(v, digits = 17, format = "g")), collapse = ", "), "]")
  paste0("{\n  \"r_version\": \"", o$r_version, "\",\n  \"call\": \"", o$call, "\",\n  \"conf_level\": ", o$conf_level,
         ",\n  \"x\": ", num(o$x), ",\n  \"n\": ", num(o$n), ",\n  \"lower\": ", num(o$lower),
         ",\n  \"upper\": ", num(o$upper), "\n}")
})(out), "tests/reference/clopper_pearson.json")
