"""Run the claims registry outside pytest (``rdp falsify``, DESIGN §2, §8).

For every selected claim the runner searches its strategy for a counterexample with Hypothesis'
``find`` (``max_examples = N``, no example database, a ``random.Random(seed)`` so a run is
reproducible), and, with ``mutants=True``, does the same for each of the claim's deliberately false
mutants (the coarse one and the near misses). A
claim is *falsified* when a counterexample is found (an unexpected exception counts: it is shrunk and
reported like a violation); a mutant is *refuted* when one is found. Falsifying examples come back
SHRUNK; each is written as a pmf file that ``rdp solve`` accepts, beside the full instance and the
exact ``rdp solve`` commands that replay it.

Claims run in parallel worker processes (``jobs``); progress goes to stderr through :mod:`rich`.
Outputs (written atomically into ``out`` only when the run completes):

* ``report.json`` — ``{"claims": [{"id", "statement", "scope", "examples", "seconds", "verdict",
  "counterexample", "replay", "mutant", "mutants": [{"name", "verdict", "examples", ...}], ...}],
  "settings": {...}, "seconds", "ok", "outcome", "message"}``;
* ``report.md`` — the same as tables plus each counterexample;
* ``counterexamples/<id>.json`` (pmf) and ``counterexamples/<id>.instance.json`` (query, extras,
  message, replay commands); ``<id>.mutant.<name>.json`` / ``.instance.json`` for refuted mutants;
* ``.hypothesis/`` — Hypothesis' storage (never the current directory).

The outcome separates a *falsified claim* (exit 1) from a *mutant that survived this budget* (exit 3:
the claims stand, but the search was too short to show the checks' teeth).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue as queue_mod
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from rdp_exact.errors import InvalidArgument
from rdp_exact.validate import check_choice, check_count, check_int, check_optional_finite

log = logging.getLogger(__name__)

#: Default examples per claim for each profile (DESIGN §8: ``ci`` for the suite, ``deep`` for a campaign).
PROFILES: dict[str, int] = {"ci": 60, "deep": 10_000}


def profile_claim_seconds(profile: str, claims: tuple[str, ...]) -> dict[str, float]:
    """The longer per-claim limits of ``profile`` (only ``deep`` has them: :attr:`Claim.deep_seconds`)."""
    from proofs_check.claims import get as get_claim

    if profile != "deep":
        return {}
    return {c: float(s) for c in claims if (s := get_claim(c).deep_seconds) is not None}


#: Default wall-clock budget per claim search, in seconds, for each profile (None: no limit). ``deep``
#: is sized so that every claim on two workers finishes within an hour: a claim whose examples are slow
#: (C-AG, C-D3 run many exact solves per example) stops at this limit and the report says how many
#: examples it reached; a claim that needs longer for its 10,000 examples declares its own limit
#: (:func:`profile_claim_seconds`) and is started first.
TIME_BUDGETS: dict[str, float | None] = {"ci": None, "deep": 600.0}

#: Verdicts of a whole run and the exit codes the CLI maps them to.
ALL_GOOD, CLAIM_FALSIFIED, MUTANT_SURVIVED = "all good", "claim falsified", "mutant survived"


@dataclass(frozen=True)
class FalsifyConfig:
    """Options of one ``rdp falsify`` run."""

    claims: tuple[str, ...]
    """Claim ids to run (registry order)."""
    examples: int
    """Examples per claim (and per mutant), ≥ 1."""
    seed: int = 0
    """Seed of the search; the same seed and examples reproduce a run."""
    profile: str = "deep"
    """``ci`` or ``deep``: sets the default number of examples and of seconds per search."""
    seconds: float | None = None
    """Wall-clock limit of each search (claim or mutant), None for none; a search stopped by it
    reports how many examples it reached."""
    mutants: bool = False
    """Also run every claim's mutant (it must be refuted)."""
    all_classes: bool = False
    """Run every claim in every (encoder, mode) class, not only where it applies (shows the known
    counterexamples of falsifier.md)."""
    jobs: int = 1
    """Worker processes."""
    claim_seconds: dict[str, float] = field(default_factory=dict)
    """Per-claim time limits that replace ``seconds`` for those claims (the ``deep`` profile's longer limits
    for claims with costly examples, :attr:`Claim.deep_seconds`)."""

    def limit(self, claim_id: str) -> float | None:
        """The time limit of each search of ``claim_id``."""
        return self.claim_seconds.get(claim_id, self.seconds)

    def __post_init__(self) -> None:
        from proofs_check.claims import CLAIM_IDS

        if not self.claims:
            raise InvalidArgument("no claim selected")
        for c in self.claims:
            check_choice("claim id", c, CLAIM_IDS)
        check_int("--examples", self.examples, min=1)
        check_choice("--profile", self.profile, PROFILES)
        check_count("--jobs", self.jobs)
        check_optional_finite("--seconds", self.seconds, positive=True)
        for c, v in self.claim_seconds.items():
            check_choice("claim id", c, self.claims)
            check_optional_finite(f"time limit of {c}", v, positive=True)


