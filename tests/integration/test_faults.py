"""Faults (issue 13): signals during writes, stale staging folders, a SIGKILLed sweep driver, FIFOs.

* SIGTERM during ``rdp train``'s final write runs the same cleanup as Ctrl-C: exit 130, no
  ``.rdp-staging-*`` folder and no output folder left.
* A staging folder left by a dead process is removed (and named) by the next run; one of a live process
  is left alone.
* ``kill -9`` on the sweep driver: its pool workers and the resource tracker exit by themselves.
* A FIFO output is written through and stays a FIFO.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rdp.cli import main
from rdp.cli.exit_codes import ExitCode
from rdp_exact import io_utils

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["train", "cooccur3", "--arch", "topk", "--width", "2", "--k", "1", "--steps", "3", "--batch-size", "8",
         "--device", "cpu", "-q"]


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(io_utils.STAGING_PREFIX)]


def test_sigterm_during_the_final_write_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sae_train.io as sio

    real = sio.atomic_write_text
    calls = {"n": 0}

    def write_then_sigterm(path, text):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        out = real(path, text)
        if calls["n"] == 1:  # runs.csv, after the SAE folders: some files staged, history.csv not yet
            assert _staging(tmp_path), "the write should be happening inside a staging folder"
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler raises here
            raise AssertionError("SIGTERM was not turned into an interrupt")
        return out

    monkeypatch.setattr(sio, "atomic_write_text", write_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    rc = main([*TRAIN, "--out", str(tmp_path / "run")])
    assert rc == ExitCode.INTERRUPTED and calls["n"] == 1
    assert _staging(tmp_path) == [] and not (tmp_path / "run").exists()
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is restored


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_staging_of_dead_processes_is_removed_and_named(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    host = io_utils._host_tag()
    dead = tmp_path / f"{io_utils.STAGING_PREFIX}{_dead_pid()}-{host}-abc123"
    live = tmp_path / f"{io_utils.STAGING_PREFIX}{os.getppid()}-{host}-def456"
    other_host = tmp_path / f"{io_utils.STAGING_PREFIX}{_dead_pid()}-000000-ghi789"
    for d in (dead, live, other_host):
        d.mkdir()
        (d / "sae_weights.safetensors").write_bytes(b"partial")
    rc = main([*TRAIN, "--out", str(tmp_path / "run")])
    assert rc == 0 and (tmp_path / "run" / "runs.csv").is_file()
    assert not dead.exists() and live.exists() and other_host.exists()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and dead.name in warnings[0] and "no longer runs" in warnings[0]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_the_sweep_driver_ends_its_workers(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(  # two solves that take minutes; the driver dies long before they end
        '[[solve]]\npmf = "random:n=10,support=400,seed={seed}"\nseed = [1, 2]\nwidth = 8\nk = 3\nsolver = "cpsat"\n'
    )
    cmd = [sys.executable, "-m", "rdp.cli", "sweep", str(cfg), "--out", str(tmp_path / "out"), "--workers", "2",
           "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(kids) < 3:  # two pool workers and the resource tracker
            assert proc.poll() is None and time.monotonic() < deadline, "the sweep did not start its workers"
            time.sleep(0.1)
            kids = _children(proc.pid)
        time.sleep(0.5)  # let the workers run their initializer
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 15
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [k for k in kids if _alive(k)] == [], "workers outlived the SIGKILLed driver"
    finally:
        for k in kids:
            if _alive(k):
                os.kill(k, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_fifo_output_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "s.json"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["solve", "cooccur3", "--width", "2", "--k", "1", "--json", str(fifo), "-q"]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # never replaced by a regular file
    assert json.loads(got[0])["problem"]["width"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]  # no temporary file left


def test_sigterm_stops_a_scip_solve_running_in_c(tmp_path: Path) -> None:
    """SCIP's search never returns to the interpreter; SIGTERM must still stop it (exit 130, nothing written),
    not wait for the solver's own time limit."""
    out = tmp_path / "sol.json"
    argv = [sys.executable, "-m", "rdp", "solve", "cooccur3", "--width", "2", "--k", "1", "--class", "real-codes",
            "--decoder-bias", "--json", str(out)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        note = proc.stderr.readline()  # printed once the CLI's handlers are in place, just before the solve
        assert "SCIP" in note, note
        time.sleep(3)  # the short start search; SCIP is then searching (its default limit here is 60 s)
        err = _terminate_running(proc)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert not out.exists()


def _children_of(pid: int) -> list[int]:
    """Process ids of the direct children of ``pid`` (Linux /proc; empty elsewhere)."""
    out = []
    for proc_stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = proc_stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(proc_stat.parent.name))
    return out


