"""SAE classes (DESIGN §1.2b): every exact method against the slow enumeration reference on random small pmfs,
class monotonicity, floors, and the JSON record."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdp_exact.classes import ClassProblem, class_floor, evaluate_real, reference_solve, solve_class
from rdp_exact.classes.kone import solve_kone
from rdp_exact.classes.minlp import solve_minlp
from rdp_exact.classes.patterns import solve_patterns
from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.generators import builtin, random_pmf
from rdp_exact.problem import Status
from rdp_exact.theory import d_min

KONE_CASES = [("real-atoms", False), ("real-atoms", True), ("real-codes", False)]


@pytest.mark.parametrize(("cls", "bias"), KONE_CASES)
@pytest.mark.parametrize("seed", range(4))
def test_kone_matches_reference(cls: str, bias: bool, seed: int) -> None:
    pmf = random_pmf(3, 5, seed)
    for m in (1, 2, 3):
        for r in (None, 0.45):
            pr = ClassProblem(pmf, m, 1, cls, bias, max_rate=r)  # type: ignore[arg-type]
            got, ref = solve_kone(pr), reference_solve(pr)
            assert got.is_exact
            assert got.distortion == pytest.approx(ref.distortion, abs=1e-9)
            if r is not None:
                assert got.rate <= r + 1e-9


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_patterns_match_reference(bias: bool, seed: int) -> None:
    pmf = random_pmf(3, 5, 10 + seed)
    for m, k, r in ((2, 1, None), (2, 2, 0.8), (3, 2, None), (3, 3, 1.2)):
        if True:
            pr = ClassProblem(pmf, m, k, "real-atoms", bias, max_rate=r)
            got, ref = solve_patterns(pr), reference_solve(pr)
            assert got.is_exact
            assert got.distortion == pytest.approx(ref.distortion, abs=1e-9)


@pytest.mark.parametrize(("cls", "bias", "m", "k", "support", "seed"), [
    ("real-atoms", False, 2, 1, 4, 3), ("real-atoms", False, 2, 2, 4, 3), ("real-atoms", True, 2, 1, 4, 3),
    ("real-atoms", True, 2, 2, 4, 3),
    # larger supports, where the model's valid cuts (rdp_exact.classes.minlp) do most of the pruning
    ("real-atoms", False, 3, 2, 5, 8), ("real-atoms", True, 2, 2, 5, 8),
])
def test_scip_matches_reference_real_atoms(cls: str, bias: bool, m: int, k: int, support: int, seed: int) -> None:
    pmf = random_pmf(3, support, seed)
    pr = ClassProblem(pmf, m, k, cls, bias)  # type: ignore[arg-type]
    got, ref = solve_minlp(pr, time_limit=30), reference_solve(pr)
    assert got.status is Status.OPTIMAL
    assert got.distortion == pytest.approx(ref.distortion, abs=2e-6)
    assert got.bound <= ref.distortion + 1e-6


def test_scip_matches_reference_real_codes_k1() -> None:
    pmf = random_pmf(3, 3, 2)
    pr = ClassProblem(pmf, 2, 1, "real-codes")
    got, ref = solve_minlp(pr, time_limit=30), reference_solve(pr)
    assert got.bound <= ref.distortion + 1e-6
    assert got.distortion >= ref.distortion - 1e-9
    if got.status is Status.OPTIMAL:
        assert got.distortion == pytest.approx(ref.distortion, abs=2e-6)


def test_scip_real_codes_bias_sandwich() -> None:
    """real-codes + bias (no closed-form reference): bound ≤ D*(real-atoms + bias) by inclusion, and the SAE is real."""
    pmf = random_pmf(3, 5, 4)
    pr = ClassProblem(pmf, 2, 1, "real-codes", True)
    ra = reference_solve(ClassProblem(pmf, 2, 1, "real-atoms", True))
    got = solve_minlp(pr, time_limit=3, start=ra.sae)
    assert got.bound is not None and got.bound <= ra.distortion + 1e-6
    assert got.distortion is not None and got.distortion <= ra.distortion + 1e-6  # warm SCIP finds at least that
    ev = evaluate_real(pmf, got.sae)
    assert ev.distortion == pytest.approx(got.distortion, abs=1e-12)
    assert all(0 <= a <= pr.a_max + 1e-9 for cod in got.sae.codes for a in cod)


@pytest.mark.parametrize("seed", range(4))
def test_class_monotonicity(seed: int) -> None:
    """D*(binary) ≥ D*(real-atoms) ≥ D*(real-codes), and bias ≤ no bias (k = 1; real-atoms also k = 2)."""
    pmf = random_pmf(3, 6, 20 + seed)
    for m in (2, 3):
        b = solve_class(ClassProblem(pmf, m, 1, "binary")).distortion
        ra = solve_class(ClassProblem(pmf, m, 1, "real-atoms")).distortion
        rab = solve_class(ClassProblem(pmf, m, 1, "real-atoms", True)).distortion
        rc = solve_class(ClassProblem(pmf, m, 1, "real-codes")).distortion
        assert b >= ra - 1e-9 and ra >= rc - 1e-9 and ra >= rab - 1e-9
        b2 = solve_class(ClassProblem(pmf, m, 2, "binary")).distortion
        ra2 = solve_class(ClassProblem(pmf, m, 2, "real-atoms")).distortion
        rab2 = solve_class(ClassProblem(pmf, m, 2, "real-atoms", True)).distortion
        assert b2 >= ra2 - 1e-9 and ra2 >= rab2 - 1e-9 and ra >= ra2 - 1e-9


def test_reported_values_are_exact_evaluations() -> None:
    pmf = builtin("cooccur3")
    for pr in (ClassProblem(pmf, 3, 1, "real-codes"), ClassProblem(pmf, 3, 2, "real-atoms", True)):
        sol = solve_class(pr)
        ev = evaluate_real(pmf, sol.sae)
        assert sol.distortion == pytest.approx(ev.distortion, abs=1e-12)
        assert sol.sae.atoms.shape[0] <= pr.width
        assert all(np.linalg.norm(sol.sae.atoms, axis=1) > 0)  # canonical: dead latents dropped
        assert all(len(a) <= pr.k for a in sol.sae.active)


def test_no_bias_floor_is_binary_dmin() -> None:
    """The monosemantic floor without bias equals C-T5's D_min (checked against the enumeration of P = 0 atoms)."""
    for seed in range(3):
        pmf = random_pmf(3, 4, 30 + seed)
        for m, k in ((1, 1), (2, 1), (2, 2)):
            ref = reference_solve(ClassProblem(pmf, m, k, "real-atoms"), monosemantic=True)
            assert ref.distortion == pytest.approx(d_min(pmf, m, k), abs=1e-9)
            assert class_floor(pmf, m, k, "real-codes").d_min == pytest.approx(d_min(pmf, m, k), abs=1e-12)


