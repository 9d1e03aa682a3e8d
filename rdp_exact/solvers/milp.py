"""HiGHS backend (``--solver highs``): the integer programs of :mod:`rdp_exact.solvers.mip_model`, built
as a Pyomo model and solved by HiGHS through Pyomo's ``appsi_highs`` interface (DESIGN §4, C-AG).

``options={"interface": "highspy"}`` passes the same model to highspy directly (no Pyomo; faster to build
on large models); tests check both give the same optimum. Other option keys: ``formulation`` (``auto``,
``pattern``, ``usage``, ``usage-full``, ``threshold``; see :func:`~rdp_exact.solvers.mip_model.build`),
``heuristic`` (warm start, default on); every remaining key is a HiGHS option passed through unchanged.
This backend always runs HiGHS: the branch-and-bound is its own method (``--solver bnb``), chosen only by
:mod:`rdp_exact.solvers.dispatch`.

Exactness: ``mip_rel_gap = 0`` and ``mip_abs_gap = 0``. HiGHS then prunes a node when its bound is within
``mip_feasibility_tolerance`` (default 1e-6) of the incumbent; the objective is multiplied by
:data:`OBJ_MULT` = 1e4 so that this is 1e-10 in true units (< TOL = 1e-9). The probabilities enter as
integers times a power of two (``Solution.info["prob_scale"]``), exact in floating point.
"""

from __future__ import annotations

import math
import os
import sys
import time
from functools import cache
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.problem import Problem, Solution, Status
from rdp_exact.solvers.limits import BuildInterrupted
from rdp_exact.solvers.mip_lex import RawResult, solve_lex
from rdp_exact.solvers.mip_model import IntExpr, LinModel

#: Objective multiplier: HiGHS's pruning tolerance (mip_feasibility_tolerance) divided by this is the
#: absolute resolution of the optimality proof in true units.
OBJ_MULT = 1e4
#: Options always set (exactness); users may override through ``options``.
EXACT_OPTIONS: dict[str, Any] = {"mip_rel_gap": 0.0, "mip_abs_gap": 0.0}


def _quiet_highs() -> Any:
    """A ``highspy.Highs`` object without the licence banner its constructor prints on stdout."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


@cache
def _version() -> str:
    """``highspy <package version> (HiGHS <major.minor.patch>)``."""
    from importlib.metadata import version

    h = _quiet_highs()
    return f"highspy {version('highspy')} (HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()})"


def highs_status(h: Any, has_solution: bool) -> tuple[Status, str]:
    """The one mapping of a HiGHS model status to :class:`Status` (and HiGHS's own name for the record).

    Only ``kOptimal`` (with mip_rel_gap = mip_abs_gap = 0) is a proof of optimality and only ``kInfeasible``
    a proof of infeasibility; every other status (time limit, interrupt, unknown, …) is FEASIBLE when an
    incumbent exists and LIMIT otherwise."""
    import highspy

    st = h.getModelStatus()
    name = h.modelStatusToString(st)
    if st == highspy.HighsModelStatus.kOptimal:
        return Status.OPTIMAL, name
    if st == highspy.HighsModelStatus.kInfeasible:
        return Status.INFEASIBLE, name
    return (Status.FEASIBLE if has_solution else Status.LIMIT), name


def _rows_csr(model: LinModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise matrix with HiGHS scaling applied: (start, index, value, lower, upper)."""
    lens = np.array([c.size for c in model.row_cols], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lens)])
    index = np.concatenate(model.row_cols) if model.row_cols else np.zeros(0, dtype=np.int64)
    scale = np.repeat(np.array(model.row_scale, dtype=np.float64), lens)
    value = (
        np.concatenate(model.row_coefs).astype(np.float64) * scale if model.row_coefs else np.zeros(0)
    )
    rs = np.array(model.row_scale, dtype=np.float64)
    lo = np.array([-np.inf if v is None else float(v) for v in model.row_lo]) * rs
    hi = np.array([np.inf if v is None else float(v) for v in model.row_hi]) * rs
    return start, index, value, lo, hi


