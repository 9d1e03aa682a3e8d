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

**Search.** Events are assigned one at a time in a fixed weighted farthest-first order (next the event with the
largest π_e · squared distance to the nearest event already ordered — to the nearest line through one for line
clusters — the origin counting as ordered when it is a fixed centre). Latents are interchangeable, so an event
may open only the lowest-numbered unused latent. Every cluster cost above is *monotone* (adding an event never
lowers it) and *superadditive* (cost(A ∪ B) ≥ cost(A) + cost(B) for disjoint A, B: SSE(A ∪ B) = SSE(A) + SSE(B)
+ w_A w_B/(w_A + w_B)·||μ_A − μ_B||², and a line fitted to A ∪ B is a line for A and one for B).

**Bound.** At a node that has placed events 0..t−1 (cluster c holds A_c, partial cost C = Σ_c cost(A_c)), split
the unplaced events into a block B₁ = e_t..e_j and the suffix B₂ = e_{j+1}..e_{N−1} (any t − 1 ≤ j ≤ N − 1). If a
completion sends B₁_c ⊆ B₁ and B₂_c ⊆ B₂ to cluster c, superadditivity gives

    cost = Σ_c cost(A_c ∪ B₁_c ∪ B₂_c) ≥ C + Σ_c [cost(A_c ∪ B₁_c) − cost(A_c)] + OPT(B₂),

where OPT of a suffix is the optimum of the same problem on those events alone (Koontz, Narendra and
Fukunaga's bound; the suffix optima are computed first, shortest suffix first, each by the same search). The
increment of cluster c is bounded *per event*. Let P = π(B₁) ≥ π(B₁_c).

* SSE, A = A_c of mass w_A and mean μ_A: cost(A ∪ B) − cost(A) = min_μ [w_A||μ_A − μ||² + Σ_{e∈B} π_e||x_e − μ||²].
  Share w_A among the events, α_e = w_A π_e/P (Σ_{e∈B} α_e ≤ w_A), and minimise each term alone:
  min_μ α_e||μ_A − μ||² + π_e||x_e − μ||² = α_e π_e/(α_e + π_e)·||μ_A − x_e||², i.e.

      f(e, c) = π_e ||x_e − μ_A||² · w_A / (w_A + P).

* Line, A with M_A = Σ π x xᵀ, top eigenvalue λ_A and eigengap g_A = λ_A − λ₂(M_A) ≥ 0, top vector v_A:
  cost(A ∪ B) − cost(A) = min_{||u||=1} [(λ_A − uᵀM_A u) + Σ_{e∈B} π_e(||x_e||² − (uᵀx_e)²)]. Sharing the first term
  with weights π_e/P and minimising each term alone gives π_e λ_min((λ_A I − M_A)/P + ||x_e||² I − x_e x_eᵀ), and
  λ_A I − M_A ⪰ g_A (I − v_A v_Aᵀ). With a = g_A/P, b = ||x_e||², ρ = ||x_e||² − (v_Aᵀx_e)², the smallest eigenvalue
  of a(I − v vᵀ) + b(I − x̂ x̂ᵀ) is its 2 × 2 determinant over its largest eigenvalue:

      f(e, c) = π_e · a ρ / ((a + b)/2 + √((a − b)²/4 + a (b − ρ))).

* The origin (silent events, a fixed centre): f(e, 0) = π_e ||x_e||², exactly. An empty cluster: f = 0.

So every completion costs at least C + max_j [Σ_{e∈B₁} min_c f(e, c) + OPT(B₂)] (j = t − 1 is the plain
OPT(e_t..)). The maximum over j (block lengths 1–5, 7, 9, 12, 16, … and the whole remainder) is taken for every
child of a node (the distances to the unchanged centres computed once per node), once every latent is in use
(before that an unused latent serves any event at increment ≥ 0 and the bound is OPT(e_t..)). A child whose bound is not below the
incumbent by 1e−12 is pruned; children are tried cheapest first.

**Incumbents.** Each suffix search starts from the previous suffix optimum with the new event inserted where it
costs least, improved by Lloyd descent (centres ↔ assignments; never raises the cost); the whole problem also tries
:data:`RESTARTS` Lloyd descents from weighted k-means++ seeds, which is the answer kept when a time limit stops the
suffix searches. A rate budget R ≤ r prunes nodes whose firing mass already exceeds r (the bounds ignore it, which
keeps them valid); a descent incumbent is used only when it meets r.

**Suffix optima.** OPT(e_t..) is computed for the shorter suffixes only (shortest first); for the longest
quarter (t ≤ ⌊N/4⌋) it is replaced by OPT(e_{t+1}..), a valid lower bound since removing an event never raises a
cost. Those values serve only the top levels of the final search, where nodes are few, and computing them
cost more nodes than they saved (measured at N = 32, m = 4: 2.5× fewer nodes in all).

**Line children without an eigendecomposition.** Before a line child's cost is computed exactly, its rise is
bounded below from the cluster's top eigenpair and eigengap alone (a 2 × 2 eigenproblem, see
:func:`rdp_exact.classes.kone_kernel._line_increment_lower`); a child that this bound already prunes is dropped.

