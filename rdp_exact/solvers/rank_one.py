"""A rank-one column LP bound for the free-class D*_k, and the atoms it excludes (issue 15; DESIGN §1.2, §1.4).

**Relaxation.** A free SAE with atom set T (|T| ≤ m, integer coefficients) and per-event patterns Q_S ⊆ T
(|Q_S| ≤ k) is a set of *rank-one columns* (A, U_A): atom A with the events U_A that use it. With
z_{S,i} = #{A ∈ Q_S : i ∈ A} ∈ {0, …, k}, its distortion is Σ_S π_S Σ_i (1[i ∈ S] − z_{S,i})². Replace each
square by the convex piecewise-linear function through its values at z = 0, …, k (the pieces
err ≥ (x − j)² + (2(j − x) + 1)(z − j), j = 0..k − 1, x = 1[i ∈ S]) and let every column take a weight
λ ∈ [0, 1]: the linear programme

    min Σ_S π_S Σ_i err_{S,i}   s.t.  err_{S,i} ≥ piece_j(z_{S,i}),  z_{S,i} = Σ_{(A,U) : S ∈ U, i ∈ A} λ_{A,U},
                                      Σ_{(A,U) : S ∈ U} λ_{A,U} ≤ k (each S),  Σ λ ≤ m,  0 ≤ λ ≤ 1

is a relaxation of min D over atom sets (every SAE is a 0/1 point of it with the same objective). It is the
exponential-size model of Kovacs, Günlük and Hauser for binary matrix factorisation, carried over to a
weighted, k-sparse, squared-error objective; unlike a compact candidate-atom model it knows that an event's
reconstruction is a *sum of chosen atoms*, entry by entry.

**Column generation.** For fixed atom A the best users are U = {S : s_{A,S} < 0}, with
s_{A,S} = μ_S + Σ_{i∈A} Σ_j d_{S,i,j} · slope_j (duals d ≥ 0 of the piece rows, μ ≥ 0 of the event rows), so
pricing enumerates the candidate atoms (a matrix product).

**Lagrangian bound, valid for any multipliers.** Dualising the piece rows and the event rows, keeping
err ∈ [0, k²] (every true squared error is ≤ k²), the budget and "each atom at most once" (both valid for
SAEs) gives

    L(d, μ) = Σ d · intercept − k Σ_S μ_S + k² Σ_{S,i} min(0, π_S − Σ_j d_{S,i,j}) + (sum of the m smallest ρ(A))

with ρ(A) = min(0, Σ_S min(0, s_{A,S})). Weak duality makes L ≤ D(T) for every atom set T whatever the
multipliers, so the LP solver's tolerances cannot make the bound wrong; the LP duals only make it strong.
Forcing atom A into the set gives L_A = L − (that sum) + ρ(A) + (the m − 1 smallest ρ of the other atoms); an
atom with L_A above the incumbent plus the tie tolerance is used by no set within the tolerance of D*, so the
branch and bound may drop it (reduced-cost fixing). By symmetry of π, if A is excluded so is its whole orbit.

Measured (bench-results/bench_rank_one.md): on the sampled ``chain`` family (n = 12, N = 128, m = 6, k = 2)
the LP closes to 0.35 % of D* in 0.6 s and excludes 3,554 of 3,590 atoms; the facility-location Lagrangian of
:mod:`rdp_exact.solvers.bnb_free` has a root gap of 0.29 there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

#: Columns added per pricing round (the most negative reduced cost per atom, best atoms first).
COLUMNS_PER_ROUND = 40
#: Fold the x = 0 entries into the column costs: a column pays π_S per concept of A outside S it covers, i.e.
#: only the first piece err ≥ z of (0 − z)² is kept (the piece 3z − 2, active at z = 2, is dropped: a weaker
#: but valid relaxation, its multiplier taken as 0) and those entries need no rows — the LP has ≈ 2 Σ|S|
#: piece rows instead of 2 N n.
FOLD_ZEROS = True
#: Reduced cost below which a column is added.
RC_TOL = 1e-9
#: Give up after this many seconds while the bound is more than ABORT_GAP (relative) below the incumbent and
#: no atom is excluded yet (on the sampled n = 12 families: where the fixing pays, atoms go within 0.1 s; where
#: it does not, the gap is still 0.25–2 after 0.5 s and 0.1–0.6 after 2.5 s).
ABORT_AFTER_S = 0.5
ABORT_GAP = 0.1
#: ... but only over more than this many candidate atoms (n ≥ 11): over fewer the LP converges within the root's
#: share (``random:n=10,support=64``, m = 5: 2.4 s, bound 1.54 of D* = 1.74, where it stood at 1.36 after 0.5 s)
#: and its terms bound every node of the search (:data:`rdp_exact.solvers.bnb_free.RANK_ONE_FAMILY`), so it pays
#: without excluding an atom.
ABORT_MIN_ATOMS = 1023
#: Safety margin (absolute) added before an atom is excluded: covers floating-point error in L.
EXCLUDE_MARGIN = 1e-9


@dataclass
class RankOneResult:
    """The best Lagrangian bound found, the per-atom forced bounds, and how the column generation went."""

    bound: float
    """max over the rounds of L(d, μ): a valid lower bound on D*_k over the candidate atoms."""
    forced: np.ndarray
    """[M] lower bound on D of any atom set that contains candidate atom A (L_A)."""
    lp_objective: float
    """Objective of the last restricted master LP (an upper bound on the LP optimum)."""
    rounds: int
    columns: int
    converged: bool
    """Whether pricing found no improving column (then ``bound`` is the LP optimum up to tolerances)."""
    seconds: float
    aborted: bool = False
    """Whether it gave up early because the bound was too far below the incumbent (see :meth:`RankOneLP.solve`)."""
    const: float = -np.inf
    """The constant of the best multipliers' bound: D(T) ≥ const + Σ_{A∈T} ρ(A) for every atom set T, |T| ≤ m."""
    rho: np.ndarray | None = None
    """[M] ρ(A) ≤ 0 at the best multipliers (see :meth:`RankOneLP.terms`)."""
    lp: RankOneLP | None = None
    """The LP itself (:func:`root_fixing`), for re-solves at search nodes (:func:`forced_terms`)."""


