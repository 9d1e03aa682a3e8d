"""The strategies reach the edge cases the claims need ("does the search find this?" tier, as in
Hypothesis' tests/quality/test_discovery_ability.py), and never leave the brute-force size limits."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from proofs_check import strategies as S

#: Budget of each discovery search: the edge case must turn up within this many examples.
DISCOVERY_BUDGET = 300


def discovered(strategy: st.SearchStrategy, predicate) -> object:
    """``find`` with a fixed budget and seed, no shrinking; fails the test (NoSuchExample) when not found."""
    return find(
        strategy,
        predicate,
        settings=settings(max_examples=DISCOVERY_BUDGET, database=None, derandomize=True, deadline=None, phases=(Phase.generate,),
                          suppress_health_check=list(HealthCheck)),
    )


def ties(pmf) -> bool:
    ps = sorted(float(p) for p in pmf.probs)
    return any(abs(a - b) < 1e-15 for a, b in zip(ps, ps[1:], strict=False))


INSTANCE_CASES = {
    "k = 1 < m": lambda i: i.k == 1 and i.width > 1,
    "k = m ≥ 2": lambda i: i.k == i.width >= 2,
    "m ≥ 2^n − 1, n ≥ 2": lambda i: i.pmf.n >= 2 and S.is_overcomplete(i),
    "n = 1": lambda i: i.pmf.n == 1,
    "n = 5 (largest)": lambda i: i.pmf.n == S.MAX_N_FREE,
    "single event": S.is_single_event,
    "single nonempty event, n ≥ 2": lambda i: i.pmf.n >= 2 and i.pmf.support_size == 1 and i.pmf.events[0] != 0,
    "the empty event in the support": lambda i: 0 in i.pmf.events,
    "full support 2^n, n ≥ 2": lambda i: i.pmf.n >= 2 and i.pmf.support_size == 1 << i.pmf.n,
    "tied masses, N ≥ 3": lambda i: i.pmf.support_size >= 3 and ties(i.pmf),
    "near-degenerate masses": lambda i: S.is_near_degenerate(i.pmf),
    "threshold n = 3, m = 2": lambda i: i.encoder == "threshold" and i.pmf.n == 3 and i.width == 2,
    "threshold binary weights, decoder P": lambda i: i.encoder == "threshold" and i.encoder_weights == "binary" and i.poly == "decoder",
    "disjoint mode, m = 3": lambda i: i.coefficients == "disjoint" and i.width == 3,
}


@pytest.mark.parametrize("name", list(INSTANCE_CASES))
def test_instances_reach(name: str) -> None:
    discovered(S.instances(), INSTANCE_CASES[name])


QUERY_CASES = {
    "P budget 0": lambda q: q.max_poly == 0.0,
    "rate budget 0": lambda q: q.max_rate == 0.0,
    "no budget at all": lambda q: q.max_rate is None and q.max_distortion is None and q.max_poly is None,
    "P* query with both budgets": lambda q: q.minimize == "poly" and q.max_rate is not None and q.max_distortion is not None,
    "distortion budget on an attainable mass > 0": lambda q: q.max_distortion is not None and q.max_distortion > 0
    and q.max_distortion in S.attainable_masses(q.pmf),
    "distortion budget just below an attainable mass": lambda q: q.max_distortion is not None and any(
        0 < v - q.max_distortion < 1e-6 for v in S.attainable_masses(q.pmf)),
    "P budget at a binary-row level 1 − 1/√2": lambda q: q.max_poly is not None and math.isclose(q.max_poly, 1 - 2 ** -0.5),
}


@pytest.mark.parametrize("name", list(QUERY_CASES))
def test_queries_reach(name: str) -> None:
    discovered(S.queries(), QUERY_CASES[name])


@settings(max_examples=100)
@given(S.instances())
def test_instances_respect_size_limits(inst: S.Instance) -> None:
    max_n, max_m = S.sizes_for(inst.encoder)
    assert 1 <= inst.pmf.n <= max_n
    assert 1 <= inst.k <= inst.width <= max_m
    assert math.isclose(float(inst.pmf.probs.sum()), 1.0, abs_tol=1e-9)
    assert (inst.pmf.probs > 0).all()
    inst.problem()  # validates


@settings(max_examples=100)
@given(S.queries())
def test_queries_are_valid_problems(q: S.Instance) -> None:
    p = q.problem()
    assert getattr(p, {"rate": "max_rate", "distortion": "max_distortion", "poly": "max_poly"}[q.minimize]) is None
    for v in (p.max_rate, p.max_distortion):
        assert v is None or v >= 0
    assert "rdp solve" in q.solve_command("x.json")


def test_threshold_never_exceeds_tiny_limits() -> None:
    """No threshold instance with n > 3 or m > 2 exists in the strategy (the search must fail)."""
    from hypothesis.errors import NoSuchExample

    with pytest.raises(NoSuchExample):
        discovered(S.instances(), lambda i: i.encoder == "threshold" and (i.pmf.n > 3 or i.width > 2))
