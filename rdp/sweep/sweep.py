"""Sweeps at scale: a TOML grid of jobs, run on a process pool or a Ray cluster (DESIGN §5.4).

Pipeline::

    load_config(path) -> SweepConfig        parse + type-check every table and key
    expand_jobs(config) -> list[Job]        cartesian product of the list-valued keys; every pmf is
                                            loaded and every job's library config built (validated)
    run_sweep(jobs, out_dir, ...) -> SweepSummary
                                            run the jobs (local process pool or Ray tasks); the parent
                                            process writes each job's artefacts (staging folder +
                                            rename) and then its store row (one transaction)

A sweep file holds arrays of tables ``[[solve]]``, ``[[frontier]]`` and ``[[train]]``. In a table every
list is a grid axis, except for keys whose value is itself a list (e.g. poly levels), where a list of
lists is the axis. ``seeds`` is an alias of ``seed``; ``seeds = N`` means seeds 0..N−1. String values may
use ``{name}`` templates filled from the job's other parameters, e.g.
``pmf = "pairs:n=6,pair=0.3,single=0.05,seed={seed}"``.

Failures: a bad config raises :class:`~rdp_exact.errors.InvalidArgument` before anything runs; a job
that raises is recorded as ``failed`` and the sweep goes on (:attr:`SweepSummary.exit_code` is then 1).
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import logging
import os
import re
import shutil
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdp.sweep.jobs import KINDS, JobOutcome, Param, execute_job, kind_params, utc_now
from rdp.sweep.store import STATUS_DONE, STORE_NAME, ResultsStore, StoreRow, code_version, job_key
from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF
from rdp_exact.validate import check_int

log = logging.getLogger(__name__)

BACKENDS = ("local", "ray")
#: Default number of local worker processes.
DEFAULT_WORKERS = 2
#: A sweep larger than this is almost surely a typo in a grid.
MAX_JOBS = 100_000
#: Folder of per-job artefacts inside the output folder.
JOBS_DIR = "jobs"
_STAGING_PREFIX = ".staging-"
_TRASH_PREFIX = ".trash-"
_LOCK_NAME = ".sweep.lock"


# ---------------------------------------------------------------------- config
@dataclass(frozen=True)
class TableSpec:
    """One ``[[kind]]`` table of a sweep file, type-checked: each key maps to its axis values."""

    kind: str
    index: int
    """1-based position among the tables of this kind."""
    axes: dict[str, tuple[Any, ...]]
    """Parameter → values (one value for a scalar key); defaults are not listed."""

    @property
    def name(self) -> str:
        """``[[solve]] #1``: how error messages name the table."""
        return f"[[{self.kind}]] #{self.index}"

    @property
    def size(self) -> int:
        """Number of grid points."""
        n = 1
        for v in self.axes.values():
            n *= len(v)
        return n


@dataclass(frozen=True)
class SweepConfig:
    """A parsed sweep file."""

    tables: tuple[TableSpec, ...]
    source: str = "<config>"
    """File name (for messages)."""
    base_dir: Path = field(default_factory=Path.cwd)
    """Folder relative pmf paths are resolved against (the config file's folder)."""


