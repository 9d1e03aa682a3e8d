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

from rdp_exact.errors import SolverUnavailable  # noqa: E402
from rdp_exact.generators import from_spec  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import brute  # noqa: E402
from rdp_exact.solvers.pareto import pareto3, pareto_set  # noqa: E402

ATOL = 1e-9


def same_sets(want: list[tuple[float, float, float]], got: list[tuple[float, float, float]]) -> None:
    assert len(want) == len(got), (want, got)
    used = [False] * len(got)
    for w in want:
        hit = [i for i, g in enumerate(got) if not used[i] and max(abs(a - b) for a, b in zip(w, g, strict=True)) <= ATOL]
        assert hit, f"naive point {w} missing from {got}"
        used[hit[0]] = True


def check_points(pts, pmf, k, measure="decoder") -> None:  # type: ignore[no-untyped-def]
    for p in pts:
        ev = p.sae.evaluate(pmf, k)
        assert abs(ev.rate - p.rate) <= ATOL and abs(ev.distortion - p.distortion) <= ATOL
        assert abs(ev.poly(measure) - p.poly) <= ATOL
    arr = np.array([(p.rate, p.distortion, p.poly) for p in pts])
    for i, a in enumerate(arr):  # mutually non-dominated
        le = (arr <= a + 1e-12).all(axis=1)
        le[i] = False
        assert not le.any()


@pytest.mark.parametrize("seed", range(8))
def test_free_pareto_matches_naive(seed: int) -> None:
    rng = random.Random(seed)
    n = 2 + seed % 2
    m = 2 + seed % 2 if n == 2 else 2
    k = 1 + seed % m
    mode = "disjoint" if seed % 3 == 0 else "integer"
    pmf = random_grid_pmf(rng, n, 4)
    want = [(float(r), float(d), p) for r, d, p in naive_oracle.pareto(naive_oracle.free_points(pmf, m, k, mode))]
    got = pareto_set(pmf, m, k, coefficients=mode)
    same_sets(want, [(p.rate, p.distortion, p.poly) for p in got])
    check_points(got, pmf, k)
    assert got == sorted(got, key=lambda p: (p.rate, p.distortion, p.poly))


@pytest.mark.parametrize(("weights", "poly"), [("ternary", "joint"), ("binary", "decoder")])
def test_threshold_pareto_matches_naive(weights: str, poly: str) -> None:
    pmf = grid_pmf(2, {0b01: 3, 0b11: 2, 0b10: 1})
    pts = naive_oracle.threshold_points(pmf, 2, 1, "integer", weights == "binary", poly)
    want = [(float(r), float(d), p) for r, d, p in naive_oracle.pareto(pts)]
    got = pareto_set(pmf, 2, 1, encoder="threshold", poly=poly, encoder_weights=weights)
    same_sets(want, [(p.rate, p.distortion, p.poly) for p in got])
    check_points(got, pmf, 1, poly)


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
