"""The free-class branch-and-bound with worker processes, and with fewer bound families at n = 12, measured.

Run ``python -m benchmarks.bench_parallel [--quick] [--limit S] [--workers W]`` (or
``make bench BENCH_ARGS="--only bench_parallel"``); writes ``bench-results/bench_parallel.json`` and ``.md``.
Each instance (n = 12, N = 128, m = 6, k = 2: ``pairs12`` and the sampled ``hier``, ``chain`` and ``blocks``
families of :mod:`benchmarks.structured`) is solved three times in the same run, canonical (D, R, P) each time:

* ``before``: serial, with the μ bound computed beside the Lagrangian at every node that tunes it and the μ
  bound's free-vector variant tried where the search tried it (``bnb_free.LEGACY_BESIDE_LAGRANGE_MAX_N``
  and ``bnb_free.FREE_VECTOR_MU_MAX_N`` raised to 16: the bound families of the search as it was; the
  kernels are today's in every variant: errors by table lookup, the superset charge written out for r ≤ 4,
  the Lagrangian's best multipliers evaluated once);
* ``serial``: serial, the default bound families (``threads=1``);
* ``parallel``: the default, subtrees below depth ``bnb_parallel.SPLIT_DEPTH`` on ``--workers`` forked
  processes (default 2, this machine's cores).

BLAS and OpenMP threads are pinned to 1; every row records the 1-minute load average, and the script waits for
an idle machine first (a second busy core would measure contention, not the search).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.bench_scale import _load, _pmf  # noqa: E402
from benchmarks.run_all import wait_until_idle  # noqa: E402
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import bnb_free, bnb_parallel  # noqa: E402
from rdp_exact.solvers.info import BnbInfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
INSTANCES = [("pairs12", "pairs12"), ("hier", "sampled:hier"), ("chain", "sampled:chain"),
             ("blocks", "sampled:blocks")]
VARIANTS = ("before", "serial", "parallel")


def solve(spec: str, variant: str, limit: float, workers: int) -> dict[str, Any]:
    """One canonical solve of ``spec`` (m = 6, k = 2) in ``variant`` (module docstring)."""
    saved = bnb_free.LEGACY_BESIDE_LAGRANGE_MAX_N, bnb_free.FREE_VECTOR_MU_MAX_N
    if variant == "before":
        bnb_free.LEGACY_BESIDE_LAGRANGE_MAX_N = bnb_free.FREE_VECTOR_MU_MAX_N = bnb_free.MAX_N
    try:
        t = time.perf_counter()
        s = bnb_free.solve(Problem(_pmf(spec), 6, 2), time_limit=limit,
                           threads=workers if variant == "parallel" else 1)
        wall = time.perf_counter() - t
    finally:
        bnb_free.LEGACY_BESIDE_LAGRANGE_MAX_N, bnb_free.FREE_VECTOR_MU_MAX_N = saved
    info = s.info
    assert isinstance(info, BnbInfo)
    return {"variant": variant, "status": s.status.value, "D": s.objective, "R": s.rate, "P": s.poly,
            "atoms": sorted(a for a in s.sae.atoms if a) if s.sae is not None else None,
            "wall_s": round(wall, 2), "nodes": info.nodes, "tasks": info.parallel_tasks, "load": _load()}


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = ["# Parallel branch and bound, and fewer bound families at n = 12", "",
             f"n = 12, N = 128, m = 6, k = 2; canonical (D, R, P); limit {meta['limit_s']:g} s per solve; "
             f"{meta['workers']} worker processes on {meta['cores']} cores (split depth {meta['split_depth']}). "
             f"Load average {meta['load_start']} → {meta['load_end']}.", "",
             "| instance | before (serial, all bound families) | serial | parallel | serial / before | "
             "parallel / serial | parallel / before | same answer |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        cells = " | ".join(f"{x['status']} {x['wall_s']} s ({x['nodes']} nodes)" for x in r["runs"])
        lines.append(f"| {r['name']} | {cells} | {r['speedup_bound']} | {r['speedup_parallel']} | "
                     f"{r['speedup_total']} | {'yes' if r['same_answer'] else 'NO'} |")
    lines += ["", "Ratios are times (higher = faster). \"same answer\": the three runs agree on (D, R, P) within "
              "1e-12 and on the atoms."]
    return "\n".join(lines) + "\n"


def _same(runs: list[dict[str, Any]]) -> bool:
    first = runs[0]
    return all(x["status"] == first["status"] and x["atoms"] == first["atoms"]
               and all(abs((x[q] or 0.0) - (first[q] or 0.0)) <= 1e-12 for q in ("D", "R", "P")) for x in runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="pairs12 and hier only, 60 s limit")
    a = ap.parse_args(argv)
    names = [n for n, _ in INSTANCES]
    if a.quick:
        a.limit, names = 60.0, ["pairs12", "hier"]
    bnb_free.warm_kernels()
    load0 = round(wait_until_idle(), 2)
    rows = []
    for name, spec in INSTANCES:
        if name not in names:
            continue
        runs = [solve(spec, v, a.limit, a.workers) for v in VARIANTS]
        w = {x["variant"]: max(x["wall_s"], 1e-6) for x in runs}
        rows.append({"name": name, "runs": runs, "same_answer": _same(runs),
                     "speedup_bound": round(w["before"] / w["serial"], 2),
                     "speedup_parallel": round(w["serial"] / w["parallel"], 2),
                     "speedup_total": round(w["before"] / w["parallel"], 2)})
        print(rows[-1], flush=True)
    res = {"meta": {"limit_s": a.limit, "workers": a.workers, "cores": bnb_parallel.usable_cores(),
                    "split_depth": bnb_parallel.SPLIT_DEPTH, "load_start": load0, "load_end": _load()},
           "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    atomic_write_json(RESULTS / "bench_parallel.json", res)
    atomic_write_text(RESULTS / "bench_parallel.md", to_markdown(res))
    print(to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
