"""Solver-neutral integer linear models of the RDP queries (DESIGN §1.2–1.4, §8).

One :class:`LinModel` holds an integer-coefficient model (CP-SAT needs integers; HiGHS gets the same numbers
times a per-row power-of-two scale, which is exact in floating point). Three formulations:

* ``pattern`` (free class, P not budgeted/primary): binary x_A per candidate atom, one variable y_{S,Q} per
  event S and irreducible pattern Q (:mod:`rdp_exact.solvers.candidates`), facility-location style with the
  aggregated linking rows Σ_{Q∋A} y_{S,Q} ≤ x_A and Σ_Q y_{S,Q} ≤ 1 (empty pattern = slack);
  D = Σ_S π_S (|S| + Σ_Q (err_{S,Q} − |S|) y_{S,Q}), R = Σ_S π_S Σ_Q |Q| y_{S,Q}.
* ``usage`` (free class, any query; the straightforward candidate-atom MILP): x_A, usage u_{S,A} ≤ x_A,
  Σ_A u_{S,A} ≤ k, c_{S,i} = Σ_{A∋i} u_{S,A}, and the error (t − c)² by its epigraph e_{S,i} ≥ chords between
  consecutive integers (exact at integers since the function is convex). With P involved, every (S, A) pair
  gets a usage variable and liveness rows x_A ≤ Σ_S u_{S,A} (a selected atom has an active use).
* ``threshold``: integer count n_{A,F} of latents with atom A and realisable firing pattern F
  (:func:`~rdp_exact.solvers.candidates.threshold_patterns`); cap Σ_{F∋S} n ≤ k on every event; latents
  fire on all of F (no choice), c_{S,i} = Σ_{F∋S, A∋i} n_{A,F}.

Every formulation exposes D and R as integer expressions in units of the probability scale (q_S ≈ π_S/unit),
and the live-latent columns with their P weight (w_A = 1 − 1/√|A|, or (w_A + P_enc(F))/2 for P_joint), so that
P ≤ ρ is Σ x (w − ρ) ≤ 0 (exact linearisation of the mean).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Problem
from rdp_exact.sae import CombinatorialSAE, ThresholdUnit
from rdp_exact.solvers.candidates import (
    PatternTable,
    ProbScale,
    candidate_atoms,
    irreducible_patterns,
    p_free,
    poly_weight,
    scale_probabilities,
    threshold_patterns,
)
from rdp_exact.solvers.limits import TimeBudget


@dataclass
class IntExpr:
    """Σ coef·x + const with integer coefficients; true value = unit·(Σ coef·x + const)."""

    cols: np.ndarray
    coefs: np.ndarray
    const: int
    unit: float

    def __post_init__(self) -> None:
        # merge repeated columns (HiGHS rejects duplicate matrix entries) and drop zero coefficients
        cols = np.asarray(self.cols, dtype=np.int64)
        coefs = np.asarray(self.coefs, dtype=np.int64)
        if cols.size:
            uniq, inv = np.unique(cols, return_inverse=True)
            summed = np.zeros(uniq.size, dtype=np.int64)
            np.add.at(summed, inv, coefs)
            keep = summed != 0
            cols, coefs = uniq[keep], summed[keep]
        self.cols, self.coefs = cols, coefs
        self.const = int(self.const)

    def value(self, x: np.ndarray) -> int:
        """Integer value at a (rounded) solution."""
        return int(np.rint(x[self.cols]).astype(np.int64) @ self.coefs) + self.const


_ONE_MINUS_ONE = np.array((1, -1), dtype=np.int64)


@dataclass
class LinModel:
    """Integer linear model: columns with bounds/integrality, rows lo ≤ Σ a·x ≤ hi with integer a."""

    lb: list[int] = field(default_factory=list)
    ub: list[int] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    """Declared integer for HiGHS (CP-SAT treats every column as integer)."""
    row_cols: list[np.ndarray] = field(default_factory=list)
    row_coefs: list[np.ndarray] = field(default_factory=list)
    row_lo: list[float | None] = field(default_factory=list)
    row_hi: list[float | None] = field(default_factory=list)
    row_scale: list[float] = field(default_factory=list)
    """HiGHS multiplies row coefficients and bounds by this power of two (exact)."""

    @property
    def num_cols(self) -> int:
        return len(self.lb)

    def add_cols(self, count: int, lb: int, ub: int, integer: bool) -> np.ndarray:
        start = len(self.lb)
        self.lb.extend([lb] * count)
        self.ub.extend([ub] * count)
        self.integer.extend([integer] * count)
        return np.arange(start, start + count, dtype=np.int64)

    def add_row(self, cols, coefs, lo: float | None, hi: float | None, scale: float = 1.0) -> None:  # noqa: ANN001
        cols = np.asarray(cols, dtype=np.int64)
        coefs = np.asarray(coefs, dtype=np.int64)
        if cols.size == 0:
            return
        self.row_cols.append(cols)
        self.row_coefs.append(coefs)
        self.row_lo.append(lo)
        self.row_hi.append(hi)
        self.row_scale.append(scale)

    def add_rows_pairs(self, a: np.ndarray, b: np.ndarray) -> None:
        """Rows a_r − b_r ≤ 0 for every r (bulk)."""
        for ca, cb in zip(np.asarray(a).tolist(), np.asarray(b).tolist(), strict=True):
            self.row_cols.append(np.array((ca, cb), dtype=np.int64))
            self.row_coefs.append(_ONE_MINUS_ONE)
            self.row_lo.append(None)
            self.row_hi.append(0)
            self.row_scale.append(1.0)

    def add_le(self, expr: IntExpr, hi_int: int) -> None:
        """expr ≤ hi (in integer units)."""
        self.add_row(expr.cols, expr.coefs, None, hi_int - expr.const, expr.unit)

    def satisfies(self, x: np.ndarray) -> bool:
        """Whether the rounded point meets every bound and row exactly (integer arithmetic)."""
        xi = np.rint(np.asarray(x, dtype=np.float64)).astype(np.int64)
        if np.any(xi < np.array(self.lb)) or np.any(xi > np.array(self.ub)):
            return False
        for cols, coefs, lo, hi in zip(self.row_cols, self.row_coefs, self.row_lo, self.row_hi, strict=True):
            v = sum(int(a) * int(b) for a, b in zip(coefs.tolist(), xi[cols].tolist(), strict=True))
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                return False
        return True

    def copy(self) -> LinModel:
        return LinModel(
            list(self.lb),
            list(self.ub),
            list(self.integer),
            list(self.row_cols),
            list(self.row_coefs),
            list(self.row_lo),
            list(self.row_hi),
            list(self.row_scale),
        )


@dataclass
class Formulation:
    """A built model with its expressions and decoder."""

    name: str
    model: LinModel
    D: IntExpr
    R: IntExpr
    live_cols: np.ndarray
    """Columns counting live latents (x_A or n_{A,F})."""
    live_w: np.ndarray
    """P weight of each live column."""
    decode: Callable[[np.ndarray], CombinatorialSAE]
    encode: Callable[[CombinatorialSAE], np.ndarray | None]
    """A solution vector for an SAE of this formulation's class (warm start), or None when not representable."""
    scale: ProbScale
    D_spread: np.ndarray
    R_spread: np.ndarray
    info: dict = field(default_factory=dict)


