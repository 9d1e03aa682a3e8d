"""One typed solver dispatch (issue 10 item 4): names are an enum, ``solver=X`` runs X or says why not,
the Solution names the method that answered with its real version, and ``info`` is a typed record.

Ground truth for the answers is brute force (itself checked against an independent enumeration in
test_agreement.py)."""

from __future__ import annotations

import json
from importlib.metadata import version

import numpy as np
import pytest

from rdp.cli import main
from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.generators import builtin, from_spec
from rdp_exact.problem import Problem, SolverInfo, SolverName, Status
from rdp_exact.solvers import METHODS, SOLVER_CHOICES, bnb_free, brute, choose_solver, route, solve, why_not
from rdp_exact.solvers.info import BnbInfo, BruteInfo, MipInfo
from rdp_exact.solvers.mip_lex import RawResult
from rdp_exact.solvers.mip_model import IntExpr, LinModel

#: Expected start of ``solver_version`` per method: the package that really runs.
VERSION_PREFIX = {
    "brute": f"rdp {version('rdp')}",
    "bnb": f"rdp {version('rdp')}",
    "highs": f"highspy {version('highspy')}",
    "cpsat": f"ortools {version('ortools')}",
    "scip": f"pyscipopt {version('PySCIPOpt')}",
}
INFO_TYPE = {"brute": BruteInfo, "bnb": BnbInfo, "highs": MipInfo, "cpsat": MipInfo, "scip": MipInfo}


def _pmf():  # noqa: ANN202
    return from_spec("random:n=5,support=10,seed=4")


def test_names_are_one_enum() -> None:
    assert SOLVER_CHOICES == tuple(s.value for s in SolverName)
    assert set(METHODS) == set(SolverName) - {SolverName.AUTO}
    assert SOLVER_CHOICES[0] == "auto"
    with pytest.raises(InvalidArgument, match="unknown solver 'gurobi'"):
        solve(Problem(_pmf(), 2, 1), "gurobi")


@pytest.mark.parametrize("name", [s.value for s in SolverName if s is not SolverName.AUTO])
def test_each_named_method_runs_itself_and_agrees_with_brute(name: str) -> None:
    pr = Problem(_pmf(), 2, 2)  # in every method's scope, bnb's included
    truth = brute.solve(pr)
    sol = solve(pr, name, time_limit=60, threads=1)
    assert sol.solver == name and isinstance(sol.solver, SolverName)
    assert sol.solver_version.startswith(VERSION_PREFIX[name]), sol.solver_version
    assert type(sol.info) is INFO_TYPE[name]
    assert sol.info.requested == name and sol.info.route == "requested"
    assert sol.status is Status.OPTIMAL and sol.is_exact
    for q in ("distortion", "rate", "poly"):
        assert sol.value(q) == pytest.approx(truth.value(q), abs=1e-9), q
    doc = sol.to_json_dict()
    json.dumps(doc)  # typed info serialises
    assert doc["solver"] == {"name": name, "version": sol.solver_version}
    assert doc["info"]["requested"] == name


def test_highs_never_answers_with_bnb() -> None:
    """The old HiGHS backend handed min-D queries to the branch-and-bound; now only ``auto`` routes."""
    pr = next(Problem(from_spec(f"random:n=6,support=14,seed={s}"), 3, 2) for s in range(20)
              if bnb_free.preferred(Problem(from_spec(f"random:n=6,support=14,seed={s}"), 3, 2)))
    sol = solve(pr, "highs", time_limit=60)
    assert sol.solver == "highs" and sol.info["formulation"] != "bnb"
    assert all("highs_status" in st for st in sol.info["stages"])


