"""Read SAEBench results and tidy sweep tables into one table of SAEs (DESIGN §4, §7).

:func:`read_saebench` accepts

- a tidy table (``.csv``, ``.tsv``, ``.parquet``): one row per SAE, columns used as they are;
- one JSON result file, or a folder searched recursively for ``*.json``, in any of these shapes:

  ============================== ===================================================================
  shape                          recognised by
  ============================== ===================================================================
  SAEBench eval output           ``eval_type_id`` + ``eval_result_metrics`` + ``sae_lens_id`` (core,
                                 absorption, autointerp, scr, tpp, sparse_probing, unlearning, RAVEL,
                                 meta-SAE); also a dict of such outputs keyed by SAE (autointerp,
                                 unlearning)
  SAEBench MDL output            ``eval_type_id == "mdl"`` + ``eval_results``
  dictionary_learning core sweep ``basic_eval_results`` (+ ``sae_config_dictionary_learning``), the
                                 "0824" SAE_Bench_Template files
  custom eval results            ``custom_eval_results`` (early sparse-probing outputs)
  processed per-SAE metric       ``metric`` + ``result.per_sae`` (SAEBench-Reliability RAVEL,
                                 unlearning, absorption)
  processed core                 ``methodology == "saebench_core"`` + ``per_sae``
  ============================== ===================================================================

Metric columns are named ``<eval>_<metric>`` (``core_l0``, ``core_mse``, ``ravel_cause_score``,
``sparse_probing_sae_top_1_test_accuracy``, ``absorption_mean_num_split_features``; a metric that already
starts with its eval name keeps it once: ``autointerp_score``, ``unlearning_score``). Results of several
eval types are joined per SAE on a key derived from its release and id: SAEBench release names
(``saebench_<model>_width-2pow<p>_date-<d>`` with ``…layer_<L>…trainer_<t>``) map to
``<model>_<width>/<arch>/layer_<L>/trainer_<t>@<date>`` (a processed core file carries no date and joins
the unique dated key that matches), older sweep releases (``sae_bench_<sweep>`` +
``blocks.<L>.hook_resid_post__trainer_<t>``) to the dictionary_learning path
``<sweep>/resid_post_layer_<L>/trainer_<t>``. When two files give different values of one metric for the
same SAE (e.g. two versions of an eval), that metric is kept once per file as ``<column>@<file stem>``.

The returned :class:`SAETable` frame starts with ``sae_id, architecture, rate, distortion``; which
column gave the rate and the distortion is recorded (``rate_source``, ``distortion_source``). By default
the rate is the L0 column and the distortion the first available error column (MSE, then the L2 loss),
else 1 − a fidelity column (explained variance, loss recovered), choosing the candidate with the most
values. A name ``1-COL`` asks for 1 − COL explicitly.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rdp_exact.errors import InvalidArgument

log = logging.getLogger(__name__)

__all__ = [
    "DISTORTION_CANDIDATES",
    "FIDELITY_CANDIDATES",
    "RATE_CANDIDATES",
    "SCORE_CHOICES",
    "SAETable",
    "canonical_architecture",
    "load_frame",
    "normalise_model_name",
    "numeric_column",
    "parse_result_json",
    "read_saebench",
    "resolve_rate_distortion",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")

# ----------------------------------------------------------------------------------- architectures
_ARCH_PATTERNS: tuple[tuple[str, str], ...] = (
    ("matryoshka_batchtopk", r"matryoshka"),
    ("batchtopk", r"batch_?topk"),
    ("topk", r"top_?k"),
    ("jumprelu", r"jump_?relu"),
    ("gated", r"gated"),
    ("panneal", r"p_?anneal"),
    ("standard", r"standard|^relu$|^(auto_?encoder|sae)$"),
)


def canonical_architecture(name: object) -> str | None:
    """Canonical architecture (batchtopk, gated, jumprelu, matryoshka_batchtopk, panneal, standard, topk)
    found in a name such as ``BatchTopK``, ``GatedSAE``, ``AutoEncoderTopK`` or a release name; else None."""
    if not isinstance(name, str) or not name:
        return None
    low = name.lower()
    for arch, pat in _ARCH_PATTERNS:
        if re.search(pat, low):
            return arch
    return None


# --------------------------------------------------------------------------------------- join keys
_NEW_RELEASE = re.compile(
    r"sae_?bench_(?P<model>[A-Za-z0-9.\-]+?)_(?:(?P<arch>[A-Za-z]+)_)?width-2pow(?P<p>\d+)_date-(?P<date>\d+)"
)
_OLD_RELEASE = re.compile(
    r"^sae_bench_(?P<sweep>[^/]+?_\d{4})/blocks\.(?P<layer>\d+)\.hook_resid_post__trainer_(?P<t>\d+)"
    r"(?:_step_(?P<step>\w+))?$"
)
_LAYER = re.compile(r"(?:resid_post_layer_|blocks\.|layer_)(?P<layer>\d+)")
_TRAINER = re.compile(r"trainer_(?P<t>\d+)(?:_step_(?P<step>\w+))?")


@dataclass
class _Record:
    """One SAE's results from one file, before the join."""

    key: str
    name: str
    source: str
    architecture: str | None = None
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    named: bool = True
    """False when ``name`` was made up from the key (it then yields to a real name from another file)."""
    provenance: str = "file"
    """``published`` (a release's own numbers), ``reproduced`` (re-run by a third party) or ``file`` (as given)."""


