"""Every command option that sets a library config field agrees with the dataclass that declares it.

The CLI is thin (STYLE §3): ``rdp solve`` builds a :class:`~rdp_exact.problem.Problem`, ``rdp frontier`` a
:class:`~rdp_exact.frontier.FrontierConfig`, ``rdp audit optimum`` an :class:`~audit.optimum.OptimumAuditConfig`,
``rdp audit proxies`` a :class:`~audit.proxy_audit.ProxyAuditConfig` and ``rdp train`` a
:class:`~sae_train.train.TrainConfig`. Each field is either exposed as an option with the field's default, or
listed below as not exposed, with the reason; a field added to a config without either fails here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import typer.main

from rdp.cli import app
from rdp.cli.options import field_default, field_docs


def _command(path: str) -> Any:
    cmd = typer.main.get_command(app)
    for part in path.split():
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    return cmd


def _options(path: str) -> dict[str, Any]:
    return {p.name: p for p in _command(path).params if p.param_type_name == "option"}


def _configs() -> list[tuple[str, type, dict[str, str], set[str]]]:
    """(command, dataclass, fields not exposed → why, fields whose CLI value is parsed from text)."""
    from audit.optimum import OptimumAuditConfig
    from audit.proxy_audit import ProxyAuditConfig
    from rdp_exact.frontier import FrontierConfig
    from rdp_exact.problem import Problem
    from sae_train.train import TrainConfig

    return [
        ("solve", Problem, {"pmf": "the PMF argument"}, set()),
        ("frontier", FrontierConfig, {"pmf": "the PMF argument", "per_k": "always on from the CLI",
                                        "reuse": "warm reuse between budgets is always on from the CLI"},
         {"poly_levels"}),
        ("audit optimum", OptimumAuditConfig, {"max_atom_figures": "a library knob for figure-heavy audits"},
         set()),
        ("audit proxies", ProxyAuditConfig, {"proxies": "given as repeated --proxy COL[:orientation]"}, set()),
        ("train", TrainConfig, {
            "sparsity": "given as --l1 (one flag for both sparsity penalties)",
            "exact_normalize": "set by --init exact",
            "project_decoder_grad": "architecture detail kept at its paper default",
            "bandwidth": "JumpReLU detail kept at its paper default",
            "threshold_init": "JumpReLU detail kept at its paper default",
            "threshold_beta": "BatchTopK detail kept at its paper default",
            "betas": "Adam detail kept at its default",
            "eps": "Adam detail kept at its default",
            "diverge_factor": "safety net, not a setting",
            "eval_samples": "Monte-Carlo size of the final evaluation",
        }, {"k", "seeds", "lr"}),
    ]


CONFIGS = _configs()


@pytest.mark.parametrize(("path", "cls", "hidden", "parsed"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_every_field_is_an_option_or_listed(path: str, cls: type, hidden: dict[str, str], parsed: set[str]) -> None:
    opts = _options(path)
    fields = {f.name for f in dataclasses.fields(cls) if f.init}  # init=False fields are derived, not settings
    assert set(hidden) <= fields, f"listed fields that {cls.__name__} no longer has: {set(hidden) - fields}"
    missing = sorted(fields - set(hidden) - set(opts))
    assert missing == [], f"{cls.__name__} fields with no `rdp {path}` option: {missing}"


@pytest.mark.parametrize(("path", "cls", "hidden", "parsed"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_option_defaults_are_the_field_defaults(path: str, cls: type, hidden: dict[str, str],
                                                parsed: set[str]) -> None:
    opts = _options(path)
    for f in dataclasses.fields(cls):
        if f.name in hidden or f.name in parsed or f.name not in opts:
            continue
        want = field_default(cls, f.name)
        got = opts[f.name].default
        if want is not ...:  # a required field may get a CLI default (e.g. `rdp train --steps 2000`)
            assert got == want, f"`rdp {path}` --{f.name} defaults to {got!r}, {cls.__name__} to {want!r}"


def test_solve_help_is_the_problem_docstring() -> None:
    from rdp_exact.problem import Problem

    docs = field_docs(Problem)
    opts = _options("solve")
    for name, doc in docs.items():
        if name in opts:
            assert opts[name].help == doc


def test_field_docs_reads_the_docstring_under_each_field() -> None:
    @dataclasses.dataclass(frozen=True)
    class Cfg:
        a: int = 1
        """The a ``knob``.

        More detail that is not help text."""
        b: str = "x"
        c: float = 0.5
        """C."""

    assert field_docs(Cfg) == {"a": "The a knob.", "c": "C."}
    assert field_default(Cfg, "b") == "x"
