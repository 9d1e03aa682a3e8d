"""Independent reference computations used by the claim checks (DESIGN §1–§2).

These are deliberately naive re-derivations from the definitions of §1, written without looking at the
code they check: set dynamic programmes over omission codes (C-T5, C-T4, C-P1), tied threshold SAEs
(C-P1), per-event evaluation of a code (C-L1), structure predicates (hedging, tiedness). Solver access
goes through :func:`optimum`, which caches exact solves (the same query is asked by several checks).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence

from rdp_exact.pmf import ConceptPMF, popcount
from rdp_exact.problem import TOL, Problem, Solution, Status
from rdp_exact.sae import CombinatorialSAE

#: Values closer than this are merged in the set DPs (masses are ≥ ~1e-6 in our strategies).
MERGE = 1e-12


class SolverFailure(RuntimeError):
    """A backend returned something other than a proven optimum or proven infeasibility."""


@functools.lru_cache(maxsize=8192)
def _solve_cached(problem: Problem, solver: str) -> Solution:
    from rdp_exact.solvers import solve

    return solve(problem, solver)


def solve_cached(problem: Problem, solver: str = "brute") -> Solution:
    """A cached solve, whatever its status."""
    return _solve_cached(problem, solver)


def optimum(problem: Problem, solver: str = "brute") -> Solution:
    """An exact solve (cached). Raises :class:`SolverFailure` unless the status is a proof."""
    sol = _solve_cached(problem, solver)
    if sol.status is Status.INFEASIBLE:
        return sol
    if not sol.is_exact:
        raise SolverFailure(f"{solver} returned status {sol.status.value} (gap {sol.gap}) on a small instance")
    return sol


def value(sol: Solution) -> float:
    """The optimal objective, +∞ when infeasible (so monotonicity reads naturally)."""
    if sol.status is Status.INFEASIBLE:
        return math.inf
    assert sol.objective is not None
    return float(sol.objective)


def clear_cache() -> None:
    """Forget cached solves (the runner calls it between claims to bound memory)."""
    _solve_cached.cache_clear()


# ---------------------------------------------------------------------- omission codes (C-T5, C-T4, C-P1)
def concept_sets(n: int, max_size: int) -> Iterable[int]:
    """Every A ⊆ {0..n−1} with |A| ≤ max_size, as bitmasks."""
    for t in range(0, min(n, max_size) + 1):
        for combo in itertools.combinations(range(n), t):
            yield sum(1 << i for i in combo)


def _merge(values: Iterable[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > MERGE:
            out.append(v)
    return out


def retained_masses(pmf: ConceptPMF, m: int, k: int | None) -> list[float]:
    """Sorted set of Σ_S π(S)·r_S over omission codes: A with |A| ≤ m, 0 ≤ r_S ≤ min(|S∩A|, k)
    (no cap when k is None). An omission code has R = Σ π r_S and D = E|S| − R."""
    out: set[float] = set()
    for A in concept_sets(pmf.n, m):
        vals = [0.0]
        for ev, p in pmf.items():
            top = popcount(ev & A) if k is None else min(popcount(ev & A), k)
            if top == 0:
                continue
            vals = _merge(v + p * r for v in vals for r in range(top + 1))
        out.update(vals)
    return _merge(out)


def omission_distortions(pmf: ConceptPMF, m: int, k: int | None) -> list[float]:
    """𝒟_mono of C-T5: the distortions attainable by omission codes, ascending."""
    es = pmf.expected_sparsity()
    return _merge(es - r for r in retained_masses(pmf, m, k))


def d_min_formula(pmf: ConceptPMF, m: int, k: int) -> float:
    """E|S| − max_{|A|≤m} Σ_S π(S)·min(|S∩A|, k) (C-T5)."""
    best = max(
        math.fsum(p * min(popcount(ev & A), k) for ev, p in pmf.items()) for A in concept_sets(pmf.n, m)
    )
    return pmf.expected_sparsity() - best


def tied_threshold_points(pmf: ConceptPMF, m: int, k: int) -> list[tuple[float, float]]:
    """(R, D) of every tied monosemantic threshold SAE: distinct singleton atoms A (|A| ≤ m), unit i
    with weights e_i and θ = 1, so it fires on exactly the events containing i; the cap must hold on
    every support event (|S∩A| ≤ k). R = Σ π|S∩A|, D = E|S| − R."""
    es = pmf.expected_sparsity()
    pts = []
    for A in concept_sets(pmf.n, m):
        if any(popcount(ev & A) > k for ev in pmf.events):
            continue
        r = math.fsum(p * popcount(ev & A) for ev, p in pmf.items())
        pts.append((r, es - r))
    return pts


def best_point(
    points: Iterable[tuple[float, float]],
    minimize: str,
    max_rate: float | None,
    max_distortion: float | None,
) -> tuple[float, float] | None:
    """Lexicographic optimum (primary, then D, then R) over monosemantic (R, D) points within the
    budgets (tolerance TOL); None when none is feasible. P is 0 for all of them, so a P objective is
    decided by D then R."""
    feas = [
        (r, d)
        for r, d in points
        if (max_rate is None or r <= max_rate + TOL) and (max_distortion is None or d <= max_distortion + TOL)
    ]
    if not feas:
        return None
    if minimize == "rate":
        return min(feas, key=lambda x: (x[0], x[1]))
    return min(feas, key=lambda x: (x[1], x[0]))


def omission_points(pmf: ConceptPMF, m: int, k: int | None) -> list[tuple[float, float]]:
    """(R, D) of omission codes: R = ρ, D = E|S| − ρ for every retained mass ρ."""
    es = pmf.expected_sparsity()
    return [(r, es - r) for r in retained_masses(pmf, m, k)]


# ---------------------------------------------------------------------- structure predicates
def live_atoms(sae: CombinatorialSAE, pmf: ConceptPMF) -> list[int]:
    """Atoms of latents that fire on some support event and are nonempty."""
    ev = sae.evaluate(pmf)
    return [a for a, live in zip(sae.atoms, ev.live, strict=True) if live]


def hedges(sae: CombinatorialSAE, pmf: ConceptPMF, a: int, b: int) -> bool:
    """Whether some live atom contains both concepts a and b (the SAE 'hedges' a and b, §3.3)."""
    both = (1 << a) | (1 << b)
    return any(atom & both == both for atom in live_atoms(sae, pmf))


def is_tied_monosemantic(sae: CombinatorialSAE, pmf: ConceptPMF) -> tuple[bool, str]:
    """Whether every live latent is tied and monosemantic (DESIGN §1.2, A3).

    Free class (no encoder weights): a live latent has a singleton atom {i} and fires only on events
    containing i (the gating of a tied encoder row v_i). Threshold class: atom {i}, encoder row e_i
    (weights 1 on i, 0 elsewhere). Returns (verdict, reason when not).
    """
    ev = sae.evaluate(pmf)
    for j, (atom, live) in enumerate(zip(sae.atoms, ev.live, strict=True)):
        if not live:
            continue
        if popcount(atom) != 1:
            return False, f"latent {j} has atom of size {popcount(atom)}"
        if sae.encoder is not None:
            w = sae.encoder[j].weights
            want = tuple(1 if (atom >> i) & 1 else 0 for i in range(sae.n))
            if tuple(w) != want:
                return False, f"latent {j} has atom {atom:b} but encoder weights {w}"
        for e, act in zip(pmf.events, ev.active, strict=True):
            if j in act and not e & atom:
                return False, f"latent {j} fires on an event without its concept"
    return True, ""


def code_coefficients(n: int, atoms: Sequence[int], active: Sequence[int]) -> list[int]:
    """c_i = #{j active : i ∈ A_j} from scratch."""
    return [sum((atoms[j] >> i) & 1 for j in active) for i in range(n)]


def fires(weights: Sequence[int], threshold: int, event: int) -> bool:
    """Threshold rule from scratch: Σ_{i∈S} e_i ≥ θ."""
    return sum(w for i, w in enumerate(weights) if (event >> i) & 1) >= threshold


def evaluate_from_scratch(sae: CombinatorialSAE, pmf: ConceptPMF) -> tuple[float, float, float | None]:
    """(R, D integer form, D disjoint form |S Δ R(S)| or None when active atoms overlap) of C-L1."""
    rate = dist = sym = 0.0
    overlap = False
    code = dict(sae.code) if sae.code is not None else {}
    for ev, p in pmf.items():
        if sae.encoder is not None:
            act = [j for j, u in enumerate(sae.encoder) if fires(u.weights, u.threshold, ev)]
        else:
            act = list(code.get(ev, ()))
        c = code_coefficients(sae.n, sae.atoms, act)
        union = 0
        for j in act:
            if union & sae.atoms[j]:
                overlap = True
            union |= sae.atoms[j]
        rate += p * len(act)
        dist += p * sum((((ev >> i) & 1) - c[i]) ** 2 for i in range(sae.n))
        sym += p * popcount(ev ^ union)
    return rate, dist, None if overlap else sym
