"""Job kinds of ``rdp sweep``: their parameters, validation and runners (DESIGN §5.4).

A *job kind* (``solve``, ``frontier``, ``train``) declares

* its parameters (:class:`Param`: name, type, default, choices) — for ``solve`` these are the fields of
  :class:`~rdp_exact.problem.Problem` plus the solver options, for ``frontier`` and ``train`` the fields
  of the owning package's config dataclass, so the sweep file accepts exactly what the library does;
* ``check(params, pmf)``: builds the library config once, so every job is validated before any runs;
* ``run(params, pmf, out_dir) -> JobOutput``: computes the job, writes its files into ``out_dir``
  and returns a JSON result and a dict of scalar metrics.

:func:`execute_job` is what a worker process (local pool or Ray task) runs: it never raises; it returns
a :class:`JobOutcome` holding the status, the result, the metrics and the job's files as bytes, so that
the parent process alone writes artefacts and store rows (one writer, no shared file system needed on
a Ray cluster).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import socket
import tempfile
import time
import traceback
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rdp_exact.errors import InvalidArgument
from rdp_exact.frontier import FrontierConfig, compute_frontier
from rdp_exact.frontier_report import write_frontier
from rdp_exact.pmf import ConceptPMF, pmf_from_dict

log = logging.getLogger(__name__)

#: Marks a parameter without default (the sweep file must give it).
REQUIRED: Any = dataclasses.MISSING

BaseType = Literal["int", "float", "str", "bool"]


# ---------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Param:
    """One configurable parameter of a job kind."""

    name: str
    base: BaseType
    """Scalar type of the value (or of each element when ``sequence``)."""
    default: Any = REQUIRED
    """Default value (already coerced), or :data:`REQUIRED`."""
    optional: bool = False
    """Whether ``"none"`` (TOML has no null) is accepted, meaning None."""
    sequence: bool = False
    """The value itself is a list (e.g. poly levels): a grid axis over it is a list of lists."""
    choices: tuple[Any, ...] | None = None
    """Allowed values, when the type is a Literal."""
    in_key: bool = True
    """Whether the value enters the job's content hash (False for execution-only knobs like threads)."""
    item_optional: bool = False
    """For sequences: whether an element may be ``"none"`` (e.g. the P level "no budget")."""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        """Type in words, for error messages."""
        t = {"int": "an integer", "float": "a finite number", "str": "a string", "bool": "true or false"}[self.base]
        if self.choices is not None:
            t = "one of " + ", ".join(repr(c) for c in self.choices)
        if self.sequence:
            t = f"a list, each {t}" + (' or "none"' if self.item_optional else "")
        if self.optional:
            t += ' or "none"'
        return t

    def coerce(self, value: Any) -> Any:
        """Check and convert one TOML value; raise InvalidArgument (message without context)."""
        if self.optional and isinstance(value, str) and value.lower() == "none":
            return None
        if self.sequence:
            items = value if isinstance(value, list) else [value]
            return tuple(self._scalar(v) for v in items)
        return self._scalar(value)

    def _scalar(self, v: Any) -> Any:
        ok: Any
        if self.sequence and self.item_optional and isinstance(v, str) and v.lower() == "none":
            return None
        if self.base == "bool":
            ok = v if isinstance(v, bool) else None
        elif self.base == "int":
            ok = v if isinstance(v, int) and not isinstance(v, bool) else None
        elif self.base == "float":
            ok = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
            if ok is not None and not math.isfinite(ok):
                ok = None
        else:
            ok = v if isinstance(v, str) else None
        if ok is None:
            raise InvalidArgument(f"expected {self.describe()}")
        if self.choices is not None and ok not in self.choices:
            raise InvalidArgument(f"expected one of {', '.join(repr(c) for c in self.choices)}")
        return ok


