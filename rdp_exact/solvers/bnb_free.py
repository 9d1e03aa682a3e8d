"""Exact branch-and-bound over atom sets for the free-class min-distortion query D*_k (DESIGN §1.2, §1.4).

Scope (:func:`applies`): free encoder, integer coefficients, ``minimize="distortion"``, no budgets, every
support probability above :data:`MIN_PROB`. The canonical tie-break (min R, then min P over the atoms the
code uses, DESIGN §1.4) is resolved exactly by the same search.

**Search.** Candidate atoms are those helpful on some event (2|A∩S| > |A|,
:func:`~rdp_exact.solvers.candidates.candidate_atoms`); a lexicographic optimum never uses another. Atom sets
T (|T| ≤ m) are enumerated depth first, each exactly once: a node is a chosen set F with an ordered list C of
allowed atoms, its i-th child is F ∪ {C_i} with allowed list C_{i+1..}. Per event the node keeps the keyed
error κ_F(S) = err·(k+1) + |Q| of its lexicographically best pattern Q ⊆ F (|Q| ≤ k), and, for every allowed
A, the best key of the patterns {A} ∪ Q_F (Q_F ⊆ F, |Q_F| ≤ k − 1), so the exact D of every child
F ∪ {A} is one vectorised minimum (err(S, Q ∪ {A}) = ‖ρ‖² − 2⟨1_A, ρ⟩ + |A| with ρ = 1_S − c_Q).

**Bound (why pruning is exact).** Let e_F(S) be the error of F on S and U the atoms a descendant adds
(|U| ≤ r = m − |F|). On each event the best pattern of F ∪ U can be taken irreducible, so it contains only
atoms helpful on S. If it has one new atom A, the improvement over e_F(S) is at most
c_S(A) ≥ e_F(S) − min_{Q_F} err(S, Q_F ∪ {A}) (exact); if it has j ≥ 2 new atoms, split the improvement
equally among them: each gets ≤ ½·(e_F(S) − |A∖S|), because every concept of A outside S keeps error ≥ 1.
So with c_S(A) = max(exact single term, ½·(e_F(S) − |A∖S|))⁺ (0 where A is not helpful on S; no ½ term
for k = 1), the improvement on S is ≤ min(e_F(S), Σ_{A∈U} c_S(A)) and, for any μ ∈ [0,1]^N,

    D(F ∪ U) ≥ D(F) − Σ_S π_S (1 − μ_S) e_F(S) − Σ_{A∈U} w_μ(A),   w_μ(A) = Σ_S π_S μ_S c_S(A),

since min(a, b) ≤ (1 − μ)a + μb. μ is tuned per node by a few projected subgradient steps (any μ is
valid). Children are ordered by w_μ descending, so child i's bound D(F) − Σπ(1−μ)e_F − w_i − (w_{i+1} + … +
w_{i+r−1}) is non-decreasing in i and the first child above the incumbent + TOL ends the loop.

**Tie-break.** Every visited set with D ≤ incumbent + TOL is recorded when *valid*: one code choosing a
lexicographically best (error, size) pattern on every event uses all its atoms (checked by a small dynamic
programme over events). Pruned subtrees only hold sets with D > incumbent + TOL, so the records contain every
set with D ≤ D* + TOL; the answer is min R among them, then min P (P = mean of 1 − 1/√|A| over the set) among
those with R ≤ R* + TOL — the order and tolerances of :mod:`rdp_exact.solvers.mip_lex`. Because every
probability exceeds TOL, a code that is not per-event (error, size)-optimal over its own atoms changes D or R
by more than TOL, so these codes are the only candidates. An invalid set is represented by its used subset,
which is itself enumerated.

**Limits.** On a time limit the status is ``limit``; the bound is min(incumbent, the smallest pending child
bound on the DFS stack), a valid lower bound on D*.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.problem import TOL, Problem, Solution, Status, relative_gap
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers.candidates import candidate_atoms, poly_weight

log = logging.getLogger(__name__)

#: Smallest support probability for which per-event optimal codes are the only D/R-ties (see module doc).
MIN_PROB = 10 * TOL
#: Largest (candidate atoms × events) table the search allocates.
MAX_CELLS = 40_000_000
#: Largest n (all 2^n − 1 atoms are screened).
MAX_N = 16
#: Subgradient iterations for μ at nodes with r ≥ 2 remaining atoms.
MU_ITERS = 8
#: Local-search restarts without improvement before the incumbent search stops early.
MAX_STALE_RESTARTS = 15
#: Slack added to float comparisons of D (sums of products of probabilities and small integers).
FLOAT_SLACK = 1e-12
#: ``formulation="auto"`` in the HiGHS backend uses this method when it applies and n lies in this range
#: (below: the MILP is already fast; above: the bound is too weak, see docs/readme/solvers.md).
AUTO_N_RANGE = (5, 10)
#: Recorded near-optimal sets before the tie-break is declared unaffordable.
MAX_RECORDS = 200_000
NAME = "bnb"


def preferred(problem: Problem) -> bool:
    """Whether ``formulation="auto"`` should use this method (applicable and n in :data:`AUTO_N_RANGE`)."""
    return applies(problem) and AUTO_N_RANGE[0] <= problem.pmf.n <= AUTO_N_RANGE[1]


def applies(problem: Problem) -> bool:
    """Whether :func:`solve` handles ``problem`` (scope in the module docstring)."""
    pmf = problem.pmf
    if problem.encoder != "free" or problem.coefficients != "integer" or problem.minimize != "distortion":
        return False
    if problem.max_rate is not None or problem.max_distortion is not None or problem.max_poly is not None:
        return False
    if pmf.n > MAX_N or float(np.min(pmf.probs)) <= MIN_PROB:
        return False
    return ((1 << pmf.n) - 1) * pmf.support_size <= MAX_CELLS


class _Timeout(Exception):
    pass


class _TooManyTies(Exception):
    pass


@dataclass
class _Record:
    D: float
    R: float
    P: float
    atoms: tuple[int, ...]
    """Atom bitmasks, sorted."""
    code: dict[int, tuple[int, ...]]


@dataclass
class _Stats:
    nodes: int = 0
    evaluated: int = 0
    records: int = 0
    incumbent_D: float | None = None
    incumbent_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class _Search:
    """Depth-first branch-and-bound (see module docstring)."""

    def __init__(self, problem: Problem, deadline: float | None, node_limit: int | None = None) -> None:
        pmf = problem.pmf
        self.problem = problem
        self.n, self.m, self.k = pmf.n, problem.width, problem.k
        self.K1 = self.k + 1
        self.deadline = deadline
        self.node_limit = node_limit
        self.pi = np.asarray(pmf.probs, dtype=np.float64)
        self.events = np.asarray(pmf.masks, dtype=np.int64)
        self.N = self.events.size
        self.t = pmf.indicator.astype(np.float32)  # [N, n]
        self.sizes = pmf.sizes.astype(np.int64)
        self.atoms = candidate_atoms(pmf, helpful_only=True)
        self.M = self.atoms.size
        self.bits = ((self.atoms[:, None] >> np.arange(self.n)) & 1).astype(np.float32)  # [M, n]
        self.asize = self.bits.sum(axis=1).astype(np.int64)
        inter = np.rint(self.bits @ self.t.T).astype(np.int64)  # [M, N]
        self.err1 = (self.asize[:, None] + self.sizes[None, :] - 2 * inter).astype(np.int32)
        self.outside = (self.asize[:, None] - inter).astype(np.int32)
        self.helpful = 2 * inter > self.asize[:, None]
        if self.k >= 2:
            vecs = np.arange(1 << self.n, dtype=np.int64)
            vb = ((vecs[:, None] >> np.arange(self.n)) & 1).astype(np.float32)
            self.hamming = (vb.sum(1)[:, None] + self.sizes[None, :] - 2.0 * (vb @ self.t.T)).astype(np.float32)
        self.weight = np.array([poly_weight(int(s)) for s in self.asize.tolist()]) if self.M else np.zeros(0)
        self.best = math.inf
        self.best_set: tuple[int, ...] = ()
        self.records: list[tuple[float, tuple[int, ...]]] = []
        self.stack_lb: list[float] = []
        self.root_entered = False
        self.interrupt_bound: float | None = None
        self.stats = _Stats()

    # ------------------------------------------------------------------ helpers
    def _check_time(self) -> None:
        if self.node_limit is not None and self.stats.nodes >= self.node_limit:
            self.interrupt_bound = self.global_bound()
            raise _Timeout
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.interrupt_bound = self.global_bound()
            raise _Timeout

    def _pattern_keys(self, Q: tuple[int, ...], cand: np.ndarray) -> np.ndarray:
        """Keyed errors of {A} ∪ Q for every A in ``cand`` (atom indices) [|cand|, N]."""
        rho = self.t - self.bits[list(Q)].sum(axis=0)[None, :] if Q else self.t  # [N, n]
        sq = (rho * rho).sum(axis=1)  # [N]
        err = sq[None, :] - 2.0 * (self.bits[cand] @ rho.T) + self.asize[cand][:, None]
        return np.rint(err).astype(np.int32) * self.K1 + (len(Q) + 1)

    def _subsets(self, F: tuple[int, ...], size_max: int) -> list[tuple[int, ...]]:
        return [Q for s in range(0, min(size_max, len(F)) + 1) for Q in itertools.combinations(F, s)]

    def _keys_from_scratch(self, F: tuple[int, ...], cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(κ_F [N], best key of {A} ∪ Q_F for A in cand [|cand|, N])."""
        kF = (self.sizes * self.K1).astype(np.int32)
        for Q in self._subsets(F, self.k):
            if not Q:
                continue
            c = self.bits[list(Q)].sum(axis=0)
            err = np.rint(((self.t - c[None, :]) ** 2).sum(axis=1)).astype(np.int32)
            kF = np.minimum(kF, err * self.K1 + len(Q))
        kb = np.full((cand.size, self.N), np.iinfo(np.int32).max, dtype=np.int32)
        for Q in self._subsets(F, self.k - 1):
            kb = np.minimum(kb, self._pattern_keys(Q, cand))
        return kF, kb

    def _D(self, keys: np.ndarray) -> np.ndarray:
        return (keys // self.K1) @ self.pi

    def _offer(self, F: tuple[int, ...], D: float, *, record: bool = True) -> None:
        """A visited set with value D: update the incumbent and (``record``) the near-optimal records."""
        if D < self.best:
            self.best = D
            self.best_set = F
            lim = self.best + TOL + FLOAT_SLACK
            self.records = [r for r in self.records if r[0] <= lim]
        if record and D <= self.best + TOL + FLOAT_SLACK:
            self.records.append((D, F))
            if len(self.records) > MAX_RECORDS:
                raise _TooManyTies

    # ------------------------------------------------------------------ incumbent
    def _improve(self, F: tuple[int, ...], cur: float, deadline: float) -> tuple[tuple[int, ...], float]:
        """Greedy fill up to m atoms, then first-improvement swaps (exact D of every candidate set)."""
        allidx = np.arange(self.M)
        kF, kb = self._keys_from_scratch(F, allidx)
        while len(F) < min(self.m, self.M):
            D = self._D(np.minimum(kb, kF[None, :]))
            if F:
                D[list(F)] = np.inf
            a = int(np.argmin(D))
            if not D[a] < cur - FLOAT_SLACK:
                break
            F, cur = (*F, a), float(D[a])
            kF, kb = self._keys_from_scratch(F, allidx)
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for j in list(F):
                G = tuple(x for x in F if x != j)
                kG, kbG = self._keys_from_scratch(G, allidx)
                D = self._D(np.minimum(kbG, kG[None, :]))
                D[list(F)] = np.inf
                a = int(np.argmin(D))
                if D[a] < cur - FLOAT_SLACK:
                    F, cur, improved = (*G, a), float(D[a]), True
                    break
                if time.perf_counter() >= deadline:
                    break
        return F, cur

    def local_search(self, budget_s: float, seed: int = 0) -> None:
        """Incumbent: greedy + swaps from the empty set, then restarts from random pairs of good atoms
        (perturbation) until the budget is spent. Only a warm start: no optimality claim."""
        t0 = time.perf_counter()
        deadline = t0 + budget_s
        empty = float(self.sizes @ self.pi)
        F, cur = self._improve((), empty, deadline)
        best_F, best = F, cur
        rng = np.random.default_rng(seed)
        single = self._D(np.minimum(self._pattern_keys((), np.arange(self.M)), (self.sizes * self.K1)[None, :]))
        pool = np.argsort(single, kind="stable")[: max(2, min(self.M, 8 * self.m))]
        restarts = stale = 0
        while time.perf_counter() < deadline and self.M > 1 and self.m > 1 and stale < MAX_STALE_RESTARTS:
            # keep a random half of the best set, add one random good atom, re-optimise
            keep = [a for a in best_F if rng.random() < 0.5]
            extra = int(rng.choice(pool))
            start = tuple(dict.fromkeys([*keep, extra]))[: self.m]
            kS, _ = self._keys_from_scratch(start, np.zeros(0, dtype=np.int64))
            F, cur = self._improve(start, float(self._D(kS)), deadline)
            restarts += 1
            stale += 1
            if cur < best - FLOAT_SLACK:
                best_F, best, stale = F, cur, 0
        self.best = best
        self.best_set = tuple(sorted(best_F))
        self.stats.incumbent_D = best
        self.stats.incumbent_s = time.perf_counter() - t0
        self.stats.extra["restarts"] = restarts

    # ------------------------------------------------------------------ search
    def run(self) -> None:
        kF = (self.sizes * self.K1).astype(np.int32)
        self._offer((), float(self._D(kF)))
        cand = np.arange(self.M)
        kb = self._pattern_keys((), cand) if self.M else np.zeros((0, self.N), dtype=np.int32)
        self._visit((), cand, kb, kF, [])

    def _mu_bound(
        self, c: np.ndarray, eF: np.ndarray, r: int, G: np.ndarray | None, p2: int, iters: int = MU_ITERS
    ) -> tuple[float, np.ndarray, float]:
        """Best (Φ, w_μ, base_μ) over a few μ ∈ [0, 1]^N, where base_μ = Σ_S π_S (1 − μ_S) e_F(S) (+ the
        top-p2 g_μ(v) when G is given) and Φ = base_μ + top-r sum of w_μ. Any μ gives a valid bound; μ starts
        at 1, then alternates a rescaling of over-credited events (μ_S ← μ_S·min(1, e_F(S)/credit_S)) with
        projected subgradient steps."""
        pe = self.pi * eF
        mu = np.ones(self.N)
        best: tuple[float, np.ndarray, float] | None = None
        rr = min(r, c.shape[0])
        for it in range(iters):
            pm = self.pi * mu
            w = c @ pm
            top = np.argpartition(-w, rr - 1)[:rr] if rr < w.size else np.arange(w.size)
            base = float(pe @ (1.0 - mu))
            credit = c[top].sum(axis=0)
            if G is not None and p2 > 0:
                g = G @ pm
                tv = np.argpartition(-g, p2 - 1)[:p2] if p2 < g.size else np.arange(g.size)
                base += float(g[tv].sum())
                credit = credit + G[tv].sum(axis=0)
            phi = base + float(w[top].sum())
            if best is None or phi < best[0]:
                best = (phi, w, base)
            if it % 2 == 0:
                mu = mu * np.minimum(1.0, eF / np.maximum(credit, 1e-12))
            else:
                grad = self.pi * (credit - eF)
                gmax = float(np.abs(grad).max())
                if gmax <= 0:
                    break
                mu = np.clip(mu - (0.25 / it) * grad / gmax, 0.0, 1.0)
        assert best is not None
        return best

    def _p_new(self, f: int, r: int) -> int:
        """Number of patterns (≤ k atoms) with at least one of r new atoms, next to f chosen atoms."""
        return sum(math.comb(r, j) * sum(math.comb(f, i) for i in range(self.k - j + 1)) for j in range(1, self.k + 1))

    def counting_floor(self) -> float:
        """Global lower bound: at most p_new(0, m) nonempty events can have error 0, all others ≥ 1."""
        vals = np.sort(self.pi[self.sizes > 0])[::-1]
        return float(vals[self._p_new(0, self.m) :].sum())

    def _p2(self, f: int, r: int) -> int:
        """Number of patterns with ≥ 2 new atoms among r new and f chosen atoms."""
        return sum(math.comb(r, j) * sum(math.comb(f, i) for i in range(self.k - j + 1)) for j in range(2, self.k + 1))

    def _visit(
        self,
        F: tuple[int, ...],
        cand: np.ndarray,
        kb: np.ndarray,
        kF: np.ndarray,
        resid: list[tuple[int, ...]],
    ) -> None:
        """Evaluate every child F ∪ {A} (A ∈ cand), then recurse into those the bound keeps."""
        self._check_time()
        self.stats.nodes += 1
        r = self.m - len(F)
        if r <= 0 or cand.size == 0:
            return
        keA = np.minimum(kb, kF[None, :])
        DA = self._D(keA)
        self.stats.evaluated += int(cand.size)
        i_min = int(np.argmin(DA))
        if DA[i_min] < self.best:
            self._offer(tuple(sorted((*F, int(cand[i_min])))), float(DA[i_min]), record=False)
        near = np.flatnonzero(DA <= self.best + TOL + FLOAT_SLACK)
        if near.size:
            capable = (kb[near] <= kF[None, :]).any(axis=1)
            for i in near[capable].tolist():
                self._offer(tuple(sorted((*F, int(cand[i])))), float(DA[i]))
        if r == 1 or cand.size == 1:
            return
        eF = (kF // self.K1).astype(np.float64)
        eA = (keA // self.K1).astype(np.float64)
        # counting bound per child: an event keeps error ≥ 1 unless a new pattern's vector equals 1_S, and
        # each of the p_new patterns with a new atom has one vector
        pn = self._p_new(len(F) + 1, r - 1)
        cnt_lb = np.zeros(cand.size)
        small_F = np.sort(np.where(eF >= 1, self.pi, 0.0))[: max(self.N - pn, 0)].sum()
        if pn < self.N and small_F > self.best + TOL + FLOAT_SLACK:
            # (sum of the N − p_new smallest entries is monotone, and e_{F∪A} ≤ e_F: skip when it cannot prune)
            vals = np.where(eA >= 1, self.pi[None, :], 0.0)
            cnt_lb = vals.sum(axis=1) - (-np.partition(-vals, pn - 1, axis=1)[:, :pn]).sum(axis=1)
        if float(cnt_lb.min()) > self.best + TOL + FLOAT_SLACK:
            return  # every child subtree is pruned by the counting bound
        c = np.maximum(eF[None, :] - eA, 0.0)
        # r = 2: the children are cheap leaf evaluations, so spend little on the bound
        iters = MU_ITERS if r >= 3 else 2
        if self.k >= 2:
            # bound (a): half credits for patterns with ≥ 2 new atoms; bound (b): free vectors for them
            ch = np.where(self.helpful[cand], np.maximum(c, 0.5 * (eF[None, :] - self.outside[cand])), c)
            phi_a, w, base = self._mu_bound(ch, eF, r, None, 0, iters)
            if r >= 3:
                G = np.maximum(eF[None, :].astype(np.float32) - self.hamming, 0.0)
                phi_b, w_b, base_b = self._mu_bound(c, eF, r, G, self._p2(len(F), r), iters)
                if phi_b < phi_a:
                    w, base = w_b, base_b
        else:
            _, w, base = self._mu_bound(c, eF, r, None, 0, iters)
        order = np.argsort(-w, kind="stable")
        ws = w[order]
        # window sums w_{i+1} + … + w_{i+r−1}
        csum = np.concatenate([[0.0], np.cumsum(ws)])
        idx = np.arange(ws.size)
        hi = np.minimum(idx + r, ws.size)
        lb = float(self._D(kF)) - base - (csum[hi] - csum[idx])
        level = len(self.stack_lb)
        self.stack_lb.append(-math.inf)
        self.root_entered = True
        try:
            for pos in range(ws.size - 1):  # the last child has no allowed atoms left
                if lb[pos] > self.best + TOL + FLOAT_SLACK:
                    break
                self.stack_lb[level] = float(lb[pos])
                i = int(order[pos])
                if cnt_lb[i] > self.best + TOL + FLOAT_SLACK:
                    continue
                a = int(cand[i])
                rest = order[pos + 1 :]
                child = (*F, a)
                kb_c = kb[rest]
                new_q = [(a, *Q) for Q in resid if len(Q) <= self.k - 2]
                if self.k >= 2:
                    new_q.insert(0, (a,))
                sub = cand[rest]
                for Q in new_q:
                    kb_c = np.minimum(kb_c, self._pattern_keys(Q, sub))
                resid_c = resid + [Q for Q in new_q if len(Q) <= self.k - 1]
                self._visit(child, sub, kb_c, keA[i], resid_c)
        finally:
            self.stack_lb.pop()

    # ------------------------------------------------------------------ tie-break
    def evaluate_set(self, T: tuple[int, ...]) -> _Record | None:
        """Exact (D, R, P) and a code using every atom of T, or None when no per-event optimal code does."""
        K1 = self.K1
        pats: list[tuple[int, ...]] = [()]
        for s in range(1, min(self.k, len(T)) + 1):
            pats.extend(itertools.combinations(range(len(T)), s))
        keys = np.empty((len(pats), self.N), dtype=np.int64)
        for p, Q in enumerate(pats):
            c = self.bits[[T[j] for j in Q]].sum(axis=0) if Q else np.zeros(self.n, dtype=np.float32)
            err = np.rint(((self.t - c[None, :]) ** 2).sum(axis=1)).astype(np.int64)
            keys[p] = err * K1 + len(Q)
        kmin = keys.min(axis=0)
        full = (1 << len(T)) - 1
        # reachable used-atom masks after each event, with one witness choice per mask
        reach: dict[int, list[int]] = {0: []}
        for s in range(self.N):
            opts = {}
            for p in np.flatnonzero(keys[:, s] == kmin[s]).tolist():
                msk = sum(1 << j for j in pats[p])
                opts.setdefault(msk, p)
            nxt: dict[int, list[int]] = {}
            for u, choice in reach.items():
                for msk, p in opts.items():
                    v = u | msk
                    if v not in nxt:
                        nxt[v] = [*choice, p]
            reach = nxt
        if full not in reach:
            return None
        choice = reach[full]
        D = float((kmin // K1) @ self.pi)
        R = float((kmin % K1) @ self.pi)
        P = float(np.mean(self.weight[list(T)])) if T else 0.0
        masks = tuple(int(self.atoms[a]) for a in T)
        code = {int(self.events[s]): pats[p] for s, p in enumerate(choice) if pats[p]}
        return _Record(D, R, P, masks, code)

    def tie_break(self) -> _Record | None:
        seen: set[tuple[int, ...]] = set()
        recs: list[_Record] = []
        dstar = min((d for d, _ in self.records), default=math.inf)
        for d, T in self.records:
            if d > dstar + TOL + FLOAT_SLACK or T in seen:
                continue
            seen.add(T)
            rec = self.evaluate_set(T)
            if rec is not None:
                recs.append(rec)
        self.stats.records = len(recs)
        if not recs:
            return None
        dmin = min(r.D for r in recs)
        recs = [r for r in recs if r.D <= dmin + TOL]
        rmin = min(r.R for r in recs)
        recs = [r for r in recs if r.R <= rmin + TOL]
        return min(recs, key=lambda r: (r.P, sorted(r.atoms)))

    def global_bound(self) -> float:
        """Lower bound on D* after an interruption: the incumbent and every pending child bound."""
        floor = max(0.0, self.counting_floor() - FLOAT_SLACK)
        if not self.root_entered:
            return min(floor, self.best)
        return max(floor, min([self.best, *self.stack_lb]) - FLOAT_SLACK)

    def depth_profile(self) -> list[float]:
        """Pending child bound per DFS level (diagnostics)."""
        return list(self.stack_lb)


def _sae_from_record(rec: _Record, n: int, m: int) -> CombinatorialSAE:
    atoms = list(rec.atoms) + [0] * (m - len(rec.atoms))
    return CombinatorialSAE.free(n, atoms, rec.code, "integer")


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> Solution:
    """Solve the free-class min-D query exactly by branch-and-bound (see module docstring).

    ``options``: ``heuristic`` (local-search incumbent, default on), ``heuristic_time`` (seconds, default
    min(5, 5 % of the limit)), ``node_limit`` (stop after this many search nodes, like a time limit). Raises InvalidArgument when the query is outside :func:`applies`.
    """
    del threads  # single-threaded search (numpy's BLAS may use more)
    if not applies(problem):
        raise InvalidArgument(
            "the bnb method needs the free class, integer coefficients, min distortion without budgets, "
            f"n ≤ {MAX_N} and every probability > {MIN_PROB:g}"
        )
    opts = dict(options or {})
    use_heur = bool(opts.pop("heuristic", True))
    heur_time = opts.pop("heuristic_time", None)
    node_limit = opts.pop("node_limit", None)
    opts.pop("formulation", None)
    opts.pop("interface", None)
    ignored = sorted(opts)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + float(time_limit)
    search = _Search(problem, deadline, None if node_limit is None else int(node_limit))
    info: dict[str, Any] = {"formulation": NAME, "candidate_atoms": int(search.M), "events": int(search.N)}
    if ignored:
        info["ignored_options"] = ignored
    completed = False
    reason = None
    try:
        if use_heur and search.M:
            budget = float(heur_time) if heur_time is not None else min(5.0, 0.05 * time_limit if time_limit else 5.0)
            search.local_search(budget)
            info["heuristic_objective"] = search.stats.incumbent_D
            info["heuristic_s"] = search.stats.incumbent_s
            info["heuristic_restarts"] = search.stats.extra.get("restarts", 0)
        search.run()
        completed = True
    except _Timeout:
        reason = "time limit" if node_limit is None or search.stats.nodes < int(node_limit) else "node limit"
    except _TooManyTies:
        reason = f"more than {MAX_RECORDS} near-optimal atom sets (tie-break not affordable)"
    info.update(nodes=search.stats.nodes, sets_evaluated=search.stats.evaluated, search_s=time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    if completed:
        rec = search.tie_break()
        assert rec is not None, "the used subset of an optimal set is always a valid record"
        sae = _sae_from_record(rec, problem.pmf.n, problem.width)
        ev = sae.evaluate(problem.pmf, problem.k)
        info["near_optimal_sets"] = search.stats.records
        return Solution(
            problem, Status.OPTIMAL, NAME, "1", time.perf_counter() - t0, objective=ev.distortion,
            bound=ev.distortion, gap=0.0, sae=sae, evaluation=ev, info=info,
        )
    info["not_proven_reason"] = reason
    bound = search.interrupt_bound if search.interrupt_bound is not None else search.global_bound()
    atoms = [int(search.atoms[a]) for a in search.best_set]
    atoms += [0] * (problem.width - len(atoms))
    sae = CombinatorialSAE.best_response(problem.pmf, atoms, problem.k, "integer")
    ev = sae.evaluate(problem.pmf, problem.k)
    bound = min(bound, ev.distortion)
    return Solution(
        problem, Status.LIMIT, NAME, "1", wall, objective=ev.distortion, bound=bound,
        gap=relative_gap(ev.distortion, bound), sae=sae, evaluation=ev, info=info,
    )
