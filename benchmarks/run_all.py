"""Run every benchmark module in turn on an idle machine: ``python -m benchmarks.run_all [--quick]``.

Each ``benchmarks/bench_*.py`` writes ``bench-results/<name>.json`` and ``.md``; this driver checks the
load average first (benchmarks on a busy 2-core machine measure contention, not code), runs each module
in a fresh process with explicit thread counts, and concatenates the summaries into
``bench-results/SUMMARY.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"


def wait_until_idle(max_load: float = 0.5, timeout_s: float = 120.0) -> float:
    """Wait (up to ``timeout_s``) for the 1-minute load average to drop below ``max_load``; return it."""
    t0 = time.time()
    load = os.getloadavg()[0]
    while load > max_load and time.time() - t0 < timeout_s:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    ap.add_argument("--only", nargs="*", help="benchmark module names (default: all)")
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    mods = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    if args.only:
        mods = [m for m in mods if m in args.only]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    summaries = []
    for mod in mods:
        load = wait_until_idle()
        print(f"== {mod} (load average {load:.2f})", flush=True)
        cmd = [sys.executable, "-m", f"benchmarks.{mod}"] + (["--quick"] if args.quick else [])
        rc = subprocess.call(cmd, cwd=ROOT, env=env)
        md = RESULTS / f"{mod}.md"
        status = "ok" if rc == 0 else f"exit {rc}"
        summaries.append(f"## {mod} ({status}, load before start {load:.2f})\n\n"
                         + (md.read_text() if md.exists() else "(no summary written)\n"))
    (RESULTS / "SUMMARY.md").write_text("# Benchmark results\n\n" + "\n".join(summaries))
    print(f"wrote {RESULTS / 'SUMMARY.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
