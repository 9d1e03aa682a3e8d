"""``rdp reproduce``: the paper's Fig. 2, Fig. 3, Fig. 4 and Table 2 from this toolkit's libraries.

Each target is a frozen config (``Fig2Config``, ``Fig3Config``, ``Fig4Config``, ``Table2Config``; ``.quick()``
gives seconds-long settings; the figures that train hold one :class:`~sae_train.train.TrainConfig`), a ``compute_*`` function returning the data behind the figure, a ``write_*``
function writing figures and CSVs into a folder, and a ``run_*`` function that checks the output folder,
computes, and writes everything plus an ``index.html`` report through a staging folder (nothing partial
on failure). See docs/readme/reproduce-demo.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdp.reproduce.common import TargetResult

TARGETS: tuple[str, ...] = ("fig2", "fig3", "fig4", "table2")


def run_all(out: str | os.PathLike[str], *, quick: bool = False, device: str | None = None,
            progress: Callable[[str], None] | None = None) -> TargetResult:
    """Every target into ``out/<target>/`` plus a top-level ``index.html`` (all or nothing)."""
    from rdp.html_report import Section, write_html_report
    from rdp.reproduce.fig2 import Fig2Config, run_fig2
    from rdp.reproduce.fig3 import Fig3Config, run_fig3
    from rdp.reproduce.fig4 import Fig4Config, run_fig4
    from rdp.reproduce.table2 import Table2Config, run_table2
    from rdp_exact.io_utils import check_writable_dir, staged_dir

    out_p = check_writable_dir(out)
    dev: dict[str, Any] = {} if device is None else {"device": device}
    cfg3 = Fig3Config.quick(**dev) if quick else Fig3Config.make(**dev)
    cfg4 = Fig4Config.quick(**dev) if quick else Fig4Config.make(**dev)
    cfg_t2 = Table2Config.quick() if quick else Table2Config()
    cfg_t2.table_paths()  # fail on missing data before any training
    files: list[Path] = []
    lines: list[str] = []
    with staged_dir(out_p) as tmp:
        results = [run_fig2(Fig2Config(), tmp / "fig2", progress), run_fig3(cfg3, tmp / "fig3", progress),
                   run_fig4(cfg4, tmp / "fig4", progress), run_table2(cfg_t2, tmp / "table2", progress)]
        sections = []
        for r in results:
            rels = [p.relative_to(tmp).as_posix() for p in r.files]
            figs = [x for x in rels if x.endswith(".png")]
            sections.append(Section(r.target, "\n\n".join(r.lines), tuple(figs + [x for x in rels if x.endswith(".html")])))
            lines += [f"[{r.target}] {x}" for x in r.lines]
            files += [out_p / x for x in rels]
        files.append(out_p / write_html_report(tmp, "rdp reproduce", sections).relative_to(tmp))
    return TargetResult("all", out_p, tuple(files), {}, tuple(lines))
