"""sae_train.data: concept directions, the seeded sampler and DGP persistence (DESIGN §6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin
from rdp_exact.pmf import ConceptPMF
from sae_train.data import DGP, Sampler, concept_directions, sample


def test_directions_orthonormal_when_d_at_least_n() -> None:
    for n, d in [(3, 3), (3, 8), (6, 6)]:
        V = concept_directions(n, d, seed=4)
        assert V.shape == (n, d)
        np.testing.assert_allclose(V @ V.T, np.eye(n), atol=1e-12)


def test_directions_unit_but_not_orthogonal_when_d_below_n() -> None:
    V = concept_directions(6, 3, seed=1)
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0, atol=1e-12)
    assert not np.allclose(V @ V.T, np.eye(6), atol=1e-3)  # 6 unit vectors cannot be orthogonal in R^3
    dgp = DGP.make(builtin("pairs6"), 3, seed=1)
    assert not dgp.orthonormal and dgp.exact


def test_directions_are_seeded() -> None:
    assert np.array_equal(concept_directions(4, 5, 7), concept_directions(4, 5, 7))
    assert not np.allclose(concept_directions(4, 5, 7), concept_directions(4, 5, 8))


def test_samples_are_support_points_and_frequencies_match_pmf() -> None:
    pmf = builtin("cooccur3")
    dgp = DGP.make(pmf, 5, seed=2)
    s = Sampler(dgp, seed=3, dtype=torch.float64)
    x = s.next(40000)
    idx = s.last_events.numpy()
    pts = dgp.support_points()
    np.testing.assert_allclose(x.numpy(), pts[idx], atol=1e-12)
    freq = np.bincount(idx, minlength=pmf.support_size) / len(idx)
    sd = np.sqrt(pmf.probs * (1 - pmf.probs) / len(idx))
    assert np.all(np.abs(freq - pmf.probs) < 5 * sd + 1e-12)


def test_sampler_is_reproducible_and_seed_dependent() -> None:
    dgp = DGP.make(builtin("cooccur3"), magnitudes="exponential", noise_std=0.1)
    a = sample(dgp, 64, seed=5)
    b = sample(dgp, 64, seed=5)
    c = sample(dgp, 64, seed=6)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("mag", ["uniform", "exponential"])
def test_magnitudes_have_mean_one(mag: str) -> None:
    pmf = ConceptPMF.from_events(1, [([0], 1.0)])
    dgp = DGP(pmf, np.array([[1.0]]), magnitudes=mag)
    x = sample(dgp, 50000, seed=1, dtype=torch.float64).numpy()[:, 0]
    assert np.all(x >= 0)
    assert abs(x.mean() - 1.0) < 0.03
    assert x.std() > 0.3  # really random, not constant
    assert not dgp.exact


def test_noise_has_requested_std() -> None:
    pmf = ConceptPMF.from_events(2, [([], 1.0)])
    dgp = DGP.make(pmf, 4, noise_std=0.5, seed=0)
    x = sample(dgp, 20000, seed=2, dtype=torch.float64)
    assert abs(float(x.std()) - 0.5) < 0.02


def test_dgp_save_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dgp = DGP.make(builtin("nested3"), 5, magnitudes="uniform", noise_std=0.25, seed=9)
    dgp.save(tmp_path)
    back = DGP.load(tmp_path)
    assert back.pmf == dgp.pmf
    assert np.array_equal(back.V, dgp.V)
    assert (back.magnitudes, back.noise_std, back.seed) == ("uniform", 0.25, 9)


@pytest.mark.parametrize(
    "kwargs",
    [{"magnitudes": "gaussian"}, {"noise_std": -1.0}, {"noise_std": float("nan")}, {"d": 0}],
)
def test_bad_dgp_options_are_invalid(kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument):
        DGP.make(builtin("cooccur3"), **kwargs)


def test_non_unit_directions_refused() -> None:
    with pytest.raises(InvalidArgument):
        DGP(builtin("cooccur3"), 2 * np.eye(3))
    with pytest.raises(InvalidArgument):
        DGP(builtin("cooccur3"), np.eye(2))


def test_load_missing_dgp_is_invalid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument):
        DGP.load(tmp_path)
