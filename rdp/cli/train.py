"""``rdp train``: train SAEs on a concept pmf and save them with the DGP and a runs table (DESIGN §5.2, §6).

The command is thin: it parses options into :class:`sae_train.train.TrainConfig` and
:class:`sae_train.data.DGP`, calls :func:`sae_train.train.train` and :func:`sae_train.io.save_run`, and
prints a summary. Every check that can fail (options, device, output folder, pmf) runs before training;
bad input is one line on stderr, exit code 2, and nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional  # noqa: UP035 (typer needs typing.List on 3.10)

import typer

from rdp_exact.errors import InvalidArgument


def cmd_train(
    pmf: Annotated[str, typer.Argument(help="pmf file (.json/.csv), generator spec or built-in name", metavar="PMF")],
    out: Annotated[Path, typer.Option("--out", help="new (or empty) output folder")],
    arch: Annotated[str, typer.Option("--arch", help="topk | batchtopk | relu | jumprelu")],
    width: Annotated[int, typer.Option("--width", "-m", help="number of latents m")],
    k: Annotated[Optional[list[int]], typer.Option("--k", "-k", help="cap k (repeat to sweep)")] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="number of seeds (0..N-1) per setting")] = 1,
    steps: Annotated[int, typer.Option("--steps", help="optimiser steps")] = 2000,
    d: Annotated[Optional[int], typer.Option("--d", help="input dimension (default n; d < n: non-orthogonal)")] = None,
    lr: Annotated[Optional[list[float]], typer.Option("--lr", help="Adam learning rate (repeat to sweep)")] = None,
    l1: Annotated[
        Optional[list[float]],
        typer.Option("--l1", help="sparsity coefficient: L1 (relu) or L0 (jumprelu) (repeat to sweep)"),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="samples per step")] = 256,
    init: Annotated[str, typer.Option("--init", help="random | mono | exact")] = "random",
    zero_bias: Annotated[bool, typer.Option("--zero-bias/--no-zero-bias", help="A2: biases fixed at 0")] = False,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "auto",
    dtype: Annotated[str, typer.Option("--dtype", help="float32 | float64")] = "float32",
    objective: Annotated[
        str, typer.Option("--objective", help="sampled (a batch per step) | expected (exact π-weighted loss)")
    ] = "sampled",
    threads: Annotated[int, typer.Option("--threads", help="torch CPU threads (0: torch's default)")] = 0,
    compress_batch: Annotated[
        bool,
        typer.Option("--compress-batch/--no-compress-batch",
                     help="exact DGP: each distinct event of a batch once, weighted by its count (same gradient)"),
    ] = True,
    closed_form: Annotated[
        bool,
        typer.Option("--closed-form/--no-closed-form",
                     help="--objective expected with TopK: loss and gradient in closed form (same values as autograd)"),
    ] = True,
    magnitudes: Annotated[str, typer.Option("--magnitudes", help="constant | uniform | exponential")] = "constant",
    noise: Annotated[float, typer.Option("--noise", help="std of Gaussian noise on x")] = 0.0,
    dgp_seed: Annotated[int, typer.Option("--dgp-seed", help="seed of the concept directions V")] = 0,
    data_seed: Annotated[int, typer.Option("--data-seed", help="seed of the sample stream")] = 0,
    log_every: Annotated[int, typer.Option("--log-every", help="evaluate every N steps (0: at the end)")] = 0,
    solver: Annotated[
        Optional[str], typer.Option("--solver", help="--init exact: auto | brute | highs | cpsat (default auto)")
    ] = None,
    normalize: Annotated[bool, typer.Option("--normalize", help="rescale pmf probabilities")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
) -> None:
    """Train SAEs on the toy DGP of a pmf; write DIR/sae_*/ (SAELens format), DIR/dgp.*, DIR/runs.csv."""
    from rdp_exact.io_utils import sigterm_as_interrupt

    with sigterm_as_interrupt():  # `kill PID` cleans up like Ctrl-C: no staging folder is left behind
        from rdp_exact.generators import load_pmf
        from rdp_exact.validate import check_int, check_seed
        from sae_train.data import DGP
        from sae_train.io import check_run_dir, save_run
        from sae_train.train import TrainConfig, check_dgp, exact_init_atoms, resolve_device

        check_int("--seeds", seeds, min=1)
        check_seed("--dgp-seed", dgp_seed)
        check_seed("--data-seed", data_seed)
        _check_flags(arch, k, l1, init, solver)
        cfg = TrainConfig(
            arch=arch,
            width=width,
            steps=steps,
            k=tuple(k or ()),
            seeds=tuple(range(seeds)),
            lr=tuple(lr) if lr else (1e-2,),
            sparsity=tuple(l1 or ()),
            batch_size=batch_size,
            init=init,
            zero_bias=zero_bias,
            device=device,
            dtype=dtype,
            log_every=log_every,
            data_seed=data_seed,
            objective=objective,
            threads=threads,
            compress_batch=compress_batch,
            closed_form=closed_form,
        )
        resolve_device(cfg.device)
        check_run_dir(out)
        dist = load_pmf(pmf, normalize=normalize)
        dgp = DGP.make(dist, d, magnitudes=magnitudes, noise_std=noise, seed=dgp_seed)
        check_dgp(dgp, cfg)
        exact_atoms = exact_init_atoms(dgp, cfg, solver=solver or "auto") if cfg.init == "exact" else None
        result = _train_with_progress(dgp, cfg, exact_atoms, quiet)
        save_run(out, dgp, result)
        if not quiet:
            _print_summary(result, out)


def _check_flags(arch: str, k: list[int] | None, l1: list[float] | None, init: str, solver: str | None) -> None:
    """Refuse flags the chosen architecture or init would silently ignore."""
    from rdp_exact.validate import check_choice
    from sae_train.models import ARCHITECTURES

    cls = ARCHITECTURES.get(arch)
    if cls is None:
        return  # TrainConfig names the unknown architecture
    if l1 and cls.sparsity_name is None:
        raise InvalidArgument(f"--l1 has no effect with --arch {arch} (no sparsity penalty): drop it")
    if k and not cls.uses_k and init != "exact":
        raise InvalidArgument(f"--k has no effect with --arch {arch} unless --init exact: drop it")
    if solver is not None:
        from rdp_exact.solvers import SOLVER_CHOICES

        if init != "exact":
            raise InvalidArgument(f"--solver {solver} has no effect without --init exact: drop it")
        check_choice("--solver", solver, SOLVER_CHOICES)


def _train_with_progress(dgp, cfg, exact_atoms, quiet):  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from sae_train.train import train

    if quiet:
        return train(dgp, cfg, exact_atoms=exact_atoms)
    n = len(cfg.specs())
    with Progress(
        TextColumn(f"training {n} {cfg.arch} SAE(s)"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("train", total=cfg.steps)
        return train(dgp, cfg, exact_atoms=exact_atoms, progress=lambda s: bar.update(task, completed=s))


def _print_summary(result, out: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from rdp_exact.report import console, fmt

    t = Table(title=f"{len(result.specs)} SAE(s) → {out}  ({'exact' if result.metrics[0].exact else 'Monte Carlo'} metrics)")
    for col in ("sae", "k", "seed", "lr", "R", "D", "P_dec", "P_enc", "dead", "MCC", "diverged"):
        t.add_column(col, justify="right")
    for spec, m, div in zip(result.specs, result.metrics, result.diverged, strict=True):
        t.add_row(str(spec.index), str(spec.k if spec.k is not None else "-"), str(spec.seed), fmt(spec.lr, 3),
                  fmt(m.rate, 4), fmt(m.distortion, 4), fmt(m.poly_dec, 3), fmt(m.poly_enc, 3), str(m.dead),
                  fmt(m.mcc, 3), "yes" if div else "")
    console().print(t)


def register(app: typer.Typer) -> None:
    """Attach this package's subcommands to the `rdp` app."""
    app.command("train")(cmd_train)
