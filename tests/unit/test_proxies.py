"""§3 proxy-audit statistics (C-D3): hand-computed cases, declared properties of every registered metric
(common tests), loop references for the vectorised paths, and the full audit with its resampling."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import spearmanr

from audit.orientation import ORIENTATION_TABLE, orient, parse_proxy_spec, resolve_proxies, rule_for
from audit.proxies import (
    METRICS,
    ProxyAudit,
    _bootstrap_stats,
    _permutation_stats,
    audit_proxy,
    dominated_pairs,
    domination_matrix,
    rho_rdp,
    tightness,
    violation_rate,
    violation_rate_strict,
)
from rdp_exact.errors import InvalidArgument


# ----------------------------------------------------------------------------- slow references
def ref_pairs(r, d):
    return [(a, b) for a, b in itertools.product(range(len(r)), repeat=2)
            if r[a] <= r[b] and d[a] <= d[b] and (r[a], d[a]) != (r[b], d[b])]


def ref_V(r, d, q, strict=False):
    pairs = ref_pairs(r, d)
    if not pairs:
        return None
    inv = sum(q[a] < q[b] for a, b in pairs)
    tie = sum(q[a] == q[b] for a, b in pairs)
    return (inv + (0 if strict else 0.5 * tie)) / len(pairs)


def ref_rho(r, d, q):
    from scipy.stats import rankdata

    t = -(rankdata(r) + rankdata(d))
    if np.ptp(t) == 0 or np.ptp(q) == 0:
        return math.nan
    return float(spearmanr(t, q).statistic)


def sweep(seed=0, n=30, noise=0.0):
    """A noisy sweep whose true P is monotone in the domination order (P = tightness + noise)."""
    rng = np.random.default_rng(seed)
    r = rng.random(n)
    d = rng.random(n)
    return r, d, tightness(r, d) + noise * rng.standard_normal(n)


# ------------------------------------------------------------------------------ hand-made cases
def test_tiny_case_with_ties_by_hand():
    # SAE 0 dominates 1 and 2; 1 and 2 are incomparable (r up, d down); 3 is dominated by all.
    r = [1.0, 2.0, 1.5, 3.0]
    d = [1.0, 1.5, 2.0, 3.0]
    q = [0.5, 0.5, 0.9, 0.1]
    # dominated pairs: (0,1) (0,2) (0,3) (1,3) (2,3)
    assert sorted(map(tuple, dominated_pairs(r, d).tolist())) == [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]
    # q_a < q_b: (0,2) only; q_a == q_b: (0,1) only
    assert violation_rate(r, d, q) == pytest.approx((1 + 0.5 * 1) / 5)
    assert violation_rate_strict(r, d, q) == pytest.approx(1 / 5)


def test_equal_points_are_not_dominated_and_single_strict_coordinate_is():
    r = [1.0, 1.0, 1.0]
    d = [2.0, 2.0, 3.0]
    pairs = {tuple(p) for p in dominated_pairs(r, d).tolist()}
    assert pairs == {(0, 2), (1, 2)}
    # 0 and 1 are the same point: never a pair, whatever q says.
    assert violation_rate(r, d, [0.0, 5.0, 1.0]) == pytest.approx(0.5)  # (0,2) inverted, (1,2) fine


def test_rho_by_hand_with_average_ranks():
    r = [1.0, 2.0, 3.0, 4.0]
    d = [1.0, 1.0, 2.0, 2.0]  # ranks 1.5 1.5 3.5 3.5
    # t = -(1+1.5, 2+1.5, 3+3.5, 4+3.5) = -(2.5, 3.5, 6.5, 7.5): strictly decreasing.
    q = [4.0, 3.0, 2.0, 1.0]
    assert rho_rdp(r, d, q) == pytest.approx(1.0)
    q_tied = [1.0, 1.0, 0.0, 0.0]  # ranks 3.5 3.5 1.5 1.5 vs t ranks 4 3 2 1
    x = np.array([3.5, 3.5, 1.5, 1.5]) - 2.5
    y = np.array([4.0, 3.0, 2.0, 1.0]) - 2.5
    assert rho_rdp(r, d, q_tied) == pytest.approx(float(x @ y / math.sqrt((x @ x) * (y @ y))))


def test_no_dominated_pair_gives_none():
    r = [1.0, 2.0, 3.0, 4.0]
    d = [4.0, 3.0, 2.0, 1.0]  # a Pareto front
    assert dominated_pairs(r, d).shape == (0, 2)
    assert violation_rate(r, d, [1, 2, 3, 4]) is None
    assert violation_rate_strict(r, d, [1, 2, 3, 4]) is None
    res = audit_proxy(r, d, [1, 2, 3, 4], bootstrap=50, permutations=50)
    assert res.V is None and res.V_lo is None and res.p_value is None and res.n_pairs == 0
    assert res.verdict == "undefined"
    assert any("no dominated pair" in w for w in res.warnings)
    # tightness is constant on a perfect anti-ordering: ρ undefined too
    assert math.isnan(res.rho) and math.isnan(res.rho_lo)


def test_constant_proxy_scores_half():
    r, d, _ = sweep(1)
    q = np.full(r.size, 3.0)
    assert violation_rate(r, d, q) == 0.5
    assert violation_rate_strict(r, d, q) == 0.0
    assert math.isnan(rho_rdp(r, d, q))
    res = audit_proxy(r, d, q, bootstrap=100, permutations=100)
    assert res.p_value == 1.0 and res.verdict == "random"


# ------------------------------------------------------------- common tests over the registry
PERFECT = sweep(2, n=25)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_declared_faithful_inverted_constant(name):
    spec = METRICS[name]
    r, d, t = PERFECT
    assert spec.fn(r, d, t) == pytest.approx(spec.faithful)
    assert spec.fn(r, d, -t) == pytest.approx(spec.inverted)
    c = spec.fn(r, d, np.zeros_like(t))
    assert (math.isnan(c) and math.isnan(spec.constant)) or c == pytest.approx(spec.constant)
    lo, hi = spec.bounds
    assert lo <= spec.faithful <= hi and lo <= spec.inverted <= hi
    assert (spec.faithful > spec.inverted) == spec.higher_is_faithful


@pytest.mark.parametrize("name", sorted(METRICS))
def test_declared_behaviour_without_pairs(name):
    spec = METRICS[name]
    r = np.array([1.0, 2.0, 3.0, 4.0])
    d = np.array([4.0, 3.0, 2.0, 1.5])
    out = spec.fn(r, d, np.array([0.3, 0.1, 0.2, 0.9]))
    assert (out is None) == spec.undefined_without_pairs


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
small_ints = st.integers(0, 4)


@st.composite
def sweeps(draw, values=small_ints):
    n = draw(st.integers(3, 9))
    r = draw(st.lists(values, min_size=n, max_size=n))
    d = draw(st.lists(values, min_size=n, max_size=n))
    q = draw(st.lists(values, min_size=n, max_size=n))
    return np.array(r, float), np.array(d, float), np.array(q, float)


@pytest.mark.parametrize("name", sorted(METRICS))
@given(s=sweeps())
def test_common_range_monotone_invariance_relabeling(name, s):
    spec = METRICS[name]
    r, d, q = s
    base = spec.fn(r, d, q)
    if base is None:
        assert spec.undefined_without_pairs
        return
    if not math.isnan(base):
        assert spec.bounds[0] - 1e-12 <= base <= spec.bounds[1] + 1e-12
    # strictly increasing transforms of q, r and d leave every metric unchanged
    for qt, rt, dt in ((np.exp(q / 3) - 7, r, d), (q, 2 * r + 1, d**3), (q**3 + q, np.tanh(r), d)):
        out = spec.fn(rt, dt, qt)
        assert (math.isnan(out) and math.isnan(base)) or out == pytest.approx(base, abs=1e-12)
    perm = np.random.default_rng(0).permutation(r.size)
    out = spec.fn(r[perm], d[perm], q[perm])
    assert (math.isnan(out) and math.isnan(base)) or out == pytest.approx(base, abs=1e-12)


# ------------------------------------------------------------------------ references and laws
@given(s=sweeps())
def test_against_loop_references(s):
    r, d, q = s
    assert sorted(map(tuple, dominated_pairs(r, d).tolist())) == ref_pairs(r, d)
    V, Vs = violation_rate(r, d, q), violation_rate_strict(r, d, q)
    rv = ref_V(r, d, q)
    assert (V is None and rv is None) or V == pytest.approx(rv)
    rvs = ref_V(r, d, q, strict=True)
    assert (Vs is None and rvs is None) or Vs == pytest.approx(rvs)
    rho, rr = rho_rdp(r, d, q), ref_rho(r, d, q)
    assert (math.isnan(rho) and math.isnan(rr)) or rho == pytest.approx(rr, abs=1e-9)


@given(s=sweeps(values=finite))
def test_laws(s):
    r, d, q = s
    V, Vn, Vs = violation_rate(r, d, q), violation_rate(r, d, -q), violation_rate_strict(r, d, q)
    if V is not None:
        assert V + Vn == pytest.approx(1.0)
        assert Vs <= V + 1e-12
        assert 0.0 <= V <= 1.0
    rho = rho_rdp(r, d, q)
    if not math.isnan(rho):
        assert -1.0 <= rho <= 1.0
        assert rho_rdp(r, d, -q) == pytest.approx(-rho, abs=1e-9)
    # the oracle proxy (tightness) is perfectly faithful whenever pairs exist
    t = tightness(r, d)
    assert violation_rate(r, d, t) in (None, 0.0)
    assert violation_rate(r, d, -t) in (None, 1.0)


def test_domination_matrix_is_a_strict_partial_order():
    r, d, _ = sweep(3, n=20)
    r = np.round(r * 4)  # many ties
    M = domination_matrix(r, d)
    assert not M.diagonal().any()
    assert not (M & M.T).any()
    assert (M.astype(int) @ M.astype(int) > 0)[~M].sum() == 0  # transitive


# ---------------------------------------------------------------------------- resampling paths
def test_bootstrap_stats_match_a_loop():
    r, d, q = sweep(4, n=12, noise=2.0)
    q = np.round(q)  # ties in q
    idx = np.random.default_rng(5).integers(0, r.size, size=(40, r.size))
    vb, rb = _bootstrap_stats(r, d, q, idx)
    for b in range(idx.shape[0]):
        rr, dd, qq = r[idx[b]], d[idx[b]], q[idx[b]]
        v = violation_rate(rr, dd, qq)
        assert (v is None and math.isnan(vb[b])) or vb[b] == pytest.approx(v)
        rho = rho_rdp(rr, dd, qq)
        assert (math.isnan(rho) and math.isnan(rb[b])) or rb[b] == pytest.approx(rho, abs=1e-9)


def test_permutation_stats_match_a_loop():
    r, d, q = sweep(6, n=10, noise=1.0)
    perms = np.array([np.random.default_rng(i).permutation(r.size) for i in range(30)])
    vp, rp = _permutation_stats(r, d, q, perms)
    for i, p in enumerate(perms):
        assert vp[i] == pytest.approx(violation_rate(r, d, q[p]))
        assert rp[i] == pytest.approx(rho_rdp(r, d, q[p]), abs=1e-9)


def test_audit_point_values_match_the_pure_functions():
    r, d, q = sweep(7, n=40, noise=3.0)
    res = audit_proxy(r, d, q, bootstrap=200, permutations=200, seed=3)
    assert isinstance(res, ProxyAudit)
    assert res.n_saes == 40 and res.n_pairs == len(dominated_pairs(r, d))
    assert res.V == pytest.approx(violation_rate(r, d, q))
    assert res.V_strict == pytest.approx(violation_rate_strict(r, d, q))
    assert res.rho == pytest.approx(rho_rdp(r, d, q))


@pytest.mark.parametrize("seed", range(5))
def test_intervals_contain_estimate_and_p_in_unit_interval(seed):
    r, d, q = sweep(seed, n=50, noise=4.0)
    res = audit_proxy(r, d, q, bootstrap=300, permutations=300, seed=seed)
    assert res.V_lo <= res.V <= res.V_hi
    assert res.rho_lo <= res.rho <= res.rho_hi
    assert 0.0 < res.p_value <= 1.0 and 0.0 < res.p_value_rho <= 1.0
    assert res.p_value >= 1 / 301


def test_verdicts_and_seed_reproducibility():
    r, d, q = sweep(8, n=40, noise=0.5)
    good = audit_proxy(r, d, q, bootstrap=100, permutations=200)
    bad = audit_proxy(r, d, -q, bootstrap=100, permutations=200)
    assert good.verdict == "faithful" and good.V < 0.5 and good.rho > 0
    assert bad.verdict == "inverted" and bad.V > 0.5 and bad.rho < 0
    noise = np.random.default_rng(9).standard_normal(40)
    assert audit_proxy(r, d, noise, bootstrap=0, permutations=200).p_value > 0.01
    assert audit_proxy(r, d, q, bootstrap=100, permutations=100, seed=1) == audit_proxy(
        r, d, q, bootstrap=100, permutations=100, seed=1)


def test_no_resampling_gives_no_intervals():
    r, d, q = sweep(10, n=20, noise=1.0)
    res = audit_proxy(r, d, q, bootstrap=0, permutations=0)
    assert res.V_lo is None and res.V_hi is None and math.isnan(res.rho_lo)
    assert res.p_value is None and res.p_value_rho is None
    assert res.verdict == "undefined"
    ci_only = audit_proxy(r, d, q, bootstrap=200, permutations=0)
    assert ci_only.verdict in ("faithful", "random", "inverted")


def test_nan_policy():
    r, d, q = sweep(11, n=10, noise=1.0)
    q = q.copy()
    q[3] = np.nan
    with pytest.raises(InvalidArgument, match="q must be finite"):
        audit_proxy(r, d, q, bootstrap=10, permutations=10)
    res = audit_proxy(r, d, q, bootstrap=10, permutations=10, nan_policy="omit")
    keep = np.arange(10) != 3
    assert res.n_saes == 9 and res.n_dropped == 1
    assert res.V == pytest.approx(violation_rate(r[keep], d[keep], q[keep]))
    assert any("dropped 1" in w for w in res.warnings)
    q[:8] = np.nan
    with pytest.raises(InvalidArgument, match="at least 3"):
        audit_proxy(r, d, q, nan_policy="omit")


@pytest.mark.parametrize(
    "args, match",
    [
        (([1, 2, 3], [1, 2], [1, 2, 3]), "lengths"),
        (([1, 2], [1, 2], [1, 2]), "at least 3"),
        (([1, 2, np.inf], [1, 2, 3], [1, 2, 3]), "rate must be finite"),
        (([1, 2, 3], [1, np.nan, 3], [1, 2, 3]), "distortion must be finite"),
        ((["a", "b", "c"], [1, 2, 3], [1, 2, 3]), "rate must be numbers"),
        (([[1, 2, 3]], [1, 2, 3], [1, 2, 3]), "one-dimensional"),
    ],
)
@pytest.mark.parametrize("fn", [violation_rate, violation_rate_strict, rho_rdp, audit_proxy])
def test_validation(fn, args, match):
    with pytest.raises(InvalidArgument, match=match):
        fn(*args)


@pytest.mark.parametrize("kw", [{"bootstrap": -1}, {"permutations": 1.5}, {"confidence": 1.0},
                                {"nan_policy": "drop"}, {"bootstrap": True}])
def test_option_validation(kw):
    with pytest.raises(InvalidArgument):
        audit_proxy([1, 2, 3], [1, 2, 3], [1, 2, 3], **kw)


# ------------------------------------------------------------------------------- orientation
@pytest.mark.parametrize(
    "column, orientation",
    [
        ("autointerp_score", "interpretable"),
        ("unlearning_score", "interpretable"),
        ("published_unlearning_unlearning_score", "interpretable"),
        ("ravel_disentanglement_score", "interpretable"),
        ("published_ravel_cause_score", "interpretable"),
        ("ravel_isolation_score", "interpretable"),
        ("scr_metric_threshold_10", "interpretable"),
        ("tpp_threshold_20_total_metric", "interpretable"),
        ("absorption_mean_absorption_fraction_score", "polysemantic"),
        ("absorption_mean_full_absorption_score", "polysemantic"),
        ("absorption_mean_num_split_features", "polysemantic"),
        ("sp_sae_top_1_test_accuracy", "interpretable"),
        ("sparse_probing_sae_top_5_test_accuracy", "interpretable"),
        ("poly_dec", "polysemantic"),
        ("mcc", "interpretable"),
    ],
)
def test_orientation_table(column, orientation):
    rule = rule_for(column)
    assert rule is not None and rule.orientation == orientation


@pytest.mark.parametrize(
    "column",
    ["autointerp_std_dev", "absorption_std_dev_absorption_fraction_score", "sp_llm_top_1_test_accuracy",
     "sparse_probing_sae_test_accuracy", "tpp_threshold_10_intended_diff_only", "scr_dir2_threshold_10",
     "l0", "l2_loss", "core_mse", "trainer", "sae_top_1_test_accuracy_std"],
)
def test_orientation_table_ignores_non_proxies(column):
    assert rule_for(column) is None


def test_every_rule_is_reachable():
    for rule in ORIENTATION_TABLE:
        assert rule.orientation in ("interpretable", "polysemantic") and rule.note


def test_orient_negates_interpretable_only():
    x = np.array([0.1, 0.5, 0.2])
    assert np.array_equal(orient(x, "interpretable"), -x)
    assert np.array_equal(orient(x, "polysemantic"), x)
    r, d, t = PERFECT
    # an "interpretability" score that falls with tightness is a faithful proxy once oriented
    assert violation_rate(r, d, orient(-t, "interpretable")) == 0.0


def test_proxy_specs():
    assert parse_proxy_spec("a:b:interpretable") == ("a:b", "interpretable")
    assert parse_proxy_spec("autointerp_score") == ("autointerp_score", None)
    with pytest.raises(InvalidArgument, match="unknown orientation"):
        parse_proxy_spec("x:sideways")
    cols = ["l0", "mse", "autointerp_score", "weird"]
    assert resolve_proxies(cols, exclude={"l0", "mse"}) == [("autointerp_score", "interpretable", "AutoInterp")]
    assert resolve_proxies(cols, ["weird:polysemantic"]) == [("weird", "polysemantic", "user")]
    out = resolve_proxies(cols, ["autointerp_score:polysemantic"])
    assert out[0][1] == "polysemantic" and "table says interpretable" in out[0][2]
    with pytest.raises(InvalidArgument, match="unknown orientation for proxy column 'weird'"):
        resolve_proxies(cols, ["weird"])
    with pytest.raises(InvalidArgument, match="not in the table"):
        resolve_proxies(cols, ["nope:interpretable"])
    with pytest.raises(InvalidArgument, match="twice"):
        resolve_proxies(cols, ["weird:polysemantic", "weird:interpretable"])
