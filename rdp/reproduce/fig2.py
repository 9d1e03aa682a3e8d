"""``rdp reproduce fig2``: the polysemanticity P of five representative dictionaries.

Each dictionary is a weight matrix W [m, n] in concept coordinates (DESIGN A1: V = I), one row per
latent; P is DESIGN §1.3's row-wise max-alignment measure, computed by
:func:`rdp_exact.polysemanticity.polysemanticity` (nothing is drawn by hand):

* **monosemantic** — W = I: every row is one concept, P = 0;
* **permuted** — a permutation of I with signs flipped: P is blind to order and sign, P = 0;
* **mixed** — every row mostly one concept with a smaller share of the next one (weights 1 and
  ``mix``): every row scores 1 − 1/√(1 + mix²), so P = that, 0 < P < 1 − 1/√2;
* **hedged** — concepts 0 and 1 share latent 0 (a binary row over 2 concepts), concepts 2..n−1 have
  a latent each, latent 1 is dead (a zero row, not counted): P = (1 − 1/√2)/(n − 1);
* **fully dense** — every row the all-ones vector: every row scores 1 − 1/√n, the largest value a
  nonnegative row can reach.

Outputs: ``fig2.png`` (the |cosine| tables as heat maps, P in each title), ``fig2.csv`` (one row per
latent: dictionary, latent, row P, best-aligned concept, |cos|), ``fig2.json`` (P per dictionary and the
config) and ``index.html``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rdp.reproduce.common import TargetResult, csv_text, fmt, run_target
from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_json, atomic_write_text
from rdp_exact.polysemanticity import cosine_table, polysemanticity, row_poly
from rdp_exact.validate import check_float, check_int

DICTIONARIES: tuple[str, ...] = ("monosemantic", "permuted", "mixed", "hedged", "fully dense")
ROWS_COLUMNS = ("dictionary", "latent", "row_poly", "best_concept", "best_abs_cos", "dictionary_poly")


@dataclass(frozen=True)
class Fig2Config:
    """Settings of ``rdp reproduce fig2``."""

    n: int = 4
    """Concepts (= latents m of every dictionary), 2..12."""
    mix: float = 0.5
    """Weight of the second concept in each row of the ``mixed`` dictionary, in (0, 1)."""

    def __post_init__(self) -> None:
        check_int("--n", self.n, min=2, max=12)
        check_float("--mix", self.mix, min=0.0, max=1.0, min_exclusive=True)
        if self.mix == 1.0:
            raise InvalidArgument(f"--mix must be < 1 (1 ties the two concepts of a row), got {self.mix!r}")

    @classmethod
    def quick(cls, **kw: object) -> Fig2Config:
        """The same (fig2 takes well under a second)."""
        return cls(**kw)  # type: ignore[arg-type]


def dictionaries(config: Fig2Config) -> dict[str, np.ndarray]:
    """The five weight matrices W [n, n] (rows = latents, columns = concepts), in DICTIONARIES order."""
    n = config.n
    eye = np.eye(n)
    perm = np.roll(eye, 1, axis=0) * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
    mixed = eye + config.mix * np.roll(eye, 1, axis=1)  # row j: concept j, plus mix · concept j+1
    hedged = eye.copy()
    hedged[0, 1] = 1.0  # latent 0 writes {0, 1}
    hedged[1] = 0.0  # latent 1 is dead (a zero row: not counted)
    dense = np.ones((n, n))
    return {"monosemantic": eye, "permuted": perm, "mixed": mixed, "hedged": hedged, "fully dense": dense}


@dataclass(frozen=True)
class Fig2Data:
    """P of each dictionary and its per-latent rows."""

    config: Fig2Config
    poly: dict[str, float]
    """P per dictionary."""
    tables: dict[str, np.ndarray]
    """|cosine| tables [m, n] per dictionary."""
    rows: tuple[dict[str, object], ...]
    """One record per latent (ROWS_COLUMNS)."""


def compute_fig2(config: Fig2Config) -> Fig2Data:
    """P and cosine tables of the five dictionaries."""
    poly: dict[str, float] = {}
    tables: dict[str, np.ndarray] = {}
    rows: list[dict[str, object]] = []
    for name, W in dictionaries(config).items():
        P = polysemanticity(W)
        C = np.abs(cosine_table(W))  # [m, n]
        rp = row_poly(C)
        live = np.linalg.norm(W, axis=1) > 0
        poly[name] = P
        tables[name] = C
        for j in range(W.shape[0]):
            rows.append({
                "dictionary": name, "latent": j, "row_poly": float(rp[j]) if live[j] else None,
                "best_concept": int(np.argmax(C[j])) if live[j] else None,
                "best_abs_cos": float(C[j].max()) if live[j] else None, "dictionary_poly": P,
            })
    return Fig2Data(config, poly, tables, tuple(rows))


def plot_fig2(data: Fig2Data, path: str | Path) -> Path:
    """One heat map of |cos(w_j, v_i)| per dictionary, P in the title."""
    from rdp_exact.plots import plt, save_figure

    fig, axes = plt.subplots(1, len(DICTIONARIES), figsize=(3.2 * len(DICTIONARIES), 3.4))
    n = data.config.n
    for ax, name in zip(axes, DICTIONARIES, strict=True):
        im = ax.imshow(data.tables[name], vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_title(f"{name}\nP = {data.poly[name]:.3f}", fontsize=10)
        ax.set_xlabel("concept i")
        if ax is axes[0]:
            ax.set_ylabel("latent j")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="|cos(w_j, v_i)|")
    fig.suptitle("Fig. 2 — polysemanticity P of representative dictionaries (DESIGN §1.3)")
    return save_figure(fig, path)


def summary_lines(data: Fig2Data) -> list[str]:
    """P per dictionary, in order."""
    n = data.config.n
    return [f"n = {n}: " + ", ".join(f"{k} P = {fmt(v)}" for k, v in data.poly.items()),
            f"(a binary row over t concepts scores 1 − 1/√t; fully dense: 1 − 1/√{n} = {fmt(1 - 1 / math.sqrt(n))})"]


def write_fig2(data: Fig2Data, folder: str | Path) -> list[Path]:
    """fig2.png, fig2.csv and fig2.json into ``folder`` (existing)."""
    folder = Path(folder)
    return [
        plot_fig2(data, folder / "fig2.png"),
        atomic_write_text(folder / "fig2.csv", csv_text(ROWS_COLUMNS, data.rows)),
        atomic_write_json(folder / "fig2.json", {"target": "fig2", "config": asdict(data.config), "poly": data.poly,
                                                 "summary": summary_lines(data)}),
    ]


SECTION_TEXT = (
    "P (DESIGN §1.3: the mean over nonzero rows of 1 − max_i |cos(w_j, v_i)|) of five dictionaries in concept "
    "coordinates. Monosemantic and permuted dictionaries score 0, a hedged latent over two concepts scores "
    "1 − 1/√2 (averaged over the live latents), and a fully dense dictionary scores 1 − 1/√n."
)


def run_fig2(config: Fig2Config, out: str | os.PathLike[str],
             progress: Callable[[str], None] | None = None) -> TargetResult:
    """Check ``out``, compute, and write everything (plus index.html) through a staging folder."""

    def compute() -> Fig2Data:
        if progress is not None:
            progress("fig2: computing P of five dictionaries")
        return compute_fig2(config)

    return run_target("fig2", "Fig. 2 — P of representative dictionaries", SECTION_TEXT, out, compute, write_fig2,
                      summary_lines, lambda d: {"poly": d.poly})
