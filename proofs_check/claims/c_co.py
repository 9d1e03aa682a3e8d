"""C-CO (co-occurrence, not correlation): check, strategy, mutants and scope."""

from __future__ import annotations

import math

from hypothesis import assume
from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import FREE, Claim, Classes, Mutant, close, present, triple, violation
from proofs_check.strategies import ALL_CLASSES, Instance, instances, queries
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Status


def _rescaled(pmf: ConceptPMF, empty_mass: float) -> ConceptPMF:
    """π' with π'(∅) = empty_mass and every nonempty event scaled by the same factor."""
    e = pmf.prob(0)
    c = (1 - empty_mass) / (1 - e)
    pairs = [(ev, p * c) for ev, p in pmf.items() if ev]
    if empty_mass > 0:
        pairs.append((0, empty_mass))
    return ConceptPMF.from_events(pmf.n, pairs, normalize=True)


@st.composite
def _co_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    base = instances(classes=classes, min_n=2)
    # No P budget and P not the primary objective: there a live latent may fire on ∅ only to dilute the average
    # P (P counts live latents), and ∅'s mass does not scale with c (docs/falsifier-campaign.md, C-CO).
    inst = draw(queries(base, objectives=("distortion", "rate"), poly_budget=st.none()))
    n = inst.pmf.n
    a = draw(st.integers(0, n - 1), label="a")
    b = draw(st.integers(0, n - 2), label="b")
    b = b if b < a else b + 1
    target = draw(st.sampled_from((0.0, 0.1, 0.3, 0.5, 0.8)), label="new empty mass")
    return inst.with_(extra={"a": min(a, b), "b": max(a, b), "empty_mass": target})


def _corr(pmf: ConceptPMF, a: int, b: int) -> float:
    return float(pmf.correlation()[a, b])


def check_co(inst: Instance) -> None:
    """C-CO (property part): moving mass to or from the empty event rescales every nonempty joint mass
    by one factor c, which moves corr(a, b) but not the optimum: its (R, D) scale by c, its P and its
    hedging decision for (a, b) stay (up to exact ties), when the R and D budgets scale by c too."""
    _check_rescaling(inst, scale_budgets=True)


def check_co_unscaled_mutant(inst: Instance) -> None:
    """Near miss: the same holds with the R and D budgets left as they were (not scaled by c)."""
    _check_rescaling(inst, scale_budgets=False)


def _check_rescaling(inst: Instance, *, scale_budgets: bool) -> None:
    pmf = inst.pmf
    e = pmf.prob(0)
    assume(e < 1.0)
    a, b, target = inst.extra["a"], inst.extra["b"], inst.extra["empty_mass"]
    new = _rescaled(pmf, target)
    c = (1 - target) / (1 - e)
    c0, c1 = _corr(pmf, a, b), _corr(new, a, b)
    assume(not (math.isnan(c0) and math.isnan(c1)) and not close(c0, c1, 1e-6))
    scaled = {name: (None if getattr(inst, name) is None else getattr(inst, name) * (c if scale_budgets else 1.0))
              for name in ("max_rate", "max_distortion")}
    s0 = ref.optimum(inst.problem())
    s1 = ref.optimum(inst.problem(pmf=new, **scaled))
    violation(s0.status == s1.status, f"status {s0.status.value} → {s1.status.value} after rescaling by c = {c!r}")
    if s0.status is Status.INFEASIBLE:
        return
    d0, r0, p0 = triple(s0)
    d1, r1, p1 = triple(s1)
    violation(close(d1, c * d0, 1e-8) and close(r1, c * r0, 1e-8) and close(p1, p0, 1e-8),
              f"(D, R, P) = ({d0!r}, {r0!r}, {p0!r}) became ({d1!r}, {r1!r}, {p1!r}), expected D, R scaled by c = {c!r}")
    sae0, sae1 = present(s0.sae, "optimal SAE"), present(s1.sae, "optimal SAE after rescaling")
    h0, h1 = ref.hedges(sae0, pmf, a, b), ref.hedges(sae1, new, a, b)
    if h0 != h1:  # allowed only if both SAEs are optimal for both pmfs (an exact tie)
        x1 = sae1.evaluate(pmf, inst.k)
        x0 = sae0.evaluate(new, inst.k)
        tie = (close(x1.distortion, d0, 1e-8) and close(x1.rate, r0, 1e-8) and close(x1.poly(inst.problem().poly_measure), p0, 1e-8)
               and close(x0.distortion, d1, 1e-8) and close(x0.rate, r1, 1e-8))
        violation(tie, f"hedging of ({a},{b}) changed from {h0} to {h1} when corr moved {c0:.4g} → {c1:.4g} "
                       f"with all nonempty joint masses scaled by c = {c:.6g}")


