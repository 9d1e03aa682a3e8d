"""Closed forms of the toy model (DESIGN §2: C-P2, C-T5, C-T4, C-DT, C-E1).

Everything here is computed from the pmf by formulas (no optimisation over SAEs), so that the exact
solvers (``rdp_exact.solvers``) can be checked against it and vice versa.

* **C-P2 conservation** — :func:`conservation`, :func:`conservation_bound`: a tied monosemantic SAE
  that represents the concept set A and reconstructs R(S) ⊆ S ∩ A has R + D = E|S| and
  D ≥ Σ_{i∉A} p_i, with equality iff R(S) = S ∩ A on every support event.
* **C-T5 monosemantic frontier** — an *omission code* of width m and cap k reconstructs, on each event,
  r_S ≤ min(|S ∩ A|, k) of the concepts of S that its atom set A (|A| ≤ m) represents, so its
  distortion is D = E|S| − Σ_S π(S)·r_S and its rate R = Σ_S π(S)·r_S = E|S| − D. The attainable
  distortions 𝒟_mono form a finite subset-sum set (:func:`omission_distortions`); its minimum is
  D_min = E|S| − max_{|A|≤m} Σ_S π(S)·min(|S ∩ A|, k) (:func:`d_min`), and
  R*(δ, 0) = E|S| − max{D ∈ 𝒟_mono : D ≤ δ} (∞ below D_min) is a staircase
  (:func:`monosemantic_staircase`, :func:`r_star_mono`).
* **C-T4 rate tax** — :func:`rate_tax`.
* **C-DT distortion tax** (the dual of C-T4) — :func:`min_mono_distortion`, :func:`distortion_tax`: at a
  rate budget r a monosemantic SAE has D ≥ min{D ∈ 𝒟_mono : D ≥ E|S| − r}, attained.
* **C-E1 Example 1** — closed-form D and R of the monosemantic, hedged and splitting codes of
  n = 3, m = 2, k ∈ {1, 2} (:func:`example1_coefficients` and the functions after it); the derivation is
  written out in the docstring of :func:`example1_coefficients`.

Budget comparisons use the solvers' tolerance :data:`rdp_exact.problem.TOL` (1e−9); distinct
distortions closer than :data:`DEDUPE_TOL` (1e−12) count as one.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.pmf import ConceptPMF, concepts_of, format_event, popcount
from rdp_exact.polysemanticity import binary_row_poly
from rdp_exact.problem import TOL
from rdp_exact.sae import CoefficientMode, CombinatorialSAE

log = logging.getLogger(__name__)

#: Distortions closer than this are the same point of 𝒟_mono.
DEDUPE_TOL = 1e-12
#: Largest number of atom sets A enumerated by the C-T5 functions.
MAX_ATOM_SETS = 2_000_000
#: Smallest distortions listed before :func:`max_omission_distortion` falls back to a targeted DP.
LOOKUP_STEPS = 20_000
#: Largest number of partial sums held by the exact subset-sum DP before giving up.
MAX_DP_STATES = 5_000_000

Family = Literal["monosemantic", "hedged", "splitting"]
FAMILIES: tuple[Family, ...] = ("monosemantic", "hedged", "splitting")


# ====================================================================== validation helpers
def _check_width_cap(pmf: ConceptPMF, m: int, k: int) -> None:
    for name, v in (("width m", m), ("cap k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InvalidArgument(f"{name} must be an integer, got {v!r}")
        if v < 1:
            raise InvalidArgument(f"{name} must be at least 1, got {v}")
    if k > m:
        raise InvalidArgument(f"k = {k} exceeds the width m = {m}")


def _check_atom_set(pmf: ConceptPMF, A: int) -> int:
    if isinstance(A, bool) or not isinstance(A, (int, np.integer)):
        raise InvalidArgument(f"concept set A must be an int bitmask, got {A!r}")
    A = int(A)
    if A < 0 or A >> pmf.n:
        raise InvalidArgument(f"concept set A = {A} uses a concept outside [0, {pmf.n})")
    return A


def _atom_sets(pmf: ConceptPMF, m: int) -> list[int]:
    """All concept sets A with |A| = min(m, n): larger A never lowers Σ π min(|S∩A|, k), so these
    contain a maximiser and every omission code's A is a subset of one of them."""
    size = min(m, pmf.n)
    count = math.comb(pmf.n, size)
    if count > MAX_ATOM_SETS:
        raise InvalidArgument(
            f"C({pmf.n}, {size}) = {count} concept sets is too many to enumerate (at most {MAX_ATOM_SETS})"
        )
    return [sum(1 << i for i in c) for c in itertools.combinations(range(pmf.n), size)]


def expected_sparsity(pmf: ConceptPMF) -> float:
    """E|S| = Σ_S π(S)·|S| (DESIGN §1.1)."""
    return pmf.expected_sparsity()


