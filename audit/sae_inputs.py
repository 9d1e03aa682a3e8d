"""Which SAE folders an audit reads, and against which DGP (``rdp audit optimum SAE_DIR... [--dgp X]``).

Each path given is an SAE folder (it holds ``cfg.json`` or ``sae_weights.safetensors``, whatever its name)
or a folder searched at any depth for such folders (an ``rdp train`` run, a sweep output, a folder of
SAELens SAEs). The DGP of an SAE is ``--dgp`` when given — a DGP folder (``dgp.json`` +
``dgp.safetensors``, written by ``rdp train`` or ``rdp dgp make``) or a pmf (file, ``kind:args`` spec or
built-in name), which becomes ``DGP.make(pmf, d = the SAE's d_in, seed = dgp_seed)``, i.e. what
``rdp dgp make PMF --d D --seed S`` writes — else the nearest folder at or above the SAE folder holding a
``dgp.json``.

Every SAE is loaded once here, before any solve: a folder that cannot be read exactly (missing or damaged
weights, a bad cfg.json, an architecture or flag rdp cannot model, an SAE listed in a ``runs.csv`` whose
folder is gone) is an error, or, with ``skip_broken``, skipped and named in :attr:`SAEInputs.skipped`.
A DGP the exact audit cannot use (random magnitudes, noise, non-orthonormal directions, another d) is
always an error.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdp_exact.errors import InvalidArgument

#: Files that make a folder an SAE folder.
SAE_MARKERS = ("cfg.json", "sae_weights.safetensors")


@dataclass(frozen=True)
class SAEInput:
    """One SAE folder to audit."""

    folder: Path
    """The SAE folder."""
    dgp: Any
    """Its :class:`sae_train.data.DGP`."""


@dataclass(frozen=True)
class SAEInputs:
    """The SAE folders of an audit, validated."""

    root: Path
    """Common parent: audit.csv's ``sae_dir`` is each folder relative to it."""
    entries: tuple[SAEInput, ...]
    """SAEs to audit, in path order."""
    skipped: tuple[str, ...] = ()
    """One line per SAE folder that could not be read (only with ``skip_broken``)."""


def is_sae_folder(p: Path) -> bool:
    """Whether ``p`` holds an SAE's cfg.json or weights."""
    return p.is_dir() and any((p / f).exists() for f in SAE_MARKERS)


