"""Exact solvers behind one interface (DESIGN §4).

``solve(problem, solver="auto", ...)`` dispatches to a backend module; every backend exposes

    solve(problem: Problem, *, time_limit: float | None, threads: int | None,
          options: dict | None) -> Solution

and raises :class:`~rdp_exact.errors.SolverUnavailable` when an instance is outside its reach.
"""

from __future__ import annotations

import importlib
from typing import Any

from rdp_exact.errors import InvalidArgument
from rdp_exact.problem import Problem, Solution

#: Backend name → module path.
BACKENDS: dict[str, str] = {
    "brute": "rdp_exact.solvers.brute",
    "highs": "rdp_exact.solvers.milp",
    "cpsat": "rdp_exact.solvers.cpsat",
}

SOLVER_CHOICES = ("auto", *BACKENDS)


def choose_solver(problem: Problem) -> str:
    """The backend ``auto`` picks for ``problem`` (see BENCHMARKS.md for the evidence)."""
    mod = importlib.import_module("rdp_exact.solvers.auto")
    return str(mod.choose(problem))


def solve(
    problem: Problem,
    solver: str = "auto",
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> Solution:
    """Solve one query with the named backend (``auto`` chooses by instance size)."""
    if solver not in SOLVER_CHOICES:
        raise InvalidArgument(f"unknown solver {solver!r} (choose from {', '.join(SOLVER_CHOICES)})")
    if time_limit is not None and time_limit <= 0:
        raise InvalidArgument(f"time limit must be positive, got {time_limit}")
    if threads is not None and threads < 1:
        raise InvalidArgument(f"threads must be at least 1, got {threads}")
    name = choose_solver(problem) if solver == "auto" else solver
    mod = importlib.import_module(BACKENDS[name])
    return mod.solve(problem, time_limit=time_limit, threads=threads, options=options)  # type: ignore[no-any-return]
