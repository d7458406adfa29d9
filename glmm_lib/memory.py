"""Refusing, before any work, a computation that cannot fit in memory.

The only limit on the size of a model is the machine's memory: where an algorithm
holds a dense matrix whose size the design fixes (the Schur complement of crossed
random effects, the marginal covariance of a group of observations), it states the
bytes it will need first, and the fit stops with that number rather than swapping or
being killed halfway.
"""
from __future__ import annotations

import os

from .errors import GLMMInputError


def available_bytes() -> int:
    """Memory the process can still take: MemAvailable on Linux, else the physical total."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _gigabytes(n: float) -> str:
    return f"{n / 2**30:.1f} GB"


def require(nbytes: float, what: str) -> None:
    """Raise GLMMInputError when ``nbytes`` (what ``what`` needs) exceeds the free memory."""
    free = available_bytes()
    if nbytes > free:
        raise GLMMInputError(
            f"{what} needs about {_gigabytes(nbytes)} of memory and {_gigabytes(free)} are "
            "available; fit on a machine with more memory or simplify the random effects")
