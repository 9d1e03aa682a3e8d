"""C-T5 (exact monosemantic frontier): check, strategy, mutants and scope."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import (
    FREE,
    Claim,
    Classes,
    Mutant,
    close,
    fails_threshold,
    problem_value,
    violation,
)
from proofs_check.strategies import Instance, instances
from rdp_exact.problem import TOL


@st.composite
def _t5_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(instances(classes=classes, max_support=10))
    ds = ref.omission_distortions(inst.pmf, inst.width, inst.k)
    kind = draw(st.integers(0, 3), label="delta kind")
    if kind == 0:
        delta = draw(st.floats(0.0, inst.pmf.expected_sparsity(), allow_nan=False))
    else:
        delta = draw(st.sampled_from(ds))
        if kind == 1:
            delta = max(0.0, delta - 1e-7)
    return inst.with_(minimize="rate", max_distortion=delta, max_poly=0.0)


def check_t5(inst: Instance) -> None:
    """C-T5: D_min formula = min 𝒟_mono = brute D*(P=0); R*(δ, 0) = E|S| − max{D ∈ 𝒟_mono : D ≤ δ}."""
    from rdp_exact import theory

    pmf, m, k = inst.pmf, inst.width, inst.k
    es = pmf.expected_sparsity()
    ds = ref.omission_distortions(pmf, m, k)
    formula = ref.d_min_formula(pmf, m, k)
    violation(close(formula, ds[0]), f"D_min formula {formula!r} ≠ min 𝒟_mono {ds[0]!r}")
    d_brute, _ = problem_value(inst, minimize="distortion", max_distortion=None, max_rate=None, max_poly=0.0)
    violation(close(d_brute, formula), f"brute min D over P = 0 SAEs is {d_brute!r}, formula D_min = {formula!r}")
    om = theory.omission_distortions(pmf, m, k)
    violation(
        not om.truncated and len(om.distortions) == len(ds) and all(close(a, b) for a, b in zip(om.distortions, ds, strict=True)),
        f"theory.omission_distortions {list(om.distortions)[:8]}… (len {len(om.distortions)}) ≠ reference {ds[:8]}… (len {len(ds)})",
    )
    violation(close(theory.d_min(pmf, m, k), formula), f"theory.d_min = {theory.d_min(pmf, m, k)!r} ≠ {formula!r}")
    delta = float(inst.max_distortion)  # type: ignore[arg-type]
    below = [d for d in ds if d <= delta + TOL]
    expected = es - max(below) if below else math.inf
    r_brute, _ = problem_value(inst)
    violation(close(r_brute, expected), f"R*(δ={delta!r}, 0) = {r_brute!r} by brute force, staircase gives {expected!r}")
    r_theory = theory.r_star_mono(pmf, m, k, delta)
    violation(close(r_theory, expected), f"theory.r_star_mono(δ={delta!r}) = {r_theory!r}, staircase gives {expected!r}")
    stair = theory.monosemantic_staircase(pmf, m, k)
    violation(
        len(stair.points) == len(ds) and all(close(d, x) and close(r, es - x) for (d, r), x in zip(stair.points, ds, strict=True)),
        "theory.monosemantic_staircase differs from the reference corners (D, E|S| − D)",
    )


def check_t5_mutant(inst: Instance) -> None:
    """Mutant (off by one): D_min = E|S| − max_{|A|≤m} Σ π(S)·min(|S∩A|, k + 1)."""
    pmf, m, k = inst.pmf, inst.width, inst.k
    wrong = ref.d_min_formula(pmf, m, k + 1)
    d_brute, _ = problem_value(inst, minimize="distortion", max_distortion=None, max_poly=0.0)
    violation(close(d_brute, wrong), f"brute D_min = {d_brute!r} ≠ off-by-one formula {wrong!r}")


def check_t5_shifted_mutant(inst: Instance) -> None:
    """Near miss (staircase shifted by one step): R*(δ, 0) = E|S| − max{D ∈ 𝒟_mono : D < δ}, the corner
    at δ itself excluded (budget read as strict)."""
    pmf, m, k = inst.pmf, inst.width, inst.k
    es = pmf.expected_sparsity()
    ds = ref.omission_distortions(pmf, m, k)
    delta = float(inst.max_distortion)  # type: ignore[arg-type]
    below = [d for d in ds if d < delta - TOL]
    wrong = es - max(below) if below else math.inf
    r_brute, _ = problem_value(inst)
    violation(close(r_brute, wrong), f"R*(δ={delta!r}, 0) = {r_brute!r}, shifted staircase gives {wrong!r}")


def _t5_replay(inst: Instance, path: str) -> list[str]:
    return [inst.solve_command(path), inst.solve_command(path, minimize="distortion", max_distortion=None)]


CLAIM = Claim(
    id="C-T5",
    title="Exact monosemantic frontier",
    statement="D_min = min 𝒟_mono = E|S| − max_{|A|≤m} Σ π(S) min(|S∩A|, k), and over all SAEs with P = 0, "
    "R*(δ, 0) = ∞ for δ < D_min, else E|S| − max{D ∈ 𝒟_mono : D ≤ δ}.",
    check=check_t5,
    strategy=lambda cl: _t5_draws(cl),
    applies_to=FREE,
    known_false=(
        fails_threshold(
            "a threshold latent with P_joint = 0 has encoder e_i and θ = 1, so it fires on EVERY "
            "event containing i, not on a chosen subset; the omission codes are not realisable and "
            "D_min and R*(δ, 0) can be larger (the free staircase stays a lower bound, by clipping). "
            "Witness: π = {{0}: ¼, {1}: ¼, {0,1}: ½}, m = 2, k = 1: free D_min = ½ (one concept per "
            "event), threshold D_min = ¾ (two live latents would both fire on {0,1}), so R*(½, 0) = 1 "
            "in the free class and ∞ in the threshold class.",
            2, [(1, 0.25), (2, 0.25), (3, 0.5)], width=2, k=1,  # {0}, {1}: ¼ each, {0,1}: ½
            minimize="rate", max_distortion=0.5, max_poly=0.0,
        ),
    ),
    scope="Free class, both modes, any m, k, δ ≥ 0, P budget 0. Not in the threshold class, where a "
    "monosemantic latent fires on every event containing its concept, so omission codes are not all "
    "realisable (the free staircase is then only a lower bound).",
    mutants=(
        Mutant("off by one: D_min uses min(|S∩A|, k + 1)", check_t5_mutant, lambda: _t5_draws(FREE)),
        Mutant("staircase shifted by one step: R*(δ, 0) = E|S| − max{D ∈ 𝒟_mono : D < δ}",
               check_t5_shifted_mutant, lambda: _t5_draws(FREE), name="shifted-step", near_miss=True),
    ),
    replay=_t5_replay,
    ci_examples=100,
)
