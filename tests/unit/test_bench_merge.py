"""bench_scale --merge: a run of one section keeps the others' rows and says which rows are older."""

from __future__ import annotations

import json
import os

_ENV = dict(os.environ)
from benchmarks.bench_scale import TARGETS, _merged, to_markdown  # noqa: E402

# bench_scale pins the BLAS thread counts in os.environ when imported (for its own runs); leave the suite's alone
os.environ.clear()
os.environ.update(_ENV)


def _row(name: str, wall: float) -> dict:
    return {"name": name, "m": 6, "status": "optimal", "wall_s": wall, "workers": 2, "D": 1.0, "bound": 1.0,
            "root_gap": 0.1, "nodes": 5, "load_before": 0.1, "load_after": 0.2}


def _target(name: str) -> dict:
    b = {"n": 12, "N": 128, "m": 6, "status": "optimal", "wall_s": 1.0, "workers": 2, "D": 1.0, "R": 1.0, "P": 0.0,
         "nodes": 5, "load_before": 0.1, "load_after": 0.2}
    return {"name": name, "bnb": b, "target_text": "≤ 10 s", "met": True, "root_gap": 0.1}


def _gaps(name: str) -> dict:
    return {"name": name, "D": 1.0, "proven": True, "mu": 0.5, "lagrange": 0.8, "mu_gap": 0.5, "lagrange_gap": 0.2,
            "lagrange_s": 0.1}


def test_a_widths_run_keeps_the_targets_and_what_was_said_of_them(tmp_path):
    old = {"meta": {"limit_s": 30.0, "milp_limit_s": 300.0, "structured_limit_s": 120.0,
                    "targets_from_earlier_runs": ["random10"]},
           "targets": [_target(t[0]) for t in TARGETS], "root_gaps": [_gaps(t[0]) for t in TARGETS],
           "scaling": [], "structured": [{"name": "hier", "bnb": _target("hier")["bnb"] | {"bound": 1.0, "root_gap": 0.1},
                                          "milp": {}}], "variants": [], "widths": [_row("hier", 9.0)]}
    path = tmp_path / "bench_scale.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    new = {"meta": {"machine": "m", "cpu_count": 2, "load_start": 0.1, "load_end": 0.2, "limit_s": 60.0,
                    "widths_limit_s": 120.0},
           "targets": [], "root_gaps": [], "scaling": [], "structured": [], "variants": [],
           "widths": [_row("hier", 2.0), _row("blocks", 30.0)]}
    skipped = {"targets": True, "root_gaps": True, "structured": True, "variants": True, "scaling": True,
               "widths": False}
    res = _merged(path, new, skipped)
    assert [t["name"] for t in res["targets"]] == [t[0] for t in TARGETS]
    assert res["structured"] == old["structured"]
    assert [r["wall_s"] for r in res["widths"]] == [2.0, 30.0]  # the new rows, not the old
    assert res["meta"]["limit_s"] == 30.0  # the scaling rows' limit is the one they ran under
    assert res["meta"]["targets_from_earlier_runs"] == ["random10"]
    note = res["meta"]["merged"]
    assert "measured: widths" in note and "random10" in note
    md = to_markdown(res)
    assert "Width scaling" in md and "| blocks | 6 | optimal | 30.00 |" in md


def test_a_targets_run_names_the_targets_it_did_not_run(tmp_path):
    old = {"meta": {}, "targets": [_target(t[0]) for t in TARGETS], "root_gaps": [_gaps(t[0]) for t in TARGETS]}
    path = tmp_path / "bench_scale.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    first = TARGETS[0][0]
    new = {"meta": {}, "targets": [_target(first)], "root_gaps": [_gaps(first)], "scaling": [], "structured": [],
           "variants": [], "widths": []}
    skipped = {"targets": False, "root_gaps": False, "structured": True, "variants": True, "scaling": True,
               "widths": True}
    res = _merged(path, new, skipped)
    others = [t[0] for t in TARGETS[1:]]
    assert [t["name"] for t in res["targets"]] == [t[0] for t in TARGETS]
    assert res["meta"]["targets_from_earlier_runs"] == others
    assert "measured: targets" in res["meta"]["merged"]


def test_toggle_switch_is_restored_and_ratios_need_comparable_arms() -> None:
    """The on/off driver restores a flag switch and a callable one, and gives a ratio only where both arms proved
    or both stopped at the same node limit with the same nodes."""
    from benchmarks import toggle
    from rdp_exact.solvers import bnb_free

    before = bnb_free.PAIR_FILTER
    undo = toggle._set("PAIR_FILTER", not before)
    assert bnb_free.PAIR_FILTER is (not before)
    undo()
    assert bnb_free.PAIR_FILTER is before
    state = {"on": None}

    def sw(on: bool):  # noqa: ANN202
        state["on"] = on
        return lambda: state.update(on=None)

    toggle._set(sw, True)()
    assert state["on"] is None

    def arm(status: str, wall: float, nodes: int) -> dict:
        return {"status": status, "wall_s": wall, "nodes": nodes, "load_before": 0.1, "load_after": 0.2}

    rows = [{"name": "a", "m": 4, "workers": 1, "on": arm("optimal", 1.0, 5), "off": arm("optimal", 2.0, 9), "same": True},
            {"name": "b", "m": 4, "workers": 1, "options": {"node_limit": 7}, "on": arm("limit", 1.0, 7),
             "off": arm("limit", 3.0, 7), "same": True},
            {"name": "c", "m": 4, "workers": 1, "on": arm("limit", 1.0, 7), "off": arm("limit", 3.0, 8), "same": True}]
    md = toggle.to_markdown("t", "s", {"meta": {"limit_s": 1, "load_start": 0, "load_end": 0}, "rows": rows},
                            ("compiled", "NumPy"))
    lines = {ln.split("|")[1].strip(): ln for ln in md.splitlines() if ln.startswith("| ") and "status" not in ln}
    assert "2.00×" in lines["a"] and "3.00×" in lines["b"] and "| – |" in lines["c"]
    assert "NumPy / compiled" in md