@dataclass
class SearchOutcome:
    """Result of one counterexample search."""

    found: bool
    examples: int
    """Examples evaluated before the first counterexample (all of them when none was found)."""
    seconds: float
    timed_out: bool = False
    """The search stopped at its time limit before its example budget."""
    instance: Any = None
    """The shrunk counterexample (a :class:`~proofs_check.strategies.Instance`)."""
    message: str | None = None
    note: str | None = None


class _OutOfTime(Exception):
    """Raised inside a search when its time limit has passed."""


def search(
    check: Callable[[Any], None],
    strategy: Any,
    *,
    examples: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    shrink: bool = True,
    crash_is_counterexample: bool = True,
    time_limit: float | None = None,
) -> SearchOutcome:
    """Look for an instance on which ``check`` raises; shrink it (unless ``shrink`` is False).

    ``examples`` counts instances that meet the check's hypothesis (``assume``). An exception other
    than :class:`ClaimViolation` is a counterexample when ``crash_is_counterexample`` (claims: a crash
    is a failure), otherwise it is ignored and noted (mutants: a crash does not refute them).
    ``time_limit`` (seconds) stops a search that has found nothing yet; the outcome then says how
    many examples it reached. Deterministic for a given seed (and no time limit)."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import (
        HypothesisDeprecationWarning,
        NoSuchExample,
        Unsatisfiable,
        UnsatisfiedAssumption,
    )

    from proofs_check.claims import ClaimViolation

    state: dict[str, Any] = {"n": 0, "found": False, "crash": None, "timed_out": False}
    deadline = None if time_limit is None else time.perf_counter() + time_limit

    def condition(inst: Any) -> bool:
        if deadline is not None and not state["found"] and time.perf_counter() > deadline:
            state["timed_out"] = True
            raise _OutOfTime  # Hypothesis may re-raise it wrapped (FlakyFailure): see the handler below
        try:
            check(inst)
        except ClaimViolation:
            verdict = True
        except UnsatisfiedAssumption:
            raise  # outside the claim's hypothesis: not an example
        except Exception as exc:  # a crash: a counterexample for a claim (shrunk the same way)
            if not crash_is_counterexample:
                state["crash"] = f"{type(exc).__name__}: {exc}"
                verdict = False
            else:
                verdict = True
        else:
            verdict = False
        if not state["found"]:
            state["n"] += 1
            if progress is not None:
                progress(state["n"])
        state["found"] = state["found"] or verdict
        return verdict

    s = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink) if shrink else (Phase.generate,),
    )
    t0 = time.perf_counter()
    try:
        inst = find(strategy, condition, settings=s, random=Random(seed))
    except NoSuchExample:
        note = None if state["crash"] is None else f"crashed (ignored) on some instance: {state['crash']}"
        return SearchOutcome(False, state["n"], time.perf_counter() - t0, note=note)
    except Unsatisfiable:
        return SearchOutcome(False, state["n"], time.perf_counter() - t0, note="too few instances met the claim's hypothesis")
    except Exception:
        if not state["timed_out"]:
            raise
        return SearchOutcome(False, state["n"], time.perf_counter() - t0, timed_out=True,
                             note=f"time limit of {time_limit:g} s reached after {state['n']} examples")
    seconds = time.perf_counter() - t0
    try:
        with warnings.catch_warnings():  # checks may call assume(), which warns outside a test
            warnings.simplefilter("ignore", HypothesisDeprecationWarning)
            check(inst)
        message = "the shrunk instance no longer fails (flaky check)"
    except ClaimViolation as exc:
        message = str(exc)
    except Exception as exc:
        message = f"crash: {type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-4:])
    return SearchOutcome(True, state["n"], seconds, instance=inst, message=message)


# ---------------------------------------------------------------------- one claim (runs in a worker)
@dataclass
class MutantResult:
    """One mutant's search."""

    name: str
    statement: str
    near_miss: bool
    verdict: str
    """``refuted`` | ``survived`` (at this budget)."""
    examples: int
    """Examples the search needed to refute the mutant (its whole budget when it survived)."""
    seconds: float
    message: str | None = None
    instance: dict[str, Any] | None = None
    note: str | None = None


