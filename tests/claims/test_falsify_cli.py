"""``rdp falsify``: argument errors, report format, counterexample files and their replay."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from proofs_check.claims import CLAIM_IDS
from rdp.cli import main
from rdp_exact.generators import load_pmf


@pytest.mark.parametrize(
    "args",
    [
        ["--claims", "C-XX"],
        ["--examples", "0"],
        ["--examples", "-3"],
        ["--profile", "huge"],
        ["--jobs", "0"],
        ["--seconds", "0"],
        ["--seconds", "-5"],
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    out = tmp_path / "rep"
    rc = main(["falsify", *args, "--out", str(out)])
    assert rc == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rdp: error:")


def test_unwritable_out_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = main(["falsify", "--claims", "C-P2", "--examples", "5", "--out", str(blocker)])
    assert rc == 2
    assert blocker.read_text() == "x"
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_survived_claim_and_refuted_mutant(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    rc = main(["falsify", "--claims", "C-P2,C-L1", "--examples", "15", "--mutants", "--jobs", "1", "--out", str(out)])
    assert rc == 0
    rep = json.loads((out / "report.json").read_text())
    ids = [c["id"] for c in rep["claims"]]
    assert ids == ["C-P2", "C-L1"]
    for c in rep["claims"]:
        assert set(c) >= {"id", "statement", "examples", "seconds", "verdict", "counterexample", "replay", "mutant"}
        assert c["verdict"] == "survived" and c["counterexample"] is None and c["replay"] is None
        assert c["mutant"] == "refuted"
        assert isinstance(c["examples"], int) and c["examples"] >= 1
        assert c["mutants"] and all(m["verdict"] == "refuted" and 1 <= m["examples"] <= 15 for m in c["mutants"])
        for m in c["mutants"]:
            assert (out / "counterexamples" / f"{c['id']}.mutant.{m['name']}.json").exists()
    assert rep["outcome"] == "all good"
    md = (out / "report.md").read_text()
    assert "| C-P2 |" in md and "| C-L1 |" in md


def test_mutant_surviving_a_small_budget_exits_3_not_1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """One example cannot refute C-P2's mutants: exit 3 and a message that says to raise --examples,
    not that the claim is false; Hypothesis writes nothing into the current directory."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "rep"
    rc = main(["falsify", "--claims", "C-P2", "--examples", "1", "--mutants", "--jobs", "1", "--out", str(out)])
    assert rc == 3
    stdout = capsys.readouterr().out
    assert "mutant survived at this budget" in stdout and "raise --examples" in stdout
    assert "falsified" not in stdout.replace("no claim falsified", "")
    rep = json.loads((out / "report.json").read_text())
    assert rep["outcome"] == "mutant survived" and rep["claims"][0]["verdict"] == "survived"
    assert not (tmp_path / ".hypothesis").exists()


def test_falsified_claim_writes_a_replayable_counterexample(tmp_path: Path) -> None:
    """C-P1 is false in the threshold class (falsifier.md): --all-classes must find, shrink, save and
    replay a counterexample, and exit 1."""
    out = tmp_path / "rep"
    rc = main(["falsify", "--claims", "C-P1", "--all-classes", "--examples", "600", "--jobs", "1", "--out", str(out)])
    assert rc == 1
    rep = json.loads((out / "report.json").read_text())
    assert rep["outcome"] == "claim falsified"
    (c,) = rep["claims"]
    assert c["verdict"] == "falsified"
    pmf_path = out / c["counterexample"]
    pmf = load_pmf(pmf_path)
    inst = json.loads((out / "counterexamples" / "C-P1.instance.json").read_text())
    assert inst["instance"]["encoder"] == "threshold"
    assert load_pmf(pmf_path) == pmf
    cmd = shlex.split(c["replay"])
    assert cmd[:3] == ["rdp", "solve", str(pmf_path)]
    assert main(cmd[1:] + ["--quiet"]) in (0, 3)


def test_every_claim_is_listed_in_a_full_run_report(tmp_path: Path) -> None:
    """The report lists every registry claim in order (tiny budget)."""
    out = tmp_path / "rep"
    main(["falsify", "--examples", "2", "--jobs", "2", "--out", str(out)])
    rep = json.loads((out / "report.json").read_text())
    assert [c["id"] for c in rep["claims"]] == list(CLAIM_IDS)


