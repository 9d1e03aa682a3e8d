"""C-T4 (rate tax): check, strategy, mutants and scope."""

from __future__ import annotations

import math

from hypothesis import assume
from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import (
    EQ_TOL,
    FREE,
    Claim,
    Classes,
    Mutant,
    close,
    problem_value,
    violation,
)
from proofs_check.strategies import (
    ALL_CLASSES,
    Instance,
    instances,
)
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import TOL, Status


def _t4_draws(classes: Classes) -> st.SearchStrategy[Instance]:
    return instances(classes=classes, min_n=2, max_support=10)


def _t4_setup(inst: Instance) -> tuple[float, float, float, float | None]:
    """(E|S|, D*_k, rate of the optimum, D̄) — assumes D*_k < D_min (the claim's hypothesis)."""
    pmf, m, k = inst.pmf, inst.width, inst.k
    d_star, sol = problem_value(inst, minimize="distortion", max_rate=None, max_distortion=None, max_poly=None)
    d_min = ref.d_min_formula(pmf, m, k)
    assume(d_star < d_min - 1e-12)
    below = [d for d in ref.omission_distortions(pmf, m, None) if d <= d_star + TOL]
    return pmf.expected_sparsity(), d_star, float(sol.rate), (max(below) if below else None)


def check_t4(inst: Instance) -> None:
    """C-T4: every monosemantic width-m SAE with D ≤ D*_k, at any cap k' ≥ k, has R ≥ E|S| − D̄ ≥ E|S| − D*_k;
    the tax R*(D*_k, 0) − R_opt is ≥ 0; theory.rate_tax agrees."""
    from rdp_exact import theory

    es, d_star, r_opt, d_bar = _t4_setup(inst)
    m, k = inst.width, inst.k
    bound = math.inf if d_bar is None else es - d_bar
    violation(d_bar is None or d_bar <= d_star + TOL, f"D̄ = {d_bar!r} > D*_k = {d_star!r}")
    for cap in range(k, m + 1):
        r_mono, _ = problem_value(inst, k=cap, minimize="rate", max_rate=None, max_distortion=d_star, max_poly=0.0)
        violation(
            r_mono >= bound - EQ_TOL,
            f"a monosemantic SAE at cap {cap} reaches D ≤ D*_k = {d_star!r} with R = {r_mono!r} < E|S| − D̄ = {bound!r}",
        )
    r_free, _ = problem_value(inst, k=m, minimize="rate", max_rate=None, max_distortion=d_star, max_poly=0.0)
    violation(r_free - r_opt >= -EQ_TOL,
              f"negative rate tax: monosemantic R*(D*_k, 0) = {r_free!r} (any cap) < R_opt = {r_opt!r}")
    rt = theory.rate_tax(inst.pmf, m, k, d_star, r_opt)
    violation(rt is not None, f"theory.rate_tax returned None although D*_k = {d_star!r} < D_min")
    assert rt is not None
    both_none = rt.d_bar is None and d_bar is None
    violation(both_none or (rt.d_bar is not None and d_bar is not None and close(rt.d_bar, d_bar)),
              f"theory.rate_tax D̄ = {rt.d_bar!r}, reference {d_bar!r}")
    violation(close(rt.rate_lower_bound, bound), f"theory.rate_tax bound = {rt.rate_lower_bound!r}, reference {bound!r}")
    violation(math.isinf(bound) or close(rt.tax, bound - r_opt), f"theory.rate_tax tax = {rt.tax!r}, expected {bound - r_opt!r}")
    _t4_strict(inst, d_star, d_bar)


def _t4_strict(inst: Instance, d_star: float, d_bar: float | None) -> None:
    """The strict form R > E|S| − D*_k holds iff D̄ < D*_k, i.e. iff D*_k itself is not the distortion
    of an uncapped omission code: then every monosemantic SAE with D ≤ D*_k has R ≥ E|S| − D̄ >
    E|S| − D*_k. When D̄ = D*_k the free class attains equality (an uncapped omission code at cap m)."""
    es = inst.pmf.expected_sparsity()
    if inst.encoder != "free" or d_bar is None or d_bar < d_star - TOL:
        return
    r_cap_m, _ = problem_value(inst, k=inst.width, minimize="rate", max_rate=None, max_distortion=d_star,
                               max_poly=0.0)
    violation(close(r_cap_m, es - d_star, 1e-8),
              f"D̄ = D*_k = {d_star!r} but the best monosemantic SAE at cap m has R = {r_cap_m!r} ≠ E|S| − D*_k = "
              f"{es - d_star!r} (equality case)")


