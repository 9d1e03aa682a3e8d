"""Queries and their results (DESIGN §1.4, §4, §5.2).

A :class:`Problem` is one query of §1.4 for fixed π, m, k, encoder class and coefficient mode:
minimise one of D, R, P subject to optional budgets R ≤ r, D ≤ δ, P ≤ ρ_P and the cap k. The result
is canonical: after the primary objective the remaining quantities are minimised lexicographically in
the order D, R, P (skipping the primary), see :func:`lex_order`.

A :class:`Solution` records the status, objective, best bound, gap, solver and version, wall time, the
SAE and its exact evaluation. Only ``optimal`` with gap 0 may be called exact (:attr:`Solution.is_exact`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, Literal, Self

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF, concepts_of
from rdp_exact.sae import CoefficientMode, CombinatorialSAE, EncoderClass, Evaluation, PolyMeasure
from rdp_exact.validate import check_choice, check_count, check_optional_finite

Objective = Literal["distortion", "rate", "poly"]

#: Absolute tolerance when comparing R, D or P with a budget or with each other.
TOL = 1e-9


class Status(StrEnum):
    """Termination status of a solve."""

    OPTIMAL = "optimal"
    """Proven optimal: objective equals the best bound (gap 0) and the tie-break is proven too."""
    FEASIBLE = "feasible"
    """An SAE meeting every constraint was found, optimality not proven (e.g. a heuristic)."""
    INFEASIBLE = "infeasible"
    """Proven: no SAE of the class meets the budgets."""
    LIMIT = "limit"
    """A time or node limit stopped the solver before a proof; the best SAE found (if any) is kept."""


class SolverName(StrEnum):
    """The methods ``rdp_exact.solvers.solve`` can route a query to (DESIGN §4)."""

    AUTO = "auto"
    """Pick a method per query (:mod:`rdp_exact.solvers.auto`); the :class:`Solution` names the one that ran."""
    BRUTE = "brute"
    """Exhaustive enumeration (:mod:`rdp_exact.solvers.brute`): the oracle every other method is tested against."""
    BNB = "bnb"
    """Exact branch-and-bound over atom sets (:mod:`rdp_exact.solvers.bnb_free`): free class, min D, no budgets."""
    HIGHS = "highs"
    """The integer programs of :mod:`rdp_exact.solvers.mip_model` solved by HiGHS (:mod:`rdp_exact.solvers.milp`)."""
    CPSAT = "cpsat"
    """The same integer programs solved by OR-Tools CP-SAT (:mod:`rdp_exact.solvers.cpsat`)."""
    SCIP = "scip"
    """The same integer programs solved by SCIP through PySCIPOpt (:mod:`rdp_exact.solvers.scip`)."""


@dataclass(frozen=True, kw_only=True)
class SolverInfo(Mapping[str, Any]):
    """Typed backend details of one solve; each backend has a subclass (:mod:`rdp_exact.solvers.info`).

    Read like a mapping (``info["nodes"]``, ``info.get("formulation")``) over :meth:`to_dict`, which is
    what the JSON ``info`` block holds. Fields that are None are left out of the dict.
    """

    requested: str | None = None
    """The ``solver`` the caller asked for (``auto`` or a method name); None when a backend was called directly."""
    route: str | None = None
    """Why this method answered (the ``auto`` rule that fired, or "requested")."""
    notes: tuple[str, ...] = ()
    """Remarks for the user (a clamped width, a bound that closed trivially, ...)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Backend keys without a typed field."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``info`` object."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            v = getattr(self, f.name)
            if v is None or (f.name == "notes" and not v):
                continue
            out[f.name] = _jsonable(v)
        out.update(self.extra)
        return out

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


def _jsonable(v: Any) -> Any:
    if isinstance(v, SolverInfo):
        return v.to_dict()
    if isinstance(v, StrEnum):
        return v.value
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