**Implementation.** The depth-first search and the bound run compiled (:mod:`rdp_exact.classes.kone_kernel`,
numba, cached on disk after the first call: a node costs a few microseconds, ~30× less than the same search
interpreted); the suffix loop, the incumbents and the reported SAE stay in NumPy here.

**The LP proof first (real-atoms ± bias and real-codes, no rate budget, N ≥ :data:`LP_FROM_EVENTS`).** The same
partition problem as a set-partitioning integer program has an LP relaxation that column generation solves with an
exact pricer (:mod:`rdp_exact.classes.kone_lp`; for line clusters an event-set branch and bound,
:mod:`rdp_exact.classes.kone_line_kernel`); its Lagrangian bound is valid for any duals, and when the LP optimum
is integral (on every random SSE pmf tried up to N = 64 but one) the LP's partition is returned as ``optimal`` with
that bound (method ``kone-colgen``), before any search. For line clusters a fractional optimum is closed by the
integer program over the pool of every column within the gap of reduced cost (``kone_lp``, "Pool"), also
``kone-colgen``. Otherwise (or past :data:`LP_SHARE` of a time limit) the search below runs with the LP's bound
kept and its partition (if integral) as an incumbent; a search stopped by the time limit is still ``optimal`` when
its incumbent meets the LP's bound.

The result is ``optimal`` when the search completes; on a time limit it is ``limit`` with the incumbent and a
valid bound (the largest completed suffix optimum, or the root bound).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rdp_exact.classes.kone_lp import LPResult, lp_bound
from rdp_exact.classes.problem import ClassProblem, ClassSolution, RealSAE, finish
from rdp_exact.errors import SolverUnavailable
from rdp_exact.problem import TOL, Status, relative_gap
from rdp_exact.solvers.brute import _version as _rdp_version

#: The package version and this search's revision (bumped when its results could change).
VERSION = f"{_rdp_version()}, kone r5"
#: Fraction of the longest suffixes whose optimum is not computed (module docstring, "Suffix optima").
SKIP_FRACTION = 0.25
#: Events from which real-atoms (± bias) and real-codes without a rate budget try the LP proof first (module
#: docstring; measured in benchmarks/bench_classes.py: below it the search alone is as fast, and at N = 24 the LP
#: was 0.5–3.9× faster).
LP_FROM_EVENTS = 24
#: Share of a time limit that the LP proof may use before the search starts.
LP_SHARE = 0.5
#: Lloyd restarts (weighted k-means++ seeds) for the first incumbent of the whole problem.
RESTARTS = 8
#: Block lengths − 1 at which the bound of the module docstring is evaluated (plus the whole remainder).
_BLOCK_ENDS = np.array([0, 1, 2, 3, 4, 6, 8, 11, 15, 20, 26, 33, 41, 50, 60, 1 << 30])
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

    @property
    def line(self) -> bool:
        return "line" in self.kinds

    @property
    def sq(self) -> np.ndarray:
        return np.einsum("ij,ij->i", self.X, self.X)


def _cluster_cost(st: _Setup, c: int, idx: np.ndarray) -> float:
    """Exact cost of centre c serving the events ``idx`` (module docstring)."""
    if len(idx) == 0:
        return 0.0
    X, p = st.X[idx], st.p[idx]
    s2 = float(p @ np.einsum("ij,ij->i", X, X))
    if st.kinds[c] == "origin":
        return s2
    if st.kinds[c] == "sse":
        s1 = X.T @ p
        return max(0.0, s2 - float(s1 @ s1) / float(p.sum()))
    return max(0.0, s2 - float(np.linalg.eigvalsh((X.T * p) @ X)[-1]))


def _total_cost(st: _Setup, assign: np.ndarray, events: np.ndarray) -> float:
    return sum(_cluster_cost(st, c, events[assign[events] == c]) for c in range(len(st.kinds)))


