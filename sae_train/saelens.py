"""SAELens 6.x cfg.json semantics: read exactly what SAELens would compute, or refuse (issue 12).

SAELens saves an SAE as ``cfg.json`` + ``sae_weights.safetensors``. The inference behaviour depends on the
architecture and on three flags; this module maps every value SAELens 6.x defines onto rdp's batched models,
exactly (the fixture tests compare encode/decode, R and D with SAELens's own to 1e-9), and refuses anything
it cannot model with :class:`~rdp_exact.errors.InvalidArgument` naming the field.

=============================  ==========================================================================
cfg field                      how it is honoured
=============================  ==========================================================================
``architecture``               ``standard`` → ReLU, ``topk`` → TopK, ``jumprelu`` → JumpReLU (SAELens saves
                               BatchTopK SAEs as JumpReLU with equal thresholds). Anything else (``gated``,
                               ``abstopk``, transcoders, …) is refused.
``apply_b_dec_to_input``       per SAE: encode x − b_dec when true (SAELens's default when absent: true).
``rescale_acts_by_decoder_norm``  TopK only (other SAELens configs have no such field and ignore it): the
                               decoder norms n_j are folded exactly, W_enc[:, j]·n_j, b_enc[j]·n_j,
                               W_dec[j]/n_j, which gives SAELens's latents and reconstruction.
``normalize_activations``      ``none``; ``constant_norm_rescale`` (x·√d/‖x‖ in, undone on the output);
                               ``layer_norm`` (x − mean, / (std + 1e−5), undone on the output);
                               ``expected_average_only_in`` and ``covariance_whitening``: identity, as in
                               SAELens's inference SAE (their training-time scaling is folded into the
                               weights when SAELens saves, and the saved SAE applies nothing at run time).
``reshape_activations``        ``none`` or ``hook_z`` (a reshape of the hook's [heads, d_head] output;
                               identity on the flat vectors rdp feeds).
``k``                          TopK: a positive integer ≤ d_sae (SAELens's default 100 when absent).
``d_in``, ``d_sae``            must equal the weights' shapes.
``finetuning_scaling_factor``  only false (not part of 6.x inference).
=============================  ==========================================================================

JumpReLU thresholds θ ≤ 0 are stored as 0: SAELens computes ReLU(z)·1[z > θ], which equals ReLU(z) then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from rdp_exact.errors import InvalidArgument
from rdp_exact.validate import check_bool, check_choice, check_count, check_float, check_int, check_object
from sae_train.models import ARCHITECTURES
from sae_train.models.base import BatchedSAE, SAEOutput

#: SAELens ``architecture`` → rdp architecture, for the architectures loaded exactly.
SAELENS_ARCHITECTURES: dict[str, str] = {"standard": "relu", "topk": "topk", "jumprelu": "jumprelu"}
#: rdp architecture → the SAELens architecture its folders are saved as.
RDP_TO_SAELENS: dict[str, str] = {"relu": "standard", "topk": "topk", "jumprelu": "jumprelu", "batchtopk": "jumprelu"}
#: Every ``normalize_activations`` value SAELens 6.x defines.
NORMALIZATIONS: tuple[str, ...] = (
    "none", "expected_average_only_in", "constant_norm_rescale", "layer_norm", "covariance_whitening",
)
#: Values applied at run time (the others are the identity at SAELens inference).
RUNTIME_NORMALIZATIONS: tuple[str, ...] = ("constant_norm_rescale", "layer_norm")
RESHAPES: tuple[str, ...] = ("none", "hook_z")
#: SAELens version whose layout :func:`sae_train.io.saelens_cfg` writes.
SAELENS_LAYOUT_VERSION = "6.54.12"
#: Tensors an SAE folder may hold, per rdp architecture.
_TENSORS = {"W_enc", "b_enc", "W_dec", "b_dec"}
_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
#: SAELens's epsilon of ``layer_norm``.
LAYER_NORM_EPS = 1e-5


@dataclass(frozen=True)
class SAELensSpec:
    """What a cfg.json + weights pair means, after validation."""

    arch: str
    """rdp architecture the weights are loaded into."""
    saelens_architecture: str
    """The cfg's ``architecture``."""
    d_in: int
    """Input dimension d."""
    d_sae: int
    """Number of latents m."""
    k: int | None
    """TopK / BatchTopK cap (None for the other architectures)."""
    apply_b_dec_to_input: bool
    """Encode x − b_dec."""
    rescale_acts_by_decoder_norm: bool
    """TopK: pre-activations scaled by decoder norms (folded into the weights on load)."""
    normalize_activations: str
    """One of :data:`NORMALIZATIONS`."""
    sparsity: float
    """rdp's sparsity coefficient (0 for SAEs written by other tools)."""
    from_rdp: bool
    """Whether the cfg carries an rdp block (written by ``rdp train``)."""


