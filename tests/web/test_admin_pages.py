"""The admin console's pages (``/admin``, ``/admin/users``, ``/admin/organizations``) through
the app's ASGI interface with a browser's session cookie: who sees them (administrators
only; everyone else the 404 page of an unknown address), the navigation link, the figures,
search and pages, and each form (CSRF-checked, PRG, refusals as notices)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response

from tests.factories import Account, Api, admin, set_role

pytestmark = pytest.mark.anyio

HTML = {"accept": "text/html"}
PAGES = ("/admin", "/admin/users", "/admin/organizations")
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')

Browser = Callable[[Account | None], Any]


@pytest.fixture
def browser(app: Any) -> Browser:
    """A client that sends ``who``'s session as the browser's cookie (None: signed out)."""

    @asynccontextmanager
    async def open_as(who: Account | None) -> AsyncIterator[AsyncClient]:
        cookies = {"atelier_session": who.token} if who else {}
        transport = ASGITransport(app=app)
        async with AsyncClient(
            transport=transport, base_url="http://test", cookies=cookies, headers=HTML
        ) as client:
            yield client

    return open_as


def csrf_of(page: Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def notice(response: Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert "msg=" in location, location
    return location.rsplit("msg=", 1)[1]


async def user_json(api: Api, boss: Account, who: Account) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/admin/users/{who.id}", headers=boss.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- who sees the console ------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "USER", "MODERATOR", "DEVELOPER"])
async def test_only_admins_see_the_pages_others_get_the_404_page(
    api: Api, app: Any, browser: Browser, role: str | None
) -> None:
    boss = await admin(api, app)
    who = await set_role(app, await api.signup("Curious"), role) if role else None
    org = await api.organization(boss)
    async with browser(who) as client:
        unknown = await client.get("/admin/nothing-here")
        assert unknown.status_code == 404 and "Not found" in unknown.text
        for path in PAGES:
            r = await client.get(path)
            assert r.status_code == 404, (path, r.status_code)
            assert "Not found" in r.text and "Administration" not in r.text
        for path in (
            f"/admin/users/{boss.id}/role",
            f"/admin/users/{boss.id}/active",
            f"/admin/users/{boss.id}/plan",
            f"/admin/organizations/{org['id']}",
        ):
            r = await client.post(path, data={"role": "USER", "active": "false"})
            assert r.status_code == 404, path
        if who is not None:
            page = await client.get("/projects")
            assert page.status_code == 200 and 'href="/admin"' not in page.text
    assert (await user_json(api, boss, boss))["role"] == "ADMIN"


async def test_an_admin_has_the_link_and_the_pages(api: Api, app: Any, browser: Browser) -> None:
    boss = await admin(api, app)
    async with browser(boss) as client:
        page = await client.get("/projects")
        assert 'href="/admin"' in page.text
        for path in PAGES:
            r = await client.get(path)
            assert r.status_code == 200, (path, r.text[:300])
            assert "Administration" in r.text
            assert 'aria-current="page">Admin</a>' in r.text


async def test_the_overview_shows_the_instance_figures(
    api: Api, app: Any, browser: Browser
) -> None:
    boss = await admin(api, app)
    r = await api.client.get("/api/v1/admin/figures", headers=boss.headers)
    figures = r.json()
    async with browser(boss) as client:
        page = await client.get("/admin")
    for name, element in (
        ("users", "fig-users"),
        ("active_users", "fig-active-users"),
        ("projects", "fig-projects"),
        ("jobs_failed", "fig-jobs-failed"),
    ):
        assert f'id="{element}">{figures[name]}</dd>' in page.text, name


# --- users -----------------------------------------------------------------------------------


async def test_search_and_pages_of_users(api: Api, app: Any, browser: Browser) -> None:
    boss = await admin(api, app)
    tag = uuid.uuid4().hex[:8]
    made = [await api.signup(f"Page {tag} {i}") for i in range(3)]
    async with browser(boss) as client:
        first = await client.get("/admin/users", params={"q": tag, "limit": "2"})
        assert first.status_code == 200
        assert f"user-{made[2].id}" in first.text and f"user-{made[1].id}" in first.text
        assert f"user-{made[0].id}" not in first.text
        next_url = re.search(r'href="([^"]+)">Next page', first.text)
        assert next_url, first.text
        second = await client.get(next_url.group(1).replace("&amp;", "&"))
        assert f"user-{made[0].id}" in second.text and f"user-{made[1].id}" not in second.text
        assert "Next page" not in second.text and "← Newest" in second.text
        none = await client.get("/admin/users", params={"q": f"nobody-{tag}"})
        assert "No user matches" in none.text
        # An edited address still shows a page.
        r = await client.get("/admin/users", params={"cursor": "garbage", "limit": "x"})
        assert r.status_code == 200


async def test_role_activation_and_plan_forms(api: Api, app: Any, browser: Browser) -> None:
    boss = await admin(api, app)
    who = await api.signup("Form Target")
    async with browser(boss) as client:
        page = await client.get("/admin/users", params={"q": who.email})
        token = csrf_of(page)
        back = f"/admin/users?q={who.email}"
        base = f"/admin/users/{who.id}"

        r = await client.post(
            f"{base}/role", data={"role": "DEVELOPER", "csrf_token": token, "back": back}
        )
        assert notice(r) == "role-changed"
        assert r.headers["location"].startswith(back + "&")  # back to the same search
        assert (await user_json(api, boss, who))["role"] == "DEVELOPER"

        r = await client.post(
            f"{base}/plan",
            data={"plan": "STARTER", "status": "TRIAL", "csrf_token": token, "back": back},
        )
        assert notice(r) == "plan-saved"
        out = await user_json(api, boss, who)
        assert (out["plan"], out["subscription_status"]) == ("STARTER", "TRIAL")

        async with browser(who) as theirs:
            assert (await theirs.get("/projects")).status_code == 200
            r = await client.post(
                f"{base}/active", data={"active": "false", "csrf_token": token, "back": back}
            )
            assert notice(r) == "deactivated"
            # Signed out at once: the next page sends them to the login.
            r = await theirs.get("/projects")
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
        r = await client.post(
            f"{base}/active", data={"active": "true", "csrf_token": token, "back": back}
        )
        assert notice(r) == "activated"
        assert (await user_json(api, boss, who))["is_active"] is True

        shown = await client.get(r.headers["location"])
        assert "The account is active again" in shown.text


async def test_refused_changes_come_back_as_notices(api: Api, app: Any, browser: Browser) -> None:
    boss = await admin(api, app)
    who = await api.signup("Refused")
    async with browser(boss) as client:
        token = csrf_of(await client.get("/admin/users"))
        base = f"/admin/users/{who.id}"
        cases = [
            (f"{base}/role", {"role": "EMPEROR", "csrf_token": token}, "invalid"),
            (f"{base}/plan", {"plan": "GOLD", "status": "ACTIVE", "csrf_token": token}, "invalid"),
            (f"{base}/active", {"active": "perhaps", "csrf_token": token}, "invalid"),
            (f"{base}/role", {"role": "ADMIN", "csrf_token": "forged"}, "expired"),
            (f"{base}/role", {"role": "ADMIN"}, "expired"),
            (
                f"/admin/users/{boss.id}/active",
                {"active": "false", "csrf_token": token},
                "self-deactivate",
            ),
            (f"/admin/users/{uuid.uuid4()}/role", {"role": "USER", "csrf_token": token}, "gone"),
        ]
        for path, data, expected in cases:
            r = await client.post(path, data=data)
            assert notice(r) == expected, (path, data)
            # A "back" elsewhere is not followed.
            r = await client.post(path, data={**data, "back": "https://evil.example/"})
            assert r.headers["location"].startswith("/admin/users?msg=")
        out = await user_json(api, boss, who)
        assert (out["role"], out["plan"], out["is_active"]) == ("USER", None, True)
        assert (await user_json(api, boss, boss))["is_active"] is True


# --- organizations -----------------------------------------------------------------------


async def test_organization_tier_status_and_trial(api: Api, app: Any, browser: Browser) -> None:
    boss = await admin(api, app)
    tag = uuid.uuid4().hex[:8]
    org = await api.organization(await api.signup("Owner"), f"Shop {tag}")
    url = f"/api/v1/admin/organizations/{org['id']}"
    async with browser(boss) as client:
        page = await client.get("/admin/organizations", params={"q": tag})
        assert f"org-{org['id']}" in page.text
        token = csrf_of(page)
        path = f"/admin/organizations/{org['id']}"
        form = {
            "tier": "BASIC",
            "status": "ACTIVE",
            "trial_ends": "2030-02-03",
            "csrf_token": token,
        }
        r = await client.post(path, data=form)
        assert notice(r) == "org-saved"
        out = (await api.client.get(url, headers=boss.headers)).json()
        assert (out["subscription_tier"], out["subscription_status"]) == ("BASIC", "ACTIVE")
        assert out["trial_ends_at"].startswith("2030-02-03T00:00:00")
        page = await client.get("/admin/organizations", params={"q": tag})
        assert 'value="2030-02-03"' in page.text

        for bad, expected in (
            ({"trial_ends": "03/02/2030"}, "bad-date"),
            ({"trial_ends": "9999-06-01"}, "bad-date"),  # past what is stored
            ({"tier": "GOLD"}, "invalid"),
            ({"csrf_token": "forged"}, "expired"),
        ):
            r = await client.post(path, data={**form, "tier": "PRO", **bad})
            assert notice(r) == expected, bad
        out = (await api.client.get(url, headers=boss.headers)).json()
        assert out["subscription_tier"] == "BASIC"

        r = await client.post(path, data={**form, "trial_ends": ""})
        assert notice(r) == "org-saved"
        out = (await api.client.get(url, headers=boss.headers)).json()
        assert out["trial_ends_at"] is None
