"""rdp_exact.frontier and the `rdp frontier` / `rdp theory` commands (DESIGN §1.5, §5.2, C-T3, C-T5)."""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
from pathlib import Path

import pytest

from rdp.cli import main
from rdp.cli.exit_codes import ExitCode
from rdp_exact import theory as T
from rdp_exact.errors import InvalidArgument
from rdp_exact.frontier import (
    FrontierConfig,
    FrontierResult,
    compute_frontier,
    parse_poly_levels,
)
from rdp_exact.frontier_report import FRONTIER_FILES, write_frontier
from rdp_exact.generators import load_pmf

TOL = 1e-9


@pytest.fixture(scope="module")
def result() -> FrontierResult:
    cfg = FrontierConfig(pmf=load_pmf("cooccur3"), width=2, k=1, grid=4, poly_levels=(0.0, 0.2, None),
                         solver="brute", pareto=True)
    calls: list[tuple[int, int]] = []
    res = compute_frontier(cfg, progress=lambda d, t, _: calls.append((d, t)))
    assert calls[-1] == (cfg.planned_points(), cfg.planned_points())
    assert len(res.rows) == cfg.planned_points()
    return res


def _le(a: float | None, b: float | None) -> bool:
    """a ≤ b where None (infeasible) counts as +∞."""
    if b is None:
        return True
    return a is not None and a <= b + TOL


def test_every_point_is_proven(result: FrontierResult) -> None:
    assert result.all_exact
    for r in result.rows:
        assert r.exact == (r.status == "optimal") or r.status == "infeasible"
        assert r.exact or r.rate is None


def test_grids_span_the_meaningful_range(result: FrontierResult) -> None:
    es = result.expected_sparsity
    assert result.delta_grid[0] == result.d_star_k and result.delta_grid[-1] == pytest.approx(es)
    assert result.rate_grid[0] == 0 and result.rate_grid[-1] == result.rate_at_d_star_k
    assert len(result.delta_grid) == 4 and len(result.rate_grid) == 4


def test_monotonicity_c_t3(result: FrontierResult) -> None:
    """R* non-increasing in δ and ρ; D* non-increasing in r and ρ; P* non-increasing in r and δ."""
    levels = result.config.poly_levels
    rstar = {(r.max_distortion, r.max_poly): r.rate for r in result.rows_of("rstar")}
    dstar = {(r.max_rate, r.max_poly): r.distortion for r in result.rows_of("dstar")}
    pstar = {(r.max_rate, r.max_distortion): r.poly for r in result.rows_of("pstar")}
    for rho in levels:
        for d1, d2 in itertools.pairwise(result.delta_grid):
            assert _le(rstar[d2, rho], rstar[d1, rho])
        for r1, r2 in itertools.pairwise(result.rate_grid):
            assert _le(dstar[r2, rho], dstar[r1, rho])
    for rho1, rho2 in itertools.pairwise(levels):  # ascending, None (no budget) last
        for d in result.delta_grid:
            assert _le(rstar[d, rho2], rstar[d, rho1])
        for r in result.rate_grid:
            assert _le(dstar[r, rho2], dstar[r, rho1])
    for r1, r2 in itertools.pairwise(result.rate_grid):
        for d in result.delta_grid:
            assert _le(pstar[r2, d], pstar[r1, d])
    for d1, d2 in itertools.pairwise(result.delta_grid):
        for r in result.rate_grid:
            assert _le(pstar[r, d2], pstar[r, d1])
    # the anchor: D*(R_k, no budget) = D*_k; P*(R_k, D*_k) is the floor at k
    assert dstar[result.rate_grid[-1], None] == pytest.approx(result.d_star_k)


def test_p0_grid_equals_the_monosemantic_staircase(result: FrontierResult) -> None:
    """C-T5: each R*(δ, 0) point equals the closed-form staircase value (∞ ⇔ infeasible)."""
    pmf, m, k = result.config.pmf, result.config.width, result.config.k
    for r in result.rows_of("rstar"):
        if r.max_poly != 0.0:
            continue
        want = T.r_star_mono(pmf, m, k, r.max_distortion)
        if math.isinf(want):
            assert r.status == "infeasible"
        else:
            assert r.rate == pytest.approx(want, abs=TOL)
    assert result.staircase.points[0][0] == pytest.approx(result.d_min)


