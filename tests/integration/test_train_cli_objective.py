"""``rdp train --objective/--threads/--zero-bias/--no-zero-bias`` (issues 16 and 10)."""

from __future__ import annotations

import json

from rdp.cli import main

BASE = ["train", "cooccur3", "--arch", "topk", "--width", "2", "--k", "1", "--steps", "20", "--device", "cpu",
        "--quiet"]


def _training_block(out) -> dict:  # type: ignore[no-untyped-def]
    return json.loads((out / "sae_000" / "cfg.json").read_text())["rdp"]["training"]


def test_expected_objective_threads_and_boolean_flags_reach_the_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert main([*BASE, "--out", str(out), "--objective", "expected", "--threads", "1", "--no-zero-bias",
                 "--no-compress-batch"]) == 0
    t = _training_block(out)
    assert (t["objective"], t["threads"], t["zero_bias"], t["compress_batch"]) == ("expected", 1, False, False)
    out2 = tmp_path / "run2"
    assert main([*BASE, "--out", str(out2), "--zero-bias"]) == 0
    t2 = _training_block(out2)
    assert (t2["objective"], t2["zero_bias"], t2["compress_batch"]) == ("sampled", True, True)


def test_expected_objective_on_a_noisy_dgp_exits_2_and_writes_nothing(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    for extra in (["--objective", "expected", "--noise", "0.1"], ["--objective", "bogus"], ["--threads", "-1"]):
        out = tmp_path / "run"
        assert main([*BASE, "--out", str(out), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("rdp: error:"), err
        assert not out.exists()
