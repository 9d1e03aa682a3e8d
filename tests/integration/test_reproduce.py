"""``rdp reproduce fig3 | fig4 | table2`` at tiny settings: the CSVs have their columns and the numbers
satisfy the claims each figure shows, checked against independent brute-force computations."""

from __future__ import annotations

import csv
import itertools
import math
import os
from pathlib import Path

import pytest

from rdp.cli import main
from rdp.html_report import check_images_in_browser, find_chromium
from rdp.reproduce.fig3 import FIG3_COLUMNS, REFERENCE_COLUMNS
from rdp.reproduce.fig4 import (
    PER_K_COLUMNS,
    RSTAR_COLUMNS,
    STAIRCASE_COLUMNS,
    Fig4Config,
    multi_concept_pmf,
)
from rdp.reproduce.table2 import TABLE2_COLUMNS, default_data_dir
from rdp_exact.generators import builtin
from rdp_exact.pmf import ConceptPMF

TOL = 1e-9


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), list(r)


def num(v: str) -> float | None:
    return None if v == "" else float(v)


def naive_d_min(pmf: ConceptPMF, m: int, k: int) -> float:
    """E|S| − max_{|A| ≤ m} Σ_S π(S)·min(|S ∩ A|, k), by enumerating A (C-T5, written out)."""
    es = sum(p * bin(ev).count("1") for ev, p in zip(pmf.events, pmf.probs, strict=True))
    best = 0.0
    for A in itertools.combinations(range(pmf.n), min(m, pmf.n)):
        mask = sum(1 << i for i in A)
        best = max(best, sum(p * min(bin(ev & mask).count("1"), k) for ev, p in zip(pmf.events, pmf.probs, strict=True)))
    return es - best


def browser_images_ok(page: Path) -> None:
    """Every image of the page loads in headless Chromium (skipped only with RDP_NO_BROWSER=1)."""
    if os.environ.get("RDP_NO_BROWSER") == "1":
        return
    if find_chromium() is None:
        pytest.fail("Chromium is required: apt-get install -y chromium (or set RDP_NO_BROWSER=1)")
    res = check_images_in_browser(page)
    assert res.checked >= 1 and res.ok, res.missing


# ------------------------------------------------------------------------------------------ fig3
def test_fig3_quick_shows_rotation_away_from_monosemanticity(tmp_path: Path) -> None:
    out = tmp_path / "fig3"
    assert main(["reproduce", "fig3", "--out", str(out), "--quick", "--device", "cpu"]) == 0
    for name in ("fig3.png", "fig3.csv", "fig3_reference.csv", "fig3.json", "index.html"):
        assert (out / name).is_file(), name
    cols, rows = read_csv(out / "fig3.csv")
    assert tuple(cols) == FIG3_COLUMNS
    pmf = builtin("cooccur3")
    es = sum(p * bin(ev).count("1") for ev, p in zip(pmf.events, pmf.probs, strict=True))
    d_min = naive_d_min(pmf, 3, 1)
    seeds = sorted({r["seed"] for r in rows})
    assert seeds == ["0", "1"]
    for s in seeds:
        path = sorted((r for r in rows if r["seed"] == s), key=lambda r: int(r["step"]))
        start, end = path[0], path[-1]
        assert int(start["step"]) == 0
        # the monosemantic init is an omission code: P = 0, R + D = E|S| (C-P2), D ≥ D_min (C-T5)
        assert float(start["poly_dec"]) < 1e-9
        assert float(start["rate"]) + float(start["distortion"]) == pytest.approx(es, abs=1e-6)
        assert float(start["distortion"]) >= d_min - 1e-6
        assert start["below_mono_staircase"] == "false"
        # training rotates it away: polysemantic, and below the monosemantic staircase at its rate
        assert float(end["poly_dec"]) > 1e-3
        assert float(end["distortion"]) < float(end["mono_floor_at_rate"]) - 1e-6
        assert float(end["distortion"]) < d_min
        assert end["below_mono_staircase"] == "true"
    rcols, ref = read_csv(out / "fig3_reference.csv")
    assert tuple(rcols) == REFERENCE_COLUMNS
    stair = [(float(r["D"]), float(r["R"])) for r in ref if r["kind"] == "staircase"]
    assert stair and all(abs(d + r - es) < 1e-9 for d, r in stair)  # every corner is on R + D = E|S|
    assert [d for d, _ in stair] == sorted(d for d, _ in stair)
    assert stair[0][0] == pytest.approx(d_min, abs=1e-9)
    browser_images_ok(out / "index.html")


# ------------------------------------------------------------------------------------------ fig4
def test_fig4_family_has_the_stated_multi_concept_mass() -> None:
    for n, t in ((4, 0.0), (4, 0.37), (6, 0.8)):
        pmf = multi_concept_pmf(n, t)
        assert math.isclose(float(pmf.probs.sum()), 1.0, abs_tol=1e-12)
        multi = sum(p for ev, p in zip(pmf.events, pmf.probs, strict=True) if bin(ev).count("1") >= 2)
        assert multi == pytest.approx(t, abs=1e-12)


