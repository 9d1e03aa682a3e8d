"""``rdp reproduce table2``: the proxy audit (DESIGN §3) on the public SAEBench data, per architecture.

For every table in the SAEBench data folder (by default every ``*.csv`` at its top level: the two
per-SAE joins described in its README) the audit runs twice with :mod:`audit.proxy_audit`: over all SAEs
of the table (architecture ``all``) and separately for each architecture (``group_by="architecture"``).
Rate and distortion columns are detected by :func:`audit.saebench.read_saebench` (L0; an error column,
else one minus a fidelity) and every column the orientation table knows is audited.

Outputs: ``table2.csv`` (one row per dataset × architecture × proxy: n, pairs, V and its interval,
ρ_RDP and its interval, p-values, verdict), ``table2.md`` (one table per dataset in the style of the paper's
Table 2), ``table2.png`` (V with its interval per proxy and architecture) and ``table2.json``.

The data folder is ``--data DIR`` or, by default, the SAEBench data vendored in the repository
(``data/saebench``, sources and licences in its README.md).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rdp.reproduce.common import TargetResult, csv_text, run_target
from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_json, atomic_write_text
from rdp_exact.validate import check_float, check_int

log = logging.getLogger(__name__)

TABLE2_COLUMNS = (
    "dataset", "architecture", "proxy", "orientation", "n_saes", "n_pairs", "V", "V_lo", "V_hi", "rho", "rho_lo",
    "rho_hi", "p_value", "V_strict", "p_value_rho", "verdict", "rate_col", "distortion_col",
)
ALL = "all"


def default_data_dir() -> Path:
    """The vendored SAEBench data, ``<repo>/data/saebench``."""
    return Path(__file__).resolve().parents[2] / "data" / "saebench"


@dataclass(frozen=True)
class Table2Config:
    """Options of ``rdp reproduce table2``."""

    data: Path | None = None
    """SAEBench data folder (None: :func:`default_data_dir`)."""
    tables: tuple[str, ...] = ()
    """Tables to audit, relative to ``data`` (empty: every ``*.csv`` at its top level)."""
    bootstrap: int = 1000
    """Bootstrap resamples of the intervals."""
    permutations: int = 1000
    """Permutations of the p-values."""
    seed: int = 0
    """Seed of the resampling."""
    confidence: float = 0.95
    """Interval level."""

    def __post_init__(self) -> None:
        check_int("--bootstrap", self.bootstrap, min=0, max=100_000)
        check_int("--permutations", self.permutations, min=0, max=100_000)
        check_int("--seed", self.seed, min=0)
        check_float("--confidence", self.confidence, min=0.0, max=0.999, min_exclusive=True)

    @property
    def data_dir(self) -> Path:
        return default_data_dir() if self.data is None else Path(self.data)

    def table_paths(self) -> list[Path]:
        """The tables audited (checked to exist)."""
        d = self.data_dir
        if not d.is_dir():
            raise InvalidArgument(f"SAEBench data folder {str(d)!r} does not exist (give --data DIR)")
        if self.tables:
            paths = [d / t for t in self.tables]
            for p in paths:
                if not p.is_file():
                    raise InvalidArgument(f"no table {str(p)!r} in the data folder")
            return paths
        paths = sorted(p for p in d.glob("*.csv") if p.is_file())
        if not paths:
            raise InvalidArgument(f"no *.csv table in {str(d)!r} (give --table NAME)")
        return paths

    @classmethod
    def quick(cls, **changes: Any) -> Table2Config:
        """Seconds-long settings (tests, ``--quick``)."""
        base: dict[str, Any] = {"bootstrap": 50, "permutations": 50}
        base.update(changes)
        return cls(**base)


@dataclass(frozen=True)
class Table2Data:
    """All audit rows and the per-dataset notes."""

    config: Table2Config
    rows: tuple[dict[str, Any], ...]
    datasets: tuple[dict[str, Any], ...]
    """Per table: name, path, SAE count, rate and distortion columns, notes and warnings."""


def _nan_to_none(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def compute_table2(config: Table2Config, progress: Callable[[str], None] | None = None) -> Table2Data:
    """Audit every table overall and per architecture."""
    from audit.proxy_audit import ProxyAuditConfig, all_warnings, audit_table
    from audit.saebench import read_saebench

    rows: list[dict[str, Any]] = []
    datasets: list[dict[str, Any]] = []
    for path in config.table_paths():
        name = path.stem
        if progress is not None:
            progress(f"auditing {path.name}")
        table = read_saebench(path)
        base: dict[str, Any] = dict(bootstrap=config.bootstrap, permutations=config.permutations, seed=config.seed,
                    confidence=config.confidence)
        reports = [audit_table(table, ProxyAuditConfig(**base), str(path))]
        arch = table.frame["architecture"]
        if arch.notna().any() and arch.nunique() > 1:
            reports.append(audit_table(table, ProxyAuditConfig(group_by="architecture", **base), str(path)))
        warnings: list[str] = []
        for rep in reports:
            warnings += all_warnings(rep)
            frame = rep.summary_frame()
            for rec in frame.to_dict(orient="records"):
                rows.append({
                    "dataset": name, "architecture": rec["group"], "rate_col": table.rate_source,
                    "distortion_col": table.distortion_source,
                    **{c: _nan_to_none(rec.get(c)) for c in TABLE2_COLUMNS if c in rec and c != "group"},
                })
        datasets.append({
            "dataset": name, "path": str(path), "n_saes": len(table.frame), "rate_col": table.rate_source,
            "distortion_col": table.distortion_source, "notes": list(table.notes),
            "warnings": sorted(set(warnings)),
        })
    # "all" first, then architectures by name, per dataset and proxy
    rows.sort(key=lambda r: (r["dataset"], r["architecture"] != ALL, str(r["architecture"]), _natural(str(r["proxy"]))))
    return Table2Data(config, tuple(rows), tuple(datasets))


def _natural(text: str) -> tuple[tuple[int, Any], ...]:
    """Sort key that orders embedded numbers numerically (top_2 before top_10)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p)


