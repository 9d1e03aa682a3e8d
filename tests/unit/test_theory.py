"""Closed forms of rdp_exact.theory against the exact evaluator and brute force (C-P2, C-T5, C-T4, C-E1)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdp_exact import theory as T
from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import example1, random_pmf
from rdp_exact.pmf import ConceptPMF, popcount
from rdp_exact.problem import Problem, Status
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers import solve

TOL = 1e-9


# ---------------------------------------------------------------------- helpers
def rand_example1(rng: np.random.Generator, sparse: bool = False) -> ConceptPMF:
    """Dirichlet weights on the 8 events of n = 3 (some zeroed when ``sparse``)."""
    w = rng.dirichlet(np.ones(8))
    if sparse:
        w[rng.random(8) < 0.4] = 0.0
        if w.sum() == 0:
            w[rng.integers(8)] = 1.0
    return example1(list(w / w.sum()), normalize=True)


weights8 = st.lists(st.integers(0, 20), min_size=8, max_size=8).filter(lambda w: sum(w) > 0)


def pmf_of(w: list[int]) -> ConceptPMF:
    return example1([x / sum(w) for x in w], normalize=True)


def brute(pmf: ConceptPMF, m: int, k: int, **kw: object) -> object:
    return solve(Problem(pmf=pmf, width=m, k=k, **kw), "brute")  # type: ignore[arg-type]


def enumerate_omission(pmf: ConceptPMF, m: int, k: int | None) -> np.ndarray:
    """𝒟_mono by listing every omission code (independent of the DP): all A with |A| ≤ m, all r_S."""
    es = pmf.expected_sparsity()
    vals = []
    for size in range(0, min(m, pmf.n) + 1):
        for A in itertools.combinations(range(pmf.n), size):
            am = sum(1 << i for i in A)
            caps = [popcount(e & am) if k is None else min(popcount(e & am), k) for e in pmf.events]
            for rs in itertools.product(*[range(c + 1) for c in caps]):
                vals.append(es - math.fsum(p * r for p, r in zip(pmf.probs, rs, strict=True)))
    vals.sort()
    out = [vals[0]]
    for v in vals[1:]:
        if v - out[-1] > 1e-10:
            out.append(v)
    return np.array(out)


def best_of_family_exact(pmf: ConceptPMF, k: int, family: str) -> tuple[float, float]:
    best = None
    for code in T.example1_codes():
        if code.family != family:
            continue
        ev = CombinatorialSAE.best_response(pmf, list(code.atoms), k).evaluate(pmf, k)
        key = (ev.distortion, ev.rate)
        if best is None or key[0] < best[0] - 1e-12 or (abs(key[0] - best[0]) <= 1e-12 and key[1] < best[1]):
            best = key
    assert best is not None
    return best


# ---------------------------------------------------------------------- C-E1
def test_example1_codes_are_the_twelve_codes() -> None:
    codes = T.example1_codes()
    assert [sum(c.family == f for c in codes) for f in T.FAMILIES] == [3, 3, 6]
    assert len({c.name for c in codes}) == 12
    assert len({frozenset(c.atoms) for c in codes}) == 12
    for c in codes:
        assert T.example1_structure(c.atoms) == c.family


@given(weights8, st.sampled_from([1, 2]), st.sampled_from(["integer", "disjoint"]))
def test_example1_closed_forms_equal_exact_evaluation(w: list[int], k: int, mode: str) -> None:
    """C-E1 (a): the closed-form tables equal the evaluation of the best-response SAE."""
    pmf = pmf_of(w)
    forms = T.example1_closed_forms(pmf, k, mode)  # type: ignore[arg-type]
    for code in T.example1_codes():
        ev = CombinatorialSAE.best_response(pmf, list(code.atoms), k, mode).evaluate(pmf, k)  # type: ignore[arg-type]
        d, r = forms[code.name]
        assert d == pytest.approx(ev.distortion, abs=1e-12)
        assert r == pytest.approx(ev.rate, abs=1e-12)


def test_example1_coefficients_match_per_event_best_response() -> None:
    """Each coefficient is the error/rate of one event: a point-mass pmf isolates it."""
    for ev in range(8):
        pmf = ConceptPMF.from_events(3, [(ev, 1.0)])
        for k in (1, 2):
            for code in T.example1_codes():
                d, r = T.example1_coefficients(code, k)
                got = CombinatorialSAE.best_response(pmf, list(code.atoms), k).evaluate(pmf)
                assert (d[ev], r[ev]) == (got.distortion, got.rate), (code.name, k, ev)


@given(weights8)
def test_example1_documented_inequalities(w: list[int]) -> None:
    """The simplified inequalities stated in example1_difference's docstring, from marginals."""
    pmf = pmf_of(w)
    p, co = pmf.marginals(), pmf.cooccurrence()
    pi = np.array([pmf.prob(e) for e in range(8)])
    by = {c.name: c for c in T.example1_codes()}
    for name, c in by.items():
        a, b, x = c.roles
        if c.family == "hedged":
            mono = by[f"mono({{{min(a, b)}}},{{{max(a, b)}}})"]
            for other in T.example1_codes():
                if other.family != "monosemantic":
                    continue
                omitted = other.roles[2]
                diff = T.example1_difference(c, other, 2) @ pi
                assert diff == pytest.approx(p[a] + p[b] - 2 * co[a, b] - p[omitted], abs=1e-12)
            diff1 = T.example1_difference(c, mono, 1) @ pi
            assert diff1 == pytest.approx(pi[1 << a] + pi[1 << b] - pi[(1 << a) | (1 << b)] - pi[1 << x] - pi[7],
                                          abs=1e-12)
        if c.family == "splitting":
            mono = by[f"mono({{{min(a, b)}}},{{{max(a, b)}}})"]
            assert T.example1_difference(c, mono, 2) @ pi == pytest.approx(p[b] - co[a, b], abs=1e-12)
            assert T.example1_difference(c, mono, 1) @ pi == pytest.approx(p[b] - 2 * co[a, b], abs=1e-12)
            assert T.example1_closed_forms(pmf, 2)[name] == pytest.approx((p[x] + p[b] - co[a, b], p[a]))