def param_from_hint(name: str, hint: Any, default: Any = REQUIRED, *, in_key: bool = True) -> Param | None:
    """Translate a dataclass field's type hint into a :class:`Param` (None when not expressible in TOML)."""
    optional = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) == 2 and {args[0], args[1]} == {int, float}:
            hint = float
        elif len(args) != 1:
            return None
        else:
            hint = args[0]
        origin = typing.get_origin(hint)
    sequence = item_optional = False
    if origin in (tuple, list):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if len(set(args)) != 1:
            return None
        sequence, hint = True, args[0]
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(inner) != 1:
                return None
            item_optional, hint = True, inner[0]
            origin = typing.get_origin(hint)
    choices: tuple[Any, ...] | None = None
    if origin is Literal:
        choices = typing.get_args(hint)
        kinds = {type(c) for c in choices}
        if len(kinds) != 1:
            return None
        hint = kinds.pop()
    base = {int: "int", float: "float", str: "str", bool: "bool", Path: "str"}.get(hint)
    if base is None:
        return None
    if default is not REQUIRED and sequence and isinstance(default, list):
        default = tuple(default)
    return Param(name, base, default, optional, sequence, choices, in_key, item_optional)  # type: ignore[arg-type]


def dataclass_params(cls: type, exclude: set[str] = frozenset(), no_key: set[str] = frozenset()) -> dict[str, Param]:  # type: ignore[assignment]
    """The :class:`Param` of every field of a config dataclass that TOML can express."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Param] = {}
    for f in dataclasses.fields(cls):
        if f.name in exclude or not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = REQUIRED
        p = param_from_hint(f.name, hints[f.name], default, in_key=f.name not in no_key)
        if p is None:
            if default is REQUIRED:
                raise InvalidArgument(f"{cls.__name__}.{f.name} has a type a sweep file cannot express")
            log.debug("sweep: %s.%s is not configurable from TOML", cls.__name__, f.name)
            continue
        out[f.name] = p
    return out


#: Parameters every job kind has.
COMMON_PARAMS: dict[str, Param] = {
    "pmf": Param("pmf", "str", REQUIRED, in_key=False),
    "normalize": Param("normalize", "bool", False, in_key=False),
}


# ---------------------------------------------------------------------- job kinds
@dataclass(frozen=True)
class RowOutput:
    """One store row produced by a job (a job may produce several, e.g. one per trained SAE)."""

    result: dict[str, Any]
    """Full JSON result of this row."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """Flat scalar metrics (rate, distortion, poly, status, …)."""
    subdir: str = ""
    """Folder of this row's files inside the job folder ("" = the job folder itself)."""


@dataclass(frozen=True)
class JobKind:
    """A kind of sweep job."""

    name: str
    params: Callable[[], dict[str, Param]]
    """Its parameters (called lazily: frontier/train read them from their packages)."""
    check: Callable[[Mapping[str, Any], ConceptPMF], None]
    """Validate one job's parameters (builds the library config; raises InvalidArgument)."""
    run: Callable[[Mapping[str, Any], ConceptPMF, Path], list[RowOutput]]
    """Run one job, writing its files into the given folder; one :class:`RowOutput` per row."""
    split: Callable[[Mapping[str, Any], ConceptPMF], list[dict[str, Any]]] | None = None
    """Parameters of each row the job produces, in the order ``run`` returns them (None: one row with
    the job's parameters). Row keys hash these, so they must identify the row's result."""
    seed_is_param: bool = False
    """Whether ``seed`` is a real parameter (train) rather than only a ``{seed}`` template variable."""

    def rows(self, params: Mapping[str, Any], pmf: ConceptPMF) -> list[dict[str, Any]]:
        """Per-row parameters of a job."""
        return [dict(params)] if self.split is None else self.split(params, pmf)


def _scalars(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is None or isinstance(v, (bool, int, float, str))}


