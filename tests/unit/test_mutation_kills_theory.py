"""Tests that kill mutants of ``rdp_exact/theory.py`` left by ``make mutation`` (issue 14).

Expected values are worked out by hand from DESIGN §2 (C-T5, C-T4, C-DT, C-E1) or by enumerating
omission codes directly, never read off the code under test. Several tests sit exactly on a tolerance
boundary: a gap of exactly DEDUPE_TOL = 1e−12 between two distortions counts as a tie (≤, as
everywhere in the module), and a sum of exactly budget + TOL (TOL = 1e−9) is within the budget. Those
tests first assert the floating-point coincidence they rely on."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rdp_exact import theory
from rdp_exact.errors import InvalidArgument, SolverUnavailable
from rdp_exact.pmf import ConceptPMF
from rdp_exact.problem import TOL
from rdp_exact.theory import (
    DEDUPE_TOL,
    _dedupe_desc,
    _family_best,
    _max_sum_at_most,
    _min_sum_at_least,
    _top_sums,
)


def _pmf(n: int, events: list[tuple[int, float]]) -> ConceptPMF:
    return ConceptPMF.from_events(n, events)


def _omission_distortions_brute(pmf: ConceptPMF, m: int, k: int | None) -> list[float]:
    """𝒟_mono by enumeration (C-T5): every A with |A| = min(m, n) and every r_S ∈ {0..min(|S∩A|, k)},
    D = E|S| − Σ π(S) r_S, distinct values (1e−12) ascending."""
    es = sum(p * bin(ev).count("1") for ev, p in pmf.items())
    vals: set[float] = set()
    for A in itertools.combinations(range(pmf.n), min(m, pmf.n)):
        mask = sum(1 << i for i in A)
        caps = [bin(ev & mask).count("1") if k is None else min(bin(ev & mask).count("1"), k) for ev, _ in pmf.items()]
        for rs in itertools.product(*[range(c + 1) for c in caps]):
            vals.add(round(es - sum(r * p for r, (_, p) in zip(rs, pmf.items(), strict=True)), 12))
    return sorted(max(0.0, v) for v in vals)


# ------------------------------------------------------------------ argument checks and limits
def test_atom_set_limit_is_inclusive_and_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    """C(4, 2) = 6 concept sets: allowed at a limit of exactly 6, refused at 5 with a message that
    names the count and the limit."""
    pmf = _pmf(4, [(0b1111, 1.0)])
    monkeypatch.setattr(theory, "MAX_ATOM_SETS", 6)
    assert theory.d_min(pmf, 2, 2) == pytest.approx(2.0)  # E|S| = 4, two concepts retained
    monkeypatch.setattr(theory, "MAX_ATOM_SETS", 5)
    with pytest.raises(InvalidArgument, match=r"C\(4, 2\) = 6 concept sets is too many to enumerate \(at most 5\)"):
        theory.d_min(pmf, 2, 2)


def test_dp_state_limits_are_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    """One event of mass ½ with cap 3 (|S ∩ A| = 3) gives exactly 4 partial sums {0, ½, 1, 3/2}: a
    limit of 4 states is enough for every DP, a limit of 3 is not (and says so). For the least sum
    ≥ 3 over three such events, all 4 sums after the first event can still reach 3 (the two later
    events add up to 3), so 4 states are kept there and the least sum is exactly 3."""
    probs, u = np.array([0.5]), np.array([3])
    monkeypatch.setattr(theory, "MAX_DP_STATES", 4)
    sums, truncated = _top_sums(probs, u, None)
    assert sums.tolist() == [1.5, 1.0, 0.5, 0.0] and not truncated
    assert _max_sum_at_most(probs, u, 10.0) == 1.5
    three, caps = np.array([0.5, 0.5, 0.5]), np.array([3, 3, 3])
    assert _min_sum_at_least(three, caps, 3.0) == 3.0
    monkeypatch.setattr(theory, "MAX_DP_STATES", 3)
    with pytest.raises(InvalidArgument, match="more than 3 distinct omission distortions: give max_steps"):
        _top_sums(probs, u, None)
    with pytest.raises(SolverUnavailable, match="more than 3 partial sums"):
        _max_sum_at_most(probs, u, 10.0)
    with pytest.raises(SolverUnavailable, match="more than 3 partial sums"):
        _min_sum_at_least(three, caps, 3.0)


def test_example1_messages() -> None:
    pmf = _pmf(3, [(0b011, 1.0)])
    with pytest.raises(InvalidArgument, match="unknown Example 1 family 'mixed' "
                                              r"\(choose from monosemantic, hedged, splitting\)"):
        theory.example1_inequality(pmf, 1, "mixed", "hedged")
    with pytest.raises(InvalidArgument, match="coefficients must be integer or disjoint, got 'real'"):
        theory.example1_coefficients(theory.example1_codes()[0], 1, "real")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="coefficients must be integer or disjoint"):
        theory.example1_closed_forms(pmf, 1, "real")  # type: ignore[arg-type]


def test_min_mono_distortion_accepts_a_zero_budget() -> None:
    """r = 0: nothing can be retained, D*_mono(0) = E|S| (a valid budget, not an error)."""
    pmf = _pmf(2, [(0b01, 0.5), (0b11, 0.5)])
    assert theory.min_mono_distortion(pmf, 2, 0.0, k=1) == pytest.approx(1.5)


# ------------------------------------------------------------------ D_min and its maximisers
def test_d_min_by_hand() -> None:
    """π = {{0}: 0.5, {0,1}: 0.3, {1,2}: 0.2}, E|S| = 1.5. m = 1: the best single concept is 0 (0.8)
    or 1 (0.5), so D_min = 0.7; m = 2, k = 1: A = {0,1} covers every event once, D_min = 0.5;
    m = 2, k = 2: A = {0,1} retains 0.5 + 0.6 + 0.2 = 1.3, D_min = 0.2."""
    pmf = _pmf(3, [(0b001, 0.5), (0b011, 0.3), (0b110, 0.2)])
    assert theory.d_min(pmf, 1, 1) == pytest.approx(0.7)
    assert theory.d_min(pmf, 2, 1) == pytest.approx(0.5)
    assert theory.d_min(pmf, 2, 2) == pytest.approx(0.2)
    assert theory.best_mono_sets(pmf, 1, 1) == [0b001]
    assert theory.best_mono_sets(pmf, 2, 2) == [0b011]
    # m = 2, k = 1: {0,1} and {0,2} both retain 1.0 (every event meets them) → D_min = 0.5, two maximisers
    assert theory.best_mono_sets(pmf, 2, 1) == [0b011, 0b101]


def test_best_sets_gap_of_exactly_the_tolerance_is_a_tie() -> None:
    """π({0}) = ¼, π({1}) = ¼ − 1e−12: the two singletons retain masses exactly DEDUPE_TOL apart in
    floating point, which counts as a tie, so both are maximisers."""
    x = 0.25
    y = x - DEDUPE_TOL
    pmf = _pmf(2, [(0b00, 1 - x - y), (0b01, x), (0b10, y)])
    assert float(pmf.probs @ np.array([0, 0, 1])) == x - DEDUPE_TOL  # the coincidence the test relies on
    assert theory.best_mono_sets(pmf, 1, 1) == [0b01, 0b10]


# ------------------------------------------------------------------ the DPs' helpers
def test_dedupe_desc() -> None:
    """Equal neighbours merge; neighbours exactly DEDUPE_TOL apart merge too (≤ tolerance is a tie)."""
    assert _dedupe_desc(np.array([1.0, 1.0])).tolist() == [1.0]
    assert _dedupe_desc(np.array([DEDUPE_TOL, 0.0])).tolist() == [DEDUPE_TOL]
    assert _dedupe_desc(np.array([2.0, 1.0])).tolist() == [2.0, 1.0]


def test_top_sums_floor_is_inclusive_within_tolerance() -> None:
    """One event of mass ½: the sums are {0, ½}; with floor = ½ + 1e−12 (so floor − tolerance is exactly ½)
    the value ½ is kept, 0 is dropped; with floor ½ likewise."""
    floor = 0.5 + DEDUPE_TOL
    assert floor - DEDUPE_TOL == 0.5
    for f in (floor, 0.5):
        sums, truncated = _top_sums(np.array([0.5]), np.array([1]), None, f)
        assert sums.tolist() == [0.5] and truncated


def test_top_sums_drops_values_below_the_floor_at_the_last_event() -> None:
    """Masses ½ and 0.3 (cap 1): sums {0, 0.3, 0.5, 0.8}; with floor 0.7 only 0.8 remains."""
    sums, truncated = _top_sums(np.array([0.5, 0.3]), np.array([1, 1]), None, 0.7)
    assert sums.tolist() == [0.8] and truncated


def test_top_sums_without_any_usable_event() -> None:
    """Every event has cap 0: the only sum is 0, once."""
    sums, truncated = _top_sums(np.array([0.5, 0.5]), np.array([0, 0]), None)
    assert sums.tolist() == [0.0] and not truncated


def test_max_sum_at_most_by_hand() -> None:
    """Retained masses Σ π r_S with r_S ≤ u_S, at most the budget (+ TOL)."""
    # a cap-0 event before a usable one must not stop the DP
    assert _max_sum_at_most(np.array([0.5, 0.5]), np.array([0, 1]), 1.0) == 0.5
    # r_S ≤ u_S: one event of mass ½ and cap 1 retains at most ½ even with budget 2
    assert _max_sum_at_most(np.array([0.5]), np.array([1]), 2.0) == 0.5
    # masses ¼, ¼, ½ (caps 1, 1, 2): every multiple of ¼ up to 1.5 is attainable
    probs, u = np.array([0.25, 0.25, 0.5]), np.array([1, 1, 2])
    for q in range(7):
        assert _max_sum_at_most(probs, u, q / 4) == pytest.approx(q / 4)
        assert _max_sum_at_most(probs, u, q / 4 + 0.1) == pytest.approx(q / 4)


def test_max_sum_at_most_budget_tolerance_is_inclusive() -> None:
    """A retained mass of exactly budget + TOL is within the budget."""
    budget = 0.5 - TOL
    assert budget + TOL == 0.5
    assert _max_sum_at_most(np.array([0.5]), np.array([1]), budget) == 0.5


# ------------------------------------------------------------------ 𝒟_mono, the staircase, R*(δ, 0)
_PMFS = [
    _pmf(3, [(0b001, 0.4), (0b011, 0.35), (0b110, 0.25)]),
    _pmf(3, [(0b000, 0.1), (0b111, 0.3), (0b010, 0.2), (0b101, 0.4)]),
    _pmf(2, [(0b01, 0.5), (0b10, 0.3), (0b11, 0.2)]),
]


@pytest.mark.parametrize("pmf", _PMFS)
@pytest.mark.parametrize(("m", "k"), [(1, 1), (2, 1), (2, 2)])
def test_omission_distortions_equal_enumeration(pmf: ConceptPMF, m: int, k: int) -> None:
    """C-T5's 𝒟_mono equals the enumeration of omission codes, capped and uncapped, and with
    max_steps it is the smallest max_steps of them (truncated exactly when some were cut)."""
    want = _omission_distortions_brute(pmf, m, k)
    got = theory.omission_distortions(pmf, m, k)
    assert list(got.distortions) == pytest.approx(want, abs=1e-12) and not got.truncated
    assert list(theory.omission_distortions(pmf, m, k, cap=False).distortions) == pytest.approx(
        _omission_distortions_brute(pmf, m, None), abs=1e-12)
    for steps in (1, 2, 3, len(want), len(want) + 1):
        cut = theory.omission_distortions(pmf, m, k, max_steps=steps)
        assert list(cut.distortions) == pytest.approx(want[:steps], abs=1e-12)
        assert cut.truncated == (steps < len(want))
    stairs = theory.monosemantic_staircase(pmf, m, k, max_steps=2)
    assert [d for d, _ in stairs.points] == pytest.approx(want[:2], abs=1e-12)
    assert stairs.truncated == (len(want) > 2)


def test_omission_distortions_truncation_flag_survives_a_later_atom_set() -> None:
    """n = 3, m = 2: the first (most promising) atom set is cut at max_steps = 2, a later one is not;
    the result is still marked truncated."""
    pmf = _PMFS[0]
    want = _omission_distortions_brute(pmf, 2, 2)
    cut = theory.omission_distortions(pmf, 2, 2, max_steps=2)
    assert list(cut.distortions) == pytest.approx(want[:2], abs=1e-12) and cut.truncated


def test_deadline_already_passed_keeps_the_first_atom_set_only() -> None:
    """With a deadline in the past only the first atom set (the most promising) is used, and the
    result is marked truncated; its values are omission distortions of that set."""
    pmf = _PMFS[0]
    got = theory.omission_distortions(pmf, 2, 2, deadline=0.0)
    assert got.truncated
    assert set(np.round(got.distortions, 12)) <= set(np.round(_omission_distortions_brute(pmf, 2, 2), 12))
    assert got.d_min == pytest.approx(theory.d_min(pmf, 2, 2))
    full = theory.omission_distortions(pmf, 2, 2, deadline=math.inf)
    assert not full.truncated
    stairs = theory.monosemantic_staircase(pmf, 2, 2, deadline=0.0)
    assert stairs.truncated


def test_staircase_default_keeps_ten_thousand_corners() -> None:
    """The default max_steps is 10,000: 14 events with distinct generic masses and cap 1 give
    2^14 = 16,384 omission distortions, of which exactly 10,000 are kept."""
    masses = np.array([2.0 ** -(i + 1) + 1e-4 * math.sqrt(i + 2) for i in range(14)])
    masses /= masses.sum()
    pmf = _pmf(14, [(1 << i, float(p)) for i, p in enumerate(masses)])
    stairs = theory.monosemantic_staircase(pmf, 14, 1)
    assert len(stairs.points) == 10_000 and stairs.truncated


@pytest.mark.parametrize("pmf", _PMFS)
def test_max_omission_distortion_equals_enumeration(pmf: ConceptPMF) -> None:
    """max{D ∈ 𝒟_mono : D ≤ δ} (capped and uncapped) at every corner, just below and just above it."""
    for m, k in ((1, 1), (2, 1), (2, 2)):
        for cap in (k, None):
            ds = _omission_distortions_brute(pmf, m, cap)
            for d in ds:
                for delta in (d, d + 0.5 * TOL, d - 1e-6, d + 1e-6):
                    below = [x for x in ds if x <= delta + TOL]
                    want = max(below) if below else None
                    got = theory.max_omission_distortion(pmf, m, delta, k=cap)
                    assert (got is None) == (want is None) and (want is None or got == pytest.approx(want, abs=1e-9))


def test_max_omission_distortion_beyond_the_lookup_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a head of only 2 distortions (LOOKUP_STEPS = 2), budgets past the head go to the exact
    search; the answers stay those of the enumeration, for the capped and the uncapped set."""
    monkeypatch.setattr(theory, "LOOKUP_STEPS", 2)
    pmf = _PMFS[1]
    for k in (1, None):
        ds = _omission_distortions_brute(pmf, 2, k)
        for delta in [*ds, *(d + 1e-6 for d in ds), ds[1] - 0.5 * TOL, ds[1] + 0.5 * TOL, ds[1] - 2 * TOL]:
            below = [x for x in ds if x <= delta + TOL]
            got = theory.max_omission_distortion(pmf, 2, delta, k=k)
            assert got == pytest.approx(max(below), abs=1e-9)


