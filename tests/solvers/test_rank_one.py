"""The rank-one column LP (rdp_exact.solvers.rank_one): its bounds against brute force, and the branch and
bound's answer with root fixing against brute force."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from rdp_exact.generators import from_spec
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Problem, Status
from rdp_exact.solvers import bnb_free
from rdp_exact.solvers.candidates import candidate_atoms
from rdp_exact.solvers.rank_one import RankOneLP, root_fixing, seed_columns

sys.path.insert(0, str(Path(__file__).parent))
import naive_oracle  # noqa: E402

brute = pytest.importorskip("rdp_exact.solvers.brute")


def _bits(pmf: ConceptPMF, atoms: np.ndarray) -> np.ndarray:
    return ((atoms[:, None] >> np.arange(pmf.n)) & 1).astype(float)


def _all_sets(pmf: ConceptPMF, bits: np.ndarray, m: int, k: int) -> list[tuple[tuple[int, ...], float]]:
    """Every set of ≤ m candidate atoms (indices into ``bits``) with its exact D (the independent oracle)."""
    masks = [int(sum(1 << i for i in np.flatnonzero(row))) for row in bits]
    return [(T, naive_oracle.set_distortion(pmf, [masks[a] for a in T], k))
            for r in range(0, m + 1) for T in itertools.combinations(range(bits.shape[0]), r)]


SMALL = [("random:n=4,support=9,seed=1", 2, 2), ("random:n=4,support=12,seed=2", 3, 2),
         ("random:n=4,support=10,seed=3", 2, 1), ("pairs:n=4,pair=0.3,single=0.1,seed=1", 2, 2),
         ("random:n=5,support=14,seed=4", 2, 2), ("independent:0.3,0.4,0.2,0.3", 3, 1)]


@pytest.mark.parametrize("spec,m,k", SMALL)
def test_folded_zeros_relax_the_full_lp(spec: str, m: int, k: int) -> None:
    """Folding the x = 0 entries into the column costs drops only the piece 3z − 2: a relaxation of the full
    LP, so its optimum is ≤ the full LP's (and both are ≤ D*)."""
    pmf = from_spec(spec)
    atoms = candidate_atoms(pmf, helpful_only=True)
    bits = _bits(pmf, atoms)
    dstar = min(D for _, D in _all_sets(pmf, bits, m, k))
    vals = {}
    for fold in (True, False):
        lp = RankOneLP(pmf.indicator, pmf.probs, bits, m, k, fold=fold)
        seed_columns(lp, [])
        res = lp.solve(30.0)
        assert res.converged and res.bound <= dstar + 1e-12
        assert res.bound == pytest.approx(res.lp_objective, abs=1e-7)
        vals[fold] = res.bound
    assert vals[True] <= vals[False] + 1e-7


@pytest.mark.parametrize("spec,m,k", SMALL)
def test_bounds_below_every_atom_set(spec: str, m: int, k: int) -> None:
    """Weak duality: the LP's bound is ≤ D* and each forced bound L_A is ≤ D of every set containing A; the
    Lagrangian L(d, μ) is ≤ D* for arbitrary nonnegative multipliers too (validity does not rest on the LP)."""
    pmf = from_spec(spec)
    atoms = candidate_atoms(pmf, helpful_only=True)
    bits = _bits(pmf, atoms)
    sets = _all_sets(pmf, bits, m, k)
    dstar = min(D for _, D in sets)
    lp = RankOneLP(pmf.indicator, pmf.probs, bits, m, k)
    seed_columns(lp, [])
    res = lp.solve(30.0)
    assert res.converged
    assert res.bound <= dstar + 1e-12
    assert res.bound == pytest.approx(res.lp_objective, abs=1e-7)  # L at the LP duals is the LP optimum
    for a in range(len(atoms)):
        best_with_a = min(D for T, D in sets if a in T)
        assert res.forced[a] <= best_with_a + 1e-12
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.exponential(float(rng.choice([0.01, 0.1, 1.0])), lp.R) * (rng.random(lp.R) < 0.7)
        mu = rng.exponential(0.05, lp.N)
        L, forced = lp.lagrangian(d, mu)
        assert L <= dstar + 1e-12
        for a in range(len(atoms)):
            assert forced[a] <= min(D for T, D in sets if a in T) + 1e-12


