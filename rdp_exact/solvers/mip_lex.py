"""Lexicographic driver shared by the HiGHS and CP-SAT backends (DESIGN §1.4, C-AG, C-L1).

The query's quantities are minimised in ``lex_order(problem.minimize)``: each stage fixes the previous
optimum (≤ value + TOL, in the scaled integer units of :class:`~rdp_exact.solvers.candidates.ProbScale`) and
minimises the next. D and R are linear; P (a mean over live latents) is minimised by Dinkelbach's method:
with λ = P(incumbent), minimise Σ x (w − λ); a negative optimum gives a better incumbent, a non-negative
one proves P ≥ λ for every feasible SAE (exact for fractional objectives; weights rounded to 2^-40, so the
proof holds up to m·2^-41). Every returned SAE is re-evaluated exactly with ``sae.evaluate(pmf, k)``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rdp_exact.problem import TOL, Problem, Solution, Status, lex_order, relative_gap, within_budgets
from rdp_exact.sae import CombinatorialSAE, Evaluation
from rdp_exact.solvers.candidates import local_search, p_free
from rdp_exact.solvers.mip_model import Formulation, IntExpr, LinModel, build

log = logging.getLogger(__name__)

#: Scale of P weights (w − ρ) in integer rows/objectives.
POLY_UNIT = 2.0**-40
#: Largest proof tolerance (true units) that may still be reported as OPTIMAL.
MAX_PROOF_TOL = 0.5 * TOL


@dataclass
class RawResult:
    """What a backend returns for one model solve."""

    status: str
    """``optimal`` (proven), ``feasible`` (limit with incumbent), ``limit`` (no incumbent), ``infeasible``."""
    x: np.ndarray | None
    objective: float | None
    """Objective of the incumbent, integer units."""
    bound: float | None
    """Best bound, integer units."""
    resolution: float
    """Objective difference (integer units) below which the backend's optimality proof is not reliable."""
    info: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def version(self) -> str: ...

    def solve(
        self,
        model: LinModel,
        objective: IntExpr,
        *,
        time_limit: float | None,
        threads: int | None,
        options: dict[str, Any],
        hint: np.ndarray | None,
    ) -> RawResult: ...


def _poly_expr(form: Formulation, lam: float) -> IntExpr:
    coefs = np.rint((form.live_w - lam) / POLY_UNIT).astype(np.int64)
    return IntExpr(form.live_cols, coefs, 0, POLY_UNIT)


def add_poly_budget(model: LinModel, form: Formulation, rho: float) -> None:
    """P ≤ ρ (+TOL) as Σ x (w − ρ − TOL) ≤ 0 (weights rounded to 2^-40)."""
    e = _poly_expr(form, rho + TOL)
    model.add_le(e, 0)


def _floor_units(value: float, unit: float) -> int:
    return int(math.floor(value / unit + 1e-9))


@dataclass
class _Stage:
    quantity: str
    status: str
    value: float | None
    bound: float | None
    wall_s: float
    info: dict[str, Any]


