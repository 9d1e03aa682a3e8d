"""Parallel branch-and-bound: the subtrees of :mod:`rdp_exact.solvers.bnb_free` at a split depth run as tasks in
forked worker processes that share one incumbent.

The coordinating process runs the ordinary search down to depth ``split`` − 1 (the root's rank-one fixing,
symmetry and local search already done). Where the search would descend into a node at depth ``split`` it
hands the node over as a task instead: its chosen atoms F, its allowed atoms, its symmetry subgroup, its
parent's multipliers and a bound valid for every set in its subtree (the child's own bound, its order-free
bound and every ancestor's node bound). A worker — a fork of the coordinator, so it holds the search's tables
without copying them — rebuilds the node's keyed errors from F, searches the subtree depth first exactly as the
serial search would, and returns its nodes, its near-optimal records and its best set. The coordinator keeps at
most :data:`BACKLOG_PER_WORKER` unfinished tasks per worker: beyond that it waits for results (watching the time
limit and the shared incumbent, and dropping a waiting subtree that the incumbent has since pruned), so its own
search does not take cores from the workers and a stop never leaves a long queue to drain.

**Why the answer is the serial one.** Every pruning decision compares a valid bound with the incumbent a
process knows. The shared incumbent (:class:`multiprocessing.Value`, lowered under its lock, read at every
node) is always the D of some evaluated set, so it is never below D*; a process that has not seen the latest
value yet prunes less, never more. So every set with D ≤ D* + TOL is still evaluated and recorded by some
process, the merged records hold one set of every orbit of near-optimal sets, and the tie-break over them
(D, then R, then P, then the least image) is the serial one. The symmetry argument carries over unchanged: a
task's allowed list already excludes the orbits that its earlier siblings cover.

**Limits.** A task reports, on a time or node limit, a lower bound on every set of its subtree it did not
evaluate: the least pending child bound on its DFS stack when the limit was met (or the incumbent, or the
counting floor, where lower), raised by its own bound. A task not started by then reports its bound. The search's bound is the least
of these, the coordinator's own pending bound and the incumbent (never above D*), as in the serial search.
A node limit applies per process.

Workers are forked (Linux and other POSIX systems with ``fork``); elsewhere, inside a daemonic process (which
may not have children) or with one worker, the search runs serially.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import pickle
import queue
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rdp_exact.problem import TOL
from rdp_exact.solvers import bnb_state as bs

#: The depth whose subtrees become tasks (the coordinator searches above it).
SPLIT_DEPTH = 2
#: Most worker processes by default (``threads`` unset): the usable cores, at most this many.
MAX_DEFAULT_WORKERS = 8
#: Parallel only from this many candidate atoms and this width (smaller searches finish before a fork pays).
MIN_ATOMS = 256
MIN_WIDTH = 4
#: Most tasks queued but not yet finished, per worker: the coordinator waits (and watches the time limit)
#: while this many are outstanding, so a stop never leaves a long queue for the workers to drain.
BACKLOG_PER_WORKER = 4

_SEARCH: Any = None  # the coordinator's search object, inherited by the forked workers


@dataclass
class Task:
    """A subtree of the search: chosen atoms, allowed atoms, symmetry subgroup, parent's λ, its bound."""

    F: tuple[int, ...]
    cand: np.ndarray
    H: np.ndarray | None
    lam: np.ndarray | None
    bound: float
    r1: tuple[float, np.ndarray] | None = None


