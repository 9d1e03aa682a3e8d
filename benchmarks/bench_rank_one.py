"""Root fixing by the rank-one column LP (rdp_exact.solvers.rank_one) in the free-class branch and bound.

Run ``python -m benchmarks.bench_rank_one [--quick] [--limit S] [--lp-seconds S] [--only NAME …]`` (or
``make bench BENCH_ARGS="--only bench_rank_one"``); writes
``bench-results/bench_rank_one.json`` and ``.md``. For each instance (n = 10–12, k = 2): the LP's root bound
and its gap to D*, next to the facility-location Lagrangian's root bound; the atoms it excludes; and the
branch and bound's canonical proof with the fixing (``rank_one=True``) against the same search without it
(``rank_one=False``) in the same run — the ratio is the baseline's time over the new one. Thread counts are
pinned to 1 and every row records the 1-minute load average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.bench_scale import RANDOM10, _load, _pmf  # noqa: E402
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402
from rdp_exact.solvers.candidates import candidate_atoms  # noqa: E402
from rdp_exact.solvers.info import BnbInfo  # noqa: E402
from rdp_exact.solvers.rank_one import RankOneLP, seed_columns  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
#: (name, spec, m, run the branch and bound both ways)
INSTANCES = [("chain", "sampled:chain", 6, True), ("hier", "sampled:hier", 6, True),
             ("blocks", "sampled:blocks", 6, True), ("pairs12", "pairs12", 6, True),
             ("random10", RANDOM10, 5, False)]


def _bnb(pr: Problem, limit: float, rank_one: bool) -> dict[str, Any]:
    t = time.perf_counter()
    s = bnb_free.solve(pr, time_limit=limit, options={"rank_one": rank_one})
    info = s.info
    assert isinstance(info, BnbInfo)
    return {"status": s.status.value, "D": s.objective, "wall_s": round(time.perf_counter() - t, 2),
            "nodes": info.nodes, "kept": info.candidate_atoms_kept, "root_bound": info.root_bound}


def row(name: str, spec: str, m: int, both: bool, limit: float, lp_s: float) -> dict[str, Any]:
    pmf = _pmf(spec)
    atoms = candidate_atoms(pmf, helpful_only=True)
    bits = ((atoms[:, None] >> np.arange(pmf.n)) & 1).astype(float)
    lp = RankOneLP(pmf.indicator, pmf.probs, bits, m, 2)
    seed_columns(lp, [])
    res = lp.solve(lp_s)
    r: dict[str, Any] = {"name": name, "n": pmf.n, "N": pmf.support_size, "m": m, "atoms": int(atoms.size),
                         "load": _load(), "lp_bound": res.bound, "lp_converged": res.converged,
                         "lp_s": round(res.seconds, 2), "lp_rounds": res.rounds}
    if both:
        r["with"] = _bnb(Problem(pmf, m, 2), limit, True)
        r["without"] = _bnb(Problem(pmf, m, 2), limit, False)
        r["ratio"] = round(r["without"]["wall_s"] / max(r["with"]["wall_s"], 1e-6), 2)
        d = r["with"]["D"] if r["with"]["status"] == "optimal" else None
        if d:
            r["lp_gap"] = (d - res.bound) / d
            rb = r["without"]["root_bound"]
            r["lagrange_gap"] = None if rb is None else (d - rb) / d
    return r


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = ["# Rank-one LP root fixing in the free-class branch and bound", "",
             f"k = 2; limit {meta['limit_s']:g} s per solve; the LP alone for at most {meta['lp_s']:g} s "
             f"(columns); inside the B&B it gets min({bnb_free.RANK_ONE_SHARE:g} × limit, "
             f"{bnb_free.RANK_ONE_MAX_S:g} s). Load average {meta['load_start']} → {meta['load_end']}.", "",
             "| instance | n | N | m | atoms | LP bound | LP gap | Lagrangian root gap | LP s | converged | "
             "kept by the fixing | B&B with fixing | B&B without | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def f(v: Any, fmt: str = ".3g") -> str:
        return "–" if v is None else format(v, fmt)

    def run(x: dict[str, Any] | None) -> str:
        return "–" if not x else f"{x['status']} {x['wall_s']} s ({x['nodes']} nodes)"

    for r in res["rows"]:
        w, wo = r.get("with"), r.get("without")
        lines.append(
            f"| {r['name']} | {r['n']} | {r['N']} | {r['m']} | {r['atoms']} | {r['lp_bound']:.4f} | "
            f"{f(r.get('lp_gap'))} | {f(r.get('lagrange_gap'))} | {r['lp_s']} | {r['lp_converged']} | "
            f"{f(w and w['kept'], 'd')} | {run(w)} | {run(wo)} | {f(r.get('ratio'))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=150.0)
    ap.add_argument("--lp-seconds", type=float, default=20.0)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--quick", action="store_true", help="chain and pairs12 only, 60 s limit, LP alone 5 s")
    a = ap.parse_args(argv)
    if a.quick:
        a.limit, a.lp_seconds, a.only = 60.0, 5.0, a.only or ["chain", "pairs12"]
    bnb_free.warm_kernels()
    load0 = _load()
    rows = [row(nm, spec, m, both, a.limit, a.lp_seconds) for nm, spec, m, both in INSTANCES
            if a.only is None or nm in a.only]
    for r in rows:
        print(r, flush=True)
    res = {"meta": {"limit_s": a.limit, "lp_s": a.lp_seconds, "load_start": load0, "load_end": _load()},
           "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    atomic_write_json(RESULTS / "bench_rank_one.json", res)
    atomic_write_text(RESULTS / "bench_rank_one.md", to_markdown(res))
    print(to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