def solve_lex(
    problem: Problem,
    backend: Backend,
    *,
    time_limit: float | None,
    threads: int | None,
    options: dict[str, Any] | None,
) -> Solution:
    """Solve ``problem`` exactly with ``backend`` (see module docstring)."""
    t0 = time.perf_counter()
    opts = dict(options or {})
    formulation = str(opts.pop("formulation", "auto"))
    use_heuristic = bool(opts.pop("heuristic", True))
    pmf, k = problem.pmf, problem.k
    form = build(problem, formulation)
    model = form.model.copy()
    unit = form.scale.unit
    if problem.max_rate is not None:
        model.add_le(form.R, _floor_units(problem.max_rate + TOL, unit) - 0)
    if problem.max_distortion is not None:
        model.add_le(form.D, _floor_units(problem.max_distortion + TOL, unit))
    if problem.max_poly is not None:
        add_poly_budget(model, form, problem.max_poly)
    eps_D = form.scale.error_bound(form.D_spread)
    eps_R = form.scale.error_bound(form.R_spread)
    info: dict[str, Any] = {
        "formulation": form.name,
        **{f"model_{key}": v for key, v in form.info.items()},
        "columns": model.num_cols,
        "rows": len(model.row_cols),
        "prob_scale": form.scale.denominator if form.scale.exact else f"2^{round(-math.log2(unit))}",
        "exact_scaling": form.scale.exact,
        "scaling_error_bound": {"distortion": eps_D, "rate": eps_R},
        "build_s": time.perf_counter() - t0,
    }

    def remaining() -> float | None:
        if time_limit is None:
            return None
        return time_limit - (time.perf_counter() - t0)

    hint: np.ndarray | None = None
    if use_heuristic and form.name == "pattern" and problem.minimize == "distortion":
        th = time.perf_counter()
        table = form.info.get("_table")
        if table is not None:
            budget = 2.0 if time_limit is None else max(0.05, 0.1 * time_limit)
            chosen = local_search(pmf, table, problem.width, time_limit=budget)
            atoms = [int(a) for a in table.atoms_mask[chosen].tolist()]
            atoms += [0] * (problem.width - len(atoms))
            sae = CombinatorialSAE.best_response(pmf, atoms, k, problem.coefficients)
            hint = form.encode(sae)
            if hint is not None:
                info["heuristic_objective"] = sae.evaluate(pmf, k).distortion
        info["heuristic_s"] = time.perf_counter() - th

    stages: list[_Stage] = []
    incumbent: np.ndarray | None = None
    primary_bound: float | None = None
    proven_all = True
    first = True
    for qty in lex_order(problem.minimize):
        rem = remaining()
        if rem is not None and rem <= 0:
            proven_all = False
            stages.append(_Stage(qty, "skipped", None, None, 0.0, {}))
            break
        ts = time.perf_counter()
        if qty in ("distortion", "rate"):
            expr = form.D if qty == "distortion" else form.R
            eps = eps_D if qty == "distortion" else eps_R
            res = _solve(
                backend, model, expr, time_limit=rem, threads=threads, options=opts, hint=incumbent if incumbent is not None else hint
            )
            if res.status == "infeasible":
                _check_infeasible(model, incumbent if incumbent is not None else hint, res)
            if res.x is None:
                stages.append(_Stage(qty, res.status, None, None, time.perf_counter() - ts, res.info))
                if first:
                    return _finish(problem, backend, t0, info, stages, None, None, res.status)
                proven_all = False
                break
            if res.status == "optimal" and res.resolution * unit + eps > MAX_PROOF_TOL:
                res.status = "feasible"
                res.info["not_proven_reason"] = "scaling/tolerance too coarse for a 1e-9 proof"
            incumbent = np.asarray(res.x, dtype=np.float64)
            sae = form.decode(incumbent)
            ev = sae.evaluate(pmf, k)
            val = ev.distortion if qty == "distortion" else ev.rate
            if first:
                if res.status == "optimal":
                    primary_bound = val
                elif res.bound is not None:
                    primary_bound = max(0.0, res.bound * unit - eps - res.resolution * unit)
            stages.append(_Stage(qty, res.status, val, None if res.bound is None else res.bound * unit, time.perf_counter() - ts, res.info))
            # fix this quantity at its optimum (within TOL) for the next stages
            model.add_le(expr, expr.value(incumbent) + _floor_units(TOL, unit))
        else:
            out = _poly_stage(problem, form, model, backend, incumbent, remaining, threads, opts)
            stages.append(_Stage("poly", out["status"], out["value"], out.get("bound"), time.perf_counter() - ts, out["info"]))
            if out["x"] is None:
                if first:
                    return _finish(problem, backend, t0, info, stages, None, None, out["status"])
                proven_all = False
                break
            incumbent = out["x"]
            if first:
                primary_bound = out["value"] if out["status"] == "optimal" else out.get("bound")
            add_poly_budget(model, form, out["value"])
        if stages[-1].status != "optimal":
            proven_all = False
            if first:
                break
        first = False
    if incumbent is None:
        return _finish(problem, backend, t0, info, stages, None, None, "limit")
    sae = form.decode(incumbent)
    status = "optimal" if proven_all else "feasible"
    return _finish(problem, backend, t0, info, stages, sae, primary_bound, status)


def _solve(backend: Backend, model: LinModel, objective: IntExpr, **kw: Any) -> RawResult:
    """``backend.solve``, except that a model without columns (e.g. a support of only the empty event:
    no candidate atom) is decided here: its rows are constants, so it is feasible iff the empty point
    satisfies them, and the objective is its constant (backends report such models as unknown)."""
    if model.num_cols == 0:
        x = np.zeros(0)
        if not model.satisfies(x):
            return RawResult("infeasible", None, None, None, 0.0, {"trivial": True})
        val = float(objective.const)
        return RawResult("optimal", x, val, val, 0.0, {"trivial": True})
    return backend.solve(model, objective, **kw)


