"""C-D3 (proxy criterion): property test under the active Hypothesis profile (``ci`` in ``make test``)."""

from __future__ import annotations

from proofs_check.claims import get
from tests.claims._claimtest import property_test

CLAIM = get("C-D3")

test_claim_holds = property_test(CLAIM)
