"""``rdp audit proxies``: outputs on the real SAEBench tables, per-group runs, and every bad input
(exit 2, one line on stderr, nothing written)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.proxies import audit_proxy
from audit.saebench import canonical_architecture
from rdp.cli import main


def _shared() -> Path:
    """The SAEBench data vendored in the repository (data/saebench, see its README.md)."""
    return Path(__file__).resolve().parents[2] / "data"


SAEBENCH = _shared() / "saebench"
CSV_0824 = SAEBENCH / "gemma-2-2b_L19_0824_topk_standard_core_plus_sparse_probing.csv"
CSV_4K = SAEBENCH / "gemma-2-2b_4k_0108_per_sae_published_ravel_unlearning_plus_reproduced_core.csv"
FIXTURES = SAEBENCH / "format_fixtures"


FIXED = ["group", "proxy", "n_saes", "n_pairs", "V", "V_lo", "V_hi", "rho", "rho_lo", "rho_hi", "p_value"]
FAST = ["--bootstrap", "200", "--permutations", "200"]


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_the_documented_command(tmp_path, capsys):
    out = tmp_path / "x"
    rc, stdout, err = run(capsys, "audit", "proxies", CSV_0824, "--rate-col", "l0", "--distortion-col", "l2_loss",
                          "--proxy", "sp_sae_top_1_test_accuracy:interpretable", "--out", out)
    assert rc == 0, err
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[: len(FIXED)]) == FIXED
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["group"] == "all" and row["proxy"] == "sp_sae_top_1_test_accuracy" and row["n_saes"] == 96
    # the same statistics computed directly from the CSV (oriented by hand: accuracy is "interpretable")
    raw = pd.read_csv(CSV_0824)
    direct = audit_proxy(raw["l0"], raw["l2_loss"], -raw["sp_sae_top_1_test_accuracy"])
    for col in ("n_pairs", "V", "V_lo", "V_hi", "rho", "rho_lo", "rho_hi", "p_value", "V_strict"):
        assert row[col] == pytest.approx(getattr(direct, col)), col
    assert row["verdict"] == direct.verdict
    report = (out / "report.md").read_text()
    assert "| proxy | orientation | n | pairs | V [95% CI]" in report
    assert f"| {direct.verdict} |" in report
    assert (out / "figures" / "sp_sae_top_1_test_accuracy.png").stat().st_size > 1000
    assert "sp_sae_top_1_test_accuracy" in stdout


def test_group_by_architecture(tmp_path, capsys):
    out = tmp_path / "g"
    rc, _, err = run(capsys, "audit", "proxies", CSV_0824, "--proxy", "sp_sae_top_1_test_accuracy:interpretable",
                     "--group-by", "architecture", "--out", out, *FAST)
    assert rc == 0, err
    summary = pd.read_csv(out / "summary.csv")
    assert sorted(summary["group"]) == ["standard", "topk"]
    assert summary["n_saes"].sum() == 96
    raw = pd.read_csv(CSV_0824)
    topk = raw[raw["arch"] == "topk"]
    v = audit_proxy(topk["l0"], topk["l2_loss"], -topk["sp_sae_top_1_test_accuracy"], bootstrap=0, permutations=0).V
    assert summary.set_index("group").loc["topk", "V"] == pytest.approx(v)
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "standard__sp_sae_top_1_test_accuracy.png", "topk__sp_sae_top_1_test_accuracy.png"]


def test_default_proxies_and_groups_without_pairs(tmp_path, capsys):
    out = tmp_path / "r"
    rc, _, err = run(capsys, "audit", "proxies", CSV_4K, "--out", out, "--no-figures", *FAST)
    assert rc == 0, err
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["proxy"]) == {"published_ravel_cause_score", "published_ravel_disentanglement_score",
                                     "published_ravel_isolation_score", "published_unlearning_unlearning_score"}
    assert (summary["orientation"] == "interpretable").all()
    assert not (out / "figures").exists()
    # within one architecture the six trainers trace a Pareto front: no dominated pair in any group, so
    # nothing can be audited: exit 2 with one line, nothing written
    raw = pd.read_csv(CSV_4K)
    without_pairs = set()
    for arch, grp in raw.groupby("arch"):
        r, d = grp["reproduced_core_l0"].to_numpy(), 1 - grp["reproduced_core_loss_recovered"].to_numpy()
        if not any(r[a] <= r[b] and d[a] <= d[b] and (r[a], d[a]) != (r[b], d[b])
                   for a in range(len(r)) for b in range(len(r))):
            without_pairs.add(canonical_architecture(arch))
    assert without_pairs == set(raw["arch"].map(canonical_architecture))
    out2 = tmp_path / "r2"
    rc, _, err = run(capsys, "audit", "proxies", CSV_4K, "--group-by", "architecture", "--out", out2,
                     "--no-figures", *FAST)
    assert rc == 2 and err.count("\n") == 1 and "dominated pair" in err and not out2.exists()
    # with one architecture pooled with others, undefined groups are reported and warned about
    out3 = tmp_path / "r3"
    rc, _, err = run(capsys, "audit", "proxies", CSV_4K, "--group-by", "trainer", "--out", out3, "--no-figures",
                     *FAST)
    assert rc == 0, err
    s3 = pd.read_csv(out3 / "summary.csv", keep_default_na=False)
    assert len(set(s3["group"])) == 6


def test_saebench_folder_input(tmp_path, capsys):
    src = _shared() / "saebench" / "raw" / "saebench_reliability"
    out = tmp_path / "f"
    rc, _, err = run(capsys, "audit", "proxies", src, "--out", out, "--no-figures", "--bootstrap", "50",
                     "--permutations", "50", "--proxy", "ravel_cause_score:interpretable")
    assert rc == 0, err
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "n_saes"] == 42
    assert "1-core_loss_recovered" in (out / "report.md").read_text()


def test_sub_app_help(capsys):
    rc, out, _ = run(capsys, "audit", "--help")
    assert rc == 0 and "proxies" in out


def _csv(tmp_path: Path, frame: pd.DataFrame) -> Path:
    p = tmp_path / "t.csv"
    frame.to_csv(p, index=False)
    return p


def _bad_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = pd.DataFrame({"sae_id": list("abcde"), "l0": [1, 2, 3, 4, 5], "mse": [5, 3, 4, 2, 1],
                         "autointerp_score": [0.1, 0.2, 0.3, 0.2, 0.5], "note": list("vwxyz")})
    p = _csv(tmp_path, good)
    words = good.assign(autointerp_score=["0.1", "0.2", "oops", "0.2", "0.5"])
    pw = tmp_path / "words.csv"
    words.to_csv(pw, index=False)
    two = tmp_path / "two.csv"
    good.head(2).to_csv(two, index=False)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.json").write_text(json.dumps({"a": 1}))
    noproxy = tmp_path / "noproxy.csv"
    good.drop(columns="autointerp_score").to_csv(noproxy, index=False)
    return {
        "missing rate column": ([str(p), "--rate-col", "nope"], "nope"),
        "missing distortion column": ([str(p), "--distortion-col", "nope"], "nope"),
        "missing proxy column": ([str(p), "--proxy", "nope:interpretable"], "nope"),
        "missing group column": ([str(p), "--group-by", "nope"], "nope"),
        "non-numeric proxy": ([str(pw)], "oops"),
        "non-numeric named column": ([str(p), "--proxy", "note:polysemantic"], "note"),
        "fewer than three": ([str(two)], "at least 3"),
        "unknown orientation word": ([str(p), "--proxy", "autointerp_score:sideways"], "sideways"),
        "unknown column orientation": ([str(p), "--proxy", "note"], "unknown orientation"),
        "no known proxy": ([str(noproxy)], "no known proxy"),
        "folder without results": ([str(junk)], "no recognisable"),
        "missing input": ([str(tmp_path / "absent.csv")], "does not exist"),
        "fidelity as distortion": ([str(CSV_0824), "--distortion-col", "frac_variance_explained"], "1-"),
        "bad bootstrap": ([str(p), "--bootstrap", "-3"], "bootstrap"),
        "bad confidence": ([str(p), "--confidence", "1.5"], "confidence"),
        "single fixture without rate": ([str(FIXTURES / "autointerp__autointerp_expected_results.json")], "rate"),
    }


BAD_IDS = ["missing rate column", "missing distortion column", "missing proxy column", "missing group column",
           "non-numeric proxy", "non-numeric named column", "fewer than three", "unknown orientation word",
           "unknown column orientation", "no known proxy", "folder without results", "missing input",
           "fidelity as distortion", "bad bootstrap", "bad confidence", "single fixture without rate"]


@pytest.mark.parametrize("case", BAD_IDS)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, case):
    argv, needle = _bad_cases(tmp_path)[case]
    out = tmp_path / "out"
    rc, stdout, err = run(capsys, "audit", "proxies", *FAST, *argv, "--out", out)
    assert rc == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("rdp: error:") and needle in lines[0], err
    assert not out.exists()


def test_failure_leaves_an_existing_output_folder_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("old\n")
    rc, _, _ = run(capsys, "audit", "proxies", CSV_0824, "--rate-col", "nope", "--out", out)
    assert rc == 2
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]
    assert (out / "summary.csv").read_text() == "old\n"


def test_missing_values_are_left_out_with_a_warning(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 12
    frame = pd.DataFrame({"sae_id": [f"s{i}" for i in range(n)], "l0": rng.random(n), "mse": rng.random(n),
                          "autointerp_score": rng.random(n)})
    frame.loc[[2, 5], "autointerp_score"] = np.nan
    frame.loc[7, "mse"] = np.nan
    out = tmp_path / "m"
    rc, _, err = run(capsys, "audit", "proxies", _csv(tmp_path, frame), "--out", out, "--no-figures", *FAST)
    assert rc == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "n_saes"] == n - 3
    keep = frame.dropna()
    v = audit_proxy(keep["l0"], keep["mse"], -keep["autointerp_score"], bootstrap=0, permutations=0).V
    assert summary.loc[0, "V"] == pytest.approx(v) or (v is None and math.isnan(summary.loc[0, "V"]))
    assert "without a value of autointerp_score" in err and "lack a rate or distortion" in err