@given(weights8, st.sampled_from([1, 2]))
def test_example1_inequality_sign_matches_exact_comparison(w: list[int], k: int) -> None:
    """C-E1 (b): the sign of the derived form says which family's best code wins (D, then R)."""
    pmf = pmf_of(w)
    for fa, fb in itertools.permutations(T.FAMILIES, 2):
        da, ra = best_of_family_exact(pmf, k, fa)
        db, rb = best_of_family_exact(pmf, k, fb)
        exact = np.sign(db - da) if abs(db - da) > 1e-12 else np.sign(rb - ra) if abs(rb - ra) > 1e-12 else 0
        val = T.example1_inequality(pmf, k, fa, fb)
        assert (np.sign(val) if abs(val) > 1e-12 else 0) == exact
        assert T.example1_inequality(pmf, k, fb, fa) == pytest.approx(-val, abs=1e-15)


def test_example1_predict_matches_brute_force_optimum() -> None:
    """C-E1 (c): when the exact optimum (m = 2) is monosemantic, hedged or splitting, the closed forms
    pick that structure and its (D, R); count how often it is none of the three."""
    rng = np.random.default_rng(7)
    counts = {"monosemantic": 0, "hedged": 0, "splitting": 0, "other": 0}
    for trial in range(60):
        pmf = rand_example1(rng, sparse=trial % 3 == 2)
        for k in (1, 2):
            sol = brute(pmf, 2, k)
            assert sol.is_exact
            live = [a for a, ok in zip(sol.sae.atoms, sol.evaluation.live, strict=True) if ok]
            structure = T.example1_structure(live)
            counts[structure] += 1
            top = T.example1_ranking(pmf, k)[0]
            # no code of the three families beats the optimum
            assert top[2] >= sol.distortion - TOL
            if structure != "other":
                tied = T.example1_tied_families(pmf, k)
                assert structure in tied
                assert T.example1_predict(pmf, k) == structure or len(tied) > 1
                assert top[2] == pytest.approx(sol.distortion, abs=TOL)
                assert top[3] == pytest.approx(sol.rate, abs=TOL)
    assert counts["monosemantic"] > 0 and counts["hedged"] > 0


def test_example1_bad_input() -> None:
    pmf = example1([0.1] * 7 + [0.3])
    with pytest.raises(InvalidArgument):
        T.example1_closed_forms(pmf, 3)
    with pytest.raises(InvalidArgument):
        T.example1_closed_forms(random_pmf(4, 5, 1), 1)
    with pytest.raises(InvalidArgument):
        T.example1_inequality(pmf, 1, "hedged", "absorbing")


