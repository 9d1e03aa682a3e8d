"""``--solver auto``: pick a backend by instance (DESIGN §5.2; evidence in bench-results/bench_solvers.md).

* brute force where its own cost model says enumeration is cheap (``brute.affordable``);
* otherwise HiGHS: on the free class with P only as a tie-break it gets the pattern formulation with a
  local-search warm start, which proved the benchmark instances fastest; CP-SAT with few workers was slower
  on every instance we measured, so ``auto`` never picks it. The HiGHS backend itself hands the free-class
  min-D query without budgets (integer coefficients, 5 ≤ n ≤ 10) to the exact branch-and-bound of
  :mod:`rdp_exact.solvers.bnb_free` (``formulation="auto"``; see ``bnb_free.preferred``).
"""

from __future__ import annotations

import logging

from rdp_exact.problem import Problem

log = logging.getLogger(__name__)


def _brute_affordable(problem: Problem) -> bool:
    try:
        from rdp_exact.solvers import brute
    except ImportError:  # brute force not installed in this checkout
        return False
    affordable = getattr(brute, "affordable", None)
    if affordable is None:
        return False
    try:
        return bool(affordable(problem))
    except Exception as exc:  # a cost model must never break the solve
        log.debug("brute.affordable failed: %s", exc)
        return False


def choose(problem: Problem) -> str:
    """``brute`` when affordable, else ``highs``."""
    if _brute_affordable(problem):
        return "brute"
    return "highs"
