"""A proof for the k = 1 decomposition in ``real-atoms`` (± bias) and ``real-codes`` from the set-partitioning LP.

The k = 1 problem of :mod:`rdp_exact.classes.kone` (DESIGN §1.2b, k = 1 decomposition) is a partition of the
events into at most C clusters (C = m without a bias, m + 1 with one) plus, without a bias, the silent events on
the fixed origin centre. As a set-partitioning integer program over every cluster S (cost SSE(S)) and, without a
bias, an origin column per event (cost o_e = π_e ||x_e||²):

    min Σ_S SSE(S) y_S + Σ_e o_e z_e   s.t.  Σ_{S ∋ e} y_S + z_e = 1 (every e),  Σ_S y_S ≤ C,  y, z ∈ {0, 1}.

**Lagrangian bound.** Relaxing the cover rows with any multipliers u ∈ ℝᴺ gives, for every feasible (y, z),

    D ≥ L(u) = Σ_e u_e + Σ_e min(0, o_e − u_e) − C · max(0, φ(u)),   φ(u) = max_S [u(S) − SSE(S)]

(the z-part is minimised per event; at most C clusters, each with reduced cost SSE(S) − u(S) ≥ −φ). With a bias
there is no z and no origin term. L(u) is a valid lower bound for *every* u; the LP duals make it tight.

**Column generation.** The LP over a growing set of columns (singletons, the clusters of the incumbent, then
priced columns) is solved by HiGHS (dual simplex, warm-started after each batch of new columns). New columns come
from a mean-shift heuristic (μ ← mean of {e : u_e − π_e ||x_e − μ||² > 0}, which never lowers u(S) − SSE(S);
from every event, the means of the LP's positive columns and random points, then, when those find nothing, from
every midpoint of two events with u > 0 and the mean of every column); when it finds none, the exact pricer
(:func:`rdp_exact.classes.kone_lp_kernel.price`, a box branch and bound over the mean μ ∈ [0, 1]ⁿ) either proves
φ(u) ≤ −σ (σ ≤ 0 the dual of the cardinality row: the LP is solved) or returns a column to add.

**Proof.** With φ bounded (a rounding margin of 1e−12·Σ|u| added), L(u) is a proven lower bound on D*. When the
LP optimum is integral (measured: on every random pmf tried with n ≤ 7, N ≤ 64, m ≤ 4, ± bias, but one), its
partition is an optimal assignment and L(u) equals its cost to rounding; the caller reports ``optimal`` only when
the evaluated SAE meets L(u) within the proof tolerance. On a fractional optimum the integer program over the
columns generated so far (HiGHS, at most :data:`MIP_SECONDS`) gives an incumbent, which is optimal if it meets
L(u). Otherwise L(u) is a bound that the branch and bound of :mod:`rdp_exact.classes.kone` keeps. With a bias the
clusters are the m + 1 free centres; the caller makes the heaviest one the bias.

**Line clusters (``real-codes`` without a bias, ``line=True``).** The same program with cost(S) = Σ_S π||x||² −
λ_max(Σ_S π x xᵀ) and the origin columns. The heuristic pricer alternates S ← {e : π_e⟨v, x_e⟩² > o_e − u_e} and
v ← the top eigenvector of S (from every event's direction, the LP's positive columns and random points); the exact
pricer is the event-set branch and bound of :mod:`rdp_exact.classes.kone_line_kernel` (spherical caps and chords
under one eigenvalue). Empty events cost 0 on every centre and are left to the origin.

**Pool (line clusters, when the LP optimum is fractional).** Let φ̄ ≥ φ(u) be the pricer's proven bound at the
multipliers u of the best bound L = L(u). For every feasible (y, z), using the cover rows,

    cost(y, z) ≥ L + Σ_S (φ̄ − v(S)) y_S,   v(S) = u(S) − cost(S) ≤ φ̄,

so every cluster S of a partition with cost ≤ L + G has v(S) ≥ φ̄ − G. For e ∈ S, with v_S the top eigenvector of
S, v(S) ≤ v(S ∖ e) + (π_e⟨v_S, x_e⟩² − o_e + u_e) and v(S ∖ e) ≤ φ̄, so every event of S has a term ≥ −G at v_S.
:func:`rdp_exact.classes.kone_line_kernel.collect_line` enumerates every such set (caps widened by G): the *pool*
of width G. The integer program over the pool and the origin columns (HiGHS, gaps 0) finds the best partition
made of pool columns; when its cost is ≤ L + G it is D* (every partition at most as costly is made of pool
columns). The pool grows steeply with G, so it starts at G = :data:`POOL_FIRST_GAP`·|L| and widens
×:data:`POOL_GROWTH` while the program's optimum lies above L + G, never past the gap of the best partition known
(the caller's incumbent or a program's optimum: a pool that wide always settles it). The result is reported with
HiGHS's dual bound and is ``optimal`` only when the evaluated SAE meets it. A pool past :data:`POOL_MAX` sets, a
program past :data:`POOL_IP_SECONDS` or the deadline gives no proof, and the caller searches. (The integer program
over the generated columns that serves SSE clusters is skipped here: the pool does its work.)

The rate budget and the P budget are not handled here (the caller does not call it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rdp_exact.problem import relative_gap

#: Pricer boxes per exact call before it returns a (still valid) looser bound; the deadline usually stops it first
#: (a box costs ≈ 1–2 µs; n = 7, N = 64 needed 4.7 M).
MAX_BOXES = 50_000_000
#: Nodes per exact line-cluster pricer call (:mod:`rdp_exact.classes.kone_line_kernel`) before it gives up.
MAX_NODES = 20_000_000
#: Columns a line-cluster pricer call may find before it returns (each better than the one before; 1, 4 and 8
#: measured within noise of each other at N = 32).
LINE_COLUMNS = 4
#: Columns at most in the reduced-cost pool of line clusters (module docstring, "Pool"), seconds at most for its
#: integer program, its first width (relative to the bound) and growth factor: the pool grows steeply with its
#: width (N = 32: 322 columns at a gap of 0.2 %, 78 k at 1.9 %), so it starts narrow and widens only while its
#: optimum lies above L + G.
POOL_MAX = 20_000
POOL_IP_SECONDS = 30.0
POOL_FIRST_GAP = 1e-4
POOL_GROWTH = 3.0
#: Uncertain events up to which a pricer box is solved by enumeration.
KMAX = 6
#: Mean-shift starts drawn at random per heuristic pricing round (besides every event and the LP's cluster means).
RANDOM_STARTS = 32
#: Seconds at most for the integer program over the generated columns after a fractional LP optimum.
MIP_SECONDS = 2.0
#: Reduced cost below which a column is added.
_ADD = 1e-12


@dataclass
class LPResult:
    """What the column generation proved: a lower bound, and the LP's partition when it is integral."""

    bound: float
    assign: np.ndarray | None  # centre per event (kone's numbering) when the LP solution is integral
    cost: float  # cost of ``assign`` (inf when none)
    lp_value: float
    columns: int
    rounds: int
    exact_calls: int
    boxes: int
    solved: bool  # the exact pricer closed the LP (φ(u) ≤ −σ)
    pool: int = 0  # line clusters: columns in the reduced-cost pool whose integer program closed the gap (0: not run)


