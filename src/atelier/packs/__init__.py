"""The built-in packs: ``general``, ``strategy`` and ``sdp``, one folder each.

Each folder's ``__init__`` defines ``PACK``, a ``PackSpec`` (``packs/base.py``), and is
registered through the ``atelier.packs`` entry point group in ``pyproject.toml``, exactly
as a third-party pack is: nothing outside ``atelier.packs`` imports them.
"""