# ====================================================================== C-P2
def conservation(pmf: ConceptPMF, A: int, recon: Mapping[int, int]) -> tuple[float, float]:
    """(R, D) of the tied monosemantic SAE with atoms = the singletons of A that reconstructs
    ``recon[S]`` ⊆ S ∩ A on each support event S (events not in ``recon`` reconstruct ∅) — C-P2.

    The SAE is built as a :class:`CombinatorialSAE` (one latent per concept of A, firing on S exactly
    for the concepts of recon[S]) and evaluated by its definition (C-L1), so the claim
    R + D = E|S| is checked, not assumed. Keys of ``recon`` outside the support have probability 0
    and are ignored after validation. Raises InvalidArgument when some recon[S] ⊄ S ∩ A.
    """
    A = _check_atom_set(pmf, A)
    for ev, r in recon.items():
        if isinstance(ev, bool) or not isinstance(ev, (int, np.integer)) or ev < 0 or int(ev) >> pmf.n:
            raise InvalidArgument(f"recon key {ev!r} is not an event bitmask over {pmf.n} concepts")
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
            raise InvalidArgument(f"recon[{format_event(int(ev))}] = {r!r} is not a concept bitmask")
        if int(r) & ~(int(ev) & A):
            raise InvalidArgument(
                f"recon[{format_event(int(ev))}] = {format_event(int(r))} is not a subset of "
                f"S ∩ A = {format_event(int(ev) & A)}"
            )
    concepts = concepts_of(A)
    if not concepts:  # no atom: one dead latent, nothing is reconstructed
        sae = CombinatorialSAE.free(pmf.n, [0], {})
    else:
        latent_of = {c: j for j, c in enumerate(concepts)}
        support = set(pmf.events)
        code = {
            int(ev): [latent_of[c] for c in concepts_of(int(r))]
            for ev, r in recon.items()
            if int(ev) in support and int(r)
        }
        sae = CombinatorialSAE.free(pmf.n, [1 << c for c in concepts], code)
    evaluation = sae.evaluate(pmf)
    return evaluation.rate, evaluation.distortion


def conservation_bound(pmf: ConceptPMF, A: int) -> float:
    """Σ_{i∉A} p_i: the least distortion of any tied monosemantic SAE representing A (C-P2)."""
    A = _check_atom_set(pmf, A)
    p = pmf.marginals()
    return float(sum(p[i] for i in range(pmf.n) if not A >> i & 1))


# ====================================================================== C-T5
def _coverage(pmf: ConceptPMF, A: int, cap: int | None) -> np.ndarray:
    """u_S = min(|S ∩ A|, cap) per event [N] (cap None: |S ∩ A|)."""
    u = np.array([popcount(ev & A) for ev in pmf.events], dtype=np.int64)
    return u if cap is None else np.minimum(u, cap)


def _best_sets(pmf: ConceptPMF, m: int, k: int) -> tuple[float, list[int]]:
    best = -math.inf
    scores: list[tuple[float, int]] = []
    for A in _atom_sets(pmf, m):
        s = float(pmf.probs @ _coverage(pmf, A, k))
        scores.append((s, A))
        best = max(best, s)
    return best, [A for s, A in scores if s >= best - DEDUPE_TOL]


def d_min(pmf: ConceptPMF, m: int, k: int) -> float:
    """D_min(m, k) = E|S| − max_{|A|≤m} Σ_S π(S)·min(|S ∩ A|, k) (C-T5): the least distortion of a
    monosemantic SAE of width m under the cap k."""
    _check_width_cap(pmf, m, k)
    best, _ = _best_sets(pmf, m, k)
    return max(0.0, pmf.expected_sparsity() - best)


def best_mono_sets(pmf: ConceptPMF, m: int, k: int) -> list[int]:
    """The concept sets A (bitmasks, |A| = min(m, n)) that attain D_min(m, k), ascending.

    Sets of fewer concepts can tie only when a concept never occurs; each of them is contained in one
    of the returned sets.
    """
    _check_width_cap(pmf, m, k)
    return sorted(_best_sets(pmf, m, k)[1])


def _dedupe_desc(a: np.ndarray) -> np.ndarray:
    """Values of a descending array with near-duplicates (≤ DEDUPE_TOL apart) merged."""
    if a.size <= 1:
        return a
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    keep[1:] = (a[:-1] - a[1:]) > DEDUPE_TOL
    return a[keep]


