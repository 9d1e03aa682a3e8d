"""``--solver auto``: the choice rule (DESIGN §5.2; docs/solver-dispatch.md "auto").

:func:`choose` names one method for a query; :mod:`rdp_exact.solvers.dispatch` runs it and records the
reason (:func:`explain`) in ``Solution.info.route``. The rule, in order:

1. ``brute`` where its own cost model says enumeration takes about a second (``brute.affordable``);
2. **measured**: the committed measurements ``bench-results/solver_choice.json`` (written by
   ``python -m benchmarks.bench_scale --choice``) hold, per query kind (:func:`query_kind`: encoder class,
   coefficients, the minimised quantity and the budgeted ones) and size n, the status and wall time of each
   method. The row used is the one of the same kind whose n is the largest measured n ≤ the query's n (the
   smallest measured n when the query is smaller than all) among rows where some method proved its answer;
   ``auto`` picks the fastest method that proved it there and that can answer this query;
3. **fallback** when the file is absent or unreadable, or has no row of the query's kind with a proof:
   ``bnb`` where :func:`rdp_exact.solvers.bnb_free.preferred` says so, otherwise ``highs``.

CP-SAT and SCIP are picked only where the measurements show them fastest.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rdp_exact.problem import Problem, SolverName

log = logging.getLogger(__name__)

#: The committed measurements (repository checkout); ``RDP_SOLVER_CHOICE`` names another file.
CHOICE_TABLE = Path(__file__).resolve().parents[2] / "bench-results" / "solver_choice.json"
#: Statuses that count as a proof in the measurements.
PROVEN = ("optimal", "infeasible")
#: Methods the measured rule may pick (brute force is decided by its own cost model first).
MEASURED_METHODS = (SolverName.BNB, SolverName.HIGHS, SolverName.CPSAT, SolverName.SCIP)


def query_kind(problem: Problem) -> str:
    """The measured query kind, e.g. ``free/integer min-D``, ``free/integer min-R|D``, ``free/integer min-D|RP``:
    encoder class / coefficients, the minimised quantity, and after ``|`` the budgeted ones (in D, R, P order)."""
    letter = {"distortion": "D", "rate": "R", "poly": "P"}
    budgets = "".join(
        q for q, v in (("D", problem.max_distortion), ("R", problem.max_rate), ("P", problem.max_poly)) if v is not None
    )
    kind = f"{problem.encoder}/{problem.coefficients} min-{letter[problem.minimize]}"
    return f"{kind}|{budgets}" if budgets else kind


@dataclass(frozen=True)
class Measured:
    """The measured choice for one query: the method, the row it came from and the times compared."""

    method: SolverName
    n: int
    times: tuple[tuple[str, float], ...]
    """(method, wall s) of every method that proved the row, fastest first."""


def table_path() -> Path:
    """Where the measurements are read from (``RDP_SOLVER_CHOICE`` overrides :data:`CHOICE_TABLE`)."""
    env = os.environ.get("RDP_SOLVER_CHOICE")
    return Path(env) if env else CHOICE_TABLE


@cache
def _load(path: str) -> tuple[Mapping[str, Any], ...]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.debug("solver choice table %s not read: %s", path, exc)
        return ()
    rows = data.get("rows") if isinstance(data, Mapping) else None
    if not isinstance(rows, list):
        return ()
    return tuple(r for r in rows if isinstance(r, Mapping) and isinstance(r.get("results"), Mapping))


def load_rows(path: Path | None = None) -> tuple[Mapping[str, Any], ...]:
    """The measurement rows (empty when the file is absent or malformed)."""
    return _load(str(path or table_path()))


def _proven(row: Mapping[str, Any], allowed: Sequence[SolverName]) -> list[tuple[str, float]]:
    out = []
    names = {m.value for m in allowed}
    for name, res in row["results"].items():
        if name in names and isinstance(res, Mapping) and res.get("status") in PROVEN:
            wall = res.get("wall_s")
            if isinstance(wall, int | float):
                out.append((str(name), float(wall)))
    return sorted(out, key=lambda x: (x[1], x[0]))


def measured_choice(
    problem: Problem, rows: Sequence[Mapping[str, Any]] | None = None, allowed: Sequence[SolverName] | None = None
) -> Measured | None:
    """The fastest proven method of the nearest measured row of the query's kind (rule 2), or None."""
    rows = load_rows() if rows is None else rows
    if allowed is None:
        allowed = [m for m in MEASURED_METHODS if _can_answer(problem, m)]
    kind = query_kind(problem)
    n = problem.pmf.n
    useful = [(int(r["n"]), _proven(r, allowed)) for r in rows if r.get("query") == kind and isinstance(r.get("n"), int)]
    useful = [(rn, times) for rn, times in useful if times]
    if not useful:
        return None
    below = [u for u in useful if u[0] <= n]
    rn, times = max(below, key=lambda u: u[0]) if below else min(useful, key=lambda u: u[0])
    return Measured(SolverName(times[0][0]), rn, tuple(times))


#: Package each integer-program method needs (the dispatcher's scope check, repeated here so that this module
#: does not import :mod:`rdp_exact.solvers.dispatch`, which imports it).
_PACKAGES = {SolverName.HIGHS: "highspy", SolverName.CPSAT: "ortools", SolverName.SCIP: "pyscipopt"}


def _can_answer(problem: Problem, method: SolverName) -> bool:
    """Whether ``method`` can answer ``problem`` (bnb: its scope; the MIP engines: their package is installed)."""
    if method is SolverName.BNB:
        from rdp_exact.solvers import bnb_free

        return bool(bnb_free.applies(problem))
    package = _PACKAGES.get(method)
    return package is not None and _installed(package)


@cache
def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def _brute_affordable(problem: Problem) -> bool:
    from rdp_exact.solvers import brute

    try:
        return bool(brute.affordable(problem))
    except Exception as exc:  # a cost model must never break the solve
        log.debug("brute.affordable failed: %s", exc)
        return False


def _bnb_preferred(problem: Problem) -> bool:
    from rdp_exact.solvers import bnb_free

    return bool(bnb_free.preferred(problem))


def fallback(problem: Problem) -> SolverName:
    """Rule 3 (no measurement applies): bnb where ``bnb_free.preferred``, else highs."""
    return SolverName.BNB if _bnb_preferred(problem) else SolverName.HIGHS


def choose(problem: Problem) -> SolverName:
    """The method ``auto`` runs for ``problem`` (never ``auto``)."""
    if _brute_affordable(problem):
        return SolverName.BRUTE
    got = measured_choice(problem)
    return got.method if got is not None else fallback(problem)


def explain(problem: Problem, chosen: SolverName | str) -> str:
    """One line saying why :func:`choose` picked ``chosen`` (recorded in ``Solution.info.route``)."""
    name = SolverName(chosen)
    if name is SolverName.BRUTE:
        return "brute force is affordable (about a second of enumeration)"
    got = measured_choice(problem)
    if got is not None and got.method is name:
        times = ", ".join(f"{m} {t:.3g} s" for m, t in got.times)
        return f"fastest proven method for {query_kind(problem)} at n = {got.n} in {table_path().name} ({times})"
    if name is SolverName.BNB:
        return "no measured row of this query kind with a proof; bnb's fallback range (free-class min D)"
    if name is SolverName.HIGHS:
        return "no measured row of this query kind with a proof; the integer program is the fallback"
    return f"{name.value} chosen by the choice rule"


__all__ = ["CHOICE_TABLE", "Measured", "choose", "explain", "fallback", "load_rows", "measured_choice", "query_kind"]
