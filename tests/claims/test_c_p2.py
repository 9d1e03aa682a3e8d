"""C-P2 (conservation law): property test under the active Hypothesis profile (``ci`` in ``make test``)."""

from __future__ import annotations

from proofs_check.claims import get
from tests.claims._claimtest import known_failures_test, property_test

CLAIM = get("C-P2")

test_claim_holds = property_test(CLAIM)
test_known_failure_is_real = known_failures_test(CLAIM)


def test_hand_example() -> None:
    """π = {{0}: ½, {0,1}: ½}, A = {0} reconstructed in full: R = 1, D = ½ = p_1 (computed by hand)."""
    from rdp_exact import theory
    from rdp_exact.pmf import ConceptPMF

    pmf = ConceptPMF.from_events(2, [(1, 0.5), (3, 0.5)])
    r, d = theory.conservation(pmf, 1, {1: 1, 3: 1})
    assert (r, d) == (1.0, 0.5)
    assert theory.conservation_bound(pmf, 1) == 0.5
    r, d = theory.conservation(pmf, 1, {1: 1})  # omit concept 0 on {0,1}: D above the bound
    assert (r, d) == (0.5, 1.0)