def _f(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v):.{digits}f}"


def _ci(v: Any, lo: Any, hi: Any) -> str:
    if v is None:
        return "–"
    if lo is None:
        return _f(v)
    return f"{_f(v)} [{_f(lo)}, {_f(hi)}]"


def markdown(data: Table2Data) -> str:
    """table2.md: one Table-2-style table per dataset (architecture × proxy)."""
    cfg = data.config
    level = f"{cfg.confidence:.0%}"
    lines = [
        "# Table 2 — proxy audit on SAEBench data",
        "",
        f"Bootstrap {cfg.bootstrap} resamples ({level} intervals), {cfg.permutations} permutations, seed {cfg.seed}. "
        "V: share of dominated pairs (a sparser *and* more accurate than b) where the proxy calls a less "
        "polysemantic than b (ties ½): 0 faithful, 0.5 random, 1 inverted. ρ_RDP: Spearman correlation of "
        "tightness −(rank r + rank d) with the oriented proxy: +1 faithful, −1 inverted. Empty (–): undefined "
        "(no dominated pair, or fewer than three SAEs).",
        "",
    ]
    for ds in data.datasets:
        lines += [f"## {ds['dataset']}", "",
                  f"{ds['n_saes']} SAEs; rate `{ds['rate_col']}`, distortion `{ds['distortion_col']}`.", ""]
        lines += [
            f"| architecture | proxy | n | pairs | V [{level} CI] | ρ_RDP [{level} CI] | p | verdict |",
            "|---|---|---:|---:|---|---|---:|---|",
        ]
        for r in (x for x in data.rows if x["dataset"] == ds["dataset"]):
            p = "–" if r["p_value"] is None else f"{r['p_value']:.3g}"
            lines.append(
                f"| {r['architecture']} | {r['proxy']} | {r['n_saes']} | {r['n_pairs'] if r['n_pairs'] is not None else '–'} "
                f"| {_ci(r['V'], r['V_lo'], r['V_hi'])} | {_ci(r['rho'], r['rho_lo'], r['rho_hi'])} | {p} "
                f"| {r['verdict']} |"
            )
        lines.append("")
        if ds["notes"]:
            lines += [f"- {n}" for n in ds["notes"]] + [""]
    warn = sorted({w for ds in data.datasets for w in ds["warnings"]})
    if warn:
        lines += ["## Warnings", ""] + [f"- {w}" for w in warn[:50]]
        if len(warn) > 50:
            lines.append(f"- … and {len(warn) - 50} more")
        lines.append("")
    return "\n".join(lines)


