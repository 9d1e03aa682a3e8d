"""Lexicographic driver shared by the HiGHS, CP-SAT and SCIP backends (DESIGN §1.4, C-AG, C-L1).

The query's quantities are minimised in ``lex_order(problem.minimize)``: each stage fixes the previous
optimum (≤ value + TOL, in the scaled integer units of :class:`~rdp_exact.solvers.candidates.ProbScale`) and
minimises the next. D and R are linear; P (a mean over live latents) is minimised by Dinkelbach's method:
with λ = P(incumbent), minimise Σ x (w − λ); a negative optimum gives a better incumbent, a non-negative
one proves P ≥ λ for every feasible SAE (exact for fractional objectives; weights rounded to 2^-40, so the
proof holds up to m·2^-41). Every returned SAE is re-evaluated exactly with ``sae.evaluate(pmf, k)``.

Time limits: the limit covers building the formulation, the warm start and every engine call; building
checks the deadline (:class:`~rdp_exact.solvers.limits.BuildInterrupted`), and a build cut short returns
status ``limit`` with whatever is known. An incumbent is never dropped: when an engine stops without a
solution the warm start is kept. D, R and P are ≥ 0, so a stage whose incumbent has value 0 is proven by
that trivial bound even when the engine ran out of time (``info.trivial_bound``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rdp_exact.problem import TOL, Problem, Solution, Status, lex_order, relative_gap, within_budgets
from rdp_exact.sae import CombinatorialSAE, Evaluation, ThresholdUnit
from rdp_exact.solvers.candidates import local_search, p_free
from rdp_exact.solvers.info import MipInfo, StageInfo
from rdp_exact.solvers.limits import BuildInterrupted, TimeBudget, interrupt_at
from rdp_exact.solvers.mip_model import Formulation, IntExpr, LinModel, build

log = logging.getLogger(__name__)

#: Scale of P weights (w − ρ) in integer rows/objectives.
POLY_UNIT = 2.0**-40
#: A returned point worth more than this (true units) away from the engine's reported objective is a wrong point.
POINT_MISMATCH = 1e-6
#: Largest proof tolerance (true units) that may still be reported as OPTIMAL.
MAX_PROOF_TOL = 0.5 * TOL


@dataclass
class RawResult:
    """What a backend returns for one model solve."""

    status: Status
    """OPTIMAL (proven), FEASIBLE (stopped with an incumbent), LIMIT (stopped without one), INFEASIBLE."""
    x: np.ndarray | None
    objective: float | None
    """Objective of the incumbent, integer units."""
    bound: float | None
    """Best bound, integer units."""
    resolution: float
    """Objective difference (integer units) below which the backend's optimality proof is not reliable."""
    info: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """One MIP engine: solves a :class:`LinModel` for one objective within ``time_limit`` seconds (the
    limit covers handing the model to the engine; raise :class:`BuildInterrupted` if it runs out first)."""

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
    budget = TimeBudget.after(time_limit)
    opts = dict(options or {})
    formulation = str(opts.pop("formulation", "auto"))
    use_heuristic = bool(opts.pop("heuristic", True))
    pmf, k = problem.pmf, problem.k
    meta: dict[str, Any] = {}
    why = trivially_empty(problem)
    if why is not None:
        meta.update(formulation=formulation, trivial_bound=why)
        return _finish(problem, backend, t0, meta, [], empty_sae(problem), None, Status.OPTIMAL)
    if _nothing_can_fire(problem) and problem.max_distortion is not None:  # and the all-dead SAE misses δ
        meta.update(formulation=formulation, trivial_bound="the rate budget forbids any firing and the all-dead "
                    "SAE exceeds the distortion budget: infeasible")
        return _finish(problem, backend, t0, meta, [], None, None, Status.INFEASIBLE)
    try:
        with interrupt_at(budget, "building the model"):
            form = build(problem, formulation, deadline=budget.at)
    except (BuildInterrupted, TimeoutError) as exc:  # TimeoutError: a pattern enumeration cut short
        meta.update(formulation=formulation, build_s=time.perf_counter() - t0, build_interrupted=str(exc))
        return _finish(problem, backend, t0, meta, [], None, None, Status.LIMIT)
    model = form.model.copy()
    unit = form.scale.unit
    if problem.max_rate is not None:
        model.add_le(form.R, _floor_units(problem.max_rate + TOL, unit))
    if problem.max_distortion is not None:
        model.add_le(form.D, _floor_units(problem.max_distortion + TOL, unit))
    if problem.max_poly is not None:
        add_poly_budget(model, form, problem.max_poly)
    eps_D = form.scale.error_bound(form.D_spread)
    eps_R = form.scale.error_bound(form.R_spread)
    meta.update(
        formulation=form.name,
        model={key: v for key, v in form.info.items() if not key.startswith("_")},
        columns=model.num_cols,
        rows=len(model.row_cols),
        prob_scale=form.scale.denominator if form.scale.exact else f"2^{round(-math.log2(unit))}",
        exact_scaling=form.scale.exact,
        scaling_error_bound={"distortion": eps_D, "rate": eps_R},
        build_s=time.perf_counter() - t0,
    )

    hint: np.ndarray | None = None
    if use_heuristic and form.name == "pattern" and problem.minimize == "distortion" and not budget.expired():
        th = time.perf_counter()
        table = form.info.get("_table")
        if table is not None:
            heur = 2.0 if time_limit is None else max(0.05, 0.1 * time_limit)
            rem = budget.remaining()
            if rem is not None:
                heur = min(heur, max(rem, 0.0))
            chosen = local_search(pmf, table, problem.width, time_limit=heur)
            atoms = [int(a) for a in table.atoms_mask[chosen].tolist()]
            atoms += [0] * (problem.width - len(atoms))
            sae = CombinatorialSAE.best_response(pmf, atoms, k, problem.coefficients)
            hint = form.encode(sae)
            if hint is not None:
                meta["heuristic_objective"] = sae.evaluate(pmf, k).distortion
        meta["heuristic_s"] = time.perf_counter() - th

    stages: list[StageInfo] = []
    incumbent: np.ndarray | None = None
    primary_bound: float | None = None
    proven_all = True
    first = True
    for qty in lex_order(problem.minimize):
        rem = budget.remaining()
        ts = time.perf_counter()
        if qty in ("distortion", "rate"):
            expr = form.D if qty == "distortion" else form.R
            eps = eps_D if qty == "distortion" else eps_R
            start = incumbent if incumbent is not None else hint
            if rem is not None and rem <= 0:
                res = RawResult(Status.LIMIT, None, None, None, 0.0, {"skipped": "no time left"})
            else:
                res = _solve(backend, model, expr, time_limit=rem, threads=threads, options=opts, hint=start,
                             check_point=True)
            if res.status is Status.INFEASIBLE:
                _check_infeasible(model, start, res)
            if res.x is None and res.status is not Status.INFEASIBLE and start is not None and model.satisfies(start):
                # the engine stopped without a solution: keep the warm start / previous stage's incumbent
                res.x, res.status = np.asarray(start, dtype=np.float64), Status.FEASIBLE
                res.info["kept_incumbent"] = "warm start" if incumbent is None else "previous stage"
            if res.x is None:
                stages.append(_stage(qty, res.status, None, None, ts, res.info))
                if first:
                    return _finish(problem, backend, t0, meta, stages, None, None, res.status)
                proven_all = False
                break
            if res.status is Status.OPTIMAL and res.resolution * unit + eps > MAX_PROOF_TOL:
                res.status = Status.FEASIBLE
                res.info["not_proven_reason"] = "scaling/tolerance too coarse for a 1e-9 proof"
            incumbent = np.asarray(res.x, dtype=np.float64)
            ev = form.decode(incumbent).evaluate(pmf, k)
            val = ev.distortion if qty == "distortion" else ev.rate
            if res.status is not Status.OPTIMAL and val <= 0.0:
                res.status = Status.OPTIMAL  # D, R ≥ 0: an incumbent with value 0 is optimal
                meta["trivial_bound"] = f"{qty} = 0 is optimal (every SAE has {qty} ≥ 0)"
            if first:
                if res.status is Status.OPTIMAL:
                    primary_bound = val
                elif res.bound is not None:
                    primary_bound = max(0.0, res.bound * unit - eps - res.resolution * unit)
            stages.append(_stage(qty, res.status, val, None if res.bound is None else res.bound * unit, ts, res.info))
            # fix this quantity at its optimum (within TOL) for the next stages
            model.add_le(expr, expr.value(incumbent) + _floor_units(TOL, unit))
        else:
            if rem is not None and rem <= 0 and incumbent is None:
                stages.append(_stage(qty, "skipped", None, None, ts, {}))
                proven_all = False
                break
            out = _poly_stage(problem, form, model, backend, incumbent, budget.remaining, threads, opts)
            if out["x"] is not None and out["status"] is not Status.OPTIMAL and out["value"] <= 0.0:
                out["status"], out["bound"] = Status.OPTIMAL, 0.0
                meta["trivial_bound"] = "poly = 0 is optimal (every SAE has P ≥ 0)"
            stages.append(_stage("poly", out["status"], out["value"], out.get("bound"), ts, out["info"]))
            if out["x"] is None:
                if first:
                    return _finish(problem, backend, t0, meta, stages, None, None, out["status"])
                proven_all = False
                break
            incumbent = out["x"]
            if first:
                primary_bound = out["value"] if out["status"] is Status.OPTIMAL else out.get("bound")
            add_poly_budget(model, form, out["value"])
        if stages[-1].status != Status.OPTIMAL:
            proven_all = False
            if first:
                break
        first = False
    if incumbent is None:
        return _finish(problem, backend, t0, meta, stages, None, None, Status.LIMIT)
    sae = form.decode(incumbent)
    return _finish(problem, backend, t0, meta, stages, sae, primary_bound,
                   Status.OPTIMAL if proven_all else Status.FEASIBLE)


