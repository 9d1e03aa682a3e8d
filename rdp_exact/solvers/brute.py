"""Brute-force backend: the exact oracle every other solver is checked against (DESIGN §1.4, §8, C-AG).

Semantics (the contract):

* **Free class.** An SAE is a set T of distinct nonempty atoms (|T| ≤ m) and a code z(S) ⊆ T with
  |z(S)| ≤ k (disjoint mode: pairwise disjoint atoms). P is measured on the atoms the code uses
  (canonical form, §1.2), so the achievable (R, D, P) are those of codes over T that use **every** atom
  of T, with P(T) = mean_{A∈T}(1 − 1/√|A|) (P = 0 for the all-dead SAE: R = 0, D = E|S|). A code may
  fire an atom where it does not help, just to keep it live; that matters under a P budget or for P as
  objective, and the search handles it exactly (:mod:`brute_free`, :mod:`brute_free_query`).
* **Threshold class.** Every multiset of ≤ m live (atom, firing pattern) latents (:mod:`brute_threshold`).
* **Queries.** Minimise ``problem.minimize`` subject to the budgets (value ≤ budget + TOL) and the cap
  k, then the remaining quantities lexicographically in :func:`~rdp_exact.problem.lex_order`; values
  within 1e−12 count as ties (float rounding only). The returned SAE has width exactly m and its
  :meth:`~rdp_exact.sae.CombinatorialSAE.evaluate` reproduces the reported values (C-L1).

Exactness argument for the pruning: a lower bound b(T) (the best response ignoring the
use-every-atom requirement and the rate budget) is ≤ the key of every feasible code over T, so atom
sets visited in increasing b(T) can stop once b(T) exceeds the incumbent. An atom A that never lowers
an error (2|A∩S| ≤ |A| for all S) makes every option containing it lexicographically worse than the
option without it, so forcing its use costs at least min π in D or R; it is dropped from the
universe when neither a P budget nor the P objective could reward that cost.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rdp_exact.errors import SolverUnavailable
from rdp_exact.problem import Problem, Solution, Status, within_budgets
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers.brute_common import LEX_EPS, Deadline, Key, budget_caps, lex_less
from rdp_exact.solvers.brute_free import count_atom_sets, options
from rdp_exact.solvers.brute_free_query import solve_free
from rdp_exact.solvers.brute_threshold import LatentTable, count_multisets, iter_batches, threshold_sae
from rdp_exact.solvers.info import BruteInfo, from_mapping

#: Largest n the free-class tables allow (they hold 2^n atoms).
MAX_N_FREE = 10
#: Largest n for the threshold class (3^n encoder rows × 2^n atoms).
MAX_N_THRESHOLD = 4
#: Hard limit on the free-class work estimate (atom sets × events × options), about a minute.
MAX_WORK_FREE = 4e10
#: Hard limit on the number of threshold SAEs enumerated.
MAX_SAES_THRESHOLD = 3e7
#: ``affordable`` thresholds (about one second of work).
AFFORDABLE_WORK_FREE = 4e8
AFFORDABLE_WORK_STAIRCASE = 2e7
#: Rate-budget and min-rate queries: largest support brute force is chosen for by ``auto``.
AFFORDABLE_STAIRCASE_EVENTS = 16
AFFORDABLE_SAES_THRESHOLD = 2e5


def _version() -> str:
    """``rdp <package version>`` (brute force is part of this package)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"rdp {version('rdp')}"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
        return "rdp (not installed)"


def free_work(n: int, n_events: int, m: int, k: int) -> float:
    """Work estimate of the free-class bound pass: Σ_t C(2^n − 1, t)·N·|options(t, k)|."""
    u = (1 << n) - 1
    return float(sum(math.comb(u, t) * n_events * len(options(t, k)) for t in range(m + 1)))


def threshold_saes(problem: Problem) -> int:
    """Number of threshold SAEs brute force would enumerate (needs the pattern table; n ≤ 4)."""
    lt = LatentTable.build(problem.pmf, problem.encoder_weights)
    return count_multisets(lt.size, problem.width)


def _uses_staircase(problem: Problem) -> bool:
    return problem.max_rate is not None or problem.minimize == "rate"


def affordable(problem: Problem) -> bool:
    """Cheap estimate: True when brute force should finish in about a second (used by ``--solver auto``)."""
    n = problem.pmf.n
    if problem.encoder == "threshold":
        if n > 3 and not (n == 4 and problem.width <= 1):
            return False
        return threshold_saes(problem) <= AFFORDABLE_SAES_THRESHOLD
    if n > MAX_N_FREE:
        return False
    work = free_work(n, problem.pmf.support_size, problem.width, problem.k)
    if _uses_staircase(problem):
        # per-atom-set (R, D) staircases are Minkowski sums over events: with generic probabilities
        # their size grows like a subset-sum set, so only small supports are cheap
        return work <= AFFORDABLE_WORK_STAIRCASE and problem.pmf.support_size <= AFFORDABLE_STAIRCASE_EVENTS
    return work <= AFFORDABLE_WORK_FREE


