"""`rdp solve --class …` caps SCIP-only queries when no --time-limit is given (rdp/cli/solve_classes.py)."""

from __future__ import annotations

import pytest

from rdp.cli.solve_classes import DEFAULT_SCIP_LIMIT, default_limit
from rdp_exact.classes import ClassProblem
from rdp_exact.generators import load_pmf


@pytest.mark.parametrize(("sae_class", "bias", "k", "capped"), [
    ("real-codes", True, 1, True),     # SCIP only
    ("real-codes", False, 2, True),    # SCIP only
    ("real-codes", False, 1, False),   # k = 1 line clustering B&B
    ("real-atoms", True, 2, False),    # pattern B&B
])
def test_default_limit_only_for_scip(sae_class: str, bias: bool, k: int, capped: bool,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    problem = ClassProblem(load_pmf("cooccur3"), 2, k, sae_class, bias)  # type: ignore[arg-type]
    got = default_limit(problem, None)
    assert got == (DEFAULT_SCIP_LIMIT if capped else None)
    assert ("--time-limit" in capsys.readouterr().err) is capped
    assert default_limit(problem, 5.0) == 5.0  # an explicit limit always wins
