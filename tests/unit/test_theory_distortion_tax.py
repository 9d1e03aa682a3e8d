"""C-DT in ``rdp theory``: the distortion tax at a rate budget against brute force (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdp.cli import main
from rdp_exact import theory
from rdp_exact.generators import load_pmf
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import Problem
from rdp_exact.solvers import solve

PMF = Path(__file__).resolve().parents[2] / "examples" / "pmf-cooccur.json"


def brute_d(pmf: ConceptPMF, m: int, k: int, r: float, poly: float | None) -> float:
    sol = solve(Problem(pmf=pmf, width=m, k=k, minimize="distortion", max_rate=r, max_poly=poly), "brute")
    return float(sol.objective)


@pytest.mark.parametrize(("m", "k", "r"), [(2, 1, 0.5), (2, 2, 0.8), (3, 1, None)])
def test_theory_json_distortion_tax_matches_brute_force(tmp_path: Path, m: int, k: int, r: float | None) -> None:
    out = tmp_path / "t.json"
    argv = ["theory", str(PMF), "-m", str(m), "-k", str(k), "--solver", "brute", "--json", str(out)]
    if r is not None:
        argv += ["--rate-budget", str(r)]
    assert main(argv) == 0
    rep = json.loads(out.read_text())
    dt = rep["distortion_tax"]
    pmf = load_pmf(PMF)
    rate = rep["rate_opt"] if r is None else r
    assert dt["rate_budget"] == pytest.approx(rate)
    assert dt["d_mono"] == pytest.approx(brute_d(pmf, m, k, rate, 0.0), abs=1e-9)
    assert dt["d_star"] == pytest.approx(brute_d(pmf, m, k, rate, None), abs=1e-9)
    assert dt["tax"] == pytest.approx(dt["d_mono"] - dt["d_star"], abs=1e-12) and dt["tax"] >= -1e-12
    assert dt["lower_bound"] <= dt["d_mono"] + 1e-12 and dt["d_mono_any_cap"] <= dt["d_mono"] + 1e-12


def test_min_mono_distortion_by_hand() -> None:
    """π = {{0}: ½, {0,1}: ½}, m = 2, k = 1: retained masses {0, ½, 1}; at r = 0.7 the best monosemantic
    code retains ½ (D = 1.5 − ½ = 1), without a cap it retains 1 at r = 1 (D = ½); E|S| = 1.5."""
    pmf = ConceptPMF.from_events(2, [(1, 0.5), (3, 0.5)])
    assert theory.min_mono_distortion(pmf, 2, 0.7, k=1) == pytest.approx(1.0)
    assert theory.min_mono_distortion(pmf, 2, 1.0, k=1) == pytest.approx(0.5)
    assert theory.min_mono_distortion(pmf, 2, 1.5, k=None) == pytest.approx(0.0)
    assert theory.min_mono_distortion(pmf, 2, 0.0) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="rate budget"):
        theory.min_mono_distortion(pmf, 2, -1.0)


def test_bad_rate_budget_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    assert main(["theory", str(PMF), "-m", "2", "-k", "1", "--rate-budget", "-1", "--json", str(out)]) == 2
    assert not out.exists()
