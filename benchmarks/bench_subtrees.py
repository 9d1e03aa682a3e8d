"""The settings of ``bench_tuning`` on the `random` n = 10, m = 5 target, measured on replayed depth-1 subtrees.

Run ``python -m benchmarks.bench_subtrees [--quick] [--positions 43,83,203]`` (or ``make bench BENCH_ARGS="--only
bench_subtrees"``); writes ``bench-results/bench_subtrees.json`` and ``.md``. The target
``random:n=10,support=64,seed=1`` at m = 5 takes minutes to prove on two workers, too long for an on/off run per
setting; and a node limit compares different nodes once a setting changes the bounds. So one serial search is set
up (incumbent, rank-one LP, root bound) and stopped as it enters its depth-1 subtrees; the subtrees at the given
positions of the root's order (counted over the subtrees it enters) are then searched to the end from that same
state, once per arm of :func:`benchmarks.bench_tuning.arms` (all new settings, each one back alone, all back),
with the incumbent reset before each arm. The search's internals are reached through
:class:`rdp_exact.solvers.bnb_free._Search` (this module patches ``_visit`` while the search is set up). Serial,
thread counts pinned to 1; the 1-minute load average is recorded.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks import toggle  # noqa: E402
from benchmarks.bench_scale import RANDOM10, _load, _pmf  # noqa: E402
from benchmarks.bench_tuning import _arm, arms  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import bnb_free, bnb_state  # noqa: E402


class _Entered(Exception):
    """Raised once the search has entered every wanted depth-1 subtree."""


def capture(positions: list[int], m: int = 5) -> tuple[Any, list[tuple[Any, ...]]]:
    """Set up the target's serial search and return (the search, the arguments of ``_visit`` for the depth-1
    subtrees it enters at ``positions``)."""
    real = bnb_free._Search._visit
    seen: list[int] = [0]
    stored: list[tuple[Any, ...]] = []
    owner: list[Any] = []

    def visit(self: Any, F: tuple[int, ...], cand: Any, *args: Any, **kw: Any) -> None:
        if not F and not owner and self.m == m and self.n == 10:  # (not the kernels' warm-up searches)
            owner.append(self)
        if len(F) == 1 and owner and self is owner[0]:
            j = seen[0]
            seen[0] += 1
            if j in positions:
                stored.append((F, cand, args, kw))
            if j >= max(positions):
                raise _Entered
            return None
        return real(self, F, cand, *args, **kw)

    bnb_free._Search._visit = visit  # type: ignore[method-assign]
    try:
        bnb_free.solve(Problem(_pmf(RANDOM10), m, 2), time_limit=3600, threads=1)
    except _Entered:
        pass
    finally:
        bnb_free._Search._visit = real  # type: ignore[method-assign]
    if not owner or len(stored) < len(positions):
        raise RuntimeError(f"the search entered {len(stored)} of the {len(positions)} wanted depth-1 subtrees")
    return owner[0], stored


def replay(search: Any, stored: list[tuple[Any, ...]], incumbent: float) -> dict[str, Any]:
    """Search the stored subtrees to the end from the same state; (seconds, nodes, screened nodes)."""
    search.stats = bnb_state.Stats()
    search.records, search.stack_lb, search.path_lb = [], [], []
    search.best = incumbent
    load = _load()
    t0 = time.perf_counter()
    for F, cand, args, kw in stored:
        bnb_free._Search._visit(search, F, cand, *args, **kw)
    return {"wall_s": round(time.perf_counter() - t0, 2), "nodes": search.stats.nodes,
            "screened": int(search.stats.extra.get("screened", 0)), "best": search.best, "load_before": load}


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    base = res["arms"]["new"]
    lines = ["# Settings for `random` pmfs on replayed subtrees of the n = 10, m = 5 target", "",
             f"`{RANDOM10}`, m = 5, k = 2, serial; depth-1 subtrees at positions {meta['positions']} of the root's "
             f"order ({meta['sizes']} allowed atoms), searched to the end from one search state with the incumbent "
             f"{meta['incumbent']:.6f}. Load average {meta['load_start']} → {meta['load_end']}.", "",
             "| arm | s | nodes | screened | arm / new |", "|---|---|---|---|---|"]
    for a, x in res["arms"].items():
        lines.append(f"| {a} | {x['wall_s']:.2f} | {x['nodes']:,} | {x['screened']:,} | "
                     f"{x['wall_s'] / base['wall_s']:.2f}× |")
    return "\n".join(lines) + "\n"


def _positions(text: str) -> list[int]:
    """``--positions``: sorted distinct non-negative integers."""
    try:
        got = sorted({int(x) for x in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not got or got[0] < 0:
        raise argparse.ArgumentTypeError(f"positions must be non-negative: {text!r}")
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one subtree (position 203), new and all-back arms")
    ap.add_argument("--positions", type=_positions, default="43,83,203",
                    help="depth-1 subtree positions (comma-separated non-negative integers)")
    ap.add_argument("--out", default=str(toggle.RESULTS), help="results folder")
    args = ap.parse_args(argv)
    positions = [203] if args.quick else args.positions
    chosen = [arms()[0], arms()[-1]] if args.quick else arms()
    bnb_free.warm_kernels()
    meta: dict[str, Any] = {"positions": positions, "load_start": _load(), "quick": args.quick}
    try:
        search, stored = capture(positions)
    except RuntimeError as e:  # positions beyond the subtrees the root leaves open
        ap.exit(2, f"bench_subtrees: {e}\n")
    incumbent = float(search.best)
    meta["incumbent"] = incumbent
    meta["sizes"] = [int(c.size) for _F, c, _a, _k in stored]
    got: dict[str, Any] = {}
    for label, flags in chosen:
        undo = _arm(flags)(True)
        try:
            got[label] = replay(search, stored, incumbent)
        finally:
            undo()
        print(f"{label}: {got[label]['wall_s']} s, {got[label]['nodes']} nodes", flush=True)
    meta["load_end"] = _load()
    res = {"meta": meta, "arms": got}
    toggle.write_results(args.out, "bench_subtrees", res, to_markdown(res))
    return 0 if all(x["best"] >= incumbent - 1e-12 for x in got.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
