"""PDF from export Markdown: markdown-it-py → HTML with our print stylesheet → WeasyPrint.

The HTML is generic (any Markdown) with a few conventions the export Markdown follows:

* a first level-1 heading equal to ``title`` is the document's title: the title page shows
  it, so it is not repeated;
* a heading followed by a list of only in-document links is the Markdown's own table of
  contents: it is replaced by one with page numbers, built from the headings;
* headings of ``section_level`` and above start a new page (one right after another shares
  it) and are the entries of that table of contents;
* a deeper "Inputs" heading (an artifact's inputs) starts a block in smaller print that
  ends at the next heading of its level or above.

The Markdown is parsed by the renderer the web pages use (``core.markdown_html``): user
text is escaped, images are not rendered, and WeasyPrint fetches nothing, so an export
never reads a file or the network.
"""

from __future__ import annotations

import functools
import html
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any

from markdown_it.token import Token

from atelier.core.markdown_html import markdown_parser
from atelier.exports.document import ExportArtifact, ExportProject
from atelier.exports.markdown import (
    INPUTS_HEADING,
    Slugger,
    artifact_markdown,
    project_markdown,
)

TOC_TITLE = "Contents"


@functools.cache
def stylesheet() -> str:
    """The print stylesheet shipped with the package (pdf.css)."""
    return files("atelier.exports").joinpath("pdf.css").read_text(encoding="utf-8")


def _plain(inline: Token) -> str:
    parts = [
        child.content if child.type in ("text", "code_inline") else " "
        for child in inline.children or []
        if child.type in ("text", "code_inline", "softbreak", "hardbreak")
    ]
    return " ".join("".join(parts).split())


def _closing(tokens: list[Token], start: int) -> int:
    """Index of the token closing the block opened at ``start``."""
    opener = tokens[start]
    closer = opener.type.replace("_open", "_close")
    for index in range(start + 1, len(tokens)):
        if tokens[index].type == closer and tokens[index].level == opener.level:
            return index
    return len(tokens) - 1


def _is_link_list(tokens: list[Token], start: int, end: int) -> bool:
    """Whether every item of the list in tokens[start:end] is a link into the document."""
    items = 0
    for token in tokens[start:end]:
        if token.type != "inline":
            continue
        links = [c for c in token.children or [] if c.type == "link_open"]
        if not links or any(not str(c.attrGet("href") or "").startswith("#") for c in links):
            return False
        items += 1
    return items > 0


def _date_text(when: date | datetime | str | None) -> str:
    if isinstance(when, str):
        return when
    if when is None:
        when = datetime.now(UTC)
    if isinstance(when, datetime) and when.tzinfo is not None:
        when = when.astimezone(UTC)
    return f"{when.day} {when:%B %Y}"


def _css_string(text: str) -> str:
    """A CSS string literal for user text (for the footer's margin box)."""
    safe = " .,:;-_()/+@&!?'%\u00b7\u2013\u2014"  # middle dot, en and em dashes
    # CSS takes one space after a hex escape as its end: always write it, so that a real
    # space after the escaped character survives.
    chars = (c if c.isalnum() or c in safe else f"\\{ord(c):x} " for c in " ".join(text.split()))
    return '"' + "".join(chars) + '"'


