"""``rdp dgp make`` and ``rdp dgp sample``: the toy data-generating process for any training library.

``make`` writes a DGP folder (``dgp.json`` + ``dgp.safetensors``, the files ``rdp train`` writes beside its
SAEs); ``sample`` draws activations and their ground-truth concept labels from it
(:mod:`sae_train.dgp_export`). Train an SAE on the samples with any library, save it in the SAELens layout,
and audit it with ``rdp audit optimum SAE_DIR --dgp DIR``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def cmd_make(
    pmf: Annotated[str, typer.Argument(help="pmf file, generator spec (kind:args) or built-in name", metavar="PMF")],
    out: Annotated[Path, typer.Option("--out", help="new output folder (dgp.json, dgp.safetensors)")],
    d: Annotated[Optional[int], typer.Option("--d", help="activation dimension (default: n, orthonormal concepts)")] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the concept directions V")] = 0,
    magnitudes: Annotated[str, typer.Option("--magnitudes", help="constant | uniform | exponential")] = "constant",
    noise: Annotated[float, typer.Option("--noise", help="std of Gaussian noise on x")] = 0.0,
    normalize: Annotated[bool, typer.Option("--normalize/--no-normalize", help="rescale pmf probabilities to sum 1")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the output folder")] = False,
) -> None:
    """Write the DGP of a pmf: concept directions V (n × d) and sampling options."""
    from rdp_exact.generators import load_pmf
    from rdp_exact.io_utils import staged_dir
    from sae_train.data import DGP
    from sae_train.io import check_run_dir

    check_run_dir(out)
    dgp = DGP.make(load_pmf(pmf, normalize=normalize), d, magnitudes=magnitudes, noise_std=noise, seed=seed)
    with staged_dir(out) as tmp:
        dgp.save(tmp)
    if quiet:
        typer.echo(str(out))
        return
    exact = "exact (R, D computable by enumeration)" if dgp.exact else "not exact (Monte Carlo only)"
    typer.echo(f"DGP n = {dgp.n}, d = {dgp.d}, {dgp.pmf.support_size} events, magnitudes {dgp.magnitudes}, "
               f"noise {dgp.noise_std:g}, seed {dgp.seed}: {exact}")
    typer.echo(f"wrote {out / 'dgp.json'}, {out / 'dgp.safetensors'}")


def cmd_sample(
    dgp_dir: Annotated[Path, typer.Argument(help="DGP folder (rdp dgp make, or an rdp train run)", metavar="DIR")],
    n: Annotated[int, typer.Option("--n", help="number of samples")],
    out: Annotated[Path, typer.Option("--out", help="FILE.safetensors, or FILE.npy (+ FILE.concepts.npy, FILE.events.npy)")],
    seed: Annotated[int, typer.Option("--seed", help="seed of the sample stream")] = 0,
    dtype: Annotated[str, typer.Option("--dtype", help="float32 | float64")] = "float32",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the output file")] = False,
) -> None:
    """Draw activations x [N, d] with their concept labels [N, n] and event indices [N]."""
    from sae_train.data import DGP
    from sae_train.dgp_export import draw, sample_paths, write_samples

    sample_paths(out)  # checked before sampling
    dgp = DGP.load(dgp_dir)
    written = write_samples(out, draw(dgp, n, seed=seed, dtype=dtype))
    if quiet:
        typer.echo(str(out))
        return
    typer.echo(f"{n} samples of d = {dgp.d} with labels of n = {dgp.n} concepts")
    typer.echo("wrote " + ", ".join(str(p) for p in written))


def register(app: typer.Typer) -> None:
    """Attach the ``dgp`` sub-app."""
    dgp_app = typer.Typer(name="dgp", help="Write and sample the toy data-generating process (for any library).",
                          no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    dgp_app.command("make")(cmd_make)
    dgp_app.command("sample")(cmd_sample)
    app.add_typer(dgp_app, name="dgp")


__all__ = ["cmd_make", "cmd_sample", "register"]
