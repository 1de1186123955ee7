"""The registry of installed packs, found through the ``atelier.packs`` entry point group.

A pack is a product on the engine (strategy, software design, ...): one folder that owns
its tools, tables, routes, pages, jobs and pipeline, described by one ``PackSpec``
(``atelier.packs.base``). The engine never imports a pack by name: every pack, the
built-in ones included, is declared as an entry point (``pyproject.toml``), so a pack
installed from another distribution has exactly the same powers.

This module is the lowest layer, so it knows a spec only by the few attributes every
layer agrees on (``PackLike``); each layer reads the part it owns through a typed
accessor of its own (the pipeline in ``projects.catalog``, tools in ``ai.tools``, job
handlers in ``jobs.tasks``, routers in ``app``).

An entry point names either a spec or a function that returns one. A pack that fails to
load is logged and left out: one broken third-party pack must not stop the server.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import structlog

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "atelier.packs"


@runtime_checkable
class PackLike(Protocol):
    """What the registry needs of a pack's spec."""

    @property
    def key(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def order(self) -> int: ...


def resolve(reference: str) -> Any:
    """The object a ``"package.module:attribute"`` reference names, imported on first use:
    a spec names its routers, pages and tools this way, so that reading the registry
    imports no pack code a process does not use (the CLI needs no web pages)."""
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def resolve_folder(reference: str) -> Path:
    """The folder a ``"package:folder"`` reference names, inside the installed package
    (a pack's migrations, templates or static files), without importing the package."""
    package, _, folder = reference.partition(":")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{reference!r}: {package!r} is not an installed package")
    path = Path(next(iter(spec.submodule_search_locations))) / folder
    if not path.is_dir():
        raise ValueError(f"{reference!r}: there is no folder {path}")
    return path


class PackRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, Any] = {}
        self._loaded = False
        self._lock = threading.Lock()

    def add(self, spec: Any) -> None:
        """Register ``spec`` (an entry point's, or a test's own pack)."""
        if not isinstance(spec, PackLike):
            raise TypeError(f"{spec!r} is not a pack spec (it needs key, label and order)")
        if spec.key in self._specs and self._specs[spec.key] is not spec:
            raise ValueError(f"two packs have the key {spec.key!r}")
        self._specs[spec.key] = spec

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            for point in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    found = point.load()
                    spec = found if isinstance(found, PackLike) else found()
                    self.add(spec)
                except Exception:
                    log.exception("pack_failed_to_load", entry_point=point.name)
            self._loaded = True

    def all(self) -> list[Any]:
        """Every pack, in display order (then by key)."""
        self._load()
        return sorted(self._specs.values(), key=lambda spec: (spec.order, spec.key))

    def get(self, key: str) -> Any | None:
        self._load()
        return self._specs.get(key)

    def keys(self) -> list[str]:
        return [spec.key for spec in self.all()]


# One per process, like the tool registry it feeds.
packs = PackRegistry()
