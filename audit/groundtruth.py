"""Ground-truth check of the proxy criterion itself (issue "audit" item 5; DESIGN §3, §7).

The §3 statistics (violation rate V, ρ_RDP) judge a proxy by whether it orders SAEs the way the RDP theory
predicts: of a dominated pair (a works under a tighter (R, D) budget than b) the theory says P(a) ≥ P(b).
Here the criterion is run on sweeps where the **true polysemanticity is known**, so we can see which
proxies pass and whether the true P itself does:

(a) ``exact`` sweeps — exact optima of built-in pmfs across budgets:

    * ``minP@budget``: P*(r, δ) = min P s.t. R ≤ r, D ≤ δ on a grid of budgets, each point placed at its
      budgets (r, δ). Feasible sets shrink as budgets tighten, so P* is monotone: a dominated pair never
      has P*(a) < P*(b) and the true P has **V_strict = 0** (ties give V ≤ ½ only through ties);
    * ``minP@achieved``: the same optima placed at their achieved (R, D) — again V_strict = 0 for the true
      P (if (R_a, D_a) ≤ (R_b, D_b) then SAE a meets b's budgets, so P*(b) ≤ P(a));
    * ``minD@achieved``: D*(r, ρ_P) on a grid of rate budgets × polysemanticity budgets, placed at the
      achieved (R, D) (canonical lexicographic tie-breaking makes V_strict = 0 for the true P here too).

    Infeasible budgets are skipped; a point whose solve is not proven optimal is dropped (and counted).

(b) ``trained`` sweeps — SAEs trained with :mod:`sae_train` on the toy DGP (TopK across k, ReLU across
    the L1 coefficient, several seeds), evaluated exactly. Trained SAEs are *not* optima, so nothing
    guarantees that the true P passes; the sweep shows what the criterion says about real training.

Proxies (each oriented so that **larger = more polysemantic**, DESIGN §3):

* ``true_P`` — P_dec (DESIGN §1.3; the free class's P for exact optima); ``true_P_joint`` for trained SAEs;
* ``neg_MCC`` — −MCC, the mean matched |cos| between concepts and decoder rows (Hungarian matching,
  :func:`sae_train.evaluate.mcc`): higher MCC = more interpretable;
* ``neg_mean_max_cos`` — −(1/m)·Σ_j max_i |C_ji| over **all** m decoder rows, a zero (dead) row counting
  0: the dictionary-level alignment score practitioners compute (it equals P_dec − 1 when no row is zero);
* ``dead_fraction`` — dead latents / m (fewer live latents must pack more concepts);
* ``absorption`` — the fraction of concept-events absorbed: Σ_S π(S)·#{i ∈ S : absorbed(S, i)} / E|S|,
  where concept i's best-matching latent j*(i) is the latent with i in its atom and the largest cosine
  C_ji (lowest index on ties; none when no atom holds i), and (S, i) is *absorbed* when j*(i) exists, is
  not active on S, and another active latent's atom holds i. Atoms are the exact 0/1 atoms for
  combinatorial SAEs and the snapped atoms (cos > τ, :mod:`audit.snap`) for trained ones.

A proxy **passes** a sweep when V < ½ with the upper end of its bootstrap interval below ½ and ρ_RDP > 0.
No existing SAE benchmark reports such a check of its own criterion against a known ground truth.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rdp_exact.errors import InvalidArgument
from rdp_exact.pmf import ConceptPMF

log = logging.getLogger(__name__)

GROUNDTRUTH_CSV = "groundtruth.csv"
GROUNDTRUTH_MD = "groundtruth.md"
POINTS_CSV = "groundtruth_points.csv"

#: Proxy columns, in report order (larger = more polysemantic for every one).
PROXIES: tuple[str, ...] = ("true_P", "true_P_joint", "neg_MCC", "neg_mean_max_cos", "dead_fraction", "absorption")
#: What each proxy is, for the report.
PROXY_DOC: dict[str, str] = {
    "true_P": "true polysemanticity P_dec (DESIGN §1.3)",
    "true_P_joint": "true P_joint = (P_enc + P_dec)/2 (trained SAEs only)",
    "neg_MCC": "−MCC (Hungarian-matched |cos| of concepts and decoder rows)",
    "neg_mean_max_cos": "−mean over all m decoder rows of max_i |cos| (dead row = 0)",
    "dead_fraction": "dead latents / m",
    "absorption": "fraction of concept-events absorbed by another latent",
}
RESULT_COLUMNS: tuple[str, ...] = (
    "kind", "sweep", "group", "proxy", "n_saes", "n_pairs", "V", "V_lo", "V_hi", "V_strict", "rho", "rho_lo",
    "rho_hi", "p_value", "passes", "n_dropped",
)
POINT_COLUMNS: tuple[str, ...] = ("kind", "sweep", "group", "label", "rate", "distortion", *PROXIES)

ProgressFn = Callable[[str], None]


# ------------------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class GroundTruthConfig:
    """What to sweep. :meth:`quick` runs in seconds; :meth:`full` is the documented setting."""

    exact_pmfs: tuple[str, ...] = ("cooccur3", "nested3")
    """pmf specs of the exact sweeps."""
    shapes: tuple[tuple[int, int], ...] = ((2, 1), (3, 1))
    """(m, k) of the exact sweeps."""
    grid: int = 4
    """Budget grid size per axis."""
    train_pmfs: tuple[str, ...] = ("cooccur3",)
    """pmf specs of the trained sweeps."""
    train_width: int = 3
    topk_k: tuple[int, ...] = (1, 2)
    relu_l1: tuple[float, ...] = (0.01, 0.05, 0.2)
    seeds: int = 2
    steps: int = 300
    batch_size: int = 128
    lr: float = 1e-2
    bootstrap: int = 200
    permutations: int = 200
    seed: int = 0
    solver: str = "auto"
    time_limit: float | None = 30.0
    cos_threshold: float = 0.5
    """τ of the snapped atoms of trained SAEs (absorption score)."""

    def __post_init__(self) -> None:
        if self.grid < 2:
            raise InvalidArgument(f"grid must be at least 2, got {self.grid}")
        for m, k in self.shapes:
            if not 1 <= k <= m:
                raise InvalidArgument(f"shape (m = {m}, k = {k}) needs 1 ≤ k ≤ m")
        if self.seeds < 1 or self.steps < 1 or self.batch_size < 1:
            raise InvalidArgument("seeds, steps and batch size must be positive")
        if any(k > self.train_width for k in self.topk_k):
            raise InvalidArgument(f"topk k values {self.topk_k} must not exceed the width {self.train_width}")
        if self.bootstrap < 0 or self.permutations < 0:
            raise InvalidArgument("bootstrap and permutations must be ≥ 0")
        from rdp_exact.validate import check_seed

        check_seed("seed", self.seed)

    @classmethod
    def quick(cls, seed: int = 0) -> GroundTruthConfig:
        """Small setting (seconds): two n = 3 pmfs, two shapes, a 4 × 4 grid, 12 trained SAEs."""
        return cls(seed=seed)

    @classmethod
    def full(cls, seed: int = 0) -> GroundTruthConfig:
        """Documented setting (minutes): four n = 3 pmfs, three shapes, a 6 × 6 grid, 3 pmfs × 32 trained SAEs."""
        return cls(
            exact_pmfs=("cooccur3", "nested3", "independent3", "example1:0.05,0.2,0.1,0.3,0.15,0.05,0.1,0.05"),
            shapes=((2, 1), (3, 1), (3, 2)), grid=6, train_pmfs=("cooccur3", "nested3", "independent3"),
            topk_k=(1, 2, 3), relu_l1=(0.005, 0.02, 0.05, 0.1, 0.3), seeds=4, steps=1500, batch_size=256,
            bootstrap=1000, permutations=1000, seed=seed,
        )


# ------------------------------------------------------------------------------------------ proxies
def absorption_score(pmf: ConceptPMF, C: np.ndarray, member: np.ndarray, active: np.ndarray) -> float:
    """Fraction of concept-events absorbed (module docstring).

    ``C`` [m, n] decoder cosines, ``member`` [m, n] bool (i ∈ A_j), ``active`` [N, m] bool (pmf order).
    """
    C = np.asarray(C, dtype=np.float64)
    member = np.asarray(member, dtype=bool)
    act = np.asarray(active, dtype=bool)
    best: list[int | None] = []
    for i in range(pmf.n):
        cand = np.flatnonzero(member[:, i])
        best.append(None if cand.size == 0 else int(cand[np.argmax(C[cand, i])]))
    ind = pmf.indicator
    total = 0.0
    for s, p in enumerate(pmf.probs):
        for c in np.flatnonzero(ind[s]).tolist():
            j = best[c]
            if j is None or act[s, j]:
                continue
            if np.any(act[s] & member[:, c] & (np.arange(len(member)) != j)):
                total += float(p)
    es = pmf.expected_sparsity()
    return 0.0 if es <= 0 else total / es


def mean_max_cos(C: np.ndarray) -> float:
    """(1/m)·Σ_j max_i |C_ji| over all rows (zero rows have C = 0 and count 0)."""
    C = np.asarray(C, dtype=np.float64)
    return float(np.mean(np.max(np.abs(C), axis=1))) if C.size else 0.0


def combinatorial_proxies(pmf: ConceptPMF, sae: Any, evaluation: Any) -> dict[str, float]:
    """Proxies of a combinatorial SAE (exact optimum): atoms in concept coordinates, V = I."""
    from rdp_exact.polysemanticity import cosine_table
    from sae_train.evaluate import mcc

    A = sae.atom_matrix()  # [m, n]
    live = np.asarray(evaluation.live, dtype=bool)
    A = A * live[:, None]  # canonical form: a latent the code never uses is dead (atom ∅)
    C = cosine_table(A)
    act = np.zeros((pmf.support_size, sae.width), dtype=bool)
    for s, a in enumerate(evaluation.active):
        act[s, list(a)] = True
    return {
        "true_P": float(evaluation.poly_dec),
        "true_P_joint": math.nan,
        "neg_MCC": -mcc(A, np.eye(pmf.n)),
        "neg_mean_max_cos": -mean_max_cos(C),
        "dead_fraction": float(1.0 - live.mean()),
        "absorption": absorption_score(pmf, C, A > 0, act),
    }


# ------------------------------------------------------------------------------------------ sweeps
@dataclass(frozen=True)
class SweepPoints:
    """One sweep: per SAE its (R, D) placement and proxy values."""

    kind: str
    """``exact`` or ``trained``."""
    sweep: str
    """e.g. ``minP@budget``, ``minD@achieved``, ``topk+relu``."""
    group: str
    """e.g. ``cooccur3 m=2 k=1``."""
    labels: tuple[str, ...]
    rate: np.ndarray = field(repr=False)
    distortion: np.ndarray = field(repr=False)
    proxies: dict[str, np.ndarray] = field(repr=False)
    notes: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for t, lab in enumerate(self.labels):
            row = {"kind": self.kind, "sweep": self.sweep, "group": self.group, "label": lab,
                   "rate": float(self.rate[t]), "distortion": float(self.distortion[t])}
            row.update({p: float(self.proxies[p][t]) for p in PROXIES})
            out.append(row)
        return out


def _solve(problem: Any, cfg: GroundTruthConfig) -> Any:
    from rdp_exact.solvers import solve

    return solve(problem, cfg.solver, time_limit=cfg.time_limit)


def exact_sweeps(pmf_spec: str, m: int, k: int, cfg: GroundTruthConfig) -> list[SweepPoints]:
    """Sweeps (a) for one pmf and shape: minP@budget, minP@achieved, minD@achieved (module docstring)."""
    from rdp_exact.generators import load_pmf
    from rdp_exact.problem import Problem

    pmf = load_pmf(pmf_spec)
    group = f"{pmf_spec} m={m} k={k}"
    top = _solve(Problem(pmf, width=m, k=k), cfg)
    if top.sae is None:
        raise InvalidArgument(f"no SAE found for {group} ({top.status.value})")
    es = pmf.expected_sparsity()
    r_hi = max(float(top.rate or 0.0), 1e-9)
    g = cfg.grid
    rates = [float(x) for x in np.linspace(0.0, 1.2 * r_hi, g + 1)[1:]]
    dists = [float(x) for x in np.linspace(float(top.distortion), es, g)]
    polys = [float(x) for x in np.linspace(0.0, float(top.poly or 0.0), g)]
    minp_b: list[tuple[str, float, float, dict[str, float]]] = []
    minp_a: list[tuple[str, float, float, dict[str, float]]] = []
    dropped = 0
    for r in rates:
        for d in dists:
            sol = _solve(Problem(pmf, width=m, k=k, minimize="poly", max_rate=r, max_distortion=d), cfg)
            if sol.sae is None or sol.evaluation is None:
                continue  # infeasible budgets
            if not sol.is_exact:
                dropped += 1
                continue
            q = combinatorial_proxies(pmf, sol.sae, sol.evaluation)
            lab = f"P*(r={r:.3g},δ={d:.3g})"
            minp_b.append((lab, r, d, q))
            minp_a.append((lab, float(sol.rate), float(sol.distortion), q))
    mind: list[tuple[str, float, float, dict[str, float]]] = []
    for r in rates:
        for rho in [*polys, None]:
            sol = _solve(Problem(pmf, width=m, k=k, minimize="distortion", max_rate=r, max_poly=rho), cfg)
            if sol.sae is None or sol.evaluation is None:
                continue
            if not sol.is_exact:
                dropped += 1
                continue
            q = combinatorial_proxies(pmf, sol.sae, sol.evaluation)
            lab = f"D*(r={r:.3g},ρ={'∞' if rho is None else f'{rho:.3g}'})"
            mind.append((lab, float(sol.rate), float(sol.distortion), q))
    notes = (f"{dropped} solve(s) not proven optimal were dropped",) if dropped else ()
    out = []
    for name, pts in (("minP@budget", minp_b), ("minP@achieved", minp_a), ("minD@achieved", mind)):
        out.append(_points("exact", name, group, pts, notes))
    return out


def _points(kind: str, sweep: str, group: str, pts: Sequence[tuple[str, float, float, dict[str, float]]],
            notes: tuple[str, ...] = ()) -> SweepPoints:
    return SweepPoints(
        kind=kind, sweep=sweep, group=group, labels=tuple(p[0] for p in pts),
        rate=np.array([p[1] for p in pts], dtype=np.float64),
        distortion=np.array([p[2] for p in pts], dtype=np.float64),
        proxies={name: np.array([p[3][name] for p in pts], dtype=np.float64) for name in PROXIES},
        notes=notes,
    )


def trained_sweep(pmf_spec: str, cfg: GroundTruthConfig) -> SweepPoints:
    """Sweep (b) for one pmf: TopK across k and ReLU across L1, ``cfg.seeds`` seeds each, exact metrics."""
    import torch

    from audit.snap import snap_atoms
    from rdp_exact.generators import load_pmf
    from rdp_exact.polysemanticity import cosine_table
    from sae_train.data import DGP
    from sae_train.evaluate import ACTIVE_TOL, evaluate_exact
    from sae_train.train import TrainConfig, train

    pmf = load_pmf(pmf_spec)
    dgp = DGP.make(pmf, seed=cfg.seed)
    runs = [
        TrainConfig(arch="topk", width=cfg.train_width, steps=cfg.steps, k=cfg.topk_k, seeds=tuple(range(cfg.seeds)),
                    lr=(cfg.lr,), batch_size=cfg.batch_size, device="auto", data_seed=cfg.seed),
        TrainConfig(arch="relu", width=cfg.train_width, steps=cfg.steps, sparsity=cfg.relu_l1,
                    seeds=tuple(range(cfg.seeds)), lr=(cfg.lr,), batch_size=cfg.batch_size, device="auto",
                    data_seed=cfg.seed),
    ]
    pts: list[tuple[str, float, float, dict[str, float]]] = []
    dropped = 0
    X = torch.from_numpy(dgp.support_points())
    for tc in runs:
        res = train(dgp, tc)
        mets = evaluate_exact(res.model, dgp)
        m64 = res.model.to(dtype=torch.float64).eval()
        with torch.no_grad():
            f = m64(X, training=False).latents  # [B, N, m]
        for b, spec in enumerate(res.specs):
            met = mets[b]
            W_dec = m64.W_dec[b].detach().numpy()
            if res.diverged[b] or not (math.isfinite(met.rate) and math.isfinite(met.distortion)
                                       and np.all(np.isfinite(W_dec))):
                dropped += 1
                continue
            act = (f[b].abs() > ACTIVE_TOL).numpy()
            C = cosine_table(W_dec, dgp.V)
            atoms = snap_atoms(C, cfg.cos_threshold)
            member = ((np.array(atoms, dtype=np.int64)[:, None] >> np.arange(pmf.n)) & 1).astype(bool)
            q = {
                "true_P": met.poly_dec, "true_P_joint": met.poly_joint, "neg_MCC": -met.mcc,
                "neg_mean_max_cos": -mean_max_cos(C), "dead_fraction": met.dead / tc.width,
                "absorption": absorption_score(pmf, C, member, act),
            }
            hp = f"k={spec.k}" if tc.arch == "topk" else f"l1={spec.sparsity:g}"
            pts.append((f"{tc.arch} {hp} seed={spec.seed}", met.rate, met.distortion, q))
    notes = (f"{dropped} diverged SAE(s) dropped",) if dropped else ()
    return _points("trained", "topk+relu", f"{pmf_spec} m={cfg.train_width}", pts, notes)


# ------------------------------------------------------------------------------------------ audit
@dataclass(frozen=True)
class GroundTruthRow:
    """§3 statistics of one proxy on one sweep."""

    kind: str
    sweep: str
    group: str
    proxy: str
    audit: Any = field(repr=False)
    """:class:`audit.proxies.ProxyAudit`, or None when the sweep is too small or the proxy undefined."""
    note: str = ""

    @property
    def passes(self) -> bool:
        """V < ½, its bootstrap interval below ½, and ρ_RDP > 0."""
        a = self.audit
        if a is None or a.V is None or a.V_hi is None:
            return False
        return bool(a.V < 0.5 and a.V_hi < 0.5 and math.isfinite(a.rho) and a.rho > 0)

    def to_row(self) -> dict[str, Any]:
        a = self.audit
        row: dict[str, Any] = {"kind": self.kind, "sweep": self.sweep, "group": self.group, "proxy": self.proxy,
                               "passes": self.passes}
        if a is not None:
            row.update({"n_saes": a.n_saes, "n_pairs": a.n_pairs, "V": a.V, "V_lo": a.V_lo, "V_hi": a.V_hi,
                        "V_strict": a.V_strict, "rho": a.rho, "rho_lo": a.rho_lo, "rho_hi": a.rho_hi,
                        "p_value": a.p_value, "n_dropped": a.n_dropped})
        return {c: row.get(c) for c in RESULT_COLUMNS}


@dataclass(frozen=True)
class GroundTruthResult:
    """All sweeps and their per-proxy statistics."""

    config: GroundTruthConfig
    sweeps: tuple[SweepPoints, ...]
    rows: tuple[GroundTruthRow, ...]

    def frame_rows(self) -> list[dict[str, Any]]:
        return [r.to_row() for r in self.rows]

    def pass_counts(self) -> dict[str, dict[str, tuple[int, int]]]:
        """proxy → kind → (#sweeps passed, #sweeps with a defined audit)."""
        out: dict[str, dict[str, tuple[int, int]]] = {}
        for r in self.rows:
            if r.audit is None:
                continue
            k = out.setdefault(r.proxy, {})
            p, n = k.get(r.kind, (0, 0))
            k[r.kind] = (p + int(r.passes), n + 1)
        return out

    def summary_markdown(self) -> str:
        """The "which proxies pass" table."""
        counts = self.pass_counts()
        kinds = [k for k in ("exact", "trained") if any(k in v for v in counts.values())]
        head = "| proxy | " + " | ".join(f"passes ({k} sweeps)" for k in kinds) + " |"
        lines = [head, "|---|" + "---|" * len(kinds)]
        for p in PROXIES:
            if p not in counts:
                continue
            cells = [f"{counts[p][k][0]}/{counts[p][k][1]}" if k in counts[p] else "–" for k in kinds]
            lines.append(f"| `{p}` | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _audit_rows(sw: SweepPoints, cfg: GroundTruthConfig) -> list[GroundTruthRow]:
    from audit.proxies import MIN_SAES, audit_proxy

    rows = []
    for p in PROXIES:
        q = sw.proxies[p]
        if len(sw.labels) < MIN_SAES or not np.any(np.isfinite(q)):
            continue
        try:
            a = audit_proxy(sw.rate, sw.distortion, q, bootstrap=cfg.bootstrap, permutations=cfg.permutations,
                            seed=cfg.seed, nan_policy="omit")
        except InvalidArgument as exc:
            rows.append(GroundTruthRow(sw.kind, sw.sweep, sw.group, p, None, str(exc)))
            continue
        rows.append(GroundTruthRow(sw.kind, sw.sweep, sw.group, p, a))
    return rows


def run_groundtruth(config: GroundTruthConfig | None = None, progress: ProgressFn | None = None) -> GroundTruthResult:
    """Run every sweep of ``config`` and audit every proxy on each."""
    cfg = config or GroundTruthConfig.quick()
    sweeps: list[SweepPoints] = []
    for spec in cfg.exact_pmfs:
        for m, k in cfg.shapes:
            if progress is not None:
                progress(f"exact {spec} m={m} k={k}")
            sweeps += exact_sweeps(spec, m, k, cfg)
    for spec in cfg.train_pmfs:
        if progress is not None:
            progress(f"trained {spec}")
        sweeps.append(trained_sweep(spec, cfg))
    rows = [r for sw in sweeps for r in _audit_rows(sw, cfg)]
    return GroundTruthResult(config=cfg, sweeps=tuple(sweeps), rows=tuple(rows))


# ------------------------------------------------------------------------------------------ output


__all__ = [
    "PROXIES",
    "GroundTruthConfig",
    "GroundTruthResult",
    "GroundTruthRow",
    "SweepPoints",
    "absorption_score",
    "combinatorial_proxies",
    "exact_sweeps",
    "mean_max_cos",
    "run_groundtruth",
    "trained_sweep",
]
