"""``rdp demo``: the quick tour, the full tour at a reduced budget (every step working), graceful
degradation when a step's package fails, and the HTML report's images loading in headless Chromium."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from rdp import demo
from rdp.cli import main
from rdp.demo import STEPS, DemoBudget, run_demo
from rdp.html_report import check_images_in_browser, find_chromium
from rdp_exact.errors import InvalidArgument


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def browser_images_ok(page: Path) -> None:
    if os.environ.get("RDP_NO_BROWSER") == "1":
        return
    if find_chromium() is None:
        pytest.fail("Chromium is required: apt-get install -y chromium (or set RDP_NO_BROWSER=1)")
    res = check_images_in_browser(page)
    assert res.checked >= 1 and res.ok, res.missing


def test_quick_demo_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")  # a narrow terminal: printed paths must still be whole lines
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quick"]) == 0
    text = capsys.readouterr().out
    assert "what the numbers mean" in text and str(out / "index.html") in text
    rec = json.loads((out / "demo.json").read_text())
    assert [s["name"] for s in rec["steps"]] == ["exact"] and rec["steps"][0]["status"] == "ok"
    exact = json.loads((out / "exact" / "exact.json").read_text())
    by = {(r["label"], r["k"]): r for r in exact["rows"]}
    for k in (1, 2):
        opt, mono = by[("optimal", k)], by[("best monosemantic", k)]
        assert opt["exact"] and mono["exact"]
        assert mono["poly_dec"] == 0.0
        assert opt["distortion"] <= mono["distortion"] + 1e-12  # the P budget can only cost distortion
    # at k = 1 co-occurrence makes the optimum polysemantic and strictly better
    assert by[("optimal", 1)]["poly_dec"] > 0 and by[("optimal", 1)]["distortion"] < by[("best monosemantic", 1)]["distortion"]
    for k in (1, 2):
        for tag in ("optimal", "monosemantic"):
            assert (out / "exact" / f"sae_k{k}_{tag}.png").is_file()
    page = (out / "index.html").read_text()
    assert page.count("<img ") == 4
    assert not (out / "train").exists()


def test_full_demo_reduced_budget_runs_every_step(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    con = quiet()
    written = run_demo(out, console=con, budget=DemoBudget.reduced())
    rec = json.loads((out / "demo.json").read_text())
    status = {s["name"]: (s["status"], s["message"]) for s in rec["steps"]}
    assert list(status) == list(STEPS)
    assert all(s == "ok" for s, _ in status.values()), status
    for rel in ("exact/exact.json", "frontier/frontier.csv", "frontier/rd_staircases.png", "train/runs.csv",
                "train/dgp.json", "audit/audit.csv", "audit/report.md", "falsify/report.json", "falsify/report.md",
                "index.html", "demo.json"):
        assert (out / rel).is_file(), rel
    assert all(p.is_file() and out in p.parents for p in written)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rdp-staging")]
    # the audit compares every trained SAE with the optimum of its (π, m, k)
    lines = (out / "audit" / "audit.csv").read_text().splitlines()
    runs = (out / "train" / "runs.csv").read_text().splitlines()
    assert len(lines) == len(runs) == 1 + 2 * DemoBudget.reduced().train_seeds
    falsify = json.loads((out / "falsify" / "report.json").read_text())
    assert len(falsify["claims"]) >= 10 and falsify["settings"]["examples"] == DemoBudget.reduced().falsify_examples
    text = con.file.getvalue()  # type: ignore[attr-defined]
    for word in ("Exact optimum.", "Frontier.", "Training.", "Audit.", "Falsification."):
        assert word in text
    assert str(out / "index.html") in text
    browser_images_ok(out / "index.html")


def test_failing_steps_degrade_gracefully(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kw: object) -> None:
        raise RuntimeError("package exploded")

    for name in ("step_frontier", "step_train", "step_falsify"):
        monkeypatch.setattr(demo, name, boom)
    out = tmp_path / "demo"
    con = quiet()
    run_demo(out, console=con, budget=DemoBudget.reduced())
    rec = json.loads((out / "demo.json").read_text())
    status = {s["name"]: s["status"] for s in rec["steps"]}
    assert status == {"exact": "ok", "frontier": "failed", "train": "failed", "audit": "skipped", "falsify": "failed"}
    assert "package exploded" in con.file.getvalue()  # type: ignore[attr-defined]
    assert (out / "exact" / "exact.json").is_file() and (out / "index.html").is_file()
    assert "This step failed: RuntimeError: package exploded" in (out / "index.html").read_text()


def test_interrupted_demo_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "step_frontier", interrupt)
    out = tmp_path / "demo"
    with pytest.raises(KeyboardInterrupt):
        run_demo(out, console=quiet(), budget=DemoBudget.reduced())
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rdp-staging")]


def test_budget_validation_and_bad_output(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument):
        DemoBudget(train_steps=0)
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["demo", "--out", str(f), "--quick"]) == 2
