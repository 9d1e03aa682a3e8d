"""Brute-force oracle timings: min-distortion queries, budgeted queries and the exact Pareto set.

Run ``python -m benchmarks.bench_brute [--quick]``; writes ``bench-results/bench_brute.json`` and ``.md``.
Full sizes: free class, integer mode, n = 8, N = 64, m = 3 and n = 6, N = 63, m = 4 (min D); the Pareto
set at n = 6, N = 32, m = 3, k = 2 on pmfs with probabilities on a 1/100 and a 1/1000 grid (a generic
pmf has a Pareto set too large to enumerate), with a time limit, and the integer-unit programme against
the float merge-and-prune fallback on a small instance. Each row records the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from rdp_exact.errors import SolverUnavailable
from rdp_exact.generators import from_spec
from rdp_exact.io_utils import atomic_write_json, atomic_write_text, check_writable_dir
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Problem
from rdp_exact.solvers import brute
from rdp_exact.solvers.pareto import pareto_set

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"


def gridded(spec: str, q: int) -> ConceptPMF:
    """The pmf of ``spec`` with probabilities rounded to multiples of 1/q (renormalised)."""
    pmf = from_spec(spec)
    w = np.maximum(1, np.round(pmf.probs * q)).astype(int)
    return ConceptPMF.from_events(pmf.n, [(e, int(x) / int(w.sum())) for e, x in zip(pmf.events, w, strict=True)])


def solve_case(name: str, spec: str, m: int, k: int, **kw: Any) -> dict[str, Any]:
    pr = Problem(pmf=from_spec(spec), width=m, k=k, **kw)
    t = time.perf_counter()
    sol = brute.solve(pr)
    wall = time.perf_counter() - t
    return {"case": name, "pmf": spec, "m": m, "k": k, "query": kw or {"minimize": "distortion"},
            "status": sol.status.value, "objective": sol.objective, "wall_s": round(wall, 3),
            "atom_sets": sol.info.get("atom_sets"), "solved_exactly": sol.info.get("solved_exactly")}


def pareto_case(
    name: str, spec: str, q: int, m: int, k: int, limit: float, method: str = "auto"
) -> dict[str, Any]:
    pmf = gridded(spec, q)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t = time.perf_counter()
    try:
        pts = pareto_set(pmf, m, k, time_limit=limit, method=method)
        status, count = "done", len(pts)
    except SolverUnavailable as exc:
        status, count = f"unavailable: {exc}", None
    return {"case": name, "pmf": f"{spec} (grid 1/{q})", "m": m, "k": k, "method": method, "status": status,
            "points": count, "wall_s": round(time.perf_counter() - t, 3),
            "load_avg_1min": None if load is None else round(load, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes only (seconds)")
    ap.add_argument("--pareto-only", action="store_true", help="only the Pareto-set cases")
    args = ap.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    RESULTS.mkdir(exist_ok=True)
    check_writable_dir(RESULTS)
    rows: list[dict[str, Any]] = []
    if args.pareto_only:
        pass
    elif args.quick:
        rows.append(solve_case("min-D n=5 N=24 m=3", "random:n=5,support=24,seed=1", 3, 2))
        rows.append(solve_case("min-D n=4 N=12 m=4", "random:n=4,support=12,seed=1", 4, 2))
        rows.append(solve_case("budgeted n=4 N=10 m=2", "random:n=4,support=10,seed=1", 2, 2, max_rate=0.8))
        rows.append(solve_case("threshold n=3 N=6 m=2", "random:n=3,support=6,seed=1", 2, 1, encoder="threshold"))
    else:
        rows.append(solve_case("min-D n=8 N=64 m=3", "random:n=8,support=64,seed=1", 3, 2))
        rows.append(solve_case("min-D n=6 N=63 m=4", "random:n=6,support=63,seed=1", 4, 2))
        rows.append(solve_case("budgeted n=5 N=24 m=3", "random:n=5,support=24,seed=1", 3, 2, max_rate=0.8))
        rows.append(solve_case("threshold n=3 N=8 m=3", "random:n=3,support=8,seed=1", 3, 2, encoder="threshold"))
    if args.quick:
        par = [pareto_case("pareto n=4 N=8 m=2", "random:n=4,support=8,seed=1", 20, 2, 2, 60),
               pareto_case("pareto n=4 N=8 m=2", "random:n=4,support=8,seed=1", 20, 2, 2, 60, "float")]
    else:
        par = [pareto_case("pareto n=6 N=32 m=3", "random:n=6,support=32,seed=1", 100, 3, 2, 600),
               pareto_case("pareto n=6 N=32 m=3", "random:n=6,support=32,seed=1", 1000, 3, 2, 600),
               pareto_case("pareto n=4 N=12 m=3", "random:n=4,support=12,seed=1", 100, 3, 2, 600),
               pareto_case("pareto n=4 N=12 m=3", "random:n=4,support=12,seed=1", 100, 3, 2, 600, "float")]
    out = {"quick": args.quick, "solve": rows, "pareto": par}
    atomic_write_json(RESULTS / "bench_brute.json", out)
    md = ["# bench_brute" + (" (quick)" if args.quick else ""), "",
          "| case | status | objective | atom sets | solved exactly | wall s |", "|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['case']} | {r['status']} | {r['objective']} | {r['atom_sets']} | "
                  f"{r['solved_exactly']} | {r['wall_s']} |")
    md += ["", "| Pareto case | pmf | method | status | points | wall s | load avg |", "|---|---|---|---|---|---|---|"]
    for r in par:
        md.append(f"| {r['case']} | {r['pmf']} | {r['method']} | {r['status']} | {r['points']} | {r['wall_s']} | "
                  f"{r['load_avg_1min']} |")
    atomic_write_text(RESULTS / "bench_brute.md", "\n".join(md) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