@dataclass
class ClaimResult:
    """One row of the report."""

    id: str
    title: str
    statement: str
    applies_to: list[list[str]]
    examples: int
    seconds: float
    verdict: str
    """``survived`` | ``falsified``."""
    scope: str = ""
    counterexample: str | None = None
    replay: str | None = None
    message: str | None = None
    note: str | None = None
    instance: dict[str, Any] | None = None
    replay_commands: list[str] = field(default_factory=list)
    mutant: str | None = None
    """``refuted`` (every mutant) | ``survived`` (at least one, at this budget) | None (not run)."""
    mutants: list[MutantResult] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


_QUEUE: Any = None


def _init_worker(q: Any) -> None:
    global _QUEUE
    _QUEUE = q
    logging.getLogger("hypothesis").setLevel(logging.ERROR)


def _report(kind: str, claim_id: str, n: int) -> None:
    if _QUEUE is not None:
        _QUEUE.put((kind, claim_id, n))


def run_claim(claim_id: str, examples: int, seed: int, mutants: bool, all_classes: bool, out: str,
              seconds: float | None = None) -> ClaimResult:
    """Search one claim (and its mutants); counterexample paths are relative to ``out``."""
    from proofs_check import claims as registry
    from proofs_check import reference
    from proofs_check.strategies import ALL_CLASSES

    claim = registry.get(claim_id)
    registry.STATS.pop(claim_id, None)
    classes = ALL_CLASSES if all_classes else claim.applies_to
    res = search(claim.check, claim.draws(classes), examples=examples, seed=seed,
                 progress=lambda n: _report("claim", claim_id, n), time_limit=seconds)
    result = ClaimResult(
        id=claim.id, title=claim.title, statement=claim.statement, applies_to=[list(c) for c in classes],
        examples=res.examples, seconds=round(res.seconds, 3), verdict="falsified" if res.found else "survived",
        note=res.note, scope=claim.scope,
    )
    if res.found:
        pmf_rel = f"counterexamples/{claim.id}.json"
        cmds = claim.replay(res.instance, str(Path(out) / pmf_rel))
        result.counterexample = pmf_rel
        result.replay = " ; ".join(c for c in cmds if not c.startswith("#")) or None
        result.replay_commands = cmds
        result.message = res.message
        result.instance = res.instance.to_json_dict()
    result.stats = dict(registry.STATS.get(claim_id, {}))
    reference.clear_cache()
    if mutants:
        for done, m in enumerate(claim.mutants):
            mres = search(m.check, m.strategy(), examples=examples, seed=seed,
                          progress=lambda n, base=done * examples: _report("mutant", claim_id, base + n),
                          crash_is_counterexample=False, time_limit=seconds)
            result.mutants.append(MutantResult(
                name=m.name, statement=m.statement, near_miss=m.near_miss,
                verdict="refuted" if mres.found else "survived", examples=mres.examples,
                seconds=round(mres.seconds, 3), message=mres.message if mres.found else None,
                instance=mres.instance.to_json_dict() if mres.found else None, note=mres.note,
            ))
            reference.clear_cache()
        result.mutant = "refuted" if all(m.verdict == "refuted" for m in result.mutants) else "survived"
    _report("done", claim_id, 0)
    return result


