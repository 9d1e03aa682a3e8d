"""Five branch-and-bound settings for `random` pmfs, each switched back alone and all together, in one run.

Run ``python -m benchmarks.bench_tuning [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_tuning"``); writes ``bench-results/bench_tuning.json`` and ``.md``. The settings (:mod:`rdp_exact.solvers.
bnb_free`), each with its previous value:

* ``LEGACY_BESIDE_LAGRANGE_MAX_N`` 0 (was 10): no μ bound beside the tuned Lagrangian at n ≤ 10;
* ``LAG_ITERS_SMALL`` 40 (was 25, as ``LAG_ITERS`` still is above n = 10): subgradient steps of an inner node's
  Lagrangian at n ≤ 10;
* ``EXACT_PAIRS_SUBSET_SHARE`` 2 (was 0, the key-sorted scan only): the exact pair table built through the
  atoms' masks where the allowed atoms are at least half of all 2^n masks (the same table);
* ``FUSED_SCREEN`` True (was False): every child with two atoms left screened in one compiled call per node (the
  same skips and nodes);
* ``EXACT_PAIR_ROWS`` True (was False): at nodes with three atoms left, the exact pair credits of the open
  children only (their rows of the table, the partners' charges through the 0/1 vectors), from four open
  children; before, the whole table from 64.

Instances (k = 2, serial, to the proof): ``random:n=10,support=64,seed=1`` at m = 4, ``random`` n = 8 and 9 at
m = 4, and the sampled ``hier`` family (n = 12, N = 128, m = 6: only the fused screen and the rows apply there). Arms per instance: all new settings, each one at its previous value, all previous
values; the answers must agree. Thread counts are pinned to 1; every row records the 1-minute load average. The
m = 5 target instance is measured by ``bench_scale`` (``random10``).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks import toggle  # noqa: E402
from benchmarks.bench_scale import _load  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402

#: flag → its previous value (the new value is the module's own)
PREVIOUS: dict[str, object] = {"LEGACY_BESIDE_LAGRANGE_MAX_N": 10, "LAG_ITERS_SMALL": 25, "EXACT_PAIRS_SUBSET_SHARE": 0,
                               "FUSED_SCREEN": False, "EXACT_PAIR_ROWS": False}
#: (label, pmf spec, m)
INSTANCES: list[tuple[str, str, int]] = [("random n=10", "random:n=10,support=64,seed=1", 4),
                                         ("random n=8", "random:n=8,support=64,seed=1", 4),
                                         ("random n=9", "random:n=9,support=64,seed=1", 4),
                                         ("hier", "sampled:hier", 6)]


def _arm(previous: tuple[str, ...]) -> Callable[[bool], Callable[[], None]]:
    """A switch for :func:`benchmarks.toggle.solve`: ``on`` sets the flags in ``previous`` to their previous values."""

    def set_(on: bool) -> Callable[[], None]:
        saved = {k: getattr(bnb_free, k) for k in previous}
        if on:
            for k in previous:
                setattr(bnb_free, k, PREVIOUS[k])

        def undo() -> None:
            for k, v in saved.items():
                setattr(bnb_free, k, v)

        return undo

    return set_


def arms() -> list[tuple[str, tuple[str, ...]]]:
    """(label, flags at their previous values): all new, each flag back alone, all back."""
    return [("new", ()), *((f"{k} back", (k,)) for k in PREVIOUS), ("all back", tuple(PREVIOUS))]


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    labels = list(res["rows"][0]["arms"]) if res["rows"] else [a for a, _ in arms()]
    lines = ["# Branch-and-bound settings for `random` pmfs", "",
             f"k = 2, serial, limit {meta['limit_s']:g} s per solve; seconds (nodes) per arm, and the arm's time "
             f"over the new settings' time. Load average {meta['load_start']} → {meta['load_end']}.", "",
             "| instance | m | " + " | ".join(labels) + " | same answer |",
             "|---|---|" + "---|" * len(labels) + "---|"]
    for r in res["rows"]:
        base = r["arms"]["new"]
        cells = []
        for a in labels:
            x = r["arms"][a]
            ratio = (f", {x['wall_s'] / base['wall_s']:.2f}×" if a != "new" and x["status"] == base["status"] ==
                     "optimal" else "")
            cells.append(f"{x['status']} {x['wall_s']:.2f} ({x['nodes']:,}){ratio}")
        lines.append(f"| {r['name']} | {r['m']} | " + " | ".join(cells) + f" | {'yes' if r['same'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="random n = 8 and 9 only, new and all-back arms")
    ap.add_argument("--limit", type=float, default=600.0, help="seconds per solve")
    ap.add_argument("--out", default=str(toggle.RESULTS), help="results folder")
    args = ap.parse_args(argv)
    todo = INSTANCES[1:3] if args.quick else INSTANCES
    chosen = [arms()[0], arms()[-1]] if args.quick else arms()
    bnb_free.warm_kernels()
    meta: dict[str, Any] = {"limit_s": args.limit, "load_start": _load(), "quick": args.quick}
    rows = []
    for label, spec, m in todo:
        got = {a: toggle.solve(_arm(flags), spec, m, True, args.limit) for a, flags in chosen}
        ref = got["new"]
        same = all(x["status"] == ref["status"] and x["atoms"] == ref["atoms"] and all(
            x[k] is not None and ref[k] is not None and abs(x[k] - ref[k]) <= 1e-9 for k in ("D", "R", "P"))
            for x in got.values())
        rows.append({"name": label, "spec": spec, "m": m, "arms": got, "same": same})
        print(f"{label} m={m}: " + ", ".join(f"{a} {x['wall_s']} s ({x['nodes']})" for a, x in got.items())
              + f", same={same}", flush=True)
    meta["load_end"] = _load()
    res = {"meta": meta, "rows": rows}
    toggle.write_results(args.out, "bench_tuning", res, to_markdown(res))
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