def trivially_empty(problem: Problem) -> str | None:
    """Why the all-dead SAE (R = 0, D = E|S|, P = 0) is the canonical optimum, or None.

    It is when it meets the budgets (D budget ≥ E|S|) and either R is minimised (R = 0 is the trivial lower
    bound; nothing firing forces D = E|S| and P = 0) or the rate budget is below every event probability
    (no latent can fire at all, so it is the only SAE)."""
    es = problem.pmf.expected_sparsity()
    if problem.max_distortion is not None and es > problem.max_distortion + TOL:
        return None
    if problem.minimize == "rate":
        return "R = 0 is optimal (every SAE has R ≥ 0) and the all-dead SAE meets the budgets"
    if _nothing_can_fire(problem):
        return "the rate budget is below every event probability: only the all-dead SAE is feasible"
    return None


def _nothing_can_fire(problem: Problem) -> bool:
    """Whether the rate budget is below every event probability (any firing costs R ≥ π_S > r + TOL)."""
    probs = problem.pmf.probs
    return problem.max_rate is not None and len(probs) > 0 and problem.max_rate + TOL < float(min(probs))


def empty_sae(problem: Problem) -> CombinatorialSAE:
    """The width-m SAE whose latents never fire."""
    n, m = problem.pmf.n, problem.width
    if problem.encoder == "threshold":
        dead = ThresholdUnit(tuple([0] * n), 1)
        return CombinatorialSAE.threshold(n, [0] * m, [dead] * m, problem.coefficients)
    return CombinatorialSAE.free(n, [0] * m, {}, problem.coefficients)


