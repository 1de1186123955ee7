"""What page routes share: form fields, the redirect after a form post (PRG) and the
notice it carries back as ``?msg=<code>``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.responses import RedirectResponse, Response

FormText = Annotated[str, Form()]
Notices = dict[str, tuple[str, str]]


def notice_of(notices: Notices, msg: str | None) -> dict[str, str] | None:
    """The flash for a ``?msg=`` code; unknown codes show nothing (the text is ours, never
    taken from the address)."""
    if msg and msg in notices:
        kind, text = notices[msg]
        return {"kind": kind, "text": text}
    return None


def back(path: str, msg: str) -> Response:
    return RedirectResponse(f"{path}?msg={msg}", status_code=303)
