"""`rdp pmf` and `rdp solve`: outputs, JSON schema, exit codes, and the bad-input matrix (DESIGN §5.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdp.cli import main
from rdp.cli.exit_codes import ExitCode
from rdp_exact.generators import load_pmf

SCHEMA_KEYS = {
    "problem", "status", "solver", "wall_time_s", "objective", "bound", "gap", "rate", "distortion",
    "poly_dec", "poly_enc", "poly_joint", "atoms", "encoder", "code", "pmf_sha256",
}
PROBLEM_KEYS = {"n", "width", "k", "encoder", "coefficients", "minimize", "max_rate", "max_distortion",
                "max_poly", "poly"}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_solve_writes_schema_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    js, png = tmp_path / "sol.json", tmp_path / "sae.png"
    rc, out, _ = run(["solve", "cooccur3", "--width", "2", "--k", "1", "--solver", "brute",
                      "--json", str(js), "--plot", str(png)], capsys)
    assert rc == 0
    assert "OPTIMAL" in out and "proven optimal" in out
    d = json.loads(js.read_text())
    assert SCHEMA_KEYS <= d.keys() and PROBLEM_KEYS <= d["problem"].keys()
    assert d["status"] == "optimal" and d["gap"] == 0
    # the code in the JSON re-derives R and D (C-L1)
    pmf = load_pmf("cooccur3")
    assert d["pmf_sha256"] == pmf.sha256()
    rate = sum(e["p"] * len(e["active"]) for e in d["code"])
    dist = sum(e["p"] * e["error"] for e in d["code"])
    assert rate == pytest.approx(d["rate"]) and dist == pytest.approx(d["distortion"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_infeasible_budget_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    js = tmp_path / "sol.json"
    rc, out, _ = run(["solve", "cooccur3", "--width", "2", "--k", "1", "--solver", "brute",
                      "--max-distortion", "0", "--json", str(js)], capsys)
    assert rc == ExitCode.INFEASIBLE
    assert json.loads(js.read_text())["status"] == "infeasible"


def test_pmf_command_prints_statistics(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["pmf", "cooccur3"], capsys)
    assert rc == 0 and "E|S| = 1.48" in out and "correlation" in out
    rc, out, _ = run(["pmf", "--list"], capsys)
    assert rc == 0 and "cooccur3" in out and "pairs12" in out


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


BAD_PMFS = {
    "bad_json": ("x.json", "{oops", "invalid JSON"),
    "bad_csv": ("x.csv", "concepts,p\n0,zero\n", "not a number"),
    "unknown_concept": ("x.json", json.dumps({"n": 2, "events": [{"concepts": [5], "p": 1}]}), "out of range"),
    "duplicate": ("x.json", json.dumps({"n": 2, "events": [{"concepts": [0], "p": .5}, {"concepts": [0], "p": .5}]}), "listed twice"),
    "negative": ("x.json", json.dumps({"n": 1, "events": [{"concepts": [0], "p": -1}, {"concepts": [], "p": 2}]}), "negative"),
    "nan": ("x.json", '{"n": 1, "events": [{"concepts": [0], "p": NaN}]}', "not finite"),
    "sum": ("x.json", json.dumps({"n": 1, "events": [{"concepts": [0], "p": .3}]}), "sum to"),
    "n0": ("x.json", json.dumps({"n": 0, "events": [{"concepts": [], "p": 1}]}), "at least 1"),
}


@pytest.mark.parametrize("case", sorted(BAD_PMFS))
def test_bad_pmf_files(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, text, needle = BAD_PMFS[case]
    src = _write(tmp_path / name, text)
    js = tmp_path / "out.json"
    rc, _, err = run(["solve", src, "--width", "2", "--k", "1", "--solver", "brute", "--json", str(js)], capsys)
    assert rc == ExitCode.INVALID
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not js.exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--width", "0", "--k", "1"], "width must be at least 1"),
        (["--width", "2", "--k", "0"], "k must be at least 1"),
        (["--width", "2", "--k", "3"], "exceeds the width"),
        (["--width", "2", "--k", "1", "--max-rate", "-1"], "max-rate must be"),
        (["--width", "2", "--k", "1", "--max-distortion", "-0.5"], "max-distortion must be"),
        (["--width", "2", "--k", "1", "--max-poly", "-1"], "max-poly must be"),
        (["--width", "2", "--k", "1", "--solver", "gurobi"], "unknown solver"),
        (["--width", "2", "--k", "1", "--minimize", "fun"], "minimize must be"),
        (["--width", "2", "--k", "1", "--encoder", "magic"], "encoder must be"),
        (["--width", "2", "--k", "1", "--coefficients", "real"], "coefficients must be"),
        (["--k", "1"], "Missing"),
    ],
)
def test_impossible_arguments(extra: list[str], needle: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    js = tmp_path / "out.json"
    rc, _, err = run(["solve", "cooccur3", *extra, "--json", str(js)], capsys)
    assert rc == ExitCode.INVALID
    assert needle in err
    assert not js.exists()


def test_too_large_for_brute(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    js = tmp_path / "out.json"
    rc, _, err = run(["solve", "pairs:n=16,pair=0.3,single=0.05,seed=1,support=256", "--width", "8", "--k", "2",
                      "--solver", "brute", "--json", str(js)], capsys)
    assert rc == ExitCode.INVALID and "too large" in err
    assert not js.exists()


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_unwritable_output_paths(flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing-folder" / ("x.json" if flag == "--json" else "x.png")
    rc, _, err = run(["solve", "cooccur3", "--width", "2", "--k", "1", "--solver", "brute", flag, str(target)], capsys)
    assert rc == ExitCode.INVALID and "does not exist" in err
    assert not target.parent.exists()
    # a path that is a folder is refused too
    rc, _, err = run(["solve", "cooccur3", "--width", "2", "--k", "1", flag, str(tmp_path)], capsys)
    assert rc == ExitCode.INVALID


def test_normalize_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "w.json", json.dumps({"n": 2, "events": [{"concepts": [0, 1], "p": 3}, {"concepts": [0], "p": 1}]}))
    rc, _, err = run(["solve", src, "--width", "1", "--k", "1", "--solver", "brute"], capsys)
    assert rc == ExitCode.INVALID and "--normalize" in err
    js = tmp_path / "n.json"
    rc, out, _ = run(["solve", src, "--width", "1", "--k", "1", "--solver", "brute", "--normalize",
                      "--json", str(js)], capsys)
    assert rc == 0
    d = json.loads(js.read_text())
    # π({0,1}) = 0.75, π({0}) = 0.25: the atom {0,1} fires on {0,1} only, leaving error 1 on {0}
    assert d["atoms"] == [[0, 1]] and d["distortion"] == pytest.approx(0.25) and d["rate"] == pytest.approx(0.75)