# ---------------------------------------------------------------------- the whole run
@dataclass
class FalsifyReport:
    """What ``rdp falsify`` writes (report.json)."""

    claims: list[ClaimResult]
    settings: dict[str, Any]
    seconds: float

    @property
    def falsified(self) -> list[str]:
        """Ids of the claims a counterexample was found for."""
        return [c.id for c in self.claims if c.verdict == "falsified"]

    @property
    def surviving_mutants(self) -> list[str]:
        """``<claim id>/<mutant name>`` of every mutant not refuted at this budget."""
        return [f"{c.id}/{m.name}" for c in self.claims for m in c.mutants if m.verdict != "refuted"]

    @property
    def outcome(self) -> str:
        """:data:`CLAIM_FALSIFIED` if any claim was falsified, else :data:`MUTANT_SURVIVED` if any
        mutant survived, else :data:`ALL_GOOD`."""
        if self.falsified:
            return CLAIM_FALSIFIED
        if self.surviving_mutants:
            return MUTANT_SURVIVED
        return ALL_GOOD

    @property
    def ok(self) -> bool:
        """Every claim survived and, when mutants ran, every mutant was refuted."""
        return self.outcome == ALL_GOOD

    def stopping_message(self) -> str:
        """One line that tells a falsified claim apart from a mutant that merely survived this budget."""
        if self.falsified:
            return f"claim falsified: {', '.join(self.falsified)} (counterexamples in the report)"
        if self.surviving_mutants:
            n = self.settings.get("examples")
            return (f"no claim falsified, but mutant survived at this budget ({n} examples): "
                    f"{', '.join(self.surviving_mutants)}: raise --examples")
        mut = " and every mutant was refuted" if any(c.mutants for c in self.claims) else ""
        return f"all claims survived{mut}"

    def to_json_dict(self) -> dict[str, Any]:
        return {"claims": [asdict(c) for c in self.claims], "settings": self.settings, "seconds": round(self.seconds, 3),
                "ok": self.ok, "outcome": self.outcome, "message": self.stopping_message()}


