"""Exact Pareto set of (R, D, P) against the naive enumeration (DESIGN §1.5)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import naive_oracle  # noqa: E402
from test_brute import grid_pmf, random_grid_pmf  # noqa: E402

from rdp_exact.errors import InvalidArgument, SolverUnavailable  # noqa: E402
from rdp_exact.generators import from_spec  # noqa: E402
from rdp_exact.pmf import ConceptPMF  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import brute  # noqa: E402
from rdp_exact.solvers.brute_common import Deadline  # noqa: E402
from rdp_exact.solvers.brute_free import FreeTables, covering_front  # noqa: E402
from rdp_exact.solvers.pareto import pareto3, pareto_set, stair_filter  # noqa: E402
from rdp_exact.solvers.pareto_dense import INF, LAMBDAS, covering_stairs, lagrangian_bounds  # noqa: E402
from rdp_exact.solvers.pareto_free import free_pareto_units  # noqa: E402
from rdp_exact.solvers.pareto_units import detect_units  # noqa: E402

ATOL = 1e-9


def same_sets(want: list[tuple[float, float, float]], got: list[tuple[float, float, float]]) -> None:
    assert len(want) == len(got), (want, got)
    used = [False] * len(got)
    for w in want:
        hit = [i for i, g in enumerate(got) if not used[i] and max(abs(a - b) for a, b in zip(w, g, strict=True)) <= ATOL]
        assert hit, f"naive point {w} missing from {got}"
        used[hit[0]] = True


def check_points(pts, pmf, k, measure="decoder", free=True) -> None:  # type: ignore[no-untyped-def]
    for p in pts:
        ev = p.sae.evaluate(pmf, k)
        assert abs(ev.rate - p.rate) <= ATOL and abs(ev.distortion - p.distortion) <= ATOL
        assert abs(ev.poly(measure) - p.poly) <= ATOL
        if free:  # the reported atoms are exactly the atoms the representative fires
            fired = {p.sae.atoms[j] for act in ev.active for j in act}
            assert sorted(fired) == list(p.atoms), (p, fired)
    arr = np.array([(p.rate, p.distortion, p.poly) for p in pts])
    for i, a in enumerate(arr):  # mutually non-dominated
        le = (arr <= a + 1e-12).all(axis=1)
        le[i] = False
        assert not le.any()


def triples(pts) -> list[tuple[float, float, float]]:  # type: ignore[no-untyped-def]
    return [(p.rate, p.distortion, p.poly) for p in pts]


@pytest.mark.parametrize("seed", range(10))
def test_free_pareto_matches_naive(seed: int) -> None:
    rng = random.Random(seed)
    n = 2 + seed % 2 if seed < 6 else 3
    m = 2 + seed % 2 if n == 2 else 2 + (seed >= 6)
    k = 1 + seed % m
    mode = "disjoint" if seed % 3 == 0 else "integer"
    pmf = random_grid_pmf(rng, n, 4)
    want = [(float(r), float(d), p) for r, d, p in naive_oracle.pareto(naive_oracle.free_points(pmf, m, k, mode))]
    for method in ("units", "float"):
        got = pareto_set(pmf, m, k, coefficients=mode, method=method)
        same_sets(want, triples(got))
        check_points(got, pmf, k)
        assert got == sorted(got, key=lambda p: (p.rate, p.distortion, p.poly))


def test_symmetric_pmf_with_many_ties_matches_naive() -> None:
    # all events of n = 3 equally likely: concepts are exchangeable and many (R, D, P) coincide
    pmf = grid_pmf(3, {0b001: 1, 0b010: 1, 0b100: 1, 0b011: 1, 0b110: 1})
    want = [(float(r), float(d), p) for r, d, p in naive_oracle.pareto(naive_oracle.free_points(pmf, 3, 2, "integer"))]
    got = pareto_set(pmf, 3, 2)
    same_sets(want, triples(got))
    check_points(got, pmf, 2)


@pytest.mark.parametrize("seed", range(3))
def test_units_and_float_paths_agree(seed: int) -> None:
    # n = 4, m = 3 (beyond the naive oracle): the integer-unit programme against the float merge-and-prune
    rng = random.Random(100 + seed)
    pmf = random_grid_pmf(rng, 4, 7 + seed)
    mode = "disjoint" if seed == 1 else "integer"
    a = pareto_set(pmf, 3, 2, coefficients=mode, method="units")
    b = pareto_set(pmf, 3, 2, coefficients=mode, method="float")
    same_sets(triples(b), triples(a))


def _raw(pmf: ConceptPMF, m: int, k: int, mode: str, prune: bool) -> list[tuple[int, int, float]]:
    units = detect_units(pmf.probs, 10**6)
    assert units is not None
    tab = FreeTables.build(pmf, k, mode)  # type: ignore[arg-type]
    pts = free_pareto_units(tab, units, m, prune=prune, max_points=10**6, deadline=Deadline.start_now(None))
    return sorted((p.r, p.d, round(p.poly, 12)) for p in pts)


@pytest.mark.parametrize(("n", "N", "m", "k", "mode"), [
    (4, 9, 3, 2, "integer"), (4, 12, 3, 1, "integer"), (4, 9, 3, 2, "disjoint"), (4, 8, 3, 3, "integer"),
    (5, 10, 2, 2, "integer"), (3, 6, 4, 2, "integer"),
])
def test_pruning_does_not_change_the_set(n: int, N: int, m: int, k: int, mode: str) -> None:
    pmf = random_grid_pmf(random.Random(n * 100 + N * 10 + k), n, N)
    assert _raw(pmf, m, k, mode, True) == _raw(pmf, m, k, mode, False)


@pytest.mark.parametrize("mode", ["integer", "disjoint"])
def test_dense_staircases_and_lagrangian_bounds(mode: str) -> None:
    # the dense covering staircase equals the float merge-and-prune one, and the Lagrangian lower
    # bound of the screen is below every point of every relaxed staircase
    rng = random.Random(7)
    pmf = random_grid_pmf(rng, 4, 9)
    units = detect_units(pmf.probs, 10**6)
    assert units is not None
    tab = FreeTables.build(pmf, 2, mode)  # type: ignore[arg-type]
    T_CT = np.array(sorted({tuple(sorted(rng.sample(range(1, 16), 3))) for _ in range(40)}), dtype=np.int64)
    length = 2 * int(units.weights.sum()) + 1
    g, alive = covering_stairs(tab, T_CT, units.weights, length, None)
    assert alive.tolist() == list(range(len(T_CT)))
    for c, T in enumerate(T_CT):
        ref = covering_front(tab, tuple(int(a) for a in T))
        r = np.flatnonzero(g[c] < INF)
        pm = np.minimum.accumulate(g[c][r])
        stair = r[np.concatenate([[True], pm[1:] < pm[:-1]])]
        assert np.allclose(stair / units.Q, ref.R, atol=1e-12) and np.allclose(g[c][stair] / units.Q, ref.D, atol=1e-12)
    for req in range(4):
        g, _ = covering_stairs(tab, T_CT, units.weights, length, None, req)
        Lam = lagrangian_bounds(tab, T_CT, units.weights, req)
        r = np.arange(length)
        h = (Lam[:, :, None] - np.array(LAMBDAS)[None, :, None] * r[None, None, :]).max(axis=1)
        fin = g < INF
        assert (g[fin] >= h[fin] - 1e-9).all()
        assert np.allclose(Lam[:, 0], np.where(fin, g, np.inf).min(axis=1))  # λ = 0: the least distortion


def test_detect_units() -> None:
    u = detect_units(np.array([3, 2, 1]) / 6, 100)
    assert u is not None and u.Q == 6 and u.weights.tolist() == [3, 2, 1]
    u = detect_units(np.array([0.25, 0.5, 0.25]), 100)
    assert u is not None and u.Q == 4 and u.weights.tolist() == [1, 2, 1]
    assert detect_units(np.array([1, 2]) / 3, 2) is None  # grid finer than the cap
    assert detect_units(from_spec("random:n=4,support=6,seed=1").probs, 10**6) is None  # generic floats


def test_stair_filter_merges_rounding_ties() -> None:
    # the same rate summed in two orders differs in the last bit; the larger-D point must go
    R = np.array([0.6842105263157894, 0.6842105263157895, 0.5])
    D = np.array([0.42105263157894735, 0.39473684210526316, 1.0])
    assert sorted(stair_filter(R, D).tolist()) == [1, 2]


@pytest.mark.parametrize(("weights", "poly"), [("ternary", "joint"), ("binary", "decoder")])
def test_threshold_pareto_matches_naive(weights: str, poly: str) -> None:
    pmf = grid_pmf(2, {0b01: 3, 0b11: 2, 0b10: 1})
    pts = naive_oracle.threshold_points(pmf, 2, 1, "integer", weights == "binary", poly)
    want = [(float(r), float(d), p) for r, d, p in naive_oracle.pareto(pts)]
    got = pareto_set(pmf, 2, 1, encoder="threshold", poly=poly, encoder_weights=weights)
    same_sets(want, triples(got))
    check_points(got, pmf, 1, poly, free=False)


def test_every_query_optimum_lies_on_the_pareto_set() -> None:
    pmf = random_grid_pmf(random.Random(11), 3, 6)
    pts = pareto_set(pmf, 2, 2)
    arr = np.array([(p.rate, p.distortion, p.poly) for p in pts])
    for kw in ({}, {"minimize": "poly", "max_distortion": 0.5}, {"minimize": "rate", "max_distortion": 0.4},
               {"max_rate": 0.6}, {"max_rate": 0.8, "max_poly": 0.1}):
        sol = brute.solve(Problem(pmf=pmf, width=2, k=2, **kw))  # type: ignore[arg-type]
        v = np.array([sol.rate, sol.distortion, sol.poly])
        assert (np.abs(arr - v).max(axis=1) <= ATOL).any(), (kw, v)


def test_pareto3_small() -> None:
    R = np.array([0.0, 1.0, 1.0, 0.5, 0.5])
    D = np.array([2.0, 0.0, 0.0, 1.0, 1.0])
    P = np.array([0.0, 0.5, 0.5, 0.3, 0.0])
    assert sorted(pareto3(R, D, P).tolist()) == [0, 1, 4]


def test_limits() -> None:
    with pytest.raises(SolverUnavailable, match="too large"):
        pareto_set(from_spec("random:n=12,support=20,seed=1"), 3, 2)
    with pytest.raises(SolverUnavailable, match="too large"):
        pareto_set(from_spec("random:n=6,support=30,seed=1"), 3, 2, max_points=50)
    with pytest.raises(SolverUnavailable, match="too large"):  # integer-unit path
        pareto_set(random_grid_pmf(random.Random(3), 4, 10), 3, 2, max_points=20)
    with pytest.raises(InvalidArgument, match="method"):
        pareto_set(grid_pmf(2, {1: 1, 2: 1}), 2, 1, method="fast")
    with pytest.raises(InvalidArgument, match="grid"):
        pareto_set(from_spec("random:n=3,support=5,seed=1"), 2, 1, method="units")
