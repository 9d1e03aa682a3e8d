"""Exact RDP frontiers on grids, the exact Pareto set, and the monosemantic staircase (DESIGN §1.5).

For fixed (π, m, k, class, coefficient mode) :func:`compute_frontier` solves, each point exactly via
:func:`rdp_exact.solvers.solve`:

* the anchor D*_k (min D under the cap alone) and the rate R_k of that optimum;
* R*(δ, ρ_P) = min R s.t. D ≤ δ, P ≤ ρ_P for ``grid`` values δ ∈ [D*_k, E|S|] at each P level ρ_P;
* D*(r, ρ_P) = min D s.t. R ≤ r, P ≤ ρ_P for ``grid`` values r ∈ [0, R_k] at each P level;
* P*(r, δ) = min P s.t. R ≤ r, D ≤ δ on the ``grid`` × ``grid`` product of those budgets;
* per cap k' = 1..m: D*_{k'} and the monosemanticity floor P*(∞, D*_{k'}) (min P among SAEs that reach
  the TopK-optimal distortion), beside the monosemantic D_min(m, k') of C-T5;
* optionally the exact Pareto set of (R, D, P) (``rdp_exact.solvers.pareto``), where enumeration is
  affordable;
* the exact monosemantic staircase R*(δ, 0) of C-T5 (:mod:`rdp_exact.theory`; free class).

Every solved point keeps its status: a point is called exact only when its :class:`Solution` is
(optimal with gap 0); ``limit``/``feasible`` points keep their SAE but are marked not exact.
:func:`write_frontier` writes ``frontier.csv``, ``frontier.json`` and three figures into a folder,
atomically (``staged_dir``).
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from rdp_exact import theory
from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Objective, Problem, Solution, Status
from rdp_exact.sae import CoefficientMode, EncoderClass, PolyMeasure
from rdp_exact.validate import (
    check_choice,
    check_count,
    check_float,
    check_instance,
    check_int,
    check_optional_finite,
    check_str,
)

log = logging.getLogger(__name__)

#: Progress callback: (points done, points planned, label of the point just started or finished).
ProgressFn = Callable[[int, int, str], None]

Query = Literal["dstar_k", "rstar", "dstar", "pstar", "pfloor_k"]

#: Default P levels: monosemantic, two intermediate budgets, and no budget (None).
DEFAULT_POLY_LEVELS: tuple[float | None, ...] = (0.0, 0.15, 0.3, None)

CSV_COLUMNS = (
    "query", "k", "max_rate", "max_distortion", "max_poly", "status", "exact", "objective",
    "R", "D", "P", "solver", "time_s", "atoms",
)


def parse_poly_levels(text: str) -> tuple[float | None, ...]:
    """Parse ``0,0.1,0.2,inf`` (``inf``/``none`` = no P budget) into sorted distinct levels."""
    levels: list[float | None] = []
    for tok in (t.strip().lower() for t in text.split(",")):
        if not tok:
            continue
        if tok in ("inf", "none", "∞"):
            levels.append(None)
            continue
        try:
            v = float(tok)
        except ValueError:
            raise InvalidArgument(f"poly level {tok!r} is not a number (use e.g. 0,0.1,0.3,inf)") from None
        levels.append(v)
    if not levels:
        raise InvalidArgument(f"no poly levels in {text!r}")
    return _normalise_levels(levels)


def _normalise_levels(levels: Sequence[float | None]) -> tuple[float | None, ...]:
    finite: set[float] = set()
    unbounded = False
    for v in levels:
        if v is None:
            unbounded = True
            continue
        finite.add(check_float("poly level", v, min=0.0))
    out: list[float | None] = [*sorted(finite)]
    if unbounded:
        out.append(None)
    return tuple(out)


@dataclass(frozen=True)
class FrontierConfig:
    """What ``rdp frontier`` computes (validated on construction)."""

    pmf: ConceptPMF
    """The concept pmf π."""
    width: int
    """m, the number of latents."""
    k: int
    """The per-sample cap of the grids (per-k curves use every k' = 1..m)."""
    grid: int = 8
    """Budget values per axis (δ grid, r grid; P* uses the grid × grid product)."""
    poly_levels: tuple[float | None, ...] = DEFAULT_POLY_LEVELS
    """P budgets ρ_P of the R* and D* grids; None means no P budget."""
    pareto: bool = False
    """Also compute the exact Pareto set (only where enumeration is affordable)."""
    solver: str = "auto"
    """Backend for every point: auto | brute | highs | cpsat."""
    time_limit: float | None = None
    """Seconds per solved point (None: no limit)."""
    threads: int | None = None
    """Solver threads per point (None: the solver's default, or 1 when points run in parallel: ``workers`` > 1
    or a Ray ``address``)."""
    encoder: EncoderClass = "free"
    """Encoder class."""
    coefficients: CoefficientMode = "integer"
    """Coefficient mode."""
    encoder_weights: Literal["ternary", "binary"] = "ternary"
    """Threshold class: encoder weight alphabet."""
    poly: PolyMeasure = "joint"
    """Threshold class: which P the budgets use."""
    max_steps: int = 10_000
    """Corners kept of the monosemantic staircase."""
    per_k: bool = True
    """Solve D*_{k'} and the P floor for every k' = 1..m (the *_vs_k figures)."""
    workers: int = 1
    """Grid chains solved at once: 1 = one after another in this process; more = local worker processes."""
    address: str | None = None
    """Ray cluster address (``auto``, ``ray://host:10001``; ``local`` starts a private one): grid chains run as
    Ray tasks there."""
    reuse: bool = True
    """Warm starts between neighbouring budgets: a proven optimum that meets a tighter budget is reused."""
    clamp_note: str | None = field(default=None, init=False)
    """Set when ``width`` (and k) were clamped to the largest useful width (issue 13 item 4)."""

    def __post_init__(self) -> None:
        from rdp_exact.solvers import SOLVER_CHOICES

        check_instance("pmf", self.pmf, ConceptPMF)
        check_int("grid", self.grid, min=2, max=500)
        object.__setattr__(self, "poly_levels", _normalise_levels(self.poly_levels))
        if not self.poly_levels:
            raise InvalidArgument("poly levels must hold at least one level")
        check_choice("solver", self.solver, SOLVER_CHOICES)
        check_optional_finite("time limit", self.time_limit, positive=True)
        if self.threads is not None:
            check_count("threads", self.threads)
        check_count("max steps", self.max_steps)
        check_int("workers", self.workers, min=1, max=1024)
        if self.address is not None:
            check_str("address", self.address)
        self.base_problem()  # validates width, k, class, modes
        from rdp_exact.solvers.limits import clamp_problem

        clamped, note = clamp_problem(self.base_problem().with_(minimize="poly"))  # P queries: widest bound
        if note is not None:
            object.__setattr__(self, "width", clamped.width)
            object.__setattr__(self, "k", clamped.k)
            object.__setattr__(self, "clamp_note", note)

    def base_problem(self, k: int | None = None) -> Problem:
        """The unconstrained D*_k problem of this configuration (optionally at another cap)."""
        return Problem(
            pmf=self.pmf,
            width=self.width,
            k=self.k if k is None else k,
            encoder=self.encoder,
            coefficients=self.coefficients,
            encoder_weights=self.encoder_weights,
            poly=self.poly,
        )

    def planned_points(self) -> int:
        """Number of exact solves :func:`compute_frontier` will run (for progress bars)."""
        n = 1 + 2 * self.grid * len(self.poly_levels) + self.grid * self.grid
        if self.per_k:
            n += 2 * self.width - 1
        return n


@dataclass(frozen=True)
class FrontierRow:
    """One solved point."""

    query: Query
    k: int
    max_rate: float | None
    max_distortion: float | None
    max_poly: float | None
    status: str
    exact: bool
    objective: float | None
    rate: float | None
    distortion: float | None
    poly: float | None
    solver: str
    time_s: float
    atoms: list[list[int]] | None

    @classmethod
    def from_solution(cls, query: Query, sol: Solution) -> FrontierRow:
        pr = sol.problem
        return cls(
            query=query,
            k=pr.k,
            max_rate=pr.max_rate,
            max_distortion=pr.max_distortion,
            max_poly=pr.max_poly,
            status=sol.status.value,
            exact=sol.is_exact,
            objective=sol.objective,
            rate=sol.rate,
            distortion=sol.distortion,
            poly=sol.poly,
            solver=sol.solver,
            time_s=sol.wall_time_s,
            atoms=None if sol.sae is None or sol.evaluation is None else
            [a for a, live in zip(sol.sae.sorted_atoms(), sol.evaluation.live, strict=True) if live],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query, "k": self.k, "max_rate": self.max_rate, "max_distortion": self.max_distortion,
            "max_poly": self.max_poly, "status": self.status, "exact": self.exact, "objective": self.objective,
            "R": self.rate, "D": self.distortion, "P": self.poly, "solver": self.solver, "time_s": self.time_s,
            "atoms": self.atoms,
        }


@dataclass(frozen=True)
class KRow:
    """Per-cap summary for the *_vs_k figures."""

    k: int
    d_star: float | None
    """D*_k (unrestricted optimum under cap k)."""
    d_star_exact: bool
    d_min: float
    """Monosemantic D_min(m, k) (C-T5, closed form)."""
    p_floor: float | None
    """P*(∞, D*_k): least P of an SAE reaching D ≤ D*_k under cap k."""
    p_floor_exact: bool


@dataclass(frozen=True)
class FrontierResult:
    """Everything :func:`write_frontier` writes."""

    config: FrontierConfig
    expected_sparsity: float
    d_star_k: float | None
    rate_at_d_star_k: float | None
    d_min: float
    delta_grid: tuple[float, ...]
    rate_grid: tuple[float, ...]
    staircase: theory.Staircase
    rows: tuple[FrontierRow, ...]
    per_k: tuple[KRow, ...] = ()
    pareto: tuple[tuple[float, float, float], ...] | None = None
    """Exact Pareto set as (R, D, P), when requested and affordable."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def rows_of(self, query: Query) -> list[FrontierRow]:
        return [r for r in self.rows if r.query == query]

    @property
    def all_exact(self) -> bool:
        """Whether every solved point is proven (optimal, gap 0, or proven infeasible)."""
        return all(r.exact or r.status == Status.INFEASIBLE.value for r in self.rows)

    def to_json_dict(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "problem": {**cfg.base_problem().to_dict(), "minimize": None, "pmf_sha256": cfg.pmf.sha256()},
            "pmf": cfg.pmf.to_dict(),
            "grid": cfg.grid,
            "poly_levels": [None if v is None else v for v in cfg.poly_levels],
            "expected_sparsity": self.expected_sparsity,
            "d_star_k": self.d_star_k,
            "rate_at_d_star_k": self.rate_at_d_star_k,
            "d_min": self.d_min,
            "delta_grid": list(self.delta_grid),
            "rate_grid": list(self.rate_grid),
            "staircase": self.staircase.to_list(),
            "staircase_truncated": self.staircase.truncated,
            "staircase_class": "free (C-T5 omission codes)",
            "per_k": [asdict(r) for r in self.per_k],
            "pareto": None if self.pareto is None else [{"R": r, "D": d, "P": p} for r, d, p in self.pareto],
            "all_exact": self.all_exact,
            "notes": list(self.notes),
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in self.rows:
            d = r.to_dict()
            atoms = "" if r.atoms is None else " ".join("{" + ",".join(map(str, a)) + "}" for a in r.atoms)
            w.writerow([_csv(d["query"]), d["k"], _csv(d["max_rate"]), _csv(d["max_distortion"]),
                        _csv(d["max_poly"]), d["status"], d["exact"], _csv(d["objective"]), _csv(d["R"]),
                        _csv(d["D"]), _csv(d["P"]), d["solver"], _csv(d["time_s"]), atoms])
        return buf.getvalue()


def _csv(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _grid(lo: float, hi: float, n: int) -> tuple[float, ...]:
    """n evenly spaced budgets in [lo, hi] (distinct values only; endpoints exact)."""
    if hi <= lo + 1e-12:
        return (float(lo),)
    g = np.linspace(lo, hi, n)
    g[0], g[-1] = lo, hi
    return tuple(float(x) for x in g)


@dataclass(frozen=True)
class _Point:
    """One grid point to solve (``max_distortion="prev"``: the previous point's D, for the P floor)."""

    index: int
    """Position of the row in the result (the serial solve order)."""
    query: Query
    minimize: Objective
    k: int | None = None
    max_rate: float | None = None
    max_distortion: float | str | None = None
    max_poly: float | None = None

    def label(self, k: int) -> str:
        return f"{self.query} k={self.k or k} r={self.max_rate} δ={self.max_distortion} ρ={self.max_poly}"


def _solve_point(config: FrontierConfig, pt: _Point, prev: Solution | None) -> tuple[Solution | None, bool]:
    """Solve one point; reuse ``prev`` (the previous, looser point of the chain) when it is proven optimal and
    meets this point's budgets: the lexicographic optimum over a feasible set that contains this point's
    feasible set, lying in it, is this point's lexicographic optimum too. Returns (solution, reused)."""
    from rdp_exact.problem import within_budgets
    from rdp_exact.solvers import solve

    md = pt.max_distortion
    if md == "prev":
        if prev is None or prev.evaluation is None:
            return None, False  # the P floor needs the D*_k' of the previous point
        md = prev.distortion
        prev = None  # a different query: nothing to reuse
    assert md is None or isinstance(md, float)
    pr = replace(config.base_problem(pt.k), minimize=pt.minimize, max_rate=pt.max_rate,
                 max_distortion=md, max_poly=pt.max_poly)
    if (config.reuse and prev is not None and prev.is_exact and prev.evaluation is not None
            and prev.problem.minimize == pr.minimize and prev.problem.k == pr.k
            and within_budgets(pr, prev.rate, prev.distortion, prev.poly)):  # type: ignore[arg-type]
        return replace(prev, problem=pr, wall_time_s=0.0), True
    threads = config.threads
    if threads is None and (config.workers > 1 or config.address is not None):
        threads = 1  # the grid points already run side by side: one thread each, not one per core each
    sol = solve(pr, config.solver, time_limit=config.time_limit, threads=threads)
    if not sol.is_exact and sol.status is not Status.INFEASIBLE:
        log.warning("%s: status %s (not proven optimal)", pt.label(config.k), sol.status.value)
    return sol, False


def _run_chain(config: FrontierConfig, chain: list[_Point]) -> list[tuple[int, FrontierRow, bool]]:
    """Solve a chain of points in order (loosest budget first, so optima can be reused downwards)."""
    out: list[tuple[int, FrontierRow, bool]] = []
    prev: Solution | None = None
    for pt in chain:
        sol, reused = _solve_point(config, pt, prev)
        if sol is None:
            continue
        out.append((pt.index, FrontierRow.from_solution(pt.query, sol), reused))
        prev = sol
    return out


def _run_chains(config: FrontierConfig, chains: list[list[_Point]], progress: ProgressFn | None, done: int,
                total: int) -> list[tuple[int, FrontierRow, bool]]:
    """Run independent chains serially, in local processes (``workers`` > 1) or as Ray tasks (``address``)."""
    results: list[tuple[int, FrontierRow, bool]] = []
    if not chains:
        return results

    def report(rows: list[tuple[int, FrontierRow, bool]], label: str) -> None:
        nonlocal done
        results.extend(rows)
        done += len(rows)
        if progress is not None:
            progress(done, total, label)

    if config.address is not None:
        try:
            import ray  # type: ignore[import-not-found]
        except ImportError:
            raise InvalidArgument("--address needs Ray (pip install ray); it is not installed") from None
        try:
            if config.address == "local":  # a private single-machine Ray instance (testing)
                ray.init(num_cpus=config.workers, ignore_reinit_error=True, log_to_driver=False)
            else:
                ray.init(address=config.address, ignore_reinit_error=True, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidArgument(f"cannot reach the Ray cluster at {config.address!r}: {msg}") from None
        remote = ray.remote(_run_chain)
        pending = {remote.remote(config, ch): ch for ch in chains}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            ch = pending.pop(ready[0])
            report(ray.get(ready[0]), ch[-1].label(config.k))
        return results
    if config.workers > 1 and len(chains) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(config.workers, len(chains)), mp_context=ctx) as pool:
            futs = {pool.submit(_run_chain, config, ch): ch for ch in chains}
            for fut in as_completed(futs):
                report(fut.result(), futs[fut][-1].label(config.k))
        return results
    for ch in chains:
        prev: Solution | None = None
        for pt in ch:
            if progress is not None:
                progress(done, total, pt.label(config.k))
            sol, reused = _solve_point(config, pt, prev)
            if sol is None:
                continue
            report([(pt.index, FrontierRow.from_solution(pt.query, sol), reused)], pt.label(config.k))
            prev = sol
    return results


def _pareto(config: FrontierConfig) -> tuple[tuple[tuple[float, float, float], ...] | None, str | None]:
    from rdp_exact.solvers import pareto as pareto_mod

    try:
        pts = pareto_mod.pareto_set(
            config.pmf, config.width, config.k, encoder=config.encoder, coefficients=config.coefficients,
            poly=config.poly, encoder_weights=config.encoder_weights, time_limit=config.time_limit,
        )
    except SolverUnavailable as exc:
        return None, f"Pareto set not computed: {exc}"
    out = sorted({(float(p.rate), float(p.distortion), float(p.poly)) for p in pts})
    return tuple(out), None


def compute_frontier(config: FrontierConfig, progress: ProgressFn | None = None) -> FrontierResult:
    """Solve every grid point of ``config`` exactly (see the module docstring) and collect the result."""
    t0 = time.perf_counter()
    pmf, m, k = config.pmf, config.width, config.k
    es = pmf.expected_sparsity()
    notes: list[str] = [] if config.clamp_note is None else [config.clamp_note]
    if config.encoder != "free":
        notes.append("the monosemantic staircase (C-T5) is that of the free class; the threshold class can "
                     "only do worse at P = 0")
    total = config.planned_points()
    if progress is not None:
        progress(0, total, "dstar_k (anchor)")
    anchor, _ = _solve_point(config, _Point(0, "dstar_k", "distortion"), None)
    assert anchor is not None
    rows: list[tuple[int, FrontierRow, bool]] = [(0, FrontierRow.from_solution("dstar_k", anchor), False)]
    if progress is not None:
        progress(1, total, "dstar_k (anchor)")
    if anchor.evaluation is not None:
        d_star, r_star = anchor.distortion, anchor.rate
    else:  # no SAE at all within the limit: fall back to the widest meaningful range
        d_star, r_star = None, None
        notes.append("the D*_k anchor returned no SAE; grids span [0, E|S|] in D and R")
    lo_d = 0.0 if d_star is None else float(d_star)
    hi_r = es if r_star is None else float(r_star)
    delta_grid = _grid(lo_d, max(es, lo_d), config.grid)
    rate_grid = _grid(0.0, hi_r, config.grid)

    # independent chains, each loosest budget first (rows keep the serial order through their index)
    idx = 1
    chains: list[list[_Point]] = []
    for rho in config.poly_levels:
        ch = [_Point(idx + i, "rstar", "rate", max_distortion=d, max_poly=rho) for i, d in enumerate(delta_grid)]
        idx += len(ch)
        chains.append(ch[::-1])
        ch = [_Point(idx + i, "dstar", "distortion", max_rate=r, max_poly=rho) for i, r in enumerate(rate_grid)]
        idx += len(ch)
        chains.append(ch[::-1])
    for r in rate_grid:
        ch = [_Point(idx + i, "pstar", "poly", max_rate=r, max_distortion=d) for i, d in enumerate(delta_grid)]
        idx += len(ch)
        chains.append(ch[::-1])
    if config.per_k:
        for kk in range(1, m + 1):
            if kk == k:
                pf = _Point(idx, "pfloor_k", "poly", k=kk, max_distortion=d_star)
                idx += 1
                if d_star is not None:
                    chains.append([pf])
                continue
            chains.append([_Point(idx, "dstar_k", "distortion", k=kk),
                           _Point(idx + 1, "pfloor_k", "poly", k=kk, max_distortion="prev")])
            idx += 2
    rows += _run_chains(config, chains, progress, 1, total)
    rows.sort(key=lambda x: x[0])
    reused = sum(1 for _, _, re in rows if re)
    if reused:
        notes.append(f"{reused} grid points reused the proven optimum of a looser neighbouring budget")
    by_index = {i: row for i, row, _ in rows}

    per_k: list[KRow] = []
    if config.per_k:
        kidx = idx - (2 * m - 1)
        for kk in range(1, m + 1):
            if kk == k:
                row_d: FrontierRow | None = by_index[0]
                row_p = by_index.get(kidx)
                kidx += 1
            else:
                row_d, row_p = by_index.get(kidx), by_index.get(kidx + 1)
                kidx += 2
            if row_d is None or row_d.distortion is None:
                per_k.append(KRow(kk, None, False, theory.d_min(pmf, m, kk), None, False))
                continue
            per_k.append(
                KRow(
                    k=kk,
                    d_star=row_d.distortion,
                    d_star_exact=row_d.exact,
                    d_min=theory.d_min(pmf, m, kk),
                    p_floor=None if row_p is None else row_p.poly,
                    p_floor_exact=row_p is not None and row_p.exact and row_d.exact,
                )
            )

    pareto = None
    if config.pareto:
        pareto, note = _pareto(config)
        if note:
            notes.append(note)
            log.warning("%s", note)

    stair = theory.monosemantic_staircase(
        pmf, m, k, max_steps=config.max_steps,
        deadline=None if config.time_limit is None else time.perf_counter() + config.time_limit,
    )
    log.info("frontier: %d points in %.3g s", len(rows), time.perf_counter() - t0)
    return FrontierResult(
        config=config,
        expected_sparsity=es,
        d_star_k=d_star,
        rate_at_d_star_k=r_star,
        d_min=theory.d_min(pmf, m, k),
        delta_grid=delta_grid,
        rate_grid=rate_grid,
        staircase=stair,
        rows=tuple(r for _, r, _ in rows),
        per_k=tuple(per_k),
        pareto=pareto,
        notes=tuple(notes),
    )


