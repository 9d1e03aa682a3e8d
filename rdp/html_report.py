"""One self-contained HTML page (``index.html``) over the outputs of ``rdp reproduce`` and ``rdp demo``.

The page lives in the output folder and shows every figure through a **relative** ``<img>`` path, every
CSV table as an HTML table (the first ``max_rows`` rows, with a link to the full file), and every
Markdown report rendered by a small built-in converter (headings, paragraphs, lists, pipe tables, code
blocks, inline code, bold, links). It needs no network and no external CSS or JavaScript: the style sheet
and a ten-line script are inline. The script marks every image once the page has loaded
(``data-loaded="yes"|"no"``, body attributes ``data-images-checked`` / ``data-images-missing``) and
writes a visible note under an image that failed to load, so a broken report is obvious to a reader
and checkable by a headless browser (:func:`check_images_in_browser`).

Sections are either given explicitly (:class:`Section`: a title, a plain-text paragraph and files
relative to the report folder) or discovered from the folder (:func:`discover_sections`: one section
per sub-folder, figures first, then Markdown, then tables, then links to the remaining files).
"""

from __future__ import annotations

import csv
import html
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from rdp_exact.errors import InvalidArgument
from rdp_exact.io_utils import atomic_write_text
from rdp_exact.validate import check_int

log = logging.getLogger(__name__)

REPORT_FILE = "index.html"
IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")
TABLE_SUFFIXES = (".csv",)
MARKDOWN_SUFFIXES = (".md",)
#: Files never listed by :func:`discover_sections` (the report itself, staging leftovers).
_SKIP_PREFIXES = (".",)
#: At most this many "other files" links per discovered section (the rest are counted).
MAX_LINKS = 24


@dataclass(frozen=True)
class Section:
    """One block of the page."""

    title: str
    """Heading of the block."""
    text: str = ""
    """Plain-text explanation shown under the heading (blank lines separate paragraphs)."""
    files: tuple[str, ...] = field(default_factory=tuple)
    """Files relative to the report folder (POSIX separators), shown in this order: images inline,
    CSV as tables, Markdown rendered, anything else as a link."""


# ------------------------------------------------------------------------------------------ paths
def _rel(path: str) -> str:
    """Validate a report-relative path (no absolute paths, no ``..``) and return it in POSIX form."""
    p = PurePosixPath(str(path).replace(os.sep, "/"))
    if p.is_absolute() or ".." in p.parts or str(p) in ("", "."):
        raise InvalidArgument(f"report file {str(path)!r} must be a path inside the report folder")
    return p.as_posix()


def _href(rel: str) -> str:
    """URL-quote a relative path for ``src``/``href`` attributes (keeps ``/``)."""
    from urllib.parse import quote

    return html.escape(quote(rel, safe="/._-~"), quote=True)


def discover_sections(root: str | os.PathLike[str], *, exclude: Sequence[str] = (REPORT_FILE,)) -> list[Section]:
    """One :class:`Section` per folder under ``root`` (the top folder first, then sub-folders by name),
    each listing its images, Markdown files, CSV tables and other files (hidden files skipped)."""
    base = Path(root)
    if not base.is_dir():
        raise InvalidArgument(f"report folder {str(base)!r} does not exist")
    groups: dict[str, list[str]] = {}
    for p in sorted(base.rglob("*")):
        rel = p.relative_to(base)
        if not p.is_file() or any(part.startswith(_SKIP_PREFIXES) for part in rel.parts):
            continue
        if rel.as_posix() in exclude:
            continue
        groups.setdefault(rel.parent.as_posix(), []).append(rel.as_posix())

    def order(f: str) -> tuple[int, str]:
        s = Path(f).suffix.lower()
        kind = 0 if s in IMAGE_SUFFIXES else 1 if s in MARKDOWN_SUFFIXES else 2 if s in TABLE_SUFFIXES else 3
        return kind, f

    return [
        Section(title="files" if folder == "." else folder, files=tuple(sorted(files, key=order)))
        for folder, files in sorted(groups.items(), key=lambda kv: (kv[0] != ".", kv[0]))
    ]


