"""Saving and loading trained SAEs (DESIGN §5.3): SAELens names and shapes, round trips, atomic runs."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin
from sae_train import io as sio
from sae_train.data import DGP
from sae_train.evaluate import evaluate_exact
from sae_train.models import ARCHITECTURES
from sae_train.train import TrainConfig, train

ARCHS = sorted(ARCHITECTURES)
SAELENS_ARCH = {"topk": "topk", "batchtopk": "jumprelu", "relu": "standard", "jumprelu": "jumprelu"}


def _run(arch: str, tmp_path, **kw):  # type: ignore[no-untyped-def]
    dgp = DGP.make(builtin("cooccur3"), 4, seed=1)
    cfg = TrainConfig(arch=arch, width=3, k=(1,), steps=40, seeds=(0, 1), device="cpu", batch_size=64, **kw)
    res = train(dgp, cfg)
    out = tmp_path / "run"
    sio.save_run(out, dgp, res)
    return dgp, res, out


@pytest.mark.parametrize("arch", ARCHS)
def test_saelens_layout_and_round_trip(arch: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dgp, res, out = _run(arch, tmp_path)
    assert {p.name for p in out.iterdir()} == {"dgp.json", "dgp.safetensors", "runs.csv", "history.csv",
                                               "sae_000", "sae_001"}
    for b in range(2):
        folder = out / sio.sae_dir_name(b)
        tensors = load_file(str(folder / "sae_weights.safetensors"))
        d, m = 4, 3
        shapes = {"W_enc": (d, m), "b_enc": (m,), "W_dec": (m, d), "b_dec": (d,)}
        if arch in ("jumprelu", "batchtopk"):
            shapes["threshold"] = (m,)
        assert {k: tuple(v.shape) for k, v in tensors.items()} == shapes
        cfg = json.loads((folder / "cfg.json").read_text())
        assert (cfg["d_in"], cfg["d_sae"], cfg["architecture"]) == (d, m, SAELENS_ARCH[arch])
        assert cfg["dtype"] == "float32" and "device" in cfg
        if arch == "topk":
            assert cfg["k"] == 1
        assert cfg["rdp"]["arch"] == arch and cfg["rdp"]["seed"] == b
        assert cfg["rdp"]["pmf"]["n"] == 3 and cfg["rdp"]["training"]["steps"] == 40
        assert set(cfg["rdp"]["metrics"]) >= {"rate", "distortion", "poly_dec", "mcc"}
        model, cfg2 = sio.load_sae(folder)
        assert cfg2 == cfg
        for name, t in res.model.state_for_sae(b).items():
            assert torch.equal(model.state_for_sae(0)[name], t), name
        # the loaded SAE computes what the trained one computes
        x = torch.tensor(dgp.support_points(), dtype=torch.float32)
        with torch.no_grad():
            torch.testing.assert_close(model(x).latents[0], res.model(x).latents[b])
    back = sio.load_dgp(out)
    assert back.pmf == dgp.pmf and (back.V == dgp.V).all()


@pytest.mark.parametrize("arch", ARCHS)
def test_runs_csv_equals_fresh_exact_evaluation_of_saved_weights(arch: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, res, out = _run(arch, tmp_path)
    run = sio.load_run(out)
    assert len(run) == 2
    assert tuple(run.rows[0]) == sio.RUNS_COLUMNS
    for i, row in enumerate(run.rows):
        model, _ = run.load_sae(i)
        (m,) = evaluate_exact(model, run.dgp)
        for key in ("rate", "distortion", "poly_dec", "poly_enc", "poly_joint", "poly_dec_live", "mcc"):
            assert row[key] == pytest.approx(getattr(m, key), rel=1e-12, abs=1e-12), key
        assert row["dead"] == m.dead and row["exact"] is True and row["diverged"] is False
        assert row["arch"] == arch and row["seed"] == i and row["width"] == 3
        # SAEBench-style aliases: l0 = mean active latents, mse = per-element squared error
        assert row["l0"] == row["rate"]
        assert row["mse"] == pytest.approx(m.distortion / run.dgp.d, rel=1e-12)


def test_failed_save_leaves_nothing(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    dgp = DGP.make(builtin("cooccur3"), seed=1)
    res = train(dgp, TrainConfig(arch="relu", width=2, steps=5, seeds=(0, 1, 2), device="cpu"))
    calls = {"n": 0}
    real = sio.save_sae

    def flaky(*a, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*a, **kw)

    monkeypatch.setattr(sio, "save_sae", flaky)
    out = tmp_path / "run"
    with pytest.raises(OSError):
        sio.save_run(out, dgp, res)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_non_empty_folder_and_load_refuses_non_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(InvalidArgument, match="not empty"):
        sio.check_run_dir(tmp_path)
    with pytest.raises(InvalidArgument):
        sio.load_run(tmp_path)
    with pytest.raises(InvalidArgument):
        sio.load_sae(tmp_path)


def test_diverged_sae_is_saved_and_flagged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dgp = DGP.make(builtin("cooccur3"), seed=1)
    res = train(dgp, TrainConfig(arch="relu", width=2, steps=10, lr=(1e-2, 1e30), device="cpu"))
    sio.save_run(tmp_path / "run", dgp, res)
    run = sio.load_run(tmp_path / "run")
    assert [r["diverged"] for r in run.rows] == [False, True]
    assert isinstance(run.rows[1]["diverged_step"], int)
    cfg = json.loads((tmp_path / "run" / "sae_001" / "cfg.json").read_text())
    assert cfg["rdp"]["diverged"] is True
    assert not math.isnan(run.rows[0]["distortion"])
