"""A pack that exists only in the tests: what a third-party pack gets from the registry.

It has one table (``example_notes``) made by its own Alembic branch (``migrations/``),
one API route, a project page with a form (its own template and stylesheet) and one
more page, one job handler and one tool, and is registered with ``packs.add(PACK)``
exactly as its entry point would be. No engine file names it
(tests/packs/test_example_pack.py checks that).
"""

from __future__ import annotations

from atelier.packs.base import NavEntry, PackSpec, Persona, UploadKind

PACK = PackSpec(
    key="example",
    label="Example",
    description="A pack defined in the tests: notes on a project.",
    order=95,
    tools="tests.packs.example.tool:tools",
    api_routers=("tests.packs.example.api:router",),
    web_router="tests.packs.example.pages:router",
    web_templates="tests.packs.example:templates",
    web_static="tests.packs.example:static",
    project_page="tests.packs.example.pages:project_page",
    job_handlers="tests.packs.example.tasks:HANDLERS",
    nav=(NavEntry("Example notes", "/example/about"),),
    models_module="tests.packs.example.models",
    migrations="tests.packs.example:migrations",
    # Seed 003's screenshot rules, declared the way a pack declares its kinds of file.
    upload_kinds=(
        UploadKind(
            key="example_screenshot",
            label="Screenshot",
            max_bytes=10 * 1024 * 1024,
            content_types=("image/png", "image/jpeg"),
            min_side=100,
            max_side=10_000,
        ),
    ),
    # Seed 004's coach, declared the way a pack declares a chat persona: its replies read
    # the project's latest titles from the pack's tool.
    personas=(
        Persona(
            key="coach",
            name="Coach",
            description="Asks one question at a time about the project.",
            system_prompt=(
                "You are a coach for the project {project_name}. Ask one question at a "
                "time, in {language}."
            ),
            context_tools=("example_title",),
        ),
    ),
)
