"""SAEBench ingestion: every format fixture, joins across eval types, the real raw folders and CSVs.

Expected values are read from the JSON/CSV files themselves in the test, never copied from the reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.orientation import recognised_columns
from audit.saebench import canonical_architecture, read_saebench, resolve_rate_distortion
from rdp_exact.errors import InvalidArgument


def _shared() -> Path:
    """The SAEBench data vendored in the repository (data/saebench, see its README.md)."""
    return Path(__file__).resolve().parents[2] / "data"


SAEBENCH = _shared() / "saebench"
FIXTURES = SAEBENCH / "format_fixtures"
RAW = SAEBENCH / "raw"
CSV_0824 = SAEBENCH / "gemma-2-2b_L19_0824_topk_standard_core_plus_sparse_probing.csv"
CSV_4K = SAEBENCH / "gemma-2-2b_4k_0108_per_sae_published_ravel_unlearning_plus_reproduced_core.csv"



def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _unwrap(d: dict) -> dict:
    """The eval output inside a fixture (some are keyed by SAE)."""
    return d if "eval_type_id" in d else next(iter(d.values()))


# (fixture, eval prefix, proxies the orientation table must recognise)
FIXTURE_CASES = [
    ("absorption__absorption_expected_results.json", "absorption",
     {"absorption_mean_absorption_fraction_score", "absorption_mean_full_absorption_score",
      "absorption_mean_num_split_features"}),
    ("autointerp__autointerp_expected_results.json", "autointerp", {"autointerp_score"}),
    ("core__core_expected_results.json", "core", set()),
    ("mdl__mdl_expected_results.json", "mdl", set()),
    ("meta_structure__pythia70m_tr10_meta_structure.json", "meta_sae", set()),
    ("ravel__ravel_expected_results.json", "ravel",
     {"ravel_disentanglement_score", "ravel_cause_score", "ravel_isolation_score"}),
    ("scr_and_tpp__scr_expected_results.json", "scr", {"scr_metric_threshold_10", "scr_dir1_threshold_10"}),
    ("scr_and_tpp__tpp_expected_results.json", "tpp", {"tpp_threshold_10_total_metric"}),
    ("sparse_probing__sparse_probing_expected_results.json", "sparse_probing",
     {f"sparse_probing_sae_top_{k}_test_accuracy" for k in (1, 2, 5, 10, 20, 50, 100)}),
    ("unlearning__unlearning_expected_results.json", "unlearning", {"unlearning_score"}),
]


def test_every_fixture_has_a_case():
    assert {p.name for p in FIXTURES.glob("*.json")} == {c[0] for c in FIXTURE_CASES}


@pytest.mark.parametrize("name, prefix, proxies", FIXTURE_CASES, ids=[c[0].split("__")[0] for c in FIXTURE_CASES])
def test_format_fixture(name, prefix, proxies):
    path = FIXTURES / name
    table = read_saebench(path)
    frame = table.frame
    assert len(frame) == 1
    assert list(frame.columns[:4]) == ["sae_id", "architecture", "rate", "distortion"]
    raw = _unwrap(_load(path))
    row = frame.iloc[0]
    assert raw["sae_lens_id"] in row["sae_id"]
    if "eval_result_metrics" in raw:
        for group in raw["eval_result_metrics"].values():
            for metric, value in group.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    col = metric if metric.startswith(prefix + "_") else f"{prefix}_{metric}"
                    assert row[col] == pytest.approx(value), col
    found = {c for c, _ in recognised_columns(frame.columns, exclude={"rate", "distortion"})}
    assert found == proxies
    if prefix == "core":
        m = raw["eval_result_metrics"]
        assert table.rate_source == "core_l0" and row["rate"] == pytest.approx(m["sparsity"]["l0"])
        assert table.distortion_source == "core_mse"
        assert row["distortion"] == pytest.approx(m["reconstruction_quality"]["mse"])
    else:
        assert table.rate_source is None and np.isnan(row["rate"])


def test_fixture_architectures():
    # sae_cfg_dict says "standard" with a topk activation: that is a TopK SAE
    assert read_saebench(FIXTURES / "absorption__absorption_expected_results.json").frame.architecture[0] == "topk"
    assert read_saebench(FIXTURES / "core__core_expected_results.json").frame.architecture[0] == "gated"


def test_mdl_takes_fewest_bins_within_threshold():
    raw = _load(FIXTURES / "mdl__mdl_expected_results.json")
    ok = [e for e in raw["eval_results"] if e["within_threshold"]]
    best = min(ok, key=lambda e: e["num_bins"])
    row = read_saebench(FIXTURES / "mdl__mdl_expected_results.json").frame.iloc[0]
    assert row["mdl_description_length"] == pytest.approx(best["description_length"])


def _variant(src: Path, dst: Path, trainer: int, scale: float) -> None:
    """A copy of a fixture for another trainer with every numeric metric scaled."""
    d = _load(src)
    wrapped = "eval_type_id" not in d
    inner = _unwrap(d)
    inner["sae_lens_id"] = f"blocks.4.hook_resid_post__trainer_{trainer}"
    inner["sae_lens_release_id"] = "sae_bench_pythia70m_sweep_topk_ctx128_0730"
    for group in inner["eval_result_metrics"].values():
        for k, v in group.items():
            if isinstance(v, float):
                group[k] = v * scale
    inner["eval_result_details"] = []
    dst.write_text(json.dumps({"x": inner} if wrapped else inner))


def test_join_across_eval_types(tmp_path):
    (tmp_path / "ai").mkdir()  # results may sit in subfolders
    for t in range(4):
        _variant(FIXTURES / "core__core_expected_results.json", tmp_path / f"core_{t}.json", t, 1 + t)
        _variant(FIXTURES / "autointerp__autointerp_expected_results.json", tmp_path / "ai" / f"{t}.json", t,
                 1 - 0.1 * t)
    table = read_saebench(tmp_path)
    f = table.frame.sort_values("rate")
    assert len(f) == 4 and table.rate_source == "core_l0"
    core = _unwrap(_load(FIXTURES / "core__core_expected_results.json"))["eval_result_metrics"]
    ai = _unwrap(_load(FIXTURES / "autointerp__autointerp_expected_results.json"))["eval_result_metrics"]
    assert f["rate"].to_numpy() == pytest.approx(core["sparsity"]["l0"] * np.arange(1, 5))
    assert f["autointerp_score"].to_numpy() == pytest.approx(ai["autointerp"]["autointerp_score"]
                                                             * (1 - 0.1 * np.arange(4)))
    assert set(f["architecture"]) == {"topk"}


def test_conflicting_duplicates_are_kept_per_file(tmp_path):
    src = FIXTURES / "absorption__absorption_expected_results.json"
    _variant(src, tmp_path / "v1.json", 3, 1.0)
    _variant(src, tmp_path / "v2.json", 3, 2.0)
    table = read_saebench(tmp_path)
    row = table.frame.iloc[0]
    col = "absorption_mean_absorption_fraction_score"
    assert len(table.frame) == 1
    # equal coverage: the base column takes the last file by name, the other file's value is kept per file
    assert row[col] == pytest.approx(2 * row[f"{col}@v1"])
    assert f"{col}@v2" not in table.frame.columns
    assert any("disagree" in n and col in n and "v1" in n for n in table.notes)


def test_per_file_columns_are_merged_where_the_files_agree(tmp_path):
    """Two files overlap on one SAE and agree there: one column, no COL@FILE, no note."""
    src = FIXTURES / "absorption__absorption_expected_results.json"
    _variant(src, tmp_path / "a.json", 1, 1.0)
    _variant(src, tmp_path / "b.json", 2, 1.5)
    _variant(src, tmp_path / "c.json", 2, 1.5)  # same SAE as b.json, same values
    table = read_saebench(tmp_path)
    col = "absorption_mean_absorption_fraction_score"
    assert not any("@" in c for c in table.frame.columns)
    assert not any("disagree" in n for n in table.notes)
    vals = sorted(table.frame[col])
    assert vals[1] == pytest.approx(1.5 * vals[0])
    # a third, disagreeing file covering fewer SAEs: the agreeing majority keeps the base column
    _variant(src, tmp_path / "z.json", 2, 3.0)
    table = read_saebench(tmp_path)
    f = table.frame.set_index("sae_id")
    assert sorted(f[col].dropna()) == pytest.approx(vals)
    assert f[f"{col}@z"].notna().sum() == 1
    from audit.orientation import resolve_proxies, rule_for

    assert rule_for(f"{col}@z") is not None  # recognised by its base name
    assert f"{col}@z" not in [c for c, _, _ in resolve_proxies(list(table.frame.columns))]
    assert resolve_proxies(list(table.frame.columns), [f"{col}@z"])[0][1] == "polysemantic"


def test_unrecognisable_inputs(tmp_path):
    (tmp_path / "junk.json").write_text(json.dumps({"hello": [1, 2]}))
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InvalidArgument, match="no recognisable SAEBench result in folder"):
        read_saebench(tmp_path)
    with pytest.raises(InvalidArgument, match="no recognisable SAEBench result in file"):
        read_saebench(tmp_path / "junk.json")
    with pytest.raises(InvalidArgument, match="cannot read JSON"):
        read_saebench(tmp_path / "broken.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidArgument, match="no recognisable"):
        read_saebench(empty)
    with pytest.raises(InvalidArgument, match="does not exist"):
        read_saebench(tmp_path / "missing")


# ------------------------------------------------------------------------------------ real data
def test_0824_core_folder_matches_its_json():
    folder = RAW / "sae_bench_template_0824_core"
    table = read_saebench(folder)
    expected = {}
    for f in folder.glob("*.json"):
        expected.update(_load(f)["basic_eval_results"])
    frame = table.frame.set_index("sae_id")
    assert len(frame) == len(expected)
    assert table.rate_source == "core_l0" and table.distortion_source == "core_l2_loss"
    for key in list(expected)[::37]:
        assert frame.loc[key, "rate"] == pytest.approx(expected[key]["l0"])
        assert frame.loc[key, "distortion"] == pytest.approx(expected[key]["l2_loss"])
        assert frame.loc[key, "architecture"] == canonical_architecture(key.split("/")[0])
    assert any("not squared" in n for n in table.notes)


def test_0824_folder_reproduces_the_derived_csv(tmp_path):
    """Core sweeps + sparse-probing outputs joined by the reader equal the published join (the CSV)."""
    for name in ("sae_bench_gemma-2-2b_sweep_topk_ctx128_ef8_0824_data.json",
                 "sae_bench_gemma-2-2b_sweep_standard_ctx128_ef8_0824_data.json"):
        (tmp_path / name).symlink_to(RAW / "sae_bench_template_0824_core" / name)
    sp = "example_gemma-2-2b_layer_19_with_checkpoints_eval_results.json"
    (tmp_path / sp).symlink_to(RAW / "sparse_probing_0824" / sp)
    frame = read_saebench(tmp_path).frame.set_index("sae_id")
    csv = pd.read_csv(CSV_0824).set_index("sae_key")
    assert set(csv.index) <= set(frame.index)
    joined = frame.loc[csv.index]
    assert np.allclose(joined["rate"], csv["l0"])
    assert np.allclose(joined["core_l2_loss"], csv["l2_loss"])
    for k in (1, 5, 100):
        assert np.allclose(joined[f"sparse_probing_sae_top_{k}_test_accuracy"], csv[f"sp_sae_top_{k}_test_accuracy"])
    assert (joined["architecture"] == csv["arch"].map(canonical_architecture)).all()


def test_reliability_folder_joins_core_with_ravel_and_unlearning():
    folder = RAW / "saebench_reliability"
    table = read_saebench(folder)
    frame = table.frame.set_index("sae_id")
    csv = pd.read_csv(CSV_4K).set_index("sae_name")
    assert set(csv.index) <= set(frame.index)
    rows = frame.loc[csv.index]
    assert np.allclose(rows["core_l0"], csv["reproduced_core_l0"])
    assert np.allclose(rows["core_loss_recovered"], csv["reproduced_core_loss_recovered"])
    # by default the published scores (the release's own numbers, as in the derived CSV), labelled
    for name in csv.index:
        assert rows.loc[name, "ravel_cause_score"] == pytest.approx(csv.loc[name, "published_ravel_cause_score"])
        assert rows.loc[name, "unlearning_score"] == pytest.approx(
            csv.loc[name, "published_unlearning_unlearning_score"])
        assert rows.loc[name, "architecture"] == canonical_architecture(csv.loc[name, "arch"])
    assert table.provenance["ravel_cause_score"] == "published"
    assert any("published scores used" in n for n in table.notes)
    # the reproduced RAVEL/unlearning scores of the processed files, per SAE, on request
    rep = read_saebench(folder, scores="reproduced")
    rrows = rep.frame.set_index("sae_id").loc[csv.index]
    ravel = {r["sae_name"]: r for r in _load(folder / "gemma-2-2b_4k.json")["result"]["per_sae"]}
    unl = {r["sae_name"]: r for r in _load(folder / "gemma-2-2b-it_4k.json")["result"]["per_sae"]}
    for name in csv.index:
        assert rrows.loc[name, "ravel_cause_score"] == pytest.approx(ravel[name]["cause_score"])
        assert rrows.loc[name, "unlearning_score"] == pytest.approx(unl[name]["unlearning_score"])
    assert rep.provenance["ravel_cause_score"] == "reproduced"
    assert (rows["model"] == "gemma-2-2b").all() and (rows["layer"] == 12).all()
    # the two absorption versions disagree: the base column takes the newer file's values, the older file's
    # values are kept as COL@FILE, and both are recognised as the same proxy
    col = "absorption_mean_num_split_features"
    v6 = {r["sae_name"]: r for r in _load(folder / "pythia-160m_4k_v0.6.0.json")["result"]["per_sae"]
          if r.get("status", "ok") == "ok"}
    v3 = {r["sae_name"]: r for r in _load(folder / "pythia-160m_4k_v0.3.2.json")["result"]["per_sae"]
          if r.get("status", "ok") == "ok"}
    key = "mean_num_split_features"
    both = [n for n in v6 if n in v3 and key in v6[n] and key in v3[n] and v6[n][key] != v3[n][key]]
    assert both
    for n in both:
        assert frame.loc[n, col] == pytest.approx(v6[n][key])
        assert frame.loc[n, f"{col}@pythia-160m_4k_v0.3.2"] == pytest.approx(v3[n][key])
    assert not any(c.endswith("@pythia-160m_4k_v0.6.0") for c in frame.columns)


def test_sparse_probing_folder_and_whole_raw_tree():
    sp = read_saebench(RAW / "sparse_probing_0824")
    n = sum(len(_load(f)["custom_eval_results"]) for f in (RAW / "sparse_probing_0824").glob("*.json"))
    assert len(sp.frame) <= n and sp.rate_source is None
    everything = read_saebench(RAW)
    assert len(everything.frame) >= len(read_saebench(RAW / "sae_bench_template_0824_core").frame)


@pytest.mark.parametrize("path, rate, dist", [
    (CSV_0824, "l0", "l2_loss"),
    (CSV_4K, "reproduced_core_l0", "1-reproduced_core_loss_recovered"),
])
def test_csv_defaults(path, rate, dist):
    table = read_saebench(path)
    raw = pd.read_csv(path)
    assert (table.rate_source, table.distortion_source) == (rate, dist)
    assert np.allclose(table.frame["rate"], raw[rate])
    expected = 1 - raw[dist[2:]] if dist.startswith("1-") else raw[dist]
    assert np.allclose(table.frame["distortion"], expected)
    assert table.frame["sae_id"].is_unique


def test_explicit_columns_and_refusals():
    t = read_saebench(CSV_0824, rate_col="l0", distortion_col="1-frac_variance_explained")
    raw = pd.read_csv(CSV_0824)
    assert np.allclose(t.frame["distortion"], 1 - raw["frac_variance_explained"])
    with pytest.raises(InvalidArgument, match="fidelity"):
        read_saebench(CSV_0824, distortion_col="frac_variance_explained")
    with pytest.raises(InvalidArgument, match="--rate-col 'nope' is not a column"):
        read_saebench(CSV_0824, rate_col="nope")
    with pytest.raises(InvalidArgument, match="--distortion-col 'nope' is not a column"):
        read_saebench(CSV_0824, distortion_col="nope")
    with pytest.raises(InvalidArgument, match="not numeric"):
        read_saebench(CSV_0824, rate_col="arch")


def test_non_numeric_and_missing_cells():
    frame = pd.DataFrame({"sae_id": list("abcd"), "l0": ["1", "2", "x", "4"], "mse": [1.0, None, 3.0, 4.0]})
    with pytest.raises(InvalidArgument, match=r"column 'l0' is not numeric: row 2 has 'x'"):
        resolve_rate_distortion(frame)
    frame["l0"] = ["1", "2", "", "4"]
    rate, dist, rs, ds = resolve_rate_distortion(frame)
    assert (rs, ds) == ("l0", "mse")
    assert np.isnan(rate[2]) and np.isnan(dist[1])


@pytest.mark.parametrize("name, arch", [
    ("BatchTopK", "batchtopk"), ("GatedSAE", "gated"), ("JumpRelu", "jumprelu"),
    ("MatryoshkaBatchTopK", "matryoshka_batchtopk"), ("PAnneal", "panneal"), ("Standard", "standard"),
    ("TopK", "topk"), ("AutoEncoderTopK", "topk"), ("StandardTrainerAprilUpdate", "standard"),
    ("gemma-2-2b_sweep_topk_ctx128_ef8_0824", "topk"), ("matryoshka", "matryoshka_batchtopk"),
    ("weird", None), ("", None),
])
def test_canonical_architecture(name, arch):
    assert canonical_architecture(name) == arch


def test_parquet_table(tmp_path):
    raw = pd.read_csv(CSV_4K)
    raw.to_parquet(tmp_path / "t.parquet")
    a, b = read_saebench(tmp_path / "t.parquet"), read_saebench(CSV_4K)
    pd.testing.assert_frame_equal(a.frame, b.frame)
