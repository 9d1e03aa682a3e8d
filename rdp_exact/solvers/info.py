"""Typed ``Solution.info`` records, one per backend (frozen; serialised by ``to_dict`` into the JSON ``info``).

The common fields (``requested``, ``route``, ``notes``, ``extra``) live on
:class:`~rdp_exact.problem.SolverInfo`; keys a backend reports without a typed field stay in ``extra``,
so nothing is lost when a backend grows a new diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from rdp_exact.problem import SolverInfo, _jsonable

T = TypeVar("T", bound=SolverInfo)


def from_mapping(cls: type[T], data: Mapping[str, Any], **overrides: Any) -> T:
    """``cls`` with its typed fields taken from ``data`` and every other key kept in ``extra``."""
    if isinstance(data, cls):
        return replace(data, **overrides)
    if isinstance(data, SolverInfo):
        data = data.to_dict()
    names = {f.name for f in fields(cls)} - {"extra"}
    typed = {key: v for key, v in data.items() if key in names}
    if "notes" in typed:
        typed["notes"] = tuple(typed["notes"])
    extra = {key: v for key, v in data.items() if key not in names}
    return cls(**{**typed, **overrides}, extra=extra)


@dataclass(frozen=True, kw_only=True)
class BruteInfo(SolverInfo):
    """Exhaustive enumeration (:mod:`rdp_exact.solvers.brute`)."""

    method: str | None = None
    """Enumeration variant (e.g. ``threshold-enumeration``)."""
    atom_sets: int | None = None
    """Atom sets in the search space (free class)."""


@dataclass(frozen=True, kw_only=True)
class BnbInfo(SolverInfo):
    """Branch-and-bound over atom sets (:mod:`rdp_exact.solvers.bnb_free`)."""

    formulation: str = "bnb"
    """Always ``bnb`` (kept for tables that group results by formulation)."""
    candidate_atoms: int | None = None
    """Atoms helpful on some event (the search universe)."""
    nodes: int | None = None
    """Search nodes visited."""
    events: int | None = None
    """Support size N (events with positive probability)."""
    screened_nodes: int | None = None
    """Of those nodes, children with :data:`~rdp_exact.solvers.bnb_free.SCREEN_R` atoms left that one compiled
    screen pruned without a visit (unset: the screen was off)."""
    sets_evaluated: int | None = None
    """Atom sets whose exact D was computed (every child of every visited node)."""
    search_s: float | None = None
    """Seconds from the start of the method to the end of the search (symmetry and local search included)."""
    heuristic_objective: float | None = None
    """D of the local-search incumbent."""
    heuristic_s: float | None = None
    """Seconds spent in the local search."""
    heuristic_restarts: int | None = None
    """Local-search restarts."""
    root_bound: float | None = None
    """Lower bound on D* at the root node (after the root's multiplier tuning), clipped to [0, incumbent]."""
    root_gap: float | None = None
    """(D − root_bound)/D for the reported D (the proven D* when optimal): how much the search had to close."""
    rank_one_bound: float | None = None
    """Lower bound on D* from the rank-one column LP at the root (:mod:`rdp_exact.solvers.rank_one`)."""
    rank_one_converged: bool | None = None
    """Whether that LP's column generation converged within its time share (the bound is valid either way)."""
    rank_one_aborted: bool | None = None
    """Whether it gave up early (bound still far below the incumbent after a second, nothing excluded)."""
    rank_one_rounds: int | None = None
    """Pricing rounds of that column generation."""
    rank_one_s: float | None = None
    """Seconds spent in it."""
    rank_one_excluded: int | None = None
    """Candidate atoms it proved to be in no atom set with D ≤ incumbent + TOL (dropped before the search)."""
    rank_one_nodes: int | None = None
    """Search nodes at which that LP was re-solved with the node's atoms forced in (its duals then bound the
    node's subtree; :data:`rdp_exact.solvers.bnb_free.RANK_ONE_FORCE_DEPTH`)."""
    rank_one_node_s: float | None = None
    """Seconds those re-solves took in all."""
    candidate_atoms_kept: int | None = None
    """Candidate atoms left for the search after that fixing."""
    parallel_workers: int | None = None
    """Worker processes that searched the subtrees below the split depth (unset: the search ran serially;
    :mod:`rdp_exact.solvers.bnb_parallel`)."""
    parallel_tasks: int | None = None
    """Subtrees handed to those workers."""
    symmetry_group_order: int | None = None
    """|G| of the concept-automorphism group used for orbital branching (1: none; None: symmetry off)."""
    symmetry_group_full: bool | None = None
    """False when a pointwise stabiliser (a subgroup, still valid) replaced the full group."""
    near_optimal_sets: int | None = None
    """Valid atom sets with D ≤ D* + TOL examined by the tie-break."""
    budgets_checked: str | None = None
    """For a query with budgets: how they were decided (cutoff on D, or the unbudgeted optimum met R/P)."""
    budget_binds: str | None = None
    """Set when a rate or poly budget excludes the unbudgeted canonical optimum: bnb does not answer such a
    query (status ``limit``, bound = unbudgeted D*); ``auto`` then runs the integer program."""
    declined: str | None = None
    """Set when the search finished but the method does not answer this query (a binding rate/poly budget, or
    a threshold-class query whose free optimum is not threshold-realisable); ``auto`` then runs the integer
    program. The status is ``limit`` and ``bound`` is still a valid lower bound."""
    ignored_options: tuple[str, ...] | None = None
    """Options the method did not recognise."""
    not_proven_reason: str | None = None
    """Why the status is not optimal (time limit, node limit, too many ties, a binding budget)."""


@dataclass(frozen=True, kw_only=True)
class StageInfo:
    """One stage of the lexicographic driver (:mod:`rdp_exact.solvers.mip_lex`)."""

    quantity: str
    """``distortion``, ``rate`` or ``poly``."""
    status: str
    """A :class:`~rdp_exact.problem.Status` value, or ``skipped`` when no time was left."""
    value: float | None
    """Exact value of the quantity at the stage's incumbent."""
    bound: float | None
    """Engine bound (true units) when reported."""
    wall_s: float
    """Seconds spent in this stage."""
    engine: Mapping[str, Any] = field(default_factory=dict)
    """Engine details (status string, nodes, gaps, ...)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "status": str(self.status),
            "value": self.value,
            "bound": self.bound,
            "wall_s": self.wall_s,
            **_jsonable(dict(self.engine)),
        }


@dataclass(frozen=True, kw_only=True)
class MipInfo(SolverInfo):
    """An integer program of :mod:`rdp_exact.solvers.mip_model` solved by HiGHS, CP-SAT or SCIP."""

    formulation: str | None = None
    """``pattern``, ``usage``, ``usage-full`` or ``threshold``."""
    model: Mapping[str, Any] = field(default_factory=dict)
    """Formulation statistics (atoms, patterns, uses, ...), written as ``model_<key>``."""
    columns: int | None = None
    rows: int | None = None
    prob_scale: int | str | None = None
    """Probability denominator (exact scaling) or ``2^s``."""
    exact_scaling: bool | None = None
    scaling_error_bound: Mapping[str, float] | None = None
    """Σ_S |π_S − q_S·unit|·spread_S for D and R."""
    build_s: float | None = None
    """Seconds to build the formulation."""
    heuristic_objective: float | None = None
    heuristic_s: float | None = None
    stages: tuple[StageInfo, ...] = ()
    """The lexicographic stages, in order."""
    build_interrupted: str | None = None
    """Set when the time limit ran out before the model was built."""
    trivial_bound: str | None = None
    """Set when a stage was proven by the trivial bound 0 (e.g. D = 0) instead of the engine."""
    budget_violation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        model = out.pop("model", {})
        stages = [s.to_dict() for s in self.stages]
        out.pop("stages", None)
        out.update({f"model_{key}": v for key, v in model.items() if not key.startswith("_")})
        out["stages"] = stages
        return out


__all__ = ["BnbInfo", "BruteInfo", "MipInfo", "StageInfo", "from_mapping"]
