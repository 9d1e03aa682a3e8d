"""``rdp solve --class real-atoms|real-codes [--decoder-bias]``: the real SAE classes (rdp_exact.classes)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from rdp_exact.errors import InvalidArgument

if TYPE_CHECKING:
    from rdp_exact.classes import ClassProblem

#: Seconds given to a query that only SCIP's global MINLP answers (real-codes with k ≥ 2 or a bias) when the
#: user sets no ``--time-limit``: spatial branch and bound proves only tiny instances of these classes
#: (BENCHMARKS.md), and without a limit it can run for hours. The answer is then ``limit`` with a valid bound.
DEFAULT_SCIP_LIMIT = 60.0


def default_limit(problem: ClassProblem, time_limit: float | None) -> float | None:
    """``time_limit``, or :data:`DEFAULT_SCIP_LIMIT` (announced on stderr) when it is None and ``auto`` routes
    ``problem`` to SCIP."""
    from rich.console import Console

    from rdp_exact.classes.solve import choose_method

    if time_limit is not None or choose_method(problem) != "scip":
        return time_limit
    if problem.monosemantic and not problem.decoder_bias and problem.max_rate is None:
        return DEFAULT_SCIP_LIMIT  # usually proven by the floor before SCIP starts (rdp_exact.classes.solve)
    Console(stderr=True).print(f"note: {problem.label} is answered by SCIP's global search; no --time-limit was "
                               f"given, so it stops after {DEFAULT_SCIP_LIMIT:.0f} s (pass --time-limit to change)",
                               highlight=False)
    return DEFAULT_SCIP_LIMIT


def solve_real_class(pmf: str, *, width: int, k: int, sae_class: str, decoder_bias: bool, minimize: str,
                     max_rate: float | None, max_distortion: float | None, max_poly: float | None, encoder: str,
                     coefficients: str, time_limit: float | None, threads: int | None, json_out: Path | None,
                     plot: Path | None, normalize: bool, quiet: bool) -> None:
    """Solve min D under the cap (a rate budget, P ≤ 0) in a real class; print, write JSON, exit by status."""
    from rdp.cli.exit_codes import ExitCode
    from rdp_exact.classes import CLASSES, ClassProblem, solve_class
    from rdp_exact.generators import load_pmf
    from rdp_exact.io_utils import atomic_write_json, check_writable_file
    from rdp_exact.problem import Status
    from rdp_exact.report import console, fmt, proof_line

    if sae_class not in CLASSES:
        raise InvalidArgument(f"unknown SAE class {sae_class!r} (choose from {', '.join(CLASSES)})")
    if sae_class == "binary":
        raise InvalidArgument("--decoder-bias needs a real class (--class real-atoms or real-codes); "
                              "the binary class has no bias (A2)")
    if minimize != "distortion":
        raise InvalidArgument(f"--class {sae_class} solves min D only, got --minimize {minimize}")
    if max_distortion is not None:
        raise InvalidArgument(f"--class {sae_class} supports a rate budget (--max-rate) and --max-poly 0, "
                              "not --max-distortion")
    if encoder != "free" or coefficients != "integer":
        raise InvalidArgument(f"--class {sae_class} needs --encoder free and --coefficients integer")
    if plot is not None:
        raise InvalidArgument("--plot draws binary SAEs only")
    if json_out is not None:
        check_writable_file(json_out)
    dist = load_pmf(pmf, normalize=normalize)
    problem = ClassProblem(dist, width, k, sae_class, decoder_bias, max_rate=max_rate,  # type: ignore[arg-type]
                           max_poly=max_poly)
    sol = solve_class(problem, time_limit=default_limit(problem, time_limit), threads=threads)
    c = console()
    c.print(proof_line(sol.status, sol.is_exact, sol.gap, sol.method, sol.method_version, sol.wall_time_s))
    c.print(f"class {problem.label}, m = {width}, k = {k}: D = {fmt(sol.distortion)}, R = {fmt(sol.rate)}, "
            f"P = {fmt(sol.poly)}" + ("" if sol.is_exact else f" (lower bound on D: {fmt(sol.bound)})"))
    if not quiet and sol.sae is not None:
        names = dist.names()
        for j, row in enumerate(sol.sae.atoms):
            c.print(f"  w{j} = " + ", ".join(f"{nm}: {v:+.4f}" for nm, v in zip(names, row, strict=True)))
        if decoder_bias:
            c.print("  b  = " + ", ".join(f"{nm}: {v:+.4f}" for nm, v in zip(names, sol.sae.bias, strict=True)))
    if json_out is not None:
        atomic_write_json(json_out, sol.to_json_dict())
    if sol.status is Status.INFEASIBLE:
        raise typer.Exit(ExitCode.INFEASIBLE)
    if sol.status in (Status.LIMIT, Status.FEASIBLE):
        raise typer.Exit(ExitCode.LIMIT)


__all__ = ["solve_real_class"]


def theory_class_block(dist, width: int, k: int, sae_class: str, decoder_bias: bool,  # type: ignore[no-untyped-def]
                       time_limit: float | None) -> dict:
    """``rdp theory --class C [--decoder-bias]``: the class's monosemantic floor and D*_k, printed and as JSON keys
    ``class``, ``decoder_bias``, ``class_floor``, ``class_optimum``, ``class_exact`` (only ``class`` and
    ``decoder_bias`` for the binary class, whose floor and optimum the report already holds)."""
    from rdp_exact.classes import CLASSES, ClassProblem, class_floor, solve_class
    from rdp_exact.report import console, fmt

    if sae_class not in CLASSES:
        raise InvalidArgument(f"unknown SAE class {sae_class!r} (choose from {', '.join(CLASSES)})")
    if sae_class == "binary" and decoder_bias:
        raise InvalidArgument("--decoder-bias needs a real class (--class real-atoms or real-codes)")
    if sae_class == "binary":  # the report above already has the binary D_min and D*_k
        return {"class": "binary", "decoder_bias": False}
    problem = ClassProblem(dist, width, k, sae_class, decoder_bias)  # type: ignore[arg-type]
    time_limit = default_limit(problem, time_limit)
    floor = class_floor(dist, width, k, sae_class, decoder_bias, time_limit=time_limit)
    opt = solve_class(problem, time_limit=time_limit)
    c = console()
    fd = floor.to_dict()
    c.print(f"class {problem.label}: D_min = {fmt(floor.d_min)}"
            + ("" if floor.exact else f" (NOT proven; bound {fmt(floor.bound)})")
            + f" — {fd['note']}; D*_k = {fmt(opt.distortion)}"
            + ("" if opt.is_exact else f" (NOT proven; bound {fmt(opt.bound)})") + f" ({opt.method})")
    return {
        "class": sae_class,
        "decoder_bias": decoder_bias,
        "class_floor": fd,
        "class_optimum": {"d_star_k": opt.distortion, "bound": opt.bound, "status": opt.status.value,
                          "exact": opt.is_exact, "rate": opt.rate, "poly": opt.poly, "method": opt.method},
        "class_exact": bool(opt.is_exact and floor.exact),
    }
