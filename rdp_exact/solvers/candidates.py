"""Candidate atoms, per-event patterns, dominance rules and a local-search heuristic (DESIGN §1.2, §8).

Shared by the integer-programming backends (:mod:`rdp_exact.solvers.milp`, :mod:`rdp_exact.solvers.cpsat`).

Notation: t = 1_S (the event's indicator), an active set Q of atoms gives coefficients c = Σ_{A∈Q} 1_A and the
event error err(S, Q) = Σ_i (t_i − c_i)² (integer mode; disjoint mode only allows pairwise disjoint Q).

Dominance (valid only when P is neither budgeted nor the primary objective, see :func:`p_free`):

* **helpful uses.** Adding atom A to an active set changes the error by |A| − 2·Σ_{i∈A}(t_i − c_i) ≥
  |A| − 2|A∩S| (c ≥ 0), so a use of A on S with 2|A∩S| ≤ |A| never lowers D and costs rate. Dropping such a
  use keeps D and lowers R, so lexicographic optima (D, R in any order, then P with D and R fixed) never
  contain one. Only atoms helpful on some event are candidates.
* **irreducible patterns.** At a lexicographic (D, R)-optimum every event's active set Q has
  err(S, Q) < err(S, Q') for every proper subset Q' ⊂ Q (otherwise Q' would give the same or lower D at lower
  R). Such Q are the *irreducible patterns* of S; they are the columns of the pattern model.

When P is budgeted or minimised first, a code may fire an atom where it does not help, just to keep it live
(DESIGN §1.4), so these reductions are switched off there.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rdp_exact.errors import SolverUnavailable
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Problem
from rdp_exact.sae import CoefficientMode

#: Largest n for which every nonempty atom (2^n − 1 of them) is enumerated.
MAX_N_ALL_ATOMS = 20


def _popcount_array(a: np.ndarray) -> np.ndarray:
    """Popcount of a non-negative int64 array (values < 2^62)."""
    a = a.astype(np.uint64)
    out = np.zeros(a.shape, dtype=np.int64)
    while True:
        nz = a != 0
        if not nz.any():
            return out
        out += (a & np.uint64(1)).astype(np.int64)
        a = a >> np.uint64(1)


def p_free(problem: Problem) -> bool:
    """Whether P only enters as the last lexicographic tie-break (no P budget, P not primary)."""
    return problem.max_poly is None and problem.minimize != "poly"


def poly_weight(size: int) -> float:
    """w_A = 1 − 1/√|A| (0 for a singleton)."""
    return 1.0 - 1.0 / math.sqrt(size)


def all_atoms(n: int) -> np.ndarray:
    """Every nonempty atom over n concepts, as int64 bitmasks [2^n − 1]."""
    if n > MAX_N_ALL_ATOMS:
        raise SolverUnavailable(f"n = {n} concepts is too many to enumerate atoms (at most {MAX_N_ALL_ATOMS})")
    return np.arange(1, 1 << n, dtype=np.int64)


def helpful_matrix(atoms: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Boolean [M, N]: 2|A∩S| > |A| (atom A can lower the error of event S)."""
    size = _popcount_array(atoms)
    inter = _popcount_array(atoms[:, None] & events[None, :])
    return 2 * inter > size[:, None]


def candidate_atoms(pmf: ConceptPMF, *, helpful_only: bool) -> np.ndarray:
    """Candidate atoms: all nonempty atoms, or (dominance) those helpful on some support event."""
    atoms = all_atoms(pmf.n)
    if not helpful_only:
        return atoms
    events = pmf.masks
    keep = np.zeros(atoms.size, dtype=bool)
    for lo in range(0, atoms.size, 1 << 14):
        keep[lo : lo + (1 << 14)] = helpful_matrix(atoms[lo : lo + (1 << 14)], events).any(axis=1)
    return atoms[keep]


def pattern_error(n: int, event: int, atoms: tuple[int, ...]) -> int:
    """err(S, Q) = Σ_i (1[i∈S] − c_i)² for unit-weight atoms Q (integer mode)."""
    err = 0
    for i in range(n):
        c = sum((a >> i) & 1 for a in atoms)
        err += (((event >> i) & 1) - c) ** 2
    return err


@dataclass(frozen=True)
class PatternTable:
    """Irreducible patterns of every support event (pattern model columns).

    Patterns are stored flat: ``event[p]`` (event index), ``atoms[p, :]`` (candidate indices, −1 padded),
    ``err[p]``, ``size[p]`` = |Q|. The empty pattern is implicit (error |S|, size 0).
    """

    atoms_mask: np.ndarray
    """Candidate atoms as bitmasks [M]."""
    event: np.ndarray
    """[P] event index of each pattern."""
    atoms: np.ndarray
    """[P, k] candidate-atom indices of each pattern, −1 padded."""
    err: np.ndarray
    """[P] event error of the pattern."""
    size: np.ndarray
    """[P] number of atoms in the pattern."""
    empty_err: np.ndarray
    """[N] error of the empty pattern = |S|."""

    @property
    def num_patterns(self) -> int:
        return int(self.event.size)


