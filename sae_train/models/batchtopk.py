"""BatchTopK SAE (Bussmann, Leask, Nanda 2024, "BatchTopK Sparse Autoencoders").

Training: f = BatchTopK_{k·batch}(ReLU(z)) with z = (x − b_dec) W_enc + b_enc — over the whole batch
of one SAE keep the k·batch largest activations (so k is an *average* L0 per sample), zero the rest;
loss = ||x − x̂||². Inference: a single threshold θ per SAE, f = ReLU(z)·1[z > θ] (a JumpReLU with
equal thresholds). θ is estimated during training as an exponential moving average (decay
``threshold_beta``) of the smallest activation kept by BatchTopK in each batch; the first training
batch sets it. Before any training step θ = 0 (inference is then a plain ReLU). Decoder rows are kept
at unit norm (as for TopK).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from sae_train.models.base import BatchedSAE, SAEOutput


class BatchTopKSAE(BatchedSAE):
    """Batch-level TopK in training, a learned global threshold at inference."""

    arch: ClassVar[str] = "batchtopk"
    saelens_architecture: ClassVar[str] = "jumprelu"
    uses_k: ClassVar[bool] = True
    sparsity_name: ClassVar[str | None] = None
    apply_b_dec_to_input: ClassVar[bool] = True
    normalize_decoder: ClassVar[bool] = True
    per_sample: ClassVar[bool] = False
    threshold_beta: float = 0.99

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.register_buffer("threshold", torch.zeros(self.B, dtype=self.W_enc.dtype, device=self.W_enc.device))
        self.register_buffer("threshold_set", torch.zeros(self.B, dtype=torch.bool, device=self.W_enc.device))

    def activation(self, z: Tensor, *, training: bool, weights: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        if training and weights is not None:
            raise ValueError("BatchTopK trains on whole batches: rows cannot carry weights")
        a = torch.relu(z)
        if not training:
            return z.masked_fill(~((z > self.threshold[:, None, None]) & (z > 0)), 0.0), {}
        B, batch, m = a.shape
        flat = a.reshape(B, batch * m)
        kk = self.k * batch  # [B]
        kmax = int(kk.max())
        kmax = min(kmax, batch * m)
        idx = torch.topk(flat, kmax, dim=-1, sorted=True).indices
        keep = torch.arange(kmax, device=z.device)[None, :] < kk[:, None]
        mask = torch.zeros_like(flat, dtype=torch.bool)
        mask.scatter_(-1, idx, keep.expand_as(idx))
        return (flat * mask).reshape(B, batch, m), {}

    @torch.no_grad()
    def update_statistics(self, out: SAEOutput, active: Tensor) -> None:
        f = out.latents.reshape(self.B, -1)
        pos = f > 0
        big = torch.finfo(f.dtype).max
        min_act = torch.where(pos, f, torch.full_like(f, big)).min(-1).values  # [B]
        have = pos.any(-1) & active
        ema = torch.where(
            self.threshold_set, self.threshold_beta * self.threshold + (1 - self.threshold_beta) * min_act, min_act
        )
        self.threshold.copy_(torch.where(have, ema, self.threshold))
        self.threshold_set |= have

    def inference_threshold(self) -> Tensor:
        return self.threshold[:, None].expand(self.B, self.m)

    def load_sae_state(self, b: int, state: dict[str, Tensor]) -> None:
        super().load_sae_state(b, state)
        if "threshold" in state:
            with torch.no_grad():
                self.threshold[b] = state["threshold"].reshape(-1)[0]
                self.threshold_set[b] = True