class _HighsBase:
    name = "highs"

    def version(self) -> str:
        return _version()

    @staticmethod
    def _cost(model: LinModel, objective: IntExpr) -> tuple[np.ndarray, float]:
        cost = np.zeros(model.num_cols)
        np.add.at(cost, objective.cols, objective.coefs.astype(np.float64) * objective.unit * OBJ_MULT)
        return cost, objective.const * objective.unit * OBJ_MULT

    @staticmethod
    def _options(time_limit: float | None, threads: int | None, options: dict[str, Any]) -> dict[str, Any]:
        o: dict[str, Any] = dict(EXACT_OPTIONS)
        if time_limit is not None:
            o["time_limit"] = max(float(time_limit), 0.001)
        if threads is not None:
            o["threads"] = int(threads)
        o.update(options)
        return o

    @staticmethod
    def _resolution(objective: IntExpr, opts: dict[str, Any]) -> float:
        feastol = float(opts.get("mip_feasibility_tolerance", 1e-6))
        abs_gap = float(opts.get("mip_abs_gap", 0.0))
        return (feastol + abs_gap) / (objective.unit * OBJ_MULT)


class HighspyBackend(_HighsBase):
    """The model passed to highspy directly."""

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
        import highspy

        t0 = time.perf_counter()
        h = _quiet_highs()
        opts = self._options(time_limit, threads, options)
        opts.pop("time_limit", None)
        for key, v in opts.items():
            if key == "threads":
                continue  # HiGHS fixes its thread pool per process; MIP search is serial anyway
            h.setOptionValue(key, v)
        lp = highspy.HighsLp()
        lp.num_col_ = model.num_cols
        lp.num_row_ = len(model.row_cols)
        cost, offset = self._cost(model, objective)
        lp.col_cost_ = cost
        lp.offset_ = offset
        lp.col_lower_ = np.array(model.lb, dtype=np.float64)
        lp.col_upper_ = np.array(model.ub, dtype=np.float64)
        start, index, value, lo, hi = _rows_csr(model)
        lp.row_lower_ = lo
        lp.row_upper_ = hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = start.astype(np.int32)
        lp.a_matrix_.index_ = index.astype(np.int32)
        lp.a_matrix_.value_ = value
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in model.integer
        ]
        h.passModel(lp)
        if hint is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(np.asarray(hint, dtype=np.float64))
            sol.value_valid = True
            h.setSolution(sol)
        build_s = time.perf_counter() - t0
        if time_limit is not None:
            left = float(time_limit) - build_s
            if left <= 0:
                raise BuildInterrupted("time limit reached while passing the model to HiGHS")
            h.setOptionValue("time_limit", left)
        h.run()
        info = h.getInfo()
        has_sol = info.primal_solution_status == 2
        x = np.array(h.getSolution().col_value) if has_sol else None
        obj = (info.objective_function_value - offset) / (objective.unit * OBJ_MULT) + objective.const if has_sol else None
        bound = info.mip_dual_bound
        bound_u = None
        if bound is not None and math.isfinite(bound):
            bound_u = (bound - offset) / (objective.unit * OBJ_MULT) + objective.const
        status, status_name = highs_status(h, has_sol)
        if status_name == "Solve error" and options.get("presolve") != "off":
            # HiGHS 1.16's presolve can fail on a row with very large integer coefficients (a P budget at an
            # attainable value: coefficients up to 2^40 beside one of ~10^3); the same model solves without it
            left = None if time_limit is None else max(float(time_limit) - (time.perf_counter() - t0), 1e-3)
            again = self.solve(model, objective, time_limit=left, threads=threads,
                               options={**options, "presolve": "off"}, hint=hint)
            again.info["presolve_off_after_solve_error"] = True
            return again
        return RawResult(
            status,
            x,
            obj,
            bound_u,
            self._resolution(objective, opts),
            {
                "interface": "highspy",
                "highs_status": status_name,
                "nodes": int(info.mip_node_count),
                "model_build_s": build_s,
                "mip_rel_gap": opts["mip_rel_gap"],
                "mip_abs_gap": opts["mip_abs_gap"],
            },
        )