def test_lp_is_tighter_than_the_empty_code_and_closes_on_a_separable_pmf() -> None:
    """On independent concepts with m = k = n the singletons are optimal (D* = 0) and the LP proves it; with
    m = k = 2 < n it is strictly above 0 (the LP knows an event's reconstruction is a sum of at most m atoms)."""
    pmf = from_spec("independent:0.3,0.4,0.2,0.3")
    atoms = candidate_atoms(pmf, helpful_only=True)
    for m, k, positive in ((4, 4, False), (2, 2, True)):
        lp = RankOneLP(pmf.indicator, pmf.probs, _bits(pmf, atoms), m, k)
        seed_columns(lp, [])
        res = lp.solve(30.0)
        assert (res.bound > 1e-6) is positive
        assert res.bound <= brute.solve(Problem(pmf, m, k), time_limit=60).distortion + 1e-12


def test_fixing_keeps_every_near_optimal_atom() -> None:
    """Atoms of every set with D ≤ incumbent + tol survive; the ones dropped are in no such set."""
    pmf = from_spec("random:n=5,support=14,seed=4")
    m, k = 2, 2
    atoms = candidate_atoms(pmf, helpful_only=True)
    bits = _bits(pmf, atoms)
    sets = _all_sets(pmf, bits, m, k)
    dstar = min(D for _, D in sets)
    best_T = min(sets, key=lambda x: x[1])[0]
    _, keep = root_fixing(pmf.indicator, pmf.probs, bits, m, k, dstar, best_T, 30.0, 1e-9)
    assert not keep.all()  # the test exercises an exclusion
    for T, D in sets:
        if D <= dstar + 1e-9:
            assert all(keep[a] for a in T)


FIX_CASES = [("random:n=6,support=20,seed=5", 3, 2), ("pairs:n=6,pair=0.3,single=0.05,seed=1", 3, 2),
             ("random:n=6,support=24,seed=7", 3, 1), ("pairs:n=7,pair=0.35,single=0.05,seed=2,triples=1", 3, 2),
             ("random:n=5,support=16,seed=8", 2, 2)]


@pytest.mark.parametrize("spec,m,k", FIX_CASES)
def test_bnb_with_root_fixing_equals_brute_force(spec: str, m: int, k: int) -> None:
    """The canonical (D, R, P) and atoms with the fixing forced on equal brute force (symmetry on and off)."""
    pmf = from_spec(spec)
    problem = Problem(pmf, m, k)
    ref = brute.solve(problem, time_limit=120, threads=1, options=None)
    assert ref.status is Status.OPTIMAL
    excluded = 0
    for opts in ({"rank_one": True}, {"rank_one": True, "symmetry": False}):
        sol = bnb_free.solve(problem, time_limit=60, options=opts)
        assert sol.status is Status.OPTIMAL
        assert sol.distortion == pytest.approx(ref.distortion, abs=1e-9)
        assert sol.rate == pytest.approx(ref.rate, abs=1e-9)
        assert sol.poly == pytest.approx(ref.poly, abs=1e-9)
        assert sorted(a for a in sol.sae.atoms if a) == sorted(a for a in ref.sae.atoms if a), opts
        assert sol.info.rank_one_bound is not None and sol.info.rank_one_bound <= ref.distortion + 1e-12
        excluded += sol.info.rank_one_excluded or 0
    assert excluded > 0 or spec.startswith("pairs")  # random pmfs: the fixing drops atoms


