"""The one place a query is routed to a method (issue 10 item 4; docs/solver-dispatch.md).

:func:`solve` validates the request, clamps the width (:func:`~rdp_exact.solvers.limits.clamp_problem`),
picks the method — the named one, or :func:`rdp_exact.solvers.auto.choose` for ``auto`` — and runs it with
what is left of the time limit. ``solver="X"`` runs X or raises :class:`~rdp_exact.errors.SolverUnavailable`
(one line, exit 2 in the CLI) saying why X cannot answer this query; it never runs something else. The
returned :class:`~rdp_exact.problem.Solution` names the method that answered and its real version, and
carries a typed ``info`` record (:mod:`rdp_exact.solvers.info`) with the route taken.

Methods:

========  ==========================================  ==============================================
name      answers                                     module
========  ==========================================  ==============================================
brute     every query, small instances                :mod:`rdp_exact.solvers.brute`
bnb       integer min D: free class, threshold/P_dec  :mod:`rdp_exact.solvers.bnb_free`
highs     every query (integer program)               :mod:`rdp_exact.solvers.milp`
cpsat     every query (same integer program)          :mod:`rdp_exact.solvers.cpsat`
scip      every query (same integer program)          :mod:`rdp_exact.solvers.scip`
========  ==========================================  ==============================================
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.problem import Problem, Solution, SolverInfo, SolverName, Status
from rdp_exact.solvers.info import BnbInfo, BruteInfo, MipInfo, from_mapping
from rdp_exact.solvers.limits import (
    BuildInterrupted,
    TimeBudget,
    check_threads,
    check_time_limit,
    clamp_problem,
    interrupt_at,
)

log = logging.getLogger(__name__)

#: Seconds (beyond 5 % of the limit) a method may overrun before the dispatcher stops it.
BACKSTOP_S = 1.0
#: Clamped answers are padded back with dead latents up to this requested width (beyond it the Solution
#: keeps the clamped width, so that a huge width never builds a huge SAE).
MAX_PAD_WIDTH = 4096
#: Every name ``solve`` accepts (``auto`` first), as plain strings for CLI choices and config checks.
SOLVER_CHOICES: tuple[str, ...] = tuple(s.value for s in SolverName)


def parse_solver(solver: object) -> SolverName:
    """``solver`` as a :class:`SolverName`; InvalidArgument naming the choices otherwise."""
    try:
        return SolverName(solver) if isinstance(solver, str) else SolverName(str(solver))
    except ValueError:
        raise InvalidArgument(f"unknown solver {solver!r} (choose from {', '.join(SOLVER_CHOICES)})") from None


# ---------------------------------------------------------------------------------------------- scopes
def _brute_scope(problem: Problem) -> str | None:
    from rdp_exact.solvers import brute

    try:
        brute.check_size(problem)
    except SolverUnavailable as exc:
        return str(exc)
    return None


def _bnb_scope(problem: Problem) -> str | None:
    from rdp_exact.solvers import bnb_free

    if bnb_free.applies(problem):
        return None
    if problem.encoder == "threshold" and problem.poly_measure != "decoder":
        why = ("in the threshold class it serves P = P_dec only (--poly decoder): the encoder term of P_joint is "
               "not part of its search")
    elif problem.encoder not in ("free", "threshold"):
        why = "it handles the free and threshold encoder classes only"
    elif problem.coefficients != "integer":
        why = "it handles integer coefficients only"
    elif problem.minimize != "distortion":
        why = f"it minimises distortion only (this query minimises {problem.minimize})"
    elif problem.encoder == "threshold":
        why = f"n = {problem.pmf.n} is too large to enumerate threshold units (at most 3^9 of them)"
    else:
        why = (f"the instance is outside its range (n ≤ {getattr(bnb_free, 'MAX_N', '?')}, every probability "
               f"> {getattr(bnb_free, 'MIN_PROB', '?')}, table size)")
    return f"bnb cannot answer this query: {why}; use --solver highs"


def _package_scope(module: str, package: str) -> Callable[[Problem], str | None]:
    def scope(problem: Problem) -> str | None:
        del problem
        return None if _importable(module) else f"{package} is not installed (pip install {package})"

    return scope


@cache
def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# ---------------------------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class Method:
    """One way of answering a query."""

    name: SolverName
    """Its ``--solver`` name."""
    module: str
    """Module with ``solve(problem, *, time_limit, threads, options) -> Solution``."""
    scope: Callable[[Problem], str | None]
    """Why it cannot answer a query (None when it can)."""
    info_type: type[SolverInfo]
    """The typed ``info`` record of its solutions."""
    version_of: str
    """Module whose ``_version()`` gives the engine's real version string."""

    def version(self) -> str:
        return _version(self.version_of)

    def run(self, problem: Problem, *, time_limit: float | None, threads: int | None,
            options: dict[str, Any] | None) -> Solution:
        mod = importlib.import_module(self.module)
        return mod.solve(problem, time_limit=time_limit, threads=threads, options=options)  # type: ignore[no-any-return]


