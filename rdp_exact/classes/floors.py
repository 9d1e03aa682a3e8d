"""Monosemantic floors per class: D_min(class, k, bias) (DESIGN §1.2b, C-T5 generalised).

A monosemantic SAE has P = 0: every live atom lies along one concept (up to sign and scale).

* **Without a bias** the floor is the binary D_min(m, k) of C-T5 in every class. Proof: with atoms c·e_i, a
  fired latent changes one coordinate of one event; for i ∈ S it lowers that coordinate's error from 1 to
  (1 − c·a)², a gain of at most 1 (at c·a = 1, a unit code on a unit atom, which the binary class has), and for
  i ∉ S it raises the error (x_S ≥ 0 and the error starts at 0). Two latents on one concept never gain more
  than 1 together. So an event gains at most min(|S ∩ A|, k) over the covered concepts A, the binary bound.
* **With a bias** coordinates not covered by any latent are fitted by b_i = p_i (error p_i(1 − p_i) < p_i),
  and covered coordinates gain too, so the floor is often *below* the binary D_min: a monosemantic SAE with a
  bias can beat every binary SAE's floor. ``real-atoms + bias``: the pattern search with the monosemantic
  restriction (:func:`rdp_exact.classes.patterns.solve_patterns`, exact); ``real-codes + bias``: SCIP with the
  monosemantic restriction (:func:`rdp_exact.classes.minlp.solve_minlp`), status and bound attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdp_exact.classes.problem import ClassProblem
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import TOL


@dataclass(frozen=True)
class Floor:
    """D_min of one class."""

    sae_class: str
    decoder_bias: bool
    width: int
    k: int
    d_min: float
    """The floor (the proven bound when ``exact`` is False is ``bound``)."""
    bound: float
    """Proven lower bound on the floor (equals d_min when exact)."""
    exact: bool
    source: str
    """``closed form`` (C-T5) or the method that solved it."""
    d_min_binary: float
    """The binary D_min(m, k) for comparison."""

    @property
    def below_binary(self) -> bool:
        """True when a monosemantic SAE of this class goes below the binary D_min."""
        return self.d_min < self.d_min_binary - TOL

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.sae_class, "decoder_bias": self.decoder_bias, "width": self.width, "k": self.k,
            "d_min": self.d_min, "bound": self.bound, "exact": self.exact, "source": self.source,
            "d_min_binary": self.d_min_binary, "below_binary_d_min": self.below_binary,
            "note": ("a monosemantic SAE with a decoder bias reaches below the binary D_min"
                     if self.below_binary else "equals the binary D_min (C-T5)" if not self.decoder_bias
                     else "a bias does not help a monosemantic SAE here"),
        }


def class_floor(pmf: ConceptPMF, width: int, k: int, sae_class: str = "binary", decoder_bias: bool = False, *,
                time_limit: float | None = None) -> Floor:
    """D_min(class, k, bias) (module docstring)."""
    from rdp_exact import theory

    ClassProblem(pmf, width, k, sae_class, decoder_bias)  # type: ignore[arg-type]  # validates
    dbin = theory.d_min(pmf, width, k)
    if not decoder_bias:
        return Floor(sae_class, False, width, k, dbin, dbin, True, "closed form (C-T5)", dbin)
    from rdp_exact.classes.minlp import solve_minlp
    from rdp_exact.errors import InvalidArgument

    if sae_class == "binary":
        raise InvalidArgument("the binary class has no decoder bias (A2); use real-atoms or real-codes")
    if sae_class == "real-atoms":
        from rdp_exact.classes.patterns import solve_patterns

        sol = solve_patterns(ClassProblem(pmf, width, k, "real-atoms", True), time_limit=time_limit,
                             monosemantic=True)
    else:
        # the monosemantic real-atoms + bias optimum is a monosemantic real-codes + bias SAE: SCIP's first incumbent
        import time

        from rdp_exact.classes.patterns import solve_patterns

        t0 = time.perf_counter()
        share = None if time_limit is None else 0.5 * time_limit
        ra = solve_patterns(ClassProblem(pmf, width, k, "real-atoms", True), time_limit=share, monosemantic=True)
        left = None if time_limit is None else max(1e-3, time_limit - (time.perf_counter() - t0))
        sol = solve_minlp(ClassProblem(pmf, width, k, sae_class, True), time_limit=left,  # type: ignore[arg-type]
                          monosemantic=True, start=ra.sae)
    d = float(sol.distortion) if sol.distortion is not None else float("inf")
    bnd = float(sol.bound) if sol.bound is not None else 0.0
    # the binary monosemantic optimum (bias 0) belongs to every class: the floor is never above the binary D_min
    exact = sol.is_exact or (dbin <= bnd + 1e-9)
    return Floor(sae_class, True, width, k, min(d, dbin), bnd, exact, f"{sol.method} ({sol.status.value})", dbin)


__all__ = ["Floor", "class_floor"]