def plot_table2(data: Table2Data, path: str | Path) -> Path:
    """V with its interval for every (architecture, proxy), one panel per dataset."""
    from rdp_exact.plots import plt, save_figure

    heights = [max(1.8, 0.2 * sum(1 for r in data.rows if r["dataset"] == ds["dataset"] and r["V"] is not None) + 1.0)
               for ds in data.datasets]
    fig, axes = plt.subplots(len(heights), 1, figsize=(11, sum(heights) + 0.5), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, ds in zip(axes[:, 0], data.datasets, strict=True):
        rows = [r for r in data.rows if r["dataset"] == ds["dataset"] and r["V"] is not None]
        labels = [f"{r['architecture']} · {r['proxy']}" for r in rows]
        ys = range(len(rows))
        for y, r in zip(ys, rows, strict=True):
            col = {"faithful": "#2ca02c", "inverted": "#d62728"}.get(str(r["verdict"]), "#7f7f7f")
            if r["V_lo"] is not None:
                ax.plot([r["V_lo"], r["V_hi"]], [y, y], "-", color=col, lw=1.5)
            ax.plot([r["V"]], [y], "o", color=col, ms=5)
        ax.axvline(0.5, color="grey", ls="--", lw=0.8)
        ax.set_yticks(list(ys), labels, fontsize=7)
        ax.set_xlim(-0.02, 1.02)
        ax.invert_yaxis()
        ax.set_xlabel("V (0 faithful · 0.5 random · 1 inverted); green faithful, red inverted, grey random")
        ax.set_title(f"{ds['dataset']} ({ds['n_saes']} SAEs)", fontsize=9)
        if not rows:
            ax.text(0.5, 0.5, "no defined V", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return save_figure(fig, path)


def summary_lines(data: Table2Data) -> list[str]:
    """Plain-language reading: the verdicts of the pooled audits."""
    lines = []
    for ds in data.datasets:
        pooled = [r for r in data.rows if r["dataset"] == ds["dataset"] and r["architecture"] == ALL]
        counts: dict[str, int] = {}
        for r in pooled:
            counts[str(r["verdict"])] = counts.get(str(r["verdict"]), 0) + 1
        vs = [r["V"] for r in pooled if r["V"] is not None]
        rng = f"V from {min(vs):.2f} to {max(vs):.2f}" if vs else "no defined V"
        lines.append(f"{ds['dataset']}: {ds['n_saes']} SAEs, {len(pooled)} proxies pooled over architectures — "
                     + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + f" ({rng}).")
    return lines


def write_table2(data: Table2Data, folder: str | Path) -> list[Path]:
    """Write table2.csv, table2.md, table2.png and table2.json into ``folder`` (existing)."""
    folder = Path(folder)
    cfg = asdict(data.config)
    cfg["data"] = str(data.config.data_dir)
    return [
        plot_table2(data, folder / "table2.png"),
        atomic_write_text(folder / "table2.md", markdown(data)),
        atomic_write_text(folder / "table2.csv", csv_text(TABLE2_COLUMNS, data.rows)),
        atomic_write_json(folder / "table2.json", {"target": "table2", "config": cfg, "datasets": list(data.datasets),
                                                   "summary": summary_lines(data)}),
    ]


SECTION_TEXT = (
    "The proxy audit of DESIGN §3 on the public SAEBench results: for every table, all SAEs together "
    "(architecture 'all') and each architecture on its own. A faithful polysemanticity proxy has V near 0 and "
    "ρ_RDP near +1; an inverted one has V near 1."
)


def run_table2(config: Table2Config, out: str | os.PathLike[str],
               progress: Callable[[str], None] | None = None) -> TargetResult:
    """Check ``out`` and the data, audit, and write everything (plus index.html) through a staging folder."""
    return run_target("table2", "Table 2 — proxy audit per architecture", SECTION_TEXT, out,
                      lambda: compute_table2(config, progress), write_table2, summary_lines,
                      lambda d: {"datasets": [x["dataset"] for x in d.datasets]}, check=config.table_paths)
