# Reference p-values and intervals for the report's Table 1 / response / safety tables.
# Regenerate: Rscript tests/reference/report_table1.R   (writes tests/reference/report_table1.json)
# The cohort is the hostile 12-patient cohort of tests/report/conftest.py (values copied below).
age <- c(12, 25, 34, 41, 19, 56, 63, 8, 29, 47, 38, 22)
sex <- c("F", "M", "M", "F", "M", "M", "F", "M", "F", "M", "M", "F")
diagnosis <- c(rep("T-ALL", 8), rep("T-LBL", 4))
hsct <- rep(c("script", "none"), 6)
response <- c("CR", "CRi", "NR", "CR", "PR", "NR", "CR", "CRi", "NR", "CR", NA, "CR")
crs <- c(1, 2, 3, 1, 2, 3, 1, 1, 3, 2, 3, 1)
# a tied sample (normal approximation with continuity correction) and a three-group comparison
tied_x <- c(1, 2, 2, 3, 5, 8); tied_y <- c(2, 3, 3, 4, 9, 9, 10)
kw_values <- c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8); kw_groups <- rep(c("a", "b", "c"), 4)
rxc <- matrix(c(3, 1, 0, 2, 4, 1, 0, 2, 5), nrow = 3)  # a 3 x 3 table for the exact r x c test
source(file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))), "_json.R"))
num <- function(x) unname(as.numeric(x))
out <- list(
  r_version = R.version.string,
  age_by_hsct_wilcox_p = num(wilcox.test(age ~ hsct)$p.value),
  age_by_diagnosis_wilcox_p = num(wilcox.test(age ~ diagnosis)$p.value),
  sex_by_hsct_fisher_p = num(fisher.test(table(sex, hsct))$p.value),
  response_by_hsct_fisher_p = num(fisher.test(table(response, hsct))$p.value),
  crs_by_diagnosis_fisher_p = num(fisher.test(table(factor(crs), diagnosis))$p.value),
  tied_wilcox_p = num(suppressWarnings(wilcox.test(tied_x, tied_y))$p.value),
  kruskal_p = num(kruskal.test(kw_values, factor(kw_groups))$p.value),
  rxc_fisher_p = num(fisher.test(rxc)$p.value),
  orr_8_of_12_cp = num(binom.test(8, 12)$conf.int),
  crs_grade3_4_of_12_cp = num(binom.test(4, 12)$conf.int),
  orr_8_of_12_wilson = num(prop.test(8, 12, correct = FALSE)$conf.int)
)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
writeLines(json(out), file.path(here, "report_table1.json"))
