"""The compiled screen of two-atoms-left children (``bnb_free.SCREEN_R``) on and off, in one run.

Run ``python -m benchmarks.bench_screen [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_screen"``); writes ``bench-results/bench_screen.json`` and ``.md``. With the screen on, a child with two atoms
left is first passed to one compiled call (:func:`rdp_exact.solvers.bnb_kernel.screen_child`: its children's
errors, the Lagrangian from the parent's λ with the visit's own steps and stop rule, the order-free bounds of its
children) and visited only when that cannot prune it; off, every such child is visited in Python. Both arms visit
the same nodes (a screened child counts as one) and differ only in the per-node cost (:mod:`benchmarks.toggle`
runs the arms).

Instances (k = 2, serial, so node counts are deterministic): ``random:n=10,support=64,seed=1`` at m = 5 stopped
after a fixed number of nodes (not proven within minutes), ``random`` n = 8 and 9 at m = 4 and the sampled
``blocks`` and ``hier`` families (n = 12, N = 128, m = 6) to the proof. On, then off, per instance; the answers must
agree. Thread counts are pinned to 1; every row records the 1-minute load average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from collections.abc import Callable  # noqa: E402

from benchmarks import toggle  # noqa: E402
from benchmarks.bench_scale import RANDOM10  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402

#: (label, pmf spec, m, worker processes[, bnb options])
INSTANCES: list[toggle.Instance] = [("random10 (20,000 nodes)", RANDOM10, 5, 1, {"node_limit": 20_000}),
                                    ("random n=8", "random:n=8,support=64,seed=1", 4, 1),
                                    ("random n=9", "random:n=9,support=64,seed=1", 4, 1),
                                    ("blocks", "sampled:blocks", 6, 1), ("hier", "sampled:hier", 6, 1)]


def _screen(on: bool) -> Callable[[], None]:
    """Switch: the screen at two atoms left (on) or none (off); returns the undo."""
    saved = bnb_free.SCREEN_R
    bnb_free.SCREEN_R = 2 if on else 0

    def undo() -> None:
        bnb_free.SCREEN_R = saved

    return undo


def main(argv: list[str] | None = None) -> int:
    return toggle.main(argv, description=__doc__.split("\n\n")[0], switch=_screen, name="bench_screen",
                       title="Compiled screen of the children with two atoms left", setting="k = 2, serial",
                       instances=INSTANCES, quick=1, quick_help="random10 (20,000 nodes) only")


if __name__ == "__main__":
    raise SystemExit(main())
