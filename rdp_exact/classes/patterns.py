"""``real-atoms`` with any k (± bias): exact branch and bound over firing patterns with least-squares bounds.

For a fixed firing map z (the 0/1 matrix Z, one row per event, row sums ≤ k) the best atoms (and bias) solve a
weighted least-squares problem, whose value is

    L(Z) = Σ_s π_s ||x_s||² − Σ_i h_iᵀ G⁺ h_i,   G = Zᵀ Π Z,  h_i = Zᵀ Π x_·i   (Z with a column of ones for a bias).

The search assigns a latent set z(S) to one event at a time (events in decreasing π). On the events placed so
far, the least-squares value is a valid lower bound on every completion: adding events adds nonnegative terms to
the objective of any fixed decoder, so the minimum cannot fall (monotone), and the minimum over a union is at
least the sum of the minima over the parts (superadditive). As in :mod:`rdp_exact.classes.kone`, a node at
depth t is bounded by

    L(placed events ∪ {e_t} with its cheapest latent set) + OPT(e_{t+1}, …, e_{N−1}),

the suffix optima being solved first by the same search. Latents are interchangeable: an event may open new
latents only as the next unused indices. A rate budget prunes nodes whose firing mass exceeds r. ``optimal``
when the search completes; on a time limit, ``limit`` with the incumbent and the largest completed suffix optimum
as bound.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from rdp_exact.classes.problem import ClassProblem, ClassSolution, RealSAE, finish
from rdp_exact.errors import SolverUnavailable
from rdp_exact.problem import TOL, Status
from rdp_exact.solvers.brute import _version as _rdp_version

#: The package version and this search's revision (bumped when its results could change).
VERSION = f"{_rdp_version()}, patterns r1"
_EPS = 1e-12


class _Timeout(Exception):
    pass


def _ls_value(G: np.ndarray, H: np.ndarray, s2: float, masks: list[np.ndarray] | None = None) -> float:
    """Σπ||x||² − Σ_i h_iᵀ G⁺ h_i for the normal equations G [p, p], H [p, n]; ``masks[i]`` restricts the columns
    that may write concept i (monosemantic atoms)."""
    if not G.any():
        return s2
    if masks is None:
        sol = np.linalg.lstsq(G, H, rcond=None)[0]
        return max(0.0, s2 - float(np.sum(H * sol)))
    fit = 0.0
    for i, mk in enumerate(masks):
        if not mk.any():
            continue
        g, h = G[np.ix_(mk, mk)], H[mk, i]
        if g.any():
            fit += float(h @ np.linalg.lstsq(g, h, rcond=None)[0])
    return max(0.0, s2 - fit)


def _search(X: np.ndarray, p: np.ndarray, m: int, k: int, bias: bool, start: int, suffix_lb: list[float],
            rate_cap: float | None, deadline: float | None, concepts: tuple[int, ...] | None = None
            ) -> tuple[float, list[tuple[int, ...]] | None, bool]:
    N, n = X.shape
    cols = m + (1 if bias else 0)
    # (j, j2) with j < j2 interchangeable: j2 may fire only once j has fired (symmetry breaking)
    pairs = [(j, j2) for j in range(m) for j2 in range(j + 1, m)
             if concepts is None or concepts[j] == concepts[j2]]
    masks = None
    if concepts is not None:
        masks = [np.array([j < m and concepts[j] == i or j == m for j in range(cols)]) for i in range(n)]
    opts = [c for t in range(k + 1) for c in itertools.combinations(range(m), t)]
    rows = []
    for T in opts:
        z = np.zeros(cols)
        z[list(T)] = 1.0
        if bias:
            z[-1] = 1.0
        rows.append(z)
    best: list = [np.inf, None]
    assign: list[tuple[int, ...]] = [()] * N
    nodes = [0]

    def rec(t: int, G: np.ndarray, H: np.ndarray, s2: float, val: float, used: int, rate: float) -> None:
        if t == N:
            if val < best[0] - _EPS or best[1] is None:
                best[0] = val
                best[1] = list(assign)
            return
        nodes[0] += 1
        if deadline is not None and nodes[0] % 64 == 0 and time.perf_counter() > deadline:
            raise _Timeout
        x, w = X[t], p[t]
        s2n = s2 + w * float(x @ x)
        cands = []
        for T, z in zip(opts, rows, strict=True):
            # interchangeable latents (same concept, or all without concepts) are opened in index order
            now = used | sum(1 << j for j in T)
            if any(not now >> j & 1 and now >> j2 & 1 for j, j2 in pairs):
                continue
            if rate_cap is not None and rate + w * len(T) > rate_cap + TOL:
                continue
            Gn = G + w * np.outer(z, z)
            Hn = H + w * np.outer(z, x)
            cands.append((_ls_value(Gn, Hn, s2n, masks), T, Gn, Hn, now))
        cands.sort(key=lambda c: c[0])
        rest = suffix_lb[t + 1]
        for v, T, Gn, Hn, u2 in cands:
            if best[1] is not None and v + rest >= best[0] - _EPS:
                break
            assign[t] = T
            rec(t + 1, Gn, Hn, s2n, v, u2, rate + w * len(T))
        assign[t] = ()

    completed = True
    try:
        rec(start, np.zeros((cols, cols)), np.zeros((cols, n)), 0.0, 0.0, 0, 0.0)
    except _Timeout:
        completed = False
    return float(best[0]), best[1], completed


def _fit(problem: ClassProblem, X: np.ndarray, p: np.ndarray, active: list[tuple[int, ...]],
         concepts: tuple[int, ...] | None = None) -> RealSAE:
    m, (N, n) = problem.width, X.shape
    Z = np.zeros((N, m + (1 if problem.decoder_bias else 0)))
    for s, T in enumerate(active):
        Z[s, list(T)] = 1.0
    if problem.decoder_bias:
        Z[:, -1] = 1.0
    sw = np.sqrt(p)
    if concepts is None:
        theta = np.linalg.lstsq(sw[:, None] * Z, sw[:, None] * X, rcond=None)[0]
    else:
        theta = np.zeros((Z.shape[1], n))
        for i in range(n):
            mk = np.array([j < m and concepts[j] == i or j == m for j in range(Z.shape[1])])
            if mk.any():
                theta[mk, i] = np.linalg.lstsq(sw[:, None] * Z[:, mk], sw * X[:, i], rcond=None)[0]
    bias = theta[-1] if problem.decoder_bias else np.zeros(n)
    return RealSAE(atoms=theta[:m], bias=np.asarray(bias, dtype=np.float64), active=tuple(active),
                   codes=tuple((1.0,) * len(T) for T in active))


def solve_patterns(problem: ClassProblem, *, time_limit: float | None = None,
                   monosemantic: bool = False) -> ClassSolution:
    """Exact D* of ``real-atoms`` (any k, ± bias) by the search of the module docstring.

    ``monosemantic`` (P = 0): each latent writes one concept; every assignment of concepts to latents (a
    multiset, latents being interchangeable) is searched, with the least squares run per concept.
    """
    if problem.sae_class != "real-atoms":
        raise SolverUnavailable(f"the pattern search handles real-atoms, not {problem.label}")
    if monosemantic:
        return _solve_mono(problem, time_limit)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    pmf = problem.pmf
    X0 = pmf.indicator.astype(np.float64)
    p0 = np.asarray(pmf.probs, dtype=np.float64)
    order = np.lexsort((np.arange(len(p0)), -p0))
    X, p = X0[order], p0[order]
    N = len(p)
    suffix_lb = [0.0] * (N + 1)
    bound, completed = 0.0, True
    for t in range(N - 1, 0, -1):
        val, _, done = _search(X, p, problem.width, problem.k, problem.decoder_bias, t, suffix_lb, None, deadline)
        if not done:
            completed = False
            break
        suffix_lb[t] = val
        bound = max(bound, val)
    assign = None
    if completed:
        best, assign, completed = _search(X, p, problem.width, problem.k, problem.decoder_bias, 0, suffix_lb,
                                          problem.max_rate, deadline)
        if completed:
            bound = best
    active: list[tuple[int, ...]] = [()] * N
    if assign is not None:
        for t, T in enumerate(assign):
            active[int(order[t])] = T
    sae = _fit(problem, X0, p0, active)
    return finish(problem, sae, status=Status.OPTIMAL if completed else Status.LIMIT, method="pattern-bnb",
                  version=VERSION, wall=time.perf_counter() - t0, bound=bound, info={"events": N})


def _solve_mono(problem: ClassProblem, time_limit: float | None) -> ClassSolution:
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    pmf, m = problem.pmf, problem.width
    X0 = pmf.indicator.astype(np.float64)
    p0 = np.asarray(pmf.probs, dtype=np.float64)
    order = np.lexsort((np.arange(len(p0)), -p0))
    X, p = X0[order], p0[order]
    N = len(p)
    best, best_act, best_conc = np.inf, None, None
    bound, completed = np.inf, True
    for conc in itertools.combinations_with_replacement(range(pmf.n), m):
        suffix_lb = [0.0] * (N + 1)
        ok = True
        for t in range(N - 1, 0, -1):
            val, _, done = _search(X, p, m, problem.k, problem.decoder_bias, t, suffix_lb, None, deadline, conc)
            if not done:
                ok = False
                break
            suffix_lb[t] = val
        val, assign, done = (np.inf, None, False)
        if ok:
            val, assign, done = _search(X, p, m, problem.k, problem.decoder_bias, 0, suffix_lb, problem.max_rate,
                                        deadline, conc)
        if not (ok and done):
            completed = False
            bound = min(bound, suffix_lb[max(1, min(N - 1, 1))] if ok else 0.0)
        else:
            bound = min(bound, val)
        if assign is not None and val < best:
            best, best_act, best_conc = val, assign, conc
    active: list[tuple[int, ...]] = [()] * N
    if best_act is not None:
        for t, T in enumerate(best_act):
            active[int(order[t])] = T
    sae = _fit(problem, X0, p0, active, best_conc)
    if not completed:
        bound = 0.0
    return finish(problem, sae, status=Status.OPTIMAL if completed else Status.LIMIT, method="pattern-bnb",
                  version=VERSION, wall=time.perf_counter() - t0, bound=float(bound),
                  info={"events": N, "monosemantic": True})


__all__ = ["solve_patterns"]