def _where(path: str, field: str) -> str:
    return f"{path}: {field}"


def _version_tuple(v: Any) -> tuple[int, ...] | None:
    if not isinstance(v, str):
        return None
    head = v.split("-")[0].split("+")[0]
    parts = []
    for p in head.split("."):
        digits = "".join(ch for ch in p if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) if parts else None


def is_v6(cfg: dict[str, Any]) -> bool:
    """Whether SAELens reads ``cfg`` without its pre-6.0 converter (``sae_lens_version`` ≥ 6)."""
    v = cfg.get("sae_lens_version")
    meta = cfg.get("metadata")
    if not v and isinstance(meta, dict):
        v = meta.get("sae_lens_version")
    t = _version_tuple(v)
    return t is not None and t >= (6,)


def _bool_field(cfg: dict[str, Any], name: str, default: bool, where: str) -> bool:
    return check_bool(_where(where, name), cfg.get(name, default))


def parse_spec(cfg: Any, tensors: dict[str, Tensor], where: str) -> SAELensSpec:
    """Validate a cfg.json object against its tensors and return what they mean (module docstring).

    ``where`` names the cfg file in messages. Raises InvalidArgument naming the first bad field.
    """
    cfg = check_object(f"{where}: cfg.json", cfg)
    v6 = is_v6(cfg)
    # ---- architecture (pre-6 configs: SAELens's converter defaults it, and maps activation_fn topk → topk)
    arch_s = cfg.get("architecture")
    if arch_s is None and not v6:
        act = cfg.get("activation_fn", cfg.get("activation_fn_str"))
        kw = cfg.get("activation_fn_kwargs")
        arch_s = "topk" if act == "topk" and isinstance(kw, dict) and kw.get("k") is not None else "standard"
    if arch_s not in SAELENS_ARCHITECTURES:
        raise InvalidArgument(
            f"{_where(where, 'architecture')} {arch_s!r} is not supported (rdp loads exactly: "
            f"{', '.join(SAELENS_ARCHITECTURES)})"
        )
    # ---- tensors
    for name in sorted(_TENSORS):
        if name not in tensors:
            raise InvalidArgument(f"{where}: the weights have no tensor {name!r}")
    allowed = _TENSORS | ({"threshold"} if arch_s == "jumprelu" else set()) | {"scaling_factor"}
    extra = sorted(set(tensors) - allowed)
    if extra:
        raise InvalidArgument(f"{where}: unexpected tensor {extra[0]!r} for architecture {arch_s!r}")
    for name, t in tensors.items():
        if t.dtype not in _FLOAT_DTYPES:
            raise InvalidArgument(f"{where}: tensor {name!r} has dtype {t.dtype}, expected a float type")
    if tensors["W_enc"].ndim != 2:
        raise InvalidArgument(f"{where}: W_enc must be a matrix [d_in, d_sae], got shape {tuple(tensors['W_enc'].shape)}")
    d, m = (int(s) for s in tensors["W_enc"].shape)
    shapes = {"W_dec": (m, d), "b_enc": (m,), "b_dec": (d,), "threshold": (m,)}
    for name, shape in shapes.items():
        if name in tensors and tuple(tensors[name].shape) != shape:
            raise InvalidArgument(
                f"{where}: tensor {name!r} has shape {tuple(tensors[name].shape)}, expected {shape} "
                f"(W_enc is [{d}, {m}])"
            )
    if arch_s == "jumprelu" and "threshold" not in tensors:
        raise InvalidArgument(f"{where}: a jumprelu SAE needs a 'threshold' tensor")
    # ---- sizes
    for name, actual in (("d_in", d), ("d_sae", m)):
        if name not in cfg:
            raise InvalidArgument(f"{_where(where, name)} is missing")
        v = check_count(_where(where, name), cfg[name])
        if v != actual:
            raise InvalidArgument(f"{_where(where, name)} = {v} disagrees with the weights ({actual})")
    # ---- flags
    apply_b = _bool_field(cfg, "apply_b_dec_to_input", True, where)
    norm = cfg.get("normalize_activations", "none")
    if not v6 and (norm is None or isinstance(norm, bool)):  # SAELens's pre-6.0 converter
        norm = "expected_average_only_in" if norm else "none"
    if norm not in NORMALIZATIONS:
        raise InvalidArgument(
            f"{_where(where, 'normalize_activations')} {norm!r} is not a SAELens 6.x value "
            f"({', '.join(NORMALIZATIONS)})"
        )
    reshape = cfg.get("reshape_activations", "none")
    check_choice(_where(where, "reshape_activations"), reshape, RESHAPES)
    if cfg.get("finetuning_scaling_factor", False) not in (False, None):
        raise InvalidArgument(f"{_where(where, 'finetuning_scaling_factor')} must be false (not a SAELens 6.x feature)")
    if "scaling_factor" in tensors and not torch.all(tensors["scaling_factor"] == 1):
        raise InvalidArgument(f"{where}: tensor 'scaling_factor' is not all ones (finetuning scaling is not supported)")
    rescale = False
    k: int | None = None
    if arch_s == "topk":
        rescale = _bool_field(cfg, "rescale_acts_by_decoder_norm", False, where)
        k_raw = cfg.get("k")
        if k_raw is None and not v6 and isinstance(cfg.get("activation_fn_kwargs"), dict):
            k_raw = cfg["activation_fn_kwargs"].get("k")
        k_raw = 100 if k_raw is None else k_raw  # SAELens's TopKSAEConfig default
        k = check_int(_where(where, "k"), k_raw, min=1, max=m)
    if rescale and bool(torch.any(tensors["W_dec"].norm(dim=-1) == 0)):
        raise InvalidArgument(
            f"{_where(where, 'rescale_acts_by_decoder_norm')} is true but a decoder row is zero (SAELens divides by it)"
        )
    # ---- the rdp block (SAEs written by rdp train)
    rdp = cfg.get("rdp")
    if rdp is None:
        return SAELensSpec(arch=SAELENS_ARCHITECTURES[arch_s], saelens_architecture=arch_s, d_in=d, d_sae=m, k=k,
                           apply_b_dec_to_input=apply_b, rescale_acts_by_decoder_norm=rescale,
                           normalize_activations=norm, sparsity=0.0, from_rdp=False)
    rdp = check_object(_where(where, "rdp"), rdp)
    arch = rdp.get("arch", SAELENS_ARCHITECTURES[arch_s])
    check_choice(_where(where, "rdp.arch"), arch, ARCHITECTURES)
    if RDP_TO_SAELENS[arch] != arch_s:
        raise InvalidArgument(
            f"{_where(where, 'rdp.arch')} {arch!r} disagrees with architecture {arch_s!r} "
            f"(expected {RDP_TO_SAELENS[arch]!r})"
        )
    if ARCHITECTURES[arch].uses_k:
        k_rdp = check_int(_where(where, "rdp.k"), rdp.get("k", k), min=1, max=m)
        if arch == "topk" and k_rdp != k:
            raise InvalidArgument(f"{_where(where, 'rdp.k')} = {k_rdp} disagrees with k = {k}")
        k = k_rdp
    if arch == "batchtopk":
        thr = tensors["threshold"]
        if thr.numel() and not bool(torch.all(thr == thr.reshape(-1)[0])):
            raise InvalidArgument(f"{where}: a batchtopk SAE needs equal thresholds for every latent")
    sp = rdp.get("sparsity", 0.0)
    sp = 0.0 if sp is None else sp
    sp = check_float(_where(where, "rdp.sparsity"), sp, min=0.0)
    if rdp.get("seed") is not None:
        check_int(_where(where, "rdp.seed"), rdp["seed"])
    check_bool(_where(where, "rdp.diverged"), rdp.get("diverged", False))
    check_object(_where(where, "rdp.training"), rdp.get("training", {}))
    return SAELensSpec(arch=arch, saelens_architecture=arch_s, d_in=d, d_sae=m, k=k,
                       apply_b_dec_to_input=apply_b, rescale_acts_by_decoder_norm=rescale,
                       normalize_activations=norm, sparsity=float(sp), from_rdp=True)


