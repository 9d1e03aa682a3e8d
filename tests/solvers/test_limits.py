"""Time limits that hold and integers that cannot hang (issue 13 items 3–6).

* item 3: ``time_limit`` bounds model building too: wall ≤ limit + 10 % + 2 s, status ``limit``;
* item 4: widths beyond the useful width are clamped (with a note), and the clamp is checked against
  brute force at the unclamped width;
* item 5: an incumbent is never dropped and D = 0 (or R = 0, P = 0) is recognised as optimal;
* item 6: nan, inf, negative and non-numeric limits are one-line errors everywhere.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

from rdp.cli import main
from rdp_exact.errors import InvalidArgument
from rdp_exact.frontier import FrontierConfig
from rdp_exact.generators import builtin, from_spec, load_pmf
from rdp_exact.problem import Problem, Status
from rdp_exact.solvers import brute, check_time_limit, clamp_problem, solve, useful_width
from rdp_exact.solvers.candidates import candidate_atoms
from rdp_exact.solvers.limits import BuildInterrupted, TimeBudget, interrupt_at
from rdp_exact.solvers.mip_lex import RawResult, solve_lex
from rdp_exact.theory_report import compute_theory

BAD_LIMITS = [math.nan, math.inf, -math.inf, -1.0, 0.0, "5", True]


def _within(wall: float, limit: float) -> bool:
    return wall <= 1.1 * limit + 2.0


# ---------------------------------------------------------------------------------------------- item 6
@pytest.mark.parametrize("bad", BAD_LIMITS)
def test_check_time_limit_rejects(bad: Any) -> None:
    with pytest.raises(InvalidArgument, match="time limit must be"):
        check_time_limit(bad)


def test_check_time_limit_accepts() -> None:
    assert check_time_limit(None) is None
    assert check_time_limit(2) == 2.0
    assert check_time_limit(np.float64(0.5)) == 0.5


@pytest.mark.parametrize("solver", ["auto", "brute", "bnb", "highs", "cpsat", "scip"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -2.0])
def test_every_solver_rejects_bad_limits(solver: str, bad: float) -> None:
    with pytest.raises(InvalidArgument, match="time limit must be a finite number"):
        solve(Problem(builtin("cooccur3"), 2, 1), solver, time_limit=bad)


def test_bad_deadline_and_threads_rejected() -> None:
    pr = Problem(builtin("cooccur3"), 2, 1)
    with pytest.raises(InvalidArgument, match="deadline"):
        solve(pr, "highs", deadline=math.nan)
    with pytest.raises(InvalidArgument, match="threads"):
        solve(pr, "highs", threads=0)


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "cooccur3", "--width", "2", "--k", "1", "--solver", "cpsat", "--time-limit", "nan"],
        ["solve", "cooccur3", "--width", "2", "--k", "1", "--solver", "highs", "--time-limit", "inf"],
        ["theory", "cooccur3", "--width", "2", "--k", "1", "--solver", "cpsat", "--time-limit", "nan"],
        ["theory", "cooccur3", "--width", "2", "--k", "1", "--time-limit", "-1"],
    ],
)
def test_cli_bad_limit_is_one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rdp: error: time limit must be a finite number")


def test_cli_frontier_bad_limit_writes_nothing(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    out = tmp_path / "fr"
    assert main(["frontier", "cooccur3", "--width", "2", "--k", "1", "--time-limit", "nan", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("rdp: error: time limit")
    assert not out.exists()


# ---------------------------------------------------------------------------------------------- item 3
@pytest.mark.parametrize("solver", ["highs", "cpsat", "scip"])
def test_time_limit_bounds_model_building(solver: str) -> None:
    """pairs12 (n = 12, N = 128) at k = 4: enumerating the pattern table alone takes minutes."""
    pr = Problem(load_pmf("pairs12"), 4, 4)
    limit = 0.5
    t0 = time.perf_counter()
    sol = solve(pr, solver, time_limit=limit)
    wall = time.perf_counter() - t0
    assert _within(wall, limit), wall
    assert sol.status is Status.LIMIT and not sol.is_exact
    assert sol.info.get("build_interrupted") or any("interrupted" in st or "skipped" in st
                                                     for st in sol.info.get("stages", ()))


def test_deadline_already_passed_gives_limit() -> None:
    pr = Problem(builtin("cooccur3"), 2, 1)
    sol = solve(pr, "highs", deadline=time.perf_counter() - 1.0)
    assert sol.status is Status.LIMIT and sol.sae is None
    assert any("before the solver started" in n for n in sol.info.notes)


def test_theory_time_limit_is_one_budget() -> None:
    pmf = load_pmf("pairs12")
    limit = 0.3
    t0 = time.perf_counter()
    rep = compute_theory(pmf, 4, 2, solver="highs", time_limit=limit)
    wall = time.perf_counter() - t0
    assert _within(wall, limit), wall
    assert not rep.optimum.is_exact
    assert rep.staircase.truncated  # cut by the deadline, not run to completion


def test_interrupt_at_stops_a_python_loop_and_restores_the_timer() -> None:
    import signal

    budget = TimeBudget.after(0.2)
    t0 = time.perf_counter()
    with pytest.raises(BuildInterrupted), interrupt_at(budget, "spinning"):
        while True:
            pass
    assert time.perf_counter() - t0 < 2.0
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0 or signal.getsignal(signal.SIGALRM) is not None


# ---------------------------------------------------------------------------------------------- item 4
def test_huge_width_is_clamped_with_a_note() -> None:
    pr = Problem(builtin("cooccur3"), 10_000, 1)
    t0 = time.perf_counter()
    sol = solve(pr, "auto")
    assert time.perf_counter() - t0 < 10
    w = useful_width(pr)
    assert w == candidate_atoms(pr.pmf, helpful_only=True).size
    assert sol.problem.width == w and sol.sae is not None and sol.sae.width == w
    assert any("clamped" in n for n in sol.info.notes)
    assert sol.is_exact
    huge = Problem(builtin("cooccur3"), 10**6, 10**6)
    clamped, note = clamp_problem(huge)
    assert clamped.width <= 7 and clamped.k <= clamped.width and note is not None and "k = 1000000" in note


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"minimize": "poly", "max_distortion": 0.5},
        {"max_poly": 0.1},
        {"coefficients": "disjoint"},
        {"encoder": "threshold", "minimize": "rate", "max_distortion": 0.4},
    ],
)
def test_clamp_does_not_change_the_optimum(kw: dict[str, Any]) -> None:
    """Independent check with brute force called directly (no clamping): width W and W + 1 agree."""
    pmf = from_spec("random:n=2,support=3,seed=2") if kw.get("encoder") else from_spec("random:n=3,support=3,seed=7")
    base = Problem(pmf, 1, 1, **kw)
    w = useful_width(base.with_(width=50))
    if w + 1 > 6:
        pytest.skip("too wide for brute force")
    at_w = brute.solve(base.with_(width=w))
    wider = brute.solve(base.with_(width=w + 1))
    assert at_w.status is wider.status
    if at_w.evaluation is not None:
        for q in ("distortion", "rate", "poly"):
            assert at_w.value(q) == pytest.approx(wider.value(q), abs=1e-9), q


def test_frontier_config_clamps_width() -> None:
    cfg = FrontierConfig(pmf=builtin("cooccur3"), width=10**6, k=1, grid=2)
    assert cfg.width <= 7 and cfg.clamp_note is not None
    assert cfg.planned_points() < 100


def test_cli_huge_width_prints_the_note(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "cooccur3", "--width", "10000", "--k", "1", "-q"]) == 0
    assert "clamped" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------- item 5
def test_reproduction_d_zero_is_optimal_with_atoms() -> None:
    sol = solve(Problem(builtin("cooccur3"), 10**6, 1), "highs", time_limit=5)
    assert sol.sae is not None and sol.distortion == 0.0
    assert sol.status is Status.OPTIMAL and sol.is_exact
    assert sol.to_json_dict()["atoms"] is not None


class _GivesUp:
    """A backend that always stops without a solution (like an engine at its time limit)."""

    name = "gives-up"

    def version(self) -> str:
        return "0"

    def solve(self, model, objective, **kw: Any) -> RawResult:  # noqa: ANN001
        return RawResult(Status.LIMIT, None, None, None, 0.0, {"stub": True})


def test_warm_start_is_kept_and_d_zero_is_a_certificate() -> None:
    pr = Problem(builtin("cooccur3"), 7, 1)  # D = 0 reachable; the local search finds it
    sol = solve_lex(pr, _GivesUp(), time_limit=None, threads=None, options=None)
    assert sol.sae is not None and sol.distortion == 0.0
    assert sol.bound == 0.0 and sol.gap == 0.0
    stages = sol.info["stages"]
    assert stages[0]["status"] == "optimal" and stages[0]["kept_incumbent"] == "warm start"
    assert "distortion = 0" in sol.info["trivial_bound"]
    assert sol.status is Status.LIMIT  # the R and P tie-breaks are still unproven: never called optimal


def test_kept_incumbent_with_positive_d_is_not_optimal() -> None:
    pr = Problem(builtin("cooccur3"), 2, 1)
    sol = solve_lex(pr, _GivesUp(), time_limit=None, threads=None, options=None)
    assert sol.sae is not None and sol.distortion > 0
    assert sol.status is Status.LIMIT and not sol.is_exact


@pytest.mark.parametrize("solver", ["highs", "cpsat", "scip"])
@pytest.mark.parametrize(
    "kw", [{"minimize": "rate"}, {"max_rate": 0.0}, {"minimize": "poly", "max_rate": 0.0}]
)
def test_trivial_queries_need_no_model(solver: str, kw: dict[str, Any]) -> None:
    """R = 0 reachable by the all-dead SAE: proven without building anything; brute force agrees."""
    pr = Problem(load_pmf("pairs12"), 4, 2, **kw)  # far too large to build in the limit
    sol = solve(pr, solver, time_limit=0.5)
    assert sol.status is Status.OPTIMAL and sol.is_exact
    assert (sol.rate, sol.poly) == (0.0, 0.0)
    assert sol.distortion == pytest.approx(pr.pmf.expected_sparsity(), abs=1e-12)
    small = pr.with_(pmf=builtin("cooccur3"), width=2, k=1)
    truth = brute.solve(small)
    again = solve(small, solver)
    for q in ("distortion", "rate", "poly"):
        assert again.value(q) == pytest.approx(truth.value(q), abs=1e-9)


@pytest.mark.parametrize("encoder", ["free", "threshold"])
@pytest.mark.parametrize(
    "kw", [{"max_distortion": 0.3}, {"minimize": "rate", "max_distortion": 0.3}, {"minimize": "poly", "max_distortion": 0.6}]
)
def test_k_clamp_does_not_change_the_optimum(encoder: str, kw: dict[str, Any]) -> None:
    """useful_k bounds the latents an optimum fires per event (D ≥ π_S (f − |S|)): brute force, called
    directly (no clamping), agrees at k = useful_k and k = useful_k + 1."""
    from rdp_exact.pmf import ConceptPMF
    from rdp_exact.solvers.limits import useful_k

    pmf = ConceptPMF.from_events(2, [([0], 0.45), ([0, 1], 0.4), ([1], 0.15)])
    pr = Problem(pmf, 9, 9, encoder=encoder, **kw)  # type: ignore[arg-type]
    k = useful_k(pr)
    assert k < 9
    at_k = brute.solve(pr.with_(width=k + 1, k=k))
    above = brute.solve(pr.with_(width=k + 1, k=k + 1))
    assert at_k.status is above.status is Status.OPTIMAL
    for q in ("distortion", "rate", "poly"):
        assert at_k.value(q) == pytest.approx(above.value(q), abs=1e-9), q


def test_dispatch_backstop_stops_a_method_that_ignores_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A method that never looks at the clock is stopped at 1.05·limit + 1 s with status limit."""
    import sys
    import types
    from dataclasses import replace as dc_replace

    from rdp_exact.problem import SolverName
    from rdp_exact.solvers import dispatch

    spinner = types.ModuleType("rdp_test_spinner")

    def _spin(problem: Problem, **kw: Any) -> None:
        while True:
            pass

    spinner.solve = _spin  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rdp_test_spinner", spinner)
    monkeypatch.setitem(dispatch.METHODS, SolverName.BRUTE,
                        dc_replace(dispatch.METHODS[SolverName.BRUTE], module="rdp_test_spinner"))
    t0 = time.perf_counter()
    sol = solve(Problem(builtin("cooccur3"), 2, 1), "brute", time_limit=0.3)
    assert time.perf_counter() - t0 < 0.3 * 1.1 + 2.0
    assert sol.status is Status.LIMIT and sol.sae is None and sol.solver == "brute"
    assert any("stopped past its time limit" in n for n in sol.info.notes)


