"""Exact optima in the real SAE classes (rdp_exact.classes, issue 11): speed and agreement.

Run ``python -m benchmarks.bench_classes [--quick] [--limit S] [--section NAME ...]``; writes
``bench-results/bench_classes.json`` and ``.md``. The default is the full run with a 60 s limit per solve (the
"largest sizes proven within 60 s" table); ``--quick`` uses 10 s limits (30 s for the SCIP row) and smaller
sizes; ``--section`` reruns single sections and keeps the stored results of the others.

* **k = 1 decomposition** (``kone``: LP proof or clustering branch and bound) on random pmfs up to n = 6, N = 32, m = 4 in
  real-atoms, real-atoms + bias and real-codes; target < 1 s. Baselines measured in the same run: the slow
  enumeration reference on the small sizes it can reach (ratio reference / kone), and from N = 24 the branch and
  bound alone on every row (ratio search / LP path).
* **SCIP, real-atoms, m = 3, k = 2 on cooccur3** (target: proven ≤ 10 s), beside the pattern branch and bound
  on the same instance (ratio).
* **Largest sizes proven within the time limit** per method and class (sizes grow until the first failure; for
  ``kone`` from N = 20 up to N = 128).

The compiled k = 1 search is loaded once before the timed rows (on a fresh checkout numba compiles it then,
about 15 s; afterwards it is read from numba's on-disk cache).
* **Agreement**: D*(class) of the fast methods on the built-in pmfs against the slow reference, which shares no
  code with them (max |difference|; target 1e−6).

Thread counts are pinned to 1 (BLAS, OpenMP); every row records the 1-minute load average, and the script
warns when the machine was not idle.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from rdp_exact.classes import ClassProblem, reference_solve, solve_class  # noqa: E402
from rdp_exact.errors import SolverUnavailable  # noqa: E402
from rdp_exact.generators import builtin, random_pmf  # noqa: E402
from rdp_exact.io_utils import atomic_write_json, atomic_write_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
KONE_CLASSES = (("real-atoms", False), ("real-atoms", True), ("real-codes", False))


def _load() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _run(pr: ClassProblem, method: str, limit: float) -> dict[str, Any]:
    t = time.perf_counter()
    sol = solve_class(pr, method, time_limit=limit)
    return {"status": sol.status.value, "D": sol.distortion, "bound": sol.bound,
            "wall_s": round(time.perf_counter() - t, 3),
            "method": sol.method, "nodes": sol.info.get("nodes"), "start": sol.info.get("start")}


def _warm_kone() -> float:
    """Load the compiled k = 1 search once (numba's on-disk cache; compiles on a fresh checkout) so that the timed
    rows measure the search, not the import; returns the seconds it took."""
    from rdp_exact.classes import kone_lp

    t = time.perf_counter()
    solve_class(ClassProblem(random_pmf(3, 6, 1), 2, 1, "real-atoms"), "kone")
    kone_lp.warm()  # both LP pricers (SSE and line clusters)
    return round(time.perf_counter() - t, 3)


def kone_rows(sizes: list[tuple[int, int, int]], limit: float) -> list[dict[str, Any]]:
    print(f"kone warm-up (load or compile the search): {_warm_kone()} s", flush=True)
    rows = []
    for n, N, m in sizes:
        for seed in KONE_SEEDS if N >= 16 else KONE_SEEDS[:1]:
            rows += _kone_seed_rows(n, N, m, seed, limit)
    return rows


def _kone_seed_rows(n: int, N: int, m: int, seed: int, limit: float) -> list[dict[str, Any]]:
    """One row per class of the k = 1 search on ``random_pmf(n, N, seed)``, with the reference's time when small."""
    rows = []
    pmf = random_pmf(n, N, seed)
    for cls, bias in KONE_CLASSES:
        pr = ClassProblem(pmf, m, 1, cls, bias)  # type: ignore[arg-type]
        r = {"n": n, "N": pmf.support_size, "m": m, "seed": seed, "class": pr.label, "load": _load(),
             **_run(pr, "kone", limit)}
        if N >= SEARCH_BASELINE_FROM and not (pr.sae_class == "real-codes" and bias):
            # the branch and bound alone (no LP proof first): the baseline of the LP path in the same run
            import rdp_exact.classes.kone as kone

            saved, kone.LP_FROM_EVENTS = kone.LP_FROM_EVENTS, 10**9
            try:
                base = _run(pr, "kone", limit)
            finally:
                kone.LP_FROM_EVENTS = saved
            r["search_only_s"] = base["wall_s"]
            r["search_only_status"] = base["status"]
            r["ratio_search_over_lp"] = round(base["wall_s"] / max(r["wall_s"], 1e-6), 1)
        if N <= 6 and m <= 3:
            t = time.perf_counter()
            reference_solve(pr)
            r["reference_s"] = round(time.perf_counter() - t, 3)
            r["ratio_reference_over_kone"] = round(r["reference_s"] / max(r["wall_s"], 1e-6), 1)
        rows.append(r)
    return rows


def scip_cooccur3(limit: float) -> list[dict[str, Any]]:
    pr = ClassProblem(builtin("cooccur3"), 3, 2, "real-atoms")
    s = {"case": "cooccur3 real-atoms m=3 k=2", "load": _load(), **_run(pr, "scip", limit)}
    p = {"case": "cooccur3 real-atoms m=3 k=2", "load": _load(), **_run(pr, "patterns", limit)}
    s["ratio_over_patterns"] = round(s["wall_s"] / max(p["wall_s"], 1e-6), 1)
    return [s, p]


def largest_rows(limit: float, max_n: int) -> list[dict[str, Any]]:
    plans = [("kone", "real-atoms", False, 1), ("kone", "real-atoms", True, 1), ("kone", "real-codes", False, 1),
             ("patterns", "real-atoms", False, 2), ("patterns", "real-atoms", True, 2),
             ("scip", "real-atoms", False, 2), ("scip", "real-codes", False, 2), ("scip", "real-codes", True, 1)]
    small = [(3, 4, 2), (3, 6, 2), (3, 8, 3), (4, 10, 3), (4, 12, 3), (5, 16, 3), (6, 20, 4)]
    kone_sizes = [(6, 20, 4), (6, 24, 4), (6, 28, 4), (6, 32, 4), (6, 40, 4), (6, 48, 4), (7, 64, 4), (8, 128, 4)]
    _warm_kone()
    rows = []
    for method, cls, bias, k in plans:
        for n, N, m in kone_sizes if method == "kone" else small:
            if n > max_n + (2 if method == "kone" else 0):
                break
            pr = ClassProblem(random_pmf(n, N, 2), m, k, cls, bias)  # type: ignore[arg-type]
            got = _run(pr, method, limit)
            r = {"method": method, "class": pr.label, "k": k, "n": n, "N": pr.pmf.support_size, "m": m,
                 "load": _load(), **{k2: v for k2, v in got.items() if k2 != "method"}, "solver": got["method"]}
            rows.append(r)
            if r["status"] != "optimal":
                break
    return rows


def agreement_rows() -> list[dict[str, Any]]:
    rows = []
    for name in ("cooccur3", "nested3", "independent3"):
        pmf = builtin(name)
        for cls, bias, m, k in (("real-atoms", False, 2, 1), ("real-atoms", True, 2, 1), ("real-codes", False, 2, 1),
                                ("real-atoms", False, 3, 1), ("real-codes", False, 3, 1), ("real-atoms", False, 2, 2),
                                ("real-atoms", True, 2, 2)):
            pr = ClassProblem(pmf, m, k, cls, bias)  # type: ignore[arg-type]
            fast = solve_class(pr)
            try:
                ref = reference_solve(pr)
            except SolverUnavailable:
                continue
            assert fast.distortion is not None and ref.distortion is not None
            rows.append({"pmf": name, "class": pr.label, "m": m, "k": k, "method": fast.method, "D": fast.distortion,
                         "D_reference": ref.distortion, "abs_diff": abs(fast.distortion - ref.distortion)})
    return rows


def _md_table(rows: list[dict[str, Any]], cols: list[str]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join("–" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float)
                                                                    else str(r[c])) for c in cols) + " |")
    return out


