"""What the report says in words: the residual tests and the model comparison read
in plain language (markdown)."""
from __future__ import annotations

import numpy as np

#: The level at which the report calls a test's result a finding.
ALPHA = 0.05


def _p(p) -> str:
    if p is None or not np.isfinite(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def reading_of_tests(tests: dict, family: str = "") -> str:
    """Markdown paragraphs that say what the simulated-residual tests found."""
    findings, fine = [], []

    def get(name):
        t = tests.get(name)
        if t is None:
            return None, None
        p = getattr(t, "p_value", None)
        if p is None:
            p = getattr(t, "pvalue", None)
        return t, (float(p) if p is not None else None)

    t, p = get("uniformity")
    if t is not None:
        if p is not None and p < ALPHA:
            findings.append(
                f"**Distribution** ({_p(p)}): the residuals are not uniform, so the data do not "
                "follow the distribution the model assumes as a whole. This is often the same "
                "problem the dispersion test sees, or a wrong family.")
        else:
            fine.append(f"the overall distribution of the residuals ({_p(p)})")
    for name, how in (("dispersion", ""),
                      ("dispersion_conditional", ", random effects at their predicted values")):
        t, p = get(name)
        if t is None:
            continue
        ratio = getattr(t, "statistic", np.nan)
        if p is not None and p < ALPHA and ratio > 1:
            findings.append(
                f"**Overdispersion** ({_p(p)}, observed spread {ratio:.2f} times the "
                f"simulated{how}): the data vary more than the model expects. Standard errors "
                "and p-values are then too optimistic. A negative binomial family (for counts) "
                "or an observation-level random effect usually helps.")
        elif p is not None and p < ALPHA:
            findings.append(
                f"**Underdispersion** ({_p(p)}, observed spread {ratio:.2f} times the "
                f"simulated{how}): the data vary less than the model expects; tests are then "
                "conservative (real effects are harder to detect).")
        elif name == "dispersion" and _flags(tests.get("dispersion_conditional")):
            continue   # said with the conditional test, which has the power this one lacks
        else:
            fine.append(f"the dispersion ({_p(p)}, ratio {ratio:.2f}{how})")
    t, p = get("zero_inflation")
    if t is not None:
        ratio = getattr(t, "statistic", np.nan)
        if p is not None and p < ALPHA and ratio > 1:
            findings.append(
                f"**Too many zeros** ({_p(p)}, {ratio:.2f} times the zeros the model expects): "
                "a zero-inflated or a more dispersed family may describe the data better.")
        elif p is not None and p < ALPHA:
            findings.append(f"**Too few zeros** ({_p(p)}, ratio {ratio:.2f}).")
        else:
            fine.append(f"the number of zeros ({_p(p)})")
    for name, finding, checked in (
            ("outliers", "**Outliers** ({p}): more observations fall outside the range of all "
             "simulations than chance allows. Look at those rows: a recording error, or a "
             "distribution with heavier tails.", "outliers"),
            ("quantiles", "**A pattern against the predictions** ({p}): the residuals drift "
             "with the predicted value (see the right panel), a sign of a wrong link, a missing "
             "predictor or a variance that changes differently than the family assumes.",
             "a trend against the predictions")):
        t, p = get(name)
        if t is None:
            continue
        if p is not None and p < ALPHA:
            findings.append(finding.format(p=_p(p)))
        else:
            fine.append(f"{checked} ({_p(p)})")
    parts = []
    if findings:
        parts.append("The tests flag the following (at the 5% level):")
        parts.append("")
        parts += [f"- {f}" for f in findings]
        parts.append("")
    if fine:
        lead = "No evidence of a problem with " if findings else \
            "**No test finds a problem**: no evidence of a problem with "
        parts.append(lead + _join(fine) + ".")
        parts.append("")
    if not findings:
        parts.append("The residuals look like draws from the fitted model, so its standard "
                     "errors, intervals and tests below can be taken as they are.")
    else:
        parts.append("Read the comparisons below with this in mind: where the model misfits, "
                     "its standard errors and p-values are not trustworthy.")
    parts.append("")
    parts.append("*How to read them:* with many observations these tests flag departures too "
                 "small to matter, and with few they miss large ones; the figure shows how "
                 "large a departure is.")
    return "\n".join(parts)


def _flags(test) -> bool:
    p = getattr(test, "p_value", None) if test is not None else None
    return p is not None and np.isfinite(p) and p < ALPHA


def _join(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def winner_note(table, winner, own, what) -> str:
    """Markdown: which model AIC prefers, by how much, and whether it is the report's own."""
    if winner is None:
        return "No model converged, so AIC cannot choose between them."
    if what == "family":
        label = next(i for i in table.index if table.at[i, "family"] == winner)
    else:
        label = winner
    second = table["AIC"].drop(label).min()
    gap = second - table.at[label, "AIC"]
    text = f"AIC prefers **{winner}**"
    text += (f" (AIC {table.at[label, 'AIC']:.1f}, {gap:.1f} below the next)"
             if np.isfinite(gap) else f" (AIC {table.at[label, 'AIC']:.1f})")
    if (what == "family" and winner != own) or (what == "model" and winner != own):
        text += (f". This report's model is not the one AIC prefers: consider refitting with "
                 f"the preferred {'family' if what == 'family' else 'model'}")
    text += "."
    if np.isfinite(gap) and gap < 2:
        text += " A difference under 2 AIC units is small: the data barely tell the models apart."
    return text


def describe_means_figure(emm, label: str, letters: bool) -> str:
    """The alt text of the means figure: each mean with its interval and letters (only the
    highest and lowest three when there are too many for letters)."""
    import glmm_lib as gl

    table = emm.table
    key = list(emm.specs + emm.by)
    lo, hi = [c for c in table.columns if c not in key][-2:]
    name = lambda row: " | ".join(str(row[c]) for c in key)   # noqa: E731
    if letters:
        shown = gl.cld(emm).table
        letter = {name(r): str(r[".group"]).strip() for _, r in shown.iterrows()}
        parts = [f"{name(r)} {r[emm.estimate]:.3g} ({r[lo]:.3g} to {r[hi]:.3g}) "
                 f"{letter.get(name(r), '')}".strip() for _, r in table.iterrows()]
        return (f"{label}: estimated means with 95% intervals for each {' and '.join(key)}; "
                "means sharing a letter do not differ (Tukey, 5%): " + "; ".join(parts) + ".")
    ordered = table.sort_values(emm.estimate)
    top = ", ".join(f"{name(r)} {r[emm.estimate]:.3g}" for _, r in ordered.tail(3)[::-1].iterrows())
    low = ", ".join(f"{name(r)} {r[emm.estimate]:.3g}" for _, r in ordered.head(3).iterrows())
    return (f"{label}: {len(table)} estimated means with 95% intervals, one line each; "
            f"highest {top}; lowest {low}.")
