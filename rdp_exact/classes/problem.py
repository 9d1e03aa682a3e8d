"""Queries and results in the SAE classes of DESIGN §1.2b (binary, real-atoms, real-codes, ± decoder bias).

A :class:`ClassProblem` is min D under the cap k (D*_k of the class), optionally with a rate budget
R ≤ r, for fixed π, m, k, class and bias. A :class:`ClassSolution` is the typed record of one solve: status
(:class:`rdp_exact.problem.Status`), objective, best bound, gap, method name and version, wall time, and the SAE
in canonical form — real atoms (rows in concept coordinates, dead latents dropped), the bias vector, the firing
map and the real codes — with its exact R, D and P (P of the real atoms by :mod:`rdp_exact.polysemanticity`,
bias excluded).

Every reported (R, D, P) is recomputed here from the returned SAE by :func:`evaluate_real`, never copied from a
solver's objective, so an SAE reported with D is an SAE that reaches D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rdp_exact.pmf import ConceptPMF, concepts_of
from rdp_exact.polysemanticity import polysemanticity
from rdp_exact.problem import TOL, CappedQuery, SolveRecord, Status
from rdp_exact.validate import check_choice, check_optional_finite

SAEClass = Literal["binary", "real-atoms", "real-codes"]

#: Every SAE class, smallest first (binary ⊂ real-atoms ⊂ real-codes; each ⊂ its bias version).
CLASSES: tuple[str, ...] = ("binary", "real-atoms", "real-codes")

#: An SAE evaluated within this of a proven dual bound counts as optimal (SCIP's feasibility tolerance is 1e−6).
PROOF_TOL = 1e-6

#: Rows with norm at most this are dead (dropped from the canonical form).
DEAD_NORM = 1e-9


def default_code_bound(pmf: ConceptPMF) -> float:
    """Default cap a_max on real codes (``real-codes``, k ≥ 2 or bias): 2·√n.

    With unit-norm atoms, a code above ||x_S|| ≤ √n is only useful when nearly opposite atoms cancel; 2·√n
    leaves room for moderate cancellation. For k = 1 without bias the cap never binds (the optimal code is
    ⟨x_S, w⟩ ≤ √|S|), see :mod:`rdp_exact.classes.kone`.
    """
    return 2.0 * math.sqrt(pmf.n)


@dataclass(frozen=True)
class ClassProblem(CappedQuery):
    """min D under the cap k (and an optional rate budget) in one SAE class (DESIGN §1.2b)."""

    pmf: ConceptPMF
    """The concept pmf π."""
    width: int
    """m, the number of latents (≥ 1)."""
    k: int
    """Per-sample cap on active latents, 1 ≤ k ≤ m."""
    sae_class: SAEClass = "real-atoms"
    """``binary`` (0/1 atoms, unit codes), ``real-atoms`` (real atoms, code 1) or ``real-codes`` (real atoms,
    nonnegative real codes, ||w_j|| ≤ 1)."""
    decoder_bias: bool = False
    """Add a free bias b ∈ R^n to every reconstruction (not counted in the rate)."""
    max_rate: float | None = None
    """Budget r on R = Σ π(S)|z(S)|, or None."""
    code_bound: float | None = None
    """``real-codes`` only: cap a_max on every code (None: :func:`default_code_bound`). Part of the class: an
    optimum is proven within codes ≤ a_max. Ignored (never binding) for k = 1 without bias."""
    max_poly: float | None = None
    """Budget on P, or None. Only P ≤ 0 (monosemantic atoms: each live atom on one concept, DESIGN §1.3) has
    an exact method in the real classes; any other value is refused."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("SAE class", self.sae_class, CLASSES)
        check_optional_finite("max-rate", self.max_rate, min=0.0)
        check_optional_finite("code bound", self.code_bound, positive=True)
        check_optional_finite("max-poly", self.max_poly, min=0.0)
        if self.max_poly is not None and self.max_poly != 0 and self.sae_class != "binary":
            from rdp_exact.errors import InvalidArgument

            raise InvalidArgument(f"--class {self.sae_class} takes a P budget of 0 only (monosemantic atoms), got "
                                  f"{self.max_poly:g}: no exact method bounds 0 < P ≤ ρ over real atoms")

    @property
    def monosemantic(self) -> bool:
        """True under the budget P ≤ 0 (every live atom along one concept)."""
        return self.max_poly is not None and self.max_poly <= 0

    @property
    def a_max(self) -> float:
        """The code cap in force (``real-codes``)."""
        return float(self.code_bound) if self.code_bound is not None else default_code_bound(self.pmf)

    @property
    def label(self) -> str:
        """``real-codes+bias`` style name of the class."""
        return self.sae_class + ("+bias" if self.decoder_bias else "")

    def to_dict(self) -> dict[str, Any]:
        """The ``problem`` block of the class-solve JSON."""
        return {
            **self._cap_dict(),
            "class": self.sae_class,
            "decoder_bias": self.decoder_bias,
            "minimize": "distortion",
            "max_rate": self.max_rate,
            "max_poly": self.max_poly,
            "code_bound": self.a_max if self.sae_class == "real-codes" else None,
        }


