"""``rdp demo``: an end-to-end tour of the toolkit on built-in defaults (about two minutes on 2 cores).

All steps use the built-in ``cooccur3`` pmf (concepts a and b co-occur in 40 % of the samples):

1. **exact** — the optimal width-2 SAE at k = 1 and k = 2 beside the best monosemantic one (P budget 0),
   solved exactly (:func:`rdp_exact.solvers.solve`), with a picture of each SAE;
2. **frontier** — the exact RDP frontier of width 3 at k = 1 on a small budget grid
   (:mod:`rdp_exact.frontier`): R*(δ, ρ) staircases, the P floor and D*_k against k;
3. **train** — a few TopK SAEs of width 3 at k = 1 and k = 2 (:mod:`sae_train`), exact metrics;
4. **audit** — those SAEs against the exact optimum of the same (π, m, k) (:mod:`audit.optimum`);
5. **falsify** — a falsification run of every claim of DESIGN §2 with a small example budget
   (:mod:`proofs_check.runner`);

then an ``index.html`` report (:mod:`rdp.html_report`) and a plain-language reading of the numbers.
``quick`` runs step 1 only (seconds). Each later step degrades gracefully: if its package raises, the demo
prints one line saying so and goes on (the audit is skipped when training failed). Everything is written
into a staging folder and moved to ``out`` at the end, so an interrupted demo leaves nothing behind.
"""

from __future__ import annotations

import functools
import logging
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rdp_exact.generators import builtin
from rdp_exact.io_utils import atomic_write_json, check_writable_dir
from rdp_exact.pmf import ConceptPMF, format_event
from rdp_exact.problem import Problem, Solution
from rdp_exact.report import fmt
from rdp_exact.validate import check_int

log = logging.getLogger(__name__)

DEMO_PMF = "cooccur3"
DEMO_WIDTH = 2
#: Width of the frontier, training and audit steps (the setting of the paper's Fig. 3).
TOUR_WIDTH = 3
STEPS: tuple[str, ...] = ("exact", "frontier", "train", "audit", "falsify")


@dataclass(frozen=True)
class DemoBudget:
    """How much work each step does (the defaults take about two minutes on 2 cores)."""

    frontier_grid: int = 6
    """Budget values per axis of the frontier grid."""
    train_steps: int = 2000
    """Optimiser steps of the trained SAEs."""
    train_seeds: int = 4
    """Seeds per k (k = 1 and 2)."""
    falsify_examples: int = 20
    """Examples per claim of the falsification run."""
    falsify_jobs: int = 2
    """Worker processes of the falsification run."""

    def __post_init__(self) -> None:
        for name, lo in (("frontier_grid", 2), ("train_steps", 1), ("train_seeds", 1), ("falsify_examples", 1),
                         ("falsify_jobs", 1)):
            check_int(f"demo budget {name}", getattr(self, name), min=lo)

    @classmethod
    def reduced(cls) -> DemoBudget:
        """A few seconds per step (tests)."""
        return cls(frontier_grid=3, train_steps=120, train_seeds=2, falsify_examples=3, falsify_jobs=1)


@dataclass
class StepOutcome:
    """What one step did."""

    name: str
    status: str = "ok"
    """``ok`` | ``failed`` | ``skipped``."""
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)
    """Paths inside the staging folder (moved under ``out`` at the end)."""
    message: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    """Numbers the closing explanation uses."""


@dataclass(frozen=True)
class DemoRow:
    """One exact solve of step 1."""

    label: str
    k: int
    solution: Solution


# ------------------------------------------------------------------------------------------ step 1
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
    """The comparison table of step 1."""
    t = Table(title=f"exact optima on {DEMO_PMF} (m = {DEMO_WIDTH})")
    for col in ("k", "SAE", "atoms", "R", "D", "P", "status"):
        t.add_column(col, justify="right" if col in ("k", "R", "D", "P") else "left")
    for r in rows:
        s = r.solution
        t.add_row(str(r.k), r.label, atoms_text(s), fmt(s.rate, 4), fmt(s.distortion, 4), fmt(s.poly, 4),
                  "proven optimal" if s.is_exact else s.status.value)
    console.print(t)