def _listed_missing(folder: Path) -> list[Path]:
    """SAE folders a runs.csv in ``folder`` lists that do not exist."""
    rp = folder / "runs.csv"
    if not rp.is_file():
        return []
    try:
        with rp.open(newline="", encoding="utf-8") as fh:
            names = [r.get("sae_dir") for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidArgument(f"cannot read {str(rp)!r}: {exc}") from None
    return [folder / n for n in names if n and not (folder / n).exists()]


def find_sae_folders(path: str | os.PathLike[str]) -> tuple[list[Path], list[Path]]:
    """(SAE folders at or below ``path``, SAE folders listed in a runs.csv below it but missing)."""
    p = Path(path)
    if not p.exists():
        raise InvalidArgument(f"SAE folder {str(p)!r} does not exist")
    if not p.is_dir():
        raise InvalidArgument(f"{str(p)!r} is not a folder")
    if is_sae_folder(p):
        return [p], []
    found: list[Path] = []
    missing: list[Path] = []
    for dirpath, dirnames, _ in os.walk(p):
        dirnames.sort()
        d = Path(dirpath)
        missing += _listed_missing(d)
        if d != p and is_sae_folder(d):
            found.append(d)
            dirnames[:] = []  # an SAE folder holds no SAE folders
    if not found and not missing:
        raise InvalidArgument(
            f"no SAE folders in {str(p)!r} (expected folders holding cfg.json and sae_weights.safetensors)"
        )
    return found, missing


def _nearest_dgp_dir(folder: Path) -> Path | None:
    from sae_train.data import DGP_JSON, DGP_WEIGHTS

    for cur in (folder.resolve(), *folder.resolve().parents):
        if (cur / DGP_JSON).exists() or (cur / DGP_WEIGHTS).exists():
            return cur
    return None


def _check_dgp(dgp: Any, where: str) -> None:
    if not dgp.exact:
        raise InvalidArgument(
            f"{where}: the exact audit needs constant magnitudes and no noise "
            f"(this DGP has magnitudes={dgp.magnitudes}, noise_std={dgp.noise_std})"
        )
    if not dgp.orthonormal:
        raise InvalidArgument(
            f"{where}: the exact audit needs orthonormal concept directions (A1), but d = {dgp.d} < n = {dgp.n} "
            "or V is not orthonormal"
        )


class _DGPSource:
    """``--dgp`` as given: a DGP folder, or a pmf turned into DGP.make(pmf, d, seed) per d."""

    def __init__(self, spec: str | os.PathLike[str] | None, seed: int) -> None:
        from sae_train.data import DGP, DGP_JSON

        self.spec, self.seed = spec, seed
        self.fixed: Any = None
        self.pmf: Any = None
        self._by_d: dict[int, Any] = {}
        self._by_dir: dict[Path, Any] = {}
        if spec is None:
            return
        p = Path(spec)
        if p.is_dir():
            if not (p / DGP_JSON).exists():
                raise InvalidArgument(f"--dgp {str(p)!r} is a folder without {DGP_JSON} (give a DGP folder or a pmf)")
            self.fixed = DGP.load(p)
            _check_dgp(self.fixed, f"--dgp {str(p)!r}")
        else:
            from rdp_exact.generators import load_pmf

            self.pmf = load_pmf(str(spec))

    def for_sae(self, folder: Path, d_in: int) -> Any:
        from sae_train.data import DGP

        if self.fixed is not None:
            dgp = self.fixed
        elif self.pmf is not None:
            if d_in not in self._by_d:
                dgp = DGP.make(self.pmf, d=d_in, seed=self.seed)
                _check_dgp(dgp, f"--dgp {str(self.spec)!r} with d = {d_in}")
                self._by_d[d_in] = dgp
            dgp = self._by_d[d_in]
        else:
            where = _nearest_dgp_dir(folder)
            if where is None:
                raise InvalidArgument(
                    f"no dgp.json at or above {str(folder)!r}: pass --dgp DGP_DIR|PMF (rdp dgp make writes one)"
                )
            if where not in self._by_dir:
                dgp = DGP.load(where)
                _check_dgp(dgp, repr(str(where)))
                self._by_dir[where] = dgp
            dgp = self._by_dir[where]
        if dgp.d != d_in:
            raise InvalidArgument(f"{str(folder)!r}: the SAE has d_in = {d_in} but the DGP has d = {dgp.d}")
        return dgp


def collect_saes(
    paths: Sequence[str | os.PathLike[str]],
    dgp: str | os.PathLike[str] | None = None,
    *,
    dgp_seed: int = 0,
    skip_broken: bool = False,
) -> SAEInputs:
    """Find, load and validate every SAE folder of ``paths`` (module docstring)."""
    from sae_train.io import load_sae

    if not paths:
        raise InvalidArgument("no SAE folder given")
    source = _DGPSource(dgp, dgp_seed)
    folders: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        found, gone = find_sae_folders(p)
        missing += gone
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                folders.append(f)
    tops = [p.parent if is_sae_folder(p) else p for p in (Path(x) for x in paths)]
    root = Path(os.path.commonpath([str(t.resolve()) for t in tops]))
    entries: list[SAEInput] = []
    broken: list[str] = [f"{str(m)!r} is listed in runs.csv but does not exist" for m in missing]
    for folder in folders:
        try:
            model, _ = load_sae(folder)
        except InvalidArgument as exc:
            broken.append(str(exc))
            continue
        entries.append(SAEInput(folder=folder.resolve(), dgp=source.for_sae(folder, model.d)))
    if broken and not skip_broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise InvalidArgument(f"{broken[0]}{more}; fix it or pass --skip-broken to audit the others")
    if not entries:
        raise InvalidArgument(f"no readable SAE folder among {', '.join(repr(str(p)) for p in paths)}")
    return SAEInputs(root=root, entries=tuple(entries), skipped=tuple(broken))


__all__ = ["SAEInput", "SAEInputs", "collect_saes", "find_sae_folders", "is_sae_folder"]
