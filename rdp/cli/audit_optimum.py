"""``rdp audit optimum`` and ``rdp audit groundtruth`` (registered on the ``audit`` sub-app by
:func:`register_optimum`, which ``audit/cli.py`` calls).

Thin commands: parse options into the library's config, call one function, print a summary. Bad input
(missing DGP files, no SAE folders, unwritable output) is one line on stderr, exit code 2, nothing
written. ``optimum`` exits with 4 when some optimum could not be proven within the time limit (its
results are still written, status ``limit``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def cmd_optimum(
    runs_dir: Annotated[Path, typer.Argument(help="run folder written by `rdp train` (or a folder of runs)",
                                             metavar="RUNS_DIR")],
    out: Annotated[Path, typer.Option("--out", help="output folder (audit.csv, report.md, figures/)")],
    solver: Annotated[str, typer.Option("--solver", help="auto | brute | highs | cpsat")] = "auto",
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="seconds per exact solve")] = None,
    cos_threshold: Annotated[
        float, typer.Option("--cos-threshold", help="snapping: concept i is in latent j's atom iff cos(w_j, v_i) > this")
    ] = 0.5,
    enc_threshold: Annotated[
        float, typer.Option("--enc-threshold", help="encoder sign pattern keeps concepts with |cos| ≥ this")
    ] = 0.25,
    rate_points: Annotated[int, typer.Option("--rate-points", help="D*(r) solves drawn in the R–D figure")] = 6,
    figures: Annotated[bool, typer.Option("--figures/--no-figures", help="write the figures")] = True,
    threads: Annotated[Optional[int], typer.Option("--threads", help="solver threads")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the output folder")] = False,
) -> None:
    """Trained SAEs against the exact optimum of their (π, m, k): gaps, D_min, rate tax, latent structure."""
    from audit.optimum import OptimumAuditConfig
    from audit.optimum_report import run_optimum_audit
    from rdp.cli.exit_codes import ExitCode
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    config = OptimumAuditConfig(solver=solver, time_limit=time_limit, cos_threshold=cos_threshold,
                                enc_threshold=enc_threshold, rate_points=rate_points, figures=figures,
                                threads=threads)
    audit = run_optimum_audit(runs_dir, out, config)
    if quiet:
        typer.echo(str(out))
    else:
        _print_optimum(audit, out)
    if not audit.all_exact:
        raise typer.Exit(ExitCode.LIMIT)


def _print_optimum(audit, out: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from rdp_exact.report import console, fmt

    t = Table(title=f"{len(audit.saes)} SAE(s) against the exact optimum → {out}")
    t.add_column("SAE", no_wrap=True)
    for col in ("k", "R", "D", "P_dec", "D*_k", "D−D*_k", "P_opt", "D_min", "beats"):
        t.add_column(col, justify="right")
    t.add_column("latents")
    for s in audit.saes:
        c = s.snapped.counts() if s.snapped is not None else {}
        struct = " ".join(f"{v} {k}" for k, v in c.items() if v)
        t.add_row(s.sae_dir, str(s.k_audit), fmt(s.metrics.rate, 4), fmt(s.metrics.distortion, 4),
                  fmt(s.metrics.poly_dec, 3), fmt(s.optimum.d_star_k, 4), fmt(s.gap_d, 3), fmt(s.optimum.poly_opt, 3),
                  fmt(s.optimum.d_min, 4), "yes" if s.beats_binary_optimum else "", struct)
    console().print(t)
    n_beat = len(audit.beating())
    if n_beat:
        typer.echo(f"{n_beat} SAE(s) beat the binary-atom optimum D*_k (continuous weights and biases; see report.md)")
    typer.echo(f"wrote {out / 'audit.csv'}, {out / 'report.md'}")


def cmd_groundtruth(
    out: Annotated[Path, typer.Option("--out", help="output folder (groundtruth.csv, groundtruth.md)")],
    quick: Annotated[bool, typer.Option("--quick/--full", help="small setting (seconds) or the full one")] = True,
    seed: Annotated[int, typer.Option("--seed", help="seed of the resampling and of training")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the output folder")] = False,
) -> None:
    """Ground-truth check of the proxy criterion: sweeps whose true P is known, V and ρ_RDP per proxy."""
    from audit.groundtruth_report import groundtruth_report
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    result = groundtruth_report(out, quick=quick, seed=seed)
    if quiet:
        typer.echo(str(out))
        return
    typer.echo(result.summary_markdown())
    typer.echo(f"wrote {out / 'groundtruth.csv'}, {out / 'groundtruth.md'}")


def register_optimum(audit_app: typer.Typer) -> None:
    """Attach ``optimum`` and ``groundtruth`` to the ``audit`` sub-app."""
    audit_app.command("optimum")(cmd_optimum)
    audit_app.command("groundtruth")(cmd_groundtruth)


__all__ = ["cmd_groundtruth", "cmd_optimum", "register_optimum"]
