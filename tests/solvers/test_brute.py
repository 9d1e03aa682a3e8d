"""The brute-force oracle against a naive literal enumeration and hand-computed cases (DESIGN §1.4, C-L1)."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import naive_oracle  # noqa: E402

from rdp_exact.errors import SolverUnavailable  # noqa: E402
from rdp_exact.generators import builtin, from_spec  # noqa: E402
from rdp_exact.pmf import ConceptPMF  # noqa: E402
from rdp_exact.problem import Problem, Status  # noqa: E402
from rdp_exact.solvers import brute, solve  # noqa: E402

ATOL = 1e-9


def grid_pmf(n: int, weights: dict[int, int]) -> ConceptPMF:
    tot = sum(weights.values())
    return ConceptPMF.from_events(n, [(e, w / tot) for e, w in weights.items()])


def random_grid_pmf(rng: random.Random, n: int, N: int) -> ConceptPMF:
    evs = rng.sample(range(1 << n), N)
    return grid_pmf(n, {e: rng.randint(1, 9) for e in evs})


def check_against_naive(problem: Problem, points: dict | None = None) -> None:
    sol = brute.solve(problem)
    want = naive_oracle.answer(problem, points)
    if want is None:
        assert sol.status is Status.INFEASIBLE
        assert sol.sae is None and sol.evaluation is None and sol.objective is None
        return
    assert sol.status is Status.OPTIMAL and sol.is_exact
    got = (sol.rate, sol.distortion, sol.poly)
    assert all(abs(float(w) - g) <= ATOL for w, g in zip(want, got, strict=True)), (want, got)
    check_solution(sol)


def check_solution(sol) -> None:  # type: ignore[no-untyped-def]
    """The returned SAE re-evaluates to the reported values (C-L1) and has width exactly m."""
    pr = sol.problem
    assert sol.sae.width == pr.width
    ev = sol.sae.evaluate(pr.pmf, pr.k)
    assert ev.rate == sol.rate and ev.distortion == sol.distortion
    assert sol.objective == sol.value(pr.minimize) and sol.bound == sol.objective and sol.gap == 0.0
    if pr.encoder == "free":
        assert sol.sae.encoder is None
        # every nonzero atom is used and distinct: P is the P of the atom set
        live = [a for a, lv in zip(sol.sae.atoms, ev.live, strict=True) if lv]
        assert len(live) == len(set(live)) == sum(1 for a in sol.sae.atoms if a)


QUERIES = [
    {},
    {"minimize": "rate"},
    {"minimize": "poly"},
    {"max_rate": 0.5},
    {"max_distortion": 0.6},
    {"max_poly": 0.0},
    {"max_poly": 0.2},
    {"minimize": "rate", "max_distortion": 0.4},
    {"minimize": "rate", "max_distortion": 0.8, "max_poly": 0.15},
    {"minimize": "poly", "max_rate": 0.7, "max_distortion": 0.9},
    {"minimize": "poly", "max_distortion": 0.3},
    {"max_rate": 0.9, "max_poly": 0.1},
    {"max_rate": 0.0, "max_distortion": 0.0},  # infeasible unless the pmf is the empty event
]


# ---------------------------------------------------------------------------- hand-computed cases
def test_single_pair_event() -> None:
    pmf = ConceptPMF.from_events(2, [((0, 1), 1.0)])
    sol = brute.solve(Problem(pmf=pmf, width=1, k=1))
    assert sol.sae.sorted_atoms() == [[0, 1]]
    assert sol.distortion == 0 and sol.rate == 1 and sol.poly == pytest.approx(1 - 1 / math.sqrt(2))


def test_lexicographic_tie_breaks_by_hand() -> None:
    pmf = ConceptPMF.from_events(2, [((0, 1), 1.0)])
    # D = 0 by {0,1} (R = 1, P = 1 − 1/√2) or by {0},{1} (R = 2, P = 0)
    d = brute.solve(Problem(pmf=pmf, width=2, k=2))
    assert (d.distortion, d.rate) == (0, 1) and d.sae.sorted_atoms() == [[0, 1], []]
    p = brute.solve(Problem(pmf=pmf, width=2, k=2, minimize="poly"))
    assert (p.poly, p.distortion, p.rate) == (0, 0, 2)
    r = brute.solve(Problem(pmf=pmf, width=2, k=2, minimize="rate", max_distortion=0.0))
    assert (r.rate, r.distortion) == (1, 0)
    r0 = brute.solve(Problem(pmf=pmf, width=2, k=2, minimize="rate"))
    assert (r0.rate, r0.distortion, r0.poly) == (0, 2, 0)  # the all-dead SAE


def test_forced_use_of_a_diluting_latent() -> None:
    """P ≤ 0.15 is met only by {0,1} plus a monosemantic atom that must fire somewhere (here on ∅)."""
    pmf = grid_pmf(3, {0b011: 9, 0: 1})
    sol = brute.solve(Problem(pmf=pmf, width=2, k=1, max_poly=0.15))
    assert sol.distortion == pytest.approx(0.1) and sol.rate == pytest.approx(1.0)
    assert sol.poly == pytest.approx((1 - 1 / math.sqrt(2)) / 2)
    assert sol.evaluation.active[0] != ()  # the diluting latent fires on the empty event
    check_against_naive(sol.problem)
    # an unused monosemantic atom does not dilute P (canonical form)
    from rdp_exact.sae import CombinatorialSAE

    lazy = CombinatorialSAE.best_response(pmf, [0b011, 0b100], 1)
    assert lazy.evaluate(pmf).poly_dec == pytest.approx(1 - 1 / math.sqrt(2))


def test_infeasible_budgets() -> None:
    pmf = builtin("cooccur3")
    sol = brute.solve(Problem(pmf=pmf, width=2, k=1, max_distortion=0.0))
    assert sol.status is Status.INFEASIBLE and sol.sae is None and sol.objective is None


def test_threshold_hand_case() -> None:
    # {0} alone and {0,1}: one latent {0} firing on both, or absorption patterns; check vs naive
    pmf = grid_pmf(2, {0b01: 1, 0b11: 1})
    for kw in ({}, {"minimize": "poly", "max_distortion": 0.5}, {"poly": "decoder"}):
        check_against_naive(Problem(pmf=pmf, width=2, k=1, encoder="threshold", **kw))


# ---------------------------------------------------------------------------- against the naive oracle
CASES = [(n, N, m, k, mode, seed)
         for seed, (n, N, m, k) in enumerate([(2, 3, 2, 1), (2, 4, 2, 2), (3, 4, 2, 1), (3, 5, 2, 2), (3, 3, 3, 2),
                                              (2, 4, 3, 1), (3, 4, 1, 1), (3, 4, 3, 3)])
         for mode in ("integer", "disjoint")]


@pytest.mark.parametrize(("n", "N", "m", "k", "mode", "seed"), CASES)
def test_free_class_matches_naive(n: int, N: int, m: int, k: int, mode: str, seed: int) -> None:
    rng = random.Random(seed)
    pmf = random_grid_pmf(rng, n, N)
    points = naive_oracle.free_points(pmf, m, k, mode)
    es = pmf.expected_sparsity()
    for q in QUERIES:
        q = dict(q)
        if "max_distortion" in q:
            q["max_distortion"] *= es
        check_against_naive(Problem(pmf=pmf, width=m, k=k, coefficients=mode, **q), points)  # type: ignore[arg-type]


THRESHOLD_CASES = [
    (2, 3, 2, 1, "integer", "ternary", "joint"),
    (2, 4, 2, 2, "integer", "binary", "joint"),
    (2, 4, 2, 2, "disjoint", "ternary", "decoder"),
    (3, 4, 1, 1, "integer", "ternary", "joint"),
    (3, 5, 1, 1, "disjoint", "binary", "decoder"),
]


@pytest.mark.parametrize(("n", "N", "m", "k", "mode", "weights", "poly"), THRESHOLD_CASES)
def test_threshold_class_matches_naive(n: int, N: int, m: int, k: int, mode: str, weights: str, poly: str) -> None:
    rng = random.Random(100 + n * N + m)
    pmf = random_grid_pmf(rng, n, N)
    base = Problem(pmf=pmf, width=m, k=k, encoder="threshold", coefficients=mode,  # type: ignore[arg-type]
                   encoder_weights=weights, poly=poly)  # type: ignore[arg-type]
    points = naive_oracle.achievable(base)
    for q in QUERIES[:10]:
        q = dict(q)
        if "max_distortion" in q:
            q["max_distortion"] *= pmf.expected_sparsity()
        check_against_naive(base.with_(**q), points)


@st.composite
def tiny_problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(1, 3))
    N = draw(st.integers(1, min(4, 1 << n)))
    evs = draw(st.lists(st.integers(0, (1 << n) - 1), min_size=N, max_size=N, unique=True))
    ws = draw(st.lists(st.integers(1, 6), min_size=N, max_size=N))
    pmf = grid_pmf(n, dict(zip(evs, ws, strict=True)))
    m = draw(st.integers(1, 2 if n == 3 else 3))
    k = draw(st.integers(1, m))
    minimize = draw(st.sampled_from(["distortion", "rate", "poly"]))
    budget = st.none() | st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0, 1.5])
    return Problem(pmf=pmf, width=m, k=k, minimize=minimize, max_rate=draw(budget),  # type: ignore[arg-type]
                   max_distortion=draw(budget), max_poly=draw(st.none() | st.sampled_from([0.0, 0.15, 0.3])),
                   coefficients=draw(st.sampled_from(["integer", "disjoint"])))


@given(tiny_problems())
def test_free_class_matches_naive_hypothesis(problem: Problem) -> None:
    check_against_naive(problem)


# ---------------------------------------------------------------------------- interface
def test_backend_through_solvers_interface() -> None:
    pr = Problem(pmf=builtin("cooccur3"), width=2, k=1)
    assert brute.affordable(pr)
    sol = solve(pr, "brute")
    assert sol.solver == "brute" and sol.status is Status.OPTIMAL
    assert solve(pr, "auto").solver == "brute"
    check_solution(sol)


def test_too_large_raises_solver_unavailable() -> None:
    big = Problem(pmf=from_spec("random:n=12,support=20,seed=1"), width=3, k=2)
    assert not brute.affordable(big)
    with pytest.raises(SolverUnavailable, match="n = 12 is too large"):
        brute.solve(big)
    wide = Problem(pmf=from_spec("random:n=8,support=64,seed=1"), width=6, k=2)
    assert not brute.affordable(wide)
    with pytest.raises(SolverUnavailable, match="too large"):
        brute.solve(wide)
    thr = Problem(pmf=from_spec("random:n=5,support=8,seed=1"), width=2, k=1, encoder="threshold")
    with pytest.raises(SolverUnavailable, match="too large"):
        brute.solve(thr)


def test_time_limit_gives_limit_status_never_optimal() -> None:
    pr = Problem(pmf=from_spec("random:n=7,support=40,seed=3"), width=3, k=2)
    sol = brute.solve(pr, time_limit=1e-4)
    assert sol.status is Status.LIMIT and sol.bound is None and sol.gap is None and not sol.is_exact


@pytest.mark.parametrize("encoder", ["free", "threshold"])
def test_support_of_only_the_empty_event(encoder: str) -> None:
    """No event has a concept: every latent is dead, R = D = P = 0 (regression: no live candidates)."""
    from rdp_exact.pmf import ConceptPMF
    from rdp_exact.problem import Problem, Status
    from rdp_exact.solvers import solve

    pmf = ConceptPMF.from_events(2, [([], 1.0)])
    sol = solve(Problem(pmf=pmf, width=2, k=1, encoder=encoder), "brute")  # type: ignore[arg-type]
    assert sol.status is Status.OPTIMAL
    assert (sol.rate, sol.distortion, sol.poly) == (0.0, 0.0, 0.0)
    assert sol.evaluation is not None and not any(sol.evaluation.live)
