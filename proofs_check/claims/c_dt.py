"""C-DT (distortion tax, the dual of C-T4): check, strategy, mutants and scope.

At a rate budget r, a monosemantic SAE of width m and cap k has
D ≥ D*_mono(r) = min{D ∈ 𝒟_mono(m, k) : D ≥ E|S| − r} ≥ max(D_min, E|S| − r), and an omission code
attains it (C-T5 with the conservation law C-P2: an omission code has R = E|S| − D). The distortion
tax is D*_mono(r) − D*(r) ≥ 0, D*(r) the optimum over all SAEs with R ≤ r. The reference is brute
force (``--minimize distortion --max-rate r --max-poly 0``) and the set DP of
:func:`proofs_check.reference.retained_masses`; :func:`rdp_exact.theory.distortion_tax` is checked
against both.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import FREE, Claim, Classes, Mutant, close, problem_value, violation
from proofs_check.strategies import Instance, budget_values, instances, rate_upper


@st.composite
def _dt_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(instances(classes=classes, max_support=10))
    kind = draw(st.integers(0, 2), label="rate budget kind")
    if kind == 0:  # exactly on, or just below, a retained mass: the staircase's corners
        rho = draw(st.sampled_from(ref.retained_masses(inst.pmf, inst.width, inst.k)), label="retained mass")
        r = max(0.0, rho - 1e-7) if draw(st.booleans(), label="just below") else rho
    else:
        r = draw(budget_values(inst.pmf, rate_upper(inst)))
    return inst.with_(minimize="distortion", max_rate=float(r), max_poly=0.0)


def _reference(inst: Instance, k: int | None) -> float:
    """E|S| − max{ρ ∈ retained masses : ρ ≤ r} (the empty code retains 0, so the set is never empty)."""
    r = float(inst.max_rate)  # type: ignore[arg-type]
    below = [x for x in ref.retained_masses(inst.pmf, inst.width, k) if x <= r + 1e-9]
    return max(0.0, inst.pmf.expected_sparsity() - max(below))


def check_dt(inst: Instance) -> None:
    """C-DT: brute D*(r, P = 0) = the closed form = theory.min_mono_distortion ≥ max(D_min, E|S| − r);
    at any cap k' ≥ k, D*(r, 0) ≥ the uncapped closed form; the tax D*(r, 0) − D*(r) ≥ 0 and
    theory.distortion_tax agrees."""
    from rdp_exact import theory

    pmf, m, k = inst.pmf, inst.width, inst.k
    r = float(inst.max_rate)  # type: ignore[arg-type]
    expected = _reference(inst, k)
    d_mono, _ = problem_value(inst)
    violation(close(d_mono, expected), f"brute D*(r={r!r}, P = 0) = {d_mono!r}, closed form {expected!r}")
    got = theory.min_mono_distortion(pmf, m, r, k=k)
    violation(close(got, expected), f"theory.min_mono_distortion(r={r!r}) = {got!r}, reference {expected!r}")
    floor = max(ref.d_min_formula(pmf, m, k), pmf.expected_sparsity() - r)
    violation(d_mono >= floor - 1e-9, f"D*(r, 0) = {d_mono!r} below max(D_min, E|S| − r) = {floor!r}")
    any_cap = _reference(inst, None)
    for cap in range(k, m + 1):
        d_cap, _ = problem_value(inst, k=cap)
        violation(d_cap >= any_cap - 1e-9, f"at cap {cap}, D*(r={r!r}, 0) = {d_cap!r} < uncapped closed form {any_cap!r}")
    d_star, _ = problem_value(inst, max_poly=None)
    violation(d_mono - d_star >= -1e-9, f"negative distortion tax: D*(r, 0) = {d_mono!r} < D*(r) = {d_star!r}")
    dt = theory.distortion_tax(pmf, m, k, r, d_star)
    violation(close(dt.d_mono, expected) and close(dt.d_mono_any_cap, any_cap) and close(dt.tax, expected - d_star)
              and close(dt.lower_bound, floor) and dt.lower_bound <= dt.d_mono + 1e-9,
              f"theory.distortion_tax = {dt.to_dict()}, expected d_mono {expected!r}, any cap {any_cap!r}, "
              f"tax {expected - d_star!r}, lower bound {floor!r}")


def check_dt_floor_mutant(inst: Instance) -> None:
    """Near miss: the lower bound is always attained — D*_mono(r) = max(D_min, E|S| − r)."""
    pmf, m, k = inst.pmf, inst.width, inst.k
    r = float(inst.max_rate)  # type: ignore[arg-type]
    floor = max(ref.d_min_formula(pmf, m, k), pmf.expected_sparsity() - r)
    d_mono, _ = problem_value(inst)
    violation(close(d_mono, floor), f"D*(r={r!r}, 0) = {d_mono!r} ≠ max(D_min, E|S| − r) = {floor!r}")


def check_dt_strict_mutant(inst: Instance) -> None:
    """Near miss (staircase shifted by one step): the rate budget read strictly, D*_mono(r) =
    E|S| − max{ρ retained : ρ < r}."""
    r = float(inst.max_rate)  # type: ignore[arg-type]
    below = [x for x in ref.retained_masses(inst.pmf, inst.width, inst.k) if x < r - 1e-9]
    wrong = inst.pmf.expected_sparsity() - max(below) if below else math.inf
    d_mono, _ = problem_value(inst)
    violation(close(d_mono, wrong), f"D*(r={r!r}, 0) = {d_mono!r}, strict-budget staircase gives {wrong!r}")


CLAIM = Claim(
    id="C-DT",
    title="Distortion tax",
    statement="At a rate budget r, the least distortion of a monosemantic width-m SAE with cap k is "
    "D*_mono(r) = min{D ∈ 𝒟_mono(m, k) : D ≥ E|S| − r} ≥ max(D_min, E|S| − r) (attained, not a bound "
    "only); with no cap the same formula over uncapped omission codes bounds every cap; the distortion "
    "tax D*_mono(r) − D*(r) is ≥ 0.",
    check=check_dt,
    strategy=lambda cl: _dt_draws(cl),
    applies_to=FREE,
    scope="Free class, both modes, any m, k and rate budget r ≥ 0 (P budget 0 for the monosemantic "
    "side). In the threshold class the omission codes are not all realisable (see C-T5), so the closed "
    "form is only a lower bound there.",
    mutants=(
        Mutant("the lower bound is always attained: D*_mono(r) = max(D_min, E|S| − r)", check_dt_floor_mutant,
               lambda: _dt_draws(FREE), name="floor-attained", near_miss=True),
        Mutant("staircase shifted by one step: the rate budget read strictly (ρ < r)", check_dt_strict_mutant,
               lambda: _dt_draws(FREE), name="strict-budget", near_miss=True),
    ),
    ci_examples=80,
)
