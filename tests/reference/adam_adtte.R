# Kaplan-Meier medians of the ADaM ADTTE that `cart-outcomes export adam` writes for the CD7 seed cohort, by R
# survival on the exported dataset itself: survfit(Surv(AVAL, 1 - CNSR) ~ 1) per PARAMCD.
#
# Regenerate from the repository root:
#   python -m tests.reference.test_adam_against_R     # writes tests/reference/adam_adtte.xpt (the demo's ADTTE)
#   Rscript tests/reference/adam_adtte.R              # writes tests/reference/adam_adtte.json (never edit by hand)
# The xpt is read with foreign::read.xport (SAS transport v5); the demo plan's conf.type is log-log.
suppressPackageStartupMessages({library(survival); library(foreign)})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
source(file.path(here, "_json.R"))
d <- read.xport(file.path(here, "adam_adtte.xpt"))

num <- function(x) if (length(x) == 1 && is.na(x)) NA_real_ else unname(as.numeric(x))
out <- list()
for (p in unique(as.character(d$PARAMCD))) {
  s <- d[d$PARAMCD == p, ]
  fit <- survfit(Surv(AVAL, 1 - CNSR) ~ 1, data = s, conf.type = "log-log")
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  out[[p]] <- list(n = nrow(s), events = sum(1 - s$CNSR), median = num(q$quantile), lower = num(q$lower),
                   upper = num(q$upper), usubjid = I(as.character(s$USUBJID)), aval = I(s$AVAL), cnsr = I(s$CNSR))
}
writeLines(json(list(versions = versions(), foreign = as.character(packageVersion("foreign")), adtte = out)),
           file.path(here, "adam_adtte.json"))
