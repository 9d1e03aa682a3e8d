"""``rdp sweep``: run a TOML grid of solve/frontier/train jobs, or export a results store (DESIGN §5.4).

Exit codes: 0 every job succeeded (or the export was written); 1 the sweep ran but some jobs failed
(they are recorded with status ``failed``); 2 invalid config or usage (nothing written); 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from rdp.cli.exit_codes import ExitCode
from rdp_exact.errors import InvalidArgument

if TYPE_CHECKING:
    from rdp.sweep.sweep import Job, SweepSummary



def cmd_sweep(
    config: Annotated[Optional[Path], typer.Argument(help="sweep config (TOML)", metavar="CONFIG.toml")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="output folder: rdp.sqlite + jobs/<key>/")] = None,
    backend: Annotated[str, typer.Option(help="local (process pool) | ray")] = "local",
    workers: Annotated[
        Optional[int],
        typer.Option(help="local: worker processes (default 2); ray: CPUs of a local runtime (default 2), "
                          "or the cap on tasks in flight on a cluster (default: no cap)"),
    ] = None,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (e.g. ray://head:10001 or head:6379)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="skip jobs already done in --out; rerun failed ones")] = False,
    export: Annotated[
        Optional[Path],
        typer.Option("--export", help="write the store as .parquet or .csv (after the sweep, or alone)"),
    ] = None,
    from_dir: Annotated[
        Optional[Path],
        typer.Option("--from", help="export only: folder holding rdp.sqlite (default: the export file's folder)"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate the config and list the jobs; run nothing")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="no progress bar")] = False,
) -> None:
    """Run a sweep of solve/frontier/train jobs into a results store, or export a store."""
    from rdp_exact.io_utils import check_writable_file

    if config is None:
        if export is None:
            raise InvalidArgument("give a sweep config (CONFIG.toml --out DIR) or --export FILE")
        if out is not None or resume or dry_run:
            raise InvalidArgument("--out, --resume and --dry-run need a CONFIG.toml")
        _check_export(export)
        _export(from_dir if from_dir is not None else export.parent, export)
        return
    if from_dir is not None:
        raise InvalidArgument("--from is for export only; with a CONFIG the store is the one in --out")
    from rdp.sweep import sweep as sw

    cfg = sw.load_config(config)
    jobs = sw.expand_jobs(cfg)
    if dry_run:
        _print_jobs(jobs)
        return
    if out is None:
        raise InvalidArgument("give the output folder with --out DIR")
    if export is not None:
        _check_export(export)
        if export.resolve().parent != out.resolve():  # a file inside --out is checked with --out
            check_writable_file(export)
    from rdp_exact.io_utils import sigterm_as_interrupt

    with sigterm_as_interrupt():  # `kill PID` stops the workers and keeps every finished row, like Ctrl-C
        summary = sw.run_sweep(
            jobs, out, backend=backend, workers=workers, resume=resume, address=address, progress=not no_progress
        )
    _print_summary(summary)
    if export is not None:
        _export(out, export)
    if summary.exit_code:
        raise typer.Exit(ExitCode.SOME_FAILED)


def _check_export(target: Path) -> None:
    if target.suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise InvalidArgument(f"export path {str(target)!r} must end in .parquet, .pq or .csv")


def _export(folder: Path, target: Path) -> None:
    from rich.console import Console

    from rdp.sweep.store import ResultsStore

    store = ResultsStore(folder, create=False)
    path = store.export(target)
    Console().print(f"exported {len(store)} rows from {store.path} to {path}", soft_wrap=True)


def _print_jobs(jobs: Sequence[Job]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(jobs)} jobs, {sum(len(j.rows) for j in jobs)} rows (dry run: nothing ran)")
    for col in ("key", "table", "job", "rows"):
        table.add_column(col)
    for j in jobs:
        table.add_row(j.key[:12], escape(j.table), escape(j.label), str(len(j.rows)))
    Console().print(table)


def _print_summary(s: SweepSummary) -> None:
    from rich.console import Console
    from rich.markup import escape

    con = Console()
    con.print(
        f"sweep: {s.total} jobs: {s.done} done, {s.failed} failed, {s.skipped} already done (resumed) "
        f"in {s.wall_time_s:.1f} s; store {s.store_path}"
    )
    for f in s.failures[:20]:
        con.print(f"  [red]failed[/red] {f.key[:12]} {escape(f.label)}: {escape(f.error)}", highlight=False)
    if len(s.failures) > 20:
        con.print(f"  … and {len(s.failures) - 20} more (see the store's error column)")


def register(app: typer.Typer) -> None:
    """Attach the sweep subcommand."""
    app.command("sweep")(cmd_sweep)
