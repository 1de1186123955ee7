"""An artifact's output as the pages show it: the export's Markdown, rendered as HTML.

Pages show the same Markdown the exports write (minus the title and metadata lines, which
the page has as its own header), so a document reads the same on screen, in a download
and in a PDF.
"""

from __future__ import annotations

from typing import Any

import orjson
from markupsafe import Markup

from atelier.ai.tools import Tool
from atelier.artifacts.models import Artifact, ArtifactVersion, VersionFormat
from atelier.core.markdown_html import render_markdown
from atelier.exports.document import ExportArtifact
from atelier.exports.markdown import artifact_markdown


def output_markdown(artifact: Artifact, tool: Tool | None, data: Any) -> str:
    """The output as the exports write it, without their title and metadata lines (the
    page has its own): the blocks after the first two."""
    document = ExportArtifact(
        id=str(artifact.id),
        name=artifact.name,
        tool_key=artifact.type,
        tool_title=tool.title if tool else artifact.type,
        phase=tool.phase if tool else None,
        status=artifact.status.value,
        version=None,
        generated_by=None,
        updated_at=artifact.updated_at,
        input_data={},
        output_data=data,
        tool=tool,
    )
    parts = artifact_markdown(document, level=1).split("\n\n", 2)
    return parts[2] if len(parts) == 3 else ""


def markdown_html(text: str) -> Markup:
    """Markdown as page HTML, its tables dressed in the page's table style."""
    html = render_markdown(text)
    # Tables scroll sideways on a phone instead of widening the page. Plain replacing is
    # safe: text is escaped, so "<table>" can only be the renderer's own tag.
    html = html.replace("<table>", '<div class="table-wrap"><table class="table">').replace(
        "</table>", "</table></div>"
    )
    # The shared renderer has escaped every piece of text already.
    return Markup(html)


def document_html(artifact: Artifact, tool: Tool | None, data: Any) -> Markup:
    """An output as the artifact page shows it: the export's Markdown, as HTML."""
    return markdown_html(output_markdown(artifact, tool, data))


def version_data(version: ArtifactVersion) -> Any:
    """A version's content as its output: JSON parsed, any other format as text."""
    if version.format == VersionFormat.JSON:
        return orjson.loads(version.content)
    return version.content
