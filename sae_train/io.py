"""Trained SAEs on disk (DESIGN §5.3): SAELens-compatible folders, the DGP beside them, runs.csv.

Layout of a run folder written by :func:`save_run`::

    DIR/
      dgp.json, dgp.safetensors       the DGP (pmf + options; V [n, d] float64)
      runs.csv                        one row per SAE (:data:`RUNS_COLUMNS`)
      history.csv                     metrics logged during training (step, sae, loss, rate, …)
      sae_000/ sae_001/ …             one SAE each:
        sae_weights.safetensors       W_enc [d, m], b_enc [m], W_dec [m, d], b_dec [d] (+ threshold [m])
        cfg.json                      SAELens keys + an "rdp" block

cfg.json is written in the SAELens 6.x layout (``metadata.sae_lens_version``), so SAELens 6 loads it
without its legacy converter. SAELens ``architecture`` values: TopK → ``topk`` (with ``k``), ReLU →
``standard``, JumpReLU → ``jumprelu`` (``threshold`` = θ per latent), BatchTopK → ``jumprelu`` with every
threshold equal to the estimated θ (what SAELens itself does when it saves a BatchTopK SAE for inference);
the ``rdp`` block keeps the true architecture, which :func:`load_sae` uses. :func:`load_sae` also reads SAE
folders written by SAELens, exactly or not at all (:mod:`sae_train.saelens`).

runs.csv carries SAEBench-style aliases: ``l0`` (= ``rate``, mean number of active latents) and ``mse``
(= ``distortion`` / d, the per-element mean squared error SAEBench's core eval reports). Every file is written atomically and a run folder
appears whole or not at all (:func:`rdp_exact.io_utils.staged_dir`).
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    check_writable_dir,
    csv_text,
    staged_dir,
)
from sae_train.data import DGP
from sae_train.models import BatchedSAE

WEIGHTS_FILE = "sae_weights.safetensors"
CFG_FILE = "cfg.json"
RUNS_FILE = "runs.csv"
HISTORY_FILE = "history.csv"

#: Columns of runs.csv, in order.
RUNS_COLUMNS: tuple[str, ...] = (
    "sae_dir", "arch", "width", "k", "seed", "lr", "l1", "steps", "batch_size", "init", "zero_bias",
    "n", "d", "rate", "rate_ci", "distortion", "distortion_ci", "poly_dec", "poly_enc", "poly_joint",
    "poly_dec_live", "poly_enc_live", "poly_joint_live", "dead", "mcc", "exact", "diverged",
    "diverged_step", "final_loss", "pmf_sha256", "l0", "mse",
)
HISTORY_COLUMNS: tuple[str, ...] = (
    "step", "sae", "loss", "rate", "distortion", "poly_dec", "poly_enc", "poly_joint", "dead", "mcc", "diverged",
)


def sae_dir_name(i: int) -> str:
    """``sae_000``, ``sae_001``, …"""
    return f"sae_{i:03d}"


# ---------------------------------------------------------------------- one SAE
def save_sae(folder: str | os.PathLike[str], tensors: dict[str, torch.Tensor], cfg: dict[str, Any]) -> Path:
    """Write ``sae_weights.safetensors`` and ``cfg.json`` into ``folder`` (created), atomically per file."""
    from safetensors.torch import save

    folder = Path(folder)
    check_writable_dir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / WEIGHTS_FILE, save({k: v.contiguous() for k, v in tensors.items()}))
    atomic_write_json(folder / CFG_FILE, cfg)
    return folder


def saelens_cfg(model: BatchedSAE, k: int | None, dtype: str, rdp: dict[str, Any]) -> dict[str, Any]:
    """cfg.json of one SAE of ``model`` in the SAELens 6.x layout (read by SAELens without its pre-6.0
    converter: the version lives in ``metadata``), plus the ``rdp`` block, which SAELens ignores."""
    from sae_train.saelens import SAELENS_LAYOUT_VERSION

    arch = model.saelens_architecture
    cfg: dict[str, Any] = {
        "d_in": model.d,
        "d_sae": model.m,
        "dtype": dtype,
        "device": "cpu",
        "apply_b_dec_to_input": bool(model.apply_b_dec_to_input),
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {
            "sae_lens_version": SAELENS_LAYOUT_VERSION,
            "sae_lens_training_version": None,
            "model_name": "rdp-toy",
            "hook_name": "rdp.toy",
            "hook_head_index": None,
            "prepend_bos": False,
            "context_size": 1,
            "dataset_path": None,
            "neuronpedia_id": None,
            "training_architecture": model.arch,
        },
        "architecture": arch,
    }
    if arch == "topk":
        cfg["k"] = k
        cfg["rescale_acts_by_decoder_norm"] = False
    cfg["rdp"] = rdp
    return cfg


def _read_sae_files(folder: Path) -> tuple[Any, dict[str, torch.Tensor]]:
    """cfg.json (parsed JSON, any type) and the tensors; InvalidArgument when either cannot be read."""
    from safetensors.torch import load

    wp, cp = folder / WEIGHTS_FILE, folder / CFG_FILE
    for p in (wp, cp):
        if not p.is_file():
            raise InvalidArgument(f"not an SAE folder: {str(folder)!r} has no {p.name}")
    try:
        cfg = json.loads(cp.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, RecursionError) as exc:
        raise InvalidArgument(f"cannot read {str(cp)!r}: {exc}") from None
    try:
        data = wp.read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"cannot read {str(wp)!r}: {exc}") from None
    if not data:
        raise InvalidArgument(f"{str(wp)!r} is empty")
    try:
        tensors = load(data)
    except Exception as exc:  # noqa: BLE001 - safetensors raises SafetensorError or others on damaged bytes
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidArgument(f"{str(wp)!r} is not a readable safetensors file ({msg})") from None
    return cfg, tensors


def load_sae(folder: str | os.PathLike[str]) -> tuple[BatchedSAE, dict[str, Any]]:
    """Load one SAE folder (written by rdp or by SAELens) as a single-SAE (B = 1) model, in the saved dtype,
    and its cfg dict.

    Exact or refused: every cfg field SAELens 6.x uses is honoured as SAELens does (see
    :mod:`sae_train.saelens`); an architecture or flag value that cannot be modelled exactly, damaged files,
    or cfg sizes that disagree with the weights raise InvalidArgument naming the field.
    """
    from sae_train.saelens import model_class, parse_spec, prepare_tensors

    folder = Path(folder)
    cfg, tensors = _read_sae_files(folder)
    spec = parse_spec(cfg, tensors, repr(str(folder / CFG_FILE)))
    rdp = cfg.get("rdp") or {}
    training = rdp.get("training") or {}
    options: dict[str, Any] = {}
    if spec.arch == "jumprelu":
        bw = training.get("bandwidth", 1e-3)
        options = {"bandwidth": bw if isinstance(bw, (int, float)) and not isinstance(bw, bool) else 1e-3}
    cls = model_class(spec)
    model = cls(
        1, spec.d_in, spec.d_sae,
        k=None if spec.k is None else torch.tensor([spec.k], dtype=torch.long),
        sparsity_coef=torch.tensor([spec.sparsity], dtype=torch.float64),
        zero_bias=bool(training.get("zero_bias", False)),
        dtype=tensors["W_enc"].dtype,
        **options,
    )
    if model.apply_b_dec_to_input != spec.apply_b_dec_to_input:
        model.apply_b_dec_to_input = spec.apply_b_dec_to_input  # type: ignore[misc]  # per-SAE value from cfg.json
    dtype = tensors["W_enc"].dtype
    model.load_sae_state(0, {name: t.to(dtype) for name, t in prepare_tensors(spec, tensors).items()})
    return model, cfg


# ---------------------------------------------------------------------- runs
def runs_rows(result: Any, dgp: DGP) -> list[dict[str, Any]]:
    """runs.csv rows of a :class:`~sae_train.train.TrainResult`."""
    cfg = result.config
    rows = []
    for spec, met, div, dstep, floss in zip(
        result.specs, result.metrics, result.diverged, result.diverged_step, result.final_loss, strict=True
    ):
        row: dict[str, Any] = {
            "sae_dir": sae_dir_name(spec.index),
            "arch": cfg.arch,
            "width": cfg.width,
            "k": spec.k,
            "seed": spec.seed,
            "lr": spec.lr,
            "l1": spec.sparsity if cfg.architecture.sparsity_name else None,
            "steps": cfg.steps,
            "batch_size": cfg.batch_size,
            "init": cfg.init,
            "zero_bias": cfg.zero_bias,
            "n": dgp.n,
            "d": dgp.d,
            "diverged": div,
            "diverged_step": dstep,
            "final_loss": floss,
            "pmf_sha256": dgp.pmf.sha256(),
        }
        row.update(met.to_dict())
        row["l0"] = met.rate
        row["mse"] = met.distortion / dgp.d
        rows.append({c: row.get(c) for c in RUNS_COLUMNS})
    return rows


def check_run_dir(out: str | os.PathLike[str]) -> Path:
    """Refuse an output folder that cannot be written or already holds files (checked before training)."""
    p = check_writable_dir(out)
    if p.exists() and any(p.iterdir()):
        raise InvalidArgument(f"output folder {str(p)!r} is not empty (choose a new folder)")
    return p


def save_run(out: str | os.PathLike[str], dgp: DGP, result: Any) -> Path:
    """Write a whole run (module docstring) through a staging folder: all of it or nothing.

    ``runs.csv`` is the run's table of results; the SQLite results store belongs to sweeps
    (:mod:`rdp.sweep.store`), which record one row per SAE of a train job.
    """
    out = check_run_dir(out)
    cfg = result.config
    rows = runs_rows(result, dgp)
    with staged_dir(out) as tmp:
        dgp.save(tmp)
        for spec, met, row in zip(result.specs, result.metrics, rows, strict=True):
            b = spec.index
            rdp = {
                "format": "rdp-sae/1",
                "arch": cfg.arch,
                "pmf": dgp.pmf.to_dict(),
                "pmf_sha256": dgp.pmf.sha256(),
                "dgp": {"file": "../dgp.json", "magnitudes": dgp.magnitudes, "noise_std": dgp.noise_std,
                        "seed": dgp.seed, "d": dgp.d},
                "index": b,
                "seed": spec.seed,
                "lr": spec.lr,
                "k": spec.k,
                "sparsity": spec.sparsity,
                "training": cfg.to_dict(),
                "device": result.device,
                "diverged": result.diverged[b],
                "diverged_step": result.diverged_step[b],
                "final_loss": _json_float(result.final_loss[b]),
                "metrics": {key: _json_float(v) for key, v in met.to_dict().items()},
            }
            save_sae(tmp / row["sae_dir"], result.model.state_for_sae(b), saelens_cfg(result.model, spec.k, cfg.dtype, rdp))
        atomic_write_text(tmp / RUNS_FILE, csv_text(RUNS_COLUMNS, rows))
        atomic_write_text(tmp / HISTORY_FILE, csv_text(HISTORY_COLUMNS, list(result.history)))
    return out


def _json_float(v: Any) -> Any:
    """JSON has no NaN/inf: write them as strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def load_dgp(folder: str | os.PathLike[str]) -> DGP:
    """The DGP saved in a run folder (``dgp.json`` + ``dgp.safetensors``)."""
    return DGP.load(folder)


