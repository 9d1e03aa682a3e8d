"""Free-class queries by exhaustive branch and bound over atom sets (DESIGN §1.4).

1. For every atom set T (|T| ≤ m, atoms distinct, up to latent permutation) compute the vectorised
   best-response bound (D_T, R_T) and P(T) (:func:`brute_free.unconstrained_bounds`).
2. Each T gets a lexicographic lower bound b(T) on the key of any covering code of T that meets the
   budgets: (D_T, R_T, P) for ``minimize distortion``, (P, D_T, R_T) for ``poly`` and
   (|T|·min π, D_T, P) for ``rate`` (each atom must fire at least once).
3. Atom sets are visited in increasing b(T); each is solved exactly — the covering lexicographic
   programme when there is no rate budget and R is not primary, else the covering (R, D) staircase
   under the budgets — until b(T) exceeds the incumbent. Every atom set is thus either solved or proven
   no better, so the result is exact.

Atoms that never lower an error (2|A∩S| ≤ |A| on every event) are dropped from the universe only when
neither a P budget nor the P objective can reward a forced use of them (their forced use costs at
least min π in D or R, see the module docstring of :mod:`rdp_exact.solvers.brute`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rdp_exact.problem import Problem
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers.brute_common import LEX_EPS, Deadline, Key, TimeUp, budget_caps, lex_less
from rdp_exact.solvers.brute_free import (
    FreeTables,
    Front,
    covering_front,
    covering_lex_best,
    free_sae,
    unconstrained_bounds,
)

log = logging.getLogger(__name__)


@dataclass
class FreeOutcome:
    """Result of a free-class search."""

    sae: CombinatorialSAE | None
    complete: bool
    """True when the search finished (the result is proven optimal or proven infeasible)."""
    info: dict[str, Any] = field(default_factory=dict)


def universe_for(problem: Problem, tab: FreeTables) -> np.ndarray:
    """Candidate atoms: all nonempty masks, or only the helpful ones when that is provably safe."""
    n = problem.pmf.n
    full = np.arange(1, 1 << n, dtype=np.int64)
    safe = (
        problem.max_poly is None
        and problem.minimize != "poly"
        and float(np.min(tab.probs)) > 1e3 * LEX_EPS
    )
    if not safe:
        return full
    return tab.helpful_atoms().astype(np.int64)


def _pick(front: Front, problem: Problem) -> int | None:
    """Index of the lexicographically best staircase point for the query (P is fixed per T)."""
    if len(front.R) == 0:
        return None
    R, D = front.R, front.D
    if problem.minimize == "rate":
        r0 = R.min()
        cand = np.flatnonzero(R <= r0 + LEX_EPS)
        return int(cand[np.argmin(D[cand])])
    d0 = D.min()
    cand = np.flatnonzero(D <= d0 + LEX_EPS)
    return int(cand[np.argmin(R[cand])])


def solve_free(problem: Problem, deadline: Deadline) -> FreeOutcome:
    """Exact free-class optimum of ``problem`` (or the best found when the deadline passes)."""
    pmf, m = problem.pmf, problem.width
    tab = FreeTables.build(pmf, problem.k, problem.coefficients)
    r_cap, d_cap, p_cap = budget_caps(problem)
    general = problem.max_rate is not None or problem.minimize == "rate"
    universe = universe_for(problem, tab)
    pmin = float(np.min(tab.probs))
    info: dict[str, Any] = {
        "method": "staircase" if general else "covering-lex",
        "universe_atoms": int(len(universe)),
    }

    def check() -> None:
        if deadline.expired():
            raise TimeUp

    # ---- pass 1: bounds of every atom set --------------------------------------------------------
    only_min_d = problem.minimize == "distortion" and problem.max_poly is None and not general
    rows: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    n_sets = 0
    run_min = math.inf
    try:
        for b in unconstrained_bounds(tab, universe, m, check):
            C, t = b.T_CT.shape
            n_sets += C
            ok = (b.P <= p_cap) & (b.D <= d_cap)
            if general and t:
                ok &= t * pmin <= r_cap
            if only_min_d:
                if ok.any():
                    run_min = min(run_min, float(b.D[ok].min()))
                ok &= b.D <= run_min + LEX_EPS
            idx = np.flatnonzero(ok)
            if not len(idx):
                continue
            T_pad = np.zeros((len(idx), m), dtype=np.int64)
            T_pad[:, :t] = b.T_CT[idx]
            if problem.minimize == "distortion":
                k3 = np.stack([b.D[idx], b.R[idx], b.P[idx]], axis=1)
            elif problem.minimize == "poly":
                k3 = np.stack([b.P[idx], b.D[idx], b.R[idx]], axis=1)
            else:
                k3 = np.stack([np.full(len(idx), t * pmin), b.D[idx], b.P[idx]], axis=1)
            rows.append(T_pad)
            keys.append(k3)
    except TimeUp:
        info.update(atom_sets=n_sets, timed_out_in="bounds")
        return FreeOutcome(sae=None, complete=False, info=info)
    info["atom_sets"] = n_sets
    if not rows:
        info["solved_exactly"] = 0
        return FreeOutcome(sae=None, complete=True, info=info)
    T_all = np.concatenate(rows)
    K_all = np.concatenate(keys)
    if only_min_d:
        sel = K_all[:, 0] <= run_min + LEX_EPS
        T_all, K_all = T_all[sel], K_all[sel]
    order = np.lexsort((K_all[:, 2], K_all[:, 1], K_all[:, 0]))
    info["candidates"] = int(len(order))

    # ---- pass 2: branch and bound ------------------------------------------------------------------
    inc_key: Key | None = None
    inc: tuple[tuple[int, ...], dict[int, tuple[int, ...]] | None, int | None] | None = None
    solved = 0
    complete = True
    for pos in order:
        bkey = tuple(float(x) for x in K_all[pos])
        if inc_key is not None:
            if bkey[0] > inc_key[0] + LEX_EPS:
                break
            if lex_less(inc_key, bkey):
                continue
        if deadline.expired():
            complete = False
            break
        T = tuple(int(a) for a in T_all[pos] if a)
        P = tab.poly_of(T)
        solved += 1
        if not general:
            res = covering_lex_best(tab, T)
            if res is None:
                continue
            D, R, code = res
            if D > d_cap:
                continue
            key = (D, R, P) if problem.minimize == "distortion" else (P, D, R)
            if inc_key is None or lex_less(key, inc_key):
                inc_key, inc = key, (T, code, None)
        else:
            rc, dc = r_cap, d_cap
            if inc_key is not None:
                if problem.minimize == "rate":
                    rc = min(rc, inc_key[0] + LEX_EPS)
                elif problem.minimize == "distortion":
                    dc = min(dc, inc_key[0] + LEX_EPS)
                elif abs(P - inc_key[0]) <= LEX_EPS:
                    dc = min(dc, inc_key[1] + LEX_EPS)
            front = covering_front(tab, T, r_cap=rc, d_cap=dc)
            i = _pick(front, problem)
            if i is None:
                continue
            R, D = float(front.R[i]), float(front.D[i])
            if problem.minimize == "rate":
                key = (R, D, P)
            elif problem.minimize == "distortion":
                key = (D, R, P)
            else:
                key = (P, D, R)
            if inc_key is None or lex_less(key, inc_key):
                inc_key, inc = key, (T, None, i)
    info["solved_exactly"] = solved
    if inc is None:
        return FreeOutcome(sae=None, complete=complete, info=info)
    T, code, _ = inc
    if code is None:
        # rebuild the winning staircase with back-pointers and take the same point
        assert inc_key is not None
        front = covering_front(tab, T, r_cap=r_cap, d_cap=d_cap, track=True)
        i = _pick_matching(front, problem, inc_key)
        code = front.code(i, tab)
    return FreeOutcome(sae=free_sae(tab, T, code, m), complete=complete, info=info)


def _pick_matching(front: Front, problem: Problem, key: Key) -> int:
    i = _pick(front, problem)
    assert i is not None
    return i
