"""Who is signed in to the browser: the session cookie, CSRF tokens, and the redirect to
the login page for pages that need a user."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from atelier.accounts.deps import SESSION_COOKIE, csrf_token
from atelier.accounts.principal import Principal
from atelier.accounts.service import authenticate
from atelier.core.deps import DB

# Before sign-in there is no session to derive a CSRF token from: the login and sign-up
# forms use a random token kept in this cookie and echoed by the form (double submit).
FORM_COOKIE = "atelier_form"


class LoginRequired(Exception):
    """A page needs a signed-in user: the handler redirects to /login?next=…"""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def optional_user(request: Request, session: DB) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    state = request.app.state
    user = await authenticate(
        session,
        token=token,
        cache=state.auth_cache,
        touch_interval=dt.timedelta(seconds=state.settings.api_key_touch_interval_seconds),
    )
    request.state.web_user = user  # for the page chrome (navigation, error pages)
    return user


async def required_user(
    request: Request, user: Annotated[Principal | None, Depends(optional_user)]
) -> Principal:
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(f"/login?next={quote(target, safe='')}")
    return user


WebUser = Annotated[Principal, Depends(required_user)]
MaybeUser = Annotated[Principal | None, Depends(optional_user)]


def page_csrf(request: Request) -> str:
    """The token forms and scripts on this page send back."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return csrf_token(request.app.state.settings.secret_key.get_secret_value(), token)
    form = request.cookies.get(FORM_COOKIE)
    if not form:
        form = secrets.token_urlsafe(24)
        request.state.new_form_cookie = form
    return form


def csrf_ok(request: Request, sent: str | None) -> bool:
    if not sent:
        return False
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        secret = request.app.state.settings.secret_key.get_secret_value()
        return hmac.compare_digest(sent, csrf_token(secret, token))
    form = request.cookies.get(FORM_COOKIE)
    return form is not None and hmac.compare_digest(sent, form)


def safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would let a link send people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/projects"
