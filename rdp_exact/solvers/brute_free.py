"""Free-class building blocks of the brute-force oracle (DESIGN §1.2, §1.4, §1.5).

An SAE of the free class is a set T of distinct nonempty atoms (|T| ≤ m) plus a code z(S) ⊆ T with
|z(S)| ≤ k per support event. With c_i(S) = #{A ∈ z(S) : i ∈ A} and x² = x for 0/1 indicators,

    err(S, z) = Σ_i (s_i − c_i)² = |S| + Σ_{A∈z} (|A| − 2|A∩S|) + 2 Σ_{A<B∈z} |A∩B|,

so per event the error of any option z is a sum of the *gain* table g(S, A) = |A| − 2|A∩S| and the
*overlap* table |A∩B| (disjoint mode forbids options with a positive overlap). Canonical form (§1.2):
P is measured on the atoms the code uses, so the achievable set is the union over T of the (R, D, P(T))
of codes over T that use **every** atom of T; the dynamic programmes here carry the set of atoms used
so far (a bitmask over T's positions) to enforce that exactly.

* :func:`unconstrained_bounds` — per T, the lexicographic best response (min error, then min size,
  per event, ignoring the use-every-atom requirement): a lower bound (D_T, R_T) on every covering code
  of T, exact whenever some best response uses every atom. Vectorised over chunks of atom sets.
* :func:`covering_lex_best` — exact lexicographically best (D, R) over covering codes of one T.
* :func:`covering_front` — exact (R, D) Pareto staircase of the covering codes of one T (the Minkowski
  sum of per-event staircases, merged and pruned event by event), with budgets and optional pruning.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rdp_exact.pmf import ConceptPMF
from rdp_exact.polysemanticity import binary_row_poly
from rdp_exact.sae import CoefficientMode, CombinatorialSAE

#: Error value marking an option that disjoint mode forbids.
FORBIDDEN = 1 << 20


@dataclass(frozen=True, eq=False)
class FreeTables:
    """Per-instance lookup tables (atoms are bitmasks 0..2^n−1; atom 0 is unused)."""

    pmf: ConceptPMF
    k: int
    mode: CoefficientMode
    probs: np.ndarray
    """π(S) [N]."""
    sizes: np.ndarray
    """|S| [N] (int64)."""
    gain_AN: np.ndarray
    """g(S, A) = |A| − 2|A∩S|, indexed [atom, event] (int32)."""
    overlap_AA: np.ndarray
    """|A∩B| [atom, atom] (int32)."""
    atom_poly: np.ndarray
    """1 − 1/√|A| per atom [2^n] (0 for atom 0)."""

    @classmethod
    def build(cls, pmf: ConceptPMF, k: int, mode: CoefficientMode) -> FreeTables:
        n = pmf.n
        atoms = np.arange(1 << n, dtype=np.int64)
        bits = (atoms[:, None] >> np.arange(n)) & 1  # [2^n, n]
        pop = bits.sum(axis=1)
        ind = pmf.indicator  # [N, n]
        inter = bits @ ind.T  # [2^n, N] = |A∩S|
        gain = (pop[:, None] - 2 * inter).astype(np.int32)
        overlap = (bits @ bits.T).astype(np.int32)
        poly = np.array([binary_row_poly(int(p)) for p in pop])
        return cls(
            pmf=pmf,
            k=k,
            mode=mode,
            probs=np.asarray(pmf.probs, dtype=np.float64),
            sizes=pmf.sizes.astype(np.int64),
            gain_AN=gain,
            overlap_AA=overlap,
            atom_poly=poly,
        )

    @property
    def n_events(self) -> int:
        return len(self.probs)

    def poly_of(self, atoms: tuple[int, ...]) -> float:
        """P(T) = mean_{A∈T} (1 − 1/√|A|), from the sorted sizes (so equal size multisets give equal floats)."""
        if not atoms:
            return 0.0
        vals = sorted(float(self.atom_poly[a]) for a in atoms)
        return math.fsum(vals) / len(vals)

    def helpful_atoms(self) -> np.ndarray:
        """Atoms that lower the error of some event on their own (2|A∩S| > |A|); the others never
        improve any option (their gain and overlaps are ≥ 0), so they only matter as forced uses."""
        ok = (self.gain_AN[1:] < 0).any(axis=1)
        return np.flatnonzero(ok) + 1


@lru_cache(maxsize=64)
def options(t: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Subsets of T's positions {0..t−1} with at most k elements, by size then lexicographically."""
    return tuple(c for s in range(min(t, k) + 1) for c in itertools.combinations(range(t), s))


