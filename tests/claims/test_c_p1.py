"""C-P1 (tiedness): property test under the active Hypothesis profile (``ci`` in ``make test``)."""

from __future__ import annotations

from proofs_check.claims import get
from tests.claims._claimtest import known_failures_test, property_test

CLAIM = get("C-P1")

test_claim_holds = property_test(CLAIM)
test_known_failure_is_real = known_failures_test(CLAIM)
