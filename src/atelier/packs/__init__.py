"""Built-in packs. Each pack module has a ``register(registry)`` function."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atelier.ai.tools import ToolRegistry


def register_builtin_packs(registry: ToolRegistry) -> None:
    from atelier.packs import general, sdp, strategy

    general.register(registry)
    strategy.register(registry)
    sdp.register(registry)