def test_r_star_mono_and_rate_tax_by_hand() -> None:
    """π = {{0,1}: 1}, m = 2, k = 1: D_min = 1 (one concept per event), 𝒟_mono = {1, 2}, so
    R*(1, 0) = 1, R*(0.5, 0) = ∞. A D*_k within 1e−12 of D_min (inclusive) counts as D_min: no tax.
    Uncapped, 𝒟_mono = {0, 1, 2}: at D*_k = ½, D̄ = 0 and the bound is 2."""
    pmf = _pmf(2, [(0b11, 1.0)])
    assert theory.r_star_mono(pmf, 2, 1, 1.0) == pytest.approx(1.0)
    assert math.isinf(theory.r_star_mono(pmf, 2, 1, 0.5))
    assert theory.rate_tax(pmf, 2, 1, 1.0, 0.0) is None
    assert theory.rate_tax(pmf, 2, 1, 1.0 - DEDUPE_TOL, 0.0) is None
    rt = theory.rate_tax(pmf, 2, 1, 0.5, 0.25)
    assert rt is not None and rt.d_bar == 0.0 and rt.rate_lower_bound == 2.0 and rt.tax == 1.75


def test_distortion_tax_uses_the_cap() -> None:
    """π = {{0,1}: 1}, m = 2, k = 1, r = 2: capped, one concept per event is retained, D*_mono = 1;
    uncapped both are, 0; the tax over D* = 0 is 1."""
    pmf = _pmf(2, [(0b11, 1.0)])
    dt = theory.distortion_tax(pmf, 2, 1, 2.0, 0.0)
    assert dt.d_mono == 1.0 and dt.d_mono_any_cap == 0.0 and dt.tax == 1.0 and dt.lower_bound == 1.0
    assert theory.min_mono_distortion(pmf, 2, 2.0, k=1) == 1.0


