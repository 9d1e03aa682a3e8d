"""Exact solvers at scale (issue 15): the branch-and-bound with the Lagrangian bound and symmetry breaking
against the plain candidate-atom MILP, measured in the same run.

    python -m benchmarks.bench_scale [--quick] [--limit S] [--milp-limit S] [--target-limit S]
                                     [--sizes 8,10,12,14,16] [--skip-targets] [--targets NAMES] [--skip-scaling]
                                     [--skip-structured] [--structured-limit S]
                                     [--skip-variants] [--variants-limit S] [--skip-widths] [--widths-limit S]
                                     [--merge]

Three parts (free class, integer coefficients, min D then R then P, k = 2):

* **targets**: ``pairs12`` (n = 12, N = 128), m = 6 — the B&B's canonical (D, R, P) proof against the plain
  MILP's (HiGHS, candidate-atom ``usage`` model, no warm start) proof of D alone; ``pairs`` n = 16, N = 256,
  m = 8; ``random:n=10,support=64``, m = 5.
* **root gaps**: the root bound of the previous μ-convexified bound and of the facility-location Lagrangian,
  (D* − bound)/D*, per instance.
* **scaling**: n = 8 … 16 on both families (m = n/2): root gap, nodes, time, status — where proofs stop.
* **structured without symmetry**: the sampled families of :mod:`benchmarks.structured` (n = 12, N = 128,
  m = 6, k = 2; structured like ``pairs12`` but with empirical probabilities, so no automorphisms): the B&B's
  canonical proof (limit ``--structured-limit``, default 120 s) against the plain MILP's proof of D in the same
  run (limit ``--milp-limit``).
* **pairs variants through auto**: :data:`VARIANTS`, ``pairs`` pmfs of the size of the issue's hidden instance
  (n = 12, N = 128, m = 6, k = 2) with 0–4 triples and other pair/single probabilities (a seed alone only
  relabels the concepts), solved as
  ``rdp solve PMF --width 6 --k 2`` solves them (``--solver auto``, the full canonical answer; limit
  ``--variants-limit``, default 60 s).
* **width scaling**: the same sampled families at m = 4 … 8 (:data:`WIDTHS`; k = 2, B&B canonical answer, limit
  ``--widths-limit``, default 120 s): where proofs stop as the dictionary grows.

``--merge`` keeps the sections of an existing bench-results/bench_scale.json that this run skips, so one part
can be re-measured alone; with ``--targets pairs12,pairs16`` only those targets run and the others keep their
previous rows.

With ``--choice`` only the **solver-choice grid** runs: ``random`` pmfs of sizes ``--choice-sizes`` (support
4n, m = n/2, k = 2) × query kinds (min D; min D under a slack distortion budget; min D under a binding rate
budget; min R under a distortion budget; min P under distortion and rate budgets) × methods
(``--choice-backends``), each with ``--choice-limit`` seconds. It writes bench-results/solver_choice.json, which
``--solver auto`` reads (:mod:`rdp_exact.solvers.auto`), and prints the table as Markdown.

Every row records the 1-minute load average before and after; a warning is printed and stored when the
machine is not idle (timings under load are slower than on an idle machine). numpy/BLAS threads are set to 1.
Writes bench-results/bench_scale.json and bench-results/bench_scale.md (without ``--choice``).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from rdp_exact.generators import builtin, from_spec  # noqa: E402
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402
from rdp_exact.problem import Problem  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402
from rdp_exact.solvers.info import BnbInfo, MipInfo  # noqa: E402

PAIRS16 = "pairs:n=16,pair=0.3,single=0.05,seed=1,triples=2,support=256"
RANDOM10 = "random:n=10,support=64,seed=1"
#: (name, spec, m, k, target seconds, must beat the MILP by this factor or None)
TARGETS: list[tuple[str, str, int, int, float, float | None]] = [
    ("pairs12", "pairs12", 6, 2, 10.0, 10.0),
    ("pairs16", PAIRS16, 8, 2, 600.0, None),
    ("random10", RANDOM10, 5, 2, 600.0, None),
]
#: ``pairs`` variants at n = 12, N = 128 (m = 6, k = 2), solved through ``auto``.
VARIANTS = [
    "pairs:n=12,pair=0.35,single=0.05,seed=2,triples=4,support=128",
    "pairs:n=12,pair=0.3,single=0.05,seed=1,support=128",
    "pairs:n=12,pair=0.2,single=0.1,seed=3,triples=1,support=128",
    "pairs:n=12,pair=0.4,single=0.02,seed=4,triples=2,support=128",
    "pairs:n=12,pair=0.25,single=0.08,seed=5,triples=3,support=128",
]
#: Widths m of the width-scaling section (sampled structured families, n = 12, N = 128, k = 2).
WIDTHS = (4, 5, 6, 7, 8)
MILP_OPTIONS = {"interface": "highspy", "formulation": "usage", "heuristic": False}
IDLE_LOAD = 0.5


def _pmf(spec: str):  # noqa: ANN202
    if spec.startswith("sampled:"):  # benchmark-only structured families (benchmarks/structured.py)
        from benchmarks.structured import sampled_pmf

        return sampled_pmf(spec.split(":", 1)[1])
    return from_spec(spec) if ":" in spec else builtin(spec)


def _load() -> float | None:
    try:
        return round(float(os.getloadavg()[0]), 2)
    except OSError:  # pragma: no cover
        return None


def run_bnb(spec: str, m: int, k: int, limit: float, options: dict[str, Any] | None = None) -> dict[str, Any]:
    pmf = _pmf(spec)
    pr = Problem(pmf, m, k)
    load0 = _load()
    t0 = time.perf_counter()
    sol = bnb_free.solve(pr, time_limit=limit, options=dict(options or {}))
    wall = time.perf_counter() - t0
    info = sol.info
    assert isinstance(info, BnbInfo)
    return {
        "method": "bnb", "pmf": spec, "n": pmf.n, "N": pmf.support_size, "m": m, "k": k, "limit_s": limit,
        "status": sol.status.value, "wall_s": round(wall, 3), "D": sol.objective, "bound": sol.bound,
        "R": sol.rate if sol.sae is not None else None, "P": sol.poly if sol.sae is not None else None,
        "nodes": info.nodes, "root_bound": info.root_bound, "root_gap": info.root_gap,
        "group_order": info.symmetry_group_order, "heuristic_s": info.heuristic_s,
        "workers": info.parallel_workers or 1,
        "atoms": sorted(int(a) for a in sol.sae.atoms if a) if sol.sae is not None else None,
        "load_before": load0, "load_after": _load(),
    }


def run_auto(spec: str, m: int, k: int, limit: float) -> dict[str, Any]:
    """``rdp solve SPEC --width m --k k --time-limit limit`` (``--solver auto``): the canonical answer, timed."""
    from rdp_exact.solvers import solve

    pmf = _pmf(spec)
    load0 = _load()
    t0 = time.perf_counter()
    sol = solve(Problem(pmf, m, k), "auto", time_limit=limit)
    wall = time.perf_counter() - t0
    return {"pmf": spec, "n": pmf.n, "N": pmf.support_size, "m": m, "k": k, "limit_s": limit,
            "status": sol.status.value, "method": sol.solver, "wall_s": round(wall, 3), "D": sol.objective,
            "R": sol.rate if sol.sae is not None else None, "P": sol.poly if sol.sae is not None else None,
            "load_before": load0, "load_after": _load()}


def root_bounds(spec: str, m: int, k: int) -> dict[str, float | None]:
    """Root bound of each bound family (one node after a 5 s local search)."""
    pr = Problem(_pmf(spec), m, k)
    out: dict[str, float | None] = {}
    for b in ("mu", "lagrange"):
        t0 = time.perf_counter()
        sol = bnb_free.solve(pr, time_limit=600, options={"bound": b, "node_limit": 1, "heuristic_time": 5.0})
        info = sol.info
        assert isinstance(info, BnbInfo)
        out[b] = info.root_bound
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
    info = sol.info
    assert isinstance(info, MipInfo)
    d_stage = next((st for st in info.stages if st.quantity == "distortion"), None)
    build = info.build_s
    d_proven = d_stage is not None and d_stage.status == "optimal"
    d_time = (float(build or 0.0) + d_stage.wall_s) if d_proven and d_stage is not None else None
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
    if meta.get("merged"):
        lines += ["", f"Note: {meta['merged']}."]
    if res.get("targets"):
        lines += ["", "## Targets (B&B canonical D, R, P vs the plain candidate-atom MILP in the same run)", "",
                  "| instance | n | N | m | B&B status | B&B wall s | workers | D | R | P | nodes | root gap "
                  "| MILP D-proof s | MILP status (limit s) | ratio MILP/B&B | target | met | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for t in res["targets"]:
            b, mp = t["bnb"], t.get("milp") or {}
            lines.append(
                f"| {t['name']} | {b['n']} | {b['N']} | {b['m']} | {b['status']} | {f(b['wall_s'], '.2f')} "
                f"| {b.get('workers', '–')} | {f(b['D'], '.6f')} | {f(b['R'], '.6f')} | {f(b['P'], '.6f')} "
                f"| {f(b['nodes'], 'd')} | {f(t.get('root_gap'), '.3f')} | {f(mp.get('D_proof_s'), '.1f')} "
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
    if res.get("structured"):
        lines += ["", f"## Structured pmfs without symmetry (n = 12, N = 128, m = 6, k = 2; B&B limit "
                  f"{meta.get('structured_limit_s', 0):g} s)", "",
                  "| family | B&B status | B&B wall s | workers | D | bound | R | P | nodes | root gap "
                  "| MILP D-proof s | MILP status (limit s) | ratio MILP/B&B | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for t in res["structured"]:
            b, mp = t["bnb"], t.get("milp") or {}
            lines.append(
                f"| {t['name']} | {b['status']} | {f(b['wall_s'], '.2f')} | {b.get('workers', '–')} "
                f"| {f(b['D'], '.6f')} "
                f"| {f(b['bound'], '.6f')} | {f(b['R'], '.6f')} | {f(b['P'], '.6f')} | {f(b['nodes'], 'd')} "
                f"| {f(b['root_gap'], '.3f')} | {f(mp.get('D_proof_s'), '.1f')} "
                f"| {mp.get('status', '–')} ({f(mp.get('limit_s'), 'g')}) | {t.get('ratio_text', '–')} "
                f"| {f(b['load_before'], '.1f')}/{f(b['load_after'], '.1f')} |"
            )
    if res.get("variants"):
        lines += ["", f"## `pairs` variants at n = 12, N = 128, m = 6, k = 2 through `--solver auto` (limit "
                  f"{meta.get('variants_limit_s', 0):g} s; the full canonical answer)", "",
                  "| pmf | status | method | wall s | D | R | P | load |", "|---|---|---|---|---|---|---|---|"]
        for r in res["variants"]:
            lines.append(
                f"| `{r['pmf']}` | {r['status']} | {r['method']} | {f(r['wall_s'], '.2f')} | {f(r['D'], '.6f')} "
                f"| {f(r['R'], '.6f')} | {f(r['P'], '.6f')} | {f(r['load_before'], '.1f')}/{f(r['load_after'], '.1f')} |"
            )
    if res.get("scaling"):
        lines += ["", f"## Scaling (B&B, limit {meta['limit_s']:g} s per instance, m = n/2, k = 2)", "",
                  "| family | n | N | m | status | wall s | workers | D | bound | gap | root gap | nodes | |G| "
                  "| load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["scaling"]:
            lines.append(
                f"| {r['name']} | {r['n']} | {r['N']} | {r['m']} | {r['status']} | {f(r['wall_s'], '.2f')} "
                f"| {r.get('workers', '–')} | {f(r['D'], '.6f')} | {f(r['bound'], '.6f')} | {f(_gap(r['D'], r['bound']), '.3f')} "
                f"| {f(r['root_gap'], '.3f')} | {f(r['nodes'], 'd')} | {f(r['group_order'], 'd')} "
                f"| {f(r['load_before'], '.1f')}/{f(r['load_after'], '.1f')} |"
            )
    if res.get("widths"):
        lines += ["", f"## Width scaling on the structured pmfs (n = 12, N = 128, k = 2; B&B canonical answer, limit "
                  f"{meta.get('widths_limit_s', 0):g} s)", "",
                  "| family | m | status | wall s | workers | D | bound | gap | root gap | nodes | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["widths"]:
            lines.append(
                f"| {r['name']} | {r['m']} | {r['status']} | {f(r['wall_s'], '.2f')} | {r.get('workers', '–')} "
                f"| {f(r['D'], '.6f')} | {f(r['bound'], '.6f')} | {f(_gap(r['D'], r['bound']), '.3f')} "
                f"| {f(r['root_gap'], '.3f')} | {f(r['nodes'], 'd')} "
                f"| {f(r['load_before'], '.1f')}/{f(r['load_after'], '.1f')} |"
            )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- choice grid
def choice_queries(pr: Problem, ref_D: float, ref_R: float) -> dict[str, Problem]:
    """The measured query kinds on one instance; budgets are set from the min-D reference answer (D, R):
    min D; min D with δ = 1.2 D (a slack cutoff); min D with r = 0.8 R (binding: bnb declines); min R with
    δ = 1.2 D (the R*(δ) frontier query); min P with δ = 1.5 D, r = 1.2 R."""
    return {
        "min-D": pr,
        "min-D|D": pr.with_(max_distortion=1.2 * ref_D),
        "min-D|R": pr.with_(max_rate=0.8 * ref_R),
        "min-R|D": pr.with_(minimize="rate", max_distortion=1.2 * ref_D),
        "min-P|DR": pr.with_(minimize="poly", max_distortion=1.5 * ref_D, max_rate=1.2 * ref_R),
    }


def _timed(pr: Problem, method: str, limit: float) -> dict[str, Any]:
    from rdp_exact.solvers import solve, why_not

    why = why_not(pr, method)
    if why is not None:
        return {"status": "n/a", "why": why}
    t0 = time.perf_counter()
    try:
        sol = solve(pr, method, time_limit=limit, threads=1)
    except Exception as exc:  # a benchmark must finish
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    return {"status": sol.status.value, "wall_s": round(time.perf_counter() - t0, 3), "objective": sol.objective,
            "bound": sol.bound}


def choice_grid(sizes: list[int], limit: float, backends: list[str]) -> list[dict[str, Any]]:
    """Every (size, query kind, method): status and wall time under ``limit`` seconds (``random`` pmfs,
    support 4n, m = n/2, k = 2). The reference (D, R) setting the budgets is bnb's min-D answer."""
    from rdp_exact.solvers import auto

    rows: list[dict[str, Any]] = []
    for n in sizes:
        spec = f"random:n={n},support={4 * n},seed=1"
        pmf = _pmf(spec)
        pr = Problem(pmf, max(2, n // 2), 2)
        ref = bnb_free.solve(pr, time_limit=max(limit, 30.0))
        assert ref.evaluation is not None, "the reference needs an incumbent"
        for kind, q in choice_queries(pr, ref.evaluation.distortion, ref.evaluation.rate).items():
            results = {b: _timed(q, b, limit) for b in backends}
            row = {"pmf": spec, "n": n, "N": pmf.support_size, "m": pr.width, "k": pr.k, "kind": kind,
                   "query": auto.query_kind(q), "budgets": {"max_distortion": q.max_distortion,
                                                             "max_rate": q.max_rate, "max_poly": q.max_poly},
                   "results": results, "load": _load()}
            got = auto.measured_choice(q, [row], allowed=[auto.SolverName(b) for b in backends])
            row["fastest_proven"] = None if got is None else got.method.value
            rows.append(row)
            short = ", ".join(f"{b} {r['status']} {r.get('wall_s', '')}" for b, r in results.items())
            print(f"n={n} {kind}: {short}", flush=True)
    return rows


def choice_markdown(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    backends = sorted({b for r in rows for b in r["results"]})
    lines = ["# Solver choice measurements (read by `--solver auto`)", "",
             f"{meta['machine']}, {meta['cpu_count']} CPUs, numpy threads 1, {meta.get('choice_limit_s')} s per "
             f"method and query. Load average at start {meta['load_start']}, at end {meta.get('load_end')}.", ""]
    if meta.get("warning"):
        lines += [f"**{meta['warning']}**", ""]
    lines += [f"Rule: {bnb_free.CHOICE_RULE}.", "",
              "| n | N | m | query | " + " | ".join(backends) + " | fastest proven |",
              "|---|---|---|---|" + "---|" * len(backends) + "---|"]
    for r in rows:
        cells = []
        for b in backends:
            res = r["results"].get(b, {})
            st = res.get("status", "–")
            cells.append(st if "wall_s" not in res else f"{st} {res['wall_s']:.2f} s")
        lines.append(f"| {r['n']} | {r['N']} | {r['m']} | {r['query'].replace('|', chr(92) + '|')} | " + " | ".join(cells)
                     + f" | {r['fastest_proven'] or 'none proved'} |")
    return "\n".join(lines) + "\n"


def _merged(path: Path, res: dict[str, Any], skipped: dict[str, bool]) -> dict[str, Any]:
    """``res`` with each skipped section (and its meta entries) taken from the results already in ``path``."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return res
    section_meta = {"structured": ["structured_limit_s"], "variants": ["variants_limit_s"],
                    "widths": ["widths_limit_s"]}
    for key, was_skipped in skipped.items():
        if was_skipped and old.get(key):
            res[key] = old[key]
            for mk in section_meta.get(key, []):
                if mk in old.get("meta", {}):
                    res["meta"][mk] = old["meta"][mk]
    ran = {t["name"] for t in res["targets"]}
    if not skipped["targets"] and ran != {t[0] for t in TARGETS}:  # --targets ran some: keep the others' rows
        order = [t[0] for t in TARGETS]
        for key in ("targets", "root_gaps"):
            rows = res[key] + [r for r in old.get(key, []) if r["name"] not in ran]
            res[key] = sorted(rows, key=lambda r: order.index(r["name"]) if r["name"] in order else len(order))
    if skipped["scaling"] and "limit_s" in old.get("meta", {}):
        res["meta"]["limit_s"] = old["meta"]["limit_s"]
    if skipped["targets"] and skipped["structured"] and "milp_limit_s" in old.get("meta", {}):
        res["meta"]["milp_limit_s"] = old["meta"]["milp_limit_s"]
    measured = [key for key, was_skipped in skipped.items() if not was_skipped and key != "root_gaps"]
    res["meta"]["merged"] = (f"this run measured: {', '.join(measured) or 'nothing'}; the other sections come from "
                             "the previous bench_scale.json; the load averages above are this run's, every row has "
                             "its own")
    if skipped["targets"]:  # the target rows are the previous file's, and so is what it said of them
        kept = old.get("meta", {}).get("targets_from_earlier_runs", [])
    else:
        kept = [t["name"] for t in res["targets"] if t["name"] not in ran]
    if kept:
        res["meta"]["targets_from_earlier_runs"] = kept
        res["meta"]["merged"] += f"; targets from an earlier run (their rows and root gaps): {', '.join(kept)}"
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small settings (pairs12 target only, short limits)")
    ap.add_argument("--limit", type=float, default=None, help="B&B limit per scaling instance (default 60 s)")
    ap.add_argument("--milp-limit", type=float, default=None, help="limit of the baseline MILP (default 600 s)")
    ap.add_argument("--target-limit", type=float, default=None, help="B&B limit per target (default: the target)")
    ap.add_argument("--sizes", default=None, help="scaling sizes n (default 8,10,12,14,16)")
    ap.add_argument("--skip-targets", action="store_true")
    ap.add_argument("--targets", default=None,
                    help="comma-separated target names to run (default: all); with --merge the others keep their rows")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--skip-structured", action="store_true")
    ap.add_argument("--structured-limit", type=float, default=120.0, help="B&B limit per structured instance")
    ap.add_argument("--skip-variants", action="store_true")
    ap.add_argument("--variants-limit", type=float, default=60.0, help="limit per pairs variant (auto)")
    ap.add_argument("--skip-widths", action="store_true")
    ap.add_argument("--widths-limit", type=float, default=120.0, help="B&B limit per width-scaling instance")
    ap.add_argument("--merge", action="store_true",
                    help="keep the sections of bench-results/bench_scale.json that this run skips")
    ap.add_argument("--out", default="bench-results")
    ap.add_argument("--choice", action="store_true",
                    help="only the solver-choice grid (writes solver_choice.json/.md, read by --solver auto)")
    ap.add_argument("--choice-sizes", default="6,8,10", help="sizes n of the choice grid")
    ap.add_argument("--choice-limit", type=float, default=8.0, help="seconds per method and query in the grid")
    ap.add_argument("--choice-merge", action="store_true",
                    help="keep the rows of other sizes already in solver_choice.json")
    ap.add_argument("--choice-backends", default="bnb,highs,cpsat,scip", help="methods measured in the grid")
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
    res: dict[str, Any] = {"meta": meta, "targets": [], "root_gaps": [], "scaling": [], "structured": [],
                           "variants": [], "widths": []}
    if args.choice:
        args.skip_targets = args.skip_scaling = args.skip_structured = args.skip_variants = True
        args.skip_widths = True
    if args.quick:
        args.skip_structured = args.skip_variants = args.skip_widths = True
    targets = TARGETS[:1] if args.quick else TARGETS
    if args.targets:
        names = args.targets.split(",")
        unknown = sorted(set(names) - {t[0] for t in TARGETS})
        if unknown:
            ap.error(f"unknown target {unknown[0]!r} (targets: {', '.join(t[0] for t in TARGETS)})")
        targets = [t for t in targets if t[0] in names]
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
            t["root_gap"] = b["root_gap"]
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
            t["met"] = met
            res["targets"].append(t)
            print(f"target {name}: {b['status']} {b['wall_s']:.2f}s D={b['D']} met={met}", flush=True)
    if not args.skip_structured:
        from benchmarks.structured import FAMILIES

        meta["structured_limit_s"] = args.structured_limit
        for fam in FAMILIES:
            spec = f"sampled:{fam}"
            b = run_bnb(spec, 6, 2, args.structured_limit)
            mp = run_milp(spec, 6, 2, milp_limit)
            row: dict[str, Any] = {"name": fam, "bnb": b, "milp": mp}
            if b["status"] == "optimal" and mp.get("D_proof_s"):
                row["ratio_text"] = f"{mp['D_proof_s'] / b['wall_s']:.1f}×"
            elif b["status"] == "optimal" and "error" not in mp:
                row["ratio_text"] = f"> {mp['wall_s'] / b['wall_s']:.1f}× (MILP at its limit)"
            res["structured"].append(row)
            print(f"structured {fam}: {b['status']} {b['wall_s']:.2f}s; MILP D {mp.get('D_proof_s')}", flush=True)
    if not args.skip_variants:
        meta["variants_limit_s"] = args.variants_limit
        for spec in VARIANTS:
            r = run_auto(spec, 6, 2, args.variants_limit)
            res["variants"].append(r)
            print(f"variant {spec}: {r['status']} ({r['method']}) {r['wall_s']:.2f}s", flush=True)
    if not args.skip_widths:
        from benchmarks.structured import FAMILIES

        meta["widths_limit_s"] = args.widths_limit
        for fam in FAMILIES:
            for m in WIDTHS:
                r = run_bnb(f"sampled:{fam}", m, 2, args.widths_limit)
                r["name"] = fam
                res["widths"].append(r)
                print(f"width {fam} m={m}: {r['status']} {r['wall_s']:.2f}s nodes={r['nodes']}", flush=True)
    if not args.skip_scaling:
        for name, spec, m, k in scaling_instances(sizes):
            r = run_bnb(spec, m, k, limit)
            r["name"] = name
            res["scaling"].append(r)
            print(f"{name}: {r['status']} {r['wall_s']:.2f}s nodes={r['nodes']}", flush=True)
    meta["load_end"] = _load()
    if args.choice:
        # the choice grid writes its own file and leaves bench_scale.{json,md} alone
        choice_sizes = [int(x) for x in args.choice_sizes.split(",")]
        rows = choice_grid(choice_sizes, args.choice_limit, [b for b in args.choice_backends.split(",") if b])
        if args.choice_merge:  # keep the rows of other sizes already in the file
            try:
                old = json.loads((out / "solver_choice.json").read_text(encoding="utf-8")).get("rows", [])
            except (OSError, ValueError):
                old = []
            rows = [r for r in old if "results" in r and r.get("n") not in choice_sizes] + rows
            rows.sort(key=lambda r: r["n"])  # stable: each size keeps its kinds in grid order
        meta["load_end"] = _load()
        meta["choice_limit_s"] = args.choice_limit
        atomic_write_json(out / "solver_choice.json", {"meta": meta, "rule": bnb_free.CHOICE_RULE, "rows": rows})
        print(choice_markdown(meta, rows))
        return 0
    if args.merge:
        res = _merged(out / "bench_scale.json", res, {
            "targets": args.skip_targets, "root_gaps": args.skip_targets, "structured": args.skip_structured,
            "variants": args.skip_variants, "scaling": args.skip_scaling, "widths": args.skip_widths})
    atomic_write_json(out / "bench_scale.json", res)
    atomic_write_text(out / "bench_scale.md", to_markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
