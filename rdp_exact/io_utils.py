"""Atomic output: nothing partial is ever left at a user's path, and nothing that is not a file is replaced.

Rules (docs/reliability.md):

* A regular file (or a new path) is written to a temporary sibling and renamed into place, so a reader
  sees the old content or the new, never half of it. The new file gets the permissions ``open()`` would
  give it: an existing file keeps its mode, a new one gets ``0o666 & ~umask``.
* A symbolic link is written *through*: the temporary file is made next to the link's final target and
  renamed onto the target, so the link stays a link.
* A FIFO or a character device (``/dev/null``, a pipe opened by ``mkfifo``) is written directly, as a
  shell redirection would; it is never replaced. ``-`` (standard output), block devices and sockets are
  refused with :class:`~rdp_exact.errors.InvalidArgument` (exit code 2).
* Output folders are checked for writability *before* any expensive work starts; a staged folder
  (:func:`staged_dir`) gets the permissions ``mkdir`` would give it (``0o777 & ~umask``), and staging
  folders left behind by a process that died are removed on the next run, with a warning naming them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rdp_exact.errors import InvalidArgument

log = logging.getLogger(__name__)

#: Name prefix of the hidden staging folders of :func:`staged_dir`.
STAGING_PREFIX = ".rdp-staging-"
_STAGING_RE = re.compile(r"^\.rdp-staging-(\d+)-([0-9a-f]{6})-")


# ---------------------------------------------------------------------- permissions
def current_umask() -> int:
    """The process umask (read from /proc where possible, so no other thread sees it change)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode_for(target: Path) -> int:
    """Permission bits a file written at ``target`` should get: its current ones, else ``0o666 & ~umask``."""
    try:
        st = os.stat(target)
    except OSError:
        return 0o666 & ~current_umask()
    return stat.S_IMODE(st.st_mode)


def dir_mode() -> int:
    """Permission bits ``mkdir`` would give a new folder: ``0o777 & ~umask``."""
    return 0o777 & ~current_umask()


# ---------------------------------------------------------------------- output paths
def _show(p: str | os.PathLike[str]) -> str:
    return repr(str(p))


