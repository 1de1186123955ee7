"""Markdown → HTML: the one parser the web pages and the PDF export share.

Tool outputs, pipeline documents and exports are Markdown built from text that a model or
a person wrote, shown as HTML in pages and PDFs. Each place used to set up its own parser,
and the copies drifted (one let a tool's ``<br>`` through, another did not). With one
setup, a document reads the same everywhere and every place keeps the same safety rules:

* raw HTML is text (``html=False``): markdown-it escapes every piece of text, so what it
  renders can be put in a page as it is;
* a link to ``javascript:``, ``vbscript:``, ``file:`` or ``data:`` stays text
  (markdown-it's link validation, left on);
* images are not rendered: one would make a browser or WeasyPrint fetch a URL someone
  typed; ``![alt](url)`` shows as "!" and a link;
* tables (GitHub style) are on; linkify and typographic replacements are off, so text is
  shown as written;
* ``<br>`` is a line break: how a tool's own Markdown breaks a line in a table cell. It is
  the only HTML let through. User text never has one: the exporter's ``escape_inline``
  turns its "<" into "\\<", which the escape rule consumes first.

Callers that need the tokens (the PDF adds heading ids and a table of contents) walk
:func:`markdown_parser`'s output; everyone else calls :func:`render_markdown`.
"""

from __future__ import annotations

import functools
import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _line_break(state: StateInline, silent: bool) -> bool:
    """A raw ``<br>``, ``<br/>`` or ``<BR />`` as a hard line break (see the module)."""
    match = _LINE_BREAK.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        state.push("hardbreak", "br", 0)
    state.pos = match.end()
    return True


@functools.cache
def markdown_parser() -> MarkdownIt:
    """The shared parser. Treat it as read-only: a rule changed here changes every page
    and every PDF."""
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable("table")
    parser.disable("image")
    # After "escape", so that an escaped "\<br>" stays text.
    parser.inline.ruler.before("autolink", "line_break", _line_break)
    return parser


def render_markdown(text: str) -> str:
    """``text`` as HTML, safe to embed unescaped (every piece of text is escaped)."""
    html: str = markdown_parser().render(text)
    return html
