"""Contract tests of the SAE architectures, parametrised over every registered one (STYLE 9), with
hand-set weights (dictionary_learning habit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF
from sae_train.data import DGP
from sae_train.models import (
    ARCHITECTURES,
    build_model,
    get_architecture,
    init_from_atoms,
    init_mono,
    init_random,
)

ARCHS = sorted(ARCHITECTURES)


def _pmf() -> ConceptPMF:
    return ConceptPMF.from_events(3, [([], 0.1), ([0], 0.3), ([1], 0.2), ([0, 1], 0.25), ([2], 0.15)])


def identity_sae(arch: str, V: np.ndarray, k: int = 2):  # type: ignore[no-untyped-def]
    """W_dec = V, W_enc = Vᵀ, zero biases: latents = concept indicators on support points."""
    n, d = V.shape
    model = build_model(arch, 1, d, n, k=[k], dtype=torch.float64)
    with torch.no_grad():
        model.W_dec[0] = torch.tensor(V.copy())
        model.W_enc[0] = torch.tensor(V.T.copy())
        if arch == "jumprelu":
            model.log_threshold.fill_(math.log(0.5))
        if arch == "batchtopk":
            model.threshold.fill_(0.5)
    return model


@pytest.mark.parametrize("arch", ARCHS)
def test_shapes_and_record(arch: str) -> None:
    model = build_model(arch, 3, 5, 4, k=[1, 2, 3])
    init_random(model, [0, 1, 2])
    x = torch.randn(7, 5)
    out = model(x, training=True)
    assert out.latents.shape == (3, 7, 4)
    assert out.reconstruction.shape == (3, 7, 5)
    assert out.pre_acts.shape == (3, 7, 4)
    parts = model.loss(x, out)
    assert parts.total.shape == (3,)
    assert torch.allclose(parts.total, parts.mse + parts.sparsity)
    assert torch.equal(model.encode(x), model(x).latents)
    assert torch.allclose(model.decode(out.latents), out.reconstruction)


@pytest.mark.parametrize("arch", ARCHS)
def test_identity_sae_reconstructs_support_points(arch: str) -> None:
    dgp = DGP.make(_pmf(), 4, seed=1)
    model = identity_sae(arch, dgp.V)
    X = torch.tensor(dgp.support_points())
    with torch.no_grad():
        out = model(X)
    np.testing.assert_allclose(out.latents[0].numpy(), dgp.pmf.indicator, atol=1e-12)
    np.testing.assert_allclose(out.reconstruction[0].numpy(), dgp.support_points(), atol=1e-12)


@pytest.mark.parametrize("arch", ARCHS)
def test_batched_output_equals_single_sae(arch: str) -> None:
    big = build_model(arch, 4, 5, 6, k=[1, 2, 3, 2], sparsity_coef=[0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    init_random(big, [3, 4, 5, 6])
    x = torch.randn(9, 5, dtype=torch.float64)
    out = big(x)
    for b in range(4):
        one = build_model(arch, 1, 5, 6, k=[int(big.k[b])], sparsity_coef=[float(big.sparsity_coef[b])],
                          dtype=torch.float64)
        one.load_sae_state(0, big.state_for_sae(b))
        o1 = one(x)
        torch.testing.assert_close(o1.latents[0], out.latents[b])
        torch.testing.assert_close(o1.reconstruction[0], out.reconstruction[b])


@pytest.mark.parametrize("arch", ARCHS)
def test_gradients_do_not_cross_sae_axis(arch: str) -> None:
    model = build_model(arch, 3, 4, 5, k=[2, 2, 2], sparsity_coef=[0.1] * 3, dtype=torch.float64)
    init_random(model, [0, 1, 2])
    x = torch.randn(16, 4, dtype=torch.float64)
    out = model(x, training=True)
    model.loss(x, out).total[1].backward()
    for name, p in model.trainable().items():
        if p.grad is None:
            continue
        assert torch.all(p.grad[0] == 0) and torch.all(p.grad[2] == 0), name
    assert model.W_dec.grad is not None and model.W_dec.grad[1].abs().sum() > 0


def test_topk_keeps_at_most_k_per_sample_with_k_per_sae() -> None:
    model = build_model("topk", 3, 6, 8, k=[1, 3, 8])
    init_random(model, [0, 1, 2])
    f = model.encode(torch.randn(50, 6))
    l0 = (f != 0).sum(-1)
    for b, kv in enumerate([1, 3, 8]):
        assert int(l0[b].max()) <= kv
    assert int(l0[2].max()) > 3  # k = 8 is really different


def test_batchtopk_keeps_k_times_batch_in_training_and_uses_threshold_at_inference() -> None:
    model = build_model("batchtopk", 2, 6, 8, k=[1, 3], dtype=torch.float64)
    init_random(model, [0, 1])
    x = torch.randn(40, 6, dtype=torch.float64)
    with torch.no_grad():
        out = model(x, training=True)
    assert int((out.latents[0] != 0).sum()) == 40
    assert int((out.latents[1] != 0).sum()) == 120
    model.update_statistics(out, torch.ones(2, dtype=torch.bool))
    for b in range(2):
        kept = out.latents[b][out.latents[b] != 0]
        assert float(model.threshold[b]) == pytest.approx(float(kept.min()))
    with torch.no_grad():
        z = model.pre_activations(x)
        f = model.encode(x)
    expected = torch.relu(z) * (z > model.threshold[:, None, None])
    torch.testing.assert_close(f, expected)


def test_relu_l1_is_weighted_by_decoder_norms() -> None:
    model = build_model("relu", 1, 2, 2, sparsity_coef=[0.5], dtype=torch.float64)
    with torch.no_grad():
        model.W_enc[0] = torch.eye(2)
        model.W_dec[0] = torch.tensor([[3.0, 0.0], [0.0, 0.5]])
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    out = model(x)
    # f = (1, 2); Σ f_j ||w_j|| = 1·3 + 2·0.5 = 4
    assert float(out.aux["l1"][0].detach()) == pytest.approx(4.0)
    assert float(model.loss(x, out).sparsity[0].detach()) == pytest.approx(2.0)


def test_jumprelu_pseudo_derivatives_follow_the_rectangle_kernel() -> None:
    eps = 0.1
    model = build_model("jumprelu", 1, 3, 3, sparsity_coef=[1.0], dtype=torch.float64,
                        options={"bandwidth": eps, "threshold_init": 0.5})
    with torch.no_grad():
        model.W_enc[0] = torch.eye(3)
        model.W_dec[0] = torch.eye(3)
    # pre-activations 0.52 (inside the kernel window of θ = 0.5), 0.9 and 0.3 (outside)
    x = torch.tensor([[0.52, 0.9, 0.3]], dtype=torch.float64)
    out = model(x, training=True)
    assert out.latents[0, 0].detach().tolist() == pytest.approx([0.52, 0.9, 0.0])
    assert float(out.aux["l0"][0].detach()) == 2.0
    out.aux["l0"].sum().backward()
    theta = 0.5
    # d L0 / d log θ = θ · (−1/ε) K((z − θ)/ε): nonzero only for latent 0
    expected = [theta * (-1 / eps), 0.0, 0.0]
    assert model.log_threshold.grad[0].tolist() == pytest.approx(expected)
    assert model.W_enc.grad is None or torch.all(model.W_enc.grad == 0)  # no gradient from L0 to z
    model.zero_grad()
    out = model(x, training=True)
    out.latents.sum().backward()
    # d f_0 / d log θ = θ · (−θ/ε) K(·);  d f / d z = H(z − θ)
    assert model.log_threshold.grad[0].tolist() == pytest.approx([theta * (-theta / eps), 0.0, 0.0])
    assert model.W_enc.grad[0].diagonal().tolist() == pytest.approx([0.52, 0.9, 0.0])


def test_registry_lookup() -> None:
    assert set(ARCHS) == {"topk", "batchtopk", "relu", "jumprelu"}
    for name, cls in ARCHITECTURES.items():
        assert get_architecture(name) is cls and cls.arch == name
    with pytest.raises(InvalidArgument, match="unknown architecture"):
        get_architecture("gated")


@pytest.mark.parametrize("arch", ARCHS)
def test_zero_bias_freezes_biases(arch: str) -> None:
    model = build_model(arch, 2, 3, 3, k=[1, 1], zero_bias=True)
    assert "b_enc" not in model.trainable() and "b_dec" not in model.trainable()
    assert "W_enc" in model.trainable()


def test_inits() -> None:
    V = DGP.make(_pmf(), 5, seed=0).V
    m = build_model("topk", 2, 5, 4, k=[1, 1], dtype=torch.float64)
    init_mono(m, V, [0, 1])
    np.testing.assert_allclose(m.W_dec[:, :3].detach().numpy(), np.stack([V, V]), atol=1e-12)
    np.testing.assert_allclose(m.W_enc.detach().numpy(), m.W_dec.transpose(1, 2).detach().numpy())
    assert not torch.allclose(m.W_dec[0, 3], m.W_dec[1, 3])  # leftover rows are seeded per SAE
    r1 = build_model("relu", 1, 5, 4, dtype=torch.float64)
    r2 = build_model("relu", 1, 5, 4, dtype=torch.float64)
    init_random(r1, [7])
    init_random(r2, [7])
    assert torch.equal(r1.W_dec, r2.W_dec)
    np.testing.assert_allclose(r1.W_dec.norm(dim=-1).detach().numpy(), 1.0)
    # exact init: atom {0,1} raw for relu (latent 1 on x = v0 + v1), unit-norm for topk
    for arch, scale in [("relu", 1.0), ("topk", 1 / math.sqrt(2))]:
        e = build_model(arch, 1, 5, 3, k=[1], dtype=torch.float64)
        init_from_atoms(e, V, [(0b011, 0b100)], [0])
        np.testing.assert_allclose(e.W_dec[0, 0].detach().numpy(), scale * (V[0] + V[1]), atol=1e-12)
        np.testing.assert_allclose(e.W_dec[0, 1].detach().numpy(), V[2], atol=1e-12)
        z = e.pre_activations(torch.tensor(V[0] + V[1])[None])
        assert float(z[0, 0, 0].detach()) == pytest.approx(1.0 / scale)
    with pytest.raises(InvalidArgument):
        init_from_atoms(build_model("relu", 1, 5, 1), V, [(1, 2)], [0])
