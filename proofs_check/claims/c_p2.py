"""C-P2 (conservation law): check, strategy, mutants and scope."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from proofs_check.claims.base import (
    EQ_TOL,
    FREE,
    Claim,
    Classes,
    KnownFailure,
    Mutant,
    close,
    sae_of,
    violation,
)
from proofs_check.strategies import (
    Instance,
    fmt,
    instances,
)
from rdp_exact.pmf import ConceptPMF, popcount


@st.composite
def _tied_mono_draws(draw: st.DrawFn, classes: Classes, *, untied: bool = False) -> Instance:
    """A tied monosemantic SAE (singleton or dead atoms; a latent fires only on events containing its
    concept) stored in ``extra``. Free class: distinct atoms (the canonical form of §1.2) and any code
    within the cap; threshold class: units e_i with θ = 1 (so a latent fires on every event containing
    its concept), duplicated atoms allowed in integer mode, the cap raised to the largest firing count.
    ``untied=True`` (the C-P2 mutant) lets free-class latents fire on any event."""
    inst = draw(instances(classes=classes))
    pmf, m = inst.pmf, inst.width
    n = pmf.n
    singletons = [1 << i for i in range(n)]
    if inst.encoder == "threshold" and inst.coefficients == "integer":
        atoms = draw(st.lists(st.sampled_from([0, *singletons]), min_size=m, max_size=m), label="atoms")
    else:
        chosen = draw(st.lists(st.sampled_from(singletons), unique=True, max_size=min(m, n)), label="atoms")
        atoms = chosen + [0] * (m - len(chosen))
    if inst.encoder == "threshold":
        units = [[[1 if (a >> i) & 1 else 0 for i in range(n)], 1] for a in atoms]
        fire = [sum(1 for a in atoms if a and ev & a) for ev in pmf.events]
        k = max([inst.k, *fire])
        return inst.with_(k=k, extra={"atoms": atoms, "encoder": units})
    code: list[list[Any]] = []
    for ev in pmf.events:
        cand = [j for j, a in enumerate(atoms) if a and (untied or ev & a)]
        if not cand:
            continue
        act = draw(st.lists(st.sampled_from(cand), unique=True, max_size=min(inst.k, len(cand))))
        if act:
            code.append([ev, sorted(act)])
    return inst.with_(extra={"atoms": atoms, "code": code})


def check_p2(inst: Instance) -> None:
    """C-P2: R + D = E|S|; D ≥ Σ_{i∉A} p_i with equality iff R(S) = S ∩ A on every support event."""
    from rdp_exact import theory

    pmf = inst.pmf
    sae = sae_of(inst)
    ev = sae.evaluate(pmf, inst.k)
    es = pmf.expected_sparsity()
    A = 0
    for a in sae.atoms:
        A |= a
    violation(
        close(ev.rate + ev.distortion, es),
        f"R + D = {ev.rate!r} + {ev.distortion!r} = {ev.rate + ev.distortion!r} ≠ E|S| = {es!r} "
        f"(atoms {[fmt(a) for a in sae.atoms]}, active per event {list(zip(map(fmt, pmf.events), ev.active, strict=True))})",
    )
    p = pmf.marginals()
    bound = math.fsum(float(p[i]) for i in range(pmf.n) if not (A >> i) & 1)
    violation(ev.distortion >= bound - EQ_TOL, f"D = {ev.distortion!r} < Σ_(i∉A) p_i = {bound!r} for A = {fmt(A)}")
    recon = {}
    for e, act in zip(pmf.events, ev.active, strict=True):
        u = 0
        for j in act:
            u |= sae.atoms[j]
        recon[e] = u
    full = all(recon[e] == e & A for e in pmf.events)
    violation(
        full == close(ev.distortion, bound),
        f"equality case wrong: D = {ev.distortion!r}, bound {bound!r}, but R(S) = S∩A on every event is {full}",
    )
    # theory.py must agree with the definition on the same SAE.
    if all(popcount(recon[e]) == len(act) for e, act in zip(pmf.events, ev.active, strict=True)):
        r_t, d_t = theory.conservation(pmf, A, recon)
        violation(close(r_t, ev.rate) and close(d_t, ev.distortion),
                  f"theory.conservation gives (R, D) = ({r_t!r}, {d_t!r}), evaluation ({ev.rate!r}, {ev.distortion!r})")
        b_t = theory.conservation_bound(pmf, A)
        violation(close(b_t, bound), f"theory.conservation_bound = {b_t!r}, expected Σ_(i∉A) p_i = {bound!r}")


def check_p2_mutant(inst: Instance) -> None:
    """Mutant: R + D = E|S| for every monosemantic SAE, tied or not."""
    sae = sae_of(inst)
    ev = sae.evaluate(inst.pmf, inst.k)
    es = inst.pmf.expected_sparsity()
    violation(close(ev.rate + ev.distortion, es), f"R + D = {ev.rate + ev.distortion!r} ≠ E|S| = {es!r}")


def check_p2_equality_mutant(inst: Instance) -> None:
    """Near miss: the bound is always attained — D = Σ_{i∉A} p_i for every tied monosemantic SAE
    (drops the condition R(S) = S ∩ A of the equality case)."""
    sae = sae_of(inst)
    ev = sae.evaluate(inst.pmf, inst.k)
    A = 0
    for a in sae.atoms:
        A |= a
    p = inst.pmf.marginals()
    bound = math.fsum(float(p[i]) for i in range(inst.pmf.n) if not (A >> i) & 1)
    violation(close(ev.distortion, bound), f"D = {ev.distortion!r} ≠ Σ_(i∉A) p_i = {bound!r} for A = {fmt(A)}")


def _p2_witness() -> Instance:
    pmf = ConceptPMF.from_events(1, [(1, 1.0)])
    return Instance(pmf=pmf, width=2, k=2, encoder="threshold", coefficients="integer",
                    extra={"atoms": [1, 1], "encoder": [[[1], 1], [[1], 1]]})


def _p2_replay(inst: Instance, path: str) -> list[str]:
    return []  # the SAE is given, not solved: see the instance file


CLAIM = Claim(
    id="C-P2",
    title="Conservation law",
    statement="A tied monosemantic SAE representing A and reconstructing R(S) ⊆ S ∩ A has R + D = E|S| "
    "and D ≥ Σ_{i∉A} p_i, with equality iff R(S) = S ∩ A on every support event.",
    check=check_p2,
    strategy=lambda cl: _tied_mono_draws(cl),
    applies_to=(("free", "integer"), ("free", "disjoint"), ("threshold", "disjoint")),
    known_false=(
        KnownFailure(
            (("threshold", "integer"),),
            "two tied threshold latents may share an atom {i} (§1.2); both fire on every event with i, "
            "so c_i = 2: R + D = E|S| + 2·P(i ∈ S). R(S) is then a multiset, outside the hypothesis "
            "R(S) ⊆ S ∩ A. Witness: π = {{0}: 1}, m = 2, atoms {0},{0}: R = 2, D = 1, E|S| = 1. The witness "
                    "needs c_0 = 2, a coefficient A4 (unit codes, 0/1 reconstructions) excludes: it lies outside "
                    "the paper's class, so it is a finding about the threshold class, not about Prop 2.",
            _p2_witness,
        ),
    ),
    scope="Free class, both modes; threshold class, disjoint mode. Hypothesis: tied monosemantic SAE "
    "(singleton or dead atoms, a latent fires only on events containing its concept). Not in threshold "
    "integer mode, where two latents may share an atom and c_i = 2 (a coefficient of 2 lies outside A4, "
    "so the witness is outside the paper's class).",
    mutants=(
        Mutant("R + D = E|S| for every monosemantic SAE, tied or not", check_p2_mutant,
               lambda: _tied_mono_draws(FREE, untied=True)),
        Mutant("the bound is always attained: D = Σ_{i∉A} p_i for every tied monosemantic SAE",
               check_p2_equality_mutant, lambda: _tied_mono_draws(FREE), name="always-equal", near_miss=True),
    ),
    replay=_p2_replay,
    ci_examples=100,
)
