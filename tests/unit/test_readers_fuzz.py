"""Every file reader on random input: it either succeeds or raises InvalidArgument with a one-line message.

Readers covered: pmf JSON and CSV, an SAE folder's cfg.json and sae_weights.safetensors, a DGP's dgp.json
and dgp.safetensors, SAEBench JSON and CSV, and the sweep TOML. Each is fed random bytes, random JSON
(any shape) and JSON built from the reader's own vocabulary (so the search reaches the field checks, not
only the parser). Any other exception (a traceback at the CLI) fails the test. The CLI maps
InvalidArgument to one line on stderr and exit code 2 (tests/integration/test_faults.py checks that part).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdp_exact.errors import InvalidArgument

# ---------------------------------------------------------------------- strategies
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
any_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=20,
)


def vocab_json(keys: list[str], values: st.SearchStrategy[Any] = any_json) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose keys come mostly from a reader's vocabulary."""
    return st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=6)), values, max_size=len(keys) + 2)


small_values = st.one_of(
    _scalars,
    st.integers(min_value=-3, max_value=8),
    st.lists(st.integers(min_value=-2, max_value=6), max_size=4),
    st.sampled_from(["topk", "standard", "jumprelu", "relu", "float32", "float64", "none", "layer_norm"]),
)
pmf_events = st.lists(
    st.one_of(
        st.fixed_dictionaries({"concepts": st.lists(st.integers(-1, 4), max_size=4), "p": st.floats(-0.5, 1.5)}),
        any_json,
    ),
    max_size=5,
)
pmf_json = st.one_of(
    any_json,
    st.fixed_dictionaries(
        {"n": st.one_of(st.integers(-1, 6), any_json), "events": pmf_events},
        optional={"concept_names": st.one_of(st.lists(st.one_of(st.text(max_size=3), _scalars), max_size=4), any_json)},
    ),
)
raw_bytes = st.binary(max_size=300)
csv_text = st.lists(
    st.lists(st.one_of(st.text(max_size=5), st.sampled_from(["0", "1+2", "0.5", "1e400", "nan", "-1", ""])), max_size=3),
    max_size=5,
).map(lambda rows: "concepts,p\n" + "\n".join(",".join(r) for r in rows))


# ---------------------------------------------------------------------- harness
@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="rdp-fuzz-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _clean_or_one_line(fn: Callable[[], Any]) -> None:
    """Run ``fn``: success, or InvalidArgument whose message is one non-empty line; anything else fails."""
    try:
        fn()
    except InvalidArgument as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
        assert len(msg) < 2000, msg[:200]


def _fresh(workdir: Path, name: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=name, dir=workdir))
    return d


def _as_bytes(x: Any) -> bytes:
    if isinstance(x, bytes):
        return x
    return json.dumps(x, allow_nan=True).encode()


# ---------------------------------------------------------------------- pmf
@given(data=st.one_of(raw_bytes, pmf_json))
def test_pmf_json_reader(workdir: Path, data: Any) -> None:
    from rdp_exact.generators import load_pmf

    p = _fresh(workdir, "pmf") / "p.json"
    p.write_bytes(_as_bytes(data))
    _clean_or_one_line(lambda: load_pmf(p))


@given(data=st.one_of(raw_bytes, csv_text.map(str.encode)))
def test_pmf_csv_reader(workdir: Path, data: bytes) -> None:
    from rdp_exact.generators import load_pmf

    p = _fresh(workdir, "pmf") / "p.csv"
    p.write_bytes(data)
    _clean_or_one_line(lambda: load_pmf(p))


# ---------------------------------------------------------------------- SAE folders and the DGP
@pytest.fixture(scope="module")
def run_dir(workdir: Path) -> Path:
    from rdp_exact.generators import builtin
    from sae_train.data import DGP
    from sae_train.io import save_run
    from sae_train.train import TrainConfig, train

    dgp = DGP.make(builtin("cooccur3"), 3, seed=0)
    res = train(dgp, TrainConfig(arch="topk", width=2, k=(1,), steps=1, device="cpu", batch_size=8))
    out = workdir / "run"
    save_run(out, dgp, res)
    return out


CFG_KEYS = [
    "architecture", "d_in", "d_sae", "k", "dtype", "apply_b_dec_to_input", "normalize_activations",
    "rescale_acts_by_decoder_norm", "reshape_activations", "finetuning_scaling_factor", "rdp", "device",
]


def _sae_copy(run_dir: Path, workdir: Path) -> Path:
    d = _fresh(workdir, "sae")
    shutil.copytree(run_dir / "sae_000", d / "sae", dirs_exist_ok=True)
    return d / "sae"