def _top_sums(
    probs: np.ndarray, u: np.ndarray, max_steps: int | None, floor: float = -math.inf
) -> tuple[np.ndarray, bool]:
    """Distinct values ≥ ``floor`` of Σ_S π(S)·r_S with r_S ∈ {0..u_S}, descending, at most ``max_steps``
    of them (the largest); the flag says whether any value was dropped.

    Exact pruning: after each event only the largest ``max_steps`` partial sums are kept (a partial sum
    beaten by ``max_steps`` others stays beaten after any common extension), and a partial sum x whose
    best completion x + Σ_{later} π(S)·u_S is below ``floor`` is dropped. Events are processed by
    decreasing π(S)·u_S so the completion bound tightens early."""
    order = np.argsort(-(probs * u), kind="stable")
    p_sorted, u_sorted = probs[order], u[order]
    rem = np.concatenate([np.cumsum((p_sorted * u_sorted)[::-1])[::-1], [0.0]])
    if rem[0] < floor - DEDUPE_TOL:
        return np.zeros(0), True
    sums = np.zeros(1)
    truncated = False
    for i, (p, cap) in enumerate(zip(p_sorted, u_sorted, strict=True)):
        if cap == 0 or p == 0:
            continue
        sums = (sums[:, None] + p * np.arange(cap + 1)[None, :]).ravel()
        if math.isfinite(floor):
            keep = sums + rem[i + 1] >= floor - DEDUPE_TOL
            if not keep.all():
                truncated = True
                sums = sums[keep]
        sums = _dedupe_desc(np.sort(sums)[::-1])
        if max_steps is not None and sums.size > max_steps:
            sums = sums[:max_steps]
            truncated = True
        elif sums.size > MAX_DP_STATES:
            raise InvalidArgument(
                f"more than {MAX_DP_STATES} distinct omission distortions: give max_steps to keep the smallest"
            )
    return sums, truncated


@dataclass(frozen=True)
class OmissionSet:
    """The distortions 𝒟_mono attainable by omission codes (C-T5), ascending."""

    distortions: tuple[float, ...]
    """Distinct distortions, ascending (the smallest ``max_steps`` when truncated)."""
    truncated: bool
    """True when larger distortions were cut off at ``max_steps``."""
    expected_sparsity: float
    """E|S|, so that each D has rate E|S| − D."""

    @property
    def d_min(self) -> float:
        """min 𝒟_mono."""
        return self.distortions[0]

    def __len__(self) -> int:
        return len(self.distortions)

    def __iter__(self) -> Iterator[float]:
        return iter(self.distortions)


def omission_distortions(
    pmf: ConceptPMF, m: int, k: int, *, cap: bool = True, max_steps: int | None = None,
    deadline: float | None = None,
) -> OmissionSet:
    """𝒟_mono: every distortion D = E|S| − Σ_S π(S)·r_S of an omission code of width m, where
    r_S ∈ {0, …, min(|S ∩ A|, k)} for some |A| ≤ m (``cap=False``: r_S ≤ |S ∩ A|, no per-event cap)
    — C-T5. Computed exactly by a merge DP over events for each A of size min(m, n) (smaller A give
    subsets of these sets), merged, deduplicated with tolerance 1e−12 and sorted ascending; with
    ``max_steps`` only the smallest ``max_steps`` distortions are kept (``truncated=True`` when some
    were cut). Raises InvalidArgument if the exact set would exceed 5,000,000 values without
    ``max_steps``. Past ``deadline`` (a time.perf_counter() value) the remaining atom sets are skipped
    after the first one and the set is marked ``truncated`` (its values are still achievable)."""
    _check_width_cap(pmf, m, k)
    if max_steps is not None and (isinstance(max_steps, bool) or int(max_steps) < 1):
        raise InvalidArgument(f"max_steps must be a positive integer, got {max_steps!r}")
    es = pmf.expected_sparsity()
    covers = [_coverage(pmf, A, k if cap else None) for A in _atom_sets(pmf, m)]
    covers.sort(key=lambda u: -float(pmf.probs @ u))  # most promising A first: raises the floor early
    top = np.zeros(0)
    truncated = False
    for i, u in enumerate(covers):
        if deadline is not None and i > 0 and time.perf_counter() > deadline:
            truncated = True
            break
        # the smallest value still in the running top max_steps: anything below it cannot enter
        floor = float(top[max_steps - 1]) if max_steps is not None and top.size >= max_steps else -math.inf
        sums, t = _top_sums(pmf.probs, u, max_steps, floor)
        truncated |= t
        top = _dedupe_desc(np.sort(np.concatenate([top, sums]))[::-1])
        if max_steps is not None and top.size > max_steps:
            top = top[:max_steps]
            truncated = True
    allsums = top
    d = np.maximum(es - allsums, 0.0)
    return OmissionSet(distortions=tuple(float(x) for x in d), truncated=truncated, expected_sparsity=es)


@dataclass(frozen=True)
class Staircase:
    """The exact monosemantic R–D staircase R*(δ, 0) of C-T5."""

    points: tuple[tuple[float, float], ...]
    """(D, R) corners, ascending D (descending R), R = E|S| − D."""
    truncated: bool
    """True when the staircase was cut after ``max_steps`` corners (the largest-D corners are missing)."""

    def to_list(self) -> list[list[float]]:
        return [[d, r] for d, r in self.points]


def monosemantic_staircase(
    pmf: ConceptPMF, m: int, k: int, max_steps: int = 10_000, *, deadline: float | None = None
) -> Staircase:
    """Corners (D, E|S| − D) for D ∈ 𝒟_mono (C-T5), ascending D; at most ``max_steps`` corners (fewer,
    marked truncated, when ``deadline`` passes; see :func:`omission_distortions`)."""
    om = omission_distortions(pmf, m, k, cap=True, max_steps=max_steps, deadline=deadline)
    es = om.expected_sparsity
    return Staircase(points=tuple((d, max(0.0, es - d)) for d in om.distortions), truncated=om.truncated)