def _errors_for(n: int, ev: int, combos: np.ndarray, amask: np.ndarray) -> np.ndarray:
    """Errors of many patterns on one event: combos [P, t] indices into amask."""
    bits = ((amask[combos][..., None] >> np.arange(n)) & 1).sum(axis=1)  # [P, n]
    t = (ev >> np.arange(n)) & 1
    return ((t[None, :] - bits) ** 2).sum(axis=1)


def irreducible_patterns(
    pmf: ConceptPMF, atoms: np.ndarray, k: int, mode: CoefficientMode, *, max_patterns: int = 3_000_000,
    deadline: float | None = None,
) -> PatternTable:
    """Enumerate every event's irreducible patterns of ≤ k candidate atoms (see module docstring).

    Disjoint mode keeps only pairwise disjoint atoms. Raises :class:`SolverUnavailable` beyond
    ``max_patterns`` patterns.
    """
    n = pmf.n
    events = pmf.masks
    M = atoms.size
    help_ = np.zeros((M, events.size), dtype=bool)
    for lo in range(0, M, 1 << 14):
        help_[lo : lo + (1 << 14)] = helpful_matrix(atoms[lo : lo + (1 << 14)], events)
    ev_l: list[np.ndarray] = []
    at_l: list[np.ndarray] = []
    er_l: list[np.ndarray] = []
    total = 0
    for s, ev in enumerate(events.tolist()):
        if deadline is not None and time.perf_counter() > deadline:  # a time.perf_counter() value
            raise TimeoutError("time limit reached while enumerating irreducible patterns")
        h = np.flatnonzero(help_[:, s])
        if h.size == 0:
            continue
        e1 = _errors_for(n, ev, h[:, None], atoms)  # helpful ⇔ err < |S|: every single is irreducible
        found: list[tuple[np.ndarray, np.ndarray]] = [(h[:, None], e1)]
        if k >= 2 and h.size >= 2:
            if k == 2:
                found.append(_irreducible_pairs(n, ev, h, e1, atoms, mode))
            else:
                found.extend(_irreducible_general(n, ev, h, e1, atoms, k, mode, max_patterns))
        for C, e in found:
            pad = np.full((C.shape[0], k), -1, dtype=np.int64)
            pad[:, : C.shape[1]] = C
            ev_l.append(np.full(C.shape[0], s, dtype=np.int64))
            at_l.append(pad)
            er_l.append(e.astype(np.int64))
            total += C.shape[0]
        if total > max_patterns:
            raise SolverUnavailable(
                f"more than {max_patterns} irreducible patterns; instance too large for the pattern model"
            )
    if ev_l:
        ev_a = np.concatenate(ev_l)
        at_a = np.concatenate(at_l)
        er_a = np.concatenate(er_l)
    else:
        ev_a = np.zeros(0, dtype=np.int64)
        at_a = np.zeros((0, k), dtype=np.int64)
        er_a = np.zeros(0, dtype=np.int64)
    size = (at_a >= 0).sum(axis=1)
    return PatternTable(
        atoms_mask=atoms, event=ev_a, atoms=at_a, err=er_a, size=size, empty_err=pmf.sizes.astype(np.int64)
    )


