# Reference values for the exact (Clopper-Pearson) binomial CI used by cart_outcomes.toxicity.ae_tables.
# Run from the repository root: Rscript tests/reference/clopper_pearson.R
source(file.path("tests", "reference", "_json.R"))
x <- c(0, 1, 4, 8, 12, 3, 50, 0, 7)
n <- c(12, 9, 12, 12, 12, 3, 111, 1, 20)
ci <- t(mapply(function(a, b) binom.test(a, b, conf.level = 0.95)$conf.int, x, n))
out <- list(r_version = R.version.string, call = "binom.test(x, n, conf.level = 0.95)$conf.int",
            conf_level = 0.95, x = x, n = n, lower = ci[, 1], upper = ci[, 2])
writeLines(json(out), "tests/reference/clopper_pearson.json")