@pytest.fixture(scope="module")
def fig4_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fig4") / "out"
    assert main(["reproduce", "fig4", "--out", str(out), "--quick", "--device", "cpu"]) == 0
    return out


def test_fig4_files_and_columns(fig4_out: Path) -> None:
    for name in ("fig4.png", "fig4a_rstar.csv", "fig4b_staircase.csv", "fig4_per_k.csv", "fig4.json", "index.html"):
        assert (fig4_out / name).is_file(), name
    assert tuple(read_csv(fig4_out / "fig4a_rstar.csv")[0]) == RSTAR_COLUMNS
    assert tuple(read_csv(fig4_out / "fig4b_staircase.csv")[0]) == STAIRCASE_COLUMNS
    assert tuple(read_csv(fig4_out / "fig4_per_k.csv")[0]) == PER_K_COLUMNS
    browser_images_ok(fig4_out / "index.html")


def test_fig4a_tightening_a_budget_raises_the_rate(fig4_out: Path) -> None:
    _, rows = read_csv(fig4_out / "fig4a_rstar.csv")
    assert rows and all(r["exact"] == "true" or r["status"] == "infeasible" for r in rows)

    def rstar(r: dict[str, str]) -> float:
        return math.inf if r["status"] == "infeasible" else float(r["rate"])

    levels = sorted({r["max_poly"] for r in rows}, key=lambda v: math.inf if v == "" else float(v))
    deltas = sorted({float(r["max_distortion"]) for r in rows})
    assert len(levels) >= 2 and len(deltas) >= 2
    table = {(r["max_poly"], float(r["max_distortion"])): rstar(r) for r in rows}
    for rho in levels:  # C-T3: non-increasing in δ
        col = [table[(rho, d)] for d in deltas]
        assert all(a >= b - TOL for a, b in zip(col, col[1:], strict=False)), (rho, col)
    for d in deltas:  # C-T3: non-increasing in ρ (the empty level is no budget)
        row = [table[(rho, d)] for rho in levels]
        assert all(a >= b - TOL for a, b in zip(row, row[1:], strict=False)), (d, row)
    # budgets are met
    for r in rows:
        if r["status"] != "infeasible":
            assert float(r["distortion"]) <= float(r["max_distortion"]) + TOL
            if r["max_poly"] != "":
                assert float(r["poly"]) <= float(r["max_poly"]) + TOL


def test_fig4b_solved_points_lie_on_the_closed_form_staircase(fig4_out: Path) -> None:
    _, rows = read_csv(fig4_out / "fig4b_staircase.csv")
    cfg = Fig4Config.quick()
    for mass in {r["mass"] for r in rows}:
        pmf = multi_concept_pmf(cfg.n, float(mass))
        es = sum(p * bin(ev).count("1") for ev, p in zip(pmf.events, pmf.probs, strict=True))
        corners = sorted((float(r["D"]), float(r["R"])) for r in rows if r["mass"] == mass and r["source"] == "theory")
        assert corners[0][0] == pytest.approx(naive_d_min(pmf, cfg.m, cfg.panel_k), abs=1e-9)
        assert all(abs(d + r - es) < 1e-9 for d, r in corners)
        solved = [r for r in rows if r["mass"] == mass and r["source"] == "exact"]
        assert solved
        for r in solved:  # C-T5: R*(δ, 0) = E|S| − max{D ∈ 𝒟_mono : D ≤ δ}
            delta = float(r["max_distortion"])
            below = [c for c in corners if c[0] <= delta + TOL]
            if not below:
                assert r["status"] == "infeasible"
            else:
                assert float(r["R"]) == pytest.approx(below[-1][1], abs=1e-9)
                assert float(r["P"]) < TOL


def test_fig4cd_floor_and_premium(fig4_out: Path) -> None:
    _, rows = read_csv(fig4_out / "fig4_per_k.csv")
    cfg = Fig4Config.quick()
    exact = [r for r in rows if r["source"] == "exact"]
    assert len(exact) == len(cfg.masses) * cfg.m
    for r in exact:
        pmf = multi_concept_pmf(cfg.n, float(r["mass"]))
        k = int(r["k"])
        d_min, d_star, floor = float(r["d_min"]), float(r["d_star_k"]), float(r["p_floor"])
        assert d_min == pytest.approx(naive_d_min(pmf, cfg.m, k), abs=1e-9)
        assert d_star <= d_min + TOL  # monosemantic SAEs are in the class
        assert float(r["premium"]) >= -TOL
        # the floor is positive exactly when every TopK optimum is polysemantic (C-T4's premise)
        assert (floor > TOL) == (d_star < d_min - TOL), r
        if float(r["mass"]) == 0.0:
            assert float(r["premium"]) == 0.0 and floor < TOL
    top = max(float(r["mass"]) for r in exact)
    k1 = next(r for r in exact if float(r["mass"]) == top and r["k"] == "1")
    assert float(k1["premium"]) > 0.1 and float(k1["rate_tax"]) >= -TOL
    # the floor rises as k shrinks at the largest mass
    floors = [float(r["p_floor"]) for r in sorted((r for r in exact if float(r["mass"]) == top), key=lambda r: int(r["k"]))]
    assert all(a >= b - TOL for a, b in zip(floors, floors[1:], strict=False))
    trained = [r for r in rows if r["source"] == "trained"]
    assert cfg.train is not None and len(trained) == len(cfg.masses) * cfg.m * len(cfg.train.seeds)
    assert all(math.isfinite(float(r["distortion"])) and float(r["rate"]) <= int(r["k"]) + TOL for r in trained)


