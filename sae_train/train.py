"""Batched SAE training (DESIGN §6): B SAEs as one tensor program, and a one-at-a-time reference.

:func:`train` stacks every SAE of a :class:`TrainConfig` (the product of its k values, learning rates,
sparsity coefficients and seeds) along the leading axis of one :class:`~sae_train.models.BatchedSAE`
and runs one training loop for all of them:

1. draw a batch x [batch, d] from the DGP (one shared stream seeded by ``data_seed``); on an exact DGP
   with a per-sample architecture the batch is passed as its distinct support points weighted by
   count/batch (same loss and gradient, fewer rows; ``compress_batch``), and with
   ``objective='expected'`` every step uses all support points weighted by π instead of a sample (for TopK
   the loss and gradient are then computed in closed form, without autograd:
   :mod:`sae_train.models.topk_expected`, ``closed_form``);
2. forward every SAE, per-SAE losses [B]; an SAE whose loss is not finite or exceeds
   ``diverge_factor`` × max(its first loss, E||x||² of the first batch, 1e−8) is marked **diverged** at this
   step and frozen from then on (its updates are masked, the others continue unaffected);
3. backward Σ_b loss_b over the live SAEs (the SAEs share no parameter, so each gets its own gradient);
4. decoder gradient projected onto the unit-row tangent space (architectures with unit-norm decoders,
   when ``project_decoder_grad``);
5. one Adam step per SAE with its own learning rate (Adam is elementwise, so batched moments along the
   leading axis are B independent optimisers; the update mirrors ``torch.optim.Adam``);
6. BatchTopK threshold statistics; decoder rows renormalised to unit norm (TopK, BatchTopK, JumpReLU).

Metrics (R, D, P, dead latents, MCC; :mod:`sae_train.evaluate`) are logged every ``log_every`` steps
and at the end — exactly when the DGP allows, else by Monte Carlo.

:func:`train_loop_reference` trains the same SAEs one at a time with ``torch.optim.Adam``; the tests
check that both give the same weights.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from rdp_exact.errors import InvalidArgument
from rdp_exact.validate import check_distinct
from sae_train.data import DGP, Sampler, support_factors, support_objective
from sae_train.evaluate import SAEMetrics, evaluate
from sae_train.models import ARCHITECTURES, INITS, BatchedSAE, build_model, get_architecture
from sae_train.models.base import SAEOutput, row_mean
from sae_train.models.init import init_from_atoms, init_mono, init_random
from sae_train.models.topk import TopKSAE
from sae_train.models.topk_expected import TopKExpectedObjective

log = logging.getLogger(__name__)

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
#: Training objectives (``--objective``): a sampled batch per step, or the exact π-weighted loss over the support.
OBJECTIVES: tuple[str, ...] = ("sampled", "expected")
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}

#: Floor of the divergence reference scale (guards data with E||x||² = 0).
REF_FLOOR = 1e-8

#: Default sparsity coefficient per architecture (L1 for ReLU, L0 for JumpReLU; unused otherwise).
DEFAULT_SPARSITY: dict[str, float] = {"topk": 0.0, "batchtopk": 0.0, "relu": 0.05, "jumprelu": 0.05}


def resolve_device(device: str) -> torch.device:
    """``auto`` → CUDA when available else CPU; ``cuda`` without CUDA is an InvalidArgument."""
    if device not in DEVICES:
        raise InvalidArgument(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidArgument("device 'cuda' requested but CUDA is not available (use --device cpu or auto)")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _tuple(x: Any) -> tuple[Any, ...]:
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


@dataclass(frozen=True)
class SAESpec:
    """Hyper-parameters of one SAE of the batch."""

    index: int
    """Position along the leading axis."""
    seed: int
    """Initialisation seed."""
    lr: float
    """Adam learning rate."""
    k: int | None
    """Cap k (TopK: per sample; BatchTopK: average per sample) or None for architectures without one."""
    sparsity: float
    """L1 (ReLU) or L0 (JumpReLU) coefficient λ; 0 for the TopK family."""


@dataclass(frozen=True)
class TrainConfig:
    """What to train. Every SAE of the product k × lr × sparsity × seed is trained in one batch."""

    arch: str
    """Architecture name in :data:`sae_train.models.ARCHITECTURES`."""
    width: int
    """m, number of latents (≥ 1)."""
    steps: int
    """Optimiser steps (≥ 1)."""
    k: tuple[int, ...] = ()
    """Cap values (1 ≤ k ≤ width); required for TopK/BatchTopK and for ``init='exact'``, ignored by
    the training of ReLU/JumpReLU otherwise."""
    seeds: tuple[int, ...] = (0,)
    """Initialisation seeds."""
    lr: tuple[float, ...] = (1e-2,)
    """Adam learning rates (> 0)."""
    sparsity: tuple[float, ...] = ()
    """λ values (≥ 0) for ReLU (L1) / JumpReLU (L0); empty means :data:`DEFAULT_SPARSITY`."""
    batch_size: int = 256
    """Samples per step."""
    init: str = "random"
    """``random`` | ``mono`` | ``exact`` (see :mod:`sae_train.models.init`)."""
    zero_bias: bool = False
    """A2: keep b_enc = b_dec = 0 (not trained)."""
    exact_normalize: bool | None = None
    """``init='exact'``: unit-norm atom rows (None: the architecture's decoder convention)."""
    project_decoder_grad: bool = True
    """Project the decoder gradient onto the unit-row tangent space (unit-norm architectures only)."""
    bandwidth: float = 1e-3
    """JumpReLU: kernel bandwidth ε of the pseudo-derivatives."""
    threshold_init: float = 1e-3
    """JumpReLU: initial threshold θ."""
    threshold_beta: float = 0.99
    """BatchTopK: decay of the moving average of the inference threshold."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam (β1, β2)."""
    eps: float = 1e-8
    """Adam ε."""
    device: str = "auto"
    """``auto`` | ``cpu`` | ``cuda``."""
    dtype: str = "float32"
    """Training precision (``float32`` | ``float64``); evaluation is always float64."""
    log_every: int = 0
    """Evaluate every this many steps (0: only at the end)."""
    data_seed: int = 0
    """Seed of the shared sample stream."""
    diverge_factor: float = 1e6
    """Loss explosion factor that marks an SAE as diverged."""
    eval_samples: int = 65536
    """Monte Carlo sample size when the DGP is not exact."""
    objective: str = "sampled"
    """``sampled``: each step draws ``batch_size`` samples (the dynamics the paper trains); ``expected``: each
    step uses the exact expected loss Σ_S π(S)·loss(x(S)) over the support events (no sampling noise; needs
    an exact DGP and a per-sample architecture, i.e. not BatchTopK)."""
    compress_batch: bool = True
    """Sampled objective on an exact DGP, per-sample architecture: evaluate each distinct event of a batch
    once, weighted by its count (the same loss and gradient as the full batch, with ≤ N rows)."""
    threads: int = 0
    """Torch CPU threads during training (0: leave torch's setting unchanged)."""
    closed_form: bool = True
    """Expected objective with TopK: compute the loss and gradient in closed form from the support's
    coordinates (:mod:`sae_train.models.topk_expected`: the same values as autograd over the N support rows,
    without forming them); False: autograd over the support rows weighted by π."""

    def __post_init__(self) -> None:
        cls = get_architecture(self.arch)
        for name in ("k", "seeds", "lr", "sparsity"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        for name in ("width", "steps", "batch_size", "log_every", "data_seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidArgument(f"{name.replace('_', '-')} must be an integer, got {v!r}")
        if self.width < 1:
            raise InvalidArgument(f"width must be at least 1, got {self.width}")
        if self.steps < 1:
            raise InvalidArgument(f"steps must be positive, got {self.steps}")
        if self.batch_size < 1:
            raise InvalidArgument(f"batch size must be positive, got {self.batch_size}")
        if self.log_every < 0:
            raise InvalidArgument(f"log-every must be ≥ 0, got {self.log_every}")
        for kv in self.k:
            if isinstance(kv, bool) or not isinstance(kv, int) or kv < 1:
                raise InvalidArgument(f"k must be a positive integer, got {kv!r}")
            if kv > self.width:
                raise InvalidArgument(f"k = {kv} exceeds the width m = {self.width}")
        if cls.uses_k and not self.k:
            raise InvalidArgument(f"architecture {self.arch!r} needs k (--k)")
        if self.init not in INITS:
            raise InvalidArgument(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.init == "exact" and not self.k:
            raise InvalidArgument("init 'exact' needs k (--k) to define the exact problem")
        if not self.seeds:
            raise InvalidArgument("give at least one seed")
        for s in self.seeds:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise InvalidArgument(f"seeds must be integers ≥ 0, got {s!r}")
        if not self.lr:
            raise InvalidArgument("give at least one learning rate")
        for v in self.lr:
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise InvalidArgument(f"learning rate must be a finite number > 0, got {v!r}")
        for v in self.sparsity:
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InvalidArgument(f"sparsity coefficient (--l1) must be a finite number ≥ 0, got {v!r}")
        for name in ("k", "seeds", "lr", "sparsity"):  # a repeated value would train the same SAE twice
            check_distinct(name, getattr(self, name))
        if self.device not in DEVICES:
            raise InvalidArgument(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.dtype not in DTYPES:
            raise InvalidArgument(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        for name in ("bandwidth", "threshold_init", "eps", "diverge_factor"):
            v = getattr(self, name)
            if not math.isfinite(v) or v <= 0:
                raise InvalidArgument(f"{name.replace('_', '-')} must be a finite number > 0, got {v!r}")
        if not 0 < self.threshold_beta < 1:
            raise InvalidArgument(f"threshold-beta must be in (0, 1), got {self.threshold_beta!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise InvalidArgument(f"Adam betas must be two numbers in [0, 1), got {self.betas!r}")
        if self.eval_samples < 2:
            raise InvalidArgument(f"eval-samples must be at least 2, got {self.eval_samples}")
        if self.objective not in OBJECTIVES:
            raise InvalidArgument(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.objective == "expected" and not cls.per_sample:
            raise InvalidArgument(f"objective 'expected' needs a per-sample architecture; {self.arch!r} couples "
                                  "the samples of a batch (use --objective sampled)")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 0:
            raise InvalidArgument(f"threads must be an integer ≥ 0, got {self.threads!r}")

    @property
    def architecture(self) -> type[BatchedSAE]:
        """The architecture class."""
        return ARCHITECTURES[self.arch]

    def specs(self) -> tuple[SAESpec, ...]:
        """One spec per SAE: the product k × lr × sparsity × seed (seed varying fastest)."""
        ks: tuple[int | None, ...] = self.k if self.k else (None,)
        sps = self.sparsity if self.sparsity else (DEFAULT_SPARSITY[self.arch],)
        if self.architecture.sparsity_name is None:
            sps = (0.0,)
        out = []
        for i, (kv, lr, sp, seed) in enumerate(itertools.product(ks, self.lr, sps, self.seeds)):
            out.append(SAESpec(index=i, seed=seed, lr=float(lr), k=kv, sparsity=float(sp)))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``training`` block of cfg.json)."""
        d = asdict(self)
        for key in ("k", "seeds", "lr", "sparsity", "betas"):
            d[key] = list(d[key])
        return d


def make_model(
    dgp: DGP,
    cfg: TrainConfig,
    specs: Sequence[SAESpec],
    *,
    exact_atoms: Mapping[int, Sequence[int]] | None = None,
    device: torch.device | str = "cpu",
) -> BatchedSAE:
    """Build and initialise the SAEs of ``specs`` (one per spec) on ``device``."""
    options: dict[str, Any] = {}
    if cfg.arch == "jumprelu":
        options = {"bandwidth": cfg.bandwidth, "threshold_init": cfg.threshold_init}
    uses_k = cfg.architecture.uses_k
    model = build_model(
        cfg.arch,
        len(specs),
        dgp.d,
        cfg.width,
        k=[s.k or 1 for s in specs] if uses_k else None,
        sparsity_coef=[s.sparsity for s in specs],
        zero_bias=cfg.zero_bias,
        dtype=DTYPES[cfg.dtype],
        options=options,
    )
    if cfg.arch == "batchtopk":
        model.threshold_beta = cfg.threshold_beta  # type: ignore[assignment]
    seeds = [s.seed for s in specs]
    if cfg.init == "random":
        init_random(model, seeds)
    elif cfg.init == "mono":
        init_mono(model, dgp.V, seeds)
    else:
        if exact_atoms is None:
            raise InvalidArgument("init 'exact' needs the exact solution's atoms (see exact_init_atoms)")
        missing = sorted({s.k for s in specs if s.k not in exact_atoms}, key=str)
        if missing:
            raise InvalidArgument(f"no exact atoms given for k = {missing}")
        init_from_atoms(model, dgp.V, [exact_atoms[s.k] for s in specs], seeds,  # type: ignore[index]
                        normalize=cfg.exact_normalize)
    return model.to(device)


def exact_init_atoms(dgp: DGP, cfg: TrainConfig, *, solver: str = "auto") -> dict[int, tuple[int, ...]]:
    """Atoms of the exact D*_k optimum (free class, integer coefficients) for each k of ``cfg``."""
    from rdp_exact.problem import Problem
    from rdp_exact.solvers import solve

    out: dict[int, tuple[int, ...]] = {}
    for kv in cfg.k:
        sol = solve(Problem(dgp.pmf, width=cfg.width, k=kv), solver)
        if sol.sae is None:
            raise InvalidArgument(f"the exact solver found no SAE for width {cfg.width}, k = {kv} ({sol.status.value})")
        out[kv] = tuple(sol.sae.atoms)
    return out


class BatchedAdam:
    """Adam over the leading SAE axis with a learning rate per SAE and a mask of live SAEs.

    Same arithmetic as ``torch.optim.Adam`` (no weight decay, no amsgrad), applied only where the mask is
    true: moments and parameters of masked SAEs are left unchanged.
    """

    def __init__(self, params: Mapping[str, torch.nn.Parameter], lr: torch.Tensor,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = dict(params)
        self.lr = lr  # [B]
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.step_count = 0
        self.exp_avg = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in self.params.items()}

    @torch.no_grad()
    def step(self, active: torch.Tensor) -> None:
        """One update of every SAE with ``active[b]``."""
        self.step_count += 1
        t = self.step_count
        bc1 = 1 - self.beta1**t
        bc2_sqrt = math.sqrt(1 - self.beta2**t)
        if bool(active.all()):
            self._step_all(bc1, bc2_sqrt)
            return
        for name, p in self.params.items():
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            shape = (-1,) + (1,) * (p.ndim - 1)
            step_size = (self.lr / bc1).reshape(shape)
            m, v = self.exp_avg[name], self.exp_avg_sq[name]
            act = active.reshape(shape)
            m_new = torch.lerp(m, g, 1 - self.beta1)
            v_new = v * self.beta2 + (1 - self.beta2) * g * g
            m.copy_(torch.where(act, m_new, m))
            v.copy_(torch.where(act, v_new, v))
            denom = v.sqrt() / bc2_sqrt + self.eps
            upd = p - step_size * (m / denom)
            p.copy_(torch.where(act, upd, p))

    def _step_all(self, bc1: float, bc2_sqrt: float) -> None:
        """Every SAE live: the same update, in place, as a handful of ``torch._foreach_*`` calls."""
        names = [n for n, p in self.params.items() if p.grad is not None]
        if not names:
            return
        ps: list[torch.Tensor] = [self.params[n] for n in names]
        gs: list[torch.Tensor] = [p.grad for p in ps if p.grad is not None]
        ms = [self.exp_avg[n] for n in names]
        vs = [self.exp_avg_sq[n] for n in names]
        sizes = [(self.lr / bc1).reshape((-1,) + (1,) * (p.ndim - 1)) for p in ps]
        torch._foreach_lerp_(ms, gs, 1 - self.beta1)
        torch._foreach_mul_(vs, self.beta2)
        torch._foreach_addcmul_(vs, gs, gs, value=1 - self.beta2)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, bc2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_div_(denom, sizes)  # denom / step size
        torch._foreach_addcdiv_(ps, ms, denom, value=-1.0)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of a batched run."""

    config: TrainConfig
    specs: tuple[SAESpec, ...]
    model: BatchedSAE = field(repr=False)
    """Final weights, on CPU."""
    metrics: tuple[SAEMetrics, ...]
    """Final metrics per SAE (exact when the DGP allows)."""
    diverged: tuple[bool, ...]
    diverged_step: tuple[int | None, ...]
    """Step at which each SAE was stopped (None if it never diverged)."""
    final_loss: tuple[float, ...]
    """Last training loss per SAE (at its stop step when diverged)."""
    history: tuple[dict[str, Any], ...] = field(repr=False)
    """Logged metrics: one dict per (step, SAE) with ``step``, ``sae``, ``loss`` and the metrics."""
    device: str = "cpu"
    wall_time_s: float = 0.0
    """Whole call: building, training, evaluation."""
    train_time_s: float = 0.0
    """The optimisation steps alone (what the throughput benchmark divides by)."""


def _history_rows(step: int, metrics: Sequence[SAEMetrics], loss: Sequence[float],
                  diverged: Sequence[bool]) -> list[dict[str, Any]]:
    rows = []
    for b, m in enumerate(metrics):
        d = {"step": step, "sae": b, "loss": float(loss[b]), "diverged": bool(diverged[b])}
        d.update({key: getattr(m, key) for key in (
            "rate", "distortion", "poly_dec", "poly_enc", "poly_joint", "dead", "mcc")})
        rows.append(d)
    return rows


def check_dgp(dgp: DGP, cfg: TrainConfig) -> None:
    """InvalidArgument when ``cfg`` cannot train on ``dgp`` (the expected objective needs an exact DGP)."""
    if cfg.objective == "expected" and not dgp.exact:
        raise InvalidArgument("objective 'expected' needs an exact DGP: constant magnitudes and no noise "
                              f"(got magnitudes {dgp.magnitudes!r}, noise {dgp.noise_std:g})")


def batch_source(dgp: DGP, cfg: TrainConfig, device: torch.device,
                 dtype: torch.dtype) -> Callable[[], tuple[torch.Tensor, torch.Tensor | None]]:
    """The per-step input of :func:`train`: a function returning x [rows, d] and row weights [rows] (None for a
    plain batch mean). Expected objective: the support with weights π; sampled on an exact DGP with a
    per-sample architecture (``compress_batch``): the distinct events of the batch with weights count/batch;
    otherwise the ``batch_size`` samples themselves."""
    check_dgp(dgp, cfg)
    if cfg.objective == "expected":
        X, w = support_objective(dgp, device, dtype)
        return lambda: (X, w)
    sampler = Sampler(dgp, cfg.data_seed, device, dtype)
    if cfg.compress_batch and dgp.exact and cfg.architecture.per_sample:
        return lambda: sampler.next_weighted(cfg.batch_size)
    return lambda: (sampler.next(cfg.batch_size), None)


def closed_form_objective(dgp: DGP, cfg: TrainConfig, model: BatchedSAE) -> TopKExpectedObjective | None:
    """The closed-form expected objective of ``model`` when ``cfg`` asks for the expected objective of a TopK
    model with ``closed_form`` (else None: each step runs autograd on the rows of :func:`batch_source`)."""
    if cfg.objective != "expected" or not cfg.closed_form or not isinstance(model, TopKSAE):
        return None
    check_dgp(dgp, cfg)
    return TopKExpectedObjective(model, *support_factors(dgp, model.W_enc.device, model.W_enc.dtype))


def _zero_grads_of_inactive(model: BatchedSAE, active: torch.Tensor) -> None:
    """Set the gradient of every SAE with ``active[b]`` false to zero (NaN-safe)."""
    for p in model.trainable().values():
        if p.grad is not None:
            p.grad = torch.where(active.reshape((-1,) + (1,) * (p.ndim - 1)), p.grad, torch.zeros_like(p.grad))


def _divergence(loss: torch.Tensor, ref: torch.Tensor, factor: float) -> torch.Tensor:
    """[B] bool: loss not finite or above factor × ref."""
    return ~torch.isfinite(loss) | (loss > factor * ref)


def train(
    dgp: DGP,
    cfg: TrainConfig,
    *,
    exact_atoms: Mapping[int, Sequence[int]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train every SAE of ``cfg`` at once (module docstring); return final weights, metrics, history."""
    if cfg.threads:
        saved = torch.get_num_threads()
        torch.set_num_threads(cfg.threads)
        try:
            return _train(dgp, cfg, exact_atoms=exact_atoms, progress=progress)
        finally:
            torch.set_num_threads(saved)
    return _train(dgp, cfg, exact_atoms=exact_atoms, progress=progress)


def _train(
    dgp: DGP,
    cfg: TrainConfig,
    *,
    exact_atoms: Mapping[int, Sequence[int]] | None,
    progress: Callable[[int], None] | None,
) -> TrainResult:
    t0 = time.perf_counter()
    check_dgp(dgp, cfg)
    device = resolve_device(cfg.device)
    specs = cfg.specs()
    model = make_model(dgp, cfg, specs, exact_atoms=exact_atoms, device=device)
    B = len(specs)
    dtype = DTYPES[cfg.dtype]
    lr = torch.tensor([s.lr for s in specs], dtype=dtype, device=device)
    opt = BatchedAdam(model.trainable(), lr, cfg.betas, cfg.eps)
    closed = closed_form_objective(dgp, cfg, model)
    next_batch = batch_source(dgp, cfg, device, dtype)
    active = torch.ones(B, dtype=torch.bool, device=device)
    stop_step: list[int | None] = [None] * B
    last_loss = torch.full((B,), float("nan"), dtype=dtype, device=device)
    ref: torch.Tensor | None = None
    history: list[dict[str, Any]] = []
    normalize = model.normalize_decoder
    t_train = time.perf_counter()
    for step in range(cfg.steps):
        if cfg.log_every and step % cfg.log_every == 0:
            mets = evaluate(model, dgp, samples=min(cfg.eval_samples, 8192))
            history += _history_rows(step, mets, last_loss.tolist(), [s is not None for s in stop_step])
        out: SAEOutput | None = None
        if closed is not None:  # loss and gradient of every SAE, no autograd
            loss = closed.loss_and_grad(model)
        else:
            x, w = next_batch()
            out = model(x, training=True, weights=w)
            parts = model.loss(x, out, w)
            loss = parts.total.detach()
        if ref is None:
            msq = (torch.tensor(closed.mean_sq_norm, dtype=loss.dtype, device=device) if closed is not None
                   else row_mean((x * x).sum(-1)[None], w)[0])
            scale = torch.clamp(msq, min=REF_FLOOR)
            ref = torch.where(torch.isfinite(loss), torch.maximum(loss, scale), scale)
        bad = active & _divergence(loss, ref, cfg.diverge_factor)
        if bool(bad.any()):
            for b in torch.nonzero(bad).flatten().tolist():
                stop_step[b] = step
                log.warning("SAE %d diverged at step %d (loss %s); its training is stopped", b, step, loss[b].item())
            active = active & ~bad
        last_loss = torch.where(active | bad, loss, last_loss)
        if out is None:
            if not bool(active.all()):
                _zero_grads_of_inactive(model, active)
        else:
            model.zero_grad(set_to_none=True)
            torch.where(active, parts.total, torch.zeros_like(parts.total)).sum().backward()
        if normalize and cfg.project_decoder_grad:
            model.project_decoder_grad()
        opt.step(active)
        if out is not None:
            model.update_statistics(out, active)
        if normalize:
            if bool(active.all()):
                model.normalize_decoder_rows()
            else:
                with torch.no_grad():
                    old = model.W_dec.detach().clone()
                    model.normalize_decoder_rows()
                    model.W_dec.copy_(torch.where(active[:, None, None], model.W_dec, old))
        if progress is not None:
            progress(step + 1)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    train_time_s = time.perf_counter() - t_train
    model = model.to("cpu")
    model.zero_grad(set_to_none=True)
    diverged = tuple(s is not None for s in stop_step)
    metrics = tuple(evaluate(model, dgp, samples=cfg.eval_samples))
    final_loss = tuple(float(v) for v in last_loss.cpu().tolist())
    history += _history_rows(cfg.steps, metrics, final_loss, diverged)
    return TrainResult(
        config=cfg,
        specs=specs,
        model=model,
        metrics=metrics,
        diverged=diverged,
        diverged_step=tuple(stop_step),
        final_loss=final_loss,
        history=tuple(history),
        device=str(device),
        wall_time_s=time.perf_counter() - t0,
        train_time_s=train_time_s,
    )


def train_loop_reference(
    dgp: DGP,
    cfg: TrainConfig,
    *,
    exact_atoms: Mapping[int, Sequence[int]] | None = None,
) -> list[tuple[BatchedSAE, int | None]]:
    """The slow reference: each SAE of ``cfg`` trained alone (B = 1) with ``torch.optim.Adam``.

    Returns, per SAE, its final single-SAE model (on CPU) and the step it diverged at (None if never).
    The sampled objective uses the full batch of rows (never the compressed one). Same data stream,
    initialisation, divergence rule and post-step rules as :func:`train`.
    """
    device = resolve_device(cfg.device)
    out: list[tuple[BatchedSAE, int | None]] = []
    for spec in cfg.specs():
        model = make_model(dgp, cfg, [spec], exact_atoms=exact_atoms, device=device)
        params = list(model.trainable().values())
        opt = torch.optim.Adam(params, lr=spec.lr, betas=cfg.betas, eps=cfg.eps, foreach=False)
        sampler = Sampler(dgp, cfg.data_seed, device, DTYPES[cfg.dtype])
        fixed = support_objective(dgp, device, DTYPES[cfg.dtype]) if cfg.objective == "expected" else None
        ref: float | None = None
        stopped: int | None = None
        for step in range(cfg.steps):
            x, w = fixed if fixed is not None else (sampler.next(cfg.batch_size), None)  # dense rows
            o = model(x, training=True, weights=w)
            parts = model.loss(x, o, w)
            loss = float(parts.total.detach()[0])
            if ref is None:
                scale = max(float(row_mean((x * x).sum(-1)[None], w)[0]), REF_FLOOR)
                ref = max(loss, scale) if math.isfinite(loss) else scale
            if not math.isfinite(loss) or loss > cfg.diverge_factor * ref:
                stopped = step
                break
            opt.zero_grad(set_to_none=True)
            parts.total.sum().backward()
            if model.normalize_decoder and cfg.project_decoder_grad:
                model.project_decoder_grad()
            opt.step()
            model.update_statistics(o, torch.ones(1, dtype=torch.bool, device=device))
            if model.normalize_decoder:
                model.normalize_decoder_rows()
        model.zero_grad(set_to_none=True)
        out.append((model.to("cpu"), stopped))
    return out
