## glmmTMB side of benchmarks/bench_fit.py (not meant to be run by hand).
##
##   Rscript benchmarks/bench_fit_glmmtmb.R jobs.json
##
## jobs.json is a list of jobs: {name, csv, factors: {column: [levels]}, data_name,
## call, reps, max_seconds}.  For each job the CSV is read back with the factor
## levels given (the same rows and levels glmm_lib sees), assigned to data_name,
## and the glmmTMB call is timed with system.time() `reps` times (fewer when one
## run already took more than max_seconds).  One line per job is printed:
##   RESULT {"name": ..., "times": [...], "logLik": ..., ...}
suppressMessages({library(glmmTMB); library(jsonlite)})

args <- commandArgs(trailingOnly = TRUE)
jobs <- fromJSON(args[1], simplifyVector = FALSE)

versions <- list(R = R.version.string,
                 glmmTMB = as.character(packageVersion("glmmTMB")),
                 TMB = as.character(packageVersion("TMB")))
cat("VERSIONS", toJSON(versions, auto_unbox = TRUE), "\n")
flush(stdout())

for (job in jobs) {
  res <- list(name = job$name)
  fac <- names(job$factors)
  cc <- if (length(fac)) setNames(rep("character", length(fac)), fac) else NA
  df <- read.csv(job$csv, stringsAsFactors = FALSE, colClasses = cc)
  for (v in fac) df[[v]] <- factor(df[[v]], levels = unlist(job$factors[[v]]))
  assign(job$data_name, df, envir = globalenv())
  rm(df)
  times <- numeric(0); warns <- character(0); fit <- NULL
  err <- tryCatch({
    for (i in seq_len(job$reps)) {
      fit <- NULL; invisible(gc())
      tt <- system.time(fit <- withCallingHandlers(
        eval(parse(text = job$call), envir = globalenv()),
        warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
        message = function(m) invokeRestart("muffleMessage")))
      times <- c(times, tt[["elapsed"]])
      if (tt[["elapsed"]] > job$max_seconds) break
    }
    NULL
  }, error = function(e) conditionMessage(e))
  res$times <- I(times)
  res$error <- err
  if (!is.null(fit)) {
    res$logLik <- tryCatch(as.numeric(logLik(fit)), error = function(e) NA)
    res$objective <- fit$fit$objective
    res$convergence <- fit$fit$convergence
    res$pdHess <- isTRUE(fit$sdr$pdHess)
  }
  res$warnings <- I(unique(warns))
  cat("RESULT", toJSON(res, auto_unbox = TRUE, digits = NA, null = "null", na = "null"), "\n")
  flush(stdout())
  rm(list = job$data_name, envir = globalenv())
  fit <- NULL; invisible(gc())
}
