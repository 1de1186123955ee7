"""/ai-providers, /tools, /ai-generations and /usage (generating: ``api/artifacts.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select

from atelier.accounts.deps import CurrentUser
from atelier.ai import service
from atelier.ai import usage as usage_service
from atelier.ai.deps import Runtime
from atelier.ai.schemas import (
    AIGenerationOut,
    ProviderCreate,
    ProviderOut,
    ProviderTestOut,
    ProviderUpdate,
    ToolOut,
)
from atelier.ai.tools import Tool
from atelier.core.db import utcnow
from atelier.core.deps import DB, Paging
from atelier.core.errors import NotFound
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.projects.access import load_project, visible_to
from atelier.projects.models import Project

providers_router = APIRouter(prefix="/ai-providers", tags=["ai providers"])
tools_router = APIRouter(prefix="/tools", tags=["tools"])
audit_router = APIRouter(tags=["ai usage"])


# ------------------------------------------------------------------ providers
@providers_router.post("", status_code=status.HTTP_201_CREATED, response_model=ProviderOut)
async def create_provider(
    body: ProviderCreate, user: CurrentUser, session: DB, runtime: Runtime
) -> ProviderOut:
    config = await service.create_config(
        session, user=user, runtime=runtime, data=body.model_dump()
    )
    return ProviderOut.model_validate(config)


@providers_router.get("", response_model=Page[ProviderOut])
async def list_providers(user: CurrentUser, session: DB, page: Paging) -> Page[ProviderOut]:
    rows, cursor = await service.list_configs(
        session, user=user, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[ProviderOut.model_validate(c) for c in rows], next_cursor=cursor)


@providers_router.get("/{provider_id}", response_model=ProviderOut)
async def get_provider(provider_id: uuid.UUID, user: CurrentUser, session: DB) -> ProviderOut:
    return ProviderOut.model_validate(
        await service.load_config(session, user=user, config_id=provider_id)
    )


@providers_router.patch("/{provider_id}", response_model=ProviderOut)
async def update_provider(
    provider_id: uuid.UUID, body: ProviderUpdate, user: CurrentUser, session: DB, runtime: Runtime
) -> ProviderOut:
    config = await service.load_config(session, user=user, config_id=provider_id, write=True)
    config = await service.update_config(
        session, config=config, runtime=runtime, changes=body.model_dump(exclude_unset=True)
    )
    return ProviderOut.model_validate(config)


@providers_router.delete("/{provider_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_provider(provider_id: uuid.UUID, user: CurrentUser, session: DB) -> Response:
    config = await service.load_config(session, user=user, config_id=provider_id, write=True)
    await session.delete(config)
    await session.flush()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@providers_router.post(
    "/{provider_id}/test", response_model=ProviderTestOut, responses=error_responses(402, 409)
)
async def test_provider(
    provider_id: uuid.UUID, user: CurrentUser, session: DB, runtime: Runtime
) -> ProviderTestOut:
    config = await service.load_config(session, user=user, config_id=provider_id)
    return ProviderTestOut(**await service.test_config(session, config, runtime, user=user))


# ------------------------------------------------------------------ tools
def tool_out(tool: Tool) -> ToolOut:
    return ToolOut(
        key=tool.key,
        title=tool.title,
        description=tool.description,
        pack=tool.pack,
        phase=tool.phase,
        prompt_template=tool.prompt_name(),
        input_schema=tool.input_model.model_json_schema(),
        output_schema=tool.output_model.model_json_schema(),
    )


@tools_router.get("", response_model=Page[ToolOut])
async def list_tools(
    user: CurrentUser,
    runtime: Runtime,
    pack: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ToolOut]:
    tools = [t for t in runtime.tools.all() if pack is None or t.pack == pack]
    return Page(items=[tool_out(t) for t in tools], next_cursor=None)


@tools_router.get("/{tool_key}", response_model=ToolOut)
async def get_tool(tool_key: str, user: CurrentUser, runtime: Runtime) -> ToolOut:
    tool = runtime.tools.get(tool_key)
    if tool is None:
        raise NotFound(f"no tool named {tool_key!r}", code="tool_not_found")
    return tool_out(tool)


# ------------------------------------------------------------------ audit and usage
@audit_router.get(
    "/ai-generations",
    response_model=Page[AIGenerationOut],
    responses=error_responses(404, s404="no such project (`project_id`) among yours"),
)
async def list_generations(
    user: CurrentUser,
    session: DB,
    page: Paging,
    project_id: uuid.UUID | None = None,
    artifact_id: uuid.UUID | None = None,
) -> Page[AIGenerationOut]:
    rows, cursor = await usage_service.list_generations(
        session,
        user=user,
        project_id=project_id,
        artifact_id=artifact_id,
        cursor=page.cursor,
        limit=page.limit,
    )
    return Page(items=[AIGenerationOut.model_validate(r) for r in rows], next_cursor=cursor)


@audit_router.get(
    "/usage", responses=error_responses(404, s404="no such project (`project_id`) among yours")
)
async def usage(
    user: CurrentUser,
    session: DB,
    project_id: uuid.UUID | None = None,
    from_: Annotated[dt.date | None, Query(alias="from")] = None,
    to: dt.date | None = None,
) -> dict[str, Any]:
    """Tokens, cost and calls by day and by model (default: the last 30 days)."""
    if project_id is not None:
        await load_project(session, user=user, project_id=project_id)
    days = usage_service.usage_days(from_, to, today=utcnow().date())
    start, end = usage_service.day_bounds(*days)
    return await usage_service.usage_summary(
        session, user_id=user.id, project_id=project_id, start=start, end=end
    )


async def _visible_project_ids(session: DB, user: CurrentUser) -> list[uuid.UUID]:
    return list((await session.scalars(select(Project.id).where(visible_to(user)))).all())
