"""Small fake AI servers for the provider tests, on real sockets on 127.0.0.1.

``openai_app`` speaks the OpenAI Chat Completions protocol (POST /v1/chat/completions,
plain JSON and SSE streaming with a final usage chunk and ``data: [DONE]``), the way
vLLM / llama.cpp / Ollama do; ``anthropic_app`` speaks the Anthropic Messages protocol
(POST /v1/messages, plain JSON and the ``message_start`` ... ``message_stop`` events).

Each server is configured per test through :class:`FakeState`: a queue of canned
behaviours (``Reply``, ``Fail``, ``Sleep``, ``StreamFail``, ``Raw``; an empty queue
answers with ``Reply()``), server-wide switches (``refuse_formats``,
``reject_output_config``, ``api_key``, ``any_path``), and ``requests``, every request
body and its headers as received.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from atelier.ai.runtime import ProviderPool

DEFAULT_CONTENT = '{"answer": "default"}'


@dataclass
class Reply:
    """Answer with ``content`` (as a tool_use block when the request forces a tool)."""

    content: str = DEFAULT_CONTENT
    model: str | None = None  # None: echo the requested model
    prompt_tokens: int = 11
    completion_tokens: int = 7
    finish_reason: str | None = None  # None: "stop" / "end_turn" / "tool_use"
    chunk_size: int = 4
    usage: bool = True  # False: send no usage at all (some local servers)


@dataclass
class Fail:
    """Answer with an HTTP error in the protocol's error format."""

    status: int
    message: str = "something went wrong"
    error_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sleep:
    """Wait, then behave as ``then`` (for timeouts)."""

    seconds: float
    then: Reply = field(default_factory=Reply)


@dataclass
class StreamFail:
    """Anthropic only: start a 200 stream, then send an SSE ``error`` event."""

    error_type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass
class Raw:
    """Answer with exactly this status, body and content type, whatever was asked (a web
    page, JSON of another shape, another protocol's event stream)."""

    body: str
    status: int = 200
    content_type: str = "text/html; charset=utf-8"


Behaviour = Reply | Fail | Sleep | StreamFail | Raw


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Behaviour] = deque()
        self.requests: list[Received] = []
        # OpenAI: response_format types answered with a llama.cpp-style 400.
        self.refuse_formats: set[str] = set()
        # Anthropic: answer requests using output_config with a 400.
        self.reject_output_config = False
        # When set, requests must carry this key.
        self.api_key: str | None = None
        # Answer a POST to any path with the app's one endpoint, as catch-all proxies do
        # (so another protocol's client gets this protocol's answers, not a 404).
        self.any_path = False

    def push(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    def next(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else Reply()

    def record(self, request: Request, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(Received(request.url.path, dict(request.headers), body))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests]

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
        self.refuse_formats = set()
        self.reject_output_config = False
        self.api_key = None
        self.any_path = False


def _presented_key(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:]
    return request.headers.get("x-api-key", "")


async def _pause(request: Request, seconds: float) -> None:
    """Sleep, but stop early once the client has gone (keeps server shutdown quick)."""
    step = 0.02
    for _ in range(max(1, round(seconds / step))):
        if await request.is_disconnected():
            return
        await asyncio.sleep(step)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _raw(behaviour: Raw) -> Response:
    return Response(behaviour.body, status_code=behaviour.status, media_type=behaviour.content_type)


def _routes(path: str, endpoint: Callable[[Request], Any], state: FakeState) -> list[Route]:
    """The app's endpoint, and every other POST path: served by the endpoint too when
    ``state.any_path`` is set, otherwise the plain-text 404 a web framework gives."""

    async def elsewhere(request: Request) -> Response:
        if state.any_path:
            response: Response = await endpoint(request)
            return response
        state.record(request, await _body(request))
        return Response("Not Found", status_code=404, media_type="text/plain")

    return [
        Route(path, endpoint, methods=["POST"]),
        Route("/{rest:path}", elsewhere, methods=["POST"]),
    ]


# -- OpenAI-compatible ------------------------------------------------------------------


def _openai_error(
    status: int, message: str, error_type: str | None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": status, "message": message, "type": error_type or "server_error"}}
    return JSONResponse(body, status_code=status, headers=headers)


def openai_app(state: FakeState) -> Starlette:
    async def chat_completions(request: Request) -> Response:
        body = await _body(request)
        state.record(request, body)
        if state.api_key is not None and _presented_key(request) != state.api_key:
            # Like a careless server: echoes the key it was given.
            return _openai_error(
                401, f"Incorrect API key provided: {_presented_key(request)}", "invalid_api_key"
            )
        response_format = (body.get("response_format") or {}).get("type")
        if response_format in state.refuse_formats:
            # What llama.cpp's server said before it supported json_schema.
            return _openai_error(
                400,
                'response_format type must be one of "text" or "json_object", '
                f"but got: {response_format}",
                "invalid_request_error",
            )
        behaviour = state.next()
        if isinstance(behaviour, Sleep):
            await _pause(request, behaviour.seconds)
            behaviour = behaviour.then
        if isinstance(behaviour, Raw):
            return _raw(behaviour)
        if isinstance(behaviour, Fail):
            return _openai_error(
                behaviour.status, behaviour.message, behaviour.error_type, behaviour.headers
            )
        assert isinstance(behaviour, Reply)
        model = behaviour.model or body.get("model", "fake")
        finish = behaviour.finish_reason or "stop"
        usage = {
            "prompt_tokens": behaviour.prompt_tokens,
            "completion_tokens": behaviour.completion_tokens,
            "total_tokens": behaviour.prompt_tokens + behaviour.completion_tokens,
        }
        if not body.get("stream"):
            completion: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": behaviour.content},
                        "finish_reason": finish,
                    }
                ],
            }
            if behaviour.usage:
                completion["usage"] = usage
            return JSONResponse(completion)

        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def events() -> AsyncIterator[str]:
            def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
                data = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": choices,
                    **extra,
                }
                return f"data: {json.dumps(data)}\n\n"

            yield chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
            for piece in _chunks(behaviour.content, behaviour.chunk_size):
                yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
            yield chunk([{"index": 0, "delta": {}, "finish_reason": finish}])
            if include_usage and behaviour.usage:
                yield chunk([], usage=usage)
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=_routes("/v1/chat/completions", chat_completions, state))


