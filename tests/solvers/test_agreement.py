"""C-AG: brute force, HiGHS (Pyomo and direct highspy), CP-SAT and SCIP agree on small instances.

Every case runs across every solver (STYLE 8/9). Ground truth is the brute-force backend when it is
installed and, always, the independent enumeration in this file (:func:`enumerate_optimum`), which walks
every atom set and code (free class) or every multiset of latents (threshold class) and picks the
lexicographic optimum with tolerance TOL. Every returned SAE must re-evaluate (C-L1) to the reported values.
"""

from __future__ import annotations

import importlib.util
import itertools
import math

import numpy as np
import pytest

from rdp_exact.generators import from_spec
from rdp_exact.pmf import ConceptPMF, popcount
from rdp_exact.problem import TOL, Problem, Status, lex_order, within_budgets
from rdp_exact.solvers import solve
from rdp_exact.solvers.candidates import threshold_patterns

HAVE_BRUTE = importlib.util.find_spec("rdp_exact.solvers.brute") is not None


# ---------------------------------------------------------------------------------------------- oracle
def _w(size: int) -> float:
    return 1.0 - 1.0 / math.sqrt(size)


def _free_points(problem: Problem) -> list[tuple[float, float, float]]:
    """All achievable (R, D, P) of the free class (P over the atoms the code uses)."""
    pmf, m, k, mode = problem.pmf, problem.width, problem.k, problem.coefficients
    n = pmf.n
    atoms = list(range(1, 1 << n))
    pts: set[tuple[float, float, float]] = set()
    ind = pmf.indicator
    for size in range(0, m + 1):
        for T in itertools.combinations(atoms, size):
            opts = []
            for s in range(pmf.support_size):
                row = []
                for t in range(0, min(k, size) + 1):
                    for combo in itertools.combinations(range(size), t):
                        sel = [T[j] for j in combo]
                        if mode == "disjoint" and any(a & b for a, b in itertools.combinations(sel, 2)):
                            continue
                        c = np.zeros(n, dtype=np.int64)
                        for a in sel:
                            c += (a >> np.arange(n)) & 1
                        err = int(((ind[s] - c) ** 2).sum())
                        used = sum(1 << j for j in combo)
                        row.append((used, t, err))
                opts.append(row)
            states = {(0, 0.0, 0.0)}
            for s, row in enumerate(opts):
                p = float(pmf.probs[s])
                states = {(u | used, r + p * t, d + p * err) for (u, r, d) in states for (used, t, err) in row}
                states = {(u, round(r, 13), round(d, 13)) for (u, r, d) in states}
            full = (1 << size) - 1
            P = float(np.mean([_w(popcount(a)) for a in T])) if T else 0.0
            for u, r, d in states:
                if u == full:
                    pts.add((r, d, P))
    return sorted(pts)


def _threshold_points(problem: Problem) -> list[tuple[float, float, float]]:
    """All achievable (R, D, P) of the threshold class (multisets of ≤ m live latents)."""
    pmf, m, k, mode = problem.pmf, problem.width, problem.k, problem.coefficients
    n, N = pmf.n, pmf.support_size
    pats = threshold_patterns(pmf, problem.encoder_weights == "binary")
    types = [(a, f) for a in range(1, 1 << n) for f in pats]
    ind = pmf.indicator
    probs = np.asarray(pmf.probs)
    pts: set[tuple[float, float, float]] = set()
    fire = {f.events: np.array([(f.events >> s) & 1 for s in range(N)]) for f in pats}
    for size in range(0, m + 1):
        for combo in itertools.combinations_with_replacement(range(len(types)), size):
            cnt = np.zeros(N, dtype=np.int64)
            C = np.zeros((N, n), dtype=np.int64)
            pd, pe = [], []
            for t in combo:
                a, f = types[t]
                fz = fire[f.events]
                cnt += fz
                C += fz[:, None] * ((a >> np.arange(n)) & 1)[None, :]
                pd.append(_w(popcount(a)))
                pe.append(f.enc_poly)
            if cnt.max(initial=0) > k or (mode == "disjoint" and C.max(initial=0) > 1):
                continue
            R = float(probs @ cnt)
            D = float(probs @ ((ind - C) ** 2).sum(axis=1))
            if not combo:
                P = 0.0
            elif problem.poly_measure == "decoder":
                P = float(np.mean(pd))
            else:
                P = 0.5 * (float(np.mean(pd)) + float(np.mean(pe)))
            pts.add((round(R, 13), round(D, 13), P))
    return sorted(pts)