def _sse(X: np.ndarray, p: np.ndarray, idx: np.ndarray) -> float:
    w = p[idx]
    Xs = X[idx]
    s1 = Xs.T @ w
    return max(0.0, float(w @ np.einsum("ij,ij->i", Xs, Xs) - s1 @ s1 / w.sum()))


def _line(X: np.ndarray, p: np.ndarray, idx: np.ndarray) -> float:
    """Cost of a line cluster: its mass Σ π||x||² minus the top eigenvalue of Σ π x xᵀ."""
    w = p[idx]
    Xs = X[idx]
    return max(0.0, float(w @ np.einsum("ij,ij->i", Xs, Xs)) - float(np.linalg.eigvalsh((Xs.T * w) @ Xs)[-1]))


def _centre(X: np.ndarray, p: np.ndarray, idx: np.ndarray, line: bool) -> np.ndarray:
    """A column's centre: its weighted mean (SSE) or the top eigenvector of Σ π x xᵀ, taken ≥ 0 (line)."""
    if not line:
        return X[idx].T @ p[idx] / p[idx].sum()
    v = np.linalg.eigh((X[idx].T * p[idx]) @ X[idx])[1][:, -1]
    return np.abs(v)


def _mean_shift(X: np.ndarray, p: np.ndarray, u: np.ndarray, starts: np.ndarray, iters: int = 30) -> np.ndarray:
    """Fixed points of μ ← mean{e : u_e − π_e||x_e − μ||² > 0} from each start; rows = the event sets reached.

    Each step keeps or raises Σ_{e∈S} q_e(μ): the new S is the best set for μ, the new μ the best mean for S.
    """
    sq = np.einsum("ij,ij->i", X, X)

    def active(M: np.ndarray) -> np.ndarray:
        return (sq[None] - 2.0 * (M @ X.T) + np.einsum("ij,ij->i", M, M)[:, None]) * p[None] < u[None]

    M = starts
    for _ in range(iters):
        inc = active(M)
        w = inc @ p
        ok = w > 0
        M2 = np.where(ok[:, None], (inc * p[None]) @ X / np.where(ok, w, 1.0)[:, None], M)
        if np.abs(M2 - M).max(initial=0.0) <= 1e-12:
            break
        M = M2
    return active(M)


