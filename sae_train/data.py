"""The data-generating process (DGP) of the toy model and a seeded sampler (DESIGN §1.1, §6).

A sample is drawn in three steps:

1. an event S ~ π (the concept pmf);
2. magnitudes a_i for i ∈ S: ``constant`` (a_i = 1, the A1–A4 regime of the exact solver),
   ``uniform`` (a_i ~ U(0, 2), mean 1) or ``exponential`` (a_i ~ Exp(1), mean 1);
3. x = Σ_{i∈S} a_i v_i + ε with ε ~ N(0, σ² I_d).

The concept directions V [n, d] are random orthonormal rows when d ≥ n (A1; QR of a Gaussian matrix) and
random unit vectors when d < n (beyond A1: concepts then interfere). With constant magnitudes and σ = 0
every sample is one of the N support points x(S), so R and D of any SAE can be computed exactly by
enumerating the support (:mod:`sae_train.evaluate`).

All SAEs of a batched run see the same sample stream (seeded by ``data_seed``), as SAEs trained side by side
on one activation buffer do; the SAE seeds vary the initialisation only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_bytes, atomic_write_json
from rdp_exact.pmf import ConceptPMF, pmf_from_dict

Magnitudes = Literal["constant", "uniform", "exponential"]
MAGNITUDES: tuple[str, ...] = ("constant", "uniform", "exponential")

#: File names of a saved DGP (DESIGN §5.3).
DGP_JSON = "dgp.json"
DGP_WEIGHTS = "dgp.safetensors"


def concept_directions(n: int, d: int, seed: int) -> np.ndarray:
    """V [n, d]: random orthonormal rows if d ≥ n, else random unit rows (float64, seeded)."""
    if n < 1 or d < 1:
        raise InvalidArgument(f"need n ≥ 1 and d ≥ 1, got n = {n}, d = {d}")
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((d, n)) if d >= n else rng.standard_normal((n, d))
    if d >= n:
        Q, R = np.linalg.qr(G)  # Q [d, n] with orthonormal columns
        Q = Q * np.sign(np.diag(R))[None, :]  # unique QR: deterministic signs
        return np.ascontiguousarray(Q.T)
    return G / np.linalg.norm(G, axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class DGP:
    """A frozen data-generating process: pmf, concept directions and sampling options."""

    pmf: ConceptPMF
    """The concept pmf π."""
    V: np.ndarray = field(repr=False)
    """Concept directions [n, d], float64, read-only (unit rows; orthonormal when d ≥ n)."""
    magnitudes: str = "constant"
    """Magnitude distribution of active concepts: ``constant`` | ``uniform`` | ``exponential``."""
    noise_std: float = 0.0
    """σ of the isotropic Gaussian noise added to x."""
    seed: int | None = None
    """Seed V was drawn with (None when V was given explicitly)."""

    def __post_init__(self) -> None:
        V = np.array(self.V, dtype=np.float64)
        if V.ndim != 2 or V.shape[0] != self.pmf.n:
            raise InvalidArgument(f"V must have shape [n, d] with n = {self.pmf.n}, got {V.shape}")
        if not np.all(np.isfinite(V)):
            raise InvalidArgument("V contains non-finite values")
        if np.any(np.abs(np.linalg.norm(V, axis=1) - 1.0) > 1e-6):
            raise InvalidArgument("the rows of V (concept directions) must have unit norm")
        V.setflags(write=False)
        object.__setattr__(self, "V", V)
        if self.magnitudes not in MAGNITUDES:
            raise InvalidArgument(f"magnitudes must be one of {', '.join(MAGNITUDES)}, got {self.magnitudes!r}")
        if not np.isfinite(self.noise_std) or self.noise_std < 0:
            raise InvalidArgument(f"noise std must be a finite number ≥ 0, got {self.noise_std!r}")
        object.__setattr__(self, "noise_std", float(self.noise_std))

    @classmethod
    def make(
        cls,
        pmf: ConceptPMF,
        d: int | None = None,
        *,
        magnitudes: str = "constant",
        noise_std: float = 0.0,
        seed: int = 0,
    ) -> DGP:
        """A DGP with random directions (d defaults to n: orthonormal concepts, DESIGN A1)."""
        d = pmf.n if d is None else d
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise InvalidArgument(f"d must be a positive integer, got {d!r}")
        from rdp_exact.validate import check_seed

        seed = check_seed("dgp seed", seed)
        return cls(pmf, concept_directions(pmf.n, d, seed), magnitudes, noise_std, seed)

    @property
    def n(self) -> int:
        """Number of concepts."""
        return self.pmf.n

    @property
    def d(self) -> int:
        """Ambient dimension."""
        return int(self.V.shape[1])

    @property
    def orthonormal(self) -> bool:
        """Whether the concept directions are orthonormal (A1)."""
        return bool(np.allclose(self.V @ self.V.T, np.eye(self.n), atol=1e-9))

    @property
    def exact(self) -> bool:
        """Whether samples take only the N support values x(S) (constant magnitudes, no noise)."""
        return self.magnitudes == "constant" and self.noise_std == 0.0

    def support_points(self) -> np.ndarray:
        """x(S) = Σ_{i∈S} v_i for every support event, [N, d] float64 (constant magnitudes)."""
        return self.pmf.indicator.astype(np.float64) @ self.V

    # ------------------------------------------------------------------ persistence
    def to_json_dict(self) -> dict[str, Any]:
        """The ``dgp.json`` object (V itself lives in ``dgp.safetensors``)."""
        return {
            "format": "rdp-dgp/1",
            "pmf": self.pmf.to_dict(),
            "pmf_sha256": self.pmf.sha256(),
            "n": self.n,
            "d": self.d,
            "magnitudes": self.magnitudes,
            "noise_std": self.noise_std,
            "seed": self.seed,
            "orthonormal": self.orthonormal,
        }

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write ``dgp.json`` and ``dgp.safetensors`` (tensor ``V`` [n, d], float64) atomically."""
        import torch
        from safetensors.torch import save

        folder = Path(folder)
        atomic_write_bytes(folder / DGP_WEIGHTS, save({"V": torch.from_numpy(self.V.copy())}))
        atomic_write_json(folder / DGP_JSON, self.to_json_dict())

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> DGP:
        """Read a DGP saved by :meth:`save`."""
        from safetensors.torch import load

        folder = Path(folder)
        jp, wp = folder / DGP_JSON, folder / DGP_WEIGHTS
        for p in (jp, wp):
            if not p.is_file():
                raise InvalidArgument(f"no DGP in {str(folder)!r}: missing {p.name}")
        try:
            meta = json.loads(jp.read_text())
            V = load(wp.read_bytes())["V"].numpy()
            return cls(pmf_from_dict(meta["pmf"]), V, meta["magnitudes"], meta["noise_std"], meta.get("seed"))
        except InvalidArgument:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged JSON or safetensors bytes (SafetensorError), wrong types
            msg = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise InvalidArgument(f"cannot read the DGP in {str(folder)!r}: {type(exc).__name__}: {msg}") from None


