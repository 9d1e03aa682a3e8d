"""Closed-form expected loss and gradient of B TopK SAEs over a finite support (``--objective expected``).

On an exact DGP every input is a support point x_S = c_S E, where c_S ∈ R^r are the coordinates of event S
and E [r, d] a fixed basis: c_S = the indicator s_S and E = V (the concept directions) when n ≤ d, else
c_S = x_S and E = I_d (:func:`sae_train.data.support_factors`). The expected TopK loss of one SAE
(W_enc [d, m], b_enc [m], W_dec [m, d], b_dec [d]; DESIGN §6) is

    L = Σ_S π_S ||x_S − b_dec − f_S W_dec||²,
    z_S = (x_S − b_dec) W_enc + b_enc,      f_S = ReLU(TopK_k(z_S)).

Expanding the square with M = W_dec W_decᵀ [m, m] and u_S = (x_S − b_dec) W_decᵀ [m] gives

    L = Σ_S π_S ||x_S − b_dec||² − 2 Σ_S π_S f_S·u_S + Σ_S π_S f_S M f_Sᵀ
      = c₀ − 2 b_dec·x̄ + ||b_dec||² − 2 ⟨K_dec, Q⟩ + ⟨M, F⟩,

with the constants c₀ = Σ π_S ||x_S||² and x̄ = Σ π_S x_S, and, writing c̃_S = [c_S, 1] ∈ R^{r+1} and
P_S = π_S f_S:

    z_S = K_enc c̃_S,   K_enc = [(E W_enc)ᵀ | b_enc − b_dec W_enc]     [m, r+1]
    u_S = K_dec c̃_S,   K_dec = [W_dec Eᵀ | −W_dec b_decᵀ]             [m, r+1]
    Q = Σ_S P_Sᵀ c̃_S [m, r+1],   F = Σ_S P_Sᵀ f_S [m, m].

Nothing of size N × d is formed: the per-event tensors are [m, N] (z, u, f, the TopK mask and the
gradient g_S = ∂L/∂z_S). With h_S = f_S M − u_S (so ∂L/∂f_S = 2π_S h_S, the back-propagated residual),
g_S = 2π_S h_S ⊙ mask_S and G = Σ_S g_Sᵀ c̃_S [m, r+1] = [G_c | ḡ], the gradient is

    ∂L/∂W_dec = 2 (F W_dec − Q_c E + q̄ᵀ b_dec),                 Q = [Q_c | q̄]
    ∂L/∂b_dec = −2 (x̄ − b_dec − q̄ W_dec) − ḡ W_encᵀ,
    ∂L/∂W_enc = Eᵀ G_cᵀ − b_decᵀ ḡ,          ∂L/∂b_enc = ḡ.

These are the loss and gradient autograd gives for :class:`~sae_train.models.topk.TopKSAE` on the N support
rows weighted by π (the TopK selection is piecewise constant, and ReLU′(0) = 0), equal up to float rounding
(the tests compare them to 1e-10 in float64). Per step: one GEMM [2m, r+1] × [r+1, N] for (z, u), one
[r+1, N] × [N, 2m] for (G, Q), and two batched [m, m] products (f M and F) per SAE, instead of [N, d]
residuals and their autograd graph.

TopK selection: for each (SAE, event) the k-th largest pre-activation t_k is found by a running sorted
list over the m latents (element-wise max/min on contiguous [B, N] slices, latent-major layout [m, B, N];
no ``torch.topk``, whose cost on an axis of m = 8 dominated the autograd step),
and the kept latents are those with z ≥ max(t_k, smallest positive float) — the k largest, minus the
non-positive ones, which ReLU zeroes. When a row has a tie at t_k (more than k latents would pass), the
row falls back to an exact selection of k latents that breaks ties towards the lower latent index
(``torch.topk`` leaves its tie order unspecified; ties have probability zero under random weights).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sae_train.models.base import BatchedSAE
from sae_train.models.topk import TopKSAE

#: Target size (elements) of one per-event tensor [m, chunk, N]: the SAEs are processed in chunks so that a
#: chunk's per-event tensors stay in cache between the passes (toy instance, 256 SAEs: chunks of 64 measured
#: ≈ 15 % faster per call than one chunk of 256).
CHUNK_ELEMENTS = 1 << 17


class TopKExpectedObjective:
    """Expected TopK loss and gradient over fixed support rows x_S = c_S E with weights π (module docstring).

    Build once per run (constants and buffers for B SAEs of width m); :meth:`loss_and_grad` then sets the
    ``.grad`` of every trainable parameter of the model and returns the per-SAE losses [B]. The per-event work
    runs over chunks of ``chunk`` SAEs (default on CPU: [m, chunk, N] ≈ :data:`CHUNK_ELEMENTS`; elsewhere all B).
    """

    def __init__(self, model: TopKSAE, coords: Tensor, basis: Tensor, probs: Tensor, *,
                 chunk: int | None = None) -> None:
        if not isinstance(model, TopKSAE):
            raise TypeError(f"the closed-form expected objective needs a TopK model, got {type(model).__name__}")
        dt, dev = model.W_enc.dtype, model.W_enc.device
        C = coords.to(device=dev, dtype=dt)  # [N, r]
        self.E = basis.to(device=dev, dtype=dt)  # [r, d]
        self.Et = self.E.t().contiguous()  # [d, r]
        self.pi = probs.to(device=dev, dtype=dt)  # [N]
        N, r = C.shape
        B, m = model.B, model.m
        self.B, self.m, self.r, self.N = B, m, r, N
        C1 = torch.cat([C, torch.ones(N, 1, dtype=dt, device=dev)], 1)  # c̃ [N, r+1]
        self.C1t = C1.t().contiguous()  # [r+1, N]
        self.C1t_pi = (C1 * self.pi[:, None]).t().contiguous()  # π_S c̃_S, [r+1, N]
        X = C @ self.E  # [N, d]
        self.c0 = float(torch.dot(self.pi, (X * X).sum(-1)))
        self.xbar = self.pi @ X  # [d]
        self.k = model.get_buffer("k")  # [B]
        self.kmin, self.kmax = model.k_range
        self.levels = self.kmax  # ≤ m (TrainConfig checks k ≤ width)
        self.tiny = torch.nextafter(torch.zeros((), dtype=dt), torch.ones((), dtype=dt)).item()
        if chunk is None:  # CPU: cache-sized chunks; other devices: one chunk (fewer launches and syncs)
            chunk = max(1, CHUNK_ELEMENTS // (m * N)) if dev.type == "cpu" else B
        self.chunk = c = max(1, min(int(chunk), B))

        def buf(*shape: int) -> Tensor:
            return torch.empty(*shape, dtype=dt, device=dev)

        # Whole-batch coefficient and result buffers (small, SAE-major) ...
        self.Kenc, self.Kdec = buf(B, m, r + 1), buf(B, m, r + 1)
        self.Q, self.G, self.F = buf(B, m, r + 1), buf(B, m, r + 1), buf(B, m, m)
        # ... and per-chunk per-event buffers, reused by every chunk so that a step allocates nothing large.
        # Latent-major [m, c, N] for the TopK selection (contiguous [c, N] slices per latent), SAE-major
        # [c, m, N] for the per-SAE products. K = (K_enc latent-major, K_dec SAE-major) and ZHF = (z, u → h, f)
        # are laid out so that one GEMM gives (z, u) = K c̃ and one gives (G/2, Q) = (h, f) (π c̃).
        self.K, self.ZHF, self.mask = buf(2 * m * c * (r + 1)), buf(3 * m * c * N), buf(m * c * N)  # flat, viewed
        self.tops, self.spare = buf(self.levels * c * N), (buf(c * N), buf(c * N))  # per chunk size

    @property
    def mean_sq_norm(self) -> float:
        """c₀ = E_π ||x||² (the divergence reference scale of the training loop)."""
        return self.c0

    # ------------------------------------------------------------------ TopK selection
    def _threshold(self, z: Tensor, k: Tensor) -> Tensor:
        """t [c, N]: the k_b-th largest of z[:, b, S] over the latents (with multiplicity), via a running sorted
        list of the k_max largest values (tops[0] ≥ tops[1] ≥ …): each latent is inserted by max/min pairs,
        the value carried past level i being min(tops[i], v)."""
        c, N = z.shape[1], z.shape[2]
        L = self.levels
        tops = self.tops[: L * c * N].view(L, c, N)
        spares = (self.spare[0][: c * N].view(c, N), self.spare[1][: c * N].view(c, N))
        tops[0].copy_(z[0])
        for j in range(1, self.m):
            v, spare, other = z[j], spares[0], spares[1]
            filled = min(j, L)  # levels holding a value before this insertion
            for i in range(filled):
                if i == L - 1:  # last level: keep the larger, drop the smaller
                    torch.maximum(tops[i], v, out=tops[i])
                    break
                dest = tops[i + 1] if i + 1 == filled else spare  # an empty next level takes the carry directly
                torch.minimum(tops[i], v, out=dest)
                torch.maximum(tops[i], v, out=tops[i])
                v, spare, other = dest, other, spare
        if self.kmin == self.kmax:
            return tops[L - 1]
        return tops.gather(0, (k - 1)[None, :, None].expand(1, c, N))[0]

    def _select(self, z: Tensor, k: Tensor, mask: Tensor) -> None:
        """Float mask [m, c, N] into ``mask``: 1 on the latents ReLU∘TopK keeps (≤ k_b per row, ties by index)."""
        thr = self._threshold(z, k).clamp_min_(self.tiny)  # z ≥ thr ⇔ among the k largest and z > 0
        torch.ge(z, thr, out=mask)
        if self.kmin >= self.m:  # every latent kept: no tie can exceed k
            return
        count = mask.sum(0)  # [c, N] latents kept per row
        over = count.max().item() > self.kmax if self.kmin == self.kmax else \
            bool((count > k[:, None].to(count.dtype)).any())
        if over:  # a tie at the k-th value
            self._break_ties(z, thr, k, mask)

    @staticmethod
    def _break_ties(z: Tensor, thr: Tensor, k: Tensor, mask: Tensor) -> None:
        """Among latents equal to thr, keep only the first (k − #{z > thr}) in latent order."""
        strict = (z > thr).to(z.dtype)  # [m, c, N]
        tie = (z == thr).to(z.dtype)
        room = k[:, None].to(z.dtype) - strict.sum(0)  # [c, N]
        keep_tie = tie * (torch.cumsum(tie, 0) <= room).to(z.dtype)
        torch.add(strict, keep_tie, out=mask)

    # ------------------------------------------------------------------ loss and gradient
    def loss_and_grad(self, model: BatchedSAE) -> Tensor:
        """Per-SAE expected loss [B] (no autograd graph); sets ``.grad`` of the model's trainable parameters."""
        with torch.no_grad():
            return self._loss_and_grad(model)

    def _events(self, b0: int, b1: int, M: Tensor) -> None:
        """The per-event part for SAEs b0..b1−1: fills Q, G and F of those SAEs (module docstring)."""
        m, r, N, c = self.m, self.r, self.N, b1 - b0
        K = self.K[: 2 * m * c * (r + 1)].view(2, m * c, r + 1)
        K[0].view(m, c, r + 1).copy_(self.Kenc[b0:b1].transpose(0, 1))  # latent-major
        K[1].view(c, m, r + 1).copy_(self.Kdec[b0:b1])  # SAE-major
        ZHF = self.ZHF[: 3 * m * c * N].view(3, m * c, N)
        z, h, f = ZHF[0].view(m, c, N), ZHF[1].view(c, m, N), ZHF[2].view(m, c, N)
        mask = self.mask[: m * c * N].view(m, c, N)
        torch.mm(K.view(2 * m * c, r + 1), self.C1t, out=ZHF[:2].view(2 * m * c, N))  # z, u
        self._select(z, self.k[b0:b1], mask)
        torch.mul(z, mask, out=f)  # f = ReLU(TopK(z)), latent-major
        fb = f.transpose(0, 1)  # [c, m, N] view
        h.baddbmm_(M[b0:b1], fb, beta=-1.0)  # h = f M − u
        h.mul_(mask.transpose(0, 1))  # ∂L/∂z = 2π ⊙ h
        torch.mul(f, self.pi, out=z)  # P = π f (z is no longer needed)
        torch.bmm(z.transpose(0, 1), fb.transpose(1, 2), out=self.F[b0:b1])  # Σ_S π_S f_Sᵀ f_S
        HF = torch.mm(self.C1t_pi, ZHF[1:].view(2 * m * c, N).t())  # [r+1, 2mc]: (G/2 SAE-major, Q latent-major)
        torch.mul(HF[:, : m * c].view(r + 1, c, m).permute(1, 2, 0), 2.0, out=self.G[b0:b1])
        self.Q[b0:b1].copy_(HF[:, m * c:].view(r + 1, m, c).permute(2, 1, 0))

    def _loss_and_grad(self, model: BatchedSAE) -> Tensor:
        m, B, r = self.m, self.B, self.r
        W_enc, b_enc, W_dec, b_dec = model.W_enc, model.b_enc, model.W_dec, model.b_dec
        E, Kenc, Kdec, Q, G, F = self.E, self.Kenc, self.Kdec, self.Q, self.G, self.F
        # K_enc = [(E W_enc)ᵀ | b_enc − b_dec W_enc], K_dec = [W_dec Eᵀ | −W_dec b_decᵀ]  [B, m, r+1]
        Kenc[..., :r].copy_(torch.mm(W_enc.transpose(1, 2).reshape(B * m, -1), self.Et).view(B, m, r))
        torch.sub(b_enc, torch.bmm(b_dec[:, None, :], W_enc)[:, 0], out=Kenc[..., r])
        Kdec[..., :r].copy_(torch.mm(W_dec.view(B * m, -1), self.Et).view(B, m, r))
        torch.neg(torch.bmm(W_dec, b_dec[:, :, None])[..., 0], out=Kdec[..., r])
        M = torch.bmm(W_dec, W_dec.transpose(1, 2))  # [B, m, m]
        for b0 in range(0, B, self.chunk):
            self._events(b0, min(B, b0 + self.chunk), M)
        loss = (self.c0 - 2.0 * (b_dec @ self.xbar) + (b_dec * b_dec).sum(-1)
                - 2.0 * (Kdec * Q).sum((1, 2)) + (M * F).sum((1, 2)))
        qbar, gbar = Q[..., r], G[..., r]  # [B, m]
        gW_dec = torch.bmm(F, W_dec)
        gW_dec.sub_(torch.mm(Q[..., :r].reshape(B * m, r), E).view(B, m, -1)).add_(qbar[:, :, None] * b_dec[:, None, :])
        W_dec.grad = gW_dec.mul_(2.0)
        gW_enc = torch.mm(G[..., :r].reshape(B * m, r), E).view(B, m, -1).transpose(1, 2).contiguous()  # [B, d, m]
        W_enc.grad = gW_enc.sub_(b_dec[:, :, None] * gbar[:, None, :])
        if b_enc.requires_grad:
            b_enc.grad = gbar.contiguous()  # a copy: G is a reused buffer
        if b_dec.requires_grad:
            gb = torch.bmm(qbar[:, None, :], W_dec)[:, 0]  # f̄ W_dec [B, d]
            gb.sub_(self.xbar).add_(b_dec).mul_(2.0)
            b_dec.grad = gb.sub_(torch.bmm(gbar[:, None, :], W_enc.transpose(1, 2))[:, 0])
        return loss