def _chords(t: int, cmax: int) -> list[tuple[int, int]]:
    """Chords (slope, intercept) of f(c) = (t − c)² between consecutive integers 0..cmax: e ≥ a·c + b."""
    out = []
    for j in range(cmax):
        f0, f1 = (t - j) ** 2, (t - j - 1) ** 2
        out.append((f1 - f0, f0 - (f1 - f0) * j))
    return out


def _event_spread(pmf: ConceptPMF, k: int) -> np.ndarray:
    """Bound on any event error with ≤ k unit atoms: |S|·max(1, (k−1)²) + (n − |S|)·k²."""
    sz = pmf.sizes.astype(np.int64)
    return sz * max(1, (k - 1) ** 2) + (pmf.n - sz) * k * k


# ---------------------------------------------------------------------------------------------- free: usage
def build_usage(problem: Problem, *, prune: bool | None = None, deadline: float | None = None) -> Formulation:
    """The candidate-atom usage model (see module docstring). ``prune`` = helpful-only atoms and uses
    (default: when P is only a tie-break). ``deadline`` (perf_counter) is checked while building."""
    budget = TimeBudget(deadline)
    pmf, k, m, mode = problem.pmf, problem.k, problem.width, problem.coefficients
    if prune is None:
        prune = p_free(problem)
    atoms = candidate_atoms(pmf, helpful_only=prune)
    events = pmf.masks
    N, M, n = events.size, atoms.size, pmf.n
    ind = pmf.indicator
    bits = ((atoms[:, None] >> np.arange(n)) & 1).astype(np.int64)  # [M, n]
    if prune:
        from rdp_exact.solvers.candidates import helpful_matrix

        allowed = helpful_matrix(atoms, events).T  # [N, M]
    else:
        allowed = np.ones((N, M), dtype=bool)
    spread = _event_spread(pmf, k)
    scale = scale_probabilities(pmf.probs, spread + k)
    q = scale.q
    lm = LinModel()
    x = lm.add_cols(M, 0, 1, True)
    s_idx, a_idx = np.nonzero(allowed)  # sorted by event
    u = lm.add_cols(s_idx.size, 0, 1, True)
    # u ≤ x, one row per use
    lm.add_rows_pairs(u, x[a_idx])
    lm.add_row(x, np.ones(M), None, m)
    ev_bounds = np.searchsorted(s_idx, np.arange(N + 1))
    uses_of_event = [u[ev_bounds[s] : ev_bounds[s + 1]] for s in range(N)]
    atoms_of_event = [a_idx[ev_bounds[s] : ev_bounds[s + 1]] for s in range(N)]
    for s in range(N):
        if uses_of_event[s].size > k:
            lm.add_row(uses_of_event[s], np.ones(uses_of_event[s].size), None, k)
    if not prune:
        order = np.argsort(a_idx, kind="stable")
        a_bounds = np.searchsorted(a_idx[order], np.arange(M + 1))
        for a in range(M):
            cols = u[order[a_bounds[a] : a_bounds[a + 1]]]
            lm.add_row(np.concatenate([[x[a]], cols]), np.concatenate([[1], -np.ones(cols.size)]), None, 0)
    d_cols: list[int] = []
    d_coefs: list[int] = []
    d_const = 0
    for s in range(N):
        budget.check("building the usage model")
        us, as_ = uses_of_event[s], atoms_of_event[s]
        for i in range(n):
            t = int(ind[s, i])
            cover = us[bits[as_, i] == 1]
            if cover.size == 0:
                d_const += int(q[s]) * t
                continue
            if mode == "disjoint":
                lm.add_row(cover, np.ones(cover.size), None, 1)
                # (t − c)² = t + (1 − 2t)c for c ∈ {0, 1}
                d_const += int(q[s]) * t
                d_cols.extend(cover.tolist())
                d_coefs.extend([int(q[s]) * (1 - 2 * t)] * cover.size)
                continue
            cmax = min(k, cover.size)
            e = int(lm.add_cols(1, 0, max((t - c) ** 2 for c in range(cmax + 1)), False)[0])
            for a_, b_ in _chords(t, cmax):
                # e − a·c ≥ b
                lm.add_row(np.concatenate([[e], cover]), np.concatenate([[1], -a_ * np.ones(cover.size)]), b_, None)
            d_cols.append(e)
            d_coefs.append(int(q[s]))
    D = IntExpr(np.array(d_cols, dtype=np.int64), np.array(d_coefs, dtype=np.int64), d_const, scale.unit)
    R = IntExpr(u, q[s_idx].astype(np.int64), 0, scale.unit)
    live_w = np.array([poly_weight(int(a).bit_count()) for a in atoms.tolist()])
    atom_list = atoms.tolist()
    evl = events.tolist()

    def decode(xv: np.ndarray) -> CombinatorialSAE:
        used = np.rint(xv[u]) > 0.5
        sel_atoms: list[int] = []
        index: dict[int, int] = {}
        code: dict[int, list[int]] = {}
        for uc_ok, s, a in zip(used.tolist(), s_idx.tolist(), a_idx.tolist(), strict=True):
            if not uc_ok:
                continue
            if a not in index:
                index[a] = len(sel_atoms)
                sel_atoms.append(atom_list[a])
            code.setdefault(evl[s], []).append(index[a])
        sel_atoms += [0] * (m - len(sel_atoms))
        return CombinatorialSAE.free(n, sel_atoms, code, mode)

    pos = {a: j for j, a in enumerate(atom_list)}
    pair_col = {(int(s), int(a)): int(c) for s, a, c in zip(s_idx, a_idx, u, strict=True)}

    def encode(sae: CombinatorialSAE) -> np.ndarray | None:
        if sae.code is None:
            return None
        v = np.zeros(lm.num_cols)
        ev_index = {e: s for s, e in enumerate(evl)}
        for ev, act in sae.code:
            s = ev_index.get(ev)
            if s is None:
                continue
            for j in act:
                a = pos.get(sae.atoms[j])
                col = pair_col.get((s, a)) if a is not None else None
                if col is None:
                    return None
                v[col] = 1
                v[x[a]] = 1
        return _complete_epigraph(lm, v)

    return Formulation(
        name="usage" if prune else "usage-full",
        model=lm,
        D=D,
        R=R,
        live_cols=x,
        live_w=live_w,
        decode=decode,
        encode=encode,
        scale=scale,
        D_spread=spread,
        R_spread=np.full(N, k),
        info={"atoms": int(M), "uses": int(u.size), "pruned": bool(prune)},
    )