def enumerate_optimum(problem: Problem) -> dict[str, float] | None:
    """Lexicographic optimum (values by name) by enumeration, or None when the budgets are infeasible."""
    pts = _threshold_points(problem) if problem.encoder == "threshold" else _free_points(problem)
    cand = [{"rate": r, "distortion": d, "poly": p} for r, d, p in pts if within_budgets(problem, r, d, p)]
    if not cand:
        return None
    for q in lex_order(problem.minimize):
        best = min(c[q] for c in cand)
        cand = [c for c in cand if c[q] <= best + TOL]
    return {q: min(c[q] for c in cand) for q in ("rate", "distortion", "poly")}


# ---------------------------------------------------------------------------------------------- cases
def _pmf(spec: str) -> ConceptPMF:
    return from_spec(spec)


def _cases() -> list[tuple[str, Problem]]:
    out: list[tuple[str, Problem]] = []
    specs = ["random:n=3,support=6,seed=1", "random:n=4,support=7,seed=2"]
    for si, spec in enumerate(specs):
        pmf = _pmf(spec)
        es = pmf.expected_sparsity()
        m = 2
        for mode in ("integer", "disjoint"):
            base = dict(coefficients=mode)
            queries = {
                "minD": {},
                "minD|R": {"max_rate": 0.5 * es},
                "minR|D": {"minimize": "rate", "max_distortion": 0.4 * es},
                "minP|RD": {"minimize": "poly", "max_rate": 1.2 * es, "max_distortion": 0.3 * es},
                "minD|P0": {"max_poly": 0.0},
                "minD|P.15": {"max_poly": 0.15},
                "minR|DP": {"minimize": "rate", "max_distortion": 0.35 * es, "max_poly": 0.2},
            }
            for qn, kw in queries.items():
                if si == 1 and qn in ("minD|P.15", "minR|DP"):
                    continue
                out.append((f"free-{mode}-{qn}-{si}", Problem(pmf, m, 2, **base, **kw)))
        out.append((f"free-k1-{si}", Problem(pmf, m, 1)))
    out.append(("free-m3", Problem(_pmf(specs[0]), 3, 2)))
    out.append(("free-m3-P", Problem(_pmf(specs[0]), 3, 3, minimize="poly", max_distortion=0.5)))
    # threshold class: small supports keep the oracle's multiset walk short
    tpmf = _pmf("random:n=3,support=5,seed=3")
    tes = tpmf.expected_sparsity()
    for mode in ("integer", "disjoint"):
        for weights in ("ternary", "binary"):
            tq = {
                "minD": {},
                "minR|D": {"minimize": "rate", "max_distortion": 0.5 * tes},
                "minP|D": {"minimize": "poly", "max_distortion": 0.5 * tes},
                "minD|P": {"max_poly": 0.15},
            }
            for qn, kw in tq.items():
                out.append(
                    (
                        f"thr-{mode}-{weights}-{qn}",
                        Problem(tpmf, 2, 2, encoder="threshold", coefficients=mode, encoder_weights=weights, **kw),
                    )
                )
    out.append(("thr-decoder-minP", Problem(tpmf, 2, 1, encoder="threshold", poly="decoder", minimize="poly", max_distortion=0.6 * tes)))
    # infeasible budgets
    pmf = _pmf(specs[0])
    out.append(("infeasible-D0", Problem(pmf, 1, 1, max_distortion=0.0)))
    out.append(("infeasible-thr", Problem(tpmf, 1, 1, encoder="threshold", max_distortion=0.0, max_rate=0.01)))
    return out


