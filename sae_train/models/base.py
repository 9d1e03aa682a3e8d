"""The batched SAE interface shared by every architecture (DESIGN §6).

A :class:`BatchedSAE` holds B independent SAEs of width m on inputs of dimension d, stacked along a
leading axis:

    W_enc [B, d, m],  b_enc [B, m],  W_dec [B, m, d],  b_dec [B, d]

(SAELens layout per SAE: ``W_enc`` [d, m], ``W_dec`` [m, d]). Per-SAE hyper-parameters live in
buffers along the same axis: ``k`` [B] (TopK family) and ``sparsity_coef`` [B] (L1 / L0 coefficient).
Every operation acts on each SAE separately, so the gradient of Σ_b loss_b with respect to SAE b's
weights is the gradient of loss_b alone: training B SAEs at once equals training them one by one.

Conventions for all architectures: pre-activations z = (x − s·b_dec) W_enc + b_enc with s = 1 when
``apply_b_dec_to_input`` (TopK family, as in Gao et al.) else 0; reconstruction x̂ = f W_dec + b_dec;
the reconstruction loss is the squared error summed over d and averaged over the batch, so it
estimates D = E||x − x̂||².

Row weights: ``forward``/``loss`` accept ``weights`` [batch] (non-negative, summing to 1) that replace the
uniform batch mean by a weighted one. For an architecture whose loss is a mean of per-sample terms
(``per_sample``), a batch of samples drawn from a finite support gives the same loss and gradient as its
distinct rows weighted by their counts / batch, and the support points weighted by π give the exact expected
loss (``--objective expected``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class SAEOutput:
    """One forward pass of B SAEs on a batch."""

    latents: Tensor
    """f [B, batch, m] (zero where a latent is inactive)."""
    reconstruction: Tensor
    """x̂ [B, batch, d]."""
    pre_acts: Tensor
    """z [B, batch, m] before the activation function."""
    aux: dict[str, Tensor] = field(default_factory=dict)
    """Auxiliary loss terms per SAE [B] *before* their coefficients (``l1``: Σ_j f_j ||W_dec,j|| for
    ReLU; ``l0``: Σ_j H(z_j − θ_j) with a straight-through gradient for JumpReLU), batch means."""


@dataclass(frozen=True)
class LossParts:
    """Per-SAE losses [B]."""

    total: Tensor
    """mse + coefficient · sparsity term."""
    mse: Tensor
    """Batch mean of ||x − x̂||²."""
    sparsity: Tensor
    """The architecture's sparsity penalty (0 for TopK / BatchTopK), times its coefficient."""


def as_batched(x: Tensor) -> Tensor:
    """Accept x [batch, d] (shared by all SAEs) or [B, batch, d]; return a broadcastable [1|B, batch, d]."""
    if x.ndim == 2:
        return x.unsqueeze(0)
    if x.ndim == 3:
        return x
    raise ValueError(f"expected x of shape [batch, d] or [B, batch, d], got {tuple(x.shape)}")


def row_mean(t: Tensor, weights: Tensor | None) -> Tensor:
    """Mean of t [B, batch] over the batch, weighted by ``weights`` [batch] when given → [B]."""
    if weights is None:
        return t.mean(-1)
    return torch.mv(t, weights)


