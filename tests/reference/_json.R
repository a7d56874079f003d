# Tiny JSON writer shared by the cart_outcomes reference scripts (tests/reference/*.R: source() it)
# (base R only; the R installation used for references has no jsonlite). Numbers are written with 17 significant
# digits, NA as null. Lists with names become objects, unnamed lists and vectors become arrays; wrap a length-1
# vector in I() to force an array.
json <- function(x) {
  if (is.null(x)) return("null")
  if (is.data.frame(x)) x <- as.list(x)
  if (is.list(x)) {
    items <- vapply(x, json, character(1))
    if (!is.null(names(x))) return(paste0("{", paste0('"', names(x), '": ', items, collapse = ", "), "}"))
    return(paste0("[", paste(items, collapse = ", "), "]"))
  }
  if (is.matrix(x)) return(json(lapply(seq_len(nrow(x)), function(i) I(as.vector(x[i, ])))))
  force_array <- inherits(x, "AsIs")
  if (is.factor(x)) x <- as.character(x)
  v <- if (is.character(x)) {
    ifelse(is.na(x), "null", paste0('"', gsub('"', '\\\\"', x), '"'))
  } else if (is.logical(x)) {
    ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    ifelse(is.na(x) | !is.finite(x), "null", sprintf("%.17g", as.numeric(x)))
  }
  if (length(v) == 1 && !force_array) return(v)
  paste0("[", paste(v, collapse = ", "), "]")
}
versions <- function() list(
  R = paste(R.version$major, R.version$minor, sep = "."),
  survival = as.character(packageVersion("survival")),
  cmprsk = as.character(packageVersion("cmprsk"))
)
