"""Routes that span domains: a project with its pack's stages, an artifact with its AI tool.

Each domain serves its own single-domain routes (``projects/endpoints.py``,
``artifacts/endpoints.py``, ...). A route that must also create stages, check inputs
against a tool, or start a generation lives here instead, above every domain it uses, so
that no domain imports one above it (``.importlinter``). The paths are the same as if the
domain served them.
"""
