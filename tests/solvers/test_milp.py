"""HiGHS backend (rdp_exact.solvers.milp): formulations, interfaces, limits, infeasibility, options."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin, from_spec
from rdp_exact.pmf import popcount
from rdp_exact.problem import Problem, Status
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers import milp
from rdp_exact.solvers.candidates import (
    candidate_atoms,
    helpful_matrix,
    irreducible_patterns,
    local_search,
    pattern_error,
)
from rdp_exact.solvers.mip_model import build_pattern, build_usage


def _best_min_d(pmf, m: int, k: int) -> float:  # noqa: ANN001
    """min D by enumerating atom sets with best-response codes (free class, integer mode)."""
    best = float("inf")
    atoms = range(1, 1 << pmf.n)
    for T in itertools.combinations(atoms, m):
        d = CombinatorialSAE.best_response(pmf, list(T), k).evaluate(pmf, k).distortion
        best = min(best, d)
    return best


@pytest.mark.parametrize("interface", ["pyomo", "highspy"])
@pytest.mark.parametrize("formulation", ["pattern", "usage", "usage-full"])
def test_formulations_and_interfaces_agree_on_min_distortion(interface: str, formulation: str) -> None:
    pmf = from_spec("random:n=4,support=9,seed=5")
    truth = _best_min_d(pmf, 2, 2)
    sol = milp.solve(
        Problem(pmf, 2, 2), time_limit=60, threads=1, options={"interface": interface, "formulation": formulation}
    )
    assert sol.status is Status.OPTIMAL
    assert sol.distortion == pytest.approx(truth, abs=1e-9)
    assert sol.info["formulation"] == formulation
    assert sol.info["stages"][0]["mip_rel_gap"] == 0.0


def test_helpful_rule_matches_definition() -> None:
    """2|A∩S| > |A| ⇔ the atom alone lowers the event error below |S|."""
    pmf = from_spec("random:n=4,support=10,seed=3")
    atoms = np.arange(1, 16, dtype=np.int64)
    H = helpful_matrix(atoms, pmf.masks)
    for a, s in itertools.product(range(15), range(pmf.support_size)):
        ev = pmf.events[s]
        assert H[a, s] == (pattern_error(4, ev, (int(atoms[a]),)) < popcount(ev))


def test_irreducible_patterns_are_strictly_better_than_subsets() -> None:
    pmf = from_spec("random:n=4,support=10,seed=3")
    atoms = candidate_atoms(pmf, helpful_only=True)
    for k in (2, 3):
        table = irreducible_patterns(pmf, atoms, k, "integer")
        for p in range(table.num_patterns):
            ev = pmf.events[int(table.event[p])]
            Q = [int(atoms[a]) for a in table.atoms[p] if a >= 0]
            e = pattern_error(4, ev, tuple(Q))
            assert e == table.err[p]
            for r in range(len(Q)):
                for sub in itertools.combinations(Q, r):
                    assert e < pattern_error(4, ev, sub)


def test_pattern_table_contains_every_best_response() -> None:
    """For every atom set, each event's best response is an irreducible pattern of the table (k = 3)."""
    pmf = from_spec("random:n=3,support=7,seed=2")
    atoms = candidate_atoms(pmf, helpful_only=True)
    table = irreducible_patterns(pmf, atoms, 3, "integer")
    known = {
        (int(table.event[p]), tuple(sorted(int(atoms[a]) for a in table.atoms[p] if a >= 0)))
        for p in range(table.num_patterns)
    }
    for T in itertools.combinations(atoms.tolist(), 3):
        sae = CombinatorialSAE.best_response(pmf, list(T), 3)
        for s, ev in enumerate(pmf.events):
            act = sae.active_on(ev)
            if act:
                assert (s, tuple(sorted(sae.atoms[j] for j in act))) in known


