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


class _Progress:
    """Progress of a long audit on stderr: a transient bar on a terminal, one line per step otherwise
    (nothing with ``--quiet``). Called with the label of the step about to start."""

    def __init__(self, total: int | None, quiet: bool, what: str) -> None:
        import sys

        self.total, self.quiet, self.what, self.i = total, quiet, what, 0
        self.tty = sys.stderr.isatty()
        self._bar = None
        self._task = None
        if not quiet and self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task(what, total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, label: str) -> None:
        import sys

        if self.quiet:
            return
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.i, description=f"{self.what}: {label}")
        else:
            of = f"/{self.total}" if self.total else ""
            print(f"rdp: {self.what} [{self.i + 1}{of}] {label}", file=sys.stderr, flush=True)
        self.i += 1


def cmd_optimum(
    sae_dirs: Annotated[list[Path], typer.Argument(
        help="SAE folders (any names: cfg.json + sae_weights.safetensors, written by rdp or SAELens), run folders "
             "or parents of SAE folders, searched at any depth", metavar="SAE_DIR")],
    out: Annotated[Path, typer.Option("--out", help="output folder (audit.csv, report.md, figures/)")],
    dgp: Annotated[Optional[str], typer.Option(
        "--dgp", help="DGP folder (dgp.json + dgp.safetensors, from rdp dgp make) or a pmf (file, spec or built-in) "
                      "made into the DGP of `rdp dgp make PMF --d <d_in> --seed <--dgp-seed>`; default: the "
                      "dgp.json at or above each SAE folder", metavar="DGP_DIR|PMF")] = None,
    dgp_seed: Annotated[int, typer.Option("--dgp-seed", help="seed of the concept directions when --dgp is a pmf")] = 0,
    skip_broken: Annotated[bool, typer.Option(
        "--skip-broken", help="skip SAE folders that cannot be read (named in warnings) instead of failing")] = False,
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
    class_time_limit: Annotated[Optional[float], typer.Option(
        "--class-time-limit", help="seconds per solve of each SAE's own class optimum and floor")] = 5.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the output folder")] = False,
) -> None:
    """Trained SAEs (rdp or SAELens) against the exact optimum of their (π, m, k): gaps, D_min, rate tax,
    latent structure."""
    import sys

    from audit.optimum import OptimumAuditConfig, audit_optimum
    from audit.optimum_report import write_optimum_audit
    from audit.sae_inputs import collect_saes
    from rdp.cli.exit_codes import ExitCode
    from rdp_exact.io_utils import check_writable_dir, staged_dir
    from rdp_exact.validate import check_seed

    check_writable_dir(out)
    check_seed("dgp seed", dgp_seed)
    config = OptimumAuditConfig(solver=solver, time_limit=time_limit, cos_threshold=cos_threshold,
                                enc_threshold=enc_threshold, rate_points=rate_points, figures=figures,
                                threads=threads, class_time_limit=class_time_limit)
    inputs = collect_saes(sae_dirs, dgp, dgp_seed=dgp_seed, skip_broken=skip_broken)
    for w in inputs.skipped:
        print(f"rdp: warning: skipped: {w}", file=sys.stderr)
    with _Progress(len(inputs.entries), quiet, "auditing") as progress:
        audit = audit_optimum(inputs.root, config, progress, inputs=inputs)
    with staged_dir(out) as tmp:
        write_optimum_audit(audit, tmp)
    if quiet:
        typer.echo(str(out))
    else:
        _print_optimum(audit, out)
        if inputs.skipped:
            typer.echo(f"skipped {len(inputs.skipped)} unreadable SAE folder(s) (--skip-broken; see the warnings)")
    if not audit.all_exact:
        raise typer.Exit(ExitCode.LIMIT)


def _print_optimum(audit, out: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from rdp_exact.report import console, fmt

    t = Table(title=f"{len(audit.saes)} SAE(s) against the exact optimum → {out}")
    t.add_column("SAE", no_wrap=True)
    for col in ("k", "R", "D", "P_dec", "class", "D*(class)", "D−D*(class)", "D_min(class)", "D*_k (binary)"):
        t.add_column(col, justify="right")
    t.add_column("latents")
    for s in audit.saes:
        c = s.snapped.counts() if s.snapped is not None else {}
        struct = " ".join(f"{v} {k}" for k, v in c.items() if v)
        cr = s.class_ref
        t.add_row(s.sae_dir, str(s.k_audit), fmt(s.metrics.rate, 4), fmt(s.metrics.distortion, 4),
                  fmt(s.metrics.poly_dec, 3), "–" if cr is None else f"{cr.placement.label} k={cr.placement.k}",
                  "–" if cr is None else fmt(cr.d_star, 4) + ("" if cr.exact else "*"),
                  "–" if cr is None else fmt(s.gap_class, 3), "–" if cr is None else fmt(cr.d_min, 4),
                  fmt(s.optimum.d_star_k, 4), struct)
    console().print(t)
    classes = sorted({s.class_ref.placement.label for s in audit.saes if s.class_ref is not None})
    if classes:
        typer.echo(f"each SAE is measured against the optimum of its own class ({', '.join(classes)}): "
                   "columns class, dstar_class, gap_class, dmin_class of audit.csv; D*_k is the binary reference")
    typer.echo(f"wrote {out / 'audit.csv'}, {out / 'report.md'}")


def cmd_groundtruth(
    out: Annotated[Path, typer.Option("--out", help="output folder (groundtruth.csv, groundtruth.md)")],
    quick: Annotated[bool, typer.Option("--quick/--full", help="small setting (seconds) or the full one")] = True,
    seed: Annotated[int, typer.Option("--seed", help="seed of the resampling and of training")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the output folder")] = False,
) -> None:
    """Ground-truth check of the proxy criterion: sweeps whose true P is known, V and ρ_RDP per proxy."""
    from audit.groundtruth import GroundTruthConfig
    from audit.groundtruth_report import groundtruth_report
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    gcfg = GroundTruthConfig.quick(seed) if quick else GroundTruthConfig.full(seed)
    steps = len(gcfg.exact_pmfs) * len(gcfg.shapes) + len(gcfg.train_pmfs)
    with _Progress(steps, quiet, "ground truth") as progress:
        result = groundtruth_report(out, quick=quick, seed=seed, progress=progress)
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
