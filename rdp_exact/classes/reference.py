"""Slow reference for the real SAE classes: enumerate firing patterns, solve each in closed form.

Written to share no code with :mod:`rdp_exact.classes.kone` or :mod:`rdp_exact.classes.minlp` (only the
input/output records), so that tests and benchmarks can use it as an independent implementation.

* ``real-atoms`` (± bias, any k, optional rate budget, optional monosemantic atoms): for a fixed firing
  map z (an N × m 0/1 matrix Z with row sums ≤ k) the best atoms (and bias) solve the weighted least-squares
  problem min ||diag(√π)(X − [Z | 1] Θ)||²_F, one column per concept. Monosemantic atoms (P = 0) fix which
  concept each latent may write; the least squares then runs per concept on the latents writing it.
* ``real-codes`` without bias and k = 1: for a fixed assignment of events to latents (or to nothing) each
  latent's cost is its mass minus the top eigenvalue of its weighted second-moment matrix Σ π x xᵀ (the
  Perron eigenvector is nonnegative because every x_S is, so the optimal codes ⟨x_S, w⟩ are ≥ 0).

Other cases (real-codes with k ≥ 2 or with a bias) raise :class:`~rdp_exact.errors.SolverUnavailable`:
for them a fixed firing map still leaves a nonconvex problem, so there is no closed form per pattern.
The enumeration breaks the latent symmetry (latents first fire in index order) and nothing else; it is
meant for N ≤ 6 events and m ≤ 3 latents.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import numpy as np

from rdp_exact.classes.problem import ClassProblem, ClassSolution, RealSAE, finish
from rdp_exact.errors import SolverUnavailable
from rdp_exact.problem import TOL, Status
from rdp_exact.solvers.brute import _version as _rdp_version

#: The package version and this search's revision (bumped when its results could change).
VERSION = f"{_rdp_version()}, reference r1"
#: Largest number of firing patterns the reference enumerates.
MAX_PATTERNS = 2_000_000


def _patterns(N: int, m: int, k: int) -> Iterator[tuple[tuple[int, ...], ...]]:
    """Firing maps (one latent tuple per event) where latents first appear in index order."""
    opts = [c for t in range(k + 1) for c in itertools.combinations(range(m), t)]
    for pat in itertools.product(opts, repeat=N):
        seen = -1
        ok = True
        for act in pat:
            for j in act:
                if j > seen + 1:
                    ok = False
                    break
                seen = max(seen, j)
            if not ok:
                break
        if ok:
            yield pat


def _check_size(problem: ClassProblem, k: int) -> None:
    import math

    N, m = problem.pmf.support_size, problem.width
    per = sum(math.comb(m, t) for t in range(k + 1))
    if per**N > MAX_PATTERNS * math.factorial(m):
        raise SolverUnavailable(f"the reference enumerates {per}^{N} firing patterns; too many (N ≤ 6, m ≤ 3)")


def _ls_atoms(X: np.ndarray, sw: np.ndarray, Z: np.ndarray, bias: bool,
              concept: tuple[int, ...] | None) -> tuple[float, np.ndarray, np.ndarray]:
    """Best atoms W [m, n] and bias b [n] for the firing matrix Z [N, m]; returns (D, W, b)."""
    N, n = X.shape
    m = Z.shape[1]
    W = np.zeros((m, n))
    b = np.zeros(n)
    D = 0.0
    for i in range(n):
        cols = list(range(m)) if concept is None else [j for j in range(m) if concept[j] == i]
        A = Z[:, cols].astype(np.float64)
        if bias:
            A = np.hstack([A, np.ones((N, 1))])
        y = X[:, i]
        if A.shape[1] == 0:
            D += float(np.sum((sw * y) ** 2))
            continue
        theta, *_ = np.linalg.lstsq(sw[:, None] * A, sw * y, rcond=None)
        D += float(np.sum((sw * (y - A @ theta)) ** 2))
        W[cols, i] = theta[: len(cols)]
        if bias:
            b[i] = theta[-1]
    return D, W, b


def _real_atoms(problem: ClassProblem, monosemantic: bool) -> tuple[float, RealSAE | None]:
    pmf, m, k = problem.pmf, problem.width, problem.k
    X = pmf.indicator.astype(np.float64)
    p = np.asarray(pmf.probs, dtype=np.float64)
    sw = np.sqrt(p)
    concepts: list[tuple[int, ...] | None] = (
        list(itertools.product(range(pmf.n), repeat=m)) if monosemantic else [None])
    best, best_sae = np.inf, None
    for pat in _patterns(len(X), m, k):
        rate = float(sum(pi * len(a) for pi, a in zip(p, pat, strict=True)))
        if problem.max_rate is not None and rate > problem.max_rate + TOL:
            continue
        Z = np.zeros((len(X), m), dtype=np.int64)
        for s, act in enumerate(pat):
            Z[s, list(act)] = 1
        for conc in concepts:
            D, W, b = _ls_atoms(X, sw, Z, problem.decoder_bias, conc)
            if D < best - 1e-12:
                best = D
                best_sae = RealSAE(atoms=W, bias=b, active=pat, codes=tuple((1.0,) * len(a) for a in pat))
    return float(best), best_sae


def _real_codes_k1(problem: ClassProblem) -> tuple[float, RealSAE | None]:
    pmf, m = problem.pmf, problem.width
    X = pmf.indicator.astype(np.float64)
    p = np.asarray(pmf.probs, dtype=np.float64)
    best, best_sae = np.inf, None
    for pat in _patterns(len(X), m, 1):
        rate = float(sum(pi * len(a) for pi, a in zip(p, pat, strict=True)))
        if problem.max_rate is not None and rate > problem.max_rate + TOL:
            continue
        D = 0.0
        W = np.zeros((m, pmf.n))
        for j in range(m):
            idx = [s for s, a in enumerate(pat) if a == (j,)]
            if not idx:
                continue
            M = (X[idx].T * p[idx]) @ X[idx]
            vals, vecs = np.linalg.eigh(M)
            D += float(np.trace(M) - vals[-1])
            w = vecs[:, -1]
            W[j] = w if w.sum() >= 0 else -w
        D += float(sum(p[s] * X[s].sum() for s, a in enumerate(pat) if not a))
        if D < best - 1e-12:
            best = D
            codes = tuple(tuple(float(max(0.0, X[s] @ W[j])) for j in a) for s, a in enumerate(pat))
            best_sae = RealSAE(atoms=W, bias=np.zeros(pmf.n), active=pat, codes=codes)
    return float(best), best_sae


def reference_solve(problem: ClassProblem, *, monosemantic: bool = False) -> ClassSolution:
    """D* of ``problem`` by enumeration (module docstring); ``monosemantic`` restricts to P = 0 atoms
    (real-atoms only)."""
    t0 = time.perf_counter()
    if problem.sae_class == "real-atoms":
        _check_size(problem, problem.k)
        D, sae = _real_atoms(problem, monosemantic)
    elif problem.sae_class == "real-codes" and problem.k == 1 and not problem.decoder_bias and not monosemantic:
        _check_size(problem, 1)
        D, sae = _real_codes_k1(problem)
    else:
        raise SolverUnavailable(
            f"the slow reference handles real-atoms and real-codes with k = 1 without bias, not {problem.label} "
            f"with k = {problem.k}" + (" (monosemantic)" if monosemantic else ""))
    return finish(problem, sae, status=Status.OPTIMAL, method="reference", version=VERSION,
                  wall=time.perf_counter() - t0, bound=D, info={"monosemantic": monosemantic})


__all__ = ["reference_solve"]