def step_exact(pmf: ConceptPMF, folder: Path, console: Console, outcome: StepOutcome) -> None:
    from rdp_exact import plots

    folder.mkdir(parents=True, exist_ok=True)
    rows = exact_part(pmf)
    print_exact(rows, console)
    for r in rows:
        if r.solution.sae is None:
            continue
        tag = "optimal" if r.label == "optimal" else "monosemantic"
        outcome.files.append(plots.plot_solution(r.solution, folder / f"sae_k{r.k}_{tag}.png"))
    summary = {"pmf": DEMO_PMF, "width": DEMO_WIDTH,
               "rows": [{"label": r.label, "k": r.k, **r.solution.to_json_dict()} for r in rows]}
    outcome.files.append(atomic_write_json(folder / "exact.json", summary))
    opt1 = next(r.solution for r in rows if r.k == 1 and r.label == "optimal")
    mono1 = next(r.solution for r in rows if r.k == 1 and r.label != "optimal")
    outcome.facts.update(d_opt=opt1.distortion, p_opt=opt1.poly, r_opt=opt1.rate, d_mono=mono1.distortion,
                         atoms_opt=atoms_text(opt1), atoms_mono=atoms_text(mono1),
                         exact=all(r.solution.is_exact for r in rows))


# ------------------------------------------------------------------------------------------ step 2
def step_frontier(pmf: ConceptPMF, folder: Path, console: Console, outcome: StepOutcome, budget: DemoBudget) -> None:
    from rdp_exact.frontier import FrontierConfig, compute_frontier
    from rdp_exact.frontier_report import write_frontier

    cfg = FrontierConfig(pmf=pmf, width=TOUR_WIDTH, k=1, grid=budget.frontier_grid)
    res = compute_frontier(cfg)
    write_frontier(res, folder)
    outcome.files += sorted(p for p in folder.rglob("*") if p.is_file())
    floors = {r.k: r.p_floor for r in res.per_k}
    console.print(f"{len(res.rows)} exact solves ({'all proven' if res.all_exact else 'NOT all proven'}): "
                  f"D*_1 = {fmt(res.d_star_k, 4)} at R = {fmt(res.rate_at_d_star_k, 4)}, monosemantic floor "
                  f"D_min = {fmt(res.d_min, 4)}; least P at D ≤ D*_k: "
                  + ", ".join(f"k = {k}: {fmt(v, 3)}" for k, v in floors.items()))
    outcome.facts.update(points=len(res.rows), all_exact=res.all_exact, d_star=res.d_star_k, d_min=res.d_min,
                         floors=floors)


# ------------------------------------------------------------------------------------------ step 3
def step_train(pmf: ConceptPMF, folder: Path, console: Console, outcome: StepOutcome, budget: DemoBudget) -> None:
    from sae_train.data import DGP
    from sae_train.io import save_run
    from sae_train.train import TrainConfig, train

    dgp = DGP.make(pmf, pmf.n, seed=0)
    cfg = TrainConfig(arch="topk", width=TOUR_WIDTH, steps=budget.train_steps, k=(1, 2),
                      seeds=tuple(range(budget.train_seeds)), lr=(3e-3,))
    with _one_thread():
        res = train(dgp, cfg)
    save_run(folder, dgp, res)
    outcome.files += sorted(p for p in folder.rglob("*") if p.is_file())
    t = Table(title=f"{len(res.specs)} TopK SAEs, m = {TOUR_WIDTH}, {budget.train_steps} steps (exact metrics)")
    for col in ("k", "seed", "R", "D", "P_dec", "dead"):
        t.add_column(col, justify="right")
    for spec, m in zip(res.specs, res.metrics, strict=True):
        t.add_row(str(spec.k), str(spec.seed), fmt(m.rate, 4), fmt(m.distortion, 4), fmt(m.poly_dec, 3), str(m.dead))
    console.print(t)
    outcome.facts.update(n=len(res.specs), device=res.device,
                         by_k={kk: [m.distortion for s, m in zip(res.specs, res.metrics, strict=True) if s.k == kk]
                               for kk in (1, 2)},
                         poly={kk: [m.poly_dec for s, m in zip(res.specs, res.metrics, strict=True) if s.k == kk]
                               for kk in (1, 2)})


