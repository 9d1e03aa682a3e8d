"""Real SAE classes (any k, ± bias) as a global MINLP solved by SCIP (``pyscipopt``; spatial branch and bound).

**Model.** Events s (x_s = 1_S ∈ {0,1}^n, weight π_s), latents j < m, concepts i < n.

* u_sj ∈ {0,1}: latent j fires on event s; Σ_j u_sj ≤ k; optional rate budget Σ_s π_s Σ_j u_sj ≤ r.
* w_ji: the atoms; b_i: the bias (fixed at 0 without ``decoder_bias``).
* c_sji: latent j's contribution to x̂_s.
  - ``real-atoms``: c_sji = u_sj·w_ji, linearised exactly with the bounds below
    (|c_sji| ≤ B_i u_sj, |c_sji − w_ji| ≤ 2B_i (1 − u_sj)).
  - ``real-codes``: a_sj ∈ [0, a_max·u_sj] and the bilinear equality c_sji = a_sj·w_ji (spatial branching),
    with Σ_i w_ji² ≤ 1.
* e_s ≥ Σ_i (x_si − b_i − Σ_j c_sji)² (convex quadratic), objective min Σ_s π_s e_s = D.
* Latents are interchangeable, so they are ordered by firing mass: Σ_s π_s u_sj ≥ Σ_s π_s u_s,j+1.
* ``monosemantic`` (P ≤ 0): y_ji ∈ {0,1}, Σ_i y_ji ≤ 1 and |w_ji| ≤ bound·y_ji (each live atom on one concept).

**Valid bounds** (they must not cut off every optimum):

* ``real-atoms``. For a fixed firing matrix Z ∈ {0,1}^{N×p} (p = m, plus a column of ones with a bias; row sums
  ≤ k' = k (+1)) the best atoms solve a weighted least-squares problem; its minimum-norm solution
  Θ = (DZ)⁺ D X (D = diag √π) is optimal, and column i has norm ≤ ||D x_·i|| / σ⁺_min(DZ) = √p_i / σ⁺_min(DZ).
  σ⁺_min(DZ) ≥ √π_min · σ⁺_min(Z) because D is invertible. For the integer matrix Z of rank r the product of
  the nonzero eigenvalues of ZᵀZ is a sum of squared r×r minors (Cauchy–Binet), an integer ≥ 1, and every
  eigenvalue is ≤ ||Z||²_F ≤ N k', so σ⁺_min(Z)² ≥ (N k')^{−(r−1)} with r ≤ min(p, N). A second, usually much
  smaller bound: Z's row space is spanned by r linearly independent rows of Z (a set B), and for v in that space
  vᵀZᵀD²Zv ≥ π_min vᵀBᵀBv ≥ π_min σ⁺_min(B)² ||v||²; every row of Z is a firing row (0/1 with ≤ k ones, with a 1
  appended for the bias), so σ⁺_min(DZ)² ≥ π_min σ²_* where σ²_* is the least σ⁺_min(B)² over independent sets
  of firing rows, enumerated once per (m, k, bias) (:func:`basis_sigma2`; e.g. 0.198 for m = 3, k = 2, against
  (N k')^{−(r−1)} = 1/256 for N = 8). Hence some optimum has |w_ji|, |b_i| ≤
  B_i = √p_i · min((N k')^{(r−1)/2}, 1/σ_*) / √π_min. (Monosemantic atoms: the same argument per concept, on a
  subset of the columns — the enumeration covers every m′ ≤ m.)
* ``real-codes``. ||w_j|| ≤ 1 fixes the scale, so |w_ji| ≤ 1. Codes are capped by the class parameter a_max
  (:attr:`ClassProblem.a_max`, part of the class definition: the optimum is proven among codes ≤ a_max), so
  |c_sji| ≤ a_max. For fixed atoms and codes the best bias is the weighted mean of x_s − Σ_j c_sj, so
  −k·a_max ≤ b_i ≤ 1 + k·a_max.

**Pattern cuts** (implied by the model, so they cut off no feasible point; they tighten the relaxation).

* Without a bias, an event on which nothing fires has x̂_s = 0: e_s ≥ ||x_s||² (1 − Σ_j u_sj).
* ``real-atoms``: two events s, t firing exactly the same set P of latents (P = ∅ included with a bias) have the
  same reconstruction b + Σ_{j∈P} w_j, so π_s e_s + π_t e_t ≥ δ_st = π_s π_t/(π_s + π_t)·||x_s − x_t||² (the
  least two-point weighted squared error). Linearised: π_s e_s + π_t e_t ≥ δ_st (Σ_{j∈P}(u_sj + u_tj) −
  (2|P| − 1) − Σ_{j∉P}(u_sj + u_tj)); the bracket is 1 when both fire exactly P and ≤ 0 otherwise. At most
  :data:`MAX_PAIR_CUTS` of them.

**Start.** ``start`` (an SAE of the class) goes in as a complete solution (every variable set, checked by SCIP);
:func:`rdp_exact.classes.solve.solve_class` passes the optimum or incumbent of the exact search for the same
problem (or for real-atoms ⊂ real-codes) when no start is given. It only lets SCIP prune earlier: the status
below still needs SCIP's own proof.

**Status.** SCIP runs with ``limits/gap = 0`` and ``limits/absgap = 0``, so it reports ``optimal`` only when
its dual bound meets the incumbent up to ``numerics/epsilon`` = 1e−9 (constraints hold within
``numerics/feastol`` = 1e−6). The incumbent's firing map is then refitted exactly (least squares for real
atoms; bounded nonnegative least squares per event for real codes) and the SAE is evaluated exactly; the
result is ``optimal`` only when SCIP proved optimality and the evaluated D is within
:data:`rdp_exact.classes.problem.PROOF_TOL` = 1e−6 of SCIP's dual bound (gap then reported as 0 *within SCIP's
tolerance*; the ``bound`` field keeps SCIP's dual bound), otherwise ``limit`` with incumbent, bound and gap.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from typing import Any

import numpy as np

from rdp_exact.classes.problem import ClassProblem, ClassSolution, RealSAE, finish
from rdp_exact.errors import SolverUnavailable
from rdp_exact.io_utils import optimize_interruptibly
from rdp_exact.problem import Status

#: SCIP's feasibility tolerance (its default); the dual bound can sit about this much below the optimum.
FEASTOL = 1e-6


def scip_version() -> str:
    try:
        import pyscipopt
    except ImportError:  # pragma: no cover - pyscipopt is a dependency
        return "unavailable"
    return f"SCIP {pyscipopt.Model().version()} (pyscipopt {pyscipopt.__version__})"


#: Most row subsets :func:`basis_sigma2` enumerates before falling back to the Cauchy–Binet bound.
MAX_BASES = 50_000


@functools.lru_cache(maxsize=64)
def basis_sigma2(m: int, k: int, bias: bool) -> float | None:
    """σ²_* of the module docstring: the least σ⁺_min(B)² over linearly independent row sets B of firing rows.

    Firing rows are the 0/1 vectors of length m′ ≤ m with 1 ≤ ones ≤ k (with a bias: every such vector, the
    zero vector included, with a 1 appended). None when more than :data:`MAX_BASES` sets would be enumerated.
    """
    best = math.inf
    for mm in range(1, m + 1):
        pats = [c for t in range(0 if bias else 1, min(k, mm) + 1) for c in itertools.combinations(range(mm), t)]
        rows = np.zeros((len(pats), mm + (1 if bias else 0)))
        for r, c in enumerate(pats):
            rows[r, list(c)] = 1.0
            if bias:
                rows[r, -1] = 1.0
        cols = rows.shape[1]
        if sum(math.comb(len(rows), r) for r in range(1, cols + 1)) > MAX_BASES:
            return None
        for r in range(1, cols + 1):
            for sub in itertools.combinations(range(len(rows)), r):
                sv = np.linalg.svd(rows[list(sub)], compute_uv=False)
                if sv[-1] > 1e-9:  # r independent rows: all r singular values positive
                    best = min(best, float(sv[-1]) ** 2)
    return best


def atom_bounds(problem: ClassProblem) -> np.ndarray:
    """B_i of the module docstring (real-atoms), one per concept: the smaller of the two valid bounds."""
    pmf = problem.pmf
    p = np.asarray(pmf.probs, dtype=np.float64)
    N = len(p)
    cols = problem.width + (1 if problem.decoder_bias else 0)
    kk = problem.k + (1 if problem.decoder_bias else 0)
    r = min(cols, N)
    marg = pmf.marginals()
    scale = (N * kk) ** ((r - 1) / 2)
    s2 = basis_sigma2(problem.width, problem.k, problem.decoder_bias)
    if s2 is not None:
        scale = min(scale, 1.0 / math.sqrt(s2))
    return np.sqrt(marg) * scale / math.sqrt(float(p.min()))


def _refit(problem: ClassProblem, active: list[tuple[int, ...]], W: np.ndarray, b: np.ndarray,
           mono: np.ndarray | None) -> RealSAE:
    """Exact best decoder for the firing map (real-atoms) or best codes/bias for the atoms (real-codes)."""
    pmf, m = problem.pmf, problem.width
    X = pmf.indicator.astype(np.float64)
    p = np.asarray(pmf.probs, dtype=np.float64)
    N, n = X.shape
    sw = np.sqrt(p)
    if problem.sae_class == "real-atoms":
        Z = np.zeros((N, m))
        for s, act in enumerate(active):
            Z[s, list(act)] = 1.0
        W2, b2 = np.zeros((m, n)), np.zeros(n)
        for i in range(n):
            cols = list(range(m)) if mono is None else [j for j in range(m) if mono[j, i]]
            A = Z[:, cols]
            if problem.decoder_bias:
                A = np.hstack([A, np.ones((N, 1))])
            if A.shape[1] == 0:
                continue
            th = np.linalg.lstsq(sw[:, None] * A, sw * X[:, i], rcond=None)[0]
            W2[cols, i] = th[: len(cols)]
            if problem.decoder_bias:
                b2[i] = th[-1]
        return RealSAE(atoms=W2, bias=b2, active=tuple(active), codes=tuple((1.0,) * len(a) for a in active))
    from scipy.optimize import lsq_linear

    norms = np.linalg.norm(W, axis=1)
    Wn = np.where(norms[:, None] > 1e-12, W / np.maximum(norms[:, None], 1e-300), 0.0)
    if mono is not None:
        Wn = np.where(mono, Wn, 0.0)
        nn = np.linalg.norm(Wn, axis=1)
        Wn = np.where(nn[:, None] > 1e-12, Wn / np.maximum(nn[:, None], 1e-300), 0.0)
    bias = b.copy() if problem.decoder_bias else np.zeros(n)
    a_max = problem.a_max
    codes: list[tuple[float, ...]] = []
    for _ in range(20 if problem.decoder_bias else 1):
        codes = []
        for s, act in enumerate(active):
            if not act:
                codes.append(())
                continue
            A = Wn[list(act)].T
            res = lsq_linear(A, X[s] - bias, bounds=(0.0, a_max), method="bvls")
            codes.append(tuple(float(v) for v in res.x))
        if not problem.decoder_bias:
            break
        recon = np.array([sum((a * Wn[j] for j, a in zip(act, cod, strict=True)), np.zeros(n))
                          for act, cod in zip(active, codes, strict=True)])
        bias = (p @ (X - recon)) / p.sum()
    return RealSAE(atoms=Wn, bias=bias, active=tuple(active), codes=tuple(codes))


def _add_start(model: Any, v: dict[str, Any], problem: ClassProblem, start: RealSAE) -> bool:
    """Hand ``start`` to SCIP as a first incumbent; returns whether SCIP accepted it.

    Every variable is set (firing map, atoms, bias, codes, contributions c = u·w or a·w, errors e), so SCIP
    checks it as a complete solution; when it is not feasible within SCIP's tolerances (e.g. atoms beyond the
    variable bounds), it goes in as a partial solution that SCIP's completion heuristic may finish.
    """
    if _add_complete_start(model, v, problem, start):
        return True
    _add_partial_start(model, v, problem, start)
    return False


def _start_values(problem: ClassProblem, start: RealSAE) -> dict[str, Any] | None:
    """Values of the model variables for ``start`` (latents in the model's order), or None if it cannot fit."""
    W = np.asarray(start.atoms, dtype=np.float64)
    m = problem.width
    if W.shape[0] > m or any(len(a) > problem.k for a in start.active):
        return None
    n = W.shape[1]
    scale = np.ones(W.shape[0])
    if problem.sae_class == "real-codes":
        scale = np.maximum(np.linalg.norm(W, axis=1), 1e-300)
    Wn = np.zeros((m, n))
    mass = np.zeros(m)
    for s, act in enumerate(start.active):
        for j in act:
            mass[j] += problem.pmf.probs[s]
    perm = np.argsort(-mass[: W.shape[0]], kind="stable")  # the model orders latents by firing mass
    pos = {int(j): r for r, j in enumerate(perm)}
    for r, j in enumerate(perm):
        Wn[r] = W[j] / scale[j]
    N = len(start.active)
    U, A = np.zeros((N, m)), np.zeros((N, m))
    for s, (act, cod) in enumerate(zip(start.active, start.codes, strict=True)):
        for j, a in zip(act, cod, strict=True):
            U[s, pos[j]] = 1.0
            A[s, pos[j]] = a * scale[j]
    if problem.sae_class == "real-codes" and A.max(initial=0.0) > problem.a_max:
        return None
    bias = np.asarray(start.bias, dtype=np.float64) if problem.decoder_bias else np.zeros(n)
    C = (A if problem.sae_class == "real-codes" else U)[:, :, None] * Wn[None, :, :]  # [s, j, i]
    X = problem.pmf.indicator.astype(np.float64)
    E = ((X - bias[None] - C.sum(axis=1)) ** 2).sum(axis=1)
    return {"u": U, "a": A, "w": Wn, "b": bias, "c": C, "e": E}


def _add_complete_start(model: Any, v: dict[str, Any], problem: ClassProblem, start: RealSAE) -> bool:
    vals = _start_values(problem, start)
    if vals is None:
        return False
    sol = model.createSol()
    N, n, m = v["N"], v["n"], problem.width
    for s in range(N):
        model.setSolVal(sol, v["e"][s], float(vals["e"][s]))
        for j in range(m):
            model.setSolVal(sol, v["u"][s, j], float(vals["u"][s, j]))
            if problem.sae_class == "real-codes":
                model.setSolVal(sol, v["a"][s, j], float(vals["a"][s, j]))
            for i in range(n):
                model.setSolVal(sol, v["c"][s, j, i], float(vals["c"][s, j, i]))
    for j in range(m):
        for i in range(n):
            model.setSolVal(sol, v["w"][j, i], float(vals["w"][j, i]))
    if problem.decoder_bias:
        for i in range(n):
            model.setSolVal(sol, v["b"][i], float(vals["b"][i]))
    return bool(model.addSol(sol))


def _add_partial_start(model: Any, v: dict[str, Any], problem: ClassProblem, start: RealSAE) -> None:
    """Hand ``start`` to SCIP as a partial solution (firing map, atoms, bias, codes); SCIP completes it."""
    W = np.asarray(start.atoms, dtype=np.float64)
    if W.shape[0] > problem.width or any(len(a) > problem.k for a in start.active):
        return
    scale = np.ones(W.shape[0])
    if problem.sae_class == "real-codes":
        scale = np.maximum(np.linalg.norm(W, axis=1), 1e-300)
    Wn = W / scale[:, None]
    mass = np.zeros(W.shape[0])
    for s, act in enumerate(start.active):
        for j in act:
            mass[j] += problem.pmf.probs[s]
    perm = np.argsort(-mass, kind="stable")  # the model orders latents by firing mass
    pos = {int(j): r for r, j in enumerate(perm)}
    sol = model.createPartialSol()
    for s, (act, cod) in enumerate(zip(start.active, start.codes, strict=True)):
        on = {pos[j]: a * scale[j] for j, a in zip(act, cod, strict=True)}
        for j in range(problem.width):
            model.setSolVal(sol, v["u"][s, j], 1.0 if j in on else 0.0)
            if problem.sae_class == "real-codes":
                val = on.get(j, 0.0)
                if val > problem.a_max:
                    return
                model.setSolVal(sol, v["a"][s, j], val)
    for r, j in enumerate(perm):
        for i in range(Wn.shape[1]):
            model.setSolVal(sol, v["w"][r, i], float(Wn[j, i]))
    for r in range(W.shape[0], problem.width):
        for i in range(Wn.shape[1]):
            model.setSolVal(sol, v["w"][r, i], 0.0)
    if problem.decoder_bias:
        for i in range(len(start.bias)):
            model.setSolVal(sol, v["b"][i], float(start.bias[i]))
    model.addSol(sol)


#: Largest number of pair cuts :func:`_add_pattern_cuts` adds.
MAX_PAIR_CUTS = 5_000


def _add_pattern_cuts(model: Any, problem: ClassProblem, u: dict[tuple[int, int], Any], e: dict[int, Any],
                      X: np.ndarray, p: np.ndarray) -> None:
    """Valid inequalities on the errors e_s implied by the model (module docstring, *Pattern cuts*)."""
    import pyscipopt as scip

    N, m, k = len(p), problem.width, problem.k
    if not problem.decoder_bias:  # nothing fires ⇒ x̂_s = 0
        for s in range(N):
            model.addCons(e[s] >= float(X[s] @ X[s]) * (1 - scip.quicksum(u[s, j] for j in range(m))))
    if problem.sae_class != "real-atoms":
        return
    pats = [c for t in range(0 if problem.decoder_bias else 1, k + 1) for c in itertools.combinations(range(m), t)]
    if N * (N - 1) // 2 * len(pats) > MAX_PAIR_CUTS:
        return
    for s, t in itertools.combinations(range(N), 2):
        d = X[s] - X[t]
        delta = float(p[s] * p[t] / (p[s] + p[t]) * (d @ d))
        if delta <= 0:
            continue
        for pat in pats:
            inside = scip.quicksum(u[s, j] + u[t, j] for j in pat)
            outside = scip.quicksum(u[s, j] + u[t, j] for j in range(m) if j not in pat)
            # both events fire exactly ``pat`` ⇒ the same reconstruction ⇒ π_s e_s + π_t e_t ≥ delta
            model.addCons(p[s] * e[s] + p[t] * e[t] >= delta * (inside - (2 * len(pat) - 1) - outside))


def build_model(problem: ClassProblem, *, monosemantic: bool = False) -> tuple[Any, dict[str, Any]]:
    """The SCIP model of the module docstring and its variables."""
    import pyscipopt as scip

    pmf, m, k = problem.pmf, problem.width, problem.k
    X = pmf.indicator.astype(np.float64)
    p = np.asarray(pmf.probs, dtype=np.float64)
    N, n = X.shape
    model = scip.Model("rdp-classes")
    model.hideOutput()
    real_codes = problem.sae_class == "real-codes"
    if real_codes:
        a_max = problem.a_max
        wb = np.ones(n)
        cb = np.full(n, a_max)
        b_lo, b_hi = -k * a_max, 1.0 + k * a_max
    else:
        wb = atom_bounds(problem)
        cb = wb
    u = {(s, j): model.addVar(vtype="B", name=f"u_{s}_{j}") for s in range(N) for j in range(m)}
    w = {(j, i): model.addVar(lb=-wb[i], ub=wb[i], name=f"w_{j}_{i}") for j in range(m) for i in range(n)}
    b: dict[int, Any]
    if problem.decoder_bias:
        b = {i: model.addVar(lb=(b_lo if real_codes else -wb[i]), ub=(b_hi if real_codes else wb[i]), name=f"b_{i}")
             for i in range(n)}
    else:
        b = {i: 0.0 for i in range(n)}
    c: dict[tuple[int, int, int], Any] = {}
    a: dict[tuple[int, int], Any] = {}
    for s in range(N):
        model.addCons(scip.quicksum(u[s, j] for j in range(m)) <= k)
        for j in range(m):
            if real_codes:
                a[s, j] = model.addVar(lb=0.0, ub=a_max, name=f"a_{s}_{j}")
                model.addCons(a[s, j] <= a_max * u[s, j])
            for i in range(n):
                cv = model.addVar(lb=-cb[i], ub=cb[i], name=f"c_{s}_{j}_{i}")
                c[s, j, i] = cv
                if real_codes:
                    model.addCons(cv == a[s, j] * w[j, i])
                else:
                    model.addCons(cv <= wb[i] * u[s, j])
                    model.addCons(cv >= -wb[i] * u[s, j])
                    model.addCons(cv - w[j, i] <= 2 * wb[i] * (1 - u[s, j]))
                    model.addCons(cv - w[j, i] >= -2 * wb[i] * (1 - u[s, j]))
    if real_codes:
        for j in range(m):
            model.addCons(scip.quicksum(w[j, i] * w[j, i] for i in range(n)) <= 1.0)
    if monosemantic:
        y = {(j, i): model.addVar(vtype="B", name=f"y_{j}_{i}") for j in range(m) for i in range(n)}
        for j in range(m):
            model.addCons(scip.quicksum(y[j, i] for i in range(n)) <= 1)
            for i in range(n):
                model.addCons(w[j, i] <= wb[i] * y[j, i])
                model.addCons(w[j, i] >= -wb[i] * y[j, i])
    for j in range(m - 1):
        model.addCons(scip.quicksum(p[s] * u[s, j] for s in range(N))
                      >= scip.quicksum(p[s] * u[s, j + 1] for s in range(N)))
    if problem.max_rate is not None:
        model.addCons(scip.quicksum(p[s] * u[s, j] for s in range(N) for j in range(m)) <= problem.max_rate)
    e = {s: model.addVar(lb=0.0, name=f"e_{s}") for s in range(N)}
    for s in range(N):
        res = [X[s, i] - b[i] - scip.quicksum(c[s, j, i] for j in range(m)) for i in range(n)]
        model.addCons(scip.quicksum(r * r for r in res) <= e[s])
    _add_pattern_cuts(model, problem, u, e, X, p)
    model.setObjective(scip.quicksum(p[s] * e[s] for s in range(N)), "minimize")
    return model, {"u": u, "w": w, "b": b, "a": a, "c": c, "e": e, "N": N, "n": n}


def solve_minlp(problem: ClassProblem, *, time_limit: float | None = None, threads: int | None = None,
                monosemantic: bool = False, options: dict[str, Any] | None = None,
                start: RealSAE | None = None) -> ClassSolution:
    """Global optimum of ``problem`` by SCIP (module docstring). ``start`` is an SAE of the class (or of a
    smaller one) handed to SCIP as a first incumbent; it only speeds up the proof."""
    if problem.sae_class == "binary":
        raise SolverUnavailable("the binary class is solved by rdp_exact.solvers (brute, highs, cpsat)")
    t0 = time.perf_counter()
    model, v = build_model(problem, monosemantic=monosemantic)
    model.setParam("limits/gap", 0.0)
    model.setParam("limits/absgap", 0.0)
    model.setParam("numerics/feastol", FEASTOL)
    if time_limit is not None:
        model.setParam("limits/time", float(time_limit))
    if threads is not None:
        model.setParam("parallel/maxnthreads", int(threads))
    model.setParam("randomization/randomseedshift", 0)
    for key, val in (options or {}).items():
        model.setParam(key, val)
    start_kind = None
    if start is not None:
        start_kind = "complete" if _add_start(model, v, problem, start) else "partial"
    optimize_interruptibly(model)
    scip_status = model.getStatus()
    N, n, m = v["N"], v["n"], problem.width
    bound = float(model.getDualbound())
    info: dict[str, Any] = {"scip_status": scip_status, "nodes": int(model.getNNodes()),
                            "monosemantic": monosemantic, "start": start_kind,
                            "tolerances": {"limits/gap": 0.0, "numerics/feastol": model.getParam("numerics/feastol"),
                                           "numerics/epsilon": model.getParam("numerics/epsilon")}}
    if problem.sae_class == "real-codes":
        info["code_bound"] = problem.a_max
    else:
        info["atom_bounds"] = [float(x) for x in atom_bounds(problem)]
    sae = None
    if model.getNSols() > 0:
        sol = model.getBestSol()
        active = [tuple(j for j in range(m) if model.getSolVal(sol, v["u"][s, j]) > 0.5) for s in range(N)]
        W = np.array([[model.getSolVal(sol, v["w"][j, i]) for i in range(n)] for j in range(m)])
        b = np.array([model.getSolVal(sol, v["b"][i]) if problem.decoder_bias else 0.0 for i in range(n)])
        mono = None
        if monosemantic:
            mono = np.zeros((m, n), dtype=bool)
            for j in range(m):
                if np.abs(W[j]).max() > 0:
                    mono[j, int(np.argmax(np.abs(W[j])))] = True
        sae = _refit(problem, active, W, b, mono)
    status = Status.OPTIMAL if scip_status == "optimal" else Status.LIMIT
    if scip_status == "infeasible":  # cannot happen (nothing firing is always feasible); keep it honest
        status = Status.INFEASIBLE
    if not math.isfinite(bound):
        bound = None  # type: ignore[assignment]
    return finish(problem, sae, status=status, method="scip-minlp", version=scip_version(),
                  wall=time.perf_counter() - t0, bound=None if bound is None else max(0.0, bound), info=info)


__all__ = ["atom_bounds", "build_model", "scip_version", "solve_minlp"]