CASES = _cases()
SOLVERS = {
    "highs": ("highs", {}),
    "highs-highspy": ("highs", {"interface": "highspy"}),
    "highs-usage": ("highs", {"interface": "highspy", "formulation": "usage"}),
    "cpsat": ("cpsat", {}),
    "scip": ("scip", {}),
    "scip-usage": ("scip", {"formulation": "usage"}),
}
if HAVE_BRUTE:
    SOLVERS["brute"] = ("brute", {})

_ORACLE: dict[str, dict[str, float] | None] = {}
#: Cases also checked against this file's own enumeration (small enough for it).
OWN_ENUMERATION = {name for name, pr in CASES if pr.width <= 2 and pr.pmf.support_size <= 6}


def _oracle(name: str, problem: Problem) -> dict[str, float] | None:
    """Ground truth: brute force when installed, else this file's enumeration."""
    if name not in _ORACLE:
        if HAVE_BRUTE:
            sol = solve(problem, "brute", threads=1)
            assert sol.status in (Status.OPTIMAL, Status.INFEASIBLE), sol.status
            _ORACLE[name] = (
                None if sol.status is Status.INFEASIBLE else {q: float(sol.value(q)) for q in ("rate", "distortion", "poly")}
            )
        else:
            _ORACLE[name] = enumerate_optimum(problem)
    return _ORACLE[name]


def _check(problem: Problem, sol, truth: dict[str, float] | None) -> None:  # noqa: ANN001
    if truth is None:
        assert sol.status is Status.INFEASIBLE
        assert sol.sae is None
        return
    assert sol.status is Status.OPTIMAL, sol.info
    assert sol.is_exact
    ev = sol.sae.evaluate(problem.pmf, problem.k)
    assert ev.rate == pytest.approx(sol.rate, abs=1e-12)
    assert ev.distortion == pytest.approx(sol.distortion, abs=1e-12)
    assert ev.poly(problem.poly_measure) == pytest.approx(sol.poly, abs=1e-12)
    assert sol.sae.width == problem.width
    assert within_budgets(problem, sol.rate, sol.distortion, sol.poly)
    for q in ("distortion", "rate", "poly"):
        assert abs(sol.value(q) - truth[q]) <= 1e-9, (q, sol.value(q), truth[q])
    assert sol.objective == pytest.approx(truth[problem.minimize], abs=1e-9)


def _applicable(solver_key: str, problem: Problem) -> bool:
    opts = SOLVERS[solver_key][1]
    return not (opts.get("formulation") == "usage" and problem.encoder == "threshold")


MATRIX = [(key, name, pr) for key in SOLVERS for name, pr in CASES if _applicable(key, pr)]


@pytest.mark.parametrize("solver_key,name,problem", MATRIX, ids=[f"{n}-{k}" for k, n, _ in MATRIX])
def test_agreement_with_ground_truth(solver_key: str, name: str, problem: Problem) -> None:
    solver, opts = SOLVERS[solver_key]
    sol = solve(problem, solver, time_limit=60, threads=1, options=dict(opts) or None)
    _check(problem, sol, _oracle(name, problem))


@pytest.mark.parametrize("name", sorted(OWN_ENUMERATION))
def test_enumeration_matches_ground_truth(name: str) -> None:
    """Independent check of the oracle chain: this file's enumeration equals the ground truth."""
    problem = dict(CASES)[name]
    mine = enumerate_optimum(problem)
    truth = _oracle(name, problem)
    if truth is None or mine is None:
        assert truth is None and mine is None
        return
    for q in ("rate", "distortion", "poly"):
        assert abs(mine[q] - truth[q]) <= 1e-9, q


def test_oracle_knows_monosemantic_floor() -> None:
    """Sanity of the oracle itself: with P budget 0 and k ≥ m, D equals Σ of marginals outside the best
    m concepts (C-P2/C-T5 with no cap), independent of this module's code."""
    pmf = _pmf("random:n=3,support=6,seed=1")
    marg = sorted(pmf.marginals().tolist())
    truth = enumerate_optimum(Problem(pmf, 2, 2, max_poly=0.0))
    assert truth is not None
    assert truth["distortion"] == pytest.approx(marg[0], abs=1e-12)