def prepare_tensors(spec: SAELensSpec, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """The tensors rdp's model of ``spec.arch`` loads: decoder norms folded (rescale), θ ≤ 0 stored as 0."""
    out = {name: t for name, t in tensors.items() if name != "scaling_factor"}
    if spec.rescale_acts_by_decoder_norm:
        n = out["W_dec"].norm(dim=-1)  # [m]
        out["W_enc"] = out["W_enc"] * n[None, :]
        out["b_enc"] = out["b_enc"] * n
        out["W_dec"] = out["W_dec"] / n[:, None]
    if "threshold" in out:
        out["threshold"] = torch.clamp(out["threshold"], min=0.0)
    return out


# ---------------------------------------------------------------------------------- run-time normalisation
class _InputNormalization:
    """Mixin: SAELens's run-time ``normalize_activations`` around an rdp model (forward and encode).

    As in SAELens, the output map needs the input's statistics, so :meth:`decode` alone cannot undo it;
    :meth:`forward` returns the reconstruction in input space.
    """

    normalize_activations: ClassVar[str] = "none"

    def _normalize(self, x: Tensor) -> tuple[Tensor, Any]:
        if self.normalize_activations == "constant_norm_rescale":
            c = (self.d ** 0.5) / x.norm(dim=-1, keepdim=True)  # type: ignore[attr-defined]
            return x * c, lambda y: y / c
        if self.normalize_activations == "layer_norm":
            mu = x.mean(dim=-1, keepdim=True)
            xc = x - mu
            std = xc.std(dim=-1, keepdim=True)
            return xc / (std + LAYER_NORM_EPS), lambda y: y * std + mu
        return x, lambda y: y

    def encode(self, x: Tensor, *, training: bool = False) -> Tensor:
        xn, _ = self._normalize(x)
        return super().encode(xn, training=training)  # type: ignore[misc]

    def forward(self, x: Tensor, *, training: bool = False, **kwargs: Any) -> SAEOutput:
        xn, undo = self._normalize(x)
        out = super().forward(xn, training=training, **kwargs)  # type: ignore[misc]
        return SAEOutput(latents=out.latents, reconstruction=undo(out.reconstruction), pre_acts=out.pre_acts,
                         aux=out.aux)


def _normalized_class(base: type[BatchedSAE], norm: str) -> type[BatchedSAE]:
    name = f"{base.__name__}_{norm}"
    return type(name, (_InputNormalization, base), {"normalize_activations": norm, "__module__": __name__})


#: (architecture, normalisation) → model class with the run-time normalisation.
NORMALIZED_CLASSES: dict[tuple[str, str], type[BatchedSAE]] = {
    (arch, norm): _normalized_class(cls, norm) for arch, cls in ARCHITECTURES.items() for norm in RUNTIME_NORMALIZATIONS
}
for _cls in NORMALIZED_CLASSES.values():
    globals()[_cls.__name__] = _cls  # importable by name (pickling)


def model_class(spec: SAELensSpec) -> type[BatchedSAE]:
    """The class to instantiate for ``spec``."""
    if spec.normalize_activations in RUNTIME_NORMALIZATIONS:
        return NORMALIZED_CLASSES[(spec.arch, spec.normalize_activations)]
    return ARCHITECTURES[spec.arch]


__all__ = [
    "NORMALIZATIONS",
    "RDP_TO_SAELENS",
    "SAELENS_ARCHITECTURES",
    "SAELENS_LAYOUT_VERSION",
    "SAELensSpec",
    "is_v6",
    "model_class",
    "parse_spec",
    "prepare_tensors",
]
