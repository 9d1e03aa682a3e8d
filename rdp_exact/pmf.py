"""Concept pmfs: the data-generating distribution over events (DESIGN §1.1, §5.1).

An event S ⊆ {0..n−1} is stored as an int bitmask (bit i set ⇔ concept i active). A
:class:`ConceptPMF` is immutable, validated on construction, and knows its statistics:

* marginals p_i = P(i ∈ S),
* pair co-occurrence P(i, j ∈ S) (diagonal = p_i),
* Pearson correlation of the indicators 1[i ∈ S], 1[j ∈ S] (NaN where a variance is 0),
* expected sparsity E|S| = Σ_S π(S)·|S|.

Files: JSON ``{"n": 3, "concept_names": [...], "events": [{"concepts": [0, 1], "p": 0.4}, ...]}`` and
CSV with header ``concepts,p`` (concepts written ``0+1``, empty field for the empty event). Generator
specs (``example1:``, ``independent:``, ``random:``, ``pairs:``, built-in names) are accepted wherever
a path is, through :func:`load_pmf`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rdp_exact.errors import PMFError
from rdp_exact.io_utils import atomic_write_text
from rdp_exact.validate import is_int, printable

#: Largest number of concepts a pmf may have (events are bitmasks held in int64 arrays).
MAX_CONCEPTS = 60
#: Tolerance on Σ p = 1 (DESIGN §5.1).
SUM_TOL = 1e-9


def mask_of(concepts: Iterable[int]) -> int:
    """Bitmask of a collection of concept indices."""
    m = 0
    for c in concepts:
        m |= 1 << int(c)
    return m


def concepts_of(mask: int) -> list[int]:
    """Sorted concept indices of a bitmask."""
    out, i, m = [], 0, int(mask)
    while m:
        if m & 1:
            out.append(i)
        m >>= 1
        i += 1
    return out


def popcount(mask: int) -> int:
    """Number of concepts in an event or atom."""
    return int(mask).bit_count()


def format_event(mask: int, names: Sequence[str] | None = None) -> str:
    """Human form of an event or atom: ``{0,2}`` (or ``{a,c}`` with names); ``{}`` for the empty set."""
    cs = concepts_of(mask)
    if names is not None:
        return "{" + ",".join(printable(names[c]) for c in cs) + "}"
    return "{" + ",".join(str(c) for c in cs) + "}"


def format_event_plus(mask: int) -> str:
    """CSV form of an event: ``0+2``; the empty string for the empty event."""
    return "+".join(str(c) for c in concepts_of(mask))


@dataclass(frozen=True, eq=False)
class ConceptPMF:
    """An immutable, validated concept pmf π over events of n concepts (DESIGN §1.1).

    Events are kept sorted by bitmask, with zero-probability events dropped. Construct with
    :meth:`from_events` (validates) rather than directly.
    """

    n: int
    """Number of concepts (≥ 1)."""
    events: tuple[int, ...]
    """Support events as bitmasks, strictly increasing."""
    probs: np.ndarray = field(repr=False)
    """π(S) for each event, float64, read-only, summing to 1."""
    concept_names: tuple[str, ...] | None = None
    """Optional display names, one per concept."""

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_events(
        cls,
        n: int,
        events: Iterable[tuple[Iterable[int] | int, float]],
        *,
        concept_names: Sequence[str] | None = None,
        normalize: bool = False,
        where: Sequence[str] | None = None,
    ) -> ConceptPMF:
        """Validate and build a pmf from ``(event, p)`` pairs (event as concept list or bitmask).

        Rules (DESIGN §5.1): n ≥ 1; every concept index in [0, n); no event twice; every p finite
        and ≥ 0; Σp = 1 within 1e−9 unless ``normalize``; zero-probability events dropped.
        ``where`` optionally names each entry (e.g. ``"line 4"``) for error messages.
        """
        if not is_int(n):
            raise PMFError(f"n must be an integer, got {n!r}")
        n = int(n)
        if n < 1:
            raise PMFError(f"n must be at least 1, got {n}")
        if n > MAX_CONCEPTS:
            raise PMFError(f"n = {n} is too large (at most {MAX_CONCEPTS} concepts)")
        if concept_names is not None:
            if isinstance(concept_names, (str, bytes)) or not isinstance(concept_names, (Sequence, np.ndarray)):
                raise PMFError(f"concept_names must be a list of strings, got {concept_names!r}")
            for i, x in enumerate(concept_names):
                if not isinstance(x, str):
                    raise PMFError(f"concept_names[{i}] must be a string, got {x!r}")
                if not x:
                    raise PMFError(f"concept_names[{i}] is empty")
            concept_names = tuple(concept_names)
            if len(concept_names) != n:
                raise PMFError(f"concept_names has {len(concept_names)} names but n = {n}")
            if len(set(concept_names)) != n:
                raise PMFError("concept_names contains a repeated name")
        seen: dict[int, str] = {}
        masks: list[int] = []
        ps: list[float] = []
        for idx, (ev, p) in enumerate(events):
            label = where[idx] if where is not None else f"event #{idx}"
            if isinstance(ev, (int, np.integer)) and not isinstance(ev, bool):
                mask = int(ev)
                if mask < 0 or mask >> n:
                    raise PMFError(f"{label}: event mask {mask} uses a concept outside [0, {n})")
            else:
                try:
                    cs = list(ev)
                except TypeError:
                    raise PMFError(f"{label}: concepts must be a list of integers, got {ev!r}") from None
                mask = 0
                for c in cs:
                    if not is_int(c):
                        raise PMFError(f"{label}: concept {c!r} is not an integer")
                    if not 0 <= int(c) < n:
                        raise PMFError(f"{label}: concept {int(c)} is out of range [0, {n})")
                    if mask >> int(c) & 1:
                        raise PMFError(f"{label}: concept {int(c)} is listed twice in one event")
                    mask |= 1 << int(c)
            desc = format_event(mask)
            if mask in seen:
                raise PMFError(f"{label}: event {desc} is listed twice (also at {seen[mask]})")
            seen[mask] = label
            try:
                pf = float(p)
            except (TypeError, ValueError, OverflowError):
                raise PMFError(f"{label}: probability of event {desc} is not a number: {p!r}") from None
            if not math.isfinite(pf):
                raise PMFError(f"{label}: probability of event {desc} is not finite ({p!r})")
            if pf < 0:
                raise PMFError(f"{label}: probability of event {desc} is negative ({pf!r})")
            masks.append(mask)
            ps.append(pf)
        if not masks:
            raise PMFError("the pmf lists no events")
        total = math.fsum(ps)
        if normalize:
            if total <= 0:
                raise PMFError("cannot normalise: the probabilities sum to 0")
            ps = [p / total for p in ps]
        elif abs(total - 1.0) > SUM_TOL:
            raise PMFError(f"probabilities sum to {total!r}, not 1 (use --normalize to rescale)")
        keep = [(m, p) for m, p in zip(masks, ps, strict=True) if p > 0]
        if not keep:
            raise PMFError("every event has probability 0")
        keep.sort()
        probs = np.array([p for _, p in keep], dtype=np.float64)
        probs.setflags(write=False)
        return cls(n=n, events=tuple(m for m, _ in keep), probs=probs, concept_names=concept_names)

    # ------------------------------------------------------------------ basic views
    @property
    def support_size(self) -> int:
        """N = |𝒮|, the number of support events."""
        return len(self.events)

    @property
    def masks(self) -> np.ndarray:
        """Event bitmasks as an int64 array [N]."""
        return np.array(self.events, dtype=np.int64)

    @property
    def indicator(self) -> np.ndarray:
        """0/1 matrix [N, n]: row S, column i is 1[i ∈ S]."""
        m = self.masks
        return ((m[:, None] >> np.arange(self.n, dtype=np.int64)[None, :]) & 1).astype(np.int64)

    @property
    def sizes(self) -> np.ndarray:
        """|S| per event [N]."""
        return self.indicator.sum(axis=1)

    def names(self) -> tuple[str, ...]:
        """Display names: the given ones with control characters escaped (safe to print), else ``"0"``, ``"1"``, …"""
        if self.concept_names is None:
            return tuple(str(i) for i in range(self.n))
        return tuple(printable(x) for x in self.concept_names)

    def items(self) -> list[tuple[int, float]]:
        """``(mask, p)`` pairs in canonical order."""
        return [(m, float(p)) for m, p in zip(self.events, self.probs, strict=True)]

    def prob(self, event: Iterable[int] | int) -> float:
        """π(S) (0 for events outside the support)."""
        mask = event if isinstance(event, int) else mask_of(event)
        try:
            return float(self.probs[self.events.index(mask)])
        except ValueError:
            return 0.0

    # ------------------------------------------------------------------ statistics
    def marginals(self) -> np.ndarray:
        """p_i = P(i ∈ S), shape [n]."""
        return self.probs @ self.indicator

    def cooccurrence(self) -> np.ndarray:
        """P(i, j ∈ S), shape [n, n]; the diagonal holds the marginals."""
        ind = self.indicator.astype(np.float64)
        return (ind * self.probs[:, None]).T @ ind

    def correlation(self) -> np.ndarray:
        """Pearson correlation of concept indicators, [n, n]; NaN where a concept has zero variance."""
        p = self.marginals()
        cov = self.cooccurrence() - np.outer(p, p)
        sd = np.sqrt(np.clip(p * (1 - p), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = cov / np.outer(sd, sd)
        bad = np.outer(sd <= 1e-15, np.ones(self.n, bool)) | np.outer(np.ones(self.n, bool), sd <= 1e-15)
        corr[bad] = np.nan
        return corr

    def expected_sparsity(self) -> float:
        """E|S| = Σ_S π(S)|S|."""
        return float(self.probs @ self.sizes)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the file format of DESIGN §5.1."""
        d: dict[str, Any] = {"n": self.n}
        if self.concept_names is not None:
            d["concept_names"] = list(self.concept_names)
        d["events"] = [{"concepts": concepts_of(m), "p": float(p)} for m, p in self.items()]
        return d

    def to_json(self) -> str:
        """The JSON file text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_csv(self) -> str:
        """The CSV file text (header ``concepts,p``; ``repr`` floats round-trip exactly)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["concepts", "p"])
        for m, p in self.items():
            w.writerow([format_event_plus(m), repr(float(p))])
        return buf.getvalue()

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write as JSON or CSV by the file suffix (``.json`` or ``.csv``; anything else is refused), atomically.

        CSV has no place for ``n`` beyond the largest concept used, nor for names; prefer JSON.
        """
        p = Path(path)
        check_pmf_suffix(p)
        text = self.to_csv() if p.suffix.lower() == ".csv" else self.to_json()
        return atomic_write_text(p, text)

    def sha256(self) -> str:
        """Content hash of (n, events, probabilities); names do not count."""
        payload = json.dumps(
            {"n": self.n, "events": list(self.events), "p": [repr(float(x)) for x in self.probs]},
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConceptPMF):
            return NotImplemented
        return (
            self.n == other.n
            and self.events == other.events
            and np.array_equal(self.probs, other.probs)
            and self.concept_names == other.concept_names
        )

    def __hash__(self) -> int:
        return hash((self.n, self.events, self.probs.tobytes(), self.concept_names))

    def __repr__(self) -> str:
        return f"ConceptPMF(n={self.n}, N={self.support_size}, E|S|={self.expected_sparsity():.4g})"


# ---------------------------------------------------------------------- readers
#: File suffixes a pmf may be written with (and read from, as JSON or CSV).
PMF_SUFFIXES = (".json", ".csv")
_BOM = "\ufeff"


def check_pmf_suffix(path: str | os.PathLike[str]) -> None:
    """Refuse a pmf output path that does not end in ``.json`` or ``.csv`` (its format would be a guess)."""
    suffix = Path(path).suffix.lower()
    if suffix not in PMF_SUFFIXES:
        raise PMFError(f"cannot tell the format of {str(path)!r}: a pmf file must end in .json or .csv")


def _no_bom(text: str, source: str) -> str:
    if text.startswith(_BOM):
        raise PMFError(
            f"{source}: the file starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM"
        )
    return text


def pmf_from_dict(d: Any, *, normalize: bool = False) -> ConceptPMF:
    """Parse the JSON object form of a pmf (DESIGN §5.1)."""
    if not isinstance(d, dict):
        raise PMFError("pmf JSON must be an object with keys 'n' and 'events'")
    if "n" not in d:
        raise PMFError("pmf JSON has no 'n' (number of concepts)")
    if "events" not in d or not isinstance(d["events"], list):
        raise PMFError("pmf JSON needs 'events': a list of {\"concepts\": [...], \"p\": ...}")
    pairs, where = [], []
    for i, e in enumerate(d["events"]):
        if not isinstance(e, dict) or "concepts" not in e or "p" not in e:
            raise PMFError(f"event #{i}: expected an object with 'concepts' and 'p', got {e!r}")
        if not isinstance(e["concepts"], list):
            raise PMFError(f"event #{i}: 'concepts' must be a list, got {e['concepts']!r}")
        if isinstance(e["p"], (bool, str)) or e["p"] is None:
            raise PMFError(f"event #{i}: 'p' must be a number, got {e['p']!r}")
        pairs.append((e["concepts"], e["p"]))
        where.append(f"event #{i}")
    return ConceptPMF.from_events(
        d["n"], pairs, concept_names=d.get("concept_names"), normalize=normalize, where=where
    )


def pmf_from_json_text(text: str, *, normalize: bool = False, source: str = "pmf") -> ConceptPMF:
    """Parse JSON text; malformed JSON is a :class:`PMFError` naming the line."""
    _no_bom(text, source)
    try:
        d = json.loads(text, parse_constant=lambda c: float(c))
    except json.JSONDecodeError as exc:
        raise PMFError(f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except (RecursionError, ValueError) as exc:  # nesting too deep; an integer with too many digits
        raise PMFError(f"{source}: cannot parse the JSON: {' '.join(str(exc).split())[:200]}") from None
    return pmf_from_dict(d, normalize=normalize)


def pmf_from_csv_text(text: str, *, n: int | None = None, normalize: bool = False) -> ConceptPMF:
    """Parse CSV text with header ``concepts,p``. ``n`` defaults to 1 + the largest concept used."""
    _no_bom(text, "CSV pmf")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise PMFError(f"CSV pmf: {exc}") from None
    if not rows or [c.strip() for c in rows[0]] != ["concepts", "p"]:
        raise PMFError("CSV pmf must start with the header line 'concepts,p'")
    pairs, where = [], []
    maxc = -1
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row) and len(row) <= 1:
            continue
        if len(row) != 2:
            raise PMFError(f"line {lineno}: expected 2 fields 'concepts,p', got {len(row)}")
        cfield, pfield = row[0].strip(), row[1].strip()
        cs: list[int] = []
        if cfield:
            for tok in cfield.split("+"):
                tok = tok.strip()
                try:
                    c = int(tok)
                except ValueError:
                    raise PMFError(f"line {lineno}: concept {tok!r} is not an integer") from None
                if c < 0:
                    raise PMFError(f"line {lineno}: concept {c} is negative")
                cs.append(c)
                maxc = max(maxc, c)
        try:
            p = float(pfield)
        except ValueError:
            raise PMFError(f"line {lineno}: probability {pfield!r} is not a number") from None
        pairs.append((cs, p))
        where.append(f"line {lineno}")
    if n is None:
        n = max(maxc + 1, 1)
    return ConceptPMF.from_events(n, pairs, normalize=normalize, where=where)


def read_pmf(path: str | os.PathLike[str], *, normalize: bool = False) -> ConceptPMF:
    """Read a pmf file (``.csv`` → CSV, otherwise JSON)."""
    p = Path(path)
    if not p.exists():
        raise PMFError(f"pmf file {str(p)!r} does not exist")
    if p.is_dir():
        raise PMFError(f"pmf path {str(p)!r} is a folder, expected a JSON or CSV file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PMFError(f"cannot read pmf file {str(p)!r}: {exc}") from None
    _no_bom(text, str(p))
    if p.suffix.lower() == ".csv":
        return pmf_from_csv_text(text, normalize=normalize)
    return pmf_from_json_text(text, normalize=normalize, source=str(p))


