"""Threshold-class brute force (DESIGN §1.2, §1.4): enumerate every SAE of tiny instances.

A latent j is an atom A_j and a threshold unit (e_j, θ_j), e_j ∈ {−1,0,1}^n ({0,1}^n for binary
weights), integer θ_j ≥ 1, firing on S iff Σ_{i∈S} e_ji ≥ θ_j. Only the *pattern* (the set of support
events it fires on) matters for R and D, so every realisable pattern is kept once, with its realisation
of fewest nonzero weights (least P_enc = 1 − 1/√nnz; ties: lexicographically smallest weights, then θ).
A live latent has a nonempty atom and a nonempty pattern; an SAE is a multiset of at most m live
latents (duplicates allowed: the threshold class does not merge latents, §1.2), padded with dead ones.
The cap |fire(S)| ≤ k holds on every support event; disjoint mode needs pairwise disjoint firing
atoms. P_dec, P_enc are means over the live latents, P_joint = (P_dec + P_enc)/2.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rdp_exact.pmf import ConceptPMF
from rdp_exact.polysemanticity import binary_row_poly
from rdp_exact.sae import CoefficientMode, CombinatorialSAE, ThresholdUnit
from rdp_exact.solvers.brute_free import iter_index_sets


@dataclass(frozen=True)
class Pattern:
    """A realisable firing pattern over the support events with its simplest realisation."""

    fires: int
    """Bitmask over support-event positions."""
    weights: tuple[int, ...]
    threshold: int

    @property
    def nnz(self) -> int:
        return sum(1 for w in self.weights if w)


def patterns(pmf: ConceptPMF, encoder_weights: str) -> list[Pattern]:
    """Every nonempty firing pattern realisable by one unit, with its fewest-nonzero realisation."""
    n = pmf.n
    vals = (-1, 0, 1) if encoder_weights == "ternary" else (0, 1)
    ind = pmf.indicator  # [N, n]
    best: dict[int, tuple[int, tuple[int, ...], int]] = {}
    for w in itertools.product(vals, repeat=n):
        npos = sum(1 for x in w if x == 1)
        if npos == 0:
            continue
        score = ind @ np.array(w, dtype=np.int64)  # [N]
        nnz = sum(1 for x in w if x)
        for theta in range(1, npos + 1):
            fires = int(sum(1 << s for s in np.flatnonzero(score >= theta)))
            if fires == 0:
                continue
            cand = (nnz, w, theta)
            if fires not in best or cand < best[fires]:
                best[fires] = cand
    return [Pattern(fires=f, weights=w, threshold=th) for f, (_, w, th) in sorted(best.items())]


@dataclass(frozen=True, eq=False)
class LatentTable:
    """Every live latent (atom × pattern) of the instance with its per-event data."""

    pmf: ConceptPMF
    atoms: np.ndarray
    """Atom mask per latent [L]."""
    pattern_index: np.ndarray
    """Index into :attr:`patterns` per latent [L]."""
    patterns: tuple[Pattern, ...]
    fire_LN: np.ndarray
    """1 where latent fires on event [L, N] (int8)."""
    bits_Ln: np.ndarray
    """Atom indicator [L, n] (int8)."""
    rate: np.ndarray
    """π(pattern) per latent [L]."""
    p_dec: np.ndarray
    p_enc: np.ndarray

    @classmethod
    def build(cls, pmf: ConceptPMF, encoder_weights: str) -> LatentTable:
        pats = patterns(pmf, encoder_weights)
        N, n = pmf.support_size, pmf.n
        fire_PN = np.array([[(p.fires >> s) & 1 for s in range(N)] for p in pats], dtype=np.int8).reshape(-1, N)
        atoms = np.arange(1, 1 << n, dtype=np.int64)
        A = len(atoms)
        P = len(pats)
        at = np.repeat(atoms, P)
        pi = np.tile(np.arange(P), A)
        bits = ((at[:, None] >> np.arange(n)) & 1).astype(np.int8)
        rate_p = fire_PN.astype(np.float64) @ pmf.probs
        pdec_a = np.array([binary_row_poly(int(a).bit_count()) for a in atoms])
        penc_p = np.array([binary_row_poly(p.nnz) for p in pats])
        return cls(
            pmf=pmf,
            atoms=at,
            pattern_index=pi,
            patterns=tuple(pats),
            fire_LN=fire_PN[pi] if P else np.zeros((0, N), dtype=np.int8),
            bits_Ln=bits,
            rate=rate_p[pi] if P else np.zeros(0),
            p_dec=np.repeat(pdec_a, P),
            p_enc=penc_p[pi] if P else np.zeros(0),
        )

    @property
    def size(self) -> int:
        return len(self.atoms)


def count_multisets(n_latents: int, m: int) -> int:
    """Number of SAEs: multisets of at most m latents from n_latents (the empty one included)."""
    if n_latents == 0:
        return 1
    return sum(math.comb(n_latents + t - 1, t) for t in range(m + 1))


@dataclass(frozen=True)
class Batch:
    """Feasible SAEs of one chunk: latent indices and their exact values."""

    idx: np.ndarray
    """[C, t] latent indices (nondecreasing)."""
    R: np.ndarray
    D: np.ndarray
    P: np.ndarray
    """The query's P (decoder or joint)."""


