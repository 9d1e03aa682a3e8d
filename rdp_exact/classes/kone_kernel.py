"""Compiled depth-first search of the k = 1 branch and bound (:mod:`rdp_exact.classes.kone`).

The search, the child costs and the block/suffix bound are exactly those of the module docstring of
:mod:`rdp_exact.classes.kone` (DESIGN §1.2b, k = 1 decomposition); this module only runs them as machine code
(numba, cached on disk after the first call), since a node costs a few microseconds of arithmetic and the
interpreter's overhead per node was ~30× that. Centre kinds are coded :data:`ORIGIN`, :data:`SSE`, :data:`LINE`.

The wall clock is read every :data:`CLOCK_EVERY` nodes; past the deadline the search unwinds and reports that it
did not complete (its incumbent stays valid).
"""

from __future__ import annotations

import time

import numba as nb
import numpy as np

ORIGIN, SSE, LINE = 0, 1, 2
#: Nodes between two reads of the wall clock.
CLOCK_EVERY = 256
_EPS = 1e-12


@nb.njit(cache=True)
def _now() -> float:  # pragma: no cover - compiled
    with nb.objmode(t="float64"):
        t = time.perf_counter()
    return t


def call(kernel, *args):  # type: ignore[no-untyped-def]
    """``kernel(*args)``, with a Ctrl-C / SIGTERM handed on as the interrupt it is.

    The compiled kernels call back into the interpreter only to read the clock; a signal handler's
    KeyboardInterrupt raised there reaches the caller wrapped in a numba ``SystemError``.
    """
    try:
        return kernel(*args)
    except SystemError as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise exc.__cause__ from None
        raise


@nb.njit(cache=True)
def distances(t, X, sq, mu, V, lo, line, out):  # pragma: no cover
    """out[e, c] = ||x_{t+e} − μ_c||² (SSE centres) or ||x||² − (v_cᵀx)² (line centres), clipped at 0."""
    N, n = X.shape
    C = mu.shape[0]
    for e in range(N - t):
        for c in range(lo, C):
            out[e, c] = _distance(X, sq, t + e, mu[c], V[c], line)


@nb.njit(cache=True, inline="always")
def _distance(X, sq, e, mu_c, v_c, line):  # pragma: no cover
    n = X.shape[1]
    s = 0.0
    if line:
        for k in range(n):
            s += X[e, k] * v_c[k]
        r = sq[e] - s * s
    else:
        for k in range(n):
            d = X[e, k] - mu_c[k]
            s += d * d
        r = s
    return r if r > 0.0 else 0.0


@nb.njit(cache=True)
def _line_increment_lower(x, sqx, w, M_c, v, gap, s2):  # pragma: no cover
    """A lower bound on the rise of a line cluster's cost when event x (weight w) joins it, without an
    eigendecomposition.

    With λ₁ = vᵀMv (v the top eigenvector of M) and λ₂ = λ₁ − gap, M ⪯ λ₁vvᵀ + λ₂(I − vvᵀ) =: M̃, so
    λ₁(M + w x xᵀ) ≤ λ₁(M̃ + w x xᵀ) = μ, the top eigenvalue of the 2 × 2 block on span(v, x):
    [[λ₁ + w a², w a b], [w a b, λ₂ + w b²]] with a = vᵀx, b² = ||x||² − a². The rise
    w||x||² − (λ₁(M + wxxᵀ) − λ₁(M)) is therefore at least w||x||² − (μ − λ₁) (less a rounding margin).
    """
    n = x.shape[0]
    a = 0.0
    l1 = 0.0
    for i in range(n):
        a += x[i] * v[i]
        r = 0.0
        for j in range(n):
            r += M_c[i, j] * v[j]
        l1 += v[i] * r
    b2 = sqx - a * a
    if b2 < 0.0:
        b2 = 0.0
    l2 = l1 - gap
    T = l1 + l2 + w * (a * a + b2)
    det = (l1 + w * a * a) * (l2 + w * b2) - w * w * a * a * b2
    disc = T * T - 4.0 * det
    mu = 0.5 * (T + np.sqrt(disc if disc > 0.0 else 0.0))
    return w * sqx - (mu - l1) - 1e-13 * (1.0 + s2)


