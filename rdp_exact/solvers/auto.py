"""``--solver auto``: the choice rule (DESIGN §5.2; evidence in bench-results/bench_solvers.md).

:func:`choose` names one method for a query; :mod:`rdp_exact.solvers.dispatch` runs it and records the
reason (:func:`explain`) in ``Solution.info.route``. The rule:

* ``brute`` where its own cost model says enumeration is cheap (``brute.affordable``);
* ``bnb`` (exact branch-and-bound over atom sets) for the free-class min-D query without budgets where
  :func:`rdp_exact.solvers.bnb_free.preferred` says it beats the integer program;
* otherwise ``highs`` (on the free class with P only as a tie-break it gets the pattern formulation with a
  local-search warm start). CP-SAT and SCIP were slower on every instance measured, so ``auto`` never
  picks them.
"""

from __future__ import annotations

import logging

from rdp_exact.problem import Problem, SolverName

log = logging.getLogger(__name__)


def _brute_affordable(problem: Problem) -> bool:
    from rdp_exact.solvers import brute

    try:
        return bool(brute.affordable(problem))
    except Exception as exc:  # a cost model must never break the solve
        log.debug("brute.affordable failed: %s", exc)
        return False


def _bnb_preferred(problem: Problem) -> bool:
    from rdp_exact.solvers import bnb_free

    return bool(bnb_free.preferred(problem))


def choose(problem: Problem) -> SolverName:
    """The method ``auto`` runs for ``problem`` (never ``auto``)."""
    if _brute_affordable(problem):
        return SolverName.BRUTE
    if _bnb_preferred(problem):
        return SolverName.BNB
    return SolverName.HIGHS


def explain(problem: Problem, chosen: SolverName | str) -> str:
    """One line saying why :func:`choose` picked ``chosen`` (recorded in ``Solution.info.route``)."""
    name = SolverName(chosen)
    if name is SolverName.BRUTE:
        return "brute force is affordable (about a second of enumeration)"
    if name is SolverName.BNB:
        return "free-class min D without budgets in the branch-and-bound's preferred range"
    if name is SolverName.HIGHS:
        return "integer program (brute force too large, branch-and-bound not preferred)"
    return f"{name.value} chosen by the choice rule"


__all__ = ["choose", "explain"]