def test_per_k_curves(result: FrontierResult) -> None:
    ks = [r.k for r in result.per_k]
    assert ks == [1, 2]
    for r in result.per_k:
        assert r.d_star is not None and r.d_star <= r.d_min + TOL  # monosemantic SAEs are a subset
        assert r.d_min == pytest.approx(T.d_min(result.config.pmf, 2, r.k))
        assert r.p_floor is not None and r.p_floor >= 0
        assert (r.p_floor <= TOL) == (r.d_star >= r.d_min - TOL)  # P floor 0 ⇔ D*_k monosemantic
    for a, b in itertools.pairwise(result.per_k):
        assert b.d_star <= a.d_star + TOL and b.d_min <= a.d_min + TOL


def test_pareto_set_is_consistent_with_the_grids(result: FrontierResult) -> None:
    if result.pareto is None:
        pytest.fail(f"Pareto set not computed: {result.notes}")
    pts = result.pareto
    for a, b in itertools.permutations(pts, 2):  # mutually non-dominated
        assert not (a[0] <= b[0] + TOL and a[1] <= b[1] + TOL and a[2] <= b[2] + TOL and
                    (abs(a[0] - b[0]) > TOL or abs(a[1] - b[1]) > TOL or abs(a[2] - b[2]) > TOL))
    for r in result.rows:  # every grid optimum at the same cap is weakly dominated by a Pareto point
        if r.rate is None or r.k != result.config.k:
            continue
        assert any(p[0] <= r.rate + TOL and p[1] <= r.distortion + TOL and p[2] <= r.poly + TOL for p in pts)


def test_pareto_p0_points_are_the_monosemantic_staircase(result: FrontierResult) -> None:
    """C-T5 against enumeration: the P = 0 Pareto points are exactly the staircase corners."""
    assert result.pareto is not None and not result.staircase.truncated
    p0 = sorted((d, r) for r, d, p in result.pareto if p <= 1e-12)
    corners = sorted(result.staircase.points)
    assert len(p0) == len(corners)
    for (d1, r1), (d2, r2) in zip(p0, corners, strict=True):
        assert d1 == pytest.approx(d2, abs=TOL) and r1 == pytest.approx(r2, abs=TOL)


def test_write_frontier_outputs(result: FrontierResult, tmp_path: Path) -> None:
    out = write_frontier(result, tmp_path / "front")
    assert sorted(p.name for p in out.iterdir()) == sorted(FRONTIER_FILES)
    rows = list(csv.DictReader((out / "frontier.csv").read_text().splitlines()))
    assert len(rows) == len(result.rows)
    assert {"query", "max_rate", "max_distortion", "max_poly", "status", "exact", "objective", "R", "D", "P",
            "solver", "time_s"} <= rows[0].keys()
    d = json.loads((out / "frontier.json").read_text())
    assert {"problem", "staircase", "pareto", "rows", "per_k", "staircase_truncated"} <= d.keys()
    assert d["staircase"] == [list(p) for p in result.staircase.points]
    for name in ("rd_staircases.png", "poly_floor_vs_k.png", "dstar_vs_k.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_config_validation() -> None:
    pmf = load_pmf("cooccur3")
    with pytest.raises(InvalidArgument):
        FrontierConfig(pmf=pmf, width=2, k=3)
    with pytest.raises(InvalidArgument):
        FrontierConfig(pmf=pmf, width=2, k=1, grid=1)
    with pytest.raises(InvalidArgument):
        FrontierConfig(pmf=pmf, width=2, k=1, poly_levels=(-0.1,))
    with pytest.raises(InvalidArgument):
        FrontierConfig(pmf=pmf, width=2, k=1, solver="gurobi")
    assert parse_poly_levels("0.3, inf,0,0.3") == (0.0, 0.3, None)
    with pytest.raises(InvalidArgument):
        parse_poly_levels("0,abc")


# ---------------------------------------------------------------------- CLI
def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_frontier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "f"
    rc, text, _ = run(["frontier", "example1:0.05,0.15,0.1,0.4,0.2,0.04,0.03,0.03", "--width", "2", "--k", "1",
                       "--grid", "3", "--poly-levels", "0,inf", "--solver", "brute", "--out", str(out)], capsys)
    assert rc == 0, text
    assert sorted(p.name for p in out.iterdir()) == sorted(FRONTIER_FILES)
    d = json.loads((out / "frontier.json").read_text())
    assert d["all_exact"] and d["pareto"] is None and d["poly_levels"] == [0.0, None]


@pytest.mark.parametrize(
    "extra",
    [["--grid", "1"], ["--poly-levels", "x"], ["--k", "3"], ["--solver", "nope"], ["--time-limit", "0"]],
)
def test_cli_frontier_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]) -> None:
    out = tmp_path / "f"
    args = ["frontier", "cooccur3", "--width", "2", "--k", "1", "--out", str(out), "--solver", "brute"]
    rc, _, err = run(args + extra, capsys)
    assert rc == ExitCode.INVALID and err.startswith("rdp: error:") and err.count("\n") == 1
    assert not out.exists()


