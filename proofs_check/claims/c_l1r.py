"""C-L1R (Lemma 1 in R^d): check, strategy, mutants and scope.

Lemma 1 read in the ambient space: with orthonormal concept directions V [n, d] (d ≥ n, drawn by the
training package's :func:`sae_train.data.concept_directions`), x(S) = Vᵀ1_S, and ANY real SAE
(encoder W_enc [d, m], b_enc [m], TopK-ReLU with cap k, decoder W_dec [m, d], b_dec [d]),

    E‖x − x̂‖² = Σ_S π(S) ( Σ_i (1[i∈S] − c_i(S))² + ‖x̂_⊥(S)‖² ),

where c(S) = V x̂(S) are the concept coordinates of the reconstruction and x̂_⊥ = x̂ − Vᵀc its part
outside span(V). The check compares this closed form with (a) the direct average over the support and
(b) a seeded Monte Carlo average of ‖x − x̂‖² over samples S ~ π (within 6 standard errors).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from proofs_check.claims.base import FREE, Claim, Classes, Mutant, violation
from proofs_check.strategies import Instance, instances

#: Monte Carlo samples per example.
MC_SAMPLES = 4000
#: Standard errors the Monte Carlo mean may differ from the closed form (false alarm ≈ 2e−9 per example).
MC_SIGMAS = 6.0
#: Relative tolerance of exact identities (sums of squares in float64).
REL_TOL = 1e-9


@st.composite
def _l1r_draws(draw: st.DrawFn, classes: Classes) -> Instance:
    inst = draw(instances(classes=classes, max_n=4))
    n = inst.pmf.n
    d = draw(st.integers(n, n + 3), label="d")
    m = draw(st.integers(1, 4), label="real width")
    k = draw(st.integers(1, m), label="real k")
    seed = draw(st.integers(0, 2**31 - 1), label="seed")
    bias = draw(st.booleans(), label="decoder bias")
    return inst.with_(extra={"d": d, "m": m, "k": k, "seed": seed, "bias": bias})


def _sae(inst: Instance) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """(V [n, d], weights, k) of the instance's random real SAE."""
    from sae_train.data import concept_directions

    x = inst.extra
    n, d, m = inst.pmf.n, int(x["d"]), int(x["m"])
    V = concept_directions(n, d, int(x["seed"]))  # [n, d], orthonormal rows
    rng = np.random.default_rng(int(x["seed"]) + 1)
    w = {
        "W_enc": rng.standard_normal((d, m)),  # [d, m]
        "b_enc": 0.5 * rng.standard_normal(m),  # [m]
        "W_dec": rng.standard_normal((m, d)) / math.sqrt(d),  # [m, d]
        "b_dec": (0.3 * rng.standard_normal(d)) if x["bias"] else np.zeros(d),  # [d]
    }
    return V, w, int(x["k"])


def _reconstruct(X: np.ndarray, w: dict[str, np.ndarray], k: int) -> np.ndarray:
    """x̂ [N, d] of inputs X [N, d]: TopK of the pre-activations, then ReLU, then decode."""
    pre = X @ w["W_enc"] + w["b_enc"]  # [N, m]
    keep = np.zeros_like(pre, dtype=bool)
    top = np.argsort(-pre, axis=1, kind="stable")[:, :k]
    np.put_along_axis(keep, top, True, axis=1)
    z = np.where(keep, np.maximum(pre, 0.0), 0.0)  # [N, m]
    return z @ w["W_dec"] + w["b_dec"]


def _indicators(inst: Instance) -> np.ndarray:
    n = inst.pmf.n
    return np.array([[(ev >> i) & 1 for i in range(n)] for ev in inst.pmf.events], dtype=np.float64)  # [N, n]


def lemma1_terms(inst: Instance) -> tuple[float, float, float]:
    """(closed form in concept coordinates Σπ‖1_S − c‖², its orthogonal part Σπ‖x̂_⊥‖², direct Σπ‖x − x̂‖²)."""
    V, w, k = _sae(inst)
    ones = _indicators(inst)  # [N, n]
    X = ones @ V  # [N, d]
    Xh = _reconstruct(X, w, k)  # [N, d]
    c = Xh @ V.T  # [N, n]
    perp = Xh - c @ V  # [N, d]
    p = np.asarray(inst.pmf.probs, dtype=np.float64)
    inside = float(p @ ((ones - c) ** 2).sum(1))
    outside = float(p @ (perp**2).sum(1))
    direct = float(p @ ((X - Xh) ** 2).sum(1))
    return inside, outside, direct


