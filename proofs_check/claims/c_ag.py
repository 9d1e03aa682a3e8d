"""C-AG (agreement): check, strategy, mutants and scope."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

from proofs_check import reference as ref
from proofs_check.claims.base import FREE, Claim, Classes, Mutant, close, present, triple, violation
from proofs_check.strategies import ALL_CLASSES, Instance, instances, queries
from rdp_exact.problem import Status, within_budgets
from rdp_exact.sae import CombinatorialSAE

SOLVERS = ("brute", "highs", "cpsat")


def _ag_draws(classes: Classes) -> st.SearchStrategy[Instance]:
    return queries(instances(classes=classes, max_n=3, max_width=3, max_support=8))


def _reevaluate(inst: Instance, sol: Any, who: str) -> None:
    pmf = inst.pmf
    rate, d_int, d_sym = ref.evaluate_from_scratch(sol.sae, pmf)
    ev = sol.sae.evaluate(pmf, inst.k)
    poly = ev.poly(inst.problem().poly_measure)
    violation(close(rate, float(sol.rate)) and close(d_int, float(sol.distortion)) and close(poly, float(sol.poly)),
              f"{who}: reported (R, D, P) = ({sol.rate!r}, {sol.distortion!r}, {sol.poly!r}), SAE re-evaluates to ({rate!r}, {d_int!r}, {poly!r})")
    violation(within_budgets(inst.problem(), rate, d_int, poly), f"{who}: returned SAE breaks the budgets")
    violation(close(float(sol.objective), float(sol.value(inst.minimize))), f"{who}: objective {sol.objective!r} ≠ its {inst.minimize}")
    if inst.coefficients == "disjoint":
        violation(d_sym is not None, f"{who}: active atoms overlap in disjoint mode")


def check_ag(inst: Instance) -> None:
    """C-AG: brute, HiGHS and CP-SAT agree on status and optimal value (and on the canonical (D, R, P))
    and every returned SAE re-evaluates to the reported values."""
    from rdp_exact.errors import SolverUnavailable

    sols = {}
    for s in SOLVERS:
        try:
            sols[s] = ref.solve_cached(inst.problem(), s)
        except SolverUnavailable:
            continue
    base = ref.optimum(inst.problem())
    for s, sol in sols.items():
        violation(sol.status == base.status, f"{s} says {sol.status.value} (gap {sol.gap}), brute says {base.status.value}")
        violation(sol.status is Status.INFEASIBLE or sol.is_exact, f"{s} says optimal but with gap {sol.gap}")
        if sol.status is Status.INFEASIBLE:
            continue
        got, want = present(sol.objective, f"{s} objective"), present(base.objective, "brute objective")
        violation(close(got, want), f"{s} objective {got!r} ≠ brute {want!r} (Δ = {got - want:.3g})")
        violation(all(close(x, y) for x, y in zip(triple(sol), triple(base), strict=True)),
                  f"{s} canonical (D, R, P) = {triple(sol)} ≠ brute {triple(base)}")
        _reevaluate(inst, sol, s)


def check_ag_mutant(inst: Instance) -> None:
    """Mutant: HiGHS in the free class agrees with brute force in the threshold class."""
    a = ref.value(ref.optimum(inst.problem(encoder="threshold")))
    b = ref.value(ref.optimum(inst.problem(encoder="free"), "highs"))
    violation(close(a, b), f"brute (threshold class) = {a!r}, highs (free class) = {b!r}")


def _free_lex_draws() -> st.SearchStrategy[Instance]:
    """Free-class queries minimising D or R with no P budget, so P is the last tie-break stage."""
    return queries(instances(classes=FREE, min_n=2, max_n=3, max_width=3, max_support=8),
                   objectives=("distortion", "rate"), poly_budget=st.none())


def _unbudgeted_d_draws() -> st.SearchStrategy[Instance]:
    """Free-class instances minimising D with no budget: the lex order is (D, R, P), P the last stage
    (n = m = 3 and at least three events, where (D, R)-ties with different P are common)."""
    return instances(classes=FREE, min_n=3, max_n=3, min_width=3, max_width=3, max_support=8, min_support=3).map(
        lambda i: i.with_(minimize="distortion"))


def check_ag_skip_last_stage_mutant(inst: Instance) -> None:
    """Near miss: a solver that skips the last tie-break stage (P) still agrees with brute force on the
    canonical (D, R, P). Such a solver may return any SAE whose (D, R) is lexicographically optimal;
    every atom tuple's best firing map is enumerated and the largest P among the (D, R)-optimal ones
    is what it may report."""
    base = ref.optimum(inst.problem())
    pmf, m, k = inst.pmf, inst.width, inst.k
    d_opt, r_opt, p_opt = triple(base)
    worst = p_opt
    for atoms in itertools.combinations_with_replacement(range(1 << pmf.n), m):
        ev = CombinatorialSAE.best_response(pmf, list(atoms), k, inst.coefficients).evaluate(pmf, k)  # type: ignore[arg-type]
        if close(ev.distortion, d_opt) and close(ev.rate, r_opt):
            worst = max(worst, ev.poly(inst.problem().poly_measure))
    violation(close(worst, p_opt),
              f"an SAE with the optimal (D, R) = ({base.distortion!r}, {base.rate!r}) has P = {worst!r}; "
              f"brute's last stage gives P = {base.poly!r}")


def check_ag_unused_rows_mutant(inst: Instance) -> None:
    """Near miss: the reported P equals a P that counts unused (zero) rows in its average."""
    from rdp_exact.polysemanticity import cosine_table, row_poly

    sol = ref.optimum(inst.problem())
    if sol.status is Status.INFEASIBLE:
        return
    W = present(sol.sae, "optimal SAE").atom_matrix()  # [m, n]
    live = W.any(axis=1)
    wrong = float(row_poly(cosine_table(W))[live].sum() / W.shape[0]) if W.shape[0] else 0.0
    violation(close(wrong, present(sol.poly, "P")), f"reported P = {sol.poly!r}, P over all {W.shape[0]} rows = {wrong!r}")


def _ag_replay(inst: Instance, path: str) -> list[str]:
    cmd = inst.solve_command(path)
    return [cmd.replace("--solver brute", f"--solver {s}") for s in SOLVERS]


CLAIM = Claim(
    id="C-AG",
    title="Agreement",
    statement="Brute force, HiGHS and CP-SAT return the same status and optimal value (|Δ| ≤ 1e−9) and the "
    "same canonical (D, R, P); every returned SAE re-evaluates to the reported values.",
    check=check_ag,
    strategy=_ag_draws,
    applies_to=ALL_CLASSES,
    scope="Every class and mode on instances all three backends can solve (n ≤ 3, m ≤ 3, ≤ 8 events); "
    "values within 1e−9; the canonical (D, R, P) is the lexicographic optimum (primary, then D, R, P).",
    mutants=(
        Mutant("HiGHS in the free class agrees with brute force in the threshold class", check_ag_mutant,
               lambda: queries(instances(classes=FREE, min_n=2, max_n=3, max_width=2, max_support=8))),
        Mutant("a solver that skips the last tie-break stage (P) agrees on the canonical (D, R, P)",
               check_ag_skip_last_stage_mutant, _unbudgeted_d_draws, name="skip-last-stage", near_miss=True,
               ci_examples=100),
        Mutant("the reported P counts unused (zero) rows in its average", check_ag_unused_rows_mutant,
               _free_lex_draws, name="unused-rows", near_miss=True, ci_examples=150),
    ),
    replay=_ag_replay,
    ci_examples=30,
)
