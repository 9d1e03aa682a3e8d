"""Proxy-audit statistics of DESIGN §3 (the paper's Definitions 3–4; claim C-D3).

Given SAEs i = 1..N with rate r_i (L0), distortion d_i (an error: larger is worse) and a proxy q_i
oriented so that **larger q means more polysemantic** (negate "higher is more interpretable" metrics
first, see :mod:`audit.orientation`):

- a pair (a, b) is *dominated* when r_a ≤ r_b, d_a ≤ d_b and (r_a, d_a) ≠ (r_b, d_b): a works under a
  tighter joint budget, so the theory predicts P(a) ≥ P(b). Comparisons are exact (no tolerance);
- **V** = (#dominated pairs with q_a < q_b + ½·#dominated pairs with q_a = q_b) / #dominated pairs:
  0 faithful, ½ random (a constant proxy scores ½), 1 inverted; ``None`` without a dominated pair;
- **V_strict** = #dominated pairs with q_a < q_b / #dominated pairs (ties count as not inverted);
- **ρ_RDP** = Spearman correlation between the tightness t_i = −(rank(r_i) + rank(d_i)) and q_i,
  average ranks for ties: +1 faithful, 0 no trend, −1 inverted; ``nan`` when t or q is constant.

:func:`audit_proxy` adds percentile bootstrap intervals (resampling SAEs with replacement) and
permutation p-values (shuffling q over the SAEs). The p-value is **two-sided**: H0 is "q is
exchangeable over the SAEs" (no relation to the budgets), and the statistic is |V − ½| (and |ρ_RDP| for
``p_value_rho``), p = (1 + #{perm ≥ observed}) / (1 + permutations) ∈ (0, 1]. Two-sided, because an
audit must be able to call a proxy *inverted* as well as *faithful*; the sign of V − ½ says which.

Every public function validates its input (1-D, equal lengths, at least three SAEs, finite numbers) and
raises :class:`InvalidArgument` otherwise. Missing values are an error by default; ``audit_proxy(...,
nan_policy="omit")`` drops SAEs with a non-finite rate, distortion or proxy and records a warning.

Metric functions are listed in :data:`METRICS` with their declared properties (value for a faithful,
a constant and an inverted proxy; range; which direction is faithful); common tests check every member
(STYLE: scikit-learn ``test_common``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.stats import rankdata

from rdp_exact.errors import InvalidArgument

MIN_SAES = 3
"""Fewest SAEs an audit accepts (with two there is at most one pair and no rank structure)."""

NanPolicy = Literal["raise", "omit"]
Verdict = Literal["faithful", "random", "inverted", "undefined"]

__all__ = [
    "METRICS",
    "MIN_SAES",
    "MetricSpec",
    "ProxyAudit",
    "audit_proxy",
    "domination_matrix",
    "dominated_pairs",
    "rho_rdp",
    "tightness",
    "violation_rate",
    "violation_rate_strict",
]


# --------------------------------------------------------------------------------------------- input
def _as_vector(x: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{name} must be numbers, got {type(x).__name__}: {exc}") from None
    if arr.ndim != 1:
        raise InvalidArgument(f"{name} must be one-dimensional (one value per SAE), got shape {arr.shape}")
    return arr


def _check_inputs(
    rate: object, distortion: object, q: object | None = None, *, finite: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Vectors of equal length ≥ MIN_SAES with finite entries (when ``finite``)."""
    r = _as_vector(rate, "rate")
    d = _as_vector(distortion, "distortion")
    qq = None if q is None else _as_vector(q, "q")
    if r.shape != d.shape or (qq is not None and qq.shape != r.shape):
        lens = f"rate {r.size}, distortion {d.size}" + ("" if qq is None else f", q {qq.size}")
        raise InvalidArgument(f"rate, distortion and q need one value per SAE, got lengths {lens}")
    if r.size < MIN_SAES:
        raise InvalidArgument(f"need at least {MIN_SAES} SAEs, got {r.size}")
    if finite:
        for name, arr in (("rate", r), ("distortion", d), ("q", qq)):
            if arr is not None and not np.all(np.isfinite(arr)):
                i = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise InvalidArgument(f"{name} must be finite, SAE {i} has {arr[i]!r}")
    return r, d, qq


