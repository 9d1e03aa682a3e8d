"""The branch and bound's pair filter (``bnb_free.PAIR_FILTER``) on and off, in the same run.

Run ``python -m benchmarks.bench_pair_filter [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_pair_filter"``); writes ``bench-results/bench_pair_filter.json`` and ``.md``. Before a child F ∪ {a} is
searched, its allowed atoms are filtered by the parent's bound families with a in the set (atom b stays only if
base − w_a − w_b − the r − 2 largest other w can beat the incumbent; :meth:`bnb_free._Search._pair_filter`).
Each instance (n = 12, N = 128, k = 2: ``pairs12`` and the sampled ``hier``, ``chain``, ``blocks`` families of
:mod:`benchmarks.structured` at m = 6, ``hier`` at m = 8) is solved serially (one process: the node counts are
deterministic), and ``blocks`` once more with two worker processes (as ``rdp solve`` runs it on two cores), with
the filter on, then off, one after the other; the answers must agree. Thread counts are
pinned to 1; every row records the 1-minute load average.
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
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402
from rdp_exact.solvers.info import BnbInfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
#: (name, pmf spec, m, worker processes)
INSTANCES = [("pairs12", "pairs12", 6, 1), ("hier", "sampled:hier", 6, 1), ("chain", "sampled:chain", 6, 1),
             ("blocks", "sampled:blocks", 6, 1), ("hier", "sampled:hier", 8, 1), ("blocks", "sampled:blocks", 6, 2)]


def solve(spec: str, m: int, on: bool, limit: float, threads: int = 1) -> dict[str, Any]:
    """One canonical solve (D, then R, then P) with the filter ``on`` or off."""
    saved, bnb_free.PAIR_FILTER = bnb_free.PAIR_FILTER, on
    try:
        load = _load()
        t = time.perf_counter()
        s = bnb_free.solve(Problem(_pmf(spec), m, 2), time_limit=limit, threads=threads)
        wall = time.perf_counter() - t
    finally:
        bnb_free.PAIR_FILTER = saved
    info = s.info
    assert isinstance(info, BnbInfo)
    atoms = sorted(int(a) for a in s.sae.atoms if a) if s.sae is not None else None
    return {"status": s.status.value, "D": s.objective, "R": s.rate if s.sae is not None else None,
            "P": s.poly if s.sae is not None else None, "atoms": atoms, "wall_s": round(wall, 2),
            "nodes": info.nodes, "load_before": load, "load_after": _load()}


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = ["# Pair filter of the free-class branch and bound", "",
             f"n = 12, N = 128, k = 2, limit {meta['limit_s']:g} s per solve; filter on, then off, per "
             f"instance. Load average {meta['load_start']} → {meta['load_end']}.", "",
             "| instance | m | workers | on: status, s (nodes) | off: status, s (nodes) | off / on | same answer "
             "| load |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        a, b = r["on"], r["off"]
        ratio = b["wall_s"] / a["wall_s"] if a["status"] == b["status"] == "optimal" else None
        lines.append(
            f"| {r['name']} | {r['m']} | {r['workers']} | {a['status']}, {a['wall_s']:.2f} ({a['nodes']:,}) "
            f"| {b['status']}, {b['wall_s']:.2f} ({b['nodes']:,}) | {'–' if ratio is None else f'{ratio:.2f}×'} "
            f"| {'yes' if r['same'] else 'NO'} | {a['load_before']}/{b['load_after']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="pairs12 and hier only, short limit")
    ap.add_argument("--limit", type=float, default=None, help="seconds per solve (default 300; quick 60)")
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    args = ap.parse_args(argv)
    limit = args.limit if args.limit is not None else (60.0 if args.quick else 300.0)
    instances = INSTANCES[:2] if args.quick else INSTANCES
    bnb_free.warm_kernels()
    meta: dict[str, Any] = {"limit_s": limit, "load_start": _load(), "quick": args.quick}
    rows = []
    for name, spec, m, workers in instances:
        on, off = solve(spec, m, True, limit, workers), solve(spec, m, False, limit, workers)
        same = all(on[k] == off[k] for k in ("status", "atoms")) and all(
            on[k] is not None and off[k] is not None and abs(on[k] - off[k]) <= 1e-9 for k in ("D", "R", "P"))
        rows.append({"name": name, "spec": spec, "m": m, "workers": workers, "on": on, "off": off, "same": same})
        print(f"{name} m={m} workers={workers}: on {on['wall_s']} s ({on['nodes']}), off {off['wall_s']} s ({off['nodes']}), "
              f"same={same}", flush=True)
    meta["load_end"] = _load()
    res = {"meta": meta, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "bench_pair_filter.json", res)
    md = to_markdown(res)
    atomic_write_text(out / "bench_pair_filter.md", md)
    print(md)
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