@dataclass
class TaskResult:
    """What a worker found in one task (see the module docstring for ``unexplored``)."""

    nodes: int = 0
    evaluated: int = 0
    #: Of those nodes, children skipped after the compiled screen (``bnb_free._Search._screen``).
    screened: int = 0
    records: list[tuple[float, tuple[int, ...]]] = field(default_factory=list)
    best_D: float = math.inf
    best_set: tuple[int, ...] = ()
    interrupted: bool = False
    too_many_ties: bool = False
    #: Lower bound on the D of every set of the subtree not evaluated (∞ when the subtree is done).
    unexplored: float = math.inf


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def workers_for(search: Any, threads: int | None) -> int:
    """How many worker processes a search gets: ``threads`` when given, else the usable cores (at most
    :data:`MAX_DEFAULT_WORKERS`); 1 (serial) for small searches (fewer than :data:`MIN_ATOMS` candidate atoms
    before any root fixing, width below :data:`MIN_WIDTH`), where ``fork`` is missing, or inside a daemonic
    process. (A fixing that leaves a few dozen atoms does not make the search small: on the sampled ``chain``
    pmf 36 atoms remain and the search still visits 8 k nodes.)"""
    want = usable_cores() if threads is None else int(threads)
    if threads is None:
        want = min(want, MAX_DEFAULT_WORKERS)
    if want <= 1 or search.M0 < MIN_ATOMS or search.m < max(MIN_WIDTH, SPLIT_DEPTH + 1):
        return 1
    if "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return 1
    return want