def _complete_epigraph(lm: LinModel, v: np.ndarray) -> np.ndarray:
    """Set continuous epigraph columns to the least value their rows allow (for warm starts)."""
    cont = [j for j in range(lm.num_cols) if not lm.integer[j]]
    if not cont:
        return v
    cset = set(cont)
    for cols, coefs, lo in zip(lm.row_cols, lm.row_coefs, lm.row_lo, strict=True):
        if lo is None or cols.size == 0 or int(cols[0]) not in cset or coefs[0] != 1:
            continue
        rest = float(coefs[1:] @ v[cols[1:]])
        v[cols[0]] = max(v[cols[0]], lo - rest)
    return v


# ---------------------------------------------------------------------------------------------- free: pattern
def build_pattern(
    problem: Problem, table: PatternTable | None = None, *, integral_y: bool = True, deadline: float | None = None
) -> Formulation:
    """The pattern (facility-location) model; valid only when P is not budgeted or primary. ``deadline``
    (perf_counter) is checked while the pattern table is enumerated."""
    pmf, k, m, mode = problem.pmf, problem.k, problem.width, problem.coefficients
    if table is None:
        atoms = candidate_atoms(pmf, helpful_only=True)
        table = irreducible_patterns(pmf, atoms, k, mode, deadline=deadline)
    TimeBudget(deadline).check("building the pattern model")
    atoms = table.atoms_mask
    N, M, n = pmf.support_size, atoms.size, pmf.n
    spread = np.maximum(table.empty_err, 1)
    # errors of irreducible patterns are < |S|, so D per event lies in [0, |S|]
    scale = scale_probabilities(pmf.probs, spread * 2 + k)
    q = scale.q
    lm = LinModel()
    x = lm.add_cols(M, 0, 1, True)
    P = table.num_patterns
    y = lm.add_cols(P, 0, 1, integral_y)
    lm.add_row(x, np.ones(M), None, m)
    # Σ_Q y_{S,Q} ≤ 1
    order = np.argsort(table.event, kind="stable")
    ev_sorted = table.event[order]
    bounds = np.searchsorted(ev_sorted, np.arange(N + 1))
    for s in range(N):
        cols = y[order[bounds[s] : bounds[s + 1]]]
        if cols.size > 1:
            lm.add_row(cols, np.ones(cols.size), None, 1)
    # Σ_{Q∋A} y_{S,Q} ≤ x_A  (aggregated linking), and liveness x_A ≤ Σ_S Σ_{Q∋A} y_{S,Q}
    flat_a = table.atoms.ravel()
    flat_p = np.repeat(np.arange(P), table.atoms.shape[1])
    ok = flat_a >= 0
    flat_a, flat_p = flat_a[ok], flat_p[ok]
    key = flat_a * (N + 1) + table.event[flat_p]
    o2 = np.argsort(key, kind="stable")
    key_s = key[o2]
    cuts = np.flatnonzero(np.diff(key_s)) + 1
    for grp in np.split(o2, cuts):
        if grp.size == 0:
            continue
        a = int(flat_a[grp[0]])
        cols = y[flat_p[grp]]
        lm.add_row(np.concatenate([cols, [x[a]]]), np.concatenate([np.ones(cols.size), [-1]]), None, 0)
    o3 = np.argsort(flat_a, kind="stable")
    cuts3 = np.flatnonzero(np.diff(flat_a[o3])) + 1
    has_use = np.zeros(M, dtype=bool)
    for grp in np.split(o3, cuts3):
        if grp.size == 0:
            continue
        a = int(flat_a[grp[0]])
        has_use[a] = True
        cols = y[flat_p[grp]]
        lm.add_row(np.concatenate([[x[a]], cols]), np.concatenate([[1], -np.ones(cols.size)]), None, 0)
    for a in np.flatnonzero(~has_use).tolist():
        lm.ub[x[a]] = 0
    qe = q[table.event]
    D = IntExpr(y, qe * (table.err - table.empty_err[table.event]), int(q @ table.empty_err), scale.unit)
    R = IntExpr(y, qe * table.size, 0, scale.unit)
    live_w = np.array([poly_weight(int(a).bit_count()) for a in atoms.tolist()])
    atom_list = atoms.tolist()
    evl = pmf.events

    def decode(xv: np.ndarray) -> CombinatorialSAE:
        chosen = np.flatnonzero(np.rint(xv[y]) > 0.5)
        sel: list[int] = []
        index: dict[int, int] = {}
        code: dict[int, list[int]] = {}
        for p in chosen.tolist():
            for a in table.atoms[p].tolist():
                if a < 0:
                    continue
                if a not in index:
                    index[a] = len(sel)
                    sel.append(atom_list[a])
                code.setdefault(evl[int(table.event[p])], []).append(index[a])
        sel += [0] * (m - len(sel))
        return CombinatorialSAE.free(n, sel, code, mode)

    pos = {a: j for j, a in enumerate(atom_list)}
    pat_index = {
        (int(table.event[p]), tuple(sorted(int(a) for a in table.atoms[p] if a >= 0))): p for p in range(P)
    }

    def encode(sae: CombinatorialSAE) -> np.ndarray | None:
        if sae.code is None:
            return None
        v = np.zeros(lm.num_cols)
        ev_index = {e: s for s, e in enumerate(evl)}
        for ev, act in sae.code:
            s = ev_index.get(ev)
            if s is None or not act:
                continue
            idx = [pos.get(sae.atoms[j]) for j in act]
            if any(i is None for i in idx):
                return None
            p = pat_index.get((s, tuple(sorted(idx))))  # type: ignore[arg-type]
            if p is None:
                return None
            v[y[p]] = 1
            for i in idx:
                v[x[i]] = 1  # type: ignore[index]
        return v

    return Formulation(
        name="pattern",
        model=lm,
        D=D,
        R=R,
        live_cols=x,
        live_w=live_w,
        decode=decode,
        encode=encode,
        scale=scale,
        D_spread=spread,
        R_spread=np.full(N, k),
        info={"atoms": int(M), "patterns": int(P), "_table": table},
    )


