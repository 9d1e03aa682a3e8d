"""External SAEs from the CLI (issue 12 item 3): ``rdp dgp make/sample`` and ``rdp audit optimum SAE_DIR...
--dgp``, on a TopK SAE that real SAELens trained on rdp's DGP outside ``rdp train``
(tests/fixtures/saelens/trained_topk, made by make_fixtures.py)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from rdp.cli import main

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "saelens"
TRAINED = FIX / "trained_topk"
FAST = ["--solver", "brute", "--rate-points", "0", "--no-figures", "--quiet"]


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_saelens_trained_sae_audited_end_to_end(tmp_path, capsys):
    expected = json.loads((TRAINED / "expected.json").read_text())
    out = tmp_path / "audit"
    rc, stdout, err = run(capsys, "audit", "optimum", TRAINED / "sae", "--dgp", TRAINED / "dgp", "--out", out, *FAST)
    assert rc == 0, err
    rows = _rows(out / "audit.csv")
    assert len(rows) == 1 and rows[0]["sae_dir"] == "sae"
    r = rows[0]
    # R and D are SAELens's own (computed by SAELens at fixture time on the same support points)
    assert float(r["rate"]) == pytest.approx(expected["rate"], abs=1e-9)
    assert float(r["distortion"]) == pytest.approx(expected["distortion"], abs=1e-9)
    assert float(r["l0"]) == float(r["rate"])
    assert float(r["mse"]) == pytest.approx(float(r["distortion"]) / 3)
    assert r["k"] == "1" and r["k_audit"] == "1" and r["arch"] == "topk"


def test_dgp_given_as_pmf_is_the_same_dgp(tmp_path, capsys):
    """--dgp PMF --dgp-seed S is DGP.make(pmf, d_in, S): the fixture's DGP was made with seed 4."""
    meta = json.loads((TRAINED / "dgp" / "dgp.json").read_text())
    pmf = tmp_path / "pmf.json"
    pmf.write_text(json.dumps(meta["pmf"]))
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(capsys, "audit", "optimum", TRAINED / "sae", "--dgp", TRAINED / "dgp", "--out", a, *FAST)[0] == 0
    assert run(capsys, "audit", "optimum", TRAINED / "sae", "--dgp", pmf, "--dgp-seed", meta["seed"], "--out", b,
               *FAST)[0] == 0
    ra, rb = _rows(a / "audit.csv")[0], _rows(b / "audit.csv")[0]
    assert float(ra["distortion"]) == pytest.approx(float(rb["distortion"]), abs=1e-12)
    # another seed is another V: the SAE no longer fits it
    c = tmp_path / "c"
    assert run(capsys, "audit", "optimum", TRAINED / "sae", "--dgp", pmf, "--dgp-seed", "99", "--out", c, *FAST)[0] == 0
    assert float(_rows(c / "audit.csv")[0]["distortion"]) > float(ra["distortion"]) + 0.01


def test_any_folder_names_and_a_parent_folder(tmp_path, capsys):
    lab = tmp_path / "lab"
    shutil.copytree(TRAINED / "dgp", lab)
    shutil.copytree(TRAINED / "sae", lab / "layer0" / "my SAE, v2")
    shutil.copytree(TRAINED / "sae", lab / "other-name")
    out = tmp_path / "audit"
    rc, _, err = run(capsys, "audit", "optimum", lab, "--out", out, *FAST)  # dgp.json found above the SAEs
    assert rc == 0, err
    assert sorted(r["sae_dir"] for r in _rows(out / "audit.csv")) == ["layer0/my SAE, v2", "other-name"]
    out2 = tmp_path / "audit2"
    rc, _, err = run(capsys, "audit", "optimum", lab / "other-name", lab / "layer0", "--out", out2, *FAST)
    assert rc == 0, err
    assert len(_rows(out2 / "audit.csv")) == 2


def test_unsupported_saelens_sae_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "audit"
    rc, stdout, err = run(capsys, "audit", "optimum", FIX / "refused" / "gated", "--dgp", FIX / "dgp", "--out", out,
                          *FAST)
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("rdp: error:") and "architecture" in err and "gated" in err
    assert not out.exists()


def test_no_dgp_anywhere_is_a_clear_error(tmp_path, capsys):
    shutil.copytree(TRAINED / "sae", tmp_path / "s")
    rc, _, err = run(capsys, "audit", "optimum", tmp_path / "s", "--out", tmp_path / "o", *FAST)
    assert rc == 2 and "--dgp" in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("suffix", [".safetensors", ".npy"])
def test_dgp_make_and_sample(tmp_path, capsys, suffix):
    d = tmp_path / "dgp"
    rc, _, err = run(capsys, "dgp", "make", "cooccur3", "--out", d, "--d", "5", "--seed", "3")
    assert rc == 0, err
    from sae_train.data import DGP

    dgp = DGP.load(d)
    assert (dgp.n, dgp.d, dgp.seed) == (3, 5, 3)
    f = tmp_path / f"acts{suffix}"
    rc, _, err = run(capsys, "dgp", "sample", d, "--n", "500", "--out", f, "--seed", "1")
    assert rc == 0, err
    if suffix == ".safetensors":
        t = load_file(str(f))
        x, c, e = t["activations"], t["concepts"], t["events"]
    else:
        x, c, e = np.load(f), np.load(f.with_suffix(".concepts.npy")), np.load(f.with_suffix(".events.npy"))
    assert x.shape == (500, 5) and c.shape == (500, 3) and e.shape == (500,)
    # labels are the truth: x = Σ_{i ∈ S} v_i, and the labels are the event's indicator
    np.testing.assert_allclose(x, c.astype(np.float64) @ dgp.V, atol=1e-6)
    np.testing.assert_array_equal(c, np.asarray(dgp.pmf.indicator)[e])
    # every event of the pmf shows up with about its probability
    freq = np.bincount(e, minlength=dgp.pmf.support_size) / 500
    assert np.abs(freq - np.asarray(dgp.pmf.probs)).max() < 0.08


@pytest.mark.parametrize(
    "argv",
    [
        ["dgp", "sample", "{dgp}", "--n", "10", "--out", "{tmp}/x.txt"],
        ["dgp", "sample", "{dgp}", "--n", "0", "--out", "{tmp}/x.npy"],
        ["dgp", "sample", "{tmp}/nope", "--n", "10", "--out", "{tmp}/x.npy"],
        ["dgp", "make", "cooccur3", "--out", "{dgp}"],
        ["dgp", "make", "cooccur3", "--out", "{tmp}/new", "--d", "0"],
        ["dgp", "make", "cooccur3", "--out", "{tmp}/new", "--seed", "-1"],
    ],
)
def test_dgp_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, argv):
    dgp = tmp_path / "dgp"
    shutil.copytree(TRAINED / "dgp", dgp)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    rc, _, err = run(capsys, *[a.format(dgp=dgp, tmp=tmp_path) for a in argv])
    assert rc == 2 and err.startswith("rdp: error:") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
