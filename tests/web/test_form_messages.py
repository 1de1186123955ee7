"""Form errors in plain words (``atelier.web.form_messages``): real pydantic errors in,
the sentences pages show out. No browser needed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import pytest
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from atelier.accounts.schemas import SignupIn
from atelier.web.form_messages import (
    DATE,
    EMAIL_INVALID,
    EMAIL_WITHOUT_AT,
    REQUIRED,
    field_errors,
    plain_message,
)
from atelier.web.forms import FormField, Kind, build_fields, errors_from_detail, validate_model


class Everything(BaseModel):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "t"
    password: Annotated[str, StringConstraints(min_length=12)] = "long enough password"
    email: EmailStr = "a@example.com"
    count: int = 0
    ratio: float = 0.0
    due: dt.date = dt.date(2026, 12, 7)
    at: dt.datetime = dt.datetime(2026, 12, 7, 14, 30)
    price: Annotated[float, Field(ge=0, le=10_000)] = 1.0
    timeout: Annotated[float, Field(gt=0)] = 1.0
    tags: Annotated[list[str], Field(min_length=1, max_length=3)] = ["a"]
    size: Literal["s", "m", "l"] = "m"
    owner: uuid.UUID | None = None
    site: AnyHttpUrl | None = None
    flag: bool = False
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z]+$")] = "abc"
    future: str = ""

    @field_validator("future")
    @classmethod
    def _said_by_a_validator(cls, value: str) -> str:
        if value == "past":
            raise ValueError("must be in the future")
        return value


def said(**data: Any) -> str:
    """The one plain message the model's error about the one field given comes out as."""
    with pytest.raises(ValidationError) as caught:
        Everything.model_validate(data)
    errors = field_errors(caught.value)
    assert len(errors) == 1, errors
    return next(iter(errors.values()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "x" * 201}, "At most 200 characters."),
        ({"title": ""}, REQUIRED),
        ({"password": "short"}, "At least 12 characters."),
        ({"password": "   "}, REQUIRED),  # nothing typed: required, not "at least 12"
        ({"email": "no-at-sign"}, EMAIL_WITHOUT_AT),
        ({"email": "name@"}, EMAIL_INVALID),
        ({"count": "three"}, "Enter a whole number."),
        ({"count": 1.5}, "Enter a whole number."),
        ({"ratio": "half"}, "Enter a number."),
        ({"due": "07/12/2026"}, DATE),
        ({"due": "2026-13-45"}, DATE),
        ({"at": "tomorrow"}, "Enter a date and time like 2026-12-07 14:30."),
        ({"price": -1}, "Enter 0 or more."),
        ({"price": 20_000}, "Enter 10000 or less."),
        ({"timeout": 0}, "Enter a number above 0."),
        ({"tags": []}, "Add at least 1 item."),
        ({"tags": ["a", "b", "c", "d"]}, "At most 3 items."),
        ({"size": "xl"}, "Choose one of the options."),
        ({"owner": "not-an-id"}, "Choose one of the options."),
        ({"site": "not a url"}, "Enter a web address like https://example.com."),
        ({"site": "ftp://example.com"}, "Enter a web address starting with http:// or https://."),
        ({"flag": "perhaps"}, "Choose yes or no."),
        ({"slug": "Not A Slug"}, "Not in the expected format."),
        # A validator's own words: its prefix dropped, made a sentence.
        ({"future": "past"}, "Must be in the future."),
    ],
)
def test_each_error_type_in_plain_words(data: dict[str, Any], message: str) -> None:
    assert said(**data) == message


def test_a_missing_field_is_required() -> None:
    with pytest.raises(ValidationError) as caught:
        SignupIn.model_validate({"email": "a@example.com", "name": "Ann"})
    assert field_errors(caught.value) == {"password": REQUIRED}


def test_an_unknown_type_keeps_pydantics_message_as_a_sentence() -> None:
    assert plain_message("some_new_type", "Input should be odd") == "Input should be odd."
    assert plain_message("value_error", "Value error, Too early.") == "Too early."
    # A message that starts with a field name keeps it as written.
    assert plain_message("value_error", "Value error, base_url is wrong") == "base_url is wrong."
    assert plain_message("value_error", "") == "This value is not valid."


def test_an_api_detail_has_no_context_so_the_limit_is_read_from_its_message() -> None:
    # What the API's 422 detail carries: the type and pydantic's message, no ctx.
    assert (
        plain_message("string_too_long", "String should have at most 300 characters")
        == "At most 300 characters."
    )
    assert plain_message("string_too_short", "String should have at least 1 character") == REQUIRED
    assert (
        plain_message("greater_than_equal", "Input should be greater than or equal to 0.5")
        == "Enter 0.5 or more."
    )
    assert (
        plain_message("too_short", "List should have at least 2 items after validation, not 0")
        == "Add at least 2 items."
    )
    # No number to be found: pydantic's message rather than a sentence with a hole.
    assert plain_message("string_too_long", "too long") == "Too long."


def test_signup_errors_are_plain_words() -> None:
    with pytest.raises(ValidationError) as caught:
        SignupIn.model_validate({"email": "nope", "name": "", "password": "short"})
    assert field_errors(caught.value) == {
        "email": EMAIL_WITHOUT_AT,
        "name": REQUIRED,
        "password": "At least 8 characters.",
    }


def test_field_errors_keeps_the_first_message_of_a_field_and_names_whole_model_errors() -> None:
    class Pair(BaseModel):
        low: int
        high: int

    with pytest.raises(ValidationError) as caught:
        Pair.model_validate({"low": "x"})
    assert field_errors(caught.value) == {"low": "Enter a whole number.", "high": REQUIRED}
    assert field_errors(caught.value, lambda loc: "all") == {"all": "Enter a whole number."}


def test_the_tool_forms_use_the_same_words() -> None:
    _, errors = validate_model(Everything, {"title": "x" * 201, "due": "12/07/2026"})
    assert errors == {"title": "At most 200 characters.", "due": DATE}
    detail = [
        {"field": "body.input_data.name", "message": "Field required", "type": "missing"},
        {
            "field": "body.input_data.jobs.2",
            "message": "String should have at most 300 characters",
            "type": "string_too_long",
        },
    ]
    assert errors_from_detail(detail, "body.input_data") == {
        "name": REQUIRED,
        "jobs[2]": "At most 300 characters.",
    }


def test_a_hint_the_error_repeats_is_not_shown_twice() -> None:
    field = FormField(name="code", label="Code", kind=Kind.TEXT, hint="At least 12 characters.")
    assert field.shown_hint == "At least 12 characters."
    field.error = "At least 12 characters."
    assert field.shown_hint is None
    field.error = "Enter a whole number."
    assert field.shown_hint == "At least 12 characters."


def test_date_fields_are_typed_as_iso_dates() -> None:
    class Dated(BaseModel):
        due: dt.date
        at: dt.datetime | None = None

    fields = {f.name: f for f in build_fields(Dated.model_json_schema())}
    # Text inputs: a browser's date input would show the date in its locale's order.
    assert fields["due"].input_type == "text"
    assert fields["due"].attrs["placeholder"] == "YYYY-MM-DD"
    assert fields["at"].input_type == "text"
    assert fields["at"].attrs["placeholder"] == "YYYY-MM-DD HH:MM"
