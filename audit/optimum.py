"""Trained SAEs against the exact optimum of the same (π, m, k) (DESIGN §7, issue "audit" item 1).

For every SAE of a training run (a folder written by ``rdp train``: ``dgp.json`` + ``dgp.safetensors``
beside ``sae_*/`` SAELens folders; a folder holding several such runs, e.g. an ``rdp sweep`` output, is
searched for them) the audit reports

* its **exact** (R, D, P_dec, P_enc, P_joint), recomputed from the saved weights and DGP by
  :func:`sae_train.evaluate.evaluate_exact` (runs.csv is not trusted);
* the **exact optimum** of the same (π, m, k), solved once per distinct triple and cached: D*_k (min D
  under the cap alone, DESIGN §1.4), its rate R_opt, its polysemanticity P_opt (P_dec of the free class),
  its atoms and solver status;
* the **monosemantic floor** D_min (C-T5, :func:`rdp_exact.theory.d_min`; when the closed form is too large
  to enumerate, the exact solve of min D subject to P ≤ 0) and the **rate tax** (C-T4,
  :func:`rdp_exact.theory.rate_tax`; empty when the optimum can be monosemantic, ``inf`` when no
  monosemantic SAE of width m reaches D*_k at all);
* the **optimum of its own class** (issue 11, :mod:`audit.optimum_classes`): a trained SAE has real decoder
  rows, nonnegative real codes and (unless fixed at 0) a decoder bias, so it lives in ``real-codes`` or
  ``real-codes + bias`` (DESIGN §1.2b), not in the binary class. ``class``, ``dstar_class``, ``gap_class``
  = D − D*(class) and ``dmin_class`` (the class's monosemantic floor) measure it against the smallest class
  containing it; no SAE can go below its class's proven bound (tested);
* the **binary reference** D*_k: gaps D − D*_k, (D − D*_k)/D*_k and R − R_opt, and ``beats_binary_optimum`` =
  D < D*_k − 1e−9. The binary class (0/1 atoms, unit codes, no bias: A2, A4) does not contain trained SAEs, so
  this column only says how much the larger class is worth on this pmf;
* each latent's **structure**, read from the SAE snapped to a combinatorial SAE (:mod:`audit.snap`), and
  the snapped SAE's exact values (best-response code, and the firing pattern actually observed).

The cap k of the comparison (``k_audit``) is the SAE's k for TopK (a hard per-sample cap); for the other
architectures (BatchTopK's k is an average, ReLU and JumpReLU have none) it is the largest number of
latents the SAE actually activates on a support event, i.e. the per-sample cap the trained SAE obeys.

Bad input (no such folder, DGP files missing, no SAE folders, a DGP outside the exact regime) raises
:class:`~rdp_exact.errors.InvalidArgument` before any solve.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF, format_event
from rdp_exact.problem import TOL, Problem, Solution
from rdp_exact.theory import RateTax, Staircase
from rdp_exact.validate import check_choice, check_count, check_float, check_int, check_optional_finite

log = logging.getLogger(__name__)

#: Files written by :func:`audit.optimum_report.write_optimum_audit`.
AUDIT_CSV = "audit.csv"
LATENTS_CSV = "latents.csv"
OPTIMA_JSON = "optima.json"
REPORT_MD = "report.md"
FIGURES_DIR = "figures"

#: Columns of audit.csv: the contract first, then extras.
AUDIT_COLUMNS: tuple[str, ...] = (
    "sae_dir", "arch", "seed", "width", "k", "rate", "distortion", "poly_dec", "poly_enc", "poly_joint",
    "d_star_k", "rate_opt", "poly_opt", "d_min", "rate_tax", "gap_d", "gap_d_rel", "beats_binary_optimum",
    "snapped_rate", "snapped_distortion", "snapped_poly", "n_dead", "n_mono", "n_hedged", "n_splitting",
    "n_absorbing", "optimum_status", "class", "dstar_class", "gap_class", "dmin_class",
    # extras
    "k_audit", "gap_r", "snapped_obs_rate", "snapped_obs_distortion", "snapped_obs_poly", "n_unaligned",
    "n_mixed", "snapped_atoms", "optimal_atoms", "bias_concepts", "mcc", "diverged", "optimum_exact",
    "optimum_solver", "d_min_source", "pmf_sha256", "l0", "mse",
    "k_class", "dstar_class_bound", "class_exact", "class_status", "class_method", "dmin_class_bound",
    "dmin_class_exact", "class_contained", "class_code_bound",
)
LATENT_COLUMNS: tuple[str, ...] = (
    "sae_dir", "latent", "kind", "atom", "max_cos", "encoder_signs", "fires_on", "absorbing", "absorbed",
    "evidence", "partners",
)

ProgressFn = Callable[[str], None]


# ------------------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class OptimumAuditConfig:
    """Options of ``rdp audit optimum``."""

    solver: str = "auto"
    """Exact backend: auto | brute | highs | cpsat."""
    time_limit: float | None = None
    """Per-solve time limit in seconds (None: none). A solve stopped early is reported with status ``limit``."""
    cos_threshold: float = 0.5
    """τ of the snapping (decoder cosine above which a concept belongs to a latent's atom)."""
    enc_threshold: float = 0.25
    """τ_enc of the encoder sign pattern."""
    rate_points: int = 6
    """Rate budgets r of the D*(r) points drawn in the R–D figure (0: none)."""
    figures: bool = True
    """Write the figures."""
    max_atom_figures: int = 64
    """At most this many per-SAE atom figures."""
    threads: int | None = None
    """Solver threads (None: the backend's default)."""
    class_time_limit: float | None = 5.0
    """Seconds per solve of each SAE's own class optimum and floor (real-codes ± bias; SCIP may stop at the
    limit with a proven bound, status ``limit``). None: no limit."""

    def __post_init__(self) -> None:
        from rdp_exact.solvers import SOLVER_CHOICES

        check_choice("solver", self.solver, SOLVER_CHOICES)
        check_optional_finite("time limit", self.time_limit, positive=True)
        check_optional_finite("class time limit", self.class_time_limit, positive=True)
        for name in ("cos_threshold", "enc_threshold"):
            check_float(name.replace("_", "-"), getattr(self, name), min=0.0, max=1.0, max_exclusive=True)
        for name in ("rate_points", "max_atom_figures"):
            check_int(name.replace("_", "-"), getattr(self, name), min=0)
        if self.threads is not None:
            check_count("threads", self.threads)


# ------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class OptimumRef:
    """The exact optimum of one (π, m, k), with the theory's floor and tax."""

    pmf: ConceptPMF = field(repr=False)
    width: int
    k: int
    solution: Solution = field(repr=False)
    """min D under the cap k (D*_k), canonical."""
    d_min: float
    """D_min(m, k) (C-T5)."""
    d_min_source: str
    """``theory`` (closed form) or ``solver`` (min D s.t. P ≤ 0)."""
    tax: RateTax | None
    """C-T4 (None when the optimum can be monosemantic)."""
    staircase: Staircase | None = field(repr=False)
    """Exact monosemantic staircase (None when too large or figures are off)."""
    rd_points: tuple[tuple[float, Solution], ...] = field(default=(), repr=False)
    """(rate budget r, solution of min D s.t. R ≤ r) for the figure."""

    @property
    def d_star_k(self) -> float:
        return float(self.solution.distortion) if self.solution.distortion is not None else math.nan

    @property
    def rate_opt(self) -> float:
        return float(self.solution.rate) if self.solution.rate is not None else math.nan

    @property
    def poly_opt(self) -> float:
        return float(self.solution.poly) if self.solution.poly is not None else math.nan

    @property
    def status(self) -> str:
        return self.solution.status.value

    @property
    def exact(self) -> bool:
        return self.solution.is_exact

    @property
    def tax_value(self) -> float | None:
        """The rate tax (inf when unreachable; None when there is none)."""
        return None if self.tax is None else float(self.tax.tax)

    def atoms_text(self) -> str:
        names = self.pmf.names()
        sae = self.solution.sae
        if sae is None:
            return ""
        live = self.solution.evaluation.live if self.solution.evaluation is not None else (True,) * sae.width
        return " ".join(format_event(a, names) for a, ok in zip(sae.atoms, live, strict=True) if ok and a)


@dataclass(frozen=True)
class SAEAudit:
    """One trained SAE beside its optimum."""

    sae_dir: str
    """Folder relative to the audited runs folder."""
    arch: str
    seed: int | None
    width: int
    k: int | None
    """The SAE's own k (None for architectures without one)."""
    k_audit: int
    """Cap of the comparison (module docstring)."""
    metrics: Any = field(repr=False)
    """:class:`sae_train.evaluate.SAEMetrics` (exact)."""
    snapped: Any = field(repr=False)
    """:class:`audit.snap.SnappedSAE`, or None when the weights are not finite."""
    optimum: OptimumRef = field(repr=False)
    diverged: bool = False
    class_ref: Any = field(default=None, repr=False)
    """:class:`audit.optimum_classes.ClassRef`: optimum and floor of the smallest class containing the SAE."""
    d: int | None = None
    """Input dimension (for the SAEBench-style ``mse`` = D / d alias)."""

    @property
    def gap_d(self) -> float:
        return self.metrics.distortion - self.optimum.d_star_k

    @property
    def gap_d_rel(self) -> float:
        ds = self.optimum.d_star_k
        if ds > TOL:
            return self.gap_d / ds
        return 0.0 if abs(self.gap_d) <= TOL else math.copysign(math.inf, self.gap_d)

    @property
    def gap_r(self) -> float:
        return self.metrics.rate - self.optimum.rate_opt

    @property
    def gap_class(self) -> float:
        """D − D*(class) (≥ −1e−9 against the proven bound: no SAE beats its own class optimum)."""
        return math.nan if self.class_ref is None else self.metrics.distortion - self.class_ref.d_star

    @property
    def beats_binary_optimum(self) -> bool:
        """D < D*_k − 1e−9: the continuous SAE is better than every 0/1-atom SAE of the class (A4)."""
        return bool(self.metrics.distortion < self.optimum.d_star_k - TOL)

    def to_row(self) -> dict[str, Any]:
        """One audit.csv row (:data:`AUDIT_COLUMNS`)."""
        met, opt, sn = self.metrics, self.optimum, self.snapped
        names = opt.pmf.names()
        row: dict[str, Any] = {
            "sae_dir": self.sae_dir, "arch": self.arch, "seed": self.seed, "width": self.width, "k": self.k,
            "rate": met.rate, "distortion": met.distortion, "poly_dec": met.poly_dec, "poly_enc": met.poly_enc,
            "poly_joint": met.poly_joint, "d_star_k": opt.d_star_k, "rate_opt": opt.rate_opt,
            "poly_opt": opt.poly_opt, "d_min": opt.d_min, "rate_tax": opt.tax_value, "gap_d": self.gap_d,
            "gap_d_rel": self.gap_d_rel, "beats_binary_optimum": self.beats_binary_optimum,
            "optimum_status": opt.status, "k_audit": self.k_audit, "gap_r": self.gap_r, "mcc": met.mcc,
            "diverged": self.diverged, "optimum_exact": opt.exact, "optimum_solver": opt.solution.solver,
            "d_min_source": opt.d_min_source, "pmf_sha256": opt.pmf.sha256(), "optimal_atoms": opt.atoms_text(),
            "l0": met.rate, "mse": None if not self.d else met.distortion / self.d,
        }
        cr = self.class_ref
        if cr is not None:
            row.update({
                "class": cr.placement.label, "dstar_class": cr.d_star, "gap_class": self.gap_class,
                "dmin_class": cr.d_min, "k_class": cr.placement.k, "dstar_class_bound": cr.bound,
                "class_exact": cr.exact, "class_status": cr.solution.status.value, "class_method": cr.solution.method,
                "dmin_class_bound": cr.floor.bound, "dmin_class_exact": cr.floor.exact,
                "class_contained": cr.placement.contained, "class_code_bound": cr.placement.code_bound,
            })
        if sn is not None:
            c = sn.counts()
            be, oe = sn.best_eval, sn.observed_eval
            row.update({
                "snapped_rate": None if be is None else be.rate,
                "snapped_distortion": None if be is None else be.distortion,
                "snapped_poly": None if be is None else be.poly_dec,
                "snapped_obs_rate": oe.rate, "snapped_obs_distortion": oe.distortion, "snapped_obs_poly": oe.poly_dec,
                "n_dead": c["dead"], "n_mono": c["monosemantic"], "n_hedged": c["hedged"],
                "n_splitting": c["splitting"], "n_absorbing": c["absorbing"], "n_unaligned": c["unaligned"],
                "n_mixed": c["mixed"],
                "snapped_atoms": " ".join(format_event(a, names) for a in sn.atoms),
                "bias_concepts": format_event(sn.bias_concepts, names),
            })
        return {col: row.get(col) for col in AUDIT_COLUMNS}

    def latent_rows(self) -> list[dict[str, Any]]:
        """latents.csv rows (:data:`LATENT_COLUMNS`)."""
        if self.snapped is None:
            return []
        names = self.optimum.pmf.names()
        out = []
        for lat in self.snapped.latents:
            out.append({
                "sae_dir": self.sae_dir, "latent": lat.index, "kind": lat.kind,
                "atom": format_event(lat.atom, names), "max_cos": lat.max_cos,
                "encoder_signs": " ".join(f"{'+' if s > 0 else '-'}{names[i]}"
                                          for i, s in enumerate(lat.encoder_signs) if s),
                "fires_on": " ".join(format_event(e, names) for e in lat.fires_on),
                "absorbing": lat.absorbing,
                "absorbed": " ".join(f"{names[a]}|¬{names[b]}" for a, b in lat.absorbed),
                "evidence": lat.evidence, "partners": " ".join(f"z{p}" for p in lat.partners),
            })
        return out


@dataclass(frozen=True)
class OptimumAudit:
    """The whole audit of a runs folder."""

    runs_dir: Path
    config: OptimumAuditConfig
    saes: tuple[SAEAudit, ...]
    optima: tuple[OptimumRef, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [s.to_row() for s in self.saes]

    @property
    def all_exact(self) -> bool:
        """Every optimum proven (status optimal, gap 0)."""
        return all(o.exact for o in self.optima)

    def beating(self) -> list[SAEAudit]:
        """SAEs with D < D*_k of the binary class (a reference column: they live in a larger class)."""
        return [s for s in self.saes if s.beats_binary_optimum]

    def below_own_class(self, tol: float = 1e-9) -> list[SAEAudit]:
        """SAEs below the proven bound of their own class: always empty unless something is wrong."""
        return [s for s in self.saes if s.class_ref is not None and s.class_ref.placement.contained
                and s.metrics.distortion < s.class_ref.bound - tol]


# ------------------------------------------------------------------------------------------ input
def _sae_folders(run: Path) -> list[Path]:
    from sae_train.io import WEIGHTS_FILE

    return sorted(p for p in run.iterdir() if p.is_dir() and (p / WEIGHTS_FILE).is_file())


def find_runs(runs_dir: str | Path) -> list[Path]:
    """Run folders under ``runs_dir``: the folder itself when it holds a DGP or SAE folders, else every
    folder below it (any depth) holding a ``dgp.json``. Raises InvalidArgument when there is none."""
    from sae_train.data import DGP_JSON, DGP_WEIGHTS

    root = Path(runs_dir)
    if not root.exists():
        raise InvalidArgument(f"runs folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise InvalidArgument(f"runs folder {str(root)!r} is not a folder")
    if (root / DGP_JSON).exists() or (root / DGP_WEIGHTS).exists() or _sae_folders(root):
        return [root]
    runs = sorted({p.parent for p in root.rglob(DGP_JSON)} | {p.parent for p in root.rglob(DGP_WEIGHTS)})
    if not runs:
        raise InvalidArgument(
            f"no SAE folders in {str(root)!r} (expected sae_*/sae_weights.safetensors beside dgp.json, as written "
            "by rdp train)"
        )
    return runs


@dataclass(frozen=True)
class _Entry:
    run: Path
    folder: Path
    dgp: Any


def _collect(runs_dir: Path) -> list[_Entry]:
    """Every SAE folder with its DGP; validates everything cheap before any solve."""
    from sae_train.data import DGP
    from sae_train.io import CFG_FILE

    entries: list[_Entry] = []
    for run in find_runs(runs_dir):
        dgp = DGP.load(run)  # InvalidArgument naming the missing file
        if not dgp.exact:
            raise InvalidArgument(
                f"{str(run)!r}: the exact audit needs constant magnitudes and no noise "
                f"(this DGP has magnitudes={dgp.magnitudes}, noise_std={dgp.noise_std})"
            )
        if not dgp.orthonormal:
            raise InvalidArgument(
                f"{str(run)!r}: the exact audit needs orthonormal concept directions (A1), but d = {dgp.d} < n = {dgp.n} "
                "or V is not orthonormal"
            )
        folders = _sae_folders(run)
        if not folders:
            raise InvalidArgument(f"no SAE folders in {str(run)!r} (expected sae_*/sae_weights.safetensors)")
        for f in folders:
            if not (f / CFG_FILE).is_file():
                raise InvalidArgument(f"not an SAE folder: {str(f)!r} has no {CFG_FILE}")
            entries.append(_Entry(run, f, dgp))
    return entries


# ------------------------------------------------------------------------------------------ optimum
def _solve(problem: Problem, config: OptimumAuditConfig) -> Solution:
    from rdp_exact.solvers import solve

    return solve(problem, config.solver, time_limit=config.time_limit, threads=config.threads)


def exact_optimum(pmf: ConceptPMF, width: int, k: int, config: OptimumAuditConfig | None = None) -> OptimumRef:
    """D*_k, its SAE, D_min, the rate tax and (for the figure) the monosemantic staircase and D*(r) points."""
    from rdp_exact import theory

    cfg = config or OptimumAuditConfig()
    sol = _solve(Problem(pmf, width=width, k=k), cfg)
    if sol.sae is None or sol.distortion is None:
        raise InvalidArgument(f"the exact solver found no SAE for m = {width}, k = {k} ({sol.status.value})")
    try:
        dmin, src = theory.d_min(pmf, width, k), "theory"
    except InvalidArgument:
        mono = _solve(Problem(pmf, width=width, k=k, max_poly=0.0), cfg)
        dmin, src = (math.nan if mono.distortion is None else float(mono.distortion)), "solver"
    tax = None
    if src == "theory":
        try:
            tax = theory.rate_tax(pmf, width, k, float(sol.distortion), float(sol.rate or 0.0))
        except InvalidArgument as exc:
            log.warning("rate tax not computed for m = %d, k = %d: %s", width, k, exc)
    stair = None
    points: list[tuple[float, Solution]] = []
    if cfg.figures:
        try:
            stair = theory.monosemantic_staircase(pmf, width, k, max_steps=2000)
        except InvalidArgument as exc:
            log.warning("monosemantic staircase not computed: %s", exc)
        r_opt = float(sol.rate or 0.0)
        if cfg.rate_points and r_opt > 0:
            for r in np.linspace(0.0, r_opt, cfg.rate_points + 1)[:-1]:
                s = _solve(Problem(pmf, width=width, k=k, max_rate=float(r)), cfg)
                if s.sae is not None:
                    points.append((float(r), s))
    return OptimumRef(pmf=pmf, width=width, k=k, solution=sol, d_min=float(dmin), d_min_source=src, tax=tax,
                      staircase=stair, rd_points=tuple(points))


# ------------------------------------------------------------------------------------------ audit
def _k_audit(arch: str, k: int | None, width: int, snapped_active: np.ndarray | None) -> int:
    if arch == "topk" and k is not None:
        return int(k)
    if snapped_active is None or snapped_active.size == 0:
        return 1
    return int(min(width, max(1, int(snapped_active.sum(axis=1).max()))))


def audit_optimum(
    runs_dir: str | Path, config: OptimumAuditConfig | None = None, progress: ProgressFn | None = None,
    *, inputs: Any = None,
) -> OptimumAudit:
    """Audit every SAE under ``runs_dir`` against the exact optimum (module docstring). ``inputs``: SAE
    folders already found and validated by :func:`audit.sae_inputs.collect_saes` (any folder names, any
    DGP); ``runs_dir`` is then ignored and ``sae_dir`` is relative to ``inputs.root``."""
    from audit.snap import SnapConfig, firing_pattern, snap
    from sae_train.evaluate import evaluate_exact
    from sae_train.io import load_sae

    cfg = config or OptimumAuditConfig()
    snap_cfg = SnapConfig(cos_threshold=cfg.cos_threshold, enc_threshold=cfg.enc_threshold)
    if inputs is None:  # every SAE folder below runs_dir, validated before any solve (audit.sae_inputs)
        from audit.sae_inputs import collect_saes

        find_runs(runs_dir)
        inputs = collect_saes([runs_dir])
    root = inputs.root
    entries = [_Entry(root, e.folder, e.dgp) for e in inputs.entries]
    cache: dict[tuple[str, int, int], OptimumRef] = {}
    class_cache: dict[tuple[Any, ...], list[Any]] = {}
    class_keys: list[Any] = []
    out: list[SAEAudit] = []
    for e in entries:
        rel = e.folder.relative_to(root).as_posix()
        if progress is not None:
            progress(rel)
        model, scfg = load_sae(e.folder)
        rdp = scfg.get("rdp") or {}
        arch = str(rdp.get("arch") or scfg.get("architecture") or "?")
        k_raw = rdp.get("k", scfg.get("k"))
        k = None if k_raw is None else int(k_raw)
        seed = rdp.get("seed")
        met = evaluate_exact(model, e.dgp)[0]
        W_dec = model.W_dec[0].detach().double().numpy()
        W_enc = model.W_enc[0].detach().double().numpy()
        finite = bool(np.all(np.isfinite(W_dec)) and np.all(np.isfinite(W_enc)))
        act = firing_pattern(model, e.dgp, snap_cfg.active_tol) if finite else None
        k_aud = _k_audit(arch, k, model.m, act)
        sn = None
        if finite and act is not None:
            sn = snap(e.dgp.pmf, W_dec, W_enc, e.dgp.V, act, k_aud, snap_cfg,
                      b_dec=model.b_dec[0].detach().double().numpy())
        key = (e.dgp.pmf.sha256(), model.m, k_aud)
        if key not in cache:
            cache[key] = exact_optimum(e.dgp.pmf, model.m, k_aud, cfg)
        ckey = None
        if finite:
            from audit.optimum_classes import place_and_project

            pl, proj = place_and_project(model, e.dgp, arch, k)
            ckey = (e.dgp.pmf.sha256(), model.m, pl.label, pl.k, pl.code_bound)
            class_cache.setdefault(ckey, []).append((e.dgp.pmf, model.m, pl, proj))
        class_keys.append(ckey)
        out.append(SAEAudit(
            sae_dir=rel, arch=arch, seed=None if seed is None else int(seed), width=model.m, k=k, k_audit=k_aud,
            metrics=met, snapped=sn, optimum=cache[key], diverged=bool(rdp.get("diverged", False)), d=e.dgp.d,
        ))
    out = _attach_class_refs(out, class_keys, class_cache, cfg)
    return OptimumAudit(runs_dir=root, config=cfg, saes=tuple(out), optima=tuple(cache.values()))


def _attach_class_refs(saes: list[SAEAudit], keys: list[Any], groups: dict[tuple[Any, ...], list[Any]],
                       cfg: OptimumAuditConfig) -> list[SAEAudit]:
    """Solve each distinct class once, SCIP warm-started from the best projected trained SAE of the group."""
    from dataclasses import replace

    from audit.optimum_classes import class_reference
    from rdp_exact.classes import evaluate_real

    refs: dict[tuple[Any, ...], Any] = {}
    for key, members in groups.items():
        pmf, m, pl, _ = members[0]
        starts = [p for *_, p in members if p is not None]
        start = min(starts, key=lambda sae: evaluate_real(pmf, sae).distortion) if starts else None
        refs[key] = class_reference(pmf, m, pl, cfg.class_time_limit, start=start)
    return [s if key is None else replace(s, class_ref=refs[key]) for s, key in zip(saes, keys, strict=True)]


__all__ = [
    "AUDIT_COLUMNS",
    "LATENT_COLUMNS",
    "OptimumAudit",
    "OptimumAuditConfig",
    "OptimumRef",
    "SAEAudit",
    "audit_optimum",
    "exact_optimum",
    "find_runs",
]
