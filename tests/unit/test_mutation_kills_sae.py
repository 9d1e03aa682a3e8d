"""Tests that kill mutants of ``rdp_exact/sae.py`` left by ``make mutation`` (issue 14).

Every expected value is worked out by hand from DESIGN §1.2 (best firing map: least error, then least
rate, then the lexicographically smallest latent tuple), not read off the code."""

from __future__ import annotations

import numpy as np
import pytest

from rdp_exact.pmf import ConceptPMF
from rdp_exact.sae import CombinatorialSAE


def test_best_response_skips_a_dead_latent_before_a_live_one() -> None:
    """Atoms (∅, {0}), k = 1, π = {{0}: 1}: the empty latent 0 is skipped and latent 1 (error 0) is
    chosen; giving up at the dead latent would leave {0} unreconstructed (error 1)."""
    pmf = ConceptPMF.from_events(1, [(1, 1.0)])
    sae = CombinatorialSAE.best_response(pmf, [0, 1], 1)
    assert sae.active_on(1) == (1,)
    ev = sae.evaluate(pmf)
    assert ev.distortion == 0.0 and ev.rate == 1.0


def test_best_response_disjoint_mode_never_fires_overlapping_atoms() -> None:
    """Disjoint mode, atoms {0,1,2} and {2,3,4}, k = 2, π = {{0..4}: 1}: firing both would leave one
    error (c_2 = 2) against two for either alone, but the atoms overlap, so the best disjoint response
    fires latent 0 alone (error 2, ties broken by the smaller latent)."""
    pmf = ConceptPMF.from_events(5, [(0b11111, 1.0)])
    sae = CombinatorialSAE.best_response(pmf, [0b00111, 0b11100], 2, "disjoint")
    assert sae.active_on(0b11111) == (0,)
    assert sae.evaluate(pmf, 2).distortion == 2.0
    integer = CombinatorialSAE.best_response(pmf, [0b00111, 0b11100], 2, "integer")
    assert integer.active_on(0b11111) == (0, 1) and integer.evaluate(pmf, 2).distortion == 1.0


def test_best_response_disjoint_mode_skips_only_the_overlapping_pair() -> None:
    """Disjoint mode, atoms ({0}, {0}, {1}), k = 2, π = {{0,1}: 1}: the pair (0, 1) overlaps and is
    skipped, but the later pair (0, 2) reconstructs {0,1} exactly and is chosen."""
    pmf = ConceptPMF.from_events(2, [(0b11, 1.0)])
    sae = CombinatorialSAE.best_response(pmf, [0b01, 0b01, 0b10], 2, "disjoint")
    assert sae.active_on(0b11) == (0, 2)
    assert sae.evaluate(pmf, 2).distortion == 0.0


def test_evaluation_coefficients_are_integers() -> None:
    """c(S) of a combinatorial SAE is an integer vector (DESIGN §1.2: unit codes on 0/1 atoms), with
    c_0({0,1}) = 2 for two latents writing {0}."""
    pmf = ConceptPMF.from_events(2, [(0b11, 0.5), (0b01, 0.5)])
    sae = CombinatorialSAE.free(2, [0b01, 0b01], {0b11: [0, 1], 0b01: [0]})
    ev = sae.evaluate(pmf)
    assert np.issubdtype(ev.coefficients.dtype, np.integer)
    rows = dict(zip(pmf.events, ev.coefficients.tolist(), strict=True))
    assert rows == {0b11: [2, 0], 0b01: [1, 0]}
    assert ev.distortion == pytest.approx(0.5 * (1 + 1) + 0.5 * 0)
