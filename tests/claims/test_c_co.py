"""C-CO (co-occurrence, not correlation): property test under the active Hypothesis profile (``ci`` in ``make test``)."""

from __future__ import annotations

from proofs_check.claims import get
from tests.claims._claimtest import property_test

CLAIM = get("C-CO")

test_claim_holds = property_test(CLAIM)


def test_witnesses() -> None:
    """Existence part: a zero-correlation pmf whose optimum hedges, a strongly correlated one whose
    optimum does not — in every class and mode."""
    from proofs_check.claims import check_co_witnesses, co_witnesses

    cors = {label: float(inst.pmf.correlation()[0, 1]) for inst, _, label in co_witnesses()}
    assert any(abs(c) < 1e-12 for c in cors.values())
    assert any(c >= 0.5 for c in cors.values())
    check_co_witnesses()
