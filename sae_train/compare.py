"""Trained SAEs against the exact binary-atom optimum D*_k (DESIGN §1.4, §7).

For each (width m, cap k) of a run folder, :func:`compare_to_optimum` solves D*_k = min D under the cap
alone (free encoder class, integer coefficients, ``rdp_exact.solvers.solve``) and counts the trained SAEs
whose exact distortion is within ``tol`` (relative) of it or below it. A trained SAE can go **below**
D*_k: its decoder rows and latent values are continuous, while the combinatorial class fixes unit-weight
0/1 atoms (A4), so D*_k is not a lower bound for trained SAEs; such SAEs are counted separately.

Script::

    python -m sae_train.compare [--pmf cooccur3] [--width 2] [--k 1] [--seeds 16] [--steps 3000]
                                [--runs DIR | --out DIR]

trains TopK SAEs (unless ``--runs`` points to an existing run folder) and prints the comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rdp_exact.errors import InvalidArgument
from sae_train.io import Run, load_run

#: Absolute slack when deciding that a trained SAE is strictly below D*_k.
BELOW_TOL = 1e-9


@dataclass(frozen=True)
class Comparison:
    """Trained SAEs of one (m, k) against the exact optimum D*_k."""

    width: int
    k: int
    d_star: float
    """D*_k of the binary-atom class (exact when ``exact``)."""
    exact: bool
    """Whether the solver proved optimality."""
    solver: str
    tol: float
    """Relative tolerance: 'within' means D ≤ (1 + tol)·D*_k."""
    distortions: tuple[float, ...]
    """Exact distortion of each trained SAE (NaN for diverged ones)."""
    n_within: int
    """SAEs with D ≤ (1 + tol)·D*_k (this includes those below D*_k)."""
    n_below: int
    """SAEs with D < D*_k: continuous weights beat the binary-atom optimum."""
    n_diverged: int

    @property
    def n(self) -> int:
        """Number of trained SAEs compared."""
        return len(self.distortions)

    @property
    def fraction_within(self) -> float:
        """n_within / n."""
        return self.n_within / self.n if self.n else float("nan")

    def summary(self) -> str:
        """A few lines of text for the terminal and the docs."""
        ds = sorted(d for d in self.distortions if d == d)
        med = ds[len(ds) // 2] if ds else float("nan")
        lines = [
            f"m = {self.width}, k = {self.k}: D*_k = {self.d_star:.6g} ({'exact, ' if self.exact else ''}{self.solver})",
            f"  {self.n_within}/{self.n} SAEs ({100 * self.fraction_within:.0f}%) within {100 * self.tol:.0f}% of D*_k or below it;"
            f" trained D: min {ds[0] if ds else float('nan'):.4g}, median {med:.4g}, max {ds[-1] if ds else float('nan'):.4g}",
        ]
        if self.n_below:
            lines.append(
                f"  {self.n_below}/{self.n} SAEs are BELOW D*_k: continuous weights beat the best binary-atom SAE (A4)"
            )
        if self.n_diverged:
            lines.append(f"  {self.n_diverged} SAE(s) diverged (counted as not within)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["distortions"] = [x if x == x else None for x in self.distortions]
        d["fraction_within"] = self.fraction_within
        return d


def compare_to_optimum(
    runs: Run | str | os.PathLike[str],
    *,
    tol: float = 0.05,
    solver: str = "brute",
    d_star: dict[tuple[int, int], float] | None = None,
) -> list[Comparison]:
    """Compare every (width, k) group of a run with D*_k (solved, or given in ``d_star[(m, k)]``)."""
    from rdp_exact.problem import Problem
    from rdp_exact.solvers import solve

    if not tol >= 0:
        raise InvalidArgument(f"tolerance must be ≥ 0, got {tol!r}")
    run = runs if isinstance(runs, Run) else load_run(runs)
    groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in run.rows:
        if r.get("k") is None:
            raise InvalidArgument(f"{r['sae_dir']}: no k recorded; D*_k needs a cap")
        groups.setdefault((int(r["width"]), int(r["k"])), []).append(r)
    out = []
    for (m, kv), rows in sorted(groups.items()):
        if d_star is not None and (m, kv) in d_star:
            ds, exact, name = float(d_star[(m, kv)]), True, "given"
        else:
            sol = solve(Problem(run.dgp.pmf, width=m, k=kv), solver)
            if sol.distortion is None:
                raise InvalidArgument(f"the {solver} solver returned no SAE for m = {m}, k = {kv}")
            ds, exact, name = float(sol.distortion), sol.is_exact, sol.solver
        dist = tuple(float("nan") if r["diverged"] else float(r["distortion"]) for r in rows)
        within = sum(1 for x in dist if x == x and x <= (1 + tol) * ds + BELOW_TOL)
        below = sum(1 for x in dist if x == x and x < ds - BELOW_TOL)
        out.append(Comparison(m, kv, ds, exact, name, tol, dist, within, below, sum(bool(r["diverged"]) for r in rows)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sae_train.compare``: train TopK SAEs (or read ``--runs``) and compare with D*_k."""
    ap = argparse.ArgumentParser(prog="python -m sae_train.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pmf", default="cooccur3")
    ap.add_argument("--arch", default="topk")
    ap.add_argument("--width", type=int, default=2)
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--tol", type=float, default=0.05)
    ap.add_argument("--solver", default="brute")
    ap.add_argument("--runs", help="compare an existing run folder instead of training")
    ap.add_argument("--out", help="keep the trained run here (default: a temporary folder)")
    ap.add_argument("--json", help="write the comparison as JSON")
    args = ap.parse_args(argv)
    try:
        if args.runs:
            comps = compare_to_optimum(args.runs, tol=args.tol, solver=args.solver)
        else:
            from rdp_exact.pmf import load_pmf
            from sae_train.data import DGP
            from sae_train.io import check_run_dir, save_run
            from sae_train.train import TrainConfig, train

            cfg = TrainConfig(arch=args.arch, width=args.width, k=(args.k,), steps=args.steps,
                              seeds=tuple(range(args.seeds)), lr=(args.lr,), device="auto")
            dgp = DGP.make(load_pmf(args.pmf))
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(args.out) if args.out else Path(tmp) / "run"
                check_run_dir(out)
                save_run(out, dgp, train(dgp, cfg))
                comps = compare_to_optimum(out, tol=args.tol, solver=args.solver)
        for c in comps:
            print(c.summary())
        if args.json:
            from rdp_exact.io_utils import atomic_write_text

            atomic_write_text(args.json, json.dumps([c.to_dict() for c in comps], indent=2) + "\n")
    except InvalidArgument as exc:
        print(f"compare: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
