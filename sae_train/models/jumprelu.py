"""JumpReLU SAE with a straight-through L0 penalty (Rajamanoharan et al. 2024, "Jumping Ahead").

    z = x W_enc + b_enc,    f = JumpReLU_θ(z) = z·H(z − θ),    x̂ = f W_dec + b_dec,
    loss = ||x − x̂||² + λ Σ_j H(z_j − θ_j),        θ = exp(log_threshold) > 0.

H has zero derivative almost everywhere, so θ is trained with the paper's pseudo-derivatives, using a
rectangle kernel K(u) = 1[|u| ≤ ½] of bandwidth ε:

    ∂/∂θ JumpReLU_θ(z) := −(θ/ε)·K((z − θ)/ε),     ∂/∂θ H(z − θ) := −(1/ε)·K((z − θ)/ε),

while ∂/∂z JumpReLU_θ(z) = H(z − θ) and no gradient flows from the L0 term to z. The parameter is
log θ (θ = exp(log θ)), initialised at log(``threshold_init``). Decoder rows are kept at unit norm (L0
is invariant to the decoder scale; fixing it removes that degeneracy).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from sae_train.models.base import BatchedSAE, row_mean


def _rectangle(u: Tensor) -> Tensor:
    return (u.abs() <= 0.5).to(u.dtype)


class _JumpReLUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, z: Tensor, theta: Tensor, eps: float) -> Tensor:  # theta [B, 1, m]
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return z * (z > theta).to(z.dtype)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, Tensor, None]:
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        gz = g * (z > theta).to(z.dtype)
        gt = (-(theta / eps) * _rectangle((z - theta) / eps) * g).sum(1, keepdim=True)
        return gz, gt, None


class _StepFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, z: Tensor, theta: Tensor, eps: float) -> Tensor:
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return (z > theta).to(z.dtype)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, Tensor, None]:
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        gt = (-(1.0 / eps) * _rectangle((z - theta) / eps) * g).sum(1, keepdim=True)
        return torch.zeros_like(z), gt, None


class JumpReLUSAE(BatchedSAE):
    """JumpReLU activation with learned per-latent thresholds."""

    arch: ClassVar[str] = "jumprelu"
    saelens_architecture: ClassVar[str] = "jumprelu"
    uses_k: ClassVar[bool] = False
    sparsity_name: ClassVar[str | None] = "l0"
    apply_b_dec_to_input: ClassVar[bool] = False
    normalize_decoder: ClassVar[bool] = True

    def __init__(self, *args, bandwidth: float = 1e-3, threshold_init: float = 1e-3, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.bandwidth = float(bandwidth)
        init = torch.full((self.B, self.m), float(threshold_init), dtype=self.W_enc.dtype, device=self.W_enc.device)
        self.log_threshold = nn.Parameter(init.log())  # [B, m]

    def activation(self, z: Tensor, *, training: bool, weights: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        theta = self.log_threshold.exp()[:, None, :]  # [B, 1, m]
        f = _JumpReLUFn.apply(z, theta, self.bandwidth)
        l0 = row_mean(_StepFn.apply(z, theta, self.bandwidth).sum(-1), weights)  # [B]
        return f, {"l0": l0}

    def inference_threshold(self) -> Tensor:
        return self.log_threshold.exp()

    def load_sae_state(self, b: int, state: dict[str, Tensor]) -> None:
        super().load_sae_state(b, state)
        with torch.no_grad():
            self.log_threshold[b].copy_(state["threshold"].log())