@dataclass(frozen=True)
class RealEvaluation:
    """Exact (R, D, P) of a real SAE on a pmf, in canonical form."""

    rate: float
    distortion: float
    poly: float
    """P of the live atoms (bias excluded), DESIGN §1.3."""
    errors: np.ndarray = field(repr=False)
    """Squared error per event [N]."""
    reconstructions: np.ndarray = field(repr=False)
    """x̂(S) per event [N, n]."""


@dataclass(frozen=True)
class RealSAE:
    """A decoder of a real class in concept coordinates, with its firing map and codes (canonical form)."""

    atoms: np.ndarray
    """W [m_live, n]: live atoms only (dead latents dropped)."""
    bias: np.ndarray
    """b [n] (zeros without a bias)."""
    active: tuple[tuple[int, ...], ...]
    """z(S): active latents per event (indices into ``atoms``)."""
    codes: tuple[tuple[float, ...], ...]
    """a_j(S) per event, aligned with ``active`` (all 1 in ``binary`` and ``real-atoms``)."""

    @property
    def width_live(self) -> int:
        return int(self.atoms.shape[0])


def evaluate_real(pmf: ConceptPMF, sae: RealSAE) -> RealEvaluation:
    """R = Σ π|z(S)|, D = Σ π ||x_S − x̂_S||², P of the atoms; x̂_S = b + Σ_{j∈z(S)} a_j(S) w_j."""
    X = pmf.indicator.astype(np.float64)
    W = np.asarray(sae.atoms, dtype=np.float64)
    recon = np.tile(np.asarray(sae.bias, dtype=np.float64), (X.shape[0], 1))
    for s, (act, cod) in enumerate(zip(sae.active, sae.codes, strict=True)):
        for j, a in zip(act, cod, strict=True):
            recon[s] += a * W[j]
    err = ((X - recon) ** 2).sum(axis=1)
    probs = np.asarray(pmf.probs, dtype=np.float64)
    rate = float(sum(p * len(a) for p, a in zip(probs, sae.active, strict=True)))
    poly = polysemanticity(W) if W.shape[0] else 0.0
    return RealEvaluation(rate=rate, distortion=float(probs @ err), poly=float(poly), errors=err,
                          reconstructions=recon)


