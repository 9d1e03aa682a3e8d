"""``rdp audit proxies`` on the raw SAEBench folder and with filters (issue 12 items 4–6): grouping by model and
layer, per-file columns, published vs reproduced scores, ``--where``/``--exclude``, summary.json.

Expected statistics are recomputed here with :func:`audit.proxies.audit_proxy` on rows selected with plain
pandas from the vendored tables, an independent path from the reader's joins, groups and filters.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.proxies import audit_proxy
from rdp.cli import main

SAEBENCH = Path(__file__).resolve().parents[2] / "data" / "saebench"
RAW = SAEBENCH / "raw"
CSV_0824 = SAEBENCH / "gemma-2-2b_L19_0824_topk_standard_core_plus_sparse_probing.csv"
CSV_4K = SAEBENCH / "gemma-2-2b_4k_0108_per_sae_published_ravel_unlearning_plus_reproduced_core.csv"
NOSTAT = ["--bootstrap", "0", "--permutations", "0", "--no-figures"]


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def raw_audit(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw") / "audit"
    rc = main(["audit", "proxies", str(RAW), "--out", str(out), *NOSTAT])
    return rc, out


def test_raw_folder_is_grouped_by_model_and_layer(raw_audit, capsys):
    rc, out = raw_audit
    assert rc == 0
    s = pd.read_csv(out / "summary.csv")
    groups = set(s["group"])
    assert "model=gemma-2-2b, layer=19" in groups and "model=gemma-2-2b, layer=12" in groups
    assert not any("google/" in g for g in groups) and "all" not in groups
    # sparse probing is audited (it used to be dropped as COL@FILE columns)
    sp = s[(s["group"] == "model=gemma-2-2b, layer=19") & (s["proxy"] == "sparse_probing_sae_top_1_test_accuracy")]
    assert len(sp) == 1 and sp["n_saes"].iloc[0] == 96 and np.isfinite(sp["V"].iloc[0])


def test_raw_ravel_uses_published_scores_like_the_derived_csv(raw_audit):
    """RAVEL-cause V in the layer-12 group equals V computed directly from the CSV's published scores."""
    _, out = raw_audit
    s = pd.read_csv(out / "summary.csv")
    row = s[(s["group"] == "model=gemma-2-2b, layer=12") & (s["proxy"] == "ravel_cause_score")].iloc[0]
    assert row["scores"] == "published"
    assert row["rate_source"] == "core_l0" and row["distortion_source"] == "1-core_loss_recovered"
    csv = pd.read_csv(CSV_4K)
    direct = audit_proxy(csv["reproduced_core_l0"], 1 - csv["reproduced_core_loss_recovered"],
                         -csv["published_ravel_cause_score"], bootstrap=0, permutations=0)
    assert row["n_saes"] == 42 and row["n_pairs"] == direct.n_pairs
    assert row["V"] == pytest.approx(direct.V)


def test_raw_folder_names_everything_it_skipped(tmp_path, capsys):
    rc, _, err = run(capsys, "audit", "proxies", RAW, "--out", tmp_path / "o", *NOSTAT)
    assert rc == 0
    warnings = [line for line in err.splitlines() if line.startswith("rdp: warning:")]
    text = "\n".join(warnings)
    assert "CROSSCHECK_vs_published_0125.json" in text  # a file that is not a result
    assert "published scores used" in text and "--scores" in text
    # absorption (pythia-160m) has no rate column in its group: named as not audited
    assert "not audited in any group" in text and "absorption_mean_absorption_fraction_score" in text
    assert "grouped by model, layer" in text
    assert "per-file alternative" in text


def test_reproduced_scores_on_request(tmp_path, capsys):
    out = tmp_path / "o"
    rc, _, err = run(capsys, "audit", "proxies", RAW / "saebench_reliability", "--out", out, "--scores", "reproduced",
                     "--where", "layer == 12", *NOSTAT)
    assert rc == 0, err
    s = pd.read_csv(out / "summary.csv")
    row = s[s["proxy"] == "ravel_cause_score"].iloc[0]
    assert row["scores"] == "reproduced"
    per = {r["sae_name"]: r["cause_score"] for r in
           json.loads((RAW / "saebench_reliability" / "gemma-2-2b_4k.json").read_text())["result"]["per_sae"]}
    csv = pd.read_csv(CSV_4K)
    direct = audit_proxy(csv["reproduced_core_l0"], 1 - csv["reproduced_core_loss_recovered"],
                         -csv["sae_name"].map(per), bootstrap=0, permutations=0)
    assert row["V"] == pytest.approx(direct.V)


