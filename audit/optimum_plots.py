"""Figures of ``rdp audit optimum`` (matplotlib Agg; every save atomic through rdp_exact.plots.save_figure).

* :func:`plot_rd` — trained SAEs as points in the (R, D) plane over the exact staircases of their
  (π, m, k): the monosemantic staircase R*(δ, 0) of C-T5 (P = 0), the unrestricted optima D*(r) of a few
  rate-budget solves (the P-free frontier), D*_k and the floor D_min; every point coloured by its P.
* :func:`plot_atoms` — concepts × latents: the trained decoder's cosine table, the snapped atoms (with each
  latent's kind) and the optimal SAE's atoms, side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402

from rdp_exact.plots import draw_atoms, save_figure  # noqa: E402

#: Short tags of latent kinds for tick labels.
KIND_TAGS = {"dead": "dead", "unaligned": "unal", "splitting": "split", "monosemantic": "mono", "hedged": "hedge",
             "mixed": "mix"}
CMAP = "viridis"


def plot_rd(optimum: Any, members: Sequence[Any], path: str | Path) -> Path:
    """Trained SAEs (``members``: :class:`audit.optimum.SAEAudit`) over the exact R–D staircases of ``optimum``."""
    pmf = optimum.pmf
    es = pmf.expected_sparsity()
    p_vals = [s.metrics.poly_dec for s in members if np.isfinite(s.metrics.poly_dec)]
    p_vals += [optimum.poly_opt] + [sol.poly for _, sol in optimum.rd_points if sol.poly is not None]
    vmax = max([1e-9, *p_vals])
    norm = Normalize(vmin=0.0, vmax=vmax)
    cmap = plt.get_cmap(CMAP)
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    if optimum.staircase is not None and optimum.staircase.points:
        pts = sorted((d, r) for d, r in optimum.staircase.points)  # D on x, R on y, as in every R–D figure
        ds, rs = [p[0] for p in pts], [p[1] for p in pts]
        ds.append(ds[-1] + 0.05 * max(es, 1.0))
        rs.append(rs[-1])
        ax.step(ds, rs, where="post", color=cmap(norm(0.0)), lw=1.6, label="monosemantic staircase R*(δ, 0) (P = 0)")
    if optimum.rd_points:
        pts2 = sorted((float(s.distortion), float(s.rate), float(s.poly)) for _, s in optimum.rd_points)
        pts2.append((optimum.d_star_k, optimum.rate_opt, optimum.poly_opt))
        pts2.sort()
        ax.step([p[0] for p in pts2], [p[1] for p in pts2], where="post", color="0.55", lw=1.0, ls="--",
                label="exact optimum D*(r), any P")
        ax.scatter([p[0] for p in pts2], [p[1] for p in pts2], c=[cmap(norm(p[2])) for p in pts2], marker="s",
                   s=36, edgecolors="0.3", zorder=3)
    ax.scatter([optimum.d_star_k], [optimum.rate_opt], c=[cmap(norm(optimum.poly_opt))], marker="*", s=260,
               edgecolors="black", zorder=4, label=f"D*_k = {optimum.d_star_k:.4g} ({optimum.status})")
    if np.isfinite(optimum.d_min):
        ax.axvline(optimum.d_min, color="tab:red", ls=":", lw=1.2,
                   label=f"binary monosemantic floor D_min = {optimum.d_min:.4g}")
    _class_lines(ax, members)
    rs_t = [s.metrics.rate for s in members]
    ds_t = [s.metrics.distortion for s in members]
    ax.scatter(ds_t, rs_t, c=[cmap(norm(s.metrics.poly_dec)) if np.isfinite(s.metrics.poly_dec) else "red"
                               for s in members],
               marker="o", s=60, edgecolors="black", linewidths=1.2, zorder=5, label="trained SAEs (exact R, D)")
    snapped = [(s.snapped.best_eval.distortion, s.snapped.best_eval.rate, s.snapped.best_eval.poly_dec)
               for s in members if s.snapped is not None and s.snapped.best_eval is not None]
    if snapped:
        ax.scatter([p[0] for p in snapped], [p[1] for p in snapped], c=[cmap(norm(p[2])) for p in snapped],
                   marker="X", s=50, edgecolors="0.2", linewidths=0.6, zorder=4, alpha=0.8,
                   label="snapped SAEs (best response)")
    if len(members) <= 12:
        for s in members:
            ax.annotate(s.sae_dir.split("/")[-1].replace("sae_", ""), (s.metrics.distortion, s.metrics.rate),
                        textcoords="offset points", xytext=(5, 4), fontsize=7)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="polysemanticity P (P_dec)")
    ax.set_xlabel("distortion D (expected squared error)")
    ax.set_ylabel("rate R (expected L0)")
    ax.set_title(f"m = {optimum.width}, k = {optimum.k}: trained SAEs vs the exact optimum")
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def _class_lines(ax: Any, members: Sequence[Any]) -> None:
    """D*(class) (solid) and D_min(class) (dash-dot) of each distinct class among the trained SAEs: the yardsticks
    that contain them (issue 11); the binary D*_k and D_min above are references."""
    seen: dict[str, Any] = {}
    for s in members:
        cr = getattr(s, "class_ref", None)
        if cr is not None:
            seen.setdefault(f"{cr.placement.label}, k = {cr.placement.k}", cr)
    colours = ("tab:green", "tab:purple", "tab:brown", "tab:olive")
    for i, (label, cr) in enumerate(seen.items()):
        c = colours[i % len(colours)]
        if np.isfinite(cr.d_star):
            ax.axvline(cr.d_star, color=c, ls="-", lw=1.0, alpha=0.8,
                       label=f"D*({label}) = {cr.d_star:.4g}" + ("" if cr.exact else " (not proven)"))
        if np.isfinite(cr.d_min):
            ax.axvline(cr.d_min, color=c, ls="-.", lw=1.0, alpha=0.8, label=f"D_min({label}) = {cr.d_min:.4g}")


def plot_atoms(sae: Any, path: str | Path, cos_threshold: float = 0.5) -> Path:
    """Concepts × latents of one audited SAE: decoder cosines, snapped atoms, optimal atoms."""
    sn = sae.snapped
    opt = sae.optimum
    pmf = opt.pmf
    names = pmf.names()
    m, n = len(sn.atoms), pmf.n
    fig, axes = plt.subplots(1, 3, figsize=(4.0 + 1.2 * (2 * m + opt.width), 3.2 + 0.3 * n),
                             gridspec_kw={"width_ratios": [m, m, opt.width]})
    ax0, ax1, ax2 = axes
    C = sn.decoder_cos.T  # [n, m]
    ax0.imshow(C, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for j in range(m):
        for i in range(n):
            ax0.text(j, i, f"{C[i, j]:.2f}", ha="center", va="center", fontsize=8,
                     color="white" if abs(C[i, j]) > 0.6 else "black")
    ax0.set_xticks(range(m), [f"z{j}" for j in range(m)])
    ax0.set_yticks(range(n), list(names))
    ax0.set_xlabel("latent")
    ax0.set_ylabel("concept")
    ax0.set_title("trained decoder: cos(w_j, v_i)")
    live = sn.live()
    draw_atoms(ax1, sn.atom_matrix(), names, live,
               title=f"snapped atoms (cos > {cos_threshold:g})")
    tags = []
    for lat in sn.latents:
        t = f"z{lat.index}\n{KIND_TAGS.get(lat.kind, lat.kind)}" + ("\nabsorb" if lat.absorbing else "")
        tags.append(t)
    ax1.set_xticks(range(m), tags, fontsize=8)
    osae = opt.solution.sae
    oev = opt.solution.evaluation
    if osae is not None:
        draw_atoms(ax2, osae.atom_matrix(), names, None if oev is None else oev.live,
                   title=f"exact optimum ({opt.status})")
    met = sae.metrics
    be = sn.best_eval
    snapped_txt = "" if be is None else f"; snapped: R = {be.rate:.3g}, D = {be.distortion:.3g}, P = {be.poly_dec:.3g}"
    fig.suptitle(
        f"{sae.sae_dir} ({sae.arch}, k_audit = {sae.k_audit}): R = {met.rate:.3g}, D = {met.distortion:.3g}, "
        f"P_dec = {met.poly_dec:.3g}{snapped_txt}; optimum: D*_k = {opt.d_star_k:.3g}, P = {opt.poly_opt:.3g}",
        fontsize=9,
    )
    fig.tight_layout()
    return save_figure(fig, path)


__all__ = ["plot_atoms", "plot_rd"]
