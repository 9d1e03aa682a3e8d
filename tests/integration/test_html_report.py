"""The HTML report (audit/html_report.py): rendering, path checks, and every image loading in headless Chromium.

The browser tests need Chromium (Debian: ``apt-get install -y chromium``). They fail when it is missing;
set ``RDP_NO_BROWSER=1`` to skip them explicitly.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rdp.html_report import (  # noqa: E402
    Section,
    check_images_in_browser,
    csv_to_html,
    discover_sections,
    find_chromium,
    markdown_to_html,
    render_html,
    write_html_report,
)
from rdp_exact.errors import InvalidArgument  # noqa: E402


def require_browser() -> None:
    """Skip only on an explicit RDP_NO_BROWSER=1; otherwise a missing Chromium is a failure."""
    if os.environ.get("RDP_NO_BROWSER") == "1":
        pytest.skip("RDP_NO_BROWSER=1: browser checks disabled explicitly")
    if find_chromium() is None:
        pytest.fail("Chromium is required for the HTML report tests: apt-get install -y chromium "
                    "(or set RDP_NO_BROWSER=1 to skip them)")


def _png(path: Path, width_in: float = 2.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(width_in, 1.5))
    ax.plot([0, 1], [1, 0])
    fig.savefig(path, dpi=50)
    plt.close(fig)


@pytest.fixture()
def report_dir(tmp_path: Path) -> Path:
    root = tmp_path / "out"
    _png(root / "top.png")
    _png(root / "sub dir" / "fig one.png")
    (root / "sub dir" / "table.csv").write_text("name,value,count\nalpha,0.123456789,3\nbeta,,4\n<gamma>,inf,5\n")
    (root / "sub dir" / "report.md").write_text(
        "# Title\n\nSome **bold** text with `code` and a [link](fig%20one.png).\n\n"
        "| a | b |\n|---|---:|\n| 1 | 2 |\n\n- item one\n- item two\n\n```\nx < y\n```\n"
    )
    (root / "data.json").write_text("{}")
    return root


# ------------------------------------------------------------------------------------------ rendering
def test_markdown_subset_renders_structure() -> None:
    html = markdown_to_html("## Head\n\npara *x* <b>\n\n| p | q |\n|---|---:|\n| 1 | 2 |\n\n1. one\n2. two\n\n"
                            "```\na<b\n```\n[l](figs/a.png) [abs](https://example.org)", base="sub")
    assert "<h4>Head</h4>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # raw HTML is escaped
    assert "<table>" in html and "<th>p</th>" in html and 'text-align:right">2</td>' in html
    assert "<ol><li>one</li><li>two</li></ol>" in html
    assert "<pre><code>a&lt;b</code></pre>" in html
    assert 'href="sub/figs/a.png"' in html  # relative links are resolved from the Markdown file's folder
    assert 'href="https://example.org"' in html


def test_csv_table_truncates_and_formats(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("x,y\n" + "".join(f"{i},{i / 3}\n" for i in range(10)))
    html, n = csv_to_html(p, max_rows=4)
    assert n == 10
    assert html.count("<tr>") == 1 + 4
    assert "0.333333<" in html  # 6 significant digits


def test_discover_sections_groups_by_folder(report_dir: Path) -> None:
    secs = discover_sections(report_dir)
    assert [s.title for s in secs] == ["files", "sub dir"]
    assert secs[0].files == ("top.png", "data.json")
    assert secs[1].files == ("sub dir/fig one.png", "sub dir/report.md", "sub dir/table.csv")


def test_page_contents_and_escaping(report_dir: Path) -> None:
    page = render_html(report_dir, "Report <1>", discover_sections(report_dir), intro="first\n\nsecond")
    assert "<title>Report &lt;1&gt;</title>" in page
    assert page.count("<img ") == 2
    assert 'src="sub%20dir/fig%20one.png"' in page
    assert "&lt;gamma&gt;" in page  # CSV cells are escaped
    assert "0.123457" in page
    assert 'href="data.json"' in page  # other files are links
    assert "<p>first</p><p>second</p>" in page
    assert "http://" not in page.replace('href="https://', "")  # no external resources


@pytest.mark.parametrize("bad", ["../escape.png", "/abs/file.png", "missing.png"])
def test_bad_paths_are_refused(report_dir: Path, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        render_html(report_dir, "r", [Section("s", files=(bad,))])


def test_write_is_atomic_and_excludes_itself(report_dir: Path) -> None:
    p = write_html_report(report_dir, "r")
    assert p == report_dir / "index.html"
    again = write_html_report(report_dir, "r")  # the old index.html is not listed in the new one
    assert "index.html" not in re.sub(r"<title>.*?</title>", "", again.read_text())
    assert not [x for x in report_dir.iterdir() if x.name.startswith(".")]
    with pytest.raises(InvalidArgument):
        write_html_report(report_dir / "nope", "r")


# ------------------------------------------------------------------------------------------ browser
def test_every_image_loads_in_chromium(report_dir: Path) -> None:
    require_browser()
    page = write_html_report(report_dir, "r")
    res = check_images_in_browser(page)
    assert res.checked == 2
    assert set(res.images) == {"top.png", "sub%20dir/fig%20one.png"}
    assert res.ok, res.missing


def test_chromium_check_detects_a_missing_image(report_dir: Path, tmp_path: Path) -> None:
    require_browser()
    page = write_html_report(report_dir, "r")
    moved = tmp_path / "elsewhere"
    shutil.move(str(report_dir / "sub dir"), moved)
    res = check_images_in_browser(page)
    assert res.checked == 2
    assert res.missing == ["sub%20dir/fig%20one.png"]
    assert not res.ok
