"""``rdp falsify``: Hypothesis falsification of every claim of DESIGN §2 (see :mod:`proofs_check.runner`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def cmd_falsify(
    out: Annotated[Path, typer.Option("--out", help="folder for report.md, report.json and counterexamples/")],
    claims: Annotated[Optional[str], typer.Option("--claims", help="comma-separated claim ids (default: all)")] = None,
    examples: Annotated[Optional[int], typer.Option("--examples", help="examples per claim (default: by profile)")] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the search (same seed, same run)")] = 0,
    profile: Annotated[
        str, typer.Option("--profile", help="ci (60 examples) | deep (10,000 examples, at most 600 s per search; C-CO 1,800 s)")
    ] = "deep",
    seconds: Annotated[
        Optional[float], typer.Option("--seconds", help="time limit per search in seconds (default: by profile)")
    ] = None,
    mutants: Annotated[bool, typer.Option("--mutants", help="also run each claim's false mutant (must be refuted)")] = False,
    all_classes: Annotated[
        bool, typer.Option("--all-classes", help="run every claim in every encoder class and coefficient mode")
    ] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", help="worker processes (default: min(2, CPUs))")] = None,
) -> None:
    """Search for counterexamples to the paper's claims.

    Exit 0 all good, 1 a claim falsified, 3 only mutants survived this budget (raise --examples)."""
    import sys

    from rich.console import Console

    from proofs_check import runner
    from rdp.cli.exit_codes import ExitCode
    from rdp_exact.errors import InvalidArgument
    from rdp_exact.io_utils import check_writable_dir

    if profile not in runner.PROFILES:
        raise InvalidArgument(f"--profile must be one of {', '.join(runner.PROFILES)}, got {profile!r}")
    chosen = runner.parse_claims(claims)
    config = runner.FalsifyConfig(
        claims=chosen,
        examples=runner.PROFILES[profile] if examples is None else examples,
        seed=seed,
        profile=profile,
        seconds=runner.TIME_BUDGETS[profile] if seconds is None else seconds,
        mutants=mutants,
        all_classes=all_classes,
        jobs=runner.default_jobs() if jobs is None else jobs,
        claim_seconds=runner.profile_claim_seconds(profile, chosen) if seconds is None else {},
    )
    check_writable_dir(out)
    err = Console(stderr=True)
    report = runner.run(config, out, console=err)
    for line in runner.summary_lines(report):
        print(line)
    print(f"report: {out / 'report.md'}")
    print(report.stopping_message())
    sys.stdout.flush()
    code = {runner.ALL_GOOD: ExitCode.OK, runner.CLAIM_FALSIFIED: ExitCode.CLAIM_FALSIFIED,
            runner.MUTANT_SURVIVED: ExitCode.MUTANT_SURVIVED}[report.outcome]
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def register(app: typer.Typer) -> None:
    """Attach ``rdp falsify`` to the `rdp` app."""
    app.command("falsify")(cmd_falsify)