def test_conservation_with_an_empty_concept_set() -> None:
    """A = ∅: nothing is reconstructed, R = 0 and D = E|S|."""
    pmf = _pmf(2, [(0b01, 0.5), (0b11, 0.5)])
    assert theory.conservation(pmf, 0, {}) == (0.0, 1.5)


# ------------------------------------------------------------------ Example 1 near ties
def _e1_pmf(events: list[tuple[int, float]]) -> ConceptPMF:
    return _pmf(3, [(0, 1 - sum(p for _, p in events)), *events])


def _pi(pmf: ConceptPMF) -> np.ndarray:
    pi = np.zeros(8)
    for ev, p in pmf.items():
        pi[ev] = p
    return pi


def test_family_best_ties_within_tolerance_go_to_the_lower_rate() -> None:
    """k = 2, events {0}: x, {1}: y, {2}: z with y = z − 1e−12: mono({0},{1}) has (D, R) = (z, x + y),
    mono({0},{2}) has (y, x + z): D within tolerance, higher R, so the first stays the best."""
    x, z = 0.4, 0.25
    y = z - DEDUPE_TOL
    pi = np.zeros(8)
    pi[1], pi[2], pi[4] = x, y, z
    pi[0] = 1 - x - y - z
    assert _family_best(pi, 2, "monosemantic") == (z, x + y)


