"""Structured pmfs estimated from samples, for the solver benchmarks (n = 12).

Unlike the ``pairs`` generator, whose exact probabilities make many concepts interchangeable (large automorphism
groups that the branch-and-bound exploits), these pmfs are empirical frequencies of a structured sampler, as a
pmf measured on data would be: the structure is there, exact symmetry is not. Each keeps the ``support`` most
frequent events of ``draws`` seeded samples (ties by bitmask) and renormalises.

* ``hier``: four parent concepts (active with probability 0.35 each), each with two children that can only be
  active with their parent (probability 0.5 each, given the parent).
* ``chain``: twelve concepts on a ring; each neighbouring pair (i, i + 1) co-occurs with probability 0.12, and
  each concept also appears alone with probability 0.04, all independently.
* ``blocks``: three blocks of four concepts; a block is active with probability 0.3 and then each of its
  concepts with probability 0.7; each concept also appears alone with probability 0.03.
"""

from __future__ import annotations

import numpy as np

from rdp_exact.pmf import ConceptPMF

FAMILIES = ("hier", "chain", "blocks")


def _sample(kind: str, rng: np.random.Generator, draws: int) -> np.ndarray:
    u = lambda *shape: rng.random((draws, *shape))  # noqa: E731
    masks = np.zeros(draws, dtype=np.int64)
    if kind == "hier":
        parent = u(4) < 0.35
        child = (u(4, 2) < 0.5) & parent[:, :, None]
        for p in range(4):
            masks |= parent[:, p].astype(np.int64) << p
            for c in range(2):
                masks |= child[:, p, c].astype(np.int64) << (4 + 2 * p + c)
    elif kind == "chain":
        pair = u(12) < 0.12
        alone = u(12) < 0.04
        for i in range(12):
            masks |= (pair[:, i].astype(np.int64) << i) | (pair[:, i].astype(np.int64) << ((i + 1) % 12))
            masks |= alone[:, i].astype(np.int64) << i
    elif kind == "blocks":
        block = u(3) < 0.3
        inside = (u(3, 4) < 0.7) & block[:, :, None]
        alone = u(3, 4) < 0.03
        for b in range(3):
            for c in range(4):
                masks |= (inside[:, b, c] | alone[:, b, c]).astype(np.int64) << (4 * b + c)
    else:
        raise ValueError(f"unknown structured family {kind!r} (known: {', '.join(FAMILIES)})")
    return masks


def sampled_pmf(kind: str, support: int = 128, seed: int = 0, draws: int = 200_000) -> ConceptPMF:
    """The empirical pmf of ``draws`` samples of family ``kind`` restricted to its ``support`` most frequent
    events (module docstring)."""
    masks = _sample(kind, np.random.default_rng(seed), draws)
    events, counts = np.unique(masks, return_counts=True)
    keep = np.lexsort((events, -counts))[:support]
    total = float(counts[keep].sum())
    return ConceptPMF.from_events(12, [(int(events[i]), float(counts[i]) / total) for i in keep])
