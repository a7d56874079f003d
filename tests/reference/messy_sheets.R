# Reference values for the messy clinician sheets (tests/fixtures/messy/), computed with R survival and cmprsk from
# the canonical truth of the same 24 patients (tests/fixtures/messy/truth.csv).
#
# Regenerate from the repository root:  Rscript tests/reference/messy_sheets.R
# Writes tests/reference/messy_sheets.json (never edit it by hand).
#
# Endpoint definitions, written here independently of the Python code (clinical-definitions section 7.1):
#   Best response = day-28 response (the sheets have no best-response column).
#   Responders = CR/CRi/CRh/PR at day 28; ORR over all 24 infused patients (NE counts as non-responder).
#   OS  : death (any cause); censored at last follow-up (a deceased patient's follow-up ends at death).
#   PFS : first of relapse, death, and day 28 for a day-28 NR/PD (non-responder event at the assessment; the sheets
#         have no assessment date, so the nominal day 28); HSCT not censored.
#   CIR : the PFS failure when it is a relapse, a non-response, or a death whose cause names the disease
#         ("Progression", "Relapse") without a relapse date; NRM: any other death (infection, GVHD, sepsis).
#   HSCT comparison: responders grouped by allo-HSCT at any time (naive log-rank, biased by immortal time).
#   CRS: pre-graded maximum grade; any grade >= 1 and grade >= 3, exact (Clopper-Pearson) 95% CI.
#   KM: log-log CI (conf.type = "log-log"); 12 months = 365.25 days.
suppressPackageStartupMessages({library(survival); library(cmprsk)})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- normalizePath(file.path(dirname(script), "..", ".."))
source(file.path(root, "tests", "reference", "_json.R"))
d <- read.csv(file.path(root, "tests", "fixtures", "messy", "truth.csv"), stringsAsFactors = FALSE,
              na.strings = "", colClasses = c(patient_id = "character"))

resp_set <- c("CR", "CRi", "CRh", "PR")
year <- 365.25
num <- function(x) if (length(x) == 1 && is.na(x)) NA_real_ else unname(as.numeric(x))

d$os_time <- ifelse(is.na(d$death_day), d$last_followup_day, d$death_day)
d$os_event <- as.integer(!is.na(d$death_day))
nr_day <- ifelse(d$day28_response %in% c("NR", "PD", "SD"), 28, NA)
disease_death <- !is.na(d$death_day) & grepl("progress|relaps", d$death_cause, ignore.case = TRUE)
relapse <- ifelse(is.na(d$progression_day) & disease_death, d$death_day, d$progression_day)
failure <- pmin(relapse, nr_day, na.rm = TRUE)
fail <- pmin(failure, d$death_day, na.rm = TRUE)
d$pfs_time <- ifelse(is.na(fail), d$os_time, fail)
d$pfs_event <- as.integer(!is.na(fail))
d$cir_status <- ifelse(!is.na(failure) & failure <= d$pfs_time, 1L, ifelse(d$pfs_event == 1, 2L, 0L))
d$responder <- d$day28_response %in% resp_set
d$hsct <- as.integer(!is.na(d$hsct_day))

km <- function(time, event) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = "log-log")
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  s <- summary(fit, times = year, extend = TRUE)
  list(n = length(time), events = sum(event), median = num(q$quantile), median_lower = num(q$lower),
       median_upper = num(q$upper), at_12m = num(s$surv), at_12m_lower = num(s$lower),
       at_12m_upper = num(s$upper))
}

orr <- binom.test(sum(d$responder), nrow(d))
ci <- cuminc(d$pfs_time, d$cir_status, cencode = 0)
tp <- timepoints(ci, year)
resp <- d[d$responder, ]
lr <- function(tcol, ecol) {
  s <- survdiff(as.formula(sprintf("Surv(%s, %s) ~ hsct", tcol, ecol)), data = resp)
  list(chisq = num(s$chisq), p = num(pchisq(s$chisq, 1, lower.tail = FALSE)))
}
crs_any <- binom.test(sum(d$crs_grade >= 1), nrow(d))
crs_3 <- binom.test(sum(d$crs_grade >= 3), nrow(d))

out <- list(
  versions = versions(),
  n = nrow(d),
  orr = list(responders = sum(d$responder), n = nrow(d), estimate = num(orr$estimate),
             lower = num(orr$conf.int[1]), upper = num(orr$conf.int[2])),
  os = km(d$os_time, d$os_event),
  pfs = km(d$pfs_time, d$pfs_event),
  cir_12m = num(tp$est["1 1", 1]), cir_12m_var = num(tp$var["1 1", 1]),
  nrm_12m = num(tp$est["1 2", 1]), nrm_12m_var = num(tp$var["1 2", 1]),
  cir_events = sum(d$cir_status == 1), nrm_events = sum(d$cir_status == 2),
  hsct_responders = list(n_hsct = sum(resp$hsct), n_no_hsct = sum(1 - resp$hsct),
                         os = lr("os_time", "os_event"), pfs = lr("pfs_time", "pfs_event")),
  crs_any = list(n = sum(d$crs_grade >= 1), estimate = num(crs_any$estimate), lower = num(crs_any$conf.int[1]),
                 upper = num(crs_any$conf.int[2])),
  crs_grade3 = list(n = sum(d$crs_grade >= 3), estimate = num(crs_3$estimate), lower = num(crs_3$conf.int[1]),
                    upper = num(crs_3$conf.int[2]))
)
writeLines(json(out), file.path(root, "tests", "reference", "messy_sheets.json"))