def check_size(problem: Problem) -> None:
    """Raise SolverUnavailable for instances brute force cannot finish in reasonable time."""
    n, m, N = problem.pmf.n, problem.width, problem.pmf.support_size
    if problem.encoder == "threshold":
        if n > MAX_N_THRESHOLD:
            raise SolverUnavailable(
                f"brute force: n = {n} is too large for the threshold class (at most {MAX_N_THRESHOLD} "
                "concepts); use --solver highs"
            )
        cnt = threshold_saes(problem)
        if cnt > MAX_SAES_THRESHOLD:
            raise SolverUnavailable(
                f"brute force: {cnt:.3g} threshold SAEs for n = {n}, m = {m} is too large "
                f"(at most {MAX_SAES_THRESHOLD:.0e}); use --solver highs"
            )
        return
    if n > MAX_N_FREE:
        raise SolverUnavailable(
            f"brute force: n = {n} is too large (at most {MAX_N_FREE} concepts); use --solver highs"
        )
    work = free_work(n, N, m, problem.k)
    if work > MAX_WORK_FREE:
        sets = count_atom_sets((1 << n) - 1, m)
        raise SolverUnavailable(
            f"brute force: n = {n}, m = {m}, N = {N} is too large ({sets:.3g} atom sets, work "
            f"{work:.2g} > {MAX_WORK_FREE:.0e}); use --solver highs"
        )


def _solve_threshold(problem: Problem, deadline: Deadline) -> tuple[CombinatorialSAE | None, bool, dict[str, Any]]:
    lt = LatentTable.build(problem.pmf, problem.encoder_weights)
    r_cap, d_cap, p_cap = budget_caps(problem)
    measure = problem.poly_measure
    inc_key: Key | None = None
    inc_idx: tuple[int, ...] | None = None
    seen = 0
    complete = True
    for b in iter_batches(lt, problem.width, problem.k, problem.coefficients, measure):
        if deadline.expired():
            complete = False
            break
        seen += len(b.R)
        ok = (b.R <= r_cap) & (b.D <= d_cap) & (b.P <= p_cap)
        if not ok.any():
            continue
        sel = np.flatnonzero(ok)
        vals = {"rate": b.R[sel], "distortion": b.D[sel], "poly": b.P[sel]}
        from rdp_exact.problem import lex_order

        cols = [vals[q] for q in lex_order(problem.minimize)]
        cand = np.arange(len(sel))
        for col in cols:
            lo = col[cand].min()
            cand = cand[col[cand] <= lo + LEX_EPS]
        j = int(cand[0])
        key = (float(cols[0][j]), float(cols[1][j]), float(cols[2][j]))
        if inc_key is None or lex_less(key, inc_key):
            inc_key = key
            inc_idx = tuple(int(x) for x in b.idx[sel[j]])
    info = {"method": "threshold-enumeration", "patterns": len(lt.patterns), "latents": lt.size, "saes": seen}
    sae = None if inc_idx is None else threshold_sae(lt, inc_idx, problem.width, problem.coefficients)
    return sae, complete, info


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> Solution:
    """Exact optimum of ``problem`` by exhaustive search (``threads`` and ``options`` are ignored).

    Raises SolverUnavailable when the instance is too large. With a ``time_limit`` that runs out the
    status is ``limit`` (best SAE found so far, no bound), never ``optimal``."""
    check_size(problem)
    deadline = Deadline.start_now(time_limit)
    if problem.encoder == "threshold":
        sae, complete, info = _solve_threshold(problem, deadline)
    else:
        out = solve_free(problem, deadline)
        sae, complete, info = out.sae, out.complete, out.info
    wall = deadline.elapsed()
    version = _version()
    if sae is None:
        status = Status.INFEASIBLE if complete else Status.LIMIT
        return Solution(problem=problem, status=status, solver="brute", solver_version=version,
                        wall_time_s=wall, info=from_mapping(BruteInfo, info))
    ev = sae.evaluate(problem.pmf, problem.k)
    vals = {"rate": ev.rate, "distortion": ev.distortion, "poly": ev.poly(problem.poly_measure)}
    if not within_budgets(problem, ev.rate, ev.distortion, vals["poly"]):  # pragma: no cover - internal bug
        raise RuntimeError(f"brute force returned an SAE outside the budgets: {vals}")
    obj = vals[problem.minimize]
    if complete:
        return Solution(problem=problem, status=Status.OPTIMAL, solver="brute", solver_version=version,
                        wall_time_s=wall, objective=obj, bound=obj, gap=0.0, sae=sae, evaluation=ev, info=from_mapping(BruteInfo, info))
    return Solution(problem=problem, status=Status.LIMIT, solver="brute", solver_version=version,
                    wall_time_s=wall, objective=obj, bound=None, gap=None, sae=sae, evaluation=ev, info=from_mapping(BruteInfo, info))


__all__ = ["affordable", "check_size", "free_work", "solve", "LEX_EPS"]