class _LP:
    """The restricted master LP in highspy: N cover rows (= 1), one cardinality row (≤ C)."""

    def __init__(self, N: int, o: np.ndarray | None, C: int) -> None:
        from rdp_exact.solvers.milp import _quiet_highs

        self.h = _quiet_highs()
        self.h.setOptionValue("solver", "simplex")
        self.h.setOptionValue("presolve", "off")
        # tight tolerances: the pricer compares reduced costs at 1e-12 (the bound itself holds for any duals)
        self.h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        self.h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        self.N = N
        lower = np.concatenate([np.ones(N), [-np.inf]])
        upper = np.concatenate([np.ones(N), [float(C)]])
        self.h.addRows(N + 1, lower, upper, 0, np.zeros(N + 1, np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.cols: list[np.ndarray] = []  # cluster columns (event index arrays)
        self.n_origin = 0
        if o is not None:  # origin column of each event: row e only, not counted by the cardinality row
            self.h.addCols(N, o.astype(np.float64), np.zeros(N), np.full(N, np.inf), N,
                           np.arange(N, dtype=np.int32), np.arange(N, dtype=np.int32), np.ones(N))
            self.n_origin = N

    def add(self, sets: list[np.ndarray], costs: list[float]) -> None:
        if not sets:
            return
        starts = np.cumsum([0] + [len(s) + 1 for s in sets[:-1]]).astype(np.int32)
        idx = np.concatenate([np.append(s, self.N) for s in sets]).astype(np.int32)
        self.h.addCols(len(sets), np.array(costs, dtype=np.float64), np.zeros(len(sets)),
                       np.full(len(sets), np.inf), len(idx), starts, idx, np.ones(len(idx)))
        self.cols.extend(sets)

    def solve(self) -> tuple[float, np.ndarray, float, np.ndarray] | None:
        """(LP value, cover duals u, cardinality dual σ ≤ 0, primal values of the cluster columns); None when
        HiGHS does not report the LP optimal."""
        import highspy

        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = self.h.getSolution()
        dual = np.array(sol.row_dual)
        x = np.array(sol.col_value)
        return float(self.h.getInfo().objective_function_value), dual[: self.N], min(0.0, float(dual[self.N])), \
            x[self.n_origin:]

    def solve_integer(self, deadline: float | None, limit: float | None = MIP_SECONDS) -> np.ndarray | None:
        """Cluster column values of the best integer solution over the current columns (None if none found);
        at most ``limit`` seconds (None: up to the deadline)."""
        import highspy

        n_cols = self.n_origin + len(self.cols)
        self.h.changeColsIntegrality(n_cols, np.arange(n_cols, dtype=np.int32),
                                     np.full(n_cols, highspy.HighsVarType.kInteger))
        cap = np.inf if limit is None else limit
        left = cap if deadline is None else min(cap, deadline - time.perf_counter())
        self.h.setOptionValue("time_limit", max(0.01, float(left)) if np.isfinite(left) else np.inf)
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.h.run()
        sol = self.h.getSolution()
        if not sol.value_valid:
            return None
        return np.round(np.array(sol.col_value)[self.n_origin:])


def _lagrangian(u: np.ndarray, o: np.ndarray | None, C: int, phi: float) -> float:
    """L(u) = Σ u + Σ min(0, o − u) − C · max(0, φ) for an upper bound φ on the pricing value (module docstring)."""
    return float(u.sum() + (np.minimum(0.0, o - u).sum() if o is not None else 0.0) - C * max(0.0, phi))


def lp_bound(X: np.ndarray, p: np.ndarray, C: int, origin: bool, incumbent: list[np.ndarray],
             deadline: float | None, seed: int = 0, line: bool = False) -> LPResult:
    """Column generation and the Lagrangian bound of the module docstring.

    ``incumbent``: the clusters (event index arrays) of a feasible assignment, added as first columns.
    ``line``: line clusters (real-codes, with the origin) instead of SSE clusters.
    Stops at ``deadline`` with the last proven bound (0 before the first exact pricing).
    """
    from rdp_exact.classes import kone_line_kernel as kl
    from rdp_exact.classes import kone_lp_kernel as kk
    from rdp_exact.classes.kone_kernel import call

    cost_of = _line if line else _sse
    if line:
        nz = np.einsum("ij,ij->i", X, X) > 0
        if not nz.all():  # an empty event costs 0 on every centre: solve without it, then serve it by the origin
            keep = np.flatnonzero(nz)
            pos = np.cumsum(nz) - 1
            res = lp_bound(X[keep], p[keep], C, origin, [pos[c[nz[c]]] for c in incumbent], deadline, seed, line)
            if res.assign is not None:
                full = np.zeros(len(p), dtype=np.int64)
                full[keep] = res.assign
                res.assign = full
            return res
    no_deadline = np.inf if deadline is None else deadline

    def exact(stop: float) -> tuple[float, float, np.ndarray, int, bool, list[np.ndarray]]:
        """(φ bound or inf, best value, its set, nodes or boxes, completed, further sets worth more than stop)."""
        if line:
            bnd, best, mask, nb, done, found = call(kl.price_line, X, p, u, -sigma, MAX_NODES, stop, no_deadline,
                                                    LINE_COLUMNS)
            return bnd, best, mask, nb, done, [np.flatnonzero(r) for r in found[:-1]]
        return (*call(kk.price, X, p, u, -sigma, MAX_BOXES, KMAX, stop, no_deadline), [])

    def heuristic(starts: np.ndarray) -> np.ndarray:
        if line:
            return call(kl.shift_line, X, p, u, np.ascontiguousarray(starts, dtype=np.float64), 30)  # type: ignore[no-any-return]
        return _mean_shift(X, p, u, starts)

    N, n = X.shape
    rng = np.random.default_rng(seed)
    o = p * np.einsum("ij,ij->i", X, X) if origin else None
    lp = _LP(N, o, C)
    seen: set[tuple[int, ...]] = set()
    first: list[np.ndarray] = [np.array([e]) for e in range(N)]
    if not origin:
        first.append(np.arange(N))
    first.extend(np.sort(c) for c in incumbent if len(c))
    sets, costs = [], []
    for s in first:
        key = tuple(int(i) for i in s)
        if key not in seen:
            seen.add(key)
            sets.append(np.asarray(key, dtype=np.int64))
            costs.append(cost_of(X, p, sets[-1]))
    lp.add(sets, costs)
    cents: dict[int, np.ndarray] = {}  # column index → its centre, computed when first used

    def centres(idx: np.ndarray) -> np.ndarray:
        for j in idx:
            if int(j) not in cents:
                cents[int(j)] = _centre(X, p, lp.cols[int(j)], line)
        return np.array([cents[int(j)] for j in idx]).reshape(-1, n)

    bound, rounds, calls, boxes, solved = 0.0, 0, 0, 0, False
    cert: tuple[np.ndarray, float] | None = None  # (u, φ̄) of the best bound
    got = lp.solve()
    if got is None:
        return LPResult(0.0, None, np.inf, np.nan, len(lp.cols), 0, 0, 0, False)
    value, u, sigma, y = got
    scale = max(1.0, float(np.abs(u).sum()))
    while True:
        rounds += 1
        if deadline is not None and time.perf_counter() > deadline:
            break
        sets, costs = [], []
        for wide in (False, True):  # cheap starts first; every event pair's midpoint and every column's mean next
            if wide:
                pos = np.flatnonzero(u > 0)
                starts = np.vstack([((X[pos][:, None] + X[pos][None]) / 2.0).reshape(-1, n),
                                    centres(np.arange(len(lp.cols)))])
            else:
                starts = np.vstack([X, centres(np.flatnonzero(y > 1e-9)), rng.random((RANDOM_STARTS, n))])
            fresh, keys = [], set()
            for r in heuristic(starts):
                key = tuple(int(i) for i in np.flatnonzero(r))
                if key and key not in seen and key not in keys:
                    keys.add(key)
                    fresh.append(r)
            if fresh:
                fresh_rows = np.array(fresh)
                row_costs = (call(kl.line_costs, X, p, fresh_rows) if line
                             else [cost_of(X, p, np.flatnonzero(r)) for r in fresh_rows])
                for row, cs in zip(fresh_rows, row_costs, strict=True):
                    S = np.flatnonzero(row)
                    if cs - u[S].sum() - sigma < -_ADD * scale:
                        seen.add(tuple(int(i) for i in S))
                        sets.append(S)
                        costs.append(float(cs))
            if sets:
                break
        if not sets:
            # the exact pricer: a proven φ(u), or a column the heuristic missed
            phi, best, mask, nb, done, more = exact(-sigma + 1e3 * _ADD * scale)
            calls += 1
            boxes += nb
            if np.isfinite(phi):  # a valid bound, exact when done; plus a rounding margin
                L = _lagrangian(u, o, C, phi + 1e-12 * scale)
                if L > bound:
                    bound, cert = L, (u.copy(), phi + 1e-12 * scale)
            S = np.flatnonzero(mask)
            key = tuple(int(i) for i in S)
            cs = cost_of(X, p, S) if len(S) else 0.0
            if not len(S) or key in seen or cs - u[S].sum() - sigma >= -_ADD * scale:
                if not np.isfinite(phi):  # a column the LP already holds (its duals within tolerance): bound only
                    phi, _, _, nb, done, _ = exact(np.inf)
                    boxes += nb
                    if np.isfinite(phi):
                        L = _lagrangian(u, o, C, phi + 1e-12 * scale)
                        if L > bound:
                            bound, cert = L, (u.copy(), phi + 1e-12 * scale)
                solved = done
                break
            # a column the heuristic missed: add it and what mean shift reaches from its mean
            seen.add(key)
            sets, costs = [S], [cs]
            for S2 in more:  # the pricer's earlier (less valuable) finds
                k2 = tuple(int(i) for i in S2)
                if k2 not in seen:
                    c2 = cost_of(X, p, S2)
                    if c2 - u[S2].sum() - sigma < -_ADD * scale:
                        seen.add(k2)
                        sets.append(S2)
                        costs.append(c2)
            for row in np.unique(heuristic(_centre(X, p, S, line)[None] + 0.0), axis=0):
                S2 = np.flatnonzero(row)
                k2 = tuple(int(i) for i in S2)
                if len(S2) and k2 not in seen:
                    c2 = cost_of(X, p, S2)
                    if c2 - u[S2].sum() - sigma < -_ADD * scale:
                        seen.add(k2)
                        sets.append(S2)
                        costs.append(c2)
        lp.add(sets, costs)
        got = lp.solve()
        if got is None:  # keep the last LP solution and its proven bound
            break
        value, u, sigma, y = got
        scale = max(1.0, float(np.abs(u).sum()))
    assign, cost = _integral(lp, y, N, X, p, o, cost_of)
    if assign is None and solved and not line:
        # a fractional LP optimum: the integer program over the columns generated so far (an incumbent; optimal
        # when it reaches the LP bound, as it does when the LP has an integral optimum beside the fractional one)
        ym = lp.solve_integer(deadline)
        if ym is not None:
            assign, cost = _integral(lp, ym, N, X, p, o, cost_of)
    pool = 0
    if line and cert is not None and o is not None and (assign is None or relative_gap(cost, bound) > 0.0):
        ub = min(cost, _partition_cost(X, p, o, incumbent))
        got_pool = _pool_proof(X, p, C, o, cert[0], cert[1], bound, ub, deadline)
        if got_pool is not None:
            assign, cost, dual, pool = got_pool
            bound = max(bound, min(dual, cost))
    return LPResult(bound=bound, assign=assign, cost=cost, lp_value=value, columns=len(lp.cols), rounds=rounds,
                    exact_calls=calls, boxes=boxes, solved=solved, pool=pool)


def _partition_cost(X: np.ndarray, p: np.ndarray, o: np.ndarray, clusters: list[np.ndarray]) -> float:
    """Cost of line clusters plus the origin for every event they leave out (inf when they overlap)."""
    covered = np.zeros(len(p), dtype=np.int64)
    total = 0.0
    for c in clusters:
        if len(c):
            covered[c] += 1
            total += _line(X, p, c)
    return float(total + o[covered == 0].sum()) if covered.max(initial=0) <= 1 else np.inf


def _pool_proof(X: np.ndarray, p: np.ndarray, C: int, o: np.ndarray, u: np.ndarray, phi: float, L: float, ub: float,
                deadline: float | None) -> tuple[np.ndarray, float, float, int] | None:
    """Line clusters: D* from the integer program over every column that an assignment of cost ≤ ``ub`` can use
    (module docstring, "Pool"); (assignment, its cost, the program's proven dual bound, pool size) or None.
    """
    import highspy

    from rdp_exact.classes import kone_line_kernel as kl
    from rdp_exact.classes.kone_kernel import call

    if not np.isfinite(ub):
        return None
    G_full = ub - L + 1e-9 * max(1.0, abs(ub))
    G = min(G_full, POOL_FIRST_GAP * max(1.0, abs(L)))
    while True:
        masks, count, done = call(kl.collect_line, X, p, u, phi - G, G, POOL_MAX, MAX_NODES,
                                  np.inf if deadline is None else deadline)
        if not done:
            return None
        sets = [np.flatnonzero(m) for m in masks[:count] if m.any()]
        ip = _LP(len(p), o, C)
        ip.add(sets, [_line(X, p, S) for S in sets])
        ip.h.setOptionValue("mip_abs_gap", 0.0)
        cap = POOL_IP_SECONDS if deadline is None else min(POOL_IP_SECONDS, deadline - time.perf_counter())
        y = ip.solve_integer(deadline, limit=cap)
        if y is None or ip.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        assign, cost = _integral(ip, y, len(p), X, p, o, _line)
        if assign is None:
            return None
        # the pool holds every column of every partition of cost ≤ L + G: its optimum is D* once it is that low
        if cost <= L + G or G >= G_full:
            return assign, cost, float(ip.h.getInfo().mip_dual_bound), len(sets)
        # its optimum is a partition, so every better one costs ≤ cost: no wider pool is ever needed
        G_full = min(G_full, cost - L + 1e-9 * max(1.0, abs(cost)))
        G = min(G_full, POOL_GROWTH * G)


def _integral(lp: _LP, y: np.ndarray, N: int, X: np.ndarray, p: np.ndarray, o: np.ndarray | None,
              cost_of: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> tuple[np.ndarray | None, float]:
    """The LP solution as an assignment (centre 0 = origin, clusters 1, 2, …) when it is integral."""
    if np.any((y > 1e-7) & (y < 1 - 1e-7)):
        return None, np.inf
    assign = np.zeros(N, dtype=np.int64)
    covered = np.zeros(N, dtype=np.int64)
    cost = 0.0
    for c, j in enumerate(np.flatnonzero(y > 0.5), start=1):
        S = lp.cols[j]
        assign[S] = c
        covered[S] += 1
        cost += cost_of(X, p, S)
    if o is not None:
        cost += float(o[covered == 0].sum())
    elif np.any(covered == 0):
        return None, np.inf
    if np.any(covered > 1):
        return None, np.inf
    return assign, cost


def warm() -> None:
    """Compile (or load from numba's cache) both pricers and run the column generation once on a tiny instance."""
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    lp_bound(X, np.full(3, 1 / 3), 1, True, [], None)
    lp_bound(X, np.full(3, 1 / 3), 1, True, [], None, line=True)


__all__ = ["LPResult", "lp_bound", "warm"]