def test_cli_frontier_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, _, _ = run(["frontier", "cooccur3", "--width", "2", "--k", "1", "--out", str(blocker / "sub")], capsys)
    assert rc == ExitCode.INVALID
    rc, _, _ = run(["frontier", "cooccur3", "--width", "2", "--k", "1", "--out", str(blocker)], capsys)
    assert rc == ExitCode.INVALID and blocker.read_text() == "x"
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            rc, _, _ = run(["frontier", "cooccur3", "--width", "2", "--k", "1", "--out", str(ro / "x")], capsys)
            assert rc == ExitCode.INVALID and not any(ro.iterdir())
        finally:
            ro.chmod(0o700)


def test_cli_theory_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    js = tmp_path / "t.json"
    rc, text, _ = run(["theory", "cooccur3", "--width", "2", "--k", "1", "--solver", "brute", "--json", str(js)],
                      capsys)
    assert rc == 0, text
    assert "D_min" in text and "Example 1" in text
    d = json.loads(js.read_text())
    keys = {"expected_sparsity", "marginals", "d_min", "staircase", "staircase_truncated", "d_star_k", "rate_tax",
            "example1"}
    assert keys <= d.keys()
    pmf = load_pmf("cooccur3")
    assert d["expected_sparsity"] == pytest.approx(pmf.expected_sparsity())
    assert d["d_min"] == pytest.approx(T.d_min(pmf, 2, 1))
    assert d["staircase"][0][0] == pytest.approx(d["d_min"])
    assert (d["rate_tax"] is None) == (d["d_star_k"] >= d["d_min"] - 1e-12)
    ex = d["example1"]
    assert ex is not None and len(ex["codes"]) == 12
    assert ex["optimum_structure"] in ("monosemantic", "hedged", "splitting", "other")
    forms = T.example1_closed_forms(pmf, 1)
    for c in ex["codes"]:
        assert (c["D"], c["R"]) == pytest.approx(forms[c["name"]])
    if ex["optimum_structure"] != "other":
        assert ex["optimum_structure"] in ex["tied_structures"]


def test_cli_theory_truncates_and_skips_example1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    js = tmp_path / "t.json"
    rc, _, _ = run(["theory", "random:n=4,support=9,seed=2", "--width", "2", "--k", "2", "--solver", "brute",
                    "--max-steps", "3", "--json", str(js)], capsys)
    assert rc == 0
    d = json.loads(js.read_text())
    assert d["example1"] is None and len(d["staircase"]) == 3 and d["staircase_truncated"] is True


@pytest.mark.parametrize("extra", [["--k", "0"], ["--max-steps", "0"], ["--solver", "x"], ["--width", "0"]])
def test_cli_theory_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]) -> None:
    js = tmp_path / "t.json"
    args = ["theory", "cooccur3", "--width", "2", "--k", "1", "--solver", "brute", "--json", str(js)]
    rc, _, err = run(args + extra, capsys)
    assert rc == ExitCode.INVALID and err.startswith("rdp: error:")
    assert not js.exists()


def test_cli_theory_unwritable_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, _ = run(["theory", "cooccur3", "--width", "2", "--k", "1", "--json", str(tmp_path / "no" / "t.json")],
                   capsys)
    assert rc == ExitCode.INVALID and not (tmp_path / "no").exists()


