"""Shared driver of the on/off benchmarks of a branch-and-bound switch (``bench_pair_filter``,
``bench_exact_pairs``, ``bench_exact_pair_filter``, ``bench_node_kernels``, ``bench_screen``): each instance is
solved with the switch on, then off, in the same run; the answers must agree. The switch is a module flag of
:mod:`rdp_exact.solvers.bnb_free` or a function that sets it and returns its undo. Thread counts are pinned to 1 by
the calling module; every row records the 1-minute load average."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_scale import _load, _pmf
from rdp_exact.io_utils import atomic_write_json, atomic_write_text
from rdp_exact.problem import Problem
from rdp_exact.solvers import bnb_free
from rdp_exact.solvers.info import BnbInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
#: A ``bnb_free`` flag name, or ``set(on) -> undo``.
Switch = str | Callable[[bool], Callable[[], None]]
#: (label, pmf spec, m, worker processes[, bnb options such as ``node_limit``])
Instance = tuple[Any, ...]


def _set(switch: Switch, on: bool) -> Callable[[], None]:
    if callable(switch):
        return switch(on)
    saved = getattr(bnb_free, switch)
    setattr(bnb_free, switch, on)
    return lambda: setattr(bnb_free, switch, saved)


def solve(switch: Switch, spec: str, m: int, on: bool, limit: float, threads: int = 1,
          options: dict[str, Any] | None = None) -> dict[str, Any]:
    """One canonical solve (D, then R, then P) with the switch ``on`` or off."""
    undo = _set(switch, on)
    try:
        load = _load()
        t = time.perf_counter()
        s = bnb_free.solve(Problem(_pmf(spec), m, 2), time_limit=limit, threads=threads, options=dict(options or {}))
        wall = time.perf_counter() - t
    finally:
        undo()
    info = s.info
    assert isinstance(info, BnbInfo)
    atoms = sorted(int(a) for a in s.sae.atoms if a) if s.sae is not None else None
    return {"status": s.status.value, "D": s.objective, "R": s.rate if s.sae is not None else None,
            "P": s.poly if s.sae is not None else None, "atoms": atoms, "wall_s": round(wall, 2),
            "nodes": info.nodes, "load_before": load, "load_after": _load()}


def to_markdown(title: str, setting: str, res: dict[str, Any], labels: tuple[str, str] = ("on", "off")) -> str:
    meta = res["meta"]
    on_l, off_l = labels
    lines = [f"# {title}", "",
             f"{setting}, limit {meta['limit_s']:g} s per solve; {on_l}, then {off_l}, per instance. Load average "
             f"{meta['load_start']} → {meta['load_end']}.", "",
             f"| instance | m | workers | {on_l}: status, s (nodes) | {off_l}: status, s (nodes) | {off_l} / {on_l} "
             "| same answer | load |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        a, b = r["on"], r["off"]
        # a ratio where both proved, or both stopped at the same node limit (the same nodes)
        comparable = a["status"] == b["status"] == "optimal" or (r.get("options", {}).get("node_limit")
                                                                 and a["nodes"] == b["nodes"])
        ratio = b["wall_s"] / a["wall_s"] if comparable else None
        lines.append(
            f"| {r['name']} | {r['m']} | {r['workers']} | {a['status']}, {a['wall_s']:.2f} ({a['nodes']:,}) "
            f"| {b['status']}, {b['wall_s']:.2f} ({b['nodes']:,}) | {'–' if ratio is None else f'{ratio:.2f}×'} "
            f"| {'yes' if r['same'] else 'NO'} | {a['load_before']}/{b['load_after']} |")
    return "\n".join(lines) + "\n"


def write_results(out: str | Path, name: str, res: dict[str, Any], md: str) -> None:
    """Write ``<out>/<name>.json`` and ``.md`` (each atomically) and print the summary."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / f"{name}.json", res)
    atomic_write_text(folder / f"{name}.md", md)
    print(md)


def main(argv: list[str] | None, *, description: str, switch: Switch, name: str, title: str, setting: str,
         instances: list[Instance], quick: int, quick_help: str, labels: tuple[str, str] = ("on", "off")) -> int:
    """Parse ``--quick`` (the first ``quick`` instances, 60 s), ``--limit``, ``--out``; run every instance on then
    off; write ``<out>/<name>.json`` and ``.md``; exit 1 when an answer differs."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--limit", type=float, default=None, help="seconds per solve (default 300; quick 60)")
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    args = ap.parse_args(argv)
    limit = args.limit if args.limit is not None else (60.0 if args.quick else 300.0)
    todo = instances[:quick] if args.quick else instances
    bnb_free.warm_kernels()
    meta: dict[str, Any] = {"limit_s": limit, "load_start": _load(), "quick": args.quick}
    rows = []
    for label, spec, m, workers, *rest in todo:
        opts = dict(rest[0]) if rest else {}
        on = solve(switch, spec, m, True, limit, workers, opts)
        off = solve(switch, spec, m, False, limit, workers, opts)
        same = all(on[k] == off[k] for k in ("status", "atoms")) and all(
            on[k] is not None and off[k] is not None and abs(on[k] - off[k]) <= 1e-9 for k in ("D", "R", "P"))
        rows.append({"name": label, "spec": spec, "m": m, "workers": workers, "options": opts, "on": on, "off": off,
                     "same": same})
        print(f"{label} m={m} workers={workers}: on {on['wall_s']} s ({on['nodes']}), off {off['wall_s']} s "
              f"({off['nodes']}), same={same}", flush=True)
    meta["load_end"] = _load()
    res = {"meta": meta, "rows": rows}
    write_results(args.out, name, res, to_markdown(title, setting, res, labels))
    return 0 if all(r["same"] for r in rows) else 1
