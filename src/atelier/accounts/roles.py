"""Instance roles (``users.role``) as route guards, for the engine and for packs.

``require_role(*roles)`` makes a dependency to put on a route or a whole router::

    router = APIRouter(dependencies=[Depends(require_role(UserRole.MODERATOR))])

    @router.post("/posts/{post_id}/hide")
    async def hide(user: Annotated[Principal, Depends(require_role(UserRole.MODERATOR))]): ...

The signed-in user passes when their role is one of ``roles``; ADMIN always passes.
Anyone else gets the very answer of a path that does not exist (404 ``not_found``), so
the admin console and a pack's moderation routes are not advertised to people who may not
use them. Missing or wrong credentials stay the usual 401: they are checked first.

The role is read fresh: the auth cache re-reads the user's row on every hit
(``service.authenticate``), so a role taken away stops working at the next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Annotated

from fastapi import Depends, Request

from atelier.accounts.deps import signed_in
from atelier.accounts.models import UserRole
from atelier.accounts.principal import Principal
from atelier.accounts.scopes import method_scope, require_scope
from atelier.core.errors import NotFound

SignedIn = Annotated[Principal, Depends(signed_in)]
# What Starlette answers for an unknown path (core/handlers.py renders it the same way).
UNKNOWN_PATH = "Not Found"


def has_role(principal: Principal | None, roles: Collection[UserRole]) -> bool:
    """Whether ``principal`` may act with one of ``roles`` (ADMIN may always)."""
    return principal is not None and (principal.role == UserRole.ADMIN or principal.role in roles)


def not_advertised() -> NotFound:
    """The 404 of a route someone may not use, word for word that of an unknown path."""
    return NotFound(UNKNOWN_PATH)


def require_role(*roles: UserRole) -> Callable[..., Awaitable[Principal]]:
    """A dependency that answers the signed-in user when they have one of ``roles`` (or are
    ADMIN), and 404 otherwise; an API key must also have the scope of the request's method,
    as ``CurrentUser`` checks it."""
    allowed = frozenset(roles)

    async def check(request: Request, user: SignedIn) -> Principal:
        if not has_role(user, allowed):
            raise not_advertised()
        # After the role: a key's missing scope (403) would tell someone the route exists.
        require_scope(user, method_scope(request.method))
        return user

    return check


# One callable, so that a router's guard and a route's ``Admin`` parameter run it once.
require_admin = require_role(UserRole.ADMIN)
Admin = Annotated[Principal, Depends(require_admin)]