@cache
def _version(module: str) -> str:
    return str(importlib.import_module(module)._version())  # noqa: SLF001


METHODS: dict[SolverName, Method] = {
    SolverName.BRUTE: Method(SolverName.BRUTE, "rdp_exact.solvers.brute", _brute_scope, BruteInfo,
                             "rdp_exact.solvers.brute"),
    SolverName.BNB: Method(SolverName.BNB, "rdp_exact.solvers.bnb_free", _bnb_scope, BnbInfo,
                           "rdp_exact.solvers.brute"),
    SolverName.HIGHS: Method(SolverName.HIGHS, "rdp_exact.solvers.milp", _package_scope("highspy", "highspy"),
                             MipInfo, "rdp_exact.solvers.milp"),
    SolverName.CPSAT: Method(SolverName.CPSAT, "rdp_exact.solvers.cpsat", _package_scope("ortools", "ortools"),
                             MipInfo, "rdp_exact.solvers.cpsat"),
    SolverName.SCIP: Method(SolverName.SCIP, "rdp_exact.solvers.scip", _package_scope("pyscipopt", "pyscipopt"),
                            MipInfo, "rdp_exact.solvers.scip"),
}


def why_not(problem: Problem, solver: str | SolverName) -> str | None:
    """Why ``solver`` cannot answer ``problem`` (None when it can; ``auto`` always can)."""
    name = parse_solver(solver)
    if name is SolverName.AUTO:
        return None
    return METHODS[name].scope(clamp_problem(problem)[0])


def route(problem: Problem, solver: str | SolverName = SolverName.AUTO) -> tuple[SolverName, str]:
    """The method that will answer ``problem`` and why; SolverUnavailable when a named method cannot."""
    name = parse_solver(solver)
    if name is not SolverName.AUTO:
        reason = METHODS[name].scope(problem)
        if reason is not None:
            raise SolverUnavailable(f"--solver {name.value}: {reason}")
        return name, "requested"
    from rdp_exact.solvers import auto

    chosen = parse_solver(auto.choose(problem))
    if chosen is SolverName.AUTO:  # pragma: no cover - a choice rule must name a method
        raise RuntimeError("auto.choose returned 'auto'")
    why = auto.explain(problem, chosen)
    reason = METHODS[chosen].scope(problem)
    if reason is not None:  # a choice rule outside the method's scope: fall back to the general engine
        why = f"{why}; {chosen.value} unavailable ({reason}), so highs"
        chosen = SolverName.HIGHS
        reason = METHODS[chosen].scope(problem)
        if reason is not None:
            raise SolverUnavailable(f"--solver auto: {reason}")
    return chosen, f"auto: {why}"