def check_t4_mutant(inst: Instance) -> None:
    """Mutant: the tax can be paid without raising the cap (a monosemantic SAE at cap k reaches D*_k)."""
    es, d_star, r_opt, d_bar = _t4_setup(inst)
    r_mono, _ = problem_value(inst, minimize="rate", max_rate=None, max_distortion=d_star, max_poly=0.0)
    violation(math.isfinite(r_mono), f"no monosemantic SAE at cap k = {inst.k} has D ≤ D*_k = {d_star!r}")


def _min_mass(inst: Instance) -> float:
    return min(float(p) for ev, p in inst.pmf.items() if ev)


def check_t4_off_by_mass_mutant(inst: Instance) -> None:
    """Near miss: the bound off by one event's mass — R ≥ E|S| − D̄ + min_S π(S) for every monosemantic
    SAE with D ≤ D*_k (at any cap)."""
    es, d_star, _, d_bar = _t4_setup(inst)
    if d_bar is None:
        return
    bound = es - d_bar + _min_mass(inst)
    r_mono, _ = problem_value(inst, k=inst.width, minimize="rate", max_rate=None, max_distortion=d_star, max_poly=0.0)
    violation(r_mono >= bound - EQ_TOL, f"a monosemantic SAE at cap m has R = {r_mono!r} < E|S| − D̄ + min π = {bound!r}")


def check_t4_strict_mutant(inst: Instance) -> None:
    """Near miss: the paper's strict form always holds — every monosemantic SAE with D ≤ D*_k has
    R > E|S| − D*_k."""
    es, d_star, _, _ = _t4_setup(inst)
    r_mono, _ = problem_value(inst, k=inst.width, minimize="rate", max_rate=None, max_distortion=d_star, max_poly=0.0)
    violation(r_mono > es - d_star + EQ_TOL,
              f"a monosemantic SAE at cap m reaches D ≤ D*_k = {d_star!r} with R = {r_mono!r} = E|S| − D*_k (not >)")


def _t4_witness_equality() -> Instance:
    """π = {{0,1}: 1}, m = 2, k = 1: D*_1 = 0 (one latent with atom {0,1}), D_min = 1, and the uncapped
    omission code reconstructing {0,1} has D = 0 = D*_1, so D̄ = D*_k and R = 2 = E|S| − D*_k exactly."""
    pmf = ConceptPMF.from_events(2, [(3, 1.0)])
    return Instance(pmf=pmf, width=2, k=1, encoder="free", coefficients="integer")


def _t4_replay(inst: Instance, path: str) -> list[str]:
    base = inst.problem(minimize="distortion", max_rate=None, max_distortion=None, max_poly=None)
    first = inst.solve_command(path, minimize="distortion", max_rate=None, max_distortion=None, max_poly=None)
    sol = ref.optimum(base)
    if sol.status is Status.INFEASIBLE:
        return [first]
    d_star = float(sol.objective)  # type: ignore[arg-type]
    return [first] + [
        inst.solve_command(path, k=cap, minimize="rate", max_rate=None, max_distortion=d_star, max_poly=0.0)
        for cap in range(inst.k, inst.width + 1)
    ]


CLAIM = Claim(
    id="C-T4",
    title="Rate tax",
    statement="If D*_k < D_min, every monosemantic width-m SAE with D ≤ D*_k, whatever its cap, has "
    "R ≥ E|S| − D̄ ≥ E|S| − D*_k (D̄ the largest uncapped omission distortion ≤ D*_k), and the tax "
    "R*(D*_k, 0) − R_opt is ≥ 0. The second inequality is strict iff D̄ < D*_k; when D̄ = D*_k the free "
    "class attains R = E|S| − D*_k.",
    check=check_t4,
    strategy=_t4_draws,
    applies_to=ALL_CLASSES,
    scope="Every class and mode; hypothesis D*_k < D_min(m, k) (else the optimum may be monosemantic). "
    "Strict form: R > E|S| − D*_k holds exactly when D̄ < D*_k (D*_k is not the distortion of an "
    "uncapped width-m omission code); when D̄ = D*_k the free class attains R = E|S| − D*_k at cap m "
    "(witness π = {{0,1}: 1}, m = 2, k = 1).",
    mutants=(
        Mutant("the tax can be paid at cap k (a monosemantic SAE at cap k reaches D ≤ D*_k)",
               check_t4_mutant, lambda: _t4_draws(FREE)),
        Mutant("bound off by one event's mass: R ≥ E|S| − D̄ + min_S π(S)", check_t4_off_by_mass_mutant,
               lambda: _t4_draws(FREE), name="off-by-mass", near_miss=True),
        Mutant("the strict form always holds: R > E|S| − D*_k", check_t4_strict_mutant,
               lambda: _t4_draws(FREE), name="always-strict", near_miss=True),
    ),
    replay=_t4_replay,
    ci_examples=80,
)
