"""AnthropicProvider: Claude through the official ``anthropic`` SDK (2.x, Messages API).

Structured output uses the Messages API's native JSON-schema output format
(``output_config={"format": {"type": "json_schema", "schema": ...}}``), with the schema
passed through the SDK's ``transform_schema`` (which moves constraints the API does not
enforce into descriptions; the engine validates the real constraints afterwards). If the
API refuses that for a model, the provider falls back, for that model, to a forced tool
call whose ``input_schema`` is the JSON schema, and returns the tool input as JSON text.

The SDK's own retries are off (``max_retries=0``): the engine retries (atelier.ai.retry).
No sampling parameters are sent: SDK 2.x speaks API version 2026-10-21, which rejects
``temperature``/``top_p``/``top_k`` and no longer offers them, so ``request.temperature``
is ignored here.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anthropic
import httpx2
from anthropic import Omit, omit
from anthropic.types import (
    Message as AnthropicMessage,
)
from anthropic.types import (
    MessageParam,
    OutputConfigParam,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    TextBlock,
    TextBlockParam,
    ToolChoiceParam,
    ToolUnionParam,
    ToolUseBlock,
)
from anthropic.types import (
    TextDelta as AnthropicTextDelta,
)
from anthropic.types.input_json_delta import InputJSONDelta

from atelier.ai.providers._errors import (
    body_message,
    describe,
    endpoint_mismatch,
    protocol_mismatch,
    redact,
    status_error,
    stream_seen,
)
from atelier.ai.providers.base import (
    GenerationRequest,
    GenerationResult,
    Message,
    ProviderAuthError,
    ProviderError,
    ProviderSettings,
    ProviderTimeout,
    TextCallback,
)

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
# Error types the API reports in bodies (also inside an SSE ``error`` event, which the
# SDK raises as an APIStatusError carrying the stream's HTTP 200).
_ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_TOOL_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# Words in a 400 that say the model cannot do native structured output.
_STRUCTURED_REFUSAL = ("output_config", "output_format", "structured output", "json_schema")


# "text": free text; "json_schema": native structured output; "tool": forced tool call.
_Mode = Literal["text", "json_schema", "tool"]


@dataclass(slots=True)
class _Params:
    """The optional parts of one Messages API call."""

    messages: list[MessageParam]
    system: list[TextBlockParam] | Omit = omit
    output_config: OutputConfigParam | Omit = omit
    tools: list[ToolUnionParam] | Omit = omit
    tool_choice: ToolChoiceParam | Omit = omit


class AnthropicProvider:
    kind = "anthropic"

    def __init__(self, settings: ProviderSettings) -> None:
        self.default_model = settings.default_model
        self._api_key = settings.api_key
        self._base_url = settings.base_url or ANTHROPIC_BASE_URL
        self._client: anthropic.AsyncAnthropic | None = None
        if settings.api_key:
            # An explicit api_key and base_url keep the SDK away from environment variables
            # and credential files: a tenant's provider must never use the server's key.
            self._client = anthropic.AsyncAnthropic(
                api_key=settings.api_key,
                base_url=self._base_url,
                timeout=settings.timeout,
                max_retries=0,
            )
        # Models that refused native structured output: use a forced tool call instead.
        self._tool_fallback_models: set[str] = set()

    async def generate(
        self, request: GenerationRequest, *, on_text: TextCallback | None = None
    ) -> GenerationResult:
        if self._client is None:
            raise ProviderAuthError("no API key is configured for this Anthropic provider")
        model = request.model or self.default_model
        if request.json_schema is None:
            return await self._call(request, model, "text", on_text)
        if model in self._tool_fallback_models:
            return await self._call(request, model, "tool", on_text)
        try:
            return await self._call(request, model, "json_schema", on_text)
        except ProviderError as error:
            if not _refuses_structured_output(error) or not _is_object_schema(request.json_schema):
                raise
        result = await self._call(request, model, "tool", on_text)
        self._tool_fallback_models.add(model)
        return result

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    # -- one call -------------------------------------------------------------------

    async def _call(
        self,
        request: GenerationRequest,
        model: str,
        mode: _Mode,
        on_text: TextCallback | None,
    ) -> GenerationResult:
        assert self._client is not None
        system, messages = _split_messages(request.messages)
        tool_name = _tool_name(request.schema_name)
        params = _Params(messages=messages, system=system or omit)
        if mode == "json_schema" and request.json_schema is not None:
            params.output_config = {
                "format": {"type": "json_schema", "schema": _anthropic_schema(request.json_schema)}
            }
        elif mode == "tool" and request.json_schema is not None:
            params.tools = [
                {
                    "name": tool_name,
                    "description": "Record the answer. Its input is the complete answer.",
                    "input_schema": request.json_schema,
                }
            ]
            params.tool_choice = {"type": "tool", "name": tool_name}
        try:
            async with asyncio.timeout(request.timeout):
                if on_text is None:
                    message = await self._client.messages.create(
                        model=model,
                        max_tokens=request.max_tokens,
                        messages=params.messages,
                        system=params.system,
                        output_config=params.output_config,
                        tools=params.tools,
                        tool_choice=params.tool_choice,
                        timeout=request.timeout,
                    )
                    result = _result_from_message(
                        self._checked(message), model, tool_name if mode == "tool" else None
                    )
                else:
                    result = await self._stream(request, model, params, on_text)
        except TimeoutError:
            raise ProviderTimeout() from None
        except ProviderError:
            raise
        except json.JSONDecodeError:
            # The SDK parses a body labelled JSON (or an event's data) and lets this out.
            raise self._mismatch("a body that is not valid JSON") from None
        except (anthropic.APIError, httpx2.TransportError) as error:
            raise _map_error(error, self._api_key, self._base_url) from None
        if result.finish_reason == "refusal":
            raise ProviderError(
                "the model declined to answer (stop_reason=refusal)",
                code="model_refused",
            )
        if request.json_schema is not None:
            result.notes["structured_output"] = (
                "tool_use_fallback" if mode == "tool" else "json_schema"
            )
        return result

    async def _stream(
        self,
        request: GenerationRequest,
        model: str,
        params: _Params,
        on_text: TextCallback,
    ) -> GenerationResult:
        assert self._client is not None
        stream = await self._client.messages.create(
            model=model,
            max_tokens=request.max_tokens,
            messages=params.messages,
            system=params.system,
            output_config=params.output_config,
            tools=params.tools,
            tool_choice=params.tool_choice,
            stream=True,
            timeout=request.timeout,
        )
        text: list[str] = []
        tool_json: list[str] = []
        # The SDK skips unnamed events, so another protocol's stream (OpenAI's chunks)
        # or a web page arrives as no events at all: without a message_start, it is not
        # this protocol, and must not pass for an empty answer.
        started = False
        saw_tool = False
        answered_model = model
        input_tokens = 0
        output_tokens = 0
        stop_reason: str | None = None
        async with stream:
            async for event in stream:
                if isinstance(event, RawMessageStartEvent):
                    started = True
                    self._checked(event.message)
                    answered_model = event.message.model or model
                    input_tokens = event.message.usage.input_tokens
                    output_tokens = event.message.usage.output_tokens
                elif isinstance(event, RawContentBlockStartEvent):
                    block = event.content_block
                    if isinstance(block, ToolUseBlock):
                        saw_tool = True
                    elif isinstance(block, TextBlock) and block.text:
                        text.append(block.text)
                        await on_text(block.text)
                elif isinstance(event, RawContentBlockDeltaEvent):
                    delta = event.delta
                    if isinstance(delta, AnthropicTextDelta):
                        text.append(delta.text)
                        await on_text(delta.text)
                    elif isinstance(delta, InputJSONDelta):
                        tool_json.append(delta.partial_json)
                        await on_text(delta.partial_json)
                elif isinstance(event, RawMessageDeltaEvent):
                    if not isinstance(getattr(event.usage, "output_tokens", None), int):
                        raise self._mismatch("a message_delta event without usage")
                    stop_reason = getattr(event.delta, "stop_reason", None) or stop_reason
                    output_tokens = event.usage.output_tokens
                    if event.usage.input_tokens is not None:
                        input_tokens = event.usage.input_tokens
        if not started:
            content_type = stream.response.headers.get("content-type", "")
            raise self._mismatch(stream_seen(content_type, "Anthropic's message_start event"))
        answer = ("".join(tool_json) or "{}") if saw_tool else "".join(text)
        return GenerationResult(
            text=answer,
            model=answered_model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            finish_reason=stop_reason,
        )

    # -- another protocol ---------------------------------------------------------------

    def _mismatch(self, seen: str, body: object = None) -> ProviderError:
        return protocol_mismatch(
            self._base_url, expected="anthropic", seen=seen, body=body, api_key=self._api_key
        )

    def _checked(self, message: object) -> AnthropicMessage:
        """``message`` if it has what a Messages API answer has. The SDK builds its result
        without validation (from any JSON, or hands back the text of a non-JSON body),
        so an OpenAI completion or a web page would otherwise fail later, obscurely."""
        usage = getattr(message, "usage", None)
        if (
            isinstance(message, AnthropicMessage)
            and isinstance(message.content, list)
            and isinstance(getattr(usage, "input_tokens", None), int)
            and isinstance(getattr(usage, "output_tokens", None), int)
        ):
            return message
        body = message.to_dict() if isinstance(message, anthropic.BaseModel) else message
        raise self._mismatch(f"got {describe(body)}", body)


# -- request shaping ------------------------------------------------------------------


def _split_messages(messages: list[Message]) -> tuple[list[TextBlockParam], list[MessageParam]]:
    """System messages go to ``system=``; the rest stay in order."""
    system: list[TextBlockParam] = []
    rest: list[MessageParam] = []
    for message in messages:
        if message.role == "system":
            system.append({"type": "text", "text": message.content})
        elif message.role == "user":
            rest.append({"role": "user", "content": message.content})
        else:
            rest.append({"role": "assistant", "content": message.content})
    return system, rest


def _anthropic_schema(schema: dict[str, Any]) -> dict[str, Any]:
    try:
        return anthropic.transform_schema(schema)
    except (ValueError, TypeError):
        # A schema transform_schema cannot express (e.g. an untyped ``{}`` node):
        # send it as it is and let the API decide.
        return schema


def _is_object_schema(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def _tool_name(schema_name: str) -> str:
    return _TOOL_NAME.sub("_", schema_name)[:64] or "output"


def _result_from_message(
    message: AnthropicMessage, model: str, tool_name: str | None
) -> GenerationResult:
    text = ""
    if tool_name is not None:
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                text = json.dumps(block.input, ensure_ascii=False)
                break
    if not text:
        text = "".join(block.text for block in message.content if isinstance(block, TextBlock))
    return GenerationResult(
        text=text,
        model=message.model or model,
        input_tokens=message.usage.input_tokens,
        output_tokens=message.usage.output_tokens,
        finish_reason=message.stop_reason,
    )


# -- errors ---------------------------------------------------------------------------


def _refuses_structured_output(error: ProviderError) -> bool:
    if error.status != 400:
        return False
    text = error.message.lower()
    return any(word in text for word in _STRUCTURED_REFUSAL)


def _map_error(
    error: anthropic.APIError | httpx2.TransportError, api_key: str | None, base_url: str
) -> ProviderError:
    if isinstance(error, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeout()
    if isinstance(error, anthropic.APIConnectionError | httpx2.TransportError):
        return ProviderError(
            "could not reach the Anthropic API (connection error)",
            retryable=True,
            code="connection_error",
        )
    if isinstance(error, anthropic.APIStatusError):
        status = error.status_code
        mismatch = endpoint_mismatch(
            error.response, base_url, expected="anthropic", api_key=api_key
        )
        if mismatch is not None:
            return mismatch
        error_type = error.type if isinstance(error.type, str) else None
        if status < 400 and error_type:  # an error event inside a 200 stream
            status = _ERROR_TYPE_STATUS.get(error_type, 500)
        detail = redact(error.api_message or body_message(error.body) or error.message, api_key)
        return status_error(
            status,
            detail,
            error.response.headers,
            name="the Anthropic API",
            overloaded=error_type == "overloaded_error",
        )
    return ProviderError(f"Anthropic API error: {redact(str(error), api_key)}")
