"""Trained SAEs against the exact binary-atom optimum D*_k (sae_train.compare)."""

from __future__ import annotations

import itertools

import pytest

from rdp_exact.generators import builtin
from rdp_exact.pmf import ConceptPMF
from rdp_exact.sae import CombinatorialSAE
from sae_train.compare import Comparison, compare_to_optimum, main
from sae_train.data import DGP
from sae_train.io import Run, load_run, save_run
from sae_train.train import TrainConfig, train


def d_star_by_enumeration(pmf: ConceptPMF, m: int, k: int) -> float:
    """Ground truth: every multiset of m atoms (0 = dead) with its optimal code."""
    atoms = range(1 << pmf.n)
    return min(
        CombinatorialSAE.best_response(pmf, list(c), k).evaluate(pmf).distortion
        for c in itertools.combinations_with_replacement(atoms, m)
    )


def test_cooccur3_optimum_is_the_hedged_code() -> None:
    # ({0,1},{2}) with k = 1 misses {0},{1} (one concept each) and one concept of {0,2},{1,2},{0,1,2}
    assert d_star_by_enumeration(builtin("cooccur3"), 2, 1) == pytest.approx(0.15 + 0.10 + 0.04 + 0.03 + 0.03)


def test_counts_within_and_below(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dgp = DGP.make(builtin("cooccur3"), seed=0)
    res = train(dgp, TrainConfig(arch="topk", width=2, k=(1,), steps=60, seeds=(0, 1, 2, 3), device="cpu"))
    save_run(tmp_path / "run", dgp, res)
    run = load_run(tmp_path / "run")
    ds = [r["distortion"] for r in run.rows]
    # put D* in the middle of the trained values so that both outcomes occur
    d_star = sorted(ds)[1]
    (c,) = compare_to_optimum(run, d_star={(2, 1): d_star}, tol=0.05)
    assert isinstance(c, Comparison) and (c.width, c.k, c.n) == (2, 1, 4)
    assert c.n_within == sum(d <= 1.05 * d_star + 1e-9 for d in ds)
    assert c.n_below == sum(d < d_star - 1e-9 for d in ds) == 1
    assert c.fraction_within == c.n_within / 4
    assert "BELOW D*_k" in c.summary()
    (c0,) = compare_to_optimum(run, d_star={(2, 1): 10.0})
    assert c0.n_within == 4 and c0.n_below == 4


def test_diverged_saes_count_as_not_within(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dgp = DGP.make(builtin("cooccur3"), seed=0)
    res = train(dgp, TrainConfig(arch="topk", width=2, k=(1,), steps=10, lr=(1e-2, 1e30), device="cpu"))
    save_run(tmp_path / "run", dgp, res)
    run = load_run(tmp_path / "run")
    if not run.rows[1]["diverged"]:  # TopK with unit-norm decoder may survive a huge lr; force the flag
        rows = list(run.rows)
        rows[1] = dict(rows[1], diverged=True)
        run = Run(run.folder, run.dgp, tuple(rows))
    (c,) = compare_to_optimum(run, d_star={(2, 1): 100.0})
    assert c.n_diverged == 1 and c.n_within == 1


def test_script_on_existing_runs(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    dgp = DGP.make(builtin("cooccur3"), seed=0)
    res = train(dgp, TrainConfig(arch="topk", width=2, k=(1,), steps=5, device="cpu"))
    save_run(tmp_path / "run", dgp, res)
    assert main(["--runs", str(tmp_path / "nope")]) == 2
    assert "error" in capsys.readouterr().err


def test_script_solves_d_star_with_brute_force(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    pmf = builtin("cooccur3")
    dgp = DGP.make(pmf, seed=0)
    res = train(dgp, TrainConfig(arch="topk", width=2, k=(1,), steps=20, seeds=(0, 1), device="cpu"))
    save_run(tmp_path / "run", dgp, res)
    (c,) = compare_to_optimum(tmp_path / "run", solver="brute")
    assert c.exact and c.d_star == pytest.approx(d_star_by_enumeration(pmf, 2, 1), abs=1e-12)
    assert main(["--runs", str(tmp_path / "run"), "--json", str(tmp_path / "c.json")]) == 0
    assert "D*_k = 0.35" in capsys.readouterr().out
    assert (tmp_path / "c.json").is_file()