# ---------------------------------------------------------------------------------------------- threshold
def build_threshold(problem: Problem, *, deadline: float | None = None) -> Formulation:
    """Threshold-class model over (atom, firing pattern) latent types with integer multiplicities."""
    budget = TimeBudget(deadline)
    pmf, k, m, mode = problem.pmf, problem.k, problem.width, problem.coefficients
    n, N = pmf.n, pmf.support_size
    pats = threshold_patterns(pmf, problem.encoder_weights == "binary")
    atoms = candidate_atoms(pmf, helpful_only=False)
    M, F = atoms.size, len(pats)
    spread = _event_spread(pmf, k)
    scale = scale_probabilities(pmf.probs, spread + k)
    q = scale.q
    ind = pmf.indicator
    fire = np.array([[(f.events >> s) & 1 for s in range(N)] for f in pats], dtype=bool).reshape(len(pats), N)  # [F, N]
    lm = LinModel()
    ub = min(k, m)
    cnt = lm.add_cols(M * F, 0, ub, True)  # index a*F + f
    cnt_af = cnt.reshape(M, F)
    lm.add_row(cnt, np.ones(cnt.size), None, m)
    bits = ((atoms[:, None] >> np.arange(n)) & 1).astype(bool)
    d_cols: list[int] = []
    d_coefs: list[int] = []
    d_const = 0
    for s in range(N):
        budget.check("building the threshold model")
        fs = np.flatnonzero(fire[:, s])
        if fs.size == 0:
            d_const += int(q[s]) * int(ind[s].sum())
            continue
        cols_s = cnt_af[:, fs].ravel()
        lm.add_row(cols_s, np.ones(cols_s.size), None, k)
        for i in range(n):
            t = int(ind[s, i])
            cover = cnt_af[bits[:, i]][:, fs].ravel()
            if mode == "disjoint":
                lm.add_row(cover, np.ones(cover.size), None, 1)
                d_const += int(q[s]) * t
                d_cols.extend(cover.tolist())
                d_coefs.extend([int(q[s]) * (1 - 2 * t)] * cover.size)
                continue
            e = int(lm.add_cols(1, 0, max((t - c) ** 2 for c in range(k + 1)), False)[0])
            for a_, b_ in _chords(t, k):
                lm.add_row(np.concatenate([[e], cover]), np.concatenate([[1], -a_ * np.ones(cover.size)]), b_, None)
            d_cols.append(e)
            d_coefs.append(int(q[s]))
    D = IntExpr(np.array(d_cols, dtype=np.int64), np.array(d_coefs, dtype=np.int64), d_const, scale.unit)
    rate_per_f = fire.astype(np.int64) @ q  # [F]
    R = IntExpr(cnt, np.tile(rate_per_f, M), 0, scale.unit)
    wa = np.array([poly_weight(int(a).bit_count()) for a in atoms.tolist()])
    we = np.array([f.enc_poly for f in pats])
    if problem.poly_measure == "decoder":
        live_w = np.repeat(wa, F)
    else:
        live_w = 0.5 * (wa[:, None] + we[None, :]).ravel()
    atom_list = atoms.tolist()

    def decode(xv: np.ndarray) -> CombinatorialSAE:
        vals = np.rint(xv[cnt]).astype(np.int64)
        sel_atoms: list[int] = []
        units: list[tuple[tuple[int, ...], int]] = []
        for idx in np.flatnonzero(vals > 0).tolist():
            a, f = divmod(idx, F)
            for _ in range(int(vals[idx])):
                sel_atoms.append(atom_list[a])
                units.append((pats[f].weights, pats[f].threshold))
        dead = (tuple([0] * n), 1)
        while len(sel_atoms) < m:
            sel_atoms.append(0)
            units.append(dead)
        return CombinatorialSAE.threshold(n, sel_atoms, [ThresholdUnit(w, t) for w, t in units], mode)

    apos = {a: j for j, a in enumerate(atom_list)}
    fpos = {f.events: j for j, f in enumerate(pats)}
    evl = pmf.events

    def encode(sae: CombinatorialSAE) -> np.ndarray | None:
        if sae.encoder is None:
            return None
        v = np.zeros(lm.num_cols)
        for a, u in zip(sae.atoms, sae.encoder, strict=True):
            fmask = sum(1 << s for s, e in enumerate(evl) if u.fires(e))
            if a == 0 or fmask == 0:
                continue
            ai, fi = apos.get(a), fpos.get(fmask)
            if ai is None or fi is None:
                return None
            v[cnt_af[ai, fi]] += 1
        return _complete_epigraph(lm, v)

    return Formulation(
        name="threshold",
        model=lm,
        D=D,
        R=R,
        live_cols=cnt,
        live_w=live_w,
        decode=decode,
        encode=encode,
        scale=scale,
        D_spread=spread,
        R_spread=np.full(N, k),
        info={"atoms": int(M), "firing_patterns": int(F), "latent_types": int(M * F)},
    )