@pytest.mark.parametrize("solver_key", sorted(SOLVERS))
@pytest.mark.parametrize("encoder", ["free", "threshold"])
def test_support_of_only_the_empty_event(solver_key: str, encoder: str) -> None:
    """No candidate atom at all (the model has no columns): every backend proves R = D = P = 0."""
    name, options = SOLVERS[solver_key]
    if encoder == "threshold":
        options = {key: v for key, v in options.items() if key != "formulation"}  # free-class formulations
    pmf = ConceptPMF.from_events(2, [([], 1.0)])
    for minimize in ("distortion", "rate", "poly"):
        sol = solve(Problem(pmf=pmf, width=2, k=1, encoder=encoder, minimize=minimize),  # type: ignore[arg-type]
                    name, options=dict(options), threads=1)
        assert sol.status is Status.OPTIMAL and sol.is_exact
        assert (sol.rate, sol.distortion, sol.poly) == (0.0, 0.0, 0.0)


# ---------------------------------------------------------------------------------------------- bnb budgets
def _bnb_budget_cases() -> list[tuple[str, Problem]]:
    """Random small free-class min-D queries with distortion, rate and poly budgets at several levels, set
    from the unbudgeted optimum found by brute force (slack, exact and binding)."""
    out: list[tuple[str, Problem]] = []
    for seed in range(1, 7):
        pmf = _pmf(f"random:n=4,support={6 + seed % 3},seed={seed}")
        base = Problem(pmf, 2 + seed % 2, 1 + seed % 2)
        ref = solve(base, "brute", threads=1)
        d, r, p = ref.distortion, ref.rate, ref.poly
        for tag, kw in {
            "D-slack": {"max_distortion": 1.3 * d}, "D-exact": {"max_distortion": d}, "D-infeasible": {"max_distortion": 0.8 * d},
            "R-slack": {"max_rate": 1.5 * r}, "R-exact": {"max_rate": r}, "R-binding": {"max_rate": 0.7 * r},
            "P-slack": {"max_poly": p + 0.1}, "P-binding": {"max_poly": 0.5 * p},
            "DR": {"max_distortion": 1.2 * d, "max_rate": 0.8 * r}, "DRP": {"max_distortion": 2 * d, "max_rate": 2 * r, "max_poly": p},
        }.items():
            out.append((f"bnb-{seed}-{tag}", base.with_(**kw)))
    # a pmf with concept automorphisms (0↔1 with 2↔3, and 0↔2 with 1↔3): orbital branching under a cutoff
    sym = ConceptPMF.from_events(4, [([0], 3), ([1], 3), ([2], 3), ([3], 3), ([0, 1], 4), ([2, 3], 4),
                                     ([0, 2], 2), ([1, 3], 2), ([0, 1, 2, 3], 1)], normalize=True)
    base = Problem(sym, 3, 2)
    ref = solve(base, "brute", threads=1)
    for tag, kw in {"D-exact": {"max_distortion": ref.distortion}, "D-infeasible": {"max_distortion": 0.9 * ref.distortion},
                    "R-binding": {"max_rate": 0.9 * ref.rate}, "DR-slack": {"max_distortion": 2 * ref.distortion,
                                                                            "max_rate": ref.rate}}.items():
        out.append((f"bnb-sym-{tag}", base.with_(**kw)))
    return out


@pytest.mark.skipif(not HAVE_BRUTE, reason="needs the brute-force oracle")
@pytest.mark.parametrize("name,problem", _bnb_budget_cases(), ids=lambda x: x if isinstance(x, str) else "")
def test_bnb_budgeted_queries_agree_or_decline(name: str, problem: Problem) -> None:
    """bnb on a budgeted min-D query either proves the brute-force answer (optimal or infeasible) or declines
    with status limit, a valid lower bound and ``budget_binds`` — only when a rate/poly budget excludes the
    unbudgeted canonical optimum (docs/solver-dispatch.md)."""
    sol = solve(problem, "bnb", time_limit=60)
    truth = solve(problem, "brute", threads=1)
    free = solve(problem.with_(max_rate=None, max_poly=None, max_distortion=None), "brute", threads=1)
    rp_slack = within_budgets(problem.with_(max_distortion=None), free.rate, free.distortion, free.poly)
    if problem.max_distortion is not None and free.distortion > problem.max_distortion + TOL:
        assert sol.status is Status.INFEASIBLE and truth.status is Status.INFEASIBLE
        return
    if rp_slack:
        _check(problem, sol, None if truth.status is Status.INFEASIBLE else
               {q: float(truth.value(q)) for q in ("rate", "distortion", "poly")})
        assert sol.info.budgets_checked
        return
    assert sol.status is Status.LIMIT and sol.sae is None and sol.info.budget_binds
    assert sol.info.declined == "budget binds"
    assert sol.bound == pytest.approx(free.distortion, abs=1e-9)
    if truth.status is Status.OPTIMAL:
        assert sol.bound <= truth.distortion + 1e-9


