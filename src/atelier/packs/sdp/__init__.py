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
    tools="atelier.packs.sdp.stage_tools:tools",
    project_page="atelier.web.pages_sdp:project_page",
    progress="atelier.packs.sdp.stages:progress",
    pipeline=STAGES,
    templates=BUILT_IN_TEMPLATES,
)
