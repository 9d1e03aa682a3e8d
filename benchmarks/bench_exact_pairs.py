"""Exact pair credits in the branch and bound's child bounds (``bnb_free.EXACT_PAIRS``) on and off, in one run.

Run ``python -m benchmarks.bench_exact_pairs [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_exact_pairs"``); writes ``bench-results/bench_exact_pairs.json`` and ``.md``. At nodes with r ≥ 3 atoms
left (k = 2) where the other bounds leave at least ``EXACT_PAIRS_MIN_OPEN`` children open, every child a is also
bounded by base − w(a) − the r − 1 largest w(b) + g(a, b) + ½ (the r − 2 largest g(b, ·)), with g the exact credit
of the pattern a + b (:meth:`bnb_free._Search._exact_pair_windows`). Instances (k = 2, serial, solved to the
proof): ``random`` pmfs (n = 8, 9, 10, N = 64, m = 4: no symmetry, many children open at depth 1) and the sampled
``blocks`` family (n = 12, N = 128, m = 6: the gate keeps it out; the row checks it costs nothing there), on
then off; the answers must agree. Thread counts are pinned to 1; every row records the 1-minute load average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from benchmarks import toggle  # noqa: E402

#: (name, pmf spec, m, worker processes)
INSTANCES = [("random n=8", "random:n=8,support=64,seed=1", 4, 1),
             ("random n=9", "random:n=9,support=64,seed=1", 4, 1),
             ("random n=10", "random:n=10,support=64,seed=1", 4, 1), ("blocks", "sampled:blocks", 6, 1)]


def main(argv: list[str] | None = None) -> int:
    return toggle.main(argv, description=__doc__.split("\n\n")[0], switch="EXACT_PAIRS", name="bench_exact_pairs",
                       title="Exact pair credits in the child bounds of the free-class branch and bound", setting="k = 2, serial",
                       instances=INSTANCES, quick=2, quick_help="random n = 8 and 9 only, short limit")


if __name__ == "__main__":
    raise SystemExit(main())
