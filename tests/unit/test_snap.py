"""Snapping trained SAEs to combinatorial SAEs and classifying their latents (audit/snap.py, DESIGN §7).

Hand-set weights on the toy DGP (random orthonormal V): each SAE is built as a real ReLU model of
sae_train, so the firing pattern comes from running the network, not from the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from audit.snap import SnapConfig, best_response_code, snap, snap_model
from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin, random_pmf
from rdp_exact.pmf import ConceptPMF, mask_of
from rdp_exact.sae import CombinatorialSAE
from sae_train.data import DGP
from sae_train.models import build_model

A, B, C = 0, 1, 2


def _dgp(pmf: ConceptPMF | None = None, d: int = 5) -> DGP:
    return DGP.make(pmf or builtin("cooccur3"), d, seed=3)


def _relu_sae(dgp: DGP, dec: list[list[float]], enc: list[list[float]], b_enc: list[float] | None = None,
              b_dec: list[float] | None = None):  # type: ignore[no-untyped-def]
    """A ReLU SAE whose decoder rows / encoder columns are given in concept coordinates."""
    V = torch.tensor(dgp.V, dtype=torch.float64)  # [n, d]
    Wd = torch.tensor(dec, dtype=torch.float64) @ V  # [m, d]
    We = (torch.tensor(enc, dtype=torch.float64) @ V).T  # [d, m]
    m = Wd.shape[0]
    model = build_model("relu", 1, dgp.d, m, dtype=torch.float64)
    state = {
        "W_enc": We,
        "b_enc": torch.tensor(b_enc or [0.0] * m, dtype=torch.float64),
        "W_dec": Wd,
        "b_dec": (torch.tensor(b_dec, dtype=torch.float64) @ V) if b_dec else torch.zeros(dgp.d, dtype=torch.float64),
    }
    model.load_sae_state(0, state)
    return model


def _kinds(sn) -> list[str]:  # type: ignore[no-untyped-def]
    return [lat.kind for lat in sn.latents]


def test_monosemantic_sae_on_V() -> None:
    dgp = _dgp()
    pmf = dgp.pmf
    eye = np.eye(3).tolist()
    sn = snap_model(_relu_sae(dgp, eye, eye), dgp, k=3)
    assert sn.atoms == (1 << A, 1 << B, 1 << C)
    assert _kinds(sn) == ["monosemantic"] * 3
    assert not any(lat.absorbing for lat in sn.latents)
    np.testing.assert_allclose(sn.decoder_cos, np.eye(3), atol=1e-12)
    # each latent fires exactly on the events holding its concept: the observed code is lossless
    for lat in sn.latents:
        assert set(lat.fires_on) == {e for e in pmf.events if e >> lat.index & 1}
    assert sn.observed_eval.distortion == pytest.approx(0.0, abs=1e-12)
    assert sn.observed_eval.rate == pytest.approx(pmf.expected_sparsity())
    assert sn.observed_eval.poly_dec == 0.0
    # best response with the cap k = 1: one concept per event, error |S| − 1 on events with ≥ 1 concept
    sn1 = snap_model(_relu_sae(dgp, eye, eye), dgp, k=1)
    want_d = sum(p * max(0, bin(e).count("1") - 1) for e, p in pmf.items())
    assert sn1.best_eval.distortion == pytest.approx(want_d)
    assert sn1.counts() == {"dead": 0, "unaligned": 0, "splitting": 0, "monosemantic": 3, "hedged": 0,
                            "mixed": 0, "absorbing": 0}


def test_hedged_latent_and_cos_threshold_option() -> None:
    dgp = _dgp()
    h = 1 / math.sqrt(2)
    dec = [[h, h, 0], [0, 0, 1]]
    sn = snap_model(_relu_sae(dgp, dec, dec), dgp, k=1)
    assert sn.atoms == (mask_of([A, B]), 1 << C)
    assert _kinds(sn) == ["hedged", "monosemantic"]
    # the snapped best response is the exact optimum of cooccur3 at m = 2, k = 1 ({a,b} and {c}):
    ref = CombinatorialSAE.best_response(dgp.pmf, [mask_of([A, B]), 1 << C], 1).evaluate(dgp.pmf)
    assert sn.best_eval.distortion == pytest.approx(ref.distortion)
    assert sn.best_eval.rate == pytest.approx(ref.rate)
    assert sn.best_eval.poly_dec == pytest.approx(0.5 * (1 - 1 / math.sqrt(2)))
    # a stricter threshold than cos = 1/√2 drops both concepts: the latent fires but is unaligned
    strict = snap_model(_relu_sae(dgp, dec, dec), dgp, k=1, config=SnapConfig(cos_threshold=0.75))
    assert strict.atoms[0] == 0
    assert _kinds(strict) == ["unaligned", "monosemantic"]


def test_mixed_latent_never_writes_its_concepts_together() -> None:
    pmf = ConceptPMF.from_events(3, [((), 0.1), ((0,), 0.3), ((2,), 0.3), ((1,), 0.3)])  # a and c never co-occur
    dgp = _dgp(pmf)
    h = 1 / math.sqrt(2)
    dec = [[h, 0, h], [0, 1, 0]]
    sn = snap_model(_relu_sae(dgp, dec, dec), dgp, k=1)
    assert _kinds(sn) == ["mixed", "monosemantic"]


def test_splitting_pair_with_absorption() -> None:
    """Latent 0 writes {a,b} and fires only on a ∧ b; latent 1 writes {a} and fires on a unless b."""
    dgp = _dgp()
    h = 1 / math.sqrt(2)
    dec = [[h, h, 0], [1, 0, 0]]
    enc = [[1, 1, 0], [1, -1, 0]]
    sn = snap_model(_relu_sae(dgp, dec, enc, b_enc=[-1.5, 0.0]), dgp, k=2)
    assert sn.atoms == (mask_of([A, B]), 1 << A)
    assert _kinds(sn) == ["splitting", "splitting"]
    assert sn.latents[0].partners == (1,) and sn.latents[1].partners == (0,)
    assert not sn.latents[0].absorbing
    lat = sn.latents[1]
    assert lat.absorbing and lat.absorbed == ((A, B),)
    assert lat.evidence == "encoder+activations"
    assert lat.encoder_signs == (1, -1, 0)
    assert sn.counts()["absorbing"] == 1
    # the firing pattern read from the network: latent 1 never on an event holding a and b
    assert all(not (e >> A & 1 and e >> B & 1) for e in lat.fires_on)
    assert set(sn.latents[0].fires_on) == {e for e in dgp.pmf.events if e >> A & 1 and e >> B & 1}


def test_absorbing_encoder_without_a_partner() -> None:
    """'a unless b' with nobody else writing a: absorbing by the encoder evidence only."""
    dgp = _dgp()
    dec = [[1, 0, 0], [0, 1, 0]]
    enc = [[1, -1, 0], [0, 1, 0]]
    sn = snap_model(_relu_sae(dgp, dec, enc), dgp, k=2)
    assert _kinds(sn) == ["monosemantic", "monosemantic"]
    assert sn.latents[0].absorbing and sn.latents[0].evidence == "encoder"
    assert not sn.latents[1].absorbing


def test_omission_under_a_cap_is_not_absorption() -> None:
    """Monosemantic atoms, positive encoder, and the b latent silent on a ∧ b (as TopK with k = 1 would):
    nobody writes b there and no encoder weight is negative, so it is an omission, not absorption."""
    pmf = builtin("cooccur3")
    eye = np.eye(3)
    active = np.zeros((pmf.support_size, 3), dtype=bool)
    for s, e in enumerate(pmf.events):
        first = [i for i in range(3) if e >> i & 1][:1]  # fire only the lowest concept's latent
        active[s, first] = True
    sn = snap(pmf, eye, eye.T, eye, active, k=1)
    assert _kinds(sn) == ["monosemantic"] * 3
    assert not any(lat.absorbing for lat in sn.latents)


def test_dead_and_unaligned_latents_and_bias() -> None:
    dgp = _dgp()
    dec = [[1, 0, 0], [-1, 0, 0], [0, 0, 1]]
    enc = [[1, 0, 0], [0, 1, 0], [-1, -1, -1]]  # latent 2 never fires; latent 1 fires on b but writes −a
    sn = snap_model(_relu_sae(dgp, dec, enc, b_dec=[0.0, 0.8, 0.0]), dgp, k=2)
    assert _kinds(sn) == ["monosemantic", "unaligned", "dead"]
    assert sn.atoms == (1 << A, 0, 1 << C)
    assert sn.bias_concepts == 1 << B
    assert sn.live() == (True, True, False)
    # the observed code drops the unaligned latent (it writes nothing in concept space): rate = P(a ∈ S)
    assert sn.observed_eval.rate == pytest.approx(dgp.pmf.marginals()[A])


def test_best_response_code_matches_the_reference() -> None:
    rng = np.random.default_rng(0)
    for trial in range(12):
        pmf = random_pmf(4, 9, seed=trial)
        m = int(rng.integers(2, 6))
        atoms = [int(a) for a in rng.integers(0, 16, size=m)]
        if trial % 3 == 0:
            atoms[-1] = atoms[0]  # a duplicate
        for k in (1, 2, 3):
            code = best_response_code(pmf, atoms, k)
            ref = CombinatorialSAE.best_response(pmf, atoms, k)
            assert code is not None
            assert tuple(sorted(code.items())) == ref.code, (trial, atoms, k)


def test_bad_inputs() -> None:
    pmf = builtin("cooccur3")
    eye = np.eye(3)
    act = np.zeros((pmf.support_size, 3), dtype=bool)
    with pytest.raises(InvalidArgument, match="cos-threshold"):
        SnapConfig(cos_threshold=1.5)
    with pytest.raises(InvalidArgument, match="W_enc"):
        snap(pmf, eye, np.eye(3, 2), eye, act, k=1)
    with pytest.raises(InvalidArgument, match="firing pattern"):
        snap(pmf, eye, eye, eye, act[:, :2], k=1)
    with pytest.raises(InvalidArgument, match="cap k"):
        snap(pmf, eye, eye, eye, act, k=0)


def test_classification_is_deterministic_and_total() -> None:
    """Every latent gets exactly one kind, and snapping twice gives the same result."""
    dgp = _dgp()
    rng = np.random.default_rng(1)
    for _ in range(5):
        dec = rng.normal(size=(4, 3)).tolist()
        enc = rng.normal(size=(4, 3)).tolist()
        a = snap_model(_relu_sae(dgp, dec, enc), dgp, k=2)
        b = snap_model(_relu_sae(dgp, dec, enc), dgp, k=2)
        assert a.latents == b.latents
        counts = a.counts()
        assert sum(v for key, v in counts.items() if key != "absorbing") == 4
        for lat, (j, row) in zip(a.latents, enumerate(a.decoder_cos), strict=True):
            assert lat.atom == sum(1 << i for i in range(3) if row[i] > 0.5), j
        assert list(itertools.chain(a.active.any(axis=0))) == [lat.kind != "dead" for lat in a.latents]