@pytest.mark.parametrize("solver", ["brute", "highs"])
def test_moderate_width_is_solved_clamped_and_padded_back(solver: str) -> None:
    """Callers that size arrays by the width they asked for (training init, audits) get that width."""
    pr = Problem(builtin("cooccur3"), 20, 2)
    sol = solve(pr, solver)
    assert sol.problem == pr and sol.sae is not None and sol.sae.width == 20
    assert sum(a != 0 for a in sol.sae.atoms) <= useful_width(pr)
    truth = brute.solve(pr.with_(width=useful_width(pr)))  # unclamped oracle at the useful width
    for q in ("distortion", "rate", "poly"):
        assert sol.value(q) == pytest.approx(truth.value(q), abs=1e-9), q
    assert any("padded back to width 20" in n for n in sol.info.notes)


@pytest.mark.parametrize("solver", ["highs", "cpsat", "scip"])
def test_trivially_infeasible_needs_no_model(solver: str) -> None:
    """R ≤ 0 forbids any firing, and the all-dead SAE misses D ≤ 0: infeasible, as brute force says."""
    pr = Problem(load_pmf("pairs12"), 4, 2, minimize="poly", max_rate=0.0, max_distortion=0.0)
    sol = solve(pr, solver, time_limit=0.5)
    assert sol.status is Status.INFEASIBLE and sol.sae is None
    small = pr.with_(pmf=builtin("cooccur3"), width=2, k=1)
    assert brute.solve(small).status is Status.INFEASIBLE
    assert solve(small, solver).status is Status.INFEASIBLE


