"""Exact-solver scaling benchmark (DESIGN §8): brute force, HiGHS formulations and CP-SAT in one run.

    python -m benchmarks.bench_solvers [--quick] [--full] [--targets] [--configs a,b] [--time-limit S] [--threads T]

``--targets`` runs exactly the four performance targets of the free-class min-D query, each with its own time
limit (pairs12 m=6: 10 s; pairs n=16 N=256 m=8: 600 s; random n=8 m=4: 60 s; random n=10 m=5: 600 s), for the
branch-and-bound (``bnb``) and the baseline candidate-atom MILP (``highs-usage``) under the same limit.
Every row records the 1-minute load average before and after the solve: the benchmark machine may be shared,
and contended timings are not comparable.

For each instance (pmf family, n, N, m, k) and solver configuration it records status, wall time to proof,
objective, bound and relative gap at the limit, and ratios of wall time against brute force and against
the straightforward candidate-atom MILP (``highs-usage``, the baseline). Writes
bench-results/bench_solvers.json and bench-results/bench_solvers.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

from rdp_exact.generators import builtin, from_spec
from rdp_exact.io_utils import atomic_write_json, atomic_write_text
from rdp_exact.problem import Problem
from rdp_exact.solvers import solve

#: Solver configurations: name → (backend, options).
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "brute": ("brute", {}),
    "highs-usage": ("highs", {"interface": "highspy", "formulation": "usage", "heuristic": False}),
    "highs-pattern": ("highs", {"interface": "highspy", "formulation": "pattern"}),
    "highs-pyomo": ("highs", {"interface": "pyomo", "formulation": "pattern"}),
    "cpsat": ("cpsat", {"formulation": "auto"}),
    "scip-pattern": ("scip", {"formulation": "pattern"}),
    "bnb": ("bnb", {}),
}

#: The performance targets: (spec, m, k, time limit s, target s).
TARGETS: list[tuple[str, int, int, float, float]] = [
    ("pairs12", 6, 2, 10.0, 10.0),
    ("pairs:n=16,pair=0.3,single=0.05,seed=1,triples=2,support=256", 8, 2, 600.0, 600.0),
    ("random:n=8,support=64,seed=1", 4, 2, 60.0, 60.0),
    ("random:n=10,support=64,seed=1", 5, 2, 600.0, 600.0),
]
TARGET_CONFIGS = ("bnb", "highs-usage")

QUICK = [
    ("cooccur3", 2, 2),
    ("random:n=4,support=10,seed=1", 3, 2),
    ("pairs6", 3, 2),
    ("random:n=6,support=24,seed=1", 3, 2),
]
DEFAULT = QUICK + [
    ("random:n=8,support=64,seed=1", 4, 2),
    ("pairs:n=8,pair=0.3,single=0.05,seed=1,support=64", 4, 2),
    ("random:n=8,support=32,seed=2", 4, 2),
]
FULL = DEFAULT + [
    ("pairs12", 6, 2),
    ("random:n=10,support=64,seed=1", 5, 2),
    ("pairs:n=16,pair=0.3,single=0.05,seed=1,triples=2,support=256", 8, 2),
]


def _pmf(spec: str):  # noqa: ANN202
    return from_spec(spec) if ":" in spec else builtin(spec)


def _load() -> float | None:
    try:
        return float(os.getloadavg()[0])
    except OSError:  # pragma: no cover - not available on this platform
        return None


def run(
    instances: list[tuple[str, int, int]],
    time_limit: float | list[float],
    threads: int,
    configs: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    limits = time_limit if isinstance(time_limit, list) else [time_limit] * len(instances)
    for (spec, m, k), limit in zip(instances, limits, strict=True):
        pmf = _pmf(spec)
        pr = Problem(pmf, m, k)
        per: dict[str, dict[str, Any]] = {}
        for name, (backend, opts) in CONFIGS.items():
            if configs is not None and name not in configs:
                continue
            if backend == "brute":
                try:
                    from rdp_exact.solvers import brute
                except ImportError:
                    continue
                if not brute.affordable(pr):
                    continue
            if name == "highs-pyomo" and pmf.support_size > 64:
                continue  # Pyomo model construction dominates on large models; see highs-pattern
            if name == "bnb":
                from rdp_exact.solvers import bnb_free

                if not bnb_free.applies(pr):
                    continue
            load0 = _load()
            t0 = time.perf_counter()
            try:
                sol = solve(pr, backend, time_limit=limit, threads=threads, options=dict(opts))
            except Exception as exc:  # record and continue: a benchmark must finish
                per[name] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            wall = time.perf_counter() - t0
            per[name] = {
                "time_limit": limit,
                "load_before": load0,
                "load_after": _load(),
                "status": sol.status.value,
                "wall_s": wall,
                "objective": sol.objective,
                "bound": sol.bound,
                "gap": sol.gap,
                "formulation": sol.info.get("formulation"),
                "columns": sol.info.get("columns"),
            }
        for name, r in per.items():
            if "wall_s" not in r:
                continue
            for ref in ("brute", "highs-usage"):
                rr = per.get(ref)
                if rr and "wall_s" in rr and rr.get("status") == "optimal" and r.get("status") == "optimal":
                    r[f"time_ratio_vs_{ref}"] = r["wall_s"] / max(rr["wall_s"], 1e-9)
            rows.append({"pmf": spec, "n": pmf.n, "N": pmf.support_size, "m": m, "k": k, "solver": name, **r})
    return rows


def to_markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Exact solver benchmark",
        "",
        f"Grid {meta['grid']}; time limit {meta['time_limit']} s per solve, {meta['threads']} thread(s), {meta['machine']}.",
        "Query: min D under the cap (tie-breaks R then P). Ratios: wall time / reference wall time, both proven.",
        "",
        "Load: 1-minute load average before/after each solve (the machine may be shared; high load means the",
        "timing is contended). Bound: best proven lower bound on D (equal to the objective when optimal).",
        "",
        "| pmf | n | N | m | k | solver | limit s | status | wall s | objective | bound | gap | ×brute | ×usage | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def f(v: Any, fmt: str = ".4g") -> str:
        return "" if v is None else format(v, fmt)

    for r in rows:
        lines.append(
            f"| {r['pmf']} | {r['n']} | {r['N']} | {r['m']} | {r['k']} | {r['solver']} | {f(r.get('time_limit'), 'g')} "
            f"| {r.get('status', r.get('error', ''))} "
            f"| {f(r.get('wall_s'), '.2f')} | {f(r.get('objective'), '.6f')} | {f(r.get('bound'), '.6f')} | {f(r.get('gap'))} "
            f"| {f(r.get('time_ratio_vs_brute'), '.2f')} | {f(r.get('time_ratio_vs_highs-usage'), '.2f')} "
            f"| {f(r.get('load_before'), '.1f')}/{f(r.get('load_after'), '.1f')} |"
        )
    tgt = [r for r in rows if "target_s" in r]
    if tgt:
        lines += ["", "## Targets", ""]
        for r in tgt:
            verdict = "reached" if r["target_reached"] else "NOT reached"
            lines.append(
                f"- {r['pmf']} m={r['m']} k={r['k']}, {r['solver']}: {verdict} (target ≤ {r['target_s']:g} s proven; "
                f"{r.get('status', r.get('error', ''))} after {f(r.get('wall_s'), '.1f')} s, objective "
                f"{f(r.get('objective'), '.6f')}, bound {f(r.get('bound'), '.6f')}, gap {f(r.get('gap'), '.3g')}, "
                f"load {f(r.get('load_before'), '.1f')}/{f(r.get('load_after'), '.1f')})"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="tiny grid (seconds)")
    ap.add_argument("--full", action="store_true", help="include the target instances (n = 10–16; long)")
    ap.add_argument("--targets", action="store_true", help="the four performance targets (bnb vs baseline; long)")
    ap.add_argument("--configs", default=None, help="comma-separated solver configurations to run (default: all)")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="bench-results")
    args = ap.parse_args(argv)
    instances = QUICK if args.quick else FULL if args.full else DEFAULT
    tl = args.time_limit if args.time_limit is not None else (10.0 if args.quick else 600.0 if args.full else 120.0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = None if args.configs is None else tuple(c.strip() for c in args.configs.split(",") if c.strip())
    if chosen is not None:
        unknown = [c for c in chosen if c not in CONFIGS]
        if unknown:
            ap.error(f"unknown configuration(s) {', '.join(unknown)} (choose from {', '.join(CONFIGS)})")
    if args.targets:
        inst = [(spec, m, k) for spec, m, k, _, _ in TARGETS]
        limits = [args.time_limit if args.time_limit is not None else lim for _, _, _, lim, _ in TARGETS]
        rows = run(inst, limits, args.threads, chosen or TARGET_CONFIGS)
        for r in rows:
            tgt = next(t for t in TARGETS if t[0] == r["pmf"] and t[1] == r["m"])[4]
            r["target_s"] = tgt
            r["target_reached"] = r.get("status") == "optimal" and r.get("wall_s", float("inf")) <= tgt
        grid, tl_meta = "targets", "per target"
        name = "bench_solvers_targets"
    else:
        rows = run(instances, tl, args.threads, chosen)
        grid = "quick" if args.quick else "full" if args.full else "default"
        tl_meta, name = tl, "bench_solvers"
    meta = {"time_limit": tl_meta, "threads": args.threads, "machine": platform.platform(), "grid": grid,
            "cpu_count": os.cpu_count(), "configs": list(chosen) if chosen else "all"}
    atomic_write_json(out / f"{name}.json", {"meta": meta, "rows": rows})
    atomic_write_text(out / f"{name}.md", to_markdown(rows, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
