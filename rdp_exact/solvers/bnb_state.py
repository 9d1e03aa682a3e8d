"""Search state shared by the serial and the parallel branch-and-bound (:mod:`rdp_exact.solvers.bnb_free`,
:mod:`rdp_exact.solvers.bnb_parallel`): the two ways a search stops early and its counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Slack added to float comparisons of D (sums of products of probabilities and small integers).
FLOAT_SLACK = 1e-12


class Timeout(Exception):
    """A time or node limit was met (the search's ``interrupt_bound`` is set before it is raised)."""


class TooManyTies(Exception):
    """More near-optimal sets than the tie-break may record."""


@dataclass
class Stats:
    """Counters of one search (or of one parallel task)."""

    nodes: int = 0
    evaluated: int = 0
    records: int = 0
    incumbent_D: float | None = None
    incumbent_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
