"""C-T3 (monotonicity): check, strategy, mutants and scope."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from proofs_check.claims.base import (
    FREE,
    Claim,
    Classes,
    Mutant,
    problem_value,
    triple,
    violation,
)
from proofs_check.strategies import (
    ALL_CLASSES,
    Instance,
    budget_values,
    distortion_upper,
    instances,
    optional,
    poly_budgets,
    queries,
    rate_upper,
)
from rdp_exact.problem import TOL, Status

_LOOSENABLE = {
    "rate": ("max_distortion", "max_poly"),
    "distortion": ("max_rate", "max_poly"),
    "poly": ("max_rate", "max_distortion"),
}


@st.composite
def _t3_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(queries(instances(classes=classes)))
    param = draw(st.sampled_from(_LOOSENABLE[inst.minimize]), label="loosened budget")
    if param == "max_poly":
        other = draw(optional(poly_budgets()))
    elif param == "max_rate":
        other = draw(optional(budget_values(inst.pmf, rate_upper(inst))))
    else:
        other = draw(optional(budget_values(inst.pmf, distortion_upper(inst))))
    a = getattr(inst, param)
    key = lambda v: math.inf if v is None else v  # noqa: E731
    tight, loose = sorted([a, other], key=key)
    return inst.with_(**{param: tight}, extra={"param": param, "looser": loose})


def _t3_values(inst: Instance) -> tuple[float, float, str]:
    param, loose = inst.extra["param"], inst.extra["looser"]
    v_tight, _ = problem_value(inst)
    v_loose, _ = problem_value(inst, **{param: loose})
    what = {"rate": "R*", "distortion": "D*", "poly": "P*"}[inst.minimize]
    txt = f"{what} = {v_tight!r} at {param} = {getattr(inst, param)!r} but {v_loose!r} at the looser {param} = {loose!r}"
    return v_tight, v_loose, txt


def check_t3(inst: Instance) -> None:
    """C-T3: loosening one budget never raises the optimum (∞ = infeasible)."""
    v_tight, v_loose, txt = _t3_values(inst)
    violation(v_loose <= v_tight + TOL, f"not non-increasing: {txt}")


def check_t3_mutant(inst: Instance) -> None:
    """Mutant: the optimum is non-DEcreasing in each budget."""
    v_tight, v_loose, txt = _t3_values(inst)
    violation(v_loose >= v_tight - TOL, f"not non-decreasing: {txt}")


def check_t3_argmin_mutant(inst: Instance) -> None:
    """Near miss: the optimal SAE, not only the optimal value, is monotone — loosening a budget never
    raises any of the canonical optimum's (D, R, P)."""
    param, loose = inst.extra["param"], inst.extra["looser"]
    _, tight = problem_value(inst)
    _, looser = problem_value(inst, **{param: loose})
    if tight.status is Status.INFEASIBLE or looser.status is Status.INFEASIBLE:
        return
    a, b = triple(tight), triple(looser)
    violation(all(y <= x + TOL for x, y in zip(a, b, strict=True)),
              f"(D, R, P) = {a} at {param} = {getattr(inst, param)!r}, {b} at the looser {loose!r}")


def _t3_replay(inst: Instance, path: str) -> list[str]:
    return [inst.solve_command(path), inst.solve_command(path, **{inst.extra["param"]: inst.extra["looser"]})]


CLAIM = Claim(
    id="C-T3",
    title="Monotonicity",
    statement="R*(δ, ρ_P), D*(r, ρ_P) and P*(r, δ) are non-increasing in each of their budgets.",
    check=check_t3,
    strategy=lambda cl: _t3_draws(cl),
    applies_to=ALL_CLASSES,
    scope="Every class (free, threshold) and mode (integer, disjoint), every objective and every budget, "
    "infeasible = +∞; optimal values only (the optimal SAE's other coordinates may move either way).",
    mutants=(
        Mutant("the optima are non-decreasing in their budgets", check_t3_mutant, lambda: _t3_draws(FREE)),
        Mutant("the canonical optimal SAE is monotone too: loosening a budget never raises its D, R or P",
               check_t3_argmin_mutant, lambda: _t3_draws(FREE), name="argmin", near_miss=True),
    ),
    replay=_t3_replay,
    ci_examples=100,
)
