"""C-L1 (closed-form loss): check, strategy, mutants and scope."""

from __future__ import annotations

from typing import cast

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import Claim, Classes, Mutant, close, present, sae_of, violation
from proofs_check.strategies import ALL_CLASSES, Instance, instances, queries
from rdp_exact.pmf import popcount
from rdp_exact.problem import Objective, Status


@st.composite
def _l1_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    """A query plus an arbitrary SAE of its class (overlapping atoms allowed in integer mode)."""
    inst = draw(queries(instances(classes=classes)))
    pmf, m, n = inst.pmf, inst.width, inst.pmf.n
    atoms = draw(st.lists(st.integers(0, (1 << n) - 1), min_size=m, max_size=m), label="atoms")
    if inst.encoder == "threshold":
        if inst.coefficients == "disjoint":  # pairwise disjoint atoms: any firing is valid
            owner = draw(st.lists(st.integers(-1, m - 1), min_size=n, max_size=n))
            atoms = [sum(1 << i for i in range(n) if owner[i] == j) for j in range(m)]
        lo = 0 if inst.encoder_weights == "binary" else -1
        units = draw(st.lists(st.tuples(st.lists(st.integers(lo, 1), min_size=n, max_size=n), st.integers(1, n)),
                              min_size=m, max_size=m))
        enc = [[list(w), t] for w, t in units]
        fire = [sum(ref.fires(w, t, ev) for w, t in units) for ev in pmf.events]
        return inst.with_(k=max([inst.k, *fire]), extra={"atoms": atoms, "encoder": enc})
    code = []
    for ev in pmf.events:
        act = draw(st.lists(st.integers(0, m - 1), unique=True, max_size=inst.k))
        if inst.coefficients == "disjoint":
            keep, used = [], 0
            for j in act:
                if not atoms[j] & used:
                    keep.append(j)
                    used |= atoms[j]
            act = keep
        if act:
            code.append([ev, sorted(act)])
    return inst.with_(extra={"atoms": atoms, "code": code})


def check_l1(inst: Instance) -> None:
    """C-L1: the evaluation equals the closed forms; the solver's reported D equals that evaluation."""
    pmf = inst.pmf
    sae = sae_of(inst)
    ev = sae.evaluate(pmf, inst.k)
    rate, d_int, d_sym = ref.evaluate_from_scratch(sae, pmf)
    violation(close(ev.rate, rate), f"R = {ev.rate!r}, definition gives {rate!r}")
    violation(close(ev.distortion, d_int), f"D = {ev.distortion!r}, Σ π Σ_i (1[i∈S] − c_i)² = {d_int!r}")
    if inst.coefficients == "disjoint":
        violation(d_sym is not None and close(ev.distortion, d_sym), f"disjoint D = {ev.distortion!r}, Σ π |S Δ R(S)| = {d_sym!r}")
    sol = ref.optimum(inst.problem())
    if sol.status is Status.INFEASIBLE:
        return
    rate, d_int, d_sym = ref.evaluate_from_scratch(present(sol.sae, "optimal SAE"), pmf)
    violation(close(present(sol.rate, "R"), rate) and close(present(sol.distortion, "D"), d_int),
              f"solver reports (R, D) = ({sol.rate!r}, {sol.distortion!r}), its SAE evaluates to ({rate!r}, {d_int!r})")
    if inst.coefficients == "disjoint":
        violation(d_sym is not None and close(d_int, d_sym), f"solver's disjoint SAE: |S Δ R(S)| form {d_sym!r} ≠ {d_int!r}")
    value = sol.value(cast(Objective, inst.minimize))
    violation(close(present(sol.objective, "objective"), present(value, inst.minimize)),
              f"objective {sol.objective!r} ≠ the SAE's {inst.minimize} {value!r}")


def check_l1_mutant(inst: Instance) -> None:
    """Mutant: integer codes too have D = Σ π |S Δ R(S)| (R(S) the union of the active atoms)."""
    pmf = inst.pmf
    sae = sae_of(inst)
    ev = sae.evaluate(pmf, inst.k)
    sym = 0.0
    for e, p, act in zip(pmf.events, pmf.probs, ev.active, strict=True):
        u = 0
        for j in act:
            u |= sae.atoms[j]
        sym += float(p) * popcount(e ^ u)
    violation(close(ev.distortion, sym), f"D = {ev.distortion!r} but Σ π |S Δ R(S)| = {sym!r}")


def check_l1_cross_term_mutant(inst: Instance) -> None:
    """Near miss (Lemma 1 without the cross term): ‖Σ_j a_j‖² expanded as Σ_j ‖a_j‖², dropping
    2Σ_{j<l} ⟨a_j, a_l⟩ between co-active atoms: D = Σ π (|S| − 2Σ_j |S ∩ a_j| + Σ_j |a_j|)."""
    pmf = inst.pmf
    sae = sae_of(inst)
    ev = sae.evaluate(pmf, inst.k)
    wrong = 0.0
    for e, p, act in zip(pmf.events, pmf.probs, ev.active, strict=True):
        atoms = [sae.atoms[j] for j in act]
        wrong += float(p) * (popcount(e) - 2 * sum(popcount(e & a) for a in atoms) + sum(popcount(a) for a in atoms))
    violation(close(ev.distortion, wrong), f"D = {ev.distortion!r} but the form without cross terms gives {wrong!r}")


CLAIM = Claim(
    id="C-L1",
    title="Closed-form loss",
    statement="Disjoint codes: D = Σ π(S)|S Δ R(S)|; integer codes: D = Σ π(S) Σ_i (1[i∈S] − c_i(S))²; "
    "the solver's reported D equals this evaluation of its SAE.",
    check=check_l1,
    strategy=lambda cl: _l1_draws(cl),
    applies_to=ALL_CLASSES,
    scope="Every class and mode, any SAE of the class (arbitrary atoms, codes or threshold encoders), in "
    "concept coordinates (A1: orthonormal concept directions); C-L1R checks the same identity in R^d.",
    mutants=(
        Mutant("integer codes also have D = Σ π |S Δ R(S)|", check_l1_mutant,
               lambda: _l1_draws((("free", "integer"),))),
        Mutant("Lemma 1 without the cross term 2Σ_{j<l}⟨a_j, a_l⟩ of co-active atoms", check_l1_cross_term_mutant,
               lambda: _l1_draws((("free", "integer"),)), name="no-cross-term", near_miss=True),
    ),
    ci_examples=100,
)