def _irreducible_pairs(
    n: int, ev: int, h: np.ndarray, e1: np.ndarray, atoms: np.ndarray, mode: CoefficientMode
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs {A, B} of helpful atoms with err(AB) < min(err(A), err(B)) (and A∩B = ∅ in disjoint mode)."""
    i, j = np.triu_indices(h.size, k=1)
    if mode == "disjoint":
        ok = (atoms[h[i]] & atoms[h[j]]) == 0
        i, j = i[ok], j[ok]
    C = np.stack([h[i], h[j]], axis=1)
    if C.shape[0] == 0:
        return C, np.zeros(0, dtype=np.int64)
    e = _errors_for(n, ev, C, atoms)
    keep = e < np.minimum(e1[i], e1[j])
    return C[keep], e[keep]


def _irreducible_general(
    n: int,
    ev: int,
    h: np.ndarray,
    e1: np.ndarray,
    atoms: np.ndarray,
    k: int,
    mode: CoefficientMode,
    limit: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Irreducible sets of 2..k helpful atoms: err(Q) < min over every proper subset (by recursion on
    minsub(Q) = min over (|Q|−1)-subsets Q' of min(err(Q'), minsub(Q')))."""
    if sum(math.comb(h.size, t) for t in range(2, k + 1)) > limit:
        raise SolverUnavailable("too many atom combinations per event for the pattern model")
    err: dict[tuple[int, ...], int] = {(int(a),): int(e) for a, e in zip(h.tolist(), e1.tolist(), strict=True)}
    size_s = (ev).bit_count()
    minsub: dict[tuple[int, ...], int] = {key: size_s for key in err}
    out = []
    hl = h.tolist()
    for t in range(2, k + 1):
        combos = []
        for c in itertools.combinations(hl, t):
            if mode == "disjoint" and any(int(atoms[a]) & int(atoms[b]) for a, b in itertools.combinations(c, 2)):
                continue
            combos.append(c)
        if not combos:
            break
        C = np.array(combos, dtype=np.int64)
        e = _errors_for(n, ev, C, atoms)
        keep = np.zeros(len(combos), dtype=bool)
        for r, c in enumerate(combos):
            ms = min(min(err[c[:d] + c[d + 1 :]], minsub[c[:d] + c[d + 1 :]]) for d in range(t))
            err[c] = int(e[r])
            minsub[c] = ms
            keep[r] = e[r] < ms
        out.append((C[keep], e[keep]))
    return out


# ---------------------------------------------------------------------------------------------- heuristic
def _best_per_event(table: PatternTable, chosen: np.ndarray, probs: np.ndarray, rate_weight: float) -> np.ndarray:
    """Per-event least (err + rate_weight·|Q|) over patterns whose atoms are all chosen."""
    ok = np.where(table.atoms >= 0, chosen[np.maximum(table.atoms, 0)], True).all(axis=1)
    key = table.err + rate_weight * table.size
    best = table.empty_err.astype(np.float64).copy()
    np.minimum.at(best, table.event[ok], key[ok])
    return best


def local_search(
    pmf: ConceptPMF, table: PatternTable, m: int, *, rate_weight: float = 1e-3, time_limit: float = 2.0, seed: int = 0
) -> np.ndarray:
    """Heuristic atom set for min D (then R): greedy additions, then best-improvement swaps.

    Returns a boolean mask over ``table.atoms_mask``. Codes are best responses over the irreducible
    patterns. Only a warm start for the exact models; no optimality claim.
    """
    t0 = time.perf_counter()
    probs = np.asarray(pmf.probs, dtype=np.float64)
    M = table.atoms_mask.size
    chosen = np.zeros(M, dtype=bool)
    if M == 0 or table.num_patterns == 0:
        return chosen
    # inverted index: patterns per atom
    flat_atoms = table.atoms.ravel()
    flat_pat = np.repeat(np.arange(table.num_patterns), table.atoms.shape[1])
    valid = flat_atoms >= 0
    key = table.err + rate_weight * table.size

    def gains(ch: np.ndarray, best: np.ndarray) -> np.ndarray:
        """Objective decrease from adding each unchosen atom to ``ch``."""
        missing = np.where(table.atoms >= 0, ~ch[np.maximum(table.atoms, 0)], False)
        nmiss = missing.sum(axis=1)
        one = nmiss == 1
        if not one.any():
            return np.zeros(M)
        miss_atom = table.atoms[one][missing[one]]
        ev = table.event[one]
        imp = np.maximum(best[ev] - key[one], 0.0)
        # per (atom, event) keep the largest improvement
        order = np.lexsort((-imp, ev, miss_atom))
        a_s, e_s, i_s = miss_atom[order], ev[order], imp[order]
        first = np.ones(a_s.size, dtype=bool)
        first[1:] = (a_s[1:] != a_s[:-1]) | (e_s[1:] != e_s[:-1])
        g = np.zeros(M)
        np.add.at(g, a_s[first], probs[e_s[first]] * i_s[first])
        return g

    del flat_pat, valid
    best = _best_per_event(table, chosen, probs, rate_weight)
    while chosen.sum() < m:
        g = gains(chosen, best)
        g[chosen] = -1
        a = int(np.argmax(g))
        if g[a] <= 0:
            break
        chosen[a] = True
        best = _best_per_event(table, chosen, probs, rate_weight)
    cur = float(probs @ best)
    improved = True
    while improved and time.perf_counter() - t0 < time_limit:
        improved = False
        for j in np.flatnonzero(chosen).tolist():
            ch2 = chosen.copy()
            ch2[j] = False
            b2 = _best_per_event(table, ch2, probs, rate_weight)
            g = gains(ch2, b2)
            g[ch2] = -1
            g[j] = -1
            a = int(np.argmax(g))
            val = float(probs @ b2) - max(g[a], 0.0)
            if val < cur - 1e-12:
                if g[a] > 0:
                    ch2[a] = True
                chosen = ch2
                cur = float(probs @ _best_per_event(table, chosen, probs, rate_weight))
                improved = True
            if time.perf_counter() - t0 >= time_limit:
                break
    return chosen


# ---------------------------------------------------------------------------------------------- threshold
@dataclass(frozen=True)
class FiringPattern:
    """A realisable threshold-unit firing set over the support, with its cheapest realisation."""

    events: int
    """Bitmask over support-event indices (bit s ⇔ fires on event s)."""
    weights: tuple[int, ...]
    threshold: int
    enc_poly: float
    """Least P_enc over realisations: 1 − 1/√nnz(e)."""


def threshold_patterns(pmf: ConceptPMF, binary: bool, *, max_units: int = 3**9) -> list[FiringPattern]:
    """Every nonempty firing pattern over the support realisable by e ∈ {−1,0,1}^n ({0,1}^n), θ ≥ 1.

    Only θ ≤ #positive weights can fire; θ above the largest reachable sum never fires.
    """
    n = pmf.n
    vals = (0, 1) if binary else (-1, 0, 1)
    if len(vals) ** n > max_units:
        raise SolverUnavailable(f"n = {n} is too large to enumerate threshold units")
    ind = pmf.indicator  # [N, n]
    best: dict[int, FiringPattern] = {}
    for w in itertools.product(vals, repeat=n):
        npos = sum(1 for x in w if x == 1)
        if npos == 0:
            continue
        nnz = sum(1 for x in w if x != 0)
        sums = ind @ np.array(w, dtype=np.int64)
        for theta in range(1, npos + 1):
            fire = np.flatnonzero(sums >= theta)
            if fire.size == 0:
                break
            mask = int(sum(1 << int(s) for s in fire))
            poly = 1.0 - 1.0 / math.sqrt(nnz)
            cur = best.get(mask)
            if cur is None or poly < cur.enc_poly - 1e-15:
                best[mask] = FiringPattern(mask, tuple(w), theta, poly)
    return sorted(best.values(), key=lambda f: f.events)


# ---------------------------------------------------------------------------------------------- scaling
@dataclass(frozen=True)
class ProbScale:
    """Integer probabilities q_S with π_S ≈ q_S·unit (exact when ``exact``).

    ``err[s]`` = π_S − q_S·unit (0 when exact). For any integer per-event quantity g with |g_S − g'_S| ≤ G_S,
    the true and scaled comparisons agree up to Σ_S |err_S|·G_S (:meth:`error_bound`).
    """

    q: np.ndarray
    unit: float
    exact: bool
    err: np.ndarray
    denominator: int | None

    def error_bound(self, spread: np.ndarray) -> float:
        """Σ_S |π_S − q_S·unit|·G_S."""
        return float(np.abs(self.err) @ np.asarray(spread, dtype=np.float64))


def scale_probabilities(probs: np.ndarray, spread: np.ndarray, *, max_total: int = 1 << 50) -> ProbScale:
    """Scale π to integers: the least common denominator of the probabilities as decimal fractions
    (limit_denominator(10^6), accepted only when it reproduces every float to 1 ulp) when the scaled sums
    fit in ``max_total``; else π_S·2^s rounded, with s as large as fits.

    ``spread[s]`` bounds the integer per-event quantity that multiplies q_S (e.g. the largest event error),
    so that Σ_S q_S·spread_S ≤ max_total.
    """
    probs = np.asarray(probs, dtype=np.float64)
    spread = np.maximum(np.asarray(spread, dtype=np.int64), 1)
    fr = [Fraction(float(p)).limit_denominator(10**6) for p in probs]
    if all(abs(float(f) - p) <= 2 * math.ulp(p) for f, p in zip(fr, probs, strict=True)):
        lcd = 1
        for f in fr:
            lcd = lcd * f.denominator // math.gcd(lcd, f.denominator)
        q = [int(f * lcd) for f in fr]
        if sum(qq * int(g) for qq, g in zip(q, spread.tolist(), strict=True)) <= max_total:
            qa = np.array(q, dtype=np.int64)
            return ProbScale(q=qa, unit=1.0 / lcd, exact=True, err=probs - qa / lcd, denominator=lcd)
    total = float(probs @ spread)  # Σ_S q_S·G_S ≈ 2^s·Σ_S π_S·G_S
    s = int(math.floor(math.log2(max_total / total))) if total > 0 else 46
    s = max(10, min(s, 46))
    qa = np.rint(probs * 2.0**s).astype(np.int64)
    unit = 2.0**-s
    return ProbScale(q=qa, unit=unit, exact=False, err=probs - qa * unit, denominator=None)