def _min_sum_at_least(
    probs: np.ndarray, u: np.ndarray, target: float, incumbent: float = math.inf
) -> float | None:
    """min{Σ_S π(S) r_S ≥ target − TOL : r_S ∈ {0..u_S}} if it is below ``incumbent`` (else None), by a
    pruned DP: partial sums that can no longer reach the target, or already exceed the incumbent, are
    dropped; those that reach the target are finished (adding more only increases them)."""
    order = np.argsort(-(probs * u), kind="stable")
    p_sorted, u_sorted = probs[order], u[order]
    rem = np.concatenate([np.cumsum((p_sorted * u_sorted)[::-1])[::-1], [0.0]])
    goal = target - TOL
    best = incumbent
    states = np.zeros(1)
    if goal <= 0:
        return 0.0 if incumbent > 0 else None
    for i, (p, cap) in enumerate(zip(p_sorted, u_sorted, strict=True)):
        if states.size == 0:
            break
        if cap == 0 or p == 0:
            continue
        new = (states[:, None] + p * np.arange(cap + 1)[None, :]).ravel()
        done = new >= goal
        if done.any():
            best = min(best, float(new[done].min()))
        new = new[~done & (new + rem[i + 1] >= goal) & (new < best)]
        states = _dedupe_desc(np.sort(new)[::-1])
        if states.size > MAX_DP_STATES:
            raise SolverUnavailable(
                f"the monosemantic staircase near this budget needs more than {MAX_DP_STATES} partial sums "
                f"({len(probs)} events); solve it instead with rdp solve --minimize rate --max-poly 0"
            )
    return None if best >= incumbent else best


def max_omission_distortion(pmf: ConceptPMF, m: int, delta: float, *, k: int | None = None) -> float | None:
    """max{D ∈ 𝒟_mono : D ≤ δ} for omission codes of width m with cap k (``k=None``: no cap), or None
    when every omission code has D > δ (C-T5, C-T4)."""
    _check_width_cap(pmf, m, m if k is None else k)
    if not math.isfinite(delta):
        raise InvalidArgument(f"distortion budget must be finite, got {delta!r}")
    es = pmf.expected_sparsity()
    # δ among the smallest distortions (the usual case: near D_min): read it off the exact top of 𝒟_mono
    head = omission_distortions(pmf, m, m if k is None else k, cap=k is not None, max_steps=LOOKUP_STEPS)
    if not head.truncated or delta + TOL <= head.distortions[-1]:
        ds = np.asarray(head.distortions)
        below = ds[ds <= delta + TOL]
        return float(below[-1]) if below.size else None
    best: float | None = None
    for A in _atom_sets(pmf, m):
        x = _min_sum_at_least(pmf.probs, _coverage(pmf, A, k), es - delta, math.inf if best is None else best)
        if x is not None:
            best = x
    return None if best is None else max(0.0, es - best)


def r_star_mono(pmf: ConceptPMF, m: int, k: int, delta: float) -> float:
    """R*(δ, 0) = E|S| − max{D ∈ 𝒟_mono : D ≤ δ}, ∞ for δ < D_min(m, k) (C-T5)."""
    _check_width_cap(pmf, m, k)
    d = max_omission_distortion(pmf, m, float(delta), k=k)
    if d is None:
        return math.inf
    return max(0.0, pmf.expected_sparsity() - d)


# ====================================================================== C-T4
@dataclass(frozen=True)
class RateTax:
    """The rate tax of C-T4."""

    d_star_k: float
    """D*_k, the optimum under the cap k (polysemantic, since D*_k < D_min)."""
    rate_opt: float
    """Rate of the polysemantic optimum."""
    d_bar: float | None
    """Largest distortion ≤ D*_k of an uncapped omission code of width m; None when there is none
    (then no monosemantic width-m SAE reaches D ≤ D*_k at all)."""
    rate_lower_bound: float
    """E|S| − D̄ (≥ E|S| − D*_k): every monosemantic width-m SAE with D ≤ D*_k, whatever its cap, has
    at least this rate; ∞ when d_bar is None."""
    tax: float
    """rate_lower_bound − rate_opt."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (∞ written as null, with ``monosemantic_reachable`` false)."""
        fin = math.isfinite(self.rate_lower_bound)
        return {
            "d_star_k": self.d_star_k,
            "rate_opt": self.rate_opt,
            "d_bar": self.d_bar,
            "rate_lower_bound": self.rate_lower_bound if fin else None,
            "tax": self.tax if fin else None,
            "monosemantic_reachable": fin,
        }