def test_the_lp_prints_nothing_on_stdout() -> None:
    """HiGHS prints a licence banner on stdout once per process, at its first construction: the rank-one LP must
    not (it would land in `rdp solve`'s table or JSON on stdout). A fresh process, so the banner is still due."""
    import subprocess

    code = ("from rdp_exact.generators import from_spec\n"
            "from rdp_exact.problem import Problem\n"
            "from rdp_exact.solvers import bnb_free\n"
            "s = bnb_free.solve(Problem(from_spec('random:n=5,support=12,seed=3'), 3, 2), options={'rank_one': True})\n"
            "assert s.info.rank_one_bound is not None\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""


def test_bnb_rank_one_option_is_checked() -> None:
    problem = Problem(from_spec("random:n=4,support=8,seed=1"), 2, 2)
    with pytest.raises(Exception, match="rank_one"):
        bnb_free.solve(problem, options={"rank_one": "sometimes"})
    for bad in (-1, 1.5, True):
        with pytest.raises(Exception, match="rank_one_depth"):
            bnb_free.solve(problem, options={"rank_one_depth": bad})


@pytest.mark.parametrize("spec,m,k", SMALL)
def test_terms_bound_every_atom_set(spec: str, m: int, k: int) -> None:
    """The terms behind the bound family of the branch and bound: D(T) ≥ const + Σ_{A∈T} ρ(A) for every set T of
    at most m atoms, at the LP's duals and at arbitrary nonnegative multipliers."""
    pmf = from_spec(spec)
    atoms = candidate_atoms(pmf, helpful_only=True)
    bits = _bits(pmf, atoms)
    sets = _all_sets(pmf, bits, m, k)
    lp = RankOneLP(pmf.indicator, pmf.probs, bits, m, k)
    seed_columns(lp, [])
    res = lp.solve(30.0)
    assert res.rho is not None and res.const == pytest.approx(res.bound - np.sort(res.rho)[:m].sum())
    rng = np.random.default_rng(1)
    terms = [(res.const, res.rho)]
    for _ in range(10):
        d = rng.exponential(float(rng.choice([0.01, 0.1, 1.0])), lp.R) * (rng.random(lp.R) < 0.7)
        terms.append(lp.terms(d, rng.exponential(0.05, lp.N)))
    for const, rho in terms:
        assert (rho <= 0).all()
        for T, D in sets:
            assert const + rho[list(T)].sum() <= D + 1e-12


@pytest.mark.parametrize("spec,m,k", [c for c in SMALL if c[1] >= 2])
def test_forced_terms_bound_every_completion(spec: str, m: int, k: int) -> None:
    """The LP re-solved with atoms forced in (rank_one.forced_terms): its node bound is ≤ D of every set that
    contains F and otherwise only allowed atoms, its terms bound every set, it is at least the forced bound
    of the root's duals, and a forcing is released by the next call (forcing nothing gives the root LP back)."""
    from rdp_exact.solvers.rank_one import forced_terms

    pmf = from_spec(spec)
    atoms = candidate_atoms(pmf, helpful_only=True)
    bits = _bits(pmf, atoms)
    sets = _all_sets(pmf, bits, m, k)
    M = len(atoms)
    lp = RankOneLP(pmf.indicator, pmf.probs, bits, m, k)
    seed_columns(lp, [])
    root = lp.solve(30.0)
    rng = np.random.default_rng(2)
    cases = [[a] for a in range(M)] + [sorted(rng.choice(M, 2, replace=False).tolist()) for _ in range(4)]
    for F in cases:
        if len(F) > m:
            continue
        # single atoms: every other atom allowed; pairs: a random allowed list
        allowed = np.array([a for a in range(M) if a not in F and (len(F) == 1 or rng.random() < 0.8)],
                           dtype=np.int64)
        val, const, rho = forced_terms(lp, F, allowed, m - len(F), 30.0)
        completions = [D for T, D in sets if set(F) <= set(T) and set(T) - set(F) <= set(allowed.tolist())]
        assert val <= min(completions) + 1e-12, F
        for T, D in sets:
            assert const + rho[list(T)].sum() <= D + 1e-12
        if len(F) == 1:
            assert val >= root.forced[F[0]] - 1e-7  # the re-solve only tightens the root's forced bound
    val, const, rho = forced_terms(lp, [], np.arange(M), m, 30.0)
    assert val == pytest.approx(root.bound, abs=1e-7)


@pytest.mark.parametrize("spec,m,k", FIX_CASES[:3])
def test_bnb_with_node_resolves_equals_brute_force(spec: str, m: int, k: int, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    """With the LP re-solved at every node of depth 1 and 2 (forced on at any size), the canonical answer is
    brute force's."""
    monkeypatch.setattr(bnb_free, "RANK_ONE_FORCE_MIN_ATOMS", 1)
    problem = Problem(from_spec(spec), m, k)
    ref = brute.solve(problem, time_limit=120, threads=1, options=None)
    sol = bnb_free.solve(problem, time_limit=60, threads=1, options={"rank_one": True, "rank_one_depth": 2})
    assert sol.status is Status.OPTIMAL
    assert (sol.distortion, sol.rate, sol.poly) == pytest.approx((ref.distortion, ref.rate, ref.poly), abs=1e-9)
    assert sorted(a for a in sol.sae.atoms if a) == sorted(a for a in ref.sae.atoms if a)
    assert sol.info.rank_one_nodes and sol.info.rank_one_nodes > 0
