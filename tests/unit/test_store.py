"""The results store (DESIGN §5.4): keys, one-transaction writes, WAL, concurrent writers, export."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from rdp.sweep.store import STORE_NAME, ResultsStore, StoreRow, job_key
from rdp_exact.errors import InvalidArgument


def _row(i: int, status: str = "done", **extra: object) -> StoreRow:
    return StoreRow(
        key=job_key("solve", "sha", {"width": i}, "test"),
        kind="solve",
        params={"width": i, "pmf": "cooccur3", "levels": [0.0, None]},
        status=status,
        metrics={"rate": 0.5 * i, "distortion": 1.0 / (i + 1), "status": "optimal", "exact": i % 2 == 0}
        if status == "done"
        else {},
        result={"atoms": [[0, 1], [2]]} if status == "done" else None,
        error=None if status == "done" else "boom",
        **extra,  # type: ignore[arg-type]
    )


def test_job_key_is_a_content_hash() -> None:
    a = job_key("solve", "abc", {"width": 2, "k": 1}, "1.0")
    assert a == job_key("solve", "abc", {"k": 1, "width": 2}, "1.0")  # order of keys does not matter
    assert len(a) == 64 and int(a, 16) >= 0
    others = {
        job_key("train", "abc", {"width": 2, "k": 1}, "1.0"),
        job_key("solve", "abd", {"width": 2, "k": 1}, "1.0"),
        job_key("solve", "abc", {"width": 3, "k": 1}, "1.0"),
        job_key("solve", "abc", {"width": 2, "k": 1}, "1.1"),
    }
    assert a not in others and len(others) == 4


def test_put_get_has_and_wal(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)  # a folder means folder/rdp.sqlite
    assert store.path == tmp_path / STORE_NAME and len(store) == 0
    ok, bad = _row(1), _row(2, status="failed")
    store.put(ok)
    store.put(bad)
    assert store.has(ok.key) and not store.has(bad.key)
    assert store.has(bad.key, status=None) and store.keys() == {ok.key}
    back = store.get(ok.key)
    assert back is not None and back.params == ok.params and back.metrics == ok.metrics and back.result == ok.result
    assert store.get("nope") is None
    store.put(_row(1, label="again"))  # same key: replaced, not duplicated
    assert len(store) == 2 and store.get(ok.key).label == "again"  # type: ignore[union-attr]
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_put_many_is_one_transaction(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    rows = [_row(i) for i in range(3)]
    broken = StoreRow(key=rows[0].key + "x", kind="solve", params={"x": object()}, status="done")
    with pytest.raises(TypeError):
        store.put_many([*rows, broken])  # serialising the last row fails: nothing is written
    assert len(store) == 0
    store.put_many(rows)
    assert store.keys() == {r.key for r in rows}


def test_rejects_bad_rows_and_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="status"):
        StoreRow(key="k", kind="solve", params={}, status="running")
    with pytest.raises(InvalidArgument, match="no results store"):
        ResultsStore(tmp_path / "missing.sqlite", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InvalidArgument, match="not a results store"):
        ResultsStore(junk)
    store = ResultsStore(tmp_path)
    with pytest.raises(InvalidArgument, match="parquet"):
        store.export(tmp_path / "out.xlsx")


def _writer(path: str, start: int, count: int) -> None:
    store = ResultsStore(path)
    for i in range(start, start + count):
        store.put(_row(i))


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / STORE_NAME)
    ResultsStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, 25 * w, 25)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    store = ResultsStore(path)
    assert store.keys() == {_row(i).key for i in range(75)}


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_round_trips_through_pandas(tmp_path: Path, suffix: str) -> None:
    store = ResultsStore(tmp_path)
    rows = [_row(i) for i in range(4)] + [_row(9, status="failed")]
    store.put_many(rows)
    target = tmp_path / f"results{suffix}"
    store.export(target)
    df = pd.read_parquet(target) if suffix == ".parquet" else pd.read_csv(target)
    assert len(df) == 5 and set(df["key"]) == {r.key for r in rows}
    by_key = df.set_index("key")
    for r in rows:
        got = by_key.loc[r.key]
        assert got["status"] == r.status and got["params.width"] == r.params["width"]
        if r.status == "done":
            assert got["metrics.rate"] == pytest.approx(r.metrics["rate"])
            assert got["metrics.distortion"] == pytest.approx(r.metrics["distortion"])
            assert bool(got["metrics.exact"]) is r.metrics["exact"]
        else:
            assert got["error"] == "boom" and pd.isna(got["metrics.rate"])
    # nested parameter values are kept as JSON text
    assert set(df["params.levels"]) == {"[0.0, null]"}
    # rows() is the same table
    assert len(store.rows()) == 5 and "result" in store.rows(include_result=True).columns
