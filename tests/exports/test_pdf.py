"""PDF exports: the HTML we hand WeasyPrint, and the PDF read back with poppler's tools."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from atelier.exports import ExportProject, project_markdown
from atelier.exports.pdf import (
    _css_string,
    _fetcher,
    artifact_pdf,
    markdown_to_html,
    project_pdf,
    render_pdf,
    stylesheet,
)
from tests.exports.samples import WHEN, brief_artifact, journey_artifact, project

needs_poppler = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdfinfo", "pdftoppm")),
    reason="poppler-utils is not installed (make system-deps)",
)


def sample_project() -> ExportProject:
    return project(
        [
            journey_artifact(1, stages=40),  # a table longer than a page
            brief_artifact(2),
            brief_artifact(4),  # same phase as 2: still its own page
            brief_artifact(3, phase=None, output_data=None, name="Draft <b>brief</b>"),
        ]
    )


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "project.pdf"
    path.write_bytes(project_pdf(sample_project()))
    return path


def pages_of(pdf: Path) -> list[str]:
    """The text of each page (pdftotext -layout separates pages with form feeds)."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return out.split("\f")[:-1]


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    match = re.search(r"^Pages:\s+(\d+)$", info.stdout, flags=re.M)
    assert match, info.stdout
    return int(match.group(1))


def flat(text: str) -> str:
    return " ".join(text.split())


# --- HTML ----------------------------------------------------------------------------------


def test_html_title_page_contents_and_sections() -> None:
    md = project_markdown(sample_project())
    html = markdown_to_html(
        md, title="Harbour Tide", subtitle="General pack", footer_left="Harbour Tide", date=WHEN
    )
    assert '<h1 class="doc-title">Harbour Tide</h1>' in html
    assert '<p class="doc-subtitle">General pack</p>' in html
    assert '<p class="doc-date">14 March 2025</p>' in html
    # The Markdown's own title is on the title page, not repeated in the body.
    assert '<h1 id="harbour-tide"' not in html
    # Its contents list is replaced by one with page numbers (target-counter in the CSS).
    assert html.count('class="toc-title"') == 1
    assert '<li class="toc-1"><a href="#discover">Discover</a></li>' in html
    assert '<li class="toc-2"><a href="#journey-1">Journey 1</a></li>' in html
    assert "target-counter(attr(href), page)" in stylesheet()
    assert html.index('class="toc"') < html.index('<h1 id="discover" class="section">')
    assert '<h2 id="brief-2" class="section">' in html
    # The description and metadata stay before the contents.
    assert html.index("Tools for coastal skippers") < html.index('class="toc"')
    # Inputs are wrapped for smaller print, closed before the next section.
    assert html.count('<section class="inputs">') == 4
    assert html.count("</section>") == 4 + 1  # and the title page's
    assert re.search(r'<section class="inputs">\n<h3 id="inputs[-\d]*">Inputs</h3>', html)


def test_html_escapes_user_text_and_loads_nothing() -> None:
    md = (
        "# Doc\n\n<script>alert(1)</script>\n\n![pixel](http://169.254.169.254/x.png)\n\n"
        "![local](file:///etc/passwd)\n\n[link](javascript:alert(1))\n"
    )
    title = 'Evil </title><script>"x"</script>'
    footer = 'Foot "quoted" </style><script>\\ end'
    html = markdown_to_html(md, title=title, subtitle="<i>s</i>", footer_left=footer)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html  # images are not rendered, so never fetched
    assert 'href="javascript' not in html
    assert "&lt;i&gt;s&lt;/i&gt;" in html
    # The footer text is a CSS string: no way out of it, or out of the <style>.
    footer_css = _css_string(footer)
    assert footer_css in html
    assert "</style" not in footer_css and '"' not in footer_css[1:-1]
    with pytest.raises(ValueError, match="no external resource"):
        _fetcher().fetch("file:///etc/passwd")


def test_raw_line_breaks_from_tools_only() -> None:
    # A tool's own Markdown may break a table cell's line with <br>; user text cannot.
    md = "| a |\n| --- |\n| x<br>y<BR/>z \\<br\\> |\n"
    html = markdown_to_html(md, title="T", subtitle="", footer_left="")
    assert "<td>x<br />\ny<br />\nz &lt;br&gt;</td>" in html


def test_generated_contents_without_a_markdown_one() -> None:
    md = "# One\n\ntext\n\n## Sub\n\n# Two\n\n## Sub\n"
    html = markdown_to_html(md, title="T", subtitle="", footer_left="", section_level=1)
    assert '<li class="toc-1"><a href="#one">One</a></li>' in html
    assert '<li class="toc-1"><a href="#two">Two</a></li>' in html
    assert "#sub" not in html  # only section-level headings are listed
    assert '<h2 id="sub-1">' in html
    # A single section needs no contents.
    assert 'class="toc"' not in markdown_to_html("# Only\n", title="T", subtitle="", footer_left="")


