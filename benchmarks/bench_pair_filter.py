"""The branch and bound's pair filter (``bnb_free.PAIR_FILTER``) on and off, in the same run.

Run ``python -m benchmarks.bench_pair_filter [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_pair_filter"``); writes ``bench-results/bench_pair_filter.json`` and ``.md``. Before a child F ∪ {a} is
searched, its allowed atoms are filtered by the parent's bound families with a in the set (atom b stays only if
base − w_a − w_b − the r − 2 largest other w can beat the incumbent; :meth:`bnb_free._Search._pair_filter`).
Each instance (n = 12, N = 128, k = 2: ``pairs12`` and the sampled ``hier``, ``chain``, ``blocks`` families of
:mod:`benchmarks.structured` at m = 6, ``hier`` at m = 8) is solved serially (one process: the node counts are
deterministic), and ``blocks`` once more with two worker processes (as ``rdp solve`` runs it on two cores), with
the filter on, then off, one after the other; the answers must agree. Thread counts are
pinned to 1; every row records the 1-minute load average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from benchmarks import toggle  # noqa: E402

#: (name, pmf spec, m, worker processes)
INSTANCES = [("pairs12", "pairs12", 6, 1), ("hier", "sampled:hier", 6, 1), ("chain", "sampled:chain", 6, 1),
             ("blocks", "sampled:blocks", 6, 1), ("hier", "sampled:hier", 8, 1), ("blocks", "sampled:blocks", 6, 2)]


def main(argv: list[str] | None = None) -> int:
    return toggle.main(argv, description=__doc__.split("\n\n")[0], switch="PAIR_FILTER", name="bench_pair_filter",
                       title="Pair filter of the free-class branch and bound", setting="n = 12, N = 128, k = 2",
                       instances=INSTANCES, quick=2, quick_help="pairs12 and hier only, short limit")


if __name__ == "__main__":
    raise SystemExit(main())