def _check_infeasible(model: LinModel, point: np.ndarray | None, res: RawResult) -> None:
    """A backend said INFEASIBLE: if a known point satisfies the model exactly, the answer is wrong."""
    if point is not None and model.satisfies(point):
        res.status = "limit"
        res.info["solver_inconsistency"] = "backend reported infeasible but a known point satisfies the model"
        log.warning("%s", res.info["solver_inconsistency"])


def _poly_stage(
    problem: Problem,
    form: Formulation,
    model: LinModel,
    backend: Backend,
    incumbent: np.ndarray | None,
    remaining,  # noqa: ANN001
    threads: int | None,
    opts: dict[str, Any],
) -> dict[str, Any]:
    """Minimise P over ``model`` by Dinkelbach iterations."""
    pmf, k = problem.pmf, problem.k
    measure = problem.poly_measure
    iters = 0
    info: dict[str, Any] = {}
    if incumbent is None:
        res = _solve(backend, model, _poly_expr(form, 0.0), time_limit=remaining(), threads=threads, options=opts, hint=None)
        iters += 1
        if res.x is None:
            return {"status": res.status, "x": None, "value": None, "info": res.info}
        incumbent = np.asarray(res.x, dtype=np.float64)
        if res.status != "optimal":
            val = form.decode(incumbent).evaluate(pmf, k).poly(measure)
            return {"status": "feasible", "x": incumbent, "value": val, "bound": 0.0, "info": res.info}
    x = incumbent
    lam = form.decode(x).evaluate(pmf, k).poly(measure)
    while True:
        if lam <= 0.0:
            return {"status": "optimal", "x": x, "value": lam, "bound": 0.0, "info": {"dinkelbach_iterations": iters}}
        rem = remaining()
        if rem is not None and rem <= 0:
            return {"status": "feasible", "x": x, "value": lam, "bound": None, "info": {"dinkelbach_iterations": iters}}
        res = _solve(backend, model, _poly_expr(form, lam), time_limit=rem, threads=threads, options=opts, hint=x)
        iters += 1
        if res.status == "infeasible":
            _check_infeasible(model, x, res)
        info = {**res.info, "dinkelbach_iterations": iters}
        if res.x is not None:
            xn = np.asarray(res.x, dtype=np.float64)
            pn = form.decode(xn).evaluate(pmf, k).poly(measure)
            if pn < lam - 1e-12:
                x, lam = xn, pn
                if res.status == "optimal":
                    continue
        if res.status == "optimal":
            return {"status": "optimal", "x": x, "value": lam, "bound": lam, "info": info}
        bound = None
        if res.bound is not None:
            bound = max(0.0, min(lam, lam + res.bound * POLY_UNIT))
        return {"status": "feasible", "x": x, "value": lam, "bound": bound, "info": info}


def _finish(
    problem: Problem,
    backend: Backend,
    t0: float,
    info: dict[str, Any],
    stages: list[_Stage],
    sae: CombinatorialSAE | None,
    bound: float | None,
    status: str,
) -> Solution:
    info = {key: v for key, v in info.items() if not key.startswith("model__")}
    info["stages"] = [
        {"quantity": s.quantity, "status": s.status, "value": s.value, "bound": s.bound, "wall_s": s.wall_s, **s.info}
        for s in stages
    ]
    wall = time.perf_counter() - t0
    if sae is None:
        st = Status.INFEASIBLE if status == "infeasible" else Status.LIMIT
        return Solution(problem, st, backend.name, backend.version(), wall, info=info)
    ev: Evaluation = sae.evaluate(problem.pmf, problem.k)
    obj = {"distortion": ev.distortion, "rate": ev.rate, "poly": ev.poly(problem.poly_measure)}[problem.minimize]
    if not within_budgets(problem, ev.rate, ev.distortion, ev.poly(problem.poly_measure)):
        info["budget_violation"] = "scaled model accepted an SAE outside the budgets (rounding); not proven"
        status = "feasible"
    if status == "optimal":
        st = Status.OPTIMAL
        bound = obj
    else:
        st = Status.LIMIT
    if bound is not None:
        bound = min(bound, obj)
    return Solution(
        problem,
        st,
        backend.name,
        backend.version(),
        wall,
        objective=obj,
        bound=bound,
        gap=relative_gap(obj, bound),
        sae=sae,
        evaluation=ev,
        info=info,
    )


__all__ = ["Backend", "RawResult", "solve_lex", "p_free"]
