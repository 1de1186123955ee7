"""The instance PIN on both back ends: setting it locks the admin API and pages until it
is entered (header or unlock, per credential, for 15 minutes); changing it needs the old
one; five wrong PINs lock PIN entry for the account (429 + Retry-After); ``atelier pin
reset`` clears it all; no event logs the PIN; non-admins do not see the routes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from atelier.accounts import pin
from atelier.accounts.models import LoginFailure
from atelier.core.db import session_scope, utcnow
from tests.factories import Account, Api, admin, error_code

pytestmark = pytest.mark.anyio

PIN_URL = "/api/v1/admin/pin"
USERS = "/api/v1/admin/users"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture(autouse=True)
async def no_pin_after(app: Any) -> AsyncIterator[None]:
    """The test database is shared: the PIN a test sets must not lock the next test out."""
    yield
    async with session_scope(app.state.sessionmaker) as session:
        await pin.reset(session)


async def set_pin(api: Api, who: Account, new: str | None, current: str | None = None) -> Any:
    return await api.client.put(
        PIN_URL, json={"pin": new, "current_pin": current}, headers=who.headers
    )


async def test_a_pin_locks_the_admin_api_until_entered(api: Api, app: Any) -> None:
    boss, other = await admin(api, app, "Boss"), await admin(api, app, "Other")
    r = await api.client.get(PIN_URL, headers=boss.headers)
    assert r.json() == {"pin_set": False, "unlocked_until": None, "locked_until": None}
    r = await set_pin(api, boss, "2468")
    assert r.status_code == 200, r.text
    assert r.json()["pin_set"] is True and r.json()["unlocked_until"] is not None
    # The one who set it is unlocked; another administrator is asked for it.
    assert (await api.client.get(USERS, headers=boss.headers)).status_code == 200
    r = await api.client.get(USERS, headers=other.headers)
    assert r.status_code == 403 and error_code(r) == "pin_required", r.text
    r = await api.client.get(USERS, headers={**other.headers, "X-Atelier-PIN": "2468"})
    assert r.status_code == 200
    r = await api.client.get(USERS, headers={**other.headers, "X-Atelier-PIN": "1111"})
    assert r.status_code == 403 and error_code(r) == "wrong_pin"
    assert "4 more attempts" in r.json()["detail"]
    # Unlocking this credential: no header needed for 15 minutes.
    r = await api.client.post(f"{PIN_URL}/unlock", json={"pin": "2468"}, headers=other.headers)
    assert r.status_code == 200
    until = dt.datetime.fromisoformat(r.json()["unlocked_until"])
    assert dt.timedelta(minutes=14) < until - utcnow() <= dt.timedelta(minutes=15)
    assert (await api.client.get(USERS, headers=other.headers)).status_code == 200
    r = await api.client.post(f"{PIN_URL}/lock", headers=other.headers)
    assert r.json()["unlocked_until"] is None
    assert (await api.client.get(USERS, headers=other.headers)).status_code == 403
    # An unlock that has run out asks again.
    await api.client.post(f"{PIN_URL}/unlock", json={"pin": "2468"}, headers=other.headers)
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(pin.PinUnlock).values(unlocked_until=utcnow() - dt.timedelta(seconds=1))
        )
    assert (await api.client.get(USERS, headers=other.headers)).status_code == 403


async def test_changing_the_pin_needs_the_old_one_and_ends_every_unlock(api: Api, app: Any) -> None:
    boss, other = await admin(api, app, "Boss"), await admin(api, app, "Other")
    await set_pin(api, boss, "1357")
    await api.client.post(f"{PIN_URL}/unlock", json={"pin": "1357"}, headers=other.headers)
    r = await set_pin(api, boss, "97531")
    assert r.status_code == 403 and error_code(r) == "pin_required"
    r = await set_pin(api, boss, "97531", "0000")
    assert r.status_code == 403 and error_code(r) == "wrong_pin"
    for bad in ("123", "1234567890123", "12a4", ""):
        r = await set_pin(api, boss, bad, "1357")
        assert r.status_code == 422 and "pin" in r.text, bad
    r = await set_pin(api, boss, "97531", "1357")
    assert r.status_code == 200, r.text
    assert (await api.client.get(USERS, headers=other.headers)).status_code == 403
    r = await api.client.get(USERS, headers={**other.headers, "X-Atelier-PIN": "1357"})
    assert error_code(r) == "wrong_pin"
    # Removing it opens the console again.
    r = await set_pin(api, boss, None, "97531")
    assert r.status_code == 200 and r.json()["pin_set"] is False
    assert (await api.client.get(USERS, headers=other.headers)).status_code == 200


async def test_five_wrong_pins_lock_entry_and_pin_reset_clears_it(
    api: Api, app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    boss, guesser = await admin(api, app, "Boss"), await admin(api, app, "Guesser")
    await set_pin(api, boss, "8642")
    capsys.readouterr()
    if True:  # the PIN events of these attempts are read from the log below
        codes = []
        for guess in ("0001", "0002", "0003", "0004", "0005"):
            r = await api.client.post(
                f"{PIN_URL}/unlock", json={"pin": guess}, headers=guesser.headers
            )
            codes.append(r.status_code)
        assert codes == [403, 403, 403, 403, 429]
        assert int(r.headers["Retry-After"]) > 800 and error_code(r) == "pin_locked"
        # Locked: even the right PIN is refused, without being checked.
        r = await api.client.post(
            f"{PIN_URL}/unlock", json={"pin": "8642"}, headers=guesser.headers
        )
        assert r.status_code == 429
        r = await api.client.get(PIN_URL, headers=guesser.headers)
        assert r.json()["locked_until"] is not None
        # Per account: the other administrator is not locked out.
        r = await api.client.post(f"{PIN_URL}/unlock", json={"pin": "8642"}, headers=boss.headers)
        assert r.status_code == 200
    logged = capsys.readouterr().out
    for event in ("pin_wrong", "pin_locked", "pin_refused_locked", "pin_unlocked"):
        assert f'"event": "{event}"' in logged, event
    entries = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    secrets = {"8642", "0001", "0002", "0003", "0004", "0005"}
    assert entries and not any(set(map(str, entry.values())) & secrets for entry in entries)

    # The operator's way out: `atelier pin reset` (its service, on this database).
    async with session_scope(app.state.sessionmaker) as session:
        assert await pin.reset(session) is True
    async with session_scope(app.state.sessionmaker) as session:
        assert await pin.settings_row(session) is None
        failure = await session.get(LoginFailure, f"pin:{guesser.id}")
        assert failure is None
    assert (await api.client.get(USERS, headers=guesser.headers)).status_code == 200


async def test_pin_routes_are_not_there_for_non_admins(api: Api, app: Any) -> None:
    user = await api.signup()
    for method, path, body in (
        ("GET", PIN_URL, None),
        ("PUT", PIN_URL, {"pin": "1234"}),
        ("POST", f"{PIN_URL}/unlock", {"pin": "1234"}),
        ("POST", f"{PIN_URL}/lock", None),
    ):
        r = await api.client.request(method, path, json=body, headers=user.headers)
        assert r.status_code == 404, (method, path, r.text)


async def test_the_console_pages_ask_for_the_pin_once(api: Api, app: Any) -> None:
    boss, other = await admin(api, app, "Boss"), await admin(api, app, "Other")
    await set_pin(api, boss, "5555")
    transport = ASGITransport(app=app)
    async with AsyncClient(
        transport=transport,
        base_url="http://test",
        cookies={"atelier_session": other.token},
        headers={"accept": "text/html"},
    ) as browser:
        r = await browser.get("/admin/users")
        assert (
            r.status_code == 303 and r.headers["location"] == "/admin/unlock?next=%2Fadmin%2Fusers"
        )
        page = await browser.get(r.headers["location"])
        assert page.status_code == 200 and "Enter the instance PIN" in page.text
        token = CSRF.search(page.text)
        assert token is not None
        form = {"csrf_token": token.group(1), "next": "/admin/users"}
        r = await browser.post("/admin/unlock", data={**form, "pin_code": "1234"})
        assert r.status_code == 403 and "wrong PIN" in r.text
        r = await browser.post("/admin/unlock", data={**form, "pin_code": "5555"})
        assert r.status_code == 303 and r.headers["location"] == "/admin/users"
        assert (await browser.get("/admin/users")).status_code == 200
        # Never sent off the console, whatever ``next`` says.
        r = await browser.post(
            "/admin/unlock", data={**form, "next": "//evil.example", "pin_code": "5555"}
        )
        assert r.headers["location"] == "/admin"
        # The PIN page changes it (the old one needed), then removes it.
        page = await browser.get("/admin/pin")
        assert "A PIN is set" in page.text
        csrf = CSRF.search(page.text)
        assert csrf is not None
        r = await browser.post("/admin/pin", data={"csrf_token": csrf.group(1), "new_pin": "7777"})
        assert (r.status_code == 403 and "current_pin" in r.text) or "a PIN is set" in r.text
        r = await browser.post(
            "/admin/pin",
            data={"csrf_token": csrf.group(1), "new_pin": "7777", "current_pin": "5555"},
        )
        assert r.status_code == 303 and r.headers["location"].endswith("msg=pin-set")
        r = await browser.post(
            "/admin/pin",
            data={"csrf_token": csrf.group(1), "remove": "1", "current_pin": "7777"},
        )
        assert r.headers["location"].endswith("msg=pin-removed")
    async with session_scope(app.state.sessionmaker) as session:
        assert await pin.settings_row(session) is None
