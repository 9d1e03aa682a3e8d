"""Exact optima in the real SAE classes (rdp_exact.classes, issue 11): speed and agreement.

Run ``python -m benchmarks.bench_classes [--quick]``; writes ``bench-results/bench_classes.json`` and ``.md``.

* **k = 1 decomposition** (``kone``: clustering branch and bound) on random pmfs up to n = 6, N = 32, m = 4 in
  real-atoms, real-atoms + bias and real-codes; target < 1 s. Baseline measured in the same run: the slow
  enumeration reference on the small sizes it can reach (ratio reference / kone).
* **SCIP, real-atoms, m = 3, k = 2 on cooccur3** (target: proven ≤ 10 s), beside the pattern branch and bound
  on the same instance (ratio).
* **Largest sizes proven within the time limit** per method and class (sizes grow until the first failure).
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
    return {"status": sol.status.value, "D": sol.distortion, "bound": sol.bound, "wall_s": round(time.perf_counter() - t, 3),
            "method": sol.method}


def kone_rows(sizes: list[tuple[int, int, int]], limit: float) -> list[dict[str, Any]]:
    rows = []
    for n, N, m in sizes:
        pmf = random_pmf(n, N, 1)
        for cls, bias in KONE_CLASSES:
            pr = ClassProblem(pmf, m, 1, cls, bias)  # type: ignore[arg-type]
            r = {"n": n, "N": pmf.support_size, "m": m, "class": pr.label, "load": _load(), **_run(pr, "kone", limit)}
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
    plans = [("patterns", "real-atoms", False, 2), ("patterns", "real-atoms", True, 2),
             ("scip", "real-atoms", False, 2), ("scip", "real-codes", False, 2), ("scip", "real-codes", True, 1)]
    rows = []
    for method, cls, bias, k in plans:
        for n, N, m in [(3, 4, 2), (3, 6, 2), (3, 8, 3), (4, 10, 3), (4, 12, 3), (5, 16, 3), (6, 20, 4)]:
            if n > max_n:
                break
            pr = ClassProblem(random_pmf(n, N, 2), m, k, cls, bias)  # type: ignore[arg-type]
            r = {"method": method, "class": pr.label, "k": k, "n": n, "N": pr.pmf.support_size, "m": m,
                 "load": _load(), **_run(pr, method, limit)}
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
            rows.append({"pmf": name, "class": pr.label, "m": m, "k": k, "method": fast.method, "D": fast.distortion,
                         "D_reference": ref.distortion, "abs_diff": abs(fast.distortion - ref.distortion)})
    return rows


def _md_table(rows: list[dict[str, Any]], cols: list[str]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join("–" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float)
                                                                    else str(r[c])) for c in cols) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and limits (a few minutes)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    load0 = _load()
    limit = 20.0 if args.quick else 60.0
    sizes = [(3, 6, 2), (4, 12, 3), (5, 16, 3), (5, 16, 4), (6, 20, 4), (6, 24, 4), (6, 32, 4)]
    if args.quick:
        sizes = sizes[:5]
    t0 = time.perf_counter()
    res = {
        "quick": args.quick, "limit_s": limit, "load_start": load0,
        "kone": kone_rows(sizes, limit),
        "scip_cooccur3": scip_cooccur3(limit),
        "largest": largest_rows(limit, 5 if args.quick else 6),
        "agreement": agreement_rows(),
    }
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    res["load_end"] = _load()
    busy = max(x or 0.0 for x in (load0, res["load_end"])) > 1.0
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out / "bench_classes.json", res)
    md = ["# bench_classes", "", f"Limit {limit:g} s per solve; load average {load0} → {res['load_end']}"
          + (" (**machine busy: timings are noisy**)" if busy else "") + ".", "",
          "## k = 1 decomposition (target < 1 s)", ""]
    md += _md_table(res["kone"], ["n", "N", "m", "class", "status", "wall_s", "reference_s", "ratio_reference_over_kone"])
    md += ["", "## SCIP on cooccur3, real-atoms, m = 3, k = 2 (target proven ≤ 10 s)", ""]
    md += _md_table(res["scip_cooccur3"], ["case", "method", "status", "D", "bound", "wall_s", "ratio_over_patterns"])
    md += ["", f"## Largest sizes proven within {limit:g} s", ""]
    md += _md_table(res["largest"], ["method", "class", "k", "n", "N", "m", "status", "wall_s"])
    md += ["", "## Agreement with the slow reference (target 1e−6)", ""]
    md += _md_table(res["agreement"], ["pmf", "class", "m", "k", "method", "D", "D_reference", "abs_diff"])
    atomic_write_text(args.out / "bench_classes.md", "\n".join(md) + "\n")
    if busy:
        print(f"warning: load average {load0} → {res['load_end']}: the machine was not idle")  # noqa: T201
    print(f"wrote {args.out / 'bench_classes.md'}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
