"""Exact-solver scaling benchmark (DESIGN §8): brute force, HiGHS formulations and CP-SAT in one run.

    python -m benchmarks.bench_solvers [--quick] [--full] [--time-limit S] [--threads T]

For each instance (pmf family, n, N, m, k) and solver configuration it records status, wall time to proof,
objective, bound and relative gap at the limit, and ratios of wall time against brute force and against
the straightforward candidate-atom MILP (``highs-usage``, the baseline). Writes
bench-results/bench_solvers.json and bench-results/bench_solvers.md.
"""

from __future__ import annotations

import argparse
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
    "highs-pattern": ("highs", {"interface": "highspy", "formulation": "auto"}),
    "highs-pyomo": ("highs", {"interface": "pyomo", "formulation": "auto"}),
    "cpsat": ("cpsat", {"formulation": "auto"}),
}

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


def run(instances: list[tuple[str, int, int]], time_limit: float, threads: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for spec, m, k in instances:
        pmf = _pmf(spec)
        pr = Problem(pmf, m, k)
        per: dict[str, dict[str, Any]] = {}
        for name, (backend, opts) in CONFIGS.items():
            if backend == "brute":
                try:
                    from rdp_exact.solvers import brute
                except ImportError:
                    continue
                if not brute.affordable(pr):
                    continue
            if name == "highs-pyomo" and pmf.support_size > 64:
                continue  # Pyomo model construction dominates on large models; see highs-pattern
            t0 = time.perf_counter()
            try:
                sol = solve(pr, backend, time_limit=time_limit, threads=threads, options=dict(opts))
            except Exception as exc:  # record and continue: a benchmark must finish
                per[name] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            wall = time.perf_counter() - t0
            per[name] = {
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
        f"Time limit {meta['time_limit']} s per solve, {meta['threads']} thread(s), {meta['machine']}.",
        "Query: min D under the cap (tie-breaks R then P). Ratios: wall time / reference wall time, both proven.",
        "",
        "| pmf | n | N | m | k | solver | status | wall s | objective | gap | ×brute | ×usage |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def f(v: Any, fmt: str = ".4g") -> str:
        return "" if v is None else format(v, fmt)

    for r in rows:
        lines.append(
            f"| {r['pmf']} | {r['n']} | {r['N']} | {r['m']} | {r['k']} | {r['solver']} | {r.get('status', r.get('error', ''))} "
            f"| {f(r.get('wall_s'), '.2f')} | {f(r.get('objective'), '.6f')} | {f(r.get('gap'))} "
            f"| {f(r.get('time_ratio_vs_brute'), '.2f')} | {f(r.get('time_ratio_vs_highs-usage'), '.2f')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="tiny grid (seconds)")
    ap.add_argument("--full", action="store_true", help="include the target instances (n = 10–16; long)")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="bench-results")
    args = ap.parse_args(argv)
    instances = QUICK if args.quick else FULL if args.full else DEFAULT
    tl = args.time_limit if args.time_limit is not None else (10.0 if args.quick else 600.0 if args.full else 120.0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = run(instances, tl, args.threads)
    meta = {"time_limit": tl, "threads": args.threads, "machine": platform.platform(), "grid": "quick" if args.quick else "full" if args.full else "default"}
    atomic_write_json(out / "bench_solvers.json", {"meta": meta, "rows": rows})
    atomic_write_text(out / "bench_solvers.md", to_markdown(rows, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