class BatchedSAE(nn.Module):
    """B SAEs of one architecture. Subclasses define :meth:`activation` and class attributes."""

    arch: ClassVar[str] = ""
    """Registry name (``topk``, ``batchtopk``, ``relu``, ``jumprelu``)."""
    saelens_architecture: ClassVar[str] = ""
    """``architecture`` value written to SAELens' cfg.json."""
    uses_k: ClassVar[bool] = False
    """Whether the architecture has a cap k."""
    sparsity_name: ClassVar[str | None] = None
    """Name of the sparsity coefficient (``l1`` / ``l0``) or None."""
    apply_b_dec_to_input: ClassVar[bool] = False
    """Whether x − b_dec is encoded (SAELens' flag of the same name)."""
    normalize_decoder: ClassVar[bool] = False
    """Whether decoder rows are renormalised to unit norm after every step."""
    per_sample: ClassVar[bool] = True
    """Whether the training loss is a (weighted) mean of per-sample terms, so that rows can carry weights
    (False for BatchTopK, whose training activation couples the samples of a batch)."""

    def __init__(
        self,
        B: int,
        d: int,
        m: int,
        *,
        k: Tensor | None = None,
        sparsity_coef: Tensor | None = None,
        zero_bias: bool = False,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.B, self.d, self.m = int(B), int(d), int(m)
        self.zero_bias = bool(zero_bias)
        kw = {"dtype": dtype, "device": device}
        self.W_enc = nn.Parameter(torch.zeros(B, d, m, **kw))  # [B, d, m]
        self.b_enc = nn.Parameter(torch.zeros(B, m, **kw), requires_grad=not zero_bias)  # [B, m]
        self.W_dec = nn.Parameter(torch.zeros(B, m, d, **kw))  # [B, m, d]
        self.b_dec = nn.Parameter(torch.zeros(B, d, **kw), requires_grad=not zero_bias)  # [B, d]
        kk = torch.ones(B, dtype=torch.long) if k is None else torch.as_tensor(k, dtype=torch.long).reshape(B)
        self.register_buffer("k", kk.to(device))  # [B]
        self.k_range = (int(kk.min()), int(kk.max()))
        """(min, max) of ``k`` as Python ints (no device sync in the training step)."""
        sc = torch.zeros(B) if sparsity_coef is None else torch.as_tensor(sparsity_coef).reshape(B)
        self.register_buffer("sparsity_coef", sc.to(dtype=dtype, device=device))  # [B]

    # ------------------------------------------------------------------ the interface
    def pre_activations(self, x: Tensor) -> Tensor:
        """z [B, batch, m] for x [batch, d] or [B, batch, d].

        Computed as x W_enc + (b_enc − s·b_dec W_enc), which equals (x − s·b_dec) W_enc + b_enc; when x is
        shared by all SAEs ([batch, d]) the product is one GEMM x [batch, d] @ [d, B·m] instead of B small
        ones.
        """
        bias = self.b_enc
        if self.apply_b_dec_to_input:
            bias = bias - torch.matmul(self.b_dec.unsqueeze(1), self.W_enc).squeeze(1)  # [B, m]
        if x.ndim == 2:
            W = self.W_enc.permute(1, 0, 2).reshape(self.d, self.B * self.m)  # [d, B·m]
            z = torch.addmm(bias.reshape(1, self.B * self.m), x, W)  # [batch, B·m], bias fused
            return z.reshape(x.shape[0], self.B, self.m).transpose(0, 1).contiguous()  # [B, batch, m]
        return torch.baddbmm(bias[:, None, :], as_batched(x).expand(self.B, -1, -1), self.W_enc)

    def activation(self, z: Tensor, *, training: bool, weights: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Latents f [B, batch, m] from pre-activations, plus raw auxiliary terms per SAE (batch means, weighted
        by ``weights`` [batch] when given)."""
        raise NotImplementedError

    def encode(self, x: Tensor, *, training: bool = False) -> Tensor:
        """Latents f [B, batch, m] (inference mode unless ``training``)."""
        f, _ = self.activation(self.pre_activations(x), training=training)
        return f

    def decode(self, f: Tensor) -> Tensor:
        """x̂ [B, batch, d] = f W_dec + b_dec (one fused batched GEMM)."""
        return torch.baddbmm(self.b_dec[:, None, :], f, self.W_dec)

    def forward(self, x: Tensor, *, training: bool = False, weights: Tensor | None = None) -> SAEOutput:  # type: ignore[override]
        """Encode and decode: latents, reconstruction, pre-activations and auxiliary terms (row ``weights``
        [batch] as in :meth:`loss`)."""
        z = self.pre_activations(x)
        f, aux = self.activation(z, training=training, weights=weights)
        return SAEOutput(latents=f, reconstruction=self.decode(f), pre_acts=z, aux=aux)

    def loss(self, x: Tensor, out: SAEOutput, weights: Tensor | None = None) -> LossParts:
        """Per-SAE loss [B]: batch mean of ||x − x̂||² plus the coefficient times the sparsity term.

        ``weights`` [batch] (≥ 0, summing to 1) replace the uniform mean over rows by a weighted one; pass the
        same weights to :meth:`forward`.
        """
        err = out.reconstruction - as_batched(x)
        mse = row_mean((err * err).sum(-1), weights)  # [B]
        if self.sparsity_name is None:
            sp = torch.zeros_like(mse)
        else:
            sp = self.sparsity_coef * out.aux[self.sparsity_name]
        return LossParts(total=mse + sp, mse=mse, sparsity=sp)

    # ------------------------------------------------------------------ training hooks
    def trainable(self) -> dict[str, nn.Parameter]:
        """Parameters updated by the optimiser (biases excluded under ``zero_bias``)."""
        return {name: p for name, p in self.named_parameters() if p.requires_grad}

    def update_statistics(self, out: SAEOutput, active: Tensor) -> None:
        """Non-gradient state updated after each training forward (BatchTopK's threshold); ``active`` [B]
        masks diverged SAEs."""
        return None

    @torch.no_grad()
    def project_decoder_grad(self) -> None:
        """Remove from W_dec's gradient its component along each (unit) decoder row (Gao et al. 2024)."""
        g = self.W_dec.grad
        if g is None:
            return
        w = self.W_dec
        g -= (g * w).sum(-1, keepdim=True) * w

    @torch.no_grad()
    def normalize_decoder_rows(self) -> None:
        """Scale every nonzero decoder row to unit norm."""
        norms = self.W_dec.norm(dim=-1, keepdim=True)
        self.W_dec.div_(torch.where(norms > 0, norms, torch.ones_like(norms)))

    # ------------------------------------------------------------------ views
    def state_for_sae(self, b: int) -> dict[str, Tensor]:
        """SAELens-named tensors of SAE b (``W_enc`` [d, m], ``b_enc`` [m], ``W_dec`` [m, d], ``b_dec`` [d]
        and, for threshold architectures, ``threshold`` [m]), detached CPU copies."""
        out = {
            "W_enc": self.W_enc[b],
            "b_enc": self.b_enc[b],
            "W_dec": self.W_dec[b],
            "b_dec": self.b_dec[b],
        }
        thr = self.inference_threshold()
        if thr is not None:
            out["threshold"] = thr[b]
        return {name: t.detach().cpu().contiguous().clone() for name, t in out.items()}

    def inference_threshold(self) -> Tensor | None:
        """Per-latent thresholds [B, m] used at inference, or None for architectures without one."""
        return None

    def load_sae_state(self, b: int, state: dict[str, Tensor]) -> None:
        """Set SAE b from SAELens-named tensors (inverse of :meth:`state_for_sae`)."""
        with torch.no_grad():
            for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
                getattr(self, name)[b].copy_(state[name])

    def extra_repr(self) -> str:
        return f"B={self.B}, d={self.d}, m={self.m}, zero_bias={self.zero_bias}"