def test_deadline_inside_a_gc_callback_is_delivered_after_it() -> None:
    """The deadline falls while a garbage-collector callback runs (where an exception would be swallowed as
    'unraisable'): the interrupt is deferred, then raised in the guarded code, not lost."""
    import gc

    from rdp_exact.solvers.limits import BuildInterrupted, TimeBudget, interrupt_at

    def slow_callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            time.sleep(0.3)  # the 0.1 s deadline passes in here

    gc.callbacks.append(slow_callback)
    t0 = time.perf_counter()
    try:
        with pytest.raises(BuildInterrupted), interrupt_at(TimeBudget.after(0.1), "building"):
            gc.collect()
            while time.perf_counter() - t0 < 5:
                pass
    finally:
        gc.callbacks.remove(slow_callback)
    assert time.perf_counter() - t0 < 2


def test_deadline_on_the_guard_callbacks_own_line_is_deferred() -> None:
    """The timer can fire on the first line of the guard's own gc callbacks, before they mark the collection:
    the handler must defer there too (an exception raised in a gc callback is swallowed as 'unraisable')."""
    import gc
    import signal
    import types

    from rdp_exact.solvers.limits import BuildInterrupted, TimeBudget, interrupt_at

    with interrupt_at(TimeBudget.after(60.0), "building"):
        handler = signal.getsignal(signal.SIGALRM)
        start_cb, stop_cb = gc.callbacks[0], gc.callbacks[-1]
        assert callable(handler)
        for cb in (start_cb, stop_cb):  # a frame of the guard's own callbacks: deferred, nothing raised
            handler(signal.SIGALRM, types.SimpleNamespace(f_code=cb.__code__))
        with pytest.raises(BuildInterrupted):  # anywhere else the deadline is raised
            handler(signal.SIGALRM, None)