def test_search_is_reproducible_and_shrinks() -> None:
    """Same seed, same shrunk counterexample; C-P2 in threshold integer mode shrinks to a tiny SAE."""
    from proofs_check.claims import THRESHOLD, get
    from proofs_check.runner import search

    claim = get("C-P2")
    a = search(claim.check, claim.draws(THRESHOLD), examples=200, seed=1)
    b = search(claim.check, claim.draws(THRESHOLD), examples=200, seed=1)
    assert a.found and b.found
    assert a.instance.to_json_dict() == b.instance.to_json_dict()
    assert a.instance.coefficients == "integer"
    assert a.instance.pmf.n == 1 and a.instance.pmf.support_size <= 2 and a.instance.width == 2


def test_replay_commands_reproduce_a_counterexample(tmp_path: Path) -> None:
    """The replay commands of a C-T3 counterexample (here: of its mutant) re-solve the two queries the
    check compared, with the same optimal values."""
    from proofs_check.claims import get
    from proofs_check.reference import optimum, value
    from proofs_check.runner import search

    claim = get("C-T3")
    res = search(claim.mutant.check, claim.mutant.strategy(), examples=100, seed=0)
    assert res.found
    inst = res.instance
    pmf_path = tmp_path / "ce.json"
    inst.pmf.write(pmf_path)
    cmds = claim.replay(inst, str(pmf_path))
    assert len(cmds) == 2
    expected = [value(optimum(inst.problem())),
                value(optimum(inst.problem(**{inst.extra["param"]: inst.extra["looser"]})))]
    for cmd, want in zip(cmds, expected, strict=True):
        out = tmp_path / "sol.json"
        rc = main(shlex.split(cmd)[1:] + ["--quiet", "--json", str(out)])
        got = json.loads(out.read_text())
        if rc == 3:
            assert want == float("inf") and got["status"] == "infeasible"
        else:
            assert rc == 0 and abs(got["objective"] - want) <= 1e-12


def test_time_limit_stops_a_search_and_says_so() -> None:
    """--seconds: a search that has found nothing stops at its time limit and reports the examples reached."""
    from proofs_check.claims import get
    from proofs_check.runner import search

    claim = get("C-T5")
    res = search(claim.check, claim.draws(), examples=10**6, seed=0, time_limit=0.5)
    assert not res.found and res.timed_out
    assert res.note == f"time limit of 0.5 s reached after {res.examples} examples"


def test_deep_profile_gives_costly_claims_their_own_limit(tmp_path: Path) -> None:
    """Under ``deep`` a claim that declares ``deep_seconds`` (C-CO) gets that limit, the others the profile's;
    ``--seconds`` replaces both; ``ci`` has no per-claim limits. The report records the limits used."""
    from proofs_check.claims import get
    from proofs_check.runner import TIME_BUDGETS, FalsifyConfig, profile_claim_seconds

    assert get("C-CO").deep_seconds is not None and get("C-CO").deep_seconds > TIME_BUDGETS["deep"]
    assert profile_claim_seconds("deep", ("C-CO", "C-T5")) == {"C-CO": get("C-CO").deep_seconds}
    assert profile_claim_seconds("ci", ("C-CO",)) == {}
    cfg = FalsifyConfig(claims=("C-CO", "C-T5"), examples=1, seconds=600.0, claim_seconds={"C-CO": 1800.0})
    assert cfg.limit("C-CO") == 1800.0 and cfg.limit("C-T5") == 600.0
    out = tmp_path / "rep"
    main(["falsify", "--claims", "C-CO,C-T5", "--examples", "1", "--jobs", "1", "--out", str(out)])
    rep = json.loads((out / "report.json").read_text())
    assert rep["settings"]["claim_seconds"] == {"C-CO": get("C-CO").deep_seconds}
    assert "C-CO 1800 s" in (out / "report.md").read_text()
    out2 = tmp_path / "rep2"
    main(["falsify", "--claims", "C-CO", "--examples", "1", "--seconds", "5", "--jobs", "1", "--out", str(out2)])
    assert json.loads((out2 / "report.json").read_text())["settings"]["claim_seconds"] == {}


def test_a_per_claim_limit_for_an_unselected_claim_is_refused() -> None:
    from proofs_check.runner import FalsifyConfig
    from rdp_exact.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="claim id"):
        FalsifyConfig(claims=("C-T5",), examples=1, claim_seconds={"C-CO": 10.0})
    with pytest.raises(InvalidArgument, match="time limit of C-T5"):
        FalsifyConfig(claims=("C-T5",), examples=1, claim_seconds={"C-T5": -1.0})