# ------------------------------------------------------------------------------------------ table2


def test_table2_quick(tmp_path: Path) -> None:
    out = tmp_path / "t2"
    assert main(["reproduce", "table2", "--out", str(out), "--quick"]) == 0
    for name in ("table2.csv", "table2.md", "table2.png", "table2.json", "index.html"):
        assert (out / name).is_file(), name
    cols, rows = read_csv(out / "table2.csv")
    assert tuple(cols) == TABLE2_COLUMNS
    assert {r["dataset"] for r in rows} == {p.stem for p in default_data_dir().glob("*.csv")}
    for r in rows:
        v = num(r["V"])
        if v is None:
            assert r["verdict"] == "undefined"
            continue
        assert 0.0 <= v <= 1.0 and int(r["n_pairs"]) > 0
        assert float(r["V_lo"]) - TOL <= v <= float(r["V_hi"]) + TOL
        assert -1.0 - TOL <= float(r["rho"]) <= 1.0 + TOL
    # the pooled row counts every architecture's SAEs
    for ds in {r["dataset"] for r in rows}:
        for proxy in {r["proxy"] for r in rows if r["dataset"] == ds}:
            group = [r for r in rows if r["dataset"] == ds and r["proxy"] == proxy]
            pooled = [r for r in group if r["architecture"] == "all"]
            per_arch = [r for r in group if r["architecture"] != "all"]
            assert len(pooled) == 1 and len(per_arch) >= 2
            assert int(pooled[0]["n_saes"]) == sum(int(r["n_saes"]) for r in per_arch)
    # V of one per-architecture cell, recomputed from the raw CSV by a loop over pairs (DESIGN §3)
    raw_path = default_data_dir() / "gemma-2-2b_L19_0824_topk_standard_core_plus_sparse_probing.csv"
    _, raw = read_csv(raw_path)
    sub = [(float(r["l0"]), float(r["l2_loss"]), -float(r["sp_sae_top_1_test_accuracy"])) for r in raw
           if r["arch"] == "topk"]
    bad = ties = pairs = 0.0
    for a, b in itertools.permutations(sub, 2):
        if a[0] <= b[0] and a[1] <= b[1] and (a[0], a[1]) != (b[0], b[1]):
            pairs += 1
            bad += a[2] < b[2]
            ties += a[2] == b[2]
    want = (bad + 0.5 * ties) / pairs
    got = next(r for r in rows if r["dataset"] == raw_path.stem and r["architecture"] == "topk"
               and r["proxy"] == "sp_sae_top_1_test_accuracy")
    assert float(got["V"]) == pytest.approx(want, abs=1e-12)
    assert int(got["n_pairs"]) == pairs
    browser_images_ok(out / "index.html")


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "argv",
    [
        ["fig3", "--k", "0"],
        ["fig3", "--pmf", "nosuchpmf"],
        ["fig3", "--width", "4"],  # wider than n = 3: no monosemantic init for every row
        ["fig3", "--steps", "0"],
        ["fig4", "--grid", "1"],
        ["fig4", "--n", "5"],
        ["fig4", "--masses", "0,0.95"],
        ["fig4", "--points", "3", "--masses", "0,0.5"],
        ["fig4", "--poly-levels", "x"],
        ["fig4", "--panel-k", "9"],
        ["table2", "--data", "/nonexistent/saebench"],
        ["table2", "--bootstrap", "-1"],
        ["fig3", "--no-such-flag"],
        ["nosuchtarget"],
    ],
)
def test_bad_flags_exit_2_and_write_nothing(tmp_path: Path, argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    rc = main(["reproduce", *argv, "--out", str(out), "--quick"] if argv[0] != "nosuchtarget"
              else ["reproduce", *argv])
    assert rc == 2
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rdp-staging")]
    err = capsys.readouterr().err
    assert err.startswith("rdp: error:") and err.count("\n") == 1


# ------------------------------------------------------------------------------------------ all
def test_all_quick_writes_every_target(tmp_path: Path) -> None:
    import json

    out = tmp_path / "all"
    assert main(["reproduce", "all", "--out", str(out), "--quick", "--device", "cpu"]) == 0
    for target, name in (("fig2", "fig2.json"), ("fig3", "fig3.json"), ("fig4", "fig4.json"),
                         ("table2", "table2.json")):
        assert (out / target / name).is_file(), target
        assert (out / target / "index.html").is_file(), target
    page = (out / "index.html").read_text()
    assert all(f"{t}/" in page for t in ("fig2", "fig3", "fig4", "table2"))
    cfg3 = json.loads((out / "fig3" / "fig3.json").read_text())["config"]
    assert cfg3["train"]["device"] == "cpu" and cfg3["train"]["init"] == "mono"
