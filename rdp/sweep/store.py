"""The results store: one SQLite row per finished job (DESIGN §5.4).

An embedded SQLite database (``rdp.sqlite`` in a sweep's output folder, WAL journal) holds one row per
solved problem, computed frontier or trained SAE. A row is keyed by a content hash of

    (job kind, pmf sha256, the job's normalised parameters, code version)

(:func:`job_key`), so the same job in a later sweep maps to the same row and ``--resume`` can skip it.

Schema of table ``results`` (:data:`COLUMNS`):

==============  ======  ==========================================================================
column          type    meaning
==============  ======  ==========================================================================
key             TEXT    content hash (64 hex digits), primary key
job             TEXT    key of the job that produced the row (= key, except for batched training,
                        where one job trains several SAEs, one row each)
kind            TEXT    ``solve`` | ``frontier`` | ``train`` (or another registered job kind)
label           TEXT    short human description of the job
pmf_sha256      TEXT    :meth:`ConceptPMF.sha256` of the job's pmf
params          TEXT    JSON object: the normalised job parameters (defaults filled in)
status          TEXT    ``done`` (the job ran to the end) | ``failed`` (it raised; see ``error``)
error           TEXT    one-line error message of a failed job, else NULL
result          TEXT    JSON object: the job's full result (e.g. the solve JSON of DESIGN §5.2)
metrics         TEXT    JSON object of scalars (rate, distortion, poly, status, wall time, …)
artefacts       TEXT    folder of the job's files relative to the store's folder, else NULL
code_version    TEXT    version of the rdp package that computed the row
started         TEXT    ISO-8601 UTC time the job started
finished        TEXT    ISO-8601 UTC time the job finished
wall_time_s     REAL    seconds the job ran
host            TEXT    host name of the machine that ran the job
==============  ======  ==========================================================================

Every write is one transaction (:meth:`ResultsStore.put`), so a process killed mid-way leaves either
the whole row or none. Concurrent writers are safe: WAL mode plus a busy timeout serialise them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_bytes, check_writable_file

if TYPE_CHECKING:  # pandas loads lazily: the CLI must start fast
    import pandas as pd

#: File name of the store inside an output folder.
STORE_NAME = "rdp.sqlite"

#: Job statuses a row can have.
STATUS_DONE = "done"
STATUS_FAILED = "failed"

#: Columns of table ``results`` in order, with their SQL types.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "TEXT PRIMARY KEY"),
    ("job", "TEXT"),
    ("kind", "TEXT NOT NULL"),
    ("label", "TEXT"),
    ("pmf_sha256", "TEXT"),
    ("params", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("error", "TEXT"),
    ("result", "TEXT"),
    ("metrics", "TEXT"),
    ("artefacts", "TEXT"),
    ("code_version", "TEXT"),
    ("started", "TEXT"),
    ("finished", "TEXT"),
    ("wall_time_s", "REAL"),
    ("host", "TEXT"),
)
_NAMES = tuple(c for c, _ in COLUMNS)
_JSON_COLUMNS = ("params", "result", "metrics")
#: Schema version, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 1
#: Milliseconds a writer waits for another one's lock before giving up.
BUSY_TIMEOUT_MS = 60_000


def code_version() -> str:
    """Version of the installed ``rdp`` package (``rdp.__version__`` when a module defines it)."""
    try:
        import rdp_exact

        v = getattr(rdp_exact, "__version__", None)
        if v:
            return str(v)
    except ImportError:  # pragma: no cover
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("rdp")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def canonical_json(obj: Any) -> str:
    """Deterministic compact JSON (sorted keys) used for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_json_default)


def _json_default(obj: Any) -> Any:
    """Make numpy scalars, arrays, enums and paths JSON-ready."""
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, (Path, os.PathLike)):
        return str(obj)
    if hasattr(obj, "value") and isinstance(obj.value, (str, int, float)):
        return obj.value
    raise TypeError(f"cannot store {type(obj).__name__} {obj!r} as JSON")