def rate_tax(pmf: ConceptPMF, m: int, k: int, d_star_k: float, rate_opt: float) -> RateTax | None:
    """C-T4: None when D*_k ≥ D_min(m, k) − 1e−12 (the optimum can be monosemantic); otherwise
    D̄ = max{D ∈ 𝒟_mono(m, no cap) : D ≤ D*_k}, rate_lower_bound = E|S| − D̄, tax = bound − rate_opt."""
    _check_width_cap(pmf, m, k)
    for name, v in (("d_star_k", d_star_k), ("rate_opt", rate_opt)):
        if not isinstance(v, (int, float, np.floating)) or not math.isfinite(float(v)) or v < 0:
            raise InvalidArgument(f"{name} must be a finite number ≥ 0, got {v!r}")
    if d_star_k >= d_min(pmf, m, k) - DEDUPE_TOL:
        return None
    d_bar = max_omission_distortion(pmf, m, float(d_star_k), k=None)
    bound = math.inf if d_bar is None else max(0.0, pmf.expected_sparsity() - d_bar)
    return RateTax(
        d_star_k=float(d_star_k),
        rate_opt=float(rate_opt),
        d_bar=d_bar,
        rate_lower_bound=bound,
        tax=bound - float(rate_opt),
    )


# ====================================================================== C-DT: the distortion tax (dual of C-T4)
def _max_sum_at_most(probs: np.ndarray, u: np.ndarray, budget: float) -> float:
    """max{Σ_S π(S) r_S ≤ budget + TOL : r_S ∈ {0..u_S}} by a set DP over the partial sums (near-equal
    sums merged, sums above the budget dropped)."""
    goal = budget + TOL
    states = np.zeros(1)
    for p, cap in zip(probs, u, strict=True):
        if cap == 0 or p == 0:
            continue
        new = (states[:, None] + p * np.arange(cap + 1)[None, :]).ravel()
        states = _dedupe_desc(np.sort(new[new <= goal])[::-1])
        if states.size > MAX_DP_STATES:
            raise SolverUnavailable(
                f"the monosemantic distortion at this rate budget needs more than {MAX_DP_STATES} partial sums "
                f"({len(probs)} events); solve it instead with rdp solve --minimize distortion --max-poly 0"
            )
    return float(states[0])


def min_mono_distortion(pmf: ConceptPMF, m: int, rate_budget: float, *, k: int | None = None) -> float:
    """D*_mono(r) = min{D ∈ 𝒟_mono : D ≥ E|S| − r}: the least distortion of a monosemantic width-m SAE
    with cap k (``k=None``: no cap) and rate ≤ r. Omission codes suffice (C-T5) and have R = E|S| − D
    (C-P2), so this is E|S| minus the largest retained mass Σ_S π(S) r_S ≤ r, r_S ≤ min(|S ∩ A|, k)."""
    _check_width_cap(pmf, m, m if k is None else k)
    if isinstance(rate_budget, bool) or not isinstance(rate_budget, (int, float, np.floating)) \
            or not math.isfinite(float(rate_budget)) or rate_budget < 0:
        raise InvalidArgument(f"rate budget must be a finite number ≥ 0, got {rate_budget!r}")
    best = 0.0
    for A in _atom_sets(pmf, m):
        best = max(best, _max_sum_at_most(pmf.probs, _coverage(pmf, A, k), float(rate_budget)))
    return max(0.0, pmf.expected_sparsity() - best)


