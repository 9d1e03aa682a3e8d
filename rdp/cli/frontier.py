"""``rdp theory`` (closed forms, :mod:`rdp_exact.theory`) and ``rdp frontier`` (:mod:`rdp_exact.frontier`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from rdp.cli.options import NormalizeOpt, PmfArg

if TYPE_CHECKING:
    from rdp_exact.theory_report import TheoryReport

WidthOpt = Annotated[int, typer.Option("--width", "-m", help="number of latents m")]
KOpt = Annotated[int, typer.Option("--k", "-k", help="cap on active latents per sample")]
SolverOpt = Annotated[str, typer.Option(help="auto | brute | bnb | highs | cpsat | scip")]
TimeLimitOpt = Annotated[Optional[float], typer.Option(
    help="wall-clock seconds: for the whole command (theory) or per grid point (frontier)")]


def _check_solver(solver: str, time_limit: float | None = None) -> None:
    from rdp_exact.solvers import check_time_limit, parse_solver

    parse_solver(solver)
    check_time_limit(time_limit)


def print_theory(rep: TheoryReport, show_steps: int = 12) -> None:
    """Terminal rendering of a :class:`~rdp_exact.theory_report.TheoryReport`."""
    from rich.table import Table

    from rdp_exact.pmf import format_event
    from rdp_exact.report import console, fmt

    c = console()
    names = rep.pmf.names()
    c.print(f"[bold]closed forms[/bold] (DESIGN §2) for n = {rep.pmf.n}, N = {rep.pmf.support_size}, "
            f"m = {rep.width}, k = {rep.k}")
    c.print(f"E|S| = {fmt(rep.expected_sparsity)}")
    mt = Table(title="marginals p_i")
    for nm in names:
        mt.add_column(nm, justify="right")
    mt.add_row(*[fmt(p, 4) for p in rep.marginals])
    c.print(mt)
    sets = ", ".join(format_event(a, rep.pmf.concept_names) for a in rep.best_sets)
    c.print(f"D_min(m, k) = {fmt(rep.d_min)}  (C-T5; best monosemantic concept sets: {sets})")
    st = rep.staircase
    t = Table(title="monosemantic staircase R*(δ, 0) (C-T5)", min_width=44,
              caption=f"{len(st.points)} corners" + (" (truncated at --max-steps)" if st.truncated else ""))
    t.add_column("D (δ from)", justify="right")
    t.add_column("R = E|S| − D", justify="right")
    for d, r in st.points[:show_steps]:
        t.add_row(fmt(d), fmt(r))
    if len(st.points) > show_steps:
        t.add_row("…", "…")
    c.print(t)
    opt = rep.optimum
    proof = "proven optimal" if opt.is_exact else f"status {opt.status.value}, NOT proven"
    c.print(f"D*_k = {fmt(opt.distortion)} at R = {fmt(opt.rate)}, P = {fmt(opt.poly)} "
            f"({proof}; {opt.solver})")
    for note in opt.info.get("notes", ()):
        c.print(f"note: {note}", markup=False)
    if opt.sae is not None and opt.evaluation is not None:
        live = [format_event(a, rep.pmf.concept_names) for a, ok in zip(opt.sae.atoms, opt.evaluation.live,
                                                                          strict=True) if ok]
        c.print(f"optimal atoms: {', '.join(live) or '(none)'}")
    tax = rep.rate_tax
    if rep.rate_tax_error is not None:
        c.print(f"rate tax (C-T4): not computed — {rep.rate_tax_error}")
    elif tax is None:
        c.print("rate tax (C-T4): none — D*_k ≥ D_min, the optimum can be monosemantic")
    elif tax.d_bar is None:
        c.print("rate tax (C-T4): no monosemantic width-m SAE reaches D ≤ D*_k at any cap (R* = ∞)")
    else:
        c.print(f"rate tax (C-T4): D̄ = {fmt(tax.d_bar)}, monosemantic R ≥ {fmt(tax.rate_lower_bound)} "
                f"vs R_opt = {fmt(tax.rate_opt)}: tax = {fmt(tax.tax)}")
    dt = rep.distortion_tax
    if dt is not None:
        c.print(f"distortion tax (C-DT) at r = {fmt(dt.rate_budget)}: monosemantic D ≥ {fmt(dt.d_mono)} "
                f"(any cap ≥ {fmt(dt.d_mono_any_cap)}) vs D*(r) = {fmt(dt.d_star)}: tax = {fmt(dt.tax)}")
    elif rep.distortion_tax_error is not None:
        c.print(f"distortion tax (C-DT): not computed — {rep.distortion_tax_error}")
    ex = rep.example1
    if ex is not None:
        et = Table(title=f"Example 1 (C-E1), k = {ex['k']}: closed forms, best first")
        for col in ("code", "family", "D", "R", "P"):
            et.add_column(col, justify="right" if col in ("D", "R", "P") else "left")
        for row in ex["codes"]:
            et.add_row(row["name"], row["family"], fmt(row["D"]), fmt(row["R"]), fmt(row["P"], 3))
        c.print(et)
        c.print(f"predicted structure: {ex['predicted_structure']}; exact optimum's structure: "
                f"{ex['optimum_structure']}")


def cmd_theory(
    pmf: PmfArg,
    width: WidthOpt,
    k: KOpt,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="write the closed forms as JSON")] = None,
    max_steps: Annotated[int, typer.Option(help="corners of the monosemantic staircase to keep")] = 10_000,
    solver: SolverOpt = "auto",
    time_limit: TimeLimitOpt = None,
    coefficients: Annotated[str, typer.Option(help="integer | disjoint (for D*_k)")] = "integer",
    normalize: NormalizeOpt = False,
    rate_budget: Annotated[Optional[float], typer.Option(
        "--rate-budget", help="rate budget r of the distortion tax (default: the optimum's rate)")] = None,
    sae_class: Annotated[str, typer.Option("--class", help="also D_min and D*_k of this SAE class: binary | "
                                                          "real-atoms | real-codes")] = "binary",
    decoder_bias: Annotated[bool, typer.Option("--decoder-bias/--no-decoder-bias",
                                               help="the class has a free decoder bias")] = False,
) -> None:
    """Closed forms: E|S|, marginals, D_min, the monosemantic staircase, D*_k, rate tax, Example 1."""
    from rdp.cli.exit_codes import ExitCode
    from rdp_exact.generators import load_pmf
    from rdp_exact.io_utils import atomic_write_json, check_writable_file
    from rdp_exact.theory_report import compute_theory

    _check_solver(solver, time_limit)
    if json_out is not None:
        check_writable_file(json_out)
    dist = load_pmf(pmf, normalize=normalize)
    rep = compute_theory(dist, width, k, max_steps=max_steps, solver=solver, time_limit=time_limit,
                         coefficients=coefficients, rate_budget=rate_budget)  # type: ignore[arg-type]
    print_theory(rep)
    from rdp.cli.solve_classes import theory_class_block

    block = theory_class_block(dist, width, k, sae_class, decoder_bias, time_limit)
    if json_out is not None:
        atomic_write_json(json_out, {**rep.to_json_dict(), **block})
    if not rep.optimum.is_exact or not block.get("class_exact", True):
        raise typer.Exit(ExitCode.LIMIT)


def cmd_frontier(
    pmf: PmfArg,
    width: WidthOpt,
    k: KOpt,
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    grid: Annotated[int, typer.Option(help="budget values per axis")] = 8,
    poly_levels: Annotated[str, typer.Option(help="P budgets, e.g. 0,0.15,0.3,inf (inf: none)")] = "0,0.15,0.3,inf",
    pareto: Annotated[bool, typer.Option("--pareto/--no-pareto", help="also compute the exact Pareto set")] = False,
    solver: SolverOpt = "auto",
    time_limit: TimeLimitOpt = None,
    threads: Annotated[Optional[int], typer.Option(help="solver threads")] = None,
    encoder: Annotated[str, typer.Option(help="free | threshold")] = "free",
    coefficients: Annotated[str, typer.Option(help="integer | disjoint")] = "integer",
    encoder_weights: Annotated[str, typer.Option(help="threshold class: ternary | binary")] = "ternary",
    poly: Annotated[str, typer.Option(help="threshold class: joint | decoder")] = "joint",
    max_steps: Annotated[int, typer.Option(help="corners of the monosemantic staircase to keep")] = 10_000,
    normalize: NormalizeOpt = False,
    workers: Annotated[int, typer.Option(help="grid chains solved in parallel (local processes)")] = 1,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address: run grid chains as Ray tasks")] = None,
) -> None:
    """R*(δ, ρ), D*(r, ρ), P*(r, δ) on grids (each point exact), the Pareto set, and figures."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rdp.cli.exit_codes import ExitCode
    from rdp_exact.frontier import FrontierConfig, compute_frontier, parse_poly_levels
    from rdp_exact.frontier_report import write_frontier
    from rdp_exact.generators import load_pmf
    from rdp_exact.io_utils import check_writable_dir
    from rdp_exact.report import console, fmt

    _check_solver(solver, time_limit)
    check_writable_dir(out)
    config = FrontierConfig(
        pmf=load_pmf(pmf, normalize=normalize),
        width=width,
        k=k,
        grid=grid,
        poly_levels=parse_poly_levels(poly_levels),
        pareto=pareto,
        solver=solver,
        time_limit=time_limit,
        threads=threads,
        encoder=encoder,  # type: ignore[arg-type]
        coefficients=coefficients,  # type: ignore[arg-type]
        encoder_weights=encoder_weights,  # type: ignore[arg-type]
        poly=poly,  # type: ignore[arg-type]
        max_steps=max_steps,
        workers=workers,
        address=address,
    )
    from rich.console import Console

    err = Console(stderr=True)
    with Progress(TextColumn("frontier"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task("", total=config.planned_points())

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        result = compute_frontier(config, progress=progress)
    write_frontier(result, out)
    c = console()
    n_exact = sum(r.exact for r in result.rows)
    c.print(f"[bold]frontier[/bold] m = {width}, k = {k}: {len(result.rows)} points solved, {n_exact} proven optimal, "
            f"{sum(r.status == 'infeasible' for r in result.rows)} infeasible")
    c.print(f"E|S| = {fmt(result.expected_sparsity)}, D*_k = {fmt(result.d_star_k)}, D_min = {fmt(result.d_min)}, "
            f"monosemantic staircase: {len(result.staircase.points)} corners"
            + (" (truncated)" if result.staircase.truncated else ""))
    if result.pareto is not None:
        c.print(f"exact Pareto set: {len(result.pareto)} points")
    for note in result.notes:
        c.print(f"note: {note}")
    c.print(f"wrote {out}/ (frontier.csv, frontier.json, rd_staircases.png, poly_floor_vs_k.png, dstar_vs_k.png)", soft_wrap=True)
    if not result.all_exact:
        c.print("[red]some points are NOT proven optimal (see the status column)[/red]")
        raise typer.Exit(ExitCode.LIMIT)


def register(app: typer.Typer) -> None:
    """Attach the theory and frontier subcommands."""
    app.command("theory")(cmd_theory)
    app.command("frontier")(cmd_frontier)
