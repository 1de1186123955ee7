"""``PackSpec``: everything a pack gives the engine, in one object.

A pack is one folder (``atelier/packs/<key>/`` for the built-in ones, any importable
package for a third-party one) whose ``__init__`` defines ``PACK = PackSpec(...)``, and
one entry point that names it::

    [project.entry-points."atelier.packs"]
    sdp = "atelier.packs.sdp:PACK"

The engine loops over the registry (``atelier.core.packs``) and never imports a pack by
name: the app includes each pack's API routers, the web UI its page router, project
pages and navigation entries, the job runner its job handlers, the tool registry its
tools, project creation checks the pack key against the registry and creates the
pipeline's stages, Alembic sees the tables of its models module, and the templates
catalogue offers its templates.

What a process may not need is named by a ``"package.module:attribute"`` reference and
imported on first use (``atelier.core.packs.resolve``): routers, pages, tools, job
handlers, models. The pipeline and the templates are plain data. See docs/packs.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atelier.conversations.persona_spec import Persona
from atelier.projects.stage_spec import StageSpec
from atelier.projects.template_spec import TemplateSpec
from atelier.uploads.kind_spec import UploadKind

__all__ = ["NavEntry", "PackSpec", "Persona", "UploadKind"]


@dataclass(frozen=True, slots=True)
class NavEntry:
    """A link in the web UI's navigation bar."""

    label: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PackSpec:
    key: str  # stored in projects.pack; lower case, at most 32 characters
    label: str  # for people: "Software design"
    description: str  # one or two sentences, shown when a project is created
    order: int = 100  # where it comes in lists (lower first)
    # "module:function" returning the pack's Tool instances.
    tools: str | None = None
    # "module:router" references of APIRouters, included under /api/v1.
    api_routers: tuple[str, ...] = ()
    # "module:router" of the pack's page routes (included in the web UI).
    web_router: str | None = None
    # "module:function" ``(request, session, access) -> Response``: the project's page.
    project_page: str | None = None
    # "module:function" ``(project) -> str``: where a project is, on its dashboard card.
    progress: str | None = None
    nav: tuple[NavEntry, ...] = ()
    # The pack's badge on project cards and pages: (background, text) CSS colours.
    badge_colors: tuple[str, str] = ("#eef1f5", "#5b6472")
    # "package:folder" added to the pages' template search path. Keep the templates in a
    # subfolder named after the key ("folder/<key>/page.html") so that names never clash.
    web_templates: str | None = None
    # "package:folder" served at /static/packs/<key>/ (the pack's CSS, scripts, images).
    web_static: str | None = None
    # "module:mapping" of job kind → ``async (runtime, job_id, control) -> result``.
    job_handlers: str | None = None
    # The ordered stages, for a pack whose projects move through a pipeline.
    pipeline: tuple[StageSpec, ...] | None = None
    # "module:object" of the pipeline's StageHooks (stages/hooks.py): hand-written
    # outputs' models, deterministic stages, a stage's files. None: the plain defaults.
    stage_hooks: str | None = None
    # The module that defines the pack's ORM models (tables prefixed with the key).
    models_module: str | None = None
    # "package:folder" of the pack's own Alembic revisions: a branch labelled with the pack
    # key, whose first revision ``depends_on`` the engine revision it builds on. The engine
    # adds the folder to its version locations (``atelier.migrate``). Packs shipped in this
    # repository keep their revisions in the engine's own tree instead.
    migrations: str | None = None
    # "module:attribute" of the pack's MCP resources and tools, if it serves any
    # (an ``atelier.mcp.server.PackMCP``, for the projects of the pack).
    mcp: str | None = None
    # "module:attribute" of the pack's project packages, if its projects have them (an
    # ``atelier.exports.packages.PackageHooks``): what an export stores, and the project
    # an uploaded package becomes.
    packages: str | None = None
    upload_kinds: tuple[UploadKind, ...] = ()
    # Voices for the pack's chats (a coach, a reviewer, ...): conversations pick one by key.
    personas: tuple[Persona, ...] = ()
    templates: tuple[TemplateSpec, ...] = field(default=())

    def __post_init__(self) -> None:
        key = self.key
        if not (1 <= len(key) <= 32 and key.isascii() and key.replace("_", "").isalnum()):
            raise ValueError(f"a pack key is 1-32 ASCII letters, digits or _: {key!r}")
        if key != key.lower():
            raise ValueError(f"a pack key is lower case: {key!r}")
        numbers = [stage.number for stage in self.pipeline or ()]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"pack {key!r}: pipeline stages must be numbered 1..n in order")
