"""Browser tests: Debian's chromium driven by Playwright against a live server.

One server for the whole session, on a free port, with its own SQLite database (the
browser flows are about pages, not back ends; the API tests cover both databases), jobs
run in-process, and every AI call answered by a FakeProvider that picks a realistic
example by the schema it is asked for (``ANSWERS``; tests may add to it). Screenshots go
to ``.artifacts/screenshots/`` (not committed) for people to look at.
"""

from __future__ import annotations

import gc
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from atelier import migrate
from atelier.ai.providers.base import GenerationRequest
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.runtime import ProviderPool
from atelier.app import create_app
from atelier.config import Settings
from atelier.conversations.titles import TITLE_PROMPT
from tests.factories import BRIEF_OUTPUT
from tests.packs.strategy_examples import INPUTS as STRATEGY_INPUTS
from tests.packs.strategy_examples import OUTPUTS as STRATEGY_OUTPUTS
from tests.sdp.examples import OUTPUTS as SDP_OUTPUTS

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
PASSWORD = "correct horse battery"

# schema_name of a request → the answer. Filled from the examples the API tests use.
ANSWERS: dict[str, Any] = {"BriefOutput": BRIEF_OUTPUT}


def _register_examples() -> None:
    from atelier.ai.tools import load_tools

    registry = load_tools()
    for key, output in STRATEGY_OUTPUTS.items():
        tool = registry.get(key)
        if tool is not None:
            ANSWERS[tool.output_model.__name__] = output
            ANSWERS[tool.input_model.__name__] = STRATEGY_INPUTS[key]  # smart-populate
    for name, output in SDP_OUTPUTS.items():
        tool = registry.get(f"sdp_{name}")
        if tool is not None:
            ANSWERS[tool.output_model.__name__] = output


# A chat reply (free text: no schema): Markdown long enough to watch it stream, with a
# code block; the conversation's title call gets a few words.
CHAT_TITLE = "Planning a garden shed"
CHAT_REPLY = (
    "Here is a **plan** for the shed, step by step.\n\n"
    "1. Measure the ground and level it with gravel.\n"
    "2. Build the floor frame from treated timber.\n"
    "3. Raise the walls, then the roof, then fit the door.\n\n"
    "A quick check of the materials:\n\n"
    "```python\n"
    "boards = {'floor': 12, 'walls': 40, 'roof': 16}\n"
    "print(sum(boards.values()), 'boards in all')\n"
    "```\n\n"
    "Keep the receipts: most timber merchants take back what you do not use."
)


def chat_answer(request: GenerationRequest) -> str:
    if request.messages and request.messages[0].content == TITLE_PROMPT:
        return CHAT_TITLE
    return CHAT_REPLY


def fake_answer(request: GenerationRequest) -> str:
    if request.json_schema is None:
        return chat_answer(request)
    answer = ANSWERS.get(request.schema_name or "")
    if answer is None:
        raise AssertionError(f"no fake answer for schema {request.schema_name!r}: add one")
    return json.dumps(answer)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.fixture(scope="session")
def fake_provider() -> FakeProvider:
    _register_examples()
    # A little latency so that live progress is visible in the page.
    return FakeProvider(default=fake_answer, latency=0.3, chunk_size=24)


@pytest.fixture(scope="session")
def live_app(
    tmp_path_factory: pytest.TempPathFactory, fake_provider: FakeProvider
) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite+aiosqlite:///{folder / 'atelier.db'}"
    # In a thread: Playwright's sync API keeps an event loop running in this one.
    worker = threading.Thread(target=migrate.upgrade, args=(url,))
    worker.start()
    worker.join()
    app = create_app(Settings(env="test", database_url=url, data_dir=folder))
    app.state.ai.providers = ProviderPool(factory=lambda _settings: fake_provider)
    yield app


@pytest.fixture(scope="session")
def base_url(live_app: Any) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of the live server."""
    server = uvicorn.Server(
        uvicorn.Config(live_app, lifespan="on", log_level="warning", access_log=False)
    )
    sock = _free_socket()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    threshold = gc.get_threshold()
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


# Per module, not per session: Playwright's sync API keeps an event loop running in the
# main thread while it is open, and async tests collected after these (anyio) could not run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test, desktop size."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_up(page: Any, name: str, email: str, password: str = PASSWORD) -> None:
    """Sign up through the form; ends on the projects page."""
    page.goto("/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/projects**")
