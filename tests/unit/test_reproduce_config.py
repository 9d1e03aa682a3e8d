"""The figure configs of ``rdp reproduce`` hold their training as one ``TrainConfig``: flat options land in it,
no training option is declared on the figure config too, and the config serialises to readable JSON."""

from __future__ import annotations

import dataclasses
import json

import pytest

from rdp.reproduce import TARGETS
from rdp.reproduce.fig3 import Fig3Config
from rdp.reproduce.fig4 import Fig4Config
from rdp_exact.errors import InvalidArgument
from rdp_exact.generators import builtin
from sae_train.train import TrainConfig

TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def test_no_training_field_is_declared_on_a_figure_config() -> None:
    assert not {f.name for f in dataclasses.fields(Fig3Config)} & TRAIN_FIELDS
    # fig4's width is the width of its exact problems as well; the trained SAEs take it from there
    assert {f.name for f in dataclasses.fields(Fig4Config)} & TRAIN_FIELDS == {"width"}


def test_fig3_flat_options_land_in_the_train_config() -> None:
    cfg = Fig3Config.make(steps=7, lr=0.05, seeds=2, batch_size=8, log_every=3, device="cpu", zero_bias=False, k=2)
    t = cfg.train
    assert (t.steps, t.lr, t.seeds, t.batch_size, t.log_every, t.device, t.zero_bias) == (
        7, (0.05,), (0, 1), 8, 3, "cpu", False)
    assert (t.arch, t.init, t.k, cfg.k) == ("topk", "mono", (2,), 2)
    assert t.width == builtin("cooccur3").n  # width None means n of the pmf
    assert Fig3Config.make(width=2).train.width == 2
    assert Fig3Config() == Fig3Config.make()


def test_fig4_train_follows_the_figure_width_and_steps_zero_means_no_training() -> None:
    cfg = Fig4Config.make(n=6, seeds=2, lr=0.02, steps=9)
    assert cfg.train is not None
    assert (cfg.train.width, cfg.train.k, cfg.train.seeds, cfg.train.lr, cfg.train.steps) == (
        6, (1, 2, 3, 4, 5, 6), (0, 1), (0.02,), 9)
    assert Fig4Config(width=2).train is not None and Fig4Config(width=2).train.k == (1, 2)  # type: ignore[union-attr]
    none = Fig4Config.make(steps=0)
    assert none.train is None and none.zero_bias


@pytest.mark.parametrize(
    ("cls", "options", "needle"),
    [
        (Fig3Config, {"seeds": 0}, "--seeds"),
        (Fig3Config, {"seeds": 65}, "--seeds"),
        (Fig3Config, {"lr": 0.0}, "--lr"),
        (Fig3Config, {"k": 0}, "--k"),
        (Fig3Config, {"steps": 0}, "steps"),
        (Fig3Config, {"no_such": 1}, "no_such"),
        (Fig4Config, {"seeds": True}, "--seeds"),
        (Fig4Config, {"solver": "nope"}, "--solver"),
        (Fig4Config, {"masses": (0.0, 0.9)}, "mass"),
    ],
)
def test_bad_options_name_the_option(cls: type, options: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidArgument, match=needle) as info:
        cls.make(**options)  # type: ignore[attr-defined]
    assert "\n" not in str(info.value)


def test_a_figure_config_refuses_a_train_config_it_cannot_draw() -> None:
    relu = TrainConfig(arch="relu", width=3, steps=5)
    with pytest.raises(InvalidArgument, match="TopK"):
        Fig3Config(train=relu)
    with pytest.raises(InvalidArgument, match="TopK"):
        Fig4Config(train=relu)
    with pytest.raises(InvalidArgument, match="one cap"):
        Fig3Config(train=TrainConfig(arch="topk", width=3, steps=5, k=(1, 2), init="mono"))


@pytest.mark.parametrize("cfg", [Fig3Config.quick(), Fig4Config.quick()])
def test_config_json_round_trips_with_a_train_block(cfg: object) -> None:
    d = json.loads(json.dumps(dataclasses.asdict(cfg)))  # type: ignore[call-overload]
    assert d["train"]["arch"] == "topk" and isinstance(d["train"]["seeds"], list)
    assert d["train"]["steps"] in (150, 60)


def test_all_includes_every_figure() -> None:
    assert TARGETS == ("fig2", "fig3", "fig4", "table2")