def test_bias_floor_goes_below_binary_on_cooccur3() -> None:
    """The issue's counterexample: TopK-1 with identity atoms and a bias reaches D ≈ 0.263 < D_min = 0.53."""
    from rdp_exact.classes import RealSAE

    pmf = builtin("cooccur3")
    X = pmf.indicator
    # atoms along the concepts, bias = (0.553, 0.12, 0), each event fires its best single latent (or none)
    b = np.array([0.553, 0.12, 0.0])
    W = np.diag(1.0 - b)

    def err(x: np.ndarray, act: tuple[int, ...]) -> float:
        return float(np.sum((x - b - sum((W[j] for j in act), np.zeros(3))) ** 2))

    active = tuple(min([(), (0,), (1,), (2,)], key=lambda a, x=x: err(x, a)) for x in X)
    sae = RealSAE(atoms=W, bias=b, active=active, codes=tuple((1.0,) * len(a) for a in active))
    d = evaluate_real(pmf, sae).distortion
    assert d < d_min(pmf, 3, 1) - 0.2
    # the exact floor at m = 2 (m = 3 takes longer) is below the binary one, and checked against the enumeration
    fl = class_floor(pmf, 2, 1, "real-atoms", True)
    assert fl.exact and fl.below_binary and fl.d_min_binary == pytest.approx(d_min(pmf, 2, 1))
    small = random_pmf(3, 4, 7)
    ref = reference_solve(ClassProblem(small, 2, 1, "real-atoms", True), monosemantic=True)
    assert class_floor(small, 2, 1, "real-atoms", True).d_min == pytest.approx(ref.distortion, abs=1e-9)