def _width_label(p: int) -> str:
    return f"{int(2**p / 1000)}k"


def _key_of(name: str) -> tuple[str, str | None, str | None, dict[str, Any]]:
    """(join key without date, date, architecture, meta) for a release/id or SAE name."""
    m = _OLD_RELEASE.match(name)
    if m:
        key = f"{m['sweep']}/resid_post_layer_{m['layer']}/trainer_{m['t']}"
        if m["step"] is not None:
            key = f"{m['sweep']}/resid_post_layer_{m['layer']}_checkpoints/trainer_{m['t']}_step_{m['step']}"
        meta = {"sweep": m["sweep"], "layer": int(m["layer"]), "trainer": int(m["t"])}
        return key, None, canonical_architecture(m["sweep"]), meta
    m = _NEW_RELEASE.search(name)
    if m:
        rest = name[m.end():]
        arch = canonical_architecture(m["arch"] or "") or canonical_architecture(rest)
        lm, tm = _LAYER.search(rest), _TRAINER.search(rest)
        if arch and lm and tm:
            width = _width_label(int(m["p"]))
            meta = {"sweep": f"{m['model']}_{width}", "model": m["model"], "width": width,
                    "layer": int(lm["layer"]), "trainer": int(tm["t"])}
            key = f"{m['model']}_{meta['width']}/{arch}/layer_{lm['layer']}/trainer_{tm['t']}"
            return key, m["date"], arch, meta
    meta = {"sweep": name.split("/")[0]} if "/" in name else {}
    return name, None, canonical_architecture(name.split("/")[0]), meta


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None


def _col(prefix: str, metric: str) -> str:
    return metric if metric == prefix or metric.startswith(prefix + "_") else f"{prefix}_{metric}"


_EVAL_PREFIX = {
    "absorption_first_letter": "absorption",
    "absorption": "absorption",
    "autointerp": "autointerp",
    "core": "core",
    "ravel": "ravel",
    "scr": "scr",
    "tpp": "tpp",
    "sparse_probing": "sparse_probing",
    "unlearning": "unlearning",
    "mdl": "mdl",
    "meta_sae_decoder_variance": "meta_sae",
}


def _prefix(eval_type: object) -> str:
    low = str(eval_type).lower()
    return _EVAL_PREFIX.get(low, re.sub(r"[^a-z0-9]+", "_", low).strip("_") or "eval")


