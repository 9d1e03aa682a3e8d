"""Refuse a single-valued option given twice (``rdp solve --k 1 --k 2``): click would silently keep the last.

Options declared ``multiple`` (``rdp train --k 1 --k 2``) and counters are exempt; repeated values inside a
multiple option are checked by the library configs (:func:`rdp_exact.validate.check_distinct`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rdp_exact.errors import InvalidArgument


def _resolve(command: Any, args: list[str]) -> tuple[Any, list[str]]:
    """The (sub)command ``args`` selects, and the tokens that belong to it."""
    path: list[str] = []
    while hasattr(command, "commands"):
        idx = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
        if idx is None or args[idx] not in command.commands:
            break
        path.append(args[idx])
        command = command.commands[args[idx]]
        args = args[idx + 1 :]
    return command, args


def check_repeated_options(click_command: Any, argv: Sequence[str]) -> None:
    """Raise InvalidArgument when an option that takes one value (or a flag) appears twice in ``argv``."""
    command, args = _resolve(click_command, list(argv))
    by_opt: dict[str, Any] = {}
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") != "option" or param.multiple or getattr(param, "count", False):
            continue
        for opt in (*param.opts, *param.secondary_opts):
            by_opt[opt] = param
    seen: dict[str, str] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        i += 1
        if tok == "--":
            break
        if not tok.startswith("-") or tok == "-":
            continue
        name = tok.split("=", 1)[0] if tok.startswith("--") else tok
        param = by_opt.get(name)
        if param is None:
            continue
        if not param.is_flag and "=" not in tok:
            i += 1  # the option's value, even if it starts with '-'
        if param.name in seen:
            first = seen[param.name]
            if first.split("=", 1)[0] == name:
                raise InvalidArgument(f"option {name} is given twice; give it once")
            raise InvalidArgument(f"options {first} and {tok} set the same thing; give one of them")
        seen[param.name] = tok