class Sampler:
    """A seeded stream of samples from a DGP on one torch device.

    ``next(batch)`` returns x [batch, d]; the events drawn are kept in :attr:`last_events` (indices into
    ``pmf.events``). Two samplers with the same DGP, seed, device and dtype produce the same stream.
    """

    def __init__(self, dgp: DGP, seed: int, device: Any = "cpu", dtype: Any = None) -> None:
        import torch

        self.dgp = dgp
        self.device = torch.device(device)
        self.dtype = dtype or torch.float32
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(int(seed))
        probs = torch.tensor(dgp.pmf.probs, dtype=torch.float64)
        cdf = torch.cumsum(probs, 0)
        cdf[-1] = 1.0
        self._cdf = cdf.to(self.device)
        self._ind = torch.tensor(dgp.pmf.indicator, dtype=self.dtype, device=self.device)  # [N, n]
        self._V = torch.tensor(dgp.V, dtype=self.dtype, device=self.device)  # [n, d]
        self._X = torch.tensor(dgp.support_points(), dtype=self.dtype, device=self.device)  # [N, d]
        self.last_events: Any = None

    def _events(self, batch: int) -> Any:
        """Event indices [batch] drawn by inverse CDF (one uniform draw per sample)."""
        import torch

        u = torch.rand(batch, generator=self.generator, device=self.device, dtype=torch.float64)
        idx = torch.searchsorted(self._cdf, u, right=True).clamp_(max=self._cdf.numel() - 1)  # [batch]
        self.last_events = idx
        return idx

    def next(self, batch: int) -> Any:
        """Draw ``batch`` samples x [batch, d]."""
        import torch

        g = self.generator
        idx = self._events(batch)
        if self.dgp.exact:  # constant magnitudes, no noise: gather the support points
            return self._X.index_select(0, idx)  # [batch, d]
        a = self._ind[idx]  # [batch, n]
        if self.dgp.magnitudes == "uniform":
            a = a * (2.0 * torch.rand(a.shape, generator=g, device=self.device, dtype=self.dtype))
        elif self.dgp.magnitudes == "exponential":
            a = a * torch.empty(a.shape, device=self.device, dtype=self.dtype).exponential_(1.0, generator=g)
        x = a @ self._V  # [batch, d]
        if self.dgp.noise_std > 0:
            x = x + self.dgp.noise_std * torch.randn(x.shape, generator=g, device=self.device, dtype=self.dtype)
        return x


    def next_weighted(self, batch: int) -> tuple[Any, Any]:
        """The next batch of an exact DGP as its distinct rows and their weights.

        Draws the same events as :meth:`next` (same stream) and returns x [r, d], the r ≤ min(batch, N)
        distinct support points drawn, with weights [r] = count / batch. For a loss that is a mean of
        per-sample terms this gives the loss and gradient of the full batch with r rows instead of ``batch``.
        """
        import torch

        if not self.dgp.exact:
            raise InvalidArgument("weighted batches need an exact DGP (constant magnitudes, no noise)")
        idx = self._events(batch)
        counts = torch.bincount(idx, minlength=self._X.shape[0])  # [N]
        rows = torch.nonzero(counts).flatten()  # [r]
        return self._X.index_select(0, rows), counts.index_select(0, rows).to(self.dtype) / batch


