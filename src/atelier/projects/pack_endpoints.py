"""``GET /api/v1/packs``: the installed packs, the values a project's ``pack`` may take."""

from __future__ import annotations

from fastapi import APIRouter

from atelier.accounts.deps import CurrentUser
from atelier.core.packs import packs
from atelier.core.schemas import OutputModel

router = APIRouter(tags=["packs"])


class PackStageOut(OutputModel):
    number: int
    name: str
    label: str
    summary: str
    tool_key: str


class PackOut(OutputModel):
    key: str
    label: str
    description: str
    # The ordered stages of a pipeline pack; empty for the others.
    stages: list[PackStageOut]


class PackList(OutputModel):
    items: list[PackOut]


@router.get("/packs", response_model=PackList)
async def list_packs(user: CurrentUser) -> PackList:
    """Every installed pack, in display order: what ``POST /projects`` accepts as ``pack``."""
    return PackList(
        items=[
            PackOut(
                key=spec.key,
                label=spec.label,
                description=spec.description,
                stages=[
                    PackStageOut(
                        number=stage.number,
                        name=stage.name,
                        label=stage.label,
                        summary=stage.summary,
                        tool_key=stage.tool_key,
                    )
                    for stage in getattr(spec, "pipeline", None) or ()
                ],
            )
            for spec in packs.all()
        ]
    )
