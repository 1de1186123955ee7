"""Error pages for the browser; the API keeps its JSON errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from atelier.core import handlers
from atelier.core.errors import AtelierError
from atelier.web.session import LoginRequired
from atelier.web.templating import render

MESSAGES = {
    400: ("Could not be sent", "The request was incomplete or out of date; please try again."),
    403: ("Not allowed", "Your role in this project's organization does not allow this."),
    404: ("Not found", "There is nothing here, or it belongs to someone else."),
    405: ("Not allowed", "This page does not take that kind of request."),
    402: (
        "Plan limit reached",
        "A limit of your plan is reached; the Usage page shows which one and when it resets.",
    ),
    409: ("Not possible right now", "The request conflicts with the current state."),
    422: ("Please check the input", "Some of what was sent is not valid."),
    500: ("Something went wrong", "It is on our side and has been logged. Please try again."),
}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/mcp", "/docs", "/openapi", "/redoc", "/static/")):
        return False
    # Browsers ask for HTML; API clients (and curl's */*) keep the JSON errors.
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    title, text = MESSAGES.get(status, ("Error", "The request could not be completed."))
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "text": detail or text},
        status=status,
    )


def install_web_error_handlers(app: FastAPI) -> None:
    """Wrap the JSON handlers: pages get HTML, everything else what it got before."""

    async def atelier_error(request: Request, exc: Exception) -> Any:
        if wants_html(request) and isinstance(exc, AtelierError):
            if exc.status_code in (403, 404):
                return error_page(request, exc.status_code)
            # Anything else a page did not handle itself (409, 402, 422…): its message,
            # which the API writes for people, on a page rather than as JSON.
            detail = exc.detail if isinstance(exc.detail, str) else None
            return error_page(request, exc.status_code, detail)
        return await handlers._atelier_error(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Any:
        if wants_html(request):
            return error_page(request, 404)
        return await handlers._validation_error(request, exc)

    async def http_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, StarletteHTTPException)
        exc = handlers.hidden_method_error(request, exc)
        if wants_html(request) and exc.status_code in MESSAGES:
            return error_page(request, exc.status_code)
        return await handlers._http_error(request, exc)

    async def unexpected(request: Request, exc: Exception) -> Any:
        if wants_html(request):
            handlers.log.exception("unhandled_error", path=request.url.path)
            return error_page(request, 500)
        return await handlers._unexpected(request, exc)

    async def login_required(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(exc.next_url, status_code=303)

    app.add_exception_handler(AtelierError, atelier_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(LoginRequired, login_required)
