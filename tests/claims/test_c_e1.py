"""C-E1 (three-concept example): property test under the active Hypothesis profile (``ci`` in ``make test``)."""

from __future__ import annotations

from proofs_check.claims import get
from tests.claims._claimtest import known_failures_test, property_test

CLAIM = get("C-E1")

test_claim_holds = property_test(CLAIM)


def test_hand_example_uniform() -> None:
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
test_known_failure_is_real = known_failures_test(CLAIM)
