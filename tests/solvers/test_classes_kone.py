"""The k = 1 branch and bound (rdp_exact.classes.kone) against an independent brute force and the reference.

The brute force below enumerates every assignment of events to centres (origin/bias and m latents) and prices
each centre in closed form; it shares no code with ``kone`` or ``reference``. Sizes (N ≤ 8 events) are beyond
what the reference enumerates in a test, so the two cross-checks cover different ground.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rdp_exact.classes import ClassProblem, evaluate_real, reference_solve
from rdp_exact.classes.kone import solve_kone
from rdp_exact.generators import random_pmf
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Status


def _sse(X: np.ndarray, p: np.ndarray) -> float:
    if len(p) == 0:
        return 0.0
    mu = (p[:, None] * X).sum(axis=0) / p.sum()
    return float((p * ((X - mu) ** 2).sum(axis=1)).sum())


def _line(X: np.ndarray, p: np.ndarray) -> float:
    if len(p) == 0:
        return 0.0
    M = (X * p[:, None]).T @ X
    return float(np.trace(M) - np.linalg.eigvalsh(M)[-1])


def brute_force(pmf: ConceptPMF, m: int, cls: str, bias: bool, r: float | None) -> float:
    """min D over every assignment of the events to m + 1 centres (k = 1), under the rate budget r."""
    X = pmf.indicator.astype(float)
    p = np.asarray(pmf.probs, dtype=float)
    N = len(p)
    best = np.inf
    for lab in itertools.product(range(m + 1), repeat=N):
        a = np.array(lab)
        mass = np.array([p[a == c].sum() for c in range(m + 1)])
        if bias:  # m + 1 free centres; the one chosen as b costs no rate
            if r is not None and p.sum() - mass.max() > r + 1e-9:
                continue
            cost = sum(_sse(X[a == c], p[a == c]) for c in range(m + 1))
        else:  # centre 0: nothing fires (x̂ = 0)
            if r is not None and mass[1:].sum() > r + 1e-9:
                continue
            price = _sse if cls == "real-atoms" else _line
            cost = float((p[a == 0] * X[a == 0].sum(axis=1)).sum())
            cost += sum(price(X[a == c], p[a == c]) for c in range(1, m + 1))
        best = min(best, cost)
    return best


CASES = [("real-atoms", False), ("real-atoms", True), ("real-codes", False)]


@pytest.mark.parametrize(("cls", "bias"), CASES)
@pytest.mark.parametrize(("n", "N", "m", "seed"), [(4, 8, 2, 21), (4, 7, 3, 22), (3, 8, 2, 23)])
def test_kone_matches_brute_force(cls: str, bias: bool, n: int, N: int, m: int, seed: int) -> None:
    pmf = random_pmf(n, N, seed)
    for r in (None, 0.5):
        pr = ClassProblem(pmf, m, 1, cls, bias, max_rate=r)  # type: ignore[arg-type]
        got = solve_kone(pr)
        want = brute_force(pmf, m, cls, bias, r)
        assert got.status is Status.OPTIMAL
        assert got.distortion == pytest.approx(want, abs=1e-9)
        assert got.bound == pytest.approx(want, abs=1e-9)
        if r is not None:
            assert got.rate <= r + 1e-9


@pytest.mark.parametrize(("cls", "bias"), CASES)
@pytest.mark.parametrize("seed", [31, 32, 33])
def test_kone_matches_reference_skewed_weights(cls: str, bias: bool, seed: int) -> None:
    # very uneven weights (Dirichlet 0.3) stress the weight-sharing bound
    pmf = random_pmf(3, 6, seed, alpha=0.3)
    for m in (1, 2, 3):
        pr = ClassProblem(pmf, m, 1, cls, bias)  # type: ignore[arg-type]
        got, ref = solve_kone(pr), reference_solve(pr)
        assert got.is_exact
        assert got.distortion == pytest.approx(ref.distortion, abs=1e-9)


@pytest.mark.parametrize(("cls", "bias"), CASES)
def test_kone_reported_sae_reaches_its_distortion(cls: str, bias: bool) -> None:
    pmf = random_pmf(5, 14, 7)
    sol = solve_kone(ClassProblem(pmf, 3, 1, cls, bias))  # type: ignore[arg-type]
    assert sol.status is Status.OPTIMAL and sol.sae is not None
    ev = evaluate_real(pmf, sol.sae)
    assert ev.distortion == pytest.approx(sol.distortion, abs=1e-12)
    assert all(len(a) <= 1 for a in sol.sae.active)
    # never worse than the trivial SAE that fires nothing
    assert sol.distortion <= float(pmf.probs @ pmf.indicator.sum(axis=1)) + 1e-12


@pytest.mark.parametrize(("cls", "bias"), CASES)
def test_kone_time_limit_keeps_a_valid_bound(cls: str, bias: bool) -> None:
    pmf = random_pmf(7, 64, 5)  # far beyond what the search proves in 0.05 s
    pr = ClassProblem(pmf, 4, 1, cls, bias)  # type: ignore[arg-type]
    sol = solve_kone(pr, time_limit=0.05)
    assert sol.status is Status.LIMIT
    assert sol.bound is not None and 0.0 <= sol.bound <= sol.distortion + 1e-12
    # the incumbent is the greedy/Lloyd completion, far below "nothing fires"
    assert sol.distortion < 0.75 * float(pmf.probs @ pmf.indicator.sum(axis=1))


def test_line_increment_lower_bound_is_valid_and_tight_for_aligned_events() -> None:
    """The 2 × 2 bound on a line cluster's cost rise never exceeds the exact rise (eigendecomposition) on random
    nonnegative clusters, and equals it (0) for an event on the cluster's top eigenvector."""
    from rdp_exact.classes.kone_kernel import _line_increment_lower

    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(2, 7))
        X = (rng.random((int(rng.integers(1, 6)), n)) < 0.5).astype(float)
        p = rng.random(len(X))
        M = (X.T * p) @ X
        vals, vecs = np.linalg.eigh(M)
        v, gap, s2 = vecs[:, -1], vals[-1] - vals[-2], float(p @ (X * X).sum(1))
        x = (rng.random(n) < 0.5).astype(float)
        w = float(rng.random())
        exact = (s2 + w * x @ x - np.linalg.eigvalsh(M + w * np.outer(x, x))[-1]) - (s2 - vals[-1])
        assert _line_increment_lower(x, float(x @ x), w, M, v, gap, s2) <= exact + 1e-12
    M = np.diag([2.0, 1.0, 0.5])
    v = np.array([1.0, 0.0, 0.0])
    x = 3.0 * v
    assert abs(_line_increment_lower(x, 9.0, 0.7, M, v, 1.0, 3.5)) < 1e-9
