"""The software design pipeline pack (seed 001): nine stages from product definition to an
exported, cross-checked Software Design Package.

stages.py        the nine stages, their labels and package folders (the shared contract)
stage_tools.py   one tool per AI stage; prompts/ holds their templates
datamodel*.py    the data model in seed 001's shapes, and its Markdown
sqlgen.py        SQL for SQLite and PostgreSQL, compiled from the data model
api_spec.py      the API stage's endpoints and the OpenAPI 3.1 document rendered from them
crossref.py      deterministic cross-reference validation of a package
package.py       a package's files, index and manifest (pure)
service.py       the deterministic stages and package snapshots on the database
templates.py     the built-in project templates
pages*.py        the web pages (overview, stages, versions, validation, exports, MCP)
web.py           their routers joined: the pack's web_router
templates/sdp/   the pages' Jinja templates (web_templates); static/ their CSS and
                 scripts, served at /static/packs/sdp/ (web_static)
er_diagram.py    the data model's ER diagram, an SVG drawn on the server
stage_hooks.py   the engine's stage endpoints' questions answered (models, compiled stages)
package_files.py its package export and import (the engine's exports.packages hooks)
package_endpoints.py  GET/POST of packages: the pack's api_routers
mcp.py           the package's MCP resources and tools, served per project token
"""

from __future__ import annotations

from atelier.packs.base import PackSpec
from atelier.packs.sdp.stages import STAGES
from atelier.packs.sdp.templates import BUILT_IN_TEMPLATES

PACK = PackSpec(
    key="sdp",
    label="Software design",
    description=(
        "Nine stages from the product definition to the data model, SQL, API, stack and "
        "an export package for coding agents."
    ),
    order=20,
    badge_colors=("#e2f5f3", "#0e6c62"),
    tools="atelier.packs.sdp.stage_tools:tools",
    api_routers=("atelier.packs.sdp.package_endpoints:router",),
    web_router="atelier.packs.sdp.web:router",
    web_templates="atelier.packs.sdp:templates",
    web_static="atelier.packs.sdp:static",
    project_page="atelier.packs.sdp.pages:project_page",
    progress="atelier.packs.sdp.stages:progress",
    pipeline=STAGES,
    stage_hooks="atelier.packs.sdp.stage_hooks:HOOKS",
    mcp="atelier.packs.sdp.mcp:MCP",
    packages="atelier.packs.sdp.package_files:HOOKS",
    templates=BUILT_IN_TEMPLATES,
)
