"""C-CB (no SAE beats its class optimum, DESIGN §1.2b): every SAE of a class has D ≥ D*(class)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from proofs_check.claims.base import Claim, Classes, Mutant, present, violation
from proofs_check.strategies import Instance, instances

FREE_INTEGER: Classes = (("free", "integer"),)
TOL = 1e-9
#: (class, bias) pairs with an independent exact reference at k = 1.
REAL_CLASSES = (("real-atoms", False), ("real-atoms", True), ("real-codes", False))


@st.composite
def _draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(instances(classes=FREE_INTEGER, max_n=3, max_width=2, max_support=5))
    cls, bias = draw(st.sampled_from(REAL_CLASSES), label="class")
    eps = draw(st.sampled_from((0.0, 1e-6, 1e-3, 0.1, 1.0)), label="perturbation")
    seed = draw(st.integers(0, 2**16), label="seed")
    return inst.with_(k=1, extra={"class": cls, "bias": bias, "eps": eps, "seed": seed})


def _sae(inst: Instance, cls: str, bias: bool):  # type: ignore[no-untyped-def]
    """An SAE of (cls, bias): the class optimum (fast method) with atoms and bias perturbed by eps·N(0, 1)."""
    from rdp_exact.classes import ClassProblem, RealSAE, solve_class

    sol = solve_class(ClassProblem(inst.pmf, inst.width, inst.k, cls, bias))  # type: ignore[arg-type]
    sae = present(sol.sae, f"optimal SAE of {cls}")
    rng = np.random.default_rng(inst.extra["seed"])
    eps = inst.extra["eps"]
    W = sae.atoms + eps * rng.standard_normal(sae.atoms.shape)
    if cls == "real-codes":  # stay in the class: unit-norm atoms
        W = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
    b = sae.bias + (eps * rng.standard_normal(sae.bias.shape) if bias else 0.0)
    return RealSAE(atoms=W, bias=b, active=sae.active, codes=sae.codes)


def _dstar(inst: Instance, cls: str, bias: bool) -> float:
    from rdp_exact.classes import ClassProblem, reference_solve

    return float(reference_solve(ClassProblem(inst.pmf, inst.width, inst.k, cls, bias)).distortion)  # type: ignore[arg-type]


def _d(inst: Instance, sae) -> float:  # type: ignore[no-untyped-def]
    from rdp_exact.classes import evaluate_real

    return evaluate_real(inst.pmf, sae).distortion


def check_cb(inst: Instance) -> None:
    """An SAE of the class (its solver's optimum, perturbed) has D ≥ D* of the class from the slow reference."""
    cls, bias = inst.extra["class"], inst.extra["bias"]
    d, ds = _d(inst, _sae(inst, cls, bias)), _dstar(inst, cls, bias)
    violation(d >= ds - TOL, f"an SAE of {cls}{'+bias' if bias else ''} reaches D = {d!r} < D* = {ds!r}")


def check_codes_vs_atoms_mutant(inst: Instance) -> None:
    """Coarse: no real-codes SAE beats the real-atoms optimum (the wrong, smaller class)."""
    d, ds = _d(inst, _sae(inst, "real-codes", False)), _dstar(inst, "real-atoms", False)
    violation(d >= ds - TOL, f"a real-codes SAE reaches D = {d!r} < D*(real-atoms) = {ds!r}")


def check_bias_mutant(inst: Instance) -> None:
    """Near miss: no SAE with a bias beats the optimum of the same class without one."""
    d, ds = _d(inst, _sae(inst, "real-atoms", True)), _dstar(inst, "real-atoms", False)
    violation(d >= ds - TOL, f"a real-atoms + bias SAE reaches D = {d!r} < D*(real-atoms) = {ds!r}")


CLAIM = Claim(
    id="C-CB",
    title="no SAE beats its class optimum",
    statement="every SAE of a class (real atoms, real codes, with or without a bias) has D ≥ D* of that class.",
    check=check_cb,
    strategy=lambda classes: _draws(classes),
    applies_to=FREE_INTEGER,
    mutants=(
        Mutant("no real-codes SAE beats D*(real-atoms)", check_codes_vs_atoms_mutant, lambda: _draws(FREE_INTEGER)),
        Mutant("no SAE with a bias beats D* of its class without bias", check_bias_mutant,
               lambda: _draws(FREE_INTEGER), name="bias", near_miss=True),
    ),
    scope="free encoder, integer coefficients, k = 1, classes real-atoms ± bias and real-codes (the slow reference's "
          "reach), n ≤ 3, m ≤ 2, N ≤ 5; random SAEs are the class optimum with atoms and bias perturbed.",
    ci_examples=25,
)
