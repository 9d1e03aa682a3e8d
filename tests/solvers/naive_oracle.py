"""A deliberately simple, independent enumeration of tiny combinatorial SAEs (test oracle only).

Free class: every tuple of m atoms in {0..2^n−1} (up to sorting; dead and duplicate atoms allowed) and
every code (per event any set of ≤ k latents; disjoint mode: pairwise disjoint atoms). The set of
(R, D, used latents) reachable is built event by event with plain set unions (no pruning); R and D are
exact Fractions of the float probabilities; P is the canonical P of the used, distinct, nonempty atoms.
Threshold class: every latent (atom, weights, θ) literally, every multiset of m of them.
Queries pick the lexicographic optimum exactly (P compared with a 1e−12 tolerance, being irrational).
Sizes: keep n ≤ 3, m ≤ 3, N ≤ 6 (free) and the threshold class smaller still.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from rdp_exact.pmf import ConceptPMF, popcount
from rdp_exact.problem import TOL, Problem, lex_order
from rdp_exact.sae import CombinatorialSAE, ThresholdUnit, event_error

PEPS = 1e-12
Point = tuple[Fraction, Fraction, float]  # (R, D, P)


def exact_probs(pmf: ConceptPMF) -> list[Fraction]:
    """The intended rationals behind the float probabilities (tests build pmfs from small integer weights)."""
    return [Fraction(float(p)).limit_denominator(10**6) for p in pmf.probs]


def _poly(sizes: list[int]) -> float:
    if not sizes:
        return 0.0
    vals = sorted(1 - 1 / math.sqrt(s) for s in sizes)
    return math.fsum(vals) / len(vals)


def set_distortion(pmf: ConceptPMF, atoms: list[int], k: int) -> float:
    """Exact D of an atom set (bitmasks): per event the least squared error over ≤ k of its atoms (integer sums)."""
    n = pmf.n
    vecs = [[(a >> i) & 1 for i in range(n)] for a in atoms]
    total = 0.0
    for ev, p in pmf.items():
        t = [(ev >> i) & 1 for i in range(n)]
        best = sum(t)
        for s in range(1, min(k, len(vecs)) + 1):
            for Q in itertools.combinations(vecs, s):
                best = min(best, sum((t[i] - sum(q[i] for q in Q)) ** 2 for i in range(n)))
        total += p * best
    return total


def free_points(pmf: ConceptPMF, m: int, k: int, mode: str) -> dict[Point, tuple[tuple[int, ...], dict]]:
    """Every achievable (R, D, P) of the free class with one witness (atoms, code)."""
    out: dict[Point, tuple[tuple[int, ...], dict]] = {}
    probs = exact_probs(pmf)
    for atoms in itertools.combinations_with_replacement(range(1 << pmf.n), m):
        per_event = []
        for ev in pmf.events:
            opts = []
            for t in range(min(k, m) + 1):
                for z in itertools.combinations(range(m), t):
                    err = event_error(pmf.n, ev, [atoms[j] for j in z], mode)  # type: ignore[arg-type]
                    if err is not None:
                        opts.append((z, err))
            per_event.append(opts)
        # reachable (R, D, used) with a witness code
        states: dict[tuple[Fraction, Fraction, frozenset[int]], tuple] = {(Fraction(0), Fraction(0), frozenset()): ()}
        for s, opts in enumerate(per_event):
            new: dict[tuple[Fraction, Fraction, frozenset[int]], tuple] = {}
            for (r, d, used), wit in states.items():
                for z, err in opts:
                    key = (r + probs[s] * len(z), d + probs[s] * err, used | frozenset(z))
                    if key not in new:
                        new[key] = (*wit, z)
            states = new
        for (r, d, used), wit in states.items():
            live = sorted({atoms[j] for j in used if atoms[j] != 0})
            p = _poly([popcount(a) for a in live])
            pt = (r, d, p)
            if pt not in out:
                out[pt] = (atoms, {ev: z for ev, z in zip(pmf.events, wit, strict=True) if z})
    return out


def threshold_units(n: int, binary: bool) -> list[ThresholdUnit]:
    vals = (0, 1) if binary else (-1, 0, 1)
    return [ThresholdUnit(w, th) for w in itertools.product(vals, repeat=n) for th in range(1, n + 1)]


def threshold_points(
    pmf: ConceptPMF, m: int, k: int, mode: str, binary: bool, measure: str
) -> dict[Point, CombinatorialSAE]:
    """Every achievable (R, D, P) of the threshold class (literal enumeration), with one witness SAE."""
    latents = [(a, u) for a in range(1 << pmf.n) for u in threshold_units(pmf.n, binary)]
    probs = exact_probs(pmf)
    out: dict[Point, CombinatorialSAE] = {}
    for combo in itertools.combinations_with_replacement(range(len(latents)), m):
        atoms = [latents[j][0] for j in combo]
        units = [latents[j][1] for j in combo]
        r = d = Fraction(0)
        fired = [False] * m
        ok = True
        for s, ev in enumerate(pmf.events):
            act = [j for j in range(m) if units[j].fires(ev)]
            if len(act) > k:
                ok = False
                break
            err = event_error(pmf.n, ev, [atoms[j] for j in act], mode)  # type: ignore[arg-type]
            if err is None:
                ok = False
                break
            for j in act:
                fired[j] = True
            r += probs[s] * len(act)
            d += probs[s] * err
        if not ok:
            continue
        live = [j for j in range(m) if fired[j] and atoms[j] != 0]
        pdec = _poly([popcount(atoms[j]) for j in live])
        if measure == "decoder":
            p = pdec
        else:
            penc = _poly([sum(1 for w in units[j].weights if w) for j in live])
            p = 0.5 * (pdec + penc) if live else 0.0
        pt = (r, d, p)
        if pt not in out:
            out[pt] = CombinatorialSAE.threshold(pmf.n, atoms, units, mode)  # type: ignore[arg-type]
    return out


def achievable(problem: Problem) -> dict[Point, object]:
    """Achievable points of the problem's class (free or threshold) with witnesses."""
    if problem.encoder == "free":
        return free_points(problem.pmf, problem.width, problem.k, problem.coefficients)  # type: ignore[return-value]
    return threshold_points(
        problem.pmf, problem.width, problem.k, problem.coefficients,
        problem.encoder_weights == "binary", problem.poly_measure,
    )  # type: ignore[return-value]