def _feasible(st: _Setup, assign: np.ndarray, rate_cap: float | None) -> bool:
    """Whether a full assignment meets the rate budget (the heaviest free centre is the bias when symmetric)."""
    if rate_cap is None:
        return True
    mass = np.bincount(assign, weights=st.p, minlength=len(st.kinds))
    if st.symmetric:
        return float(st.p.sum() - mass[1:].max()) <= rate_cap + TOL
    return float(sum(mass[c] for c in range(len(st.kinds)) if st.rate_cost[c])) <= rate_cap + TOL


def _lloyd(st: _Setup, assign: np.ndarray, events: np.ndarray, iters: int = 30) -> tuple[float, np.ndarray]:
    """Lloyd descent on ``events`` (centres ↔ nearest centre; an empty latent takes the worst-served event).

    Each step keeps or lowers the exact cost; returns the best cost seen and its assignment.
    """
    a = assign.copy()
    C = len(st.kinds)
    first = 1 if st.symmetric else 0
    best, best_a = _total_cost(st, a, events), a.copy()
    X, p = st.X[events], st.p[events]
    sq = np.einsum("ij,ij->i", X, X)
    for _ in range(iters):
        D = np.full((len(events), C), np.inf)
        for c in range(first, C):
            idx = events[a[events] == c]
            kind = st.kinds[c]
            if kind == "origin":
                D[:, c] = sq
            elif len(idx) == 0:
                continue
            elif kind == "sse":
                mu = st.X[idx].T @ st.p[idx] / float(st.p[idx].sum())
                D[:, c] = np.einsum("ij,ij->i", X - mu, X - mu)
            else:
                v = np.linalg.eigh((st.X[idx].T * st.p[idx]) @ st.X[idx])[1][:, -1]
                D[:, c] = sq - (X @ v) ** 2
        new = first + np.argmin(D[:, first:], axis=1)
        for c in range(1, C):
            if not np.any(new == c):  # an empty latent takes the event served worst
                served = p * D[np.arange(len(events)), new]
                worst = int(np.argmax(served))
                if served[worst] <= 0:
                    break
                new[worst] = c
                D[worst, :] = 0.0
        if np.array_equal(new, a[events]):
            break
        a[events] = new
        cost = _total_cost(st, a, events)
        if cost < best - _EPS:
            best, best_a = cost, a.copy()
        else:
            break
    return best, best_a


class _Search:
    """Depth-first search over the events start..N−1 with the block/suffix bound of the module docstring.

    The search itself runs compiled (:mod:`rdp_exact.classes.kone_kernel`); this class holds its inputs.
    """

    def __init__(self, st: _Setup, suffix_lb: np.ndarray, deadline: float | None) -> None:
        from rdp_exact.classes import kone_kernel as kk  # numba is imported only when a search runs

        self.st = st
        self.suffix_lb = suffix_lb
        self.deadline = deadline
        X = np.ascontiguousarray(st.X, dtype=np.float64)
        self.N, self.n = X.shape
        self.C = len(st.kinds)
        code = {"origin": kk.ORIGIN, "sse": kk.SSE, "line": kk.LINE}
        pre = np.concatenate([[0.0], np.cumsum(st.p)])
        # block ends j − t taken for the bound: all short blocks, then a spread subset (measured: as strong, cheaper)
        js = [np.unique(np.minimum(_BLOCK_ENDS, max(E - 1, 0))) for E in range(self.N + 1)]
        js_cnt = np.array([len(a) if E > 0 else 0 for E, a in enumerate(js)], dtype=np.int64)
        js_off = np.concatenate([[0], np.cumsum(js_cnt)[:-1]]).astype(np.int64)
        js_all = np.concatenate(js).astype(np.int64)
        self.data = (X, np.ascontiguousarray(st.p, dtype=np.float64), np.ascontiguousarray(st.sq), pre, suffix_lb,
                     np.einsum("ij,ik->ijk", X, X), np.array([code[k] for k in st.kinds], dtype=np.int64),
                     np.array(st.rate_cost, dtype=np.int64), js_all, js_off, js_cnt)
        self.work = kk.workspace(self.N, self.C, self.n)
        self.nodes = 0
        self._kernel = kk.search
        self._call = kk.call

    def run(self, start: int, rate_cap: float | None, ub: float, incumbent: np.ndarray | None
            ) -> tuple[float, np.ndarray | None, bool]:
        """Optimal assignment of events start..N−1; returns (cost, assignment or None, completed).

        The centre statistics start empty (the events before ``start`` are not part of this search).
        """
        C, n, N = self.C, self.n, self.N
        state = (np.zeros(C), np.zeros((C, n)), np.zeros(C), np.zeros((C, n, n)), np.zeros(C), np.zeros((C, n)),
                 np.zeros((C, n)), np.zeros(C), np.full(N, -1, dtype=np.int64))
        best_val = np.array([ub], dtype=np.float64)
        best_assign = np.full(N, -1, dtype=np.int64) if incumbent is None else incumbent.astype(np.int64).copy()
        counters = np.array([0, 0 if incumbent is None else 1], dtype=np.int64)
        par = np.array([self.st.n_lat, 1.0 if self.st.symmetric else 0.0,
                        np.inf if rate_cap is None else rate_cap,
                        np.inf if self.deadline is None else self.deadline, TOL, 1.0 if self.st.line else 0.0])
        stopped = self._call(self._kernel, start, 0.0, 0, 0.0, self.data, state, self.work, best_val, best_assign,
                             counters, par)
        self.nodes += int(counters[0])
        found = best_assign if counters[1] == 1 else None
        return float(best_val[0]), found, not stopped