# ---------------------------------------------------------------------- C-P2
@given(st.integers(0, 10_000))
def test_conservation_law(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    pmf = random_pmf(n, int(rng.integers(1, min(12, 2**n) + 1)), seed)
    A = int(rng.integers(0, 2**n))
    full = rng.random() < 0.3
    recon = {}
    for e in pmf.events:
        sub = e & A
        recon[e] = sub if full else sub & int(rng.integers(0, 2**n))
    R, D = T.conservation(pmf, A, recon)
    assert R + D == pytest.approx(pmf.expected_sparsity(), abs=1e-12)
    bound = T.conservation_bound(pmf, A)
    assert D >= bound - 1e-12
    missed = [p for e, p in zip(pmf.events, pmf.probs, strict=True) if recon[e] != e & A]
    if missed:  # every support event has π(S) > 0, so a missed concept costs at least π(S)
        assert D >= bound + min(missed) - 1e-12
    else:
        assert D == pytest.approx(bound, abs=1e-12)


def test_conservation_rejects_non_subsets() -> None:
    pmf = example1([0.1] * 7 + [0.3])
    with pytest.raises(InvalidArgument, match="not a subset"):
        T.conservation(pmf, 0b011, {0b111: 0b100})
    with pytest.raises(InvalidArgument, match="not a subset"):
        T.conservation(pmf, 0b011, {0b001: 0b010})
    with pytest.raises(InvalidArgument):
        T.conservation(pmf, 0b1000, {})
    assert T.conservation(pmf, 0, {}) == pytest.approx((0.0, pmf.expected_sparsity()))


# ---------------------------------------------------------------------- C-T5
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_omission_set_equals_enumeration(seed: int) -> None:
    pmf = random_pmf(4, 6, seed)
    for m, k in [(1, 1), (2, 1), (2, 2), (3, 2)]:
        om = T.omission_distortions(pmf, m, k)
        ref = enumerate_omission(pmf, m, k)
        assert not om.truncated
        np.testing.assert_allclose(om.distortions, ref, atol=1e-9)
        assert T.d_min(pmf, m, k) == pytest.approx(ref[0], abs=1e-12)
        cut = T.omission_distortions(pmf, m, k, max_steps=5)
        assert cut.truncated == (len(ref) > 5)
        np.testing.assert_allclose(cut.distortions, ref[:5], atol=1e-9)
    nocap = T.omission_distortions(pmf, 2, 1, cap=False)
    np.testing.assert_allclose(nocap.distortions, enumerate_omission(pmf, 2, None), atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_d_min_and_staircase_against_brute_force(seed: int) -> None:
    """C-T5: D_min = min D over P = 0 SAEs; R*(δ, 0) = E|S| − max{D ∈ 𝒟_mono : D ≤ δ}."""
    rng = np.random.default_rng(100 + seed)
    pmf = random_pmf(3 + seed % 2, 5, seed)
    m = 2
    for k in (1, 2):
        dmin = T.d_min(pmf, m, k)
        sol = brute(pmf, m, k, max_poly=0.0)
        assert sol.is_exact and sol.distortion == pytest.approx(dmin, abs=TOL)
        # best_mono_sets: their singletons reach D_min
        for A in T.best_mono_sets(pmf, m, k):
            atoms = [1 << i for i in range(pmf.n) if A >> i & 1]
            ev = CombinatorialSAE.best_response(pmf, atoms, k).evaluate(pmf)
            assert ev.distortion == pytest.approx(dmin, abs=1e-12)
        stair = T.monosemantic_staircase(pmf, m, k)
        es = pmf.expected_sparsity()
        corners = [d for d, _ in stair.points]
        deltas = [*corners[:6], *(rng.uniform(dmin, es, 4)), dmin - 0.01, es]
        for delta in deltas:
            r = T.r_star_mono(pmf, m, k, delta)
            if delta < 0:
                continue
            b = brute(pmf, m, k, minimize="rate", max_distortion=float(delta), max_poly=0.0)
            if math.isinf(r):
                assert b.status is Status.INFEASIBLE
            else:
                assert b.is_exact and b.rate == pytest.approx(r, abs=TOL)
        for d, r in stair.points:
            assert r == pytest.approx(es - d, abs=1e-12)


def test_staircase_is_a_staircase() -> None:
    pmf = random_pmf(5, 10, 4)
    st_ = T.monosemantic_staircase(pmf, 3, 2, max_steps=50)
    ds = [d for d, _ in st_.points]
    assert st_.truncated and len(ds) == 50
    full = T.omission_distortions(pmf, 3, 2)  # the pruned top-50 is the head of the full set
    np.testing.assert_allclose(ds, full.distortions[:50], atol=1e-12)
    assert all(b > a for a, b in itertools.pairwise(ds))
    assert ds[0] == pytest.approx(T.d_min(pmf, 3, 2))
    assert math.isinf(T.r_star_mono(pmf, 3, 2, ds[0] - 1e-6))
    assert T.r_star_mono(pmf, 3, 2, ds[0]) == pytest.approx(st_.points[0][1])
    assert T.r_star_mono(pmf, 3, 2, (ds[3] + ds[4]) / 2) == pytest.approx(st_.points[3][1])


@pytest.mark.parametrize("cap", [True, False])
def test_targeted_dp_matches_the_full_set(cap: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets beyond the listed head of 𝒟_mono go through the pruned subset-sum DP: same answers."""
    pmf = random_pmf(4, 9, 11)
    full = np.array(T.omission_distortions(pmf, 2, 1, cap=cap).distortions)
    monkeypatch.setattr(T, "LOOKUP_STEPS", 3)
    rng = np.random.default_rng(0)
    for delta in [*full[5:12], *rng.uniform(full[4], pmf.expected_sparsity(), 8)]:
        got = T.max_omission_distortion(pmf, 2, float(delta), k=1 if cap else None)
        assert got == pytest.approx(full[full <= delta + TOL][-1], abs=1e-12)


# ---------------------------------------------------------------------- C-T4
@pytest.mark.parametrize("seed", range(5))
def test_rate_tax_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pmf = rand_example1(rng) if seed % 2 == 0 else random_pmf(4, 7, seed)
    m = 2
    for k in (1, 2):
        opt = brute(pmf, m, k)
        tax = T.rate_tax(pmf, m, k, opt.distortion, opt.rate)
        dmin = T.d_min(pmf, m, k)
        if tax is None:
            assert opt.distortion >= dmin - 1e-12
            continue
        assert opt.distortion < dmin
        es = pmf.expected_sparsity()
        mono = brute(pmf, m, m, minimize="rate", max_distortion=opt.distortion, max_poly=0.0)
        if tax.d_bar is None:
            assert mono.status is Status.INFEASIBLE and math.isinf(tax.rate_lower_bound)
            continue
        assert tax.d_bar <= opt.distortion + TOL
        assert tax.rate_lower_bound >= es - opt.distortion - 1e-12
        assert mono.is_exact and mono.rate == pytest.approx(tax.rate_lower_bound, abs=TOL)
        assert tax.tax == pytest.approx(tax.rate_lower_bound - opt.rate)
        # every monosemantic SAE with D ≤ D*_k under a smaller cap too
        for kk in range(1, m + 1):
            b = brute(pmf, m, kk, minimize="rate", max_distortion=opt.distortion, max_poly=0.0)
            assert b.status is Status.INFEASIBLE or b.rate >= tax.rate_lower_bound - TOL


def test_rate_tax_on_a_hedging_pmf() -> None:
    """a and b almost always co-occur: at k = 1 the optimum hedges and pays no tax; monosemantic SAEs do."""
    pmf = ConceptPMF.from_events(3, [(0b011, 0.7), (0b100, 0.2), (0b001, 0.1)])
    opt = brute(pmf, 2, 1)
    tax = T.rate_tax(pmf, 2, 1, opt.distortion, opt.rate)
    assert tax is not None and tax.tax > 0
    assert T.example1_predict(pmf, 1) == "hedged"


def test_validation() -> None:
    pmf = random_pmf(3, 4, 1)
    with pytest.raises(InvalidArgument):
        T.d_min(pmf, 1, 2)
    with pytest.raises(InvalidArgument):
        T.d_min(pmf, 0, 0)
    with pytest.raises(InvalidArgument):
        T.omission_distortions(pmf, 2, 1, max_steps=0)
    with pytest.raises(InvalidArgument):
        T.rate_tax(pmf, 2, 1, float("nan"), 0.0)
