"""k = 1 in the real classes: an exact branch and bound over assignments of events to latents.

With at most one active latent per event the problem decomposes over a partition of the events into
"clusters", one per latent, plus the events on which nothing fires:

* ``real-atoms`` without bias: x̂(S) = w_j or 0. Latent j's best atom is the weighted mean of its events,
  so its cost is the weighted sum of squared deviations (SSE); the silent events pay Σ π|S| (the origin is
  a fixed extra centre).
* ``real-atoms`` with bias: x̂(S) = b + w_j or b: m + 1 free centres (b and b + w_j), each costing its SSE.
  The centre b is the one that costs no rate.
* ``real-codes`` without bias: x̂(S) = a·w_j with a ≥ 0, ||w_j|| = 1. Latent j's cost is its mass
  Σ π||x||² minus the top eigenvalue of M_j = Σ π x xᵀ (weighted line clustering through the origin). Every
  x_S ≥ 0, so the top eigenvector can be taken ≥ 0 (Perron–Frobenius) and the optimal codes ⟨x_S, w_j⟩ are ≥ 0:
  the sign constraint and any code cap a_max ≥ √n never bind.

(``real-codes`` with a bias does not decompose, since b couples the clusters; it goes to the MINLP.)

**Search.** Events are assigned one at a time in a fixed order (largest π first for SSE clusters, largest
π·|S| for line clusters). Latents are
interchangeable, so an event may open only the lowest-numbered unused latent. Every cluster cost above is
*monotone* (adding an event never lowers it) and *superadditive* (cost(A ∪ B) ≥ cost(A) + cost(B) for disjoint
A, B: SSE(A ∪ B) = SSE(A) + SSE(B) + w_A w_B/(w_A + w_B)·||μ_A − μ_B||², and a line fitted to A ∪ B is a line for
A and one for B). Hence, at a node that has placed events 0..t−1 with partial cost C, every completion costs at
least

    C + min_c [cost(c ∪ {e_t}) − cost(c)] + OPT(e_{t+1}, …, e_{N−1}),

where OPT of a suffix is the optimum of the same problem on those events alone (Koontz, Narendra and
Fukunaga's bound). The suffix optima are computed first, shortest suffix first, each by the same search. A node
whose bound is not below the incumbent by 1e−12 is pruned; children are tried cheapest first, so the first
leaf is a greedy solution. A rate budget R ≤ r prunes nodes whose firing mass already exceeds r (the suffix
bounds ignore it, which keeps them valid). The result is ``optimal`` when the search completes; on a time
limit it is ``limit`` with the incumbent and a valid bound (the largest completed suffix optimum, or the root
bound).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rdp_exact.classes.problem import ClassProblem, ClassSolution, RealSAE, finish
from rdp_exact.errors import SolverUnavailable
from rdp_exact.problem import TOL, Status

VERSION = "1"
_EPS = 1e-12


class _Timeout(Exception):
    pass


@dataclass
class _Setup:
    X: np.ndarray  # [N, n] events in search order
    p: np.ndarray  # [N]
    kinds: tuple[str, ...]  # per centre: "origin" | "sse" | "line"
    rate_cost: tuple[int, ...]  # per centre: 0 (silent / bias) or 1 (a latent fires)
    n_lat: int  # latent centres are 1..n_lat; centre 0 is the silent/bias centre
    symmetric: bool = False  # bias: all m + 1 centres interchangeable (1..n_lat used; heaviest becomes b)


def _cost(kind: str, w: float, s1: np.ndarray, s2: float, M: np.ndarray | None) -> float:
    if kind == "origin":
        return s2
    if w <= 0:
        return 0.0
    if kind == "sse":
        return max(0.0, s2 - float(s1 @ s1) / w)
    assert M is not None
    return max(0.0, s2 - float(np.linalg.eigvalsh(M)[-1]))


def _search(st: _Setup, start: int, suffix_lb: list[float], rate_cap: float | None, deadline: float | None,
            ub: float) -> tuple[float, list[int] | None, bool]:
    """Optimal assignment of events start..N−1; returns (cost, assignment or None, completed)."""
    X, p, kinds, rate_cost, n_lat = st.X, st.p, st.kinds, st.rate_cost, st.n_lat
    N, n = X.shape
    C = len(kinds)
    W = [0.0] * C
    S1 = [np.zeros(n) for _ in range(C)]
    S2 = [0.0] * C
    M = [np.zeros((n, n)) if kinds[c] == "line" else None for c in range(C)]
    cost = [0.0] * C
    assign = [-1] * N
    best: list[Any] = [ub, None]
    nodes = [0]
    sq = [float(x @ x) for x in X]
    suffix_mass = [float(v) for v in np.cumsum(p[::-1])[::-1]] + [0.0]
    outer = [np.outer(x, x) for x in X]

    def rec(t: int, total: float, used: int, rate: float) -> None:
        if t == N:
            if total < best[0] - _EPS or best[1] is None and total <= best[0] + _EPS:
                best[0] = total
                best[1] = list(assign)
            return
        nodes[0] += 1
        if deadline is not None and nodes[0] % 256 == 0 and time.perf_counter() > deadline:
            raise _Timeout
        x, w = X[t], p[t]
        cands = []
        top = min(used + 1, n_lat)
        first = 1 if st.symmetric else 0
        rest_mass = suffix_mass[t]
        for c in range(first, top + 1):
            if not st.symmetric and rate_cost[c] and rate_cap is not None and rate + w > rate_cap + TOL:
                continue
            if st.symmetric and rate_cap is not None:
                # the heaviest cluster becomes the bias (rate 0): some cluster must reach mass 1 − r
                heaviest = max(W[cc] + (w if cc == c else 0.0) for cc in range(1, top + 1))
                if heaviest + rest_mass - w < 1.0 - rate_cap - TOL:
                    continue
            kind = kinds[c]
            if kind == "origin":
                new = cost[c] + w * sq[t]
            elif kind == "sse":
                if W[c] <= 0:
                    new = 0.0
                else:
                    d = x - S1[c] / W[c]
                    new = cost[c] + W[c] * w / (W[c] + w) * float(d @ d)
            else:
                new = _cost("line", W[c] + w, S1[c], S2[c] + w * sq[t], M[c] + w * outer[t])  # type: ignore[operator]
            cands.append((new - cost[c], c, new))
        cands.sort()
        rest = suffix_lb[t + 1]
        for d, c, new in cands:
            if total + d + rest >= best[0] - _EPS and best[1] is not None:
                break
            old = (W[c], S1[c], S2[c], M[c], cost[c])
            W[c] += w
            S1[c] = S1[c] + w * x
            S2[c] += w * sq[t]
            if M[c] is not None:
                M[c] = M[c] + w * outer[t]
            cost[c] = new
            assign[t] = c
            rec(t + 1, total + d, max(used, c) if c >= 1 else used,
                rate + (0.0 if st.symmetric else w * rate_cost[c]))
            W[c], S1[c], S2[c], M[c], cost[c] = old
            assign[t] = -1

    completed = True
    try:
        rec(start, 0.0, 0, 0.0)
    except _Timeout:
        completed = False
    return best[0], best[1], completed


def _setup(problem: ClassProblem) -> tuple[_Setup, np.ndarray]:
    pmf, m = problem.pmf, problem.width
    X = pmf.indicator.astype(np.float64)
    p = np.asarray(pmf.probs, dtype=np.float64)
    # search order (measured, see benchmarks/bench_classes.py): heaviest events first for the SSE clusters,
    # largest π·|S| first for line clusters
    key = p if problem.sae_class == "real-atoms" else p * X.sum(axis=1)
    order = np.lexsort((np.arange(len(p)), -key))
    if problem.sae_class == "real-atoms" and problem.decoder_bias:
        # m + 1 interchangeable free centres at 1..m+1; the heaviest becomes the bias (centre 0)
        return _Setup(X=X[order], p=p[order], kinds=("sse", *("sse",) * (m + 1)), rate_cost=(0, *(1,) * (m + 1)),
                      n_lat=m + 1, symmetric=True), order
    if problem.sae_class == "real-atoms":
        kinds = ("origin", *("sse",) * m)
    elif problem.sae_class == "real-codes" and not problem.decoder_bias:
        kinds = ("origin", *("line",) * m)
    else:
        raise SolverUnavailable(f"the k = 1 decomposition handles real-atoms (± bias) and real-codes without bias, "
                                f"not {problem.label}")
    return _Setup(X=X[order], p=p[order], kinds=kinds, rate_cost=(0, *(1,) * m), n_lat=m), order


def _build_sae(problem: ClassProblem, st: _Setup, order: np.ndarray, assign: list[int]) -> RealSAE:
    m, n = problem.width, problem.pmf.n
    N = len(assign)
    if st.symmetric:
        groups = [[t for t in range(N) if assign[t] == c] for c in range(1, m + 2)]
        heavy = max(range(m + 1), key=lambda g: (float(st.p[groups[g]].sum()), -g))
        members = [groups[heavy]] + [g for i, g in enumerate(groups) if i != heavy]
        assign = [0] * N
        for c, idx in enumerate(members):
            for t in idx:
                assign[t] = c
    else:
        members = [[t for t in range(N) if assign[t] == c] for c in range(m + 1)]

    def mean(idx: list[int]) -> np.ndarray:
        w = st.p[idx]
        return (st.X[idx].T @ w) / w.sum()

    bias = np.zeros(n)
    if st.kinds[0] == "sse" and members[0]:
        bias = mean(members[0])
    atoms = np.zeros((m, n))
    for c in range(1, m + 1):
        idx = members[c]
        if not idx:
            continue
        if st.kinds[c] == "sse":
            atoms[c - 1] = mean(idx) - bias
        else:
            Mc = (st.X[idx].T * st.p[idx]) @ st.X[idx]
            vec = np.linalg.eigh(Mc)[1][:, -1]
            atoms[c - 1] = vec if vec.sum() >= 0 else -vec
    active: list[tuple[int, ...]] = [()] * N
    codes: list[tuple[float, ...]] = [()] * N
    for t, c in enumerate(assign):
        s = int(order[t])
        if c == 0:
            continue
        j = c - 1
        a = 1.0 if st.kinds[c] == "sse" else max(0.0, float(st.X[t] @ atoms[j]))
        active[s] = (j,)
        codes[s] = (a,)
    return RealSAE(atoms=atoms, bias=bias, active=tuple(active), codes=tuple(codes))


def solve_kone(problem: ClassProblem, *, time_limit: float | None = None) -> ClassSolution:
    """Exact D* for k = 1 (module docstring). Raises SolverUnavailable outside its classes."""
    if problem.k != 1:
        raise SolverUnavailable(f"the k = 1 decomposition needs k = 1, got k = {problem.k}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    st, order = _setup(problem)
    N = len(st.p)
    suffix_lb = [0.0] * (N + 1)
    bound = 0.0
    completed = True
    for t in range(N - 1, 0, -1):
        val, _, done = _search(st, t, suffix_lb, None, deadline, np.inf)
        if not done:
            completed = False
            break
        suffix_lb[t] = val
        bound = max(bound, val)
    best, assign = np.inf, None
    if completed:
        best, assign, completed = _search(st, 0, suffix_lb, problem.max_rate, deadline, np.inf)
        if completed:
            bound = best
    if assign is None:
        # a time limit before any leaf: fall back to "nothing fires" (feasible under every budget)
        assign = [0] * N if st.kinds[0] == "origin" else [0] * N
    sae = _build_sae(problem, st, order, assign)
    info = {"events": N, "suffix_bounds": completed}
    return finish(problem, sae, status=Status.OPTIMAL if completed else Status.LIMIT, method="kone-bnb",
                  version=VERSION, wall=time.perf_counter() - t0, bound=bound, info=info)


__all__ = ["solve_kone"]