def _farthest_first(X: np.ndarray, p: np.ndarray, *, origin: bool, line: bool) -> np.ndarray:
    """Greedy order: next the event with the largest π_e · (squared distance to the nearest event placed so far)."""
    N = len(p)
    sq = np.einsum("ij,ij->i", X, X)
    if line:
        nrm = np.sqrt(np.maximum(sq, 1e-300))
        U = X / nrm[:, None]
        dist = lambda i: sq - (X @ U[i]) ** 2  # noqa: E731
    else:
        dist = lambda i: np.einsum("ij,ij->i", X - X[i], X - X[i])  # noqa: E731
    near = sq.copy() if origin else np.full(N, np.inf)
    order: list[int] = []
    left = np.ones(N, dtype=bool)
    for _ in range(N):
        score = np.where(left, p * np.where(np.isfinite(near), near, 1e9), -1.0)
        i = int(np.argmax(score))
        order.append(i)
        left[i] = False
        near = np.minimum(near, dist(i))
    return np.array(order)


def _setup(problem: ClassProblem) -> tuple[_Setup, np.ndarray]:
    pmf, m = problem.pmf, problem.width
    X = pmf.indicator.astype(np.float64)
    p = np.asarray(pmf.probs, dtype=np.float64)
    # search order: weighted farthest-first (measured against heaviest-first in benchmarks/bench_classes.py)
    order = _farthest_first(X, p, origin=not (problem.sae_class == "real-atoms" and problem.decoder_bias),
                            line=problem.sae_class == "real-codes")
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


def _restarts(st: _Setup, tries: int, seed: int = 0) -> tuple[float, np.ndarray]:
    """Best of ``tries`` Lloyd descents from weighted k-means++ seeds (a first incumbent for the whole problem)."""
    rng = np.random.default_rng(seed)
    N = len(st.p)
    events = np.arange(N)
    first = 1 if st.symmetric else 0
    X, p = st.X, st.p
    sq = np.einsum("ij,ij->i", X, X)
    best, best_a = np.inf, np.full(N, first, dtype=np.int64)
    for _ in range(tries):
        seeds: list[int] = []
        near = sq.copy() if not st.symmetric else np.full(N, np.inf)
        for _c in range(st.n_lat):
            score = p * np.where(np.isfinite(near), near, 1.0)
            if score.sum() <= 0:
                break
            i = int(rng.choice(N, p=score / score.sum()))
            seeds.append(i)
            d = (sq - (X @ X[i]) ** 2 / max(sq[i], 1e-300)) if st.line else ((X - X[i]) ** 2).sum(axis=1)
            near = np.minimum(near, d)
        if not seeds:
            continue
        D = np.stack([(sq - (X @ X[i]) ** 2 / max(sq[i], 1e-300)) if st.line else ((X - X[i]) ** 2).sum(axis=1)
                      for i in seeds], axis=1)
        if not st.symmetric:
            D = np.hstack([sq[:, None], D])
        a = np.argmin(D, axis=1) + first
        cost, a = _lloyd(st, a.astype(np.int64), events)
        if cost < best:
            best, best_a = cost, a
    return best, best_a


def _insert(st: _Setup, assign: np.ndarray, t: int, events: np.ndarray) -> np.ndarray:
    """``assign`` on events t+1.. with event t added to the centre where the total cost rises least."""
    first = 1 if st.symmetric else 0
    best_c, best_v = first, np.inf
    a = assign.copy()
    for c in range(first, len(st.kinds)):
        a[t] = c
        v = _total_cost(st, a, events)
        if v < best_v:
            best_c, best_v = c, v
    a[t] = best_c
    return a