def load_config(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and type-check a TOML sweep file (see the module docstring and docs/readme/sweeps.md)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    p = Path(path)
    if not p.is_file():
        raise InvalidArgument(f"sweep config {str(p)!r} does not exist or is not a file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{p.name}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"cannot read sweep config {str(p)!r}: {exc}") from None
    return config_from_dict(data, source=p.name, base_dir=p.resolve().parent)


def config_from_dict(data: Mapping[str, Any], *, source: str = "<config>", base_dir: Path | None = None) -> SweepConfig:
    """Type-check a sweep config given as a dict (the parsed TOML)."""
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"{source}: a sweep config must be a table")
    for top in data:
        if top not in KINDS:
            raise InvalidArgument(
                f"{source}: unknown table {top!r}{_suggest(top, KINDS)} (allowed: {', '.join(f'[[{k}]]' for k in KINDS)})"
            )
    tables: list[TableSpec] = []
    for kind in KINDS:
        if kind not in data:
            continue
        entries = data[kind]
        if isinstance(entries, Mapping):
            entries = [entries]
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            raise InvalidArgument(f"{source}: {kind!r} must be an array of tables ([[{kind}]])")
        for i, entry in enumerate(entries, start=1):
            tables.append(_parse_table(kind, i, entry, source))
    if not tables:
        raise InvalidArgument(f"{source}: no jobs: add at least one [[solve]], [[frontier]] or [[train]] table")
    return SweepConfig(tuple(tables), source, base_dir if base_dir is not None else Path.cwd())


def _suggest(word: str, options: Sequence[str] | Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parse_table(kind: str, index: int, entry: Mapping[str, Any], source: str) -> TableSpec:
    where = f"{source}: [[{kind}]] #{index}"
    try:
        params = kind_params(kind)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc}") from None
    entry = dict(entry)
    if "seeds" in entry:
        if "seed" in entry:
            raise InvalidArgument(f"{where}: give either 'seed' or 'seeds', not both")
        seeds = entry["seeds"]
        if isinstance(seeds, int) and not isinstance(seeds, bool):  # seeds = N means 0..N-1, as in `rdp train`
            if seeds < 1:
                raise InvalidArgument(f"{where}: key 'seeds' = {seeds!r}: the number of seeds must be at least 1")
            entry["seeds"] = list(range(seeds))
        if "seeds" not in params:  # an alias of the seed axis
            entry["seed"] = entry.pop("seeds")
    axes: dict[str, tuple[Any, ...]] = {}
    for key, raw in entry.items():
        if key not in params:
            allowed = ", ".join(sorted(params))
            raise InvalidArgument(f"{where}: unknown key {key!r}{_suggest(key, params)} (allowed: {allowed})")
        param = params[key]
        values = _axis_values(param, raw)
        if not values:
            raise InvalidArgument(f"{where}: key {key!r} = []: an empty list gives no jobs")
        coerced = []
        for v in values:
            try:
                coerced.append(param.coerce(v))
            except InvalidArgument as exc:
                raise InvalidArgument(f"{where}: key {key!r} = {_show(v)}: {exc}") from None
        if len(set(map(repr, coerced))) != len(coerced):
            raise InvalidArgument(f"{where}: key {key!r} = {_show(raw)}: the grid axis repeats a value")
        axes[key] = tuple(coerced)
    for name, param in params.items():
        if param.required and name not in axes:
            raise InvalidArgument(f"{where}: missing required key {name!r}")
    return TableSpec(kind, index, axes)


def _axis_values(param: Param, raw: Any) -> list[Any]:
    """The values of one key: a list is an axis; for list-valued params a list of lists is one."""
    if param.sequence:
        if isinstance(raw, list) and raw and all(isinstance(v, list) for v in raw):
            return list(raw)
        return [raw]
    return list(raw) if isinstance(raw, list) else [raw]


def _show(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


# ---------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class RowSpec:
    """One store row a job will produce."""

    key: str
    """Content hash of the row: (kind, pmf sha256, the row's normalised parameters, code version)."""
    params: dict[str, Any]
    """The row's parameters (for a batched training job, the parameters of one SAE)."""


@dataclass(frozen=True, eq=False)
class Job:
    """One unit of work: a job kind with fully normalised parameters and its pmf."""

    kind: str
    params: dict[str, Any]
    """All parameters, defaults filled in, values in their declared types (JSON-ready)."""
    pmf: dict[str, Any]
    """The pmf in the JSON file form (workers rebuild it; no file access needed)."""
    pmf_sha256: str
    key: str
    """Content hash (:func:`rdp.sweep.store.job_key`): the artefact folder name, and the store key of
    the job's row when it has one row."""
    label: str
    """Short human description, e.g. ``solve pmf=cooccur3 width=2 k=1``."""
    rows: tuple[RowSpec, ...]
    """The store rows the job produces (one, except for batched training: one per SAE)."""
    table: str = ""
    """The table it came from, e.g. ``[[solve]] #1``."""

    @property
    def row_keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.rows)


#: ``{{``, ``}}``, a ``{field}`` or a lone brace, in a template string.
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def _format_templates(value: Any, point: Mapping[str, Any]) -> Any:
    """Fill ``{name}`` fields of a string value from the job's parameters (names only: no attribute or
    index access, no format specs); ``{{`` and ``}}`` are literal braces. Other values pass unchanged."""
    if not isinstance(value, str) or ("{" not in value and "}" not in value):
        return value

    def fill(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok in ("{{", "}}"):
            return tok[0]
        name = m.group(1)
        if name is None:
            raise InvalidArgument(f"bad template: a lone {tok!r} (write {tok * 2} for a literal brace)")
        if not name.isidentifier():
            raise InvalidArgument(
                f"bad template field {{{_show(name)[1:-1]}}}: only a parameter name may stand in braces, e.g. {{seed}}"
            )
        if name not in point:
            raise InvalidArgument(f"unknown template field {{{name}}} (fields: {', '.join(sorted(point))})")
        v = point[name]
        return str(v)

    return _TEMPLATE_TOKEN.sub(fill, value)


def _iter_points(table: TableSpec, params: Mapping[str, Param]) -> Iterator[dict[str, Any]]:
    """Every grid point of ``table`` with defaults filled in."""
    names = list(table.axes)
    for combo in itertools.product(*(table.axes[n] for n in names)):
        point = {n: p.default for n, p in params.items()}
        point.update(dict(zip(names, combo, strict=True)))
        yield point


def _axis_label(table: TableSpec, point: Mapping[str, Any]) -> str:
    return ", ".join(f"{n}={_show(point[n])}" for n in table.axes if len(table.axes[n]) > 1)


def _load_pmf(spec: str, normalize: bool, base_dir: Path, cache: dict[tuple[str, bool], ConceptPMF]) -> ConceptPMF:
    from rdp_exact import generators
    from rdp_exact.generators import load_pmf

    ck = (spec, normalize)
    if ck not in cache:
        target = spec
        looks_generated = spec in generators.BUILTINS or spec.split(":", 1)[0] in generators.SPEC_KINDS
        if not looks_generated and not Path(spec).is_absolute() and (base_dir / spec).exists():
            target = str(base_dir / spec)
        cache[ck] = load_pmf(target, normalize=normalize)
    return cache[ck]


def expand_jobs(config: SweepConfig) -> list[Job]:
    """All jobs of ``config`` (cartesian product per table), each validated; duplicates dropped.

    Every pmf spec is loaded and every job's library config (e.g. the :class:`Problem`) is built
    here, so a bad value fails before anything runs, with a message naming the table and values.
    """
    version = code_version()
    cache: dict[tuple[str, bool], ConceptPMF] = {}
    jobs: list[Job] = []
    seen: set[str] = set()
    total = sum(t.size for t in config.tables)
    if total > MAX_JOBS:
        raise InvalidArgument(f"{config.source}: the grid has {total} jobs, more than the limit of {MAX_JOBS}")
    for table in config.tables:
        kind = KINDS[table.kind]
        params = kind_params(table.kind)
        where = f"{config.source}: {table.name}"
        if "seed" in table.axes and not kind.seed_is_param:
            if not any(isinstance(v, str) and "{seed}" in v for vs in table.axes.values() for v in vs):
                raise InvalidArgument(
                    f"{where}: key 'seed' only fills {{seed}} templates, and no value of this table uses {{seed}}"
                )
        for point in _iter_points(table, params):
            at = _axis_label(table, point)
            ctx = f"{where}" + (f" ({at})" if at else "")
            for name in table.axes:
                try:
                    point[name] = _format_templates(point[name], point)
                except InvalidArgument as exc:
                    raise InvalidArgument(f"{ctx}: key {name!r} = {_show(point[name])}: {exc}") from None
            try:
                pmf = _load_pmf(point["pmf"], point["normalize"], config.base_dir, cache)
            except InvalidArgument as exc:
                raise InvalidArgument(f"{ctx}: key 'pmf' = {_show(point['pmf'])}: {exc}") from None
            try:
                kind.check(point, pmf)
            except InvalidArgument as exc:
                raise InvalidArgument(f"{ctx}: {exc}") from None
            except (TypeError, ValueError) as exc:  # a library config rejecting a combination
                raise InvalidArgument(f"{ctx}: {exc}") from None
            sha = pmf.sha256()
            key = job_key(table.kind, sha, _key_params(point, params), version)
            if key in seen:
                log.info("sweep: %s repeats an earlier job; kept once", ctx)
                continue
            seen.add(key)
            rows = []
            for rp in kind.rows(point, pmf):
                rk = key if kind.split is None else job_key(table.kind, sha, _key_params(rp, params), version)
                rows.append(RowSpec(rk, {n: _jsonable(v) for n, v in rp.items()}))
            jobs.append(
                Job(
                    kind=table.kind,
                    params={n: _jsonable(v) for n, v in point.items()},
                    pmf=pmf.to_dict(),
                    pmf_sha256=sha,
                    key=key,
                    label=_label(table.kind, point, params),
                    rows=tuple(rows),
                    table=table.name,
                )
            )
    all_rows = [k for j in jobs for k in j.row_keys]
    if len(set(all_rows)) != len(all_rows):
        raise InvalidArgument(
            f"{config.source}: two jobs would produce the same row (e.g. the same SAE in two training batches); "
            "remove the overlap"
        )
    return jobs


def _key_params(point: Mapping[str, Any], params: Mapping[str, Param]) -> dict[str, Any]:
    """The parameters that enter a content hash (execution-only knobs such as threads do not)."""
    return {n: _jsonable(v) for n, v in point.items() if n not in params or params[n].in_key}


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _label(kind: str, point: Mapping[str, Any], params: Mapping[str, Param]) -> str:
    shown = [f"pmf={point['pmf']}"]
    for n, v in point.items():
        if n in ("pmf", "normalize") or v is None:
            continue
        if v != params[n].default or n in ("width", "k", "seed"):
            shown.append(f"{n}={v}")
    return f"{kind} " + " ".join(shown)


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class Failure:
    """A job that failed: its key, label and one-line error."""

    key: str
    label: str
    error: str


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep did."""

    out_dir: Path
    store_path: Path
    backend: str
    total: int
    """Jobs in the expanded list."""
    skipped: int
    """Jobs skipped because the store already held a ``done`` row (``resume``)."""
    done: int
    """Jobs run to the end in this sweep."""
    failed: int
    """Jobs that raised in this sweep (recorded with status ``failed``)."""
    failures: tuple[Failure, ...] = ()
    wall_time_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Every job has a ``done`` row."""
        return self.failed == 0

    @property
    def exit_code(self) -> int:
        """CLI exit status: 0 when every job succeeded, 1 when some failed."""
        return 0 if self.ok else 1


# ---------------------------------------------------------------------- artefacts + store
def _job_dir(out_dir: Path, key: str) -> Path:
    return out_dir / JOBS_DIR / key


def _write_artefacts(out_dir: Path, key: str, files: Mapping[str, bytes]) -> Path:
    """Write a job's files into a staging folder, then rename it to ``jobs/<key>`` (replacing an old one)."""
    jobs = out_dir / JOBS_DIR
    jobs.mkdir(parents=True, exist_ok=True)
    final = jobs / key
    stage = jobs / f"{_STAGING_PREFIX}{key[:16]}-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        for rel, data in files.items():
            dst = (stage / rel).resolve()
            if stage.resolve() not in dst.parents:
                raise InvalidArgument(f"job file {rel!r} escapes its folder")
            dst.parent.mkdir(parents=True, exist_ok=True)
            with open(dst, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if final.exists():
            trash = jobs / f"{_TRASH_PREFIX}{uuid.uuid4().hex[:8]}"
            os.replace(final, trash)
            os.replace(stage, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(stage, final)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return final


def _clean_stale(out_dir: Path) -> None:
    """Remove staging/trash folders a killed sweep left behind (we hold the lock)."""
    jobs = out_dir / JOBS_DIR
    if not jobs.is_dir():
        return
    for p in jobs.iterdir():
        if p.name.startswith((_STAGING_PREFIX, _TRASH_PREFIX)):
            shutil.rmtree(p, ignore_errors=True)


def _record(out_dir: Path, store: ResultsStore, job: Job, outcome: JobOutcome) -> JobOutcome:
    """Write artefacts (done jobs), then all the job's rows in one transaction; return the outcome."""
    if outcome.status == STATUS_DONE:
        try:
            _write_artefacts(out_dir, job.key, outcome.files)
        except (OSError, InvalidArgument) as exc:
            outcome = _failed(job, f"writing artefacts failed: {type(exc).__name__}: {exc}", outcome)
    if outcome.status != STATUS_DONE:
        stale = _job_dir(out_dir, job.key)
        if stale.exists():  # left by an earlier run killed between artefacts and rows
            shutil.rmtree(stale, ignore_errors=True)
    rows = []
    for i, spec in enumerate(job.rows):
        out = outcome.rows[i] if outcome.status == STATUS_DONE else None
        artefacts = None
        if out is not None:
            artefacts = f"{JOBS_DIR}/{job.key}" + (f"/{out.subdir}" if out.subdir else "")
        rows.append(
            StoreRow(
                key=spec.key,
                job=job.key,
                kind=job.kind,
                label=job.label,
                pmf_sha256=job.pmf_sha256,
                params=spec.params,
                status=outcome.status,
                error=outcome.error,
                result=None if out is None else out.result,
                metrics={} if out is None else out.metrics,
                artefacts=artefacts,
                started=outcome.started,
                finished=outcome.finished,
                wall_time_s=outcome.wall_time_s,
                host=outcome.host,
            )
        )
    store.put_many(rows)
    return outcome


def _failed(job: Job, error: str, base: JobOutcome | None = None) -> JobOutcome:
    import socket

    now = utc_now()
    return JobOutcome(
        key=job.key, status="failed", error=error, rows=(), files={},
        started=base.started if base else now, finished=now,
        wall_time_s=base.wall_time_s if base else 0.0, host=base.host if base else socket.gethostname(),
    )


@contextlib.contextmanager
def _sweep_lock(out_dir: Path) -> Iterator[None]:
    """One sweep at a time per output folder (an advisory lock, released if the process dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    fh = open(out_dir / _LOCK_NAME, "a+")  # noqa: SIM115
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InvalidArgument(f"another sweep is writing into {str(out_dir)!r}") from None
        yield
    finally:
        fh.close()


# ---------------------------------------------------------------------- progress
class _Progress:
    """Rich progress bar on stderr: jobs done, running, failed, ETA (no-op when disabled)."""

    def __init__(self, total: int, skipped: int, enabled: bool) -> None:
        self.enabled = enabled and total > 0
        self.total, self.skipped = total, skipped
        self.done = self.failed = self.running = 0
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("running {task.fields[running]}  failed {task.fields[failed]}{task.fields[skip]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        skip = f"  resumed {skipped}" if skipped else ""
        self._task = self._bar.add_task("sweep", total=total, running=0, failed=0, skip=skip)
        self._bar.start()

    def update(self, *, running: int, finished: JobOutcome | None = None) -> None:
        self.running = running
        if finished is not None:
            if finished.status == STATUS_DONE:
                self.done += 1
            else:
                self.failed += 1
        if self.enabled:
            self._bar.update(
                self._task, completed=self.done + self.failed, running=running, failed=self.failed
            )

    def close(self) -> None:
        if self.enabled:
            self._bar.stop()


# ---------------------------------------------------------------------- backends
Submit = Callable[[Job], Any]
OnOutcome = Callable[[Job, JobOutcome, int], None]


#: Seconds between a pool worker's checks that its parent still runs.
PARENT_POLL_S = 0.5


def _exit_when_orphaned(parent_pid: int, poll_s: float = PARENT_POLL_S) -> None:
    """Pool-worker initializer: a daemon thread ends this worker as soon as ``parent_pid`` is gone.

    A sweep driver killed with SIGKILL runs no cleanup, and its workers would otherwise finish (or
    block on) their jobs and then wait forever for work, keeping the resource tracker alive too. When
    the parent dies the worker is re-parented, so its parent pid changes; the thread notices within
    ``poll_s`` seconds and exits without cleanup (the job's scratch folder is in the system temp dir).
    """
    import threading

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(poll_s)

    threading.Thread(target=watch, name="rdp-parent-watch", daemon=True).start()


def _kill_pool(pool: Any) -> None:
    """Stop a process pool now: cancel queued jobs and terminate the workers still running one."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)


def _run_local(jobs: Sequence[Job], workers: int, on_outcome: OnOutcome) -> None:
    """Run jobs on a spawn-context process pool, at most ``workers`` in flight.

    A worker that dies (killed, out of memory) fails only the jobs in flight; a new pool takes over.
    Workers exit by themselves when the driver dies (:func:`_exit_when_orphaned`); on an interrupt
    (Ctrl-C, SIGTERM) the driver terminates them.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    pending = deque(jobs)
    while pending:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_exit_when_orphaned, initargs=(os.getpid(),)
        )
        inflight: dict[Future[JobOutcome], Job] = {}
        broken = False
        try:
            while pending or inflight:
                while pending and len(inflight) < workers and not broken:
                    job = pending.popleft()
                    try:
                        inflight[pool.submit(execute_job, job)] = job
                    except BrokenProcessPool:
                        pending.appendleft(job)
                        broken = True
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = inflight.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        outcome = _failed(job, "worker process died (killed or out of memory)")
                    except Exception as exc:  # e.g. the job could not be pickled
                        outcome = _failed(job, f"{type(exc).__name__}: {exc}")
                    on_outcome(job, outcome, len(inflight))
        except BaseException:
            _kill_pool(pool)
            raise
        pool.shutdown(wait=True)


def _run_ray(jobs: Sequence[Job], workers: int | None, address: str | None, on_outcome: OnOutcome) -> None:
    """Run jobs as Ray remote tasks (one CPU each); Ray schedules them over the cluster."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency
        raise InvalidArgument(f"--backend ray needs the ray package: {exc}") from None

    started_here = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False}
        try:
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=workers or DEFAULT_WORKERS, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address!r}" if address else "a local Ray runtime"
            raise InvalidArgument(f"cannot start or reach {where}: {exc}") from None
        started_here = True
    elif address:
        log.warning("sweep: Ray is already initialised in this process; --address %s is ignored", address)
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(execute_job)
        cap = max(1, workers or len(jobs))
        pending = deque(jobs)
        inflight: dict[Any, Job] = {}
        while pending or inflight:
            while pending and len(inflight) < cap:
                job = pending.popleft()
                inflight[task.remote(job)] = job
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                job = inflight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # worker crash, object lost, …
                    msg = " ".join(f"{type(exc).__name__}: {exc}".split())[:2000]
                    outcome = _failed(job, f"Ray task failed: {msg}")
                on_outcome(job, outcome, len(inflight))
    finally:
        if started_here:
            ray.shutdown()


# ---------------------------------------------------------------------- the sweep
def run_sweep(
    jobs: Sequence[Job],
    out_dir: str | os.PathLike[str],
    *,
    backend: str = "local",
    workers: int | None = None,
    resume: bool = False,
    address: str | None = None,
    progress: bool = True,
) -> SweepSummary:
    """Run ``jobs`` and record one store row per job in ``out_dir/rdp.sqlite`` (DESIGN §5.4).

    ``backend``: ``local`` (process pool of ``workers`` processes, default 2) or ``ray`` (remote tasks;
    ``address`` connects to a running cluster, else a local Ray runtime with ``workers`` CPUs, default 2,
    is started; on a cluster ``workers`` caps the tasks in flight). ``resume``: skip jobs whose key
    already has a ``done`` row (failed jobs run again); without it the store must not yet hold rows.
    ``progress``: show a rich progress bar on stderr. Each finished job's files land in
    ``out_dir/jobs/<key>/`` (staging folder + rename) before its row is inserted (one transaction).
    """
    from rdp_exact.io_utils import check_writable_dir

    if backend not in BACKENDS:
        raise InvalidArgument(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if workers is not None:
        check_int("workers", workers, min=1)
    if address is not None and backend != "ray":
        raise InvalidArgument("--address needs --backend ray")
    keys = [j.key for j in jobs] + [k for j in jobs for k in j.row_keys if k != j.key]
    if len(set(keys)) != len(keys):
        raise InvalidArgument("the job list repeats a job or a row (same key); expand_jobs drops duplicates")
    out = check_writable_dir(out_dir)
    store_path = out / STORE_NAME
    if store_path.exists() and not resume:
        n = len(ResultsStore(store_path, create=False))
        if n:
            raise InvalidArgument(
                f"{str(store_path)!r} already holds {n} rows: pass --resume to continue that sweep, or choose a new folder"
            )
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with _sweep_lock(out):
        _clean_stale(out)
        store = ResultsStore(store_path)
        finished = store.keys(status=STATUS_DONE) if resume else set()
        todo = [j for j in jobs if not set(j.row_keys) <= finished]
        skipped = len(jobs) - len(todo)
        bar = _Progress(len(todo), skipped, progress)
        failures: list[Failure] = []
        counts = {"done": 0, "failed": 0}

        def on_outcome(job: Job, outcome: JobOutcome, running: int) -> None:
            outcome = _record(out, store, job, outcome)
            if outcome.status == STATUS_DONE:
                counts["done"] += 1
            else:
                counts["failed"] += 1
                failures.append(Failure(job.key, job.label, outcome.error or "failed"))
                log.info("sweep: job %s failed: %s", job.label, outcome.error)
                if outcome.traceback:
                    log.debug("%s", outcome.traceback)
            bar.update(running=running, finished=outcome)

        try:
            if todo:
                n_workers = workers or DEFAULT_WORKERS
                bar.update(running=min(n_workers, len(todo)))
                if backend == "local":
                    _run_local(todo, n_workers, on_outcome)
                else:
                    _run_ray(todo, workers, address, on_outcome)
        finally:
            bar.close()
    return SweepSummary(
        out_dir=out,
        store_path=store_path,
        backend=backend,
        total=len(jobs),
        skipped=skipped,
        done=counts["done"],
        failed=counts["failed"],
        failures=tuple(failures),
        wall_time_s=time.perf_counter() - t0,
    )


def sweep(
    config_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], **kwargs: Any
) -> SweepSummary:
    """Convenience: :func:`load_config`, :func:`expand_jobs`, :func:`run_sweep`."""
    return run_sweep(expand_jobs(load_config(config_path)), out_dir, **kwargs)


def is_interactive() -> bool:
    """Whether stderr is a terminal (the CLI shows the live bar there)."""
    return sys.stderr.isatty()
