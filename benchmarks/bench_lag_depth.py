"""How deep the free-class branch and bound tunes its Lagrangian bound (``bnb_free.LAG_MIN_R``), measured.

Run ``python -m benchmarks.bench_lag_depth [--quick] [--limit S] [--values R ...]`` (or
``make bench BENCH_ARGS="--only bench_lag_depth"``); writes ``bench-results/bench_lag_depth.json`` and ``.md``.
Nodes with at least ``LAG_MIN_R`` atoms still to choose tune the facility-location Lagrangian (stronger, dearer
per node); shallower nodes use the μ bound only. Each instance (n = 12, N = 128, m = 6, k = 2: ``pairs12`` and
the sampled ``chain``, ``hier`` and ``blocks`` families of :mod:`benchmarks.structured`) is solved with each value
in the same run, so the ratios compare like with like. Thread counts are pinned to 1; every row records the
1-minute load average.
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
INSTANCES = [("pairs12", "pairs12"), ("chain", "sampled:chain"), ("hier", "sampled:hier"),
             ("blocks", "sampled:blocks")]


def solve(spec: str, depth: int, limit: float) -> dict[str, Any]:
    """One canonical solve (D, then R, then P) with ``LAG_MIN_R = depth``."""
    saved, bnb_free.LAG_MIN_R = bnb_free.LAG_MIN_R, depth
    try:
        t = time.perf_counter()
        s = bnb_free.solve(Problem(_pmf(spec), 6, 2), time_limit=limit)
        wall = time.perf_counter() - t
    finally:
        bnb_free.LAG_MIN_R = saved
    info = s.info
    assert isinstance(info, BnbInfo)
    return {"status": s.status.value, "D": s.objective, "wall_s": round(wall, 2), "nodes": info.nodes,
            "load": _load()}


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    vals = meta["values"]
    head = " | ".join(f"LAG_MIN_R = {v}" for v in vals)
    lines = ["# Depth of the Lagrangian bound in the free-class branch and bound", "",
             f"n = 12, N = 128, m = 6, k = 2; limit {meta['limit_s']:g} s per solve; the default is "
             f"LAG_MIN_R = {meta['default']}. Load average {meta['load_start']} → {meta['load_end']}.", "",
             f"| instance | {head} | time ratio {vals[0]} / {vals[-1]} |",
             "|---|" + "---|" * (len(vals) + 1)]
    for r in res["rows"]:
        cells = " | ".join(f"{x['status']} {x['wall_s']} s ({x['nodes']} nodes)" for x in r["runs"])
        lines.append(f"| {r['name']} | {cells} | {r['ratio']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--values", type=int, nargs="+", default=[3, 2])
    ap.add_argument("--quick", action="store_true", help="pairs12 and hier only, 60 s limit")
    a = ap.parse_args(argv)
    names = [n for n, _ in INSTANCES]
    if a.quick:
        a.limit, names = 60.0, ["pairs12", "hier"]
    bnb_free.warm_kernels()
    load0 = _load()
    rows = []
    for name, spec in INSTANCES:
        if name not in names:
            continue
        runs = [solve(spec, v, a.limit) for v in a.values]
        rows.append({"name": name, "runs": runs,
                     "ratio": round(runs[0]["wall_s"] / max(runs[-1]["wall_s"], 1e-6), 2)})
        print(rows[-1], flush=True)
    res = {"meta": {"limit_s": a.limit, "values": a.values, "default": bnb_free.LAG_MIN_R, "load_start": load0,
                    "load_end": _load()}, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    atomic_write_json(RESULTS / "bench_lag_depth.json", res)
    atomic_write_text(RESULTS / "bench_lag_depth.md", to_markdown(res))
    print(to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
