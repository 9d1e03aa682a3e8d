"""``rdp solve --class`` and ``rdp theory --class`` (issue 11): JSON fields, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from rdp.cli import main


def test_solve_real_class_json(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert main(["solve", "cooccur3", "-m", "2", "-k", "1", "--class", "real-atoms", "--decoder-bias",
                 "--json", str(out), "-q"]) == 0
    d = json.loads(out.read_text())
    assert d["class"] == "real-atoms" and d["decoder_bias"] is True and d["exact"] is True
    assert len(d["bias"]) == 3 and d["atoms"] and all(len(r) == 3 for r in d["atoms"])
    # the reported D is the exact error of the written SAE
    D = sum(c["p"] * sum((x - y) ** 2 for x, y in zip([1.0 if i in c["event"] else 0.0 for i in range(3)],
                                                      c["reconstruction"], strict=True)) for c in d["code"])
    assert abs(D - d["distortion"]) < 1e-12


def test_solve_binary_json_has_class(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    assert main(["solve", "cooccur3", "-m", "2", "-k", "1", "--json", str(out), "-q"]) == 0
    d = json.loads(out.read_text())
    assert d["class"] == "binary" and d["decoder_bias"] is False


def test_bad_class_inputs_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    assert main(["solve", "cooccur3", "-m", "2", "-k", "1", "--decoder-bias", "--json", str(out)]) == 2
    assert main(["solve", "cooccur3", "-m", "2", "-k", "1", "--class", "real-vectors"]) == 2
    assert main(["solve", "cooccur3", "-m", "2", "-k", "1", "--class", "real-codes", "--max-poly", "0.1"]) == 2
    assert not out.exists()


def test_limit_exit_4(tmp_path: Path) -> None:
    assert main(["solve", "pairs6", "-m", "3", "-k", "2", "--class", "real-atoms", "--time-limit", "0.3", "-q"]) == 4


def test_theory_class_floor(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    rc = main(["theory", "cooccur3", "-m", "3", "-k", "1", "--class", "real-codes", "--json", str(out)])
    assert rc == 0
    d = json.loads(out.read_text())
    assert d["class"] == "real-codes" and d["class_floor"]["d_min"] == d["class_floor"]["d_min_binary"]
    assert d["class_floor"]["below_binary_d_min"] is False and d["class_optimum"]["exact"] is True


def test_solve_real_class_monosemantic_budget(tmp_path: Path) -> None:
    out = tmp_path / "mono.json"
    assert main(["solve", "cooccur3", "-m", "2", "-k", "1", "--class", "real-atoms", "--decoder-bias",
                 "--max-poly", "0", "--json", str(out), "-q"]) == 0
    d = json.loads(out.read_text())
    assert d["problem"]["max_poly"] == 0 and d["exact"] is True
    assert d["poly_dec"] == 0  # every live atom lies along one concept
    for row in d["atoms"]:
        assert sum(1 for v in row if abs(v) > 1e-9) <= 1