def _clean_nan(obj: Any) -> Any:
    """Replace non-finite floats by None so the JSON stays standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean_nan(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_nan(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    """JSON text for a store column (NaN and ±inf become null)."""
    return json.dumps(_clean_nan(json.loads(json.dumps(obj, default=_json_default))), sort_keys=True)


def job_key(kind: str, pmf_sha256: str | None, params: Mapping[str, Any], version: str | None = None) -> str:
    """Content hash of a job: sha256 of (kind, pmf sha256, normalised params, code version).

    ``params`` must already be normalised (defaults filled in, numbers in their declared type), so
    that two spellings of the same job get the same key.
    """
    payload = {
        "kind": kind,
        "pmf_sha256": pmf_sha256,
        "params": dict(params),
        "code_version": version if version is not None else code_version(),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


@dataclass(frozen=True)
class StoreRow:
    """One row of the results store (see the module docstring for the columns)."""

    key: str
    kind: str
    params: dict[str, Any]
    status: str
    job: str | None = None
    label: str = ""
    pmf_sha256: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    artefacts: str | None = None
    code_version: str = field(default_factory=code_version)
    started: str | None = None
    finished: str | None = None
    wall_time_s: float | None = None
    host: str | None = None

    def __post_init__(self) -> None:
        if self.status not in (STATUS_DONE, STATUS_FAILED):
            raise InvalidArgument(f"row status must be {STATUS_DONE!r} or {STATUS_FAILED!r}, got {self.status!r}")
        if not self.key:
            raise InvalidArgument("a store row needs a key")

    def to_sql(self) -> tuple[Any, ...]:
        """Values in :data:`COLUMNS` order, JSON columns serialised."""
        d = asdict(self)
        for c in _JSON_COLUMNS:
            d[c] = None if d[c] is None else to_json(d[c])
        return tuple(d[c] for c in _NAMES)

    @classmethod
    def from_sql(cls, values: tuple[Any, ...]) -> StoreRow:
        """Inverse of :meth:`to_sql`."""
        d = dict(zip(_NAMES, values, strict=True))
        for c in _JSON_COLUMNS:
            d[c] = None if d[c] is None else json.loads(d[c])
        if d["metrics"] is None:
            d["metrics"] = {}
        return cls(**d)


class ResultsStore:
    """The SQLite results store of one output folder (DESIGN §5.4).

    ``ResultsStore(path)`` opens (and, unless ``create=False``, creates) the database at ``path``;
    ``path`` may also be a folder, meaning ``path/rdp.sqlite``. Connections are opened per call, so a
    store object is cheap and may be shared by threads; every write is one transaction.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        p = Path(path)
        if p.is_dir():
            p = p / STORE_NAME
        self.path = p
        if not p.exists():
            if not create:
                raise InvalidArgument(f"no results store at {str(p)!r} (run a sweep into that folder first)")
            check_writable_file(p)
            self._create()
        self._check_existing()
        self._init_schema()

    def _create(self) -> None:
        """Make a new store atomically: the schema is built in a temporary sibling renamed into place,
        so a file at the store's path is always a complete store (never an empty one)."""
        import tempfile

        from rdp_exact.io_utils import file_mode_for

        mode = file_mode_for(self.path)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        try:
            os.chmod(tmp, mode)
            os.unlink(tmp)  # SQLite creates the file itself (a 0-byte file would also do, but be explicit)
            final = self.path
            self.path = Path(tmp)
            try:
                self._init_schema()
            finally:
                self.path = final
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp + suffix)
            os.chmod(tmp, mode)
            try:  # never replace a store another process made meanwhile
                os.link(tmp, final)
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                if not final.exists():
                    os.replace(tmp, final)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        except BaseException:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp + suffix)
            raise

    def _check_existing(self) -> None:
        """Refuse a file that is not a store this code wrote: empty, not SQLite, or another schema."""
        p = self.path
        if p.is_dir():
            raise InvalidArgument(f"{str(p)!r} is a folder, not a results store")
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise InvalidArgument(f"cannot read results store {str(p)!r}: {exc.strerror or exc}") from None
        if size == 0:
            raise InvalidArgument(
                f"{str(p)!r} is empty (0 bytes), not a results store: it was truncated or made by something else; "
                "move it away to start a new sweep"
            )
        con = self._connect()
        try:
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                cols = tuple(r[1] for r in con.execute("PRAGMA table_info(results)"))
            except sqlite3.DatabaseError as exc:
                raise InvalidArgument(f"{str(p)!r} is not a results store: {exc}") from None
        finally:
            con.close()
        if "results" not in tables or cols != _NAMES:
            what = "has no table 'results'" if "results" not in tables else "has a 'results' table of another layout"
            raise InvalidArgument(f"{str(p)!r} is not a results store: it is an SQLite file that {what}")

    # ------------------------------------------------------------------ connection
    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise InvalidArgument(f"cannot open results store {str(self.path)!r}: {exc}") from None
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return con

    def put_many(self, rows: list[StoreRow]) -> None:
        """Insert several rows (e.g. every SAE of one training job) in one transaction."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            con.executemany(
                f"INSERT OR REPLACE INTO results ({', '.join(_NAMES)}) VALUES ({', '.join('?' * len(_NAMES))})",
                [r.to_sql() for r in rows],
            )
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def _init_schema(self) -> None:
        con = self._connect()
        try:
            try:
                mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                version = con.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise InvalidArgument(f"{str(self.path)!r} is not a results store: {exc}") from None
            if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network file system
                raise InvalidArgument(f"cannot switch {str(self.path)!r} to WAL mode (got {mode!r})")
            if version not in (0, SCHEMA_VERSION):
                raise InvalidArgument(
                    f"results store {str(self.path)!r} has schema version {version}, expected {SCHEMA_VERSION}"
                )
            cols = ", ".join(f"{c} {t}" for c, t in COLUMNS)
            con.execute("BEGIN IMMEDIATE")
            con.execute(f"CREATE TABLE IF NOT EXISTS results ({cols})")
            con.execute("CREATE INDEX IF NOT EXISTS results_kind ON results (kind, status)")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            con.execute("COMMIT")
        finally:
            con.close()

    # ------------------------------------------------------------------ reads
    def __len__(self) -> int:
        con = self._connect()
        try:
            return int(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        finally:
            con.close()

    def has(self, key: str, *, status: str | None = STATUS_DONE) -> bool:
        """Whether a row with ``key`` exists (with ``status``; any status when ``status`` is None)."""
        con = self._connect()
        try:
            if status is None:
                cur = con.execute("SELECT 1 FROM results WHERE key = ?", (key,))
            else:
                cur = con.execute("SELECT 1 FROM results WHERE key = ? AND status = ?", (key, status))
            return cur.fetchone() is not None
        finally:
            con.close()

    def keys(self, *, status: str | None = STATUS_DONE) -> set[str]:
        """Keys of the rows (with ``status``; all rows when ``status`` is None)."""
        con = self._connect()
        try:
            if status is None:
                cur = con.execute("SELECT key FROM results")
            else:
                cur = con.execute("SELECT key FROM results WHERE status = ?", (status,))
            return {r[0] for r in cur.fetchall()}
        finally:
            con.close()

    def get(self, key: str) -> StoreRow | None:
        """The row with ``key``, or None."""
        con = self._connect()
        try:
            r = con.execute(f"SELECT {', '.join(_NAMES)} FROM results WHERE key = ?", (key,)).fetchone()
        finally:
            con.close()
        return None if r is None else StoreRow.from_sql(tuple(r))

    def iter_rows(self, *, kind: str | None = None) -> Iterator[StoreRow]:
        """All rows (optionally of one kind), ordered by finish time then key."""
        con = self._connect()
        try:
            sql = f"SELECT {', '.join(_NAMES)} FROM results"
            args: tuple[Any, ...] = ()
            if kind is not None:
                sql += " WHERE kind = ?"
                args = (kind,)
            rows = con.execute(sql + " ORDER BY finished, key", args).fetchall()
        finally:
            con.close()
        for r in rows:
            yield StoreRow.from_sql(tuple(r))

    # ------------------------------------------------------------------ writes
    def put(self, row: StoreRow) -> None:
        """Insert ``row`` (replacing a row with the same key) in one transaction."""
        self.put_many([row])

    # ------------------------------------------------------------------ tables
    def rows(self, *, kind: str | None = None, include_result: bool = False) -> pd.DataFrame:
        """The store as a flat DataFrame: one row per job.

        Columns: the scalar store columns, then one column per parameter (``params.<name>``) and per
        metric (``metrics.<name>``); nested values (lists, dicts) become JSON strings. With
        ``include_result`` the full result JSON is kept as a string column ``result``.
        """
        import pandas as pd

        base = [c for c in _NAMES if c not in _JSON_COLUMNS]
        records: list[dict[str, Any]] = []
        for row in self.iter_rows(kind=kind):
            rec: dict[str, Any] = {c: getattr(row, c) for c in base}
            for prefix, d in (("params", row.params), ("metrics", row.metrics)):
                for name, value in (d or {}).items():
                    rec[f"{prefix}.{name}"] = _scalar(value)
            if include_result:
                rec["result"] = None if row.result is None else to_json(row.result)
            records.append(rec)
        df = pd.DataFrame.from_records(records)
        if df.empty:
            df = pd.DataFrame(columns=base + (["result"] if include_result else []))
        return _homogenise(df)

    def export(self, path: str | os.PathLike[str], *, kind: str | None = None) -> Path:
        """Write :meth:`rows` to ``path`` as Parquet (``.parquet``/``.pq``) or CSV (``.csv``), atomically."""
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in (".parquet", ".pq", ".csv"):
            raise InvalidArgument(f"export path {str(p)!r} must end in .parquet, .pq or .csv")
        check_writable_file(p)
        df = self.rows(kind=kind)
        if suffix == ".csv":
            data = df.to_csv(index=False).encode("utf-8")
        else:
            import io

            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            data = buf.getvalue()
        return atomic_write_bytes(p, data)


def _scalar(value: Any) -> Any:
    """A DataFrame cell: scalars as they are, containers as JSON text."""
    if isinstance(value, (dict, list, tuple)):
        return to_json(value)
    return value


def _homogenise(df: pd.DataFrame) -> pd.DataFrame:
    """Make every object column single-typed (str or bool or number), so Parquet can store it."""
    import pandas as pd

    for col in df.columns:
        if df[col].dtype != object:
            continue
        values = [v for v in df[col].tolist() if v is not None and not (isinstance(v, float) and math.isnan(v))]
        types = {type(v) for v in values}
        if not types or types <= {str}:
            continue
        if types <= {bool}:
            df[col] = df[col].astype("boolean")
        elif types <= {int, float} or types <= {int}:
            df[col] = pd.to_numeric(df[col])
        else:
            df[col] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in df[col]]
    return df
