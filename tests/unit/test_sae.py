"""Exact evaluation of combinatorial SAEs (DESIGN §1.2–1.3) against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF
from rdp_exact.polysemanticity import binary_row_poly, cosine_table, polysemanticity
from rdp_exact.sae import CombinatorialSAE, ThresholdUnit

S2 = 1 - 1 / math.sqrt(2)


def pmf3() -> ConceptPMF:
    # {a,b}: 0.5, {a}: 0.2, {c}: 0.2, {}: 0.1
    return ConceptPMF.from_events(3, [([0, 1], 0.5), ([0], 0.2), ([2], 0.2), ([], 0.1)])


def test_hedged_free_code_by_hand() -> None:
    pmf = pmf3()
    # atoms {a,b} and {c}; fire {a,b} on {a,b} and on {a}; {c} on {c}
    sae = CombinatorialSAE.free(3, [[0, 1], [2]], {0b011: [0], 0b001: [0], 0b100: [1]})
    ev = sae.evaluate(pmf, k=1)
    assert ev.rate == pytest.approx(0.5 + 0.2 + 0.2)
    # errors: {a,b} → 0, {a} → 1 (extra b), {c} → 0, {} → 0
    assert ev.distortion == pytest.approx(0.2)
    assert ev.poly_dec == pytest.approx((S2 + 0) / 2)
    assert ev.poly_enc is None and ev.poly_joint is None


def test_integer_coefficients_add_up() -> None:
    pmf = ConceptPMF.from_events(2, [([0, 1], 1.0)])
    sae = CombinatorialSAE.free(2, [[0, 1], [0]], {0b11: [0, 1]})
    ev = sae.evaluate(pmf)
    assert ev.coefficients.tolist() == [[2, 1]]
    assert ev.distortion == pytest.approx(1.0)  # (1−2)² + (1−1)²
    assert ev.rate == pytest.approx(2.0)
    disjoint = CombinatorialSAE.free(2, [[0, 1], [0]], {0b11: [0, 1]}, coefficients="disjoint")
    with pytest.raises(InvalidArgument, match="overlap"):
        disjoint.evaluate(pmf)


def test_cap_is_checked() -> None:
    pmf = pmf3()
    sae = CombinatorialSAE.free(3, [[0], [1]], {0b011: [0, 1]})
    assert sae.evaluate(pmf, k=2).rate == pytest.approx(1.0)
    with pytest.raises(InvalidArgument, match="above the cap k = 1"):
        sae.evaluate(pmf, k=1)


def test_unused_and_duplicate_atoms_do_not_count_in_p() -> None:
    pmf = pmf3()
    # latent 1 ({c}) never fires; latents 0 and 2 share atom {a,b}
    sae = CombinatorialSAE.free(3, [[0, 1], [2], [0, 1]], {0b011: [0], 0b001: [2]})
    ev = sae.evaluate(pmf)
    assert ev.live == (True, False, True)
    assert ev.poly_dec == pytest.approx(S2)  # one distinct live atom
    canon = sae.canonical(pmf)
    cev = canon.evaluate(pmf)
    assert (cev.rate, cev.distortion, cev.poly_dec) == pytest.approx((ev.rate, ev.distortion, ev.poly_dec))
    assert sorted(a for a in canon.atoms if a) == [0b011]


def test_threshold_class_by_hand() -> None:
    pmf = pmf3()
    # latent 0: atom {a}, fires on a unless b (e = (1,−1,0), θ = 1) — absorption style
    # latent 1: atom {a,b}, fires when b present (e = (0,1,0), θ = 1)
    sae = CombinatorialSAE.threshold(3, [[0], [0, 1]], [((1, -1, 0), 1), ((0, 1, 0), 1)])
    ev = sae.evaluate(pmf, k=1)
    assert ev.active == ((), (0,), (1,), ())  # events sorted: {}, {a}, {a,b}, {c}
    assert ev.rate == pytest.approx(0.7)
    assert ev.distortion == pytest.approx(0.2)  # {c} unreconstructed
    assert ev.poly_dec == pytest.approx(S2 / 2)
    assert ev.poly_enc == pytest.approx(S2 / 2)
    assert ev.poly_joint == pytest.approx(S2 / 2)


def test_threshold_unit_validation() -> None:
    with pytest.raises(InvalidArgument):
        ThresholdUnit((2, 0), 1)
    with pytest.raises(InvalidArgument):
        ThresholdUnit((1, 0), 0)


def test_best_response_picks_least_error_then_rate() -> None:
    pmf = pmf3()
    sae = CombinatorialSAE.best_response(pmf, [[0, 1], [0], [2]], k=1)
    ev = sae.evaluate(pmf, k=1)
    # {a,b} → atom {a,b}; {a} → atom {a}; {c} → {c}: zero error
    assert ev.distortion == pytest.approx(0.0)
    assert ev.rate == pytest.approx(0.9)


def test_polysemanticity_of_rows() -> None:
    W = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    assert polysemanticity(W) == pytest.approx(S2 / 2)  # zero row excluded
    C = cosine_table(W)
    assert C[0, 0] == pytest.approx(1 / math.sqrt(2)) and C[2].tolist() == [0, 0, 0]
    assert polysemanticity(np.zeros((2, 3))) == 0.0
    assert polysemanticity(-W) == pytest.approx(S2 / 2)  # sign does not matter


@given(st.integers(1, 30))
def test_binary_row_poly_matches_cosines(t: int) -> None:
    row = np.zeros((1, 40))
    row[0, :t] = 1
    assert polysemanticity(row) == pytest.approx(binary_row_poly(t))


@given(st.integers(0, 2**31 - 1))
def test_rotation_invariance_with_concept_directions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = 4, 7
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    V = Q[:n]  # orthonormal rows
    W_concepts = rng.normal(size=(5, n))
    assert polysemanticity(W_concepts @ V, V) == pytest.approx(polysemanticity(W_concepts))