# ------------------------------------------------------------------------------------- recognisers
def _saebench_eval(d: dict[str, Any], source: str) -> list[_Record]:
    prefix = _prefix(d["eval_type_id"])
    metrics: dict[str, float] = {}
    for group in d["eval_result_metrics"].values():
        if isinstance(group, dict):
            for name, val in group.items():
                if _is_number(val):
                    metrics.setdefault(_col(prefix, name), float(val))
    name = f"{d.get('sae_lens_release_id') or d.get('sae_lens_release') or ''}/{d['sae_lens_id']}".strip("/")
    key, date, arch, meta = _key_of(name)
    cfg = d.get("sae_cfg_dict") or {}
    if arch is None and isinstance(cfg, dict):
        a = str(cfg.get("architecture") or "")
        fn = str(cfg.get("activation_fn_str") or "")
        arch = canonical_architecture(fn) if a == "standard" and fn not in ("", "relu") else canonical_architecture(a)
    if isinstance(cfg, dict):
        if cfg.get("d_sae") is not None:
            meta.setdefault("d_sae", cfg["d_sae"])
        if cfg.get("hook_layer") is not None:
            meta.setdefault("layer", cfg["hook_layer"])
    return [_Record(key, name, source, arch, date, meta, metrics)]


def _mdl_eval(d: dict[str, Any], source: str) -> list[_Record]:
    """MDL: the description length at the fewest bins whose reconstruction is within the MSE threshold."""
    metrics: dict[str, float] = {}
    ok = [e for e in d["eval_results"] if isinstance(e, dict) and e.get("within_threshold")]
    if ok:
        best = min(ok, key=lambda e: e.get("num_bins", math.inf))
        for k in ("description_length", "mse_loss", "num_bins"):
            if _is_number(best.get(k)):
                metrics[f"mdl_{k}"] = float(best[k])
    name = f"{d.get('sae_lens_release') or d.get('sae_lens_release_id') or ''}/{d['sae_lens_id']}".strip("/")
    key, date, arch, meta = _key_of(name)
    return [_Record(key, name, source, arch, date, meta, metrics)]


def _dictionary_learning_core(d: dict[str, Any], source: str) -> list[_Record]:
    cfgs = d.get("sae_config_dictionary_learning") or {}
    out = []
    for name, res in d["basic_eval_results"].items():
        if not isinstance(res, dict):
            continue
        metrics = {_col("core", k): float(v) for k, v in res.items() if _is_number(v)}
        trainer = (cfgs.get(name) or {}).get("trainer") or {}
        arch = canonical_architecture(trainer.get("trainer_class")) or canonical_architecture(
            trainer.get("dict_class")) or canonical_architecture(name.split("/")[0])
        if arch == "standard" and canonical_architecture(name.split("/")[0]) not in (None, "standard"):
            arch = canonical_architecture(name.split("/")[0])
        meta: dict[str, Any] = {"sweep": name.split("/")[0], "model": trainer.get("lm_name"), "layer": trainer.get("layer"),
                                "dict_size": trainer.get("dict_size"), "k": trainer.get("k"),
                                "l1_penalty": trainer.get("l1_penalty"), "lr": trainer.get("lr"),
                                "is_checkpoint": "_checkpoints/" in name}
        step = re.search(r"_step_(\d+)$", name)
        meta["step"] = int(step.group(1)) if step else trainer.get("steps")
        out.append(_Record(name, name, source, arch, None, {k: v for k, v in meta.items() if v is not None},
                           metrics))
    return out


def _custom_eval(d: dict[str, Any], source: str) -> list[_Record]:
    out = []
    for name, res in d["custom_eval_results"].items():
        if not isinstance(res, dict):
            continue
        prefix = "sparse_probing" if any("test_accuracy" in k for k in res) else "custom"
        metrics = {_col(prefix, k): float(v) for k, v in res.items() if _is_number(v)}
        key, date, arch, meta = _key_of(name)
        fm = _FILE_MODEL_LAYER.search(Path(source).stem)
        if fm:
            meta.setdefault("model", fm["model"])
            meta.setdefault("layer", int(fm["layer"]))
        lm = _LAYER.search(name)
        if lm:
            meta.setdefault("layer", int(lm["layer"]))
        out.append(_Record(key, name, source, arch, date, meta, metrics))
    return out


