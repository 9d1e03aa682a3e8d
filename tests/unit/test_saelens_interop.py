"""rdp ↔ SAELens, against fixtures made by real SAELens 6.54.12 (tests/fixtures/saelens/make_fixtures.py).

SAELens → rdp: every architecture × flag setting loads exactly (encode, reconstruction, R and D equal to
SAELens's to 1e-9) or is refused with InvalidArgument naming the field. rdp → SAELens: the cfg.json rdp
writes today is what SAELens 6.x read (without its legacy converter) at fixture time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rdp_exact.errors import InvalidArgument
from sae_train.data import DGP
from sae_train.evaluate import evaluate_exact
from sae_train.io import load_sae, saelens_cfg
from sae_train.models import ARCHITECTURES, build_model
from sae_train.saelens import NORMALIZATIONS, is_v6

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "saelens"
MANIFEST = json.loads((FIX / "manifest.json").read_text())
TOL = 1e-9


@pytest.fixture(scope="module")
def dgp() -> DGP:
    return DGP.load(FIX / "dgp")


@pytest.fixture(scope="module")
def x_rand() -> torch.Tensor:
    return load_file(str(FIX / "inputs.safetensors"))["x_rand"]


def _check_against_saelens(folder: Path, dgp: DGP, x_rand: torch.Tensor) -> None:
    exp = load_file(str(folder / "expected.safetensors"))
    meta = json.loads((folder / "expected.json").read_text())
    model, _ = load_sae(folder)
    model = model.double().eval()
    X = torch.from_numpy(dgp.support_points())
    with torch.no_grad():
        for x, tag in ((x_rand, "rand"), (X, "support")):
            out = model(x, training=False)
            torch.testing.assert_close(out.latents[0], exp[f"latents_{tag}"], atol=TOL, rtol=0)
            torch.testing.assert_close(out.reconstruction[0], exp[f"recon_{tag}"], atol=TOL, rtol=0)
            torch.testing.assert_close(model.encode(x)[0], exp[f"latents_{tag}"], atol=TOL, rtol=0)
    met = evaluate_exact(model, dgp)[0]
    assert met.rate == pytest.approx(meta["rate"], abs=TOL)
    assert met.distortion == pytest.approx(meta["distortion"], abs=TOL)


def test_fixtures_cover_every_architecture_and_flag() -> None:
    names = MANIFEST["saes"]
    for arch in ("standard", "topk", "jumprelu", "batchtopk"):
        assert any(n.startswith(arch + "__") for n in names), arch
    for norm in NORMALIZATIONS:
        assert sum(n.endswith("__" + norm) for n in names) >= 6, norm
    assert any("__b0" in n for n in names) and any("__rescale1" in n for n in names)
    assert MANIFEST["sae_lens_version"].startswith("6.")


@pytest.mark.parametrize("name", MANIFEST["saes"])
def test_saelens_sae_loads_exactly(name: str, dgp: DGP, x_rand: torch.Tensor) -> None:
    _check_against_saelens(FIX / "saes" / name, dgp, x_rand)


def test_flags_matter(dgp: DGP) -> None:
    """The fixtures would catch a loader that ignored the flags: the flag settings give different D."""
    cfg = json.loads((FIX / "saes" / "standard__b1__none" / "cfg.json").read_text())
    assert cfg["apply_b_dec_to_input"] is True
    # the same weights read with the flag flipped give another reconstruction
    model, _ = load_sae(FIX / "saes" / "standard__b1__none")
    exp = load_file(str(FIX / "saes" / "standard__b1__none" / "expected.safetensors"))
    model.apply_b_dec_to_input = False
    X = torch.from_numpy(dgp.support_points())
    with torch.no_grad():
        assert not torch.allclose(model.double()(X).reconstruction[0], exp["recon_support"], atol=1e-6)


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("standard__b1__layer_norm", "normalize_activations", "none"),
        ("jumprelu__b0__constant_norm_rescale", "normalize_activations", "none"),
        ("topk__b1__rescale1__none", "rescale_acts_by_decoder_norm", False),
        ("jumprelu__b1__none", "apply_b_dec_to_input", False),
        ("topk__b0__rescale0__none", "apply_b_dec_to_input", True),
    ],
)
def test_a_loader_ignoring_the_flag_would_fail(tmp_path: Path, dgp: DGP, name: str, field: str, value: object) -> None:
    """Each flag changes what SAELens computes on the fixtures: reading it wrongly misses by far more than 1e-9."""
    folder = _copy(tmp_path, name)
    cfg = json.loads((folder / "cfg.json").read_text())
    assert cfg[field] != value
    cfg[field] = value
    (folder / "cfg.json").write_text(json.dumps(cfg))
    exp = load_file(str(FIX / "saes" / name / "expected.safetensors"))
    model, _ = load_sae(folder)
    with torch.no_grad():
        out = model.double()(torch.from_numpy(dgp.support_points()), training=False)
    err = (out.reconstruction[0] - exp["recon_support"]).abs().max().item()
    assert err > 1e-4


@pytest.mark.parametrize("name", MANIFEST["refused"])
def test_unsupported_saelens_architectures_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match="architecture"):
        load_sae(FIX / "refused" / name)


def _copy(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copytree(FIX / "saes" / name, dst)
    return dst


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("normalize_activations", "batch_norm"),
        ("normalize_activations", True),
        ("apply_b_dec_to_input", "yes"),
        ("rescale_acts_by_decoder_norm", 1),
        ("reshape_activations", "hook_q"),
        ("k", 1.7),
        ("k", 0),
        ("k", 99),
        ("d_in", 7),
        ("d_sae", "8"),
        ("architecture", "matching_pursuit"),
        ("finetuning_scaling_factor", True),
    ],
)
def test_bad_flag_values_are_refused_naming_the_field(tmp_path: Path, field: str, value: object) -> None:
    folder = _copy(tmp_path, "topk__b1__rescale0__none")
    cfg = json.loads((folder / "cfg.json").read_text())
    cfg[field] = value
    (folder / "cfg.json").write_text(json.dumps(cfg))
    with pytest.raises(InvalidArgument, match=field):
        load_sae(folder)


@pytest.mark.parametrize("arch", MANIFEST["rdp_written"])
def test_rdp_written_folder_matches_saelens(arch: str, dgp: DGP, x_rand: torch.Tensor) -> None:
    """SAELens 6.x read rdp's folder without its legacy converter and computed what rdp computes."""
    _check_against_saelens(FIX / "rdp_written" / arch, dgp, x_rand)


@pytest.mark.parametrize("arch", MANIFEST["rdp_written"])
def test_rdp_writer_still_writes_what_saelens_read(arch: str) -> None:
    read = json.loads((FIX / "rdp_written" / arch / "saelens_read.json").read_text())
    cls = ARCHITECTURES[arch]
    model = build_model(arch, 1, read["d_in"], read["d_sae"], k=[3] if cls.uses_k else None, dtype=torch.float64)
    cfg = saelens_cfg(model, 3 if cls.uses_k else None, "float64", {"arch": arch})
    assert is_v6(cfg)
    assert cfg["metadata"]["sae_lens_version"] == read["metadata.sae_lens_version"]
    for key in ("d_in", "d_sae", "architecture", "apply_b_dec_to_input", "normalize_activations",
                "reshape_activations", "dtype"):
        assert cfg[key] == read[key], key
    if arch == "topk":
        assert cfg["k"] == read["k"] and cfg["rescale_acts_by_decoder_norm"] == read["rescale_acts_by_decoder_norm"]
    assert read["class"] == {"topk": "TopKSAE", "relu": "StandardSAE"}.get(arch, "JumpReLUSAE")
