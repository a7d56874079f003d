# Reference values for cart_outcomes.stats.cox_ph (R survival::coxph, cox.zph, survfit.coxph).
# Regenerate from the repository root:  Rscript tests/reference/cox_reference.R
# Writes cox_reference.json and the data sets it used (cox_*.csv) beside this script. Base R + survival only.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

source(file.path(here, "_json.R"))

# ---- data sets ---------------------------------------------------------------------------------------------
lung2 <- lung[, c("inst", "time", "status", "age", "sex", "ph.ecog")]
lung2$event <- as.integer(lung2$status == 2)
lung2$status <- NULL
lung2$w <- 1 + (seq_len(nrow(lung2)) %% 3)           # deterministic case weights 1, 2, 3
write.csv(lung2, file.path(here, "cox_lung.csv"), row.names = FALSE, na = "")

heart2 <- heart[, c("id", "start", "stop", "event", "age", "year", "surgery", "transplant")]
heart2$transplant <- as.integer(as.character(heart2$transplant))
heart2$w <- 1 + (seq_len(nrow(heart2)) %% 2) * 0.5       # deterministic case weights 1, 1.5
write.csv(heart2, file.path(here, "cox_heart.csv"), row.names = FALSE)

# naive (immortal-time biased) analysis: transplant ever, as a baseline covariate, time from acceptance
jasa_naive <- data.frame(futime = pmax(0.5, as.numeric(jasa$fu.date - jasa$accept.dt)),
                         fustat = jasa$fustat, transplant = jasa$transplant, age = jasa$age)
write.csv(jasa_naive, file.path(here, "cox_jasa_naive.csv"), row.names = FALSE)