class CappedQuery:
    """What every query shares (DESIGN §1.4, §1.2b): a pmf π, the width m ≥ 1 and the cap 1 ≤ k ≤ m.

    :class:`Problem` (the binary class) and :class:`rdp_exact.classes.ClassProblem` (the real classes) are
    frozen dataclasses that declare these three fields first and call ``super().__post_init__()``."""

    pmf: ConceptPMF
    width: int
    k: int

    def __post_init__(self) -> None:
        check_count("width", self.width)
        check_count("k", self.k)
        if self.k > self.width:
            raise InvalidArgument(f"k = {self.k} exceeds the width m = {self.width}")

    def with_(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[type-var]

    def _cap_dict(self) -> dict[str, Any]:
        """The keys every ``problem`` JSON block starts with: n, width, k."""
        return {"n": self.pmf.n, "width": self.width, "k": self.k}


@dataclass(frozen=True)
class Problem(CappedQuery):
    """One query of DESIGN §1.4 in the binary class."""

    pmf: ConceptPMF
    """The concept pmf π."""
    width: int
    """m, the number of latents (≥ 1)."""
    k: int
    """Per-sample cap on active latents, 1 ≤ k ≤ m."""
    minimize: Objective = "distortion"
    """Primary objective: distortion | rate | poly (the other two are tie-breaks, in the order D, R, P)."""
    max_rate: float | None = None
    """Budget r on R (expected L0), or None."""
    max_distortion: float | None = None
    """Budget δ on D, or None."""
    max_poly: float | None = None
    """Budget ρ_P on P, or None."""
    encoder: EncoderClass = "free"
    """Encoder class: ``free`` (any map) or ``threshold`` (realisable threshold units)."""
    coefficients: CoefficientMode = "integer"
    """``integer`` (overlaps add) or ``disjoint`` (active atoms pairwise disjoint)."""
    encoder_weights: Literal["ternary", "binary"] = "ternary"
    """Threshold class only: e_j ∈ {−1,0,1}^n (ternary) or {0,1}^n (binary)."""
    poly: PolyMeasure = "joint"
    """Threshold class only: which P the budget and objective use (P_joint or P_dec)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("minimize", self.minimize, ("distortion", "rate", "poly"))
        for name in ("max_rate", "max_distortion", "max_poly"):
            check_optional_finite(name.replace("_", "-"), getattr(self, name), min=0.0)
        check_choice("encoder", self.encoder, ("free", "threshold"))
        check_choice("coefficients", self.coefficients, ("integer", "disjoint"))
        check_choice("encoder weights", self.encoder_weights, ("ternary", "binary"))
        if self.encoder == "free" and self.encoder_weights != "ternary":
            raise InvalidArgument("encoder weights apply to the threshold class only: drop --encoder-weights or use --encoder threshold")
        check_choice("poly", self.poly, ("joint", "decoder"))

    @property
    def poly_measure(self) -> PolyMeasure:
        """The P this query uses: P_dec in the free class, else ``self.poly``."""
        return "decoder" if self.encoder == "free" else self.poly

    def to_dict(self) -> dict[str, Any]:
        """The ``problem`` block of the solve JSON (DESIGN §5.2)."""
        return {
            **self._cap_dict(),
            "encoder": self.encoder,
            "coefficients": self.coefficients,
            "minimize": self.minimize,
            "max_rate": self.max_rate,
            "max_distortion": self.max_distortion,
            "max_poly": self.max_poly,
            "poly": "decoder" if self.encoder == "free" else self.poly,
            "encoder_weights": self.encoder_weights if self.encoder == "threshold" else None,
        }


def lex_order(minimize: Objective) -> tuple[Objective, ...]:
    """Lexicographic objective order: the primary, then D, R, P without the primary."""
    rest = tuple(x for x in ("distortion", "rate", "poly") if x != minimize)
    return (minimize, *rest)  # type: ignore[return-value, arg-type]


def within_budgets(problem: Problem, rate: float, distortion: float, poly: float) -> bool:
    """Whether (R, D, P) meets the problem's budgets (tolerance :data:`TOL`)."""
    if problem.max_rate is not None and rate > problem.max_rate + TOL:
        return False
    if problem.max_distortion is not None and distortion > problem.max_distortion + TOL:
        return False
    return not (problem.max_poly is not None and poly > problem.max_poly + TOL)


class SolveRecord:
    """What every solve record shares (:class:`Solution`, :class:`rdp_exact.classes.ClassSolution`): the
    exactness rule, R and D of the returned SAE, and the head of the solve JSON (DESIGN §5.2).

    A subclass is a frozen dataclass with the fields ``problem``, ``status``, ``wall_time_s``, ``objective``,
    ``bound``, ``gap`` and ``evaluation`` (an object with ``rate`` and ``distortion``, or None)."""

    problem: Any
    status: Status
    wall_time_s: float
    objective: float | None
    bound: float | None
    gap: float | None
    evaluation: Any

    @property
    def is_exact(self) -> bool:
        """Only a proven optimum with zero gap is exact."""
        return self.status is Status.OPTIMAL and self.gap is not None and self.gap <= TOL

    @property
    def rate(self) -> float | None:
        """R of the returned SAE (None when no SAE)."""
        return None if self.evaluation is None else float(self.evaluation.rate)

    @property
    def distortion(self) -> float | None:
        """D of the returned SAE (None when no SAE)."""
        return None if self.evaluation is None else float(self.evaluation.distortion)

    def _json_head(self, sae_class: str, decoder_bias: bool, solver: str, version: str) -> dict[str, Any]:
        """The keys every solve JSON starts with, from ``problem`` to ``distortion``."""
        return {
            "problem": self.problem.to_dict(),
            "class": sae_class,
            "decoder_bias": decoder_bias,
            "status": self.status.value,
            "exact": self.is_exact,
            "solver": {"name": solver, "version": version},
            "wall_time_s": self.wall_time_s,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "rate": self.rate,
            "distortion": self.distortion,
        }


@dataclass(frozen=True)
class Solution(SolveRecord):
    """Typed record of one solve (DESIGN §4)."""

    problem: Problem
    """The query solved (after width clamping, see ``info.notes``)."""
    status: Status
    solver: str
    """The method that answered: a :class:`SolverName` value other than ``auto``."""
    solver_version: str
    """Real version of that method's engine (e.g. ``highspy 1.12.0``, ``ortools 9.15``, ``rdp 0.1.0``)."""
    wall_time_s: float
    objective: float | None = None
    """Primary objective value of the returned SAE (None when no SAE)."""
    bound: float | None = None
    """Best proven lower bound on the primary objective (None when unknown)."""
    gap: float | None = None
    """(objective − bound) / max(|objective|, 1e−9); 0 when proven; None when unknown."""
    sae: CombinatorialSAE | None = None
    evaluation: Evaluation | None = None
    info: SolverInfo = field(default_factory=SolverInfo)
    """Backend details (a typed record per backend): formulation, probability scaling, node counts, …
    A plain dict given here is wrapped as ``SolverInfo(extra=...)``."""

    def __post_init__(self) -> None:
        if not isinstance(self.info, SolverInfo):
            object.__setattr__(self, "info", SolverInfo(extra=dict(self.info)))

    @property
    def poly(self) -> float | None:
        """The query's P (P_dec in the free class, P_joint or P_dec in the threshold class)."""
        return None if self.evaluation is None else self.evaluation.poly(self.problem.poly_measure)

    def value(self, quantity: Objective) -> float | None:
        """R, D or P of the returned SAE by name."""
        return {"rate": self.rate, "distortion": self.distortion, "poly": self.poly}[quantity]

    def to_json_dict(self) -> dict[str, Any]:
        """The object written by ``rdp solve --json`` (DESIGN §5.2)."""
        pmf = self.problem.pmf
        ev = self.evaluation
        sae = self.sae
        code = None
        if ev is not None and sae is not None:
            code = [
                {
                    "event": concepts_of(e),
                    "p": float(p),
                    "active": list(act),
                    "coefficients": [int(c) for c in ev.coefficients[s]],
                    "error": float(ev.errors[s]),
                }
                for s, (e, p, act) in enumerate(zip(pmf.events, pmf.probs, ev.active, strict=True))
            ]
        return {
            **self._json_head("binary", False, self.solver, self.solver_version),
            "poly_dec": None if ev is None else ev.poly_dec,
            "poly_enc": None if ev is None else ev.poly_enc,
            "poly_joint": None if ev is None else ev.poly_joint,
            "atoms": None if sae is None else sae.sorted_atoms(),
            "encoder": None
            if sae is None or sae.encoder is None
            else [{"weights": list(u.weights), "threshold": u.threshold} for u in sae.encoder],
            "code": code,
            "info": self.info.to_dict(),
            "pmf_sha256": pmf.sha256(),
        }


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """(objective − bound) / max(|objective|, 1e−9), clipped at 0; None if either is unknown."""
    if objective is None or bound is None:
        return None
    g = (objective - bound) / max(abs(objective), 1e-9)
    return 0.0 if g <= TOL else g
