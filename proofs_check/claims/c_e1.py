"""C-E1 (Example 1): check, strategy, mutants and scope."""

from __future__ import annotations

from collections import Counter

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import (
    FREE,
    STATS,
    Claim,
    Classes,
    Mutant,
    close,
    fails_threshold,
    present,
    violation,
)
from proofs_check.strategies import Instance, fmt, instances
from rdp_exact.pmf import ConceptPMF
from rdp_exact.sae import CombinatorialSAE


@st.composite
def _e1_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(instances(classes=classes, min_n=3, max_n=3, min_width=2, max_width=2))
    return inst.with_(k=draw(st.sampled_from((1, 2)), label="k"), minimize="distortion")


def _family_best_exact(pmf: ConceptPMF, k: int, mode: str, family: str) -> tuple[float, float]:
    from rdp_exact import theory

    best = None
    for code in theory.example1_codes():
        if code.family != family:
            continue
        ev = CombinatorialSAE.best_response(pmf, code.atoms, k, mode).evaluate(pmf, k)  # type: ignore[arg-type]
        cand = (ev.distortion, ev.rate)
        if best is None or cand[0] < best[0] - 1e-12 or (abs(cand[0] - best[0]) <= 1e-12 and cand[1] < best[1]):
            best = cand
    assert best is not None
    return best


def check_e1(inst: Instance) -> None:
    """C-E1 (a) closed forms = exact evaluation; (b) the inequality's sign = which family wins;
    (c) an optimum that is monosemantic, hedged or splitting has the predicted structure."""
    from rdp_exact import theory

    pmf, k, mode = inst.pmf, inst.k, inst.coefficients
    forms = theory.example1_closed_forms(pmf, k, mode)  # type: ignore[arg-type]
    for code in theory.example1_codes():
        ev = CombinatorialSAE.best_response(pmf, code.atoms, k, mode).evaluate(pmf, k)  # type: ignore[arg-type]
        d, r = forms[code.name]
        violation(close(d, ev.distortion) and close(r, ev.rate),
                  f"{code.name}, k={k}: closed form (D, R) = ({d!r}, {r!r}), exact ({ev.distortion!r}, {ev.rate!r})")
    mono = _family_best_exact(pmf, k, mode, "monosemantic")
    for fam in ("hedged", "splitting"):
        other = _family_best_exact(pmf, k, mode, fam)
        beats = other[0] < mono[0] - 1e-12 or (abs(other[0] - mono[0]) <= 1e-12 and other[1] < mono[1] - 1e-12)
        margin = theory.example1_inequality(pmf, k, fam, "monosemantic")
        violation(beats == (margin > 1e-12),
                  f"k={k}: best {fam} (D, R) = {other}, best monosemantic {mono}; inequality margin {margin!r}")
    sol = ref.optimum(inst.problem())
    opt = present(sol.sae, "optimal SAE")
    structure = theory.example1_structure(ref.live_atoms(opt, pmf))
    STATS.setdefault("C-E1", Counter())[f"optimum {structure}"] += 1
    if structure != "other":
        tied = theory.example1_tied_families(pmf, k)
        violation(structure in tied,
                  f"k={k}: exact optimum is {structure} (atoms {[fmt(a) for a in opt.atoms]}), closed forms predict {sorted(tied)}")


def check_e1_mutant(inst: Instance) -> None:
    """Mutant (off by a factor): at k = 2 the hedged code ({a,b},{c}) has D = p_a + p_b − p_ab."""
    pmf = inst.pmf
    p = pmf.marginals()
    co = pmf.cooccurrence()
    for a, b, c in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
        ev = CombinatorialSAE.best_response(pmf, [(1 << a) | (1 << b), 1 << c], 2, inst.coefficients).evaluate(pmf)  # type: ignore[arg-type]
        wrong = float(p[a] + p[b] - co[a, b])
        violation(close(ev.distortion, wrong), f"hedged({{{a},{b}}},{{{c}}}) k=2: D = {ev.distortion!r}, mutant form {wrong!r}")


def check_e1_cap_mutant(inst: Instance) -> None:
    """Near miss (the cap ignored): the k = 1 closed forms also hold at k = 2 (they differ only on
    events where two latents would fire, e.g. hedged codes on {a,b,c})."""
    from rdp_exact import theory

    pmf, mode = inst.pmf, inst.coefficients
    for code in theory.example1_codes():
        ev = CombinatorialSAE.best_response(pmf, code.atoms, 2, mode).evaluate(pmf, 2)  # type: ignore[arg-type]
        d, r = theory.example1_closed_forms(pmf, 1, mode)[code.name]  # type: ignore[arg-type]
        violation(close(d, ev.distortion) and close(r, ev.rate),
                  f"{code.name} at k = 2: exact (D, R) = ({ev.distortion!r}, {ev.rate!r}), k = 1 form ({d!r}, {r!r})")


CLAIM = Claim(
    id="C-E1",
    title="Three-concept example",
    statement="n = 3, m = 2, k ∈ {1, 2}: the closed forms of the monosemantic, hedged and splitting codes "
    "equal the exact evaluation; a hedged (splitting) code beats the best monosemantic one exactly when "
    "the derived inequality holds; an optimum of one of these structures is the predicted one.",
    check=check_e1,
    strategy=lambda cl: _e1_draws(cl),
    applies_to=FREE,
    known_false=(
        fails_threshold(
            "the closed forms assume the free class's best firing map; a threshold unit cannot fire on "
            "{a} but not on {a,b} without a negative weight. Witness (binary weights): π = {{0}: 0.9, "
            "{0,1}: 0.1}, m = k = 2: splitting ({0,1},{0}) is predicted (D = 0, R = 1), but its {0} "
            "unit also fires on {0,1} (c_0 = 2), so the threshold optimum is monosemantic (R = 1.1).",
            3, [(1, 0.9), (3, 0.1)], width=2, k=2, encoder_weights="binary",  # {0}: 0.9, {0,1}: 0.1
        ),
    ),
    scope="Free class, both modes, n = 3, m = 2, k ∈ {1, 2}, best firing map per event. Not in the "
    "threshold class, whose units cannot realise the best firing map.",
    mutants=(
        Mutant("hedged ({a,b},{c}) at k = 2 has D = p_a + p_b − p_ab", check_e1_mutant, lambda: _e1_draws(FREE)),
        Mutant("the cap ignored: the k = 1 closed forms also hold at k = 2", check_e1_cap_mutant,
               lambda: _e1_draws(FREE), name="k1-forms-at-k2", near_miss=True),
    ),
    ci_examples=80,
)