class PyomoBackend(_HighsBase):
    """The model built in Pyomo and solved with ``appsi_highs`` (the documented path)."""

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
        import pyomo.environ as pyo
        from pyomo.contrib.appsi.solvers.highs import Highs
        from pyomo.core.expr.numeric_expr import LinearExpression

        t0 = time.perf_counter()
        opt = Highs()
        if not opt.available():
            raise SolverUnavailable("HiGHS is not available to Pyomo (install highspy)")
        opts = self._options(time_limit, threads, options)
        m = pyo.ConcreteModel()
        idx = range(model.num_cols)
        m.x = pyo.Var(idx)
        xs = [m.x[j] for j in idx]
        for j, v in enumerate(xs):
            v.setlb(model.lb[j])
            v.setub(model.ub[j])
            v.domain = pyo.Integers if model.integer[j] else pyo.Reals
        m.c = pyo.ConstraintList()
        start, index, value, lo, hi = _rows_csr(model)
        for r in range(len(model.row_cols)):
            if time_limit is not None and r % 2000 == 0 and time.perf_counter() - t0 > time_limit:
                raise BuildInterrupted("time limit reached while building the Pyomo model")
            a, b = start[r], start[r + 1]
            expr = LinearExpression(
                constant=0.0, linear_coefs=value[a:b].tolist(), linear_vars=[xs[j] for j in index[a:b].tolist()]
            )
            lo_r = None if not math.isfinite(lo[r]) else float(lo[r])
            hi_r = None if not math.isfinite(hi[r]) else float(hi[r])
            m.c.add((lo_r, expr, hi_r))
        cost, offset = self._cost(model, objective)
        nz = np.flatnonzero(cost)
        m.obj = pyo.Objective(
            expr=LinearExpression(
                constant=offset, linear_coefs=cost[nz].tolist(), linear_vars=[xs[j] for j in nz.tolist()]
            )
        )
        if hint is not None:
            for v, val in zip(xs, np.asarray(hint).tolist(), strict=True):
                v.set_value(val, skip_validation=True)
            opt.config.warmstart = True
        opt.config.load_solution = False
        opt.config.stream_solver = False
        opts.pop("time_limit", None)
        opts.pop("threads", None)
        opt.highs_options = opts
        build_s = time.perf_counter() - t0
        if time_limit is not None:
            left = float(time_limit) - build_s
            if left <= 0:
                raise BuildInterrupted("time limit reached while building the Pyomo model")
            opt.config.time_limit = left
        res = opt.solve(m)
        tc = res.termination_condition
        has_sol = res.best_feasible_objective is not None
        x = None
        if has_sol:
            res.solution_loader.load_vars()
            x = np.array([v.value if v.value is not None else 0.0 for v in xs], dtype=np.float64)
        scale = objective.unit * OBJ_MULT
        obj = None if not has_sol else (res.best_feasible_objective - offset) / scale + objective.const
        bound_u = None
        if res.best_objective_bound is not None and math.isfinite(res.best_objective_bound):
            bound_u = (res.best_objective_bound - offset) / scale + objective.const
        h = opt._solver_model  # noqa: SLF001 - the highspy object behind appsi, for its status and node count
        status, status_name = highs_status(h, has_sol)
        if status_name == "Solve error":
            # appsi's model of a row with very large integer coefficients (a P budget at an attainable value)
            # can end in HiGHS "Solve error" where the same rows passed through highspy solve: use that path
            left = None if time_limit is None else max(float(time_limit) - (time.perf_counter() - t0), 1e-3)
            direct = HighspyBackend().solve(model, objective, time_limit=left, threads=threads, options=options,
                                            hint=hint)
            direct.info["pyomo_solve_error"] = "HiGHS via Pyomo/appsi ended in 'Solve error'; answered via highspy"
            return direct
        nodes = int(h.getInfo().mip_node_count)
        return RawResult(
            status,
            x,
            obj,
            bound_u,
            self._resolution(objective, {**EXACT_OPTIONS, **options}),
            {
                "interface": "pyomo-appsi_highs",
                "termination": str(tc.name),
                "highs_status": status_name,
                "nodes": nodes,
                "model_build_s": build_s,
                "mip_rel_gap": EXACT_OPTIONS["mip_rel_gap"] if "mip_rel_gap" not in options else options["mip_rel_gap"],
                "mip_abs_gap": EXACT_OPTIONS["mip_abs_gap"] if "mip_abs_gap" not in options else options["mip_abs_gap"],
            },
        )


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> Solution:
    """Solve ``problem`` with HiGHS (Pyomo by default; ``options["interface"] = "highspy"`` for the direct path)."""
    opts = dict(options or {})
    if opts.get("formulation") == "bnb":
        raise InvalidArgument("formulation 'bnb' is not a HiGHS model: use --solver bnb (solver='bnb')")
    interface = opts.pop("interface", "pyomo")
    if interface == "pyomo":
        backend: PyomoBackend | HighspyBackend = PyomoBackend()
    elif interface == "highspy":
        backend = HighspyBackend()
    else:
        raise InvalidArgument(f"unknown HiGHS interface {interface!r} (pyomo or highspy)")
    return solve_lex(problem, backend, time_limit=time_limit, threads=threads, options=opts)
