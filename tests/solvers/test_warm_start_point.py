"""A MIP engine's returned point must be worth its reported objective (rdp_exact/solvers/mip_lex._solve).

Found by the deep falsification campaign (C-AG): given the previous stage's point as a warm start, HiGHS 1.16
reported the rate stage's optimum (2/3) with a point worth 1, so `--solver highs` returned a worse canonical
answer labelled optimal."""

from __future__ import annotations

import math

import pytest

from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Problem
from rdp_exact.solvers import solve

PMF = ConceptPMF.from_events(3, [(0b001, 1 / 3), (0b100, 1 / 3), (0b101, 1 / 3)])
RHO = 1 - 1 / math.sqrt(2)


@pytest.mark.parametrize("solver", ["highs", "cpsat", "scip"])
def test_canonical_answer_with_a_poly_budget_matches_brute_force(solver: str) -> None:
    problem = Problem(PMF, width=2, k=1, max_poly=RHO)
    want = solve(problem, "brute")
    got = solve(problem, solver)
    assert want.is_exact and got.is_exact
    for a, b in ((got.distortion, want.distortion), (got.rate, want.rate), (got.poly, want.poly)):
        assert math.isclose(a, b, abs_tol=1e-9), (got.distortion, got.rate, got.poly, want.rate)


def test_pyomo_solve_error_on_an_attainable_poly_budget_is_answered() -> None:
    """P ≤ 1 − 1/√3 (the P of a three-concept atom, attainable): HiGHS through Pyomo/appsi ended the rate
    stage in 'Solve error' and the answer was only `limit`; the same rows through highspy solve."""
    pmf = ConceptPMF.from_events(3, [(0b011, 0.25), (0b100, 0.25), (0b101, 0.25), (0b111, 0.25)])
    problem = Problem(pmf, width=1, k=1, max_poly=1 - 1 / math.sqrt(3))
    want, got = solve(problem, "brute"), solve(problem, "highs")
    assert want.is_exact and got.is_exact
    assert math.isclose(got.rate, want.rate, abs_tol=1e-9) and math.isclose(got.poly, want.poly, abs_tol=1e-9)


def test_presolve_failure_on_an_attainable_poly_budget_is_answered() -> None:
    """Same budget on another pmf: HiGHS 1.16's presolve ended in 'Solve error' on both interfaces."""
    pmf = ConceptPMF.from_events(3, [(0b001, 1 / 6), (0b011, 1 / 6), (0b100, 1 / 6), (0b101, 1 / 6), (0b111, 1 / 3)])
    problem = Problem(pmf, width=1, k=1, max_poly=1 - 1 / math.sqrt(3))
    want, got = solve(problem, "brute"), solve(problem, "highs")
    assert want.is_exact and got.is_exact
    assert math.isclose(got.rate, want.rate, abs_tol=1e-9) and math.isclose(got.poly, want.poly, abs_tol=1e-9)