def test_family_best_near_ties_by_hand() -> None:
    """Example 1 at k = 1 with tiny masses, where distortions within 1e−12 tie and the rate decides.

    π({0}) = ¼, π({1}) = 1e−12: mono({0},{1}) has (D, R) = (0, ¼ + 1e−12), mono({0},{2}) (1e−12, ¼):
    D exactly 1e−12 apart is a tie, so the lower rate wins: (1e−12, ¼).
    π({0}) = π({1}) = 4e−13: hedged({0,1},{2}) has (8e−13, 0), the other two hedged codes
    (4e−13, 4e−13): all D tie, R = 0 wins. Splitting: ({0,2},{2}) and ({1,2},{2}) fire nothing,
    (8e−13, 0); the other four fire one latent on one event, (4e−13, 4e−13): again R = 0 wins.
    π({0}) = ¼, π({0,1}) = 4e−13: splitting({0,1},{0}) has (0, ¼ + 4e−13) and splitting({0,2},{0})
    (4e−13, ¼ + 4e−13): a tie in D and in R, and the reported D is the least of the tied ones, 0."""
    pmf = _e1_pmf([(0b001, 0.25), (0b010, DEDUPE_TOL)])
    assert _family_best(_pi(pmf), 1, "monosemantic") == (DEDUPE_TOL, 0.25)
    pmf = _e1_pmf([(0b001, 4e-13), (0b010, 4e-13)])
    assert _family_best(_pi(pmf), 1, "hedged") == (8e-13, 0.0)
    assert _family_best(_pi(pmf), 1, "splitting") == (8e-13, 0.0)
    pmf = _e1_pmf([(0b001, 0.25), (0b011, 4e-13)])
    assert _family_best(_pi(pmf), 1, "splitting") == (0.0, 0.25 + 4e-13)


