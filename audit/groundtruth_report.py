"""Writers of the ground-truth check (:mod:`audit.groundtruth`): Markdown, CSV tables, the report folder."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from audit.groundtruth import (
    GROUNDTRUTH_CSV,
    GROUNDTRUTH_MD,
    POINT_COLUMNS,
    POINTS_CSV,
    PROXIES,
    PROXY_DOC,
    RESULT_COLUMNS,
    GroundTruthConfig,
    GroundTruthResult,
    ProgressFn,
    run_groundtruth,
)


def _f(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "✓" if v else "✗"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def groundtruth_markdown(result: GroundTruthResult) -> str:
    """groundtruth.md: the pass table, the per-sweep statistics and how to read them."""
    cfg = result.config
    L = [
        "# Ground truth for the proxy criterion",
        "",
        "Each sweep below has a **known** polysemanticity, so the §3 criterion (violation rate V, ρ_RDP) can be",
        "checked against the truth: exact optima across budgets (where the theory *guarantees* the true P is",
        "never inverted: V_strict = 0) and SAEs trained on the toy DGP. A proxy **passes** a sweep when V < 0.5",
        "with the upper end of its 95% bootstrap interval below 0.5, and ρ_RDP > 0. No existing SAE benchmark",
        "reports such a check of its own criterion.",
        "",
        f"Setting: exact pmfs {', '.join(cfg.exact_pmfs)}; shapes (m, k) {', '.join(map(str, cfg.shapes))}; grid "
        f"{cfg.grid}×{cfg.grid}; trained pmfs {', '.join(cfg.train_pmfs)} (width {cfg.train_width}, TopK k ∈ "
        f"{list(cfg.topk_k)}, ReLU L1 ∈ {list(cfg.relu_l1)}, {cfg.seeds} seed(s), {cfg.steps} steps); "
        f"{cfg.bootstrap} bootstrap resamples, {cfg.permutations} permutations, seed {cfg.seed}.",
        "",
        "## Which proxies pass",
        "",
        result.summary_markdown(),
        "",
        "Proxies (all oriented so that larger = more polysemantic):",
        "",
    ]
    L += [f"- `{p}`: {PROXY_DOC[p]}" for p in PROXIES]
    L += ["", "## Every sweep", "",
          "| kind | sweep | group | proxy | N | pairs | V [95% CI] | V_strict | ρ_RDP [95% CI] | pass |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result.rows:
        a = r.audit
        if a is None:
            L.append(f"| {r.kind} | {r.sweep} | {r.group} | `{r.proxy}` | – | – | {r.note} | – | – | ✗ |")
            continue
        v = f"{_f(a.V)} [{_f(a.V_lo)}, {_f(a.V_hi)}]"
        rho = f"{_f(a.rho)} [{_f(a.rho_lo)}, {_f(a.rho_hi)}]"
        L.append(f"| {r.kind} | {r.sweep} | {r.group} | `{r.proxy}` | {a.n_saes} | {a.n_pairs} | {v} | "
                 f"{_f(a.V_strict)} | {rho} | {_f(r.passes)} |")
    notes = [f"- {sw.kind} {sw.sweep} {sw.group}: {n}" for sw in result.sweeps for n in sw.notes]
    if notes:
        L += ["", "Notes:", "", *notes]
    L += [
        "",
        "## How to read it",
        "",
        "- On **exact** sweeps the true P must show V_strict = 0 (a dominated pair is never inverted); its V can",
        "  still exceed 0 because ties count ½ (many optima share P = 0). A proxy that fails here fails on SAEs",
        "  whose polysemanticity is known exactly.",
        "- On **trained** sweeps nothing is guaranteed: trained SAEs are not optima, so even the true P may fail.",
        "  Compare each proxy with the row of the true P of the same sweep.",
        "- `groundtruth_points.csv` lists every SAE of every sweep with its (R, D) placement and proxy values;",
        "  `groundtruth.csv` has one row per (sweep, proxy) with V, its interval, V_strict, ρ_RDP and the verdict.",
    ]
    return "\n".join(L) + "\n"


def write_groundtruth(result: GroundTruthResult, folder: str | Path) -> list[Path]:
    """Write groundtruth.csv, groundtruth_points.csv and groundtruth.md into ``folder``."""
    from rdp_exact.io_utils import atomic_write_text, csv_text

    folder = Path(folder)
    return [
        atomic_write_text(folder / GROUNDTRUTH_CSV, csv_text(RESULT_COLUMNS, result.frame_rows())),
        atomic_write_text(folder / POINTS_CSV, csv_text(POINT_COLUMNS, [r for sw in result.sweeps for r in sw.rows()])),
        atomic_write_text(folder / GROUNDTRUTH_MD, groundtruth_markdown(result)),
    ]


def groundtruth_report(out_dir: str | Path, quick: bool = True, *, seed: int = 0,
                       config: GroundTruthConfig | None = None,
                       progress: ProgressFn | None = None) -> GroundTruthResult:
    """Run the ground-truth sweeps (``quick`` or full setting, or ``config``) and write DIR/groundtruth.csv,
    DIR/groundtruth.md and DIR/groundtruth_points.csv (checked first, written all or nothing)."""
    from rdp_exact.io_utils import check_writable_dir, staged_dir

    check_writable_dir(out_dir)
    cfg = config or (GroundTruthConfig.quick(seed) if quick else GroundTruthConfig.full(seed))
    result = run_groundtruth(cfg, progress)
    with staged_dir(out_dir) as tmp:
        write_groundtruth(result, tmp)
    return result