def monte_carlo(inst: Instance) -> tuple[float, float]:
    """(mean of ‖x − x̂‖² over MC_SAMPLES seeded samples S ~ π, its standard error).

    The standard error uses the exact variance of ‖x − x̂‖² under π (computed on the support), not the
    sample variance: with a near-degenerate π a rare event may never be sampled, and the sample
    variance would then be 0 while the mean is off by the rare event's share."""
    V, w, k = _sae(inst)
    p = np.asarray(inst.pmf.probs, dtype=np.float64)
    ones = _indicators(inst)
    X_all = ones @ V
    e_all = ((X_all - _reconstruct(X_all, w, k)) ** 2).sum(1)  # [N]
    var = max(0.0, float(p @ e_all**2) - float(p @ e_all) ** 2)
    rng = np.random.default_rng(int(inst.extra["seed"]) + 2)
    idx = rng.choice(len(inst.pmf.events), size=MC_SAMPLES, p=p / p.sum())
    X = ones[idx] @ V  # [S, d], sampled afresh (not looked up from e_all)
    err = ((X - _reconstruct(X, w, k)) ** 2).sum(1)  # [S]
    return float(err.mean()), math.sqrt(var / MC_SAMPLES)


def _agrees_mc(value: float, inst: Instance) -> tuple[bool, str]:
    mean, se = monte_carlo(inst)
    ok = abs(mean - value) <= MC_SIGMAS * se + REL_TOL * (1 + abs(value))
    return ok, f"Monte Carlo {mean!r} ± {se:.3g} (exact SE, {MC_SAMPLES} samples)"


def check_l1r(inst: Instance) -> None:
    """C-L1R: closed form (inside + orthogonal part) = direct average over the support = Monte Carlo."""
    inside, outside, direct = lemma1_terms(inst)
    closed = inside + outside
    violation(abs(closed - direct) <= REL_TOL * (1 + direct),
              f"closed form {closed!r} ≠ direct Σπ‖x − x̂‖² = {direct!r} (d = {inst.extra['d']})")
    ok, mc = _agrees_mc(closed, inst)
    violation(ok, f"closed form {closed!r} disagrees with the {mc}")


def check_l1r_no_perp_mutant(inst: Instance) -> None:
    """Near miss: Lemma 1 in concept coordinates only, without the part of x̂ outside span(V)."""
    inside, _, direct = lemma1_terms(inst)
    violation(abs(inside - direct) <= REL_TOL * (1 + direct),
              f"Σπ‖1_S − c‖² = {inside!r} ≠ direct {direct!r} (d = {inst.extra['d']}, n = {inst.pmf.n})")


def check_l1r_no_cross_mutant(inst: Instance) -> None:
    """Mutant: the expansion without the cross term, E‖x‖² + E‖x̂‖² (−2E⟨x, x̂⟩ dropped), against Monte Carlo."""
    V, w, k = _sae(inst)
    X = _indicators(inst) @ V
    Xh = _reconstruct(X, w, k)
    p = np.asarray(inst.pmf.probs, dtype=np.float64)
    wrong = float(p @ ((X**2).sum(1) + (Xh**2).sum(1)))
    ok, mc = _agrees_mc(wrong, inst)
    violation(ok, f"E‖x‖² + E‖x̂‖² = {wrong!r} disagrees with the {mc}")


CLAIM = Claim(
    id="C-L1R",
    title="Lemma 1 in R^d",
    statement="With orthonormal concept directions V (d ≥ n) and any real TopK SAE (encoder, biases, decoder), "
    "E‖x − x̂‖² = Σ_S π(S) (Σ_i (1[i∈S] − c_i(S))² + ‖x̂_⊥(S)‖²), c = V x̂; this equals the direct average and "
    "a Monte Carlo average of ‖x − x̂‖² (within 6 standard errors).",
    check=check_l1r,
    strategy=lambda cl: _l1r_draws(cl),
    applies_to=FREE,
    scope="Any pmf with n ≤ 4, d ∈ [n, n + 3], random real SAEs of width ≤ 4 with TopK-ReLU, encoder bias "
    "and optional decoder bias; orthonormal V (A1). The class and mode of the instance are not used.",
    mutants=(
        Mutant("Lemma 1 without the part of x̂ outside span(V)", check_l1r_no_perp_mutant,
               lambda: _l1r_draws(FREE), name="no-orthogonal-part", near_miss=True),
        Mutant("E‖x − x̂‖² = E‖x‖² + E‖x̂‖² (cross term dropped)", check_l1r_no_cross_mutant,
               lambda: _l1r_draws(FREE), name="no-cross-term"),
    ),
    ci_examples=60,
)
