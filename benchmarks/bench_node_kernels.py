"""The branch and bound's per-child bound arithmetic compiled against the NumPy code it replaced, in one run.

Run ``python -m benchmarks.bench_node_kernels [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_node_kernels"``); writes ``bench-results/bench_node_kernels.json`` and ``.md``. Three steps of every search
node run as machine code (:mod:`rdp_exact.solvers.bnb_kernel`): the order-free child bound base − w_i − (the
r − 1 largest other w) (:func:`~rdp_exact.solvers.bnb_kernel.global_child_bound`), the children's windows over
the bound families (:func:`~rdp_exact.solvers.bnb_kernel.combined_windows`) and the pair filter
(:func:`~rdp_exact.solvers.bnb_kernel.pair_filter`). The "NumPy" arm puts back the array-at-a-time versions
below (the code before the change), so both arms visit the same nodes and differ only in the per-node cost.

Instances (k = 2, serial, so node counts are deterministic): ``random:n=10,support=64,seed=1`` at m = 5 stopped
after a fixed number of nodes (it is not proven within minutes; at n = 10 the per-node overhead is the largest
share), and the sampled ``blocks`` and ``hier`` families (n = 12, N = 128, m = 6) to the proof. Compiled, then
NumPy, per instance; the answers must agree. Thread counts are pinned to 1; every row records the 1-minute
load average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.bench_scale import RANDOM10, _load, _pmf  # noqa: E402
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402
from rdp_exact.solvers.info import BnbInfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
#: (name, pmf spec, m, node limit or None)
INSTANCES = [("random10 (20,000 nodes)", RANDOM10, 5, 20_000), ("blocks", "sampled:blocks", 6, None),
             ("hier", "sampled:hier", 6, None)]


def _numpy_global_child_bound(base: float, w: np.ndarray, r: int) -> np.ndarray:
    if r <= 1 or w.size <= 1:
        return base - w
    q = min(r, w.size)
    top = np.sort(-np.partition(-w, q - 1)[:q])[::-1]
    s1 = float(top[: r - 1].sum())
    nxt = float(top[r - 1]) if top.size >= r else 0.0
    in_top = w >= top[min(r - 1, top.size) - 1]
    return base - w - np.where(in_top, s1 - w + nxt, s1)


def _numpy_pair_filter(self: Any, families: list[tuple[float, np.ndarray]], i: int, rest: np.ndarray, r: int,
                       stacked: Any = None) -> np.ndarray:
    lim = self.best + bnb_free.TOL + bnb_free.FLOAT_SLACK
    keep = np.ones(rest.size, dtype=bool)
    for base_f, w_f in families:
        keep &= _numpy_global_child_bound(base_f - float(w_f[i]), w_f[rest], r - 1) <= lim
    return rest[keep]


def _numpy_combined_windows(self: Any, families: list[tuple[float, np.ndarray]], r: int, lim: float
                            ) -> tuple[np.ndarray, np.ndarray]:
    from rdp_exact.solvers import bnb_kernel as bk

    best: tuple[int, np.ndarray, np.ndarray] | None = None
    for _base, w in families:
        order = np.argsort(-w, kind="stable")
        lb = np.full(order.size, -math.inf)
        for base_f, w_f in families:
            wo = np.ascontiguousarray(w_f[order], dtype=np.float64)
            lb = np.maximum(lb, base_f - wo - bk.suffix_top_sums(wo, r - 1))
        n_open = int(np.count_nonzero(lb <= lim))
        if best is None or n_open < best[0]:
            best = (n_open, order, lb)
    assert best is not None
    return best[1], best[2]


def solve(spec: str, m: int, compiled: bool, limit: float, node_limit: int | None) -> dict[str, Any]:
    """One serial canonical solve with the compiled steps or the NumPy ones."""
    S = bnb_free._Search
    saved = (S.__dict__["_global_child_bound"], S._pair_filter, S._combined_windows)
    if not compiled:
        S._global_child_bound = staticmethod(_numpy_global_child_bound)  # type: ignore[assignment]
        S._pair_filter = _numpy_pair_filter  # type: ignore[method-assign]
        S._combined_windows = _numpy_combined_windows  # type: ignore[method-assign]
    try:
        load = _load()
        t = time.perf_counter()
        opts = {"node_limit": node_limit} if node_limit else {}
        s = bnb_free.solve(Problem(_pmf(spec), m, 2), time_limit=limit, threads=1, options=opts)
        wall = time.perf_counter() - t
    finally:
        S._global_child_bound, S._pair_filter, S._combined_windows = saved  # type: ignore[method-assign]
    info = s.info
    assert isinstance(info, BnbInfo)
    atoms = sorted(int(a) for a in s.sae.atoms if a) if s.sae is not None else None
    return {"status": s.status.value, "D": s.objective, "bound": s.bound, "atoms": atoms,
            "wall_s": round(wall, 2), "nodes": info.nodes, "load_before": load, "load_after": _load()}


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = ["# Compiled per-child bound arithmetic of the branch and bound", "",
             f"k = 2, serial, limit {meta['limit_s']:g} s per solve; compiled, then NumPy, per instance. Load "
             f"average {meta['load_start']} → {meta['load_end']}.", "",
             "| instance | m | compiled: status, s (nodes) | NumPy: status, s (nodes) | NumPy / compiled | same answer "
             "| load |",
             "|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        a, b = r["compiled"], r["numpy"]
        ratio = b["wall_s"] / a["wall_s"] if a["nodes"] == b["nodes"] or a["status"] == b["status"] == "optimal" \
            else None
        lines.append(
            f"| {r['name']} | {r['m']} | {a['status']}, {a['wall_s']:.2f} ({a['nodes']:,}) "
            f"| {b['status']}, {b['wall_s']:.2f} ({b['nodes']:,}) | {'–' if ratio is None else f'{ratio:.2f}×'} "
            f"| {'yes' if r['same'] else 'NO'} | {a['load_before']}/{b['load_after']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="random10 (5,000 nodes) and hier only")
    ap.add_argument("--limit", type=float, default=300.0, help="seconds per solve (default 300)")
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    args = ap.parse_args(argv)
    instances = [(INSTANCES[0][0].replace("20,000", "5,000"), RANDOM10, 5, 5_000), INSTANCES[2]] if args.quick \
        else INSTANCES
    bnb_free.warm_kernels()
    meta: dict[str, Any] = {"limit_s": args.limit, "load_start": _load(), "quick": args.quick}
    rows = []
    for name, spec, m, nl in instances:
        a, b = solve(spec, m, True, args.limit, nl), solve(spec, m, False, args.limit, nl)
        same = a["status"] == b["status"] and a["atoms"] == b["atoms"] and a["D"] is not None and b["D"] is not None \
            and abs(a["D"] - b["D"]) <= 1e-9
        rows.append({"name": name, "spec": spec, "m": m, "node_limit": nl, "compiled": a, "numpy": b, "same": same})
        print(f"{name} m={m}: compiled {a['wall_s']} s ({a['nodes']}), numpy {b['wall_s']} s ({b['nodes']}), "
              f"same={same}", flush=True)
    meta["load_end"] = _load()
    res = {"meta": meta, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "bench_node_kernels.json", res)
    md = to_markdown(res)
    atomic_write_text(out / "bench_node_kernels.md", md)
    print(md)
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
