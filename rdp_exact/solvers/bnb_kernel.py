"""Compiled facility-location Lagrangian of the branch-and-bound (:mod:`rdp_exact.solvers.bnb_free`).

The bound is the one in the module docstring of :mod:`rdp_exact.solvers.bnb_free` ("Lagrangian bound",
docs/solvers-scale.md): at a node with chosen atoms F, r more atoms to choose and multipliers λ ∈ [0, π·e_F],

    D(F ∪ U) ≥ Σ_S min(λ_S, π_S e_F(S)) − Σ_{A∈U} w_λ(A) − top-p₂ Σ_v g_λ(v),

    w_λ(A) = Σ_S (λ_S − π_S e_{F∪A}(S))⁺,    g_λ(v) = Σ_S (λ_S − π_S |1_S − v|²)⁺,

and λ is tuned by projected subgradient steps with a Polyak step towards the incumbent. This module runs the same
iterations as machine code (numba, cached on disk after the first call), in float64 throughout, on the sparse
parts of the tables: w_λ(A) only has terms where e_{F∪A}(S) < e_F(S) (elsewhere λ_S ≤ π_S e_F(S) ≤ π_S e_{F∪A}(S)),
and g_λ(v) only where |1_S − v|² < λ_S/π_S, which the per-event lists of all 0/1 vectors sorted by their distance to
1_S (:func:`vector_lists`, built once per search) deliver as a prefix.

For k = 2 the pair term can instead be charged to the atoms (:func:`_superset_charge`: half of the r − 1
largest g_λ over proper supersets of each atom). The module also holds the compiled μ bound
(:func:`credit_entries`, :func:`mu_bound`), the pattern keys by integer popcounts (:func:`pattern_keys_min`),
one pass over a node's children (:func:`node_eval`), the suffix sums of the child bounds
(:func:`suffix_top_sums`) and the screen that skips a child with two atoms left without a visit
(:func:`screen_child`).

The state of the step rule (θ, the stale counter, the best λ seen) is passed in and out so that the caller can
run the iterations in chunks and stop on its clock; every λ gives a valid bound, so stopping early only weakens
it.
"""

from __future__ import annotations

import numba as nb
import numpy as np

FLOAT_SLACK = 1e-12


