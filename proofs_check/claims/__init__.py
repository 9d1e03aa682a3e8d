"""The claims registry: one module per claim id of DESIGN §2.

Each module ``proofs_check/claims/c_<id>.py`` defines exactly one :class:`Claim` named ``CLAIM``
(check, strategy, mutants, scope, known failures). To add a claim, write such a module and append its
name to :data:`MODULES`; the runner (``rdp falsify``) and ``tests/claims/test_claims.py`` pick it up.
The registry contract (``test_registry_contract``): a unique id, a non-empty ``scope``, at least one
mutant with ``near_miss=True`` (each refuted within its ``ci_examples``), ``applies_to`` disjoint from the
classes of ``known_false``. Template: ``c_dt.py``.
"""

from __future__ import annotations

from importlib import import_module

from proofs_check.claims.base import (
    EQ_TOL,
    FREE,
    STATS,
    THRESHOLD,
    Claim,
    ClaimViolation,
    Classes,
    KnownFailure,
    Mutant,
    close,
    violation,
)

#: Claim modules, in report order.
MODULES: tuple[str, ...] = (
    "c_t3",
    "c_p2",
    "c_t5",
    "c_t4",
    "c_dt",
    "c_p1",
    "c_l1",
    "c_l1r",
    "c_e1",
    "c_co",
    "c_ag",
    "c_d3",
    "c_cm",
    "c_cb",
)

CLAIMS: tuple[Claim, ...] = tuple(import_module(f"{__name__}.{m}").CLAIM for m in MODULES)
REGISTRY: dict[str, Claim] = {c.id: c for c in CLAIMS}
CLAIM_IDS: tuple[str, ...] = tuple(REGISTRY)


def get(claim_id: str) -> Claim:
    """The claim with this id (KeyError names the known ids)."""
    try:
        return REGISTRY[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim id {claim_id!r} (known: {', '.join(CLAIM_IDS)})") from None


__all__ = [
    "CLAIMS", "CLAIM_IDS", "EQ_TOL", "FREE", "MODULES", "REGISTRY", "STATS", "THRESHOLD", "Claim", "ClaimViolation",
    "Classes", "KnownFailure", "Mutant", "close", "get", "violation",
]
