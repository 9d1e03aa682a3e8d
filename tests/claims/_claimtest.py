"""Shared body of the per-claim test modules (``test_c_*.py``)."""

from __future__ import annotations

import pytest
from hypothesis import given

from proofs_check.claims import Claim, ClaimViolation
from proofs_check.profiles import claim_settings


def property_test(claim: Claim):
    """A ``@given`` test that runs ``claim.check`` on its strategy under the active profile."""

    @claim_settings(claim.ci_examples)
    @given(claim.draws())
    def test_claim_holds(inst) -> None:
        claim.check(inst)

    test_claim_holds.__doc__ = f"{claim.id} holds where it applies: {claim.statement}"
    return test_claim_holds


def known_failures_test(claim: Claim):
    """Each documented counterexample (falsifier.md) is still refuted by the unchanged check."""

    @pytest.mark.parametrize("kf", claim.known_false, ids=[str(kf.classes) for kf in claim.known_false])
    def test_known_failure_is_real(kf) -> None:
        inst = kf.witness()
        assert (inst.encoder, inst.coefficients) in kf.classes
        with pytest.raises(ClaimViolation):
            claim.check(inst)

    return test_known_failure_is_real
