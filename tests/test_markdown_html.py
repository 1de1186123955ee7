"""The shared Markdown renderer (core.markdown_html): the safety and layout rules every page
and the PDF export rely on, and that each of them now gets from the same parser."""

from __future__ import annotations

import pytest

from atelier.core.markdown_html import markdown_parser, render_markdown
from atelier.exports import pdf
from atelier.packs.sdp.pages import file_views
from atelier.web.artifact_document import markdown_html

TABLE_WITH_BREAK = "| a |\n| --- |\n| x<br>y |\n"


def test_raw_html_is_text() -> None:
    html = render_markdown('<script>alert(1)</script>\n\nsay <b onclick="x()">hi</b>')
    assert "<script" not in html and "<b" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b onclick=&quot;x()&quot;&gt;hi&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "md",
    [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "<javascript:alert(1)>",
        "[click](vbscript:msgbox(1))",
        "[click](file:///etc/passwd)",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_dangerous_links_stay_text(md: str) -> None:
    html = render_markdown(md)
    assert "<a " not in html
    assert "href" not in html


def test_ordinary_links_are_links() -> None:
    assert '<a href="https://example.com/a">site</a>' in render_markdown(
        "[site](https://example.com/a)"
    )
    assert '<a href="#goals">Goals</a>' in render_markdown("[Goals](#goals)")


def test_images_are_not_rendered() -> None:
    html = render_markdown("![chart](https://example.com/tracker.png)")
    assert "<img" not in html
    assert "!" in html  # the alt text's "!" and a plain link remain, nothing is loaded


def test_tables_render() -> None:
    html = render_markdown("| Name | Cost |\n| --- | ---: |\n| Tea | 3 |\n")
    assert "<table>" in html
    assert "<th>Name</th>" in html
    assert '<td style="text-align:right">3</td>' in html


def test_br_is_a_line_break_and_nothing_else_is_html() -> None:
    html = render_markdown("| a |\n| --- |\n| x<br>y<BR/>z<br />w <br onclick=x> |\n")
    assert "<td>x<br />\ny<br />\nz<br />\nw &lt;br onclick=x&gt;</td>" in html


def test_escaped_br_and_br_in_code_stay_text() -> None:
    # The exporter escapes a user's "<" as "\<": the escape rule runs first.
    assert render_markdown("a \\<br\\> b") == "<p>a &lt;br&gt; b</p>\n"
    assert render_markdown("`a<br>b`") == "<p><code>a&lt;br&gt;b</code></p>\n"
    assert "&lt;br&gt;" in render_markdown("```\na<br>b\n```")


def test_text_is_shown_as_written() -> None:
    # No linkify, no typographer: URLs stay text, quotes and dashes are not replaced.
    html = render_markdown('see https://example.com -- "quoted" (c)')
    assert html == "<p>see https://example.com -- &quot;quoted&quot; (c)</p>\n"


def test_one_parser_is_shared() -> None:
    assert markdown_parser() is markdown_parser()


def test_every_place_renders_a_tools_line_break() -> None:
    """The artifact page, the pipeline stage page and the PDF read the same Markdown the
    same way (the stage page once showed "<br>" as text)."""
    artifact_page = markdown_html(TABLE_WITH_BREAK)
    (stage_file,) = file_views({"docs/notes.md": TABLE_WITH_BREAK})
    document = pdf.markdown_to_html(TABLE_WITH_BREAK, title="T", subtitle="S", footer_left="F")
    for html in (str(artifact_page), str(stage_file.html), document):
        assert "<td>x<br />\ny</td>" in html


def test_the_artifact_page_wraps_tables_to_scroll() -> None:
    html = markdown_html("| a |\n| --- |\n| b |\n\n`<table>`")
    assert html.startswith('<div class="table-wrap"><table class="table">')
    assert "</table></div>" in html
    assert "<code>&lt;table&gt;</code>" in html  # text that looks like a table stays text
