"""Dense integer-unit staircases for the exact Pareto set, vectorised over many atom sets (DESIGN §1.5).

With π(S) = w_S / Q (:mod:`pareto_units`) the rate and distortion of a code over an atom set T are the
integers r = Σ_S w_S·|z(S)| ∈ {0, …, k·Σw} and d = Σ_S w_S·err(S, z(S)). An (R, D) staircase is stored
densely as ``g[r]`` = least d of a (partial) code with rate exactly r (:data:`INF` when none), so the
Minkowski sum with one event's options is a handful of shifted element-wise minima, done for a whole
batch of atom sets at once:

    g'[r] = min_o  g[r − w_S·|o|] + w_S·err(S, o).

* :func:`covering_stairs` — the exact staircase of the codes over T that use each of a given subset
  of T's atoms (the first ``required`` positions) at least once: the state also holds which of those
  positions were used so far (2^required states; an option o moves state s to s | used(o)).
  ``required = |T|`` gives the codes that use every atom of T; ``required = 0`` the coverage-free
  staircase (all codes over T).
* :func:`lagrangian_bounds` / :func:`hull_dominated` — a cheap screen: Λ(λ) = min (d + λ·r) over the
  same codes (a scalar programme) gives the lower bound d ≥ max_λ (Λ(λ) − λ·r) on every point; a set
  whose bound lies on or above the front everywhere cannot contribute and is skipped.

**Front pruning** (optional): ``front[r]`` is the least d over points already known
to be achievable at a polysemanticity ≤ P(T) with rate ≤ r (a prefix minimum). After an event, a
partial point (r, d) can only be completed to points with rate ≥ r and distortion ≥ d + rest, where
rest = Σ over the remaining events of w_S·min_o err(S, o); when front[r] ≤ d + rest, every completion is
weakly dominated by a known point with P ≤ P(T), so the entry is dropped (set to INF). Dropped entries
never produce a Pareto point that is not already known, and entries that are kept are computed exactly.
Rows (atom sets) whose entries all die are dropped, and the rate window shrinks to the live entries.
"""

from __future__ import annotations

import numpy as np

from rdp_exact.solvers.brute_free import FORBIDDEN, FreeTables, option_arrays, option_errors, options

#: "No code reaches this rate" (int32; sums of two stay below 2^31).
INF = 1 << 29


def new_front(length: int) -> np.ndarray:
    """An empty front: no known point at any rate."""
    return np.full(length, INF, dtype=np.int64)


def add_to_front(front: np.ndarray, r: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The front (prefix minimum of d over rates ≤ r) with the points (r, d) added."""
    out = front.copy()
    np.minimum.at(out, r, d)
    return np.minimum.accumulate(out)


def _event_order(weights: np.ndarray) -> np.ndarray:
    """Events by increasing weight: the rate window grows slowly, so early events work on short arrays
    (measured faster than decreasing weight)."""
    return np.argsort(weights, kind="stable")


def _rest(least: np.ndarray, weights: np.ndarray, order: np.ndarray) -> np.ndarray:
    """rest[c, i] = Σ_{j > i} w·least[c, order[j]] (least possible d of the events after step i)."""
    contrib = least[:, order] * weights[order][None, :]  # [C, N]
    tail = np.cumsum(contrib[:, ::-1], axis=1)[:, ::-1]
    return np.concatenate([tail[:, 1:], np.zeros((len(least), 1), dtype=np.int64)], axis=1)


def covering_stairs(
    tab: FreeTables,
    T_CT: np.ndarray,
    weights: np.ndarray,
    length: int,
    front: np.ndarray | None,
    required: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact staircases of the codes over T_CT[c] that use each of the first ``required`` positions of
    T_CT[c] at least once (default: every position), for the rows whose staircase is not entirely
    weakly dominated by ``front``: (g [C', length] int32, row indices [C']). Entries weakly dominated by
    ``front`` may be INF (see the module docstring)."""
    C, t = T_CT.shape
    ell = t if required is None else required
    err = option_errors(tab, T_CT).astype(np.int64)  # [C, nopt, N]
    err[err >= FORBIDDEN] = INF
    err = np.minimum(err * weights[None, None, :], INF).astype(np.int32)  # in units: w_S·err
    size, _ = option_arrays(t, tab.k)
    opts = options(t, tab.k)
    order = _event_order(weights)
    rest = _rest(err.min(axis=1).astype(np.int64), np.ones_like(weights), order)
    ns = 1 << ell
    alive = np.arange(C)
    g = np.full((C, ns, 1), INF, dtype=np.int32)
    g[:, 0, 0] = 0
    lo, hi = 0, 1  # g[..., j] is rate lo + j; rates outside [lo, hi) are INF everywhere
    kmax = int(size.max())
    bits_shape = (2,) * ell

    def axis(j: int) -> int:  # axis of position j's bit in g.reshape(C, 2, …, 2, width)
        return 1 + (ell - 1 - j)

    for i, s_idx in enumerate(order):
        w = int(weights[s_idx])
        width = hi - lo
        new_hi = min(length, hi + w * kmax)
        nw = new_hi - lo
        Ca = len(alive)
        new = np.full((Ca, ns, nw), INF, dtype=np.int32)
        nv = new.reshape((Ca, *bits_shape, nw))
        e_col = err[:, :, s_idx]
        for o_idx, o in enumerate(opts):
            sh = w * int(size[o_idx])
            if sh >= nw:
                continue
            add = e_col[:, o_idx]
            if (add >= INF).all():
                continue
            top = min(width, nw - sh)
            x = (g[:, :, :top] + add[:, None, None]).reshape((Ca, *bits_shape, top))
            idx: list[slice] = [slice(None)] * (ell + 2)
            for j in o:
                if j < ell:
                    x = x.min(axis=axis(j), keepdims=True)
                    idx[axis(j)] = slice(1, 2)
            idx[-1] = slice(sh, sh + top)
            tgt = nv[tuple(idx)]
            np.minimum(tgt, x, out=tgt)
        np.minimum(new, INF, out=new)
        if front is not None:
            dead = front[None, None, lo:new_hi] <= new + rest[:, i][:, None, None]
            new[dead] = INF
            fin = new < INF
            live = fin.any(axis=(1, 2))
            if not live.any():
                return np.zeros((0, length), dtype=np.int32), np.zeros(0, dtype=np.int64)
            if not live.all():
                new, alive, err, rest = new[live], alive[live], err[live], rest[live]
                fin = fin[live]
            cols = np.flatnonzero(fin.any(axis=(0, 1)))
            a, b = int(cols[0]), int(cols[-1]) + 1
            if a > 0 or b < nw:
                new = np.ascontiguousarray(new[:, :, a:b])
                new_hi = lo + b
                lo = lo + a
        g, hi = new, new_hi
    out = np.full((len(alive), length), INF, dtype=np.int32)
    out[:, lo:hi] = g[:, ns - 1, :]
    if front is not None:
        keep = (out < INF).any(axis=1)
        out, alive = out[keep], alive[keep]
    return out, alive


#: Multipliers λ (distortion per unit of rate) of the Lagrangian screen (:func:`lagrangian_bounds`).
LAMBDAS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0)


