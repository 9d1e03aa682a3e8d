"""``rdp audit …``: the `audit` sub-app. ``proxies`` lives here; ``optimum`` is added by
``audit/optimum_cli.py`` (``register_optimum(audit_app)``) when that module exists.

The commands are thin: parse into :class:`audit.proxy_audit.ProxyAuditConfig`, call one library
function, write atomically (nothing is written when the input is bad: exit 2, one line on stderr).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

log = logging.getLogger(__name__)


def cmd_proxies(
    table_or_dir: Annotated[
        Path, typer.Argument(help="sweep table (.csv/.parquet), SAEBench result JSON or results folder",
                             metavar="TABLE_OR_DIR")
    ],
    out: Annotated[Path, typer.Option("--out", help="output folder (summary.csv, report.md, figures/)")],
    rate_col: Annotated[Optional[str], typer.Option("--rate-col", help="rate (L0) column; default: detected")] = None,
    distortion_col: Annotated[
        Optional[str],
        typer.Option("--distortion-col", help="distortion column (1-COL for one minus a fidelity); default: detected"),
    ] = None,
    proxy: Annotated[
        Optional[list[str]],
        typer.Option("--proxy", help="COL:interpretable|polysemantic (repeatable); default: every known metric"),
    ] = None,
    group_by: Annotated[str, typer.Option(
        "--group-by", help="audit each value of these columns (COL[,COL]); auto: model and layer where the table "
                           "has several; none: pool every SAE")] = "auto",
    where: Annotated[Optional[str], typer.Option(
        "--where", help="keep the SAEs matching this pandas query, e.g. 'is_checkpoint == False'",
        metavar="EXPR")] = None,
    exclude: Annotated[Optional[str], typer.Option(
        "--exclude", help="drop the SAEs matching this pandas query, e.g. 'architecture == \"gated\"'",
        metavar="EXPR")] = None,
    scores: Annotated[str, typer.Option(
        "--scores", help="published | reproduced: which scores to use where a source gives both")] = "published",
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="bootstrap resamples (0: no intervals)")] = 1000,
    permutations: Annotated[int, typer.Option("--permutations", help="permutations (0: no p-values)")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="seed of the resampling")] = 0,
    confidence: Annotated[float, typer.Option("--confidence", help="interval level")] = 0.95,
    figures: Annotated[bool, typer.Option("--figures/--no-figures", help="write one scatter per proxy")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the output folder")] = False,
) -> None:
    """Audit interpretability proxies against the RDP theory: violation rate V and ρ_RDP (DESIGN §3)."""
    import sys

    from audit.proxy_audit import ProxyAuditConfig, all_warnings, run_proxy_audit, write_report
    from rdp_exact.io_utils import check_writable_dir, staged_dir

    check_writable_dir(out)
    config = ProxyAuditConfig(
        proxies=tuple(proxy or ()), rate_col=rate_col, distortion_col=distortion_col, group_by=group_by,
        where=where, exclude=exclude, scores=scores,
        bootstrap=bootstrap, permutations=permutations, seed=seed, confidence=confidence,
    )
    report = run_proxy_audit(table_or_dir, config)
    with staged_dir(out) as tmp:
        write_report(report, tmp, figures=figures)
    for w in all_warnings(report):
        print(f"rdp: warning: {w}", file=sys.stderr)
    if quiet:
        typer.echo(str(out))
        return
    if report.group_columns:
        typer.echo(f"{report.n_usable} SAEs in {len(report.groups)} groups by {', '.join(report.group_columns)} "
                   "(rate and distortion columns per group in summary.csv)")
    else:
        typer.echo(f"rate: {report.table.rate_source}; distortion: {report.table.distortion_source}; "
                   f"{report.n_usable} SAEs")
    import math

    def cell(v: object) -> object:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        return f"{v:.3f}" if isinstance(v, float) else v

    shown = [c for c in report.summary_frame().columns if c not in ("V_strict", "p_value_rho", "rate_source",
                                                                    "distortion_source")]
    frame = report.summary_frame()[shown].astype(object)
    for col in ("n_saes", "n_pairs"):
        frame[col] = frame[col].map(lambda v: str(int(v)) if isinstance(v, (int, float)) and math.isfinite(v) else v)
    typer.echo(frame.map(cell).to_string(index=False))
    typer.echo(f"wrote {out / 'summary.csv'}, {out / 'summary.json'}, {out / 'report.md'}"
               + (f", {out / 'figures'}/" if figures else ""))


def register(app: typer.Typer) -> None:
    """Attach the ``audit`` sub-app (``proxies``, and ``optimum`` when its module is present)."""
    audit_app = typer.Typer(
        name="audit",
        help="Audit SAEs: proxies against the RDP theory, trained SAEs against the exact optimum.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    audit_app.command("proxies")(cmd_proxies)
    from rdp.cli.audit_optimum import register_optimum

    register_optimum(audit_app)
    app.add_typer(audit_app, name="audit")
