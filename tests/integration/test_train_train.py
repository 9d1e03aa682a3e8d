"""Batched training (DESIGN §6): every architecture learns, batched = one-at-a-time loop, divergence is
contained, configs are validated."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin
from sae_train.data import DGP
from sae_train.evaluate import evaluate_exact
from sae_train.models import ARCHITECTURES
from sae_train.train import TrainConfig, make_model, resolve_device, train, train_loop_reference

ARCHS = sorted(ARCHITECTURES)
PARAMS = ("W_enc", "b_enc", "W_dec", "b_dec")


def _dgp() -> DGP:
    return DGP.make(builtin("cooccur3"), 4, seed=0)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_reduces_distortion(arch: str) -> None:
    dgp = _dgp()
    cfg = TrainConfig(arch=arch, width=4, k=(2,), steps=250, seeds=(0, 1), device="cpu", batch_size=128)
    before = evaluate_exact(make_model(dgp, cfg, cfg.specs()), dgp)
    res = train(dgp, cfg)
    assert not any(res.diverged)
    for b, m in enumerate(res.metrics):
        assert m.exact
        assert m.distortion < 0.5 * before[b].distortion, (arch, b, before[b].distortion, m.distortion)


@pytest.mark.parametrize("arch", ARCHS)
def test_batched_equals_one_at_a_time_loop(arch: str) -> None:
    """Same seeds → same weights. float64, so rounding differences between the batched and single-SAE
    kernels stay at the 1e-12 level (in float32, Adam turns gradients that are mathematically zero but
    differ by rounding into different O(lr) steps, so only ~1e-4 agreement can be expected there)."""
    dgp = _dgp()
    cfg = TrainConfig(arch=arch, width=3, k=(1, 2), lr=(1e-2, 3e-3), sparsity=(0.02,), steps=60, seeds=(0, 1),
                      device="cpu", batch_size=64, dtype="float64")
    res = train(dgp, cfg)
    ref = train_loop_reference(dgp, cfg)
    assert len(ref) == len(res.specs) == 8
    for b, (model, stopped) in enumerate(ref):
        assert stopped is None and not res.diverged[b]
        for name in PARAMS:
            torch.testing.assert_close(getattr(res.model, name)[b], getattr(model, name)[0], atol=1e-7, rtol=0)
        if arch == "jumprelu":
            torch.testing.assert_close(res.model.log_threshold[b], model.log_threshold[0], atol=1e-7, rtol=0)
        if arch == "batchtopk":
            torch.testing.assert_close(res.model.threshold[b], model.threshold[0], atol=1e-7, rtol=0)


@pytest.mark.parametrize("d", [4, 2])  # n = 3 concepts orthonormal in d = 4, or interfering in d = 2
def test_closed_form_expected_training_equals_the_one_at_a_time_loop(d: int) -> None:
    """``objective='expected'`` trains TopK with the closed-form loss and gradient; the single-SAE reference loop
    runs autograd on the π-weighted support rows. Same weights (float64), a diverging SAE stopped at the same
    step and the others unaffected."""
    dgp = DGP.make(builtin("cooccur3"), d, seed=0)
    cfg = TrainConfig(arch="topk", width=3, k=(1, 2), lr=(1e-2, 1e30), steps=60, seeds=(0, 1), device="cpu",
                      dtype="float64", objective="expected")
    res = train(dgp, cfg)
    ref = train_loop_reference(dgp, cfg)
    autograd = train(dgp, dataclasses.replace(cfg, closed_form=False))
    assert res.diverged == autograd.diverged
    assert res.diverged_step == autograd.diverged_step
    assert any(res.diverged) and not all(res.diverged)
    for b, (model, stopped) in enumerate(ref):
        assert (stopped is not None) == res.diverged[b]
        if res.diverged[b]:
            assert stopped == res.diverged_step[b]
            continue
        for name in PARAMS:
            torch.testing.assert_close(getattr(res.model, name)[b], getattr(model, name)[0], atol=1e-7, rtol=0)
            torch.testing.assert_close(getattr(res.model, name)[b], getattr(autograd.model, name)[b], atol=1e-7,
                                       rtol=0)


def test_diverging_sae_is_stopped_without_harming_the_others() -> None:
    dgp = _dgp()
    common = dict(arch="relu", width=3, steps=40, seeds=(0,), device="cpu", dtype="float64", batch_size=64)
    res = train(dgp, TrainConfig(lr=(1e-2, 1e30), **common))  # type: ignore[arg-type]
    assert res.diverged == (False, True)
    assert res.diverged_step[1] is not None and res.diverged_step[1] <= 2
    alone = train(dgp, TrainConfig(lr=(1e-2,), **common))  # type: ignore[arg-type]
    for name in PARAMS:
        torch.testing.assert_close(getattr(res.model, name)[0], getattr(alone.model, name)[0], atol=1e-10, rtol=0)
    assert math.isfinite(res.metrics[0].distortion)
    ref = train_loop_reference(dgp, TrainConfig(lr=(1e-2, 1e30), **common))  # type: ignore[arg-type]
    assert ref[1][1] == res.diverged_step[1]


def test_zero_bias_and_mono_init() -> None:
    dgp = _dgp()
    cfg = TrainConfig(arch="topk", width=3, k=(1,), steps=30, zero_bias=True, init="mono", device="cpu")
    init = evaluate_exact(make_model(dgp, cfg, cfg.specs()), dgp)
    assert init[0].poly_dec == pytest.approx(0.0, abs=1e-6) and init[0].mcc == pytest.approx(1.0, abs=1e-6)
    res = train(dgp, cfg)
    assert torch.all(res.model.b_enc == 0) and torch.all(res.model.b_dec == 0)


def test_exact_init_from_given_atoms() -> None:
    dgp = _dgp()
    cfg = TrainConfig(arch="topk", width=2, k=(1,), steps=1, init="exact", device="cpu", lr=(1e-12,))
    res = train(dgp, cfg, exact_atoms={1: (0b011, 0b100)})
    V = dgp.V
    W = res.model.W_dec[0].detach().numpy()
    np.testing.assert_allclose(W[0], (V[0] + V[1]) / math.sqrt(2), atol=1e-5)
    np.testing.assert_allclose(W[1], V[2], atol=1e-5)
    with pytest.raises(InvalidArgument):
        train(dgp, cfg)  # exact init without atoms


def test_decoder_rows_stay_unit_norm_for_normalised_architectures() -> None:
    dgp = _dgp()
    for arch in ("topk", "batchtopk", "jumprelu"):
        res = train(dgp, TrainConfig(arch=arch, width=3, k=(1,), steps=20, device="cpu"))
        np.testing.assert_allclose(res.model.W_dec.norm(dim=-1).detach().numpy(), 1.0, atol=1e-5)


def test_history_is_logged_every_log_every_steps() -> None:
    dgp = _dgp()
    res = train(dgp, TrainConfig(arch="relu", width=3, steps=20, log_every=10, seeds=(0, 1), device="cpu"))
    steps = sorted({r["step"] for r in res.history})
    assert steps == [0, 10, 20]
    assert len(res.history) == 3 * 2
    assert {"rate", "distortion", "poly_dec", "poly_enc", "poly_joint", "dead", "mcc"} <= set(res.history[0])


def test_monte_carlo_metrics_when_dgp_is_noisy() -> None:
    dgp = DGP.make(builtin("cooccur3"), 4, noise_std=0.05, magnitudes="uniform", seed=0)
    res = train(dgp, TrainConfig(arch="topk", width=3, k=(1,), steps=20, device="cpu", eval_samples=2000))
    assert not res.metrics[0].exact and res.metrics[0].distortion_ci is not None


def test_specs_are_the_product_of_hyper_parameters() -> None:
    cfg = TrainConfig(arch="relu", width=4, steps=1, k=(1, 2), lr=(1e-3, 1e-2), sparsity=(0.1, 0.2, 0.3), seeds=(0, 1))
    specs = cfg.specs()
    assert len(specs) == 2 * 2 * 3 * 2
    assert len({(s.k, s.lr, s.sparsity, s.seed) for s in specs}) == len(specs)
    assert [s.index for s in specs] == list(range(len(specs)))
    topk = TrainConfig(arch="topk", width=4, steps=1, k=(2,), sparsity=(0.5,)).specs()
    assert all(s.sparsity == 0.0 for s in topk)  # no sparsity term in the TopK family


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arch": "gated"},
        {"width": 0},
        {"k": (0,)},
        {"k": (5,)},
        {"steps": 0},
        {"lr": (0.0,)},
        {"lr": (-1e-3,)},
        {"lr": (float("nan"),)},
        {"sparsity": (-0.1,)},
        {"batch_size": 0},
        {"init": "zeros"},
        {"device": "tpu"},
        {"dtype": "float16"},
        {"seeds": ()},
        {"arch": "topk", "k": ()},
        {"arch": "relu", "k": (), "init": "exact"},
    ],
)
def test_bad_configs_are_invalid(kwargs) -> None:  # type: ignore[no-untyped-def]
    base = {"arch": "topk", "width": 4, "k": (2,), "steps": 10}
    base.update(kwargs)
    with pytest.raises(InvalidArgument):
        TrainConfig(**base)


def test_cuda_without_cuda_is_invalid(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidArgument, match="CUDA"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.gpu
def test_cuda_run_matches_cpu_run() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    dgp = _dgp()
    base = dict(arch="relu", width=3, steps=30, seeds=(0, 1), dtype="float64")
    cpu = train(dgp, TrainConfig(device="cpu", **base))  # type: ignore[arg-type]
    gpu = train(dgp, TrainConfig(device="cuda", **base))  # type: ignore[arg-type]
    assert gpu.device.startswith("cuda")
    # different sample streams (device generators), so compare the outcome, not the weights
    for a, b in zip(cpu.metrics, gpu.metrics, strict=True):
        assert abs(a.distortion - b.distortion) < 0.05
