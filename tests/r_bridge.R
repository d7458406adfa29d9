# Runs the R code of the lesson pages' R tabs and writes their numbers as fixtures.
#
#   Rscript tests/r_bridge.R            (from the repository root)
#
# Every ```r block of a page in book/ (the tabs beside its fits, residual checks and
# means tables) is run, in page order, in one fresh environment per page, from the
# repository root (the snippets read data/...). The value of every top-level
# expression that is a model fit or a table is recorded under the name it is assigned
# to (m_nb <- ...) or the text of the expression (pairs(emm)), as numbers() writes
# them; tests/test_r_bridge.py compares them with the values the page glued in
# Python (course/lessonkit/bridge.py writes the same layout).
#
# DHARMa is not packaged for Debian, so on a machine without it the expressions that
# need DHARMa (simulateResiduals, testDispersion, ...) or a newer glmmTMB
# (set_simcodes) are not run: the fixtures then check only the glmmTMB, lme4 and
# emmeans numbers, and list the expressions left out under "skipped".
suppressPackageStartupMessages({
  library(jsonlite)
})

pdf(NULL)                   # residual plots of the snippets are drawn, but to no file
pages <- sort(Sys.glob("book/*/*.md"))
out_file <- "tests/fixtures/r_bridge.json"

r_blocks <- function(path) {
  lines <- readLines(path, warn = FALSE)
  starts <- grep("^```r\\s*$", lines)
  blocks <- character(0)
  for (s in starts) {
    e <- s + which(grepl("^```\\s*$", lines[(s + 1):length(lines)]))[1]
    blocks <- c(blocks, paste(lines[(s + 1):(e - 1)], collapse = "\n"))
  }
  blocks
}

unavailable <- function(expr, env) {
  # what this R lacks to run the expression: a package it loads (DHARMa), or the first
  # function it calls that does not exist (DHARMa's; set_simcodes before glmmTMB 1.1.10)
  if (is.call(expr) && identical(expr[[1]], as.name("library")) &&
      !requireNamespace(as.character(expr[[2]]), quietly = TRUE)) return(as.character(expr[[2]]))
  for (f in called_functions(expr)) if (!exists(f, envir = env, mode = "function")) return(f)
  NULL
}

called_functions <- function(expr) {
  # names of the functions an expression calls, not looking inside formulas (whose
  # ar1(), us() are model terms, not calls)
  if (!is.call(expr)) return(character(0))
  head <- expr[[1]]
  if (identical(head, as.name("~"))) return(character(0))
  own <- if (is.name(head)) as.character(head) else called_functions(head)
  unique(c(own, unlist(lapply(as.list(expr)[-1], called_functions))))
}

plain <- function(x) {
  x <- as.numeric(x)
  lapply(x, function(v) if (is.na(v)) NULL else v)
}

table_numbers <- function(df) {
  df <- as.data.frame(df, check.names = FALSE)
  keep <- vapply(df, function(col) is.numeric(col), logical(1))
  lapply(df[keep], plain)
}

numbers <- function(value) {
  if (inherits(value, "glmmTMB")) {
    return(list(coef = plain(glmmTMB::fixef(value)$cond),
                se = plain(sqrt(diag(vcov(value)$cond))),
                logLik = plain(logLik(value)), AIC = plain(AIC(value)),
                converged = value$fit$convergence == 0))
  }
  if (inherits(value, "merMod")) {
    return(list(coef = plain(lme4::fixef(value)),
                se = plain(sqrt(diag(as.matrix(vcov(value))))),
                logLik = plain(logLik(value)), AIC = plain(AIC(value))))
  }
  if (inherits(value, "lm")) {
    # a fixed-effects fit; its log-likelihood is the REML one, as the pages fit it (REML=True)
    ll <- logLik(value, REML = TRUE)
    return(list(coef = plain(coef(value)), se = plain(sqrt(diag(vcov(value)))),
                logLik = plain(ll), AIC = plain(AIC(ll))))
  }
  if (inherits(value, "ranef.mer")) return(table_numbers(as.data.frame(value)))
  if (inherits(value, "emmGrid")) return(table_numbers(summary(value)))
  if (inherits(value, "summary_emm") || inherits(value, "anova")) return(table_numbers(value))
  NULL
}

key_of <- function(expr) {
  if (is.call(expr) && as.character(expr[[1]]) %in% c("<-", "=") && is.name(expr[[2]]))
    return(as.character(expr[[2]]))
  paste(deparse(expr, width.cutoff = 500L), collapse = " ")
}

result <- list()
for (page in pages) {
  blocks <- r_blocks(page)
  if (!length(blocks)) next
  name <- sub("\\.md$", "", basename(page))
  env <- new.env(parent = globalenv())
  values <- list()
  skipped <- character(0)
  for (block in blocks) {
    for (expr in parse(text = block, keep.source = FALSE)) {
      missing_fn <- unavailable(expr, env)
      if (!is.null(missing_fn)) {
        skipped <- c(skipped, paste(deparse(expr, width.cutoff = 500L), collapse = " "))
        next
      }
      value <- withCallingHandlers(eval(expr, env),
                                   warning = function(w) invokeRestart("muffleWarning"))
      assigned <- is.call(expr) && as.character(expr[[1]]) %in% c("<-", "=")
      if (assigned && !is.name(expr[[2]]))
        next                                    # worms$trt <- factor(...): data preparation
      got <- numbers(value)
      if (is.null(got) && !assigned && is.data.frame(value))
        got <- table_numbers(value)             # a table the tab prints (data read are assigned)
      if (!is.null(got)) values[[key_of(expr)]] <- got
    }
  }
  result[[name]] <- list(values = values, skipped = as.list(unique(skipped)))
  message(sprintf("%s: %d values, %d expressions left out", name, length(values),
                  length(unique(skipped))))
}

result[["_made_by"]] <- list(
  script = "tests/r_bridge.R",
  R = R.version.string,
  packages = lapply(c(glmmTMB = "glmmTMB", emmeans = "emmeans", lme4 = "lme4",
                      lmerTest = "lmerTest", pbkrtest = "pbkrtest"),
                    function(p) as.character(packageVersion(p))),
  DHARMa = requireNamespace("DHARMa", quietly = TRUE))
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), out_file)
message("wrote ", out_file)