def check_co_witnesses() -> None:
    """C-CO (existence part) on constructed witnesses, in every class and mode."""
    for inst, want, label in co_witnesses():
        sol = ref.optimum(inst.problem())
        got = ref.hedges(present(sol.sae, f"optimal SAE of witness '{label}'"), inst.pmf, 0, 1)
        corr = _corr(inst.pmf, 0, 1)
        violation(got == want, f"witness '{label}' ({inst.encoder}/{inst.coefficients}, corr {corr:.3f}): optimum hedges = {got}, expected {want}")


def co_witnesses() -> list[tuple[Instance, bool, str]]:
    """(instance, optimum hedges {0,1}?, label): zero correlation with hedging; corr ≈ 0.58 without."""
    from rdp_exact.generators import independent

    indep = independent([0.9, 0.9])  # corr(0,1) = 0; {0,1} carries 0.81 of the mass
    strong = ConceptPMF.from_events(2, [(0, 0.75), (1, 0.15), (3, 0.10)])  # 1 ⇒ 0, corr ≈ 0.577
    out = []
    for enc, mode in ALL_CLASSES:
        out.append((Instance(pmf=indep, width=1, k=1, encoder=enc, coefficients=mode), True, "zero correlation, hedges"))
        out.append((Instance(pmf=strong, width=1, k=1, encoder=enc, coefficients=mode), False, "correlation 0.58, does not hedge"))
    return out


def _co_mutant_draws() -> st.SearchStrategy[Instance]:
    return instances(classes=FREE, min_n=2, max_n=3, max_width=2).map(lambda i: i.with_(extra={"a": 0, "b": 1}))


def check_co_mutant(inst: Instance) -> None:
    """Mutant: the optimum hedges concepts 0 and 1 exactly when their correlation is positive."""
    sol = ref.optimum(inst.problem())
    corr = _corr(inst.pmf, 0, 1)
    assume(math.isfinite(corr))
    h = ref.hedges(present(sol.sae, "optimal SAE"), inst.pmf, 0, 1)
    violation(h == (corr > 0), f"optimum hedges {{0,1}} = {h} but corr(0,1) = {corr:.4g}")


def _co_replay(inst: Instance, path: str) -> list[str]:
    return [inst.solve_command(path), "# and the same query on the rescaled pmf (see the instance file)"]


CLAIM = Claim(
    id="C-CO",
    title="Co-occurrence, not correlation",
    statement="Whether the optimum hedges a, b depends on the joint probabilities, not on the correlation: "
    "a zero-correlation pmf whose optimum hedges and a strongly correlated one whose optimum does not "
    "exist (witnesses), and rescaling all nonempty joint masses (moving mass to/from ∅, which moves "
    "the correlation) never changes the decision.",
    check=check_co,
    strategy=lambda cl: _co_draws(cl),
    applies_to=ALL_CLASSES,
    scope="Every class and mode; min D or min R (P a tie-break), R and D budgets rescaled with the masses, "
    "no P budget; hedging decisions compared up to exact ties. Not with a P budget or min P: a latent may "
    "then fire on ∅ only to dilute the average P, and ∅'s mass does not scale (witness: π uniform on "
    "{∅, {0}, {1}, {0,1}}, m = 2, k = 1, R ≤ 0.375, P ≤ (1 − 1/√2)/2, ∅ moved to 0.1).",
    mutants=(
        Mutant("the optimum hedges 0 and 1 exactly when corr(0, 1) > 0", check_co_mutant, _co_mutant_draws),
        Mutant("rescaling the masses leaves the optimum's structure alone even with the R and D budgets "
               "left unscaled", check_co_unscaled_mutant, lambda: _co_draws(FREE), name="unscaled-budgets",
               near_miss=True),
    ),
    replay=_co_replay,
    ci_examples=80,
    # two brute-force solves per example at up to ~15 examples/s: 10,000 need ~11-15 min on an idle core
    deep_seconds=1800.0,
)
