"""Exact Pareto set of (R, D, P) by enumeration (DESIGN §1.5).

The achievable (R, D, P) triples of a class form a finite set; this module returns its Pareto-minimal
points (minimise all three), sorted by (R, D, P), each with a representative SAE built on demand.

Free class, two exact paths:

* **Integer units** (default whenever every probability is a multiple of 1/Q, Q ≤ :data:`MAX_UNITS`,
  detected by :func:`pareto_units.detect_units`): R and D are compared exactly as integers Q·R, Q·D,
  so values equal up to float rounding are always merged. Per atom set the (R, D) staircase is a dense
  array over the integer rates, computed for many atom sets at once; a Lagrangian screen and front
  pruning skip atom sets and partial codes that cannot give a new point. See :mod:`pareto_free` for
  the algorithm and its exactness argument.
* **Float** fallback (no common grid): atom sets are processed level by level in increasing P(T); per T
  the achievable (R, D) of covering codes (every atom of T used) are the Minkowski sum of per-event
  staircases, computed by merge-and-prune (:func:`brute_free.covering_front`), with partial sums
  pruned when their best completion is weakly dominated by a point found at lower-or-equal P. R and D
  within 1e−12 count as equal.

In both, P values within 1e−12 count as equal (P is irrational). Threshold class: every SAE is
enumerated (:mod:`brute_threshold`) and the set is filtered with the 1e−12 tolerance.

The set can be very large: for a generic pmf every distinct subset sum of probabilities is a
different rate (C-T5's staircase alone can have millions of steps), so ``max_points`` bounds it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.pmf import ConceptPMF
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers.brute_common import Deadline
from rdp_exact.solvers.brute_free import FreeTables, covering_front, free_sae, unconstrained_bounds
from rdp_exact.solvers.brute_threshold import LatentTable, iter_batches, threshold_sae
from rdp_exact.solvers.pareto_free import free_pareto_units
from rdp_exact.solvers.pareto_units import Units, detect_units

#: Points whose R, D and P all agree within this are one point.
MERGE_EPS = 1e-12
#: Default cap on the number of Pareto points (and partial staircase points).
DEFAULT_MAX_POINTS = 2_000_000
#: Largest common denominator Q for which the integer-unit (dense) path is used; its staircases have
#: k·Q + 1 cells per atom set.
MAX_UNITS = 20_000


@dataclass(frozen=True)
class ParetoPoint:
    """One Pareto-minimal (R, D, P); :attr:`atoms` and a representative SAE (:attr:`sae`) are found on
    first access."""

    rate: float
    distortion: float
    poly: float
    hint: tuple[int, ...] = field(repr=False, compare=False, default=())
    """Where the representative is searched: free class, an atom set T that holds the used atoms (T or a
    subset of T with the same P); threshold class, the latent indices into the latent table."""
    _builder: object = field(repr=False, compare=False, default=None)

    @cached_property
    def _resolved(self) -> tuple[tuple[int, ...], CombinatorialSAE]:
        assert callable(self._builder)
        return self._builder(self)  # type: ignore[no-any-return]

    @property
    def atoms(self) -> tuple[int, ...]:
        """Free class: the atom set used by the representative SAE (masks, increasing); threshold class:
        its latent indices into the latent table."""
        return self._resolved[0]

    @property
    def sae(self) -> CombinatorialSAE:
        """A width-m SAE whose evaluation is this point."""
        return self._resolved[1]


# ---------------------------------------------------------------------------- 2-d staircases
def stair_dominated(FR: np.ndarray, FD: np.ndarray, R: np.ndarray, D: np.ndarray, eps: float = MERGE_EPS) -> np.ndarray:
    """For each (R, D): is some staircase point (FR ascending, FD descending) ≤ it within eps?"""
    if len(FR) == 0:
        return np.zeros(len(R), dtype=bool)
    j = np.searchsorted(FR, R + eps, side="right") - 1
    ok = j >= 0
    out = np.zeros(len(R), dtype=bool)
    out[ok] = FD[j[ok]] <= D[ok] + eps
    return out


def stair_filter(R: np.ndarray, D: np.ndarray, eps: float = MERGE_EPS) -> np.ndarray:
    """Indices of the 2-d Pareto-minimal points (ties within eps keep the first in (R, D) order)."""
    if len(R) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((D, R))
    Rs, Ds = R[order], D[order]
    # point j is dominated by an earlier point i (R_i ≤ R_j) with D_i ≤ D_j + eps, or by a later point
    # within eps in R (rounding of an equal rate) with D_i < D_j − eps; equal points keep the first
    pm = np.minimum.accumulate(Ds)
    excl = np.concatenate([[math.inf], pm[:-1]])
    keep = Ds < excl - eps
    end = np.searchsorted(Rs, Rs + eps, side="right")
    for j in np.flatnonzero(keep & (end > np.arange(len(Rs)) + 1)):
        if (Ds[j + 1 : end[j]] < Ds[j] - eps).any():
            keep[j] = False
    return order[keep]


def pareto3(R: np.ndarray, D: np.ndarray, P: np.ndarray, eps: float = MERGE_EPS) -> np.ndarray:
    """Indices of the Pareto-minimal (R, D, P) points (all minimised; equal within eps merged)."""
    order = np.lexsort((D, R, P))
    out: list[np.ndarray] = []
    FR = np.zeros(0)
    FD = np.zeros(0)
    i = 0
    L = len(order)
    while i < L:
        p0 = P[order[i]]
        j = i
        while j < L and P[order[j]] <= p0 + eps:
            j += 1
        grp = order[i:j]
        loc = grp[stair_filter(R[grp], D[grp], eps)]
        loc = loc[~stair_dominated(FR, FD, R[loc], D[loc], eps)]
        if len(loc):
            out.append(loc)
            allR = np.concatenate([FR, R[loc]])
            allD = np.concatenate([FD, D[loc]])
            keep = stair_filter(allR, allD, eps)
            keep = keep[np.argsort(allR[keep], kind="stable")]
            FR, FD = allR[keep], allD[keep]
        i = j
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


# ---------------------------------------------------------------------------- free class
#: Two R or D values closer than this identify a staircase point when a representative is traced back.
TRACE_TOL = 1e-9


def _free_builder(tab: FreeTables, width: int) -> Callable[[ParetoPoint], tuple[tuple[int, ...], CombinatorialSAE]]:
    """Representative of a free-class point: the first U ⊆ hint (largest first) with P(U) = P within
    1e−12 whose covering staircase holds the point (see :mod:`pareto_free`, step 1), traced back."""

    def build(pt: ParetoPoint) -> tuple[tuple[int, ...], CombinatorialSAE]:
        T = tuple(sorted(pt.hint))
        for size in range(len(T), 0, -1):
            for U in itertools.combinations(T, size):
                if abs(tab.poly_of(U) - pt.poly) > MERGE_EPS:
                    continue
                front = covering_front(tab, U, track=True)
                hit = np.flatnonzero((np.abs(front.R - pt.rate) <= TRACE_TOL)
                                     & (np.abs(front.D - pt.distortion) <= TRACE_TOL))
                if len(hit):
                    return U, free_sae(tab, U, front.code(int(hit[0]), tab), width)
        if pt.rate <= TRACE_TOL and abs(pt.distortion - float(tab.probs @ tab.sizes)) <= TRACE_TOL:
            return (), free_sae(tab, (), {}, width)
        raise AssertionError(f"Pareto point {pt} has no representative under {T}")  # pragma: no cover

    return build


def _free_pareto_dense(
    pmf: ConceptPMF, width: int, k: int, coefficients: str, units: Units, max_points: int, deadline: Deadline,
    prune: bool = True,
) -> list[ParetoPoint]:
    tab = FreeTables.build(pmf, k, coefficients)  # type: ignore[arg-type]
    raw = free_pareto_units(tab, units, width, prune=prune, max_points=max_points, deadline=deadline)
    build = _free_builder(tab, width)
    Q = units.Q
    out = [ParetoPoint(p.r / Q, p.d / Q, p.poly, p.atoms, build) for p in raw]
    out.sort(key=lambda p: (p.rate, p.distortion, p.poly))
    return out


def _free_pareto(
    pmf: ConceptPMF, width: int, k: int, coefficients: str, max_points: int, deadline: Deadline
) -> list[ParetoPoint]:
    """Float fallback (probabilities on no common grid): merge-and-prune per atom set, ties within 1e−12."""
    tab = FreeTables.build(pmf, k, coefficients)  # type: ignore[arg-type]
    universe = np.arange(1, 1 << pmf.n, dtype=np.int64)
    Ts: list[np.ndarray] = []
    Dt: list[np.ndarray] = []
    Pt: list[np.ndarray] = []
    for b in unconstrained_bounds(tab, universe, width):
        t = b.T_CT.shape[1]
        pad = np.zeros((len(b.T_CT), width), dtype=np.int64)
        pad[:, :t] = b.T_CT
        Ts.append(pad)
        Dt.append(b.D)
        Pt.append(b.P)
    T_all = np.concatenate(Ts)
    D_all = np.concatenate(Dt)
    P_all = np.concatenate(Pt)
    order = np.lexsort((D_all, P_all))
    build = _free_builder(tab, width)

    FR = np.zeros(0)
    FD = np.zeros(0)
    results: list[ParetoPoint] = []
    i = 0
    L = len(order)
    while i < L:
        p0 = P_all[order[i]]
        j = i
        while j < L and P_all[order[j]] <= p0 + MERGE_EPS:
            j += 1
        lvl_R: list[np.ndarray] = []
        lvl_D: list[np.ndarray] = []
        lvl_T: list[tuple[int, ...]] = []
        lvl_id: list[np.ndarray] = []
        cur_R, cur_D = FR, FD  # staircase of everything at P ≤ this level found so far
        cur = [cur_R, cur_D]

        def pruner(R: np.ndarray, Dlow: np.ndarray, cur: list[np.ndarray] = cur) -> np.ndarray:
            return ~stair_dominated(cur[0], cur[1], R, Dlow)

        for pos in order[i:j]:
            if deadline.expired():
                raise SolverUnavailable("Pareto set: time limit reached before the enumeration finished")
            T = tuple(int(a) for a in T_all[pos] if a)
            if not T:
                fr_R, fr_D = np.zeros(1), np.array([float(tab.probs @ tab.sizes)])
            else:
                try:
                    front = covering_front(tab, T, corner_pruner=pruner, max_points=max_points)
                except OverflowError as exc:
                    raise SolverUnavailable(f"Pareto set too large: {exc}") from None
                fr_R, fr_D = front.R, front.D
            new = ~stair_dominated(cur_R, cur_D, fr_R, fr_D)
            if not new.any():
                continue
            fr_R, fr_D = fr_R[new], fr_D[new]
            lvl_R.append(fr_R)
            lvl_D.append(fr_D)
            lvl_id.append(np.full(len(fr_R), len(lvl_T)))
            lvl_T.append(T)
            allR = np.concatenate([cur_R, fr_R])
            allD = np.concatenate([cur_D, fr_D])
            keep = stair_filter(allR, allD)
            keep = keep[np.argsort(allR[keep], kind="stable")]
            cur_R, cur_D = allR[keep], allD[keep]
            cur[0], cur[1] = cur_R, cur_D
        if lvl_R:
            R = np.concatenate(lvl_R)
            D = np.concatenate(lvl_D)
            ids = np.concatenate(lvl_id)
            loc = stair_filter(R, D)
            loc = loc[~stair_dominated(FR, FD, R[loc], D[loc])]
            for q in loc:
                T = lvl_T[int(ids[q])]
                results.append(ParetoPoint(float(R[q]), float(D[q]), tab.poly_of(T), T, build))
            if len(results) > max_points:
                raise SolverUnavailable(f"Pareto set too large: more than {max_points} points")
            FR, FD = cur_R, cur_D
        i = j
    results.sort(key=lambda p: (p.rate, p.distortion, p.poly))
    return results


# ---------------------------------------------------------------------------- threshold class
def _threshold_pareto(
    pmf: ConceptPMF, width: int, k: int, coefficients: str, poly: str, encoder_weights: str,
    max_points: int, deadline: Deadline,
) -> list[ParetoPoint]:
    lt = LatentTable.build(pmf, encoder_weights)
    keepR: list[np.ndarray] = []
    keepD: list[np.ndarray] = []
    keepP: list[np.ndarray] = []
    keepI: list[tuple[int, ...]] = []
    for b in iter_batches(lt, width, k, coefficients, poly):  # type: ignore[arg-type]
        if deadline.expired():
            raise SolverUnavailable("Pareto set: time limit reached before the enumeration finished")
        loc = pareto3(b.R, b.D, b.P)
        keepR.append(b.R[loc])
        keepD.append(b.D[loc])
        keepP.append(b.P[loc])
        keepI.extend(tuple(int(x) for x in b.idx[q]) for q in loc)
        if sum(len(x) for x in keepR) > 4 * max_points + 10_000:
            R, D, P = np.concatenate(keepR), np.concatenate(keepD), np.concatenate(keepP)
            loc = pareto3(R, D, P)
            keepR, keepD, keepP, keepI = [R[loc]], [D[loc]], [P[loc]], [keepI[q] for q in loc]
    R, D, P = np.concatenate(keepR), np.concatenate(keepD), np.concatenate(keepP)
    loc = pareto3(R, D, P)
    if len(loc) > max_points:
        raise SolverUnavailable(f"Pareto set too large: more than {max_points} points")

    def build(pt: ParetoPoint) -> tuple[tuple[int, ...], CombinatorialSAE]:
        return pt.hint, threshold_sae(lt, pt.hint, width, coefficients)  # type: ignore[arg-type]

    out = [ParetoPoint(float(R[q]), float(D[q]), float(P[q]), keepI[q], build) for q in loc]
    out.sort(key=lambda p: (p.rate, p.distortion, p.poly))
    return out


def pareto_set(
    pmf: ConceptPMF,
    width: int,
    k: int,
    *,
    encoder: str = "free",
    coefficients: str = "integer",
    poly: str = "joint",
    encoder_weights: str = "ternary",
    max_points: int = DEFAULT_MAX_POINTS,
    time_limit: float | None = None,
    method: str = "auto",
) -> list[ParetoPoint]:
    """Exact Pareto-minimal (R, D, P) points of the class (DESIGN §1.5), sorted by (R, D, P).

    P is P_dec in the free class and, in the threshold class, P_joint (``poly="joint"``) or P_dec.
    ``method`` (free class): ``"units"`` needs probabilities on a common grid 1/Q (Q ≤ :data:`MAX_UNITS`)
    and compares R and D exactly in integer units; ``"float"`` merges values within 1e−12; ``"auto"``
    uses units when the grid exists. Raises SolverUnavailable when the instance is beyond brute force,
    the set exceeds ``max_points`` or ``time_limit`` (seconds) runs out, InvalidArgument for a bad
    ``method`` (or ``"units"`` without a grid)."""
    from rdp_exact.problem import Problem
    from rdp_exact.solvers.brute import check_size

    problem = Problem(pmf=pmf, width=width, k=k, encoder=encoder, coefficients=coefficients,  # type: ignore[arg-type]
                      poly=poly, encoder_weights=encoder_weights)  # type: ignore[arg-type]
    if max_points < 1:
        raise InvalidArgument(f"max_points must be positive, got {max_points}")
    if method not in ("auto", "units", "float"):
        raise InvalidArgument(f"method must be auto, units or float, got {method!r}")
    check_size(problem)
    deadline = Deadline.start_now(time_limit)
    if encoder == "threshold":
        measure = problem.poly_measure
        return _threshold_pareto(pmf, width, k, coefficients, measure, encoder_weights, max_points, deadline)
    units = None if method == "float" else detect_units(pmf.probs, MAX_UNITS)
    if units is not None:
        return _free_pareto_dense(pmf, width, k, coefficients, units, max_points, deadline)
    if method == "units":
        raise InvalidArgument(f"method 'units': the probabilities have no common grid 1/Q with Q <= {MAX_UNITS}")
    return _free_pareto(pmf, width, k, coefficients, max_points, deadline)


__all__ = ["ParetoPoint", "pareto3", "pareto_set", "stair_dominated", "stair_filter"]
