"""Weighted rows (issue 16): a compressed batch is the full batch, the expected objective is the mean of the
sampled one, and the TopK activation keeps exactly the k largest positive pre-activations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin, independent
from sae_train.data import DGP, Sampler, support_factors, support_objective
from sae_train.evaluate import evaluate_exact
from sae_train.models.topk import topk_relu
from sae_train.models.topk_expected import TopKExpectedObjective
from sae_train.train import TrainConfig, make_model, train

PER_SAMPLE = ("topk", "relu", "jumprelu")


def _dgp() -> DGP:
    return DGP.make(builtin("cooccur3"), 4, seed=0)


def _model(arch: str, dgp: DGP, seed: int = 0):  # type: ignore[no-untyped-def]
    cfg = TrainConfig(arch=arch, width=3, k=(2,), steps=1, seeds=(seed, seed + 1), sparsity=(0.05,),
                      dtype="float64", device="cpu")
    model = make_model(dgp, cfg, cfg.specs())
    with torch.no_grad():  # move off the tied init so that biases and thresholds matter
        g = torch.Generator().manual_seed(seed)
        for p in model.trainable().values():
            p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return model


def _grads(model, x: torch.Tensor, w: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[no-untyped-def]
    """Total loss [B] and the flattened gradient of Σ_b loss_b."""
    model.zero_grad(set_to_none=True)
    parts = model.loss(x, model(x, training=True, weights=w), w)
    parts.total.sum().backward()
    g = torch.cat([p.grad.flatten() for p in model.trainable().values()])
    return parts.total.detach(), g


@pytest.mark.parametrize("arch", PER_SAMPLE)
def test_distinct_rows_weighted_by_counts_are_the_full_batch(arch: str) -> None:
    dgp = _dgp()
    model = _model(arch, dgp)
    x = Sampler(dgp, 7, dtype=torch.float64).next(200)  # dense reference: every row, plain mean
    xs, w = Sampler(dgp, 7, dtype=torch.float64).next_weighted(200)  # same stream, compressed
    assert xs.shape[0] < 200 and float(w.sum()) == pytest.approx(1.0, abs=1e-12)
    loss_d, g_d = _grads(model, x, None)
    loss_c, g_c = _grads(model, xs, w)
    torch.testing.assert_close(loss_c, loss_d, atol=1e-12, rtol=0)
    torch.testing.assert_close(g_c, g_d, atol=1e-12, rtol=0)


@pytest.mark.parametrize("arch", PER_SAMPLE)
def test_expected_gradient_is_the_mean_of_sampled_gradients(arch: str) -> None:
    """Monte Carlo: the mean of M independent batch gradients is within 5 standard errors of the π-weighted
    gradient in every coordinate, and a wrongly weighted objective (uniform over events) is not."""
    dgp = _dgp()
    model = _model(arch, dgp)
    X, pi = support_objective(dgp, dtype=torch.float64)
    _, g_exp = _grads(model, X, pi)
    _, g_uniform = _grads(model, X, torch.full_like(pi, 1.0 / len(pi)))
    sampler = Sampler(dgp, 123, dtype=torch.float64)
    gs = torch.stack([_grads(model, sampler.next(32), None)[1] for _ in range(250)])  # [M, P]
    mean, se = gs.mean(0), gs.std(0) / np.sqrt(gs.shape[0])
    tol = 5 * se + 1e-9
    assert bool(((mean - g_exp).abs() <= tol).all()), float(((mean - g_exp).abs() / tol).max())
    assert not bool(((mean - g_uniform).abs() <= tol).all())
    if arch == "topk":  # the closed form (what training uses) passes the same check
        model.zero_grad(set_to_none=True)
        TopKExpectedObjective(model, *support_factors(dgp, dtype=torch.float64)).loss_and_grad(model)
        g_closed = torch.cat([p.grad.flatten() for p in model.trainable().values()])
        assert bool(((mean - g_closed).abs() <= tol).all()), float(((mean - g_closed).abs() / tol).max())


CLOSED_FORM_CASES = [  # (pmf, d, width, k values, zero_bias): n < d, n = d, n > d (non-orthogonal), k = m
    (builtin("cooccur3"), 4, 3, (1, 2), False),
    (independent([0.3, 0.5, 0.2, 0.4]), 4, 5, (2, 5), False),
    (independent([0.3, 0.2, 0.25, 0.4, 0.1]), 3, 4, (1, 3), False),
    (builtin("cooccur3"), 5, 4, (2,), True),
]


@pytest.mark.parametrize("case", range(len(CLOSED_FORM_CASES)))
@pytest.mark.parametrize("chunk", [1, None])
def test_closed_form_expected_loss_and_gradient_equal_autograd(case: int, chunk: int | None) -> None:
    """The closed-form TopK objective gives the π-weighted loss over the support rows and its autograd gradient
    (float64, random weights and biases, per-SAE k, SAEs processed one at a time or in one chunk)."""
    pmf, d, width, ks, zero_bias = CLOSED_FORM_CASES[case]
    dgp = DGP.make(pmf, d, seed=case)
    cfg = TrainConfig(arch="topk", width=width, k=ks, steps=1, seeds=(0, 1, 2), dtype="float64", device="cpu",
                      zero_bias=zero_bias)
    model = make_model(dgp, cfg, cfg.specs())
    with torch.no_grad():
        g = torch.Generator().manual_seed(case)
        for p in model.trainable().values():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    X, pi = support_objective(dgp, dtype=torch.float64)
    loss_ref, g_ref = _grads(model, X, pi)
    model.zero_grad(set_to_none=True)
    obj = TopKExpectedObjective(model, *support_factors(dgp, dtype=torch.float64), chunk=chunk)
    loss = obj.loss_and_grad(model)
    assert set(model.trainable()) == ({"W_enc", "W_dec"} if zero_bias else {"W_enc", "b_enc", "W_dec", "b_dec"})
    g_closed = torch.cat([p.grad.flatten() for p in model.trainable().values()])
    torch.testing.assert_close(loss, loss_ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(g_closed, g_ref, atol=1e-10, rtol=0)
    assert float(g_ref.abs().max()) > 1e-3  # a nontrivial gradient was compared
    assert obj.mean_sq_norm == pytest.approx(float(pi @ (X * X).sum(-1)), abs=1e-12)


def test_closed_form_topk_selection_keeps_k_latents_and_breaks_ties_by_index() -> None:
    dgp = DGP.make(builtin("cooccur3"), 4, seed=0)
    cfg = TrainConfig(arch="topk", width=4, k=(2,), steps=1, seeds=(0,), dtype="float64", device="cpu")
    obj = TopKExpectedObjective(make_model(dgp, cfg, cfg.specs()), *support_factors(dgp, dtype=torch.float64))
    rows = [[3.0, 1.0, 3.0, 3.0], [1.0, 2.0, 2.0, 0.5], [0.5, -1.0, 0.0, -2.0], [4.0, 4.0, 4.0, 4.0]]
    want = [[1, 0, 1, 0], [0, 1, 1, 0], [1, 0, 0, 0], [1, 1, 0, 0]]  # k = 2; ReLU drops z ≤ 0
    z = torch.tensor(rows, dtype=torch.float64).t().reshape(4, 1, 4).contiguous()  # [m, c = 1, N = 4]
    mask = torch.empty_like(z)
    obj._select(z, torch.tensor([2]), mask)
    assert mask[:, 0, :].t().tolist() == want


def _topk_reference(z: np.ndarray, k: list[int]) -> np.ndarray:
    out = np.zeros_like(z)
    for b in range(z.shape[0]):
        for r in range(z.shape[1]):
            order = sorted(range(z.shape[2]), key=lambda j: -z[b, r, j])[: k[b]]
            for j in order:
                out[b, r, j] = max(z[b, r, j], 0.0)
    return out


@pytest.mark.parametrize("ks", [[2, 2, 2], [1, 3, 2]])
def test_topk_relu_matches_a_sort_per_row(ks: list[int]) -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 5, 6, generator=g, dtype=torch.float64)
    k = torch.tensor(ks)
    f = topk_relu(z, k)
    np.testing.assert_array_equal(f.numpy(), _topk_reference(z.numpy(), ks))
    # ties: never more than k_b nonzero latents per sample
    tied = torch.ones(3, 4, 6, dtype=torch.float64)
    assert ((topk_relu(tied, k) != 0).sum(-1) == k[:, None]).all()


def test_expected_objective_trains_without_sampling_noise() -> None:
    dgp = _dgp()
    base = dict(arch="topk", width=3, k=(2,), steps=150, seeds=(0, 1), device="cpu", objective="expected")
    a = train(dgp, TrainConfig(data_seed=0, **base))  # type: ignore[arg-type]
    b = train(dgp, TrainConfig(data_seed=99, batch_size=7, **base))  # type: ignore[arg-type]
    torch.testing.assert_close(a.model.W_dec, b.model.W_dec, atol=0, rtol=0)  # no data stream involved
    before = evaluate_exact(make_model(dgp, a.config, a.specs), dgp)
    for m0, m1 in zip(before, a.metrics, strict=True):
        assert m1.distortion < 0.5 * m0.distortion


def test_expected_objective_needs_a_per_sample_architecture_and_an_exact_dgp() -> None:
    with pytest.raises(InvalidArgument, match="batchtopk"):
        TrainConfig(arch="batchtopk", width=3, k=(1,), steps=1, objective="expected")
    with pytest.raises(InvalidArgument, match="objective"):
        TrainConfig(arch="topk", width=3, k=(1,), steps=1, objective="exact")
    noisy = DGP.make(builtin("cooccur3"), 4, noise_std=0.1, seed=0)
    with pytest.raises(InvalidArgument, match="exact DGP"):
        train(noisy, TrainConfig(arch="topk", width=3, k=(1,), steps=1, objective="expected", device="cpu"))


def test_threads_are_set_for_training_and_restored() -> None:
    with pytest.raises(InvalidArgument, match="threads"):
        TrainConfig(arch="topk", width=3, k=(1,), steps=1, threads=-1)
    before = torch.get_num_threads()
    seen: list[int] = []
    train(_dgp(), TrainConfig(arch="topk", width=3, k=(1,), steps=2, threads=1, device="cpu"),
          progress=lambda s: seen.append(torch.get_num_threads()))
    assert seen == [1, 1]
    assert torch.get_num_threads() == before


@pytest.mark.gpu
@pytest.mark.parametrize("arch", PER_SAMPLE)
def test_expected_objective_on_cuda_matches_cpu(arch: str) -> None:
    """No sample stream is involved, so CUDA and CPU runs of the expected objective agree weight by weight."""
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    dgp = _dgp()
    base = dict(arch=arch, width=3, k=(2,), steps=30, seeds=(0, 1), dtype="float64", objective="expected")
    cpu = train(dgp, TrainConfig(device="cpu", **base))  # type: ignore[arg-type]
    gpu = train(dgp, TrainConfig(device="cuda", **base))  # type: ignore[arg-type]
    assert gpu.device.startswith("cuda")
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        torch.testing.assert_close(getattr(gpu.model, name), getattr(cpu.model, name), atol=1e-6, rtol=0)