def canonical(sae: RealSAE) -> RealSAE:
    """Drop dead latents (never active, or zero atom) and renumber; codes of exactly 0 count as not firing."""
    m = sae.atoms.shape[0]
    used = np.zeros(m, dtype=bool)
    act2: list[tuple[int, ...]] = []
    cod2: list[tuple[float, ...]] = []
    norms = np.linalg.norm(sae.atoms, axis=1) if m else np.zeros(0)
    for act, cod in zip(sae.active, sae.codes, strict=True):
        pairs = [(j, a) for j, a in zip(act, cod, strict=True) if a != 0.0 and norms[j] > DEAD_NORM]
        for j, _ in pairs:
            used[j] = True
        act2.append(tuple(j for j, _ in pairs))
        cod2.append(tuple(float(a) for _, a in pairs))
    new = -np.ones(m, dtype=int)
    new[used] = np.arange(int(used.sum()))
    return RealSAE(
        atoms=np.asarray(sae.atoms, dtype=np.float64)[used].copy(),
        bias=np.asarray(sae.bias, dtype=np.float64).copy(),
        active=tuple(tuple(int(new[j]) for j in a) for a in act2),
        codes=tuple(cod2),
    )


@dataclass(frozen=True)
class ClassSolution(SolveRecord):
    """Typed record of one solve in an SAE class."""

    problem: ClassProblem
    status: Status
    method: str
    """``kone-bnb`` (k = 1 decomposition), ``scip-minlp``, ``reference`` or a binary backend."""
    method_version: str
    wall_time_s: float
    objective: float | None = None
    """D of the returned SAE (exact evaluation), None when no SAE."""
    bound: float | None = None
    """Best proven lower bound on D*."""
    gap: float | None = None
    """(objective − bound) / max(|objective|, 1e−9); 0 when proven."""
    sae: RealSAE | None = None
    evaluation: RealEvaluation | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def poly(self) -> float | None:
        """P of the live atoms (bias excluded)."""
        return None if self.evaluation is None else self.evaluation.poly

    def to_json_dict(self) -> dict[str, Any]:
        """The object ``rdp solve --class … --json`` writes (same keys as the binary class where they apply)."""
        pmf = self.problem.pmf
        ev, sae = self.evaluation, self.sae
        code = None
        if ev is not None and sae is not None:
            code = [
                {"event": concepts_of(e), "p": float(p), "active": list(act), "codes": list(cod),
                 "reconstruction": [float(v) for v in ev.reconstructions[s]], "error": float(ev.errors[s])}
                for s, (e, p, act, cod) in enumerate(zip(pmf.events, pmf.probs, sae.active, sae.codes, strict=True))
            ]
        return {
            **self._json_head(self.problem.sae_class, self.problem.decoder_bias, self.method, self.method_version),
            "poly_dec": None if ev is None else ev.poly,
            "atoms": None if sae is None else [[float(v) for v in row] for row in sae.atoms],
            "bias": None if sae is None else [float(v) for v in sae.bias],
            "code": code,
            "info": self.info,
            "pmf_sha256": pmf.sha256(),
        }


def finish(problem: ClassProblem, sae: RealSAE | None, *, status: Status, method: str, version: str,
           wall: float, bound: float | None, info: dict[str, Any] | None = None) -> ClassSolution:
    """Canonicalise and evaluate ``sae`` exactly, then build the record (gap from the evaluated D)."""
    from rdp_exact.problem import relative_gap

    if sae is None:
        return ClassSolution(problem, status, method, version, wall, bound=bound, info=dict(info or {}))
    can = canonical(sae)
    ev = evaluate_real(problem.pmf, can)
    gap = relative_gap(ev.distortion, bound)
    if status is Status.OPTIMAL and (gap is None or gap > TOL):
        # the evaluated SAE must meet the proven bound; anything else is not a proof
        if bound is not None and ev.distortion - bound <= PROOF_TOL:
            gap = 0.0
        else:
            status = Status.LIMIT
    return ClassSolution(problem, status, method, version, wall, objective=ev.distortion, bound=bound, gap=gap,
                         sae=can, evaluation=ev, info=dict(info or {}))


__all__ = [
    "CLASSES",
    "ClassProblem",
    "ClassSolution",
    "RealEvaluation",
    "RealSAE",
    "SAEClass",
    "canonical",
    "default_code_bound",
    "evaluate_real",
    "finish",
]
