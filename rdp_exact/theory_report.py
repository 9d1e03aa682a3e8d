"""``rdp theory``: the closed forms of :mod:`rdp_exact.theory` beside the exact optimum D*_k (DESIGN §5.2).

:func:`compute_theory` returns a :class:`TheoryReport`; its :meth:`TheoryReport.to_json_dict` is the
``rdp theory --json`` object: ``expected_sparsity``, ``marginals``, ``d_min``, ``staircase``,
``staircase_truncated``, ``d_star_k``, ``rate_tax`` (null when the optimum can be monosemantic),
``distortion_tax`` (C-DT, the dual: at the rate budget r — by default the optimum's rate R_opt — the
least distortion of a monosemantic SAE against D*(r)) and ``example1`` (null unless n = 3, m = 2,
k ∈ {1, 2}), plus the solver status of D*_k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdp_exact import theory
from rdp_exact.errors import SolverUnavailable
from rdp_exact.pmf import ConceptPMF, concepts_of
from rdp_exact.problem import Problem, Solution
from rdp_exact.sae import CoefficientMode
from rdp_exact.validate import check_count, check_optional_finite


@dataclass(frozen=True)
class TheoryReport:
    """Closed forms for (π, m, k) and the exact optimum they are compared with."""

    pmf: ConceptPMF
    width: int
    k: int
    coefficients: CoefficientMode
    expected_sparsity: float
    marginals: tuple[float, ...]
    d_min: float
    best_sets: tuple[int, ...]
    staircase: theory.Staircase
    optimum: Solution
    """The D*_k solve (free class)."""
    rate_tax: theory.RateTax | None
    example1: dict[str, Any] | None
    rate_tax_error: str | None = None
    """Why the rate tax could not be computed (rate_tax is then None too)."""
    distortion_tax: theory.DistortionTax | None = None
    """C-DT at the rate budget (default R_opt); None when D*(r) has no exact value or the DP is too large."""
    distortion_tax_error: str | None = None
    """Why the distortion tax could not be computed."""

    @property
    def d_star_k(self) -> float | None:
        return self.optimum.distortion

    def to_json_dict(self) -> dict[str, Any]:
        opt = self.optimum
        return {
            "problem": {"n": self.pmf.n, "width": self.width, "k": self.k, "encoder": "free",
                        "coefficients": self.coefficients},
            "pmf_sha256": self.pmf.sha256(),
            "expected_sparsity": self.expected_sparsity,
            "marginals": list(self.marginals),
            "d_min": self.d_min,
            "best_mono_sets": [concepts_of(a) for a in self.best_sets],
            "staircase": self.staircase.to_list(),
            "staircase_truncated": self.staircase.truncated,
            "d_star_k": self.d_star_k,
            "d_star_k_status": opt.status.value,
            "d_star_k_exact": opt.is_exact,
            "d_star_k_solver": opt.solver,
            "rate_opt": opt.rate,
            "poly_opt": opt.poly,
            "optimum_atoms": None if opt.sae is None else opt.sae.sorted_atoms(),
            "optimum_is_monosemantic": None if opt.poly is None else opt.poly <= 1e-12,
            "rate_tax": None if self.rate_tax is None else self.rate_tax.to_dict(),
            "rate_tax_error": self.rate_tax_error,
            "distortion_tax": None if self.distortion_tax is None else self.distortion_tax.to_dict(),
            "distortion_tax_error": self.distortion_tax_error,
            "example1": self.example1,
        }


def compute_theory(
    pmf: ConceptPMF,
    width: int,
    k: int,
    *,
    max_steps: int = 10_000,
    solver: str = "auto",
    time_limit: float | None = None,
    coefficients: CoefficientMode = "integer",
    rate_budget: float | None = None,
) -> TheoryReport:
    """Evaluate every closed form of :mod:`rdp_exact.theory` and solve D*_k exactly (free class).

    The distortion tax (C-DT) is taken at ``rate_budget`` (one more exact solve, D*(r)), or at the
    optimum's rate R_opt when None (then D*(R_opt) = D*_k, no extra solve)."""
    from rdp_exact.solvers import check_time_limit, solve
    from rdp_exact.solvers.limits import TimeBudget

    problem = Problem(pmf=pmf, width=width, k=k, coefficients=coefficients)  # validates m, k, mode
    check_count("max steps", max_steps)
    budget = TimeBudget.after(check_time_limit(time_limit))  # one wall-clock budget for the whole report
    sol = solve(problem, solver, deadline=budget.at)
    stair = theory.monosemantic_staircase(pmf, width, k, max_steps=max_steps, deadline=budget.at)
    dmin = theory.d_min(pmf, width, k)
    tax = None
    tax_error = None
    if sol.evaluation is not None:
        try:
            tax = theory.rate_tax(pmf, width, k, sol.evaluation.distortion, sol.evaluation.rate)
        except SolverUnavailable as exc:  # the subset-sum search for D̄ is too large
            tax_error = str(exc)
    dtax, dtax_error = _distortion_tax(problem, sol, rate_budget, solver, budget.at)
    ex1 = None
    if theory.example1_applicable(pmf, width, k):
        live = None
        if sol.sae is not None and sol.evaluation is not None:
            live = [a for a, ok in zip(sol.sae.atoms, sol.evaluation.live, strict=True) if ok]
        ex1 = theory.example1_report(pmf, k, live)
    return TheoryReport(
        pmf=pmf,
        width=width,
        k=k,
        coefficients=coefficients,
        expected_sparsity=pmf.expected_sparsity(),
        marginals=tuple(float(x) for x in pmf.marginals()),
        d_min=dmin,
        best_sets=tuple(theory.best_mono_sets(pmf, width, k)),
        staircase=stair,
        optimum=sol,
        rate_tax=tax,
        example1=ex1,
        rate_tax_error=tax_error,
        distortion_tax=dtax,
        distortion_tax_error=dtax_error,
    )


def _distortion_tax(problem: Problem, sol: Solution, rate_budget: float | None, solver: str,
                    deadline: float | None) -> tuple[theory.DistortionTax | None, str | None]:
    """(C-DT at the rate budget, or why not)."""
    from dataclasses import replace

    from rdp_exact.solvers import solve

    check_optional_finite("--rate-budget", rate_budget, min=0.0)
    if rate_budget is None:
        if sol.evaluation is None or not sol.is_exact:
            return None, "D*_k is not proven optimal"
        r, at = sol.evaluation.rate, sol
    else:
        r = float(rate_budget)
        at = solve(replace(problem, max_rate=r), solver, deadline=deadline)
        if at.evaluation is None or not at.is_exact:
            return None, f"D*(r = {r:g}) is not proven optimal (status {at.status.value})"
    d_at = at.distortion
    if d_at is None:  # unreachable: both branches return when the solve has no SAE
        return None, "no SAE to take the distortion tax at"
    try:
        return theory.distortion_tax(problem.pmf, problem.width, problem.k, r, d_at), None
    except SolverUnavailable as exc:
        return None, str(exc)
