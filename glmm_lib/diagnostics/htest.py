"""The outcome of one residual test, printed as R prints an ``htest``."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["TestResult", "tests_frame"]


@dataclass
class TestResult:
    """The outcome of one diagnostic test, as R's ``htest`` prints it.

    ``statistic`` is named by ``statistic_name``; ``details`` holds what a plot
    or a reader may want besides (the simulated statistics, per-quantile
    p-values, fitted quantile curves, ...).
    """
    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float
    method: str
    alternative: str
    statistic_name: str = "statistic"
    parameter: dict = field(default_factory=dict)
    estimate: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict, repr=False)

    @property
    def pvalue(self) -> float:
        """Alias of ``p_value`` (scipy's spelling)."""
        return self.p_value

    @property
    def significant(self) -> bool:
        """p <= 0.05, the threshold DHARMa's plots colour by."""
        return bool(np.isfinite(self.p_value) and self.p_value <= 0.05)

    def __str__(self):
        lines = ["", f"\t{self.method}", ""]
        parts = [f"{self.statistic_name} = {_fmt(self.statistic)}"]
        parts += [f"{k} = {_fmt(v)}" for k, v in self.parameter.items()]
        p = "< 2.2e-16" if self.p_value < 2.2e-16 else "= " + _fmt(self.p_value)
        parts.append(f"p-value {p}")
        lines.append(", ".join(parts))
        lines.append(f"alternative hypothesis: {self.alternative}")
        for k, v in self.estimate.items():
            lines.append(f"{k}: {_fmt(v)}")
        return "\n".join(lines) + "\n"


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def tests_frame(results: dict) -> pd.DataFrame:
    """A table of test results: statistic, its name, p-value, method."""
    rows = [{"test": name, "statistic": t.statistic, "statistic_name": t.statistic_name,
             "p_value": t.p_value, "alternative": t.alternative, "method": t.method}
            for name, t in results.items()]
    return pd.DataFrame(rows).set_index("test")
