"""The parallel branch-and-bound (:mod:`rdp_exact.solvers.bnb_parallel`) against brute force and the serial search.

* answers: with subtrees handed to two forked workers (split depth 1 and 2; the size gates lowered so small
  instances take the parallel path), the proven (D, R, P) equal brute force's canonical answer and the atoms
  the serial search's, on pmfs with automorphisms and on random ones, and under a distortion budget (feasible
  and infeasible);
* limits: when workers stop at a node limit, the status is never optimal and the reported bound is at most D*
  proven by the serial search;
* gates: small searches, one thread, a node limit or a daemonic process run serially.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import sys
import time
from pathlib import Path

import pytest

from rdp_exact.generators import from_spec
from rdp_exact.problem import Problem, Status
from rdp_exact.solvers import bnb_free, bnb_parallel

sys.path.insert(0, str(Path(__file__).parent))
from test_bnb_scale import _symmetric_pmf  # noqa: E402

brute = pytest.importorskip("rdp_exact.solvers.brute")

pytestmark = pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork (POSIX)")

CASES = [
    ("sym0", 3, 2),
    ("sym3", 4, 2),
    ("pairs:n=6,pair=0.3,single=0.05,seed=1", 4, 2),
    ("random:n=5,support=12,seed=4", 4, 2),
    ("random:n=6,support=20,seed=5", 4, 2),
    ("random:n=6,support=18,seed=8", 4, 1),
]


@pytest.fixture
def small_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let searches of any size take the parallel path."""
    monkeypatch.setattr(bnb_parallel, "MIN_ATOMS", 0)
    monkeypatch.setattr(bnb_parallel, "MIN_WIDTH", 0)


def _pmf(spec: str):
    return _symmetric_pmf(int(spec[3:])) if spec.startswith("sym") else from_spec(spec)


@pytest.mark.parametrize("split", [1, 2])
@pytest.mark.parametrize("spec,m,k", CASES)
def test_parallel_answer_equals_brute_force(small_parallel: None, monkeypatch: pytest.MonkeyPatch, spec: str,
                                            m: int, k: int, split: int) -> None:
    monkeypatch.setattr(bnb_parallel, "SPLIT_DEPTH", split)
    problem = Problem(_pmf(spec), m, k)
    ref = brute.solve(problem, time_limit=60, threads=1, options=None)
    assert ref.status is Status.OPTIMAL
    sol = bnb_free.solve(problem, time_limit=60, threads=2, options={"heuristic": False})
    assert sol.info.parallel_workers == 2
    assert sol.info.parallel_tasks is not None and sol.info.parallel_tasks > 0
    assert sol.status is Status.OPTIMAL
    assert sol.distortion == pytest.approx(ref.distortion, abs=1e-9)
    assert sol.rate == pytest.approx(ref.rate, abs=1e-9)
    assert sol.poly == pytest.approx(ref.poly, abs=1e-9)
    # D, R, P ties between atom sets are broken by the least atom list in both searches (brute force may pick
    # another tied set: DESIGN §1.4 fixes the values, not the set)
    serial = bnb_free.solve(problem, time_limit=60, threads=1, options={"heuristic": False})
    assert sol.sae.atoms == serial.sae.atoms


@pytest.mark.parametrize("slack", [-0.05, 0.0, 0.2])
def test_parallel_distortion_budget(small_parallel: None, slack: float) -> None:
    base = Problem(from_spec("random:n=6,support=20,seed=5"), 4, 2)
    dstar = brute.solve(base, time_limit=60, threads=1, options=None).distortion
    problem = base.with_(max_distortion=dstar + slack)
    serial = bnb_free.solve(problem, time_limit=60, threads=1, options={"heuristic": False})
    par = bnb_free.solve(problem, time_limit=60, threads=2, options={"heuristic": False})
    assert par.info.parallel_workers == 2
    assert par.status is serial.status
    assert par.status is (Status.INFEASIBLE if slack < 0 else Status.OPTIMAL)
    if slack >= 0:
        assert par.distortion == pytest.approx(serial.distortion, abs=1e-12)
        assert par.rate == pytest.approx(serial.rate, abs=1e-12)
        assert sorted(par.sae.atoms) == sorted(serial.sae.atoms)


