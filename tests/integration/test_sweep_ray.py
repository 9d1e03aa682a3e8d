"""``rdp sweep --backend ray`` on a real local Ray runtime (no mock), in-process and from a second driver
that connects with ``--address`` as it would to a cluster."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdp.sweep.store import ResultsStore
from rdp.sweep.sweep import config_from_dict, expand_jobs, run_sweep

ROOT = Path(__file__).resolve().parents[1]

# Ray emits its own deprecation/resource/user warnings while starting and stopping; they are not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[str]:
    """A local Ray runtime with one CPU; yields its GCS address."""
    import ray

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


CONFIG = {
    "solve": [
        {"pmf": "cooccur3", "width": 2, "k": [1, 2], "solver": "cpsat"},
        {"pmf": "pairs12", "width": 8, "k": 3, "solver": "brute"},  # unaffordable for brute force: fails
    ]
}


def test_ray_backend_runs_jobs_as_remote_tasks(ray_runtime: str, tmp_path: Path) -> None:
    jobs = expand_jobs(config_from_dict(CONFIG))
    summary = run_sweep(jobs, tmp_path / "out", backend="ray", progress=False)
    assert (summary.total, summary.done, summary.failed, summary.exit_code) == (3, 2, 1, 1)
    store = ResultsStore(tmp_path / "out", create=False)
    rows = {r.params["k"]: r for r in store.iter_rows() if r.status == "done"}
    assert set(rows) == {1, 2}
    for r in rows.values():
        sol = json.loads((tmp_path / "out" / r.artefacts / "solution.json").read_text())  # type: ignore[operator]
        assert sol["status"] == "optimal" and sol["pmf_sha256"] == r.pmf_sha256
        assert r.metrics["distortion"] == pytest.approx(sol["distortion"])
    assert rows[2].metrics["distortion"] <= rows[1].metrics["distortion"] + 1e-12
    # resume on Ray: done jobs are skipped, only the failed one runs again
    again = run_sweep(jobs, tmp_path / "out", backend="ray", progress=False, resume=True)
    assert (again.skipped, again.done, again.failed) == (2, 0, 1)


def test_cli_connects_to_a_running_cluster_by_address(ray_runtime: str, tmp_path: Path) -> None:
    cfg = tmp_path / "sweep.toml"
    cfg.write_text('[[solve]]\npmf = "cooccur3"\nwidth = 2\nk = 1\nminimize = ["distortion", "rate"]\nsolver = "highs"\n')
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "rdp.cli", "sweep", str(cfg), "--out", str(out), "--backend", "ray",
         "--address", ray_runtime, "--no-progress", "--export", str(out / "results.csv")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    store = ResultsStore(out, create=False)
    assert len(store) == 2 and {r.status for r in store.iter_rows()} == {"done"}
    assert {r.params["minimize"] for r in store.iter_rows()} == {"distortion", "rate"}
    assert (out / "results.csv").read_text().count("\n") == 3
