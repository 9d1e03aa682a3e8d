"""Every ``rdp …`` command in README.md's code blocks is valid, and the cheap ones run as written.

For each command line found in a fenced code block of README.md (continuation lines joined, comments dropped):

(a) every file or folder it reads exists in the repository, or is written by an earlier README command, and
    no path points outside the repository;
(b) the subcommand exists and accepts every option and argument: the line is parsed by the CLI's own click
    command (``make_context``: unknown options, missing required options and bad values are usage errors),
    without running it;
(c) the cheap ones (``pmf``, ``solve``, ``theory``, a small ``frontier``) run through ``rdp.cli.main`` from the
    repository root with every output redirected into ``tmp_path``, exit 0 and write the outputs they name.

It also checks that the README stays a door (about 300 lines) with one example of every command.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import typer

from rdp.cli import app, main

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MAX_README_LINES = 300

OUTPUT_OPTIONS = {"--out", "--json", "--plot", "--write", "--export"}
"""Options whose value is a path the command writes (never read, so it need not exist)."""

PATH_SUFFIXES = (".json", ".csv", ".tsv", ".toml", ".parquet", ".pq", ".safetensors")

CHEAP = {"pmf", "solve", "theory", "frontier"}
"""Subcommands cheap enough to run here (a frontier only on a small grid, see ``_cheap``)."""


@dataclass(frozen=True)
class Example:
    """One ``rdp`` command line of the README."""

    line: int
    """1-based line of README.md where the command starts."""
    argv: tuple[str, ...]
    """Arguments after ``rdp``."""

    def __str__(self) -> str:
        return f"README.md:{self.line}: rdp {shlex.join(self.argv)}"


def readme_examples(text: str) -> list[Example]:
    """The ``rdp`` commands of every fenced code block, in order, with continuation lines joined."""
    out: list[Example] = []
    in_block = False
    pending: list[str] = []
    start = 0
    for no, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("```"):
            in_block = not in_block
            pending = []
            continue
        if not in_block:
            continue
        if not pending:
            start = no
        pending.append(raw.rstrip())
        if raw.rstrip().endswith("\\"):
            pending[-1] = pending[-1][:-1]
            continue
        line = " ".join(part.strip() for part in pending)
        pending = []
        line = line.removeprefix("$ ").strip()
        for prefix in (".venv/bin/rdp ", "rdp "):
            if line.startswith(prefix):
                out.append(Example(start, tuple(shlex.split(line[len(prefix):], comments=True))))
                break
    return out


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))
ROOT_COMMAND = typer.main.get_command(app)


def resolve(argv: tuple[str, ...]) -> tuple[list[str], object, list[str]]:
    """(command path, leaf click command, the leaf's own arguments) of an argument vector."""
    cmd: object = ROOT_COMMAND
    path: list[str] = []
    rest = list(argv)
    while hasattr(cmd, "commands") and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = cmd.commands.get(name)  # type: ignore[attr-defined]
        assert sub is not None, f"unknown subcommand {' '.join([*path, name])!r}"
        cmd, path = sub, [*path, name]
    assert not hasattr(cmd, "commands"), f"'rdp {' '.join(path)}' needs a subcommand"
    return path, cmd, rest


def split_args(leaf: object, rest: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The (option, value) pairs and the positional arguments of a leaf command's arguments."""
    takes_value: dict[str, bool] = {}
    for p in leaf.params:  # type: ignore[attr-defined]
        if getattr(p, "param_type_name", "") != "option":
            continue
        for o in (*p.opts, *p.secondary_opts):
            takes_value[o] = not (p.is_flag or p.count)
    options: list[tuple[str, str | None]] = []
    positional: list[str] = []
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok.startswith("-") and len(tok) > 1:
            name, eq, val = tok.partition("=")
            assert name in takes_value, f"option {name} is not accepted (known: {sorted(takes_value)})"
            if takes_value[name] and not eq:
                assert i + 1 < len(rest), f"option {name} needs a value"
                val, i = rest[i + 1], i + 1
            options.append((name, val if takes_value[name] else None))
        else:
            positional.append(tok)
        i += 1
    return options, positional


def looks_like_path(token: str) -> bool:
    """A token names a file or folder when it has a slash or a data-file suffix (generator specs have neither)."""
    return "/" in token or token.lower().endswith(PATH_SUFFIXES)


def outputs_of(ex: Example) -> list[str]:
    """The paths an example writes (values of its output options)."""
    _, leaf, rest = resolve(ex.argv)
    options, _ = split_args(leaf, rest)
    return [v for o, v in options if o in OUTPUT_OPTIONS and v is not None]


def test_readme_has_examples_of_every_command() -> None:
    assert EXAMPLES, "no rdp command found in README.md's code blocks"
    used = {ex.argv[0] for ex in EXAMPLES if ex.argv}
    missing = set(ROOT_COMMAND.commands) - used  # type: ignore[attr-defined]
    assert not missing, f"README.md has no example of: {sorted(missing)}"
    audits = {ex.argv[1] for ex in EXAMPLES if len(ex.argv) > 1 and ex.argv[0] == "audit"}
    assert audits >= set(ROOT_COMMAND.commands["audit"].commands)  # type: ignore[attr-defined]


def test_readme_is_a_door() -> None:
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_README_LINES, f"README.md has {n} lines; move reference material to docs/"


@pytest.mark.parametrize("ex", EXAMPLES, ids=lambda ex: f"L{ex.line}")
def test_readme_command_parses(ex: Example) -> None:
    """(b) The subcommand exists and its click command accepts the whole line (without running it)."""
    path, leaf, rest = resolve(ex.argv)
    split_args(leaf, rest)  # every option known, by name, with a value where one is needed
    if "--help" in rest or "-h" in rest:
        return
    try:
        leaf.make_context(f"rdp {' '.join(path)}", list(rest))  # type: ignore[attr-defined]
    except Exception as exc:  # click's UsageError / BadParameter, from typer's vendored click
        pytest.fail(f"{ex}: {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("ex", EXAMPLES, ids=lambda ex: f"L{ex.line}")
def test_readme_paths_exist(ex: Example) -> None:
    """(a) Every path the command reads is in the repository, or written by an earlier README command."""
    earlier = [PurePosixPath(p) for e in EXAMPLES if e.line < ex.line for p in outputs_of(e)]
    _, leaf, rest = resolve(ex.argv)
    options, positional = split_args(leaf, rest)
    tokens = positional + [v for o, v in options if v is not None and o not in OUTPUT_OPTIONS]
    for tok in filter(looks_like_path, tokens):
        p = PurePosixPath(tok)
        assert not p.is_absolute() and ".." not in p.parts, f"{ex}: {tok} points outside the repository"
        assert p.parts[0] != "shared", f"{ex}: {tok} is not in a clone; use the vendored data/ or examples/"
        made = any(p == o or o in p.parents for o in earlier)
        assert made or (REPO / p).exists(), f"{ex}: {tok} does not exist in the repository"
    for o, v in options:
        if o in OUTPUT_OPTIONS and v is not None:
            assert not PurePosixPath(v).is_absolute(), f"{ex}: write outputs relative to the repository root"


def _cheap(ex: Example) -> bool:
    if not ex.argv or ex.argv[0] not in CHEAP or "--help" in ex.argv:
        return False
    if ex.argv[0] == "frontier":
        m = re.search(r"--grid[ =](\d+)", " ".join(ex.argv))
        return m is not None and int(m.group(1)) <= 4
    return True


CHEAP_EXAMPLES = [ex for ex in EXAMPLES if _cheap(ex)]


@pytest.mark.parametrize("ex", CHEAP_EXAMPLES, ids=lambda ex: f"L{ex.line}")
def test_readme_cheap_command_runs(ex: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """(c) The cheap commands run as written from the repository root; their outputs go to tmp_path."""
    monkeypatch.chdir(REPO)
    argv = list(ex.argv)
    written: list[Path] = []
    for i, tok in enumerate(argv[:-1]):
        name = tok.partition("=")[0]
        if name in OUTPUT_OPTIONS and "=" not in tok:
            target = tmp_path / argv[i + 1]
            target.parent.mkdir(parents=True, exist_ok=True)
            argv[i + 1] = str(target)
            written.append(target)
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 0, f"{ex}: exit {rc}\n{err}"
    assert out.strip(), f"{ex}: printed nothing"
    for target in written:
        assert target.exists(), f"{ex}: did not write {target.name}"
    if ex.argv[0] == "solve":
        assert out.lstrip().startswith("OPTIMAL"), f"{ex}: the README example is not solved to optimality"


def test_parser_catches_a_bad_line() -> None:
    """The checks above have teeth: a misspelt option, a missing required option and a missing file fail."""
    bad = Example(0, ("solve", "cooccur3", "--width", "2", "--k", "1", "--max-polly", "0"))
    with pytest.raises(AssertionError, match="--max-polly"):
        test_readme_command_parses(bad)
    missing = Example(0, ("solve", "cooccur3", "--width", "2"))
    with pytest.raises(pytest.fail.Exception):
        test_readme_command_parses(missing)
    with pytest.raises(AssertionError, match="does not exist"):
        test_readme_paths_exist(Example(0, ("solve", "examples/no-such.json", "--width", "2", "--k", "1")))
    with pytest.raises(AssertionError, match="not in a clone"):
        test_readme_paths_exist(Example(0, ("audit", "proxies", "shared/data/x.csv", "--out", "o")))
    parsed = readme_examples("```bash\nrdp solve a.json \\\n    --width 2 --k 1  # comment\n```\nrdp pmf x\n")
    assert parsed == [Example(2, ("solve", "a.json", "--width", "2", "--k", "1"))]