@pytest.mark.parametrize("split,node_limit", [(1, 2), (2, 3), (2, 1)])
def test_interrupted_workers_give_a_valid_bound(split: int, node_limit: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A node limit per process stops the tasks part way (and, at 1, the coordinator at its root): the search
    raises the limit and its bound is at most D* of the serial proof."""
    monkeypatch.setattr(bnb_parallel, "SPLIT_DEPTH", split)
    problem = Problem(from_spec("random:n=8,support=40,seed=3"), 4, 2)
    ref = bnb_free.solve(problem, time_limit=120, threads=1)
    assert ref.status is Status.OPTIMAL
    search = bnb_free._Search(problem, None, node_limit=node_limit)
    search.local_search(0.2)
    with pytest.raises(bnb_free._Timeout):
        bnb_parallel.run(search, 2, bnb_free.MAX_RECORDS)
    assert search.interrupt_bound is not None
    assert search.interrupt_bound <= ref.distortion + 1e-12
    assert search.best >= ref.distortion - 1e-12
    assert search.stats.extra["parallel"]["parallel_workers"] == 2


@pytest.mark.parametrize("spec,m,k", [CASES[1], CASES[4]])
def test_throttled_coordinator_gives_the_serial_answer(small_parallel: None, monkeypatch: pytest.MonkeyPatch,
                                                       spec: str, m: int, k: int) -> None:
    """With one outstanding task per worker the coordinator waits between tasks (and drops those that the
    workers' incumbent prunes meanwhile): the answer is still the serial one."""
    monkeypatch.setattr(bnb_parallel, "BACKLOG_PER_WORKER", 1)
    problem = Problem(_pmf(spec), m, k)
    serial = bnb_free.solve(problem, time_limit=60, threads=1, options={"heuristic": False})
    par = bnb_free.solve(problem, time_limit=60, threads=2, options={"heuristic": False})
    assert par.info.parallel_workers == 2
    assert serial.status is par.status is Status.OPTIMAL
    assert (par.distortion, par.rate, par.poly) == pytest.approx((serial.distortion, serial.rate, serial.poly),
                                                                 abs=1e-12)
    assert par.sae.atoms == serial.sae.atoms


@pytest.mark.parametrize("spec,m,k", [CASES[3], CASES[4]])
def test_tasks_carry_the_rank_one_terms_of_their_node(small_parallel: None, monkeypatch: pytest.MonkeyPatch,
                                                      spec: str, m: int, k: int) -> None:
    """With the rank-one LP re-solved at the coordinator's depth-1 nodes, the tasks below carry those terms (the
    workers bound with them): the answer is brute force's, the atoms the serial search's."""
    monkeypatch.setattr(bnb_free, "RANK_ONE_FORCE_MIN_ATOMS", 1)
    monkeypatch.setattr(bnb_parallel, "SPLIT_DEPTH", 2)
    made: list[bool] = []

    class Task(bnb_parallel.Task):  # pickled under the patched module attribute (workers fork after the patch)
        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[arg-type]
            made.append(self.r1 is not None)

    Task.__module__, Task.__qualname__ = bnb_parallel.__name__, "Task"
    monkeypatch.setattr(bnb_parallel, "Task", Task)
    problem = Problem(_pmf(spec), m, k)
    ref = brute.solve(problem, time_limit=60, threads=1, options=None)
    opts = {"rank_one": True, "rank_one_depth": 1}
    par = bnb_free.solve(problem, time_limit=60, threads=2, options=opts)
    assert any(made)
    serial = bnb_free.solve(problem, time_limit=60, threads=1, options=opts)
    assert par.info.parallel_workers == 2 and par.info.rank_one_nodes
    assert par.status is Status.OPTIMAL
    assert (par.distortion, par.rate, par.poly) == pytest.approx((ref.distortion, ref.rate, ref.poly), abs=1e-9)
    assert par.sae.atoms == serial.sae.atoms


def test_a_task_that_cannot_be_sent_raises_instead_of_hanging(small_parallel: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A task the queue cannot pickle (here: a class pickle cannot find by name) is an error in the coordinator,
    which kills the workers and raises; the queue's feeder thread would only print it and leave the search
    waiting forever."""

    class Task(bnb_parallel.Task):  # a local class: not picklable by reference
        pass

    monkeypatch.setattr(bnb_parallel, "Task", Task)
    problem = Problem(_pmf(CASES[4][0]), CASES[4][1], CASES[4][2])
    t0 = time.perf_counter()
    with pytest.raises((pickle.PicklingError, AttributeError)):
        bnb_free.solve(problem, time_limit=60, threads=2, options={"heuristic": False})
    assert time.perf_counter() - t0 < 30


def test_time_limit_is_kept_with_many_pending_subtrees() -> None:
    """A search whose coordinator finds subtrees far faster than the workers close them (weak bounds, no
    symmetry) stops near its limit: the queue never holds more than a few tasks per worker to drain."""
    problem = Problem(from_spec("random:n=10,support=64,seed=1"), 5, 2)
    # compile the kernels first (a fresh numba cache takes longer than the limit)
    bnb_free.solve(problem, time_limit=120, threads=1, options={"node_limit": 3})
    t0 = time.perf_counter()
    sol = bnb_free.solve(problem, time_limit=4.0, threads=2)
    wall = time.perf_counter() - t0
    assert sol.info.parallel_workers == 2
    assert sol.status is Status.LIMIT
    assert sol.bound <= sol.objective + 1e-12
    assert wall < 4.0 + 3.0  # local search and LP are inside the limit; the rest is the stop itself


def test_time_limit_is_never_optimal(small_parallel: None) -> None:
    problem = Problem(from_spec("random:n=9,support=60,seed=2"), 5, 2)
    sol = bnb_free.solve(problem, time_limit=1.0, threads=2)
    assert sol.status is Status.LIMIT
    assert sol.bound <= sol.objective + 1e-12
    assert sol.info.not_proven_reason == "time limit"


def test_gates() -> None:
    small = bnb_free._Search(Problem(from_spec("random:n=6,support=20,seed=5"), 4, 2), None)
    assert bnb_parallel.workers_for(small, 2) == 1  # fewer candidate atoms than MIN_ATOMS
    big = bnb_free._Search(Problem(from_spec("random:n=9,support=40,seed=1"), 5, 2), None)
    assert big.M >= bnb_parallel.MIN_ATOMS
    assert bnb_parallel.workers_for(big, 2) == 2
    assert bnb_parallel.workers_for(big, 1) == 1
    assert bnb_parallel.workers_for(big, None) == min(bnb_parallel.usable_cores(), bnb_parallel.MAX_DEFAULT_WORKERS)
    narrow = bnb_free._Search(Problem(from_spec("random:n=9,support=40,seed=1"), 3, 2), None)
    assert bnb_parallel.workers_for(narrow, 2) == 1
    # a node limit keeps the search serial (its count is per process)
    sol = bnb_free.solve(Problem(from_spec("random:n=9,support=40,seed=1"), 5, 2), time_limit=60, threads=2,
                         options={"node_limit": 2})
    assert sol.info.parallel_workers is None


def test_daemonic_process_runs_serially() -> None:
    big = bnb_free._Search(Problem(from_spec("random:n=9,support=40,seed=1"), 5, 2), None)
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:  # pool workers are daemonic
        assert pool.apply(bnb_parallel.workers_for, (big, 2)) == 1
