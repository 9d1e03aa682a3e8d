"""Writer of a frontier result (:mod:`rdp_exact.frontier`): CSV, JSON and figures, all or nothing."""

from __future__ import annotations

from pathlib import Path

from rdp_exact import frontier_plots
from rdp_exact.frontier import FrontierResult
from rdp_exact.io_utils import atomic_write_json, atomic_write_text, staged_dir

FRONTIER_FILES = ("frontier.csv", "frontier.json", "rd_staircases.png", "poly_floor_vs_k.png", "dstar_vs_k.png")


def write_frontier(result: FrontierResult, out_dir: str | Path) -> Path:
    """Write ``frontier.csv``, ``frontier.json`` and the three figures into ``out_dir`` (all or nothing)."""
    out = Path(out_dir)
    with staged_dir(out) as tmp:
        atomic_write_text(tmp / "frontier.csv", result.to_csv())
        atomic_write_json(tmp / "frontier.json", result.to_json_dict())
        frontier_plots.plot_rd_staircases(result, tmp / "rd_staircases.png")
        frontier_plots.plot_poly_floor_vs_k(result, tmp / "poly_floor_vs_k.png")
        frontier_plots.plot_dstar_vs_k(result, tmp / "dstar_vs_k.png")
    return out