def vector_lists(hamming: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per event S: every 0/1 vector ordered by |1_S − v|² (``order`` [N, 2^n]) and ``cum[S, d]`` = number of
    vectors at squared distance < d (d = 0 … n + 1). ``hamming`` is [2^n, N]."""
    ham = np.asarray(hamming).T.astype(np.int64)  # [N, V]
    order = np.argsort(ham, axis=1, kind="stable")
    N, V = ham.shape
    n = int(round(np.log2(V)))
    cum = np.zeros((N, n + 2), dtype=np.int64)
    for d in range(1, n + 2):
        cum[:, d] = (ham < d).sum(axis=1)
    dtype = np.uint16 if V <= 1 << 16 else np.int64
    return order.astype(dtype), cum


@nb.njit(cache=True)
def _top(vals, q, out):  # pragma: no cover - compiled
    """Indices of q largest entries of vals into out[:q] (ties by index); returns their sum."""
    L = vals.size
    if q >= L:
        s = 0.0
        for i in range(L):
            out[i] = i
            s += vals[i]
        return s
    # threshold by partition, then collect > thr, then == thr in index order
    thr = -np.partition(-vals, q - 1)[q - 1]
    j = 0
    s = 0.0
    for i in range(L):
        if vals[i] > thr:
            out[j] = i
            s += vals[i]
            j += 1
    for i in range(L):
        if j >= q:
            break
        if vals[i] == thr:
            out[j] = i
            s += vals[i]
            j += 1
    return s


@nb.njit(cache=True)
def atom_entries(pi, eF, eA):  # pragma: no cover - compiled
    """CSR of the entries (A, S) with e_{F∪A}(S) < e_F(S): (indptr, events, π_S e_{F∪A}(S)); one pass into room
    for every entry, the used prefix returned."""
    Mc, N = eA.shape
    indptr = np.zeros(Mc + 1, dtype=np.int64)
    ev = np.empty(Mc * N, dtype=np.int32)
    val = np.empty(Mc * N, dtype=np.float64)
    j = _fill_entries(pi, eF, eA, indptr, ev, val)
    return indptr, ev[:j], val[:j]


@nb.njit(cache=True, inline="always")
def _fill_entries(pi, eF, eA, indptr, ev, val):  # pragma: no cover - compiled
    """Write the CSR of :func:`atom_entries` into room the caller made; returns the number of entries."""
    Mc, N = eA.shape
    j = 0
    for a in range(Mc):
        for s in range(N):
            if eA[a, s] < eF[s]:
                ev[j] = s
                val[j] = pi[s] * eA[a, s]
                j += 1
        indptr[a + 1] = j
    return j


@nb.njit(cache=True)
def _superset_charge(gV, smasks, tv, r, wA):  # pragma: no cover - compiled
    """wA[i] += ½ G_λ(A_i), G_λ(A) = the sum of the r − 1 largest positive g_λ(v) over 0/1 vectors v ⊋ A
    (distinct vectors); :func:`charged_vectors` lists those v for one atom.

    Why this bounds the pair term (k = 2): replace each pattern A + B of two new atoms by the 0/1 vector A ∨ B
    (no farther from any 0/1 target), keep one representative pair per distinct vector v, and charge g_λ(v) half
    to each atom of its pair. A vector equal to A is A's own pattern (in w_λ); every other v charged to A is a
    proper superset of A, distinct from the others charged to A, and there are at most r − 1 of them (one per
    partner). So Σ_v g_λ(v) ≤ ½ Σ_{A∈U} G_λ(A).

    How: tv[t, mask] (t < r) holds the r largest values (0 for none) over the supersets of the mask, itself
    included, built bit by bit — each superset reaches a mask along one path, so two lists that meet hold
    distinct vectors and merge by c_t = max_{i+j=t} min(a_i, b_j) (a_0 = b_0 = +∞), written out branch-free
    for r ≤ 4 (:func:`_zeta2` …, vectorised over the masks of a block; 1.1–6.6× faster than inserting one list
    into the other at n = 12–16, benchmarks/bench_charge.py), which :func:`_zeta_lists` still does for r > 4.
    The strict supersets of A drop A's own value once when it is among them."""
    V = gV.size
    q = tv.shape[0]  # = max(r, 1)
    for v in range(V):
        tv[0, v] = gV[v] if gV[v] > 0.0 else 0.0
    for t in range(1, q):
        for v in range(V):
            tv[t, v] = 0.0
    if q == 2:
        _zeta2(tv[0], tv[1])
    elif q == 3:
        _zeta3(tv[0], tv[1], tv[2])
    elif q == 4:
        _zeta4(tv[0], tv[1], tv[2], tv[3])
    elif q > 4:
        _zeta_lists(tv)
    for i in range(smasks.size):
        A = smasks[i]
        own = gV[A] if gV[A] > 0.0 else 0.0
        G = 0.0
        for t in range(q):
            G += tv[t, A]
        if own > 0.0 and own >= tv[q - 1, A]:
            G -= own  # A's own value is among its r largest: the strict supersets keep the other r − 1
        else:
            G -= tv[q - 1, A]
        wA[i] += 0.5 * G


@nb.njit(cache=True)
def _zeta2(a0, a1):  # pragma: no cover - compiled
    """The two largest values over the supersets of every mask, in place (:func:`_superset_charge`)."""
    V = a0.size
    bit = 1
    while bit < V:
        for hi in range(0, V, 2 * bit):
            for j in range(hi, hi + bit):
                o = j + bit
                A0, A1, B0, B1 = a0[j], a1[j], a0[o], a1[o]
                a0[j] = max(A0, B0)
                a1[j] = max(max(A1, B1), min(A0, B0))
        bit <<= 1


@nb.njit(cache=True)
def _zeta3(a0, a1, a2):  # pragma: no cover - compiled
    """The three largest values over the supersets of every mask, in place (:func:`_superset_charge`)."""
    V = a0.size
    bit = 1
    while bit < V:
        for hi in range(0, V, 2 * bit):
            for j in range(hi, hi + bit):
                o = j + bit
                A0, A1, A2, B0, B1, B2 = a0[j], a1[j], a2[j], a0[o], a1[o], a2[o]
                a0[j] = max(A0, B0)
                a1[j] = max(max(A1, B1), min(A0, B0))
                a2[j] = max(max(A2, B2), max(min(A0, B1), min(A1, B0)))
        bit <<= 1


@nb.njit(cache=True)
def _zeta4(a0, a1, a2, a3):  # pragma: no cover - compiled
    """The four largest values over the supersets of every mask, in place (:func:`_superset_charge`)."""
    V = a0.size
    bit = 1
    while bit < V:
        for hi in range(0, V, 2 * bit):
            for j in range(hi, hi + bit):
                o = j + bit
                A0, A1, A2, A3 = a0[j], a1[j], a2[j], a3[j]
                B0, B1, B2, B3 = a0[o], a1[o], a2[o], a3[o]
                a0[j] = max(A0, B0)
                a1[j] = max(max(A1, B1), min(A0, B0))
                a2[j] = max(max(A2, B2), max(min(A0, B1), min(A1, B0)))
                a3[j] = max(max(A3, B3), max(max(min(A0, B2), min(A1, B1)), min(A2, B0)))
        bit <<= 1


@nb.njit(cache=True)
def _zeta_lists(tv):  # pragma: no cover - compiled
    """The q = tv.shape[0] largest values over the supersets of every mask, in place, by inserting a superset's
    list into the mask's while its entries beat the mask's last (only positive values count); on a copy with
    each mask's list contiguous (1.2× faster than in place at n = 16, q = 5 … 8)."""
    q, V = tv.shape
    w = np.empty((V, q))
    for t in range(q):
        for v in range(V):
            w[v, t] = tv[t, v]
    last = q - 1
    bit = 1
    while bit < V:
        for hi in range(0, V, 2 * bit):
            for mask in range(hi, hi + bit):
                other = mask + bit
                if w[other, 0] <= w[mask, last]:
                    continue
                for j in range(q):
                    x = w[other, j]
                    if x <= 0.0 or x <= w[mask, last]:
                        break  # the superset's list runs largest first: nothing later gets in either
                    p = last
                    while p > 0 and w[mask, p - 1] < x:
                        w[mask, p] = w[mask, p - 1]
                        p -= 1
                    w[mask, p] = x
        bit <<= 1
    for t in range(q):
        for v in range(V):
            tv[t, v] = w[v, t]


@nb.njit(cache=True)
def charged_vectors(gV, A, r, out):  # pragma: no cover - compiled
    """out[:c] = r − 1 vectors v ⊋ A with the largest positive g_λ(v) (those :func:`_superset_charge` charges
    to A, ties by the smaller vector), out[c:] = −1; returns c."""
    V = gV.size
    c = 0
    for v in range(V):
        if v == A or v & A != A or gV[v] <= 0.0:
            continue
        if c < r - 1:  # insert, keeping the list largest first
            p = c
            c += 1
        elif c > 0 and gV[v] > gV[out[c - 1]]:
            p = c - 1
        else:
            continue
        while p > 0 and gV[out[p - 1]] < gV[v]:
            out[p] = out[p - 1]
            p -= 1
        out[p] = v
    for t in range(c, out.size):
        out[t] = -1
    return c


@nb.njit(cache=True, inline="always")
def _vector_values(lam, pi, order, cum, gV):  # pragma: no cover - compiled
    """gV[v] = g_λ(v) = Σ_S (λ_S − π_S |1_S − v|²)⁺ over the 0/1 vectors v, from the per-event lists of vectors
    by distance (:func:`vector_lists`: ``order[S]``, ``cum[S, h]`` of them closer than h)."""
    gV[:] = 0.0
    nmax = cum.shape[1] - 1
    for s in range(lam.size):
        if lam[s] <= 0.0:
            continue
        dcap = int(np.ceil(lam[s] / pi[s]))
        if dcap > nmax:
            dcap = nmax
        for h in range(dcap):  # one value per distance shell
            d = lam[s] - pi[s] * h
            if d <= 0.0:
                break
            for j in range(cum[s, h], cum[s, h + 1]):
                gV[order[s, j]] += d


@nb.njit(cache=True)
def _values(lam, pi, pe, indptr, ev, val, order, cum, ham, p2, wA, gV, topA, topV, r, smasks, tv, sv):  # pragma: no cover
    """Fill w_λ (wA), g_λ (gV, when p2 > 0) and the top index lists; returns (bound value, base).

    With superset charging (``smasks`` non-empty: the candidate atoms' masks; k = 2, :func:`_superset_charge`),
    the pair term is charged to the atoms instead: wA[A] becomes w_λ(A) + ½ G_λ(A), base has no top-p₂ term,
    and sv[A] lists the vectors charged to A."""
    Mc = wA.size
    N = lam.size
    for a in range(Mc):
        s = 0.0
        for j in range(indptr[a], indptr[a + 1]):
            d = lam[ev[j]] - val[j]
            if d > 0.0:
                s += d
        wA[a] = s
    base = 0.0
    for s in range(N):
        base += lam[s] if lam[s] < pe[s] else pe[s]
    if p2 > 0:
        _vector_values(lam, pi, order, cum, gV)
        if smasks.size > 0:
            _superset_charge(gV, smasks, tv, r, wA)
        else:
            base -= _top(gV, p2, topV)
    sumA = _top(wA, r, topA)
    if p2 > 0 and smasks.size > 0:
        for i in range(min(r, Mc)):  # the subgradient needs the vectors charged to the chosen atoms only
            charged_vectors(gV, smasks[topA[i]], r, sv[topA[i]])
    return base - sumA, base


@nb.njit(cache=True)
def lagrange_iterate(
    pi, eF, indptr, ev, val, order, cum, ham, r, p2, lam, theta, stale, best_val, best_lam, iters, target, smasks,
    best_w,
):  # pragma: no cover - compiled
    """Run up to ``iters`` subgradient steps from λ = ``lam`` (module docstring); returns
    (λ, θ, stale, best value, best λ, pruned, base at the best λ) where ``pruned`` says the value exceeded
    ``target`` + slack; ``best_w`` receives w_λ at the best λ (with ``smasks``: w_λ + ½ G_λ), and the base
    returned is NaN when no step of this call improved the best λ."""
    N = lam.size
    Mc = indptr.size - 1
    pe = pi * eF
    rr = min(r, Mc)
    wA = np.empty(Mc)
    V = ham.shape[0]
    gV = np.empty(V)
    topA = np.empty(max(rr, 1), dtype=np.int64)
    q = min(p2, V)
    topV = np.empty(max(q, 1), dtype=np.int64)
    grad = np.empty(N)
    finite = np.isfinite(target)
    pesum = pe.sum()
    charge = smasks.size > 0
    tv, sv = _charge_tables(charge, V, Mc, rr)
    best_base = np.nan
    for _ in range(iters):
        value, base = _values(lam, pi, pe, indptr, ev, val, order, cum, ham, q, wA, gV, topA, topV, rr,
                              smasks, tv, sv)
        if value > best_val + 1e-12:
            best_val = value
            best_lam[:] = lam
            best_w[:] = wA
            best_base = base
            stale = 0
        else:
            stale += 1
            if stale >= 3:
                theta /= 2.0
                stale = 0
        if value > target + FLOAT_SLACK:
            return lam, theta, stale, best_val, best_lam, True, best_base
        for s in range(N):
            grad[s] = 1.0 if lam[s] < pe[s] else 0.0
        for i in range(rr):
            a = topA[i]
            for j in range(indptr[a], indptr[a + 1]):
                if val[j] < lam[ev[j]]:
                    grad[ev[j]] -= 1.0
        if charge:
            for i in range(rr):
                a = topA[i]
                for c in range(sv.shape[1]):
                    v = sv[a, c]
                    if v < 0:
                        break
                    for s in range(N):
                        if pi[s] * ham[v, s] < lam[s]:
                            grad[s] -= 0.5
        else:
            for i in range(q):
                v = topV[i]
                for s in range(N):
                    if pi[s] * ham[v, s] < lam[s]:
                        grad[s] -= 1.0
        norm = 0.0
        for s in range(N):
            norm += grad[s] * grad[s]
        if norm <= 0.0:
            break
        if finite:
            gap = target - value
            floor = 1e-3 * abs(target) + 1e-9
            if gap < floor:
                gap = floor
        else:
            gap = 0.1 * pesum + 1e-9
        step = theta * gap / norm
        for s in range(N):
            x = lam[s] + step * grad[s]
            lam[s] = 0.0 if x < 0.0 else (pe[s] if x > pe[s] else x)
    return lam, theta, stale, best_val, best_lam, False, best_base


@nb.njit(cache=True)
def _charge_tables(charge, V, Mc, r):  # pragma: no cover - compiled
    """Work arrays of :func:`_superset_charge` (empty when not charging)."""
    if not charge:
        return np.empty((1, 1)), np.empty((1, 1), dtype=np.int64)
    q1 = max(r, 1)
    return np.empty((q1, V)), np.full((Mc, max(q1 - 1, 1)), -1, dtype=np.int64)


@nb.njit(cache=True, inline="always")
def _credit(eF, eA, helpful, outside, i, a, s, half):  # pragma: no cover - compiled
    """c_S(A) of the μ bound: (e_F(S) − e_{F∪A}(S)), raised on helpful (A, S) to ½(e_F(S) − |A∖S|) with ``half``."""
    c = eF[s] - eA[i, s]
    if half and helpful[a, s]:
        h = 0.5 * (eF[s] - outside[a, s])
        if h > c:
            c = h
    return c


@nb.njit(cache=True)
def credit_entries(eF, eA, helpful, outside, cand, half):  # pragma: no cover - compiled
    """CSR of the per-event credits c_S(A) of the μ bound (:meth:`bnb_free._Search._legacy_bound`):
    c = (e_F(S) − e_{F∪A}(S))⁺, and with ``half`` (k ≥ 2) on helpful (A, S) at least ½(e_F(S) − |A∖S|)."""
    Mc, N = eA.shape
    indptr = np.zeros(Mc + 1, dtype=np.int64)
    ev = np.empty(Mc * N, dtype=np.int32)  # one pass into room for every entry; the used prefix is returned
    val = np.empty(Mc * N, dtype=np.float64)
    j = 0
    for i in range(Mc):
        for s in range(N):
            c = _credit(eF, eA, helpful, outside, i, cand[i], s, half)
            if c > 0.0:
                ev[j] = s
                val[j] = c
                j += 1
        indptr[i + 1] = j
    return indptr, ev[:j], val[:j]


@nb.njit(cache=True)
def mu_bound(pi, eF, indptr, ev, val, r, iters):  # pragma: no cover - compiled
    """Best (Φ, w_μ, base_μ) over a few μ ∈ [0, 1]^N (:meth:`bnb_free._Search._mu_bound` without free
    vectors): base_μ = Σ_S π_S (1 − μ_S) e_F(S), w_μ(A) = Σ_S π_S μ_S c_S(A), Φ = base_μ + top-r w_μ."""
    N = eF.size
    Mc = indptr.size - 1
    pe = pi * eF
    mu = np.ones(N)
    pm = np.empty(N)
    w = np.empty(Mc)
    credit = np.empty(N)
    rr = min(r, Mc)
    top = np.empty(max(rr, 1), dtype=np.int64)
    best_phi = np.inf
    best_w = np.zeros(Mc)
    best_base = 0.0
    for it in range(iters):
        for s in range(N):
            pm[s] = pi[s] * mu[s]
        for a in range(Mc):
            x = 0.0
            for j in range(indptr[a], indptr[a + 1]):
                x += val[j] * pm[ev[j]]
            w[a] = x
        sw = _top(w, rr, top)
        base = 0.0
        for s in range(N):
            base += pe[s] * (1.0 - mu[s])
        credit[:] = 0.0
        for i in range(rr):
            a = top[i]
            for j in range(indptr[a], indptr[a + 1]):
                credit[ev[j]] += val[j]
        phi = base + sw
        if phi < best_phi:
            best_phi = phi
            best_w[:] = w
            best_base = base
        if it % 2 == 0:
            for s in range(N):
                c = credit[s] if credit[s] > 1e-12 else 1e-12
                f = eF[s] / c
                if f < 1.0:
                    mu[s] *= f
        else:
            gmax = 0.0
            for s in range(N):
                g = abs(pi[s] * (credit[s] - eF[s]))
                if g > gmax:
                    gmax = g
            if gmax <= 0.0:
                break
            step = 0.25 / it / gmax
            for s in range(N):
                x = mu[s] - step * pi[s] * (credit[s] - eF[s])
                mu[s] = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
    return best_phi, best_w, best_base


def popcount_table(n: int) -> np.ndarray:
    """popcount of every n-bit integer (uint8)."""
    v = np.arange(1 << n, dtype=np.int64)
    out = np.zeros(v.size, dtype=np.uint8)
    for b in range(n):
        out += ((v >> b) & 1).astype(np.uint8)
    return out


@nb.njit(cache=True)
def pattern_keys_min(out, masks, asize, events, sq, sub, pc, K1, size_q):  # pragma: no cover - compiled
    """out[i, S] ← min(out[i, S], key of the pattern {A_i} ∪ Q on S) with the key err·K1 + |Q| + 1 and
    err = ||ρ_S||² − 2⟨1_A, ρ_S⟩ + |A|, ρ_S = 1_S − c_Q: ⟨1_A, ρ_S⟩ = |A ∩ S| − sub[i] (sub[i] = Σ_{B∈Q} |A ∩ B|),
    ``sq[S]`` = ||ρ_S||². Integer arithmetic throughout."""
    Mc = masks.size
    N = events.size
    for i in range(Mc):
        A = masks[i]
        base_i = asize[i] + 2 * sub[i]
        for s in range(N):
            err = sq[s] + base_i - 2 * np.int64(pc[A & events[s]])
            key = err * K1 + size_q + 1
            if key < out[i, s]:
                out[i, s] = key


@nb.njit(cache=True)
def node_eval(kb, kF, K1, pi, eA):  # pragma: no cover - compiled
    """One pass over a node's children: keA = min(kb, κ_F) (the keyed errors of F ∪ {A}), their errors
    eA = keA // K1 (into ``eA``, whose dtype the caller picks: int8 where the errors fit, a quarter of int32's
    memory), and D(F ∪ {A}) = Σ_S π_S eA(S)."""
    Mc, N = kb.shape
    # keA ≤ κ_F ≤ max κ_F: the errors come from a table instead of an integer division per cell (3× faster)
    top = 0
    for s in range(N):
        if kF[s] > top:
            top = kF[s]
    div = np.empty(top + 1, dtype=np.int32)
    for x in range(top + 1):
        div[x] = x // K1
    keA = np.empty((Mc, N), dtype=np.int32)
    DA = np.empty(Mc)
    for i in range(Mc):
        d = 0.0
        for s in range(N):
            k = kb[i, s] if kb[i, s] < kF[s] else kF[s]
            keA[i, s] = k
            e = div[k]
            eA[i, s] = e
            d += pi[s] * e
        DA[i] = d
    return keA, DA


@nb.njit(cache=True)
def suffix_top_sums(ws, q):  # pragma: no cover - compiled
    """out[i] = the sum of the q largest entries of ws[i + 1:] (fewer when fewer remain)."""
    L = ws.size
    out = np.zeros(L)
    if q <= 0:
        return out
    top = np.empty(q)  # the q largest seen so far, ascending; the first ``cnt`` slots used
    cnt = 0
    s = 0.0
    for i in range(L - 1, -1, -1):
        out[i] = s
        x = ws[i]
        if cnt < q:
            j = cnt
            while j > 0 and top[j - 1] > x:
                top[j] = top[j - 1]
                j -= 1
            top[j] = x
            cnt += 1
            s += x
        elif x > top[0]:
            s += x - top[0]
            j = 0
            while j + 1 < q and top[j + 1] < x:
                top[j] = top[j + 1]
                j += 1
            top[j] = x
    return out


@nb.njit(cache=True)
def _push_top(buf, cnt, q, x):  # pragma: no cover - compiled
    """Keep the q largest values seen in buf[:cnt] (descending): insert x, return the new count."""
    if cnt < q:
        k = cnt
        cnt += 1
    elif x > buf[q - 1]:
        k = q - 1
    else:
        return cnt
    while k > 0 and buf[k - 1] < x:
        buf[k] = buf[k - 1]
        k -= 1
    buf[k] = x
    return cnt


@nb.njit(cache=True)
def global_child_bound(base, w, r):  # pragma: no cover - compiled
    """Per child i: base − w_i − (the sum of the r − 1 largest w_j, j ≠ i) — the order-free bound of child i from
    one bound family (base, w) (docs/solvers-scale.md, "Children"). The r largest values are kept in a small
    descending buffer (r ≤ m); a child among the r − 1 largest is charged the r-th instead of itself."""
    L = w.size
    out = np.empty(L)
    if r <= 1 or L <= 1:
        for i in range(L):
            out[i] = base - w[i]
        return out
    q = min(r, L)
    top = np.empty(q)  # the q largest, descending
    cnt = 0
    for i in range(L):
        cnt = _push_top(top, cnt, q, w[i])
    h = min(r - 1, q)
    s1 = 0.0
    for j in range(h):
        s1 += top[j]
    nxt = top[r - 1] if q >= r else 0.0
    thr = top[h - 1]
    for i in range(L):
        if w[i] >= thr:
            out[i] = base - w[i] - (s1 - w[i] + nxt)
        else:
            out[i] = base - w[i] - s1
    return out


@nb.njit(cache=True)
def pair_filter(bases, W, i, rest, r, lim):  # pragma: no cover - compiled
    """The entries b of ``rest`` (child positions) that can still join child i: for every family f,
    bases[f] − W[f, i] − W[f, b] − (the r − 2 largest W[f, ·] over rest ∖ {b}) ≤ lim."""
    keep = np.ones(rest.size, dtype=np.bool_)
    wr = np.empty(rest.size)
    for f in range(bases.size):
        for j in range(rest.size):
            wr[j] = W[f, rest[j]]
        b = global_child_bound(bases[f] - W[f, i], wr, r - 1)
        for j in range(rest.size):
            if b[j] > lim:
                keep[j] = False
    return rest[keep]


@nb.njit(cache=True)
def combined_windows(bases, W, r, lim):  # pragma: no cover - compiled
    """Children order and per-child bounds from the bound families (bases[f], W[f]): for each family's
    w-descending order (stable), child at position p is bounded by max_f bases[f] − w_f − (the r − 1 largest w_f
    after p); the order leaving the fewest children with a bound ≤ lim is returned (the first on ties)."""
    nf, L = W.shape
    best_open = L + 1
    best_order = np.arange(L)
    best_lb = np.full(L, -np.inf)
    wo = np.empty(L)
    for f in range(nf):
        neg = np.empty(L)
        for i in range(L):
            neg[i] = -W[f, i]
        order = np.argsort(neg, kind="mergesort")
        lb = np.full(L, -np.inf)
        for g in range(nf):
            for i in range(L):
                wo[i] = W[g, order[i]]
            s = suffix_top_sums(wo, r - 1)
            for i in range(L):
                v = bases[g] - wo[i] - s[i]
                if v > lb[i]:
                    lb[i] = v
        n_open = 0
        for i in range(L):
            if lb[i] <= lim:
                n_open += 1
        if n_open < best_open:
            best_open = n_open
            best_order = order
            best_lb = lb
    return best_order, best_lb


@nb.njit(cache=True, inline="always")
def _add_pair(g, ra, a, j, v, sym):  # pragma: no cover - compiled
    """Credit v > 0 to the pair (a, j) (j = −1: not an allowed atom): with ``sym`` to both halves of the table,
    from the lower index only (each pair is reached from both of its atoms); else to row ``ra`` (a's row)."""
    if j < 0 or j == a or v <= 0.0:
        return
    if sym:
        if j > a:
            g[a, j] += v
            g[j, a] += v
    else:
        g[ra, j] += v


@nb.njit(cache=True)
def _credit_partners(g, ra, a, b, ev, nev, size, t, lam_s, pi_s, pc, idx, sym):  # pragma: no cover - compiled
    """Add (λ_S − π_S |1_S − b − c|²)⁺ of one event S (t = λ_S/π_S) for every allowed partner c of atom a (mask
    b), each c reached through its masks (:func:`_pair_table_subsets`; ``idx``: the atom of each mask, or −1):
    c = X ∪ Y_in ∪ Y_out with X = b ∩ c, Y_in ⊆ S ∖ b, Y_out ⊆ b̄ ∖ S, and |1_S − b − c|² = |S| + key_b +
    (3 |X ∖ S| + |X ∩ S|) + |Y_out| − |Y_in|, so only the Y_out with |Y_out| below the budget left are looked up.
    Where to: :func:`_add_pair` (``sym``: the whole table; else row ``ra``)."""
    o = np.int64(pc[b & nev])
    if o >= t:
        return  # every concept of b outside S costs at least 1
    kb = o - np.int64(pc[b & ev])
    rem = t - size - kb + 1e-9
    sb = ev & ~b
    ob = nev & ~b
    nsb = np.int64(pc[sb])
    X = b
    while True:  # X = b ∩ c over the submasks of b; it costs 3 per concept outside S, 1 inside
        cX = 3 * np.int64(pc[X & nev]) + np.int64(pc[X & ev])
        if cX - nsb < rem:
            Yi = sb
            while True:  # Y_in over the submasks of S ∖ b; then |Y_out| < budget
                budget = rem - cX + np.int64(pc[Yi])
                e0 = size + kb + cX - np.int64(pc[Yi])  # the error with Y_out = ∅
                if budget > 0.0:
                    _add_pair(g, ra, a, idx[X | Yi], lam_s - pi_s * e0, sym)
                if budget > 1.0 and budget <= 2.0:  # Y_out: single concepts
                    rest = ob
                    while rest:
                        bit = rest & -rest
                        rest ^= bit
                        _add_pair(g, ra, a, idx[X | Yi | bit], lam_s - pi_s * (e0 + 1), sym)
                elif budget > 2.0:  # Y_out: every nonempty submask below the budget
                    Yo = ob
                    while Yo:
                        if pc[Yo] < budget:
                            _add_pair(g, ra, a, idx[X | Yi | Yo], lam_s - pi_s * (e0 + np.int64(pc[Yo])), sym)
                        Yo = (Yo - 1) & ob
                if Yi == 0:
                    break
                Yi = (Yi - 1) & sb
        if X == 0:
            break
        X = (X - 1) & b


@nb.njit(cache=True)
def _mask_index(masks, full):  # pragma: no cover - compiled
    """The atom of each mask (a 2^n index; −1 for masks not listed)."""
    idx = np.full(full + 1, -1, dtype=np.int64)
    for a in range(masks.size):
        idx[masks[a]] = a
    return idx


@nb.njit(cache=True)
def _pair_table_subsets(masks, events, pi, lam, pc, full, g):  # pragma: no cover - compiled
    """The table of :func:`_pair_table_sorted`, each credited pair reached through its masks
    (:func:`_credit_partners`, each pair once, from its lower index). Costs ~Σ_b 2^(n − |b|) lookups per event
    instead of a scan of the key window per b."""
    idx = _mask_index(masks, full)
    for s in range(events.size):
        if lam[s] <= 0.0:
            continue
        ev = events[s]
        for a in range(masks.size):
            _credit_partners(g, a, a, masks[a], ev, full & ~ev, np.int64(pc[ev]), lam[s] / pi[s], lam[s], pi[s], pc,
                             idx, True)


@nb.njit(cache=True)
def _pair_table_sorted(masks, events, pi, lam, pc, full, g):  # pragma: no cover - compiled
    """Add g(b, c) = Σ_S (λ_S − π_S |1_S − b − c|²)⁺ into ``g`` (both halves) by scanning, per event, the listed
    atoms sorted by key (:func:`exact_pair_windows`)."""
    C = masks.size
    N = events.size
    lst = np.empty(C, dtype=np.int64)
    key = np.empty(C, dtype=np.int64)
    ks = np.empty(C, dtype=np.int64)  # the listed atoms sorted by key: keys, masks, indices (contiguous)
    ms = np.empty(C, dtype=np.int64)
    ids = np.empty(C, dtype=np.int64)
    for s in range(N):
        if lam[s] <= 0.0:
            continue
        t = lam[s] / pi[s]
        ev = events[s]
        nev = full & ~ev
        size = np.int64(pc[ev])
        # per concept of S the pattern b + c costs 1 − b_i − c_i + 2 b_i c_i, outside S b_i + c_i + 2 b_i c_i, so
        # |1_S − b − c|² = |S| + key_b + key_c + 2 |b ∩ c| with key = |b ∖ S| − |b ∩ S|; and it is ≥ |b ∖ S|, so only
        # atoms with fewer than t = λ_S/π_S concepts outside S are listed
        lim = t - size
        L = 0
        for a in range(C):
            o = np.int64(pc[masks[a] & nev])
            if o < t:
                lst[L] = a
                key[L] = o - np.int64(pc[masks[a] & ev])
                L += 1
        srt = np.argsort(key[:L], kind="mergesort")
        for ii in range(L):
            ks[ii] = key[srt[ii]]
            ids[ii] = lst[srt[ii]]
            ms[ii] = masks[ids[ii]]
        for ii in range(L):
            ki = ks[ii]
            if 2 * ki >= lim:
                break  # every later pair has key_b + key_c ≥ 2 key_i
            rem = lim - ki
            b = ms[ii]
            ai = ids[ii]
            for jj in range(ii + 1, L):
                kj = ks[jj]
                if kj >= rem:
                    break
                x = kj + 2 * np.int64(pc[b & ms[jj]])
                if x < rem:
                    v = lam[s] - pi[s] * (size + ki + x)
                    if v > 0.0:
                        aj = ids[jj]
                        g[ai, aj] += v
                        g[aj, ai] += v


@nb.njit(cache=True)
def exact_pair_windows(masks, events, pi, lam, eA, base, order, r, pc, full, subsets=False):  # pragma: no cover - compiled
    """Child bounds with exact pair credits (k = 2; docs/solvers-scale.md, "Exact pair credits").

    With λ ≥ 0, w(b) = Σ_S (λ_S − π_S e_{F∪b}(S))⁺ and g(b, c) = Σ_S (λ_S − π_S |1_S − b − c|²)⁺ (the pattern of
    two new atoms, entries of b + c up to 2), the facility Lagrangian gives for |U| ≤ r

        D(F ∪ U) ≥ base − Σ_{b∈U} w(b) − Σ_{{b,c}⊆U} g(b, c),   base = Σ_S min(λ_S, π_S e_F(S)).

    For U = {a} ∪ U' the pairs inside U' are charged half to each of their atoms, at most the r − 2 largest g of
    each: D ≥ base − w(a) − Σ_{b∈U'} v_a(b), v_a(b) = w(b) + g(a, b) + ½ (the r − 2 largest g(b, ·)). Returns
    (per position p of ``order``: base − w(a_p) − the r − 1 largest v_{a_p}(b) over later positions; per child:
    the same over all other children; w; vb = w + ½ (the r − 2 largest g(b, ·)); the table g — these three for
    :func:`exact_pair_filter`). g(b, c) is positive only on events where |1_S − b − c|² < λ_S/π_S, and every
    concept of b outside S costs at least 1 there, so per event only the atoms with fewer than λ_S/π_S concepts
    outside S are paired. ``subsets``: build the table by :func:`_pair_table_subsets` (every credited pair
    reached through its masks; for candidate lists that hold a large share of all 2^n masks) instead of the
    key-sorted scan (:func:`_pair_table_sorted`); the two tables are equal."""
    C = eA.shape[0]
    w = _pair_w(pi, lam, eA)
    g = np.zeros((C, C))
    if subsets:
        _pair_table_subsets(masks, events, pi, lam, pc, full, g)
    else:
        _pair_table_sorted(masks, events, pi, lam, pc, full, g)
    half = np.zeros(C)  # ½ (the r − 2 largest g(b, ·))
    q = r - 2
    if q > 0:
        buf = np.empty(q)
        for b in range(C):
            cnt = 0
            for c in range(C):
                if g[b, c] > 0.0:
                    cnt = _push_top(buf, cnt, q, g[b, c])
            sm = 0.0
            for k in range(cnt):
                sm += buf[k]
            half[b] = 0.5 * sm
    vb = w + half
    rows = np.arange(C)
    lb, cnt_lb = _pair_windows(base, w, vb, g, rows, order, r)
    return lb, cnt_lb, w, vb, g


@nb.njit(cache=True)
def exact_pair_rows(masks, events, pi, lam, eA, base, order, r, pc, full, rows, vorder, cum):  # pragma: no cover
    """:func:`exact_pair_windows` for the children ``rows`` only (k = 2, r = 3; docs/solvers-scale.md, "Rows of the
    pair table at r = 3"): the rows g(a, ·) of the listed children, through the masks (:func:`_credit_partners`), and the
    pair charge of a partner b bounded through the 0/1 vectors instead of the whole table: each g(b, c) ≤ g_λ(b ∨ c)
    (the vector b ∨ c is no farther than b + c from any 0/1 target), so ½ max_c g(b, c) ≤ ½ max_{v ⊇ b} g_λ(v)
    (:func:`_vector_values`, then a superset maximum), an upper bound on the exact charge, hence a valid (possibly
    weaker) vb. Costs ~|rows| / |C| of the whole table.

    Returns (per position of ``order``: the bound of its child where it has a row, else −∞; per child: the same
    over every other child, −∞ without a row; w; vb; the rows (|rows| × |C|); the row of each child, −1 for none).
    With r > 3 the charge would be the r − 2 largest g(b, ·), which the vector maximum bounds only by its
    multiple, so callers use this at r = 3 only; the bounds stay valid for any r ≥ 3 (q · the maximum)."""
    C = eA.shape[0]
    w = _pair_w(pi, lam, eA)
    R = rows.size
    rowid = np.full(C, -1, dtype=np.int64)
    for k in range(R):
        rowid[rows[k]] = k
    g = np.zeros((R, C))
    idx = _mask_index(masks, full)
    for s in range(events.size):
        if lam[s] <= 0.0:
            continue
        ev = events[s]
        for k in range(R):
            a = rows[k]
            _credit_partners(g, k, a, masks[a], ev, full & ~ev, np.int64(pc[ev]), lam[s] / pi[s], lam[s], pi[s], pc,
                             idx, False)
    gV = np.empty(full + 1)
    _vector_values(lam, pi, vorder, cum, gV)
    bit = 1
    while bit <= full:  # gV[b] = max over the supersets v ⊇ b
        for hi in range(0, full + 1, 2 * bit):
            for mask in range(hi, hi + bit):
                if gV[mask + bit] > gV[mask]:
                    gV[mask] = gV[mask + bit]
        bit <<= 1
    vb = np.empty(C)
    for b in range(C):
        vb[b] = w[b] + 0.5 * (r - 2) * gV[masks[b]]
    lb, cnt_lb = _pair_windows(base, w, vb, g, rows, order, r)
    return lb, cnt_lb, w, vb, g, rowid


@nb.njit(cache=True, inline="always")
def _pair_w(pi, lam, eA):  # pragma: no cover - compiled
    """w(b) = Σ_S (λ_S − π_S e_{F∪b}(S))⁺ per child b."""
    C, N = eA.shape
    w = np.zeros(C)
    for a in range(C):
        x = 0.0
        for s in range(N):
            d = lam[s] - pi[s] * eA[a, s]
            if d > 0.0:
                x += d
        w[a] = x
    return w


@nb.njit(cache=True)
def _pair_windows(base, w, vb, g, rows, order, r):  # pragma: no cover - compiled
    """The bounds of :func:`exact_pair_windows` for the children ``rows`` (g's k-th row is child rows[k]'s): per
    position of ``order``, base − w(a) − the r − 1 largest vb(b) + g(a, b) over the later positions, and per child
    the same over every other child; −∞ for the children without a row."""
    C = w.size
    lb = np.full(C, -np.inf)
    cnt_lb = np.full(C, -np.inf)
    q = r - 1
    top0 = np.empty(max(q, 1))  # order-free: every other child
    top1 = np.empty(max(q, 1))  # the later positions only
    pos = np.empty(C, dtype=np.int64)
    for p in range(C):
        pos[order[p]] = p
    neg = np.empty(C)
    for b in range(C):
        neg[b] = -vb[b]
    vord = np.argsort(neg, kind="mergesort")
    for k in range(rows.size):
        a = rows[k]
        ga = g[k]
        # the r − 1 largest vb(b) + g(a, b): the partners with g(a, b) > 0 at their value, then the largest vb
        # among the others (g = 0 there), at most r − 1 of them
        c0 = 0
        c1 = 0
        for b in range(C):
            x = ga[b]
            if x > 0.0 and b != a:
                c0 = _push_top(top0, c0, q, vb[b] + x)
                if pos[b] > pos[a]:
                    c1 = _push_top(top1, c1, q, vb[b] + x)
        c0 = _push_largest_rest(top0, c0, q, vb, vord, ga, a, pos, -1)
        c1 = _push_largest_rest(top1, c1, q, vb, vord, ga, a, pos, pos[a])
        sm = 0.0
        for j in range(c0):
            sm += top0[j]
        cnt_lb[a] = base - w[a] - sm
        sm = 0.0
        for j in range(c1):
            sm += top1[j]
        lb[pos[a]] = base - w[a] - sm
    return lb, cnt_lb


@nb.njit(cache=True, inline="always")
def _push_largest_rest(top, cnt, q, vb, vord, ga, a, pos, after):  # pragma: no cover - compiled
    """Push the q largest vb(b) (``vord``: b by vb descending) over the b ≠ a with g(a, b) = 0 (``ga``: a's row)
    and pos[b] > after into the top-q buffer; returns its count."""
    k = 0
    for idx in range(vord.size):
        b = vord[idx]
        if b == a or pos[b] <= after or ga[b] > 0.0:
            continue
        cnt = _push_top(top, cnt, q, vb[b])
        k += 1
        if k >= q:
            break
    return cnt


@nb.njit(cache=True)
def exact_pair_filter(base, w, vb, g, rowid, i, rest, r, lim):  # pragma: no cover - compiled
    """The entries b of ``rest`` (child indices) that can still join child i under the exact pair credits
    (:func:`exact_pair_windows`, :func:`exact_pair_rows`): base − w(i) − v_i(b) − (the r − 2 largest v_i over
    rest ∖ {b}) ≤ lim, with v_i(b) = vb(b) + g(i, b), g(i, ·) being row ``rowid[i]`` of ``g``; all of ``rest``
    when child i has no row."""
    gi = rowid[i]
    if gi < 0:
        return rest
    vals = np.empty(rest.size)
    for j in range(rest.size):
        vals[j] = vb[rest[j]] + g[gi, rest[j]]
    b = global_child_bound(base - w[i], vals, r - 1)
    keep = np.ones(rest.size, dtype=np.bool_)
    for j in range(rest.size):
        if b[j] > lim:
            keep[j] = False
    return rest[keep]


@nb.njit(cache=True)
def screen_child(
    kb, kF, K1, pi, lam0, order, cum, ham, r, p2, smasks, iters, chunk, target, lim, rbase, rw,
):  # pragma: no cover - compiled
    """Can a child node be skipped without visiting it? One compiled pass of what the visit would do first:
    the errors of its children (as :func:`node_eval`, as int8: ≤ |S| ≤ n), their sparse Lagrangian entries (as
    :func:`atom_entries`, allocated at their count),
    up to ``iters`` subgradient steps from λ = min(λ₀, π e) in chunks of ``chunk`` (:func:`lagrange_iterate`,
    the same steps and stopping rule as the visit), then the order-free bound base − w_b − (the r − 1 largest
    other w) of every grandchild b (:func:`global_child_bound`), and with ``rw`` non-empty also
    ``rbase`` − rw_b − (the r − 1 largest other rw) of a second family (the rank-one terms).

    Returns (skip, min_b D(F ∪ {b})). ``skip`` is True only when every grandchild's bound exceeds ``lim`` and no
    child of the node is within ``lim`` itself (the visit would offer it as an incumbent or a tie record): every
    bound used is valid for every completion, so a skipped subtree holds no set within ``lim``."""
    Mc, N = kb.shape
    # errors of the children (no keys kept) and the count of their sparse Lagrangian entries, in one pass: the
    # entry arrays are then allocated at their size, not Mc × N (page faults dominated at |C| ≈ 900)
    eF = np.empty(N)
    eFi = np.empty(N, dtype=np.int64)
    for s in range(N):
        eFi[s] = kF[s] // K1
        eF[s] = eFi[s]
    top = 0
    for s in range(N):
        if kF[s] > top:
            top = kF[s]
    div = np.empty(top + 1, dtype=np.int8)  # keys ≤ max κ_F: a table instead of a division per cell
    for x in range(top + 1):
        div[x] = x // K1
    eA = np.empty((Mc, N), dtype=np.int8)
    dmin = np.inf
    nnz = 0
    for i in range(Mc):
        d = 0.0
        for s in range(N):
            e = div[kb[i, s] if kb[i, s] < kF[s] else kF[s]]
            eA[i, s] = e
            d += pi[s] * e
            if e < eFi[s]:
                nnz += 1
        if d < dmin:
            dmin = d
    if dmin <= lim or r <= 1 or Mc <= 1:
        return False, dmin
    indptr = np.zeros(Mc + 1, dtype=np.int64)
    ev = np.empty(nnz, dtype=np.int32)
    val = np.empty(nnz)
    _fill_entries(pi, eFi, eA, indptr, ev, val)
    pe = pi * eF
    lam = np.empty(N)
    for s in range(N):
        lam[s] = lam0[s] if lam0[s] < pe[s] else pe[s]
    best_lam = lam.copy()
    best_w = np.empty(Mc)
    best_val = -np.inf
    theta = 1.0
    stale = 0
    base = np.nan
    done = 0
    n_it = iters if iters > 1 else 1
    while done < n_it:
        c = chunk if chunk < n_it - done else n_it - done
        lam, theta, stale, best_val, best_lam, pruned, chunk_base = lagrange_iterate(
            pi, eF, indptr, ev, val, order, cum, ham, r, p2, lam, theta, stale, best_val, best_lam, c, target,
            smasks, best_w,
        )
        if not np.isnan(chunk_base):
            base = chunk_base
        done += c
        if pruned:
            return True, dmin  # the node's own bound (every completion) is above the incumbent
        if theta < 1e-9:
            break
    lb = global_child_bound(base, best_w, r)
    if rw.size == Mc:
        lb2 = global_child_bound(rbase, rw, r)
        for i in range(Mc):
            if lb2[i] > lb[i]:
                lb[i] = lb2[i]
    for i in range(Mc):
        if lb[i] <= lim:
            return False, dmin
    return True, dmin


@nb.njit(cache=True)
def screen_children(
    kb, keA, K1, order, lb, cnt_lb, lim, bases, W, pf_min, ep, pb, pw, pvb, pg, prow, masks, asize, events, sizes, pc,
    pi, lam, vorder, cum, ham, r, p2, charge, iters, chunk, target, rbase, rho,
):  # pragma: no cover - compiled
    """:func:`screen_child` for every child of a node with r = :data:`~rdp_exact.solvers.bnb_free.SCREEN_R` + 1
    atoms left (k = 2), in one call, with the allowed atoms each child would get in
    :meth:`~rdp_exact.solvers.bnb_free._Search._children`: the positions after it in ``order`` whose order-free
    bound ``cnt_lb`` is within ``lim``, then (where ``bases`` is non-empty and at least ``pf_min`` are left)
    :func:`pair_filter`, then (``ep``) :func:`exact_pair_filter` (the table's rows ``pg``, the row of each child
    ``prow``); the child's keys are the parent's (``kb``) with the patterns {a, b} (:func:`pattern_keys_min`).
    ``rho`` (non-empty): the rank-one terms of the parent's allowed atoms, child a's family then being
    (``rbase`` + ρ_a, −ρ over its allowed atoms).

    Returns per position of ``order``: the child's allowed-atom count where it needs no visit, else −1. Positions from the first whose suffix minimum of ``lb`` exceeds ``lim`` are not screened, nor
    children that the visit loop skips anyway (``lb`` or ``cnt_lb`` above ``lim``), nor children with fewer than
    two allowed atoms or errors above int8."""
    L = lb.size
    skip = np.full(L, -1, dtype=np.int64)
    sufmin = np.empty(L)
    run = np.inf
    for p in range(L - 1, -1, -1):
        if lb[p] < run:
            run = lb[p]
        sufmin[p] = run
    N = events.size
    empty_w = np.zeros(0)
    empty_m = np.zeros(0, dtype=np.int64)
    sq = np.empty(N, dtype=np.int64)
    for p in range(L - 1):
        if sufmin[p] > lim:
            break
        if lb[p] > lim:
            continue
        i = order[p]
        if cnt_lb[i] > lim:
            continue
        tail = order[p + 1 :]
        rest = tail[cnt_lb[tail] <= lim]
        if bases.size > 0 and rest.size >= 2 and rest.size >= pf_min:
            rest = pair_filter(bases, W, i, rest, r, lim)
        if ep and rest.size >= 2:
            rest = exact_pair_filter(pb, pw, pvb, pg, prow, i, rest, r, lim)
        if rest.size < 2:
            continue
        kmax = 0
        for s in range(N):
            if keA[i, s] > kmax:
                kmax = keA[i, s]
        if kmax // K1 > 127:
            continue
        a = masks[i]
        for s in range(N):
            sq[s] = sizes[s] + asize[i] - 2 * np.int64(pc[a & events[s]])
        mr = masks[rest]
        sub = np.empty(rest.size, dtype=np.int64)
        for j in range(rest.size):
            sub[j] = pc[mr[j] & a]
        kb_c = kb[rest]
        pattern_keys_min(kb_c, mr, asize[rest], events, sq, sub, pc, K1, 1)
        rw = empty_w
        rb = 0.0
        if rho.size > 0:
            rb = rbase + rho[i]
            rw = np.empty(rest.size)
            for j in range(rest.size):
                rw[j] = -rho[rest[j]]
        ch = mr if charge else empty_m
        ok, _dmin = screen_child(kb_c, keA[i], K1, pi, lam, vorder, cum, ham, r - 1, p2, ch, iters, chunk, target,
                                 lim, rb, rw)
        if ok:
            skip[p] = rest.size
    return skip
