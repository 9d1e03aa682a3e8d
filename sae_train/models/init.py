"""Initialisations of a :class:`BatchedSAE` (DESIGN §6): random, monosemantic, from an exact solution.

Every scheme sets the decoder rows w_j first and then the encoder columns to the row-wise pseudo-inverse
e_j = w_j / ||w_j||² (which is w_j for unit rows, i.e. the tied init W_enc = W_decᵀ of Gao et al.), so
that the input x = w_j gives latent j the pre-activation 1. Biases start at 0 (JumpReLU thresholds at
their ``threshold_init``; BatchTopK's threshold is unset).

* ``random``: w_j = g_j / ||g_j|| with g_j ~ N(0, I_d), drawn from a CPU generator seeded by the SAE's
  seed (so CPU and CUDA runs start from the same weights).
* ``mono`` (the setting of the paper's Fig. 3): w_j = v_j for the first min(n, m) latents, random unit
  rows (as above) for the others.
* ``exact``: latent j of a :class:`~rdp_exact.sae.CombinatorialSAE` with atom A_j gets
  w_j = Σ_{i∈A_j} v_i, divided by its norm √|A_j| when ``normalize`` (the default for architectures
  with unit-norm decoders, TopK/BatchTopK/JumpReLU) or kept raw (default for ReLU, whose penalty
  carries the decoder norm). Raw atoms give latent value 1 on x = x(A_j), as in the combinatorial SAE;
  normalised ones give √|A_j|. Dead latents (A_j = ∅) and latents beyond the SAE's width get random
  unit rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import concepts_of
from sae_train.models.base import BatchedSAE

#: Initialisation names (``--init``).
INITS: tuple[str, ...] = ("random", "mono", "exact")


def _random_rows(seed: int, m: int, d: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(int(seed))
    W = torch.randn(m, d, generator=g, dtype=torch.float64)
    return W / W.norm(dim=-1, keepdim=True)


@torch.no_grad()
def _set_rows(model: BatchedSAE, b: int, rows: torch.Tensor) -> None:
    """Decoder rows of SAE b := rows [m, d]; encoder := row-wise pseudo-inverse; biases 0."""
    sq = (rows * rows).sum(-1, keepdim=True)
    enc = rows / torch.where(sq > 0, sq, torch.ones_like(sq))
    model.W_dec[b].copy_(rows.to(model.W_dec.dtype))
    model.W_enc[b].copy_(enc.T.to(model.W_enc.dtype))
    model.b_enc[b].zero_()
    model.b_dec[b].zero_()


def _check_seeds(model: BatchedSAE, seeds: Sequence[int]) -> None:
    if len(seeds) != model.B:
        raise InvalidArgument(f"{len(seeds)} seeds for {model.B} SAEs")


def init_random(model: BatchedSAE, seeds: Sequence[int]) -> BatchedSAE:
    """Random unit decoder rows, tied encoder, zero biases (one seed per SAE)."""
    _check_seeds(model, seeds)
    for b, s in enumerate(seeds):
        _set_rows(model, b, _random_rows(s, model.m, model.d))
    return model


def init_mono(model: BatchedSAE, V: np.ndarray, seeds: Sequence[int]) -> BatchedSAE:
    """Monosemantic init: decoder rows v_0..v_{n−1} for the first latents, random unit rows after."""
    _check_seeds(model, seeds)
    Vt = torch.tensor(np.array(V, dtype=np.float64))
    if Vt.shape[1] != model.d:
        raise InvalidArgument(f"V has d = {Vt.shape[1]} but the SAE has d = {model.d}")
    t = min(model.m, Vt.shape[0])
    for b, s in enumerate(seeds):
        rows = _random_rows(s, model.m, model.d)
        rows[:t] = Vt[:t]
        _set_rows(model, b, rows)
    return model


def init_from_atoms(
    model: BatchedSAE,
    V: np.ndarray,
    atoms: Sequence[Sequence[int]],
    seeds: Sequence[int],
    *,
    normalize: bool | None = None,
) -> BatchedSAE:
    """Init SAE b from the binary atoms ``atoms[b]`` (bitmasks over concepts, e.g. ``CombinatorialSAE.atoms``).

    ``normalize`` None means the architecture's default (unit rows when it normalises its decoder).
    """
    _check_seeds(model, seeds)
    if len(atoms) != model.B:
        raise InvalidArgument(f"{len(atoms)} atom sets for {model.B} SAEs")
    for at in atoms:
        if len(at) > model.m:
            raise InvalidArgument(f"{len(at)} atoms do not fit in width m = {model.m}")
    norm = model.normalize_decoder if normalize is None else bool(normalize)
    Vt = torch.tensor(np.array(V, dtype=np.float64))
    if Vt.shape[1] != model.d:
        raise InvalidArgument(f"V has d = {Vt.shape[1]} but the SAE has d = {model.d}")
    for b, s in enumerate(seeds):
        rows = _random_rows(s, model.m, model.d)
        for j, a in enumerate(atoms[b]):
            cs = concepts_of(a)
            if any(c >= Vt.shape[0] for c in cs):
                raise InvalidArgument(f"atom {cs} uses a concept outside the DGP's n = {Vt.shape[0]}")
            if not cs:
                continue
            w = Vt[cs].sum(0)
            rows[j] = w / w.norm() if norm else w
        _set_rows(model, b, rows)
    return model