# monotone likelihood: every subject with x = 1 fails before any subject with x = 0
sep <- data.frame(time = c(1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10, 11, 12, 13, 14),
                  event = c(1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1),
                  x = c(1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                  z = c(0.5, -1.2, 0.3, 1.1, -0.4, 0.9, -0.7, 0.2, 1.5, -1.1, 0.0, 0.6, -0.3, 1.3, -0.8))
write.csv(sep, file.path(here, "cox_separated.csv"), row.names = FALSE)

# ---- fits --------------------------------------------------------------------------------------------------
describe <- function(fit, robust = FALSE) {
  s <- summary(fit)
  cf <- s$coefficients
  df <- length(fit$coefficients)
  chi <- function(x) I(c(x, df, pchisq(x, df, lower.tail = FALSE)))
  # summary() rounds the Wald statistic to 2 decimals: use the unrounded fit components
  tests <- list(likelihood_ratio = chi(2 * diff(fit$loglik)), wald = chi(unname(fit$wald.test)),
                score = chi(unname(fit$score)))
  if (robust) tests$robust_score <- chi(unname(fit$rscore))
  list(
    term = I(rownames(cf)), coef = I(unname(fit$coefficients)), se = I(sqrt(diag(if (robust) fit$naive.var else fit$var))),
    robust_se = I(if (robust) unname(cf[, "robust se"]) else rep(NA, nrow(cf))),
    z = I(unname(cf[, "z"])), p = I(unname(cf[, "Pr(>|z|)"])),
    lower = I(unname(s$conf.int[, "lower .95"])), upper = I(unname(s$conf.int[, "upper .95"])),
    var = fit$var, loglik = I(fit$loglik), tests = tests,
    concordance = list(value = unname(fit$concordance["concordance"]), se = unname(fit$concordance["std"]),
                       concordant = unname(fit$concordance["concordant"]),
                       discordant = unname(fit$concordance["discordant"]),
                       tied_risk = unname(fit$concordance["tied.x"])),
    n = fit$n, events = fit$nevent, iter = fit$iter,
    excluded = I(if (is.null(fit$na.action)) integer(0) else unname(as.integer(fit$na.action)) - 1L)
  )
}
zph <- function(fit) {
  out <- list()
  for (tr in c("km", "rank", "identity")) {
    z <- cox.zph(fit, transform = tr)$table
    out[[tr]] <- list(term = I(rownames(z)), statistic = I(unname(z[, "chisq"])), df = I(unname(z[, "df"])),
                      p = I(unname(z[, "p"])))
  }
  out
}
pred <- function(fit, newdata, times) {
  sf <- survfit(fit, newdata = newdata)
  ss <- summary(sf, times = times)
  list(times = I(times), survival = unname(as.matrix(ss$surv)), cumhaz = unname(as.matrix(ss$cumhaz)))
}

cases <- list()
f <- Surv(time, event) ~ age + sex + ph.ecog
for (ties in c("efron", "breslow", "exact")) {
  fit <- coxph(f, lung2, ties = ties)
  cases[[paste0("lung_", ties)]] <- c(describe(fit), list(ties = ties, zph = zph(fit)))
}
fit <- coxph(f, lung2)
newd <- data.frame(age = c(60, 70, 50), sex = c(1, 2, 2), ph.ecog = c(0, 2, 1))
cases$lung_efron$predict <- pred(fit, newd, c(5, 100, 301, 500, 800))
sf <- survfit(fit, newdata = newd[2, ])  # full curve on R's own time grid
cases$lung_efron$predict_grid <- list(time = I(sf$time), survival = I(as.vector(sf$surv)),
                                      cumhaz = I(as.vector(sf$cumhaz)))
fitb <- coxph(f, lung2, ties = "breslow")
cases$lung_breslow$predict <- pred(fitb, newd, c(5, 100, 301, 500, 800))

fit <- suppressWarnings(coxph(f, lung2, iter.max = 2))  # out of iterations
cases$lung_iter2 <- list(coef = I(unname(fit$coefficients)), loglik = I(fit$loglik), var = fit$var, iter = fit$iter,
  warning = tryCatch({coxph(f, lung2, iter.max = 2); ""}, warning = function(w) conditionMessage(w)))
fit <- coxph(f, lung2, robust = TRUE)
cases$lung_robust <- c(describe(fit, TRUE), list(ties = "efron"))
fit <- coxph(Surv(time, event) ~ age + sex + ph.ecog + cluster(inst), lung2)
cases$lung_cluster <- c(describe(fit, TRUE), list(ties = "efron"))
fit <- coxph(Surv(time, event) ~ age + sex + ph.ecog, lung2, ties = "breslow", robust = TRUE)
cases$lung_robust_breslow <- c(describe(fit, TRUE), list(ties = "breslow"))
fit <- coxph(Surv(time, event) ~ age + ph.ecog + strata(sex), lung2)
cases$lung_strata <- c(describe(fit), list(ties = "efron", zph = zph(fit)))
cases$lung_strata$predict <- pred(fit, data.frame(age = c(60, 60), ph.ecog = c(1, 1), sex = c(1, 2)), c(100, 300))
fit <- coxph(f, lung2, weights = w)
cases$lung_weights <- c(describe(fit), list(ties = "efron", zph = zph(fit)))
fit <- coxph(f, lung2, weights = w, robust = TRUE)
cases$lung_weights_robust <- c(describe(fit, TRUE), list(ties = "efron"))
fit <- coxph(Surv(time, event) ~ age + sex + factor(ph.ecog), lung2)
cases$lung_factor <- c(describe(fit), list(ties = "efron", zph = zph(fit)))

fit <- coxph(Surv(start, stop, event) ~ transplant + age + surgery, heart2)
cases$heart <- c(describe(fit), list(ties = "efron", zph = zph(fit)))
cases$heart$predict <- pred(fit, data.frame(transplant = c(0, 1), age = c(-5, 5), surgery = c(0, 1)),
                            c(10, 50, 200, 1000))
fit <- coxph(Surv(start, stop, event) ~ transplant + age + surgery, heart2, ties = "breslow")
cases$heart_breslow <- c(describe(fit), list(ties = "breslow"))
fit <- coxph(Surv(start, stop, event) ~ transplant + age + surgery, heart2, ties = "exact")
class(fit) <- "coxph"  # survival 3.5-3 returns a bare list for exact ties on (start, stop] data; the fit is complete
cases$heart_exact <- c(describe(fit), list(ties = "exact"))
fit <- coxph(Surv(time, event) ~ age + ph.ecog + strata(sex), lung2, ties = "exact")
cases$lung_strata_exact <- c(describe(fit), list(ties = "exact"))
fit <- coxph(Surv(start, stop, event) ~ transplant + age + surgery + cluster(id), heart2)
cases$heart_cluster <- c(describe(fit, TRUE), list(ties = "efron"))
fit <- coxph(Surv(start, stop, event) ~ transplant + age + strata(surgery) + cluster(id), heart2, weights = w)
cases$heart_strata_cluster_weights <- c(describe(fit, TRUE), list(ties = "efron", zph = zph(fit)))
fit <- coxph(Surv(time, event) ~ age + ph.ecog + strata(sex) + cluster(inst), lung2, ties = "breslow")
cases$lung_strata_cluster <- c(describe(fit, TRUE), list(ties = "breslow"))
fit <- coxph(Surv(start, stop, event) ~ transplant, heart2)
cases$jasa_timedep <- c(describe(fit), list(ties = "efron"))
fit <- coxph(Surv(futime, fustat) ~ transplant, jasa_naive)
cases$jasa_naive <- c(describe(fit), list(ties = "efron"))

fit <- suppressWarnings(coxph(Surv(time, event) ~ x + z, sep))
cases$separated <- c(describe(fit), list(ties = "efron",
  warning = tryCatch({coxph(Surv(time, event) ~ x + z, sep); ""}, warning = function(w) conditionMessage(w))))

out <- list(
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  survival = as.character(packageVersion("survival"))),
  generated_by = "tests/reference/cox_reference.R",
  cases = cases)
writeLines(json(out), file.path(here, "cox_reference.json"))
