"""``rdp sweep`` (DESIGN §5.4): config validation, grid expansion, the local backend, failures,
export, and resume after a real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from rdp.cli import main
from rdp.cli.exit_codes import ExitCode
from rdp.sweep.store import STORE_NAME, ResultsStore
from rdp.sweep.sweep import config_from_dict, expand_jobs, load_config, run_sweep
from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import load_pmf

ROOT = Path(__file__).resolve().parents[1]


def _toml(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------------- validation
BAD_CONFIGS = [
    # (config text, words the one-line message must contain)
    ("[[solve]]\npmf = 'cooccur3'\nwidth = 2\nk = 1\nwidht = 3\n", ["[[solve]] #1", "'widht'", "did you mean 'width'"]),
    ("[[solve]]\npmf = 'cooccur3'\nwidth = 'two'\nk = 1\n", ["[[solve]] #1", "'width'", "'two'", "integer"]),
    ("[[solve]]\npmf = 'cooccur3'\nwidth = [2, 3]\nk = 3\n", ["[[solve]] #1", "width=2", "k = 3 exceeds"]),
    ("[[solve]]\npmf = 'cooccur3'\nwidth = 2\nk = 1\nminimize = 'speed'\n", ["'minimize'", "'speed'", "'distortion'"]),
    ("[[solve]]\npmf = 'nosuch:x=1'\nwidth = 2\nk = 1\n", ["[[solve]] #1", "'pmf'", "nosuch"]),
    ("[[solve]]\npmf = 'pairs:n=6,pair=2,single=0.1,seed=1'\nwidth = 2\nk = 1\n", ["'pmf'", "pair must be a finite number in [0, 1]"]),
    ("[[solve]]\npmf = 'cooccur3'\nwidth = 2\n", ["[[solve]] #1", "missing required key 'k'"]),
    ("[[solve]]\npmf = 'cooccur3'\nwidth = []\nk = 1\n", ["'width'", "empty list"]),
    ("[[solve]]\npmf = 'cooccur3'\nwidth = 2\nk = 1\ntime_limit = -1\n", ["[[solve]] #1", "time_limit"]),
    ("[[solve]]\npmf = 'pairs:n=6,pair=0.3,single=0.05,seed={sed}'\nwidth = 2\nk = 1\n",
     ["'pmf'", "{sed}"]),
    ("[[solve]]\npmf = 'cooccur3'\nseed = [1, 2]\nwidth = 2\nk = 1\n", ["'seed'", "{seed}"]),
    ("[[solve]]\npmf = 'cooccur3'\nwidth = 2\nk = 1\n[[solve]]\npmf = 'cooccur3'\nwidth = 2\nk = 1\nsolver = 'gurobi'\n",
     ["[[solve]] #2", "'solver'", "'gurobi'"]),
    ("[[solv]]\npmf = 'cooccur3'\n", ["unknown table 'solv'", "did you mean 'solve'"]),
    ("[[train]]\npmf = 'cooccur3'\narch = 'topk'\nwidth = 2\nsteps = 10\n", ["[[train]] #1", "needs k"]),
    ("[[train]]\npmf = 'cooccur3'\narch = 'transformer'\nwidth = 2\nk = 1\nsteps = 10\n", ["[[train]] #1", "transformer"]),
    ("[[frontier]]\npmf = 'cooccur3'\nwidth = 2\nk = 1\ngrid = 1\n", ["[[frontier]] #1", "grid"]),
    ("width = 3\n", ["unknown table 'width'"]),
    ("", ["no jobs"]),
    ("[[solve]\n", ["invalid TOML"]),
]


@pytest.mark.parametrize(("text", "words"), BAD_CONFIGS)
def test_bad_configs_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: list[str]
) -> None:
    cfg = _toml(tmp_path, text)
    out = tmp_path / "out"
    rc = main(["sweep", str(cfg), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == ExitCode.INVALID
    assert err.startswith("rdp: error: sweep.toml") and err.count("\n") == 1
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()


def test_library_validation_names_table_key_and_value() -> None:
    with pytest.raises(InvalidArgument, match=r"\[\[solve\]\] #1: key 'k' = 'x': expected an integer"):
        config_from_dict({"solve": [{"pmf": "cooccur3", "width": 2, "k": [1, "x"]}]})
    cfg = config_from_dict({"solve": [{"pmf": "cooccur3", "width": 2, "k": [1, 0]}]})  # types are fine
    with pytest.raises(InvalidArgument, match=r"\[\[solve\]\] #1 \(k=0\): k must be at least 1"):
        expand_jobs(cfg)
    with pytest.raises(InvalidArgument, match="repeats a value"):
        config_from_dict({"solve": [{"pmf": "cooccur3", "width": [2, 2], "k": 1}]})


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _toml(tmp_path, "[[solve]]\npmf = 'cooccur3'\nwidth = 2\nk = 1\n")
    assert main(["sweep", str(cfg), "--no-progress"]) == ExitCode.INVALID  # no --out
    assert main(["sweep"]) == ExitCode.INVALID
    assert main(["sweep", "--export", str(tmp_path / "x.csv")]) == ExitCode.INVALID  # no store there
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "o"), "--address", "x:1"]) == ExitCode.INVALID
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "o"), "--backend", "slurm"]) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert "--out" in err and "no results store" in err and "--backend ray" in err and "slurm" in err
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------- expansion
def test_grid_expansion_templates_and_keys(tmp_path: Path) -> None:
    (tmp_path / "pmfs").mkdir()
    load_pmf("cooccur3").write(tmp_path / "pmfs" / "c3.json")
    cfg = load_config(_toml(tmp_path, """