@pytest.mark.parametrize(
    ("name", "kw", "why"),
    [
        ("bnb", {"minimize": "rate", "max_distortion": 1.0}, "minimises distortion only"),
        ("bnb", {"minimize": "poly", "max_rate": 1.0}, "minimises distortion only"),
        ("bnb", {"minimize": "rate"}, "minimises distortion only"),
        ("bnb", {"coefficients": "disjoint"}, "integer coefficients"),
        ("bnb", {"encoder": "threshold"}, "P_dec only"),
    ],
)
def test_named_method_out_of_scope_says_why(name: str, kw: dict, why: str) -> None:
    pr = Problem(from_spec("random:n=3,support=5,seed=1"), 2, 1, **kw)
    with pytest.raises(SolverUnavailable, match=why) as exc:
        solve(pr, name)
    assert "\n" not in str(exc.value) and str(exc.value).startswith(f"--solver {name}:")
    assert why_not(pr, name) is not None
    assert why_not(pr, "highs") is None


def test_brute_too_large_says_why() -> None:
    pr = Problem(from_spec("random:n=11,support=20,seed=1"), 3, 2)
    with pytest.raises(SolverUnavailable, match="brute force: n = 11 is too large"):
        solve(pr, "brute")


def test_auto_records_its_route() -> None:
    small = Problem(builtin("cooccur3"), 2, 1)
    sol = solve(small, "auto")
    assert sol.solver == choose_solver(small) == "brute"
    assert sol.info.requested == "auto" and sol.info.route.startswith("auto: ")
    budgeted = Problem(from_spec("random:n=10,support=64,seed=1"), 5, 2, max_rate=1.0)
    chosen, why = route(budgeted, "auto")
    # a rate budget may bind, and then bnb declines: auto never starts with bnb (or brute, too large) here
    assert chosen not in (SolverName.BNB, SolverName.BRUTE) and why.startswith("auto: ")


def test_cli_named_method_out_of_scope_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["solve", "cooccur3", "--width", "2", "--k", "1", "--solver", "bnb", "--minimize", "rate",
               "--max-distortion", "1"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("rdp: error: --solver bnb:")


def test_solver_info_is_a_typed_read_only_mapping() -> None:
    info = MipInfo(formulation="pattern", columns=3, model={"atoms": 2, "_table": object()}, extra={"x": 1})
    d = info.to_dict()
    assert d["formulation"] == "pattern" and d["model_atoms"] == 2 and d["x"] == 1
    assert "model__table" not in d and "requested" not in d  # None fields and private model keys left out
    assert info["columns"] == 3 and info.get("missing") is None
    with pytest.raises(AttributeError):
        info.columns = 4  # type: ignore[misc]
    assert isinstance(SolverInfo(extra={"a": 1}), SolverInfo)


def _tiny_model(infeasible: bool) -> tuple[LinModel, IntExpr]:
    lm = LinModel()
    x = lm.add_cols(2, 0, 1, True)
    lm.add_row(x, np.ones(2), 3 if infeasible else 1, None)  # x0 + x1 ≥ 1 (≥ 3: infeasible for binaries)
    return lm, IntExpr(x, np.array([3, 5]), 0, 1.0)


@pytest.mark.parametrize("engine", ["highspy", "pyomo", "cpsat", "scip"])
@pytest.mark.parametrize("infeasible", [False, True])
def test_raw_status_is_a_status(engine: str, infeasible: bool) -> None:
    from rdp_exact.solvers import cpsat, milp, scip

    backend = {"highspy": milp.HighspyBackend(), "pyomo": milp.PyomoBackend(), "cpsat": cpsat.CpSatBackend(),
               "scip": scip.ScipBackend()}[engine]
    lm, obj = _tiny_model(infeasible)
    res = backend.solve(lm, obj, time_limit=10, threads=1, options={}, hint=None)
    assert isinstance(res, RawResult) and isinstance(res.status, Status)
    if infeasible:
        assert res.status is Status.INFEASIBLE and res.x is None
    else:
        assert res.status is Status.OPTIMAL and res.objective == pytest.approx(3.0)


def test_scip_status_mapping_is_honest() -> None:
    from rdp_exact.solvers.scip import scip_status

    assert scip_status("optimal", True) is Status.OPTIMAL
    assert scip_status("infeasible", False) is Status.INFEASIBLE
    for name in ("timelimit", "nodelimit", "gaplimit", "userinterrupt", "inforunbd", "unknown"):
        assert scip_status(name, True) is Status.FEASIBLE
        assert scip_status(name, False) is Status.LIMIT