class _one_thread:
    """torch with one intra-op thread on CPU (tiny models; extra threads only contend)."""

    def __enter__(self) -> None:
        import torch

        self.before = torch.get_num_threads()
        if not torch.cuda.is_available():
            torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_num_threads(self.before)


# ------------------------------------------------------------------------------------------ step 4
def step_audit(runs: Path, folder: Path, console: Console, outcome: StepOutcome) -> None:
    from audit.optimum import OptimumAuditConfig, audit_optimum
    from audit.optimum_report import write_optimum_audit

    aud = audit_optimum(runs, OptimumAuditConfig(max_atom_figures=4))
    folder.mkdir(parents=True, exist_ok=True)
    outcome.files += write_optimum_audit(aud, folder)
    t = Table(title="trained SAEs against the exact optimum of the same (π, m, k)")
    for col in ("SAE", "k", "D", "D*_k", "D − D*_k", "P_dec", "P_opt", "D_min", "latents"):
        t.add_column(col, justify="right")
    for s in aud.saes:
        row = s.to_row()
        lat = ", ".join(f"{row[c]} {c[2:]}" for c in ("n_mono", "n_hedged", "n_splitting", "n_dead")
                        if row.get(c))
        t.add_row(s.sae_dir, str(s.k), fmt(row["distortion"], 4), fmt(row["d_star_k"], 4), fmt(row["gap_d"], 3),
                  fmt(row["poly_dec"], 3), fmt(row["poly_opt"], 3), fmt(row["d_min"], 4), lat)
    console.print(t)
    outcome.facts.update(n=len(aud.saes), beating=len(aud.beating()), all_exact=aud.all_exact,
                         optima={o.k: (o.d_star_k, o.poly_opt, o.d_min) for o in aud.optima})


# ------------------------------------------------------------------------------------------ step 5
def step_falsify(folder: Path, console: Console, outcome: StepOutcome, budget: DemoBudget) -> None:
    from proofs_check import runner
    from proofs_check.claims import CLAIM_IDS

    cfg = runner.FalsifyConfig(claims=CLAIM_IDS, examples=budget.falsify_examples, seed=0, profile="ci",
                               jobs=budget.falsify_jobs)
    report = runner.run(cfg, folder, console=console)
    outcome.files += sorted(p for p in folder.rglob("*") if p.is_file())
    for line in runner.summary_lines(report):
        console.print(line, highlight=False)
    outcome.facts.update(claims=len(report.claims), survived=sum(c.verdict == "survived" for c in report.claims),
                         falsified=[c.id for c in report.claims if c.verdict != "survived"],
                         examples=budget.falsify_examples, ok=report.ok)


# ------------------------------------------------------------------------------------------ the tour
def _run_step(outcome: StepOutcome, console: Console, fn: Callable[[], None]) -> None:
    t0 = time.perf_counter()
    try:
        fn()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a broken package must not stop the tour
        outcome.status = "failed"
        outcome.message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log.debug("demo step %s failed:\n%s", outcome.name, traceback.format_exc())
        console.print(f"[yellow]step '{outcome.name}' failed and is left out: {outcome.message}[/yellow]")
    outcome.seconds = time.perf_counter() - t0


