"""CLI options derived from the library's config dataclasses, so that nothing is declared twice.

A command option that sets a dataclass field takes its help text from the field's docstring (the string
literal under the field, as every config in rdp documents its fields) and its default from the field:
``opt(Problem, "max_rate")`` is the ``--max-rate`` option of ``rdp solve``. Options shared by several commands
(the pmf argument, ``--normalize``) are declared here once. ``tests/unit/test_cli_options.py`` checks every
command against its dataclass: each field is exposed (or listed as internal), with the field's default.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
from typing import Annotated, Any

import typer


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Field name → its docstring (first paragraph, one line) for a dataclass defined in source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    out: dict[str, str] = {}
    for prev, node in zip(body, body[1:], strict=False):
        if (isinstance(prev, ast.AnnAssign) and isinstance(prev.target, ast.Name)
                and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            out[prev.target.id] = " ".join(node.value.value.strip().split("\n\n")[0].split()).replace("``", "")
    return out


def field_default(cls: type, name: str) -> Any:
    """The default of a dataclass field (``...`` when it has none, i.e. the option is required)."""
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return ...


def opt(cls: type, name: str, *param_decls: str, **kwargs: Any) -> Any:
    """A ``typer.Option`` for field ``name`` of ``cls``: help from its docstring (``help=`` overrides)."""
    kwargs.setdefault("help", field_docs(cls)[name])
    return typer.Option(*param_decls, **kwargs)


PmfArg = Annotated[str, typer.Argument(help="pmf file (.json/.csv), generator spec or built-in name", metavar="PMF")]
"""The pmf argument of every command that reads a concept pmf."""

NormalizeOpt = Annotated[
    bool, typer.Option("--normalize/--no-normalize", help="rescale probabilities that do not sum to 1")
]
"""``--normalize``: rescale a pmf whose probabilities do not sum to 1 (DESIGN §5.1)."""
