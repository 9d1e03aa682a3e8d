"""``rdp demo``: a tour of the toolkit on built-in defaults.

Part 1 (exact, seconds): on the built-in ``cooccur3`` pmf (concepts a and b co-occur in 40 % of samples),
the optimal width-2 SAE at k = 1 and k = 2 beside the best monosemantic one (P budget 0), with figures.
Later parts (trained SAEs, audit, falsification, frontier) are added by :func:`run_demo` when their
packages are available and ``quick`` is off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rdp_exact.generators import builtin
from rdp_exact.io_utils import atomic_write_json, check_writable_dir
from rdp_exact.pmf import ConceptPMF, format_event
from rdp_exact.problem import Problem, Solution
from rdp_exact.report import fmt

log = logging.getLogger(__name__)

DEMO_PMF = "cooccur3"
DEMO_WIDTH = 2


@dataclass(frozen=True)
class DemoRow:
    """One exact solve of the demo."""

    label: str
    k: int
    solution: Solution


def exact_part(pmf: ConceptPMF, width: int = DEMO_WIDTH, solver: str = "auto") -> list[DemoRow]:
    """Optimal SAEs at k = 1 and k = 2, each beside the best monosemantic SAE (P ≤ 0)."""
    from rdp_exact.solvers import solve

    rows = []
    for k in (1, 2):
        if k > width:
            continue
        base = Problem(pmf=pmf, width=width, k=k)
        rows.append(DemoRow("optimal", k, solve(base, solver)))
        rows.append(DemoRow("best monosemantic", k, solve(base.with_(max_poly=0.0), solver)))
    return rows


def atoms_text(sol: Solution) -> str:
    """Atoms of the SAE's live latents, e.g. ``{a,b} {c}``."""
    if sol.sae is None or sol.evaluation is None:
        return "-"
    names = sol.problem.pmf.concept_names
    live = [a for a, ok in zip(sol.sae.atoms, sol.evaluation.live, strict=True) if ok]
    return " ".join(format_event(a, names) for a in sorted(live)) or "(all dead)"


def print_exact(rows: list[DemoRow], console: Console) -> None:
    """The comparison table of part 1."""
    t = Table(title=f"exact optima on {DEMO_PMF} (m = {DEMO_WIDTH})")
    for col in ("k", "SAE", "atoms", "R", "D", "P", "status"):
        t.add_column(col, justify="right" if col in ("k", "R", "D", "P") else "left")
    for r in rows:
        s = r.solution
        t.add_row(str(r.k), r.label, atoms_text(s), fmt(s.rate, 4), fmt(s.distortion, 4), fmt(s.poly, 4),
                  "proven optimal" if s.is_exact else s.status.value)
    console.print(t)


def run_demo(out: Path, *, quick: bool = False, console: Console | None = None) -> list[Path]:
    """Run the demo, writing figures and a summary into ``out``; return the paths written."""
    from rdp_exact import plots

    console = console or Console()
    check_writable_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    pmf = builtin(DEMO_PMF)
    console.rule("[bold]1. exact optimum versus the best monosemantic SAE")
    rows = exact_part(pmf)
    print_exact(rows, console)
    written: list[Path] = []
    for r in rows:
        if r.solution.sae is None:
            continue
        tag = "optimal" if r.label == "optimal" else "monosemantic"
        written.append(plots.plot_solution(r.solution, out / f"sae_k{r.k}_{tag}.png"))
    summary = {
        "pmf": DEMO_PMF,
        "width": DEMO_WIDTH,
        "rows": [{"label": r.label, "k": r.k, **r.solution.to_json_dict()} for r in rows],
    }
    written.append(atomic_write_json(out / "exact.json", summary))
    opt1 = next(r.solution for r in rows if r.k == 1 and r.label == "optimal")
    mono1 = next(r.solution for r in rows if r.k == 1 and r.label != "optimal")
    if opt1.distortion is not None and mono1.distortion is not None:
        console.print(
            f"At k = 1 the optimum reaches D = {opt1.distortion:.4g} with P = {fmt(opt1.poly, 3)}; a monosemantic SAE "
            f"cannot go below D = {mono1.distortion:.4g}. Co-occurrence of a and b makes the optimal SAE "
            "polysemantic: tightening the rate cap forces polysemanticity up."
        )
    console.rule("[bold]files written")
    for p in written:
        console.print(str(p))
    return written