def test_example1_ranking_rounds_at_the_tolerance() -> None:
    """π({0}) = π({1}) = 4e−13, k = 1: mono({0},{1}) has (D, R) = (0, 8e−13), mono({0},{2}) and
    mono({1},{2}) (4e−13, 4e−13). The distortions round to the same multiple of 1e−12, so the lower
    rate ranks first: mono({0},{2}) (the first of the two in code order)."""
    pmf = _e1_pmf([(0b001, 4e-13), (0b010, 4e-13)])
    assert [r[0] for r in theory.example1_ranking(pmf, 1)[:2]] == ["mono({0},{2})", "mono({1},{2})"]


def test_example1_tied_families_need_all_three_to_agree() -> None:
    """k = 2, π({0,1}) = π({2}) = ½: hedged({0,1},{2}) has (D, R) = (0, 1); every splitting code has
    D ≥ ½ although its P equals the hedged one's: only hedged ties. π({0}) = 1: mono({0},{1}),
    hedged({1,2},{0}) and splitting({0,1},{0}) all have (D, R) = (0, 1) but different P: only
    monosemantic ties."""
    assert theory.example1_tied_families(_e1_pmf([(0b011, 0.5), (0b100, 0.5)]), 2) == {"hedged"}
    assert theory.example1_tied_families(_pmf(3, [(0b001, 1.0)]), 2) == {"monosemantic"}


