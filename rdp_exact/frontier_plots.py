"""Figures of ``rdp frontier`` (matplotlib, Agg; saved atomically through :func:`plots.save_figure`).

* ``rd_staircases.png`` — the R–D plane: R*(δ, ρ_P) at each P level (solid steps, filled markers for
  proven points, hollow for unproven ones), D*(r, ρ_P) as crosses at (D*, r), the exact monosemantic
  staircase of C-T5 (black dashed) and, if computed, the exact Pareto points coloured by P.
* ``poly_floor_vs_k.png`` — the monosemanticity floor P*(∞, D*_k) against the cap k.
* ``dstar_vs_k.png`` — D*_k against k for the unrestricted optimum and for monosemantic SAEs (D_min(m, k)).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rdp_exact.plots import plt, save_figure

if TYPE_CHECKING:
    from rdp_exact.frontier import FrontierResult


def _f(x: float | None) -> float:
    """A plottable float (NaN for a missing value)."""
    return float("nan") if x is None else float(x)


def _level_label(rho: float | None) -> str:
    return "no P budget" if rho is None else f"P ≤ {rho:g}"


def plot_rd_staircases(result: FrontierResult, path: str | Path) -> Path:
    """R–D staircases at every P level, with the monosemantic staircase and the Pareto set."""
    cfg = result.config
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    colours = plt.get_cmap("viridis")
    levels = cfg.poly_levels
    for i, rho in enumerate(levels):
        col = colours(i / max(1, len(levels) - 1) * 0.9)
        pts = [r for r in result.rows_of("rstar") if r.max_poly == rho and r.rate is not None]
        pts.sort(key=lambda r: r.max_distortion or 0.0)
        if pts:
            xs = [_f(r.max_distortion) for r in pts]
            ys = [_f(r.rate) for r in pts]
            ax.step(xs, ys, where="post", color=col, lw=1.6, label=f"R*(δ) {_level_label(rho)}")
            ex = [r for r in pts if r.exact]
            nx = [r for r in pts if not r.exact]
            ax.plot([_f(r.max_distortion) for r in ex], [_f(r.rate) for r in ex], "o", color=col, ms=4)
            if nx:
                ax.plot([_f(r.max_distortion) for r in nx], [_f(r.rate) for r in nx], "o", mfc="none", color=col, ms=6,
                        label=f"not proven ({_level_label(rho)})")
        dpts = [r for r in result.rows_of("dstar") if r.max_poly == rho and r.distortion is not None]
        if dpts:
            ax.plot([_f(r.distortion) for r in dpts], [_f(r.max_rate) for r in dpts], "x", color=col, ms=5)
    st = result.staircase.points
    if st:
        ax.step([d for d, _ in st], [r for _, r in st], where="post", color="black", ls="--", lw=1.1,
                label="monosemantic staircase (C-T5)" + (" — truncated" if result.staircase.truncated else ""))
    if result.pareto:
        sc = ax.scatter([d for _, d, _ in result.pareto], [r for r, _, _ in result.pareto],
                        c=[p for _, _, p in result.pareto], cmap="magma", s=14, zorder=3, label="exact Pareto set")
        fig.colorbar(sc, ax=ax, label="P of Pareto point")
    if result.d_star_k is not None:
        ax.axvline(result.d_star_k, color="grey", lw=0.8, ls=":")
        ax.text(result.d_star_k, ax.get_ylim()[1], " D*_k", va="top", fontsize=8, color="grey")
    ax.axvline(result.d_min, color="black", lw=0.8, ls=":")
    ax.text(result.d_min, ax.get_ylim()[1] * 0.93, " D_min", va="top", fontsize=8)
    ax.set_xlabel("distortion D (δ)")
    ax.set_ylabel("rate R (expected L0)")
    ax.set_title(f"R–D staircases, m = {cfg.width}, k = {cfg.k} (× : D*(r) points)")
    ax.legend(fontsize=7, loc="upper right")
    return save_figure(fig, path)


def plot_poly_floor_vs_k(result: FrontierResult, path: str | Path) -> Path:
    """P*(∞, D*_k) against k."""
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = [r for r in result.per_k if r.p_floor is not None]
    if rows:
        ax.plot([r.k for r in rows], [_f(r.p_floor) for r in rows], "o-", color="#d62728", label="P*(∞, D*_k)")
        nx = [r for r in rows if not r.p_floor_exact]
        if nx:
            ax.plot([r.k for r in nx], [_f(r.p_floor) for r in nx], "o", mfc="none", ms=10, color="black",
                    label="not proven")
    else:
        ax.text(0.5, 0.5, "no per-k data", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("cap k")
    ax.set_ylabel("min polysemanticity at D ≤ D*_k")
    ax.set_xticks(range(1, result.config.width + 1))
    ax.set_ylim(bottom=-0.02)
    ax.set_title("monosemanticity floor of the TopK optimum")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_dstar_vs_k(result: FrontierResult, path: str | Path) -> Path:
    """D*_k (unrestricted) and D_min(m, k) (monosemantic) against k."""
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = list(result.per_k)
    if rows:
        ax.plot([r.k for r in rows], [_f(r.d_min) for r in rows], "s--", color="#1f77b4",
                label="monosemantic D_min(m, k) (C-T5)")
        ok = [r for r in rows if r.d_star is not None]
        ax.plot([r.k for r in ok], [_f(r.d_star) for r in ok], "o-", color="#d62728", label="unrestricted D*_k")
        nx = [r for r in ok if not r.d_star_exact]
        if nx:
            ax.plot([r.k for r in nx], [_f(r.d_star) for r in nx], "o", mfc="none", ms=10, color="black",
                    label="not proven")
    else:
        ax.text(0.5, 0.5, "no per-k data", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("cap k")
    ax.set_ylabel("least distortion")
    ax.set_xticks(range(1, result.config.width + 1))
    ax.set_title(f"D*_k against k, m = {result.config.width}")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
