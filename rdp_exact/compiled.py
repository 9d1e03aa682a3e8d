"""Compile the numba kernels of the exact solvers once, so that the first solve does not pay for it.

``python -m rdp_exact.compiled`` (run by ``make install``) solves tiny instances with the compiled branch and
bound (:mod:`rdp_exact.solvers.bnb_kernel`), the compiled k = 1 class search
(:mod:`rdp_exact.classes.kone_kernel`) and its LP pricer (:mod:`rdp_exact.classes.kone_lp_kernel`); numba
caches the machine code on disk next to the sources, and later processes load it in about a second.
"""

from __future__ import annotations

import sys
import time


def warm() -> float:
    """Compile or load every kernel; returns the seconds it took."""
    from rdp_exact.classes import kone_lp
    from rdp_exact.classes.problem import ClassProblem
    from rdp_exact.classes.solve import solve_class
    from rdp_exact.generators import random_pmf
    from rdp_exact.solvers import bnb_free

    t = time.perf_counter()
    bnb_free.warm_kernels()
    pmf = random_pmf(3, 6, 1)
    for cls, bias in (("real-atoms", False), ("real-atoms", True), ("real-codes", False)):
        solve_class(ClassProblem(pmf, 2, 1, cls, bias), "kone")  # type: ignore[arg-type]
    kone_lp.warm()
    return time.perf_counter() - t


def main() -> int:
    print(f"compiled solver kernels ready ({warm():.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
