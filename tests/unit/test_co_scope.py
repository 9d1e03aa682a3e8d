"""Why C-CO excludes P budgets (proofs_check/claims/c_co.py): the dilution witness found by the deep campaign."""

from __future__ import annotations

import math

from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Problem
from rdp_exact.solvers import solve

RHO = (1 - 1 / math.sqrt(2)) / 2  # P of one latent with a two-concept atom beside one monosemantic latent


def _solve(pmf: ConceptPMF, max_rate: float) -> tuple[float, float, tuple[tuple[int, ...], ...]]:
    sol = solve(Problem(pmf, width=2, k=1, max_rate=max_rate, max_poly=RHO), "brute")
    assert sol.is_exact and sol.evaluation is not None
    return sol.distortion, sol.rate, sol.evaluation.active


def test_a_p_budget_breaks_the_rescaling_invariance_through_the_empty_event() -> None:
    base = ConceptPMF.from_events(2, [(0, 0.25), (1, 0.25), (2, 0.25), (3, 0.25)])
    c = 0.9 / 0.75  # ∅ moved from 0.25 to 0.1: every nonempty mass scales by c
    moved = ConceptPMF.from_events(2, [(0, 0.1), (1, 0.3), (2, 0.3), (3, 0.3)])
    d0, r0, _ = _solve(base, 0.375)
    d1, r1, active1 = _solve(moved, 0.375 * c)
    # the invariance C-CO states without a P budget fails here ...
    assert not (math.isclose(d1, c * d0) and math.isclose(r1, c * r0))
    # ... because the optimum of the moved pmf fires a latent on the empty event (index 0) only to dilute P
    assert active1[0] != ()
    # and without the P budget the invariance holds on the same pair of pmfs
    s0 = solve(Problem(base, width=2, k=1, max_rate=0.375), "brute")
    s1 = solve(Problem(moved, width=2, k=1, max_rate=0.375 * c), "brute")
    assert math.isclose(s1.distortion, c * s0.distortion) and math.isclose(s1.rate, c * s0.rate)