def _lp_applies(problem: ClassProblem, N: int) -> bool:
    """Whether the set-partitioning LP (:mod:`rdp_exact.classes.kone_lp`) is tried before the search."""
    return (problem.max_rate is None and N >= LP_FROM_EVENTS
            and (problem.sae_class == "real-atoms" or (problem.sae_class == "real-codes" and not problem.decoder_bias)))


def _try_lp(st: _Setup, deadline: float | None) -> LPResult:
    """Column generation on the whole problem, seeded with the clusters of the best Lloyd restart."""
    _, start = _restarts(st, RESTARTS)
    clusters = [np.flatnonzero(start == c) for c in range(1, len(st.kinds))]
    return lp_bound(st.X, st.p, st.n_lat, not st.symmetric, clusters, deadline, line=st.line)


def solve_kone(problem: ClassProblem, *, time_limit: float | None = None) -> ClassSolution:
    """Exact D* for k = 1 (module docstring). Raises SolverUnavailable outside its classes."""
    if problem.k != 1:
        raise SolverUnavailable(f"the k = 1 decomposition needs k = 1, got k = {problem.k}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    st, order = _setup(problem)
    N = len(st.p)
    first = 1 if st.symmetric else 0
    lp = None
    if _lp_applies(problem, N):
        # the LP gets at most LP_SHARE of a time limit; the search keeps the rest when the LP does not prove
        lp = _try_lp(st, None if time_limit is None else t0 + LP_SHARE * time_limit)
        if lp.assign is not None and relative_gap(lp.cost, lp.bound) == 0.0:
            sae = _build_sae(problem, st, order, [int(c) for c in lp.assign])
            return finish(problem, sae, status=Status.OPTIMAL, method="kone-colgen", version=VERSION,
                          wall=time.perf_counter() - t0, bound=lp.bound,
                          info={"events": N, "lp_columns": lp.columns, "lp_rounds": lp.rounds,
                                "pricer_nodes" if st.line else "pricer_boxes": lp.boxes, "lp_pool": lp.pool})
    suffix_lb = np.zeros(N + 1)
    search = _Search(st, suffix_lb, deadline)
    bound = 0.0
    completed = True
    heur = np.full(N, first, dtype=np.int64)  # optimum (or incumbent) of the suffix e_lo.. solved last
    lo = N
    skip = int(SKIP_FRACTION * N)
    for t in range(N - 1, 0, -1):
        if t <= skip:
            suffix_lb[t] = suffix_lb[t + 1]
            continue
        events = np.arange(t, N)
        ub, inc = _lloyd(st, _insert(st, heur, t, events), events)
        val, a, done = search.run(t, None, ub, inc)
        if a is not None:
            heur, lo = a, t
        if not done:
            completed = False
            break
        suffix_lb[t] = val
        bound = max(bound, val)
    for s in range(lo - 1, -1, -1):  # greedy completion of the last suffix incumbent (all of it after a time limit)
        heur = _insert(st, heur, s, np.arange(s, N))
    events = np.arange(N)
    start: np.ndarray | None
    start_ub, start = _lloyd(st, heur, events)
    r_ub, r_start = _restarts(st, RESTARTS)
    if r_ub < start_ub and _feasible(st, r_start, problem.max_rate):
        start_ub, start = r_ub, r_start
    if start is not None and not _feasible(st, start, problem.max_rate):
        start_ub, start = np.inf, None
    best, assign = start_ub, start
    if completed:
        best, assign, completed = search.run(0, problem.max_rate, start_ub, start)
        if completed:
            bound = best
    if lp is not None:
        bound = max(bound, lp.bound)
        if lp.assign is not None and lp.cost < best - _EPS:
            best, assign = lp.cost, lp.assign
    # optimal when the search completed, or when its incumbent meets the LP's bound
    proven = completed or (lp is not None and relative_gap(best, bound) == 0.0)
    if assign is None:
        # a time limit before any feasible leaf: nothing fires (every event on one centre, the bias when symmetric)
        assign = np.full(N, first, dtype=np.int64)
    sae = _build_sae(problem, st, order, [int(c) for c in assign])
    info: dict[str, object] = {"events": N, "suffix_bounds": completed, "nodes": search.nodes}
    if lp is not None:
        info.update(lp_bound=lp.bound, lp_columns=lp.columns)
    return finish(problem, sae, status=Status.OPTIMAL if proven else Status.LIMIT, method="kone-bnb",
                  version=VERSION, wall=time.perf_counter() - t0, bound=bound, info=info)


__all__ = ["solve_kone"]