def _median(xs: list[float]) -> float:
    ys = sorted(x for x in xs if x == x)
    return ys[len(ys) // 2] if ys else math.nan


def explanation(steps: dict[str, StepOutcome]) -> list[str]:
    """The plain-language reading of the numbers (one paragraph per step that ran)."""
    out: list[str] = []
    e = steps.get("exact")
    if e and e.status == "ok":
        f = e.facts
        out.append(
            f"Exact optimum. With two latents and one active latent per sample (k = 1), the best SAE "
            f"({f['atoms_opt']}) reaches distortion D = {fmt(f['d_opt'], 4)} (expected squared error per sample) "
            f"at polysemanticity P = {fmt(f['p_opt'], 3)}; the best monosemantic SAE ({f['atoms_mono']}) cannot go "
            f"below D = {fmt(f['d_mono'], 4)}. Because a and b co-occur so often, a latent that writes both at once "
            "is worth its polysemanticity: tightening the rate cap forces polysemanticity up.")
    fr = steps.get("frontier")
    if fr and fr.status == "ok":
        f = fr.facts
        floors = ", ".join(f"{fmt(v, 3)} at k = {k}" for k, v in f["floors"].items())
        out.append(
            f"Frontier. {f['points']} exact solves with three latents: at k = 1 the optimum reaches D*_k = "
            f"{fmt(f['d_star'], 4)} while any monosemantic SAE needs D ≥ D_min = {fmt(f['d_min'], 4)}. The least "
            f"polysemanticity of an SAE that matches the TopK optimum is {floors}: it falls as the cap loosens, "
            "and frontier/rd_staircases.png shows every budget trade-off (tighter D or P budgets cost rate).")
    tr = steps.get("train")
    if tr and tr.status == "ok":
        f = tr.facts
        out.append(
            f"Training. {f['n']} TopK SAEs (random init) reached median D = {fmt(_median(f['by_k'][1]), 4)} at k = 1 "
            f"and {fmt(_median(f['by_k'][2]), 4)} at k = 2, with median P_dec = {fmt(_median(f['poly'][1]), 3)} and "
            f"{fmt(_median(f['poly'][2]), 3)}; these are exact values (the toy data have finitely many inputs).")
    au = steps.get("audit")
    if au and au.status == "ok":
        f = au.facts
        opt = "; ".join(f"k = {k}: D*_k = {fmt(d, 4)}, P_opt = {fmt(p, 3)}, D_min = {fmt(m, 4)}"
                        for k, (d, p, m) in sorted(f["optima"].items()))
        out.append(
            f"Audit. Each trained SAE is compared with the exact optimum of its (π, m, k) ({opt}). {f['beating']} of "
            f"{f['n']} trained SAEs have D below D*_k: trained SAEs have continuous weights, while the exact class uses "
            "0/1 atoms, so this can happen and is reported rather than hidden. The gap column shows how far the "
            "others are from the optimum, and the latent columns how their latents are structured (monosemantic, "
            "hedged, splitting, dead).")
    fa = steps.get("falsify")
    if fa and fa.status == "ok":
        f = fa.facts
        bad = f", falsified: {', '.join(f['falsified'])} (see falsify/report.md)" if f["falsified"] else ""
        out.append(
            f"Falsification. The falsifier searched {f['examples']} random instances per claim for a counterexample: "
            f"{f['survived']} of {f['claims']} claims survived{bad}. This is a small budget; "
            "`rdp falsify` runs the deep search.")
    return out


def _is_weight_file(rel: str) -> bool:
    """Files of one trained SAE (``train/sae_000/…``): listed by count only."""
    return rel.startswith("train/sae_")


def _report_sections(steps: dict[str, StepOutcome], tmp: Path) -> list[Any]:
    from rdp.html_report import Section

    texts = {
        "exact": "Optimal width-2 SAEs on cooccur3 at k = 1 and 2 beside the best monosemantic SAE (P = 0).",
        "frontier": "The exact RDP frontier with three latents at k = 1 (rdp frontier).",
        "train": "TopK SAEs trained on the same pmf (rdp train); runs.csv has their exact metrics.",
        "audit": "The trained SAEs against the exact optimum (rdp audit optimum).",
        "falsify": "A small falsification run of every claim (rdp falsify).",
    }
    secs = []
    for name in STEPS:
        o = steps.get(name)
        if o is None:
            continue
        if o.status != "ok":
            secs.append(Section(name, f"{texts[name]}\n\nThis step {o.status}: {o.message}"))
            continue
        rels = [p.relative_to(tmp).as_posix() for p in o.files]
        keep = [r for r in rels if r.endswith((".png", ".md", ".csv", ".json")) and not _is_weight_file(r)
                and not r.endswith(("history.csv", "dgp.json"))]
        secs.append(Section(name, texts[name], tuple(keep)))
    return secs


def run_demo(out: Path, *, quick: bool = False, console: Console | None = None,
             budget: DemoBudget | None = None) -> list[Path]:
    """Run the tour (module docstring), writing into ``out``; return the paths written.

    Steps that fail are reported and skipped; their outcome is in ``out/demo.json``.
    """
    from rdp.html_report import write_html_report
    from rdp_exact.io_utils import staged_dir

    console = console or Console()
    budget = budget or DemoBudget()
    out = check_writable_dir(out)
    pmf = builtin(DEMO_PMF)
    steps: dict[str, StepOutcome] = {}
    t_all = time.perf_counter()
    with staged_dir(out) as tmp:
        plan: list[tuple[str, str, Callable[[StepOutcome], None]]] = [
            ("exact", "1. exact optimum versus the best monosemantic SAE",
             lambda o: step_exact(pmf, tmp / "exact", console, o)),
        ]
        if not quick:
            plan += [
                ("frontier", "2. the exact RDP frontier (m = 3, k = 1)",
                 lambda o: step_frontier(pmf, tmp / "frontier", console, o, budget)),
                ("train", "3. training TopK SAEs (m = 3, k = 1 and 2)",
                 lambda o: step_train(pmf, tmp / "train", console, o, budget)),
                ("audit", "4. the trained SAEs against the exact optimum",
                 lambda o: step_audit(tmp / "train", tmp / "audit", console, o)),
                ("falsify", "5. a small falsification run of the claims",
                 lambda o: step_falsify(tmp / "falsify", console, o, budget)),
            ]
        for name, title, fn in plan:
            console.rule(f"[bold]{title}")
            o = steps[name] = StepOutcome(name)
            if name == "audit" and steps["train"].status != "ok":
                o.status, o.message = "skipped", "no trained SAEs (the training step failed)"
                console.print(f"[yellow]step 'audit' skipped: {o.message}[/yellow]")
                continue
            _run_step(o, console, functools.partial(fn, o))
            console.print(f"[dim]({name}: {o.seconds:.1f} s)[/dim]")
        lines = explanation(steps)
        total = time.perf_counter() - t_all
        record = {
            "pmf": DEMO_PMF, "quick": quick, "budget": asdict(budget) if not quick else None,
            "seconds": round(total, 2),
            "steps": [{"name": o.name, "status": o.status, "seconds": round(o.seconds, 2), "message": o.message,
                       "files": [p.relative_to(tmp).as_posix() for p in o.files]} for o in steps.values()],
            "explanation": lines,
        }
        written = [p for o in steps.values() for p in o.files]
        written.append(atomic_write_json(tmp / "demo.json", record))
        try:
            written.append(write_html_report(tmp, "rdp demo", _report_sections(steps, tmp),
                                             intro="\n\n".join(lines)))
        except Exception as exc:  # the report is a convenience: never lose the results for it
            console.print(f"[yellow]index.html not written: {type(exc).__name__}: {exc}[/yellow]")
        final = [out / p.relative_to(tmp) for p in written]
    console.rule("[bold]what the numbers mean")
    for line in lines:
        console.print(line, highlight=False)
        console.print()
    console.rule("[bold]files written")
    for name in STEPS:
        if name in steps:
            o = steps[name]
            console.print(f"{name}: {o.status} in {o.seconds:.1f} s" + (f" — {o.message}" if o.message else ""))
    shown = [p for p in final if not _is_weight_file(p.relative_to(out).as_posix())]
    for p in shown:
        console.print(str(p), highlight=False, soft_wrap=True)
    if len(shown) < len(final):
        console.print(f"… and {len(final) - len(shown)} SAE weight/config files under {out / 'train'}", highlight=False,
                      soft_wrap=True)
    console.print(f"open {out / 'index.html'} for the report (total {total:.0f} s)", highlight=False,
                  soft_wrap=True)
    return final
