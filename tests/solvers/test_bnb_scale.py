"""The branch-and-bound's Lagrangian bound, symmetry breaking and canonical answer against enumeration.

* bound: at random nodes F of random small instances, the facility-location Lagrangian bound is at most the
  best D over every completion F ∪ U (|U| ≤ m − |F|), enumerated here independently;
* symmetry: every enumerated concept automorphism preserves the pmf, the set is closed under composition, and
  its size equals a plain count over all n! permutations;
* answers: with symmetry breaking and the Lagrangian bound, the proven (D, R, P) and atoms equal brute force's
  canonical answer, on structured pmfs with many automorphisms and on random ones.
"""

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
from rdp_exact.solvers.symmetry import atom_action, automorphisms

sys.path.insert(0, str(Path(__file__).parent))
import naive_oracle  # noqa: E402

brute = pytest.importorskip("rdp_exact.solvers.brute")


_set_D = naive_oracle.set_distortion


def _symmetric_pmf(seed: int) -> ConceptPMF:
    """A pmf invariant under swapping concepts 0↔1 and 2↔3 (and the two pairs): weights on orbits."""
    rng = np.random.default_rng(seed)
    perms = [(0, 1, 2, 3), (1, 0, 2, 3), (0, 1, 3, 2), (1, 0, 3, 2), (2, 3, 0, 1), (3, 2, 0, 1), (2, 3, 1, 0),
             (3, 2, 1, 0)]
    weights: dict[int, float] = {}
    for ev in rng.choice(np.arange(1, 16), size=6, replace=False).tolist():
        w = float(rng.integers(1, 9))
        for g in perms:
            img = sum(1 << g[i] for i in range(4) if (ev >> i) & 1)
            weights[img] = w
    return ConceptPMF.from_events(4, list(weights.items()), normalize=True)


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_below_every_completion(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pmf = from_spec(f"random:n=4,support=9,seed={seed + 1}")
    m, k = 3, 1 + seed % 2
    search = bnb_free._Search(Problem(pmf, m, k), None)
    atoms = search.atoms.tolist()
    for depth in (0, 1):
        F = tuple(sorted(rng.choice(len(atoms), size=depth, replace=False).tolist()))
        cand = np.array([a for a in range(search.M) if a not in F])
        kF, kb = search._keys_from_scratch(F, cand)
        keA = np.minimum(kb, kF[None, :])
        eF = (kF // search.K1).astype(float)
        eA = (keA // search.K1).astype(float)
        r = m - depth
        search.best = float("inf")  # no early exit towards an incumbent
        base, w, _ = search._lagrange(eF, eA, r, search._p2(depth, r), None, 60)
        node_bound = base - float(np.sort(w)[::-1][:r].sum())
        truth = min(
            _set_D(pmf, [atoms[a] for a in (*F, *U)], k)
            for s in range(0, r + 1)
            for U in itertools.combinations(cand.tolist(), s)
        )
        assert node_bound <= truth + 1e-9, (F, node_bound, truth)
        # child bounds: base − w_A − top (r − 1) of the others bounds every completion containing A
        order = np.argsort(-w)
        for A in cand[order[:3]].tolist():
            i = int(np.flatnonzero(cand == A)[0])
            others = np.sort(np.delete(w, i))[::-1][: r - 1].sum()
            child_truth = min(
                _set_D(pmf, [atoms[a] for a in (*F, A, *U)], k)
                for s in range(0, r)
                for U in itertools.combinations([c for c in cand.tolist() if c != A], s)
            )
            assert base - w[i] - others <= child_truth + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_superset_charged_bound_below_every_completion(seed: int) -> None:
    """k = 2 with the pair term charged to the atoms (½ of the r − 1 largest g_λ over proper supersets), at
    random λ and at the tuned λ, and the combined window bounds of the children in the search's order."""
    rng = np.random.default_rng(100 + seed)
    pmf = from_spec(f"random:n=4,support={7 + seed},seed={seed + 11}")
    m, k = 4, 2
    search = bnb_free._Search(Problem(pmf, m, k), None)
    atoms = search.atoms.tolist()
    for depth in (0, 1, 2):
        F = tuple(sorted(rng.choice(len(atoms), size=depth, replace=False).tolist()))
        cand = np.array([a for a in range(search.M) if a not in F])
        kF, kb = search._keys_from_scratch(F, cand)
        keA = np.minimum(kb, kF[None, :])
        eF = (kF // search.K1).astype(float)
        eA = (keA // search.K1).astype(np.int32)
        r = m - depth
        search.best = float("inf")
        p2 = search._p2(depth, r)
        pe = search.pi * eF
        lams = [rng.uniform(0, 1, search.N) * pe for _ in range(3)] + [None]
        for lam0 in lams:
            iters = 40 if lam0 is None else 1
            base, w, _ = search._lagrange(eF, eA, r, p2, lam0, iters, search.atoms[cand])
            for s in range(0, r + 1):
                for U in itertools.combinations(range(cand.size), s):
                    truth = _set_D(pmf, [atoms[a] for a in (*F, *cand[list(U)].tolist())], k)
                    assert base - float(w[list(U)].sum()) <= truth + 1e-9, (F, U, base, truth)
        # children in the combined order: a child's bound holds for completions by later atoms only
        fam = [(base, w), search._legacy_bound(F, cand, kF, eF, eA, r)]
        order, lb = search._combined_windows(fam, r, float("inf"))
        for pos in range(order.size):
            later = cand[order[pos + 1 :]].tolist()
            A = int(cand[order[pos]])
            child_truth = min(
                _set_D(pmf, [atoms[a] for a in (*F, A, *U)], k)
                for s in range(0, r)
                for U in itertools.combinations(later, s)
            )
            assert lb[pos] <= child_truth + 1e-9, (F, pos, lb[pos], child_truth)


def test_suffix_top_sums_against_sorting() -> None:
    from rdp_exact.solvers.bnb_kernel import suffix_top_sums

    rng = np.random.default_rng(0)
    for _ in range(50):
        ws = rng.integers(0, 5, size=int(rng.integers(1, 12))).astype(float)
        q = int(rng.integers(0, 5))
        got = suffix_top_sums(ws, q)
        want = [float(np.sort(ws[i + 1 :])[::-1][:q].sum()) for i in range(ws.size)]
        assert np.allclose(got, want)


@pytest.mark.parametrize("spec", ["pairs:n=6,pair=0.3,single=0.05,seed=1", "sym0", "sym1", "independent:0.3,0.3,0.2,0.2,0.1"])
def test_automorphisms_match_plain_count(spec: str) -> None:
    pmf = _symmetric_pmf(int(spec[3:])) if spec.startswith("sym") else from_spec(spec)
    group = automorphisms(pmf)
    assert group.full
    table = dict(pmf.items())
    count = 0
    for perm in itertools.permutations(range(pmf.n)):
        ok = True
        for ev, p in table.items():
            img = sum(1 << perm[i] for i in range(pmf.n) if (ev >> i) & 1)
            if abs(table.get(img, -1.0) - p) > 1e-12 * p:
                ok = False
                break
        count += ok
    assert group.order == count
    els = {tuple(g) for g in group.perms.tolist()}
    for g, h in itertools.islice(itertools.product(els, els), 400):
        assert tuple(g[h[i]] for i in range(pmf.n)) in els
    act = atom_action(group, bnb_free._Search(Problem(pmf, 3, 2), None).atoms)
    assert act is not None


CASES = [
    ("pairs:n=6,pair=0.3,single=0.05,seed=1", 3, 2),
    ("pairs:n=6,pair=0.3,single=0.05,seed=2,triples=1", 3, 2),
    ("pairs:n=6,pair=0.4,single=0.1,seed=3", 2, 1),
    ("sym0", 3, 2),
    ("sym1", 2, 2),
    ("sym2", 3, 1),
    ("independent:0.3,0.3,0.3,0.2", 3, 2),
    ("random:n=5,support=12,seed=4", 3, 2),
    ("random:n=6,support=20,seed=5", 3, 2),
]


@pytest.mark.parametrize("spec,m,k", CASES)
def test_proven_answer_equals_brute_force(spec: str, m: int, k: int) -> None:
    pmf = _symmetric_pmf(int(spec[3:])) if spec.startswith("sym") else from_spec(spec)
    problem = Problem(pmf, m, k)
    assert bnb_free.applies(problem)
    ref = brute.solve(problem, time_limit=60, threads=1, options=None)
    assert ref.status is Status.OPTIMAL
    for opts in ({}, {"symmetry": False}, {"bound": "mu"}):
        sol = bnb_free.solve(problem, time_limit=60, options={**opts, "heuristic": False})
        assert sol.status is Status.OPTIMAL
        assert sol.distortion == pytest.approx(ref.distortion, abs=1e-9)
        assert sol.rate == pytest.approx(ref.rate, abs=1e-9)
        assert sol.poly == pytest.approx(ref.poly, abs=1e-9)
        assert sorted(a for a in sol.sae.atoms if a) == sorted(a for a in ref.sae.atoms if a), opts


def test_limit_is_never_optimal() -> None:
    problem = Problem(from_spec("random:n=8,support=40,seed=3"), 4, 2)
    sol = bnb_free.solve(problem, time_limit=60, options={"node_limit": 3, "heuristic": False})
    assert sol.status is Status.LIMIT
    assert sol.bound <= sol.objective + 1e-12


@pytest.mark.parametrize("seed", range(14))
def test_superset_charge_equals_its_definition(seed: int) -> None:
    """The compiled superset transform gives, per atom A, ½ × the sum of the r − 1 largest positive g(v) over
    proper supersets v ⊋ A, and charged_vectors lists those v, as a direct enumeration over every vector
    computes them."""
    from rdp_exact.solvers import bnb_kernel as bk

    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    V = 1 << n
    g = rng.random(V) * (rng.random(V) < rng.uniform(0.1, 0.9))
    if seed % 2:
        g = np.round(g, 1)  # ties
    r = 1 + seed % 7  # every path: r = 1, the written-out r = 2 … 4 and the lists beyond
    smasks = rng.choice(np.arange(1, V), size=int(rng.integers(1, V)), replace=False).astype(np.int64)
    tv, sv = bk._charge_tables(True, V, smasks.size, r)
    w = np.zeros(smasks.size)
    bk._superset_charge(g, smasks, tv, r, w)
    for i, A in enumerate(smasks.tolist()):
        sup = sorted((g[v] for v in range(V) if v != A and v & A == A and g[v] > 0), reverse=True)[: r - 1]
        assert w[i] == pytest.approx(0.5 * sum(sup), abs=1e-12)
        assert bk.charged_vectors(g, A, r, sv[i]) == len(sup)
        listed = [int(v) for v in sv[i] if v >= 0]
        assert len(listed) == len(sup) and len(set(listed)) == len(listed)
        assert all(v != A and v & A == A for v in listed)
        assert sorted((g[v] for v in listed), reverse=True) == pytest.approx(sup)


def test_node_eval_writes_the_errors_in_the_dtype_given() -> None:
    """node_eval's errors are keA // K1 and D = π · errors, whether the caller hands it int8 (the search's choice
    when the errors fit) or int32 room for them."""
    from rdp_exact.solvers import bnb_kernel as bk

    rng = np.random.default_rng(3)
    K1, Mc, N = 64, 9, 13
    kF = rng.integers(0, 120 * K1, N).astype(np.int32)
    kb = rng.integers(0, 130 * K1, (Mc, N)).astype(np.int32)
    pi = rng.random(N)
    want = np.minimum(kb, kF[None, :]) // K1
    for dtype in (np.int8, np.int32):
        eA = np.empty((Mc, N), dtype=dtype)
        keA, DA = bk.node_eval(kb, kF, K1, pi, eA)
        assert np.array_equal(keA, np.minimum(kb, kF[None, :]))
        assert np.array_equal(eA.astype(np.int64), want)
        assert DA == pytest.approx(want @ pi)


@pytest.mark.parametrize("seed", range(12))
def test_pair_filter_keeps_exactly_the_atoms_of_some_completion_within_the_incumbent(seed: int) -> None:
    """Child i keeps atom b iff, for every family, some U ⊆ rest with b ∈ U, |U| ≤ r − 1 has
    base − w_i − Σ_U w ≤ incumbent + tolerance (enumerated)."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    M, r = 9, 2 + seed % 3
    families = [(float(rng.uniform(2, 4)), rng.uniform(0, 1, M).round(2)) for _ in range(1 + seed % 2)]
    best = float(rng.uniform(0.5, 2.5))
    fake = SimpleNamespace(best=best, _global_child_bound=bnb_free._Search._global_child_bound)
    i = int(rng.integers(M))
    rest = np.array([j for j in range(M) if j != i and rng.random() < 0.8], dtype=np.int64)
    kept = set(bnb_free._Search._pair_filter(fake, families, i, rest, r).tolist())
    lim = best + bnb_free.TOL + bnb_free.FLOAT_SLACK
    for b in rest.tolist():
        others = [j for j in rest.tolist() if j != b]
        ok = all(
            min(base - w[i] - w[b] - sum(w[list(U)]) for s in range(r - 1) for U in itertools.combinations(others, s))
            <= lim
            for base, w in families
        )
        assert (b in kept) == ok, (b, ok)


@pytest.mark.parametrize("spec,m", [("random:n=6,support=20,seed=3", 4), ("random:n=7,support=30,seed=5", 4)])
def test_pair_filter_changes_no_answer(spec: str, m: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same (D, R, P) and atoms with the filter on and off (the filter only drops atoms of no completion
    within the incumbent)."""
    monkeypatch.setattr(bnb_free, "PAIR_FILTER_MIN_ATOMS", 2)  # these children have fewer atoms than the gate
    out = _answers_with(Problem(from_spec(spec), m, 2), monkeypatch, "PAIR_FILTER", (True, False))
    assert out[0][0] == out[1][0]


def _answers_with(pr: Problem, monkeypatch: pytest.MonkeyPatch, flag: str, values: tuple[object, ...]) -> list[tuple]:
    """The proven canonical answer ((D, R, P) and atoms) and the info, with ``bnb_free.<flag>`` at each value."""
    out = []
    for v in values:
        monkeypatch.setattr(bnb_free, flag, v)
        sol = bnb_free.solve(pr, time_limit=120, threads=1)
        assert sol.status == Status.OPTIMAL
        out.append(((round(sol.objective, 9), round(sol.rate, 9), round(sol.poly, 9), sorted(sol.sae.atoms)),
                    sol.info))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_global_child_bound_against_enumeration(seed: int) -> None:
    """Child i's order-free bound is base − w_i − max over (r − 1)-subsets of the other children of Σ w."""
    from rdp_exact.solvers.bnb_kernel import global_child_bound

    rng = np.random.default_rng(seed)
    for _ in range(40):
        L, r = int(rng.integers(1, 9)), int(rng.integers(0, 6))
        w = rng.integers(0, 4, L).astype(float) if seed % 2 else rng.uniform(0, 1, L)
        got = global_child_bound(2.0, w, r)
        for i in range(L):
            others = [j for j in range(L) if j != i]
            best = max((sum(w[list(U)]) for U in itertools.combinations(others, min(max(r - 1, 0), len(others)))),
                       default=0.0)
            assert got[i] == pytest.approx(2.0 - w[i] - best, abs=1e-12), (w, r, i)


@pytest.mark.parametrize("seed", range(8))
def test_combined_windows_kernel_against_definition(seed: int) -> None:
    """For the returned order, each position's bound is the largest over the families of
    base − w − (the r − 1 largest w after it); the order is one family's w-descending order, and no family's
    order leaves fewer children open."""
    from rdp_exact.solvers.bnb_kernel import combined_windows

    rng = np.random.default_rng(seed)
    L, r = int(rng.integers(2, 12)), int(rng.integers(1, 5))
    fams = [(float(rng.uniform(1, 3)), rng.integers(0, 5, L).astype(float) / 4) for _ in range(1 + seed % 3)]
    lim = float(rng.uniform(0, 2))

    def window(order: np.ndarray) -> np.ndarray:
        return np.array([max(b - w[order[p]] - float(np.sort(w[order[p + 1:]])[::-1][: r - 1].sum()) for b, w in fams)
                         for p in range(L)])

    bases = np.array([b for b, _ in fams])
    W = np.stack([w for _, w in fams])
    order, lb = combined_windows(bases, W, r, lim)
    assert np.allclose(lb, window(order))
    assert any(np.array_equal(order, np.argsort(-w, kind="stable")) for _, w in fams)
    fewest = min(int((window(np.argsort(-w, kind="stable")) <= lim).sum()) for _, w in fams)
    assert int((lb <= lim).sum()) == fewest


@pytest.mark.parametrize("rows", [False, True])
@pytest.mark.parametrize("spec,m,depth", [("random:n=5,support=14,seed=2", 4, 1), ("pairs:n=5,pair=0.3,single=0.05,seed=1", 5, 2),
                                          ("random:n=5,support=20,seed=7", 5, 2), ("random:n=4,support=10,seed=3", 4, 0)])
def test_exact_pair_windows_bound_every_completion(spec: str, m: int, depth: int, rows: bool) -> None:
    """The exact-pair child bounds (the tuned λ and two random ones) never exceed the best completion: per
    position, by the later atoms only; per child, by any other atoms (enumerated; r = 3 and 4). With ``rows``
    (half of the children's rows, the partners charged through the 0/1 vectors) the same for the children with a
    row, −∞ for the others."""
    from functools import cache

    pmf = from_spec(spec)
    k = 2
    search = bnb_free._Search(Problem(pmf, m, k), None, None, "lagrange", cutoff=None)
    atoms = [int(a) for a in search.atoms]

    @cache
    def D(T: frozenset[int]) -> float:
        return _set_D(pmf, [atoms[a] for a in sorted(T)], k)

    rng = np.random.default_rng(depth)
    F = tuple(sorted(rng.choice(len(atoms), size=depth, replace=False).tolist()))
    cand = np.array([a for a in range(search.M) if a not in F])
    kF, kb = search._keys_from_scratch(F, cand)
    eF = (kF // search.K1).astype(float)
    eA = (np.minimum(kb, kF[None, :]) // search.K1).astype(np.int8)
    r = m - depth
    search.best = float("inf")
    pe = search.pi * eF
    _b, _w, tuned = search._lagrange(eF, eA, r, search._p2(depth, r), None, 40, search.atoms[cand])
    for lam in [tuned, rng.uniform(0, 1.5, search.N) * pe, rng.uniform(0, 1, search.N) * search.pi * 3]:
        order = rng.permutation(cand.size)
        picked = rng.permutation(cand.size)[: (cand.size + 1) // 2] if rows else None
        lb, cnt, terms = search._exact_pair_windows(eF, eA, cand, lam, order, r, picked)
        if picked is not None:
            has_row = np.isin(np.arange(cand.size), picked)
            assert np.array_equal(terms[4] >= 0, has_row)
            assert np.all(np.isneginf(cnt[~has_row])) and np.all(np.isneginf(lb[~has_row[order]]))
            assert np.all(np.isfinite(cnt[has_row]))
        for pos in sorted(set(rng.choice(cand.size, size=min(6, cand.size), replace=False).tolist()) | {0}):
            A = int(cand[order[pos]])
            later = cand[order[pos + 1:]].tolist()
            others = [int(c) for c in cand.tolist() if c != A]
            for pool, val in ((later, lb[pos]), (others, cnt[order[pos]])):
                best = min(D(frozenset((*F, A, *U))) for s in range(0, r) for U in itertools.combinations(pool, s))
                assert val <= best + 1e-9, (spec, F, pos, val, best)


@pytest.mark.parametrize("spec,m", [("random:n=5,support=14,seed=2", 4), ("random:n=6,support=20,seed=4", 4),
                                    ("pairs:n=5,pair=0.3,single=0.05,seed=1", 5), ("random:n=5,support=20,seed=7", 3)])
def test_screen_skips_only_subtrees_above_the_limit(spec: str, m: int) -> None:
    """The compiled screen of a node with two atoms left (the tuned λ and random ones, limits around the
    subtree's best): it reports min_b D(F ∪ {b}) exactly, and says skip only when every completion F ∪ U
    (1 ≤ |U| ≤ 2, enumerated) is above the limit; with the limit far below, it does skip."""
    from rdp_exact.solvers.bnb_kernel import screen_child

    pmf = from_spec(spec)
    k = 2
    search = bnb_free._Search(Problem(pmf, m, k), None, None, "lagrange", cutoff=None)
    atoms = [int(a) for a in search.atoms]
    rng = np.random.default_rng(m)
    skipped = 0
    for _ in range(3):
        F = tuple(sorted(rng.choice(len(atoms), size=m - 2, replace=False).tolist()))
        cand = np.array([a for a in range(search.M) if a not in F])
        kF, kb = search._keys_from_scratch(F, cand)
        eF = (kF // search.K1).astype(float)
        eA = (np.minimum(kb, kF[None, :]) // search.K1).astype(np.int8)
        singles = [_set_D(pmf, [atoms[a] for a in (*F, int(b))], k) for b in cand]
        best = min(min(singles), min(_set_D(pmf, [atoms[a] for a in (*F, int(b), int(c))], k)
                                     for b, c in itertools.combinations(cand.tolist(), 2)))
        p2 = search._p2(len(F), 2)
        order, cum, ham = search._vector_lists()
        search.best = float("inf")
        _b, _w, tuned = search._lagrange(eF, eA, 2, p2, None, 40, search.atoms[cand])
        pe = search.pi * eF
        for lam in (tuned, rng.uniform(0, 1.5, search.N) * pe, rng.uniform(0, 1, search.N) * search.pi * 3):
            for lim in (best - 1e-6, best + 1e-6, 0.8 * best, 0.3 * best, 1.5 * best):
                skip, dmin = screen_child(kb, kF, search.K1, search.pi, np.ascontiguousarray(lam), order, cum, ham,
                                          2, p2, np.ascontiguousarray(search.atoms[cand], dtype=np.int64), 25, 5,
                                          lim, lim, 0.0, np.zeros(0))
                assert dmin == pytest.approx(min(singles), abs=1e-12)
                assert not skip or lim < best, (spec, F, lim, best)
                skipped += int(skip and lim <= 0.3 * best + 1e-12)
    assert skipped > 0  # the screen is not vacuous


@pytest.mark.parametrize("spec,m", [("random:n=7,support=30,seed=5", 4), ("random:n=6,support=24,seed=2", 5)])
def test_screen_changes_no_answer(spec: str, m: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same proven (D, R, P) and atoms with the screen on and off, and the screen does prune nodes."""
    (on, info_on), (off, info_off) = _answers_with(Problem(from_spec(spec), m, 2), monkeypatch, "SCREEN_R", (2, 0))
    assert on == off
    assert info_on.screened_nodes and info_on.screened_nodes > 0
    assert info_off.screened_nodes is None


@pytest.mark.parametrize("spec,m", [("random:n=7,support=30,seed=5", 4), ("random:n=8,support=40,seed=3", 4),
                                    ("random:n=6,support=24,seed=2", 5)])
def test_fused_screen_skips_the_same_children(spec: str, m: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The screen of all children in one compiled call (FUSED_SCREEN) skips exactly the children the per-child
    screen skips: the same answer, nodes and screened nodes; and the fused kernel is what ran."""
    from rdp_exact.solvers import bnb_kernel as bk

    calls = []
    real = bk.screen_children

    def counted(*args: object) -> object:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(bk, "screen_children", counted)
    (on, info_on), (off, info_off) = _answers_with(Problem(from_spec(spec), m, 2), monkeypatch, "FUSED_SCREEN",
                                                   (True, False))
    assert on == off
    assert calls
    assert info_on.screened_nodes == info_off.screened_nodes and (info_on.screened_nodes or 0) > 0
    assert info_on.nodes == info_off.nodes


def _pair_inputs(seed: int, n: int, N: int, C: int) -> tuple[np.ndarray, ...]:
    """Random inputs of the exact-pair kernels: (events, masks, π, e_{F∪b}, λ, base, order)."""
    rng = np.random.default_rng(seed)
    events = rng.choice(np.arange(1, 1 << n), size=N, replace=False).astype(np.int64)
    masks = rng.choice(np.arange(1, 1 << n), size=C, replace=False).astype(np.int64)
    pi = rng.dirichlet(np.ones(N))
    eA = rng.integers(0, 4, size=(C, N)).astype(np.int8)
    lam = pi * rng.uniform(0, 4, N)
    base = np.float64(rng.uniform(0, 2))
    order = rng.permutation(C).astype(np.int64)
    return events, masks, pi, eA, lam, base, order


def _pair_table_direct(events: np.ndarray, masks: np.ndarray, pi: np.ndarray, lam: np.ndarray,
                       n: int) -> np.ndarray:
    """g(b, c) = Σ_S (λ_S − π_S |1_S − b − c|²)⁺ over every pair, straight from the definition."""
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(int)
    tgt = ((events[:, None] >> np.arange(n)) & 1).astype(int)
    C = masks.size
    g = np.zeros((C, C))
    for b, c in itertools.combinations(range(C), 2):
        h = ((tgt - bits[b] - bits[c]) ** 2).sum(axis=1)
        g[b, c] = g[c, b] = np.maximum(lam - pi * h, 0).sum()
    return g


def _check_pair_windows(lb: np.ndarray, cnt: np.ndarray, base: float, w: np.ndarray, vb: np.ndarray, g: np.ndarray,
                        order: np.ndarray, r: int, rows: set[int]) -> None:
    """Per child a in ``rows``: base − w(a) − the r − 1 largest vb(b) + g(a, b), over the later positions (lb)
    and over every other child (cnt); −∞ for the other children."""
    C = w.size
    pos = np.empty(C, dtype=int)
    pos[order] = np.arange(C)
    for a in range(C):
        if a not in rows:
            assert np.isneginf(cnt[a]) and np.isneginf(lb[pos[a]])
            continue
        v = vb + g[a]
        others = [b for b in range(C) if b != a]
        later = [b for b in others if pos[b] > pos[a]]
        for pool, got in ((others, cnt[a]), (later, lb[pos[a]])):
            want = base - w[a] - np.sort(v[pool])[::-1][: r - 1].sum()
            assert got == pytest.approx(want, abs=1e-12), (a, pool == later)


@pytest.mark.parametrize("subsets", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_exact_pair_windows_equals_its_definition(seed: int, subsets: bool) -> None:
    """The compiled exact-pair bounds equal the formula computed directly: w(b), g(b, c) = Σ_S (λ_S − π_S
    |1_S − b − c|²)⁺ over every pair, v_a(b) = w(b) + g(a, b) + ½ (the r − 2 largest g(b, ·)), and per child
    base − w(a) − the r − 1 largest v_a(b) (over the later positions, and over every other child); the pair table
    by both constructions (key-sorted scan; through the masks, here with 40 of the 63 masks)."""
    from rdp_exact.solvers.bnb_kernel import exact_pair_windows, popcount_table

    n, N, C = 6, 12, 40 if subsets else 14
    r = 3 + seed % 2
    events, masks, pi, eA, lam, base, order = _pair_inputs(seed, n, N, C)
    lb, cnt, _w, _vb, g_got = exact_pair_windows(masks, events, pi, lam, eA, base, order, r, popcount_table(n),
                                                 (1 << n) - 1, subsets)
    g = _pair_table_direct(events, masks, pi, lam, n)
    np.testing.assert_allclose(g_got, g, rtol=0, atol=1e-12)
    w = np.maximum(lam[None, :] - pi[None, :] * eA, 0).sum(axis=1)
    half = 0.5 * np.sort(g, axis=1)[:, ::-1][:, : r - 2].sum(axis=1)
    _check_pair_windows(lb, cnt, float(base), w, w + half, g, order, r, set(range(C)))


@pytest.mark.parametrize("seed", range(6))
def test_exact_pair_rows_equals_its_definition(seed: int) -> None:
    """The rows kernel equals its formula computed directly: g(a, ·) of the listed children only, a partner's
    charge vb(b) = w(b) + ½ (r − 2) max_{v ⊇ b} g_λ(v) over the 0/1 vectors v, at least the whole table's exact
    charge, and per listed child base − w(a) − the r − 1 largest vb(b) + g(a, b) (later positions; every other
    child); −∞ for the children without a row."""
    from rdp_exact.solvers.bnb_kernel import exact_pair_rows, popcount_table, vector_lists

    n, N, C, r = 6, 12, 30, 3
    events, masks, pi, eA, lam, base, order = _pair_inputs(seed, n, N, C)
    rows = np.random.default_rng(seed + 100).choice(C, size=11, replace=False).astype(np.int64)
    vbits = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(int)
    tgt = ((events[:, None] >> np.arange(n)) & 1).astype(int)
    ham = ((vbits[:, None, :] - tgt[None, :, :]) ** 2).sum(axis=2)  # [2^n, N]
    vorder, cum = vector_lists(ham.astype(np.float32))
    lb, cnt, w_got, vb_got, g_rows, rowid = exact_pair_rows(masks, events, pi, lam, eA, base, order, r,
                                                            popcount_table(n), (1 << n) - 1, rows, vorder, cum)

    w = np.maximum(lam[None, :] - pi[None, :] * eA, 0).sum(axis=1)
    g = _pair_table_direct(events, masks, pi, lam, n)
    gv = np.maximum(lam[None, :] - pi[None, :] * ham, 0).sum(axis=1)  # g_λ(v) per 0/1 vector
    sup = np.array([max(gv[v] for v in range(1 << n) if v & mb == mb) for mb in masks.tolist()])
    np.testing.assert_allclose(w_got, w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(vb_got, w + 0.5 * (r - 2) * sup, rtol=0, atol=1e-12)
    assert np.all(vb_got >= w + 0.5 * g.max(axis=1) - 1e-12)  # never below the exact charge
    assert rowid[rows].tolist() == list(range(rows.size)) and int((rowid >= 0).sum()) == rows.size
    np.testing.assert_allclose(g_rows, g[rows], rtol=0, atol=1e-12)
    _check_pair_windows(lb, cnt, float(base), w, vb_got, g, order, r, set(rows.tolist()))


@pytest.mark.parametrize("seed", range(6))
def test_exact_pair_filter_equals_its_definition(seed: int) -> None:
    """Atom b of ``rest`` stays with child i iff base − w(i) − v_i(b) − (the r − 2 largest v_i over rest ∖ {b})
    ≤ lim, v_i(b) = vb(b) + g(i, b) (computed here by sorting)."""
    from rdp_exact.solvers.bnb_kernel import exact_pair_filter

    rng = np.random.default_rng(seed)
    C = 20
    r = 3 + seed % 3
    w, vb = rng.uniform(0, 1, C), rng.uniform(0, 1.5, C)
    g = rng.uniform(0, 1, (C, C)) * (rng.uniform(size=(C, C)) < 0.4)
    g = np.triu(g, 1) + np.triu(g, 1).T
    i = int(rng.integers(C))
    rest = np.array(sorted(rng.choice([b for b in range(C) if b != i], size=12, replace=False)), dtype=np.int64)
    base = 3.0
    v = {int(b): vb[b] + g[i, b] for b in rest}
    bounds = {b: base - w[i] - v[b] - sum(sorted((v[c] for c in v if c != b), reverse=True)[: r - 2]) for b in v}
    lim = float(np.median(list(bounds.values())))
    kept = exact_pair_filter(base, w, vb, g, np.arange(C, dtype=np.int64), i, rest, r, lim).tolist()
    assert kept == [b for b in rest.tolist() if bounds[b] <= lim]
    assert 0 < len(kept) < rest.size
    # the same with only child i's row kept (as exact_pair_rows returns it); no row: nothing is dropped
    rowid = np.full(C, -1, dtype=np.int64)
    rowid[i] = 0
    assert exact_pair_filter(base, w, vb, g[i : i + 1], rowid, i, rest, r, lim).tolist() == kept
    rowid[i] = -1
    assert exact_pair_filter(base, w, vb, g[i : i + 1], rowid, i, rest, r, lim).tolist() == rest.tolist()


@pytest.mark.parametrize("spec,m", [("random:n=7,support=30,seed=5", 5), ("random:n=6,support=24,seed=2", 5)])
def test_exact_pair_filter_changes_no_answer(spec: str, m: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same proven (D, R, P) and atoms with the exact pair filter on and off, the pair credits run at every
    node they apply to, and the filter does drop atoms."""
    from rdp_exact.solvers import bnb_kernel as bk

    pr = Problem(from_spec(spec), m, 2)
    monkeypatch.setattr(bnb_free, "EXACT_PAIRS_MIN_OPEN", 1)  # these nodes leave fewer children open than the gate
    dropped = []
    real = bk.exact_pair_filter

    def counting(*args: object) -> np.ndarray:
        kept = real(*args)
        dropped.append(len(args[6]) - kept.size)  # type: ignore[arg-type]
        return kept

    monkeypatch.setattr(bk, "exact_pair_filter", counting)
    out = _answers_with(pr, monkeypatch, "EXACT_PAIR_FILTER", (True, False))
    assert out[0][0] == out[1][0]
    assert sum(dropped) > 0


@pytest.mark.parametrize("spec,m", [("random:n=7,support=30,seed=5", 5), ("random:n=6,support=24,seed=2", 4),
                                    ("pairs:n=6,pair=0.3,single=0.05,seed=2", 5)])
def test_exact_pair_rows_change_no_answer(spec: str, m: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same proven (D, R, P) and atoms with the rows of the exact pair credits (r = 3) on and off, and the
    rows kernel is what ran at those nodes."""
    from rdp_exact.solvers import bnb_kernel as bk

    calls = []
    real = bk.exact_pair_rows

    def counted(*args: object) -> object:
        calls.append(int(args[7]))  # type: ignore[call-overload]
        return real(*args)

    monkeypatch.setattr(bk, "exact_pair_rows", counted)
    monkeypatch.setattr(bnb_free, "EXACT_PAIR_ROWS_MIN_OPEN", 1)
    (on, _info_on), (off, _info_off) = _answers_with(Problem(from_spec(spec), m, 2), monkeypatch, "EXACT_PAIR_ROWS",
                                                     (True, False))
    assert on == off
    assert calls and set(calls) == {3}
