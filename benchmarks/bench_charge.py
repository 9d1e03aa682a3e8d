"""The superset transform of the Lagrangian's pair charge (``bnb_kernel._superset_charge``), measured.

Run ``python -m benchmarks.bench_charge [--quick] [--repeats R]`` (or ``make bench BENCH_ARGS="--only
bench_charge"``); writes ``bench-results/bench_charge.json`` and ``.md``.

Per search node and subgradient step, the k = 2 Lagrangian needs, for every mask of the 2ⁿ vectors, the r
largest positive values g_λ(v) over its supersets (then each candidate atom reads its strict-superset sum). For
r ≤ 4 the kernel merges the lists written out, c_t = max_{i+j=t} min(a_i, b_j), branch-free over the masks of a
block (``_zeta2`` … ``_zeta4``); the baseline, in the same run on the same values, is the list insertion
(``_zeta_lists``: the method the search used for every r before, still used for r > 4). Both must give the
same lists (checked). Values: a share ``density`` of the vectors positive (uniform in (0, 1)), the rest 0 —
at search nodes only the vectors near some event are positive. Thread counts are pinned to 1 and each row
records the 1-minute load average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.bench_scale import _load  # noqa: E402
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402
from rdp_exact.solvers import bnb_kernel as bk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"


def _fresh(g: np.ndarray, q: int) -> np.ndarray:
    tv = np.zeros((q, g.size))
    tv[0] = np.maximum(g, 0.0)
    return tv


def _written_out(tv: np.ndarray) -> None:
    q = tv.shape[0]
    if q == 2:
        bk._zeta2(tv[0], tv[1])
    elif q == 3:
        bk._zeta3(tv[0], tv[1], tv[2])
    else:
        bk._zeta4(tv[0], tv[1], tv[2], tv[3])


def _best_time(fn: Any, g: np.ndarray, q: int, repeats: int) -> tuple[float, np.ndarray]:
    out = _fresh(g, q)
    fn(out)  # compile / warm
    best = np.inf
    for _ in range(repeats):
        tv = _fresh(g, q)
        t = time.perf_counter()
        fn(tv)
        best = min(best, time.perf_counter() - t)
    return best, tv


def row(n: int, density: float, r: int, repeats: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    V = 1 << n
    g = np.where(rng.random(V) < density, rng.random(V), 0.0)
    t_new, a = _best_time(_written_out, g, r, repeats)
    t_old, b = _best_time(bk._zeta_lists, g, r, repeats)
    assert np.array_equal(a, b), "the two transforms disagree"
    return {"n": n, "density": density, "r": r, "written_out_us": round(t_new * 1e6, 1),
            "insertion_us": round(t_old * 1e6, 1), "ratio": round(t_old / t_new, 2), "load": _load()}


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = ["# Superset transform of the Lagrangian's pair charge", "",
             f"Best of {meta['repeats']} per cell; 1 thread; load average {meta['load_start']} → "
             f"{meta['load_end']}. Baseline: list insertion (the previous method for every r) on the same values "
             "in the same run; both give the same lists.", "",
             "| n | positive share | r | written out (µs) | insertion (µs) | ratio |", "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['n']} | {r['density']:g} | {r['r']} | {r['written_out_us']:g} | {r['insertion_us']:g} | "
                     f"{r['ratio']:.2f}× |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_charge.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 10 and 12 only, fewer repeats")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 20)
    sizes = (10, 12) if args.quick else (10, 12, 14, 16)
    meta: dict[str, Any] = {"repeats": repeats, "load_start": _load()}
    rows = [row(n, dens, r, repeats) for n in sizes for dens in (0.02, 0.1, 0.3) for r in (2, 3, 4)]
    meta["load_end"] = _load()
    res = {"meta": meta, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "bench_charge.json", res)
    atomic_write_text(out / "bench_charge.md", to_markdown(res))
    print(to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
