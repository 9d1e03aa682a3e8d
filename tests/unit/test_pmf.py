"""Concept pmfs: validation rules of DESIGN §5.1, readers/writers, generators, statistics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdp_exact.errors import PMFError
from rdp_exact.generators import BUILTINS, builtin, from_spec, load_pmf
from rdp_exact.pmf import (
    ConceptPMF,
    concepts_of,
    format_event,
    mask_of,
    pmf_from_csv_text,
    pmf_from_json_text,
    read_pmf,
)


def _json(n: int, events: list[tuple[list[int], float]], **extra: object) -> str:
    return json.dumps({"n": n, "events": [{"concepts": c, "p": p} for c, p in events], **extra})


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "invalid JSON at line 1"),
        (json.dumps([1, 2]), "must be an object"),
        (json.dumps({"events": []}), "no 'n'"),
        (_json(0, [([], 1.0)]), "at least 1"),
        (_json(2, [([0, 2], 1.0)]), "event #0: concept 2 is out of range [0, 2)"),
        (_json(2, [([0], 0.5), ([0], 0.5)]), "event #1: event {0} is listed twice"),
        (_json(2, [([0], -0.5), ([1], 1.5)]), "event #0: probability of event {0} is negative"),
        ('{"n": 2, "events": [{"concepts": [0], "p": NaN}, {"concepts": [1], "p": 1}]}', "not finite"),
        (_json(2, [([0], 0.5), ([1], 0.4)]), "sum to 0.9"),
        (_json(2, [([0, 0], 1.0)]), "listed twice in one event"),
        (_json(2, [(["a"], 1.0)]), "is not an integer"),
        (_json(2, [([0], "0.5"), ([1], 0.5)]), "'p' must be a number"),
        (_json(2, []), "lists no events"),
        (_json(2, [([0], 1.0)], concept_names=["a"]), "1 names but n = 2"),
    ],
)
def test_json_validation_errors_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(PMFError) as exc:
        pmf_from_json_text(text)
    assert needle in str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("event,p\n0,1\n", "header line 'concepts,p'"),
        ("concepts,p\n0+x,1\n", "line 2: concept 'x' is not an integer"),
        ("concepts,p\n0,abc\n", "line 2: probability 'abc' is not a number"),
        ("concepts,p\n0,0.5\n0,0.5\n", "line 3: event {0} is listed twice (also at line 2)"),
        ("concepts,p\n0,0.5\n1,0.6\n", "sum to"),
        ("concepts,p\n0,0.5,3\n", "line 2: expected 2 fields"),
        ("concepts,p\n-1,1\n", "negative"),
    ],
)
def test_csv_validation_errors_name_the_line(text: str, needle: str) -> None:
    with pytest.raises(PMFError) as exc:
        pmf_from_csv_text(text)
    assert needle in str(exc.value)


def test_zero_probability_events_are_dropped_and_events_sorted() -> None:
    pmf = pmf_from_json_text(_json(3, [([2], 0.5), ([0, 1], 0.0), ([], 0.5)]))
    assert pmf.events == (0, 0b100)
    assert pmf.probs.tolist() == [0.5, 0.5]


def test_normalize_rescales() -> None:
    pmf = pmf_from_json_text(_json(2, [([0], 2.0), ([1], 6.0)]), normalize=True)
    assert pmf.probs.tolist() == [0.25, 0.75]


def test_probs_are_read_only() -> None:
    pmf = builtin("cooccur3")
    with pytest.raises(ValueError):
        pmf.probs[0] = 1.0


# ---------------------------------------------------------------- statistics
def test_statistics_by_hand() -> None:
    # π({0,1}) = 0.5, π({0}) = 0.25, π({}) = 0.25
    pmf = ConceptPMF.from_events(2, [([0, 1], 0.5), ([0], 0.25), ([], 0.25)])
    np.testing.assert_allclose(pmf.marginals(), [0.75, 0.5])
    np.testing.assert_allclose(pmf.cooccurrence(), [[0.75, 0.5], [0.5, 0.5]])
    cov = 0.5 - 0.75 * 0.5
    expect = cov / math.sqrt(0.75 * 0.25 * 0.5 * 0.5)
    assert pmf.correlation()[0, 1] == pytest.approx(expect)
    assert pmf.expected_sparsity() == pytest.approx(2 * 0.5 + 0.25)


def test_correlation_is_nan_for_a_constant_concept() -> None:
    pmf = ConceptPMF.from_events(2, [([0, 1], 0.5), ([0], 0.5)])
    assert math.isnan(pmf.correlation()[0, 1])


def test_independent_generator_has_zero_correlation() -> None:
    pmf = from_spec("independent:0.2,0.5,0.7")
    assert pmf.support_size == 8
    np.testing.assert_allclose(pmf.marginals(), [0.2, 0.5, 0.7])
    off = pmf.correlation()[~np.eye(3, dtype=bool)]
    np.testing.assert_allclose(off, 0, atol=1e-12)


def test_example1_order_is_bitmask_order() -> None:
    pmf = from_spec("example1:0.1,0.1,0.1,0.3,0.1,0.1,0.1,0.1")
    assert pmf.prob([0, 1]) == pytest.approx(0.3)
    assert pmf.prob(3) == pytest.approx(0.3)


def test_random_generator_is_seeded_and_sized() -> None:
    a = from_spec("random:n=6,support=20,seed=3")
    b = from_spec("random:n=6,support=20,seed=3")
    c = from_spec("random:n=6,support=20,seed=4")
    assert a == b and a != c
    assert a.support_size == 20


def test_pairs_generator_makes_pairs_cooccur() -> None:
    pmf = from_spec("pairs:n=6,pair=0.3,single=0.05,seed=1")
    corr = pmf.correlation()
    # every concept has exactly one strongly correlated partner
    strong = (np.nan_to_num(corr) > 0.5) & ~np.eye(6, dtype=bool)
    assert strong.sum(axis=1).tolist() == [1] * 6
    trunc = from_spec("pairs:n=12,pair=0.3,single=0.05,seed=1,triples=2,support=128")
    assert trunc.support_size == 128 and trunc.n == 12


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("example1:0.5,0.5", "expected 8 probabilities"),
        ("random:n=6,seed=1", "missing support="),
        ("random:n=2,support=9", "support (for n = 2) must be an integer in [1, 4], got 9"),
        ("pairs:n=6,pair=2,single=0.1", "pair must be a finite number in [0, 1], got 2.0"),
        ("random:n=6,support=5,seed=-1", "seed must be an integer ≥ 0, got -1"),
        ("pairs:n=6,pair=0.3,single=0.05,seed=-1", "seed must be an integer ≥ 0, got -1"),
        ("random:n=6,n=7,support=3", "key 'n' is given twice"),
        ("random:n=6,support=5,alpha=nan", "alpha must be a number, got nan"),
        ("independent:0.5,1.5", "must lie in [0, 1]"),
        ("random:n=3,support=2,colour=red", "unknown key 'colour'"),
    ],
)
def test_bad_specs(spec: str, needle: str) -> None:
    with pytest.raises(PMFError) as exc:
        load_pmf(spec)
    assert needle in str(exc.value)


def test_every_builtin_is_valid() -> None:
    for name in BUILTINS:
        pmf = builtin(name)
        assert abs(pmf.probs.sum() - 1) < 1e-9
        assert load_pmf(name) == pmf


def test_missing_file_is_a_pmf_error(tmp_path: Path) -> None:
    with pytest.raises(PMFError, match="does not exist"):
        read_pmf(tmp_path / "nope.json")


# ---------------------------------------------------------------- round trips
@st.composite
def pmfs(draw: st.DrawFn) -> ConceptPMF:
    n = draw(st.integers(1, 5))
    masks = draw(st.lists(st.integers(0, (1 << n) - 1), min_size=1, max_size=12, unique=True))
    weights = draw(st.lists(st.integers(1, 1000), min_size=len(masks), max_size=len(masks)))
    total = sum(weights)
    named = draw(st.booleans())
    names = [f"c{i}" for i in range(n)] if named else None
    return ConceptPMF.from_events(n, [(m, w / total) for m, w in zip(masks, weights, strict=True)],
                                  concept_names=names, normalize=True)


@given(pmfs())
def test_json_round_trip(pmf: ConceptPMF) -> None:
    assert pmf_from_json_text(pmf.to_json()) == pmf


@given(pmfs())
def test_csv_round_trip(pmf: ConceptPMF) -> None:
    back = pmf_from_csv_text(pmf.to_csv(), n=pmf.n)
    assert back.events == pmf.events
    assert np.array_equal(back.probs, pmf.probs)


@given(pmfs())
def test_file_round_trip_and_hash(pmf: ConceptPMF) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for suffix in (".json", ".csv"):
            path = Path(d) / f"p{suffix}"
            pmf.write(path)
            back = read_pmf(path)
            assert back.events == pmf.events and np.array_equal(back.probs, pmf.probs)
            if suffix == ".json":
                assert back.sha256() == pmf.sha256()


@given(st.lists(st.integers(0, 20), unique=True, max_size=8))
def test_mask_round_trip(cs: list[int]) -> None:
    assert concepts_of(mask_of(cs)) == sorted(cs)
    assert format_event(mask_of(cs)) == "{" + ",".join(map(str, sorted(cs))) + "}"