def test_local_search_returns_feasible_atom_set() -> None:
    pmf = builtin("pairs6")
    atoms = candidate_atoms(pmf, helpful_only=True)
    table = irreducible_patterns(pmf, atoms, 2, "integer")
    chosen = local_search(pmf, table, 3, time_limit=1.0)
    assert 1 <= chosen.sum() <= 3


def test_warm_start_encodes_best_response() -> None:
    pmf = builtin("pairs6")
    form = build_pattern(Problem(pmf, 3, 2))
    sae = CombinatorialSAE.best_response(pmf, [0b11, 0b1100, 0b110000], 2)
    v = form.encode(sae)
    assert v is not None
    assert form.model.satisfies(v)
    assert form.D.value(v) * form.scale.unit == pytest.approx(sae.evaluate(pmf, 2).distortion, abs=1e-9)


def test_usage_encode_satisfies_model() -> None:
    pmf = builtin("cooccur3")
    form = build_usage(Problem(pmf, 2, 2), prune=False)
    sae = CombinatorialSAE.best_response(pmf, [0b11, 0b100], 2)
    v = form.encode(sae)
    assert v is not None and form.model.satisfies(v)


def test_time_limit_gives_limit_with_bound() -> None:
    """A hard instance with a tiny limit: never optimal, incumbent (if any) evaluated, bound ≤ objective."""
    pmf = from_spec("random:n=8,support=64,seed=1")
    sol = milp.solve(Problem(pmf, 4, 2), time_limit=0.5, threads=1, options={"interface": "highspy", "heuristic": False})
    assert sol.status is Status.LIMIT
    assert not sol.is_exact
    if sol.sae is not None:
        assert sol.distortion == pytest.approx(sol.sae.evaluate(pmf, 2).distortion)
        if sol.bound is not None:
            assert sol.bound <= sol.objective + 1e-12
            assert sol.gap is not None and sol.gap >= 0


def test_infeasible_budget() -> None:
    pmf = builtin("cooccur3")
    sol = milp.solve(Problem(pmf, 1, 1, max_distortion=0.0), threads=1)
    assert sol.status is Status.INFEASIBLE
    assert sol.sae is None and sol.objective is None


def test_unknown_interface_and_formulation_rejected() -> None:
    pmf = builtin("cooccur3")
    with pytest.raises(InvalidArgument):
        milp.solve(Problem(pmf, 2, 1), options={"interface": "gurobi"})
    with pytest.raises(InvalidArgument):
        milp.solve(Problem(pmf, 2, 1), options={"formulation": "nope"})
    with pytest.raises(InvalidArgument):
        milp.solve(Problem(pmf, 2, 1, max_poly=0.1), options={"formulation": "pattern"})


def test_info_reports_scaling_and_gaps() -> None:
    pmf = builtin("cooccur3")  # decimal probabilities: exact scaling by their common denominator
    sol = milp.solve(Problem(pmf, 2, 2), threads=1)
    assert sol.info["exact_scaling"] is True
    assert sol.info["prob_scale"] == 100
    st = sol.info["stages"][0]
    assert st["mip_rel_gap"] == 0.0 and st["mip_abs_gap"] == 0.0
    assert sol.solver == "highs"
    assert sol.gap == 0.0


def test_auto_prefers_brute_only_when_affordable() -> None:
    from rdp_exact.solvers import auto, bnb_free, brute

    small = Problem(builtin("cooccur3"), 2, 1)
    large = Problem(from_spec("random:n=10,support=64,seed=1"), 5, 2)
    for pr in (small, large):
        measured = auto.measured_choice(pr)
        expected = ("brute" if brute.affordable(pr) else measured.method if measured is not None
                    else "bnb" if bnb_free.preferred(pr) else "highs")
        assert auto.choose(pr) == expected
    assert auto.choose(large) != "brute"
    # a rate budget may bind (then bnb declines), so auto starts with neither brute force nor bnb
    assert auto.choose(large.with_(max_rate=1.0)) not in ("brute", "bnb")