def build(problem: Problem, formulation: str = "auto", *, deadline: float | None = None) -> Formulation:
    """Build the named formulation (``auto``: threshold class → threshold; P budgeted/primary →
    usage-full; else pattern, falling back to usage when the pattern table is too large).

    This is the only place a formulation is chosen; which *engine* solves it is decided in
    :mod:`rdp_exact.solvers.dispatch`. ``deadline`` (a :func:`time.perf_counter` value) is checked while
    building: past it, :class:`~rdp_exact.solvers.limits.BuildInterrupted` is raised (TimeoutError from the pattern enumeration)."""
    from rdp_exact.errors import InvalidArgument, SolverUnavailable

    if problem.encoder == "threshold":
        if formulation not in ("auto", "threshold"):
            raise InvalidArgument(f"formulation {formulation!r} is for the free class; the threshold class uses 'threshold'")
        return build_threshold(problem, deadline=deadline)
    if formulation == "threshold":
        raise InvalidArgument("formulation 'threshold' needs --encoder threshold")
    if formulation == "auto":
        if not p_free(problem):
            return build_usage(problem, prune=False, deadline=deadline)
        try:
            return build_pattern(problem, deadline=deadline)
        except SolverUnavailable:
            return build_usage(problem, prune=True, deadline=deadline)
    if formulation == "pattern":
        if not p_free(problem):
            raise InvalidArgument("the pattern formulation is only exact when P is not budgeted or minimised")
        return build_pattern(problem, deadline=deadline)
    if formulation == "usage":
        return build_usage(problem, prune=None, deadline=deadline)
    if formulation == "usage-full":
        return build_usage(problem, prune=False, deadline=deadline)
    raise InvalidArgument(f"unknown formulation {formulation!r} (auto, pattern, usage, usage-full, threshold)")