def test_json_record_and_errors() -> None:
    pmf = builtin("cooccur3")
    d = solve_class(ClassProblem(pmf, 2, 1, "real-atoms", True)).to_json_dict()
    assert d["class"] == "real-atoms" and d["decoder_bias"] is True
    assert len(d["bias"]) == 3 and all(len(row) == 3 for row in d["atoms"])
    assert d["status"] == "optimal" and d["exact"] is True
    with pytest.raises(InvalidArgument, match="real-vectors"):
        ClassProblem(pmf, 2, 1, "real-vectors")  # type: ignore[arg-type]
    with pytest.raises(SolverUnavailable):
        solve_class(ClassProblem(pmf, 2, 1, "binary", True))
    with pytest.raises(SolverUnavailable):
        solve_kone(ClassProblem(pmf, 2, 2, "real-atoms"))


def test_time_limit_gives_limit_with_valid_bound() -> None:
    pmf = builtin("pairs6")
    sol = solve_class(ClassProblem(pmf, 3, 2, "real-atoms"), time_limit=0.5)
    assert sol.status is Status.LIMIT and not sol.is_exact
    assert sol.bound is not None and sol.bound <= sol.distortion
    assert math.isfinite(sol.distortion)


# ---------------------------------------------------------------------------------- P budget P ≤ 0 (monosemantic)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_monosemantic_budget_real_atoms_matches_reference(bias: bool, seed: int) -> None:
    pmf = random_pmf(3, 5, 20 + seed)
    for m, k, r in ((1, 1, None), (2, 1, None), (2, 2, 0.8), (2, 2, None)):
        pr = ClassProblem(pmf, m, k, "real-atoms", bias, max_rate=r, max_poly=0)
        got, ref = solve_class(pr), reference_solve(pr, monosemantic=True)
        assert got.is_exact and got.method == "pattern-bnb"
        assert got.distortion == pytest.approx(ref.distortion, abs=1e-9)
        assert got.poly is not None and got.poly <= 1e-9  # every live atom along one concept
        free = solve_class(pr.with_(max_poly=None))
        assert free.distortion <= got.distortion + 1e-9  # the budget can only cost distortion
        if r is not None:
            assert got.rate <= r + 1e-9


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("name", ["cooccur3", "nested3", "independent3"])
def test_monosemantic_real_codes_without_bias_is_the_binary_floor(name: str, k: int) -> None:
    pmf = builtin(name)
    pr = ClassProblem(pmf, 2, k, "real-codes", max_poly=0)
    got = solve_class(pr, time_limit=30)
    assert got.status is Status.OPTIMAL and got.method.endswith("+floor")
    assert got.distortion == pytest.approx(d_min(pmf, 2, k), abs=1e-9)
    assert got.poly is not None and got.poly <= 1e-9


def test_monosemantic_real_codes_with_bias_is_sandwiched() -> None:
    pmf = builtin("cooccur3")
    pr = ClassProblem(pmf, 2, 1, "real-codes", True, max_poly=0)
    got = solve_class(pr, time_limit=30)
    atoms = solve_class(pr.with_(sae_class="real-atoms"))  # a subclass: never better
    assert got.poly is not None and got.poly <= 1e-9
    assert got.bound is not None and got.bound <= got.distortion + 1e-9
    assert got.distortion <= atoms.distortion + 1e-9
    assert got.bound <= class_floor(pmf, 2, 1, "real-codes", True, time_limit=30).d_min + 1e-6


def test_p_budget_other_than_zero_is_refused_in_real_classes() -> None:
    pmf = builtin("cooccur3")
    for cls in ("real-atoms", "real-codes"):
        with pytest.raises(InvalidArgument, match="P budget of 0 only"):
            ClassProblem(pmf, 2, 1, cls, max_poly=0.1)  # type: ignore[arg-type]
    ClassProblem(pmf, 2, 1, "binary", max_poly=0.1)  # the binary class answers any P budget
    with pytest.raises(SolverUnavailable, match="no P budget"):
        solve_class(ClassProblem(pmf, 2, 1, "real-atoms", max_poly=0), "kone")
