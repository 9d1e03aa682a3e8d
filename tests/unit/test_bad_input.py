"""Bad input gives one line on stderr and exit code 2, and nothing is clobbered (issue 13).

One test (or parametrised case) per reproduction of the issue: output paths that are not regular files,
permissions under the umask, negative seeds, template syntax in sweep files, damaged results stores,
flags that would be ignored, a BOM, and control characters in concept names.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdp.cli import main
from rdp.cli.exit_codes import ExitCode
from rdp_exact import io_utils
from rdp_exact.errors import InvalidArgument, PMFError
from rdp_exact.validate import check_choice, check_distinct, check_finite, check_int, check_seed, printable


def _one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("rdp: error: ") and err.count("\n") == 1, err
    for n in needles:
        assert n in err, (n, err)
    return err


@pytest.fixture
def umask_027() -> Iterator[int]:
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


# ---------------------------------------------------------------------- validators
def test_validators_accept_good_values_and_name_bad_ones() -> None:
    assert check_int("width", 3, min=1) == 3
    assert check_finite("lr", 1, positive=True) == 1.0
    assert check_seed("seed", 2**63 - 1) == 2**63 - 1
    assert check_choice("solver", "brute", ("brute", "highs")) == "brute"
    assert check_distinct("k", [1, 2]) == (1, 2)
    for call, needle in [
        (lambda: check_int("width", True), "width must be an integer, got True"),
        (lambda: check_int("width", 2.0), "got 2.0"),
        (lambda: check_int("width", 0, min=1), "width must be an integer ≥ 1, got 0"),
        (lambda: check_finite("lr", float("nan")), "lr must be a number, got nan"),
        (lambda: check_finite("lr", float("inf")), "finite"),
        (lambda: check_finite("lr", 0.0, positive=True), "> 0"),
        (lambda: check_finite("lr", "1"), "lr must be a number"),
        (lambda: check_seed("--seed", -1), "--seed must be an integer ≥ 0, got -1"),
        (lambda: check_seed("--seed", 2**63), "below 2**63"),
        (lambda: check_choice("solver", "nope", ("brute",)), "solver must be one of brute, got 'nope'"),
        (lambda: check_choice("solver", [], ("brute",)), "got []"),
        (lambda: check_distinct("k", [1, 1]), "k lists 1 twice"),
    ]:
        with pytest.raises(InvalidArgument) as exc:
            call()
        assert needle in str(exc.value)
    assert printable("a\x1b[31mb\nc") == "a\\x1b[31mb\\nc"
    assert printable("ok é") == "ok é"


# ---------------------------------------------------------------------- item 1: non-regular outputs
def test_symlink_is_written_through_atomically(tmp_path: Path) -> None:
    target = tmp_path / "real" / "t.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    io_utils.atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["t.json"]  # no temporary file left
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "real" / "created.json")
    io_utils.atomic_write_text(dangling, "x")
    assert dangling.is_symlink() and (tmp_path / "real" / "created.json").read_text() == "x"


def test_symlink_loop_and_special_outputs_are_refused(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(InvalidArgument, match="loop"):
        io_utils.atomic_write_text(loop, "x")
    with pytest.raises(InvalidArgument, match="standard output"):
        io_utils.atomic_write_text("-", "x")
    with pytest.raises(InvalidArgument, match="directory"):
        io_utils.atomic_write_text(tmp_path, "x")
    io_utils.atomic_write_text("/dev/null", "x")  # a character device is written, never replaced
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if os.path.exists("/dev/full"):
        with pytest.raises(InvalidArgument, match="No space left"):
            io_utils.atomic_write_text("/dev/full", "x")
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_same_path_for_two_outputs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.svg"
    rc = main(["solve", "cooccur3", "--width", "2", "--k", "1", "--json", str(out), "--plot", str(out)])
    assert rc == ExitCode.INVALID
    _one_line_error(capsys, "--json and --plot name the same file")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "l.svg").symlink_to(out)
    with pytest.raises(InvalidArgument):
        io_utils.check_distinct_outputs(json=tmp_path / "l.svg", plot=tmp_path / "sub" / ".." / "x.svg")


def test_dash_output_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["solve", "cooccur3", "--width", "2", "--k", "1", "--json", "-"])
    assert rc == ExitCode.INVALID
    _one_line_error(capsys, "standard output")


# ---------------------------------------------------------------------- item 2: umask
def test_files_and_folders_honour_the_umask(tmp_path: Path, umask_027: int) -> None:
    f = io_utils.atomic_write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask_027
    os.chmod(f, 0o604)
    io_utils.atomic_write_text(f, "y")  # an existing file keeps its mode, as open() would
    assert stat.S_IMODE(f.stat().st_mode) == 0o604
    with io_utils.staged_dir(tmp_path / "new") as tmp:
        (tmp / "f").write_text("1")
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o777 & ~umask_027
    from rdp.sweep.store import ResultsStore

    store = ResultsStore(tmp_path / "s.sqlite")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o666 & ~umask_027


def test_cli_json_output_is_group_readable(tmp_path: Path, umask_027: int) -> None:
    out = tmp_path / "s.json"
    assert main(["solve", "cooccur3", "--width", "2", "--k", "1", "--json", str(out), "-q"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


# ---------------------------------------------------------------------- item 7: negative seeds
@pytest.mark.parametrize(
    "argv",
    [
        ["pmf", "random:n=6,support=5,seed=-1"],
        ["pmf", "pairs:n=6,pair=0.3,single=0.05,seed=-1"],
        ["train", "cooccur3", "--out", "{out}", "--arch", "topk", "--width", "2", "--k", "1", "--dgp-seed", "-1"],
        ["train", "cooccur3", "--out", "{out}", "--arch", "topk", "--width", "2", "--k", "1", "--data-seed", "-1"],
        ["audit", "groundtruth", "--seed", "-1", "--out", "{out}"],
    ],
    ids=["random", "pairs", "dgp-seed", "data-seed", "groundtruth"],
)
def test_negative_seeds_exit_2(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main([a.replace("{out}", str(out)) for a in argv])
    assert rc == ExitCode.INVALID
    _one_line_error(capsys, "seed", "-1")
    assert not out.exists()


# ---------------------------------------------------------------------- item 9: sweep templates
@pytest.mark.parametrize(
    ("template", "needle"),
    [
        ("{width.nope}", "only a parameter name"),
        ("{width[0]}", "only a parameter name"),
        ("{width!r}", "only a parameter name"),
        ("{width:>4}", "only a parameter name"),
        ("{nope}", "unknown template field {nope}"),
        ("cooccur{", "a lone '{'"),
    ],
)
def test_sweep_templates_allow_names_only(template: str, needle: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(f'[[solve]]\npmf = "{template}"\nwidth = 2\nk = 1\n')
    assert main(["sweep", str(cfg), "--dry-run"]) == ExitCode.INVALID
    _one_line_error(capsys, "[[solve]] #1", needle)


def test_sweep_template_names_and_escaped_braces() -> None:
    from rdp.sweep.sweep import _format_templates

    assert _format_templates("pairs:seed={seed},w={width}", {"seed": 3, "width": 2}) == "pairs:seed=3,w=2"
    assert _format_templates("a{{b}}c", {}) == "a{b}c"
    assert _format_templates(7, {}) == 7


# ---------------------------------------------------------------------- item 11: results store
@pytest.mark.parametrize("content", [b"", b"hello, not a database\n", "sqlite-other"], ids=["empty", "text", "foreign"])
def test_damaged_store_is_an_error_on_resume(content: bytes | str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[[solve]]\npmf = "cooccur3"\nwidth = 2\nk = 1\n')
    out = tmp_path / "out"
    out.mkdir()
    store = out / "rdp.sqlite"
    if content == "sqlite-other":
        con = sqlite3.connect(store)
        con.execute("CREATE TABLE notes (x TEXT)")
        con.commit()
        con.close()
    else:
        store.write_bytes(content)  # type: ignore[arg-type]
    before = store.read_bytes()
    for extra in (["--resume"], []):
        rc = main(["sweep", str(cfg), "--out", str(out), "--no-progress", *extra])
        assert rc == ExitCode.INVALID
        _one_line_error(capsys, "rdp.sqlite", "not a results store")
    assert store.read_bytes() == before and not (out / "jobs").exists()


def test_new_store_appears_whole(tmp_path: Path) -> None:
    from rdp.sweep.store import ResultsStore

    s = ResultsStore(tmp_path / "r.sqlite")
    assert len(s) == 0 and len(ResultsStore(s.path, create=False)) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("r.sqlite")) == []


# ---------------------------------------------------------------------- item 12: ignored flags
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["solve", "cooccur3", "--width", "2", "--k", "1", "--encoder", "free", "--encoder-weights", "binary"],
         "encoder weights apply to the threshold class only"),
        (["train", "cooccur3", "--out", "{out}", "--arch", "topk", "--width", "2", "--k", "1", "--l1", "0.3"],
         "--l1 has no effect with --arch topk"),
        (["train", "cooccur3", "--out", "{out}", "--arch", "relu", "--width", "2", "--k", "1"],
         "--k has no effect with --arch relu"),
        (["train", "cooccur3", "--out", "{out}", "--arch", "topk", "--width", "2", "--k", "1", "--solver", "nope"],
         "--solver nope has no effect without --init exact"),
        (["train", "cooccur3", "--out", "{out}", "--arch", "topk", "--width", "2", "--k", "1", "--k", "1"],
         "k lists 1 twice"),
        (["train", "cooccur3", "--out", "{out}", "--arch", "topk", "--width", "2", "--k", "1", "--init", "exact",
          "--solver", "nope"], "--solver must be one of"),
        (["pmf", "cooccur3", "--write", "{out}.txt"], "must end in .json or .csv"),
        (["pmf", "random:n=6,n=7,support=3"], "key 'n' is given twice"),
    ],
    ids=["encoder-weights", "l1-topk", "k-relu", "solver", "k-twice", "solver-name", "write-txt", "n-twice"],
)
def test_ignored_flags_are_refused(argv: list[str], needle: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main([a.replace("{out}", str(out)) for a in argv])
    assert rc == ExitCode.INVALID
    _one_line_error(capsys, needle)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["solve", "cooccur3", "--width", "2", "--k", "1", "--k", "2"], "option --k is given twice"),
        (["solve", "cooccur3", "--width=2", "-m", "3", "--k", "1"], "options --width=2 and -m set the same thing"),
        (["pmf", "cooccur3", "--normalize", "--no-normalize"], "set the same thing"),
        (["audit", "optimum", "RUN", "--out", "a", "--out", "b"], "option --out is given twice"),
    ],
)
def test_single_valued_options_given_twice_are_refused(argv: list[str], needle: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == ExitCode.INVALID
    _one_line_error(capsys, needle)


def test_repeat_check_skips_option_values_and_multiple_options() -> None:
    import typer

    from rdp.cli import app
    from rdp.cli.repeats import check_repeated_options

    cmd = typer.main.get_command(app)
    check_repeated_options(cmd, ["train", "x", "--k", "1", "--k", "2", "--lr", "0.1", "--lr", "0.2"])
    check_repeated_options(cmd, ["solve", "--json", "--width", "--width", "2"])  # the first is --json's value
    check_repeated_options(cmd, ["solve", "x", "--", "--k", "--k"])


def test_library_configs_refuse_the_same() -> None:
    from rdp_exact.generators import builtin
    from rdp_exact.problem import Problem
    from sae_train.train import TrainConfig

    with pytest.raises(InvalidArgument, match="threshold class only"):
        Problem(pmf=builtin("cooccur3"), width=2, k=1, encoder="free", encoder_weights="binary")
    with pytest.raises(InvalidArgument, match="seeds lists 0 twice"):
        TrainConfig(arch="topk", width=2, k=(1,), steps=1, seeds=(0, 0))
    with pytest.raises(InvalidArgument, match="lr lists"):
        TrainConfig(arch="topk", width=2, k=(1,), steps=1, lr=(0.1, 0.1))


@pytest.mark.parametrize(
    ("names", "needle"),
    [([1, None], "concept_names[0] must be a string, got 1"), (["a", None], "concept_names[1] must be a string"),
     ("ab", "must be a list of strings"), (["a", ""], "concept_names[1] is empty")],
)
def test_concept_names_must_be_strings(names: object, needle: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"n": 2, "concept_names": names, "events": [{"concepts": [0], "p": 1.0}]}))
    assert main(["pmf", str(p)]) == ExitCode.INVALID
    _one_line_error(capsys, needle)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_bom_is_named(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rdp_exact.generators import builtin

    p = tmp_path / f"p{suffix}"
    text = builtin("cooccur3").to_csv() if suffix == ".csv" else builtin("cooccur3").to_json()
    p.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert main(["pmf", str(p)]) == ExitCode.INVALID
    _one_line_error(capsys, "BOM")
    with pytest.raises(PMFError, match="BOM"):
        from rdp_exact.pmf import pmf_from_json_text

        pmf_from_json_text("\ufeff{}")


def test_control_characters_in_names_are_escaped_when_printed(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from rdp_exact.pmf import ConceptPMF, format_event

    names = ["red\x1b[2J", "line\nbreak"]
    pmf = ConceptPMF.from_events(2, [((0,), 0.5), ((0, 1), 0.5)], concept_names=names)
    assert pmf.concept_names == tuple(names)  # kept as given (round-trips through JSON)
    assert pmf.names() == ("red\\x1b[2J", "line\\nbreak")
    assert format_event(3, pmf.concept_names) == "{red\\x1b[2J,line\\nbreak}"
    p = tmp_path / "p.json"
    pmf.write(p)
    assert main(["pmf", str(p)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "red\\x1b[2J" in out.replace("\n", "")