# ---- solve --------------------------------------------------------------------------------------
def _solve_params() -> dict[str, Param]:
    from rdp_exact.problem import Problem
    from rdp_exact.solvers import SOLVER_CHOICES

    ps = dataclass_params(Problem, exclude={"pmf"})
    ps["solver"] = Param("solver", "str", "auto", choices=tuple(SOLVER_CHOICES))
    ps["time_limit"] = Param("time_limit", "float", None, optional=True)
    ps["threads"] = Param("threads", "int", 1, in_key=False)
    return ps


def _problem(params: Mapping[str, Any], pmf: ConceptPMF) -> Any:
    from rdp_exact.problem import Problem

    names = {f.name for f in dataclasses.fields(Problem)} - {"pmf"}
    return Problem(pmf=pmf, **{k: v for k, v in params.items() if k in names})


def _check_solve(params: Mapping[str, Any], pmf: ConceptPMF) -> None:
    _problem(params, pmf)
    from rdp_exact.solvers import check_time_limit

    check_time_limit(params.get("time_limit"), "time_limit")  # finite and > 0 (nan and inf are refused)
    from rdp_exact.validate import check_int

    check_int("threads", params.get("threads", 1), min=1)


def run_solve(params: Mapping[str, Any], pmf: ConceptPMF, out_dir: Path) -> list[RowOutput]:
    """Solve one query (``rdp_exact.solvers.solve``); writes ``solution.json`` (DESIGN §5.2 schema)."""
    from rdp_exact.io_utils import atomic_write_json
    from rdp_exact.solvers import solve

    problem = _problem(params, pmf)
    sol = solve(problem, params.get("solver", "auto"), time_limit=params.get("time_limit"), threads=params.get("threads"))
    d = sol.to_json_dict()
    atomic_write_json(out_dir / "solution.json", d)
    metrics = {
        "status": d["status"],
        "exact": d["exact"],
        "rate": d["rate"],
        "distortion": d["distortion"],
        "poly": sol.poly,
        "poly_dec": d["poly_dec"],
        "poly_enc": d["poly_enc"],
        "poly_joint": d["poly_joint"],
        "objective": d["objective"],
        "bound": d["bound"],
        "gap": d["gap"],
        "solver": d["solver"]["name"],
        "solver_version": d["solver"]["version"],
        "solve_time_s": d["wall_time_s"],
    }
    return [RowOutput(result=d, metrics=metrics)]


# ---- frontier -----------------------------------------------------------------------------------
def _frontier_params() -> dict[str, Param]:
    return dataclass_params(FrontierConfig, exclude={"pmf"}, no_key={"threads"})


def _frontier_config(params: Mapping[str, Any], pmf: ConceptPMF) -> Any:
    names = {f.name for f in dataclasses.fields(FrontierConfig)} - {"pmf"}
    return FrontierConfig(pmf=pmf, **{k: v for k, v in params.items() if k in names})


def _check_frontier(params: Mapping[str, Any], pmf: ConceptPMF) -> None:
    _frontier_config(params, pmf)


def run_frontier(params: Mapping[str, Any], pmf: ConceptPMF, out_dir: Path) -> list[RowOutput]:
    """Compute one frontier (``compute_frontier``); ``write_frontier`` fills ``frontier/``."""
    result = compute_frontier(_frontier_config(params, pmf))
    write_frontier(result, out_dir / "frontier")
    d = result.to_json_dict()
    rows = d.get("rows") or []
    metrics = {
        "expected_sparsity": d.get("expected_sparsity"),
        "d_star_k": d.get("d_star_k"),
        "rate_at_d_star_k": d.get("rate_at_d_star_k"),
        "d_min": d.get("d_min"),
        "all_exact": d.get("all_exact"),
        "points": len(rows),
        "exact_points": sum(1 for r in rows if isinstance(r, Mapping) and r.get("exact")),
        "pareto_points": None if d.get("pareto") is None else len(d["pareto"]),
    }
    return [RowOutput(result=d, metrics=metrics)]