# ------------------------------------------------------------------------------------- point values
def domination_matrix(rate: object, distortion: object) -> np.ndarray:
    """Boolean [N, N] matrix M with M[a, b] ⇔ (a, b) is a dominated pair (DESIGN §3)."""
    r, d, _ = _check_inputs(rate, distortion)
    return _domination(r, d)


def _domination(r: np.ndarray, d: np.ndarray) -> np.ndarray:
    le_r = r[:, None] <= r[None, :]
    le_d = d[:, None] <= d[None, :]
    strict = (r[:, None] < r[None, :]) | (d[:, None] < d[None, :])
    return le_r & le_d & strict  # [N, N]


def dominated_pairs(rate: object, distortion: object) -> np.ndarray:
    """All dominated pairs as an int array [K, 2] of (a, b), sorted; a is under the tighter budget."""
    return np.argwhere(domination_matrix(rate, distortion)).astype(np.int64).reshape(-1, 2)


def _violation_counts(dom: np.ndarray, q: np.ndarray) -> tuple[int, int, int]:
    """(#pairs, #pairs with q_a < q_b, #pairs with q_a = q_b)."""
    less = q[:, None] < q[None, :]
    equal = q[:, None] == q[None, :]
    return int(dom.sum()), int((dom & less).sum()), int((dom & equal).sum())


def violation_rate(rate: object, distortion: object, q: object) -> float | None:
    """V = (#inverted + ½·#tied dominated pairs) / #dominated pairs; None without a dominated pair."""
    r, d, qq = _check_inputs(rate, distortion, q)
    assert qq is not None
    k, inv, tie = _violation_counts(_domination(r, d), qq)
    return None if k == 0 else (inv + 0.5 * tie) / k


def violation_rate_strict(rate: object, distortion: object, q: object) -> float | None:
    """V_strict = #dominated pairs with q_a < q_b / #dominated pairs; None without a dominated pair."""
    r, d, qq = _check_inputs(rate, distortion, q)
    assert qq is not None
    k, inv, _ = _violation_counts(_domination(r, d), qq)
    return None if k == 0 else inv / k