def _stage(qty: str, status: Status | str, value: float | None, bound: float | None, ts: float,
           engine: dict[str, Any]) -> StageInfo:
    return StageInfo(quantity=qty, status=str(status), value=value, bound=bound,
                     wall_s=time.perf_counter() - ts, engine=dict(engine))


def _solve(backend: Backend, model: LinModel, objective: IntExpr, *, check_point: bool = False,
           **kw: Any) -> RawResult:
    """``backend.solve``, except that a model without columns (e.g. a support of only the empty event:
    no candidate atom) is decided here: its rows are constants, so it is feasible iff the empty point
    satisfies them, and the objective is its constant (backends report such models as unknown). A model
    hand-over cut short by the deadline is a LIMIT without a solution."""
    if model.num_cols == 0:
        x = np.zeros(0)
        if not model.satisfies(x):
            return RawResult(Status.INFEASIBLE, None, None, None, 0.0, {"trivial": True})
        val = float(objective.const)
        return RawResult(Status.OPTIMAL, x, val, val, 0.0, {"trivial": True})
    t0 = time.perf_counter()
    try:
        res = backend.solve(model, objective, **kw)
        if check_point and _point_disagrees(res, objective) and kw.get("hint") is not None:
            # HiGHS 1.16 given a warm start can report the optimum's objective with the warm-start point
            # (seen through highspy and Pyomo/appsi): solve again without the hint, in the time left
            assert res.x is not None
            note = f"the engine's point was worth {objective.value(res.x)} units, its reported objective {res.objective}"
            limit = kw.get("time_limit")
            left = None if limit is None else max(float(limit) - (time.perf_counter() - t0), 1e-3)
            res = backend.solve(model, objective, **{**kw, "hint": None, "time_limit": left})
            res.info["resolved_without_hint"] = note
    except BuildInterrupted as exc:
        return RawResult(Status.LIMIT, None, None, None, 0.0, {"interrupted": str(exc)})
    if check_point and _point_disagrees(res, objective):
        # never trust the engine's objective over the point it returned: keep the point, report its own value
        assert res.x is not None
        log.warning("%s returned a point worth %s units while reporting %s; not a proof", backend.name,
                    objective.value(res.x), res.objective)
        res.info["point_mismatch"] = f"point worth {objective.value(res.x)} units, reported {res.objective}"
        res.objective = float(objective.value(res.x))
        if res.status is Status.OPTIMAL:
            res.status = Status.FEASIBLE
    return res


