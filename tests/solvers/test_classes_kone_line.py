"""The set-partitioning LP of k = 1 line clusters (real-codes): its pricer, its reduced-cost pool and its proofs.

The pricer and the pool are checked against the enumeration of every event set; the LP path of ``solve_kone``
against the brute force of ``test_classes_kone`` and, where that is out of reach, against the search alone.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rdp_exact.classes import ClassProblem, kone
from rdp_exact.classes.kone import solve_kone
from rdp_exact.classes.kone_line_kernel import collect_line, price_line
from rdp_exact.classes.kone_lp import lp_bound
from rdp_exact.generators import random_pmf
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Status
from tests.solvers.test_classes_kone import brute_force


def _value(X: np.ndarray, p: np.ndarray, u: np.ndarray, S: list[int]) -> tuple[float, np.ndarray]:
    """u(S) − cost(S) of a line cluster and its top eigenvector."""
    M = (X[S].T * p[S]) @ X[S]
    vals, vecs = np.linalg.eigh(M)
    return float(u[S].sum() - (p[S] @ (X[S] ** 2).sum(axis=1) - vals[-1])), vecs[:, -1]


def _all_sets(N: int):  # type: ignore[no-untyped-def]
    for r in range(1, N + 1):
        yield from (list(S) for S in itertools.combinations(range(N), r))


def _instance(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    N = int(rng.integers(3, 10))
    X = (rng.random((N, n)) < 0.5).astype(float)
    X[X.sum(axis=1) == 0, int(rng.integers(n))] = 1.0  # no empty event (the LP serves those by the origin)
    p = rng.random(N) + 0.05
    p /= p.sum()
    return X, p, rng


@pytest.mark.parametrize("seed", range(16))
def test_line_pricer_bounds_every_event_set_and_reaches_its_best(seed: int) -> None:
    X, p, rng = _instance(seed)
    w = p * (X**2).sum(axis=1)
    u = w * rng.uniform(-0.3, 1.3, len(p))  # some duals negative, some above the origin's cost (always in)
    want = max(_value(X, p, u, S)[0] for S in _all_sets(len(p)))
    bound, best, mask, _, done, _ = price_line(X, p, u, -np.inf, 10**7, np.inf, np.inf)
    assert done
    assert bound >= want - 1e-12
    assert bound == pytest.approx(want, abs=1e-9)  # completed: the bound is the maximum itself
    S = list(np.flatnonzero(mask))
    assert _value(X, p, u, S)[0] >= best - 1e-12 and best == pytest.approx(want, abs=1e-9)
    # with a floor above the maximum nothing is worth returning and the bound still holds
    bound2, _, _, _, done2, _ = price_line(X, p, u, want + 0.1, 10**7, np.inf, np.inf)
    assert done2 and bound2 >= want - 1e-12


@pytest.mark.parametrize("seed", range(12))
def test_pool_holds_every_set_with_every_term_above_the_slack(seed: int) -> None:
    X, p, rng = _instance(100 + seed)
    w = p * (X**2).sum(axis=1)
    u = w * rng.uniform(0.0, 1.0, len(p))  # LP duals: never above the origin's cost
    vals = {tuple(S): _value(X, p, u, S) for S in _all_sets(len(p))}
    top = max(v for v, _ in vals.values())
    floor, slack = top - rng.uniform(0.0, 0.3) * top, float(rng.uniform(0.0, 0.2) * w.max())
    masks, count, done = collect_line(X, p, u, floor, slack, 10**5, 10**7, np.inf)
    assert done
    got = {tuple(np.flatnonzero(m)) for m in masks[:count] if m.any()}
    for S, (val, v) in vals.items():
        terms = w[list(S)] * (X[list(S)] @ v) ** 2 / (X[list(S)] ** 2).sum(axis=1) - (w[list(S)] - u[list(S)])
        if val >= floor + 1e-12 and terms.min() >= -slack + 1e-12:
            assert S in got  # every set the pool argument needs
    for S in got:
        assert vals[S][0] >= floor - 1e-12  # and nothing below the floor


@pytest.mark.parametrize(("n", "N", "m", "seed"), [(4, 8, 2, 31), (4, 7, 3, 32), (3, 8, 2, 33), (4, 8, 1, 34),
                                                  (5, 8, 2, 35)])
def test_line_lp_bound_is_valid_and_its_partition_optimal(n: int, N: int, m: int, seed: int) -> None:
    pmf = random_pmf(n, N, seed)
    want = brute_force(pmf, m, "real-codes", False, None)
    st, _ = kone._setup(ClassProblem(pmf, m, 1, "real-codes"))
    res = lp_bound(st.X, st.p, m, True, [], None, line=True)
    assert res.bound <= want + 1e-12  # weak duality, whatever the LP does
    assert res.solved and res.assign is not None
    assert res.cost == pytest.approx(want, abs=1e-9)
    assert res.bound == pytest.approx(want, abs=1e-9)


def test_fractional_line_lp_is_closed_by_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """An instance whose LP optimum is fractional (0.45633 < D* = 0.45644): the pool's integer program proves D*."""
    pmf = random_pmf(5, 16, 36)
    pr = ClassProblem(pmf, 3, 1, "real-codes")
    st, _ = kone._setup(pr)
    res = lp_bound(st.X, st.p, 3, True, [], None, line=True)
    assert res.lp_value < res.cost - 1e-5  # the LP alone does not prove it
    assert res.pool > 0 and res.assign is not None
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 10**9)  # the search alone, as the reference
    search = solve_kone(pr)
    assert search.status == Status.OPTIMAL and search.method == "kone-bnb"
    assert res.cost == pytest.approx(search.distortion, abs=1e-9)
    assert res.bound == pytest.approx(search.distortion, abs=1e-9)


@pytest.mark.parametrize("seed", [41, 42, 43])
def test_solve_kone_real_codes_takes_the_lp_and_agrees_with_brute_force(monkeypatch: pytest.MonkeyPatch,
                                                                         seed: int) -> None:
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 0)
    pmf = random_pmf(4, 8, seed)
    sol = solve_kone(ClassProblem(pmf, 2, 1, "real-codes"))
    assert sol.method == "kone-colgen" and sol.status == Status.OPTIMAL
    assert sol.distortion == pytest.approx(brute_force(pmf, 2, "real-codes", False, None), abs=1e-9)


def test_the_empty_event_is_served_by_the_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kone, "LP_FROM_EVENTS", 0)
    base = random_pmf(4, 7, 44)
    pmf = ConceptPMF.from_events(4, [(0, 0.2)] + [(e, 0.8 * q) for e, q in zip(base.events, base.probs,
                                                                                   strict=True)])
    sol = solve_kone(ClassProblem(pmf, 2, 1, "real-codes"))
    assert sol.status == Status.OPTIMAL and sol.method == "kone-colgen"
    assert sol.distortion == pytest.approx(brute_force(pmf, 2, "real-codes", False, None), abs=1e-9)