def run(config: FalsifyConfig, out: str | os.PathLike[str], *, console: Any = None) -> FalsifyReport:
    """Run the selected claims and write the report into ``out`` (checked first, written atomically).

    Hypothesis' storage folder (it writes caches there) is ``<out>/.hypothesis``, never the current
    directory; it lands in ``out`` with the report."""
    from hypothesis.configuration import set_hypothesis_home_dir

    from rdp_exact.io_utils import staged_dir

    t0 = time.perf_counter()
    with staged_dir(out) as tmp:
        set_hypothesis_home_dir(tmp / ".hypothesis")
        try:
            results = _run_all(config, str(out), console)
        finally:
            set_hypothesis_home_dir(None)
        report = FalsifyReport(
            claims=results,
            settings={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
            seconds=time.perf_counter() - t0,
        )
        _write_into(report, tmp)
    return report


def _run_all(config: FalsifyConfig, out: str, console: Any) -> list[ClaimResult]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from proofs_check.claims import get as get_claim

    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    q = ctx.Queue()
    per = config.examples
    with Progress(
        TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:
        tasks = {}
        for cid in config.claims:
            tasks[("claim", cid)] = progress.add_task(cid, total=per, status="", start=False)
            if config.mutants:
                nm = len(get_claim(cid).mutants)
                tasks[("mutant", cid)] = progress.add_task(f"{cid} mutants ({nm})", total=per * nm, status="",
                                                           start=False)
        results: dict[str, ClaimResult] = {}
        futures: dict[Future[ClaimResult], str] = {}

        def drain() -> None:
            while True:
                try:
                    kind, cid, n = q.get_nowait()
                except queue_mod.Empty:
                    return
                if kind == "done":
                    continue
                tid = tasks[(kind, cid)]
                progress.start_task(tid)
                progress.update(tid, completed=min(n, progress.tasks[tid].total or n))

        def finish(cid: str, r: ClaimResult) -> None:
            results[cid] = r
            t = tasks[("claim", cid)]
            progress.update(t, completed=per, status="[red]FALSIFIED" if r.verdict == "falsified" else "[green]survived")
            if config.mutants:
                mt = tasks[("mutant", cid)]
                progress.update(mt, completed=progress.tasks[mt].total,
                                status="[green]refuted" if r.mutant == "refuted" else "[yellow]survived this budget")

        if config.jobs == 1:
            _init_worker(q)
            for cid in config.claims:
                r = run_claim(cid, per, config.seed, config.mutants, config.all_classes, out, config.limit(cid))
                drain()
                finish(cid, r)
            _init_worker(None)
        else:
            with ProcessPoolExecutor(max_workers=config.jobs, mp_context=ctx, initializer=_init_worker, initargs=(q,)) as ex:
                longest_first = sorted(config.claims, key=lambda c: -(config.limit(c) or float("inf")))
                for cid in longest_first:
                    futures[ex.submit(run_claim, cid, per, config.seed, config.mutants, config.all_classes, out,
                                     config.limit(cid))] = cid
                pending = set(futures)
                while pending:
                    drain()
                    done = {f for f in pending if f.done()}
                    for f in done:
                        finish(futures[f], f.result())
                    pending -= done
                    time.sleep(0.1)
                drain()
    return [results[c] for c in config.claims]


# ---------------------------------------------------------------------- writing
def write_report(report: FalsifyReport, out: Path) -> None:
    """report.json, report.md and the counterexample files, moved into ``out`` in one step."""
    from rdp_exact.io_utils import staged_dir

    with staged_dir(out) as tmp:
        _write_into(report, tmp)


def _write_into(report: FalsifyReport, folder: Path) -> None:
    from rdp_exact.io_utils import atomic_write_json, atomic_write_text

    cdir = folder / "counterexamples"
    for c in report.claims:
        files = [("", c.instance, c.message, c.replay_commands)]
        files += [(f".mutant.{m.name}", m.instance, m.message, []) for m in c.mutants]
        for suffix, inst, msg, cmds in files:
            if inst is None:
                continue
            cdir.mkdir(exist_ok=True)
            atomic_write_json(cdir / f"{c.id}{suffix}.json", inst["pmf"])
            atomic_write_json(cdir / f"{c.id}{suffix}.instance.json",
                              {"claim": c.id, "mutant": suffix[len(".mutant."):] or None, "message": msg,
                               "replay": cmds, "instance": inst})
    atomic_write_json(folder / "report.json", report.to_json_dict())
    atomic_write_text(folder / "report.md", render_markdown(report))


def _cell(v: Any) -> str:
    return "—" if v is None else str(v)


def render_markdown(report: FalsifyReport) -> str:
    """The Markdown report: settings, one table row per claim, the mutants, then each counterexample."""
    s = report.settings
    longer = "".join(f", {c} {v:g} s" for c, v in (s.get("claim_seconds") or {}).items())
    limit = "" if s.get("seconds") is None else f", at most {s['seconds']:g} s per search{longer}"
    lines = [
        "# rdp falsify report",
        "",
        f"Examples per claim: {s['examples']}{limit}, seed {s['seed']}, profile {s['profile']}, mutants "
        f"{'on' if s['mutants'] else 'off'}, classes {'all' if s['all_classes'] else 'where each claim applies'}, "
        f"{s['jobs']} job(s); total {report.seconds:.1f} s.",
        "",
        f"Outcome: **{report.outcome}** — {report.stopping_message()}.",
        "",
        "| claim | title | examples | seconds | verdict | mutants refuted |",
        "|---|---|---:|---:|---|---|",
    ]
    for c in report.claims:
        mut = "—" if not c.mutants else f"{sum(m.verdict == 'refuted' for m in c.mutants)}/{len(c.mutants)}"
        lines.append(f"| {c.id} | {c.title} | {c.examples} | {c.seconds:.1f} | {c.verdict} | {mut} |")
    if any(c.mutants for c in report.claims):
        lines += ["", "## Mutants", "", "Examples = how many the search needed to refute the mutant (the budget "
                  "actually needed), or its whole budget when it survived.", "",
                  "| claim | mutant | near miss | verdict | examples | seconds | statement |", "|---|---|---|---|---:|---:|---|"]
        for c in report.claims:
            for m in c.mutants:
                lines.append(f"| {c.id} | {m.name} | {'yes' if m.near_miss else 'no'} | {m.verdict} | {m.examples} | "
                             f"{m.seconds:.1f} | {m.statement} |")
    for c in report.claims:
        if c.verdict == "falsified":
            lines += ["", f"## {c.id} falsified", "", f"Statement: {c.statement}", "", "```", c.message or "", "```", "",
                      f"Counterexample pmf: `{c.counterexample}` (full instance: `counterexamples/{c.id}.instance.json`).", ""]
            lines += ["Replay:", "", "```", *c.replay_commands, "```"]
        for m in c.mutants:
            if m.verdict == "survived":
                lines += ["", f"## {c.id}: mutant '{m.name}' survived at this budget", "",
                          f"Mutant: {m.statement}. Not refuted in {m.examples} examples; this is not a counterexample "
                          "to the claim. Raise --examples (or --seconds); if it still survives, the check may be "
                          "toothless."]
        if c.stats:
            lines += ["", f"## {c.id} statistics", ""] + [f"- {k}: {v}" for k, v in sorted(c.stats.items())]
        notes = [x for x in [c.note, *(f"mutant '{m.name}': {m.note}" for m in c.mutants if m.note)] if x]
        if notes:
            lines += ["", f"Note on {c.id}: {'; '.join(notes)}"]
    return "\n".join(lines) + "\n"


def parse_claims(spec: str | None) -> tuple[str, ...]:
    """``"C-T3,C-P2"`` → ids (registry order kept for None)."""
    from proofs_check.claims import CLAIM_IDS

    if spec is None or spec.strip() == "":
        return CLAIM_IDS
    ids = tuple(x.strip().upper() for x in spec.split(",") if x.strip())
    for c in ids:
        check_choice("claim id", c, CLAIM_IDS)
    return ids


def default_jobs() -> int:
    """min(2, CPUs)."""
    return max(1, min(2, os.cpu_count() or 1))


def summary_lines(report: FalsifyReport) -> Sequence[str]:
    """One line per claim for the terminal."""
    out = []
    for c in report.claims:
        m = "" if not c.mutants else (f", mutants {sum(x.verdict == 'refuted' for x in c.mutants)}/{len(c.mutants)} "
                                      f"refuted (needed {max(x.examples for x in c.mutants)} ex)")
        out.append(f"{c.id:<5} {c.verdict:<9} {c.examples:>6} ex {c.seconds:7.1f} s{m}")
    return out
