"""C-CM (class monotonicity, DESIGN §1.2b): D*(binary) ≥ D*(real-atoms) ≥ D*(real-codes), and a bias never hurts."""

from __future__ import annotations

from hypothesis import strategies as st

from proofs_check.claims.base import Claim, Classes, Mutant, violation
from proofs_check.strategies import Instance, instances

#: Only the free encoder with integer coefficients has real-class counterparts.
FREE_INTEGER: Classes = (("free", "integer"),)
TOL = 1e-9


@st.composite
def _draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(instances(classes=FREE_INTEGER, max_n=3, max_width=2, max_support=5))
    return inst.with_(k=1)


def _d(inst: Instance, cls: str, bias: bool = False, k: int | None = None) -> float:
    from rdp_exact.classes import ClassProblem, reference_solve, solve_class

    pr = ClassProblem(inst.pmf, inst.width, inst.k if k is None else k, cls, bias)  # type: ignore[arg-type]
    if cls == "binary":
        return float(solve_class(pr).distortion)  # type: ignore[arg-type]
    return float(reference_solve(pr).distortion)  # type: ignore[arg-type]


def check_cm(inst: Instance) -> None:
    """k = 1: D*(binary) ≥ D*(real-atoms) ≥ D*(real-codes) and D*(real-atoms + bias) ≤ D*(real-atoms); at k = m the
    same for binary ≥ real-atoms ≥ real-atoms + bias (exact values from the slow reference)."""
    b, ra, rc, rab = _d(inst, "binary"), _d(inst, "real-atoms"), _d(inst, "real-codes"), _d(inst, "real-atoms", True)
    violation(b >= ra - TOL, f"D*(binary) = {b!r} < D*(real-atoms) = {ra!r}")
    violation(ra >= rc - TOL, f"D*(real-atoms) = {ra!r} < D*(real-codes) = {rc!r}")
    violation(ra >= rab - TOL, f"D*(real-atoms) = {ra!r} < D*(real-atoms + bias) = {rab!r}")
    m = inst.width
    b2, ra2, rab2 = _d(inst, "binary", k=m), _d(inst, "real-atoms", k=m), _d(inst, "real-atoms", True, k=m)
    violation(b2 >= ra2 - TOL and ra2 >= rab2 - TOL,
              f"k = m: D*(binary) = {b2!r}, D*(real-atoms) = {ra2!r}, D*(+bias) = {rab2!r} not non-increasing")


def check_reversed_mutant(inst: Instance) -> None:
    """Coarse: real atoms never beat binary atoms (D*(real-atoms) ≥ D*(binary))."""
    b, ra = _d(inst, "binary"), _d(inst, "real-atoms")
    violation(ra >= b - TOL, f"D*(real-atoms) = {ra!r} < D*(binary) = {b!r}")


def check_strict_mutant(inst: Instance) -> None:
    """Near miss: real atoms *strictly* beat binary atoms whenever D*(binary) > 0."""
    b, ra = _d(inst, "binary"), _d(inst, "real-atoms")
    if b > TOL:
        violation(ra < b - TOL, f"D*(real-atoms) = {ra!r} equals D*(binary) = {b!r} > 0")


CLAIM = Claim(
    id="C-CM",
    title="class monotonicity",
    statement="binary ⊂ real-atoms ⊂ real-codes, each inside its bias version, so D*(binary) ≥ D*(real-atoms) ≥ "
              "D*(real-codes) and a decoder bias never raises D*.",
    check=check_cm,
    strategy=lambda classes: _draws(classes),
    applies_to=FREE_INTEGER,
    mutants=(
        Mutant("D*(real-atoms) ≥ D*(binary)", check_reversed_mutant, lambda: _draws(FREE_INTEGER)),
        Mutant("D*(real-atoms) < D*(binary) whenever D*(binary) > 0", check_strict_mutant,
               lambda: _draws(FREE_INTEGER), name="strict", near_miss=True),
    ),
    scope="free encoder, integer coefficients; checked at k = 1 for every class and at k = m for binary and "
          "real-atoms ± bias (real-codes with k ≥ 2 or a bias has no closed-form reference), n ≤ 3, m ≤ 2, N ≤ 5.",
    ci_examples=25,
)
