"""C-L1 (closed-form loss): property test under the active Hypothesis profile (``ci`` in ``make test``)."""

from __future__ import annotations

from proofs_check._claimtest import property_test
from proofs_check.claims import get

CLAIM = get("C-L1")

test_claim_holds = property_test(CLAIM)
