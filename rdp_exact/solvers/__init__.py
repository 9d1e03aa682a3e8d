"""Exact solvers behind one typed dispatch (DESIGN §4; docs/solver-dispatch.md).

``solve(problem, solver="auto", ...)`` routes a query to one method — brute force, the branch-and-bound
``bnb``, or an integer program solved by HiGHS, CP-SAT or SCIP — in :mod:`rdp_exact.solvers.dispatch`, the
only place routing is decided. Every method's module exposes

    solve(problem: Problem, *, time_limit: float | None, threads: int | None,
          options: dict | None) -> Solution

and a named method that cannot answer a query raises :class:`~rdp_exact.errors.SolverUnavailable`.
"""

from __future__ import annotations

from rdp_exact.problem import Problem, SolverName
from rdp_exact.solvers.dispatch import METHODS, SOLVER_CHOICES, parse_solver, route, solve, why_not
from rdp_exact.solvers.limits import check_time_limit, clamp_problem, useful_width

#: Method name → module path (every name except ``auto``).
BACKENDS: dict[str, str] = {name.value: m.module for name, m in METHODS.items()}


def choose_solver(problem: Problem) -> SolverName:
    """The method ``auto`` runs for ``problem`` after width clamping (see :mod:`rdp_exact.solvers.auto`)."""
    return route(clamp_problem(problem)[0], SolverName.AUTO)[0]


__all__ = [
    "BACKENDS",
    "METHODS",
    "SOLVER_CHOICES",
    "SolverName",
    "check_time_limit",
    "choose_solver",
    "clamp_problem",
    "parse_solver",
    "route",
    "solve",
    "useful_width",
    "why_not",
]
