"""The set-partitioning LP proof of the k = 1 decomposition (rdp_exact.classes.kone_lp) and its exact pricer.

The pricer is checked against the enumeration of every event set; the Lagrangian bound against the independent
brute force of ``test_classes_kone``; the LP path of ``solve_kone`` against its own search.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rdp_exact.classes import ClassProblem, kone
from rdp_exact.classes.kone import solve_kone
from rdp_exact.classes.kone_kernel import call
from rdp_exact.classes.kone_lp import lp_bound
from rdp_exact.classes.kone_lp_kernel import price
from rdp_exact.generators import random_pmf
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Status
from tests.solvers.test_classes_kone import brute_force


def _phi(X: np.ndarray, p: np.ndarray, u: np.ndarray) -> float:
    """max over every event set S (the empty set included) of u(S) − SSE(S), by enumeration."""
    best = 0.0
    for r in range(1, len(p) + 1):
        for S in itertools.combinations(range(len(p)), r):
            idx = list(S)
            w = p[idx]
            mu = w @ X[idx] / w.sum()
            best = max(best, float(u[idx].sum() - w @ ((X[idx] - mu) ** 2).sum(axis=1)))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_pricer_bounds_every_event_set_and_reaches_its_best(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    N = int(rng.integers(3, 10))
    X = (rng.random((N, n)) < 0.5).astype(float)
    p = rng.random(N) + 0.05
    p /= p.sum()
    u = p * rng.uniform(-0.5, 2.0, N) * n / 2  # some duals negative, some balls covering several events
    want = _phi(X, p, u)
    for kmax in (0, 3, 12):  # bounds only, some exact boxes, every box exact
        bound, best, mask, _, done = price(X, p, u, 0.0, 10**7, kmax, np.inf, np.inf)
        assert done
        assert bound >= want - 1e-12
        assert bound == pytest.approx(want, abs=1e-9)  # completed: the bound is the maximum itself
        S = np.flatnonzero(mask)
        if len(S):  # the returned set is worth at least the value reported
            mu = p[S] @ X[S] / p[S].sum()
            assert u[S].sum() - p[S] @ ((X[S] - mu) ** 2).sum(axis=1) >= best - 1e-12


def test_pricer_box_limit_still_bounds() -> None:
    rng = np.random.default_rng(3)
    X = (rng.random((9, 4)) < 0.5).astype(float)
    p = np.full(9, 1 / 9)
    u = p * 2.0
    bound, _, _, boxes, done = price(X, p, u, 0.0, 3, 0, np.inf, np.inf)
    assert not done and boxes < 20  # no box split past the limit: only those already stacked are read
    assert bound >= _phi(X, p, u) - 1e-12


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize(("n", "N", "m", "seed"), [(4, 8, 2, 31), (4, 7, 3, 32), (3, 8, 2, 33), (4, 8, 1, 34)])
def test_lp_bound_is_valid_and_its_partition_optimal(bias: bool, n: int, N: int, m: int, seed: int) -> None:
    pmf = random_pmf(n, N, seed)
    pr = ClassProblem(pmf, m, 1, "real-atoms", bias)
    want = brute_force(pmf, m, "real-atoms", bias, None)
    st, _ = kone._setup(pr)
    res = lp_bound(st.X, st.p, st.n_lat, not st.symmetric, [], None)
    assert res.bound <= want + 1e-12  # weak duality, whatever the LP does
    if res.assign is not None:  # an integral LP optimum is a partition of cost ≥ D*, and = D* when proven
        assert res.cost >= want - 1e-12
        if res.solved:
            assert res.cost == pytest.approx(want, abs=1e-9)
            assert res.bound == pytest.approx(want, abs=1e-9)


def _skewed(seed: int) -> ConceptPMF:
    """random_pmf's events with heavy-tailed (Zipf) probabilities: a few events carry most of the mass."""
    pmf = random_pmf(5, 18, seed)
    w = np.random.default_rng(seed).zipf(1.5, pmf.support_size).astype(float)
    return ConceptPMF.from_events(pmf.n, list(zip(pmf.events, w / w.sum(), strict=True)))


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("seed", [1, 2, -3])
def test_solve_kone_lp_path_agrees_with_the_search(monkeypatch: pytest.MonkeyPatch, bias: bool, seed: int) -> None:
    pmf = random_pmf(5, 16, seed) if seed > 0 else _skewed(-seed)
    pr = ClassProblem(pmf, 3, 1, "real-atoms", bias)
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 10**9)
    searched = solve_kone(pr)
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 0)
    proved = solve_kone(pr)
    assert searched.status is Status.OPTIMAL and searched.method == "kone-bnb"
    assert proved.status is Status.OPTIMAL and proved.method == "kone-colgen"
    assert proved.distortion == pytest.approx(searched.distortion, abs=1e-9)
    assert proved.bound is not None and proved.bound <= searched.distortion + 1e-12
    assert proved.sae is not None and all(len(a) <= 1 for a in proved.sae.active)


def test_fractional_lp_falls_back_to_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the LP is not integral, the search runs, seeded with the LP's bound, and still proves D*."""
    from rdp_exact.classes.kone_lp import LPResult

    pmf = random_pmf(4, 8, 31)
    pr = ClassProblem(pmf, 2, 1, "real-atoms", False)
    want = brute_force(pmf, 2, "real-atoms", False, None)
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 0)
    monkeypatch.setattr(kone, "_try_lp", lambda st, dl: LPResult(0.5 * want, None, np.inf, want, 1, 1, 1, 1, True))
    sol = solve_kone(pr)
    assert sol.status is Status.OPTIMAL and sol.method == "kone-bnb"
    assert sol.distortion == pytest.approx(want, abs=1e-9)


def test_a_rate_budget_does_not_take_the_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 0)
    pmf = random_pmf(4, 8, 31)
    for cls in ("real-atoms", "real-codes"):
        assert solve_kone(ClassProblem(pmf, 2, 1, cls, False, max_rate=0.5)).method == "kone-bnb"


def test_lp_interrupt_is_handed_on() -> None:
    """A KeyboardInterrupt raised while the compiled pricer reads the clock reaches the caller unwrapped."""
    def kernel() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("wrapped") from exc

    with pytest.raises(KeyboardInterrupt):
        call(kernel)


def test_search_stopped_by_the_limit_is_optimal_when_it_meets_the_lp_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fractional LP whose bound the (time-limited) search's incumbent meets: proven; a weaker bound: not."""
    from rdp_exact.classes.kone_lp import LPResult

    pmf = random_pmf(4, 8, 31)
    pr = ClassProblem(pmf, 2, 1, "real-atoms", False)
    want = brute_force(pmf, 2, "real-atoms", False, None)
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 0)
    run = kone._Search.run
    # the final search "stops at its limit" after finding its incumbent (here the optimum)
    monkeypatch.setattr(kone._Search, "run", lambda self, start, *a: (*run(self, start, *a)[:2], start > 0))
    for lp_lb, status in ((want, Status.OPTIMAL), (0.9 * want, Status.LIMIT)):
        monkeypatch.setattr(kone, "_try_lp", lambda st, dl, b=lp_lb: LPResult(b, None, np.inf, b, 1, 1, 1, 1, True))
        sol = solve_kone(pr)
        assert sol.distortion == pytest.approx(want, abs=1e-9)
        assert sol.status is status and sol.bound == pytest.approx(lp_lb, abs=1e-12)