def iter_batches(
    lt: LatentTable, m: int, k: int, mode: CoefficientMode, measure: str, chunk: int = 1 << 14
) -> Iterator[Batch]:
    """(R, D, P) of every feasible threshold SAE (multiset of ≤ m live latents), chunk by chunk."""
    pmf = lt.pmf
    ind = pmf.indicator.astype(np.int16)  # [N, n]
    probs = pmf.probs
    es = float(probs @ pmf.sizes)
    yield Batch(idx=np.zeros((1, 0), dtype=np.int64), R=np.zeros(1), D=np.array([es]), P=np.zeros(1))
    L = lt.size
    for t in range(1, m + 1):
        for comb in iter_index_sets(L + t - 1, t, chunk):
            idx = comb - np.arange(t)[None, :]  # combinations with replacement
            fire = lt.fire_LN[idx].astype(np.int16)  # [C, t, N]
            count = fire.sum(axis=1)  # [C, N]
            ok = count.max(axis=1) <= k
            c = np.einsum("ctN,ctn->cNn", fire, lt.bits_Ln[idx].astype(np.int16))  # [C, N, n]
            if mode == "disjoint":
                ok &= c.max(axis=(1, 2)) <= 1
            if not ok.any():
                continue
            sel = np.flatnonzero(ok)
            c = c[sel]
            err = ((ind[None] - c) ** 2).sum(axis=2).astype(np.float64)  # [C, N]
            D = err @ probs
            ii = idx[sel]
            R = np.sort(lt.rate[ii], axis=1).sum(axis=1)
            pd = np.sort(lt.p_dec[ii], axis=1).sum(axis=1) / t
            if measure == "decoder":
                P = pd
            else:
                pe = np.sort(lt.p_enc[ii], axis=1).sum(axis=1) / t
                P = 0.5 * (pd + pe)
            yield Batch(idx=ii, R=R, D=D, P=P)


def threshold_sae(lt: LatentTable, idx: tuple[int, ...], width: int, mode: CoefficientMode) -> CombinatorialSAE:
    """The SAE of a multiset of latents, padded with dead latents (atom ∅, zero weights, θ = 1)."""
    n = lt.pmf.n
    atoms = [int(lt.atoms[j]) for j in idx] + [0] * (width - len(idx))
    units = [
        ThresholdUnit(lt.patterns[int(lt.pattern_index[j])].weights, lt.patterns[int(lt.pattern_index[j])].threshold)
        for j in idx
    ] + [ThresholdUnit((0,) * n, 1)] * (width - len(idx))
    return CombinatorialSAE.threshold(n, atoms, units, mode)