# ---- train --------------------------------------------------------------------------------------
#: Options of a train job beside the TrainConfig fields, named as ``rdp train`` names them (DESIGN §6).
_TRAIN_EXTRA: dict[str, Param] = {
    "d": Param("d", "int", None, optional=True),
    "magnitudes": Param("magnitudes", "str", "constant"),
    "noise": Param("noise", "float", 0.0),
    "dgp_seed": Param("dgp_seed", "int", 0),
    "solver": Param("solver", "str", "auto"),
}
#: TrainConfig fields that vary across the SAEs of one batched job.
_BATCH_AXES = ("k", "seeds", "lr", "sparsity")


def _train_params() -> dict[str, Param]:
    from rdp_exact.solvers import SOLVER_CHOICES
    from sae_train import train as tr

    ps = dataclass_params(tr.TrainConfig, no_key={"device", "log_every"})
    extra = dict(_TRAIN_EXTRA)
    extra["solver"] = Param("solver", "str", "auto", choices=tuple(SOLVER_CHOICES))
    extra["threads"] = Param("threads", "int", 1, in_key=False)
    return {**ps, **extra}


def _train_config(params: Mapping[str, Any]) -> Any:
    from sae_train import train as tr

    names = {f.name for f in dataclasses.fields(tr.TrainConfig)}
    kwargs = {k: v for k, v in params.items() if k in names}
    if params.get("seed") is not None:
        kwargs["seeds"] = (params["seed"],)
    return tr.TrainConfig(**kwargs)


def _dgp(params: Mapping[str, Any], pmf: ConceptPMF) -> Any:
    from sae_train.data import DGP

    return DGP.make(
        pmf, params.get("d"), magnitudes=params.get("magnitudes", "constant"),
        noise_std=params.get("noise", 0.0), seed=params.get("dgp_seed", 0),
    )


def _check_train(params: Mapping[str, Any], pmf: ConceptPMF) -> None:
    _train_config(params)
    _dgp(params, pmf)


def _split_train(params: Mapping[str, Any], pmf: ConceptPMF) -> list[dict[str, Any]]:
    """One row per SAE of the batch: the batch axes (k, seeds, lr, sparsity) become scalars."""
    cfg = _train_config(params)
    base = {k: v for k, v in params.items() if k not in (*_BATCH_AXES, "seed")}
    return [
        {**base, "k": s.k, "seed": s.seed, "lr": s.lr, "sparsity": s.sparsity} for s in cfg.specs()
    ]


def run_train_job(params: Mapping[str, Any], out_dir: Path, pmf: ConceptPMF | None = None) -> dict[str, Any]:
    """Train one batched configuration exactly as ``rdp train`` does and save the run into ``out_dir``.

    Calls :func:`sae_train.train.train` and :func:`sae_train.io.save_run` (DESIGN §5.3 layout:
    ``dgp.*``, ``runs.csv``, ``history.csv``, ``sae_000/`` …). Returns ``{"saes": [{"index", "seed", "k",
    "lr", "sparsity", "metrics", "diverged", "diverged_step", "final_loss", "folder"}, ...], "device",
    "wall_time_s", "config"}``.
    """
    from rdp_exact.generators import load_pmf
    from sae_train.io import sae_dir_name, save_run

    if pmf is None:
        pmf = load_pmf(str(params["pmf"]), normalize=bool(params.get("normalize", False)))
    from sae_train import train as tr

    cfg = _train_config(params)
    dgp = _dgp(params, pmf)
    exact_atoms = tr.exact_init_atoms(dgp, cfg, solver=params.get("solver", "auto")) if cfg.init == "exact" else None
    res = tr.train(dgp, cfg, exact_atoms=exact_atoms)
    save_run(out_dir, dgp, res)
    saes = [
        {
            "index": spec.index, "seed": spec.seed, "k": spec.k, "lr": spec.lr, "sparsity": spec.sparsity,
            "metrics": res.metrics[i].to_dict(), "diverged": bool(res.diverged[i]),
            "diverged_step": res.diverged_step[i], "final_loss": res.final_loss[i],
            "folder": sae_dir_name(spec.index),
        }
        for i, spec in enumerate(res.specs)
    ]
    return {"saes": saes, "device": res.device, "wall_time_s": res.wall_time_s, "config": cfg.to_dict()}