def _point_disagrees(res: RawResult, objective: IntExpr) -> bool:
    """Whether the returned point's exact objective (integer units) differs from the reported one by more than
    :data:`POINT_MISMATCH` in true units (the engine's float objective carries rounding error of ~1e−9 on
    large integer scales, far below any real disagreement). Used for the D and R stages; the P stages' objectives
    (units of 2^-40, Dinkelbach) are checked by re-evaluation in their own loop."""
    if res.x is None or res.objective is None:
        return False
    diff = abs(objective.value(res.x) - res.objective)
    return diff > max(0.5, res.resolution) and diff * objective.unit > POINT_MISMATCH


def _check_infeasible(model: LinModel, point: np.ndarray | None, res: RawResult) -> None:
    """A backend said INFEASIBLE: if a known point satisfies the model exactly, the answer is wrong."""
    if point is not None and model.satisfies(point):
        res.status = Status.LIMIT
        res.info["solver_inconsistency"] = "backend reported infeasible but a known point satisfies the model"
        log.warning("%s", res.info["solver_inconsistency"])


def _poly_stage(
    problem: Problem,
    form: Formulation,
    model: LinModel,
    backend: Backend,
    incumbent: np.ndarray | None,
    remaining: Callable[[], float | None],
    threads: int | None,
    opts: dict[str, Any],
) -> dict[str, Any]:
    """Minimise P over ``model`` by Dinkelbach iterations."""
    pmf, k = problem.pmf, problem.k
    measure = problem.poly_measure
    iters = 0
    info: dict[str, Any] = {}
    if incumbent is None:
        res = _solve(backend, model, _poly_expr(form, 0.0), time_limit=remaining(), threads=threads, options=opts,
                     hint=None)
        iters += 1
        if res.x is None:
            return {"status": res.status, "x": None, "value": None, "info": res.info}
        incumbent = np.asarray(res.x, dtype=np.float64)
        if res.status is not Status.OPTIMAL:
            val = form.decode(incumbent).evaluate(pmf, k).poly(measure)
            return {"status": Status.FEASIBLE, "x": incumbent, "value": val, "bound": 0.0, "info": res.info}
    x = incumbent
    lam = form.decode(x).evaluate(pmf, k).poly(measure)
    while True:
        if lam <= 0.0:
            return {"status": Status.OPTIMAL, "x": x, "value": lam, "bound": 0.0,
                    "info": {"dinkelbach_iterations": iters}}
        rem = remaining()
        if rem is not None and rem <= 0:
            return {"status": Status.FEASIBLE, "x": x, "value": lam, "bound": None,
                    "info": {"dinkelbach_iterations": iters}}
        res = _solve(backend, model, _poly_expr(form, lam), time_limit=rem, threads=threads, options=opts, hint=x)
        iters += 1
        if res.status is Status.INFEASIBLE:
            _check_infeasible(model, x, res)
        info = {**res.info, "dinkelbach_iterations": iters}
        if res.x is not None:
            xn = np.asarray(res.x, dtype=np.float64)
            pn = form.decode(xn).evaluate(pmf, k).poly(measure)
            if pn < lam - 1e-12:
                x, lam = xn, pn
                if res.status is Status.OPTIMAL:
                    continue
        if res.status is Status.OPTIMAL:
            return {"status": Status.OPTIMAL, "x": x, "value": lam, "bound": lam, "info": info}
        bound = None
        if res.bound is not None:
            bound = max(0.0, min(lam, lam + res.bound * POLY_UNIT))
        return {"status": Status.FEASIBLE, "x": x, "value": lam, "bound": bound, "info": info}


def _finish(
    problem: Problem,
    backend: Backend,
    t0: float,
    meta: dict[str, Any],
    stages: list[StageInfo],
    sae: CombinatorialSAE | None,
    bound: float | None,
    status: Status,
) -> Solution:
    wall = time.perf_counter() - t0
    if sae is None:
        st = Status.INFEASIBLE if status is Status.INFEASIBLE else Status.LIMIT
        return Solution(problem, st, backend.name, backend.version(), wall, info=_info(meta, stages))
    ev: Evaluation = sae.evaluate(problem.pmf, problem.k)
    obj = {"distortion": ev.distortion, "rate": ev.rate, "poly": ev.poly(problem.poly_measure)}[problem.minimize]
    if not within_budgets(problem, ev.rate, ev.distortion, ev.poly(problem.poly_measure)):
        meta["budget_violation"] = "scaled model accepted an SAE outside the budgets (rounding); not proven"
        status = Status.FEASIBLE
    if status is Status.OPTIMAL:
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
        info=_info(meta, stages),
    )


def _info(meta: dict[str, Any], stages: list[StageInfo]) -> MipInfo:
    return MipInfo(**meta, stages=tuple(stages))


__all__ = ["Backend", "RawResult", "solve_lex", "p_free"]
