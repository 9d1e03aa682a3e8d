"""Integer probability units for the exact Pareto set (DESIGN §1.5).

When every probability is a multiple of 1/Q (``π(S) = w_S / Q`` with integer weights, as for pmfs built
from integer counts), every achievable rate and distortion is a multiple of 1/Q too:
R = Σ_S w_S·|z(S)| / Q and D = Σ_S w_S·err(S) / Q with integer errors. Working with the integers
r = Q·R and d = Q·D makes "equal up to float rounding" exact equality, and turns a per-atom-set (R, D)
staircase into a dense array over r ∈ {0, …, k·Q} (:mod:`pareto_dense`).

Detection: each float π(S) is replaced by its best rational approximation with denominator ≤
:data:`MAX_DENOMINATOR`; the grid is accepted when every approximation is within :data:`GRID_TOL` of the
float and the common denominator Q (their least common multiple) stays ≤ ``max_units``. Otherwise the
caller falls back to float arithmetic with a 1e−12 merge tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

#: Largest denominator tried for one probability.
MAX_DENOMINATOR = 10**6
#: Largest accepted distance between a float probability and its rational reading.
GRID_TOL = 1e-12


@dataclass(frozen=True)
class Units:
    """π(S) = weights[S] / Q exactly (up to float rounding of the input)."""

    Q: int
    weights: np.ndarray
    """Integer weights w_S ≥ 1 [N] (int64)."""

    def to_float(self, x: np.ndarray | int) -> np.ndarray | float:
        """Integer units → float value x / Q."""
        return np.asarray(x, dtype=np.float64) / self.Q if isinstance(x, np.ndarray) else int(x) / self.Q


def detect_units(probs: np.ndarray, max_units: int) -> Units | None:
    """The common grid 1/Q of the probabilities, or None when there is none with Q ≤ ``max_units``."""
    fr: list[Fraction] = []
    for p in np.asarray(probs, dtype=np.float64):
        f = Fraction(float(p)).limit_denominator(MAX_DENOMINATOR)
        if abs(float(f) - float(p)) > GRID_TOL or f <= 0:
            return None
        fr.append(f)
    Q = 1
    for f in fr:
        Q = Q * f.denominator // math.gcd(Q, f.denominator)
        if Q > max_units:
            return None
    w = np.array([f.numerator * (Q // f.denominator) for f in fr], dtype=np.int64)
    return Units(Q=Q, weights=w)


__all__ = ["GRID_TOL", "MAX_DENOMINATOR", "Units", "detect_units"]