def lagrangian_bounds(
    tab: FreeTables, T_CT: np.ndarray, weights: np.ndarray, required: int, lambdas: tuple[float, ...] = LAMBDAS
) -> np.ndarray:
    """Λ[c, j] = min over the codes of T_CT[c] that use each of its first ``required`` positions of
    d + λ_j·r (a scalar dynamic programme over events; state: which required positions were used).

    Every point (r, d) of the staircase of :func:`covering_stairs` satisfies d ≥ Λ(λ) − λ·r."""
    C, t = T_CT.shape
    err_i = option_errors(tab, T_CT)  # [C, nopt, N]
    size, used = option_arrays(t, tab.k)
    lam = np.asarray(lambdas, dtype=np.float64)
    # float32 is exact when every value is a multiple of 1/8 (λ are) below 2^20; else float64
    live = err_i[err_i < FORBIDDEN]
    top = int(weights.sum()) * (int(live.max()) + tab.k * float(lam.max()))
    exact32 = top < (1 << 20) and np.all(lam * 8 == np.round(lam * 8))
    dt = np.float32 if exact32 else np.float64
    err = err_i.astype(dt)
    err[err_i >= FORBIDDEN] = np.inf
    lam_d = lam.astype(dt)
    ns = 1 << required
    mask = ns - 1
    V = np.full((ns, C, len(lam)), np.inf, dtype=dt)
    V[0] = 0.0
    sizes_f = size.astype(dt)
    for s_idx in range(tab.n_events):
        cost = dt(weights[s_idx]) * (err[:, :, s_idx][:, None, :] + lam_d[None, :, None] * sizes_f[None, None, :])
        new = np.full_like(V, np.inf)
        for o_idx in range(len(size)):
            u = int(used[o_idx]) & mask
            c_o = cost[:, :, o_idx]
            for st in range(ns):
                np.minimum(new[st | u], V[st] + c_o, out=new[st | u])
        V = new
    return V[ns - 1].astype(np.float64)


def hull_dominated(Lam: np.ndarray, front: np.ndarray, lambdas: tuple[float, ...] = LAMBDAS) -> np.ndarray:
    """Per atom set: True when its whole staircase is certainly weakly dominated by ``front``.

    Every point has d ≥ h(r) := max_j (Λ_j − λ_j·r), a non-increasing function of r. If
    h(r) > front[r] − ½ for every r, every point has d ≥ front[r] (integers; the ½ absorbs float
    rounding), i.e. it is weakly dominated. As h is non-increasing and front is a step function, it is
    enough to check the last rate of each step of ``front``."""
    ends = np.concatenate([np.flatnonzero(np.diff(front) != 0), [len(front) - 1]])
    lam = np.asarray(lambdas, dtype=np.float64)
    h = (Lam[:, :, None] - lam[None, :, None] * ends[None, None, :].astype(np.float64)).max(axis=1)
    return (h > front[ends][None, :] - 0.5).all(axis=1)


def stair_points(g: np.ndarray, front: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, r, d) of the Pareto points of each dense staircase row that ``front`` does not weakly dominate."""
    pm = np.minimum.accumulate(g, axis=1)
    prev = np.concatenate([np.full((len(g), 1), INF, dtype=g.dtype), pm[:, :-1]], axis=1)
    keep = g < prev
    if front is not None:
        keep &= g < front[None, :]
    rows, r = np.nonzero(keep)
    return rows, r, g[rows, r].astype(np.int64)


def pareto2_int(r: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Indices of the 2-d Pareto-minimal integer points (duplicates: the first in (r, d, index) order)."""
    if len(r) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(r)), d, r))
    ds = d[order]
    prev = np.concatenate([[np.iinfo(np.int64).max], np.minimum.accumulate(ds)[:-1]])
    return order[ds < prev]


__all__ = [
    "INF",
    "add_to_front",
    "covering_stairs",
    "new_front",
    "hull_dominated",
    "lagrangian_bounds",
    "pareto2_int",
    "stair_points",
]
