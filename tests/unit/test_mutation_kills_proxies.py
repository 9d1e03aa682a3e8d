"""Tests that kill mutants of ``audit/proxies.py`` left by ``make mutation`` (issue 14).

Expected values come from independent computations (``numpy.corrcoef``, ``scipy.stats.spearmanr``,
a direct loop over permutations, counting resamples by hand), DESIGN §3."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from audit.proxies import _domination, _pearson_rows, _perm_v_stats, audit_proxy, rho_rdp
from rdp_exact.errors import InvalidArgument


def test_pearson_rows_matches_corrcoef_row_by_row() -> None:
    """Two rows of length 4 with different means and scales: each row's correlation is numpy's
    corrcoef of that row pair (a mutant that centres or sums along the wrong axis changes it)."""
    x = np.array([[1.0, 2.0, 4.0, 7.0], [10.0, -3.0, 5.0, 0.5]])
    y = np.array([[2.0, 1.0, 5.0, 9.0], [-1.0, 4.0, 4.0, 8.0]])
    got = _pearson_rows(x, y)
    want = [np.corrcoef(x[b], y[b])[0, 1] for b in range(2)]
    assert got.shape == (2,)
    assert got == pytest.approx(want, abs=1e-12)


def _spearman_tightness(r: np.ndarray, d: np.ndarray, q: np.ndarray) -> float:
    """ρ_RDP from its definition (§3): Spearman correlation of t = −(rank r + rank d) with q."""
    return float(spearmanr(-(rankdata(r) + rankdata(d)), q).statistic)


@pytest.mark.parametrize("n", [1000, 1500])
def test_rho_rdp_with_one_distinct_value_among_many(n: int) -> None:
    """n SAEs where only one differs in tightness (or in q): ρ_RDP is defined and equals Spearman's
    correlation; a near-constant rank row of a large sweep is not mistaken for a constant one."""
    ones = np.ones(n)
    ones[0] = 0.0
    ramp = np.arange(n, dtype=float)
    assert rho_rdp(ones, ones, ramp) == pytest.approx(_spearman_tightness(ones, ones, ramp), abs=1e-12)
    assert rho_rdp(ramp, ramp, ones) == pytest.approx(_spearman_tightness(ramp, ramp, ones), abs=1e-12)


def test_non_numeric_input_names_its_type() -> None:
    with pytest.raises(InvalidArgument, match="rate must be numbers, got list"):
        rho_rdp(["a", "b", "c"], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])


def test_no_dominated_pair_gives_no_bootstrap_note() -> None:
    """Mutually non-dominated SAEs: V is undefined, so the bootstrap's share of resamples without a
    pair is not reported (only the two 'undefined' notes)."""
    res = audit_proxy([0.0, 1.0, 2.0], [2.0, 1.0, 0.0], [0.0, 1.0, 2.0], bootstrap=5, permutations=0)
    assert res.V is None and res.V_lo is None
    assert res.warnings == ("no dominated pair: V is undefined (the SAEs are mutually non-dominated)",
                            "rho_RDP is undefined (constant proxy or constant tightness)")


_R = np.array([0.0, 1.0, 0.5, 2.0])
_D = np.array([0.0, 1.0, 2.0, -1.0])  # SAE 0 dominates SAEs 1 and 2; no other pair
_Q = np.array([0.0, 1.0, 2.0, 3.0])


def _resamples_without_pair(seed: int, bootstrap: int) -> int:
    """How many of the audit's bootstrap resamples (its documented seeding: the first of two spawned
    streams of SeedSequence(seed)) contain no dominated pair, counted by hand."""
    boot_rng, _ = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    idx = boot_rng.integers(0, _R.size, size=(bootstrap, _R.size))
    return sum(1 for row in idx if not ({1, 2} & set(row.tolist()) and 0 in row))


def test_bootstrap_note_threshold_is_strictly_above_five_percent() -> None:
    """Seed 558, 20 resamples: exactly one (5 %) has no dominated pair: no note. Seed 0: 9 of 20
    (45 %): the note gives the share."""
    assert _domination(_R, _D).sum() == 2
    assert _resamples_without_pair(558, 20) == 1
    assert audit_proxy(_R, _D, _Q, bootstrap=20, permutations=0, seed=558).warnings == ()
    assert _resamples_without_pair(0, 20) == 9
    assert audit_proxy(_R, _D, _Q, bootstrap=20, permutations=0, seed=0).warnings == (
        "45% of bootstrap resamples had no dominated pair (interval over the rest)",)


def test_perm_v_stats_fills_every_permutation_in_chunks() -> None:
    """201 SAEs on a chain (every pair dominated: 20,100 pairs) and 1,000 permutations: V per
    permutation computed in chunks equals the direct count for every permutation, including the
    last chunk (chunks of 2·10⁷ // 20,100 = 995 permutations)."""
    n = 201
    pairs = np.argwhere(np.triu(np.ones((n, n), dtype=bool), 1))  # (a, b), a < b
    rng = np.random.default_rng(3)
    q = rng.integers(0, 5, n).astype(float)
    perms = np.argsort(rng.random((1000, n)), axis=1)
    got = _perm_v_stats(pairs, q, perms)
    for p in (0, 994, 995, 999):
        qp = q[perms[p]]
        want = ((qp[pairs[:, 0]] < qp[pairs[:, 1]]).sum() + 0.5 * (qp[pairs[:, 0]] == qp[pairs[:, 1]]).sum()) / len(pairs)
        assert got[p] == want