def tightness(rate: object, distortion: object) -> np.ndarray:
    """t_i = −(rank(r_i) + rank(d_i)) with average ranks (1-based): larger t = tighter budget."""
    r, d, _ = _check_inputs(rate, distortion)
    return -(rankdata(r) + rankdata(d))


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of [B, N] arrays; nan where a row is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    sxx = np.einsum("...i,...i->...", xc, xc)
    syy = np.einsum("...i,...i->...", yc, yc)
    sxy = np.einsum("...i,...i->...", xc, yc)
    scale = np.maximum(np.abs(x).max(axis=-1), 1.0) * np.maximum(np.abs(y).max(axis=-1), 1.0)
    ok = (sxx > 1e-12 * scale**2) & (syy > 1e-12 * scale**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(ok, sxy / np.sqrt(np.where(ok, sxx * syy, 1.0)), np.nan)
    return np.clip(rho, -1.0, 1.0)


def _rho_rows(r: np.ndarray, d: np.ndarray, q: np.ndarray) -> np.ndarray:
    """ρ_RDP per row of [B, N] arrays (ranks within each row)."""
    t = -(rankdata(r, axis=-1) + rankdata(d, axis=-1))
    return _pearson_rows(rankdata(t, axis=-1), rankdata(q, axis=-1))


def rho_rdp(rate: object, distortion: object, q: object) -> float:
    """Spearman correlation of tightness t = −(rank r + rank d) and q; nan when t or q is constant."""
    r, d, qq = _check_inputs(rate, distortion, q)
    assert qq is not None
    return float(_rho_rows(r[None, :], d[None, :], qq[None, :])[0])


# --------------------------------------------------------------------------------- metric registry
@dataclass(frozen=True)
class MetricSpec:
    """A proxy-audit metric with the properties that common tests check for every member."""

    name: str
    """Short name used in tables (``V``, ``V_strict``, ``rho_RDP``)."""
    fn: Callable[[object, object, object], float | None]
    """The pure function ``fn(rate, distortion, q)``."""
    faithful: float
    """Value for a proxy that orders every dominated pair correctly with no tie (e.g. q = tightness)."""
    inverted: float
    """Value for the negation of such a proxy."""
    constant: float
    """Value for a constant proxy (nan: undefined)."""
    bounds: tuple[float, float]
    """Closed range of the metric."""
    higher_is_faithful: bool
    """True when larger values mean a more faithful proxy."""
    undefined_without_pairs: bool
    """True when the metric is None for a sweep without a dominated pair."""


METRICS: dict[str, MetricSpec] = {
    "V": MetricSpec("V", violation_rate, 0.0, 1.0, 0.5, (0.0, 1.0), False, True),
    "V_strict": MetricSpec("V_strict", violation_rate_strict, 0.0, 1.0, 0.0, (0.0, 1.0), False, True),
    "rho_RDP": MetricSpec("rho_RDP", rho_rdp, 1.0, -1.0, math.nan, (-1.0, 1.0), True, False),
}
"""Registry of the §3 metrics with their declared properties."""


# ------------------------------------------------------------------------------------ the full audit
@dataclass(frozen=True)
class ProxyAudit:
    """§3 statistics of one proxy on one sweep, with bootstrap intervals and permutation p-values."""

    n_saes: int
    """SAEs used (after dropping missing values under ``nan_policy="omit"``)."""
    n_pairs: int
    """Number of dominated pairs."""
    V: float | None
    """Violation rate (ties count ½); None without a dominated pair."""
    V_strict: float | None
    """Strict violation rate (ties count 0); None without a dominated pair."""
    V_lo: float | None
    """Lower end of the percentile bootstrap interval of V (None when undefined or no bootstrap)."""
    V_hi: float | None
    """Upper end of the percentile bootstrap interval of V."""
    rho: float
    """ρ_RDP (nan when t or q is constant)."""
    rho_lo: float
    """Lower end of the percentile bootstrap interval of ρ_RDP (nan when undefined)."""
    rho_hi: float
    """Upper end of the percentile bootstrap interval of ρ_RDP."""
    p_value: float | None
    """Two-sided permutation p-value of |V − ½| (None when V is undefined or permutations = 0)."""
    p_value_rho: float | None
    """Two-sided permutation p-value of |ρ_RDP| (None when ρ is undefined or permutations = 0)."""
    confidence: float = 0.95
    """Level of the intervals; the verdict tests at α = 1 − confidence."""
    bootstrap: int = 0
    """Number of bootstrap resamples."""
    permutations: int = 0
    """Number of permutations."""
    n_dropped: int = 0
    """SAEs dropped for missing values."""
    warnings: tuple[str, ...] = field(default=())
    """Human-readable caveats (undefined statistics, dropped SAEs, degenerate resamples)."""

    @property
    def verdict(self) -> Verdict:
        """faithful / inverted when the permutation test rejects at α = 1 − confidence (side from V − ½),
        random when it does not; without permutations the bootstrap interval of V decides (excludes ½
        or not); undefined when V is undefined or neither is available."""
        if self.V is None:
            return "undefined"
        alpha = 1.0 - self.confidence
        if self.p_value is not None:
            if self.p_value >= alpha or self.V == 0.5:
                return "random"
            return "faithful" if self.V < 0.5 else "inverted"
        if self.V_lo is not None and self.V_hi is not None:
            if self.V_hi < 0.5:
                return "faithful"
            if self.V_lo > 0.5:
                return "inverted"
            return "random"
        return "undefined"

    def to_row(self) -> dict[str, object]:
        """Flat dict of the numbers (None for undefined V-statistics, nan for undefined ρ)."""
        return {
            "n_saes": self.n_saes,
            "n_pairs": self.n_pairs,
            "V": self.V,
            "V_lo": self.V_lo,
            "V_hi": self.V_hi,
            "rho": self.rho,
            "rho_lo": self.rho_lo,
            "rho_hi": self.rho_hi,
            "p_value": self.p_value,
            "V_strict": self.V_strict,
            "p_value_rho": self.p_value_rho,
            "verdict": self.verdict,
        }


def _check_options(bootstrap: int, permutations: int, confidence: float, nan_policy: str) -> None:
    for name, val in (("bootstrap", bootstrap), ("permutations", permutations)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 0:
            raise InvalidArgument(f"{name} must be an integer ≥ 0, got {val!r}")
    if not (isinstance(confidence, (int, float)) and 0.0 < float(confidence) < 1.0):
        raise InvalidArgument(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    if nan_policy not in ("raise", "omit"):
        raise InvalidArgument(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")


def _bootstrap_stats(r: np.ndarray, d: np.ndarray, q: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, ρ_RDP) on each resample ``idx`` [B, N] (rows of SAE indices); nan where undefined.

    V uses multiplicity vectors c_b (how often each SAE is drawn): the resample's dominated pairs number
    c_bᵀ M c_b for the domination matrix M (an SAE drawn twice is never dominated by itself), and
    likewise for the inverted and tied pairs. ρ_RDP ranks within each resample.
    """
    n_boot, n = idx.shape
    flat = (idx + n * np.arange(n_boot)[:, None]).ravel()
    cf = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)  # [B, N]
    dom = _domination(r, d)
    less = q[:, None] < q[None, :]
    equal = q[:, None] == q[None, :]

    def quad(mat: np.ndarray) -> np.ndarray:
        return np.einsum("bi,bi->b", cf @ mat.astype(float), cf)

    kb = quad(dom)
    safe = np.where(kb > 0, kb, 1.0)
    vb = np.where(kb > 0, (quad(dom & less) + 0.5 * quad(dom & equal)) / safe, np.nan)
    rb = _rho_rows(r[idx], d[idx], q[idx])
    return vb, rb


def _permutation_stats(r: np.ndarray, d: np.ndarray, q: np.ndarray, perms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, ρ_RDP) with q permuted by each row of ``perms`` [P, N]; V is nan without a dominated pair."""
    pairs = np.argwhere(_domination(r, d))
    vp = _perm_v_stats(pairs, q, perms) if pairs.size else np.full(perms.shape[0], np.nan)
    rt = rankdata(-(rankdata(r) + rankdata(d)))
    rq = rankdata(q)[perms]  # [P, N]
    rp = _pearson_rows(np.broadcast_to(rt, rq.shape), rq)
    return vp, rp


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float] | None:
    vals = values[np.isfinite(values)]
    if vals.size == 0:
        return None
    lo, hi = np.percentile(vals, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(lo), float(hi)


def _perm_v_stats(pairs: np.ndarray, q: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """V for q permuted by each row of ``perms`` [P, N], chunked to bound memory."""
    a, b = pairs[:, 0], pairs[:, 1]
    out = np.empty(perms.shape[0])
    chunk = max(1, int(2e7 // max(1, pairs.shape[0])))
    for s in range(0, perms.shape[0], chunk):
        qp = q[perms[s : s + chunk]]  # [P_chunk, N]
        qa, qb = qp[:, a], qp[:, b]  # [P_chunk, K]
        out[s : s + chunk] = ((qa < qb).sum(1) + 0.5 * (qa == qb).sum(1)) / pairs.shape[0]
    return out


def audit_proxy(
    rate: object,
    distortion: object,
    q: object,
    *,
    bootstrap: int = 1000,
    permutations: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    nan_policy: NanPolicy = "raise",
) -> ProxyAudit:
    """All §3 statistics of proxy ``q`` (oriented: larger = more polysemantic) on one sweep.

    Bootstrap: ``bootstrap`` resamples of the SAEs with replacement; V and ρ_RDP are recomputed on each
    (ranks within the resample, average ranks for the duplicates) and the percentile interval at level
    ``confidence`` is reported over the resamples where the statistic is defined. Permutations: q is
    shuffled over the SAEs ``permutations`` times; p-values are two-sided (module docstring). Vectorised:
    the bootstrap uses multiplicity vectors c_b so that #pairs_b = c_bᵀ M c_b for the domination matrix M.
    """
    _check_options(bootstrap, permutations, confidence, nan_policy)
    r, d, qq = _check_inputs(rate, distortion, q, finite=False)
    assert qq is not None
    notes: list[str] = []
    ok = np.isfinite(r) & np.isfinite(d) & np.isfinite(qq)
    n_dropped = int((~ok).sum())
    if n_dropped:
        if nan_policy == "raise":
            _check_inputs(r, d, qq)  # raises with the first offending value
        notes.append(f"dropped {n_dropped} SAE(s) with a missing or non-finite rate, distortion or proxy")
        r, d, qq = r[ok], d[ok], qq[ok]
        if r.size < MIN_SAES:
            raise InvalidArgument(f"need at least {MIN_SAES} SAEs with finite values, got {r.size}")
    n = r.size
    dom = _domination(r, d)  # [N, N]
    k, inv, tie = _violation_counts(dom, qq)
    V = None if k == 0 else (inv + 0.5 * tie) / k
    V_strict = None if k == 0 else inv / k
    rho = float(_rho_rows(r[None], d[None], qq[None])[0])
    if k == 0:
        notes.append("no dominated pair: V is undefined (the SAEs are mutually non-dominated)")
    if math.isnan(rho):
        notes.append("rho_RDP is undefined (constant proxy or constant tightness)")

    boot_rng, perm_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    V_ci: tuple[float, float] | None = None
    rho_ci: tuple[float, float] | None = None
    if bootstrap > 0:
        idx = boot_rng.integers(0, n, size=(bootstrap, n))  # [B, N] resampled SAE indices
        vb, rb = _bootstrap_stats(r, d, qq, idx)
        if k > 0:
            V_ci = _percentile_interval(vb, confidence)
            missing = float(np.mean(np.isnan(vb)))
            if missing > 0.05:
                notes.append(f"{missing:.0%} of bootstrap resamples had no dominated pair (interval over the rest)")
        if not math.isnan(rho):
            rho_ci = _percentile_interval(rb, confidence)

    p_value: float | None = None
    p_value_rho: float | None = None
    if permutations > 0:
        perms = np.argsort(perm_rng.random((permutations, n)), axis=1)  # [P, N]
        vp, rp = _permutation_stats(r, d, qq, perms)
        if V is not None:
            hits = np.abs(vp - 0.5) >= abs(V - 0.5) - 1e-12
            p_value = float((1 + hits.sum()) / (1 + permutations))
        if not math.isnan(rho):
            hits = np.abs(np.nan_to_num(rp, nan=0.0)) >= abs(rho) - 1e-12
            p_value_rho = float((1 + hits.sum()) / (1 + permutations))

    return ProxyAudit(
        n_saes=n,
        n_pairs=k,
        V=V,
        V_strict=V_strict,
        V_lo=None if V_ci is None else V_ci[0],
        V_hi=None if V_ci is None else V_ci[1],
        rho=rho,
        rho_lo=math.nan if rho_ci is None else rho_ci[0],
        rho_hi=math.nan if rho_ci is None else rho_ci[1],
        p_value=p_value,
        p_value_rho=p_value_rho,
        confidence=float(confidence),
        bootstrap=int(bootstrap),
        permutations=int(permutations),
        n_dropped=n_dropped,
        warnings=tuple(notes),
    )