def resolve_output(path: str | os.PathLike[str]) -> tuple[Path, bool]:
    """Where writing ``path`` really goes: ``(target, special)``.

    ``target`` is ``path`` itself, or for a symbolic link its final target (which may not exist yet).
    ``special`` is True for a FIFO or character device, which is written directly and never replaced.
    Raises :class:`InvalidArgument` for ``-``, folders, block devices, sockets, symlink loops and
    missing or unwritable parent folders.
    """
    s = os.fspath(path)
    if s == "-":
        raise InvalidArgument("writing to standard output ('-') is not supported: give a file name")
    if s == "":
        raise InvalidArgument("empty output path")
    p = Path(s)
    target = p
    if p.is_symlink():
        try:
            target = Path(os.path.realpath(p, strict=True))
        except FileNotFoundError:  # dangling link: writing creates its target, as open() would
            target = Path(os.path.realpath(p))
        except OSError as exc:
            raise InvalidArgument(f"cannot write {_show(p)}: {exc.strerror or exc} (a symbolic link loop?)") from None
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InvalidArgument(f"cannot write {_show(p)}: {exc.strerror or exc}") from None
    if st is not None:
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            raise InvalidArgument(f"output path {_show(p)} is a directory, expected a file")
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            if not os.access(target, os.W_OK):
                raise InvalidArgument(f"cannot write {_show(p)}: permission denied")
            return target, True
        if not stat.S_ISREG(mode):
            kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file"
            raise InvalidArgument(f"output path {_show(p)} is {kind}; refusing to write to it")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise InvalidArgument(f"cannot write {_show(p)}: folder {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise InvalidArgument(f"cannot write {_show(p)}: {str(parent)!r} is not a folder")
    if not os.access(parent, os.W_OK):
        raise InvalidArgument(f"cannot write {_show(p)}: folder {str(parent)!r} is not writable")
    return target, False


def check_writable_file(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path after checking it can be written (see :func:`resolve_output`)."""
    resolve_output(path)
    return Path(path)


def check_distinct_outputs(**paths: str | os.PathLike[str] | None) -> None:
    """Refuse two options naming the same output file (``--json x --plot x``): one would clobber the other.

    Keyword names are the option names without dashes (``json=…, plot=…``); None values are skipped.
    Paths are compared after resolving symbolic links and ``..``.
    """
    seen: dict[str, str] = {}
    for name, p in paths.items():
        if p is None:
            continue
        real = os.path.realpath(os.fspath(p))
        flag = "--" + name.replace("_", "-")
        if real in seen:
            raise InvalidArgument(f"{seen[real]} and {flag} name the same file {str(p)!r}; give two different paths")
        seen[real] = flag


def check_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is (or can be created as) a writable folder; create nothing."""
    p = Path(path)
    if str(p) == "-":
        raise InvalidArgument("an output folder cannot be '-' (standard output)")
    if p.exists():
        if not p.is_dir():
            raise InvalidArgument(f"output folder {str(p)!r} exists and is not a folder")
        if not os.access(p, os.W_OK):
            raise InvalidArgument(f"output folder {str(p)!r} is not writable")
        return p
    if p.is_symlink():
        real = Path(os.path.realpath(p))
        if real == p or real.is_symlink():
            raise InvalidArgument(f"output folder {str(p)!r} is a broken symbolic link")
        check_writable_dir(real)
        return p
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir() or not os.access(anc, os.W_OK):
        raise InvalidArgument(f"cannot create output folder {str(p)!r}: {str(anc)!r} is not writable")
    return p


# ---------------------------------------------------------------------- atomic files
def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary sibling + rename), following the module's rules.

    I/O errors (a full disk, a vanished folder) are raised as :class:`InvalidArgument` naming the path;
    the temporary file is always removed.
    """
    p = Path(path)
    target, special = resolve_output(p)
    if special:
        try:
            with open(target, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise InvalidArgument(f"cannot write {_show(p)}: {exc.strerror or exc}") from None
        return p
    mode = file_mode_for(target)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise InvalidArgument(f"cannot write {_show(p)}: {exc.strerror or exc}") from None
    try:
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise InvalidArgument(f"cannot write {_show(p)}: {exc.strerror or exc}") from None
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


# ---------------------------------------------------------------------- staged folders
def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def clean_stale_staging(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the staging folders in ``folder`` left by processes of this host that no longer run.

    Returns the folders removed (each also logged as a warning). Folders of live processes, of other
    hosts, or in an unknown naming scheme are left alone.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    host = _host_tag()
    for entry in entries:
        m = _STAGING_RE.match(entry.name)
        if m is None or m.group(2) != host or not entry.is_dir() or entry.is_symlink():
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed.append(entry)
            log.warning("removed %s, a staging folder left by process %d, which no longer runs", entry, pid)
    return removed


@contextlib.contextmanager
def staged_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder whose contents land in ``path`` only when the block succeeds.

    A new output folder appears by one rename. For an existing folder, files the job wrote replace
    their old versions one rename each and other files are kept. On an exception (including Ctrl-C,
    and SIGTERM under :func:`sigterm_as_interrupt`) nothing is moved and the temporary folder is
    removed, so a failed job leaves no partial output. The new folder gets ``mkdir``'s permissions.
    A symbolic link to a folder is followed; stale staging folders of dead processes are removed first.
    """
    final = check_writable_dir(path)
    if final.is_symlink():
        final = Path(os.path.realpath(final))
    existed = final.exists()
    anchor = final if existed else final.parent
    while not anchor.exists():
        anchor = anchor.parent
    clean_stale_staging(anchor)
    tmp = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-{_host_tag()}-", dir=anchor))
    try:
        os.chmod(tmp, dir_mode())
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


# ---------------------------------------------------------------------- signals
@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (and SIGHUP) raise :class:`KeyboardInterrupt`, like Ctrl-C.

    So ``kill PID`` runs the same cleanup as Ctrl-C: staged folders and temporary files are removed by
    their ``finally`` blocks. Only installs handlers in the main thread; the old handlers are restored.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    old: dict[int, Any] = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):
            old[sig] = signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, handler)


def optimize_interruptibly(model: Any) -> None:
    """Run a pyscipopt ``model``'s solve so that SIGTERM/SIGHUP stop it like Ctrl-C.

    SCIP's search runs in C and never returns to the interpreter, so Python-level handlers (such as those of
    :func:`sigterm_as_interrupt`) would wait for it to finish (hours on a hard MINLP). Here the solve runs
    without the GIL (``optimizeNogil``) while a watcher thread waits on the interpreter's signal wake-up fd;
    on a terminating signal it calls ``model.interruptSolve()``, SCIP returns with status ``userinterrupt``,
    and the pending Python handler then raises in the main thread as usual. Ctrl-C is handled by SCIP itself.
    Outside the main thread, or where the wake-up fd is in use, it is a plain ``optimize()``.
    """
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(model, "optimizeNogil"):
        model.optimize()
        return
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        old_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except (ValueError, OSError):
        os.close(r)
        os.close(w)
        model.optimize()
        return
    if old_fd != -1:  # someone else (an event loop) owns the wake-up fd: leave it alone
        signal.set_wakeup_fd(old_fd)
        os.close(r)
        os.close(w)
        model.optimize()
        return
    stop = threading.Event()
    stopping = {int(signal.SIGTERM), int(getattr(signal, "SIGHUP", signal.SIGTERM))}

    def watch() -> None:
        import select

        while not stop.is_set():
            ready, _, _ = select.select([r], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(r, 64)
            except OSError:
                return
            if stopping & set(data):
                with contextlib.suppress(Exception):
                    model.interruptSolve()
                return

    watcher = threading.Thread(target=watch, name="rdp-scip-signal-watch", daemon=True)
    watcher.start()
    try:
        model.optimizeNogil()
    finally:
        stop.set()
        watcher.join()
        signal.set_wakeup_fd(-1)
        os.close(r)
        os.close(w)


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
