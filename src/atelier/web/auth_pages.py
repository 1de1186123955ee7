"""Sign up, log in, log out: forms that set or clear the HttpOnly session cookie."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import service
from atelier.accounts.deps import SESSION_COOKIE, client_address
from atelier.accounts.schemas import SignupIn
from atelier.core.deps import DB
from atelier.core.errors import AtelierError
from atelier.core.security import token_digest
from atelier.web.flash import FormText
from atelier.web.form_messages import field_errors
from atelier.web.session import MaybeUser, csrf_ok, safe_next
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

# Markup: the way forward is a link, not a thing to find. Fixed text, nothing typed in it.
EMAIL_TAKEN = Markup('An account with this email exists: <a href="/login">log in instead</a>.')


def _signed_in(request: Request, token: str, next_url: str) -> Response:
    response = RedirectResponse(safe_next(next_url), status_code=303)
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/", response_class=HTMLResponse)
async def home(user: MaybeUser) -> Response:
    return RedirectResponse("/projects" if user else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, user: MaybeUser, next: str = "/projects") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": safe_next(next), "email": ""})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    session: DB,
    email: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next: FormText = "/projects",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _form_expired(request, "auth/login.html", {"next": next, "email": email})
    try:
        user = await service.login(
            session,
            email=email,
            password=password,
            throttle=request.app.state.login_throttle,
            address=client_address(request),
        )
    except AtelierError as error:
        # The same limits as the API: a locked-out address or account waits.
        if error.status_code == 429:
            response = render(
                request,
                "auth/login.html",
                {"next": safe_next(next), "email": email, "error": str(error.detail)},
                status=429,
            )
            response.headers.update(error.headers or {})
            return response
        return render(
            request,
            "auth/login.html",
            {"next": safe_next(next), "email": email, "error": "Wrong email or password."},
            status=401,
        )
    _, token = await service.start_session(
        session,
        user=user,
        ttl_hours=request.app.state.settings.session_ttl_hours,
        user_agent=request.headers.get("user-agent"),
    )
    return _signed_in(request, token, next)


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request, user: MaybeUser, session: DB) -> Response:
    if user is not None:
        return RedirectResponse("/projects", status_code=303)
    return await _signup_page(request, session, {"values": {}, "errors": {}})


async def _signup_page(
    request: Request, session: AsyncSession, context: dict[str, object], *, status: int = 200
) -> Response:
    """The form; on an instance with no account yet it says that this one will run it."""
    first = not await service.has_accounts(session)
    return render(request, "auth/signup.html", {**context, "first_account": first}, status=status)


@router.post("/signup", response_class=HTMLResponse)
async def signup(
    request: Request,
    session: DB,
    name: FormText = "",
    email: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    values = {"name": name, "email": email}
    if not csrf_ok(request, csrf_token):
        return _form_expired(request, "auth/signup.html", {"values": values, "errors": {}})
    errors: dict[str, str] = {}
    try:
        body = SignupIn(name=name, email=email, password=password)
    except ValidationError as error:
        errors = field_errors(error)
    else:
        if await service.email_taken(session, body.email):
            errors["email"] = EMAIL_TAKEN
    if errors:
        return await _signup_page(
            request, session, {"values": values, "errors": errors}, status=422
        )
    user = await service.create_user(
        session, email=body.email, name=body.name, password=body.password, first_becomes_admin=True
    )
    _, token = await service.start_session(
        session,
        user=user,
        ttl_hours=request.app.state.settings.session_ttl_hours,
        user_agent=request.headers.get("user-agent"),
    )
    return _signed_in(request, token, "/projects?welcome=1")


@router.post("/logout")
async def logout(request: Request, session: DB, csrf_token: FormText = "") -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and csrf_ok(request, csrf_token):
        await service.revoke_session(session, token=token)
        request.app.state.auth_cache.forget(token_digest(token))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _form_expired(request: Request, template: str, context: dict[str, object]) -> Response:
    return render(
        request,
        template,
        {**context, "error": "The form expired. Please try again.", "errors": {}},
        status=400,
    )
