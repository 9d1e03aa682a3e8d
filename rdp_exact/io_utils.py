"""Atomic output: nothing partial is ever left at a user's path.

Files are written to a temporary sibling and renamed into place; output folders are checked for
writability *before* any expensive work starts, so bad paths fail fast with exit code 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rdp_exact.errors import InvalidArgument


def check_writable_file(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path after checking that its parent folder exists and is writable."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.exists() and p.is_dir():
        raise InvalidArgument(f"output path {str(p)!r} is a directory, expected a file")
    if not parent.exists():
        raise InvalidArgument(f"cannot write {str(p)!r}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise InvalidArgument(f"cannot write {str(p)!r}: folder {str(parent)!r} is not writable")
    return p


def check_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is (or can be created as) a writable folder; create nothing."""
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise InvalidArgument(f"output folder {str(p)!r} exists and is not a folder")
        if not os.access(p, os.W_OK):
            raise InvalidArgument(f"output folder {str(p)!r} is not writable")
        return p
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir() or not os.access(anc, os.W_OK):
        raise InvalidArgument(f"cannot create output folder {str(p)!r}: {str(anc)!r} is not writable")
    return p


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    p = check_writable_file(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Text flavour of :func:`atomic_write_bytes` (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def staged_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder whose contents land in ``path`` only when the block succeeds.

    A new output folder appears by one rename. For an existing folder, files the job wrote replace
    their old versions one rename each and other files are kept. On an exception nothing is moved
    and the temporary folder is removed, so a failed job leaves no partial output.
    """
    final = check_writable_dir(path)
    existed = final.exists()
    anchor = final if existed else final.parent
    while not anchor.exists():
        anchor = anchor.parent
    tmp = Path(tempfile.mkdtemp(prefix=".rdp-staging-", dir=anchor))
    try:
        yield tmp
        if not existed:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            return
        for src in sorted(tmp.rglob("*")):
            dst = final / src.relative_to(tmp)
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def csv_cell(value: Any) -> str:
    """One CSV cell in the project's conventions: empty for None or NaN, ``true``/``false`` for booleans,
    ``inf``/``-inf`` for infinities, ``repr`` for other floats (round-trips exactly), ``str`` otherwise."""
    import math

    import numpy as np

    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return ""
        return repr(f) if math.isfinite(f) else ("inf" if f > 0 else "-inf")
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text with a header line and one line per row (missing keys are empty cells)."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return buf.getvalue()
