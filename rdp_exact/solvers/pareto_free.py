"""Exact free-class Pareto set in integer probability units (DESIGN §1.2, §1.5).

Semantics: the achievable (R, D, P) set is the union over sets T of distinct nonempty atoms (|T| ≤ m,
T = ∅ being the all-dead SAE) of {(R, D, P(T)) : codes over T that use every atom of T}, with
P(T) = mean_{A∈T}(1 − 1/√|A|); the Pareto set is its set of minimal points (R, D, P all minimised).
Here π(S) = w_S/Q (:mod:`pareto_units`), so R and D are compared exactly as integers r = Q·R, d = Q·D;
P values within 1e−12 count as equal (P is irrational; equal size multisets give identical floats).

Algorithm (exact):

1. **Relaxed per-set families.** Sort the atoms of T by 1 − 1/√|A| and let L(T) be the atoms strictly
   below the mean P(T) (by more than 1e−12). Removing from T atoms whose value is ≥ the mean never raises
   the mean, so a code over T that uses every atom of L(T) uses a set U ⊆ T with P(U) ≤ P(T). Let H(T)
   be the (R, D) of those codes: H(T) contains the covering codes of T, and each point of H(T) × {P(T)}
   is weakly dominated by an achievable point (R, D, P(U)). Hence the Pareto set of ∪_T H(T) × {P(T)}
   equals the true Pareto set, while H(T) needs coverage states only for L(T) (none when all atoms of T
   have the same size, 2 or 4 states for most sets at m = 3 instead of 8). A point reported at P(T) is
   realised by some U ⊆ T with P(U) = P(T) (otherwise a lower level would hold a point weakly
   dominating it); the representative SAE is found from those U on demand.
2. **Levels.** Atom sets are grouped into levels of equal P(T), processed in increasing P.
   ``front[r]`` holds the least d of the points found so far (all at P ≤ the current level) with rate
   ≤ r. A point of the current level is Pareto-minimal iff no point of a lower level weakly dominates
   it in (R, D) and no point of its own level strictly dominates it (equal points are merged).
3. **Pruned dynamic programme.** Inside a level, atom sets go in chunks, in increasing order of their
   least possible distortion, so strong sets fill the front early. Per chunk
   :func:`pareto_dense.covering_stairs` computes H(T) for all sets at once with front pruning (partial
   codes whose every completion is weakly dominated by the front are dropped; sets with nothing left
   are skipped); the points the front does not weakly dominate become candidates of the level and
   enter the front.
4. At the end of a level its candidates are reduced to their 2-d Pareto set and those weakly dominated
   by the front of the lower levels are removed; the rest are Pareto points.

Pruning only drops partial codes or sets all of whose completions are weakly dominated by known points
at P ≤ P(T); those can only give dominated points or duplicates of (R, D, P) already found, so the
result equals the unpruned computation (``prune=False``, checked by the tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from rdp_exact.errors import SolverUnavailable
from rdp_exact.solvers.brute_common import Deadline
from rdp_exact.solvers.brute_free import FreeTables, iter_index_sets, options
from rdp_exact.solvers.pareto_dense import (
    LAMBDAS,
    add_to_front,
    covering_stairs,
    hull_dominated,
    lagrangian_bounds,
    new_front,
    pareto2_int,
    stair_points,
)
from rdp_exact.solvers.pareto_units import Units

log = logging.getLogger(__name__)

#: Atom sets with P within this are one polysemanticity level.
P_EPS = 1e-12
#: Target number of int32 cells per dense array (chunk sizes adapt to it). Small chunks let the front
#: learn from strong sets before weaker sets of the same level are processed.
CHUNK_CELLS = 1 << 18
#: Cells per batch of the Lagrangian screen (its work does not depend on the front).
SCREEN_CELLS = 1 << 23


@dataclass(frozen=True)
class RawPoint:
    """A Pareto point in integer units: r = Q·R, d = Q·D, P, and its atom set."""

    r: int
    d: int
    poly: float
    atoms: tuple[int, ...]


def _all_atom_sets(tab: FreeTables, m: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per size t = 0..m: (atom masks [C, t] increasing, P(T) [C])."""
    universe = np.arange(1, 1 << tab.pmf.n, dtype=np.int64)
    out = []
    for t in range(m + 1):
        blocks = [universe[idx] for idx in iter_index_sets(len(universe), t)]
        if not blocks:
            continue
        T_CT = np.concatenate(blocks)
        P = np.sort(tab.atom_poly[T_CT], axis=1).sum(axis=1) / t if t else np.zeros(len(T_CT))
        out.append((T_CT, P))
    return out