def test_example1_near_tie_in_rate_counts_as_a_tie() -> None:
    """k = 1, π({0,1}) = π({2}) = 1e−12: hedged({0,1},{2}) and splitting({0,1},{0}) have equal D and
    rates exactly 1e−12 apart (a tie), with the same P: both families are tied."""
    pmf = _e1_pmf([(0b011, DEDUPE_TOL), (0b100, DEDUPE_TOL)])
    assert theory.example1_tied_families(pmf, 1) == {"hedged", "splitting"}


def test_example1_inequality_gap_of_exactly_the_tolerance_is_a_tie() -> None:
    """k = 2, π({0,1}) = 0.25, π({2}) = 1e−12: the best hedged code has D = 0, the best monosemantic
    D = 1e−12 — a tie within tolerance — so the margin is the rate difference R_mono − R_hedged =
    0.5 − 0.25 = 0.25 (approximately), not 1e−12."""
    pmf = _e1_pmf([(0b011, 0.25), (0b100, DEDUPE_TOL)])
    assert theory.example1_inequality(pmf, 2, "hedged", "monosemantic") == pytest.approx(0.25, abs=1e-9)


def test_example1_near_tie_in_distortion_counts_as_a_tie() -> None:
    """k = 2, π({0}) = 1e−12, π({0,1}) = ¼: splitting({0,1},{0}) has (D, R) = (0, ¼ + 1e−12) and
    hedged({0,1},{2}) (1e−12, ¼); D exactly 1e−12 apart and R within 1e−12, same P: both families tie,
    and the prediction is the first of them in FAMILIES order, hedged."""
    pmf = _e1_pmf([(0b001, DEDUPE_TOL), (0b011, 0.25)])
    assert theory.example1_tied_families(pmf, 2) == {"hedged", "splitting"}
    assert theory.example1_predict(pmf, 2) == "hedged"


def test_example1_structure_other() -> None:
    assert theory.example1_structure([0b111, 0b001]) == "other"
    assert theory.example1_structure([0b011, 0b110]) == "other"
    assert theory.example1_structure([0b001]) == "other"


def _top_for(pmf: ConceptPMF, A: int, k: int) -> list[float]:
    """Omission distortions of one concept set A (cap k), ascending, by enumeration."""
    es = sum(p * bin(ev).count("1") for ev, p in pmf.items())
    caps = [min(bin(ev & A).count("1"), k) for ev, _ in pmf.items()]
    vals = {round(es - sum(r * p for r, (_, p) in zip(rs, pmf.items(), strict=True)), 12)
            for rs in itertools.product(*[range(c + 1) for c in caps])}
    return sorted(vals)