@nb.njit(cache=True)
def lower_bound(t, p, sq, pre, suffix_lb, js_all, js_off, js_cnt, Dv, child, col, W, G, lo, origin0, line,
                fac):  # pragma: no cover
    """max_j [Σ_{e=t..j} min_c f(e, c) + OPT(e_{j+1}..)] for one node that has placed events 0..t−1.

    f(e, c) is the per-event increment bound of the module docstring of ``kone`` (SSE or line form; the
    origin column, centre 0 when ``origin0``, is exact: π_e ||x_e||²), read from the distances ``Dv[e − t, c]``
    except for centre ``child``, whose distances are ``col[e − t]``; j runs over the block ends ``js`` of
    the remainder length, and the result is at least OPT(e_t..). ``fac`` is scratch of length C.
    """
    N = sq.shape[0]
    base = suffix_lb[t]
    if t >= N:
        return base
    E = N - t
    C = W.shape[0]
    best = base
    for jj in range(js_cnt[E]):
        j = js_all[js_off[E] + jj]
        P = pre[t + 1 + j] - pre[t]
        for c in range(lo, C):
            fac[c] = G[c] / P if line else W[c] / (W[c] + P)
        blk = 0.0
        for e in range(j + 1):
            pe = p[t + e]
            b = sq[t + e]
            mn = pe * b if origin0 else np.inf
            for c in range(1 if origin0 else lo, C):
                r = col[e] if c == child else Dv[e, c]
                if line:
                    a = fac[c]
                    den = 0.5 * (a + b) + np.sqrt(0.25 * (a - b) ** 2 + a * (b - r))
                    h = a * pe * r / den if den > 0.0 else a * pe * r
                else:
                    h = pe * r * fac[c]
                if h < mn:
                    mn = h
            blk += mn
        v = blk + suffix_lb[t + 1 + j]
        if v > best:
            best = v
    return best


