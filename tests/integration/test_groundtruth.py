"""Ground-truth check of the proxy criterion (audit/groundtruth.py): sweeps with known P.

The key property (DESIGN §3 applied to exact optima): P*(r, δ) is monotone in the budgets, so the true P
placed at its budgets is never inverted on a dominated pair — V_strict = 0. Checked here directly on the
sweep's points (not through the code under test's statistics) and through audit.proxies.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from audit.groundtruth import (
    PROXIES,
    GroundTruthConfig,
    absorption_score,
    exact_sweeps,
    mean_max_cos,
)
from audit.groundtruth_report import groundtruth_report
from audit.proxies import violation_rate_strict
from rdp.cli import main
from rdp_exact.generators import builtin
from rdp_exact.pmf import ConceptPMF

TINY = GroundTruthConfig(exact_pmfs=("cooccur3",), shapes=((2, 1),), grid=3, train_pmfs=(), bootstrap=50,
                         permutations=50, solver="brute")


@pytest.fixture(scope="module")
def sweeps():  # type: ignore[no-untyped-def]
    return {sw.sweep: sw for sw in exact_sweeps("cooccur3", 2, 1, TINY)}


def test_true_p_is_never_inverted_on_exact_optima(sweeps) -> None:  # type: ignore[no-untyped-def]
    assert set(sweeps) == {"minP@budget", "minP@achieved", "minD@achieved"}
    for name, sw in sweeps.items():
        r, d, p = sw.rate, sw.distortion, sw.proxies["true_P"]
        assert len(sw.labels) >= 3, name
        # direct check: a dominated pair (a tighter) never has P(a) < P(b)
        for a in range(len(r)):
            for b in range(len(r)):
                dominated = r[a] <= r[b] and d[a] <= d[b] and (r[a], d[a]) != (r[b], d[b])
                if dominated:
                    assert p[a] >= p[b] - 1e-12, (name, sw.labels[a], sw.labels[b])
        vs = violation_rate_strict(r, d, p)
        assert vs == 0.0, name


def test_budget_placement_uses_the_budgets(sweeps) -> None:  # type: ignore[no-untyped-def]
    b, a = sweeps["minP@budget"], sweeps["minP@achieved"]
    assert b.labels == a.labels
    # an optimum meets its budgets
    assert np.all(a.rate <= b.rate + 1e-9) and np.all(a.distortion <= b.distortion + 1e-9)
    np.testing.assert_array_equal(a.proxies["true_P"], b.proxies["true_P"])
    # the loosest budget (δ = E|S|) admits the empty SAE: P = 0 there
    es = builtin("cooccur3").expected_sparsity()
    loose = np.isclose(b.distortion, es)
    assert loose.any() and np.all(b.proxies["true_P"][loose] == 0.0)


def test_absorption_score_by_hand() -> None:
    """Atoms {a} (latent 0) and {a,b} (latent 1); π({a}) = π({a,b}) = ½; on {a,b} latent 1 fires alone.
    Concept-events: ({a}, a) fired by its best match; ({a,b}, a) absorbed (best match latent 0 silent,
    latent 1 writes a); ({a,b}, b) fired by its best match (latent 1). Score = ½ / (½·1 + ½·2) = 1/3."""
    pmf = ConceptPMF.from_events(2, [((0,), 0.5), ((0, 1), 0.5)])
    h = 1 / math.sqrt(2)
    C = np.array([[1.0, 0.0], [h, h]])
    member = C > 0.5
    active = np.array([[True, False], [False, True]])
    assert absorption_score(pmf, C, member, active) == pytest.approx(1 / 3)
    # both latents firing on {a,b}: nothing absorbed
    assert absorption_score(pmf, C, member, np.array([[True, False], [True, True]])) == 0.0


def test_mean_max_cos_counts_dead_rows_as_zero() -> None:
    C = np.array([[1.0, 0.0], [0.0, 0.0], [0.6, -0.8]])
    assert mean_max_cos(C) == pytest.approx((1.0 + 0.0 + 0.8) / 3)


def test_report_files_at_a_tiny_setting(tmp_path: Path) -> None:
    cfg = GroundTruthConfig(exact_pmfs=("cooccur3",), shapes=((2, 1),), grid=3, train_pmfs=("cooccur3",),
                            train_width=2, topk_k=(1, 2), relu_l1=(0.01, 0.1, 0.5), seeds=1, steps=40,
                            batch_size=64, bootstrap=50, permutations=50, solver="brute")
    out = tmp_path / "gt"
    res = groundtruth_report(out, config=cfg)
    for name in ("groundtruth.csv", "groundtruth.md", "groundtruth_points.csv"):
        assert (out / name).is_file()
    with (out / "groundtruth.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    kinds = {r["kind"] for r in rows}
    assert kinds == {"exact", "trained"}
    true_rows = [r for r in rows if r["kind"] == "exact" and r["proxy"] == "true_P"]
    assert len(true_rows) == 3 and all(float(r["V_strict"]) == 0.0 for r in true_rows)
    for r in rows:
        passes = r["passes"] == "true"
        if passes:
            assert float(r["V"]) < 0.5 and float(r["V_hi"]) < 0.5 and float(r["rho"]) > 0
    with (out / "groundtruth_points.csv").open(newline="") as fh:
        pts = list(csv.DictReader(fh))
    assert sum(p["kind"] == "trained" for p in pts) == 5  # 2 TopK + 3 ReLU SAEs
    md = (out / "groundtruth.md").read_text()
    assert "Which proxies pass" in md
    for p in PROXIES:
        if p in res.pass_counts():
            assert f"`{p}`" in md


def test_bad_config_and_cli_bad_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rdp_exact.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        GroundTruthConfig(grid=1)
    with pytest.raises(InvalidArgument):
        GroundTruthConfig(shapes=((2, 3),))
    blocker = tmp_path / "f"
    blocker.write_text("x")
    assert main(["audit", "groundtruth", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot create" in err
    assert not (blocker / "sub").exists()
