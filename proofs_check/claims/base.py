"""The pieces every claim module shares: :class:`Claim`, :class:`Mutant`, :class:`KnownFailure`,
:class:`ClaimViolation` and small helpers.

A :class:`Claim` carries

* ``statement`` — the claim in words (our notation, DESIGN §2);
* ``check(instance)`` — raises :class:`ClaimViolation` with a readable explanation on a counterexample
  (brute force, :func:`proofs_check.reference.optimum`, is the reference wherever it is used);
* ``strategy(classes)`` — the Hypothesis strategy of instances it draws from, for the given
  (encoder class, coefficient mode) pairs; ``draws()`` uses ``applies_to``;
* ``applies_to`` — the classes and modes where the claim HOLDS (as far as the falsifier found), and
  ``scope`` — the hypotheses and modes in words;
* ``known_false`` — where it does not, with a concrete counterexample (``witness``) that the tests
  check is still refuted (a claim that silently became true there would be news too);
* ``mutants`` — deliberately false variants, each with its own check; the falsifier must refute every
  one, or the check has no teeth (STYLE "Do" 11). The first is the coarse historical mutant; the
  others are *near misses*: the smallest change to the statement that is still false (issue 14).

Instances are :class:`proofs_check.strategies.Instance` records (JSON-serialisable, replayable with
``rdp solve``). The checks are independent of the order in which they are run; solves are cached.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.strategies import Instance
from rdp_exact.pmf import ConceptPMF
from rdp_exact.sae import CombinatorialSAE

Classes = tuple[tuple[str, str], ...]
_T = TypeVar("_T")
FREE: Classes = (("free", "integer"), ("free", "disjoint"))
THRESHOLD: Classes = (("threshold", "integer"), ("threshold", "disjoint"))

#: Tolerance for equalities between exact values computed in different orders.
EQ_TOL = 1e-9

#: Examples a mutant search may use under the ``ci`` profile unless the mutant says otherwise.
MUTANT_CI_EXAMPLES = 60

#: Per-claim counters filled by checks (e.g. how often Example 1's optimum is none of the three
#: structures); the runner writes them into the report.
STATS: dict[str, Counter[str]] = {}


class ClaimViolation(AssertionError):
    """A drawn instance contradicts a claim; the message explains how."""


def violation(cond: bool, message: str) -> None:
    """Raise :class:`ClaimViolation` with ``message`` unless ``cond``."""
    if not cond:
        raise ClaimViolation(message)


def close(a: float, b: float, tol: float = EQ_TOL) -> bool:
    """|a − b| ≤ tol, with ∞ = ∞."""
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol


@dataclass(frozen=True)
class Mutant:
    """A deliberately false variant of a claim."""

    statement: str
    """The false statement in words."""
    check: Callable[[Instance], None]
    """Raises :class:`ClaimViolation` on an instance that refutes the mutant."""
    strategy: Callable[[], st.SearchStrategy[Instance]]
    """Instances to search for a refutation."""
    name: str = "coarse"
    """Short slug, unique within the claim (file names: ``<id>.mutant.<name>.json``)."""
    near_miss: bool = False
    """The smallest still-false change to the claim (issue 14), as opposed to a coarse one."""
    ci_examples: int = MUTANT_CI_EXAMPLES
    """Examples the CI test gives the search (scaled with the active Hypothesis profile)."""


@dataclass(frozen=True)
class KnownFailure:
    """Where a claim is false, with a concrete counterexample."""

    classes: Classes
    """The (encoder, mode) pairs where the claim fails."""
    summary: str
    """Why, in words, with the witness."""
    witness: Callable[[], Instance]
    """A concrete instance on which the unchanged check raises."""


def fails_threshold(summary: str, n: int, events: list[tuple[int, float]], width: int, k: int,
                      **query: Any) -> KnownFailure:
    """A :class:`KnownFailure` in the threshold class (both modes) whose witness is the threshold/integer
    instance with pmf ``events`` (bitmask, mass) over ``n`` concepts, ``width`` latents, cap ``k`` and the
    query fields ``query`` (objective, budgets, encoder weights) of :class:`Instance`."""

    def witness() -> Instance:
        pmf = ConceptPMF.from_events(n, events)
        return Instance(pmf=pmf, width=width, k=k, encoder="threshold", coefficients="integer", **query)

    return KnownFailure(THRESHOLD, summary, witness)


def _default_replay(inst: Instance, path: str) -> list[str]:
    return [inst.solve_command(path)]


@dataclass(frozen=True)
class Claim:
    """One claim of DESIGN §2 (one module of :mod:`proofs_check.claims` defines one)."""

    id: str
    """``C-XX``, as in DESIGN §2."""
    title: str
    """A few words."""
    statement: str
    """The claim in words."""
    check: Callable[[Instance], None]
    """Raises :class:`ClaimViolation` on a counterexample."""
    strategy: Callable[[Classes], st.SearchStrategy[Instance]]
    """Instances of the given (encoder, mode) classes."""
    applies_to: Classes
    """The (encoder, mode) classes where the claim holds."""
    mutants: tuple[Mutant, ...]
    """False variants the check must refute (at least one near miss)."""
    scope: str = ""
    """Classes, modes and hypotheses where the claim holds, in words (issue 14 §3)."""
    known_false: tuple[KnownFailure, ...] = ()
    """Where it fails, with witnesses."""
    replay: Callable[[Instance, str], list[str]] = field(default=_default_replay)
    """``rdp solve`` commands that replay the queries a counterexample involves."""
    ci_examples: int = 60
    """Examples per run of the pytest module under the ``ci`` profile (scaled for other profiles)."""
    deep_seconds: float | None = None
    """Time limit per search under the ``deep`` profile when this claim's examples cost more than the profile's
    default limit allows for its 10,000 examples (None: the profile's limit)."""

    def draws(self, classes: Classes | None = None) -> st.SearchStrategy[Instance]:
        """The claim's strategy over ``classes`` (default: where the claim applies)."""
        return self.strategy(classes or self.applies_to)

    @property
    def mutant(self) -> Mutant:
        """The first (coarse) mutant."""
        return self.mutants[0]


def present(value: _T | None, what: str) -> _T:
    """``value``, which the check's logic guarantees is set (the SAE or (D, R, P) of a feasible solution);
    None raises TypeError naming ``what``, as ``float(None)`` would (a fault of the check, never a
    counterexample)."""
    if value is None:
        raise TypeError(f"{what} is None")
    return value


def problem_value(inst: Instance, **changes: Any) -> tuple[float, Any]:
    """(optimal objective or +∞, Solution) of the instance's query with ``changes``."""
    sol = ref.optimum(inst.problem(**changes))
    return ref.value(sol), sol


def triple(sol: Any) -> tuple[float, float, float]:
    """(D, R, P) of a solution."""
    return float(sol.distortion), float(sol.rate), float(sol.poly)


def sae_of(inst: Instance) -> CombinatorialSAE:
    """The SAE stored in ``inst.extra`` (``atoms`` plus ``code`` or ``encoder``)."""
    atoms = [int(a) for a in inst.extra["atoms"]]
    if "encoder" in inst.extra:
        return CombinatorialSAE.threshold(
            inst.pmf.n, atoms, [(tuple(w), int(t)) for w, t in inst.extra["encoder"]], inst.coefficients  # type: ignore[arg-type]
        )
    code = {int(ev): [int(j) for j in act] for ev, act in inst.extra["code"]}
    return CombinatorialSAE.free(inst.pmf.n, atoms, code, inst.coefficients)  # type: ignore[arg-type]


