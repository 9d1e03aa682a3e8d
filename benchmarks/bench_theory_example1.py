"""C-E1 study: how often is the exact optimum of Example 1 (n = 3, m = 2) monosemantic, hedged, splitting
or none of the three, and do the closed forms predict it?

``python -m benchmarks.bench_theory_example1 [--quick] [--samples N] [--seed S]`` solves random pmfs
exactly with brute force for k = 1 and k = 2, in two regimes: Dirichlet(1) weights on all 8 events
("full support") and the same with each event dropped with probability 0.4 ("sparse support"). Writes
``bench-results/bench_theory_example1.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rdp_exact import theory as T
from rdp_exact.generators import example1
from rdp_exact.problem import Problem
from rdp_exact.solvers import solve

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"
STRUCTURES = ("monosemantic", "hedged", "splitting", "other")
OTHER_KINDS = ("overlapping pairs", "uses {a,b,c}", "one live atom")


def other_kind(live: list[int]) -> str:
    """Sub-kind of an optimum outside the three families."""
    if any(a == 0b111 for a in live):
        return "uses {a,b,c}"
    if len(set(live)) < 2:
        return "one live atom"
    return "overlapping pairs"


def sample(rng: np.random.Generator, sparse: bool) -> list[float]:
    w = rng.dirichlet(np.ones(8))
    if sparse:
        w[rng.random(8) < 0.4] = 0.0
        if w.sum() == 0:
            w[rng.integers(8)] = 1.0
    return list(w / w.sum())


def run(samples: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    out: dict[str, object] = {"samples_per_regime": samples, "seed": seed, "regimes": {}}
    others: list[dict[str, object]] = []
    t0 = time.perf_counter()
    for regime in ("full", "sparse"):
        table: dict[str, dict[str, int]] = {}
        for k in (1, 2):
            counts = dict.fromkeys(STRUCTURES, 0)
            counts["predicted_correctly"] = 0
            counts["mispredicted"] = 0
            for kind in OTHER_KINDS:
                counts[kind] = 0
            for _ in range(samples):
                pmf = example1(sample(rng, regime == "sparse"), normalize=True)
                sol = solve(Problem(pmf=pmf, width=2, k=k), "brute")
                assert sol.sae is not None and sol.evaluation is not None
                live = [a for a, ok in zip(sol.sae.atoms, sol.evaluation.live, strict=True) if ok]
                s = T.example1_structure(live)
                counts[s] += 1
                if s == "other":
                    counts[other_kind(live)] += 1
                    if len(others) < 20:
                        others.append({"k": k, "pmf": [pmf.prob(e) for e in range(8)],
                                       "atoms": [sorted(int(i) for i in range(3) if a >> i & 1) for a in live],
                                       "D": sol.distortion, "R": sol.rate})
                elif s in T.example1_tied_families(pmf, k):
                    counts["predicted_correctly"] += 1
                else:
                    counts["mispredicted"] += 1
            table[f"k={k}"] = counts
        out["regimes"][regime] = table  # type: ignore[index]
    out["examples_of_other"] = others
    out["wall_s"] = time.perf_counter() - t0
    return out


def markdown(res: dict[str, object]) -> str:
    lines = [
        "# C-E1: structure of the exact Example 1 optimum (n = 3, m = 2)",
        "",
        f"{res['samples_per_regime']} random pmfs per regime and k (seed {res['seed']}); brute-force optima.",
        "",
        "| regime | k | monosemantic | hedged | splitting | none of the three (overlapping pairs / uses {a,b,c}"
        " / one atom) | closed forms right | wrong |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for regime, table in res["regimes"].items():  # type: ignore[attr-defined]
        for k, c in table.items():
            lines.append(f"| {regime} | {k[2:]} | {c['monosemantic']} | {c['hedged']} | {c['splitting']} | "
                         f"{c['other']} ({c['overlapping pairs']} / {c['uses {a,b,c}']} / {c['one live atom']}) | "
                         f"{c['predicted_correctly']} | {c['mispredicted']} |")
    ex = res["examples_of_other"]
    if ex:
        lines += ["", "Examples of optima outside the three families (atoms as concept lists):", ""]
        for e in ex[:5]:  # type: ignore[index]
            lines.append(f"- k = {e['k']}: atoms {e['atoms']}, D = {e['D']:.4g}, R = {e['R']:.4g}, "
                         f"π = {[round(p, 3) for p in e['pmf']]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="20 pmfs per regime and k")
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    res = run(20 if args.quick else args.samples, args.seed)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_theory_example1.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / "bench_theory_example1.md").write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
