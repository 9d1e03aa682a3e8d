"""Shared pieces of the brute-force oracle: tolerances, lexicographic keys, limits (DESIGN §1.4).

Lexicographic comparisons treat values within :data:`LEX_EPS` as equal, so that float rounding (two
summation orders of the same exact sum) never decides a tie-break; budgets use ``problem.TOL``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from rdp_exact.problem import TOL, Problem, lex_order

#: Two R, D or P values closer than this are the same value in lexicographic comparisons.
LEX_EPS = 1e-12

Key = tuple[float, float, float]


def lex_less(a: Sequence[float], b: Sequence[float], eps: float = LEX_EPS) -> bool:
    """a ≺ b lexicographically, values within ``eps`` counting as equal."""
    for x, y in zip(a, b, strict=True):
        if x < y - eps:
            return True
        if x > y + eps:
            return False
    return False


def query_key(problem: Problem, rate: float, distortion: float, poly: float) -> Key:
    """(R, D, P) arranged in the query's lexicographic order (primary first, then D, R, P)."""
    vals = {"rate": rate, "distortion": distortion, "poly": poly}
    a, b, c = (vals[q] for q in lex_order(problem.minimize))
    return (a, b, c)


def budget_caps(problem: Problem) -> tuple[float, float, float]:
    """Inclusive caps (budget + TOL, or +inf) on R, D and P."""
    inf = float("inf")
    r = inf if problem.max_rate is None else problem.max_rate + TOL
    d = inf if problem.max_distortion is None else problem.max_distortion + TOL
    p = inf if problem.max_poly is None else problem.max_poly + TOL
    return r, d, p


@dataclass
class Deadline:
    """Wall-clock deadline (None = no limit)."""

    limit: float | None
    start: float

    @classmethod
    def start_now(cls, limit: float | None) -> Deadline:
        return cls(limit, time.perf_counter())

    def expired(self) -> bool:
        return self.limit is not None and time.perf_counter() - self.start > self.limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class TimeUp(Exception):
    """Raised inside the enumeration when the deadline passes (caught by :func:`brute.solve`)."""