def answer(problem: Problem, points: dict[Point, object] | None = None) -> Point | None:
    """Exact lexicographic optimum (R, D, P) of the query, or None when the budgets are infeasible."""
    pts = achievable(problem) if points is None else points
    feas = [
        pt for pt in pts
        if (problem.max_rate is None or float(pt[0]) <= problem.max_rate + TOL)
        and (problem.max_distortion is None or float(pt[1]) <= problem.max_distortion + TOL)
        and (problem.max_poly is None or pt[2] <= problem.max_poly + TOL)
    ]
    if not feas:
        return None
    pos = {"rate": 0, "distortion": 1, "poly": 2}
    for q in lex_order(problem.minimize):
        i = pos[q]
        best = min(pt[i] for pt in feas)
        feas = [pt for pt in feas if (pt[i] <= best + PEPS if i == 2 else pt[i] == best)]
    return feas[0]


def pareto(points: dict[Point, object]) -> list[Point]:
    """Pareto-minimal (R, D, P) points (P within 1e−12 counts as equal), sorted."""
    pts = sorted(points)
    out = []
    for a in pts:
        dominated = False
        for b in pts:
            if b is a:
                continue
            le = b[0] <= a[0] and b[1] <= a[1] and b[2] <= a[2] + PEPS
            eq = b[0] == a[0] and b[1] == a[1] and abs(b[2] - a[2]) <= PEPS
            if le and not eq:
                dominated = True
                break
        if not dominated:
            out.append(a)
    # merge P-equal duplicates
    merged: list[Point] = []
    for a in out:
        if not any(a[0] == b[0] and a[1] == b[1] and abs(a[2] - b[2]) <= PEPS for b in merged):
            merged.append(a)
    return merged