_FILE_MODEL_LAYER = re.compile(r"(?:^|_)(?P<model>(?:gemma|pythia|gpt2|llama|qwen|mistral)[A-Za-z0-9.\-]*)_layer_(?P<layer>\d+)")
_SKIP_PER_SAE = {"sae_name", "arch", "location", "status", "suite", "trainer", "seconds"}


def _processed_metric(d: dict[str, Any], source: str) -> list[_Record]:
    """SAEBench-Reliability processed files: ``result.per_sae`` holds the scores that repository reproduced,
    ``published_ref.<arch>.per_sae`` the scores of the SAEBench release; both are kept, labelled."""
    prefix = _prefix(d["metric"])
    out = []
    for row in d["result"]["per_sae"]:
        if not isinstance(row, dict) or row.get("status", "ok") != "ok" or "sae_name" not in row:
            continue
        metrics = {_col(prefix, k): float(v) for k, v in row.items() if k not in _SKIP_PER_SAE and _is_number(v)}
        key, date, arch, meta = _key_of(str(row["sae_name"]))
        arch = arch or canonical_architecture(row.get("arch"))
        out.append(_Record(key, str(row["sae_name"]), source, arch, date, meta, metrics, provenance="reproduced"))
    pub = d.get("published_ref")
    if isinstance(pub, dict):
        for arch_name, block in pub.items():
            per = block.get("per_sae") if isinstance(block, dict) else None
            if not isinstance(per, dict):
                continue
            for name, vals in per.items():
                if not isinstance(vals, dict):
                    continue
                metrics = {_col(prefix, k): float(v) for k, v in vals.items()
                           if k not in _SKIP_PER_SAE and _is_number(v)}
                key, date, arch, meta = _key_of(str(name))
                arch = arch or canonical_architecture(arch_name)
                out.append(_Record(key, str(name), source, arch, date, meta, metrics, provenance="published"))
    return out


def _processed_core(d: dict[str, Any], source: str) -> list[_Record]:
    out = []
    for row in d["per_sae"]:
        if not isinstance(row, dict):
            continue
        suite = str(row.get("suite") or d.get("suite") or "")
        model, _, width = suite.rpartition("_")
        arch = canonical_architecture(row.get("arch"))
        layer, trainer = d.get("layer"), row.get("trainer")
        if not (model and arch and layer is not None and trainer is not None):
            continue
        key = f"{model}_{width}/{arch}/layer_{layer}/trainer_{trainer}"
        metrics = {_col("core", k): float(v) for k, v in row.items() if k not in _SKIP_PER_SAE and _is_number(v)}
        meta = {"sweep": suite, "model": model, "width": width, "layer": int(layer), "trainer": int(trainer)}
        out.append(_Record(key, key, source, arch, None, meta, metrics, named=False))
    return out


def parse_result_json(obj: object, source: str = "<json>") -> list[_Record]:
    """Per-SAE records of one parsed JSON document; [] when its shape is not recognised."""
    if not isinstance(obj, dict):
        return []
    if "eval_type_id" in obj and "sae_lens_id" in obj:
        if isinstance(obj.get("eval_result_metrics"), dict):
            return _saebench_eval(obj, source)
        if isinstance(obj.get("eval_results"), list):
            return _mdl_eval(obj, source)
    if isinstance(obj.get("basic_eval_results"), dict):
        return _dictionary_learning_core(obj, source)
    if isinstance(obj.get("custom_eval_results"), dict):
        return _custom_eval(obj, source)
    if "metric" in obj and isinstance(obj.get("result"), dict) and isinstance(obj["result"].get("per_sae"), list):
        return _processed_metric(obj, source)
    if obj.get("methodology") == "saebench_core" and isinstance(obj.get("per_sae"), list):
        return _processed_core(obj, source)
    if obj and all(isinstance(v, dict) for v in obj.values()):
        out: list[_Record] = []
        for v in obj.values():
            sub = parse_result_json(v, source) if "eval_type_id" in v else []
            if not sub:
                return []
            out.extend(sub)
        return out
    return []


