"""Metrics of trained SAEs against their DGP (DESIGN §6): R, D, P_dec, P_enc, P_joint, dead latents, MCC.

With constant magnitudes and no noise (:attr:`DGP.exact`) every sample is one of the N support points
x(S) = Σ_{i∈S} v_i, so the metrics are computed **exactly** by enumerating the support (no sampling):

    R = Σ_S π(S)·#{j : |f_j(x(S))| > 1e−9},        D = Σ_S π(S)·||x(S) − x̂(x(S))||²,

in float64 (exact up to floating-point rounding), with every SAE in inference mode (BatchTopK uses its
estimated threshold). Otherwise R and D are Monte Carlo means over ``samples`` fresh samples with a 95%
normal-approximation interval (mean ± 1.96·sd/√n).

Weight metrics (same in both cases):

* P_dec = P(W_dec) over the nonzero decoder rows, P_enc = P(W_encᵀ) over the nonzero encoder columns
  W_enc[:, j], P_joint = (P_enc + P_dec)/2 (DESIGN §1.3, :func:`rdp_exact.polysemanticity.polysemanticity`);
  the ``*_live`` variants average over live latents only.
* A latent is **dead** when it is inactive on every support event (exact) or on every sample (Monte Carlo).
* **MCC** (mean matched cosine against V): the n × m table |cos(v_i, w_j)| of concept directions against
  decoder rows is matched one-to-one by the Hungarian method (``scipy.optimize.linear_sum_assignment``,
  maximising the total); MCC = (1/n)·Σ_i |cos| of concept i's partner, a concept left without a partner
  (m < n) counting 0. MCC = 1 iff every concept has its own decoder row parallel to it (up to sign).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from rdp_exact.errors import InvalidArgument
from rdp_exact.polysemanticity import joint, polysemanticity
from sae_train.data import DGP, Sampler
from sae_train.models.base import BatchedSAE

#: A latent counts as active on an input when |f_j| > ACTIVE_TOL (absorbs float rounding, e.g. a pre-activation
#: of 1e−17 where the exact value is 0).
ACTIVE_TOL = 1e-9

#: z-value of the 95% normal interval.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class SAEMetrics:
    """R, D and weight metrics of one SAE."""

    rate: float
    """Expected L0 (exact or Monte Carlo mean)."""
    distortion: float
    """Expected squared error E||x − x̂||²."""
    poly_dec: float
    """P over nonzero decoder rows."""
    poly_enc: float
    """P over nonzero encoder columns."""
    poly_joint: float
    """(poly_enc + poly_dec) / 2."""
    poly_dec_live: float
    """P_dec over live latents only."""
    poly_enc_live: float
    """P_enc over live latents only."""
    poly_joint_live: float
    """(poly_enc_live + poly_dec_live) / 2."""
    dead: int
    """Number of latents never active."""
    mcc: float
    """Mean matched |cos| between concepts and decoder rows (module docstring)."""
    exact: bool
    """True when R and D come from enumerating the support."""
    rate_ci: float | None = None
    """Half-width of the 95% interval on R (None when exact)."""
    distortion_ci: float | None = None
    """Half-width of the 95% interval on D (None when exact)."""
    samples: int | None = None
    """Monte Carlo sample size (None when exact)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def mcc(W_dec: np.ndarray, V: np.ndarray) -> float:
    """Mean matched |cos| of concept directions V [n, d] against decoder rows W_dec [m, d] (Hungarian)."""
    W = np.asarray(W_dec, dtype=np.float64)
    Vn = np.asarray(V, dtype=np.float64)
    Vn = Vn / np.linalg.norm(Vn, axis=1, keepdims=True)
    norms = np.linalg.norm(W, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    C = np.abs(Vn @ (W / safe[:, None]).T)  # [n, m]
    C[:, norms == 0] = 0.0
    if not np.all(np.isfinite(C)):
        return float("nan")
    rows, cols = linear_sum_assignment(C, maximize=True)
    return float(C[rows, cols].sum() / Vn.shape[0])


def weight_metrics(W_dec: np.ndarray, W_enc: np.ndarray, V: np.ndarray, live: np.ndarray) -> dict[str, float]:
    """P_dec, P_enc, P_joint (all nonzero rows and live latents only) and MCC of one SAE.

    W_dec [m, d], W_enc [d, m] (SAELens layout), V [n, d], live [m] bool.
    """
    W_dec = np.asarray(W_dec, dtype=np.float64)
    E = np.asarray(W_enc, dtype=np.float64).T  # [m, d]
    if not (np.all(np.isfinite(W_dec)) and np.all(np.isfinite(E))):
        nan = float("nan")
        return dict.fromkeys(
            ("poly_dec", "poly_enc", "poly_joint", "poly_dec_live", "poly_enc_live", "poly_joint_live", "mcc"), nan
        )
    p_dec = polysemanticity(W_dec, V)
    p_enc = polysemanticity(E, V)
    p_dec_l = polysemanticity(W_dec, V, rows=live)
    p_enc_l = polysemanticity(E, V, rows=live)
    return {
        "poly_dec": p_dec,
        "poly_enc": p_enc,
        "poly_joint": joint(p_enc, p_dec),
        "poly_dec_live": p_dec_l,
        "poly_enc_live": p_enc_l,
        "poly_joint_live": joint(p_enc_l, p_dec_l),
        "mcc": mcc(W_dec, V),
    }


def _float64_copy(model: BatchedSAE) -> BatchedSAE:
    m = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
    m.eval()
    return m


def _assemble(model: BatchedSAE, dgp: DGP, rate: np.ndarray, dist: np.ndarray, active: np.ndarray,
              exact: bool, rate_ci: np.ndarray | None, dist_ci: np.ndarray | None,
              samples: int | None) -> list[SAEMetrics]:
    out = []
    for b in range(model.B):
        wm = weight_metrics(
            model.W_dec[b].detach().numpy(), model.W_enc[b].detach().numpy(), dgp.V, active[b]
        )
        out.append(
            SAEMetrics(
                rate=float(rate[b]),
                distortion=float(dist[b]),
                dead=int((~active[b]).sum()),
                exact=exact,
                rate_ci=None if rate_ci is None else float(rate_ci[b]),
                distortion_ci=None if dist_ci is None else float(dist_ci[b]),
                samples=samples,
                **wm,
            )
        )
    return out


@torch.no_grad()
def evaluate_exact(model: BatchedSAE, dgp: DGP) -> list[SAEMetrics]:
    """Exact metrics of every SAE of ``model`` by enumerating the support (needs :attr:`DGP.exact`)."""
    if not dgp.exact:
        raise InvalidArgument(
            "exact evaluation needs constant magnitudes and no noise; use evaluate() for a Monte Carlo estimate"
        )
    if dgp.d != model.d:
        raise InvalidArgument(f"the DGP has d = {dgp.d} but the SAE has d = {model.d}")
    m64 = _float64_copy(model)
    X = torch.from_numpy(dgp.support_points())  # [N, d]
    out = m64(X, training=False)
    f = out.latents  # [B, N, m]
    on = f.abs() > ACTIVE_TOL
    l0 = on.sum(-1).to(torch.float64)  # [B, N]
    err = ((X[None] - out.reconstruction) ** 2).sum(-1)  # [B, N]
    p = torch.tensor(dgp.pmf.probs, dtype=torch.float64)  # [N]
    rate = (l0 @ p).numpy()
    dist = (err @ p).numpy()
    active = on.any(1).numpy()  # [B, m]
    return _assemble(m64, dgp, rate, dist, active, True, None, None, None)


@torch.no_grad()
def evaluate_mc(model: BatchedSAE, dgp: DGP, *, samples: int = 65536, seed: int = 12345,
                chunk: int = 8192) -> list[SAEMetrics]:
    """Monte Carlo metrics from ``samples`` fresh samples (seeded), with 95% intervals on R and D."""
    if samples < 2:
        raise InvalidArgument(f"Monte Carlo evaluation needs at least 2 samples, got {samples}")
    if dgp.d != model.d:
        raise InvalidArgument(f"the DGP has d = {dgp.d} but the SAE has d = {model.d}")
    m64 = _float64_copy(model)
    sampler = Sampler(dgp, seed, "cpu", torch.float64)
    s_l0 = torch.zeros(model.B, dtype=torch.float64)
    s_l0_2 = torch.zeros_like(s_l0)
    s_err = torch.zeros_like(s_l0)
    s_err_2 = torch.zeros_like(s_l0)
    active = torch.zeros(model.B, model.m, dtype=torch.bool)
    left = samples
    while left > 0:
        nb = min(chunk, left)
        left -= nb
        X = sampler.next(nb)
        out = m64(X, training=False)
        on = out.latents.abs() > ACTIVE_TOL
        l0 = on.sum(-1).to(torch.float64)
        err = ((X[None] - out.reconstruction) ** 2).sum(-1)
        s_l0 += l0.sum(-1)
        s_l0_2 += (l0 * l0).sum(-1)
        s_err += err.sum(-1)
        s_err_2 += (err * err).sum(-1)
        active |= on.any(1)
    n = float(samples)

    def mean_ci(s: torch.Tensor, s2: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        mean = s / n
        var = torch.clamp((s2 - n * mean * mean) / (n - 1), min=0.0)
        return mean.numpy(), (Z95 * torch.sqrt(var / n)).numpy()

    rate, rate_ci = mean_ci(s_l0, s_l0_2)
    dist, dist_ci = mean_ci(s_err, s_err_2)
    return _assemble(m64, dgp, rate, dist, active.numpy(), False, rate_ci, dist_ci, samples)


def evaluate(model: BatchedSAE, dgp: DGP, *, samples: int = 65536, seed: int = 12345) -> list[SAEMetrics]:
    """Exact metrics when the DGP allows (:attr:`DGP.exact`), else Monte Carlo with 95% intervals."""
    if dgp.exact:
        return evaluate_exact(model, dgp)
    return evaluate_mc(model, dgp, samples=samples, seed=seed)


def is_finite_metrics(m: SAEMetrics) -> bool:
    """Whether R and D are finite numbers."""
    return math.isfinite(m.rate) and math.isfinite(m.distortion)
