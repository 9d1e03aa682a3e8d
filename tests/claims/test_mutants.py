"""Every claim's mutant is refuted: the checks have teeth (DESIGN §2, STYLE "Do" 11)."""

from __future__ import annotations

import warnings

import pytest
from hypothesis.errors import HypothesisDeprecationWarning

from proofs_check.claims import CLAIM_IDS, get
from proofs_check.runner import search

#: Examples each mutant search may use; a mutant found later than this counts as surviving.
MUTANT_BUDGET = 200


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_mutant_is_refuted(claim_id: str) -> None:
    mutant = get(claim_id).mutant
    res = search(mutant.check, mutant.strategy(), examples=MUTANT_BUDGET, seed=0, shrink=False,
                 crash_is_counterexample=False)
    assert res.found, f"{claim_id} mutant survived {res.examples} examples: {mutant.statement}"
    assert res.message and not res.message.startswith("crash"), res.message


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_claim_and_mutant_disagree_on_the_mutant_counterexample(claim_id: str) -> None:
    """The counterexample that refutes the mutant is not a counterexample to the claim (where the
    claim applies): the mutant really is a different statement."""
    claim = get(claim_id)
    res = search(claim.mutant.check, claim.mutant.strategy(), examples=MUTANT_BUDGET, seed=0, shrink=False)
    assert res.found
    inst = res.instance
    if (inst.encoder, inst.coefficients) in claim.applies_to and claim_id not in ("C-P2", "C-AG", "C-CO"):
        with warnings.catch_warnings():  # C-T4's check calls assume() for its hypothesis D*_k < D_min
            warnings.simplefilter("ignore", HypothesisDeprecationWarning)
            claim.check(inst)
