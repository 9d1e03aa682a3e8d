"""Compiled pricing of the k = 1 set-partitioning LP for line clusters (``real-codes``; :mod:`rdp_exact.classes.kone_lp`).

A line cluster S costs cost(S) = Σ_{e∈S} π_e||x_e||² − λ_max(M_S), M_S = Σ_{e∈S} π_e x_e x_eᵀ (DESIGN §1.2b, k = 1
decomposition). Given duals u_e of the events' cover rows, write w_e = π_e||x_e||², x̂_e = x_e/||x_e||, the *price*
q_e = w_e − u_e and t_e(v) = ⟨v, x̂_e⟩. Then u(S) − cost(S) = λ_max(M_S) − q(S) = max_{||v||=1} Σ_{e∈S} (w_e t_e(v)² − q_e),
and the pricing value is

    φ(u) = max_S [u(S) − cost(S)] = max_{||v||=1} G(v),   G(v) = Σ_e (w_e t_e(v)² − q_e)⁺

(≥: each S is bounded by G at its top eigenvector; ≤: G(v) is the value of S(v) = {e : w_e t_e² > q_e} at v). Every
x_e ≥ 0, so |v| is as good as v and v ≥ 0 may be assumed; then each t_e ∈ [0, 1].

**Branch and bound over event sets** (:func:`price_line`). A node fixes a set I of events *in* (w_e t_e² ≥ q_e), a set
of events *out* (w_e t_e² ≤ q_e) and leaves U undecided; its region R of the sphere is where those inequalities hold,
and the children (e in, e out) split R. On R, G(v) = vᵀA_I v − q(I) + Σ_{e∈U} (w_e t_e² − q_e)⁺ with
A_I = Σ_{e∈I} w_e x̂_e x̂_eᵀ.

* *Caps.* e in means t_e ≥ c_e = √(q_e/w_e): v lies within angle θ_e = arccos c_e of x̂_e. So for every other event f,
  ∠(v, x̂_f) ≥ ∠(x̂_e, x̂_f) − θ_e, i.e. t_f ≤ τ_f = min_{e∈I} cos(max(0, ∠(x̂_e, x̂_f) − θ_e)) on R.
* *Chords.* s ↦ (w s − q)⁺ is convex, so on s = t² ∈ [0, τ²] it lies below its chord through 0:
  (w t² − q)⁺ ≤ α t² with α = (w τ² − q)⁺/τ². An event with α = 0 cannot be in on R and leaves U.
* *Bound.* Hence max_R G ≤ λ_max(A_I + Σ_{e∈U} α_e x̂_e x̂_eᵀ) − q(I) (a maximum over the whole sphere ⊇ R).
  A node is pruned when this is below θ = max(``floor``, best value found): tested without an eigendecomposition,
  since λ_max(A) < θ + q(I) exactly when the Cholesky factorisation of (θ + q(I))I − A has positive pivots.
* *Incumbents.* At every other node, v ≈ the bound's top eigenvector (power iteration, a heuristic), and the set
  I ∪ {e ∈ U : w_e t_e(v)² > q_e} is a column whose value at v, G restricted to it, is a lower bound on its own value
  λ_max(M_S) − q(S) (|v| = 1). A leaf (U empty) is valued exactly (its eigenvalue).
* *Branching.* On the undecided event whose chord is loosest at v, min(q(1 − t²), α t² − (w t² − q)⁺); the "in"
  child first.

Events with q_e < 0 (u_e > w_e) are in everywhere (their term is positive on the whole sphere) and start in I with
no cap; events with u_e ≤ 0 have α ≤ 0 and never enter. A completed search returns max(floor, best): every pruned
node was below that, every leaf is in best; so the bound is ≥ φ(u) up to floating-point rounding, for which the
caller adds a margin. :func:`shift_line` is the heuristic pricer: alternate S ← S(v), v ← top eigenvector of M_S
(each step keeps or raises Σ_{e∈S}(w_e t_e² − q_e)).

**Pool** (:func:`collect_line`). The same tree enumerates every set S with value ≥ ``floor`` among the sets whose
every event has a term w_e t_e(v_S)² − q_e ≥ −g at the set's own top eigenvector v_S (``slack`` g ≥ 0; the caller
shows that the clusters it needs are such sets, :mod:`rdp_exact.classes.kone_lp`, "Pool"). The caps become
t_e ≥ √((q_e − g)/w_e), an undecided event leaves U only when w_e τ_e² − q_e < −g, the chord of (w s − q)⁺ still
bounds each undecided term from above, nothing starts in I, and every leaf whose value is ≥ ``floor`` (the
Cholesky test again) is kept. Each set is one leaf, so it is returned once.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from rdp_exact.classes.kone_kernel import _now

#: Nodes between two reads of the wall clock.
CLOCK_EVERY = 1024


@nb.njit(cache=True)
def _below(A, theta, Lw):  # pragma: no cover - compiled
    """Whether λ_max(A) < θ for a symmetric A: the Cholesky factorisation of θI − A meets only positive pivots."""
    n = A.shape[0]
    for j in range(n):
        d = theta - A[j, j]
        for k in range(j):
            d -= Lw[j, k] * Lw[j, k]
        if not d > 0.0:
            return False
        r = np.sqrt(d)
        Lw[j, j] = r
        for i in range(j + 1, n):
            x = -A[i, j]
            for k in range(j):
                x -= Lw[i, k] * Lw[j, k]
            Lw[i, j] = x / r
    return True


@nb.njit(cache=True)
def _power(A, v, Av, iters=24):  # pragma: no cover - compiled
    """Power iteration on the PSD matrix A from v (in place): an approximate top eigenvector (a heuristic only)."""
    n = A.shape[0]
    for i in range(n):
        v[i] = abs(v[i]) + 1e-9  # a small push off zero keeps every direction reachable
    for _ in range(iters):
        s = 0.0
        for i in range(n):
            x = 0.0
            for j in range(n):
                x += A[i, j] * v[j]
            Av[i] = x
            s += x * x
        if s <= 0.0:
            break
        s = np.sqrt(s)
        for i in range(n):
            v[i] = Av[i] / s
    s = 0.0
    for i in range(n):
        s += v[i] * v[i]
    s = np.sqrt(s)
    for i in range(n):
        v[i] /= s  # unit, so that the values read at v are values of their sets


@nb.njit(cache=True)
def price_line(X, p, u, floor, max_nodes, stop_at, deadline, want=1):  # pragma: no cover - compiled
    """(bound ≥ φ(u), best value found, its event set as a bool mask, nodes visited, completed, found sets).

    Every set found worth more than ``stop_at`` (a column to add) is kept, each better than the one before; the
    search returns, not completed and with bound ``inf``, at the ``want``-th such set, or when the wall clock passes
    ``deadline`` (``inf`` for none) or the node count ``max_nodes``. A search that completes returns its bound
    with the sets it found (bool rows).
    """
    bound, best, mask, sets, count, nodes, done = _search(X, p, u, floor, max_nodes, stop_at, deadline, 0.0, want,
                                                          False)
    return bound, best, mask, nodes, done, sets[:count]


@nb.njit(cache=True)
def collect_line(X, p, u, floor, slack, max_sets, max_nodes, deadline):  # pragma: no cover - compiled
    """Every event set S with u(S) − cost(S) ≥ ``floor``, given that each of their events has a term
    w_e t_e(v_S)² − q_e ≥ −``slack`` at the set's own top eigenvector v_S (module docstring, "Pool").

    Returns (masks [count, N], count, completed); not completed past ``max_sets`` sets, ``max_nodes`` nodes or the
    ``deadline``.
    """
    _, _, _, sets, count, _, done = _search(X, p, u, floor, max_nodes, np.inf, deadline, slack, max_sets, True)
    return sets[:count], count, done


@nb.njit(cache=True)
def _search(X, p, u, floor, max_nodes, stop_at, deadline, slack, max_sets, collecting):  # pragma: no cover
    """The branch and bound of the module docstring: pricing (up to ``max_sets`` sets worth more than ``stop_at``)
    or, with ``collecting``, the pool of :func:`collect_line` (caps widened by ``slack``, every leaf at or above
    ``floor`` kept, at most ``max_sets``)."""
    N, n = X.shape
    sets = np.zeros((max(max_sets, 1), N), np.bool_)
    count = 0
    Xh = np.empty((N, n))
    w = np.empty(N)
    q = np.empty(N)
    th = np.empty(N)
    for e in range(N):
        s = 0.0
        for k in range(n):
            s += X[e, k] * X[e, k]
        r = np.sqrt(s)
        for k in range(n):
            Xh[e, k] = X[e, k] / r
        w[e] = p[e] * s
        q[e] = w[e] - u[e]
        c = (q[e] - slack) / w[e]
        c = 0.0 if c < 0.0 else (1.0 if c > 1.0 else c)
        th[e] = np.arccos(np.sqrt(c))
    ang = np.empty((N, N))
    for e in range(N):
        for f in range(N):
            d = 0.0
            for k in range(n):
                d += Xh[e, k] * Xh[f, k]
            d = -1.0 if d < -1.0 else (1.0 if d > 1.0 else d)
            ang[e, f] = np.arccos(d)
    L = N + 2
    s_in = np.zeros((L, N), np.bool_)
    s_un = np.zeros((L, N), np.bool_)
    s_A = np.zeros((L, n, n))
    s_q = np.zeros(L)
    s_tau = np.ones((L, N))
    for e in range(N):
        if q[e] < 0.0 and not collecting:
            s_in[0, e] = True
            s_q[0] += q[e]
            for i in range(n):
                for j in range(n):
                    s_A[0, i, j] += w[e] * Xh[e, i] * Xh[e, j]
        elif u[e] > (-slack if collecting else 0.0):
            s_un[0, e] = True
    top = 1
    best = -np.inf
    mask = np.zeros(N, np.bool_)
    cand = np.zeros(N, np.bool_)
    nodes = 0
    alpha = np.zeros(N)
    A = np.empty((n, n))
    Lw = np.empty((n, n))
    v = np.full(n, 1.0 / np.sqrt(n))
    Av = np.empty(n)
    while top > 0:
        top -= 1
        nodes += 1
        if nodes % CLOCK_EVERY == 0 and np.isfinite(deadline) and _now() > deadline:
            return np.inf, best, mask, sets, count, nodes, False
        if nodes > max_nodes:
            return np.inf, best, mask, sets, count, nodes, False
        A[:, :] = s_A[top]
        left = 0
        for e in range(N):
            if not s_un[top, e]:
                continue
            s2 = s_tau[top, e] * s_tau[top, e]
            g = w[e] * s2 - q[e]
            if g < -slack or (g <= 0.0 and not collecting):
                s_un[top, e] = False
                continue
            left += 1
            a = g / s2 if g > 0.0 else 0.0
            alpha[e] = a
            for i in range(n):
                for j in range(n):
                    A[i, j] += a * Xh[e, i] * Xh[e, j]
        if left == 0:  # a leaf: S = I, whose value is λ_max(A_I) − q(I)
            if collecting:
                if not _below(A, floor + s_q[top], Lw):
                    if count == max_sets:
                        return np.inf, best, mask, sets, count, nodes, False
                    sets[count] = s_in[top]
                    count += 1
            else:
                val = np.linalg.eigvalsh(A)[n - 1] - s_q[top]
                if val > best:
                    best = val
                    mask[:] = s_in[top]
                    if best > stop_at:
                        sets[count] = mask
                        count += 1
                        if count == max_sets:
                            return np.inf, best, mask, sets, count, nodes, False
            continue
        lim = floor if (collecting or floor > best) else best
        if _below(A, lim + s_q[top], Lw):  # λ_max(A) − q(I) < lim: nothing here is worth more
            continue
        _power(A, v, Av)
        # the set reached at v (its value at v, a lower bound on its own), and the branching event
        pick = -1
        score = -1.0
        gv = -s_q[top]
        for e in range(N):
            cand[e] = s_in[top, e]
            t = 0.0
            for k in range(n):
                t += Xh[e, k] * v[k]
            t2 = t * t
            if s_in[top, e]:
                gv += w[e] * t2
                continue
            if not s_un[top, e]:
                continue
            g = w[e] * t2 - q[e]
            if g > 0.0:
                cand[e] = True
                gv += g
            sc = alpha[e] * t2 + 1e-300 if collecting else min(q[e] * (1.0 - t2),
                                                               alpha[e] * t2 - (g if g > 0.0 else 0.0))
            if sc > score:
                score = sc
                pick = e
        if not collecting and gv > best:
            best = gv
            mask[:] = cand
            if best > stop_at:
                sets[count] = mask
                count += 1
                if count == max_sets:
                    return np.inf, best, mask, sets, count, nodes, False
        # children: "out" below, "in" on top (visited first); the frame at ``top`` is overwritten by the out child
        s_un[top, pick] = False
        k1 = top + 1
        s_in[k1] = s_in[top]
        s_un[k1] = s_un[top]
        s_in[k1, pick] = True
        s_q[k1] = s_q[top] + q[pick]
        s_A[k1] = s_A[top]
        for i in range(n):
            for j in range(n):
                s_A[k1, i, j] += w[pick] * Xh[pick, i] * Xh[pick, j]
        for f in range(N):
            d = ang[pick, f] - th[pick]
            d = 0.0 if d < 0.0 else (np.pi / 2 if d > np.pi / 2 else d)
            c = np.cos(d)
            s_tau[k1, f] = c if c < s_tau[top, f] else s_tau[top, f]
        top += 2
    # every pruned node was below max(floor, best) when pruned, every leaf is in best
    return max(floor, best), best, mask, sets, count, nodes, True


@nb.njit(cache=True)
def shift_line(X, p, u, starts, iters):  # pragma: no cover - compiled
    """The event sets reached from each start direction by S ← {e : π_e⟨v, x_e⟩² > w_e − u_e}, v ← top eigenvector
    of M_S (rows of a bool matrix; an all-false row when a start reaches no set). The eigenvector is approximated by
    power iteration: the sets are candidates, priced exactly by the caller."""
    N, n = X.shape
    K = starts.shape[0]
    out = np.zeros((K, N), np.bool_)
    sq = np.zeros(N)
    for e in range(N):
        for k in range(n):
            sq[e] += X[e, k] * X[e, k]
    cur = np.zeros(N, np.bool_)
    M = np.empty((n, n))
    Mv = np.empty(n)
    for s in range(K):
        v = starts[s].copy()
        for it in range(iters):
            changed = False
            anyin = False
            for e in range(N):
                t = 0.0
                for k in range(n):
                    t += X[e, k] * v[k]
                inn = p[e] * t * t > p[e] * sq[e] - u[e]
                if inn != cur[e]:
                    changed = True
                cur[e] = inn
                anyin = anyin or inn
            if not anyin:
                cur[:] = False
                break
            if it > 0 and not changed:
                break
            M[:, :] = 0.0
            for e in range(N):
                if cur[e]:
                    for i in range(n):
                        for j in range(n):
                            M[i, j] += p[e] * X[e, i] * X[e, j]
            _power(M, v, Mv, 40)
        out[s] = cur
        cur[:] = False
    return out


@nb.njit(cache=True)
def line_costs(X, p, masks):  # pragma: no cover - compiled
    """cost(S) = Σ_S π||x||² − λ_max(Σ_S π x xᵀ) for every row of ``masks`` (clipped at 0)."""
    K, N = masks.shape
    n = X.shape[1]
    out = np.zeros(K)
    M = np.empty((n, n))
    for r in range(K):
        M[:, :] = 0.0
        mass = 0.0
        for e in range(N):
            if masks[r, e]:
                for i in range(n):
                    mass += p[e] * X[e, i] * X[e, i]
                    for j in range(n):
                        M[i, j] += p[e] * X[e, i] * X[e, j]
        c = mass - np.linalg.eigvalsh(M)[n - 1]
        out[r] = c if c > 0.0 else 0.0
    return out