# --- PDF -------------------------------------------------------------------------------------


@needs_poppler
def test_pdf_text_has_titles_values_and_table_cells(pdf_file: Path) -> None:
    pages = pages_of(pdf_file)
    assert len(pages) == page_count(pdf_file) > 1
    text = flat("\n".join(pages))
    assert "Harbour Tide" in pages[0]
    assert "General pack · phase: define · by Ann Example" in flat(pages[0])
    for title in ("Journey 1", "Brief 2", "Brief 4", "Draft <b>brief</b>", "Discover", "Other"):
        assert title in text, title
    # Field values, list items, inputs.
    for value in (
        "Tide tables for skippers 2",
        "Book a berth in under two minutes",
        "Tide data licences | cost",
        "Berths booked online per week",
        "Tell skippers when they can safely leave harbour.",
        "No output yet: this artifact has not been generated.",
    ):
        assert value in text, value
    # Table cells: short ones come out whole, one per table row.
    for cell in ("Online share", "Time to book", "Repeat bookings", "Mobile web", "delighted"):
        assert cell in text, cell
    assert "Step 40: Book" in text


@needs_poppler
def test_pdf_footer_numbering_and_title_page(pdf_file: Path) -> None:
    pages = pages_of(pdf_file)
    total = len(pages)
    # The title page has no footer; every other page has the project, date and "page X of Y".
    assert "page 1 of" not in pages[0]
    for number, page in enumerate(pages[1:], 2):
        last = [line for line in page.splitlines() if line.strip()][-1]
        assert "Harbour Tide · 14 March 2025" in last, last
        assert re.search(rf"page {number} of {total}\s*$", last), last


@needs_poppler
def test_pdf_contents_page_numbers_point_at_the_sections(pdf_file: Path) -> None:
    pages = pages_of(pdf_file)
    contents = pages[1]
    assert "Contents" in contents
    numbers = {}
    for name in ("Discover", "Journey 1", "Define", "Brief 2", "Brief 4", "Other"):
        match = re.search(rf"^\s*{re.escape(name)}\s*\.{{3,}}\s*(\d+)\s*$", contents, flags=re.M)
        assert match, (name, contents)
        numbers[name] = int(match.group(1))
    # Each artifact starts its own page, and the number is where its heading is.
    assert len({numbers["Journey 1"], numbers["Brief 2"], numbers["Brief 4"]}) == 3
    for name, number in numbers.items():
        body = [line.strip() for line in pages[number - 1].splitlines() if line.strip()]
        assert name in body[1:4], (name, body[:4])  # after the running header


@needs_poppler
def test_pdf_long_table_repeats_its_header(pdf_file: Path) -> None:
    pages = pages_of(pdf_file)
    header = re.compile(r"Step\s+Channel\s+Emotion\s+Pain Points\s+Score")
    with_header = [i for i, page in enumerate(pages) if header.search(page)]
    assert len(with_header) >= 2
    assert with_header[1] == with_header[0] + 1  # the continuation page


@needs_poppler
def test_pdf_pages_render_to_png(pdf_file: Path, tmp_path: Path) -> None:
    pages = pages_of(pdf_file)
    table_page = next(i for i, p in enumerate(pages, 1) if "Step 40: Book" in p)
    for number in (1, table_page):
        prefix = tmp_path / f"p{number}"
        pick = ["-f", str(number), "-l", str(number), "-singlefile"]
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", *pick, str(pdf_file), str(prefix)], check=True
        )
        png = prefix.with_suffix(".png")
        assert png.exists() and png.stat().st_size > 3000
        with Image.open(png) as image:
            assert image.size[0] > 400 and image.size[1] > 600  # A4 at 60 dpi: 496 x 702
            darkest, lightest = image.convert("L").getextrema()
            assert darkest < 100 and lightest > 200  # ink on paper, not a blank page


@needs_poppler
def test_single_artifact_pdf(tmp_path: Path) -> None:
    path = tmp_path / "artifact.pdf"
    path.write_bytes(artifact_pdf(brief_artifact(2), project="Harbour Tide", exported_at=WHEN))
    pages = pages_of(path)
    assert "Brief 2" in pages[0] and "Brief · Harbour Tide" in pages[0]
    text = flat("\n".join(pages[1:]))
    assert "Tide tables for skippers 2" in text and "Inputs" in text
    assert "Harbour Tide · Brief 2 · 14 March 2025" in text


def test_render_pdf_returns_a_pdf() -> None:
    pdf = render_pdf("# A\n\ntext\n", title="A", subtitle="s", footer_left="f")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