@given(cfg=st.one_of(raw_bytes, any_json, vocab_json(CFG_KEYS, small_values)))
def test_sae_cfg_json_reader(run_dir: Path, workdir: Path, cfg: Any) -> None:
    from sae_train.io import load_sae

    folder = _sae_copy(run_dir, workdir)
    (folder / "cfg.json").write_bytes(_as_bytes(cfg))
    _clean_or_one_line(lambda: load_sae(folder))


@given(data=st.one_of(raw_bytes, st.integers(0, 400)))
def test_sae_safetensors_reader(run_dir: Path, workdir: Path, data: Any) -> None:
    from sae_train.io import load_sae

    folder = _sae_copy(run_dir, workdir)
    wp = folder / "sae_weights.safetensors"
    if isinstance(data, int):  # a truncated copy of the real file
        wp.write_bytes(wp.read_bytes()[:data])
    else:
        wp.write_bytes(data)
    _clean_or_one_line(lambda: load_sae(folder))


DGP_KEYS = ["pmf", "magnitudes", "noise_std", "seed", "n", "d", "version"]


@given(meta=st.one_of(raw_bytes, any_json, vocab_json(DGP_KEYS, st.one_of(small_values, pmf_json))),
       weights=st.one_of(st.none(), raw_bytes))
def test_dgp_reader(run_dir: Path, workdir: Path, meta: Any, weights: bytes | None) -> None:
    from sae_train.data import DGP

    d = _fresh(workdir, "dgp")
    for name in ("dgp.json", "dgp.safetensors"):
        shutil.copy(run_dir / name, d / name)
    (d / "dgp.json").write_bytes(_as_bytes(meta))
    if weights is not None:
        (d / "dgp.safetensors").write_bytes(weights)
    _clean_or_one_line(lambda: DGP.load(d))


# ---------------------------------------------------------------------- SAEBench
BENCH_KEYS = [
    "eval_type_id", "eval_config", "eval_id", "datetime_epoch_millis", "eval_result_metrics", "sae_bench_commit_hash",
    "sae_lens_id", "sae_lens_release_id", "sae_lens_version", "sae_cfg_dict", "eval_result_details",
]


@given(data=st.one_of(raw_bytes, any_json, vocab_json(BENCH_KEYS)))
def test_saebench_json_reader(workdir: Path, data: Any) -> None:
    from audit.saebench import read_saebench

    p = _fresh(workdir, "bench") / "result.json"
    p.write_bytes(_as_bytes(data))
    _clean_or_one_line(lambda: read_saebench(p))


bench_csv = st.lists(
    st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["sae_id", "architecture", "l0", "mse", "1.5", "nan", ""])),
             min_size=1, max_size=4),
    max_size=5,
).map(lambda rows: "\n".join(",".join(r) for r in rows).encode())


@given(data=st.one_of(raw_bytes, bench_csv))
def test_saebench_csv_reader(workdir: Path, data: bytes) -> None:
    from audit.saebench import read_saebench

    p = _fresh(workdir, "bench") / "table.csv"
    p.write_bytes(data)
    _clean_or_one_line(lambda: read_saebench(p))


# ---------------------------------------------------------------------- sweep TOML
toml_value = st.one_of(
    st.integers(-2, 5).map(str),
    st.sampled_from(['"cooccur3"', '"nope"', '"{seed}"', '"{width.nope}"', '"{"', "[]", "[1, 1]", "true", "1.5",
                     '"none"', "[[1], [2]]", "nan", '"topk"']),
)
toml_table = st.lists(
    st.tuples(st.sampled_from(["pmf", "width", "k", "seed", "seeds", "minimize", "solver", "arch", "steps", "grid",
                               "time_limit", "nope"]), toml_value),
    max_size=6,
).map(lambda kv: "\n".join(f"{k} = {v}" for k, v in dict(kv).items()))
toml_text = st.tuples(st.sampled_from(["[[solve]]", "[[frontier]]", "[[train]]", "[[nope]]", "[solve]", ""]),
                      toml_table).map(lambda t: f"{t[0]}\n{t[1]}\n".encode())


@given(data=st.one_of(raw_bytes, toml_text))
def test_sweep_toml_reader(workdir: Path, data: bytes) -> None:
    from rdp.sweep.sweep import expand_jobs, load_config

    p = _fresh(workdir, "sweep") / "sweep.toml"
    p.write_bytes(data)
    _clean_or_one_line(lambda: expand_jobs(load_config(p)))