def _pieces(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slopes and intercepts of the k pieces of (x − z)² on z = 0..k, for x = 0 and x = 1 ([k] each)."""
    j = np.arange(k, dtype=np.float64)
    out = []
    for x in (0.0, 1.0):
        slope = 2.0 * (j - x) + 1.0
        out += [slope, (x - j) ** 2 - slope * j]
    return out[0], out[1], out[2], out[3]


class RankOneLP:
    """Column generation for the relaxation of the module docstring over the given candidate atoms."""

    def __init__(self, indicator: np.ndarray, probs: np.ndarray, atom_bits: np.ndarray, m: int, k: int,
                 fold: bool | None = None) -> None:
        import highspy

        from rdp_exact.solvers.milp import _quiet_highs

        #: Whether the x = 0 entries are folded into the column costs (see :data:`FOLD_ZEROS`).
        self.fold = FOLD_ZEROS if fold is None else bool(fold)
        self.X = np.asarray(indicator, dtype=np.float64)  # [N, n]
        self.pi = np.asarray(probs, dtype=np.float64)
        self.bits = np.asarray(atom_bits, dtype=np.float64)  # [M, n]
        self.N, self.n = self.X.shape
        self.M = self.bits.shape[0]
        self.m, self.k = int(m), int(k)
        s0, c0, s1, c1 = _pieces(self.k)
        x = self.X[:, :, None] > 0.5
        self.slope = np.where(x, s1[None, None, :], s0[None, None, :])  # [N, n, k]
        self.icpt = np.where(x, c1[None, None, :], c0[None, None, :])
        self.E = self.N * self.n  # entries (S, i), flat index S·n + i; their piece rows (S, i, j), j < k
        self.R = self.E * self.k  # length of the multiplier vector d (rows not in the LP have d = 0)
        h = _quiet_highs()  # no licence banner on stdout (it would land in `rdp solve`'s output)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("presolve", "off")  # keep the simplex basis between pricing rounds (warm start)
        self._inf = highspy.kHighsInf
        # LP rows: events 0..N−1 (Σ λ ≤ k), the budget N (Σ λ ≤ m), then the piece rows of the entries in the
        # LP. An entry with x = 1 is always in it (its error is 1 until covered); an entry with x = 0 is folded
        # into the column costs (FOLD_ZEROS) or enters with the first column that covers it (until then its
        # error is 0, exactly).
        h.addRows(self.N + 1, np.full(self.N + 1, -self._inf), np.r_[np.full(self.N, float(self.k)), float(self.m)],
                  0, np.zeros(self.N + 1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        self.h = h
        self.first_row = np.full(self.E, -1, dtype=np.int64)  # LP row of piece j = first_row + j
        self.n_rows = self.N + 1
        self.n_cols = 0
        self._add_entries(np.flatnonzero(self.X.reshape(-1) > 0.5))
        self.columns = 0
        #: LP columns of each atom (for the forcing rows of :meth:`forced_terms`).
        self.atom_cols: dict[int, list[int]] = {}
        #: Forcing row of each atom ever forced (Σ of its columns ≥ 1 while forced, free otherwise).
        self.force_rows: dict[int, int] = {}
        self.forced_now: dict[int, bool] = {}

    def _add_entries(self, entries: np.ndarray) -> None:
        """Add the err variables (cost π_S) and the k piece rows of the given entries S·n + i."""
        entries = entries[self.first_row[entries] < 0]
        c = entries.size
        if c == 0:
            return
        k = self.k
        self.h.addVars(c, np.zeros(c), np.full(c, self._inf))
        cols = np.arange(self.n_cols, self.n_cols + c)
        self.h.changeColsCost(c, cols.astype(np.int32), self.pi[entries // self.n])
        lower = self.icpt.reshape(self.E, k)[entries].reshape(-1)
        nr = c * k
        self.h.addRows(nr, lower, np.full(nr, self._inf), nr, np.arange(nr, dtype=np.int32),
                       np.repeat(cols, k).astype(np.int32), np.ones(nr))
        self.first_row[entries] = self.n_rows + k * np.arange(c)
        self.n_rows += nr
        self.n_cols += c

    def add_columns(self, atoms: np.ndarray, users: list[np.ndarray]) -> None:
        """Add the columns (atom index, user event indices), weight in [0, 1]."""
        ents = []
        for a, U in zip(atoms.tolist(), users, strict=True):
            ii = np.flatnonzero(self.bits[a] > 0.5)
            ents.append((np.asarray(U, dtype=np.int64)[:, None] * self.n + ii[None, :]).reshape(-1))
        if not ents:
            return
        ones = self.X.reshape(-1) > 0.5
        if not self.fold:
            self._add_entries(np.unique(np.concatenate(ents)))
        starts, idx, val, cost = [], [], [], []
        nz = 0
        for a, U, e in zip(atoms.tolist(), users, ents, strict=True):
            U = np.asarray(U, dtype=np.int64)
            c = 0.0
            if self.fold:  # a covered x = 0 entry costs π_S per unit of z, in the column's cost (no rows)
                c = float(self.pi[e[~ones[e]] // self.n].sum())
                e = e[ones[e]]
            rows = self.first_row[e][:, None] + np.arange(self.k)[None, :]
            coef = -self.slope.reshape(self.E, self.k)[e]
            fr = [self.force_rows[a]] if a in self.force_rows else []
            r = np.concatenate([rows.reshape(-1), U, [self.N], fr])
            v = np.concatenate([coef.reshape(-1), np.ones(U.size), [1.0], np.ones(len(fr))])
            starts.append(nz)
            idx.append(r)
            val.append(v)
            cost.append(c)
            nz += r.size
        cnt = len(starts)
        self.h.addCols(cnt, np.array(cost), np.zeros(cnt), np.ones(cnt), nz, np.array(starts, dtype=np.int32),
                       np.concatenate(idx).astype(np.int32), np.concatenate(val))
        for j, a in enumerate(atoms.tolist()):
            self.atom_cols.setdefault(a, []).append(self.n_cols + j)
        self.n_cols += cnt
        self.columns += cnt

    def scores(self, d: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """s_{A,S} of the module docstring for every candidate atom [M, N]."""
        w = (d.reshape(self.N, self.n, self.k) * self.slope).sum(axis=2)  # [N, n]
        return self.bits @ w.T + mu[None, :]

    def lagrangian(self, d: np.ndarray, mu: np.ndarray, s: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(L(d, μ), forced bounds L_A [M]) for multipliers d ≥ 0, μ ≥ 0 (module docstring); ``s``: their
        :meth:`scores` when already computed (d, μ ≥ 0)."""
        const, rho = self.terms(d, mu, s)
        m = min(self.m, self.M)
        o = np.sort(rho)
        top = float(o[:m].sum())
        # forced A: ρ(A) + the m − 1 smallest ρ of the other atoms (top − ρ(A) when A is among the m smallest)
        others = np.where(rho <= o[m - 1], top - rho, float(o[: m - 1].sum())) if m >= 1 else np.zeros(self.M)
        return const + top, const + rho + others

    def terms(self, d: np.ndarray, mu: np.ndarray, s: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(const, ρ [M]) with D(T) ≥ const + Σ_{A∈T} ρ(A) for every atom set T of at most m atoms."""
        d = np.maximum(d, 0.0)
        mu = np.maximum(mu, 0.0)
        const = float(d @ self.icpt.reshape(-1)) - self.k * float(mu.sum())
        red = np.repeat(self.pi, self.n) - d.reshape(self.E, self.k).sum(axis=1)
        const += self.k ** 2 * float(np.minimum(red, 0.0).sum())
        if s is None:
            s = self.scores(d, mu)
        rho = np.minimum(np.minimum(s, 0.0).sum(axis=1), 0.0)  # [M]
        return const, rho

    def _duals(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(d [R] ≥ 0, μ [N] ≥ 0, σ ≥ 0) from the LP's row duals (d = 0 on the rows not in the LP)."""
        y = np.asarray(self.h.getSolution().row_dual)
        d = np.zeros((self.E, self.k))
        if self.fold:  # x = 0 entries: the folded first piece (err ≥ z at cost π_S) is the multiplier π_S
            zeros = self.X.reshape(-1) < 0.5
            d[zeros, 0] = np.repeat(self.pi, self.n)[zeros]
        have = np.flatnonzero(self.first_row >= 0)
        d[have] = y[self.first_row[have][:, None] + np.arange(self.k)[None, :]]
        return np.maximum(d.reshape(-1), 0.0), np.maximum(-y[: self.N], 0.0), float(-y[self.N])

    def solve(self, seconds: float, ub: float = np.inf) -> RankOneResult:
        """Column generation for at most ``seconds`` (stops early when it converges).

        With an incumbent value ``ub`` and more than :data:`ABORT_MIN_ATOMS` atoms, it also gives up after
        :data:`ABORT_AFTER_S` while the bound is still more than :data:`ABORT_GAP` (relative) below ``ub`` and no
        atom's forced bound exceeds it: then the fixing would drop nothing in the time left (measured,
        bench-results/bench_rank_one.md)."""
        t0 = time.perf_counter()
        best, best_forced = -np.inf, np.full(self.M, -np.inf)
        best_terms: tuple[float, np.ndarray | None] = (-np.inf, None)
        rounds, converged, aborted, obj = 0, False, False, np.inf
        while True:
            self.h.run()
            rounds += 1
            obj = float(self.h.getInfo().objective_function_value)
            d, mu, sigma = self._duals()
            s = self.scores(d, mu)  # d, μ ≥ 0 already
            L, forced = self.lagrangian(d, mu, s)
            if L > best:
                best, best_forced = L, forced
                best_terms = self.terms(d, mu, s)
            rc = np.minimum(s, 0.0).sum(axis=1) + sigma  # reduced cost of each atom's best column
            order = np.argsort(rc, kind="stable")[:COLUMNS_PER_ROUND]
            order = order[rc[order] < -RC_TOL]
            if order.size == 0:
                converged = True
                break
            self.add_columns(order, [np.flatnonzero(s[a] < 0.0) for a in order.tolist()])
            el = time.perf_counter() - t0
            if el > seconds:
                break
            if (self.M > ABORT_MIN_ATOMS and el > ABORT_AFTER_S and np.isfinite(ub) and ub - best > ABORT_GAP * abs(ub)
                    and not (best_forced > ub).any()):
                aborted = True
                break
        return RankOneResult(bound=best, forced=best_forced, lp_objective=obj, rounds=rounds,
                             columns=self.columns, converged=converged, seconds=time.perf_counter() - t0,
                             aborted=aborted, const=best_terms[0], rho=best_terms[1])


def _set_forcing(lp: RankOneLP, atoms: list[int]) -> None:
    """Make the LP say Σ(columns of A) ≥ 1 for exactly the atoms given. Each atom ever forced keeps its own row
    (free while not forced) and only row bounds change, so the simplex basis stays valid and no coefficient is
    edited per column. (Measured on ``random:n=10,support=64``: a re-solve still takes ≈ 1,500 dual simplex
    iterations, about as many as with the coefficients edited — the forced solution is far from the root's.)"""
    want = set(atoms)
    for a, row in lp.force_rows.items():
        if a not in want and lp.forced_now.get(a):
            lp.h.changeRowBounds(row, -lp._inf, lp._inf)
            lp.forced_now[a] = False
    for a in atoms:
        if a not in lp.force_rows:
            cols = np.asarray(lp.atom_cols.get(a, []), dtype=np.int32)
            lp.h.addRow(-lp._inf, lp._inf, cols.size, cols, np.ones(cols.size))
            lp.force_rows[a] = lp.n_rows
            lp.n_rows += 1
        if not lp.forced_now.get(a):
            lp.h.changeRowBounds(lp.force_rows[a], 1.0, lp._inf)
            lp.forced_now[a] = True


def forced_terms(lp: RankOneLP, F: list[int], allowed: np.ndarray, r: int, seconds: float, ub: float = np.inf
                 ) -> tuple[float, float, np.ndarray]:
    """Re-solve the LP with the atoms F forced in (a row Σ(columns of A) ≥ 1 each, the simplex warm-started from
    the last basis) by column generation for at most ``seconds``, and return (node bound, const, ρ [M]) at the
    best multipliers seen, where node bound = const + Σ_{A∈F} ρ(A) + (the r smallest ρ over ``allowed``).

    The terms are the module docstring's Lagrangian at the new duals, so D(T) ≥ const + Σ_{A∈T} ρ(A) holds for
    every atom set T whatever the solver returned; the node bound bounds every T = F ∪ U, U ⊆ allowed,
    |U| ≤ r. Forcing only makes the duals fit this node (measured on ``random:n=10,support=64``, m = 5: one forced
    atom lifts the bound from the root's 1.54 to 1.65–1.74 of D* = 1.7425). Stops early once the node bound
    exceeds ``ub``. The forcing rows are left in place (released by the next call)."""
    _set_forcing(lp, list(F))
    for a in F:
        if not lp.atom_cols.get(a):
            inter = lp.X @ lp.bits[a]
            lp.add_columns(np.array([a], dtype=np.int64), [np.flatnonzero(2 * inter > lp.bits[a].sum())])
    rows = {a: lp.force_rows[a] for a in F}
    t0 = time.perf_counter()
    best = (-np.inf, -np.inf, np.zeros(lp.M))
    Fl = list(F)
    while True:
        lp.h.run()
        y = np.asarray(lp.h.getSolution().row_dual)
        d, mu, sigma = lp._duals()
        s = lp.scores(d, mu)
        const, rho = lp.terms(d, mu, s)
        rest = np.sort(rho[allowed])[:r] if allowed.size else np.zeros(0)
        val = const + float(rho[Fl].sum()) + float(rest.sum())
        if val > best[0]:
            best = (val, const, rho)
        if val > ub:
            break
        rc = np.minimum(s, 0.0).sum(axis=1) + sigma
        for a, row in rows.items():
            rc[a] -= max(float(y[row]), 0.0)
        order = np.argsort(rc, kind="stable")[:COLUMNS_PER_ROUND]
        order = order[rc[order] < -RC_TOL]
        if order.size == 0 or time.perf_counter() - t0 > seconds:
            break
        lp.add_columns(order, [np.flatnonzero(s[a] < 0.0) for a in order.tolist()])
    return best


def seed_columns(lp: RankOneLP, atom_sets: list[tuple[int, ...]]) -> None:
    """Start columns: every singleton atom with all events that contain its concept, and each given atom
    set's atoms with the events on which they are helpful."""
    sizes = lp.bits.sum(axis=1)
    single = np.flatnonzero(sizes == 1)
    users = [np.flatnonzero(lp.X[:, int(np.argmax(lp.bits[a]))] > 0.5) for a in single.tolist()]
    lp.add_columns(single, users)
    extra = sorted({a for T in atom_sets for a in T} - set(single.tolist()))
    if extra:
        inter = lp.X @ lp.bits[extra].T  # [N, |extra|]
        lp.add_columns(np.array(extra, dtype=np.int64),
                       [np.flatnonzero(2 * inter[:, j] > sizes[a]) for j, a in enumerate(extra)])


def root_fixing(indicator: np.ndarray, probs: np.ndarray, atom_bits: np.ndarray, m: int, k: int,
                incumbent: float, incumbent_set: tuple[int, ...], seconds: float, tol: float
                ) -> tuple[RankOneResult, np.ndarray]:
    """Run the LP for at most ``seconds``; return it and the mask of candidate atoms to keep (the others
    cannot be in any atom set with D ≤ incumbent + tol)."""
    lp = RankOneLP(indicator, probs, atom_bits, m, k)
    seed_columns(lp, [incumbent_set])
    res = lp.solve(seconds, ub=incumbent)
    keep = ~(res.forced > incumbent + tol + EXCLUDE_MARGIN)
    res.lp = lp
    return res, keep


__all__ = ["RankOneLP", "RankOneResult", "forced_terms", "root_fixing", "seed_columns"]