# ------------------------------------------------------------------------------------------ markdown
_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _inline(text: str, base: str) -> str:
    """Inline Markdown of one (raw) line: code spans, bold, links (relative links resolved from ``base``)."""
    out: list[str] = []
    pos = 0
    for m in _INLINE_CODE.finditer(text):
        out.append(_inline_plain(text[pos:m.start()], base))
        out.append(f"<code>{html.escape(m.group(1))}</code>")
        pos = m.end()
    out.append(_inline_plain(text[pos:], base))
    return "".join(out)


def _inline_plain(text: str, base: str) -> str:
    esc = html.escape(text, quote=False)
    esc = _BOLD.sub(r"<strong>\1</strong>", esc)

    def link(m: re.Match[str]) -> str:
        target = html.unescape(m.group(2))
        if not re.match(r"^[a-z]+:", target) and not target.startswith("#") and base not in ("", "."):
            target = (PurePosixPath(base) / target).as_posix()
        return f'<a href="{html.escape(target, quote=True)}">{m.group(1)}</a>'

    return _LINK.sub(link, esc)


def _table_cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip() for c in s.split("|")]


def markdown_to_html(text: str, base: str = "") -> str:
    """Render the Markdown subset our reports use; ``base`` is the folder (relative to the page) that
    relative links in ``text`` are relative to."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append("<p>" + " ".join(_inline(x, base) for x in para) + "</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("```"):
            flush()
            block: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out.append("<pre><code>" + html.escape("\n".join(block)) + "</code></pre>")
            i += 1
            continue
        if not s:
            flush()
            i += 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", s)
        if m:
            flush()
            level = min(6, len(m.group(1)) + 2)  # the page owns h1/h2
            out.append(f"<h{level}>{_inline(m.group(2), base)}</h{level}>")
            i += 1
            continue
        if s.startswith("|") and i + 1 < len(lines) and re.match(r"^\|?\s*:?-{2,}", lines[i + 1].strip()):
            flush()
            head = _table_cells(s)
            aligns = ["right" if c.strip().endswith(":") else "left" for c in _table_cells(lines[i + 1])]
            i += 2
            rows: list[list[str]] = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_table_cells(lines[i]))
                i += 1
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c, base)}</th>" for c in head)
                       + "</tr></thead><tbody>")
            for r in rows:
                cells = "".join(
                    f'<td style="text-align:{aligns[j] if j < len(aligns) else "left"}">{_inline(c, base)}</td>'
                    for j, c in enumerate(r)
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</tbody></table>")
            continue
        if re.match(r"^([-*]|\d+\.)\s+", s):
            flush()
            ordered = bool(re.match(r"^\d+\.", s))
            tag = "ol" if ordered else "ul"
            items: list[str] = []
            while i < len(lines) and re.match(r"^\s*([-*]|\d+\.)\s+", lines[i]):
                item = re.sub(r"^\s*([-*]|\d+\.)\s+", "", lines[i])
                i += 1
                while i < len(lines) and lines[i].startswith("  ") and lines[i].strip() \
                        and not re.match(r"^\s*([-*]|\d+\.)\s+", lines[i]):
                    item += " " + lines[i].strip()
                    i += 1
                items.append(f"<li>{_inline(item, base)}</li>")
            out.append(f"<{tag}>" + "".join(items) + f"</{tag}>")
            continue
        para.append(s)
        i += 1
    flush()
    return "\n".join(out)


# ------------------------------------------------------------------------------------------ tables
def csv_to_html(path: str | os.PathLike[str], *, max_rows: int = 200) -> tuple[str, int]:
    """An HTML table of the CSV at ``path`` (first ``max_rows`` data rows) and the number of data rows.
    Numbers are shown with at most 6 significant digits; empty cells stay empty."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return "<p><em>(empty table)</em></p>", 0
    head, body = rows[0], rows[1:]
    parts = ["<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr></thead><tbody>"]
    for r in body[:max_rows]:
        cells = []
        for c in r:
            shown, numeric = _num(c)
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(shown)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts), len(body)


