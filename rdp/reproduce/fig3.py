"""``rdp reproduce fig3``: a monosemantically initialised TopK SAE rotates away from monosemanticity.

Setting (the paper's Fig. 3, with its A2: **biases fixed at 0**, ``zero_bias``): a co-occurring pmf (default ``cooccur3``: concepts a and b co-occur in
40 % of the samples, E|S| = 1.48) and a TopK SAE of width m = n whose cap k is below the rate the data
needs (default k = 1 < E|S|). Every SAE starts **monosemantic**: decoder rows = the concept directions V,
tied encoder, zero biases (``sae_train`` ``init="mono"``), so at step 0 it is an omission code of C-T5:
P = 0 and R + D = E|S| (C-P2), D ≥ D_min. Training then lowers D by rotating decoder rows towards
mixtures of co-occurring concepts, so P grows.

The exact references (free class, DESIGN §1.4) are the monosemantic staircase R*(δ, 0) of C-T5
(:func:`rdp_exact.theory.monosemantic_staircase`), its floor D_min(m, k) and the exact optimum D*_k with
its rate and P. For every logged step the CSV also gives the least distortion a monosemantic SAE can
reach at the SAE's rate, min{D ∈ 𝒟_mono : E|S| − D ≤ R} (``mono_floor_at_rate``): a trained point below
it cannot be monosemantic. Seeds vary the training data stream (``data_seed``); with m = n the
initialisation is the same for every seed.

Yardsticks by class (DESIGN §1.2b, issue 11). A zero-bias TopK SAE lies in the class ``real-codes`` (real decoder
rows, nonnegative codes, ≤ k active). Without a bias a monosemantic SAE of that class gains at most 1 per fired
latent, so the binary monosemantic staircase and D_min bound it too (:mod:`rdp_exact.classes.floors`); the optimum
it is compared with is D*(real-codes, k) (``d_star_class``), and the binary D*_k is kept as a reference. With
``zero_bias=False`` the SAEs have a decoder bias: the binary staircase no longer bounds them, so the "below the
staircase" column is left empty and the sentences use the proven floor of ``real-codes + bias`` instead.

Outputs: ``fig3.png`` (R–D path against the staircase; D and P over training), ``fig3.csv`` (one row per
seed and logged step), ``fig3_reference.csv`` (staircase corners, D_min, the optimum), ``fig3.json``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdp.reproduce.common import (
    MAX_SEEDS,
    TargetResult,
    csv_text,
    fmt,
    run_target,
    split_options,
    torch_threads,
    with_training,
)
from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_json, atomic_write_text
from rdp_exact.problem import TOL
from rdp_exact.validate import check_float, check_int

if TYPE_CHECKING:
    from sae_train.train import TrainConfig

log = logging.getLogger(__name__)

FIG3_COLUMNS = (
    "seed", "step", "loss", "rate", "distortion", "poly_dec", "poly_enc", "poly_joint", "mcc", "dead",
    "mono_floor_at_rate", "below_mono_staircase",
)
REFERENCE_COLUMNS = ("kind", "D", "R", "P")


#: The pmf of the paper's Fig. 3.
DEFAULT_PMF = "cooccur3"


def default_train(width: int = 3, k: int = 1) -> TrainConfig:
    """The training of Fig. 3 (``width`` defaults to n = 3 of :data:`DEFAULT_PMF`): TopK from the monosemantic
    init, biases fixed at 0 (A2), three runs of 2000 Adam steps at lr 3e-3, exact metrics every 25 steps."""
    from sae_train.train import TrainConfig

    return TrainConfig(arch="topk", width=width, steps=2000, k=(k,), seeds=(0, 1, 2), lr=(3e-3,), init="mono",
                       zero_bias=True, log_every=25)


@dataclass(frozen=True)
class Fig3Config:
    """Options of ``rdp reproduce fig3``. Build it from flat options with :meth:`make` (``width=None`` is n)."""

    pmf: str = DEFAULT_PMF
    """Concept pmf (file, generator spec or built-in name); it should have co-occurring concepts."""
    train: TrainConfig = field(default_factory=default_train)
    """The training: a TopK SAE (``arch='topk'``, ``init='mono'``) of width m = ``train.width`` ≤ n with one cap
    ``train.k = (k,)``; each seed s of ``train.seeds`` is one run on data stream s (``data_seed`` = s). With
    ``zero_bias`` (A2, the paper's setting) b_enc = b_dec = 0; without it every statement uses the floor of the
    class real-codes + bias."""
    class_time_limit: float = 20.0
    """Seconds for each exact solve in a real class (the optimum and, with biases, the floor)."""

    def __post_init__(self) -> None:
        check_float("--class-time-limit", self.class_time_limit, min=0.0, min_exclusive=True)
        t = self.train
        if t.arch != "topk" or t.init != "mono":
            raise InvalidArgument(f"fig3 trains TopK SAEs from the monosemantic init, got arch {t.arch!r}, "
                                  f"init {t.init!r}")
        if len(t.k) != 1:
            raise InvalidArgument(f"fig3 trains one cap k, got k = {t.k}")
        check_int("--seeds", len(t.seeds), min=1, max=MAX_SEEDS)

    @property
    def k(self) -> int:
        """The TopK cap (below E|S| the monosemantic SAE cannot reconstruct every event)."""
        return self.train.k[0]

    @property
    def zero_bias(self) -> bool:
        """A2: the trained SAEs have b_enc = b_dec = 0."""
        return self.train.zero_bias

    @classmethod
    def make(cls, **options: Any) -> Fig3Config:
        """The config of flat options (``pmf``, ``class_time_limit`` and :data:`TRAIN_OPTIONS`); ``width`` None
        (the default) is n of the pmf, ``k`` defaults to 1."""
        from rdp_exact.generators import load_pmf

        fig, train = split_options(cls, options)
        width = train.pop("width", None)
        if width is None:
            width = load_pmf(fig.get("pmf", DEFAULT_PMF)).n
        k = check_int("--k", train.pop("k", 1), min=1)
        base = default_train(check_int("--width", width, min=1), k)
        return cls(train=with_training(base, **train), **fig)

    @classmethod
    def quick(cls, **changes: Any) -> Fig3Config:
        """Seconds-long settings (tests, ``--quick``); ``changes`` are flat options as in :meth:`make`."""
        base: dict[str, Any] = {"seeds": 2, "steps": 150, "log_every": 25}
        base.update(changes)
        return cls.make(**base)


@dataclass(frozen=True)
class Fig3Data:
    """Everything the figure and the CSVs show."""

    config: Fig3Config
    pmf_name: str
    n: int
    width: int
    expected_sparsity: float
    d_min: float
    d_star_k: float
    rate_opt: float
    poly_opt: float
    optimum_exact: bool
    optimal_atoms: list[list[int]]
    staircase: tuple[tuple[float, float], ...]
    staircase_truncated: bool
    rows: tuple[dict[str, Any], ...]
    sae_class: str
    """The class containing the trained SAEs: ``real-codes`` (zero bias) or ``real-codes+bias``."""
    d_star_class: float
    """D of the best SAE of that class (= D* when ``class_exact``)."""
    d_star_class_bound: float
    """Proven lower bound on D*(class): no trained SAE can go below it."""
    class_exact: bool
    d_min_class: float
    """Monosemantic floor of the class (the binary D_min without bias)."""
    d_min_class_bound: float
    """Proven lower bound on that floor."""
    train_seconds: float
    device: str


def mono_floor_at_rate(staircase: tuple[tuple[float, float], ...], rate: float) -> float | None:
    """min{D : (D, R') a staircase corner with R' ≤ rate}: the least distortion of a monosemantic SAE
    whose rate is at most ``rate`` (C-T5 with C-P2); None when no corner qualifies."""
    for d, r in staircase:  # ascending D, descending R
        if r <= rate + TOL:
            return d
    return None


def _train_seed(dgp: Any, config: Fig3Config, seed: int,
                staircase: tuple[tuple[float, float], ...] | None) -> list[dict[str, Any]]:
    """One training run of ``config.train`` with seed ``seed`` on data stream ``seed``; one row per logged step."""
    from sae_train.train import train

    cfg = replace(config.train, seeds=(seed,), data_seed=seed)
    rows = []
    for h in train(dgp, cfg).history:
        floor = None if staircase is None else mono_floor_at_rate(staircase, h["rate"])
        below = None if staircase is None else (floor is None or h["distortion"] < floor - 1e-6)
        rows.append({
            "seed": seed, "step": h["step"], "loss": h["loss"], "rate": h["rate"], "distortion": h["distortion"],
            "poly_dec": h["poly_dec"], "poly_enc": h["poly_enc"], "poly_joint": h["poly_joint"], "mcc": h["mcc"],
            "dead": h["dead"], "mono_floor_at_rate": floor,
            "below_mono_staircase": below,
        })
    return rows


def compute_fig3(config: Fig3Config, progress: Callable[[str], None] | None = None) -> Fig3Data:
    """Train the SAEs (logging exact metrics) and compute the exact references."""
    from rdp_exact import theory
    from rdp_exact.generators import load_pmf
    from rdp_exact.problem import Problem
    from rdp_exact.solvers import solve
    from sae_train.data import DGP
    from sae_train.train import resolve_device

    pmf = load_pmf(config.pmf)
    m = config.train.width
    if m > pmf.n:
        raise InvalidArgument(f"--width {m} exceeds n = {pmf.n}: a monosemantic init has only n concept rows")
    device = resolve_device(config.train.device)
    es = pmf.expected_sparsity()
    sol = solve(Problem(pmf, width=m, k=config.k))
    if sol.evaluation is None or sol.sae is None:
        raise InvalidArgument(f"the exact solver returned no SAE ({sol.status.value})")
    stair = theory.monosemantic_staircase(pmf, m, config.k, max_steps=5000)
    d_min = theory.d_min(pmf, m, config.k)
    from rdp_exact.classes import ClassProblem, class_floor, solve_class

    bias = not config.zero_bias
    csol = solve_class(ClassProblem(pmf, m, config.k, "real-codes", bias), time_limit=config.class_time_limit)
    cfloor = class_floor(pmf, m, config.k, "real-codes", bias, time_limit=config.class_time_limit)
    dgp = DGP.make(pmf, pmf.n, seed=0)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with torch_threads(config.train.device):
        for i, seed in enumerate(config.train.seeds):
            if progress is not None:
                progress(f"training seed {seed} ({i + 1}/{len(config.train.seeds)})")
            rows += _train_seed(dgp, config, seed, None if bias else stair.points)
    return Fig3Data(
        config=config, pmf_name=config.pmf, n=pmf.n, width=m, expected_sparsity=es, d_min=d_min,
        d_star_k=float(sol.distortion), rate_opt=float(sol.rate), poly_opt=float(sol.poly or 0.0),  # type: ignore[arg-type]
        optimum_exact=sol.is_exact,
        optimal_atoms=[a for a, live in zip(sol.sae.sorted_atoms(), sol.evaluation.live, strict=True) if live],
        staircase=stair.points, staircase_truncated=stair.truncated, rows=tuple(rows),
        train_seconds=time.perf_counter() - t0, device=str(device),
        sae_class="real-codes" + ("+bias" if bias else ""),
        d_star_class=math.nan if csol.distortion is None else float(csol.distortion),
        d_star_class_bound=0.0 if csol.bound is None else float(csol.bound), class_exact=csol.is_exact,
        d_min_class=cfloor.d_min, d_min_class_bound=cfloor.bound,
    )


def plot_fig3(data: Fig3Data, path: str | Path) -> Path:
    """Three panels: the (D, R) path against the staircase; D over training; P over training."""
    from rdp_exact.plots import plt, save_figure

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.8))
    seeds = sorted({r["seed"] for r in data.rows})
    cmap = plt.get_cmap("viridis")
    st = data.staircase
    max_d = max([d for d, _ in st] + [r["distortion"] for r in data.rows] + [data.expected_sparsity])
    if st:
        xs = [d for d, _ in st] + [max_d]
        ys = [r for _, r in st] + [st[-1][1]]
        ax1.step(xs, ys, where="post", color="black", ls="--", lw=1.2,
                 label="monosemantic staircase R*(δ, 0) (C-T5)" + (" (truncated)" if data.staircase_truncated else ""))
    floor = data.d_min_class_bound
    ax1.axvspan(0, floor, color="#1f77b4", alpha=0.07, lw=0,
                label=f"no monosemantic {data.sae_class} SAE at cap k (D < D_min of the class)")
    ax1.axvline(floor, color="black", lw=0.8, ls=":")
    ax1.text(floor, 0.55, f" D_min({data.sae_class})", transform=ax1.get_xaxis_transform(), fontsize=8)
    if math.isfinite(data.d_star_class):
        ax1.axvline(data.d_star_class, color="#2ca02c", lw=1.0, ls="-",
                    label=f"optimum of the class, D*({data.sae_class})" + ("" if data.class_exact else " (not proven)"))
    ax1.plot([data.d_star_k], [data.rate_opt], "*", ms=14, color="#d62728", zorder=5,
             label=f"exact optimum D*_k (P = {data.poly_opt:.3g})")
    last_step = max(r["step"] for r in data.rows)
    for s in seeds:
        pts = [r for r in data.rows if r["seed"] == s]
        ax1.plot([r["distortion"] for r in pts], [r["rate"] for r in pts], "-", color="grey", lw=0.7, alpha=0.7)
        sc = ax1.scatter([r["distortion"] for r in pts], [r["rate"] for r in pts],
                         c=[r["step"] for r in pts], cmap=cmap, vmin=0, vmax=last_step, s=14, zorder=3)
        ax1.plot(pts[0]["distortion"], pts[0]["rate"], "o", mfc="none", mec="black", ms=10)
        ax1.plot(pts[-1]["distortion"], pts[-1]["rate"], "s", mfc="none", mec="#d62728", ms=9)
    fig.colorbar(sc, ax=ax1, label="training step")
    ax1.set_xlabel("distortion D")
    ax1.set_ylabel("rate R (expected L0)")
    ax1.set_title("(a) R–D path of the trained SAEs (○ start, □ end)")
    top = max([r for _, r in st] + [r["rate"] for r in data.rows] + [data.rate_opt])
    ax1.set_ylim(-0.02, top * 1.1 + 0.02)
    ax1.legend(fontsize=7, loc="lower left")
    for i, s in enumerate(seeds):
        pts = [r for r in data.rows if r["seed"] == s]
        col = cmap(i / max(1, len(seeds) - 1) * 0.85)
        ax2.plot([r["step"] for r in pts], [r["distortion"] for r in pts], "-", color=col, label=f"seed {s}")
        ax3.plot([r["step"] for r in pts], [r["poly_dec"] for r in pts], "-", color=col, label=f"P_dec seed {s}")
        ax3.plot([r["step"] for r in pts], [r["poly_joint"] for r in pts], ":", color=col, label=f"P_joint seed {s}")
    ax2.axhline(data.d_min_class, color="black", ls=":", lw=1, label=f"monosemantic floor D_min({data.sae_class})")
    if math.isfinite(data.d_star_class):
        ax2.axhline(data.d_star_class, color="#2ca02c", ls="-", lw=1, label=f"optimum D*({data.sae_class})")
    ax2.axhline(data.d_star_k, color="#d62728", ls="--", lw=1, label="binary optimum D*_k (reference)")
    ax2.set_xlabel("training step")
    ax2.set_ylabel("distortion D (exact)")
    ax2.set_title("(b) distortion over training")
    ax2.legend(fontsize=7)
    ax3.axhline(data.poly_opt, color="#d62728", ls="--", lw=1, label="P of the exact optimum")
    ax3.set_xlabel("training step")
    ax3.set_ylabel("polysemanticity P")
    ax3.set_title("(c) polysemanticity over training")
    ax3.set_ylim(bottom=-0.01)
    ax3.legend(fontsize=7)
    fig.suptitle(f"Fig. 3: TopK SAE (m = {data.width}, k = {data.config.k}) initialised monosemantic on "
                 f"{data.pmf_name} (E|S| = {data.expected_sparsity:.3g})")
    fig.tight_layout()
    return save_figure(fig, path)


def _reference_rows(data: Fig3Data) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"kind": "staircase", "D": d, "R": r, "P": 0.0} for d, r in data.staircase]
    rows.append({"kind": "d_min", "D": data.d_min, "R": None, "P": 0.0})
    rows.append({"kind": "optimum", "D": data.d_star_k, "R": data.rate_opt, "P": data.poly_opt})
    rows.append({"kind": f"d_min_class:{data.sae_class}", "D": data.d_min_class, "R": None, "P": 0.0})
    rows.append({"kind": f"optimum_class:{data.sae_class}", "D": data.d_star_class, "R": None, "P": None})
    return rows


def final_rows(data: Fig3Data) -> list[dict[str, Any]]:
    """The last logged row of every seed."""
    out = []
    for s in sorted({r["seed"] for r in data.rows}):
        out.append(max((r for r in data.rows if r["seed"] == s), key=lambda r: r["step"]))
    return out


def summary_lines(data: Fig3Data) -> list[str]:
    """Plain-language reading of the result."""
    first = [r for r in data.rows if r["step"] == 0]
    lines = []
    if first:
        f = first[0]
        c2p = "R + D = E|S| (C-P2)" if data.config.zero_bias else "biases are trained, so C-P2 need not hold later"
        lines.append(f"At step 0 every SAE is monosemantic (P = {fmt(f['poly_dec'], 3)}): R = {fmt(f['rate'])}, "
                     f"D = {fmt(f['distortion'])}, R + D = {fmt(f['rate'] + f['distortion'])}; {c2p}. "
                     f"The trained SAEs lie in the class {data.sae_class}, whose monosemantic floor at k = "
                     f"{data.config.k} is D_min = {fmt(data.d_min_class)}"
                     + ("" if data.d_min_class_bound >= data.d_min_class - 1e-9
                        else f" (proven ≥ {fmt(data.d_min_class_bound)})") + ".")
    for r in final_rows(data):
        if r["below_mono_staircase"] is None:  # a bias: only the proven class floor bounds monosemantic SAEs
            where = (f"below the proven monosemantic floor {fmt(data.d_min_class_bound)} of {data.sae_class}, so it "
                     "cannot be monosemantic" if r["distortion"] < data.d_min_class_bound - 1e-6 else
                     f"not below the proven monosemantic floor of {data.sae_class}")
            lines.append(f"seed {r['seed']}, step {r['step']}: R = {fmt(r['rate'])}, D = {fmt(r['distortion'])}, "
                         f"P_dec = {fmt(r['poly_dec'], 3)} — {where}.")
            continue
        where = ("below the monosemantic staircase, so it cannot be monosemantic" if r["below_mono_staircase"]
                 else "not below the monosemantic staircase")
        lines.append(f"seed {r['seed']}, step {r['step']}: R = {fmt(r['rate'])}, D = {fmt(r['distortion'])}, "
                     f"P_dec = {fmt(r['poly_dec'], 3)} — {where} (a monosemantic zero-bias SAE at this rate needs "
                     f"D ≥ {fmt(r['mono_floor_at_rate'])}).")
    proof = "proven" if data.class_exact else f"not proven; every SAE of the class has D ≥ {fmt(data.d_star_class_bound)}"
    lines.append(f"Optimum of the class {data.sae_class} at k = {data.config.k}: D* = {fmt(data.d_star_class)} "
                 f"({proof}); no trained SAE of the class can go below it. Binary reference (0/1 atoms, no bias): "
                 f"D*_k = {fmt(data.d_star_k)}, R = {fmt(data.rate_opt)}, P = {fmt(data.poly_opt, 3)}, atoms "
                 f"{data.optimal_atoms}.")
    return lines


def write_fig3(data: Fig3Data, folder: str | Path) -> list[Path]:
    """Write fig3.png, fig3.csv, fig3_reference.csv and fig3.json into ``folder`` (existing)."""
    folder = Path(folder)
    summary = {
        "target": "fig3",
        "config": asdict(data.config),
        "pmf": data.pmf_name,
        "n": data.n,
        "width": data.width,
        "expected_sparsity": data.expected_sparsity,
        "d_min": data.d_min,
        "d_star_k": data.d_star_k,
        "rate_opt": data.rate_opt,
        "poly_opt": data.poly_opt,
        "optimum_exact": data.optimum_exact,
        "optimal_atoms": data.optimal_atoms,
        "staircase_truncated": data.staircase_truncated,
        "class": data.sae_class,
        "decoder_bias": not data.config.zero_bias,
        "d_star_class": data.d_star_class,
        "d_star_class_bound": data.d_star_class_bound,
        "class_exact": data.class_exact,
        "d_min_class": data.d_min_class,
        "d_min_class_bound": data.d_min_class_bound,
        "final": [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                  for r in final_rows(data)],
        "train_seconds": round(data.train_seconds, 3),
        "device": data.device,
    }
    return [
        plot_fig3(data, folder / "fig3.png"),
        atomic_write_text(folder / "fig3.csv", csv_text(FIG3_COLUMNS, data.rows)),
        atomic_write_text(folder / "fig3_reference.csv", csv_text(REFERENCE_COLUMNS, _reference_rows(data))),
        atomic_write_json(folder / "fig3.json", summary),
    ]


SECTION_TEXT = (
    "Each TopK SAE starts monosemantic (decoder rows = the concept directions), with biases fixed at 0 (A2) unless "
    "--train-biases is given, and a cap k below the rate the data needs. Panel (a) follows its exact (D, R) during training against the exact monosemantic staircase "
    "R*(δ, 0) (C-T5): no monosemantic SAE lies below the dashed staircase, so a trained point below it has become "
    "polysemantic. Panels (b) and (c) show D and P over the training steps, beside the monosemantic floor and the "
    "optimum of the class that contains the trained SAEs (real-codes; + bias when biases are trained), and the "
    "binary-atom optimum D*_k as a reference."
)


def run_fig3(config: Fig3Config, out: str | Path, progress: Callable[[str], None] | None = None) -> TargetResult:
    """Check ``out``, compute, and write everything (plus index.html) through a staging folder."""
    return run_target("fig3", "Fig. 3 — a monosemantic SAE rotates away", SECTION_TEXT, out,
                      lambda: compute_fig3(config, progress), write_fig3, summary_lines,
                      lambda d: {"d_min": d.d_min, "d_star_k": d.d_star_k, "d_star_class": d.d_star_class,
                                 "class": d.sae_class})