[[solve]]
pmf = ["pmfs/c3.json", "pairs:n=6,pair=0.3,single=0.05,seed={seed}"]
seed = [1, 2]
width = [2, 3]
k = [1, 2]
minimize = "distortion"
[[solve]]
pmf = "cooccur3"
width = 2
k = 1
solver = "auto"
threads = 4
"""))
    jobs = expand_jobs(cfg)
    # the file pmf ignores {seed}: its two seed values are one job; the pairs pmf varies with the seed
    assert len(jobs) == 2 * 2 + 2 * 2 * 2
    # [[solve]] #2 is #1's (cooccur3, 2, 1) job spelled with defaults and another thread count: same key
    first = [j for j in jobs if j.pmf_sha256 == load_pmf("cooccur3").sha256()]
    assert len(first) == 4
    assert {j.params["pmf"] for j in jobs} >= {"pairs:n=6,pair=0.3,single=0.05,seed=1",
                                              "pairs:n=6,pair=0.3,single=0.05,seed=2"}
    assert len({j.key for j in jobs}) == len(jobs)
    for j in jobs:
        assert j.params["solver"] == "auto" and j.params["encoder"] == "free"  # defaults filled in
        assert j.rows[0].key == j.key
    # a train table: list values of batch keys train in one job, one row per SAE
    tr = expand_jobs(config_from_dict({"train": [
        {"pmf": "cooccur3", "arch": ["topk", "relu"], "width": 2, "k": 1, "seeds": 3, "steps": 10}]}))
    assert len(tr) == 2 and all(len(j.rows) == 3 for j in tr)
    assert [r.params["seed"] for r in tr[0].rows] == [0, 1, 2]
    # a seed axis gives one job per seed, with the same row keys as the batched spelling
    per_seed = expand_jobs(config_from_dict({"train": [
        {"pmf": "cooccur3", "arch": "topk", "width": 2, "k": 1, "seed": [0, 1, 2], "steps": 10}]}))
    assert len(per_seed) == 3
    assert {r.key for j in per_seed for r in j.rows} == {r.key for r in tr[0].rows}


# ---------------------------------------------------------------------- running
def _rows(out: Path) -> list[tuple[str, str]]:
    """(key, status) of the store's rows, read without the library (empty while absent)."""
    path = out / STORE_NAME
    if not path.exists():
        return []
    try:
        con = sqlite3.connect(path, timeout=30)
        try:
            return [tuple(r) for r in con.execute("SELECT key, status FROM results")]
        finally:
            con.close()
    except sqlite3.OperationalError:  # table not created yet
        return []


