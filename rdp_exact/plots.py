"""Figures of exact solutions (matplotlib, Agg backend; every save is atomic)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rdp_exact.io_utils import atomic_write_bytes  # noqa: E402
from rdp_exact.pmf import format_event  # noqa: E402
from rdp_exact.problem import Solution  # noqa: E402


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Render ``fig`` to bytes in the format of the suffix and write it atomically; closes the figure."""
    p = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=p.suffix.lstrip(".").lower() or "png", dpi=130, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(p, buf.getvalue())


def draw_atoms(ax: plt.Axes, atoms: np.ndarray, names: tuple[str, ...], live: tuple[bool, ...] | None = None,
               title: str = "decoder atoms") -> None:
    """Concepts × latents picture of 0/1 atoms [m, n] (dead latents greyed)."""
    m, n = atoms.shape
    img = atoms.T.astype(float)
    if live is not None:
        for j, ok in enumerate(live):
            if not ok:
                img[:, j] = np.where(img[:, j] > 0, 0.35, 0.0)
    ax.imshow(img, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(m), [f"z{j}" + ("" if live is None or live[j] else "†") for j in range(m)])
    ax.set_yticks(range(n), list(names))
    ax.set_xlabel("latent")
    ax.set_ylabel("concept")
    ax.set_title(title)
    for j in range(m):
        for i in range(n):
            if atoms[j, i]:
                ax.text(j, i, "1", ha="center", va="center", color="white", fontsize=9)


def plot_solution(sol: Solution, path: str | Path, max_events: int = 24) -> Path:
    """Two panels: the atoms against concepts, and π(S)·error per event (the terms of D)."""
    assert sol.sae is not None and sol.evaluation is not None
    pmf = sol.problem.pmf
    ev = sol.evaluation
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 2]})
    draw_atoms(ax1, sol.sae.atom_matrix(), pmf.names(), ev.live)
    order = np.argsort(-pmf.probs, kind="stable")[:max_events]
    labels = [format_event(pmf.events[s], pmf.concept_names) for s in order]
    contrib = pmf.probs[order] * ev.errors[order]
    ax2.bar(range(len(order)), pmf.probs[order], color="#d9d9d9", label="π(S)")
    ax2.bar(range(len(order)), contrib, color="#d62728", label="π(S)·error(S)")
    ax2.set_xticks(range(len(order)), labels, rotation=60, ha="right", fontsize=8)
    ax2.set_ylabel("probability mass")
    ax2.legend(loc="upper right")
    ax2.set_title("reconstruction error per event (most probable first)")
    status = "proven optimal" if sol.is_exact else sol.status.value
    fig.suptitle(
        f"m = {sol.problem.width}, k = {sol.problem.k}: R = {ev.rate:.4g}, D = {ev.distortion:.4g}, "
        f"P = {sol.poly:.4g} ({status}, {sol.solver})"
    )
    return save_figure(fig, path)
