"""CP-SAT backend (rdp_exact.solvers.cpsat): scaling, limits, infeasibility, options."""

from __future__ import annotations

import numpy as np
import pytest

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin, from_spec
from rdp_exact.problem import Problem, Status
from rdp_exact.solvers import cpsat, milp
from rdp_exact.solvers.candidates import scale_probabilities


def test_scaling_exact_for_decimal_probabilities() -> None:
    sc = scale_probabilities(np.array([0.05, 0.15, 0.8]), np.array([3, 3, 3]))
    assert sc.exact and sc.denominator == 20
    assert list(sc.q) == [1, 3, 16]


def test_scaling_power_of_two_bound_is_rigorous() -> None:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(50))
    spread = rng.integers(1, 20, size=50)
    sc = scale_probabilities(p, spread)
    assert not sc.exact
    assert np.all(np.abs(sc.err) <= sc.unit / 2 + 1e-300)
    assert sc.error_bound(spread) == pytest.approx(float(np.abs(p - sc.q * sc.unit) @ spread))
    assert float(sc.q @ spread) <= 2.0**50


def test_cpsat_matches_highs_on_unstructured_instance() -> None:
    pmf = from_spec("random:n=4,support=10,seed=7")
    pr = Problem(pmf, 3, 2)
    a = cpsat.solve(pr, time_limit=60, threads=1)
    b = milp.solve(pr, time_limit=60, threads=1, options={"interface": "highspy"})
    assert a.status is Status.OPTIMAL and b.status is Status.OPTIMAL
    for q in ("distortion", "rate", "poly"):
        assert a.value(q) == pytest.approx(b.value(q), abs=1e-9)
    assert a.info["exact_scaling"] is False
    assert a.info["scaling_error_bound"]["distortion"] < 1e-9


def test_time_limit_gives_limit() -> None:
    pmf = from_spec("random:n=8,support=64,seed=1")
    sol = cpsat.solve(Problem(pmf, 4, 2), time_limit=0.3, threads=1, options={"heuristic": False})
    assert sol.status is Status.LIMIT
    assert not sol.is_exact
    if sol.sae is not None and sol.bound is not None:
        assert sol.bound <= sol.objective + 1e-12


def test_infeasible_budget() -> None:
    sol = cpsat.solve(Problem(builtin("cooccur3"), 1, 1, max_distortion=0.0, max_rate=0.5), threads=1)
    assert sol.status is Status.INFEASIBLE
    assert sol.sae is None


def test_parameters_pass_through_and_unknown_rejected() -> None:
    pr = Problem(builtin("cooccur3"), 2, 1)
    sol = cpsat.solve(pr, threads=1, options={"random_seed": 3})
    assert sol.status is Status.OPTIMAL
    assert sol.info["stages"][0]["num_workers"] == 1
    with pytest.raises(InvalidArgument):
        cpsat.solve(pr, options={"no_such_parameter": 1})