# -------------------------------------------------------------------------------------------- join
def _adopt_dates(records: list[_Record]) -> None:
    """Give date-less records the date of the unique dated record with the same key."""
    dated: dict[str, set[str]] = {}
    for r in records:
        if r.date is not None:
            dated.setdefault(r.key, set()).add(r.date)
    for r in records:
        if r.date is None and len(dated.get(r.key, ())) == 1:
            r.date = next(iter(dated[r.key]))


#: Which scores to use when a source gives both the published and a reproduced value of a metric.
SCORE_CHOICES: tuple[str, ...] = ("published", "reproduced")


def _choose_provenance(records: list[_Record], scores: str) -> tuple[dict[str, str], list[str]]:
    """Keep one provenance per metric column: ``scores`` where it exists, else the other. Returns each
    column's provenance and notes naming what was dropped."""
    avail: dict[str, set[str]] = {}
    for r in records:
        for col in r.metrics:
            avail.setdefault(col, set()).add(r.provenance)
    chosen: dict[str, str] = {}
    for col, provs in avail.items():
        labelled = provs & set(SCORE_CHOICES)
        if not labelled:
            chosen[col] = "file"
        elif scores in labelled:
            chosen[col] = scores
        else:
            chosen[col] = next(iter(labelled))
    dropped: dict[str, int] = {}
    for r in records:
        if r.provenance in SCORE_CHOICES:
            for col in [c for c in r.metrics if chosen[c] != r.provenance]:
                del r.metrics[col]
                dropped[col] = dropped.get(col, 0) + 1
    notes = []
    if dropped:
        other = next(p for p in SCORE_CHOICES if p != scores)
        notes.append(f"{scores} scores used; the {other} values of {', '.join(sorted(dropped))} were left out "
                     f"(choose with --scores {'|'.join(SCORE_CHOICES)})")
    fallback = sorted(c for c, p in chosen.items() if p in SCORE_CHOICES and p != scores)
    if fallback:
        notes.append(f"no {scores} values of {', '.join(fallback)}: {chosen[fallback[0]]} values used")
    return chosen, notes


def _join(records: list[_Record], scores: str = "published") -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """One row per SAE, plus notes and each metric column's provenance.

    Values of one metric for one SAE from several files are merged when they agree (rtol 1e−9). Where they
    disagree, the column takes the value most files agree on (ties: the value of the file that covers most
    SAEs for this metric, then the last file by name, e.g. the newer version), and each other file's
    disagreeing value is kept as ``COLUMN@FILE``.
    """
    _adopt_dates(records)
    for r in records:
        if r.date is not None and "@" not in r.key:
            r.key = f"{r.key}@{r.date}"
    provenance, notes = _choose_provenance(records, scores)
    values: dict[tuple[str, str], list[tuple[str, float]]] = {}
    coverage: dict[str, dict[str, int]] = {}
    for r in records:
        for col, val in r.metrics.items():
            values.setdefault((r.key, col), []).append((r.source, val))
            cov = coverage.setdefault(col, {})
            cov[r.source] = cov.get(r.source, 0) + 1
    primary = {col: max(cov, key=lambda src: (cov[src], src)) for col, cov in coverage.items()}
    merged: dict[tuple[str, str], float] = {}
    extra: dict[tuple[str, str], float] = {}
    disagree: dict[str, list[float]] = {}
    for (key, col), vals in values.items():
        by_src: dict[str, float] = {}
        for src, v in vals:
            by_src.setdefault(src, v)
        def support(src: str, col: str = col, by_src: dict[str, float] = by_src) -> tuple[int, bool, int, str]:
            agree = sum(np.isclose(by_src[src], v, rtol=1e-9, atol=0.0, equal_nan=True) for v in by_src.values())
            return int(agree), src == primary[col], coverage[col][src], src

        ref_src = max(by_src, key=support)
        ref = by_src[ref_src]
        merged[(key, col)] = ref
        for src, v in by_src.items():
            if src != ref_src and not np.isclose(ref, v, rtol=1e-9, atol=0.0, equal_nan=True):
                extra[(key, f"{col}@{Path(src).stem}")] = v
                disagree.setdefault(col, []).append(abs(v - ref))
    for col in sorted(disagree):
        d = disagree[col]
        others = sorted({c.split("@", 1)[1] for (_, c) in extra if c.split("@", 1)[0] == col})
        notes.append(f"files disagree on {col} for {len(d)} value(s) (max |Δ| = {max(d):.3g}): {col} takes the "
                     f"value most files agree on, else {Path(primary[col]).stem}'s; the others are kept as "
                     f"{col}@FILE ({', '.join(others)})")
    rows: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    for r in records:
        row = rows.setdefault(r.key, {"sae_id": None, "architecture": None})
        if r.named:
            names.setdefault(r.key, r.name)
        if row["architecture"] is None and r.architecture:
            row["architecture"] = r.architecture
        for k, v in r.meta.items():
            row.setdefault(k, v)
    for (key, col), v in merged.items():
        rows[key][col] = v
    for (key, col), v in extra.items():
        rows[key][col] = v
        provenance[col] = provenance.get(col.split("@", 1)[0], "file")
    for key, row in rows.items():
        row["sae_id"] = names.get(key, key)
        row["join_key"] = key
    frame = pd.DataFrame(list(rows.values()))
    _normalise_model_layer(frame)
    return frame, notes, provenance


