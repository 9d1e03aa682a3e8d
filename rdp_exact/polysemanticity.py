"""Polysemanticity of a weight matrix (DESIGN §1.3, the paper's Definition 1 as fixed there).

For a matrix W with one row w_j per latent and orthonormal concept directions V (rows v_i), the cosine
table is C_ji = ⟨w_j, v_i⟩ / ||w_j|| over the nonzero rows J (||w_j|| > 1e−8·max_j ||w_j||), and

    P(C) = (1/|J|) · Σ_{j∈J} (1 − max_i |C_ji|),      P = 0 when J is empty.

A 0/1 row over t concepts scores 1 − 1/√t; a row aligned with one concept (up to sign) scores 0.
The same functions serve combinatorial SAEs (rows in concept coordinates, V = I) and trained SAEs
(real rows in R^d, V the DGP's directions).
"""

from __future__ import annotations

import math

import numpy as np

#: Relative norm below which a row counts as zero (dead).
ZERO_ROW_RTOL = 1e-8


def live_rows(W: np.ndarray) -> np.ndarray:
    """Boolean mask of the nonzero rows of W [m, d] (norm > 1e−8 · the largest row norm)."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"expected a 2-d weight matrix, got shape {W.shape}")
    norms = np.linalg.norm(W, axis=1)
    if norms.size == 0 or norms.max() == 0:
        return np.zeros(W.shape[0], dtype=bool)
    return norms > ZERO_ROW_RTOL * norms.max()


def cosine_table(W: np.ndarray, V: np.ndarray | None = None) -> np.ndarray:
    """C [m, n]: cosine of each row of W [m, d] with each concept direction (rows of V [n, d]).

    ``V=None`` means W is already in concept coordinates (V = I). Zero rows give rows of zeros.
    Concept directions are assumed orthonormal (DESIGN A1); they are not re-normalised.
    """
    W = np.asarray(W, dtype=np.float64)
    proj = W if V is None else W @ np.asarray(V, dtype=np.float64).T
    norms = np.linalg.norm(W, axis=1)
    live = live_rows(W)
    C = np.zeros_like(proj)
    C[live] = proj[live] / norms[live, None]
    return C


def row_poly(C: np.ndarray) -> np.ndarray:
    """1 − max_i |C_ji| for every row of a cosine table [m, n]."""
    C = np.asarray(C, dtype=np.float64)
    if C.shape[1] == 0:
        return np.ones(C.shape[0])
    return 1.0 - np.max(np.abs(C), axis=1)


def polysemanticity(W: np.ndarray, V: np.ndarray | None = None, *, rows: np.ndarray | None = None) -> float:
    """P of the rows of W (mean over nonzero rows of 1 − max |cos|); 0 when no row is nonzero.

    ``rows`` optionally restricts the mean to a subset of latents (e.g. the live ones of a code);
    zero rows inside the subset are still excluded.
    """
    W = np.asarray(W, dtype=np.float64)
    keep = live_rows(W)
    if rows is not None:
        keep = keep & np.asarray(rows, dtype=bool)
    if not keep.any():
        return 0.0
    return float(np.mean(row_poly(cosine_table(W[keep], V))))


def binary_row_poly(t: int) -> float:
    """P contribution of a 0/1 (or ±1) row with t ≥ 1 nonzeros: 1 − 1/√t (0 for t = 0)."""
    return 0.0 if t <= 0 else 1.0 - 1.0 / math.sqrt(t)


def joint(p_enc: float, p_dec: float) -> float:
    """P_joint = (P_enc + P_dec) / 2."""
    return 0.5 * (p_enc + p_dec)
