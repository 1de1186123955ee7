"""The account settings area of the web UI: one router for its tabs, each in its module.

* ``pages_profile``: ``/settings`` and ``/settings/profile``;
* ``pages_api_keys``: ``/settings/api-keys``;
* ``pages_ai_providers``: ``/settings/providers`` and each provider's edit page;
* ``pages_local_models``: ``/settings/models``.

What the tabs share is in ``settings_tabs``; the Organizations tab is ``pages_orgs`` (its
own router, mounted beside this one).
"""

from __future__ import annotations

from fastapi import APIRouter

from atelier.web import pages_ai_providers, pages_api_keys, pages_local_models, pages_profile

# The one router mount.py includes. No two tabs share a path, so their order does not
# matter; it is the order of the tab bar.
router = APIRouter(include_in_schema=False)
router.include_router(pages_profile.router)
router.include_router(pages_ai_providers.router)
router.include_router(pages_local_models.router)
router.include_router(pages_api_keys.router)
