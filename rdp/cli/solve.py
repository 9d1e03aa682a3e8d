"""``rdp pmf``, ``rdp solve`` and ``rdp demo``; other rdp_exact subcommands live in sibling modules."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from rdp.cli.options import NormalizeOpt, PmfArg, field_default, opt
from rdp_exact.errors import InvalidArgument
from rdp_exact.problem import Problem


def cmd_pmf(
    pmf: Annotated[Optional[str], typer.Argument(help="pmf file, generator spec or built-in name", metavar="PMF")] = None,
    list_builtins: Annotated[bool, typer.Option("--list", help="list the built-in pmfs")] = False,
    normalize: NormalizeOpt = False,
    write: Annotated[Optional[Path], typer.Option("--write", help="also save the pmf as JSON or CSV (by suffix)")] = None,
) -> None:
    """Inspect a pmf: events, marginals, pair co-occurrence, correlation, E|S|."""
    from rdp_exact import report
    from rdp_exact.generators import BUILTINS, load_pmf

    if list_builtins:
        report.print_builtins(BUILTINS)
        return
    if pmf is None:
        raise InvalidArgument("give a pmf (file, generator spec or built-in name) or --list")
    if write is not None:
        from rdp_exact.io_utils import check_writable_file
        from rdp_exact.pmf import check_pmf_suffix

        check_pmf_suffix(write)
        check_writable_file(write)
    dist = load_pmf(pmf, normalize=normalize)
    if write is not None:
        dist.write(write)
    report.print_pmf(dist)


def cmd_solve(
    pmf: PmfArg,
    width: Annotated[int, opt(Problem, "width", "--width", "-m")],
    k: Annotated[int, opt(Problem, "k", "--k", "-k")],
    minimize: Annotated[str, opt(Problem, "minimize")] = field_default(Problem, "minimize"),
    max_rate: Annotated[Optional[float], opt(Problem, "max_rate")] = field_default(Problem, "max_rate"),
    max_distortion: Annotated[Optional[float], opt(Problem, "max_distortion")] = field_default(Problem, "max_distortion"),
    max_poly: Annotated[Optional[float], opt(Problem, "max_poly")] = field_default(Problem, "max_poly"),
    encoder: Annotated[str, opt(Problem, "encoder")] = field_default(Problem, "encoder"),
    coefficients: Annotated[str, opt(Problem, "coefficients")] = field_default(Problem, "coefficients"),
    encoder_weights: Annotated[str, opt(Problem, "encoder_weights")] = field_default(Problem, "encoder_weights"),
    poly: Annotated[str, opt(Problem, "poly")] = field_default(Problem, "poly"),
    solver: Annotated[str, typer.Option(help="auto | brute | bnb | highs | cpsat | scip (a named method runs or "
                                             "the command says why not)")] = "auto",
    time_limit: Annotated[Optional[float], typer.Option(
        help="wall-clock seconds for the whole solve, model building included")] = None,
    threads: Annotated[Optional[int], typer.Option(help="solver threads")] = None,
    sae_class: Annotated[str, typer.Option("--class", help="SAE class: binary | real-atoms | real-codes")] = "binary",
    decoder_bias: Annotated[bool, typer.Option("--decoder-bias/--no-decoder-bias",
                                               help="add a free decoder bias (real classes)")] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="write the result as JSON")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="write a picture of the SAE (PNG/PDF/SVG)")] = None,
    normalize: NormalizeOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the status line")] = False,
) -> None:
    """Solve one query exactly: the optimal SAE, its R, D, P and the proof status."""
    from rdp.cli.exit_codes import ExitCode
    from rdp_exact import report
    from rdp_exact.generators import load_pmf
    from rdp_exact.io_utils import atomic_write_json, check_distinct_outputs, check_writable_file
    from rdp_exact.problem import Problem, Status
    from rdp_exact.solvers import check_time_limit, parse_solver, solve

    t_start = time.perf_counter()
    parse_solver(solver)
    check_time_limit(time_limit)
    check_distinct_outputs(json=json_out, plot=plot)
    if json_out is not None:
        check_writable_file(json_out)
    if plot is not None:
        check_writable_file(plot)
        report.check_plot_suffix(plot)
    if sae_class != "binary" or decoder_bias:
        from rdp.cli.solve_classes import solve_real_class

        solve_real_class(pmf, width=width, k=k, sae_class=sae_class, decoder_bias=decoder_bias, minimize=minimize,
                         max_rate=max_rate, max_distortion=max_distortion, max_poly=max_poly, encoder=encoder,
                         coefficients=coefficients, time_limit=time_limit, threads=threads, json_out=json_out,
                         plot=plot, normalize=normalize, quiet=quiet)
        return
    dist = load_pmf(pmf, normalize=normalize)
    problem = Problem(
        pmf=dist,
        width=width,
        k=k,
        minimize=minimize,  # type: ignore[arg-type]
        max_rate=max_rate,
        max_distortion=max_distortion,
        max_poly=max_poly,
        encoder=encoder,  # type: ignore[arg-type]
        coefficients=coefficients,  # type: ignore[arg-type]
        encoder_weights=encoder_weights,  # type: ignore[arg-type]
        poly=poly,  # type: ignore[arg-type]
    )
    # the limit is a budget for the whole command: loading the pmf counts against it
    deadline = None if time_limit is None else t_start + time_limit
    sol = solve(problem, solver, threads=threads, deadline=deadline)
    report.print_solution(sol, quiet=quiet)
    if json_out is not None:
        atomic_write_json(json_out, sol.to_json_dict())
    if plot is not None and sol.sae is not None:
        from rdp_exact import plots

        plots.plot_solution(sol, plot)
    if sol.status is Status.INFEASIBLE:
        raise typer.Exit(ExitCode.INFEASIBLE)
    if sol.status in (Status.LIMIT, Status.FEASIBLE):
        raise typer.Exit(ExitCode.LIMIT)


def cmd_demo(
    out: Annotated[Path, typer.Option(help="folder for figures and reports")] = Path("rdp-demo"),
    quick: Annotated[bool, typer.Option("--quick", help="exact part only (seconds)")] = False,
) -> None:
    """A tour on built-in defaults (about a minute): exact optima, frontier, trained SAEs, their audit,
    a falsification run, and an index.html report."""
    from rdp import demo

    demo.run_demo(out, quick=quick)


def register(app: typer.Typer) -> None:
    """Attach pmf, solve, demo, and the theory/frontier commands."""
    from rdp.cli import frontier as cli_frontier

    app.command("pmf")(cmd_pmf)
    app.command("solve")(cmd_solve)
    cli_frontier.register(app)
    app.command("demo")(cmd_demo)
