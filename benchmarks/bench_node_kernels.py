"""The branch and bound's per-child bound arithmetic compiled against the NumPy code it replaced, in one run.

Run ``python -m benchmarks.bench_node_kernels [--quick] [--limit S]`` (or ``make bench BENCH_ARGS="--only
bench_node_kernels"``); writes ``bench-results/bench_node_kernels.json`` and ``.md``. Three steps of every search
node run as machine code (:mod:`rdp_exact.solvers.bnb_kernel`): the order-free child bound base − w_i − (the
r − 1 largest other w) (:func:`~rdp_exact.solvers.bnb_kernel.global_child_bound`), the children's windows over
the bound families (:func:`~rdp_exact.solvers.bnb_kernel.combined_windows`) and the pair filter
(:func:`~rdp_exact.solvers.bnb_kernel.pair_filter`). The "NumPy" arm puts back the array-at-a-time versions
below (the code before the change), so both arms visit the same nodes and differ only in the per-node cost
(:mod:`benchmarks.toggle` runs the two arms).

Instances (k = 2, serial, so node counts are deterministic): ``random:n=10,support=64,seed=1`` at m = 5 stopped
after a fixed number of nodes (it is not proven within minutes; at n = 10 the per-node overhead is the largest
share), and the sampled ``blocks`` and ``hier`` families (n = 12, N = 128, m = 6) to the proof. Compiled, then
NumPy, per instance; the answers must agree. Thread counts are pinned to 1; every row records the 1-minute
load average.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import math  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import toggle  # noqa: E402
from benchmarks.bench_scale import RANDOM10  # noqa: E402
from rdp_exact.solvers import bnb_free  # noqa: E402

#: (label, pmf spec, m, worker processes[, bnb options])
INSTANCES: list[toggle.Instance] = [("random10 (20,000 nodes)", RANDOM10, 5, 1, {"node_limit": 20_000}),
                                    ("blocks", "sampled:blocks", 6, 1), ("hier", "sampled:hier", 6, 1)]


def _numpy_global_child_bound(base: float, w: np.ndarray, r: int) -> np.ndarray:
    if r <= 1 or w.size <= 1:
        return base - w
    q = min(r, w.size)
    top = np.sort(-np.partition(-w, q - 1)[:q])[::-1]
    s1 = float(top[: r - 1].sum())
    nxt = float(top[r - 1]) if top.size >= r else 0.0
    in_top = w >= top[min(r - 1, top.size) - 1]
    return base - w - np.where(in_top, s1 - w + nxt, s1)


def _numpy_pair_filter(self: Any, families: list[tuple[float, np.ndarray]], i: int, rest: np.ndarray, r: int,
                       stacked: Any = None) -> np.ndarray:
    lim = self.best + bnb_free.TOL + bnb_free.FLOAT_SLACK
    keep = np.ones(rest.size, dtype=bool)
    for base_f, w_f in families:
        keep &= _numpy_global_child_bound(base_f - float(w_f[i]), w_f[rest], r - 1) <= lim
    return rest[keep]


def _numpy_combined_windows(self: Any, families: list[tuple[float, np.ndarray]], r: int, lim: float
                            ) -> tuple[np.ndarray, np.ndarray]:
    from rdp_exact.solvers import bnb_kernel as bk

    best: tuple[int, np.ndarray, np.ndarray] | None = None
    for _base, w in families:
        order = np.argsort(-w, kind="stable")
        lb = np.full(order.size, -math.inf)
        for base_f, w_f in families:
            wo = np.ascontiguousarray(w_f[order], dtype=np.float64)
            lb = np.maximum(lb, base_f - wo - bk.suffix_top_sums(wo, r - 1))
        n_open = int(np.count_nonzero(lb <= lim))
        if best is None or n_open < best[0]:
            best = (n_open, order, lb)
    assert best is not None
    return best[1], best[2]


def _compiled(on: bool) -> Callable[[], None]:
    """Switch: the compiled steps (on) or the NumPy versions above (off); returns the undo."""
    S = bnb_free._Search
    saved = (S.__dict__["_global_child_bound"], S._pair_filter, S._combined_windows)
    if not on:
        S._global_child_bound = staticmethod(_numpy_global_child_bound)  # type: ignore[assignment]
        S._pair_filter = _numpy_pair_filter  # type: ignore[method-assign]
        S._combined_windows = _numpy_combined_windows  # type: ignore[method-assign]

    def undo() -> None:
        S._global_child_bound, S._pair_filter, S._combined_windows = saved  # type: ignore[method-assign]

    return undo


def main(argv: list[str] | None = None) -> int:
    return toggle.main(argv, description=__doc__.split("\n\n")[0], switch=_compiled, name="bench_node_kernels",
                       title="Compiled per-child bound arithmetic of the branch and bound", setting="k = 2, serial",
                       instances=INSTANCES, quick=1, quick_help="random10 (20,000 nodes) only",
                       labels=("compiled", "NumPy"))


if __name__ == "__main__":
    raise SystemExit(main())
