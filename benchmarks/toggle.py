"""Shared driver of the on/off benchmarks of a branch-and-bound switch (``bench_pair_filter``,
``bench_exact_pairs``): each instance is solved with the switch on, then off, in the same run; the answers must
agree. Thread counts are pinned to 1 by the calling module; every row records the 1-minute load average."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_scale import _load, _pmf
from rdp_exact.io_utils import atomic_write_json, atomic_write_text
from rdp_exact.problem import Problem
from rdp_exact.solvers import bnb_free
from rdp_exact.solvers.info import BnbInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"


def solve(switch: str, spec: str, m: int, on: bool, limit: float, threads: int = 1) -> dict[str, Any]:
    """One canonical solve (D, then R, then P) with ``bnb_free.<switch>`` set to ``on``."""
    saved = getattr(bnb_free, switch)
    setattr(bnb_free, switch, on)
    try:
        load = _load()
        t = time.perf_counter()
        s = bnb_free.solve(Problem(_pmf(spec), m, 2), time_limit=limit, threads=threads)
        wall = time.perf_counter() - t
    finally:
        setattr(bnb_free, switch, saved)
    info = s.info
    assert isinstance(info, BnbInfo)
    atoms = sorted(int(a) for a in s.sae.atoms if a) if s.sae is not None else None
    return {"status": s.status.value, "D": s.objective, "R": s.rate if s.sae is not None else None,
            "P": s.poly if s.sae is not None else None, "atoms": atoms, "wall_s": round(wall, 2),
            "nodes": info.nodes, "load_before": load, "load_after": _load()}


def to_markdown(title: str, setting: str, res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = [f"# {title}", "",
             f"{setting}, limit {meta['limit_s']:g} s per solve; on, then off, per instance. Load average "
             f"{meta['load_start']} → {meta['load_end']}.", "",
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


def main(argv: list[str] | None, *, description: str, switch: str, name: str, title: str, setting: str,
         instances: list[tuple[str, str, int, int]], quick: int, quick_help: str) -> int:
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
    for label, spec, m, workers in todo:
        on, off = solve(switch, spec, m, True, limit, workers), solve(switch, spec, m, False, limit, workers)
        same = all(on[k] == off[k] for k in ("status", "atoms")) and all(
            on[k] is not None and off[k] is not None and abs(on[k] - off[k]) <= 1e-9 for k in ("D", "R", "P"))
        rows.append({"name": label, "spec": spec, "m": m, "workers": workers, "on": on, "off": off, "same": same})
        print(f"{label} m={m} workers={workers}: on {on['wall_s']} s ({on['nodes']}), off {off['wall_s']} s "
              f"({off['nodes']}), same={same}", flush=True)
    meta["load_end"] = _load()
    res = {"meta": meta, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / f"{name}.json", res)
    md = to_markdown(title, setting, res)
    atomic_write_text(out / f"{name}.md", md)
    print(md)
    return 0 if all(r["same"] for r in rows) else 1