def markdown_to_html(
    md: str,
    *,
    title: str,
    subtitle: str,
    footer_left: str,
    date: date | datetime | str | None = None,
    section_level: int = 2,
) -> str:
    """A printable HTML document: title page (title, subtitle, date), a table of contents
    with page numbers, then the Markdown, each section on a new page. ``footer_left`` goes
    in every page's footer beside "page X of Y"; ``date`` defaults to today."""
    parser = markdown_parser()
    env: dict[str, Any] = {}
    tokens = parser.parse(md, env)
    slugger = Slugger()
    dropped: set[int] = set()
    # HTML to put before the token at an index: the contents, the inputs' wrappers.
    inserts: dict[int, list[str]] = defaultdict(list)
    entries: list[tuple[int, str, str]] = []
    toc_at: int | None = None
    toc_title = TOC_TITLE
    inputs_level: int | None = None

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type != "heading_open":
            index += 1
            continue
        level = int(token.tag[1])
        text = _plain(tokens[index + 1])
        token.attrSet("id", slugger.slug(text))
        if inputs_level is not None and level <= inputs_level:
            inserts[index].append("</section>\n")
            inputs_level = None
        after = index + 3
        if index == 0 and level == 1 and text.casefold() == " ".join(title.split()).casefold():
            dropped.update(range(index, after))
        elif (
            toc_at is None
            and after < len(tokens)
            and tokens[after].type == "bullet_list_open"
            and _is_link_list(tokens, after, end := _closing(tokens, after))
        ):
            toc_at, toc_title = index, text or TOC_TITLE
            dropped.update(range(index, end + 1))
            index = end + 1
            continue
        elif level <= section_level:
            token.attrSet("class", "section")
            entries.append((level, text, str(token.attrGet("id"))))
            if toc_at is None:
                toc_at = index  # no Markdown contents list: ours goes before the first section
        elif text == INPUTS_HEADING:
            inserts[index].append('<section class="inputs">\n')
            inputs_level = level
        index += 3
    if inputs_level is not None:
        inserts[len(tokens)].append("</section>\n")
    inserts[len(tokens) if toc_at is None else toc_at].append(_toc_html(toc_title, entries))

    parts: list[str] = []
    start = 0
    for stop in [*sorted(inserts), len(tokens)]:
        kept = [t for i, t in enumerate(tokens[start:stop], start) if i not in dropped]
        parts.append(parser.renderer.render(kept, parser.options, env))
        parts.extend(inserts.pop(stop, []))
        start = stop
    body = "".join(parts)

    when = _date_text(date)
    esc = html.escape
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
<meta name="description" content="{esc(subtitle)}">
<meta name="generator" content="Atelier">
<style>
{stylesheet()}
</style>
<style>@page {{ @bottom-left {{ content: {_css_string(footer_left)}; }} }}</style>
</head>
<body>
<section class="title-page">
<p class="doc-kicker">Atelier export</p>
<h1 class="doc-title">{esc(title)}</h1>
<p class="doc-subtitle">{esc(subtitle)}</p>
<p class="doc-date">{esc(when)}</p>
</section>
<main>
{body}</main>
</body>
</html>
"""


def _toc_html(title: str, entries: list[tuple[int, str, str]]) -> str:
    if len(entries) < 2:
        return ""  # one section needs no table of contents
    top = min(level for level, _, _ in entries)
    items = "".join(
        f'<li class="toc-{level - top + 1}">'
        f'<a href="#{html.escape(anchor)}">{html.escape(text)}</a></li>\n'
        for level, text, anchor in entries
    )
    heading = f'<h2 class="toc-title">{html.escape(title)}</h2>'
    return f'<nav class="toc">\n{heading}\n<ul>\n{items}</ul>\n</nav>\n'


@functools.cache
def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):  # type: ignore[misc]
        """Refuses every URL: the document is self-contained and its text is users'."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"exports load no external resource ({url[:80]})")

    return NoFetching()


def render_pdf(
    md: str,
    *,
    title: str,
    subtitle: str,
    footer_left: str,
    date: date | datetime | str | None = None,
    section_level: int = 2,
) -> bytes:
    """The PDF of :func:`markdown_to_html`'s document."""
    # Imported here: WeasyPrint takes a while to load and only PDF exports need it.
    from weasyprint import HTML

    document = markdown_to_html(
        md,
        title=title,
        subtitle=subtitle,
        footer_left=footer_left,
        date=date,
        section_level=section_level,
    )
    pdf: bytes = HTML(string=document, url_fetcher=_fetcher()).write_pdf()
    return pdf


@dataclass(frozen=True, slots=True)
class PdfJob:
    """The arguments of one :func:`render_pdf` call."""

    md: str
    title: str
    subtitle: str
    footer_left: str
    date: str
    section_level: int

    def render(self) -> bytes:
        return render_pdf(
            self.md,
            title=self.title,
            subtitle=self.subtitle,
            footer_left=self.footer_left,
            date=self.date,
            section_level=self.section_level,
        )


def _subtitle(project: ExportProject) -> str:
    parts = [f"{project.pack.capitalize()} pack"]
    if project.phase:
        parts.append(f"phase: {project.phase}")
    if project.owner_name:
        parts.append(f"by {project.owner_name}")
    return " · ".join(parts)


def project_pdf_job(project: ExportProject) -> PdfJob:
    """What :func:`render_pdf` needs for a project's PDF: :func:`project_markdown` with
    the title page and footer filled in (plain strings, so it can go to another process)."""
    when = _date_text(project.exported_at)
    return PdfJob(
        md=project_markdown(project),
        title=project.name,
        subtitle=_subtitle(project),
        footer_left=f"{project.name} · {when}",
        date=when,
        section_level=2,
    )


def artifact_pdf_job(artifact: ExportArtifact, *, project: str, exported_at: datetime) -> PdfJob:
    """One artifact's PDF: the project's name on the title page, the artifact after it."""
    when = _date_text(exported_at)
    return PdfJob(
        md=artifact_markdown(artifact, level=1),
        title=artifact.name,
        subtitle=f"{artifact.tool_title} · {project}",
        footer_left=f"{project} · {artifact.name} · {when}",
        date=when,
        section_level=1,
    )


def project_pdf(project: ExportProject) -> bytes:
    """A project's PDF, rendered here (the API renders in a child process, see
    pdf_process)."""
    return project_pdf_job(project).render()


def artifact_pdf(artifact: ExportArtifact, *, project: str, exported_at: datetime) -> bytes:
    """One artifact's PDF, rendered here."""
    return artifact_pdf_job(artifact, project=project, exported_at=exported_at).render()
