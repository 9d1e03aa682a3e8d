"""Damaged SAE folders and DGPs (issue 13 items 8 and 10): every one is exit 2 with one line naming the file
or field and nothing written, or — with ``--skip-broken`` — skipped and named in a warning."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from rdp.cli import main
from rdp_exact.errors import InvalidArgument
from sae_train.io import load_sae

TRAINED = Path(__file__).resolve().parents[1] / "fixtures" / "saelens" / "trained_topk"
FAST = ["--solver", "brute", "--rate-points", "0", "--no-figures", "--quiet"]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder as rdp train lays it out: dgp.* beside two SAE folders (a SAELens-trained TopK SAE)."""
    run = tmp_path / "run"
    shutil.copytree(TRAINED / "dgp", run)
    for name in ("sae_000", "sae_001"):
        shutil.copytree(TRAINED / "sae", run / name)
    return run


def _audit(capsys, run: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    rc = main(["audit", "optimum", str(run), "--out", str(out), *FAST, *extra])
    o, e = capsys.readouterr()
    return rc, o, e


def _assert_clean_refusal(rc: int, err: str, out: Path, *words: str) -> None:
    assert rc == 2, err
    assert err.startswith("rdp: error:") and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "random":
        path.write_bytes(os.urandom(len(data)))
    elif how == "header-only":
        path.write_bytes(data[:8])


@pytest.mark.parametrize("how", ["truncated", "empty", "random", "header-only"])
def test_damaged_sae_weights(run_dir: Path, tmp_path: Path, capsys, how: str) -> None:
    _damage(run_dir / "sae_001" / "sae_weights.safetensors", how)
    with pytest.raises(InvalidArgument, match="sae_weights.safetensors"):
        load_sae(run_dir / "sae_001")
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out")
    _assert_clean_refusal(rc, err, tmp_path / "out", "sae_001", "--skip-broken")


@pytest.mark.parametrize("how", ["truncated", "empty", "random"])
def test_damaged_dgp_weights(run_dir: Path, tmp_path: Path, capsys, how: str) -> None:
    _damage(run_dir / "dgp.safetensors", how)
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out")
    _assert_clean_refusal(rc, err, tmp_path / "out", "DGP")


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda c: [1, 2], "JSON object"),
        (lambda c: "topk", "JSON object"),
        (lambda c: {**c, "k": 4}, "k"),  # k > d_sae = 3
        (lambda c: {**c, "k": "1"}, "k"),
        (lambda c: {**c, "k": 1.7}, "k"),  # used to become 1 silently
        (lambda c: {**c, "k": None, "metadata": {"sae_lens_version": "6.54.12"}}, "k"),  # SAELens default 100 > 3
        (lambda c: {**c, "d_in": 4}, "d_in"),
        (lambda c: {**c, "d_sae": 2}, "d_sae"),
        (lambda c: {**c, "rdp": {"arch": "topk", "k": 1, "sparsity": "abc"}}, "rdp.sparsity"),
        (lambda c: {**c, "rdp": {"arch": "relu"}}, "rdp.arch"),
        (lambda c: {**c, "rdp": {"arch": "topk", "k": 1, "seed": 1.5}}, "rdp.seed"),
        (lambda c: {**c, "rdp": "x"}, "rdp"),
        (lambda c: {**c, "apply_b_dec_to_input": None}, "apply_b_dec_to_input"),
        (lambda c: {**c, "normalize_activations": "batch_norm"}, "normalize_activations"),
        (lambda c: {**c, "architecture": "gated"}, "architecture"),
    ],
)
def test_bad_cfg_values(run_dir: Path, tmp_path: Path, capsys, edit, field: str) -> None:
    cp = run_dir / "sae_000" / "cfg.json"
    cp.write_text(json.dumps(edit(json.loads(cp.read_text()))))
    with pytest.raises(InvalidArgument, match=field.replace(".", r"\.")):
        load_sae(run_dir / "sae_000")
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out")
    _assert_clean_refusal(rc, err, tmp_path / "out", "cfg.json")


def test_cfg_that_is_not_json(run_dir: Path, tmp_path: Path, capsys) -> None:
    (run_dir / "sae_000" / "cfg.json").write_bytes(b"\xff\xfe{")
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out")
    _assert_clean_refusal(rc, err, tmp_path / "out", "cfg.json")


def test_weights_with_wrong_shapes(run_dir: Path, tmp_path: Path, capsys) -> None:
    from safetensors.torch import load_file, save_file

    wp = run_dir / "sae_000" / "sae_weights.safetensors"
    t = load_file(str(wp))
    t["b_dec"] = t["b_dec"][:2].clone()
    save_file(t, str(wp))
    with pytest.raises(InvalidArgument, match="b_dec"):
        load_sae(run_dir / "sae_000")


def test_deleted_weights_is_an_error_not_one_sae_fewer(run_dir: Path, tmp_path: Path, capsys) -> None:
    (run_dir / "sae_001" / "sae_weights.safetensors").unlink()
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out")
    _assert_clean_refusal(rc, err, tmp_path / "out", "sae_001", "sae_weights.safetensors")


def test_skip_broken_audits_the_others_and_names_what_it_skipped(run_dir: Path, tmp_path: Path, capsys) -> None:
    (run_dir / "sae_001" / "sae_weights.safetensors").unlink()
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out", "--skip-broken")
    assert rc == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("rdp: warning:")]
    assert len(warnings) == 1 and "sae_001" in warnings[0]
    with (tmp_path / "out" / "audit.csv").open(newline="") as fh:
        assert [r["sae_dir"] for r in csv.DictReader(fh)] == ["sae_000"]


def test_sae_listed_in_runs_csv_but_gone(run_dir: Path, tmp_path: Path, capsys) -> None:
    (run_dir / "runs.csv").write_text("sae_dir,arch\nsae_000,topk\nsae_001,topk\nsae_002,topk\n")
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out")
    _assert_clean_refusal(rc, err, tmp_path / "out", "sae_002", "runs.csv")


def test_every_sae_broken_with_skip_broken_is_still_an_error(run_dir: Path, tmp_path: Path, capsys) -> None:
    for name in ("sae_000", "sae_001"):
        (run_dir / name / "sae_weights.safetensors").write_bytes(b"")
    rc, _, err = _audit(capsys, run_dir, tmp_path / "out", "--skip-broken")
    assert rc == 2 and "no readable SAE folder" in err and not (tmp_path / "out").exists()
