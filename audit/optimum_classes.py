"""Which SAE class contains a trained SAE, and that class's optimum and floor (DESIGN §1.2b, issue 11).

A trained SAE reconstructs x̂ = Σ_j f_j(x)·W_dec[j] + b_dec with codes f_j ≥ 0 (TopK, ReLU, JumpReLU and
BatchTopK all end in a ReLU or a threshold). Projected onto the concept directions (A1: x̂ − x keeps its
component outside span(V), so the projection can only lower D) it is an SAE of the class

* ``real-codes`` when b_dec = 0 exactly (biases fixed at 0, A2), else ``real-codes + bias``;
* with cap k = the SAE's k for TopK (a hard per-sample cap, raised to the observed count if that is larger)
  and, for every other architecture, the largest number of latents with a nonzero code on a support event;
* with code cap a_max ≥ the largest observed code × decoder-row norm (the class parameter of
  :class:`rdp_exact.classes.ClassProblem`), so the class really contains the SAE.

An SAE with a negative code somewhere is not in any real-codes class; it is flagged (``contained`` False) and
still compared. The binary optimum D*_k stays in the audit as a reference column.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rdp_exact.classes import ClassProblem, ClassSolution, Floor
from rdp_exact.pmf import ConceptPMF

#: Codes this close to 0 count as 0 (float64 inference of a float32 model).
CODE_TOL = 0.0


@dataclass(frozen=True)
class Placement:
    """The smallest class containing one trained SAE."""

    sae_class: str
    decoder_bias: bool
    k: int
    code_bound: float
    contained: bool
    """False when some code is negative (no real-codes class contains the SAE)."""

    @property
    def label(self) -> str:
        return self.sae_class + ("+bias" if self.decoder_bias else "")


def place(model: Any, dgp: Any, arch: str, k: int | None) -> Placement:
    """Place a loaded single SAE (B = 1) in its class (module docstring)."""
    return place_and_project(model, dgp, arch, k)[0]


def place_and_project(model: Any, dgp: Any, arch: str, k: int | None) -> tuple[Placement, Any]:
    """(its class, the SAE projected onto the concept directions as a :class:`rdp_exact.classes.RealSAE` of that
    class, or None when it is not contained); the projection is a first incumbent for the class optimum."""
    import torch

    from rdp_exact.classes.problem import default_code_bound

    m64 = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
    m64.eval()
    with torch.no_grad():
        X = torch.from_numpy(np.ascontiguousarray(dgp.support_points()))
        f = m64(X, training=False).latents[0].numpy()  # [N, m]
    W = m64.W_dec[0].detach().numpy() @ np.asarray(dgp.V, dtype=np.float64).T  # [m, n] concept coordinates
    b = m64.b_dec[0].detach().numpy()
    finite = bool(np.all(np.isfinite(f)) and np.all(np.isfinite(W)))
    on = np.abs(f) > CODE_TOL
    observed = int(on.sum(axis=1).max()) if on.size else 0
    kk = observed if arch != "topk" or k is None else max(int(k), observed)
    kk = int(min(model.m, max(1, kk)))
    norms = np.linalg.norm(W, axis=1)
    codes = np.abs(f) * norms[None, :] if finite else np.zeros((1, 1))
    a_max = max(default_code_bound(dgp.pmf), float(codes.max()) * (1 + 1e-9) if codes.size else 0.0)
    if not math.isfinite(a_max):
        a_max = default_code_bound(dgp.pmf)
    contained = finite and bool(np.all(f >= 0))
    pl = Placement("real-codes", bool(np.any(b != 0)), kk, float(a_max), contained)
    proj = None
    if contained and all(int(r.sum()) <= kk for r in on):
        from rdp_exact.classes import RealSAE

        unit = np.where(norms[:, None] > 0, W / np.maximum(norms[:, None], 1e-300), 0.0)
        active = tuple(tuple(int(j) for j in np.flatnonzero(r)) for r in on)
        codes = tuple(tuple(float(f[s, j] * norms[j]) for j in act) for s, act in enumerate(active))
        bias = b @ np.asarray(dgp.V, dtype=np.float64).T if pl.decoder_bias else np.zeros(W.shape[1])
        proj = RealSAE(atoms=unit, bias=bias, active=active, codes=codes)
    return pl, proj


@dataclass(frozen=True)
class ClassRef:
    """The optimum and monosemantic floor of one class (π, m, k, bias, a_max)."""

    placement: Placement
    width: int
    pmf: ConceptPMF = field(repr=False)
    solution: ClassSolution = field(repr=False)
    floor: Floor = field(repr=False)

    @property
    def d_star(self) -> float:
        """D of the best SAE found in the class (= D* when ``exact``)."""
        return math.nan if self.solution.distortion is None else float(self.solution.distortion)

    @property
    def bound(self) -> float:
        """Proven lower bound on D* of the class (no SAE of the class can go below it)."""
        return 0.0 if self.solution.bound is None else float(self.solution.bound)

    @property
    def exact(self) -> bool:
        return self.solution.is_exact

    @property
    def d_min(self) -> float:
        return self.floor.d_min


def class_reference(pmf: ConceptPMF, width: int, placement: Placement, time_limit: float | None,
                    start: Any = None) -> ClassRef:
    """Solve the class optimum and its floor (each within ``time_limit`` seconds; ``limit`` status otherwise).
    ``start`` (a projected trained SAE of the class) is SCIP's first incumbent, so the reported optimum is never
    worse than the best trained SAE handed in."""
    from rdp_exact.classes import class_floor, solve_class

    problem = ClassProblem(pmf, width, placement.k, placement.sae_class, placement.decoder_bias,  # type: ignore[arg-type]
                           code_bound=placement.code_bound)
    sol = solve_class(problem, time_limit=time_limit, start=start)
    fl = class_floor(pmf, width, placement.k, placement.sae_class, placement.decoder_bias, time_limit=time_limit)
    return ClassRef(placement=placement, width=width, pmf=pmf, solution=sol, floor=fl)


__all__ = ["ClassRef", "Placement", "class_reference", "place", "place_and_project"]
