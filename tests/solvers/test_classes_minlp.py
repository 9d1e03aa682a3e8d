"""SCIP model of the real classes (rdp_exact.classes.minlp): variable bounds, pattern cuts, start solutions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rdp_exact.classes import ClassProblem, solve_class
from rdp_exact.classes.minlp import atom_bounds, basis_sigma2
from rdp_exact.generators import builtin, random_pmf
from rdp_exact.problem import Status


def test_basis_sigma2_small_cases() -> None:
    # k = 1 without bias: firing rows are unit vectors, every basis is orthonormal
    assert basis_sigma2(3, 1, False) == pytest.approx(1.0)
    # m = 2, k = 2: rows (1,0), (0,1), (1,1); the worst basis {(1,0), (1,1)} has σ_min² = (3 − √5)/2
    assert basis_sigma2(2, 2, False) == pytest.approx((3 - 5 ** 0.5) / 2)
    # more latents or a bias can only add firing rows, never raise the minimum
    assert basis_sigma2(3, 2, False) <= basis_sigma2(2, 2, False) + 1e-12
    assert basis_sigma2(2, 2, True) <= basis_sigma2(2, 2, False) + 1e-12


@pytest.mark.parametrize(("m", "k", "bias"), [(2, 2, False), (3, 2, False), (3, 3, False), (2, 1, True),
                                              (2, 2, True), (3, 2, True)])
def test_atom_bounds_hold_for_minimum_norm_least_squares(m: int, k: int, bias: bool) -> None:
    """The minimum-norm least-squares atoms of any firing map stay within the bounds B_i."""
    rng = np.random.default_rng(m * 10 + k + 100 * bias)
    pmf = random_pmf(3, 7, 40 + m + k, alpha=0.5)
    B = atom_bounds(ClassProblem(pmf, m, k, "real-atoms", bias))
    X = pmf.indicator.astype(float)
    sw = np.sqrt(np.asarray(pmf.probs, dtype=float))
    rows = [c for t in range(k + 1) for c in itertools.combinations(range(m), t)]
    worst = 0.0
    for _ in range(400):
        Z = np.zeros((len(sw), m))
        for s in range(len(sw)):
            Z[s, list(rows[rng.integers(len(rows))])] = 1.0
        A = np.hstack([Z, np.ones((len(sw), 1))]) if bias else Z
        theta = np.linalg.lstsq(sw[:, None] * A, sw[:, None] * X, rcond=None)[0]  # [cols, n], minimum norm
        ratio = np.abs(theta) / B[None, :]
        worst = max(worst, float(ratio.max()))
    assert worst <= 1.0 + 1e-9


def test_scip_gets_a_complete_start_and_still_proves() -> None:
    pr = ClassProblem(builtin("cooccur3"), 2, 2, "real-atoms")
    sol = solve_class(pr, "scip", time_limit=60)
    assert sol.info["start"] == "complete"
    ref = solve_class(pr, "patterns")
    assert sol.status is Status.OPTIMAL
    assert sol.distortion == pytest.approx(ref.distortion, abs=2e-6)
    assert sol.bound <= ref.distortion + 1e-6


@pytest.mark.parametrize(("m", "k", "bias"), [(3, 2, False), (3, 2, True), (4, 2, False)])
def test_basis_sigma2_bounds_every_firing_map(m: int, k: int, bias: bool) -> None:
    """λ⁺_min(ZᵀZ) ≥ σ²_* for every firing map Z, and maps of few rows come close to it."""
    rng = np.random.default_rng(7 * m + k)
    s2 = basis_sigma2(m, k, bias)
    assert s2 is not None
    rows = [c for t in range(0 if bias else 1, k + 1) for c in itertools.combinations(range(m), t)]
    least = np.inf
    for _ in range(3000):
        N = int(rng.integers(1, 2 * m + 2))
        Z = np.zeros((N, m + (1 if bias else 0)))
        for s in range(N):
            Z[s, list(rows[rng.integers(len(rows))])] = 1.0
            if bias:
                Z[s, -1] = 1.0
        ev = np.linalg.eigvalsh(Z.T @ Z)
        least = min(least, float(ev[ev > 1e-9].min()))
    assert least >= s2 - 1e-12
    assert least <= 1.5 * s2
