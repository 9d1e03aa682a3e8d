"""Architecture registry: name → :class:`BatchedSAE` subclass, and a builder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from rdp_exact.errors import InvalidArgument
from sae_train.models.base import BatchedSAE
from sae_train.models.batchtopk import BatchTopKSAE
from sae_train.models.jumprelu import JumpReLUSAE
from sae_train.models.relu import ReLUSAE
from sae_train.models.topk import TopKSAE

#: Registry of architectures by name (``--arch``).
ARCHITECTURES: dict[str, type[BatchedSAE]] = {
    cls.arch: cls for cls in (TopKSAE, BatchTopKSAE, ReLUSAE, JumpReLUSAE)
}

#: SAELens ``architecture`` value → our name, for loading SAEs written by other tools.
SAELENS_TO_ARCH: dict[str, str] = {"topk": "topk", "standard": "relu", "jumprelu": "jumprelu"}


def get_architecture(name: str) -> type[BatchedSAE]:
    """The class registered under ``name``; InvalidArgument for an unknown name."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise InvalidArgument(
            f"unknown architecture {name!r} (choose from {', '.join(ARCHITECTURES)})"
        ) from None


def build_model(
    arch: str,
    B: int,
    d: int,
    m: int,
    *,
    k: Sequence[int] | None = None,
    sparsity_coef: Sequence[float] | None = None,
    zero_bias: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    options: dict[str, Any] | None = None,
) -> BatchedSAE:
    """B zero-initialised SAEs of architecture ``arch`` (initialise with :mod:`sae_train.models.init`).

    ``k`` and ``sparsity_coef`` give one value per SAE; ``options`` pass architecture-specific keyword
    arguments (JumpReLU: ``bandwidth``, ``threshold_init``).
    """
    cls = get_architecture(arch)
    if B < 1 or d < 1 or m < 1:
        raise InvalidArgument(f"need B, d, m ≥ 1, got B = {B}, d = {d}, m = {m}")
    kt = None if k is None else torch.tensor(list(k), dtype=torch.long)
    st = None if sparsity_coef is None else torch.tensor(list(sparsity_coef), dtype=torch.float64)
    return cls(B, d, m, k=kt, sparsity_coef=st, zero_bias=zero_bias, dtype=dtype, device=device, **(options or {}))