def test_where_and_exclude_select_the_final_saes(tmp_path, capsys):
    raw = pd.read_csv(CSV_0824)
    final = raw[raw["is_checkpoint"] == False]  # noqa: E712 - pandas element-wise comparison
    direct = audit_proxy(final["l0"], final["l2_loss"], -final["sp_sae_top_1_test_accuracy"], bootstrap=0,
                         permutations=0)
    common = ["--rate-col", "l0", "--distortion-col", "l2_loss", "--proxy", "sp_sae_top_1_test_accuracy", *NOSTAT]
    for flag, expr in (("--where", "is_checkpoint == False"), ("--exclude", "is_checkpoint == True")):
        out = tmp_path / flag.strip("-")
        rc, _, err = run(capsys, "audit", "proxies", CSV_0824, "--out", out, flag, expr, *common)
        assert rc == 0, err
        row = pd.read_csv(out / "summary.csv").iloc[0]
        assert row["n_saes"] == len(final) == 12
        assert row["n_pairs"] == direct.n_pairs and row["V"] == pytest.approx(direct.V)
        assert f"{flag.strip('-')} is_checkpoint" in (out / "report.md").read_text()
    # both filters together: the TopK checkpoints
    out = tmp_path / "both"
    rc, _, err = run(capsys, "audit", "proxies", CSV_0824, "--out", out, "--where", "arch == 'topk'",
                     "--exclude", "is_checkpoint == False", *common)
    assert rc == 0, err
    expected = int(((raw["arch"] == "topk") & (raw["is_checkpoint"] == True)).sum())  # noqa: E712
    assert pd.read_csv(out / "summary.csv").iloc[0]["n_saes"] == expected > 12


@pytest.mark.parametrize(
    ("flag", "expr", "words"),
    [
        ("--where", "is_checkpoint ==", "not a valid filter"),
        ("--where", "no_such_column > 3", "no_such_column"),
        ("--where", "l0 + 1", "true/false"),
        ("--exclude", "l0 > -1", "no SAE is left"),
        ("--where", "   ", "non-empty"),
    ],
)
def test_bad_filters_exit_2_and_write_nothing(tmp_path, capsys, flag, expr, words):
    out = tmp_path / "o"
    rc, _, err = run(capsys, "audit", "proxies", CSV_0824, "--out", out, flag, expr, *NOSTAT)
    assert rc == 2 and err.startswith("rdp: error:") and err.count("\n") == 1, err
    assert words in err and not out.exists()


def test_summary_json_mirrors_summary_csv(tmp_path, capsys):
    out = tmp_path / "o"
    rc, _, err = run(capsys, "audit", "proxies", CSV_0824, "--out", out, "--rate-col", "l0", "--distortion-col",
                     "l2_loss", "--group-by", "arch", "--bootstrap", "50", "--permutations", "50", "--no-figures")
    assert rc == 0, err
    data = json.loads((out / "summary.json").read_text())
    s = pd.read_csv(out / "summary.csv")
    assert data["eval_type_id"] == "rdp_proxy_audit" and data["eval_config"]["group_by"] == "arch"
    assert len(data["eval_result_details"]) == len(s)
    for _, row in s.iterrows():
        m = data["eval_result_metrics"][row["group"]][row["proxy"]]
        for col in ("V", "rho", "n_pairs", "verdict"):
            a, b = m[col], row[col]
            if isinstance(b, float) and math.isnan(b):
                assert a is None
            else:
                assert a == pytest.approx(b) if isinstance(b, float) else a == b


def test_model_names_are_normalised_and_groups_never_pooled(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 8
    table = pd.DataFrame({
        "sae_id": [f"s{i}" for i in range(3 * n)],
        "model": ["google/gemma-2-2b"] * n + ["Gemma-2-2B"] * n + ["EleutherAI/pythia-70m-deduped"] * n,
        "layer": [12] * (3 * n),
        "l0": rng.uniform(10, 100, 3 * n),
        "mse": rng.uniform(0.1, 1, 3 * n),
        "autointerp_score": rng.uniform(0.5, 0.9, 3 * n),
    })
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "o"
    rc, _, err = run(capsys, "audit", "proxies", path, "--out", out, *NOSTAT)
    assert rc == 0, err
    s = pd.read_csv(out / "summary.csv")
    assert sorted(s["group"]) == ["gemma-2-2b", "pythia-70m-deduped"]
    assert dict(zip(s["group"], s["n_saes"], strict=True)) == {"gemma-2-2b": 2 * n, "pythia-70m-deduped": n}
    # pooling is explicit
    out2 = tmp_path / "o2"
    rc, _, err = run(capsys, "audit", "proxies", path, "--out", out2, "--group-by", "none", *NOSTAT)
    assert rc == 0 and list(pd.read_csv(out2 / "summary.csv")["group"]) == ["all"]