def _num(cell: str) -> tuple[str, bool]:
    try:
        v = float(cell)
    except ValueError:
        return cell, False
    if cell.strip().lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
        return cell, True
    if re.fullmatch(r"-?\d+", cell.strip()):
        return cell, True
    return f"{v:.6g}", True


# ------------------------------------------------------------------------------------------ page
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1100px;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.sub{color:#666;margin-top:0}nav ul{columns:2;font-size:.95em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #ddd;padding:2px 6px;white-space:nowrap}th{background:#f4f4f4;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}code{font-size:.9em}
.md{border-left:3px solid #e5e5e5;padding-left:1em;margin:1em 0}.file{font-size:.85em;color:#555}
.missing{color:#b00;font-weight:bold}.links{font-size:.85em}
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img'), missing = 0;
  imgs.forEach(function (im) {
    var ok = im.complete && im.naturalWidth > 0;
    im.setAttribute('data-loaded', ok ? 'yes' : 'no');
    if (!ok) {
      missing += 1;
      var note = document.createElement('p');
      note.className = 'missing';
      note.textContent = 'image not found: ' + im.getAttribute('src');
      im.parentNode.insertBefore(note, im.nextSibling);
    }
  });
  document.body.setAttribute('data-images-checked', String(imgs.length));
  document.body.setAttribute('data-images-missing', String(missing));
});
"""


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join(f"<p>{html.escape(b)}</p>" for b in blocks)


def _anchor(i: int, title: str) -> str:
    return f"s{i}-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section")


def _render_file(root: Path, rel: str, max_rows: int) -> str:
    path = root / rel
    suffix = Path(rel).suffix.lower()
    link = f'<a href="{_href(rel)}">{html.escape(rel)}</a>'
    if not path.is_file():
        raise InvalidArgument(f"report file {rel!r} does not exist under {str(root)!r}")
    if suffix in IMAGE_SUFFIXES:
        return (f'<figure><img src="{_href(rel)}" alt="{html.escape(rel, quote=True)}" loading="eager">'
                f"<figcaption>{html.escape(rel)}</figcaption></figure>")
    if suffix in TABLE_SUFFIXES:
        table, n = csv_to_html(path, max_rows=max_rows)
        note = f" (first {max_rows} of {n} rows)" if n > max_rows else f" ({n} rows)"
        return f'<div class="file">{link}{html.escape(note)}</div>{table}'
    if suffix in MARKDOWN_SUFFIXES:
        text = path.read_text(encoding="utf-8", errors="replace")
        base = PurePosixPath(rel).parent.as_posix()
        return f'<div class="file">{link}</div><div class="md">{markdown_to_html(text, base)}</div>'
    return ""  # listed as a link by the caller


def render_html(
    root: str | os.PathLike[str],
    title: str,
    sections: Sequence[Section],
    *,
    intro: str = "",
    max_rows: int = 200,
) -> str:
    """The page as a string (files are read from ``root``; every path must exist under it)."""
    base = Path(root)
    check_int("max_rows", max_rows, min=1)
    body: list[str] = [f"<h1>{html.escape(title)}</h1>"]
    if intro:
        body.append(f'<div class="sub">{_paragraphs(intro)}</div>')
    if len(sections) > 1:
        body.append("<nav><ul>" + "".join(
            f'<li><a href="#{_anchor(i, s.title)}">{html.escape(s.title)}</a></li>' for i, s in enumerate(sections)
        ) + "</ul></nav>")
    for i, sec in enumerate(sections):
        body.append(f'<h2 id="{_anchor(i, sec.title)}">{html.escape(sec.title)}</h2>')
        if sec.text:
            body.append(_paragraphs(sec.text))
        links: list[str] = []
        for f in sec.files:
            rel = _rel(f)
            block = _render_file(base, rel, max_rows)
            if block:
                body.append(block)
            else:
                links.append(rel)
        if links:
            shown = links[:MAX_LINKS]
            items = "".join(f'<li><a href="{_href(r)}">{html.escape(r)}</a></li>' for r in shown)
            more = f"<li>… and {len(links) - len(shown)} more files</li>" if len(links) > len(shown) else ""
            body.append(f'<div class="links">Other files:<ul>{items}{more}</ul></div>')
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body)
        + f"\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def write_html_report(
    root: str | os.PathLike[str],
    title: str,
    sections: Sequence[Section] | None = None,
    *,
    intro: str = "",
    filename: str = REPORT_FILE,
    max_rows: int = 200,
) -> Path:
    """Write ``root/filename`` (default ``index.html``) atomically; ``sections=None`` discovers them."""
    base = Path(root)
    if not base.is_dir():
        raise InvalidArgument(f"report folder {str(base)!r} does not exist")
    secs = discover_sections(base, exclude=(filename,)) if sections is None else list(sections)
    return atomic_write_text(base / filename, render_html(base, title, secs, intro=intro, max_rows=max_rows))


# ------------------------------------------------------------------------------------------ browser check
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$RDP_CHROMIUM`` first), or None."""
    env = os.environ.get("RDP_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class ImageCheck:
    """What a headless browser saw on a report page."""

    images: dict[str, bool]
    """``src`` → loaded (naturalWidth > 0), in page order (duplicates keep the last result)."""
    checked: int
    """Images the page script saw (−1 when the script did not run)."""

    @property
    def missing(self) -> list[str]:
        return [s for s, ok in self.images.items() if not ok]

    @property
    def ok(self) -> bool:
        """The script ran and every image loaded."""
        return self.checked >= 0 and not self.missing


def check_images_in_browser(page: str | os.PathLike[str], *, chromium: str | None = None,
                            timeout: float = 90.0) -> ImageCheck:
    """Open ``page`` in headless Chromium, let the page's own script mark its images, and read the
    marks back from the dumped DOM. Raises InvalidArgument when no browser is found or it fails."""
    exe = chromium or find_chromium()
    if exe is None:
        raise InvalidArgument("no Chromium found (install it: apt-get install -y chromium; or set RDP_CHROMIUM)")
    page_path = Path(page).resolve()
    if not page_path.is_file():
        raise InvalidArgument(f"no page at {str(page_path)!r}")
    with tempfile.TemporaryDirectory(prefix="rdp-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
               "--dump-dom", page_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InvalidArgument(f"headless Chromium failed: {exc}") from None
    dom = proc.stdout
    if proc.returncode != 0 or "<body" not in dom:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise InvalidArgument(f"headless Chromium exited with {proc.returncode}: {' | '.join(tail)}")
    m = re.search(r'<body[^>]*data-images-checked="(\d+)"', dom)
    checked = int(m.group(1)) if m else -1
    images: dict[str, bool] = {}
    for tag in re.findall(r"<img\b[^>]*>", dom):
        src = re.search(r'\bsrc="([^"]*)"', tag)
        loaded = re.search(r'\bdata-loaded="(yes|no)"', tag)
        if src:
            images[html.unescape(src.group(1))] = bool(loaded and loaded.group(1) == "yes")
    return ImageCheck(images=images, checked=checked)


__all__ = [
    "REPORT_FILE",
    "ImageCheck",
    "Section",
    "check_images_in_browser",
    "csv_to_html",
    "discover_sections",
    "find_chromium",
    "markdown_to_html",
    "render_html",
    "write_html_report",
]
