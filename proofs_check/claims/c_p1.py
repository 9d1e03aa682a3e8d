"""C-P1 (tiedness): check, strategy, mutants and scope."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import (
    FREE,
    Claim,
    Classes,
    Mutant,
    close,
    fails_threshold,
    problem_value,
    violation,
)
from proofs_check.strategies import Instance, instances, queries
from rdp_exact.pmf import popcount


def _p1_draws(classes: Classes) -> st.SearchStrategy[Instance]:
    return queries(
        instances(classes=classes, max_support=10), objectives=("distortion", "rate"), poly_budget=st.just(0.0)
    )


def _tied_points(inst: Instance) -> list[tuple[float, float]]:
    if inst.encoder == "threshold":
        return ref.tied_threshold_points(inst.pmf, inst.width, inst.k)
    return ref.omission_points(inst.pmf, inst.width, inst.k)


def check_p1(inst: Instance) -> None:
    """C-P1: among P = 0 SAEs the optimum of the query equals the best tied SAE's, and the canonical
    optimum is itself tied."""
    value, sol = problem_value(inst)
    best = ref.best_point(_tied_points(inst), inst.minimize, inst.max_rate, inst.max_distortion)
    if best is None:
        violation(math.isinf(value), f"no tied SAE meets the budgets, but an SAE with P = 0 does: (R, D) = ({sol.rate!r}, {sol.distortion!r})")
        return
    violation(math.isfinite(value), f"a tied SAE meets the budgets with (R, D) = {best}, but the solver says infeasible")
    violation(
        close(float(sol.rate), best[0]) and close(float(sol.distortion), best[1]),
        f"the P = 0 optimum has (R, D) = ({sol.rate!r}, {sol.distortion!r}); the best tied SAE only reaches {best!r}",
    )
    if inst.encoder == "free":  # a spurious firing costs D and R, so the lex optimum itself is tied
        tied, why = ref.is_tied_monosemantic(sol.sae, inst.pmf)
        violation(tied, f"the canonical P = 0 optimum is not tied: {why}")


def check_p1_mutant(inst: Instance) -> None:
    """Mutant: the P = 0 optimum reconstructs S ∩ A in full (up to the cap) on every event."""
    value, sol = problem_value(inst)
    es = inst.pmf.expected_sparsity()
    pts = []
    for A in ref.concept_sets(inst.pmf.n, inst.width):
        r = math.fsum(p * min(popcount(ev & A), inst.k) for ev, p in inst.pmf.items())
        pts.append((r, es - r))
    best = ref.best_point(pts, inst.minimize, inst.max_rate, inst.max_distortion)
    got = None if math.isinf(value) else (float(sol.rate), float(sol.distortion))
    violation(
        (best is None and got is None) or (best is not None and got is not None and close(best[0], got[0]) and close(best[1], got[1])),
        f"P = 0 optimum {got} is not attained by full reconstruction (best such {best})",
    )


def check_p1_width_k_mutant(inst: Instance) -> None:
    """Near miss (m read as k): the P = 0 optimum is attained by a tied SAE representing at most k
    concepts."""
    value, sol = problem_value(inst)
    best = ref.best_point(ref.omission_points(inst.pmf, min(inst.k, inst.width), inst.k), inst.minimize,
                          inst.max_rate, inst.max_distortion)
    got = None if math.isinf(value) else (float(sol.rate), float(sol.distortion))
    violation(
        (best is None and got is None) or (best is not None and got is not None and close(best[0], got[0]) and close(best[1], got[1])),
        f"P = 0 optimum {got} is not attained by a tied SAE with at most k = {inst.k} concepts (best such {best})",
    )


CLAIM = Claim(
    id="C-P1",
    title="Tiedness",
    statement="Among SAEs with P = 0 the optimum of every query is attained by a tied SAE.",
    check=check_p1,
    strategy=_p1_draws,
    applies_to=FREE,
    known_false=(
        fails_threshold(
            "in the threshold class an untied latent 'fire on 0, write {1}' (encoder e_0, atom {1}) has "
            "P_enc = P_dec = 0; beside a tied {0} latent it reconstructs {0,1} without firing on {1}. "
            "Witness: π = {{1}: 0.4, {0,1}: 0.6}, m = k = 2, R*(δ = 0.4, 0) = 1.2 untied vs 1.6 for the "
            "best tied SAE.",
            2, [(2, 0.4), (3, 0.6)], width=2, k=2,  # {1}: 0.4, {0,1}: 0.6
            minimize="rate", max_distortion=0.4, max_poly=0.0,
        ),
    ),
    scope="Free class (P = P_dec), both modes, every objective and budget with P budget 0. Not in the "
    "threshold class (P = P_joint), where an untied 'fire on i, write {j}' latent has P = 0.",
    mutants=(
        Mutant("the P = 0 optimum reconstructs S ∩ A in full (up to the cap)", check_p1_mutant,
               lambda: _p1_draws(FREE), ci_examples=150),
        Mutant("m read as k: the P = 0 optimum is attained by a tied SAE with at most k concepts",
               check_p1_width_k_mutant, lambda: _p1_draws(FREE), name="width-k", near_miss=True,
               ci_examples=200),
    ),
    ci_examples=100,
)
