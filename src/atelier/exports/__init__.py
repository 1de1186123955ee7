"""Exports of projects and artifacts: Markdown, and PDF from that Markdown.

No I/O and no database here: callers build :class:`ExportProject` / :class:`ExportArtifact`
and get text or bytes back.
"""

from __future__ import annotations

from atelier.exports.document import ExportArtifact, ExportProject
from atelier.exports.markdown import artifact_markdown, project_markdown

__all__ = ["ExportArtifact", "ExportProject", "artifact_markdown", "project_markdown"]
