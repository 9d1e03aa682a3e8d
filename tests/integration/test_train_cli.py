"""``rdp train``: writes what it promises; bad input → one stderr line, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest
import torch

from rdp.cli import main
from sae_train.evaluate import evaluate_exact
from sae_train.io import RUNS_COLUMNS, load_run

BASE = ["train", "cooccur3", "--arch", "topk", "--width", "2", "--k", "1", "--seeds", "2", "--steps", "30",
        "--device", "cpu", "--quiet"]


def test_train_writes_folders_dgp_and_runs_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert main([*BASE, "--out", str(out), "--lr", "0.01", "--lr", "0.02", "--batch-size", "32", "--d", "5"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"dgp.json", "dgp.safetensors", "runs.csv", "sae_000", "sae_001", "sae_002", "sae_003"} <= names
    header = (out / "runs.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == RUNS_COLUMNS
    run = load_run(out)
    assert run.dgp.d == 5 and len(run) == 4
    assert sorted({(r["lr"], r["seed"]) for r in run.rows}) == [(0.01, 0), (0.01, 1), (0.02, 0), (0.02, 1)]
    for i, row in enumerate(run.rows):
        assert (row["arch"], row["width"], row["k"], row["steps"]) == ("topk", 2, 1, 30)
        model, cfg = run.load_sae(i)
        (m,) = evaluate_exact(model, run.dgp)
        assert row["distortion"] == pytest.approx(m.distortion, rel=1e-12, abs=1e-12)
        assert row["rate"] == pytest.approx(m.rate, rel=1e-12, abs=1e-12)
        assert cfg["rdp"]["training"]["batch_size"] == 32
    # the store belongs to sweeps: a plain train run writes runs.csv and no SQLite file
    assert not (out / "rdp.sqlite").exists()


@pytest.mark.parametrize("arch", ["relu", "jumprelu", "batchtopk"])
def test_other_architectures_and_options(arch: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / arch
    # each architecture gets only the flags it uses: an ignored --k or --l1 is refused (issue 13)
    own = ["--k", "1"] if arch == "batchtopk" else ["--l1", "0.1"]
    args = ["train", "cooccur3", "--arch", arch, "--width", "3", *own, "--seeds", "1", "--steps", "20",
            "--device", "cpu", "--zero-bias", "--init", "mono", "--out", str(out)]
    assert main(args) == 0
    run = load_run(out)
    model, cfg = run.load_sae(0)
    assert torch.all(model.b_enc == 0) and torch.all(model.b_dec == 0)
    assert cfg["rdp"]["training"]["init"] == "mono"
    if arch != "batchtopk":
        assert run.rows[0]["l1"] == 0.1


def test_init_exact_starts_from_the_exact_optimum(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    base = [a if a != "30" else "1" for a in BASE[:-1]]  # --steps 1 (an option given twice is refused)
    assert main([*base, "--init", "exact", "--solver", "brute", "--lr", "1e-9",
                 "--out", str(out)]) == 0
    from rdp_exact.generators import builtin
    from rdp_exact.problem import Problem
    from rdp_exact.solvers import solve

    sol = solve(Problem(builtin("cooccur3"), width=2, k=1), "brute")
    run = load_run(out)
    model, _ = run.load_sae(0)
    V = torch.tensor(run.dgp.V, dtype=torch.float32)
    for j, atom in enumerate(sol.sae.atoms):
        cs = [i for i in range(3) if atom >> i & 1]
        w = V[cs].sum(0)
        torch.testing.assert_close(model.W_dec[0, j].detach(), w / w.norm(), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "bad",
    [
        ["--arch", "gated"],
        ["--width", "0"],
        ["--k", "0"],
        ["--k", "3"],  # k > width 2
        ["--steps", "0"],
        ["--lr", "0"],
        ["--lr", "-0.1"],
        ["--seeds", "0"],
        ["--init", "zeros"],
        ["--device", "tpu"],
        ["--magnitudes", "gaussian"],
        ["--noise", "-1"],
    ],
)
def test_bad_input_exits_2_and_writes_nothing(bad, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    args = list(BASE)
    for i in range(0, len(bad), 2):
        flag, val = bad[i], bad[i + 1]
        if flag in args:
            args[args.index(flag) + 1] = val
        else:
            args += [flag, val]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rdp: error:")
    assert list(tmp_path.iterdir()) == []


def test_cuda_unavailable_exits_2(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = [a if a != "cpu" else "cuda" for a in BASE]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    assert "CUDA" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_or_non_empty_output_exits_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main([*BASE, "--out", str(blocker / "run")]) == 2
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    assert main([*BASE, "--out", str(full)]) == 2
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "full"]


def test_unknown_pmf_exits_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", "nosuchpmf", *BASE[2:], "--out", str(tmp_path / "run")]) == 2
    assert list(tmp_path.iterdir()) == []


def test_history_and_cfg_are_json_and_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert main([*BASE, "--log-every", "10", "--out", str(out)]) == 0
    lines = (out / "history.csv").read_text().splitlines()
    assert lines[0].startswith("step,sae,loss")
    assert len(lines) == 1 + 2 * 4  # steps 0, 10, 20 and the final 30, two SAEs
    assert json.loads((out / "dgp.json").read_text())["pmf"]["n"] == 3
