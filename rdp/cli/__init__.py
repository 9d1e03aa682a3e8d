"""The ``rdp`` console script.

The CLI is thin: each subcommand parses options into the library's dataclasses, calls one library
function and prints or writes the result. Subcommands are contributed by each package through a
``register(app)`` function. Exit codes (DESIGN §5.2): 0 done; 2 invalid input or usage (one line on
stderr, nothing written); 3 infeasible budgets; 4 limit reached without proof.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click
import typer

try:  # typer ≥ 0.24 vendors its own copy of click
    from typer import _click as _typer_click  # type: ignore[attr-defined]

    _USAGE_ERRORS: tuple[type[BaseException], ...] = (
        click.exceptions.UsageError,
        _typer_click.exceptions.UsageError,
    )
    _ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)
except ImportError:  # pragma: no cover - older typer uses click itself
    _USAGE_ERRORS = (click.exceptions.UsageError,)
    _ABORTS = (click.exceptions.Abort,)

from rdp.cli.exit_codes import ExitCode
from rdp_exact.errors import InvalidArgument

app = typer.Typer(
    name="rdp",
    help="Exact rate–distortion–polysemanticity trade-offs for sparse autoencoders.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _register_all() -> None:
    """Attach every subcommand (imports stay light: heavy libraries load inside commands)."""
    from rdp.cli import audit, dgp, falsify, reproduce, solve, sweep, train

    solve.register(app)
    train.register(app)
    audit.register(app)
    falsify.register(app)
    sweep.register(app)
    reproduce.register(app)
    dgp.register(app)


_register_all()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the app and map errors to one stderr line and an exit code."""
    logging.basicConfig(level=logging.WARNING, format="rdp: %(levelname)s: %(message)s")
    from rdp.cli.repeats import check_repeated_options
    from rdp_exact.io_utils import sigterm_as_interrupt

    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        with sigterm_as_interrupt():  # SIGTERM/SIGHUP clean up like Ctrl-C (docs/reliability.md)
            command = typer.main.get_command(app)
            check_repeated_options(command, args)  # `--k 1 --k 2` would silently keep the last
            rc = command(args=args, standalone_mode=False, prog_name="rdp")
    except InvalidArgument as exc:
        print(f"rdp: error: {exc}", file=sys.stderr)
        return ExitCode.INVALID
    except _USAGE_ERRORS as exc:
        msg = exc.format_message().replace("\n", " ")  # type: ignore[attr-defined]
        print(f"rdp: error: {msg}", file=sys.stderr)
        return ExitCode.INVALID
    except _ABORTS:
        print("rdp: aborted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        print("rdp: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except SystemError as exc:
        # a signal's KeyboardInterrupt raised while a compiled (numba) kernel returns reaches us wrapped, at
        # times twice (the dispatcher's and its unpickler's SystemError)
        cause: BaseException | None = exc
        for _ in range(8):
            cause = cause.__cause__ or cause.__context__ if cause is not None else None
            if isinstance(cause, KeyboardInterrupt):
                print("rdp: interrupted", file=sys.stderr)
                return ExitCode.INTERRUPTED
        raise
    if rc == ExitCode.INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130) inside a command
        print("rdp: interrupted", file=sys.stderr)
    return int(rc or 0)


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
