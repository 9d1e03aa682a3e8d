"""Compiled exact pricer of the k = 1 set-partitioning LP (:mod:`rdp_exact.classes.kone_lp`).

Given duals u_e of the events' cover rows, the pricing problem of a cluster column is

    φ(u) = max over event sets S of  u(S) − SSE(S)  =  max over μ ∈ [0, 1]ⁿ of  f(μ),
    f(μ) = Σ_e max(0, q_e(μ)),   q_e(μ) = u_e − π_e ||x_e − μ||²,

since SSE(S) = min_μ Σ_{e∈S} π_e ||x_e − μ||² is reached at the weighted mean of S, which lies in [0, 1]ⁿ (every
x_e is a 0/1 vector), and for a fixed μ the best S is {e : q_e(μ) > 0}. :func:`price` bounds max f by a
branch and bound over boxes B = [lo, hi] ⊆ [0, 1]ⁿ:

* **Interval of each term.** Over B, ||x_e − μ||² is separable, so q_e ranges exactly over
  [q⁻_e, q⁺_e] = [u_e − π_e max_B ||x_e − μ||², u_e − π_e min_B ||x_e − μ||²]. An event with q⁻_e > 0 is *in*
  (max(0, q_e) = q_e on B), one with q⁺_e ≤ 0 is *out* (it contributes 0), the rest are *uncertain*.
* **Chord bound.** For an uncertain event, max(0, y) ≤ t·y + s on y ∈ [q⁻, q⁺] with the chord
  t = q⁺/(q⁺ − q⁻), s = −q⁻·t. Each in-term and each chord is an isotropic concave quadratic in μ, so their sum
  is A + 2⟨c, μ⟩ − W||μ||², maximised over B at μ = clip(c/W, lo, hi): an upper bound on max_B f.
* **Exact boxes.** With at most ``kmax`` uncertain events U, max_B f = max_{T ⊆ U} max_B Σ_{e ∈ in ∪ T} q_e(μ)
  (on B every in-term is positive and max(0, q) = max(q, 0) for the others), each again a clipped isotropic
  quadratic; the 2^|U| subsets are walked in Gray-code order (O(n) per subset). Such a box is solved exactly.
* A box whose bound is ≤ the best value found so far (or the threshold ``thr0``) is pruned; otherwise its
  longest side is halved. Boxes past ``max_boxes`` are not split; their bounds join the returned bound.

The returned bound is therefore ≥ φ(u) (up to floating-point rounding, for which the caller adds a margin), and
``mask`` is an event set reaching the returned ``best`` value.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from rdp_exact.classes.kone_kernel import _now

#: Boxes between two reads of the wall clock.
CLOCK_EVERY = 4096
#: Boxes on the explicit stack at most (a depth-first search halving sides needs far fewer).
STACK = 1 << 16


@nb.njit(cache=True)
def price(X, p, u, thr0, max_boxes, kmax, stop_at, deadline):  # pragma: no cover - compiled
    """(bound ≥ max f, best value found, its event set as a bool mask, boxes visited, completed).

    Returns at once, not completed and with bound ``inf``, when a set worth more than ``stop_at`` is found (a
    column to add), or when the wall clock passes ``deadline`` (read every :data:`CLOCK_EVERY` boxes; ``inf`` for
    none). Past ``max_boxes`` it is not completed but its bound stays valid (the unsplit boxes' bounds join it).
    """
    N, n = X.shape
    sq = np.zeros(N)
    for e in range(N):
        for k in range(n):
            sq[e] += X[e, k] * X[e, k]
    lo_s = np.empty((STACK, n))
    hi_s = np.empty((STACK, n))
    lo_s[0] = 0.0
    hi_s[0] = 1.0
    top = 1
    best = 0.0
    mask = np.zeros(N, np.bool_)
    thr = thr0 if thr0 > 0.0 else 0.0
    left = -np.inf  # largest bound of a box solved exactly or not split (max_boxes)
    boxes = 0
    complete = True
    kind = np.zeros(N, np.int64)  # 1 in, 2 uncertain
    und = np.zeros(N, np.int64)
    c = np.zeros(n)
    mu = np.zeros(n)
    lo = np.zeros(n)
    hi = np.zeros(n)
    while top > 0:
        top -= 1
        lo[:] = lo_s[top]
        hi[:] = hi_s[top]
        boxes += 1
        if boxes % CLOCK_EVERY == 0 and np.isfinite(deadline) and _now() > deadline:
            return np.inf, best, mask, boxes, False
        A = 0.0
        W = 0.0
        c[:] = 0.0
        nund = 0
        Ain = 0.0
        Win = 0.0
        for e in range(N):
            kind[e] = 0
            if u[e] <= 0.0:
                continue
            dmin = 0.0
            dmax = 0.0
            for k in range(n):
                x = X[e, k]
                a = lo[k] - x
                b = x - hi[k]
                d = a if a > b else b
                if d > 0.0:
                    dmin += d * d
                a2 = (x - lo[k]) * (x - lo[k])
                b2 = (x - hi[k]) * (x - hi[k])
                dmax += a2 if a2 > b2 else b2
            qmin = u[e] - p[e] * dmax
            qmax = u[e] - p[e] * dmin
            if qmin > 0.0:
                kind[e] = 1
                A += u[e] - p[e] * sq[e]
                W += p[e]
                for k in range(n):
                    c[k] += p[e] * X[e, k]
                Ain += u[e] - p[e] * sq[e]
                Win += p[e]
            elif qmax > 0.0:
                kind[e] = 2
                und[nund] = e
                nund += 1
                t = qmax / (qmax - qmin)
                A += t * (u[e] - p[e] * sq[e]) - qmin * t
                W += t * p[e]
                for k in range(n):
                    c[k] += t * p[e] * X[e, k]
        ub = A
        if W > 0.0:
            for k in range(n):
                v = c[k] / W
                v = lo[k] if v < lo[k] else (hi[k] if v > hi[k] else v)
                ub += 2.0 * v * c[k] - W * v * v
        # a point value: the in-events' best point in the box, every event with q_e > 0 there counted
        for k in range(n):
            mu[k] = 0.5 * (lo[k] + hi[k])
        if Win > 0.0:
            for k in range(n):
                s = 0.0
                for e in range(N):
                    if kind[e] == 1:
                        s += p[e] * X[e, k]
                v = s / Win
                mu[k] = lo[k] if v < lo[k] else (hi[k] if v > hi[k] else v)
        val = 0.0
        for e in range(N):
            d = 0.0
            for k in range(n):
                d += (X[e, k] - mu[k]) * (X[e, k] - mu[k])
            q = u[e] - p[e] * d
            if q > 0.0:
                val += q
        if val > best:
            best = val
            for e in range(N):
                d = 0.0
                for k in range(n):
                    d += (X[e, k] - mu[k]) * (X[e, k] - mu[k])
                mask[e] = u[e] - p[e] * d > 0.0
            if best > thr:
                thr = best
            if best > stop_at:
                return np.inf, best, mask, boxes, False
        if ub <= thr:
            continue
        if nund <= kmax:
            # exact: walk the subsets T of the uncertain events in Gray-code order
            A = Ain
            W = Win
            for k in range(n):
                s = 0.0
                for e in range(N):
                    if kind[e] == 1:
                        s += p[e] * X[e, k]
                c[k] = s
            ex = -np.inf
            ex_code = 0
            code = 0
            for g in range(1 << nund):
                if g > 0:
                    b = 0
                    while not (g >> b) & 1:
                        b += 1
                    e = und[b]
                    sgn = -1.0 if (code >> b) & 1 else 1.0
                    code ^= 1 << b
                    A += sgn * (u[e] - p[e] * sq[e])
                    W += sgn * p[e]
                    for k in range(n):
                        c[k] += sgn * p[e] * X[e, k]
                v = A
                if W > 1e-300:
                    for k in range(n):
                        z = c[k] / W
                        z = lo[k] if z < lo[k] else (hi[k] if z > hi[k] else z)
                        v += 2.0 * z * c[k] - W * z * z
                elif v < 0.0:
                    v = 0.0
                if v > ex:
                    ex = v
                    ex_code = code
            if ex > left:
                left = ex
            if ex > best:
                best = ex
                for e in range(N):
                    mask[e] = kind[e] == 1
                for b in range(nund):
                    if (ex_code >> b) & 1:
                        mask[und[b]] = True
                if best > thr:
                    thr = best
                if best > stop_at:
                    return np.inf, best, mask, boxes, False
            continue
        if boxes >= max_boxes or top + 2 > STACK:
            complete = False
            if ub > left:
                left = ub
            continue
        kk = 0
        L = -1.0
        for k in range(n):
            if hi[k] - lo[k] > L:
                L = hi[k] - lo[k]
                kk = k
        mid = 0.5 * (lo[kk] + hi[kk])
        lo_s[top] = lo
        hi_s[top] = hi
        hi_s[top, kk] = mid
        top += 1
        lo_s[top] = lo
        hi_s[top] = hi
        lo_s[top, kk] = mid
        top += 1
    return max(thr, left), best, mask, boxes, complete
