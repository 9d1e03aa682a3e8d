"""``rdp audit optimum`` end to end on a small trained run (audit/optimum.py, DESIGN §7).

Three tiny TopK SAEs are trained with the sae_train library on ``cooccur3`` (m = 2, k = 1) and saved as
``rdp train`` would; the audit's numbers are then checked against independent recomputations: the brute
force optimum, the closed-form D_min and rate tax, runs.csv's metrics, and the snapped SAE rebuilt from
the raw safetensors.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from audit import optimum as optimum_mod
from audit.optimum import AUDIT_COLUMNS, OptimumAuditConfig
from audit.optimum_report import run_optimum_audit
from rdp.cli import main
from rdp_exact import theory
from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin
from rdp_exact.polysemanticity import cosine_table
from rdp_exact.problem import Problem
from rdp_exact.sae import CombinatorialSAE
from rdp_exact.solvers import solve

CONTRACT = (
    "sae_dir", "arch", "seed", "width", "k", "rate", "distortion", "poly_dec", "poly_enc", "poly_joint",
    "d_star_k", "rate_opt", "poly_opt", "d_min", "rate_tax", "gap_d", "gap_d_rel", "beats_binary_optimum",
    "snapped_rate", "snapped_distortion", "snapped_poly", "n_dead", "n_mono", "n_hedged", "n_splitting",
    "n_absorbing", "optimum_status",
)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from sae_train.data import DGP
    from sae_train.io import save_run
    from sae_train.train import TrainConfig, train

    torch.set_num_threads(1)
    dgp = DGP.make(builtin("cooccur3"), seed=0)
    cfg = TrainConfig(arch="topk", width=2, k=(1,), steps=300, seeds=(0, 1, 2), device="cpu", batch_size=128)
    out = tmp_path_factory.mktemp("optimum") / "run"
    save_run(out, dgp, train(dgp, cfg))
    return out


@pytest.fixture(scope="module")
def audited(run_dir: Path) -> tuple[Path, object]:
    out = run_dir.parent / "audit"
    audit = run_optimum_audit(run_dir, out, OptimumAuditConfig(solver="brute", rate_points=2))
    return out, audit


def test_audit_csv_against_independent_recomputation(run_dir: Path, audited: tuple[Path, object]) -> None:
    out, _ = audited
    rows = _read_csv(out / "audit.csv")
    header = list(rows[0].keys())
    assert tuple(header[: len(CONTRACT)]) == CONTRACT
    assert tuple(header) == AUDIT_COLUMNS
    runs = {r["sae_dir"]: r for r in _read_csv(run_dir / "runs.csv")}
    assert sorted(r["sae_dir"] for r in rows) == sorted(runs)

    pmf = builtin("cooccur3")
    ref = solve(Problem(pmf, width=2, k=1), "brute")
    dmin = theory.d_min(pmf, 2, 1)
    tax = theory.rate_tax(pmf, 2, 1, ref.distortion, ref.rate)
    for r in rows:
        run = runs[r["sae_dir"]]
        assert r["arch"] == "topk" and int(r["width"]) == 2 and int(r["k"]) == 1 and int(r["k_audit"]) == 1
        assert int(r["seed"]) == int(run["seed"])
        # the SAE's exact metrics are recomputed from the weights: they equal what training recorded
        for col in ("rate", "distortion", "poly_dec", "poly_enc", "poly_joint"):
            assert float(r[col]) == pytest.approx(float(run[col]), abs=1e-9), col
        assert float(r["d_star_k"]) == pytest.approx(ref.distortion, abs=1e-12)
        assert float(r["rate_opt"]) == pytest.approx(ref.rate, abs=1e-12)
        assert float(r["poly_opt"]) == pytest.approx(ref.poly, abs=1e-12)
        assert float(r["d_min"]) == pytest.approx(dmin, abs=1e-12)
        assert tax is not None and float(r["rate_tax"]) == pytest.approx(tax.tax, abs=1e-12)
        assert r["optimum_status"] == "optimal" and r["optimum_exact"] == "true"
        d, dstar = float(r["distortion"]), ref.distortion
        assert float(r["gap_d"]) == pytest.approx(d - dstar, abs=1e-12)
        assert float(r["gap_d_rel"]) == pytest.approx((d - dstar) / dstar, abs=1e-9)
        assert float(r["gap_r"]) == pytest.approx(float(r["rate"]) - ref.rate, abs=1e-12)
        assert r["beats_binary_optimum"] == ("true" if d < dstar - 1e-9 else "false")
        kinds = sum(int(r[c]) for c in ("n_dead", "n_mono", "n_hedged", "n_splitting", "n_unaligned", "n_mixed"))
        assert kinds == 2
        assert int(r["n_dead"]) == int(run["dead"])


def test_snapped_values_from_the_raw_weights(run_dir: Path, audited: tuple[Path, object]) -> None:
    """Rebuild each snapped SAE from sae_weights.safetensors and dgp.safetensors with library primitives."""
    from safetensors.numpy import load_file

    out, _ = audited
    pmf = builtin("cooccur3")
    V = load_file(str(run_dir / "dgp.safetensors"))["V"]
    for r in _read_csv(out / "audit.csv"):
        W = load_file(str(run_dir / r["sae_dir"] / "sae_weights.safetensors"))["W_dec"].astype(np.float64)
        Ccos = cosine_table(W, V)
        atoms = [int(sum(1 << i for i in range(3) if Ccos[j, i] > 0.5)) for j in range(2)]
        ev = CombinatorialSAE.best_response(pmf, atoms, 1).evaluate(pmf, k=1)
        assert float(r["snapped_distortion"]) == pytest.approx(ev.distortion, abs=1e-12)
        assert float(r["snapped_rate"]) == pytest.approx(ev.rate, abs=1e-12)
        assert float(r["snapped_poly"]) == pytest.approx(ev.poly_dec, abs=1e-12)
        # the snapped binary SAE can never beat the binary optimum
        assert ev.distortion >= float(r["d_star_k"]) - 1e-12


def test_outputs_report_and_figures(audited: tuple[Path, object]) -> None:
    out, audit = audited
    report = (out / "report.md").read_text()
    for s in audit.saes:  # type: ignore[attr-defined]
        assert f"`{s.sae_dir}`" in report or f"| {s.sae_dir} |" in report
    if audit.beating():  # type: ignore[attr-defined]
        assert "below D*_k" in report
    else:
        assert "No trained SAE beats" in report
    figs = sorted(p.relative_to(out).as_posix() for p in (out / "figures").rglob("*.png"))
    assert any(p.startswith("figures/rd_") for p in figs)
    assert len([p for p in figs if p.startswith("figures/atoms/")]) == 3
    optima = json.loads((out / "optima.json").read_text())
    assert len(optima) == 1 and optima[0]["width"] == 2 and optima[0]["k"] == 1
    assert len(_read_csv(out / "latents.csv")) == 3 * 2
    assert not list(out.parent.glob(".rdp-staging-*"))


def test_each_distinct_optimum_is_solved_once(run_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Problem] = []
    real = optimum_mod._solve

    def counting(problem: Problem, config: OptimumAuditConfig):  # type: ignore[no-untyped-def]
        calls.append(problem)
        return real(problem, config)

    monkeypatch.setattr(optimum_mod, "_solve", counting)
    audit = run_optimum_audit(run_dir, tmp_path / "o", OptimumAuditConfig(solver="brute", figures=False))
    assert len(audit.saes) == 3 and len(audit.optima) == 1
    assert [(p.width, p.k, p.max_rate, p.max_poly) for p in calls] == [(2, 1, None, None)]
    assert not (tmp_path / "o" / "figures").exists()


def test_cli_runs_and_bad_inputs(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["audit", "optimum", str(run_dir), "--out", str(out), "--no-figures", "--solver", "brute",
                 "--quiet"]) == 0
    assert (out / "audit.csv").is_file() and (out / "report.md").is_file()
    capsys.readouterr()

    def bad(args: list[str], target: Path, needle: str) -> None:
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and needle in err, err
        assert not target.exists()

    # DGP files missing
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "dgp.safetensors").unlink()
    bad(["audit", "optimum", str(broken), "--out", str(tmp_path / "o1")], tmp_path / "o1", "dgp.safetensors")
    # no SAE folders
    empty = tmp_path / "empty"
    empty.mkdir()
    bad(["audit", "optimum", str(empty), "--out", str(tmp_path / "o2")], tmp_path / "o2", "no SAE folders")
    # a runs folder that does not exist
    bad(["audit", "optimum", str(tmp_path / "nope"), "--out", str(tmp_path / "o3")], tmp_path / "o3", "does not exist")
    # an output folder that cannot be created (its parent is a file)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    bad(["audit", "optimum", str(run_dir), "--out", str(blocker / "sub")], blocker / "sub", "cannot create")
    # a bad option value
    bad(["audit", "optimum", str(run_dir), "--out", str(tmp_path / "o4"), "--cos-threshold", "2"],
        tmp_path / "o4", "cos-threshold")


def test_sae_folders_without_a_dgp_are_refused(run_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "nodgp"
    shutil.copytree(run_dir, broken)
    (broken / "dgp.json").unlink()
    (broken / "dgp.safetensors").unlink()
    with pytest.raises(InvalidArgument, match="dgp"):
        run_optimum_audit(broken, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_a_folder_of_runs_is_searched(run_dir: Path, tmp_path: Path) -> None:
    parent = tmp_path / "sweep"
    for name in ("jobs/a", "jobs/b"):
        shutil.copytree(run_dir, parent / name)
    audit = run_optimum_audit(parent, tmp_path / "o", OptimumAuditConfig(solver="brute", figures=False))
    dirs = [s.sae_dir for s in audit.saes]
    assert len(dirs) == 6 and all(d.startswith(("jobs/a/sae_", "jobs/b/sae_")) for d in dirs)
    assert len(audit.optima) == 1  # same pmf, m and k: one solve
    rows = _read_csv(tmp_path / "o" / "audit.csv")
    by_name = {}
    for r in rows:
        by_name.setdefault(r["sae_dir"].split("/", 2)[2], set()).add(r["distortion"])
    assert all(len(v) == 1 for v in by_name.values())  # identical copies audit identically