@nb.njit(cache=True)
def search(t, total, used, rate, data, state, work, best_val, best_assign, counters, par):  # pragma: no cover
    """Depth-first search from event t (events 0..t−1 placed; ``state`` holds their centre statistics).

    data = (X, p, sq, pre, suffix_lb, outer, kinds, rate_cost, js_all, js_off, js_cnt);
    state = (W, S1, S2, M, cost, mu, V, G, assign), restored on return;
    work = per-depth scratch (see :func:`workspace`);
    best_val[0] / best_assign: incumbent (counters[1] = 1 once one is held); counters[0]: nodes;
    par = (n_lat, symmetric, rate_cap or inf, deadline or inf, TOL). Returns 1 when the deadline passed.
    """
    X, p, sq, pre, suffix_lb, outer, kinds, rate_cost, js_all, js_off, js_cnt = data
    W, S1, S2, M, cost, mu, V, G, assign = state
    Dv, col, fac, CC, CD, CNEW, CVEC, CGAP, CM, ORDER, KEEP, SS1, SMU, SV, SM = work
    N, n = X.shape
    if t == N:
        if total < best_val[0] - _EPS or (counters[1] == 0 and total <= best_val[0] + _EPS):
            best_val[0] = total
            best_assign[:] = assign
            counters[1] = 1
        return 0
    counters[0] += 1
    n_lat, symmetric, rate_cap, deadline, tol = int(par[0]), par[1] > 0, par[2], par[3], par[4]
    if counters[0] % CLOCK_EVERY == 0 and np.isfinite(deadline) and _now() > deadline:
        return 1
    first = 1 if symmetric else 0
    line = par[5] > 0
    origin0 = kinds[0] == ORIGIN and not symmetric
    lo = 1 if symmetric else 0
    w = p[t]
    top = min(used + 1, n_lat)
    rest_mass = pre[N] - pre[t]
    has_cap = np.isfinite(rate_cap)
    rest = suffix_lb[t + 1]
    cc, cd, cnew, cvec, cgap, cM = CC[t], CD[t], CNEW[t], CVEC[t], CGAP[t], CM[t]
    order, keep = ORDER[t], KEEP[t]
    k = 0
    for c in range(first, top + 1):
        if not symmetric and rate_cost[c] == 1 and has_cap and rate + w > rate_cap + tol:
            continue
        if symmetric and has_cap:
            # the heaviest cluster becomes the bias (rate 0): some cluster must reach mass 1 − r
            heaviest = -np.inf
            for c2 in range(1, top + 1):
                v = W[c2] + (w if c2 == c else 0.0)
                if v > heaviest:
                    heaviest = v
            if heaviest + rest_mass - w < pre[N] - rate_cap - tol:
                continue
        if kinds[c] == ORIGIN:
            new = cost[c] + w * sq[t]
        elif kinds[c] == LINE:
            if counters[1] == 1 and W[c] > 0.0 and \
                    total + _line_increment_lower(X[t], sq[t], w, M[c], V[c], G[c], S2[c]) + rest >= best_val[0] - _EPS:
                continue  # pruned without its eigendecomposition
            Mt = M[c] + w * outer[t]
            vals, vecs = np.linalg.eigh(Mt)
            lam = vals[n - 1]
            new = max(0.0, S2[c] + w * sq[t] - lam)
            cM[k] = Mt
            cvec[k] = vecs[:, n - 1]
            cgap[k] = lam - vals[n - 2] if n > 1 else lam
        elif W[c] <= 0.0:
            new = 0.0
        else:
            dd = 0.0
            for q in range(n):
                dd += (mu[c, q] - X[t, q]) ** 2
            new = cost[c] + W[c] * w / (W[c] + w) * dd
        cc[k] = c
        cd[k] = new - cost[c]
        cnew[k] = new
        order[k] = k
        k += 1
    # children cheapest first, ties by centre
    for i in range(1, k):
        j = i
        while j > 0 and (cd[order[j]] < cd[order[j - 1]]
                         or (cd[order[j]] == cd[order[j - 1]] and cc[order[j]] < cc[order[j - 1]])):
            order[j], order[j - 1] = order[j - 1], order[j]
            j -= 1
    for i in range(k):
        keep[i] = True
    if counters[1] == 1:
        need = False
        for i in range(k):
            if total + cd[i] + rest >= best_val[0] - _EPS:
                keep[i] = False
            elif max(used, cc[i]) >= n_lat:
                need = True
        if need and t + 1 < N:  # the block/suffix bound for children with every latent in use
            distances(t + 1, X, sq, mu, V, lo, line, Dv)
            for i in range(k):
                c = cc[i]
                if not keep[i] or max(used, c) < n_lat:
                    continue
                oW, oG = W[c], G[c]
                W[c] = oW + w
                if kinds[c] == LINE:
                    G[c] = cgap[i]
                    for e in range(N - t - 1):
                        col[e] = _distance(X, sq, t + 1 + e, mu[c], cvec[i], True)
                elif kinds[c] == SSE:
                    mc = (S1[c] + w * X[t]) / W[c]
                    for e in range(N - t - 1):
                        col[e] = _distance(X, sq, t + 1 + e, mc, V[c], False)
                lb = lower_bound(t + 1, p, sq, pre, suffix_lb, js_all, js_off, js_cnt, Dv, c, col, W, G, lo,
                                 origin0, line, fac)
                W[c], G[c] = oW, oG
                if total + cd[i] + lb >= best_val[0] - _EPS:
                    keep[i] = False
    for ii in range(k):
        i = order[ii]
        if not keep[i]:
            continue
        if counters[1] == 1 and total + cd[i] + rest >= best_val[0] - _EPS:
            break
        c = cc[i]
        oW, oS2, ocost, oG = W[c], S2[c], cost[c], G[c]
        SS1[t] = S1[c]
        SMU[t] = mu[c]
        W[c] += w
        S1[c] += w * X[t]
        S2[c] += w * sq[t]
        mu[c] = S1[c] / W[c]
        if kinds[c] == LINE:
            SV[t] = V[c]
            SM[t] = M[c]
            M[c] = cM[i]
            V[c] = cvec[i]
            G[c] = cgap[i]
        cost[c] = cnew[i]
        assign[t] = c
        nu = max(used, c) if c >= 1 else used
        nr = rate + (0.0 if symmetric else w * rate_cost[c])
        stop = search(t + 1, total + cd[i], nu, nr, data, state, work, best_val, best_assign, counters, par)
        W[c], S2[c], cost[c], G[c] = oW, oS2, ocost, oG
        S1[c] = SS1[t]
        mu[c] = SMU[t]
        if kinds[c] == LINE:
            V[c] = SV[t]
            M[c] = SM[t]
        assign[t] = -1
        if stop:
            return 1
    return 0


def workspace(N: int, C: int, n: int) -> tuple[np.ndarray, ...]:
    """Scratch arrays of :func:`search`, one row per depth (no allocation inside the search)."""
    return (np.zeros((N + 1, C)), np.zeros(N + 1), np.zeros(C), np.zeros((N + 1, C), np.int64),
            np.zeros((N + 1, C)), np.zeros((N + 1, C)), np.zeros((N + 1, C, n)), np.zeros((N + 1, C)),
            np.zeros((N + 1, C, n, n)), np.zeros((N + 1, C), np.int64), np.zeros((N + 1, C), np.bool_),
            np.zeros((N + 1, n)), np.zeros((N + 1, n)), np.zeros((N + 1, n)), np.zeros((N + 1, n, n)))