def run_train(params: Mapping[str, Any], pmf: ConceptPMF, out_dir: Path) -> list[RowOutput]:
    """Train one batch (:func:`run_train_job`): one row per SAE."""
    torch_threads = params.get("threads")
    if torch_threads:
        import torch

        torch.set_num_threads(int(torch_threads))
    out = run_train_job(params, out_dir, pmf)
    rows = []
    for sae in out["saes"]:
        metrics = {**_scalars(sae["metrics"]), "diverged": sae["diverged"], "final_loss": sae["final_loss"],
                   "device": out["device"]}
        rows.append(RowOutput(result={**sae, "device": out["device"]}, metrics=metrics, subdir=sae["folder"]))
    return rows


#: Registered job kinds, by table name.
KINDS: dict[str, JobKind] = {
    "solve": JobKind("solve", _solve_params, _check_solve, run_solve),
    "frontier": JobKind("frontier", _frontier_params, _check_frontier, run_frontier),
    "train": JobKind("train", _train_params, _check_train, run_train, split=_split_train, seed_is_param=True),
}


def kind_params(kind: str) -> dict[str, Param]:
    """All parameters of a job kind: the common ones, the kind's own, and ``seed``."""
    own = KINDS[kind].params()
    ps = {**COMMON_PARAMS, **own}
    if "seed" not in ps:
        ps["seed"] = Param("seed", "int", None, optional=True, in_key=KINDS[kind].seed_is_param)
    return ps


# ---------------------------------------------------------------------- execution (worker side)
@dataclass(frozen=True)
class JobOutcome:
    """What a worker sends back: status, per-row results and the job's files."""

    key: str
    status: str
    """``done`` or ``failed``."""
    error: str | None
    rows: tuple[RowOutput, ...]
    """One entry per row of the job (empty when failed)."""
    files: dict[str, bytes]
    """The job's artefacts: path relative to the job folder → content."""
    started: str
    finished: str
    wall_time_s: float
    host: str
    traceback: str | None = None


def utc_now() -> str:
    """ISO-8601 UTC timestamp."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _collect(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def execute_job(job: Any) -> JobOutcome:
    """Run one :class:`~rdp.sweep.sweep.Job` in this process; never raises (failures are outcomes)."""
    from rdp.sweep.store import STATUS_DONE, STATUS_FAILED, to_json

    started, t0 = utc_now(), time.perf_counter()
    host = socket.gethostname()
    try:
        kind = KINDS[job.kind]
        pmf = pmf_from_dict(job.pmf)
        with tempfile.TemporaryDirectory(prefix="rdp-job-") as tmp:
            rows = kind.run(job.params, pmf, Path(tmp))
            files = _collect(Path(tmp))
        if len(rows) != len(job.rows):
            raise RuntimeError(f"the job produced {len(rows)} rows, expected {len(job.rows)}")
        record = {
            "key": job.key,
            "kind": job.kind,
            "label": job.label,
            "params": job.params,
            "pmf_sha256": job.pmf_sha256,
            "rows": [{"key": spec.key, "subdir": r.subdir, "metrics": r.metrics} for spec, r in zip(job.rows, rows, strict=True)],
        }
        files["job.json"] = (to_json(record) + "\n").encode()
        files["pmf.json"] = pmf.to_json().encode()
        return JobOutcome(
            job.key, STATUS_DONE, None, tuple(rows), files, started, utc_now(), time.perf_counter() - t0, host
        )
    except Exception as exc:  # a failing job is recorded, it does not stop the sweep
        msg = " ".join(f"{type(exc).__name__}: {exc}".split())
        return JobOutcome(
            job.key, STATUS_FAILED, msg, (), {}, started, utc_now(), time.perf_counter() - t0, host,
            traceback.format_exc(),
        )
