"""``rdp reproduce fig2``: the five dictionaries' P, checked against closed forms and a plain re-computation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rdp.cli import main


def naive_poly(W: list[list[float]]) -> float:
    """Mean over nonzero rows of 1 − max_i |w_i| / ‖w‖ (DESIGN §1.3 with V = I), in plain Python."""
    vals = []
    for row in W:
        norm = math.sqrt(sum(x * x for x in row))
        if norm > 0:
            vals.append(1 - max(abs(x) for x in row) / norm)
    return sum(vals) / len(vals) if vals else 0.0


@pytest.mark.parametrize(("n", "mix"), [(4, 0.5), (3, 0.25)])
def test_fig2_values_match_closed_forms(tmp_path: Path, n: int, mix: float) -> None:
    from rdp.reproduce.fig2 import Fig2Config, dictionaries

    out = tmp_path / "fig2"
    assert main(["reproduce", "fig2", "--out", str(out), "--n", str(n), "--mix", str(mix)]) == 0
    assert {p.name for p in out.iterdir()} >= {"fig2.png", "fig2.csv", "fig2.json", "index.html"}
    poly = json.loads((out / "fig2.json").read_text())["poly"]
    assert list(poly) == ["monosemantic", "permuted", "mixed", "hedged", "fully dense"]
    expected = {  # worked by hand from the definitions in the module docstring
        "monosemantic": 0.0,
        "permuted": 0.0,
        "mixed": 1 - 1 / math.sqrt(1 + mix * mix),
        "hedged": (1 - 1 / math.sqrt(2)) / (n - 1),
        "fully dense": 1 - 1 / math.sqrt(n),
    }
    mats = dictionaries(Fig2Config(n=n, mix=mix))
    for name, want in expected.items():
        assert poly[name] == pytest.approx(want, abs=1e-12), name
        assert poly[name] == pytest.approx(naive_poly(mats[name].tolist()), abs=1e-12), name
    assert poly["monosemantic"] == poly["permuted"] < poly["hedged"] < poly["fully dense"]
    rows = (out / "fig2.csv").read_text().splitlines()
    assert len(rows) == 1 + 5 * n


@pytest.mark.parametrize("argv", [["--n", "1"], ["--mix", "0"], ["--mix", "1"], ["--mix", "nan"]])
def test_fig2_bad_flags_exit_2_and_write_nothing(tmp_path: Path, argv: list[str]) -> None:
    out = tmp_path / "fig2"
    assert main(["reproduce", "fig2", "--out", str(out), *argv]) == 2
    assert not out.exists()