def solve(
    problem: Problem,
    solver: str | SolverName = SolverName.AUTO,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
    deadline: float | None = None,
) -> Solution:
    """Solve one query with the named method (``auto``: :func:`rdp_exact.solvers.auto.choose`).

    ``time_limit`` (seconds) bounds the whole call — width clamping, routing, model building, presolve
    and search; ``deadline`` (a :func:`time.perf_counter` value, e.g. a per-command budget shared by
    several solves) bounds it too, whichever ends first. Past it the status is ``limit`` with the best SAE
    known (if any). ``options`` pass through to the backend.
    """
    t0 = time.perf_counter()
    name = parse_solver(solver)
    limit = check_time_limit(time_limit)
    threads = check_threads(threads)
    if deadline is not None and (
        isinstance(deadline, bool) or not isinstance(deadline, numbers.Real) or not math.isfinite(deadline)
    ):
        raise InvalidArgument(f"deadline must be a finite time.perf_counter() value, got {deadline!r}")
    if not isinstance(problem, Problem):
        raise InvalidArgument(f"problem must be a Problem, got {type(problem).__name__}")
    budget = TimeBudget.after(limit)
    if deadline is not None and (budget.at is None or deadline < budget.at):
        budget = TimeBudget(float(deadline))
    clamped, note = clamp_problem(problem)
    chosen, why = route(clamped, name)
    method = METHODS[chosen]
    notes = () if note is None else (note,)
    rem = budget.remaining()
    if rem is not None and rem <= 0:
        info = method.info_type(requested=name.value, route=why,
                                notes=(*notes, "time limit reached before the solver started"))
        return Solution(clamped, Status.LIMIT, chosen, method.version(), time.perf_counter() - t0, info=info)
    # backstop: a method that overruns its limit by more than 5 % + 1 s is stopped (SIGALRM, main thread)
    backstop = TimeBudget.after(None if rem is None else 1.05 * rem + BACKSTOP_S)
    try:
        with interrupt_at(backstop, f"running {chosen.value} (stopped past its time limit)"):
            sol = method.run(clamped, time_limit=rem, threads=threads, options=options)
    except BuildInterrupted as exc:
        log.warning("%s", exc)
        info = method.info_type(requested=name.value, route=why, notes=(*notes, str(exc)))
        return Solution(clamped, Status.LIMIT, chosen, method.version(), time.perf_counter() - t0, info=info)
    if name is SolverName.AUTO and _declined(sol):
        # bnb declined after its search (a binding rate/poly budget, a threshold code it cannot realise)
        chosen, method = SolverName.HIGHS, METHODS[SolverName.HIGHS]
        why = f"{why}; bnb declined ({sol.info.get('declined')}), so highs"
        notes = (*notes, f"bnb ran first and declined ({sol.info.get('declined')}; its lower bound on D: "
                         f"{sol.bound}), so highs answered")
        rem = budget.remaining()
        try:
            with interrupt_at(TimeBudget.after(None if rem is None else 1.05 * max(rem, 0.0) + BACKSTOP_S),
                              "running highs (stopped past its time limit)"):
                sol = method.run(clamped, time_limit=None if rem is None else max(rem, 1e-3), threads=threads,
                                 options=options)
        except BuildInterrupted as exc:
            info = method.info_type(requested=name.value, route=why, notes=(*notes, str(exc)))
            return Solution(clamped, Status.LIMIT, chosen, method.version(), time.perf_counter() - t0, info=info)
    if note is not None and sol.sae is not None and problem.width <= MAX_PAD_WIDTH:
        sol = _pad(sol, problem)
        notes = (f"{note}; the answer is padded back to width {problem.width} with dead latents",)
    info = from_mapping(method.info_type, sol.info, requested=name.value, route=why,
                        notes=(*notes, *sol.info.get("notes", ())))
    return replace(sol, solver=chosen, solver_version=method.version(), wall_time_s=time.perf_counter() - t0,
                   info=info)


def _declined(sol: Solution) -> bool:
    """Whether ``sol`` is a bnb answer that declined the query after its search (``BnbInfo.declined``)."""
    return sol.solver == SolverName.BNB and sol.status is Status.LIMIT and bool(sol.info.get("declined"))


def _pad(sol: Solution, problem: Problem) -> Solution:
    """``sol`` (solved at a clamped width) as a solution of ``problem``: extra latents are dead."""
    from rdp_exact.sae import CombinatorialSAE, ThresholdUnit

    sae = sol.sae
    assert sae is not None
    extra = problem.width - sae.width
    atoms = (*sae.atoms, *([0] * extra))
    if sae.encoder is not None:
        dead = ThresholdUnit(tuple([0] * sae.n), 1)
        padded = CombinatorialSAE.threshold(sae.n, atoms, (*sae.encoder, *([dead] * extra)), sae.coefficients)
    else:
        padded = CombinatorialSAE.free(sae.n, atoms, dict(sae.code or ()), sae.coefficients)
    ev = padded.evaluate(problem.pmf, problem.k)
    if sol.evaluation is not None:  # dead latents change nothing (C-L1 re-check)
        assert abs(ev.distortion - sol.evaluation.distortion) <= 1e-12 and abs(ev.rate - sol.evaluation.rate) <= 1e-12
    return replace(sol, problem=problem, sae=padded, evaluation=ev)


__all__ = ["METHODS", "SOLVER_CHOICES", "Method", "parse_solver", "route", "solve", "why_not"]