def _terminate_running(proc: subprocess.Popen[str]) -> str:
    """SIGTERM a solve that is still running; returns its stderr once it has stopped (within 30 s, else fails)."""
    assert proc.poll() is None, "the solve finished before the signal: the instance is too easy for this test"
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("SIGTERM did not stop the solve within 30 s") from None
    return err


@pytest.mark.parametrize(
    "args",
    [
        # the compiled k = 1 search (one long numba call that reads the clock through the interpreter); a rate
        # budget keeps the LP proof out (it would settle this pmf in a second) and never binds at k = 1 (R ≤ 1)
        ["random:n=6,support=32,seed=2", "--width", "4", "--k", "1", "--class", "real-codes", "--max-rate", "1"],
        # HiGHS and CP-SAT on an instance neither proves within a minute
        ["pairs12", "--width", "6", "--k", "2", "--solver", "highs"],
        ["pairs12", "--width", "6", "--k", "2", "--solver", "cpsat"],
        # the branch-and-bound with two worker processes (they must stop with it: checked below)
        ["random:n=10,support=64,seed=1", "--width", "5", "--k", "2", "--solver", "bnb", "--threads", "2"],
    ],
    ids=["kone", "highs", "cpsat", "bnb-parallel"],
)
def test_sigterm_stops_long_solves(tmp_path: Path, args: list[str]) -> None:
    """SIGTERM in the middle of a long solve (compiled search or solver library): exit 130 within seconds,
    no traceback, nothing written."""
    out = tmp_path / "sol.json"
    argv = [sys.executable, "-m", "rdp", "solve", *args, "--time-limit", "120", "--json", str(out)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        time.sleep(6)  # past start-up and model building: the search is running
        children = _children_of(proc.pid)
        # the workers fork after the root's local search and rank-one LP (≈ 6 s on an idle machine, more
        # while the rest of the suite runs): wait for them, well inside the solve's 120 s
        deadline = time.monotonic() + 60
        while "--threads" in args and not children and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            children = _children_of(proc.pid)
        err = _terminate_running(proc)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    if "--threads" in args:
        assert children, "the parallel search started no worker processes"
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if Path(f"/proc/{c}").exists()], "worker processes outlived the solve"
    assert "Traceback" not in err and "SystemError" not in err, err
    assert not out.exists()


@pytest.mark.parametrize("depth", [1, 2])
def test_interrupt_wrapped_by_a_compiled_kernel_is_an_interrupt(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str], depth: int) -> None:
    """A signal's KeyboardInterrupt raised while a numba kernel returns reaches the CLI wrapped in one or two
    SystemErrors; it exits 130 like any interrupt. Any other SystemError is not swallowed."""
    import rdp_exact.solvers as solvers

    def interrupted(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        try:
            raise KeyboardInterrupt("signal SIGTERM")
        except KeyboardInterrupt as ki:
            exc: BaseException = ki
            for _ in range(depth):
                try:
                    raise SystemError("CPUDispatcher returned a result with an exception set") from exc
                except SystemError as se:
                    exc = se
            raise exc from exc.__cause__

    monkeypatch.setattr(solvers, "solve", interrupted)
    assert main(["solve", "cooccur3", "--width", "2", "--k", "1", "-q"]) == ExitCode.INTERRUPTED
    assert "rdp: interrupted" in capsys.readouterr().err

    def broken(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise SystemError("unrelated")

    monkeypatch.setattr(solvers, "solve", broken)
    with pytest.raises(SystemError, match="unrelated"):
        main(["solve", "cooccur3", "--width", "2", "--k", "1", "-q"])