def normalise_model_name(name: object) -> str | None:
    """``google/gemma-2-2b`` → ``gemma-2-2b``: lower case, without the organisation prefix."""
    if not isinstance(name, str) or not name.strip():
        return None
    return name.strip().rsplit("/", 1)[-1].lower()


_SWEEP_MODEL = re.compile(r"^(?P<model>[A-Za-z0-9.\-]+?)_sweep_")


def _normalise_model_layer(frame: pd.DataFrame) -> None:
    """``model`` (normalised; from the sweep name when missing) and integer ``layer`` columns, in place."""
    if frame.empty:
        return
    model = frame["model"] if "model" in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    if "sweep" in frame.columns:
        from_sweep = frame["sweep"].map(lambda s: (m["model"] if isinstance(s, str) and (m := _SWEEP_MODEL.match(s))
                                                   else None))
        model = model.where(model.notna(), from_sweep)
    if model.notna().any():
        frame["model"] = model.map(normalise_model_name)
    if "layer" in frame.columns:
        frame["layer"] = pd.to_numeric(frame["layer"], errors="coerce").astype("Int64")


# ------------------------------------------------------------------------------------------ loading
def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InvalidArgument(f"cannot read table {str(path)!r}: {exc}".splitlines()[0]) from None


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``sae_id`` and a canonical ``architecture`` to a tidy table."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    if "sae_id" not in out.columns:
        for cand in ("sae_key", "sae_name", "sae", "name", "id"):
            if cand in out.columns:
                out.insert(0, "sae_id", out[cand].astype(str))
                break
        else:
            out.insert(0, "sae_id", [f"row_{i}" for i in range(len(out))])
    if "architecture" not in out.columns:
        src = "arch" if "arch" in out.columns else None
        vals = [canonical_architecture(v) or (str(v).lower() if isinstance(v, str) else None)
                for v in (out[src] if src else [None] * len(out))]
        out.insert(1, "architecture", vals)
    return out