def _levels(sets: list[tuple[np.ndarray, np.ndarray]]) -> list[list[tuple[int, np.ndarray]]]:
    """Group (t, row) pairs into levels of equal P (within P_EPS), in increasing P."""
    ts = np.concatenate([np.full(len(P), i) for i, (_, P) in enumerate(sets)])
    rows = np.concatenate([np.arange(len(P)) for _, P in sets])
    Ps = np.concatenate([P for _, P in sets])
    order = np.lexsort((rows, ts, Ps))
    levels: list[list[tuple[int, np.ndarray]]] = []
    i, L = 0, len(order)
    while i < L:
        p0 = Ps[order[i]]
        j = int(np.searchsorted(Ps[order], p0 + P_EPS, side="right"))
        grp = order[i:j]
        levels.append([(int(b), rows[grp[ts[grp] == b]]) for b in np.unique(ts[grp])])
        i = j
    return levels


def _relaxed_order(tab: FreeTables, T_CT: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of T_CT with their atoms sorted by 1 − 1/√|A| (then mask), and |L(T)| per row."""
    vals = tab.atom_poly[T_CT]
    perm = np.lexsort((T_CT, vals), axis=1)
    T_sorted = np.take_along_axis(T_CT, perm, axis=1)
    ell = (np.take_along_axis(vals, perm, axis=1) < (P - P_EPS)[:, None]).sum(axis=1)
    return T_sorted, ell


def free_pareto_units(
    tab: FreeTables,
    units: Units,
    m: int,
    *,
    prune: bool = True,
    max_points: int,
    deadline: Deadline,
) -> list[RawPoint]:
    """Exact Pareto set of the free class in integer units (see the module docstring), unsorted.

    Each point's ``atoms`` is the set T it was found with (its atoms sorted by polysemanticity); the
    point is realised by T or a subset of T with the same P."""
    w = units.weights
    length = tab.k * int(w.sum()) + 1
    sets = _all_atom_sets(tab, m)
    front = new_front(length)
    results: list[RawPoint] = []
    n_sets = n_live = 0
    for level in _levels(sets):
        front0 = front
        cand_r: list[np.ndarray] = []
        cand_d: list[np.ndarray] = []
        cand_T: list[tuple[int, ...]] = []
        cand_id: list[np.ndarray] = []
        for b, rows in level:
            T_lvl, P_lvl = sets[b][0][rows], sets[b][1][rows]
            t = T_lvl.shape[1]
            T_lvl, ell_lvl = _relaxed_order(tab, T_lvl, P_lvl)
            for ell in np.unique(ell_lvl):
                T_all = T_lvl[ell_lvl == ell]
                per_set = len(options(t, tab.k)) * tab.n_events + (length << int(ell))
                chunk = max(1, CHUNK_CELLS // per_set)
                if prune:
                    big = max(1, SCREEN_CELLS // (len(LAMBDAS) * per_set))
                    Lam = np.concatenate([
                        lagrangian_bounds(tab, T_all[s:s + big], w, int(ell)) for s in range(0, len(T_all), big)
                    ])
                    srt = np.argsort(Lam[:, 0], kind="stable")  # least distortion first: fills the front early
                    T_all, Lam = T_all[srt], Lam[srt]
                for s in range(0, len(T_all), chunk):
                    if deadline.expired():
                        raise SolverUnavailable("Pareto set: time limit reached before the enumeration finished")
                    T_CT = T_all[s:s + chunk]
                    if prune:
                        T_CT = T_CT[~hull_dominated(Lam[s:s + chunk], front)]
                        if len(T_CT) == 0:
                            continue
                    g, alive = covering_stairs(tab, T_CT, w, length, front if prune else None, int(ell))
                    n_sets += len(T_CT)
                    n_live += len(alive)
                    row, r, d = stair_points(g, front if prune else None)
                    if len(row) == 0:
                        continue
                    base = len(cand_T)
                    cand_T.extend(tuple(int(a) for a in T) for T in T_CT[alive])
                    cand_r.append(r)
                    cand_d.append(d)
                    cand_id.append(row + base)
                    if prune:
                        front = add_to_front(front, r, d)
        if not cand_r:
            continue
        R = np.concatenate(cand_r)
        D = np.concatenate(cand_d)
        ids = np.concatenate(cand_id)
        loc = pareto2_int(R, D)
        loc = loc[D[loc] < front0[R[loc]]]
        for q in loc:
            T = cand_T[int(ids[q])]
            results.append(RawPoint(int(R[q]), int(D[q]), tab.poly_of(T), T))
        if len(results) > max_points:
            raise SolverUnavailable(f"Pareto set too large: more than {max_points} points")
        front = add_to_front(front0, R[loc], D[loc])
    log.debug("Pareto set: %d atom sets, %d with live staircases, %d points", n_sets, n_live, len(results))
    return results


__all__ = ["P_EPS", "RawPoint", "free_pareto_units"]