def test_deadline_keeps_exactly_the_most_promising_atom_set() -> None:
    """_PMFS[1], m = k = 2: A = {0,2} retains the most (1.4 against 1.2 for {0,1} and {1,2}); with the
    deadline passed before the second set, the result is exactly that set's omission distortions
    (the other sets would add distortions such as E|S| − 0.2)."""
    pmf = _PMFS[1]
    got = theory.omission_distortions(pmf, 2, 2, deadline=0.0)
    first = _top_for(pmf, 0b101, 2)
    assert list(got.distortions) == pytest.approx(first, abs=1e-12)
    assert len(first) < len(_omission_distortions_brute(pmf, 2, 2))


def test_a_deadline_equal_to_the_clock_has_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline is exclusive: at perf_counter() == deadline every atom set is still used."""
    pmf = _PMFS[0]
    monkeypatch.setattr(theory.time, "perf_counter", lambda: 5.0)
    got = theory.omission_distortions(pmf, 2, 2, deadline=5.0)
    monkeypatch.undo()
    assert not got.truncated
    assert list(got.distortions) == pytest.approx(_omission_distortions_brute(pmf, 2, 2), abs=1e-12)


def test_max_steps_bounds_the_dp_of_every_atom_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """With max_steps the per-set DP keeps at most max_steps sums, so a state limit smaller than the
    full set is never reached: 𝒟_mono's smallest two values come back, for omission_distortions and
    for the lookup head of max_omission_distortion (a head of LOOKUP_STEPS = 2 values)."""
    pmf = _PMFS[1]
    want = _omission_distortions_brute(pmf, 2, 2)
    monkeypatch.setattr(theory, "MAX_DP_STATES", 3)
    assert list(theory.omission_distortions(pmf, 2, 2, max_steps=2).distortions) == pytest.approx(want[:2], abs=1e-12)
    monkeypatch.setattr(theory, "LOOKUP_STEPS", 2)
    assert theory.max_omission_distortion(pmf, 2, want[0], k=2) == pytest.approx(want[0], abs=1e-12)


def test_cap_above_width_is_refused_everywhere() -> None:
    """k must lie in [1, m] for the staircase helpers that take an optional cap."""
    pmf = _PMFS[2]
    with pytest.raises(InvalidArgument, match="k = 3 exceeds the width m = 2"):
        theory.max_omission_distortion(pmf, 2, 0.5, k=3)
    with pytest.raises(InvalidArgument, match="k = 3 exceeds the width m = 2"):  # the cap is checked first
        theory.max_omission_distortion(pmf, 2, math.inf, k=3)
    with pytest.raises(InvalidArgument, match="k = 3 exceeds the width m = 2"):
        theory.min_mono_distortion(pmf, 2, 0.5, k=3)
    with pytest.raises(InvalidArgument, match="cap k must be at least 1"):
        theory.min_mono_distortion(pmf, 2, 0.5, k=0)


def test_max_omission_distortion_budget_tolerance_is_inclusive() -> None:
    """π = {{0}: ½, {1}: ½}, m = 1: 𝒟_mono = {½, 1}; at δ with δ + TOL exactly ½, D = ½ is within."""
    pmf = _pmf(2, [(0b01, 0.5), (0b10, 0.5)])
    delta = 0.5 - TOL
    assert delta + TOL == 0.5
    assert theory.max_omission_distortion(pmf, 1, delta, k=1) == 0.5
    assert theory.max_omission_distortion(pmf, 1, 0.25, k=1) is None


def test_max_omission_distortion_past_a_truncated_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """π({0}) = a, π({1}) = a + 1.2e−9, m = k = 1: 𝒟_mono = {E − a − 1.2e−9, E − a, E} (E = E|S|).
    With a head of one value (the smallest, d1) and δ = d1 + ½·TOL, the next value d2 = d1 + 1.2e−9
    is within δ + TOL, so the answer is d2, found past the head."""
    a = 0.3
    pmf = _pmf(2, [(0b00, 1 - 2 * a - 1.2e-9), (0b01, a), (0b10, a + 1.2e-9)])
    ds = _omission_distortions_brute(pmf, 1, 1)
    assert len(ds) == 3 and ds[1] - ds[0] == pytest.approx(1.2e-9, rel=1e-3)
    monkeypatch.setattr(theory, "LOOKUP_STEPS", 1)
    got = theory.max_omission_distortion(pmf, 1, ds[0] + 0.5 * TOL, k=1)
    assert got == pytest.approx(ds[1], abs=1e-12)