def load_frame(
    path: str | Path, *, scores: str = "published"
) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """(frame, files read, notes, provenance of each metric column) for a tidy table, a JSON result file or
    a results folder. Files of a folder that are not SAEBench results are named in a note."""
    if scores not in SCORE_CHOICES:
        raise InvalidArgument(f"--scores must be one of {', '.join(SCORE_CHOICES)}, got {scores!r}")
    p = Path(path)
    if not p.exists():
        raise InvalidArgument(f"{str(p)!r} does not exist")
    if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES:
        frame = _read_table(p)
        if frame.empty:
            raise InvalidArgument(f"table {str(p)!r} has no rows")
        frame = _tidy(frame)
        _normalise_model_layer(frame)
        return frame, (str(p),), (), {}
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*.json") if f.is_file())
    else:
        raise InvalidArgument(f"{str(p)!r} is neither a file nor a folder")
    records: list[_Record] = []
    used: list[str] = []
    notes: list[str] = []
    skipped: list[str] = []
    for f in files:
        try:
            obj = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            if p.is_file():
                raise InvalidArgument(f"cannot read JSON {str(f)!r}: {exc}") from None
            skipped.append(f"{f.relative_to(p)} (unreadable)")
            continue
        recs = parse_result_json(obj, str(f))
        if recs:
            records.extend(recs)
            used.append(str(f))
        else:
            skipped.append(str(f.relative_to(p)) if p.is_dir() else f.name)
    if not records:
        what = "file" if p.is_file() else "folder"
        raise InvalidArgument(
            f"no recognisable SAEBench result in {what} {str(p)!r} (expected SAEBench eval JSON, "
            "dictionary_learning sweep results, or a .csv/.parquet table)"
        )
    if skipped:
        notes.append(f"skipped {len(skipped)} JSON file(s) that are not SAEBench results: {', '.join(skipped)}")
    frame, join_notes, provenance = _join(records, scores)
    notes.extend(join_notes)
    return frame, tuple(used), tuple(notes), provenance


# --------------------------------------------------------------------------------- rate, distortion
RATE_CANDIDATES: tuple[str, ...] = (r"^rate$", r"^(core_)?l0$", r"(^|_)core_l0$", r"(^|_)l0$")
"""Column-name patterns for the rate (L0), in order of preference."""
DISTORTION_CANDIDATES: tuple[str, ...] = (
    r"^distortion$", r"^(core_)?mse$", r"(^|_)core_mse$", r"^(core_)?l2_loss$", r"(^|_)core_l2_loss$",
)
"""Error columns (larger is worse), in order of preference."""
FIDELITY_CANDIDATES: tuple[str, ...] = (
    r"(^|_)(core_)?explained_variance$", r"(^|_)(core_)?frac_variance_explained$",
    r"(^|_)(core_)?loss_recovered$", r"(^|_)(core_)?ce_loss_score$", r"(^|_)(core_)?frac_recovered$",
)
"""Fidelity columns (larger is better); used as distortion = 1 − value."""


