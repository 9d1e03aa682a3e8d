"""SCIP backend (``--solver scip``): the integer programs of :mod:`rdp_exact.solvers.mip_model` — the same
models HiGHS gets, with the same power-of-two row scaling — solved by SCIP through PySCIPOpt (issue 15:
a second MIP engine with its own symmetry handling, conflict analysis and cut loop).

Exactness: ``limits/gap = limits/absgap = 0``. As for HiGHS the objective is multiplied by
:data:`~rdp_exact.solvers.milp.OBJ_MULT` = 1e4, and the proof resolution is taken as SCIP's feasibility
tolerance (``numerics/feastol``, default 1e-6) plus any absolute gap, i.e. 1e-10 in true units (< TOL). Only
SCIP status ``optimal`` is a proof of optimality and only ``infeasible`` a proof of infeasibility; every
other status (time limit, node limit, interrupt, ``inforunbd``, …) is ``feasible`` with an incumbent and
``limit`` without one.

``threads`` is ignored (SCIP's tree search is sequential). Option keys other than ``formulation`` and
``heuristic`` are SCIP parameters (e.g. ``{"limits/nodes": 1000}``), set with ``setParam``.
"""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import optimize_interruptibly
from rdp_exact.problem import Problem, Solution, Status
from rdp_exact.solvers.limits import BuildInterrupted
from rdp_exact.solvers.milp import OBJ_MULT, _rows_csr
from rdp_exact.solvers.mip_lex import RawResult, solve_lex
from rdp_exact.solvers.mip_model import IntExpr, LinModel

#: Parameters always set (exactness); users may override through ``options``.
EXACT_PARAMS: dict[str, Any] = {"limits/gap": 0.0, "limits/absgap": 0.0}


@cache
def _version() -> str:
    """``pyscipopt <package version> (SCIP <version>)``."""
    from importlib.metadata import version

    import pyscipopt

    return f"pyscipopt {version('PySCIPOpt')} (SCIP {pyscipopt.Model().version()})"


def scip_status(name: str, has_solution: bool) -> Status:
    """SCIP's status string as a :class:`Status` (see module docstring)."""
    if name == "optimal":
        return Status.OPTIMAL
    if name == "infeasible":
        return Status.INFEASIBLE
    return Status.FEASIBLE if has_solution else Status.LIMIT


class ScipBackend:
    """One :class:`LinModel` objective solved by SCIP."""

    name = "scip"

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
        import pyscipopt

        del threads  # sequential tree search
        t0 = time.perf_counter()
        m = pyscipopt.Model()
        m.hideOutput()
        params = {**EXACT_PARAMS, **options}
        for key, val in params.items():
            try:
                m.setParam(key, val)
            except (KeyError, LookupError, TypeError, ValueError) as exc:
                raise InvalidArgument(f"SCIP parameter {key!r} = {val!r} rejected: {exc}") from exc
        xs = []
        for j in range(model.num_cols):
            lb, ub, integer = model.lb[j], model.ub[j], model.integer[j]
            vtype = ("B" if (lb, ub) == (0, 1) else "I") if integer else "C"
            xs.append(m.addVar(f"x{j}", vtype=vtype, lb=float(lb), ub=float(ub)))
        start, index, value, lo, hi = _rows_csr(model)
        for r in range(len(model.row_cols)):
            if time_limit is not None and r % 2000 == 0 and time.perf_counter() - t0 > time_limit:
                raise BuildInterrupted("time limit reached while building the SCIP model")
            a, b = int(start[r]), int(start[r + 1])
            expr = pyscipopt.quicksum(float(c) * xs[j] for c, j in zip(value[a:b].tolist(), index[a:b].tolist(),
                                                                         strict=True))
            lhs = float(lo[r]) if math.isfinite(lo[r]) else None
            rhs = float(hi[r]) if math.isfinite(hi[r]) else None
            if lhs is not None and rhs is not None:
                m.addCons(expr >= lhs, name=f"r{r}l")
                m.addCons(expr <= rhs, name=f"r{r}u")
            elif rhs is not None:
                m.addCons(expr <= rhs, name=f"r{r}")
            elif lhs is not None:
                m.addCons(expr >= lhs, name=f"r{r}")
        scale = objective.unit * OBJ_MULT
        coefs = objective.coefs.astype(np.float64) * scale
        m.setObjective(
            pyscipopt.quicksum(float(c) * xs[j] for c, j in zip(coefs.tolist(), objective.cols.tolist(), strict=True)),
            "minimize",
        )
        if hint is not None:
            sol = m.createSol()
            for v, val in zip(xs, np.asarray(hint, dtype=np.float64).tolist(), strict=True):
                m.setSolVal(sol, v, val)
            m.addSol(sol, free=True)
        build_s = time.perf_counter() - t0
        if time_limit is not None:
            left = float(time_limit) - build_s
            if left <= 0:
                raise BuildInterrupted("time limit reached while building the SCIP model")
            m.setParam("limits/time", left)
        optimize_interruptibly(m)
        name = str(m.getStatus())
        has_sol = m.getNSols() > 0
        x = None
        obj = None
        if has_sol:
            best = m.getBestSol()
            x = np.array([m.getSolVal(best, v) for v in xs], dtype=np.float64)
            obj = m.getSolObjVal(best) / scale + objective.const
        dual = m.getDualbound()
        bound = dual / scale + objective.const if math.isfinite(dual) and abs(dual) < 1e19 else None
        feastol = float(m.getParam("numerics/feastol"))
        absgap = float(params.get("limits/absgap", 0.0))
        return RawResult(
            scip_status(name, has_sol),
            x,
            obj,
            bound,
            (feastol + absgap) / scale,
            {
                "scip_status": name,
                "nodes": int(m.getNTotalNodes()),
                "model_build_s": build_s,
                "limits_gap": float(params["limits/gap"]),
                "limits_absgap": absgap,
            },
        )


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> Solution:
    """Solve ``problem`` with SCIP (see module docstring)."""
    return solve_lex(problem, ScipBackend(), time_limit=time_limit, threads=threads, options=options)
