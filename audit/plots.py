"""Proxy-audit figures (DESIGN §7): one scatter per proxy, q against rate and against distortion,
coloured by tightness t = −(rank r + rank d). Matplotlib with the Agg backend; saves are atomic."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rdp_exact.plots import save_figure  # noqa: E402

_DIRECTION = {
    "interpretable": "higher = more interpretable",
    "polysemantic": "higher = more polysemantic",
}


def _log_scale(x: np.ndarray) -> bool:
    return bool(x.size and np.all(x > 0) and x.max() / x.min() > 20)


def plot_proxy(
    rate: np.ndarray,
    distortion: np.ndarray,
    values: np.ndarray,
    tightness: np.ndarray,
    path: str | Path,
    *,
    proxy: str,
    orientation: str,
    rate_label: str = "rate (L0)",
    distortion_label: str = "distortion",
    title: str | None = None,
) -> Path:
    """Two panels, the raw proxy values against rate and against distortion, coloured by tightness.

    ``values`` are the column as stored (not negated); the y label states its direction.
    """
    r, d, v, t = (np.asarray(a, dtype=float) for a in (rate, distortion, values, tightness))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    sc = None
    for ax, x, label in ((axes[0], r, rate_label), (axes[1], d, distortion_label)):
        sc = ax.scatter(x, v, c=t, cmap="viridis", s=28, edgecolors="k", linewidths=0.3)
        ax.set_xlabel(label)
        if _log_scale(x):
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"{proxy}\n({_DIRECTION.get(orientation, orientation)})")
    assert sc is not None
    cbar = fig.colorbar(sc, ax=list(axes), shrink=0.9)
    cbar.set_label("tightness −(rank r + rank d)  (higher = tighter budget)")
    fig.suptitle(title or proxy)
    return save_figure(fig, path)
