"""Tests added to kill mutants that survived ``make mutation`` (issue 14), over the four core modules.

Each test asserts a property derived independently of the code (by hand or from the definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdp_exact.polysemanticity import (
    binary_row_poly,
    cosine_table,
    joint,
    live_rows,
    polysemanticity,
    row_poly,
)


def test_polysemanticity_by_hand() -> None:
    """Rows (3, 4, 0): cos with e_0 = 0.6, e_1 = 0.8 → 1 − 0.8 = 0.2; (0, 0, −2): 0; a zero row is skipped."""
    W = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, -2.0], [0.0, 0.0, 0.0]])
    assert live_rows(W).tolist() == [True, True, False]
    assert np.allclose(cosine_table(W), [[0.6, 0.8, 0.0], [0.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    assert np.allclose(row_poly(cosine_table(W))[:2], [0.2, 0.0])
    assert polysemanticity(W) == pytest.approx(0.1)
    assert polysemanticity(W, rows=np.array([True, False, True])) == pytest.approx(0.2)
    assert polysemanticity(np.zeros((2, 3))) == 0.0
    assert binary_row_poly(4) == pytest.approx(0.5) and binary_row_poly(0) == 0.0
    assert joint(0.2, 0.4) == pytest.approx(0.3)
    assert math.isclose(binary_row_poly(2), 1 - 1 / math.sqrt(2))


def test_live_rows_edges() -> None:
    """Unit rows are live; a row of norm exactly 1e−8 × the largest is not (strict >); the threshold
    scales with the largest norm; no rows, or only zero rows, give an all-False boolean mask."""
    assert live_rows(np.array([[1.0, 0.0]])).tolist() == [True]
    assert live_rows(np.array([[1.0, 0.0], [1e-8, 0.0]])).tolist() == [True, False]
    assert live_rows(np.array([[5.0, 0.0], [1e-8, 0.0]])).tolist() == [True, False]
    empty = live_rows(np.zeros((0, 3)))
    assert empty.shape == (0,) and empty.dtype == bool
    zero = live_rows(np.zeros((2, 3)))
    assert zero.shape == (2,) and zero.dtype == bool and not zero.any()
    with pytest.raises(ValueError, match="2-d"):
        live_rows(np.zeros(3))


def test_integer_inputs_are_read_as_floats() -> None:
    """An integer weight matrix gives the same cosines as its float copy (no integer truncation)."""
    W = np.array([[3, 4, 0], [0, 0, 2]])
    assert np.allclose(cosine_table(W), [[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
    assert polysemanticity(W) == pytest.approx(0.1)
    assert polysemanticity(W, rows=[1, 0]) == pytest.approx(0.2)  # a 0/1 list is a mask, not indices
    assert polysemanticity(np.zeros((2, 3)), rows=[True, False]) == 0.0


def test_row_poly_without_concepts_and_with_one() -> None:
    """No concept columns: every row scores 1; one concept: an aligned row scores 0."""
    assert row_poly(np.zeros((3, 0))).tolist() == [1.0, 1.0, 1.0]
    assert row_poly(np.array([[1.0], [-1.0]])).tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------- rdp_exact/sae.py
def _pmf(n: int, pairs: list[tuple[int, float]]):
    from rdp_exact.pmf import ConceptPMF

    return ConceptPMF.from_events(n, pairs)


def test_threshold_unit_validation_messages() -> None:
    from rdp_exact.errors import InvalidArgument
    from rdp_exact.sae import ThresholdUnit

    with pytest.raises(InvalidArgument, match=r"encoder weights must be in \{-1,0,1\}, got \(2, 0\)"):
        ThresholdUnit((2, 0), 1)
    with pytest.raises(InvalidArgument, match="encoder threshold must be ≥ 1, got 0"):
        ThresholdUnit((1, 0), 0)


def test_constructors_accept_masks_units_and_keep_the_mode() -> None:
    """Atoms as bitmasks or concept lists, units as ThresholdUnit or (weights, θ); default mode integer."""
    from rdp_exact.sae import CombinatorialSAE, ThresholdUnit

    a = CombinatorialSAE.threshold(2, [1, 2], [ThresholdUnit((1, 0), 1), ((0, 1), 1)])
    b = CombinatorialSAE.threshold(2, [[0], [1]], [((1, 0), 1), ThresholdUnit((0, 1), 1)])
    assert a == b and a.atoms == (1, 2) and a.coefficients == "integer"
    assert a.encoder == (ThresholdUnit((1, 0), 1), ThresholdUnit((0, 1), 1))
    assert CombinatorialSAE.threshold(2, [1], [((1, 0), 1)], "disjoint").coefficients == "disjoint"
    f = CombinatorialSAE.free(2, [3, [0]], {3: [0]})
    assert f.atoms == (3, 1) and f.coefficients == "integer"
    assert CombinatorialSAE.free(2, [3], {3: [0]}, "disjoint").coefficients == "disjoint"


def test_canonical_threshold_by_hand() -> None:
    """π = {{0}: ½, {1}: ½}. Latent 1 (atom {0,1}, unit (1,1) θ = 2) never fires, so it becomes dead;
    live latents first, by atom: the canonical form has atoms ({0}, {1}, ∅) with their units."""
    from rdp_exact.sae import CombinatorialSAE, ThresholdUnit

    pmf = _pmf(2, [(1, 0.5), (2, 0.5)])
    u0, u1, u2 = ThresholdUnit((0, 1), 1), ThresholdUnit((1, 1), 2), ThresholdUnit((1, 0), 1)
    sae = CombinatorialSAE.threshold(2, [2, 3, 1], [u0, u1, u2], "disjoint")
    want = CombinatorialSAE(n=2, atoms=(1, 2, 0), coefficients="disjoint", encoder=(u2, u0, u1))
    assert sae.canonical(pmf) == want


def test_canonical_threshold_ties_on_atoms_sort_by_unit() -> None:
    """Two live latents with atom {0}: the unit with weights (1, −1) (fires on {0} only) sorts before
    (1, 0); the dead one (atom {1}, never firing) goes last."""
    from rdp_exact.sae import CombinatorialSAE, ThresholdUnit

    pmf = _pmf(2, [(1, 0.5), (3, 0.5)])
    a, b, c = ThresholdUnit((1, 0), 1), ThresholdUnit((1, -1), 1), ThresholdUnit((0, 1), 2)
    sae = CombinatorialSAE.threshold(2, [1, 2, 1], [a, c, b])
    got = sae.canonical(pmf)
    assert got.atoms == (1, 1, 0)
    assert got.encoder == (b, a, c)
    assert got.n == 2 and got.coefficients == "integer"


def test_canonical_free_by_hand() -> None:
    """π = {{0}: 0.4, {0,1}: 0.6}; atoms ({0,1}, ∅, {0}, {0}); code {0} → latent 3, {0,1} → latents 0, 2.
    Latents 2 and 3 share atom {0} and never co-fire: merged into latent 2; the dead latent goes last.
    Live atoms sorted: ({0}, {0,1}, ∅, ∅), code {0} → [0], {0,1} → [0, 1] (worked by hand)."""
    from rdp_exact.sae import CombinatorialSAE

    pmf = _pmf(2, [(1, 0.4), (3, 0.6)])
    sae = CombinatorialSAE.free(2, [3, 0, 1, 1], {1: [3], 3: [0, 2]}, "integer")
    want = CombinatorialSAE.free(2, [1, 3, 0, 0], {1: [0], 3: [0, 1]}, "integer")
    assert sae.canonical(pmf) == want
    # a latent that fires with a dead atom is dropped from the code
    sae2 = CombinatorialSAE.free(2, [0, 1], {1: [0, 1], 3: [1]}, "disjoint")
    assert sae2.canonical(pmf) == CombinatorialSAE.free(2, [1, 0], {1: [0], 3: [0]}, "disjoint")


# ---------------------------------------------------------------------- rdp_exact/theory.py
def _brute_min_sum_at_least(probs, u, target, incumbent=math.inf):
    import itertools

    from rdp_exact.problem import TOL

    sums = [sum(p * r for p, r in zip(probs, rs, strict=True)) for rs in itertools.product(*(range(c + 1) for c in u))]
    ok = [s for s in sums if s >= target - TOL]
    best = min(ok) if ok else math.inf
    return best if best < incumbent else None


@pytest.mark.parametrize("case", [
    ([0.5, 0.3, 0.2], [1, 2, 1], 0.65, math.inf),
    ([0.5, 0.3, 0.2], [1, 2, 1], 0.65, 0.7),  # incumbent beaten
    ([0.5, 0.3, 0.2], [1, 2, 1], 0.65, 0.7 - 1e-12),  # incumbent not beaten
    ([0.5, 0.3, 0.2], [1, 2, 1], 5.0, math.inf),  # unreachable target
    ([0.5, 0.3, 0.2], [1, 2, 1], 0.0, math.inf),  # goal ≤ 0
    ([0.5, 0.3, 0.2], [1, 2, 1], 0.0, 0.0),  # goal ≤ 0, incumbent 0
    ([0.5, 0.3, 0.2], [1, 2, 1], 0.0, 0.5),
    ([0.5, 0.5], [0, 0], 1e-9, math.inf),  # goal exactly 0 and nothing to add
    ([1.0], [2], 1.5, math.inf),  # a single event of mass 1
    ([0.0, 0.4, 0.6], [3, 1, 0], 0.3, math.inf),  # zero mass, zero cap
    ([0.1, 0.2, 0.3, 0.4], [2, 1, 1, 2], 0.95, math.inf),
    ([0.5, 0.3], [1, 1], 0.5 + 1e-9, math.inf),  # a sum exactly at the goal target − TOL
    ([0.5, 0.25], [1, 1], 0.75 + 1e-9, math.inf),  # reachable only by taking everything
])
def test_min_sum_at_least_against_enumeration(case) -> None:
    from rdp_exact.theory import _min_sum_at_least

    probs, u, target, inc = case
    got = _min_sum_at_least(np.array(probs), np.array(u), target, inc)
    want = _brute_min_sum_at_least(probs, u, target, inc)
    assert (got is None) == (want is None), (got, want)
    if want is not None:
        assert got == pytest.approx(want, abs=1e-12)


def test_min_sum_at_least_state_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from rdp_exact import theory
    from rdp_exact.errors import SolverUnavailable

    monkeypatch.setattr(theory, "MAX_DP_STATES", 2)
    with pytest.raises(SolverUnavailable, match=r"more than 2 partial sums \(3 events\).*--minimize rate --max-poly 0"):
        theory._min_sum_at_least(np.array([0.31, 0.37, 0.29]), np.array([3, 3, 3]), 1.9)


@pytest.mark.parametrize("lookup", [1, 2, 3])
def test_max_omission_distortion_fallback_matches_reference(monkeypatch: pytest.MonkeyPatch, lookup: int) -> None:
    """With the exact head lookup cut to a few steps, the targeted DP fallback still returns
    max{D ∈ 𝒟_mono : D ≤ δ}, as the reference set DP of proofs_check says."""
    from proofs_check.reference import omission_distortions
    from rdp_exact import theory

    monkeypatch.setattr(theory, "LOOKUP_STEPS", lookup)
    pmf = _pmf(3, [(1, 0.1), (3, 0.25), (6, 0.15), (7, 0.3), (4, 0.2)])
    for m, k in ((2, 1), (2, 2), (3, None)):
        ds = omission_distortions(pmf, m, k)
        for delta in [0.0, 0.05, *ds, *(d + 0.01 for d in ds), 10.0]:
            below = [d for d in ds if d <= delta + 1e-9]
            want = max(below) if below else None
            got = theory.max_omission_distortion(pmf, m, delta, k=k)
            assert (got is None) == (want is None), (m, k, delta, got, want)
            if want is not None:
                assert got == pytest.approx(want, abs=1e-9), (m, k, delta)


def test_rate_tax_validation_and_fields() -> None:
    from rdp_exact import theory
    from rdp_exact.errors import InvalidArgument

    pmf = _pmf(2, [(3, 1.0)])  # {0,1}: 1; m = 2, k = 1: D_min = 1, E|S| = 2
    with pytest.raises(InvalidArgument, match="d_star_k must be a finite number ≥ 0, got -0.1"):
        theory.rate_tax(pmf, 2, 1, -0.1, 1.0)
    with pytest.raises(InvalidArgument, match="rate_opt must be a finite number ≥ 0, got nan"):
        theory.rate_tax(pmf, 2, 1, 0.0, float("nan"))
    with pytest.raises(InvalidArgument, match="rate_opt"):
        theory.rate_tax(pmf, 2, 1, 0.0, -1.0)
    with pytest.raises(InvalidArgument):
        theory.rate_tax(pmf, 0, 1, 0.0, 1.0)
    rt = theory.rate_tax(pmf, 2, 1, 0.0, 1.0)  # D*_1 = 0 (atom {0,1}), R_opt = 1; D̄ = 0
    assert rt is not None
    assert (rt.d_star_k, rt.rate_opt, rt.d_bar, rt.rate_lower_bound, rt.tax) == (0.0, 1.0, 0.0, 2.0, 1.0)
    assert rt.to_dict() == {"d_star_k": 0.0, "rate_opt": 1.0, "d_bar": 0.0, "rate_lower_bound": 2.0, "tax": 1.0,
                            "monosemantic_reachable": True}
    assert theory.rate_tax(pmf, 2, 1, 1.0, 1.0) is None  # D*_k = D_min exactly: no tax


def test_distortion_tax_fields_by_hand() -> None:
    """π = {{0}: ½, {0,1}: ½}, m = 2, k = 1, r = 0.7: retained masses {0, ½, 1} → D_mono = 1.5 − ½ = 1;
    uncapped: {0, ½, 1, 1½} → also 1; lower bound max(D_min = ½, 1.5 − 0.7 = 0.8) = 0.8; tax = 1 − 0.3."""
    from rdp_exact import theory
    from rdp_exact.errors import InvalidArgument

    pmf = _pmf(2, [(1, 0.5), (3, 0.5)])
    dt = theory.distortion_tax(pmf, 2, 1, 0.7, 0.3)
    assert dt.to_dict() == pytest.approx({"rate_budget": 0.7, "d_star": 0.3, "d_mono": 1.0, "d_mono_any_cap": 1.0,
                                          "lower_bound": 0.8, "tax": 0.7})
    assert theory.distortion_tax(pmf, 2, 1, 1.2, 0.0).d_mono_any_cap == pytest.approx(0.5)
    assert theory.distortion_tax(pmf, 2, 1, 1.2, 0.0).d_mono == pytest.approx(0.5)
    assert theory.distortion_tax(pmf, 1, 1, 0.5, 0.0).d_mono == pytest.approx(1.0)  # one concept: {0} on both
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(InvalidArgument, match="d_star must be a finite number ≥ 0"):
            theory.distortion_tax(pmf, 2, 1, 0.5, bad)
    for bad in (-0.1, float("inf"), True):
        with pytest.raises(InvalidArgument, match="rate budget must be a finite number ≥ 0"):
            theory.min_mono_distortion(pmf, 2, bad)
    with pytest.raises(InvalidArgument):
        theory.distortion_tax(pmf, 2, 3, 0.5, 0.0)
    assert theory._max_sum_at_most(np.array([0.5, 0.3, 0.0]), np.array([1, 2, 4]), 0.85) == pytest.approx(0.8)
    assert theory._max_sum_at_most(np.array([0.5, 0.3]), np.array([0, 0]), 1.0) == 0.0
    assert theory._max_sum_at_most(np.array([0.5, 0.3]), np.array([1, 1]), 0.8 - 1e-10) == pytest.approx(0.8)
    assert theory._max_sum_at_most(np.array([1.0]), np.array([3]), 2.5) == pytest.approx(2.0)


def test_max_sum_at_most_state_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from rdp_exact import theory
    from rdp_exact.errors import SolverUnavailable

    monkeypatch.setattr(theory, "MAX_DP_STATES", 2)
    with pytest.raises(SolverUnavailable, match=r"more than 2 partial sums \(3 events\).*--minimize distortion"):
        theory._max_sum_at_most(np.array([0.31, 0.37, 0.29]), np.array([3, 3, 3]), 2.0)


# ---------------------------------------------------------------------- audit/proxies.py
def _naive_v(r, d, q, positions):
    """V over the SAEs at ``positions`` (repeats allowed), from the definition of DESIGN §3."""
    k = less = tie = 0
    for a in positions:
        for b in positions:
            if r[a] <= r[b] and d[a] <= d[b] and (r[a], d[a]) != (r[b], d[b]):
                k += 1
                less += q[a] < q[b]
                tie += q[a] == q[b]
    return math.nan if k == 0 else (less + 0.5 * tie) / k


def test_proxy_option_messages() -> None:
    from audit.proxies import _check_options
    from rdp_exact.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="^bootstrap must be an integer ≥ 0, got -1$"):
        _check_options(-1, 10, 0.9, "raise")
    with pytest.raises(InvalidArgument, match="^permutations must be an integer ≥ 0, got 1.5$"):
        _check_options(10, 1.5, 0.9, "raise")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="^confidence must lie strictly between 0 and 1, got 0.0$"):
        _check_options(10, 10, 0.0, "raise")
    with pytest.raises(InvalidArgument, match="^nan_policy must be 'raise' or 'omit', got 'x'$"):
        _check_options(10, 10, 0.9, "x")


def test_bootstrap_and_permutation_stats_against_the_definition() -> None:
    from audit.proxies import _bootstrap_stats, _perm_v_stats, _permutation_stats, dominated_pairs

    r = np.array([0.0, 1.0, 1.0, 2.0, 3.0])
    d = np.array([3.0, 1.0, 2.0, 0.5, 0.0])
    q = np.array([0.2, 0.5, 0.5, 0.1, 0.5])  # ties on purpose
    idx = np.array([[0, 1, 2, 3, 4], [1, 1, 1, 1, 1], [1, 2, 2, 0, 4], [2, 1, 0, 0, 0], [3, 4, 3, 4, 2]])
    vb, _ = _bootstrap_stats(r, d, q, idx)
    want = [_naive_v(r, d, q, row) for row in idx]
    assert np.allclose(vb, want, equal_nan=True)
    assert math.isnan(vb[1])  # one SAE drawn five times: no dominated pair
    pairs = dominated_pairs(r, d)
    assert pairs.dtype == np.int64 and pairs.shape[1] == 2
    perms = np.array([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 0, 3, 2, 4]])
    got = _perm_v_stats(pairs, q, perms)
    assert np.allclose(got, [_naive_v(r, d, q[p], range(5)) for p in perms])
    vp, rp = _permutation_stats(r, d, q, perms)
    assert np.allclose(vp, got) and rp.shape == (3,)
    anti = _permutation_stats(np.array([0.0, 1, 2]), np.array([2.0, 1, 0]), np.array([1.0, 2, 3]), np.array([[0, 1, 2], [2, 1, 0]]))
    assert anti[0].dtype == float and anti[0].shape == (2,) and np.isnan(anti[0]).all()


def test_percentile_interval() -> None:
    from audit.proxies import _percentile_interval

    assert _percentile_interval(np.arange(101.0), 0.9) == pytest.approx((5.0, 95.0), abs=1e-9)
    assert _percentile_interval(np.array([np.nan, 0.25]), 0.9) == (0.25, 0.25)
    assert _percentile_interval(np.array([np.nan]), 0.9) is None


def test_audit_proxy_defaults_notes_and_row() -> None:
    from audit.proxies import audit_proxy

    r, d, q = [0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0], [0.1, 0.2, 0.3, 0.4]
    a = audit_proxy(r, d, q)
    assert a.bootstrap == 1000 and a.permutations == 1000
    assert "no dominated pair: V is undefined (the SAEs are mutually non-dominated)" in a.warnings
    r2, d2, q2 = [0.0, 1.0, 2.0, 3.0, 2.5], [0.0, 1.0, 2.0, 3.0, 0.1], [0.4, 0.3, 0.3, 0.1, 0.2]
    assert audit_proxy(r2, d2, q2) == audit_proxy(r2, d2, q2, seed=0)
    assert audit_proxy(r2, d2, q2).rho_lo != audit_proxy(r2, d2, q2, seed=1).rho_lo \
        or audit_proxy(r2, d2, q2).V_lo != audit_proxy(r2, d2, q2, seed=1).V_lo \
        or audit_proxy(r2, d2, q2).p_value != audit_proxy(r2, d2, q2, seed=1).p_value
    omit = audit_proxy([0.0, 1.0, 2.0, float("nan")], [0.0, 1.0, 2.0, 1.0], [0.3, 0.2, 0.1, 0.0],
                       nan_policy="omit", bootstrap=10, permutations=10)
    assert omit.n_saes == 3 and omit.n_dropped == 1
    row = audit_proxy(r2, d2, q2, bootstrap=20, permutations=20).to_row()
    assert list(row) == ["n_saes", "n_pairs", "V", "V_lo", "V_hi", "rho", "rho_lo", "rho_hi", "p_value", "V_strict",
                         "p_value_rho", "verdict"]
    full = audit_proxy(r2, d2, q2, bootstrap=20, permutations=20)
    assert row["n_saes"] == 5 and row["V"] == full.V and row["V_strict"] == full.V_strict
    assert row["verdict"] == full.verdict and row["p_value_rho"] == full.p_value_rho and row["n_pairs"] == full.n_pairs
    for key in ("V_lo", "V_hi", "rho", "rho_lo", "rho_hi", "p_value"):
        assert row[key] == getattr(full, key)


def test_width_cap_messages() -> None:
    from rdp_exact import theory
    from rdp_exact.errors import InvalidArgument

    pmf = _pmf(2, [(1, 0.5), (3, 0.5)])
    for m, k, msg in ((0, 1, "^width m must be at least 1, got 0$"), (2.0, 1, "^width m must be an integer, got 2.0$"),
                      (True, 1, "^width m must be an integer, got True$"), (2, 0, "^cap k must be at least 1, got 0$"),
                      (2, "1", "^cap k must be an integer, got '1'$"), (2, 3, "^k = 3 exceeds the width m = 2$")):
        with pytest.raises(InvalidArgument, match=msg):
            theory.d_min(pmf, m, k)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="^max_steps must be a positive integer, got 0$"):
        theory.omission_distortions(pmf, 2, 1, max_steps=0)
    with pytest.raises(InvalidArgument, match="^distortion budget must be finite, got inf$"):
        theory.max_omission_distortion(pmf, 2, math.inf)
    with pytest.raises(InvalidArgument):
        theory.max_omission_distortion(pmf, 0, 0.5)


def test_omission_distortions_truncation_matches_reference() -> None:
    """The smallest s distortions, truncated exactly when the full set has more than s (capped and not)."""
    from proofs_check.reference import omission_distortions as ref_ds
    from rdp_exact import theory

    pmf = _pmf(3, [(1, 0.1), (3, 0.25), (6, 0.15), (7, 0.3), (4, 0.2)])
    for m, k, cap in ((2, 1, True), (2, 2, True), (3, 1, False), (1, 1, True)):
        full = ref_ds(pmf, m, k if cap else None)
        got_all = theory.omission_distortions(pmf, m, k, cap=cap)
        assert not got_all.truncated and np.allclose(got_all.distortions, full, atol=1e-9)
        for s in sorted({1, 2, 3, len(full) - 1, len(full), len(full) + 1} - {0}):
            got = theory.omission_distortions(pmf, m, k, cap=cap, max_steps=s)
            assert np.allclose(got.distortions, full[:s], atol=1e-9), (m, k, cap, s)
            assert got.truncated == (len(full) > s), (m, k, cap, s)
    late = theory.omission_distortions(pmf, 2, 1, deadline=0.0)  # deadline long past: first atom set only
    assert late.truncated and set(np.round(late.distortions, 9)) <= set(np.round(ref_ds(pmf, 2, 1), 9))
    assert theory.omission_distortions(pmf, 2, 1, deadline=1e18).truncated is False


def test_top_sums_against_enumeration() -> None:
    import itertools

    from rdp_exact.theory import _top_sums

    probs, u = np.array([0.5, 0.3, 0.2, 0.0]), np.array([1, 2, 1, 3])
    allsums = sorted({round(sum(p * r for p, r in zip(probs, rs, strict=True)), 12)
                      for rs in itertools.product(*(range(c + 1) for c in u))}, reverse=True)
    got, trunc = _top_sums(probs, u, None)
    assert np.allclose(got, allsums) and not trunc
    for s in (1, 3, len(allsums)):
        got, trunc = _top_sums(probs, u, s)
        assert np.allclose(got, allsums[:s]) and trunc == (s < len(allsums))
    top = allsums[0]
    got, trunc = _top_sums(probs, u, None, floor=top)  # floor exactly at the largest sum
    assert np.allclose(got[:1], [top]) and trunc
    got, trunc = _top_sums(probs, u, None, floor=top + 0.1)  # nothing reaches the floor
    assert got.size == 0 and trunc
    assert np.allclose(_top_sums(np.array([1.0]), np.array([2]), None)[0], [2.0, 1.0, 0.0])


def test_conservation_validation_messages() -> None:
    from rdp_exact import theory
    from rdp_exact.errors import InvalidArgument

    pmf = _pmf(2, [(1, 0.5), (3, 0.5)])
    for recon, msg in (({8: 0}, "^recon key 8 is not an event bitmask over 2 concepts$"),
                       ({-1: 0}, "^recon key -1 is not an event bitmask over 2 concepts$"),
                       ({True: 0}, "^recon key True is not an event bitmask over 2 concepts$"),
                       ({1.0: 0}, "^recon key 1.0 is not an event bitmask"),
                       ({3: -1}, r"^recon\[\{0,1\}\] = -1 is not a concept bitmask$"),
                       ({3: True}, r"^recon\[\{0,1\}\] = True is not a concept bitmask$"),
                       ({3: 2}, r"^recon\[\{0,1\}\] = \{1\} is not a subset of S ∩ A = \{0\}$")):
        with pytest.raises(InvalidArgument, match=msg):
            theory.conservation(pmf, 1, recon)  # type: ignore[arg-type]
    assert theory.conservation(pmf, 0, {}) == (0.0, 1.5)  # A = ∅: nothing reconstructed, D = E|S|
    assert theory.conservation(pmf, 1, {2: 0, 3: 1}) == (0.5, 1.0)  # key {1} off the support is ignored


def test_evaluation_poly_measures() -> None:
    """Threshold SAE with a 2-concept encoder row e = (1, 1), θ = 1 and atom {0}: P_dec = 0,
    P_enc = 1 − 1/√2, P_joint = their mean; 'decoder' picks P_dec; the free class always reports P_dec."""
    from rdp_exact.sae import CombinatorialSAE

    pmf = _pmf(2, [(1, 0.5), (3, 0.5)])
    ev = CombinatorialSAE.threshold(2, [1], [((1, 1), 1)]).evaluate(pmf)
    enc = 1 - 1 / math.sqrt(2)
    assert ev.poly_dec == 0.0 and ev.poly_enc == pytest.approx(enc)
    assert ev.poly() == pytest.approx(enc / 2) and ev.poly("joint") == pytest.approx(enc / 2)
    assert ev.poly("decoder") == 0.0
    free = CombinatorialSAE.free(2, [3], {3: [0]}).evaluate(pmf)
    assert free.poly() == free.poly("decoder") == free.poly("joint") == pytest.approx(enc)


def test_sae_validation_messages() -> None:
    from rdp_exact.errors import InvalidArgument
    from rdp_exact.sae import CombinatorialSAE, ThresholdUnit

    assert CombinatorialSAE.free(1, [1], {1: [0]}).n == 1  # n = 1 is valid
    cases = [
        (lambda: CombinatorialSAE.free(0, [0], {}), r"^n must be ≥ 1, got 0$"),
        (lambda: CombinatorialSAE.free(2, [], {}), r"^an SAE needs at least one latent$"),
        (lambda: CombinatorialSAE.free(2, [4], {}), r"^atom 4 uses a concept outside \[0, 2\)$"),
        (lambda: CombinatorialSAE.free(2, [-1], {}), r"^atom -1 uses a concept outside \[0, 2\)$"),
        (lambda: CombinatorialSAE(n=2, atoms=(1,)), r"^give exactly one of a free code or threshold encoder units$"),
        (lambda: CombinatorialSAE.threshold(2, [1, 2], [((1, 0), 1)]), r"^1 encoder units for 2 latents$"),
        (lambda: CombinatorialSAE(n=2, atoms=(1,), encoder=(ThresholdUnit((1,), 1),)),
         r"^encoder row has 1 weights, expected n = 2$"),
        (lambda: CombinatorialSAE(n=2, atoms=(1,), code=((1, (0,)), (1, (0,)))), r"^event \{0\} appears twice in the code$"),
        (lambda: CombinatorialSAE(n=2, atoms=(1,), code=((1, (0, 0)),)), r"^bad active latents \(0, 0\) for event \{0\}$"),
        (lambda: CombinatorialSAE(n=2, atoms=(1,), code=((3, (1,)),)), r"^bad active latents \(1,\) for event \{0,1\}$"),
    ]
    for make, msg in cases:
        with pytest.raises(InvalidArgument, match=msg):
            make()
    sae = CombinatorialSAE.free(2, [1], {1: [0]})
    with pytest.raises(InvalidArgument, match=r"^SAE has n = 2 concepts but the pmf has n = 3$"):
        sae.evaluate(_pmf(3, [(1, 1.0)]))


def test_event_error_by_hand() -> None:
    from rdp_exact.sae import event_error

    assert event_error(3, 0b011, [0b001, 0b001], "integer") == 2  # c = (2, 0, 0): 1 + 1
    assert event_error(3, 0b011, [0b001, 0b001], "disjoint") is None
    assert event_error(3, 0b011, [0b001, 0b010], "disjoint") == 0
    assert event_error(3, 0b011, [0b001, 0b010, 0b001], "disjoint") is None  # overlaps the union, not the last
    assert event_error(3, 0b111, [0b011, 0b110], "integer") == 1  # c = (1, 2, 1)


def test_evaluate_messages_fields_and_helpers() -> None:
    from rdp_exact.errors import InvalidArgument
    from rdp_exact.sae import CombinatorialSAE

    pmf = _pmf(2, [(1, 0.5), (3, 0.5)])
    sae = CombinatorialSAE.free(2, [1, 3], {1: [0], 3: [0, 1]}, "disjoint")
    with pytest.raises(InvalidArgument, match=r"overlap on event \{0,1\}"):
        sae.evaluate(pmf)
    ok = CombinatorialSAE.free(2, [1, 3], {1: [0], 3: [0, 1]})
    with pytest.raises(InvalidArgument, match=r"\{0,1\}"):
        ok.evaluate(pmf, 1)  # two active latents on {0,1} under the cap 1
    ev = ok.evaluate(pmf)
    assert ev.errors.tolist() == [0.0, 1.0] and ev.errors.dtype == np.float64  # {0,1}: c = (2, 1)
    assert ev.max_active == 2
    dead = CombinatorialSAE.threshold(2, [1], [((1, 1), 2)]).evaluate(_pmf(2, [(1, 1.0)]))  # never fires
    assert dead.poly_dec == 0.0 and dead.poly_enc == 0.0 and dead.poly_joint == 0.0
    th = CombinatorialSAE.threshold(2, [3, 1], [((1, 0), 1), ((0, -1), 1)])
    assert th.encoder_matrix().tolist() == [[1.0, 0.0], [0.0, -1.0]] and th.encoder_matrix().dtype == np.float64
    assert ok.encoder_matrix() is None
    assert ok.sorted_atoms() == [[0], [0, 1]]
    assert ok.atom_matrix().dtype == np.float64 and ok.atom_matrix().tolist() == [[1.0, 0.0], [1.0, 1.0]]


def test_best_response_mode_and_ties() -> None:
    """Ties between equally good firing sets keep the first in enumeration order; the mode is kept."""
    from rdp_exact.sae import CombinatorialSAE

    pmf = _pmf(2, [(1, 1.0)])
    br = CombinatorialSAE.best_response(pmf, [1, 1], 1)
    assert br.coefficients == "integer" and br.code == ((1, (0,)),)
    assert CombinatorialSAE.best_response(pmf, [1, 1], 1, "disjoint").coefficients == "disjoint"


def test_theory_small_validators_and_views() -> None:
    from rdp_exact import theory
    from rdp_exact.errors import InvalidArgument

    pmf = _pmf(2, [(1, 0.5), (3, 0.5)])
    for A, msg in ((1.5, r"^concept set A must be an int bitmask, got 1.5$"),
                   (True, r"^concept set A must be an int bitmask, got True$"),
                   (4, r"^concept set A = 4 uses a concept outside \[0, 2\)$"),
                   (-1, r"^concept set A = -1 uses a concept outside \[0, 2\)$")):
        with pytest.raises(InvalidArgument, match=msg):
            theory.conservation_bound(pmf, A)  # type: ignore[arg-type]
    om = theory.omission_distortions(pmf, 2, 1)
    assert list(om) == list(om.distortions) and len(om) == len(om.distortions) and om.d_min == om.distortions[0]
    one = _pmf(2, [(3, 1.0)])  # {0,1}: 1, m = k = 1: D*_1 = 0 (atom {0,1}); no width-1 omission code has D ≤ 0
    rt = theory.rate_tax(one, 1, 1, 0.0, 1.0)
    assert rt is not None and rt.d_bar is None
    assert rt.to_dict() == {"d_star_k": 0.0, "rate_opt": 1.0, "d_bar": None, "rate_lower_bound": None, "tax": None,
                            "monosemantic_reachable": False}
    with pytest.raises(InvalidArgument, match=r"^Example 1 needs n = 3 concepts, the pmf has n = 2$"):
        theory.example1_closed_forms(pmf, 1)
    with pytest.raises(InvalidArgument, match=r"^Example 1 needs k ∈ \{1, 2\}, got 3$"):
        theory.example1_ranking(_pmf(3, [(1, 1.0)]), 3)


def test_example1_report_and_applicability() -> None:
    from rdp_exact import theory

    pmf = _pmf(3, [(1, 0.3), (3, 0.4), (4, 0.3)])
    assert theory.example1_applicable(pmf, 2, 1) and theory.example1_applicable(pmf, 2, 2)
    assert not theory.example1_applicable(pmf, 3, 2) and not theory.example1_applicable(pmf, 2, 3)
    assert not theory.example1_applicable(_pmf(2, [(1, 1.0)]), 2, 1)
    rep = theory.example1_report(pmf, 2, [3, 4])
    rows = theory.example1_ranking(pmf, 2)
    assert rep["k"] == 2 and len(rep["codes"]) == len(rows)
    assert rep["codes"][0] == {"name": rows[0][0], "family": rows[0][1], "D": rows[0][2], "R": rows[0][3], "P": rows[0][4]}
    assert rep["predicted_structure"] == theory.example1_predict(pmf, 2)
    assert rep["tied_structures"] == sorted(theory.example1_tied_families(pmf, 2))
    assert rep["optimum_structure"] == theory.example1_structure([3, 4]) == "hedged"
    assert theory.example1_report(pmf, 1)["optimum_structure"] is None


def test_proxy_input_messages_and_small_budgets() -> None:
    from audit.proxies import audit_proxy, rho_rdp, violation_rate
    from rdp_exact.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match=r"^rate, distortion and q need one value per SAE, got lengths rate 3, "
                                              r"distortion 3, q 2$"):
        violation_rate([0, 1, 2], [0, 1, 2], [0, 1])
    with pytest.raises(InvalidArgument, match=r"^rate, distortion and q need one value per SAE, got lengths rate 3, "
                                              r"distortion 2$"):
        rho_rdp([0, 1, 2], [0, 1], None)
    with pytest.raises(InvalidArgument, match=r"^distortion must be numbers"):
        violation_rate([0, 1, 2], ["a", "b", "c"], [0, 1, 2])
    with pytest.raises(InvalidArgument, match=r"^q must be numbers"):
        violation_rate([0, 1, 2], [0, 1, 2], ["a", "b", "c"])
    with pytest.raises(InvalidArgument, match=r"^q must be finite, SAE 2 has "):
        violation_rate([0, 1, 2, 3], [0, 1, 2, 3], [0.0, 1.0, float("nan"), 2.0])
    const = audit_proxy([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0], bootstrap=5, permutations=5)
    assert "rho_RDP is undefined (constant proxy or constant tightness)" in const.warnings
    one = audit_proxy([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0], [0.4, 0.3, 0.2, 0.1], bootstrap=1, permutations=1)
    assert one.V == 0.0 and one.V_lo is not None and one.p_value in (0.5, 1.0) and one.p_value_rho in (0.5, 1.0)


def test_best_response_tie_between_different_atoms() -> None:
    """Event {0,1}, atoms {0} and {1}, k = 1: both single firings have error 1 and size 1; the first wins."""
    from rdp_exact.sae import CombinatorialSAE

    br = CombinatorialSAE.best_response(_pmf(2, [(3, 1.0)]), [1, 2], 1)
    assert br.code == ((3, (0,)),)


def _naive_rho(r, d, q) -> float:
    from scipy.stats import rankdata

    t = -(rankdata(r) + rankdata(d))
    a, b = rankdata(t), rankdata(q)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("seed", [0, 3])
def test_audit_proxy_resampling_against_a_naive_reimplementation(seed: int) -> None:
    """Bootstrap intervals and permutation p-values recomputed pair by pair with the same random streams."""
    from audit.proxies import audit_proxy

    r = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 0.5])
    d = np.array([3.0, 1.0, 2.0, 0.5, 0.0, 2.5])
    q = np.array([0.2, 0.5, 0.4, 0.1, 0.5, 0.3])
    B, P, conf, n = 40, 30, 0.8, 6
    a = audit_proxy(r, d, q, bootstrap=B, permutations=P, seed=seed, confidence=conf)
    boot_rng, perm_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    idx = boot_rng.integers(0, n, size=(B, n))
    vb = np.array([_naive_v(r, d, q, row) for row in idx])
    rb = np.array([_naive_rho(r[row], d[row], q[row]) for row in idx])
    V = _naive_v(r, d, q, range(n))
    rho = _naive_rho(r, d, q)
    assert a.V == pytest.approx(V) and a.rho == pytest.approx(rho)
    lo, hi = np.percentile(vb[np.isfinite(vb)], [50 * (1 - conf), 50 * (1 + conf)])
    assert (a.V_lo, a.V_hi) == pytest.approx((lo, hi))
    lo, hi = np.percentile(rb[np.isfinite(rb)], [50 * (1 - conf), 50 * (1 + conf)])
    assert (a.rho_lo, a.rho_hi) == pytest.approx((lo, hi))
    perms = np.argsort(perm_rng.random((P, n)), axis=1)
    vp = np.array([_naive_v(r, d, q[p], range(n)) for p in perms])
    rp = np.array([_naive_rho(r, d, q[p]) for p in perms])
    assert a.p_value == pytest.approx((1 + np.sum(np.abs(vp - 0.5) >= abs(V - 0.5) - 1e-12)) / (1 + P))
    assert a.p_value_rho == pytest.approx((1 + np.sum(np.abs(np.nan_to_num(rp, nan=0.0)) >= abs(rho) - 1e-12)) / (1 + P))
    assert a.confidence == conf and isinstance(a.confidence, float)
