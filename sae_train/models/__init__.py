"""SAE architectures, one module each, behind the :class:`~sae_train.models.base.BatchedSAE` interface.

Look architectures up by name in :data:`ARCHITECTURES` (or :func:`get_architecture`), never by if/elif:

* ``topk`` — :class:`~sae_train.models.topk.TopKSAE` (Gao et al. 2024)
* ``batchtopk`` — :class:`~sae_train.models.batchtopk.BatchTopKSAE` (Bussmann et al. 2024)
* ``relu`` — :class:`~sae_train.models.relu.ReLUSAE` (Anthropic, April 2024 update)
* ``jumprelu`` — :class:`~sae_train.models.jumprelu.JumpReLUSAE` (Rajamanoharan et al. 2024)
"""

from __future__ import annotations

from sae_train.models.base import BatchedSAE, LossParts, SAEOutput
from sae_train.models.batchtopk import BatchTopKSAE
from sae_train.models.init import INITS, init_from_atoms, init_mono, init_random
from sae_train.models.jumprelu import JumpReLUSAE
from sae_train.models.registry import ARCHITECTURES, build_model, get_architecture
from sae_train.models.relu import ReLUSAE
from sae_train.models.topk import TopKSAE

__all__ = [
    "ARCHITECTURES",
    "INITS",
    "BatchTopKSAE",
    "BatchedSAE",
    "JumpReLUSAE",
    "LossParts",
    "ReLUSAE",
    "SAEOutput",
    "TopKSAE",
    "build_model",
    "get_architecture",
    "init_from_atoms",
    "init_mono",
    "init_random",
]