@dataclass(frozen=True)
class DistortionTax:
    """The distortion tax (C-DT): what monosemanticity costs in distortion at a rate budget r."""

    rate_budget: float
    """The rate budget r."""
    d_star: float
    """D*(r), the optimum over all SAEs of the class with cap k and R ≤ r."""
    d_mono: float
    """D*_mono(r) at cap k = min{D ∈ 𝒟_mono(m, k) : D ≥ E|S| − r} (closed form)."""
    d_mono_any_cap: float
    """The same without a cap (a lower bound on d_mono): no monosemantic width-m SAE, whatever its
    cap, has R ≤ r and D < this."""
    lower_bound: float
    """max(D_min(m, k), E|S| − r) ≤ d_mono: the conservation law and the monosemantic floor alone."""
    tax: float
    """d_mono − d_star (≥ 0)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"rate_budget": self.rate_budget, "d_star": self.d_star, "d_mono": self.d_mono,
                "d_mono_any_cap": self.d_mono_any_cap, "lower_bound": self.lower_bound, "tax": self.tax}


def distortion_tax(pmf: ConceptPMF, m: int, k: int, rate_budget: float, d_star: float) -> DistortionTax:
    """C-DT, the dual of the rate tax: at rate budget r, a monosemantic SAE of width m and cap k has
    D ≥ D*_mono(r) = min{D ∈ 𝒟_mono(m, k) : D ≥ E|S| − r} ≥ max(D_min, E|S| − r), attained; the tax is
    D*_mono(r) − D*(r) for the optimum D*(r) (given, from a solver)."""
    _check_width_cap(pmf, m, k)
    if not isinstance(d_star, (int, float, np.floating)) or not math.isfinite(float(d_star)) or d_star < 0:
        raise InvalidArgument(f"d_star must be a finite number ≥ 0, got {d_star!r}")
    d_mono = min_mono_distortion(pmf, m, rate_budget, k=k)
    return DistortionTax(
        rate_budget=float(rate_budget),
        d_star=float(d_star),
        d_mono=d_mono,
        d_mono_any_cap=min_mono_distortion(pmf, m, rate_budget, k=None),
        lower_bound=max(d_min(pmf, m, k), max(0.0, pmf.expected_sparsity() - float(rate_budget))),
        tax=d_mono - float(d_star),
    )


# ====================================================================== C-E1: Example 1
#
# Local event patterns: for a code with concept roles (a, b, c), an event S is seen through
# (x_a, x_b, x_c) = (1[a∈S], 1[b∈S], 1[c∈S]); pattern index t = x_a + 2·x_b + 4·x_c, i.e. the order
#     ∅, {a}, {b}, {a,b}, {c}, {a,c}, {b,c}, {a,b,c}
# (the same as the example1: spec order when a, b, c = 0, 1, 2). Each table lists, per pattern, the
# squared error and the number of active latents of the best firing map (least error, then least rate).
_PATTERN_ERR: dict[tuple[str, int], tuple[int, ...]] = {
    #                        ∅  a  b  ab c  ac bc abc
    ("monosemantic", 1):   (0, 0, 0, 1, 1, 1, 1, 2),
    ("monosemantic", 2):   (0, 0, 0, 0, 1, 1, 1, 1),
    ("hedged", 1):         (0, 1, 1, 0, 0, 1, 1, 1),
    ("hedged", 2):         (0, 1, 1, 0, 0, 1, 1, 0),
    ("splitting", 1):      (0, 0, 1, 0, 1, 1, 2, 1),
    ("splitting", 2):      (0, 0, 1, 0, 1, 1, 2, 1),
}
_PATTERN_RATE: dict[tuple[str, int], tuple[int, ...]] = {
    #                        ∅  a  b  ab c  ac bc abc
    ("monosemantic", 1):   (0, 1, 1, 1, 0, 1, 1, 1),
    ("monosemantic", 2):   (0, 1, 1, 2, 0, 1, 1, 2),
    ("hedged", 1):         (0, 0, 0, 1, 1, 1, 1, 1),
    ("hedged", 2):         (0, 0, 0, 1, 1, 1, 1, 2),
    ("splitting", 1):      (0, 1, 0, 1, 0, 1, 0, 1),
    ("splitting", 2):      (0, 1, 0, 1, 0, 1, 0, 1),
}

#: P_dec of each family's code: two singletons → 0; a pair and a singleton → (1 − 1/√2)/2.
EXAMPLE1_POLY: dict[str, float] = {
    "monosemantic": 0.0,
    "hedged": 0.5 * binary_row_poly(2),
    "splitting": 0.5 * binary_row_poly(2),
}


@dataclass(frozen=True)
class Example1Code:
    """One code of Example 1 (n = 3, m = 2)."""

    name: str
    """E.g. ``mono({0},{1})``, ``hedged({0,1},{2})``, ``splitting({0,1},{0})``."""
    family: Family
    atoms: tuple[int, int]
    """The two decoder atoms as bitmasks."""
    roles: tuple[int, int, int] = field(repr=False)
    """Concepts (a, b, c): mono ({a},{b}); hedged ({a,b},{c}); splitting ({a,b},{a}); c the rest."""


def example1_codes() -> list[Example1Code]:
    """The 12 codes of Example 1: 3 monosemantic ({a},{b}), 3 hedged ({a,b},{c}), 6 splitting
    ({a,b},{a}) (one per ordered choice of the kept concept a and its partner b)."""
    codes: list[Example1Code] = []
    for a, b in itertools.combinations(range(3), 2):
        c = 3 - a - b
        codes.append(Example1Code(f"mono({{{a}}},{{{b}}})", "monosemantic", (1 << a, 1 << b), (a, b, c)))
    for c in (2, 1, 0):
        a, b = sorted({0, 1, 2} - {c})
        codes.append(Example1Code(f"hedged({{{a},{b}}},{{{c}}})", "hedged", ((1 << a) | (1 << b), 1 << c), (a, b, c)))
    for lo, hi in itertools.combinations(range(3), 2):
        for a, b in ((lo, hi), (hi, lo)):
            c = 3 - a - b
            codes.append(
                Example1Code(
                    f"splitting({{{lo},{hi}}},{{{a}}})", "splitting", ((1 << lo) | (1 << hi), 1 << a), (a, b, c)
                )
            )
    return codes


def _check_k(k: int) -> None:
    if isinstance(k, bool) or k not in (1, 2):
        raise InvalidArgument(f"Example 1 needs k ∈ {{1, 2}}, got {k!r}")


def example1_coefficients(
    code: Example1Code, k: int, coefficients: CoefficientMode = "integer"
) -> tuple[np.ndarray, np.ndarray]:
    """(d_coef[8], r_coef[8]) with D = d_coef · π and R = r_coef · π, π in bitmask order
    ({}, {0}, {1}, {0,1}, {2}, {0,2}, {1,2}, {0,1,2}) — C-E1, derived in closed form.

    Derivation (DESIGN §1.2; x_i = 1[i ∈ S]; the best firing map minimises the squared error, then the
    number of active latents, on each event separately, so D and R are linear in π):

    *Monosemantic* ({a},{b}), c the third concept. Firing {i} on S changes the error on i from x_i to
    (1 − x_i)², a gain of 1 exactly when i ∈ S. So the code fires the latents of S ∩ {a,b}, at most k:
    error(S) = |S| − min(|S ∩ {a,b}|, k), rate(S) = min(|S ∩ {a,b}|, k). Hence
    k = 2: D = p_c, R = p_a + p_b; k = 1: D = E|S| − P(a ∈ S or b ∈ S), R = P(a ∈ S or b ∈ S).

    *Hedged* ({a,b},{c}). The atoms are disjoint, so the errors add: firing {a,b} leaves
    2 − |S ∩ {a,b}| errors on a, b instead of |S ∩ {a,b}| — a gain of 2 if both are present, 0 (a tie,
    so not fired: lower rate) if one is, −2 if none; firing {c} gains +1 if c ∈ S, −1 otherwise.
    k = 2 fires each latent with positive gain: error 1 exactly on events with one of a, b, so
    D = p_a + p_b − 2·p_ab, R = P(a,b ∈ S) + p_c. k = 1 fires the larger positive gain: on {a,b,c}
    the pair (gain 2 > 1), leaving c: error 1. Table (∅, a, b, ab, c, ac, bc, abc):
    error k=1: 0 1 1 0 0 1 1 1, rate k=1: 0 0 0 1 1 1 1 1; error k=2: 0 1 1 0 0 1 1 0,
    rate k=2: 0 0 0 1 1 1 1 2.

    *Splitting* ({a,b},{a}), b the partner, c never reconstructed (error x_c always). On (a, b) the four
    firing sets give errors: none x_a + x_b; {a}: (1 − x_a) + x_b; {a,b}: (1 − x_a) + (1 − x_b);
    both (integer mode, c_a = 2): (2 − x_a)² + (1 − x_b). Best per pattern: (0,0) none, error 0;
    (1,0) {a}, 0; (0,1) none, 1 (every firing gives ≥ 2); (1,1) {a,b}, 0 (both gives 1). Both latents
    are never fired together, so k = 1 and k = 2 agree and the disjoint mode (which forbids firing
    both) changes nothing: D = p_c + p_b − p_ab, R = p_a. Table: error 0 0 1 0 1 1 2 1,
    rate 0 1 0 1 0 1 0 1. The other two families use disjoint atoms, so all coefficients are the same
    in both coefficient modes.
    """
    _check_k(k)
    if coefficients not in ("integer", "disjoint"):
        raise InvalidArgument(f"coefficients must be integer or disjoint, got {coefficients!r}")
    err_t, rate_t = _PATTERN_ERR[(code.family, k)], _PATTERN_RATE[(code.family, k)]
    a, b, c = code.roles
    d = np.zeros(8)
    r = np.zeros(8)
    for ev in range(8):
        t = (ev >> a & 1) + 2 * (ev >> b & 1) + 4 * (ev >> c & 1)
        d[ev] = err_t[t]
        r[ev] = rate_t[t]
    return d, r


def _example1_vector(pmf: ConceptPMF) -> np.ndarray:
    if pmf.n != 3:
        raise InvalidArgument(f"Example 1 needs n = 3 concepts, the pmf has n = {pmf.n}")
    pi = np.zeros(8)
    for ev, p in pmf.items():
        pi[ev] = p
    return pi


def example1_closed_forms(
    pmf: ConceptPMF, k: int, coefficients: CoefficientMode = "integer"
) -> dict[str, tuple[float, float]]:
    """Closed-form (D, R) of every Example 1 code on ``pmf`` (n = 3), keyed by code name (C-E1)."""
    pi = _example1_vector(pmf)
    out = {}
    for code in example1_codes():
        d, r = example1_coefficients(code, k, coefficients)
        out[code.name] = (float(d @ pi), float(r @ pi))
    return out


def example1_difference(code_a: Example1Code, code_b: Example1Code, k: int) -> np.ndarray:
    """Coefficients of the linear form D(code_a) − D(code_b) in π (negative ⇔ code_a has lower D).

    Simplified, with p the marginals and π(·) event probabilities, the derived forms include:
    k = 2: hedged({a,b},{c}) − mono omitting x: p_a + p_b − 2·p_ab − p_x, so a hedge beats the best
    monosemantic code iff p_a + p_b − 2·p_ab < min_i p_i; splitting({a,b},{a}) − mono({a},{b}) =
    p_b − p_ab ≥ 0, so splitting never wins on D at k = 2 (it ties when b only occurs with a, and then
    wins on rate: p_a < p_a + p_b). k = 1: hedged({a,b},{c}) − mono({a},{b}) =
    π(a) + π(b) − π(ab) − π(c) − π(abc); splitting({a,b},{a}) − mono({a},{b}) = p_b − 2·p_ab.
    """
    da, _ = example1_coefficients(code_a, k)
    db, _ = example1_coefficients(code_b, k)
    return da - db


def _family_best(pi: np.ndarray, k: int, family: str) -> tuple[float, float]:
    best: tuple[float, float] | None = None
    for code in example1_codes():
        if code.family != family:
            continue
        d, r = example1_coefficients(code, k)
        val = (float(d @ pi), float(r @ pi))
        if best is None or val[0] < best[0] - DEDUPE_TOL or (abs(val[0] - best[0]) <= DEDUPE_TOL and val[1] < best[1]):
            best = val
    assert best is not None
    return best


def example1_inequality(pmf: ConceptPMF, k: int, family_a: str, family_b: str) -> float:
    """Signed margin by which the best code of ``family_a`` beats the best of ``family_b`` (C-E1).

    With D_X = min over the codes of family X of the closed-form D (a minimum of linear forms in π,
    see :func:`example1_difference`) and R_X the least closed-form R among the codes attaining D_X:
    returns D_b − D_a when |D_b − D_a| > 1e−12, else R_b − R_a. Positive ⇔ family_a wins (lower D,
    ties to lower R); 0 ⇔ a tie in both; negative ⇔ family_b wins.
    """
    _check_k(k)
    for f in (family_a, family_b):
        if f not in FAMILIES:
            raise InvalidArgument(f"unknown Example 1 family {f!r} (choose from {', '.join(FAMILIES)})")
    pi = _example1_vector(pmf)
    da, ra = _family_best(pi, k, family_a)
    db, rb = _family_best(pi, k, family_b)
    if abs(db - da) > DEDUPE_TOL:
        return db - da
    return rb - ra


def example1_ranking(pmf: ConceptPMF, k: int) -> list[tuple[str, Family, float, float, float]]:
    """All Example 1 codes as (name, family, D, R, P_dec) sorted by (D, R, P) with 1e−12 ties."""
    _check_k(k)
    forms = example1_closed_forms(pmf, k)
    rows = [(c.name, c.family, *forms[c.name], EXAMPLE1_POLY[c.family]) for c in example1_codes()]
    scale = 1 / DEDUPE_TOL
    rows.sort(key=lambda t: (round(t[2] * scale), round(t[3] * scale), t[4]))
    return rows


def example1_predict(pmf: ConceptPMF, k: int) -> Family:
    """The family of the best Example 1 code by closed-form D, then R, then P (monosemantic before
    hedged before splitting when all three tie) — C-E1 (c)."""
    rows = example1_ranking(pmf, k)
    top = rows[0]
    tied = {
        r[1]
        for r in rows
        if abs(r[2] - top[2]) <= DEDUPE_TOL and abs(r[3] - top[3]) <= DEDUPE_TOL and r[4] == top[4]
    }
    return next(f for f in FAMILIES if f in tied)


def example1_tied_families(pmf: ConceptPMF, k: int) -> set[Family]:
    """Families that share the best closed-form (D, R, P) (usually one)."""
    rows = example1_ranking(pmf, k)
    top = rows[0]
    return {
        r[1]
        for r in rows
        if abs(r[2] - top[2]) <= DEDUPE_TOL and abs(r[3] - top[3]) <= DEDUPE_TOL and r[4] == top[4]
    }


def example1_structure(atoms: Iterable[int]) -> str:
    """Structure of a width-2 SAE of Example 1 from its live atoms: ``monosemantic`` (two singletons),
    ``hedged`` (a pair and the disjoint singleton), ``splitting`` (a pair and a singleton inside it), or
    ``other`` (e.g. an atom {a,b,c}, two overlapping pairs, or fewer than two distinct live atoms)."""
    live = sorted({int(a) for a in atoms if int(a)}, key=lambda a: (popcount(a), a))
    if len(live) != 2:
        return "other"
    x, y = live
    if popcount(x) == 1 and popcount(y) == 1:
        return "monosemantic"
    if popcount(x) == 1 and popcount(y) == 2:
        return "splitting" if x & y else "hedged"
    return "other"


def example1_applicable(pmf: ConceptPMF, m: int, k: int) -> bool:
    """Example 1 applies to n = 3, m = 2, k ∈ {1, 2}."""
    return pmf.n == 3 and m == 2 and k in (1, 2)


def example1_report(pmf: ConceptPMF, k: int, optimum_atoms: Sequence[int] | None = None) -> dict[str, Any]:
    """JSON-ready Example 1 block: closed-form D, R, P of every code, the predicted structure and, when
    the exact optimum's live atoms are given, its structure."""
    rows = example1_ranking(pmf, k)
    block: dict[str, Any] = {
        "k": k,
        "codes": [
            {"name": name, "family": fam, "D": d, "R": r, "P": p} for name, fam, d, r, p in rows
        ],
        "predicted_structure": example1_predict(pmf, k),
        "tied_structures": sorted(example1_tied_families(pmf, k)),
        "optimum_structure": None if optimum_atoms is None else example1_structure(optimum_atoms),
    }
    return block