SECTIONS = ("kone", "scip", "largest", "agreement")
#: Seeds of the random pmfs in the k = 1 rows (sizes N ≥ 16): proof effort varies by orders of magnitude between
#: pmfs of one size, so one seed would not describe a size.
KONE_SEEDS = (1, 2, 3)
#: Sizes (N) from which every k = 1 row also times the branch and bound alone (the LP path's baseline).
SEARCH_BASELINE_FROM = 24
KONE_SIZES = [(3, 6, 2), (4, 12, 3), (5, 16, 3), (5, 16, 4), (6, 20, 4), (6, 24, 4), (6, 32, 4)]


def _plan(quick: bool, limit: float | None) -> dict[str, Any]:
    """Sizes and limits: the default is the full run (60 s per solve); ``--quick`` a cheap subset (10 s)."""
    lim = limit if limit is not None else (10.0 if quick else 60.0)
    return {"limit_s": lim, "kone_sizes": KONE_SIZES[:5] if quick else KONE_SIZES,
            "scip_limit_s": max(lim, 30.0) if quick else lim, "largest_max_n": 5 if quick else 6}


def _md(res: dict[str, Any]) -> str:
    def head(sec: str) -> str:
        r = res.get(sec + "_meta", {})
        return (f"Limit {r.get('limit_s')} s per solve; load average {r.get('load_start')} → {r.get('load_end')}"
                f"{' (**machine busy: timings are noisy**)' if r.get('busy') else ''}; "
                f"{'--quick' if r.get('quick') else 'full'} run.")

    md = ["# bench_classes", "", "Regenerate: `python -m benchmarks.bench_classes` (60 s limits; `--quick`: 10 s, "
          "smaller sizes; `--section NAME` reruns one section and keeps the others).", ""]
    if "kone" in res:
        md += ["## k = 1 decomposition (target < 1 s)", "", head("kone"), ""]
        md += _md_table(res["kone"], ["n", "N", "m", "seed", "class", "status", "method", "wall_s", "nodes",
                                      "search_only_s", "search_only_status", "ratio_search_over_lp", "reference_s",
                                      "ratio_reference_over_kone"])
    if "scip_cooccur3" in res:
        md += ["", "## SCIP on cooccur3, real-atoms, m = 3, k = 2 (target proven ≤ 10 s)", "",
               head("scip_cooccur3"), ""]
        md += _md_table(res["scip_cooccur3"], ["case", "method", "status", "D", "bound", "wall_s", "start",
                                               "ratio_over_patterns"])
    if "largest" in res:
        md += ["", f"## Largest sizes proven within {res['largest_meta'].get('limit_s')} s", "", head("largest"), ""]
        md += _md_table(res["largest"], ["method", "class", "k", "n", "N", "m", "status", "wall_s", "solver"])
    if "agreement" in res:
        md += ["", "## Agreement with the slow reference (target 1e−6)", ""]
        md += _md_table(res["agreement"], ["pmf", "class", "m", "k", "method", "D", "D_reference", "abs_diff"])
    return "\n".join(md) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and 10 s limits (a few minutes)")
    ap.add_argument("--limit", type=float, default=None, help="override the per-solve time limit (seconds)")
    ap.add_argument("--section", action="append", choices=SECTIONS,
                    help="run only this section (repeatable); the other sections keep their stored results")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    plan = _plan(args.quick, args.limit)
    sections = tuple(args.section or SECTIONS)
    path = args.out / "bench_classes.json"
    res: dict[str, Any] = {}
    if args.section and path.exists():
        import json

        res = json.loads(path.read_text())
    runners = {
        "kone": ("kone", lambda: kone_rows(plan["kone_sizes"], plan["limit_s"]), plan["limit_s"]),
        "scip": ("scip_cooccur3", lambda: scip_cooccur3(plan["scip_limit_s"]), plan["scip_limit_s"]),
        "largest": ("largest", lambda: largest_rows(plan["limit_s"], plan["largest_max_n"]), plan["limit_s"]),
        "agreement": ("agreement", agreement_rows, None),
    }
    busy_any = False
    for sec in sections:
        key, fn, lim = runners[sec]
        load0 = _load()
        res[key] = fn()
        load1 = _load()
        busy = max(x or 0.0 for x in (load0, load1)) > 1.0
        busy_any |= busy
        res[key + "_meta"] = {"quick": args.quick, "limit_s": lim, "load_start": load0, "load_end": load1,
                              "busy": busy}
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, res)
    atomic_write_text(args.out / "bench_classes.md", _md(res))
    if busy_any:
        print("warning: the load average was above 1: timings are noisy")  # noqa: T201
    print(f"wrote {args.out / 'bench_classes.md'}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
