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


def topk_relu(z: Tensor, k: Tensor, k_range: tuple[int, int] | None = None) -> Tensor:
    """ReLU(TopK_{k_b}(z)) [B, batch, m] for pre-activations z [B, batch, m] and caps k [B].

    One ``topk`` over the latent axis, then the kept values (negative ones zeroed) are scattered into a zero
    tensor: no boolean masks over [B, batch, m]. The gradient flows to the kept entries only (ties are broken
    by ``torch.topk``, so exactly k_b entries per sample are candidates).
    """
    kmin, kmax = k_range if k_range is not None else (int(k.min()), int(k.max()))
    vals, idx = torch.topk(z, kmax, dim=-1, sorted=kmin != kmax)  # [B, batch, kmax]
    vals = torch.relu(vals)
    if kmin != kmax:  # per-SAE caps: drop the ranks beyond k_b
        keep = torch.arange(kmax, device=z.device)[None, None, :] < k[:, None, None]  # [B, 1, kmax]
        vals = vals * keep.to(vals.dtype)
    return torch.zeros_like(z).scatter(-1, idx, vals)


class TopKSAE(BatchedSAE):
    """Per-sample TopK activation."""

    arch: ClassVar[str] = "topk"
    saelens_architecture: ClassVar[str] = "topk"
    uses_k: ClassVar[bool] = True
    sparsity_name: ClassVar[str | None] = None
    apply_b_dec_to_input: ClassVar[bool] = True
    normalize_decoder: ClassVar[bool] = True

    def activation(self, z: Tensor, *, training: bool, weights: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        return topk_relu(z, self.k, self.k_range), {}
