"""Every registered claim, in one parametrised module (DESIGN §2, STYLE "Do" 11).

* ``test_claim_holds`` — the claim's property test under the active Hypothesis profile (``ci`` in
  ``make test``), where the claim applies;
* ``test_known_failure_is_real`` — each documented counterexample is still refuted by the unchanged check;
* ``test_mutant_is_refuted`` — every mutant (coarse and near miss) is refuted within its CI budget;
* ``test_mutant_counterexample_is_not_a_claim_counterexample`` — the instance refuting a mutant
  satisfies the claim: the mutant really is a different statement;
* the registry's own contract, and a few hand-computed examples.

A new claim module listed in :data:`proofs_check.claims.MODULES` is picked up here without edits.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given
from hypothesis.errors import HypothesisDeprecationWarning

from proofs_check.claims import CLAIMS, Claim, ClaimViolation, Mutant
from proofs_check.profiles import claim_settings, examples
from proofs_check.runner import search
from proofs_check.strategies import ALL_CLASSES

MUTANTS = [(c, m) for c in CLAIMS for m in c.mutants]
KNOWN = [(c, kf) for c in CLAIMS for kf in c.known_false]


def _cid(c: Claim) -> str:
    return c.id


@pytest.mark.parametrize("claim", CLAIMS, ids=_cid)
def test_claim_holds(claim: Claim) -> None:
    @claim_settings(claim.ci_examples)
    @given(claim.draws())
    def holds(inst) -> None:
        claim.check(inst)

    holds()


@pytest.mark.parametrize(("claim", "kf"), KNOWN, ids=[f"{c.id}-{kf.classes[0][0]}-{kf.classes[0][1]}" for c, kf in KNOWN])
def test_known_failure_is_real(claim: Claim, kf) -> None:
    inst = kf.witness()
    assert (inst.encoder, inst.coefficients) in kf.classes
    assert (inst.encoder, inst.coefficients) not in claim.applies_to
    with pytest.raises(ClaimViolation):
        claim.check(inst)


def _refute(m: Mutant, *, shrink: bool = False):
    return search(m.check, m.strategy(), examples=examples(m.ci_examples), seed=0, shrink=shrink,
                  crash_is_counterexample=False)


@pytest.mark.parametrize(("claim", "mutant"), MUTANTS, ids=[f"{c.id}-{m.name}" for c, m in MUTANTS])
def test_mutant_is_refuted(claim: Claim, mutant: Mutant) -> None:
    res = _refute(mutant)
    assert res.found, f"{claim.id} mutant '{mutant.name}' survived {res.examples} examples: {mutant.statement}"
    assert res.message and not res.message.startswith("crash"), res.message


#: Mutants whose refuting instance lies outside the claim's own strategy or hypothesis (another class,
#: an untied SAE, a single fixed pair of concepts), so the claim need not hold on it.
_OUTSIDE = {("C-P2", "coarse"), ("C-AG", "coarse"), ("C-CO", "coarse")}


_INSIDE = [(c, m) for c, m in MUTANTS if (c.id, m.name) not in _OUTSIDE]


def test_outside_mutants_are_registered() -> None:
    """Every exempted pair names a real claim and mutant, so the exemption list cannot go stale."""
    assert _OUTSIDE <= {(c.id, m.name) for c, m in MUTANTS}


@pytest.mark.parametrize(("claim", "mutant"), _INSIDE, ids=[f"{c.id}-{m.name}" for c, m in _INSIDE])
def test_mutant_counterexample_is_not_a_claim_counterexample(claim: Claim, mutant: Mutant) -> None:
    res = _refute(mutant)
    assert res.found
    inst = res.instance
    if (inst.encoder, inst.coefficients) in claim.applies_to:
        with warnings.catch_warnings():  # C-T4's check calls assume() for its hypothesis D*_k < D_min
            warnings.simplefilter("ignore", HypothesisDeprecationWarning)
            claim.check(inst)


def test_registry_contract() -> None:
    """Unique ids and mutant names, applies_to within the classes, known failures outside, a scope in
    words and at least one near-miss mutant per claim."""
    ids = [c.id for c in CLAIMS]
    assert len(set(ids)) == len(ids)
    for c in CLAIMS:
        assert c.mutants and any(m.near_miss for m in c.mutants), c.id
        names = [m.name for m in c.mutants]
        assert len(set(names)) == len(names), c.id
        assert set(c.applies_to) <= set(ALL_CLASSES), c.id
        for kf in c.known_false:
            assert not set(kf.classes) & set(c.applies_to), c.id
        assert c.scope.strip(), c.id


# ---------------------------------------------------------------------- hand-computed examples
def test_t4_equality_witness() -> None:
    """C-T4's strict form fails exactly when D̄ = D*_k: on π = {{0,1}: 1}, m = 2, k = 1, D*_1 = 0 (one
    latent with atom {0,1}), D_min = 1, and the uncapped omission code {0},{1} reaches D = 0 with
    R = 2 = E|S| − D*_k (worked by hand). The claim holds; its strict mutant is refuted."""
    from proofs_check.claims.c_t4 import CLAIM, _t4_witness_equality, check_t4_strict_mutant
    from proofs_check.reference import optimum

    inst = _t4_witness_equality()
    d_star = optimum(inst.problem(minimize="distortion"))
    assert float(d_star.objective) == 0.0
    mono = optimum(inst.problem(k=2, minimize="rate", max_distortion=0.0, max_poly=0.0))
    assert float(mono.objective) == 2.0
    with warnings.catch_warnings():  # the check calls assume() for its hypothesis D*_k < D_min
        warnings.simplefilter("ignore", HypothesisDeprecationWarning)
        CLAIM.check(inst)
        with pytest.raises(ClaimViolation):
            check_t4_strict_mutant(inst)



def test_co_witnesses() -> None:
    """C-CO existence part: a zero-correlation pmf whose optimum hedges, a strongly correlated one whose
    optimum does not — in every class and mode."""
    from proofs_check.claims.c_co import check_co_witnesses, co_witnesses

    cors = {label: float(inst.pmf.correlation()[0, 1]) for inst, _, label in co_witnesses()}
    assert any(abs(c) < 1e-12 for c in cors.values())
    assert any(c >= 0.5 for c in cors.values())
    check_co_witnesses()


def test_p2_hand_example() -> None:
    """π = {{0}: ½, {0,1}: ½}, A = {0} reconstructed in full: R = 1, D = ½ = p_1 (computed by hand)."""
    from rdp_exact import theory
    from rdp_exact.pmf import ConceptPMF

    pmf = ConceptPMF.from_events(2, [(1, 0.5), (3, 0.5)])
    r, d = theory.conservation(pmf, 1, {1: 1, 3: 1})
    assert (r, d) == (1.0, 0.5)
    assert theory.conservation_bound(pmf, 1) == 0.5
    r, d = theory.conservation(pmf, 1, {1: 1})  # omit concept 0 on {0,1}: D above the bound
    assert (r, d) == (0.5, 1.0)


def test_e1_hand_example_uniform() -> None:
    """Uniform π over the 8 events, k = 2: hedged({0,1},{2}) has D = p_0 + p_1 − 2p_01 = ½ and
    R = p_01 + p_2 = ¾; mono({0},{1}) has D = p_2 = ½, R = p_0 + p_1 = 1 (computed by hand)."""
    from rdp_exact import theory
    from rdp_exact.pmf import ConceptPMF

    pmf = ConceptPMF.from_events(3, [(e, 1 / 8) for e in range(8)])
    forms = theory.example1_closed_forms(pmf, 2)
    hedged = next(c.name for c in theory.example1_codes() if c.family == "hedged" and c.atoms == (3, 4))
    mono = next(c.name for c in theory.example1_codes() if c.family == "monosemantic" and c.atoms == (1, 2))
    assert forms[hedged] == (0.5, 0.75)
    assert forms[mono] == (0.5, 1.0)