def _check_artefacts(out: Path, store: ResultsStore, *, orphans_allowed: int = 0) -> None:
    """Every done row's folder is complete, and every visible job folder is complete and belongs to a done
    row — except, right after a kill, at most ``orphans_allowed`` complete folders whose job was killed
    between its folder's rename and its row's insert (the row is what marks a job done; resume redoes it
    and replaces the folder)."""
    done = [r for r in store.iter_rows() if r.status == "done"]
    jobs_dir = out / "jobs"
    for r in done:
        folder = out / r.artefacts  # type: ignore[operator]
        assert folder.is_dir()
        record = json.loads((out / "jobs" / r.job / "job.json").read_text())  # type: ignore[operator]
        assert r.key in [x["key"] for x in record["rows"]]
    visible = {p.name for p in jobs_dir.iterdir() if not p.name.startswith(".")} if jobs_dir.exists() else set()
    for name in visible:
        assert (jobs_dir / name / "job.json").is_file()  # nothing half-written under a final name
    assert len(visible - {r.job for r in done}) <= orphans_allowed


SMALL = """
[[solve]]
pmf = "cooccur3"
width = 2
k = [1, 2]
solver = "highs"
[[solve]]
# brute force cannot afford this instance: the job fails, the sweep goes on
pmf = "pairs12"
width = 8
k = 3
solver = "brute"
[[train]]
pmf = "cooccur3"
arch = "topk"
width = 2
k = 1
seeds = [0, 1]
steps = 30
batch_size = 64
[[frontier]]
pmf = "cooccur3"
width = 2
k = 1
grid = 2
poly_levels = [0.0, "none"]
solver = "highs"
per_k = false
"""


def test_local_sweep_records_failures_and_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _toml(tmp_path, SMALL)
    out = tmp_path / "out"
    rc = main(["sweep", str(cfg), "--out", str(out), "--workers", "2"])
    captured = capsys.readouterr()
    assert rc == 1  # one job failed
    assert "1 failed" in captured.out and "pairs12" in captured.out
    store = ResultsStore(out, create=False)
    rows = list(store.iter_rows())
    assert len(rows) == 2 + 1 + 2 + 1 and len(store) == 6
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and failed[0].error and failed[0].artefacts is None
    solved = [r for r in rows if r.kind == "solve" and r.status == "done"]
    assert {r.params["k"] for r in solved} == {1, 2}
    for r in solved:
        sol = json.loads((out / r.artefacts / "solution.json").read_text())  # type: ignore[operator]
        assert sol == r.result and r.metrics["status"] == sol["status"] == "optimal"
        # the stored R and D re-derive from the stored code (C-L1)
        assert sum(e["p"] * len(e["active"]) for e in sol["code"]) == pytest.approx(r.metrics["rate"])
        assert sum(e["p"] * e["error"] for e in sol["code"]) == pytest.approx(r.metrics["distortion"])
    # k = 2 can only lower the optimal distortion
    d = {r.params["k"]: r.metrics["distortion"] for r in solved}
    assert d[2] <= d[1] + 1e-12
    trained = [r for r in rows if r.kind == "train"]
    assert sorted(r.params["seed"] for r in trained) == [0, 1] and len({r.job for r in trained}) == 1
    for r in trained:
        cfg_json = json.loads((out / r.artefacts / "cfg.json").read_text())  # type: ignore[operator]
        assert cfg_json["rdp"]["seed"] == r.params["seed"] and cfg_json["d_sae"] == 2
    (fr,) = [r for r in rows if r.kind == "frontier"]
    assert fr.status == "done" and fr.metrics["all_exact"] is True
    assert (out / fr.artefacts / "frontier" / "frontier.csv").is_file()  # type: ignore[operator]
    assert fr.metrics["d_star_k"] == pytest.approx(d[1])  # the frontier's anchor is the k = 1 optimum
    _check_artefacts(out, store)
    # a second run into the same folder needs --resume
    assert main(["sweep", str(cfg), "--out", str(out), "--no-progress"]) == ExitCode.INVALID
    assert "--resume" in capsys.readouterr().err
    # export by suffix, reading the store in the target's folder or --from
    assert main(["sweep", "--export", str(out / "results.parquet")]) == 0
    assert main(["sweep", "--export", str(tmp_path / "results.csv"), "--from", str(out)]) == 0
    pq, csv = pd.read_parquet(out / "results.parquet"), pd.read_csv(tmp_path / "results.csv")
    for df in (pq, csv):
        assert len(df) == 6 and set(df["key"]) == {r.key for r in rows}
        got = df.set_index("key")
        for r in solved:
            assert got.loc[r.key, "metrics.rate"] == pytest.approx(r.metrics["rate"])
            assert got.loc[r.key, "params.width"] == 2


