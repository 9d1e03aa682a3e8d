"""The allowed-atom filter under the exact pair credits (``bnb_free.EXACT_PAIR_FILTER``) on and off, in one run.

Run ``python -m benchmarks.bench_exact_pair_filter [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_exact_pair_filter"``); writes ``bench-results/bench_exact_pair_filter.json`` and ``.md``. Where a node computed
the exact pair credits (:meth:`bnb_free._Search._exact_pair_windows`), atom b stays in child a's allowed list only if
base − w(a) − v_a(b) − (the r − 2 largest other v_a) can beat the incumbent
(:func:`rdp_exact.solvers.bnb_kernel.exact_pair_filter`). A dropped atom is in no completion within the tie
tolerance, so both arms visit the same nodes; the children's per-atom passes run over fewer atoms
(:mod:`benchmarks.toggle` runs the arms).

Instances (k = 2, serial): ``random:n=10,support=64,seed=1`` at m = 5 stopped after a fixed number of nodes (not
proven within minutes), ``random`` n = 8 and 9 at m = 4 to the proof, and the sampled ``hier`` family (n = 12,
N = 128, m = 6; the exact pair credits' gate keeps it out, so the row checks the filter costs nothing there). On,
then off, per instance; the answers must agree. Thread counts are pinned to 1; every row records the 1-minute load
average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from benchmarks import toggle  # noqa: E402
from benchmarks.bench_scale import RANDOM10  # noqa: E402

#: (label, pmf spec, m, worker processes[, bnb options])
INSTANCES: list[toggle.Instance] = [("random10 (20,000 nodes)", RANDOM10, 5, 1, {"node_limit": 20_000}),
                                    ("random n=8", "random:n=8,support=64,seed=1", 4, 1),
                                    ("random n=9", "random:n=9,support=64,seed=1", 4, 1),
                                    ("hier", "sampled:hier", 6, 1)]


def main(argv: list[str] | None = None) -> int:
    return toggle.main(argv, description=__doc__.split("\n\n")[0], switch="EXACT_PAIR_FILTER",
                       name="bench_exact_pair_filter", title="Allowed-atom filter under the exact pair credits",
                       setting="k = 2, serial", instances=INSTANCES, quick=1, quick_help="random10 (20,000 nodes) only")


if __name__ == "__main__":
    raise SystemExit(main())
