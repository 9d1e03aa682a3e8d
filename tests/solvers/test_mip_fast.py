"""Exact branch-and-bound for the free-class min-D query (rdp_exact.solvers.bnb_free) against brute force.

Ground truth is the brute-force backend (rdp_exact.solvers.brute): min D, then the canonical tie-break
(min R, then min P over the atoms the code uses, DESIGN §1.4). Interrupted searches must report `limit`
with a bound that never exceeds the true optimum.
"""

from __future__ import annotations

import numpy as np
import pytest

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin, from_spec
from rdp_exact.problem import Problem, Status
from rdp_exact.solvers import bnb_free, choose_solver, milp, solve


def _instances() -> list[tuple[str, int, int]]:
    """(spec, m, k): random small instances, n ≤ 6, m ≤ 4, k ∈ {1, 2, 3}."""
    rng = np.random.default_rng(20261130)
    out: list[tuple[str, int, int]] = []
    while len(out) < 60:
        n = int(rng.integers(2, 7))
        m = int(rng.integers(1, 5 if n <= 5 else 4))
        k = int(rng.integers(1, min(3, m) + 1))
        support = int(rng.integers(2, min((1 << n) - 1, 20) + 1))
        out.append((f"random:n={n},support={support},seed={int(rng.integers(1000))}", m, k))
    return out


def _check_against_brute(problem: Problem, **opts: object) -> None:
    sol = bnb_free.solve(problem, options=dict(opts) or None)
    ref = solve(problem, "brute", threads=1)
    assert ref.status is Status.OPTIMAL
    assert sol.status is Status.OPTIMAL, sol.info
    assert sol.gap == 0.0 and sol.bound == pytest.approx(sol.objective, abs=1e-12)
    for q in ("distortion", "rate", "poly"):
        assert sol.value(q) == pytest.approx(ref.value(q), abs=1e-9), q
    ev = sol.sae.evaluate(problem.pmf, problem.k)  # C-L1: the reported values are the SAE's own
    assert ev.distortion == pytest.approx(sol.distortion, abs=1e-12)
    assert ev.rate == pytest.approx(sol.rate, abs=1e-12)
    assert sol.sae.width == problem.width


@pytest.mark.parametrize("spec,m,k", _instances())
def test_matches_brute_force_lexicographically(spec: str, m: int, k: int) -> None:
    _check_against_brute(Problem(from_spec(spec), m, k))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_structured_pmf_and_no_heuristic(k: int) -> None:
    """pairs6 (exchangeable concepts, many ties) with and without the local-search incumbent."""
    pr = Problem(builtin("pairs6"), 3, k)
    _check_against_brute(pr)
    _check_against_brute(pr, heuristic=False)


def test_tie_break_prefers_monosemantic_dilution() -> None:
    """A pmf where several atom sets share min D: the answer must follow R then P exactly like brute force."""
    pmf = from_spec("independent:0.5,0.5,0.5")
    for m, k in ((2, 1), (3, 2), (4, 2), (4, 3)):
        _check_against_brute(Problem(pmf, m, k))


@pytest.mark.parametrize("nodes", [1, 3, 10, 40])
def test_interrupted_search_reports_an_honest_bound(nodes: int) -> None:
    """Stopped after a few nodes: status limit (never optimal), bound ≤ true optimum ≤ objective."""
    pr = Problem(from_spec("random:n=6,support=30,seed=4"), 4, 2)
    truth = solve(pr, "brute", threads=1).distortion
    sol = bnb_free.solve(pr, options={"node_limit": nodes, "heuristic": nodes % 2 == 0})
    assert sol.status is Status.LIMIT and not sol.is_exact
    assert sol.info["not_proven_reason"] == "node limit"
    assert sol.bound is not None and sol.bound <= truth + 1e-12
    assert sol.objective >= truth - 1e-12
    assert sol.gap is not None and sol.gap >= 0
    assert sol.sae.evaluate(pr.pmf, pr.k).distortion == pytest.approx(sol.objective, abs=1e-12)


def test_time_limit_gives_limit_not_optimal() -> None:
    # an instance the search does not prove in 600 s (bench-results/bench_scale.md), stopped after 1 s
    pr = Problem(from_spec("random:n=10,support=64,seed=1"), 5, 2)
    sol = bnb_free.solve(pr, time_limit=1.0)
    assert sol.status is Status.LIMIT
    assert sol.bound is not None and 0 <= sol.bound <= sol.objective
    assert sol.gap is not None and sol.gap > 0
    assert sol.info["not_proven_reason"] == "time limit"


def test_scope_and_dispatch() -> None:
    pmf = from_spec("random:n=5,support=12,seed=3")
    assert bnb_free.applies(Problem(pmf, 2, 2))
    for kw in ({"max_rate": 1.0}, {"max_poly": 0.1}, {"max_distortion": 0.5}):  # budgeted min D: see test_agreement
        assert bnb_free.applies(Problem(pmf, 2, 2, **kw))
        with pytest.raises(InvalidArgument):
            milp.solve(Problem(pmf, 2, 2, **kw), options={"formulation": "bnb"})
    for kw in (
        {"coefficients": "disjoint"},
        {"minimize": "rate", "max_distortion": 2.0},
        {"encoder": "threshold"},
    ):
        pr = Problem(pmf, 2, 2, **kw)
        assert not bnb_free.applies(pr)
        with pytest.raises(InvalidArgument):
            bnb_free.solve(pr)
        with pytest.raises(InvalidArgument):
            milp.solve(pr, options={"formulation": "bnb"})
    pr = Problem(pmf, 2, 2)
    auto = solve(pr, "auto")
    assert auto.solver == choose_solver(pr)
    # --solver highs always runs HiGHS (the branch-and-bound is its own method)
    forced = milp.solve(pr, options={"interface": "highspy"})
    assert forced.solver == "highs" and forced.info["formulation"] == "pattern"
    assert auto.distortion == pytest.approx(forced.distortion, abs=1e-9)
    assert auto.rate == pytest.approx(forced.rate, abs=1e-9)
    assert auto.poly == pytest.approx(forced.poly, abs=1e-9)
