"""Exact solvers at scale (issue 15): the branch-and-bound with the Lagrangian bound and symmetry breaking
against the plain candidate-atom MILP, measured in the same run.

    python -m benchmarks.bench_scale [--quick] [--limit S] [--milp-limit S] [--target-limit S]
                                     [--sizes 8,10,12,14,16] [--skip-targets] [--skip-scaling]

Three parts (free class, integer coefficients, min D then R then P, k = 2):

* **targets**: ``pairs12`` (n = 12, N = 128), m = 6 — the B&B's canonical (D, R, P) proof against the plain
  MILP's (HiGHS, candidate-atom ``usage`` model, no warm start) proof of D alone; ``pairs`` n = 16, N = 256,
  m = 8; ``random:n=10,support=64``, m = 5.
* **root gaps**: the root bound of the previous μ-convexified bound and of the facility-location Lagrangian,
  (D* − bound)/D*, per instance.
* **scaling**: n = 8 … 16 on both families (m = n/2): root gap, nodes, time, status — where proofs stop.

Every row records the 1-minute load average before and after; a warning is printed and stored when the
machine is not idle (timings under load are slower than on an idle machine). numpy/BLAS threads are set to 1.
Writes bench-results/bench_scale.json and bench-results/bench_scale.md, and
bench-results/solver_choice.json (which method proved which instance fastest; read by ``bnb_free.preferred``).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from rdp_exact.generators import builtin, from_spec  # noqa: E402
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402

PAIRS16 = "pairs:n=16,pair=0.3,single=0.05,seed=1,triples=2,support=256"
RANDOM10 = "random:n=10,support=64,seed=1"
#: (name, spec, m, k, target seconds, must beat the MILP by this factor or None)
TARGETS: list[tuple[str, str, int, int, float, float | None]] = [
    ("pairs12", "pairs12", 6, 2, 10.0, 10.0),
    ("pairs16", PAIRS16, 8, 2, 600.0, None),
    ("random10", RANDOM10, 5, 2, 600.0, None),
]
MILP_OPTIONS = {"interface": "highspy", "formulation": "usage", "heuristic": False}
IDLE_LOAD = 0.5


def _pmf(spec: str):  # noqa: ANN202
    return from_spec(spec) if ":" in spec else builtin(spec)


def _load() -> float | None:
    try:
        return round(float(os.getloadavg()[0]), 2)
    except OSError:  # pragma: no cover
        return None


def _info(sol: Any) -> dict[str, Any]:
    info = sol.info
    if hasattr(info, "to_dict"):
        info = info.to_dict()
    info = dict(info or {})
    extra = info.pop("extra", None) or {}
    return {**extra, **info}


def run_bnb(spec: str, m: int, k: int, limit: float, options: dict[str, Any] | None = None) -> dict[str, Any]:
    pmf = _pmf(spec)
    pr = Problem(pmf, m, k)
    load0 = _load()
    t0 = time.perf_counter()
    sol = bnb_free.solve(pr, time_limit=limit, options=dict(options or {}))
    wall = time.perf_counter() - t0
    info = _info(sol)
    return {
        "method": "bnb", "pmf": spec, "n": pmf.n, "N": pmf.support_size, "m": m, "k": k, "limit_s": limit,
        "status": sol.status.value, "wall_s": round(wall, 3), "D": sol.objective, "bound": sol.bound,
        "R": sol.rate if sol.sae is not None else None, "P": sol.poly if sol.sae is not None else None,
        "nodes": info.get("nodes"), "root_bound": info.get("root_bound"),
        "group_order": info.get("symmetry_group_order"), "heuristic_s": info.get("heuristic_s"),
        "atoms": sorted(int(a) for a in sol.sae.atoms if a) if sol.sae is not None else None,
        "load_before": load0, "load_after": _load(),
    }


def root_bounds(spec: str, m: int, k: int) -> dict[str, float | None]:
    """Root bound of each bound family (one node after a 5 s local search)."""
    pr = Problem(_pmf(spec), m, k)
    out: dict[str, float | None] = {}
    for b in ("mu", "lagrange"):
        t0 = time.perf_counter()
        sol = bnb_free.solve(pr, time_limit=600, options={"bound": b, "node_limit": 1, "heuristic_time": 5.0})
        out[b] = _info(sol).get("root_bound")
        out[f"{b}_s"] = round(time.perf_counter() - t0, 3)
    return out


def run_milp(spec: str, m: int, k: int, limit: float) -> dict[str, Any]:
    """The plain candidate-atom MILP (HiGHS, usage model, no warm start); time of its proof of D alone."""
    from rdp_exact.solvers import solve

    pmf = _pmf(spec)
    pr = Problem(pmf, m, k)
    load0 = _load()
    t0 = time.perf_counter()
    try:
        sol = solve(pr, "highs", time_limit=limit, threads=1, options=dict(MILP_OPTIONS))
    except Exception as exc:  # a benchmark must finish
        return {"method": "milp", "pmf": spec, "m": m, "k": k, "error": f"{type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - t0
    info = _info(sol)
    d_stage: dict[str, Any] = {}
    for st in info.get("stages") or []:
        st = st.to_dict() if hasattr(st, "to_dict") else dict(st)
        if st.get("quantity") == "distortion":
            d_stage = st
            break
    build = info.get("build_s")
    d_proven = d_stage.get("status") == "optimal"
    d_time = (float(build or 0.0) + float(d_stage.get("wall_s", 0.0))) if d_proven else None
    return {
        "method": "milp", "pmf": spec, "n": pmf.n, "N": pmf.support_size, "m": m, "k": k, "limit_s": limit,
        "status": sol.status.value, "wall_s": round(wall, 3), "D": sol.objective, "bound": sol.bound,
        "D_proven": d_proven, "D_proof_s": d_time, "build_s": build,
        "load_before": load0, "load_after": _load(),
    }


def _gap(d: float | None, b: float | None) -> float | None:
    if d is None or b is None:
        return None
    return max(0.0, (d - b) / d) if d > 0 else 0.0


def scaling_instances(sizes: list[int]) -> list[tuple[str, str, int, int]]:
    out = []
    for n in sizes:
        out.append((f"pairs n={n}", f"pairs:n={n},pair=0.3,single=0.05,seed=1,triples=2,support={16 * n}", n // 2, 2))
    for n in sizes:
        out.append((f"random n={n}", f"random:n={n},support=64,seed=1", n // 2, 2))
    return out


def to_markdown(res: dict[str, Any]) -> str:
    def f(v: Any, fmt: str = ".4g") -> str:
        return "–" if v is None else format(v, fmt)

    meta = res["meta"]
    lines = [
        "# Exact solvers at scale (issue 15)",
        "",
        f"{meta['machine']}, {meta['cpu_count']} CPUs, numpy threads 1. Load average at start "
        f"{meta['load_start']}, at end {meta['load_end']}.",
    ]
    if meta.get("warning"):
        lines += ["", f"**{meta['warning']}**"]
    if res.get("targets"):
        lines += ["", "## Targets (B&B canonical D, R, P vs the plain candidate-atom MILP in the same run)", "",
                  "| instance | n | N | m | B&B status | B&B wall s | D | R | P | nodes | root gap | MILP D-proof s "
                  "| MILP status (limit s) | ratio MILP/B&B | target | met | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for t in res["targets"]:
            b, mp = t["bnb"], t.get("milp") or {}
            lines.append(
                f"| {t['name']} | {b['n']} | {b['N']} | {b['m']} | {b['status']} | {f(b['wall_s'], '.2f')} "
                f"| {f(b['D'], '.6f')} | {f(b['R'], '.6f')} | {f(b['P'], '.6f')} | {f(b['nodes'], 'd')} "
                f"| {f(t.get('root_gap'), '.3f')} | {f(mp.get('D_proof_s'), '.1f')} "
                f"| {mp.get('status', '–')} ({f(mp.get('limit_s'), 'g')}) | {t.get('ratio_text', '–')} "
                f"| {t['target_text']} | {'**met**' if t['met'] else 'not met'} "
                f"| {f(b['load_before'], '.1f')}/{f(b['load_after'], '.1f')} |"
            )
    if res.get("root_gaps"):
        lines += ["", "## Root gaps: previous μ bound vs facility-location Lagrangian", "",
                  "Root gap = (D* − root bound)/D*; D* is the proven optimum (or the best incumbent, marked *).", "",
                  "| instance | D* | μ bound | μ gap | Lagrangian bound | Lagrangian gap | Lagrangian root s |",
                  "|---|---|---|---|---|---|---|"]
        for g in res["root_gaps"]:
            star = "" if g["proven"] else "*"
            lines.append(
                f"| {g['name']} | {f(g['D'], '.6f')}{star} | {f(g['mu'], '.4f')} | {f(g['mu_gap'], '.3f')} "
                f"| {f(g['lagrange'], '.4f')} | {f(g['lagrange_gap'], '.3f')} | {f(g['lagrange_s'], '.2f')} |"
            )
    if res.get("scaling"):
        lines += ["", f"## Scaling (B&B, limit {meta['limit_s']:g} s per instance, m = n/2, k = 2)", "",
                  "| family | n | N | m | status | wall s | D | bound | gap | root gap | nodes | |G| | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["scaling"]:
            lines.append(
                f"| {r['name']} | {r['n']} | {r['N']} | {r['m']} | {r['status']} | {f(r['wall_s'], '.2f')} "
                f"| {f(r['D'], '.6f')} | {f(r['bound'], '.6f')} | {f(_gap(r['D'], r['bound']), '.3f')} "
                f"| {f(_gap(r['D'], r['root_bound']), '.3f')} | {f(r['nodes'], 'd')} | {f(r['group_order'], 'd')} "
                f"| {f(r['load_before'], '.1f')}/{f(r['load_after'], '.1f')} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small settings (pairs12 target only, short limits)")
    ap.add_argument("--limit", type=float, default=None, help="B&B limit per scaling instance (default 60 s)")
    ap.add_argument("--milp-limit", type=float, default=None, help="limit of the baseline MILP (default 600 s)")
    ap.add_argument("--target-limit", type=float, default=None, help="B&B limit per target (default: the target)")
    ap.add_argument("--sizes", default=None, help="scaling sizes n (default 8,10,12,14,16)")
    ap.add_argument("--skip-targets", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--out", default="bench-results")
    args = ap.parse_args(argv)
    limit = args.limit if args.limit is not None else (10.0 if args.quick else 60.0)
    milp_limit = args.milp_limit if args.milp_limit is not None else (60.0 if args.quick else 600.0)
    sizes = [int(s) for s in (args.sizes or ("8,10" if args.quick else "8,10,12,14,16")).split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load_start = _load()
    meta: dict[str, Any] = {"machine": platform.platform(), "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
                            "load_start": load_start, "limit_s": limit, "milp_limit_s": milp_limit}
    if load_start is not None and load_start > IDLE_LOAD:
        meta["warning"] = (f"Measured under load (1-minute load average {load_start} at start on a "
                           f"{os.cpu_count()}-CPU machine): wall times are slower than on an idle machine.")
        print(f"warning: {meta['warning']}", file=sys.stderr)
    res: dict[str, Any] = {"meta": meta, "targets": [], "root_gaps": [], "scaling": []}
    choice: list[dict[str, Any]] = []
    targets = TARGETS[:1] if args.quick else TARGETS
    if not args.skip_targets:
        for name, spec, m, k, target_s, factor in targets:
            tl = args.target_limit if args.target_limit is not None else target_s
            b = run_bnb(spec, m, k, max(tl, 1.0))
            t: dict[str, Any] = {"name": name, "bnb": b, "target_s": target_s, "factor": factor}
            proven = b["status"] == "optimal"
            rb = root_bounds(spec, m, k)
            res["root_gaps"].append({
                "name": name, "D": b["D"], "proven": proven, "mu": rb["mu"], "lagrange": rb["lagrange"],
                "mu_gap": _gap(b["D"], rb["mu"]), "lagrange_gap": _gap(b["D"], rb["lagrange"]),
                "lagrange_s": rb["lagrange_s"],
            })
            t["root_gap"] = _gap(b["D"], b["root_bound"])
            met = proven and b["wall_s"] <= target_s
            t["target_text"] = f"≤ {target_s:g} s"
            if factor is not None:
                mp = run_milp(spec, m, k, milp_limit)
                t["milp"] = mp
                t["target_text"] += f", ≥ {factor:g}× the MILP"
                if proven and mp.get("D_proof_s"):
                    ratio = mp["D_proof_s"] / b["wall_s"]
                    t["ratio"] = ratio
                    t["ratio_text"] = f"{ratio:.1f}×"
                    met = met and ratio >= factor
                elif proven and "error" not in mp:
                    # the MILP did not prove D within its limit: the ratio is at least limit / B&B time
                    ratio = mp["wall_s"] / b["wall_s"]
                    t["ratio"] = ratio
                    t["ratio_text"] = f"> {ratio:.1f}× (MILP at its limit)"
                    met = met and ratio >= factor
                else:
                    met = False
                choice.append({"pmf": spec, "n": b["n"], "N": b["N"], "m": m, "k": k, "query": "min-D canonical",
                               "bnb": {"status": b["status"], "wall_s": b["wall_s"]},
                               "highs-usage": {"status": mp.get("status"), "D_proof_s": mp.get("D_proof_s"),
                                               "wall_s": mp.get("wall_s")}})
            t["met"] = met
            res["targets"].append(t)
            print(f"target {name}: {b['status']} {b['wall_s']:.2f}s D={b['D']} met={met}", flush=True)
    if not args.skip_scaling:
        for name, spec, m, k in scaling_instances(sizes):
            r = run_bnb(spec, m, k, limit)
            r["name"] = name
            res["scaling"].append(r)
            choice.append({"pmf": spec, "n": r["n"], "N": r["N"], "m": m, "k": k, "query": "min-D canonical",
                           "bnb": {"status": r["status"], "wall_s": r["wall_s"]}})
            print(f"{name}: {r['status']} {r['wall_s']:.2f}s nodes={r['nodes']}", flush=True)
    meta["load_end"] = _load()
    atomic_write_json(out / "bench_scale.json", res)
    atomic_write_text(out / "bench_scale.md", to_markdown(res))
    atomic_write_json(out / "solver_choice.json", {"meta": meta, "rows": choice, "rule": bnb_free.CHOICE_RULE})
    return 0


if __name__ == "__main__":
    sys.exit(main())