def numeric_column(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Column as floats; InvalidArgument naming the first non-numeric entry (empty cells become nan)."""
    s = frame[col]
    if pd.api.types.is_bool_dtype(s):
        raise InvalidArgument(f"column {col!r} holds true/false values, not numbers")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna() & ~s.astype(str).str.strip().isin(["", "nan", "NaN", "None", "null"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidArgument(f"column {col!r} is not numeric: row {i} has {s.iloc[i]!r}")
    return num.to_numpy(dtype=float)


def _count(frame: pd.DataFrame, col: str) -> int:
    return int(np.isfinite(numeric_column(frame, col)).sum())


def _pick(frame: pd.DataFrame, patterns: Iterable[str], exclude: set[str]) -> str | None:
    best: tuple[int, int, str] | None = None
    for order, pat in enumerate(patterns):
        for col in frame.columns:
            if col in exclude or not re.search(pat, str(col), flags=re.IGNORECASE):
                continue
            n = _count(frame, str(col))
            if n > 0 and (best is None or (n, -order) > (best[0], -best[1])):
                best = (n, order, str(col))
    return None if best is None else best[2]


def _fidelity(col: str) -> bool:
    return any(re.search(p, col, flags=re.IGNORECASE) for p in FIDELITY_CANDIDATES)


def resolve_rate_distortion(
    frame: pd.DataFrame, rate_col: str | None = None, distortion_col: str | None = None
) -> tuple[np.ndarray | None, np.ndarray | None, str | None, str | None]:
    """(rate, distortion, rate source, distortion source); None where nothing is found.

    Named columns must exist and be numeric. ``1-COL`` means 1 − COL. A fidelity column (higher is better)
    named plainly as the distortion is refused, because it would invert the budget order.
    """
    cols = [str(c) for c in frame.columns]
    reserved = {"rate", "distortion"} if "rate" not in cols else set()
    if rate_col is not None:
        if rate_col not in cols:
            raise InvalidArgument(f"--rate-col {rate_col!r} is not a column (columns: {', '.join(cols)})")
        rate_src: str | None = rate_col
    else:
        rate_src = _pick(frame, RATE_CANDIDATES, reserved)
    rate = None if rate_src is None else numeric_column(frame, rate_src)

    if distortion_col is not None:
        if distortion_col in cols:
            if _fidelity(distortion_col):
                raise InvalidArgument(
                    f"--distortion-col {distortion_col!r} is a fidelity (higher is better); "
                    f"use --distortion-col 1-{distortion_col}"
                )
            dist_src: str | None = distortion_col
            dist = numeric_column(frame, distortion_col)
        elif distortion_col.startswith("1-") and distortion_col[2:] in cols:
            dist_src = distortion_col
            dist = 1.0 - numeric_column(frame, distortion_col[2:])
        else:
            raise InvalidArgument(
                f"--distortion-col {distortion_col!r} is not a column (columns: {', '.join(cols)})"
            )
    else:
        excl = reserved | ({rate_src} if rate_src else set())
        direct = _pick(frame, DISTORTION_CANDIDATES, excl)
        if direct is not None:
            dist_src, dist = direct, numeric_column(frame, direct)
        else:
            fid = _pick(frame, FIDELITY_CANDIDATES, excl)
            dist_src = None if fid is None else f"1-{fid}"
            dist = None if fid is None else 1.0 - numeric_column(frame, fid)
    return rate, dist, rate_src, dist_src


@dataclass(frozen=True)
class SAETable:
    """One row per SAE: ``sae_id, architecture, rate, distortion`` first, then metadata and metrics."""

    frame: pd.DataFrame
    """The table (rate/distortion are nan where unknown)."""
    rate_source: str | None
    """Column the rate came from (None when no rate column was found)."""
    distortion_source: str | None
    """Column the distortion came from (``1-COL`` for 1 − a fidelity column; None when not found)."""
    sources: tuple[str, ...] = ()
    """Files read."""
    notes: tuple[str, ...] = ()
    """Caveats found while reading (conflicting duplicates, the kind of distortion used)."""
    provenance: dict[str, str] = field(default_factory=dict)
    """Metric column → ``published`` | ``reproduced`` | ``file`` (as given by its source)."""


def _distortion_note(src: str | None) -> str | None:
    if src is None:
        return None
    if src.startswith("1-"):
        return f"distortion = {src} (one minus a fidelity: an error proxy, not an MSE)"
    if re.search(r"l2_loss$", src):
        return f"distortion = {src} (dictionary_learning's l2_loss is the mean L2 norm of the error, not squared)"
    return None


def read_saebench(
    path: str | Path, *, rate_col: str | None = None, distortion_col: str | None = None,
    scores: str = "published",
) -> SAETable:
    """Read a tidy table, a SAEBench JSON file or a results folder into one :class:`SAETable`.

    ``scores``: where a source gives both a release's published score and a reproduced one (the
    SAEBench-Reliability processed files), which to use; each metric column's provenance is recorded."""
    frame, sources, notes, provenance = load_frame(path, scores=scores)
    rate, dist, rate_src, dist_src = resolve_rate_distortion(frame, rate_col, distortion_col)
    n = len(frame)
    head = pd.DataFrame({
        "sae_id": frame["sae_id"].astype(str),
        "architecture": frame["architecture"],
        "rate": rate if rate is not None else np.full(n, np.nan),
        "distortion": dist if dist is not None else np.full(n, np.nan),
    })
    rest = frame.drop(columns=[c for c in ("sae_id", "architecture", "rate", "distortion") if c in frame.columns])
    out = pd.concat([head.reset_index(drop=True), rest.reset_index(drop=True)], axis=1)
    extra = [x for x in (_distortion_note(dist_src),) if x]
    return SAETable(out, rate_src, dist_src, sources, tuple(notes) + tuple(extra), provenance)
