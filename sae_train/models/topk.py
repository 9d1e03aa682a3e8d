"""TopK SAE (Gao et al. 2024, "Scaling and evaluating sparse autoencoders").

    z = (x − b_dec) W_enc + b_enc,    f = ReLU(TopK_k(z)),    x̂ = f W_dec + b_dec,
    loss = ||x − x̂||².

TopK_k keeps the k largest pre-activations of each sample and zeroes the rest; k may differ per SAE
(buffer ``k`` [B]). Decoder rows are kept at unit norm after every step, with the decoder gradient
projected onto the rows' tangent space first (both as in the paper). The AuxK dead-latent loss of the
paper is not implemented.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from sae_train.models.base import BatchedSAE


def topk_mask(z: Tensor, k: Tensor) -> Tensor:
    """Boolean mask [B, batch, m] of the k_b largest entries of each sample of SAE b (k [B])."""
    kmax = int(k.max())
    idx = torch.topk(z, kmax, dim=-1, sorted=True).indices  # [B, batch, kmax]
    keep = torch.arange(kmax, device=z.device)[None, None, :] < k[:, None, None]  # [B, 1, kmax]
    mask = torch.zeros_like(z, dtype=torch.bool)
    mask.scatter_(-1, idx, keep.expand_as(idx))
    return mask


class TopKSAE(BatchedSAE):
    """Per-sample TopK activation."""

    arch: ClassVar[str] = "topk"
    saelens_architecture: ClassVar[str] = "topk"
    uses_k: ClassVar[bool] = True
    sparsity_name: ClassVar[str | None] = None
    apply_b_dec_to_input: ClassVar[bool] = True
    normalize_decoder: ClassVar[bool] = True

    def activation(self, z: Tensor, *, training: bool) -> tuple[Tensor, dict[str, Tensor]]:
        keep = topk_mask(z, self.k) & (z > 0)  # ReLU(TopK(z)) in one masked pass
        return z.masked_fill(~keep, 0.0), {}
