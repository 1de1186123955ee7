"""Request-scoped dependencies: the database session and pagination parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.config import Settings
from atelier.core.db import session_scope


async def _db(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_scope(request.app.state.sessionmaker) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a client
# never sees success for a write that then failed to commit.
DB = Annotated[AsyncSession, Depends(_db, scope="function")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(_settings)]


class PageParams:
    def __init__(
        self,
        settings: AppSettings,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
        limit: Annotated[int | None, Query(ge=1, le=1000, description="page size")] = None,
    ) -> None:
        self.cursor = cursor
        self.limit = min(limit or settings.page_size_default, settings.page_size_max)


Paging = Annotated[PageParams, Depends()]
