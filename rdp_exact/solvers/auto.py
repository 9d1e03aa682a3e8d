"""``--solver auto``: pick a backend by instance size."""

from __future__ import annotations

from rdp_exact.problem import Problem


def choose(problem: Problem) -> str:
    """Brute force where enumeration is cheap, else the MILP backend."""
    from rdp_exact.solvers import brute

    if brute.affordable(problem):
        return "brute"
    return "highs"