def test_unproven_points_are_never_called_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend that stops at its limit: rows say `limit`, exact false, and both commands exit 4."""
    from dataclasses import replace

    import rdp_exact.solvers as solvers
    from rdp.cli.exit_codes import ExitCode
    from rdp_exact.problem import Status

    real = solvers.solve

    def limited(problem, solver="auto", **kw):  # type: ignore[no-untyped-def]
        sol = real(problem, "brute")
        if sol.status is Status.OPTIMAL and problem.minimize == "rate":
            return replace(sol, status=Status.LIMIT, gap=0.5, bound=None)
        return sol

    monkeypatch.setattr(solvers, "solve", limited)
    out = tmp_path / "f"
    rc, _, _ = run(["frontier", "cooccur3", "--width", "2", "--k", "1", "--grid", "2", "--poly-levels", "inf",
                    "--out", str(out)], capsys)
    assert rc == ExitCode.LIMIT
    rows = json.loads((out / "frontier.json").read_text())["rows"]
    assert {r["status"] for r in rows if r["query"] == "rstar"} == {"limit"}
    assert not any(r["exact"] for r in rows if r["query"] == "rstar")
    assert all(r["exact"] for r in rows if r["query"] == "dstar")

    def limited_d(problem, solver="auto", **kw):  # type: ignore[no-untyped-def]
        return replace(real(problem, "brute"), status=Status.LIMIT, gap=0.1)

    monkeypatch.setattr(solvers, "solve", limited_d)
    js = tmp_path / "t.json"
    rc, _, _ = run(["theory", "cooccur3", "--width", "2", "--k", "1", "--json", str(js)], capsys)
    assert rc == ExitCode.LIMIT
    d = json.loads(js.read_text())
    assert d["d_star_k_status"] == "limit" and d["d_star_k_exact"] is False


# ---------------------------------------------------------------------------------------------- issue 15
def _values(res: FrontierResult) -> list[tuple]:
    return [(r.query, r.k, r.max_rate, r.max_distortion, r.max_poly, r.status, r.exact,
             None if r.rate is None else round(r.rate, 9), None if r.distortion is None else round(r.distortion, 9),
             None if r.poly is None else round(r.poly, 9)) for r in res.rows]


def test_reuse_between_budgets_equals_fresh_solves() -> None:
    """A proven optimum reused at a tighter neighbouring budget gives the same (R, D, P) as solving afresh."""
    base = dict(pmf=load_pmf("cooccur3"), width=2, k=2, grid=4, poly_levels=(0.0, 0.2, None), solver="brute",
                per_k=False)
    fresh = compute_frontier(FrontierConfig(**base, reuse=False))
    warm = compute_frontier(FrontierConfig(**base, reuse=True))
    assert _values(fresh) == _values(warm)
    assert any("reused" in note for note in warm.notes)
    assert sum(r.time_s == 0.0 for r in warm.rows) > 0


def test_parallel_workers_match_serial(result: FrontierResult) -> None:
    cfg = replace_config(result.config, workers=2)
    calls: list[tuple[int, int]] = []
    par = compute_frontier(cfg, progress=lambda d, t, _: calls.append((d, t)))
    assert _values(par) == _values(result)
    assert [(k.k, k.d_star, k.p_floor) for k in par.per_k] == [(k.k, k.d_star, k.p_floor) for k in result.per_k]
    assert calls[-1] == (cfg.planned_points(), cfg.planned_points())


def replace_config(cfg: FrontierConfig, **changes: object) -> FrontierConfig:
    import dataclasses

    kw = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.init}
    kw.update(changes)
    return FrontierConfig(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [{"workers": 0}, {"workers": 1.5}, {"address": ""}])
def test_parallel_config_validation(bad: dict) -> None:
    with pytest.raises(InvalidArgument):
        FrontierConfig(pmf=load_pmf("cooccur3"), width=2, k=1, **bad)


@pytest.mark.parametrize("workers,threads,expected", [(1, None, None), (2, None, 1), (2, 3, 3)])
def test_parallel_points_get_one_thread_each(monkeypatch: pytest.MonkeyPatch, workers: int, threads: int | None,
                                             expected: int | None) -> None:
    """Grid points run side by side get one solver thread each unless ``threads`` says otherwise (a solver's
    default may use every core, e.g. the branch-and-bound's worker processes)."""
    import rdp_exact.frontier as fr
    import rdp_exact.solvers as solvers

    seen: list[int | None] = []
    real = solvers.solve

    def spy(problem, solver="auto", **kw):  # noqa: ANN001, ANN202
        seen.append(kw.get("threads"))
        return real(problem, solver, **kw)

    monkeypatch.setattr(solvers, "solve", spy)
    cfg = FrontierConfig(pmf=load_pmf("cooccur3"), width=2, k=2, grid=2, solver="brute", per_k=False,
                         workers=workers, threads=threads)
    fr._solve_point(cfg, fr._Point(0, "dstar_k", "distortion"), None)
    assert seen == [expected]