#: runs.csv columns that hold text.
TEXT_COLUMNS = frozenset({"sae_dir", "arch", "init", "pmf_sha256"})


def _parse(v: str) -> Any:
    if v == "":
        return None
    if v in ("true", "false"):
        return v == "true"
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


@dataclass(frozen=True)
class Run:
    """A run folder: its DGP and runs.csv rows (values parsed: ints, floats, booleans, None)."""

    folder: Path
    dgp: DGP
    rows: tuple[dict[str, Any], ...]

    def __len__(self) -> int:
        return len(self.rows)

    def sae_path(self, i: int) -> Path:
        """Folder of the i-th SAE of runs.csv."""
        return self.folder / str(self.rows[i]["sae_dir"])

    def load_sae(self, i: int) -> tuple[BatchedSAE, dict[str, Any]]:
        """Model and cfg of the i-th SAE."""
        return load_sae(self.sae_path(i))


def load_run(folder: str | os.PathLike[str]) -> Run:
    """Read a run folder written by :func:`save_run` (or ``rdp train``)."""
    folder = Path(folder)
    rp = folder / RUNS_FILE
    if not rp.is_file():
        raise InvalidArgument(f"not a run folder: {str(folder)!r} has no {RUNS_FILE}")
    with rp.open(newline="") as fh:
        rows = tuple(
            {k: (v if k in TEXT_COLUMNS else _parse(v)) for k, v in r.items()} for r in csv.DictReader(fh)
        )
    return Run(folder=folder, dgp=load_dgp(folder), rows=rows)