def test_auto_hands_a_binding_budget_from_bnb_to_the_integer_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """When ``auto`` picks bnb and a rate budget binds, the integer program answers (same answer as brute)."""
    from rdp_exact.problem import SolverName
    from rdp_exact.solvers import auto

    pmf = _pmf("random:n=4,support=7,seed=2")
    base = Problem(pmf, 2, 2)
    free = solve(base, "brute", threads=1)
    pr = base.with_(max_rate=0.6 * free.rate)
    monkeypatch.setattr(auto, "choose", lambda problem: SolverName.BNB)
    sol = solve(pr, "auto", time_limit=60, threads=1)
    assert sol.solver == "highs" and "bnb declined (budget binds)" in sol.info.route
    truth = solve(pr, "brute", threads=1)
    _check(pr, sol, {q: float(truth.value(q)) for q in ("rate", "distortion", "poly")})


@pytest.mark.skipif(not HAVE_BRUTE, reason="needs the brute-force oracle")
@pytest.mark.parametrize("weights", ["ternary", "binary"])
def test_bnb_threshold_class_agrees_where_realisable(weights: str) -> None:
    """Threshold class with P = P_dec: bnb proves the brute-force answer when the free optimum's code is realised
    by threshold units (and no duplicate-padded tie could lower P); otherwise it declines with status limit and
    a valid lower bound — a proven D and R when it did realise the code."""
    proven = declined = 0
    for seed in (1, 3, 5, 7, 9, 11):
        pmf = _pmf(f"random:n=3,support={5 + seed % 3},seed={seed}")
        for m, k, kw in ((2, 1, {}), (2, 2, {}), (2, 2, {"max_distortion": 0.6 * pmf.expected_sparsity()}),
                         (2, 1, {"max_distortion": 0.0})):
            pr = Problem(pmf, m, k, encoder="threshold", poly="decoder", encoder_weights=weights, **kw)  # type: ignore[arg-type]
            sol = solve(pr, "bnb", time_limit=60)
            truth = solve(pr, "brute", threads=1)
            if truth.status is Status.INFEASIBLE:
                assert sol.status is Status.INFEASIBLE
                continue
            if sol.status is Status.OPTIMAL:
                proven += 1
                _check(pr, sol, {q: float(truth.value(q)) for q in ("rate", "distortion", "poly")})
                assert sol.sae is not None and sol.sae.encoder is not None  # a real threshold SAE
                continue
            declined += 1
            assert sol.status is Status.LIMIT and sol.bound is not None and sol.info.not_proven_reason
            assert sol.bound <= truth.distortion + 1e-9
            assert (sol.sae is None) == (sol.info.declined is not None)
            if sol.sae is not None:  # realised: D and R are proven, P is not
                assert sol.distortion == pytest.approx(truth.distortion, abs=1e-9)
                assert sol.rate == pytest.approx(truth.rate, abs=1e-9)
                assert sol.poly >= truth.poly - 1e-9
    assert proven >= 3, (proven, declined)


def test_bnb_threshold_class_needs_p_dec() -> None:
    pr = Problem(_pmf("random:n=3,support=5,seed=1"), 2, 1, encoder="threshold")  # P_joint by default
    from rdp_exact.errors import SolverUnavailable

    with pytest.raises(SolverUnavailable, match="P_dec only"):
        solve(pr, "bnb")