def support_objective(dgp: DGP, device: Any = "cpu", dtype: Any = None) -> tuple[Any, Any]:
    """Rows and weights of the exact expected objective: the support points x(S) with π(S) > 0 [N', d] and
    their probabilities [N'] (renormalised to sum 1). Needs an exact DGP."""
    import torch

    if not dgp.exact:
        raise InvalidArgument("the expected objective needs an exact DGP (constant magnitudes, no noise)")
    dtype = dtype or torch.float32
    probs = np.asarray(dgp.pmf.probs, dtype=np.float64)
    keep = probs > 0
    X = torch.tensor(dgp.support_points()[keep], dtype=dtype, device=device)
    w = torch.tensor(probs[keep] / probs[keep].sum(), dtype=dtype, device=device)
    return X, w


def support_factors(dgp: DGP, device: Any = "cpu", dtype: Any = None) -> tuple[Any, Any, Any]:
    """The rows of :func:`support_objective` as coordinates times a basis: (C [N', r], E [r, d], π [N']) with
    x(S) = C_S E for every event with π(S) > 0. C is the indicator and E = V (r = n) when n ≤ d, else C holds
    the support points themselves and E = I_d (r = d); the closed-form expected TopK objective works in r
    dimensions (:mod:`sae_train.models.topk_expected`). Needs an exact DGP."""
    import torch

    if not dgp.exact:
        raise InvalidArgument("the expected objective needs an exact DGP (constant magnitudes, no noise)")
    dtype = dtype or torch.float32
    probs = np.asarray(dgp.pmf.probs, dtype=np.float64)
    keep = probs > 0
    if dgp.n <= dgp.d:
        C, E = dgp.pmf.indicator[keep].astype(np.float64), dgp.V
    else:
        C, E = dgp.support_points()[keep], np.eye(dgp.d)
    return (torch.tensor(C, dtype=dtype, device=device), torch.tensor(E, dtype=dtype, device=device),
            torch.tensor(probs[keep] / probs[keep].sum(), dtype=dtype, device=device))


def sample(dgp: DGP, num: int, *, seed: int = 0, device: Any = "cpu", dtype: Any = None) -> Any:
    """``num`` samples x [num, d] from a fresh :class:`Sampler` (convenience)."""
    if num < 1:
        raise InvalidArgument(f"number of samples must be positive, got {num}")
    return Sampler(dgp, seed, device, dtype).next(num)
