"""Exact evaluator of trained SAEs against hand-computed SAEs (DESIGN §6); Monte Carlo fallback."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin
from sae_train.data import DGP
from sae_train.evaluate import evaluate, evaluate_exact, evaluate_mc, mcc
from sae_train.models import ARCHITECTURES, build_model

ARCHS = sorted(ARCHITECTURES)
S2 = 1 - 1 / math.sqrt(2)


def _set(model, b, W_dec, W_enc=None):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        model.W_dec[b] = torch.tensor(np.array(W_dec))
        model.W_enc[b] = torch.tensor(np.array(W_dec).T.copy() if W_enc is None else np.array(W_enc))


@pytest.mark.parametrize("arch", ARCHS)
def test_identity_sae_has_zero_distortion_and_rate_equal_expected_sparsity(arch: str) -> None:
    pmf = builtin("cooccur3")
    dgp = DGP.make(pmf, 5, seed=3)
    model = build_model(arch, 1, 5, 3, k=[3], dtype=torch.float64)
    _set(model, 0, dgp.V)
    with torch.no_grad():
        if arch == "jumprelu":
            model.log_threshold.fill_(math.log(0.5))
        if arch == "batchtopk":
            model.threshold.fill_(0.5)
    (m,) = evaluate_exact(model, dgp)
    assert m.exact and m.rate_ci is None
    assert m.distortion == pytest.approx(0.0, abs=1e-12)
    assert m.rate == pytest.approx(pmf.expected_sparsity(), abs=1e-12)
    assert m.poly_dec == pytest.approx(0.0, abs=1e-12) and m.poly_enc == pytest.approx(0.0, abs=1e-12)
    assert m.dead == 0
    assert m.mcc == pytest.approx(1.0)


def test_hedged_topk_sae_matches_hand_computation() -> None:
    """TopK, k = 1, rows (v0+v1)/√2 and v2, tied encoder, zero biases, on cooccur3.

    Per event (latent values, error): {} nothing, 0; {0},{1}: latent 0 at 1/√2 → x̂ = (v0+v1)/2, error ½;
    {0,1}: latent 0 at √2, error 0; {2}: error 0; {0,2},{1,2}: latent 1 wins (1 > 1/√2), error 1;
    {0,1,2}: latent 0 wins (√2 > 1), error 1.
    """
    pmf = builtin("cooccur3")
    dgp = DGP.make(pmf, 4, seed=0)
    V = dgp.V
    model = build_model("topk", 1, 4, 2, k=[1], dtype=torch.float64)
    _set(model, 0, np.stack([(V[0] + V[1]) / math.sqrt(2), V[2]]))
    (m,) = evaluate_exact(model, dgp)
    p = {e: pmf.prob(e) for e in pmf.events}
    d_hand = 0.5 * (p[0b001] + p[0b010]) + p[0b101] + p[0b110] + p[0b111]
    assert m.distortion == pytest.approx(d_hand, abs=1e-12)
    assert m.distortion == pytest.approx(0.225, abs=1e-12)
    assert m.rate == pytest.approx(1 - p[0], abs=1e-12)
    assert m.poly_dec == pytest.approx(S2 / 2) and m.poly_enc == pytest.approx(S2 / 2)
    assert m.poly_joint == pytest.approx(S2 / 2)
    assert m.mcc == pytest.approx((1 + 1 / math.sqrt(2)) / 3)
    assert m.dead == 0


def test_dead_latents_and_live_polysemanticity() -> None:
    pmf = builtin("cooccur3")
    dgp = DGP.make(pmf, 3, seed=0)
    V = dgp.V
    model = build_model("relu", 1, 3, 3, dtype=torch.float64, zero_bias=True)
    # latent 2: a polysemantic row whose encoder points away from every support point → never fires
    W_dec = np.stack([V[0], V[1], (V[0] + V[2]) / math.sqrt(2)])
    W_enc = np.stack([V[0], V[1], -(V[0] + V[1] + V[2])]).T
    _set(model, 0, W_dec, W_enc)
    (m,) = evaluate_exact(model, dgp)
    assert m.dead == 1
    assert m.poly_dec == pytest.approx(S2 / 3)  # all nonzero rows
    assert m.poly_dec_live == pytest.approx(0.0, abs=1e-12)  # live rows only
    # D: concept 2 is never reconstructed
    assert m.distortion == pytest.approx(pmf.marginals()[2], abs=1e-12)


def test_batched_evaluation_equals_one_by_one() -> None:
    dgp = DGP.make(builtin("pairs6"), 7, seed=1)
    model = build_model("topk", 3, 7, 5, k=[1, 2, 3], dtype=torch.float64)
    from sae_train.models import init_random

    init_random(model, [0, 1, 2])
    ms = evaluate_exact(model, dgp)
    for b in range(3):
        one = build_model("topk", 1, 7, 5, k=[b + 1], dtype=torch.float64)
        one.load_sae_state(0, model.state_for_sae(b))
        (m1,) = evaluate_exact(one, dgp)
        assert m1.rate == pytest.approx(ms[b].rate) and m1.distortion == pytest.approx(ms[b].distortion)
        assert m1.mcc == pytest.approx(ms[b].mcc)


def test_monte_carlo_interval_covers_exact_value() -> None:
    dgp = DGP.make(builtin("cooccur3"), 4, seed=0)
    model = build_model("topk", 2, 4, 3, k=[1, 2], dtype=torch.float64)
    from sae_train.models import init_random

    init_random(model, [5, 6])
    exact = evaluate_exact(model, dgp)
    mc = evaluate_mc(model, dgp, samples=20000, seed=1)
    for e, m in zip(exact, mc, strict=True):
        assert not m.exact and m.samples == 20000
        assert m.rate_ci is not None and m.distortion_ci is not None and m.distortion_ci > 0
        assert abs(m.rate - e.rate) <= 2 * m.rate_ci + 1e-12
        assert abs(m.distortion - e.distortion) <= 2 * m.distortion_ci
        assert m.poly_dec == e.poly_dec and m.mcc == e.mcc  # weight metrics need no sampling


def test_noisy_dgp_uses_monte_carlo_and_exact_refuses() -> None:
    dgp = DGP.make(builtin("cooccur3"), 4, noise_std=0.1, seed=0)
    model = build_model("relu", 1, 4, 3)
    (m,) = evaluate(model, dgp, samples=1000)
    assert not m.exact
    with pytest.raises(InvalidArgument):
        evaluate_exact(model, dgp)


def test_mcc_definition() -> None:
    V = np.eye(3)
    assert mcc(np.eye(3)[[2, 0, 1]], V) == pytest.approx(1.0)  # permutation invariant
    assert mcc(-np.eye(3), V) == pytest.approx(1.0)  # sign invariant
    assert mcc(np.eye(3)[:2], V) == pytest.approx(2 / 3)  # m < n: an unmatched concept counts 0
    # one-to-one: two copies of v0 cannot both be matched
    assert mcc(np.stack([V[0], V[0], V[0]]), V) == pytest.approx(1 / 3)
    assert mcc(np.zeros((3, 3)), V) == 0.0