KILL = """
[[train]]
pmf = "pairs:n=6,pair=0.3,single=0.05,seed=3"
arch = "topk"
width = 4
k = 2
seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
steps = 300
batch_size = 64
"""


def test_sigkill_then_resume_completes_every_row_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _toml(tmp_path, KILL)
    out = tmp_path / "out"
    total = len(expand_jobs(load_config(cfg)))
    cmd = [sys.executable, "-m", "rdp.cli", "sweep", str(cfg), "--out", str(out), "--workers", "2",
           "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while len(_rows(out)) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the sweep wrote no rows in time"
            time.sleep(0.05)
        assert proc.poll() is None  # still running: the kill lands mid-sweep
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
        proc.wait()
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    before = _rows(out)
    assert 2 <= len(before) < total and {s for _, s in before} == {"done"}
    store = ResultsStore(out, create=False)
    _check_artefacts(out, store, orphans_allowed=1)  # the single writer commits one job at a time
    finished_before = {r.key: r.finished for r in store.iter_rows()}

    rc = main(["sweep", str(cfg), "--out", str(out), "--resume", "--workers", "2", "--no-progress"])
    assert rc == 0
    assert f"{len(before)} already done" in capsys.readouterr().out
    after = _rows(out)
    keys = [k for k, _ in after]
    assert len(keys) == len(set(keys)) == total and {s for _, s in after} == {"done"}
    jobs = expand_jobs(load_config(cfg))
    assert {r.key for j in jobs for r in j.rows} == set(keys)
    # rows done before the kill were skipped, not recomputed
    assert {k: store.get(k).finished for k in finished_before} == finished_before  # type: ignore[union-attr]
    _check_artefacts(out, store)
    jobs_dir = out / "jobs"
    assert {p.name for p in jobs_dir.iterdir()} == {j.key for j in jobs}  # no staging or orphaned folders left


def test_run_sweep_api_resume_reruns_only_failures(tmp_path: Path) -> None:
    jobs = expand_jobs(config_from_dict({"solve": [
        {"pmf": "cooccur3", "width": 2, "k": 1, "solver": "cpsat"},
        {"pmf": "pairs12", "width": 8, "k": 3, "solver": "brute"},
    ]}))
    first = run_sweep(jobs, tmp_path / "o", workers=1, progress=False)
    assert (first.total, first.done, first.failed, first.skipped, first.exit_code) == (2, 1, 1, 0, 1)
    again = run_sweep(jobs, tmp_path / "o", workers=1, progress=False, resume=True)
    assert (again.done, again.failed, again.skipped) == (0, 1, 1)  # the failed job ran again
    assert len(ResultsStore(tmp_path / "o")) == 2
