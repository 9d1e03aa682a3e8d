"""Export the toy DGP for training with any library (``rdp dgp make`` / ``rdp dgp sample``, issue 12).

Python route (the same as the CLI)::

    from rdp_exact.generators import load_pmf
    from sae_train.data import DGP
    from sae_train.dgp_export import draw, write_samples

    dgp = DGP.make(load_pmf("cooccur3"), d=8, seed=0)   # concept directions V [n, d]
    dgp.save("my_dgp")                                  # dgp.json + dgp.safetensors
    s = draw(dgp, 100_000, seed=1)                      # s.activations [N, d], s.concepts [N, n], s.events [N]
    write_samples("acts.safetensors", s)                # or "acts.npy"

Train any SAE on ``s.activations`` (SAELens, dictionary_learning, sparsify, …), save it in the SAELens
layout, then ``rdp audit optimum SAE_DIR --dgp my_dgp --out audit/``.

File formats written by :func:`write_samples`:

* ``.safetensors``: tensors ``activations`` [N, d] (float32 or float64), ``concepts`` [N, n] uint8 (1 where
  concept i is active in the sample's event), ``events`` [N] int64 (index of the event in
  ``dgp.json``'s pmf ``events`` list); metadata ``n``, ``d``, ``pmf_sha256``, ``seed``;
* ``.npy``: the activations in FILE, the concept labels in ``<stem>.concepts.npy`` and the event indices in
  ``<stem>.events.npy`` beside it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_bytes, check_writable_file
from sae_train.data import DGP, Sampler

#: Output suffixes of :func:`write_samples`.
SAMPLE_SUFFIXES = (".safetensors", ".npy")
#: Sampling dtypes.
DTYPES = ("float32", "float64")
#: Largest number of samples drawn in one call (about 8 GB of float64 at d = 1000).
MAX_SAMPLES = 10**9


@dataclass(frozen=True)
class Samples:
    """Samples of a DGP with their ground-truth concept labels."""

    activations: np.ndarray
    """x [N, d]."""
    concepts: np.ndarray
    """[N, n] uint8: 1 where concept i is active."""
    events: np.ndarray
    """[N] int64: index of the sample's event in ``dgp.pmf.events``."""
    seed: int
    """Seed of the sample stream."""
    dgp: DGP
    """The DGP sampled."""


def draw(dgp: DGP, num: int, *, seed: int = 0, dtype: str = "float32", chunk: int = 65536) -> Samples:
    """``num`` samples of ``dgp`` (the stream of :class:`sae_train.data.Sampler` with ``seed``) and labels."""
    import torch

    from rdp_exact.validate import check_choice, check_int, check_seed

    num = check_int("number of samples", num, min=1, max=MAX_SAMPLES)
    check_choice("dtype", dtype, DTYPES)
    seed = check_seed("seed", seed)
    sampler = Sampler(dgp, seed, "cpu", getattr(torch, dtype))
    xs, evs = [], []
    left = num
    while left > 0:
        b = min(chunk, left)
        left -= b
        xs.append(sampler.next(b).numpy())
        evs.append(sampler.last_events.numpy().astype(np.int64))
    events = np.concatenate(evs)
    concepts = np.asarray(dgp.pmf.indicator, dtype=np.uint8)[events]
    return Samples(activations=np.concatenate(xs), concepts=concepts, events=events, seed=seed, dgp=dgp)


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def sample_paths(path: str | os.PathLike[str]) -> list[Path]:
    """Files :func:`write_samples` writes for ``path`` (checked: suffix, writable, distinct)."""
    p = Path(path)
    if p.suffix not in SAMPLE_SUFFIXES:
        raise InvalidArgument(f"sample file {str(p)!r} must end in {' or '.join(SAMPLE_SUFFIXES)}")
    paths = [p] if p.suffix == ".safetensors" else [p, p.with_suffix(".concepts.npy"), p.with_suffix(".events.npy")]
    for q in paths:
        check_writable_file(q)
    return paths


def write_samples(path: str | os.PathLike[str], samples: Samples) -> list[Path]:
    """Write ``samples`` (module docstring formats), each file atomically. Returns the files written."""
    paths = sample_paths(path)
    if paths[0].suffix == ".safetensors":
        import torch
        from safetensors.torch import save

        meta = {"n": str(samples.dgp.n), "d": str(samples.dgp.d), "pmf_sha256": samples.dgp.pmf.sha256(),
                "seed": str(samples.seed), "format": "rdp-samples/1"}
        data = save({"activations": torch.from_numpy(np.ascontiguousarray(samples.activations)),
                     "concepts": torch.from_numpy(np.ascontiguousarray(samples.concepts)),
                     "events": torch.from_numpy(np.ascontiguousarray(samples.events))}, metadata=meta)
        return [atomic_write_bytes(paths[0], data)]
    return [atomic_write_bytes(q, _npy_bytes(a))
            for q, a in zip(paths, (samples.activations, samples.concepts, samples.events), strict=True)]


__all__ = ["DTYPES", "SAMPLE_SUFFIXES", "Samples", "draw", "sample_paths", "write_samples"]
