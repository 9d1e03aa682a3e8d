"""Time limits and width clamping shared by every solver route (issue 13 items 3, 4, 6).

* :func:`check_time_limit` validates a user time limit once: a finite number of seconds > 0, or None.
* :class:`TimeBudget` is a wall-clock deadline on :func:`time.perf_counter` (CLOCK_MONOTONIC). Model
  building checks it (:meth:`TimeBudget.check` raises :class:`BuildInterrupted`) and every engine gets only
  what is left, so a limit bounds building, presolve and search together.
* :func:`useful_width` is the largest width that can matter for a query: no SAE of the class can have more
  live latents, so every width at or above it has the same optimum. :func:`clamp_problem` applies it.
"""

from __future__ import annotations

import contextlib
import gc
import math
import numbers
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.problem import TOL, Problem

#: Above this many (atom × event) cells the helpful-atom count is not computed for clamping.
MAX_CLAMP_CELLS = 50_000_000


class BuildInterrupted(BaseException):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """The time limit ran out while a model was being built or handed to an engine.

    A BaseException (like KeyboardInterrupt), so that no ``except Exception`` in a method can swallow it
    when the timer of :func:`interrupt_at` fires inside that method."""


def check_time_limit(value: object, what: str = "time limit") -> float | None:
    """``value`` as seconds (None stays None); InvalidArgument unless it is a finite number > 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(f"{what} must be a number of seconds, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise InvalidArgument(f"{what} must be a finite number of seconds > 0, got {value!r}")
    return v


def check_threads(value: object) -> int | None:
    """``value`` as a thread count (None stays None); InvalidArgument unless it is an integer ≥ 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise InvalidArgument(f"threads must be an integer ≥ 1, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class TimeBudget:
    """A wall-clock deadline (``at`` is a :func:`time.perf_counter` value; None: no limit)."""

    at: float | None
    """Deadline on the perf_counter clock, or None."""

    @classmethod
    def after(cls, seconds: float | None) -> TimeBudget:
        """A budget ending ``seconds`` from now (None: unlimited)."""
        return cls(None if seconds is None else time.perf_counter() + float(seconds))

    def remaining(self) -> float | None:
        """Seconds left (may be ≤ 0), or None without a limit."""
        return None if self.at is None else self.at - time.perf_counter()

    def expired(self) -> bool:
        return self.at is not None and time.perf_counter() >= self.at

    def check(self, what: str = "building the model") -> None:
        """Raise :class:`BuildInterrupted` once the deadline has passed."""
        if self.expired():
            raise BuildInterrupted(f"time limit reached while {what}")


#: Interval (s) at which the deadline timer of :func:`interrupt_at` fires again after its first shot.
RETRY_S = 0.05


@contextmanager
def interrupt_at(budget: TimeBudget, what: str) -> Iterator[None]:
    """Raise :class:`BuildInterrupted` inside the block when ``budget`` runs out (SIGALRM timer).

    Cooperative checks (:meth:`TimeBudget.check`) cannot reach into long pure-Python/numpy loops of model
    building; this timer can, between bytecodes. Use it only around code whose partial state is thrown
    away on interruption (model building, never an engine call). Active in the main thread of a POSIX
    process only; an earlier timer (e.g. pytest-timeout's) that fires first is left alone, and a later one is
    re-armed with its remaining time on exit.
    """
    rem = budget.remaining()
    usable = (
        rem is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    assert rem is not None
    if rem <= 0:
        raise BuildInterrupted(f"time limit reached before {what}")
    old_left, _ = signal.getitimer(signal.ITIMER_REAL)
    if 0 < old_left <= rem:
        yield  # an outer timer fires first; cooperative checks only
        return

    # An exception raised inside a destructor or a garbage-collector callback is swallowed (and reported as
    # "unraisable"); there the handler does nothing and the timer, which repeats every RETRY_S, asks again.
    in_gc = [False]

    def _gc_start(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            in_gc[0] = True

    def _gc_stop(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            in_gc[0] = False

    def _raise(signum: int, frame: Any) -> None:
        # also not inside the two gc callbacks themselves: the signal can land on their first line, before
        # in_gc is set, and an exception there is swallowed as well
        if in_gc[0] or (frame is not None and (frame.f_code.co_name == "__del__"
                                               or frame.f_code in (_gc_start.__code__, _gc_stop.__code__))):
            return
        raise BuildInterrupted(f"time limit reached while {what}")

    t0 = time.perf_counter()
    old_handler = signal.signal(signal.SIGALRM, _raise)
    gc.callbacks.insert(0, _gc_start)  # first at "start", last at "stop": every other callback runs inside
    gc.callbacks.append(_gc_stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, rem, RETRY_S)
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            for cb in (_gc_start, _gc_stop):
                with contextlib.suppress(ValueError):
                    gc.callbacks.remove(cb)
            signal.signal(signal.SIGALRM, old_handler)
            if old_left > 0:
                signal.setitimer(signal.ITIMER_REAL, max(old_left - (time.perf_counter() - t0), 1e-3))


def useful_k(problem: Problem) -> int:
    """The largest number of latents any lexicographic optimum fires on one event (≤ ``problem.k``).

    With f latents firing on S the coefficients sum to ≥ f, and (c − t)² ≥ c − t for integers, so the
    error on S is ≥ f − |S| and D ≥ π_S (f − |S|). Every lexicographic optimum (and every candidate of its
    tie-break stages) has D ≤ B + TOL with B = min(E|S|, D budget): the all-dead SAE meets every R and P
    budget, so it bounds D* when D is minimised, P* = 0 and its tie-break D ≤ E|S| when P is minimised
    without a D budget, and R* = 0 (nothing fires) when R is minimised without one. Hence
    f ≤ |S| + (B + TOL)/π_S on every event; in disjoint mode also f ≤ n. Capping k there keeps every
    optimum feasible and only removes worse SAEs, so the answer is unchanged."""
    pmf = problem.pmf
    budget = pmf.expected_sparsity()
    if problem.max_distortion is not None:
        budget = min(budget, float(problem.max_distortion))
    probs = np.asarray(pmf.probs, dtype=np.float64)
    sizes = np.asarray(pmf.sizes, dtype=np.float64)
    live = probs > 0
    if not live.any():
        return 1
    with np.errstate(over="ignore"):
        per_event = np.floor(sizes[live] + (budget + TOL) / probs[live] + 1e-9)
    top = float(per_event.max())
    k = problem.k if not math.isfinite(top) or top >= problem.k else max(1, int(top))
    if problem.coefficients == "disjoint":
        k = min(k, max(1, pmf.n))
    return k


def useful_width(problem: Problem) -> int:
    """The largest number of live latents an SAE of ``problem``'s class can need on its pmf.

    Every live latent fires on some support event and each event fires at most :func:`useful_k` of them
    in any lexicographic optimum, so at most N·k are live (both classes). In the free class atoms are
    distinct nonempty sets (≤ 2^n − 1). When P is neither budgeted nor minimised, the lexicographic optimum
    (D, then R) uses only atoms helpful on some event (an unhelpful atom never lowers an error and costs
    rate, see :mod:`rdp_exact.solvers.brute`), which bounds the width by the number of helpful atoms.
    """
    pmf = problem.pmf
    bound = pmf.support_size * useful_k(problem)
    if problem.encoder != "free":
        return max(1, bound)
    n = pmf.n
    bound = min(bound, (1 << n) - 1)
    if problem.width <= n or bound <= n:
        return max(1, bound)  # a clamp below n is never possible through the helpful atoms (singletons)
    from rdp_exact.solvers.candidates import candidate_atoms, p_free

    min_prob = float(min(pmf.probs)) if pmf.support_size else 0.0
    if p_free(problem) and min_prob > 10 * TOL and (1 << n) * pmf.support_size <= MAX_CLAMP_CELLS:
        bound = min(bound, int(candidate_atoms(pmf, helpful_only=True).size))
    return max(1, bound)


def clamp_problem(problem: Problem) -> tuple[Problem, str | None]:
    """``problem`` with its width and k clamped to :func:`useful_width` and :func:`useful_k`, and a note
    when either changed."""
    w = min(problem.width, useful_width(problem))
    k = min(problem.k, useful_k(problem), w)
    if w == problem.width and k == problem.k:
        return problem, None
    if w < problem.width:
        note = (
            f"width m = {problem.width} clamped to {w}: no optimal SAE of this class needs more than {w} live "
            f"latents on this pmf, so every width ≥ {w} has the same optimum"
        )
        if k != problem.k:
            note += f" (k = {problem.k} clamped to {k} likewise)"
    else:
        note = f"k = {problem.k} clamped to {k}: no optimal SAE fires more than {k} latents on one event here"
    return problem.with_(width=w, k=k), note


__all__ = [
    "BuildInterrupted",
    "TimeBudget",
    "check_threads",
    "check_time_limit",
    "clamp_problem",
    "interrupt_at",
    "useful_k",
    "useful_width",
]
