"""The software design pack's page routes (``PackSpec.web_router``): the pipeline's pages
(``pages``) and a stage's versions (``pages_stage_versions``), in that order.

Two modules because the versions pages build on the stage page's helpers; one router here
because a pack names one.
"""

from __future__ import annotations

from fastapi import APIRouter

from atelier.packs.sdp import pages, pages_stage_versions

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(pages_stage_versions.router)
