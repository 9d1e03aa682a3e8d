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

``scip`` accepts every real class (it is the cross-check of the two searches). It starts from the optimum or
incumbent of the search for the same problem (real-atoms; real-codes at k = 1 without bias), or for its
real-atoms subclass otherwise, found within a quarter of the time limit; the proof remains SCIP's. A rate
budget R ≤ r is supported by every method; a P budget only as P ≤ 0 (``monosemantic``), by ``scip`` and the reference.
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
        return "kone" if problem.k == 1 else "patterns"
    if problem.k == 1 and not problem.decoder_bias:
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
    sol = solve(Problem(problem.pmf, width=problem.width, k=problem.k, max_rate=problem.max_rate), solver,
                time_limit=time_limit, threads=threads)
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
    if name == "kone":
        from rdp_exact.classes.kone import solve_kone

        return solve_kone(problem, time_limit=time_limit)
    if name == "patterns":
        from rdp_exact.classes.patterns import solve_patterns

        return solve_patterns(problem, time_limit=time_limit)
    if name == "reference":
        from rdp_exact.classes.reference import reference_solve

        return reference_solve(problem)
    from rdp_exact.classes.minlp import solve_minlp

    if problem.sae_class in ("real-atoms", "real-codes"):
        # a first incumbent for SCIP (it prunes with it; the proof stays SCIP's): the search's optimum or
        # incumbent for the problem itself when a search handles it, else for real-atoms ⊂ real-codes
        sub = problem if choose_method(problem) in ("kone", "patterns") else problem.with_(sae_class="real-atoms")
        share = None if time_limit is None else 0.25 * time_limit
        t0 = time.perf_counter()
        sub_sae = solve_class(sub, choose_method(sub), time_limit=share).sae
        if sub_sae is not None and (start is None or _d(problem, sub_sae) < _d(problem, start)):
            start = sub_sae
        if time_limit is not None:
            time_limit = max(1e-3, time_limit - (time.perf_counter() - t0))
    return solve_minlp(problem, time_limit=time_limit, threads=threads, options=options, start=start)


def _d(problem: ClassProblem, sae: RealSAE) -> float:
    from rdp_exact.classes.problem import evaluate_real

    return evaluate_real(problem.pmf, sae).distortion


__all__ = ["METHODS", "choose_method", "solve_class"]
