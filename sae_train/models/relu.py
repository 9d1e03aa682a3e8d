"""ReLU SAE with an L1 penalty weighted by decoder norms (Anthropic, "Circuits Updates — April 2024").

    z = x W_enc + b_enc,    f = ReLU(z),    x̂ = f W_dec + b_dec,
    loss = ||x − x̂||² + λ Σ_j f_j ||W_dec,j||.

The decoder is *not* renormalised (its norm is inside the penalty); λ is the per-SAE ``l1`` coefficient.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from sae_train.models.base import BatchedSAE, row_mean


class ReLUSAE(BatchedSAE):
    """ReLU activation, decoder-norm-weighted L1 penalty."""

    arch: ClassVar[str] = "relu"
    saelens_architecture: ClassVar[str] = "standard"
    uses_k: ClassVar[bool] = False
    sparsity_name: ClassVar[str | None] = "l1"
    apply_b_dec_to_input: ClassVar[bool] = False
    normalize_decoder: ClassVar[bool] = False

    def activation(self, z: Tensor, *, training: bool, weights: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        f = torch.relu(z)
        norms = self.W_dec.norm(dim=-1)  # [B, m]
        l1 = row_mean(torch.matmul(f, norms[:, :, None]).squeeze(-1), weights)  # [B]
        return f, {"l1": l1}
