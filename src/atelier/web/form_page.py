"""A page's form in a few lines: the CSRF check, the posted values, a pydantic model's
verdict in plain words next to each field.

    sent = await read_form(request, NoteIn)
    if sent.data is None:
        fields = form_fields(NoteIn, sent.values, sent.errors)
        return render(request, "notes/page.html", {"fields": fields}, status=422)
    await add_note(session, project, sent.data.text)

and in the template, ``{% for f in fields %}{{ forms.field(f) }}{% endfor %}`` (from
``forms/fields.html``): each value with its label, hint and error, ``aria-invalid`` and
``aria-describedby`` set. ``tests/packs/example/pages.py`` is a complete page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from atelier.core.errors import AtelierError
from atelier.web.form_messages import field_errors, top_field
from atelier.web.forms import FormField, build_fields
from atelier.web.session import csrf_ok

M = TypeVar("M", bound=BaseModel)


class FormExpired(AtelierError):
    """The form's CSRF token is missing or no longer matches the session: the browser
    shows a page saying so (``web.errors``), nothing was changed."""

    status_code = 400
    code = "form_expired"

    def __init__(self) -> None:
        super().__init__(
            "This form has expired (it was open in another session, or you signed out "
            "since). Go back, reload the page and send it again."
        )


@dataclass(frozen=True, slots=True)
class SentForm(Generic[M]):
    values: dict[str, str]  # what was typed, to fill the form again
    data: M | None  # the model, when it accepted the values
    errors: dict[str, str] = field(default_factory=dict)  # form field → plain words


async def read_form(
    request: Request,
    model: type[M],
    *,
    where: Callable[[tuple[int | str, ...]], str] = top_field,
) -> SentForm[M]:
    """Check the CSRF token (``FormExpired`` if it fails), then validate the posted text
    fields (the first value of each; files are not read) against ``model``. ``where``
    maps an error's location to a form field; an error about the whole model is under
    ``"form"``."""
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_ok(request, token if isinstance(token, str) else None):
        raise FormExpired()
    values: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) and name != "csrf_token":
            values.setdefault(name, value)
    try:
        return SentForm(values=values, data=model.model_validate(values))
    except ValidationError as error:
        return SentForm(values=values, data=None, errors=field_errors(error, where))


def form_fields(
    model: type[BaseModel],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[FormField]:
    """The model's fields for ``forms.field``, filled with what was sent and its errors."""
    return build_fields(model.model_json_schema(), values, errors)
