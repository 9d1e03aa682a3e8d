"""``--solver auto`` follows the measurements in bench-results/solver_choice.json (docs/solver-dispatch.md).

* synthetic tables: the row used is the one of the query's kind with the largest measured n ≤ the query's n
  (the smallest n when the query is smaller), the fastest *proven* method of that row is picked, a method that
  cannot answer the query is passed over, and without a usable row the documented fallback applies;
* the committed table: for every measured row, ``auto`` on that very query picks the row's fastest proven
  method (or brute force where affordable, or the fallback where nothing proved);
* typed ``BnbInfo``: root bound, root gap and symmetry group order are typed fields and reach the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdp_exact.generators import builtin, from_spec
from rdp_exact.problem import Problem, SolverName, Status
from rdp_exact.solvers import auto, brute, route, solve
from rdp_exact.solvers.info import BnbInfo

KIND = "free/integer min-D"


def _row(n: int, query: str, **results: tuple[str, float]) -> dict:
    return {"n": n, "query": query, "results": {m: {"status": st, "wall_s": t} for m, (st, t) in results.items()}}


def _problem(n: int, **kw: object) -> Problem:
    return Problem(from_spec(f"random:n={n},support={4 * n},seed=1"), max(2, n // 2), 2, **kw)  # type: ignore[arg-type]


ROWS = [
    _row(6, KIND, bnb=("optimal", 0.5), highs=("optimal", 0.2), cpsat=("optimal", 0.3)),
    _row(8, KIND, bnb=("optimal", 2.0), highs=("limit", 1.0), cpsat=("optimal", 3.0)),
    _row(10, KIND, bnb=("limit", 10.0), highs=("limit", 10.0)),  # nothing proven: never used
    _row(8, "free/integer min-R|D", highs=("optimal", 4.0), cpsat=("optimal", 1.0)),
]


@pytest.mark.parametrize(
    ("n", "expected", "row_n"),
    [(5, "highs", 6), (6, "highs", 6), (7, "highs", 6), (8, "bnb", 8), (9, "bnb", 8), (12, "bnb", 8)],
)
def test_measured_choice_uses_the_nearest_proven_row(n: int, expected: str, row_n: int) -> None:
    got = auto.measured_choice(_problem(n), ROWS)
    assert got is not None and got.method == expected and got.n == row_n
    assert got.times == tuple(sorted(got.times, key=lambda x: x[1]))  # fastest first
    assert all(name in ("bnb", "highs", "cpsat") for name, _ in got.times)


def test_query_kind_separates_budgets_and_objectives() -> None:
    assert auto.query_kind(_problem(6)) == KIND
    assert auto.query_kind(_problem(6, minimize="rate", max_distortion=1.0)) == "free/integer min-R|D"
    assert auto.query_kind(_problem(6, max_poly=0.2, max_rate=1.0)) == "free/integer min-D|RP"
    got = auto.measured_choice(_problem(8, minimize="rate", max_distortion=1.0), ROWS)
    assert got is not None and got.method is SolverName.CPSAT
    assert auto.measured_choice(_problem(8, max_rate=1.0), ROWS) is None  # no row of this kind


def test_a_method_out_of_scope_is_passed_over() -> None:
    rows = [_row(8, "threshold/integer min-D", bnb=("optimal", 0.1), highs=("optimal", 5.0))]
    pr = Problem(from_spec("random:n=8,support=32,seed=1"), 3, 2, encoder="threshold")
    got = auto.measured_choice(pr, rows)
    assert got is not None and got.method is SolverName.HIGHS  # bnb cannot answer the threshold class


def _use_table(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv("RDP_SOLVER_CHOICE", str(path))
    auto._load.cache_clear()


def test_choose_follows_a_table_file_and_falls_back_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pr = _problem(8)
    assert not brute.affordable(pr)
    table = tmp_path / "choice.json"
    table.write_text(json.dumps({"rows": [_row(8, KIND, cpsat=("optimal", 0.1), bnb=("optimal", 0.2))]}))
    _use_table(monkeypatch, table)
    try:
        assert auto.choose(pr) is SolverName.CPSAT
        chosen, why = route(pr, "auto")
        assert chosen is SolverName.CPSAT and "n = 8" in why and "choice.json" in why
        # no file: the documented fallback (bnb for free-class min D in its range)
        _use_table(monkeypatch, tmp_path / "missing.json")
        assert auto.choose(pr) is auto.fallback(pr) is SolverName.BNB
        assert auto.choose(_problem(8, minimize="rate", max_distortion=1.0)) is SolverName.HIGHS
        assert "no measured row" in route(pr, "auto")[1]
        # a malformed file is the same as none
        table.write_text("{not json")
        _use_table(monkeypatch, table)
        assert auto.load_rows() == () and auto.choose(pr) is SolverName.BNB
    finally:
        auto._load.cache_clear()


def _committed_rows() -> list[dict]:
    path = auto.CHOICE_TABLE
    if not path.exists():  # pragma: no cover - the table is committed with the repository
        return []
    return [r for r in json.loads(path.read_text())["rows"] if "results" in r]


def test_committed_table_has_the_grid() -> None:
    rows = _committed_rows()
    assert rows, "bench-results/solver_choice.json holds the measured grid"
    kinds = {r["query"] for r in rows}
    assert {KIND, "free/integer min-D|D", "free/integer min-R|D"} <= kinds
    assert len({r["n"] for r in rows}) >= 2


@pytest.mark.parametrize("row", _committed_rows(), ids=lambda r: f"n{r['n']}-{r['query']}")
def test_auto_follows_the_committed_measurements(row: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RDP_SOLVER_CHOICE", raising=False)
    pmf = from_spec(row["pmf"])
    minimize = {"D": "distortion", "R": "rate", "P": "poly"}[row["query"].split("min-")[1][0]]
    pr = Problem(pmf, row["m"], row["k"], minimize=minimize, **row["budgets"])
    assert auto.query_kind(pr) == row["query"]
    proven = sorted((r["wall_s"], m) for m, r in row["results"].items() if r["status"] in ("optimal", "infeasible"))
    chosen = auto.choose(pr)
    if brute.affordable(pr):
        assert chosen is SolverName.BRUTE
    elif proven:
        assert chosen == proven[0][1]
    else:  # nothing proved at this n: a smaller measured n of the same kind, or the fallback
        got = auto.measured_choice(pr)
        assert chosen == (got.method if got is not None else auto.fallback(pr))
        assert got is None or got.n < row["n"]


def test_bnb_info_is_typed_and_reaches_the_json() -> None:
    pr = Problem(builtin("pairs6"), 3, 2)
    sol = solve(pr, "bnb", time_limit=60)
    assert sol.status is Status.OPTIMAL
    info = sol.info
    assert isinstance(info, BnbInfo)
    assert info.root_bound is not None and 0.0 <= info.root_bound <= sol.distortion + 1e-12
    assert info.root_gap == pytest.approx((sol.distortion - info.root_bound) / sol.distortion, abs=1e-9)
    assert info.symmetry_group_order is not None and info.symmetry_group_order > 1  # pairs6 is symmetric
    assert info.nodes is not None and info.nodes >= 1 and info.candidate_atoms and info.events == pmf_events(pr)
    assert "root_bound" not in info.extra and "symmetry_group_order" not in info.extra
    doc = sol.to_json_dict()["info"]
    assert doc["root_gap"] == info.root_gap and doc["symmetry_group_order"] == info.symmetry_group_order
    off = solve(pr, "bnb", time_limit=60, options={"symmetry": False})
    assert off.info.symmetry_group_order is None and off.distortion == pytest.approx(sol.distortion, abs=1e-12)


def pmf_events(pr: Problem) -> int:
    return pr.pmf.support_size