@lru_cache(maxsize=64)
def option_arrays(t: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(size [nopt], used-position bitmask [nopt]) of :func:`options`."""
    opts = options(t, k)
    size = np.array([len(o) for o in opts], dtype=np.int64)
    used = np.array([sum(1 << j for j in o) for o in opts], dtype=np.int64)
    return size, used


def option_errors(tab: FreeTables, T_CT: np.ndarray) -> np.ndarray:
    """err[c, o, S] of every option o of every atom set T_CT[c] (rows of t atom masks) on every event;
    :data:`FORBIDDEN` where disjoint mode forbids the option. Shape [C, nopt, N], int32."""
    C, t = T_CT.shape
    opts = options(t, tab.k)
    N = tab.n_events
    out = np.empty((C, len(opts), N), dtype=np.int32)
    G_CtN = tab.gain_AN[T_CT]  # [C, t, N]
    ov = {}
    for a, b in itertools.combinations(range(t), 2):
        ov[a, b] = tab.overlap_AA[T_CT[:, a], T_CT[:, b]]  # [C]
    base = tab.sizes.astype(np.int32)[None, :]
    for o_idx, o in enumerate(opts):
        e = np.broadcast_to(base, (C, N)).copy()
        for j in o:
            e += G_CtN[:, j, :]
        pair_sum = np.zeros(C, dtype=np.int32)
        for a, b in itertools.combinations(o, 2):
            pair_sum += ov[a, b]
        if tab.mode == "disjoint":
            e[pair_sum > 0] = FORBIDDEN
        else:
            e += 2 * pair_sum[:, None]
        out[:, o_idx, :] = e
    return out


# ---------------------------------------------------------------------------- enumeration of atom sets
@lru_cache(maxsize=256)
def _pairs(u: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(u, 1)
    return i.astype(np.int64), j.astype(np.int64)


def count_atom_sets(universe_size: int, m: int) -> int:
    """Number of atom sets with at most m distinct atoms from a universe of the given size."""
    return sum(math.comb(universe_size, t) for t in range(m + 1))


def iter_index_sets(u: int, t: int, chunk: int = 1 << 15) -> Iterator[np.ndarray]:
    """All t-subsets of range(u) as rows [C, t] of increasing indices, in chunks (lexicographic order)."""
    if t == 0:
        yield np.zeros((1, 0), dtype=np.int64)
        return
    if t > u:
        return
    if t == 1:
        a = np.arange(u, dtype=np.int64)[:, None]
        for s in range(0, u, chunk):
            yield a[s : s + chunk]
        return
    buf: list[np.ndarray] = []
    size = 0
    for prefix in itertools.combinations(range(u), t - 2):
        lo = prefix[-1] + 1 if prefix else 0
        rest = u - lo
        if rest < 2:
            continue
        i, j = _pairs(rest)
        block = np.empty((len(i), t), dtype=np.int64)
        if prefix:
            block[:, : t - 2] = prefix
        block[:, t - 2] = i + lo
        block[:, t - 1] = j + lo
        buf.append(block)
        size += len(block)
        if size >= chunk:
            yield np.concatenate(buf)
            buf, size = [], 0
    if buf:
        yield np.concatenate(buf)


@dataclass(frozen=True)
class BoundBatch:
    """Unconstrained best-response values of a batch of atom sets of one size t."""

    T_CT: np.ndarray
    """Atom masks [C, t] (increasing)."""
    D: np.ndarray
    """Σ π·min err [C]: a lower bound on D of any covering code."""
    R: np.ndarray
    """Σ π·(min size among min-error options) [C]."""
    P: np.ndarray
    """P(T) [C]."""


def _best_keys_direct(tab: FreeTables, T_CT: np.ndarray) -> np.ndarray:
    """Per atom set and event, the least key err·(k+1) + size over all options: [C, N] int32."""
    C, t = T_CT.shape
    K = tab.k + 1
    N = tab.n_events
    G_CtN = tab.gain_AN[T_CT]  # [C, t, N]
    base = tab.sizes.astype(np.int32)[None, :] * K
    best = np.broadcast_to(base, (C, N)).copy()
    for o in options(t, tab.k)[1:]:
        e = G_CtN[:, o[0], :] * K + len(o)
        for j in o[1:]:
            e = e + G_CtN[:, j, :] * K
        e = e + base
        if len(o) > 1:
            pair_sum = np.zeros(C, dtype=np.int32)
            for a, b in itertools.combinations(o, 2):
                pair_sum += tab.overlap_AA[T_CT[:, a], T_CT[:, b]]
            if tab.mode == "disjoint":
                e[pair_sum > 0] = FORBIDDEN
            else:
                e += (2 * K * pair_sum)[:, None]
        np.minimum(best, e, out=best)
    return best


#: Largest pair table (2^n × 2^n × N keys) used by the k ≤ 2 fast path, in entries.
PAIR_TABLE_MAX = 1 << 25


def _pair_table(tab: FreeTables) -> np.ndarray | None:
    """Least key over the options inside {A, B} for every atom pair: [2^n, 2^n, N] int16 (k ≤ 2)."""
    n, N = tab.pmf.n, tab.n_events
    if (1 << (2 * n)) * N > PAIR_TABLE_MAX or tab.k > 2:
        return None
    K = tab.k + 1
    A = np.arange(1 << n)
    base = tab.sizes[None, :] * K  # [1, N]
    single = np.minimum(base, base + tab.gain_AN * K + 1)  # [2^n, N]; best of {∅, A}
    pair = np.minimum(single[:, None, :], single[None, :, :])
    if tab.k >= 2:
        both = base[None] + (tab.gain_AN[:, None, :] + tab.gain_AN[None, :, :]) * K + 2
        ov = tab.overlap_AA[:, :, None]
        if tab.mode == "disjoint":
            both = np.where(ov > 0, FORBIDDEN, both)
        else:
            both = both + 2 * K * ov
        both[A, A] = FORBIDDEN  # an atom cannot be listed twice
        pair = np.minimum(pair, both)
    return pair.astype(np.int16 if pair.max() < 32000 else np.int32)


def unconstrained_bounds(
    tab: FreeTables, universe: np.ndarray, m: int, check: Callable[[], None] | None = None
) -> Iterator[BoundBatch]:
    """Best-response (D_T, R_T) and P(T) of every atom set T ⊆ universe with |T| ≤ m (including ∅).

    Per event the lexicographic best (error, size) option is found through the integer key
    err·(k+1) + size; (D_T, R_T) is the lexicographic minimum of (D, R) over all codes of T (events are
    independent once T is fixed), hence a lower bound for the covering codes of T. With k ≤ 2 every
    option lies inside some pair of T, so the key of T is the minimum of its pairs' keys (a table)."""
    K = tab.k + 1
    pair = _pair_table(tab) if m >= 3 else None
    for t in range(0, m + 1):
        for idx in iter_index_sets(len(universe), t):
            if check is not None:
                check()
            T_CT = universe[idx]
            if pair is not None and t >= 3:
                best = pair[T_CT[:, 0], T_CT[:, 1]]
                for a, b in itertools.combinations(range(t), 2):
                    if (a, b) != (0, 1):
                        np.minimum(best, pair[T_CT[:, a], T_CT[:, b]], out=best)
            else:
                best = _best_keys_direct(tab, T_CT)
            KDR = best.astype(np.float64) @ tab.probs  # = K·D + R
            R = (best % K).astype(np.float64) @ tab.probs
            D = (KDR - R) / K
            if t:
                P = np.sort(tab.atom_poly[T_CT], axis=1).sum(axis=1) / t
            else:
                P = np.zeros(len(T_CT))
            yield BoundBatch(T_CT=T_CT, D=D, R=R, P=P)


# ---------------------------------------------------------------------------- exact per-T programmes
def _event_options(tab: FreeTables, T: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(err [nopt, N], size [nopt], used [nopt]) of one atom set T."""
    t = len(T)
    err = option_errors(tab, np.array([T], dtype=np.int64).reshape(1, t))[0]
    size, used = option_arrays(t, tab.k)
    return err, size, used


def covering_lex_best(
    tab: FreeTables, T: tuple[int, ...]
) -> tuple[float, float, dict[int, tuple[int, ...]]] | None:
    """Exact lexicographic minimum of (D, R) over the codes of T that use every atom of T.

    Dynamic programme over events with state = set of T's positions used so far (2^|T| states); the
    value of a state is the lexicographic minimum of the partial (D, R). Returns (D, R, code) with the
    code as {event mask: positions in T}, or None when no covering code exists (e.g. disjoint mode
    with k too small is never a problem, but a T can need more uses than events allow)."""
    t = len(T)
    full = (1 << t) - 1
    err, size, used = _event_options(tab, T)
    nopt = len(size)
    opts = options(t, tab.k)
    # state -> (D, R); back[e][state] = (prev_state, option)
    states: dict[int, tuple[float, float]] = {0: (0.0, 0.0)}
    back: list[dict[int, tuple[int, int]]] = []
    for s_idx in range(tab.n_events):
        p = float(tab.probs[s_idx])
        cand: dict[int, tuple[float, float]] = {}
        bk: dict[int, tuple[int, int]] = {}
        errs = err[:, s_idx]
        # prune options dominated by another with ≤ error, ≤ size and a superset of used atoms
        live = [o for o in range(nopt) if errs[o] < FORBIDDEN]
        keep = []
        for o in live:
            dom = False
            for q in live:
                if q != o and (used[q] & used[o]) == used[o] and errs[q] <= errs[o] and size[q] <= size[o] and (
                    errs[q] < errs[o] or size[q] < size[o] or used[q] != used[o]
                ):
                    dom = True
                    break
            if not dom:
                keep.append(o)
        for st, (d, r) in states.items():
            for o in keep:
                ns = st | int(used[o])
                val = (d + p * float(errs[o]), r + p * float(size[o]))
                cur = cand.get(ns)
                if cur is None or val < cur:
                    cand[ns] = val
                    bk[ns] = (st, o)
        # a state is useless if a superset state is lexicographically no worse
        pruned = {}
        for st, val in cand.items():
            if any(
                ot != st and (ot & st) == st and (ov[0] < val[0] or (ov[0] == val[0] and ov[1] <= val[1]))
                for ot, ov in cand.items()
            ):
                continue
            pruned[st] = val
        states = pruned
        back.append({st: bk[st] for st in states})
    if full not in states:
        return None
    D, R = states[full]
    code: dict[int, tuple[int, ...]] = {}
    st = full
    for s_idx in range(tab.n_events - 1, -1, -1):
        prev, o = back[s_idx][st]
        if opts[o]:
            code[tab.pmf.events[s_idx]] = opts[o]
        st = prev
    return D, R, code


@dataclass(frozen=True)
class Front:
    """Pareto staircase (R ascending, D descending) of the covering codes of one atom set."""

    T: tuple[int, ...]
    R: np.ndarray
    D: np.ndarray
    parents: tuple[np.ndarray, ...] | None = None
    """Per event: index of each point's predecessor in the previous event's list (when tracked)."""
    choices: tuple[np.ndarray, ...] | None = None
    """Per event: option index of each point (when tracked)."""
    final_index: np.ndarray | None = None
    """Index of each returned point in the last event's list (when tracked)."""

    def code(self, i: int, tab: FreeTables) -> dict[int, tuple[int, ...]]:
        """The code (event mask → positions in T) realising point i (needs tracking)."""
        assert self.parents is not None and self.choices is not None and self.final_index is not None
        opts = options(len(self.T), tab.k)
        code: dict[int, tuple[int, ...]] = {}
        j = int(self.final_index[i])
        for s_idx in range(len(self.parents) - 1, -1, -1):
            o = int(self.choices[s_idx][j])
            if opts[o]:
                code[tab.pmf.events[s_idx]] = opts[o]
            j = int(self.parents[s_idx][j])
        return code


#: Resolution used to compare rates when pruning a staircase (rates closer than this count as equal).
_R_QUANT = 1e12
#: Slack when deciding that a partial point is dominated (absorbs float rounding of equal sums).
_D_SLACK = 1e-13


def covering_front(
    tab: FreeTables,
    T: tuple[int, ...],
    *,
    r_cap: float = math.inf,
    d_cap: float = math.inf,
    corner_pruner: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    track: bool = False,
    max_points: int | None = None,
) -> Front:
    """Exact (R, D) Pareto staircase of the codes of T that use every atom of T (DESIGN §1.5).

    Merge-and-prune over events: the list holds (R, D, used-set) partial sums; after each event the
    candidates (old point + option) are pruned when R > r_cap, when D plus the least possible error of
    the remaining events exceeds d_cap, when ``corner_pruner(R, D_lower)`` says the best completion is
    already beaten, and when another candidate has ≤ R, ≤ D and a superset of used atoms. Exact for
    every point with R ≤ r_cap and D ≤ d_cap."""
    t = len(T)
    full = (1 << t) - 1
    err, size, used = _event_options(tab, T)  # [nopt, N]
    N = tab.n_events
    probs = tab.probs
    emin = np.where(err < FORBIDDEN, err, np.iinfo(np.int32).max).min(axis=0).astype(np.float64)
    rest = np.concatenate([np.cumsum((emin * probs)[::-1])[::-1], [0.0]])  # least D of events s.. N−1
    R = np.zeros(1)
    D = np.zeros(1)
    S = np.zeros(1, dtype=np.int64)
    parents: list[np.ndarray] = []
    choices: list[np.ndarray] = []
    states = [s for s in range(full + 1)]
    for s_idx in range(N):
        p = float(probs[s_idx])
        ok = np.flatnonzero(err[:, s_idx] < FORBIDDEN)
        e_o = err[ok, s_idx].astype(np.float64)
        R2 = (R[:, None] + p * size[ok][None, :].astype(np.float64)).ravel()
        D2 = (D[:, None] + p * e_o[None, :]).ravel()
        S2 = (S[:, None] | used[ok][None, :]).ravel()
        par = np.repeat(np.arange(len(R)), len(ok))
        ch = np.tile(ok, len(R))
        lower = D2 + rest[s_idx + 1]
        keep = (R2 <= r_cap) & (lower <= d_cap)
        if corner_pruner is not None and keep.any():
            keep &= corner_pruner(R2, lower)
        idx = np.flatnonzero(keep)
        R2, D2, S2, par, ch = R2[idx], D2[idx], S2[idx], par[idx], ch[idx]
        if len(R2) > 1:
            order = np.lexsort((D2, np.round(R2 * _R_QUANT)))
            R2, D2, S2, par, ch = R2[order], D2[order], S2[order], par[order], ch[order]
            dominated = np.zeros(len(R2), dtype=bool)
            for st in np.unique(S2):
                sup = (S2 & st) == st
                vals = np.where(sup, D2, np.inf)
                pm = np.minimum.accumulate(vals)
                excl = np.concatenate([[np.inf], pm[:-1]])
                mine = S2 == st
                dominated |= mine & (excl <= D2 + _D_SLACK)
            sel = ~dominated
            R2, D2, S2, par, ch = R2[sel], D2[sel], S2[sel], par[sel], ch[sel]
        if max_points is not None and len(R2) > max_points:
            raise OverflowError(f"staircase of {len(R2)} partial points exceeds {max_points}")
        R, D, S = R2, D2, S2
        if track:
            parents.append(par)
            choices.append(ch)
    del states
    fin = np.flatnonzero(S == full)
    return Front(
        T=T,
        R=R[fin],
        D=D[fin],
        parents=tuple(parents) if track else None,
        choices=tuple(choices) if track else None,
        final_index=fin if track else None,
    )


def free_sae(
    tab: FreeTables, T: tuple[int, ...], code: dict[int, tuple[int, ...]], width: int
) -> CombinatorialSAE:
    """Free-class SAE of width m from atoms T (positions 0..|T|−1) and a code, padded with dead latents."""
    atoms = list(T) + [0] * (width - len(T))
    return CombinatorialSAE.free(tab.pmf.n, atoms, {ev: list(pos) for ev, pos in code.items()}, tab.mode)
