"""``rdp reproduce fig2 | fig3 | fig4 | table2 | all``: the paper's figures and table from this toolkit.

The commands are thin: options parse into :class:`rdp.reproduce.fig3.Fig3Config`,
:class:`~rdp.reproduce.fig4.Fig4Config` (their ``make()`` puts the training flags into the embedded
:class:`~sae_train.train.TrainConfig`) or :class:`~rdp.reproduce.table2.Table2Config` (``--quick``
starts from the config's ``quick()`` settings, explicit flags override them), one ``run_*`` call checks the
output folder first, computes, and writes figures, CSVs and ``index.html`` through a staging folder.
Bad flags exit with code 2 and write nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from rdp_exact.errors import InvalidArgument

OutOpt = Annotated[Path, typer.Option("--out", help="output folder (figures, CSVs, index.html)")]
QuickOpt = Annotated[bool, typer.Option("--quick", help="seconds-long settings (explicit flags still apply)")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", help="auto | cpu | cuda")]


def _given(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _progress(msg: str) -> None:
    typer.echo(f"rdp reproduce: {msg}", err=True)


def _print(result: Any) -> None:
    for line in result.lines:
        typer.echo(line)
    typer.echo("wrote:")
    for p in result.files:
        typer.echo(f"  {p}")


def _floats(text: str, name: str, *, allow_inf: bool = False) -> tuple[Any, ...]:
    out: list[Any] = []
    for tok in (t.strip().lower() for t in text.split(",")):
        if not tok:
            continue
        if allow_inf and tok in ("inf", "none", "∞"):
            out.append(None)
            continue
        try:
            out.append(float(tok))
        except ValueError:
            raise InvalidArgument(f"{name}: {tok!r} is not a number") from None
    if not out:
        raise InvalidArgument(f"{name}: no values in {text!r}")
    return tuple(out)


def fig3_config(quick: bool, **kw: Any) -> Any:
    """The Fig3Config of the flags."""
    from rdp.reproduce.fig3 import Fig3Config

    given = _given(**kw)
    return Fig3Config.quick(**given) if quick else Fig3Config.make(**given)


def cmd_fig3(
    out: OutOpt,
    quick: QuickOpt = False,
    pmf: Annotated[Optional[str], typer.Option("--pmf", help="co-occurring pmf (default cooccur3)")] = None,
    width: Annotated[Optional[int], typer.Option("--width", "-m", help="latents m (default n)")] = None,
    k: Annotated[Optional[int], typer.Option("--k", "-k", help="TopK cap (default 1)")] = None,
    seeds: Annotated[Optional[int], typer.Option("--seeds", help="training runs (default 3)")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="steps per run (default 2000)")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Adam learning rate (default 3e-3)")] = None,
    log_every: Annotated[Optional[int], typer.Option("--log-every", help="exact metrics every N steps")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="samples per step")] = None,
    device: DeviceOpt = None,
    train_biases: Annotated[bool, typer.Option("--train-biases/--zero-biases",
                                               help="train b_enc, b_dec (default: fixed at 0, A2)")] = False,
) -> None:
    """Fig. 3: a TopK SAE initialised monosemantic rotates away; its (R, D) path against the exact staircase."""
    from rdp.reproduce.fig3 import run_fig3
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    cfg = fig3_config(quick, pmf=pmf, width=width, k=k, seeds=seeds, steps=steps, lr=lr, log_every=log_every,
                      batch_size=batch_size, device=device, zero_bias=False if train_biases else None)
    _print(run_fig3(cfg, out, _progress))


def fig4_config(quick: bool, *, points: int | None = None, masses: str | None = None,
                poly_levels: str | None = None, **kw: Any) -> Any:
    """The Fig4Config of the flags."""
    from rdp.reproduce.fig4 import Fig4Config, default_masses

    given = _given(**kw)
    if points is not None and masses is not None:
        raise InvalidArgument("give --points or --masses, not both")
    if points is not None:
        given["masses"] = default_masses(points)
    if masses is not None:
        given["masses"] = _floats(masses, "--masses")
    if poly_levels is not None:
        given["rho_levels"] = _floats(poly_levels, "--poly-levels", allow_inf=True)
    return Fig4Config.quick(**given) if quick else Fig4Config.make(**given)


def cmd_fig4(
    out: OutOpt,
    quick: QuickOpt = False,
    n: Annotated[Optional[int], typer.Option("--n", help="concepts of the family (even, 4..10; default 4)")] = None,
    width: Annotated[Optional[int], typer.Option("--width", "-m", help="latents m (default n)")] = None,
    points: Annotated[Optional[int], typer.Option("--points", help="family members, masses evenly in [0, 0.8] (default 7)")] = None,
    masses: Annotated[Optional[str], typer.Option("--masses", help="explicit masses, e.g. 0,0.2,0.4")] = None,
    panel_mass: Annotated[Optional[float], typer.Option("--panel-mass", help="member of panels a, b (default middle)")] = None,
    panel_k: Annotated[Optional[int], typer.Option("--panel-k", help="cap of panels a, b, d (default 1)")] = None,
    poly_levels: Annotated[Optional[str], typer.Option("--poly-levels", help="P budgets of panel a (default 0,0.1,0.2,inf)")] = None,
    grid: Annotated[Optional[int], typer.Option("--grid", help="δ values of panels a, b (default 12)")] = None,
    seeds: Annotated[Optional[int], typer.Option("--seeds", help="trained SAEs per (member, k) (default 3)")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="training steps (default 1500; 0: no training)")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Adam learning rate (default 1e-2)")] = None,
    solver: Annotated[Optional[str], typer.Option("--solver", help="auto | brute | highs | cpsat")] = None,
    device: DeviceOpt = None,
) -> None:
    """Fig. 4: the three RDP claims on a family of pmfs, from exact solutions and trained SAEs."""
    from rdp.reproduce.fig4 import run_fig4
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    cfg = fig4_config(quick, points=points, masses=masses, poly_levels=poly_levels, n=n, width=width,
                      panel_mass=panel_mass, panel_k=panel_k, grid=grid, seeds=seeds, steps=steps, lr=lr,
                      solver=solver, device=device)
    _print(run_fig4(cfg, out, _progress))


def table2_config(quick: bool, *, tables: list[str] | None = None, **kw: Any) -> Any:
    """The Table2Config of the flags."""
    from rdp.reproduce.table2 import Table2Config

    given = _given(**kw)
    if tables:
        given["tables"] = tuple(tables)
    return Table2Config.quick(**given) if quick else Table2Config(**given)


def cmd_table2(
    out: OutOpt,
    quick: QuickOpt = False,
    data: Annotated[Optional[Path], typer.Option("--data", help="SAEBench data folder (default: the shared one)")] = None,
    table: Annotated[Optional[list[str]], typer.Option("--table", help="table in the data folder (repeatable)")] = None,
    bootstrap: Annotated[Optional[int], typer.Option("--bootstrap", help="bootstrap resamples (default 1000)")] = None,
    permutations: Annotated[Optional[int], typer.Option("--permutations", help="permutations (default 1000)")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="seed of the resampling")] = None,
    confidence: Annotated[Optional[float], typer.Option("--confidence", help="interval level (default 0.95)")] = None,
) -> None:
    """Table 2: the proxy audit (V, ρ_RDP) on the SAEBench data, overall and per architecture."""
    from rdp.reproduce.table2 import run_table2
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    cfg = table2_config(quick, tables=table, data=data, bootstrap=bootstrap, permutations=permutations, seed=seed,
                        confidence=confidence)
    _print(run_table2(cfg, out, _progress))


def cmd_fig2(
    out: OutOpt,
    n: Annotated[Optional[int], typer.Option("--n", help="concepts = latents of each dictionary (default 4)")] = None,
    mix: Annotated[Optional[float], typer.Option("--mix", help="second-concept weight of the mixed rows (default 0.5)")] = None,
) -> None:
    """Fig. 2: P of five representative dictionaries (monosemantic, permuted, mixed, hedged, fully dense)."""
    from rdp.reproduce.fig2 import Fig2Config, run_fig2
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    _print(run_fig2(Fig2Config(**_given(n=n, mix=mix)), out, _progress))


def cmd_all(out: OutOpt, quick: QuickOpt = False, device: DeviceOpt = None) -> None:
    """fig2, fig3, fig4 and table2 with default (or --quick) settings into OUT/fig2, OUT/fig3, OUT/fig4, OUT/table2."""
    from rdp.reproduce import run_all
    from rdp_exact.io_utils import check_writable_dir

    check_writable_dir(out)
    result = run_all(out, quick=quick, device=device, progress=_progress)
    _print(result)


def register(app: typer.Typer) -> None:
    """Attach the ``reproduce`` sub-app."""
    sub = typer.Typer(
        name="reproduce",
        help="Reproduce the paper's Fig. 2, Fig. 3, Fig. 4 and Table 2 (figures, CSVs, index.html).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    sub.command("fig2")(cmd_fig2)
    sub.command("fig3")(cmd_fig3)
    sub.command("fig4")(cmd_fig4)
    sub.command("table2")(cmd_table2)
    sub.command("all")(cmd_all)
    app.add_typer(sub, name="reproduce")