def _worker_init() -> None:
    """A worker leaves signals to the coordinator: SIGINT (Ctrl-C reaches the whole process group) is ignored and
    SIGTERM ends it at once (not the handler it inherited); the coordinator kills it when it stops early."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run_task(task: Task) -> TaskResult:
    """Search one subtree in a worker (module docstring)."""
    s = _SEARCH
    s.stats = bs.Stats()
    s.records, s.stack_lb, s.path_lb = [], [], []
    s.root_entered, s.interrupt_bound = False, None
    s.r1_lp = None  # the coordinator's LP is not this process's to use: tasks carry the terms they need
    s.best_set, s.best_set_D = (), math.inf
    s.sync()
    out = TaskResult()
    if task.bound > s.best + TOL + bs.FLOAT_SLACK:
        return out  # pruned by an incumbent found since the task was made
    if s.deadline is not None and time.perf_counter() > s.deadline:
        out.interrupted, out.unexplored = True, task.bound
        return out
    kF, kb = s._keys_from_scratch(task.F, task.cand)
    resid = [Q for Q in s._subsets(task.F, s.k - 1) if Q]
    try:
        s._visit(task.F, task.cand, kb, kF, resid, task.H, task.lam, task.r1)
    except bs.Timeout:
        out.interrupted = True
        # set when the limit was met, before the DFS stack unwound: every pending subtree's bound, or the
        # incumbent or the counting floor when lower (module docstring)
        out.unexplored = max(task.bound, -math.inf if s.interrupt_bound is None else s.interrupt_bound)
    except bs.TooManyTies:
        out.too_many_ties = True
    out.nodes, out.evaluated = s.stats.nodes, s.stats.evaluated
    out.screened = int(s.stats.extra.get("screened", 0))
    out.records, out.best_D, out.best_set = s.records, s.best_set_D, s.best_set
    return out


def _worker_loop(tasks: Any, results: Any) -> None:
    """A worker: search tasks until the ``None`` sentinel; an error comes back as its text."""
    _worker_init()
    while True:
        blob = tasks.get()
        if blob is None:
            return
        try:
            results.put(_run_task(pickle.loads(blob)))
        except Exception:  # pragma: no cover - a bug: the coordinator raises it
            import traceback

            results.put(traceback.format_exc())


def run(search: Any, workers: int, max_records: int) -> dict[str, Any]:
    """Run ``search`` (set up: symmetry, incumbent, fixing) with ``workers`` forked processes; on return the
    search holds the merged incumbent, records and node counts, as after :meth:`bnb_free._Search.run`.
    Raises :class:`~rdp_exact.solvers.bnb_state.Timeout` (``search.interrupt_bound`` set) or
    :class:`~rdp_exact.solvers.bnb_state.TooManyTies` (more than ``max_records`` near-optimal sets) as the
    serial search does. Returns what it measured (``parallel_workers``, ``parallel_tasks``).

    The workers are plain processes fed by a queue (no pool handshake): on any exception in the coordinator,
    Ctrl-C and SIGTERM included, they are killed at once and the exception propagates."""
    global _SEARCH
    ctx = mp.get_context("fork")
    search.shared = ctx.Value("d", search.best)
    search.split_depth = SPLIT_DEPTH
    tasks, done = ctx.Queue(), ctx.Queue()
    tasks.cancel_join_thread()  # tasks left unread when the search stops must not hold up the exit
    _SEARCH = search
    procs = [ctx.Process(target=_worker_loop, args=(tasks, done), daemon=True) for _ in range(workers)]
    interrupted = False
    sent = 0
    results: list[TaskResult] = []

    backlog = BACKLOG_PER_WORKER * workers

    def receive(timeout: float) -> None:
        """Take one finished task's result, waiting at most ``timeout`` seconds."""
        try:
            res = done.get(timeout=timeout)
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                raise RuntimeError("the branch-and-bound's worker processes ended early") from None
            return
        if isinstance(res, str):  # pragma: no cover - a bug in a worker
            raise RuntimeError(f"a branch-and-bound worker failed:\n{res}")
        results.append(res)

    def emit(F: tuple[int, ...], cand: np.ndarray, H: np.ndarray | None, lam: np.ndarray | None,
             bound: float, r1: tuple[float, np.ndarray] | None = None) -> None:
        nonlocal sent
        while sent - len(results) >= backlog:
            receive(0.05)
            # the limit and the workers' incumbent, while waiting; a Timeout here leaves this child pending
            # on the coordinator's stack (its bound is in the search's pending bound)
            search._check_time()
            if bound > search.best + TOL + bs.FLOAT_SLACK:
                return  # pruned by an incumbent found while waiting
        # pickled here, not in the queue's feeder thread, which would only print a failure and leave the
        # coordinator waiting for a result that never comes
        tasks.put(pickle.dumps(Task(F, cand, H, lam, bound, r1), protocol=pickle.HIGHEST_PROTOCOL))
        sent += 1

    try:
        for p in procs:
            p.start()  # forked now: the workers hold the search as set up so far
        search.emit = emit
        try:
            search.run()  # the levels above the split; the subtrees below it go to the workers as found
        except bs.Timeout:
            interrupted = True
        finally:
            search.emit = None
        for _ in procs:
            tasks.put(None)
        while len(results) < sent:
            receive(1.0)
    except BaseException:
        for p in procs:
            if p.pid is not None:
                p.kill()
        raise
    finally:
        _SEARCH = None
        search.shared = None
        for p in procs:
            if p.pid is not None:
                p.join(timeout=5.0)
    # what the coordinator itself left (its pending siblings or its root's bound, taken when the limit was met)
    own = search.interrupt_bound if interrupted else math.inf
    unexplored = [-math.inf if own is None else own]
    too_many = False
    for res in results:
        search.stats.nodes += res.nodes
        search.stats.evaluated += res.evaluated
        search.stats.extra["screened"] = search.stats.extra.get("screened", 0) + res.screened
        search.records.extend(res.records)
        too_many |= res.too_many_ties
        if res.interrupted:
            unexplored.append(res.unexplored)
        if res.best_D < search.best_set_D:
            search.best_set, search.best_set_D = res.best_set, res.best_D
    if math.isfinite(search.best_set_D):
        search.best, search.found = min(search.best, search.best_set_D), True
    info = {"parallel_workers": workers, "parallel_tasks": len(results)}
    search.stats.extra["parallel"] = info
    if too_many or len(search.records) > max_records:
        raise bs.TooManyTies
    if interrupted or any(r.interrupted for r in results):
        floor = max(0.0, search.counting_floor() - bs.FLOAT_SLACK)
        search.interrupt_bound = max(floor, min(search.best, *unexplored) - bs.FLOAT_SLACK)
        raise bs.Timeout
    return info
