"""OR-Tools CP-SAT backend (``--solver cpsat``): the integer programs of
:mod:`rdp_exact.solvers.mip_model` (DESIGN §4, C-AG).

CP-SAT needs integer coefficients. Probabilities enter as integers q_S (the least common denominator of
the probabilities as decimal fractions when it fits, else π_S·2^s rounded; ``Solution.info["prob_scale"]``,
``"exact_scaling"``, ``"scaling_error_bound"``); P weights are rounded to multiples of 2^-40. CP-SAT proves
optimality exactly for these integers (``relative_gap_limit = absolute_gap_limit = 0``); the result is reported
OPTIMAL only when the scaling error bound Σ_S |π_S − q_S·unit|·G_S is below TOL/2, so that no SAE can be
better in the true float objective by more than that bound.

Presolve's inclusion detection is switched off by default (``presolve_inclusion_work_limit = 0``): with the
large scaled coefficients it wrongly proved feasible models infeasible in OR-Tools 9.15. The driver also
cross-checks every INFEASIBLE answer against a known feasible point (``solver_inconsistency`` in info).

``threads`` → ``num_workers`` (default 1 when not given, so results are reproducible); other ``options`` keys
are CP-SAT parameters set as attributes of ``solver.parameters`` (``formulation`` and ``heuristic`` are read
by the driver).
"""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.problem import Problem, Solution, Status
from rdp_exact.solvers.limits import BuildInterrupted
from rdp_exact.solvers.mip_lex import RawResult, solve_lex
from rdp_exact.solvers.mip_model import IntExpr, LinModel


@cache
def _version() -> str:
    """``ortools <package version>``."""
    from importlib.metadata import version

    return f"ortools {version('ortools')}"


def _int_floor(v: float | int) -> int:
    """Floor without a detour through float64 (row bounds can exceed 2^53)."""
    return v if isinstance(v, int) else math.floor(v)


def _int_ceil(v: float | int) -> int:
    return v if isinstance(v, int) else math.ceil(v)


class CpSatBackend:
    name = "cpsat"

    def version(self) -> str:
        return _version()

    def solve(
        self,
        model: LinModel,
        objective: IntExpr,
        *,
        time_limit: float | None,
        threads: int | None,
        options: dict[str, Any],
        hint: np.ndarray | None,
    ) -> RawResult:
        from ortools.sat.python import cp_model

        t0 = time.perf_counter()
        cm = cp_model.CpModel()
        xs = [cm.new_int_var(int(lb), int(ub), f"x{j}") for j, (lb, ub) in enumerate(zip(model.lb, model.ub, strict=True))]
        for r, (cols, coefs, lo, hi) in enumerate(
            zip(model.row_cols, model.row_coefs, model.row_lo, model.row_hi, strict=True)
        ):
            if time_limit is not None and r % 2000 == 0 and time.perf_counter() - t0 > time_limit:
                raise BuildInterrupted("time limit reached while building the CP-SAT model")
            expr = cp_model.LinearExpr.weighted_sum([xs[j] for j in cols.tolist()], [int(c) for c in coefs.tolist()])
            if lo is not None and hi is not None:
                cm.add_linear_constraint(expr, _int_ceil(lo), _int_floor(hi))
            elif hi is not None:
                cm.add(expr <= _int_floor(hi))
            elif lo is not None:
                cm.add(expr >= _int_ceil(lo))
        obj = cp_model.LinearExpr.weighted_sum(
            [xs[j] for j in objective.cols.tolist()], [int(c) for c in objective.coefs.tolist()]
        )
        cm.minimize(obj + int(objective.const))
        if hint is not None:
            for v, val in zip(xs, np.rint(np.asarray(hint)).astype(np.int64).tolist(), strict=True):
                cm.add_hint(v, int(val))
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.num_workers = int(threads) if threads is not None else 1
        p.relative_gap_limit = 0.0
        p.absolute_gap_limit = 0.0
        # CP-SAT 9.15's inclusion-based presolve declared feasible models with large coefficients (our
        # scaled probabilities) infeasible; switched off unless the caller sets it.
        p.presolve_inclusion_work_limit = 0
        for key, val in options.items():
            if not hasattr(p, key):
                raise InvalidArgument(f"unknown CP-SAT parameter {key!r}")
            setattr(p, key, val)
        build_s = time.perf_counter() - t0
        if time_limit is not None:
            left = float(time_limit) - build_s
            if left <= 0:
                raise BuildInterrupted("time limit reached while building the CP-SAT model")
            p.max_time_in_seconds = left
        st = solver.solve(cm)
        has_sol = st in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        x = np.array([solver.value(v) for v in xs], dtype=np.float64) if has_sol else None
        if st == cp_model.OPTIMAL:
            status = Status.OPTIMAL
        elif st == cp_model.INFEASIBLE:
            status = Status.INFEASIBLE
        elif st == cp_model.MODEL_INVALID:
            raise RuntimeError(f"CP-SAT rejected the model: {cm.validate()}")
        else:
            status = Status.FEASIBLE if has_sol else Status.LIMIT
        return RawResult(
            status,
            x,
            float(solver.objective_value) if has_sol else None,
            float(solver.best_objective_bound) if has_sol or st == cp_model.UNKNOWN else None,
            0.0,  # integer objective: the proof is exact for the scaled integers
            {
                "cpsat_status": solver.status_name(st),
                "branches": int(solver.num_branches),
                "conflicts": int(solver.num_conflicts),
                "num_workers": int(p.num_workers),
                "model_build_s": build_s,
            },
        )


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> Solution:
    """Solve ``problem`` with CP-SAT (see module docstring)."""
    return solve_lex(problem, CpSatBackend(), time_limit=time_limit, threads=threads, options=options)
