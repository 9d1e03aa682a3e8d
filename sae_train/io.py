"""Trained SAEs on disk (DESIGN §5.3): SAELens-compatible folders, the DGP beside them, runs.csv.

Layout of a run folder written by :func:`save_run`::

    DIR/
      dgp.json, dgp.safetensors       the DGP (pmf + options; V [n, d] float64)
      runs.csv                        one row per SAE (:data:`RUNS_COLUMNS`)
      history.csv                     metrics logged during training (step, sae, loss, rate, …)
      sae_000/ sae_001/ …             one SAE each:
        sae_weights.safetensors       W_enc [d, m], b_enc [m], W_dec [m, d], b_dec [d] (+ threshold [m])
        cfg.json                      SAELens keys + an "rdp" block

SAELens ``architecture`` values: TopK → ``topk`` (with ``k``), ReLU → ``standard``, JumpReLU →
``jumprelu`` (``threshold`` = θ per latent), BatchTopK → ``jumprelu`` with every threshold equal to the
estimated θ (what SAELens itself does when it saves a BatchTopK SAE for inference); the ``rdp`` block keeps
the true architecture, which :func:`load_sae` uses. Every file is written atomically and a run folder
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
from sae_train.models import ARCHITECTURES, BatchedSAE, build_model
from sae_train.models.registry import SAELENS_TO_ARCH

WEIGHTS_FILE = "sae_weights.safetensors"
CFG_FILE = "cfg.json"
RUNS_FILE = "runs.csv"
HISTORY_FILE = "history.csv"

#: Columns of runs.csv, in order.
RUNS_COLUMNS: tuple[str, ...] = (
    "sae_dir", "arch", "width", "k", "seed", "lr", "l1", "steps", "batch_size", "init", "zero_bias",
    "n", "d", "rate", "rate_ci", "distortion", "distortion_ci", "poly_dec", "poly_enc", "poly_joint",
    "poly_dec_live", "poly_enc_live", "poly_joint_live", "dead", "mcc", "exact", "diverged",
    "diverged_step", "final_loss", "pmf_sha256",
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
    """cfg.json: the SAELens keys of one SAE of ``model`` plus the ``rdp`` block."""
    cfg: dict[str, Any] = {
        "d_in": model.d,
        "d_sae": model.m,
        "architecture": model.saelens_architecture,
        "dtype": dtype,
        "device": "cpu",
        "apply_b_dec_to_input": model.apply_b_dec_to_input,
        "normalize_activations": "none",
        "activation_fn_str": "relu" if model.saelens_architecture != "topk" else "topk",
        "model_name": "rdp-toy",
        "hook_name": "rdp.toy",
        "hook_layer": 0,
        "context_size": 1,
        "prepend_bos": False,
        "finetuning_scaling_factor": False,
    }
    if model.saelens_architecture == "topk":
        cfg["k"] = k
        cfg["activation_fn_kwargs"] = {"k": k}
    cfg["rdp"] = rdp
    return cfg


def load_sae(folder: str | os.PathLike[str]) -> tuple[BatchedSAE, dict[str, Any]]:
    """Load one SAE folder as a single-SAE (B = 1) model, float32/float64 as saved, and its cfg dict."""
    from safetensors.torch import load

    folder = Path(folder)
    wp, cp = folder / WEIGHTS_FILE, folder / CFG_FILE
    for p in (wp, cp):
        if not p.is_file():
            raise InvalidArgument(f"not an SAE folder: {str(folder)!r} has no {p.name}")
    try:
        cfg = json.loads(cp.read_text())
        tensors = load(wp.read_bytes())
    except (json.JSONDecodeError, OSError, ValueError) as exc:
        raise InvalidArgument(f"cannot read the SAE in {str(folder)!r}: {exc}") from None
    rdp = cfg.get("rdp") or {}
    arch = rdp.get("arch") or SAELENS_TO_ARCH.get(cfg.get("architecture", ""))
    if arch not in ARCHITECTURES:
        raise InvalidArgument(f"{str(cp)!r}: unsupported architecture {cfg.get('architecture')!r}")
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        if name not in tensors:
            raise InvalidArgument(f"{str(wp)!r} has no tensor {name!r}")
    d, m = tensors["W_enc"].shape
    if tensors["W_dec"].shape != (m, d) or tensors["b_enc"].shape != (m,) or tensors["b_dec"].shape != (d,):
        raise InvalidArgument(f"{str(wp)!r}: tensor shapes do not fit d_in = {d}, d_sae = {m}")
    if arch in ("jumprelu", "batchtopk") and "threshold" not in tensors:
        raise InvalidArgument(f"{str(wp)!r}: a {arch} SAE needs a 'threshold' tensor")
    k = rdp.get("k", cfg.get("k"))
    training = rdp.get("training") or {}
    options: dict[str, Any] = {}
    if arch == "jumprelu":
        options = {"bandwidth": training.get("bandwidth", 1e-3)}
    model = build_model(
        arch, 1, d, m,
        k=[int(k)] if ARCHITECTURES[arch].uses_k and k is not None else None,
        sparsity_coef=[float(rdp.get("sparsity", 0.0))],
        zero_bias=bool(training.get("zero_bias", False)),
        dtype=tensors["W_enc"].dtype,
        options=options,
    )
    if ARCHITECTURES[arch].uses_k and k is None:
        raise InvalidArgument(f"{str(cp)!r}: a {arch} SAE needs k")
    model.load_sae_state(0, tensors)
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