# -- Anthropic Messages -----------------------------------------------------------------


def _anthropic_error(
    status: int, message: str, error_type: str | None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "type": "error",
        "error": {"type": error_type or "api_error", "message": message},
        "request_id": "req_fake",
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def anthropic_app(state: FakeState) -> Starlette:
    async def messages(request: Request) -> Response:
        body = await _body(request)
        state.record(request, body)
        if state.api_key is not None and _presented_key(request) != state.api_key:
            return _anthropic_error(
                401, f"invalid x-api-key: {_presented_key(request)}", "authentication_error"
            )
        if state.reject_output_config and "output_config" in body:
            return _anthropic_error(
                400,
                "output_config.format: structured outputs are not supported by this model",
                "invalid_request_error",
            )
        behaviour = state.next()
        if isinstance(behaviour, Sleep):
            await _pause(request, behaviour.seconds)
            behaviour = behaviour.then
        if isinstance(behaviour, Raw):
            return _raw(behaviour)
        if isinstance(behaviour, Fail):
            return _anthropic_error(
                behaviour.status, behaviour.message, behaviour.error_type, behaviour.headers
            )
        model = body.get("model", "claude-fake")
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 1},
            },
        }
        if isinstance(behaviour, StreamFail):
            failure = behaviour

            async def failing() -> AsyncIterator[str]:
                yield _sse("message_start", start)
                yield _sse(
                    "error",
                    {
                        "type": "error",
                        "error": {"type": failure.error_type, "message": failure.message},
                    },
                )

            return StreamingResponse(failing(), media_type="text/event-stream")

        assert isinstance(behaviour, Reply)
        reply = behaviour
        model = reply.model or model
        choice = body.get("tool_choice") or {}
        tool_name = choice.get("name") if choice.get("type") == "tool" else None
        stop_reason = reply.finish_reason or ("tool_use" if tool_name else "end_turn")
        block: dict[str, Any]
        if tool_name:
            block = {
                "type": "tool_use",
                "id": "toolu_fake",
                "name": tool_name,
                "input": json.loads(reply.content),
            }
        else:
            block = {"type": "text", "text": reply.content, "citations": None}
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [block],
                    "stop_reason": stop_reason,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": reply.prompt_tokens,
                        "output_tokens": reply.completion_tokens,
                    },
                }
            )

        async def events() -> AsyncIterator[str]:
            begin = json.loads(json.dumps(start))
            begin["message"]["model"] = model
            begin["message"]["usage"]["input_tokens"] = reply.prompt_tokens
            yield _sse("message_start", begin)
            if tool_name:
                empty = {**block, "input": {}}
                yield _sse(
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": empty},
                )
                for piece in _chunks(reply.content, reply.chunk_size):
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    yield _sse(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": delta},
                    )
            else:
                empty = {"type": "text", "text": ""}
                yield _sse(
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": empty},
                )
                yield _sse("ping", {"type": "ping"})
                for piece in _chunks(reply.content, reply.chunk_size):
                    delta = {"type": "text_delta", "text": piece}
                    yield _sse(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": delta},
                    )
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
            yield _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": reply.completion_tokens},
                },
            )
            yield _sse("message_stop", {"type": "message_stop"})

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=_routes("/v1/messages", messages, state))


# -- running a server ---------------------------------------------------------------------


class FakeServer:
    """A Starlette app served by uvicorn in a background thread on 127.0.0.1."""

    def __init__(self, app_factory: Callable[[FakeState], Starlette]) -> None:
        self.state = FakeState()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app_factory(self.state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake AI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@contextmanager
def running(app_factory: Callable[[FakeState], Starlette]) -> Iterator[FakeServer]:
    server = FakeServer(app_factory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- fixtures (import them into a test module) -------------------------------------------


@pytest.fixture(scope="module")
def openai_server() -> Iterator[FakeServer]:
    with running(openai_app) as server:
        yield server


@pytest.fixture
def fake_openai(openai_server: FakeServer) -> FakeServer:
    """The module's OpenAI-compatible server, reset for this test."""
    openai_server.state.reset()
    return openai_server


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[FakeServer]:
    with running(anthropic_app) as server:
        yield server


@pytest.fixture
def fake_anthropic(anthropic_server: FakeServer) -> FakeServer:
    """The module's Anthropic Messages server, reset for this test."""
    anthropic_server.state.reset()
    return anthropic_server


@pytest.fixture
async def real_providers(app: Any) -> AsyncIterator[Any]:
    """The app's own provider factory (the real SDK-backed providers) in a pool of this
    test's, whose HTTP clients are closed in this test's event loop: left in the
    session-wide app's pool they would outlive it ("Event loop is closed" later)."""
    runtime = app.state.ai
    saved, pool = runtime.providers, ProviderPool()
    runtime.providers = pool
    try:
        yield pool
    finally:
        runtime.providers = saved
        await pool.aclose()


def unused_port() -> int:
    """A port on 127.0.0.1 with nothing listening (for connection-refused tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
