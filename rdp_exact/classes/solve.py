"""One entry point for every SAE class: :func:`solve_class` picks an exact method (DESIGN §1.2b).

=================  ==========================  =======================================================
class              k = 1                       k ≥ 2
=================  ==========================  =======================================================
binary             rdp_exact.solvers (auto)    rdp_exact.solvers (auto)
real-atoms         ``kone`` (clustering B&B)   ``patterns`` (pattern B&B with least-squares bounds)
real-atoms + bias  ``kone`` (free centres)     ``patterns``
real-codes         ``kone`` (line clustering)  ``scip`` (global MINLP)
real-codes + bias  ``scip``                    ``scip``
=================  ==========================  =======================================================

At k = 1 in real-atoms (± bias, no rate budget, N ≥ 24 events) ``kone`` first tries the proof from the
set-partitioning LP (:mod:`rdp_exact.classes.kone_lp`; method ``kone-colgen``) and searches only when that
proof does not close.

``scip`` accepts every real class (it is the cross-check of the two searches). It starts from the optimum or
incumbent of the search for the same problem (real-atoms; real-codes at k = 1 without bias), or for its
real-atoms subclass otherwise, found within a quarter of the time limit; the proof remains SCIP's. A rate
budget R ≤ r is supported by every method.

**The P budget P ≤ 0** (``ClassProblem.max_poly = 0``, monosemantic atoms) goes to ``patterns`` in real-atoms
(± bias, any k: the search over concept-to-latent maps) and to ``scip`` in real-codes, whose start is the
real-atoms monosemantic optimum. In real-codes *without* a bias and without a rate budget that start is already
proven: no monosemantic SAE of any class goes below the binary D_min(m, k) (C-T5; the proof is in
:mod:`rdp_exact.classes.floors`), so a start that reaches D_min is returned as optimal with that bound. ``kone``
has no P budget. Other values of a P budget are refused (no exact method bounds 0 < P ≤ ρ over real atoms).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from rdp_exact.classes.problem import ClassProblem, ClassSolution, RealSAE
from rdp_exact.errors import InvalidArgument, SolverUnavailable

#: Method names accepted by :func:`solve_class`.
METHODS = ("auto", "kone", "patterns", "scip", "reference")


def choose_method(problem: ClassProblem) -> str:
    """The method ``auto`` picks (module table)."""
    if problem.sae_class == "binary":
        return "binary"
    if problem.sae_class == "real-atoms":
        return "kone" if problem.k == 1 and not problem.monosemantic else "patterns"
    if problem.k == 1 and not problem.decoder_bias and not problem.monosemantic:
        return "kone"
    return "scip"


def _solve_binary(problem: ClassProblem, time_limit: float | None, threads: int | None,
                  solver: str) -> ClassSolution:
    from rdp_exact.classes.problem import finish
    from rdp_exact.problem import Problem
    from rdp_exact.solvers import solve

    if problem.decoder_bias:
        raise SolverUnavailable("the binary class has no decoder bias (A2); use real-atoms or real-codes with a bias")
    t0 = time.perf_counter()
    sol = solve(Problem(problem.pmf, width=problem.width, k=problem.k, max_rate=problem.max_rate,
                        max_poly=problem.max_poly), solver, time_limit=time_limit, threads=threads)
    sae = None
    if sol.sae is not None and sol.evaluation is not None:
        atoms = np.asarray(sol.sae.atom_matrix(), dtype=np.float64)
        act = tuple(tuple(int(j) for j in a) for a in sol.evaluation.active)
        sae = RealSAE(atoms=atoms, bias=np.zeros(problem.pmf.n), active=act,
                      codes=tuple((1.0,) * len(a) for a in act))
    return finish(problem, sae, status=sol.status, method=sol.solver, version=sol.solver_version,
                  wall=time.perf_counter() - t0, bound=sol.bound, info={"binary": sol.info})


def solve_class(problem: ClassProblem, method: str = "auto", *, time_limit: float | None = None,
                threads: int | None = None, solver: str = "auto", options: dict[str, Any] | None = None,
                start: RealSAE | None = None) -> ClassSolution:
    """min D (under the cap and an optional rate budget) in ``problem``'s class.

    ``solver`` is the binary backend (binary class only); ``options`` pass through to SCIP; ``start`` is an SAE of
    the class handed to SCIP as a first incumbent (e.g. a trained SAE; the searches ignore it).
    """
    if method not in METHODS:
        raise InvalidArgument(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    if time_limit is not None and time_limit <= 0:
        raise InvalidArgument(f"time limit must be positive, got {time_limit}")
    name = choose_method(problem) if method == "auto" else method
    if name == "binary" or problem.sae_class == "binary":
        return _solve_binary(problem, time_limit, threads, solver)
    mono = problem.monosemantic
    if name == "kone":
        if mono:
            raise SolverUnavailable("the k = 1 decomposition has no P budget; P ≤ 0 is solved by patterns "
                                    "(real-atoms) or scip")
        from rdp_exact.classes.kone import solve_kone

        return solve_kone(problem, time_limit=time_limit)
    if name == "patterns":
        from rdp_exact.classes.patterns import solve_patterns

        return solve_patterns(problem, time_limit=time_limit, monosemantic=mono)
    if name == "reference":
        from rdp_exact.classes.reference import reference_solve

        return reference_solve(problem, monosemantic=mono)
    from rdp_exact.classes.minlp import solve_minlp

    if problem.sae_class in ("real-atoms", "real-codes"):
        # a first incumbent for SCIP (it prunes with it; the proof stays SCIP's): the search's optimum or
        # incumbent for the problem itself when a search handles it, else for real-atoms ⊂ real-codes
        sub = problem if choose_method(problem) in ("kone", "patterns") else problem.with_(sae_class="real-atoms")
        share = None if time_limit is None else 0.25 * time_limit
        t0 = time.perf_counter()
        sub_sol = solve_class(sub, choose_method(sub), time_limit=share)
        sub_sae = sub_sol.sae
        if sub_sae is not None and (start is None or _d(problem, sub_sae) < _d(problem, start)):
            start = sub_sae
        if mono and not problem.decoder_bias and problem.max_rate is None and sub_sae is not None:
            proven = _at_floor(problem, sub_sae, time.perf_counter() - t0, sub_sol)
            if proven is not None:
                return proven
        if time_limit is not None:
            time_limit = max(1e-3, time_limit - (time.perf_counter() - t0))
    return solve_minlp(problem, time_limit=time_limit, threads=threads, options=options, start=start,
                       monosemantic=mono)


def _at_floor(problem: ClassProblem, sae: RealSAE, wall: float, sub: ClassSolution) -> ClassSolution | None:
    """``sae`` as the proven optimum of a monosemantic query without bias or rate budget when its D reaches the
    binary D_min(m, k), the floor of every class without a bias (C-T5, :mod:`rdp_exact.classes.floors`);
    None otherwise."""
    from rdp_exact import theory
    from rdp_exact.classes.problem import finish
    from rdp_exact.problem import TOL, Status

    floor = theory.d_min(problem.pmf, problem.width, problem.k)
    if _d(problem, sae) > floor + TOL:
        return None
    return finish(problem, sae, status=Status.OPTIMAL, method=f"{sub.method}+floor",
                  version=f"{sub.method_version}; floor C-T5", wall=wall, bound=floor,
                  info={"monosemantic": True, "proof": "reaches the binary D_min, the floor of every class "
                        "without a bias (C-T5)"})


def _d(problem: ClassProblem, sae: RealSAE) -> float:
    from rdp_exact.classes.problem import evaluate_real

    return evaluate_real(problem.pmf, sae).distortion


__all__ = ["METHODS", "choose_method", "solve_class"]
