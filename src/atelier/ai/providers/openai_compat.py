"""OpenAI and OpenAI-compatible servers through the official ``openai`` SDK.

``OpenAIProvider`` (kind "openai") talks to the OpenAI Chat Completions API. Structured
output uses ``response_format={"type": "json_schema", ..., "strict": True}`` with the
schema converted by :func:`strict_schema` (strict mode wants ``additionalProperties:
false`` and every property required, so optional properties become nullable). Nulls
that strict mode forced into optional properties are removed from the answer again, so
that field defaults apply when the engine validates it against the real model. Schemas
strict mode cannot express (free-form maps) are sent non-strict instead.

``OpenAICompatibleProvider`` (kind "custom": vLLM, Ollama, llama.cpp server, LM Studio,
...) first asks for ``json_schema`` (non-strict, the schema as is). Servers that refuse
it get ``json_object`` plus the schema in the system prompt, and if they refuse that too,
plain text with the same instruction. The first mode that works is remembered per
provider instance. ``notes["structured_output"]`` records the mode used.

The SDK's own retries are off (``max_retries=0``): the engine retries (atelier.ai.retry).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2
import openai
from openai import Omit, omit
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageParam,
    ChatCompletionStreamOptionsParam,
    chat_completion,
    chat_completion_chunk,
    completion_create_params,
)

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

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Sent to servers that need no key (the SDK insists on one).
PLACEHOLDER_API_KEY = "not-needed"

Mode = Literal["json_schema", "json_object", "text"]
_MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")
_NOTE: dict[Mode, str] = {
    "json_schema": "json_schema",
    "json_object": "json_object_fallback",
    "text": "text_fallback",
}
_MAX_MESSAGE = 500
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# Words in a 400/422/501 that say the server cannot do the requested response_format.
_FORMAT_REFUSAL = (
    "response_format",
    "response format",
    "json_schema",
    "json schema",
    "json_object",
    "structured",
    "grammar",
    "not supported",
    "unsupported",
    "not implemented",
)
_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)

SCHEMA_INSTRUCTION = (
    "Answer with exactly one JSON object that matches the JSON schema below. Output only "
    "that JSON object: no explanations, no Markdown code fences.\n\nJSON schema:\n"
)


@dataclass(slots=True)
class _Call:
    """What one chat.completions request sends besides model and limits."""

    messages: list[ChatCompletionMessageParam]
    response_format: completion_create_params.ResponseFormat | Omit = omit


class OpenAIProvider:
    kind = "openai"
    # Strict structured output is an OpenAI feature; compatible servers get plain json_schema.
    _strict = True

    def __init__(self, settings: ProviderSettings) -> None:
        self.default_model = settings.default_model
        self._api_key = settings.api_key
        self._server_url = self._base_url(settings)
        self._client: openai.AsyncOpenAI | None = None
        api_key = self._client_api_key(settings)
        if api_key is not None:
            # Explicit key and base URL keep the SDK away from OPENAI_* environment
            # variables: a tenant's provider must never use the server's key.
            self._client = openai.AsyncOpenAI(
                api_key=api_key,
                base_url=self._server_url,
                timeout=settings.timeout,
                max_retries=0,
            )
        # Models that rejected a non-default temperature (OpenAI reasoning models).
        self._no_temperature: set[str] = set()

    def _client_api_key(self, settings: ProviderSettings) -> str | None:
        return settings.api_key or None

    def _base_url(self, settings: ProviderSettings) -> str:
        return settings.base_url or OPENAI_BASE_URL

    # -- Provider protocol ----------------------------------------------------------

    async def generate(
        self, request: GenerationRequest, *, on_text: TextCallback | None = None
    ) -> GenerationResult:
        if self._client is None:
            raise ProviderAuthError("no API key is configured for this OpenAI provider")
        model = request.model or self.default_model
        messages = _chat_messages(request.messages)
        if request.json_schema is None:
            return await self._call(request, model, _Call(messages), on_text)
        return await self._structured(request, request.json_schema, model, on_text)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    # -- structured output ----------------------------------------------------------

    async def _structured(
        self,
        request: GenerationRequest,
        schema: dict[str, Any],
        model: str,
        on_text: TextCallback | None,
    ) -> GenerationResult:
        strict = self._strict and strict_compatible(schema)
        sent_schema = strict_schema(schema) if strict else schema
        call = _Call(
            _chat_messages(request.messages),
            {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(request.schema_name),
                    "schema": sent_schema,
                    "strict": strict,
                },
            },
        )
        result = await self._call(request, model, call, on_text)
        if strict:
            result = replace(result, text=_drop_forced_nulls(result.text, schema))
        result.notes["structured_output"] = "json_schema"
        result.notes["strict"] = strict
        return result

    # -- one request ------------------------------------------------------------------

    def _token_limit(self, max_tokens: int) -> dict[str, int]:
        # OpenAI's current name; ``max_tokens`` is rejected by its reasoning models.
        return {"max_completion_tokens": max_tokens}

    async def _call(
        self,
        request: GenerationRequest,
        model: str,
        call: _Call,
        on_text: TextCallback | None,
    ) -> GenerationResult:
        try:
            return await self._request(request, model, call, on_text)
        except ProviderError as error:
            if model in self._no_temperature or not _refuses_temperature(error):
                raise
        self._no_temperature.add(model)
        return await self._request(request, model, call, on_text)

    async def _request(
        self,
        request: GenerationRequest,
        model: str,
        call: _Call,
        on_text: TextCallback | None,
    ) -> GenerationResult:
        assert self._client is not None
        temperature: float | Omit = omit if model in self._no_temperature else request.temperature
        limit = self._token_limit(request.max_tokens)
        try:
            async with asyncio.timeout(request.timeout):
                if on_text is None:
                    completion = await self._client.chat.completions.create(
                        model=model,
                        messages=call.messages,
                        response_format=call.response_format,
                        temperature=temperature,
                        max_tokens=limit.get("max_tokens", omit),
                        max_completion_tokens=limit.get("max_completion_tokens", omit),
                        timeout=request.timeout,
                    )
                    result = _result_from_completion(self._checked(completion), model, call)
                else:
                    result = await self._stream(request, model, call, temperature, limit, on_text)
        except TimeoutError:
            raise ProviderTimeout() from None
        except ProviderError:
            raise
        except json.JSONDecodeError:
            # The SDK parses a body labelled JSON (or an event's data) and lets this out.
            raise self._mismatch("a body that is not valid JSON") from None
        except (openai.APIError, httpx2.TransportError) as error:
            raise _map_error(error, self._api_key, self._server_url) from None
        return result

    async def _stream(
        self,
        request: GenerationRequest,
        model: str,
        call: _Call,
        temperature: float | Omit,
        limit: dict[str, int],
        on_text: TextCallback,
    ) -> GenerationResult:
        assert self._client is not None
        stream_options: ChatCompletionStreamOptionsParam = {"include_usage": True}
        stream = await self._client.chat.completions.create(
            model=model,
            messages=call.messages,
            response_format=call.response_format,
            temperature=temperature,
            max_tokens=limit.get("max_tokens", omit),
            max_completion_tokens=limit.get("max_completion_tokens", omit),
            stream=True,
            stream_options=stream_options,
            timeout=request.timeout,
        )
        parts: list[str] = []
        refusal: list[str] = []
        answered_model = model
        finish_reason: str | None = None
        usage: tuple[int, int] | None = None
        # A web page or a JSON body arrives as no chunks at all (the SDK skips what is
        # not an event), and must not pass for an empty answer.
        chunks = 0
        async with stream:
            async for chunk in stream:
                usage_only = isinstance(getattr(chunk.usage, "prompt_tokens", None), int)
                choices_ok = _chunk_choices_ok(chunk.choices)
                if not choices_ok and not usage_only:
                    # Another protocol's event (an Anthropic message_start, say). A chunk
                    # with usage alone may lack "choices" on some servers: not this.
                    raise self._mismatch(
                        "an event stream of other events than chat completion chunks",
                        chunk.to_dict(),
                    )
                chunks += 1
                if chunk.model:
                    answered_model = chunk.model
                if chunk.usage is not None:
                    usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices if choices_ok else ():
                    if choice.index != 0:
                        continue
                    if choice.delta.content:
                        parts.append(choice.delta.content)
                        await on_text(choice.delta.content)
                    if choice.delta.refusal:
                        refusal.append(choice.delta.refusal)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        if chunks == 0:
            content_type = stream.response.headers.get("content-type", "")
            raise self._mismatch(stream_seen(content_type, "chat completion chunks"))
        text = "".join(parts)
        if refusal and not text:
            raise _refused("".join(refusal))
        return _finish(text, answered_model, usage, finish_reason, call)

    # -- another protocol ---------------------------------------------------------------

    def _mismatch(self, seen: str, body: object = None) -> ProviderError:
        return protocol_mismatch(
            self._server_url, expected="openai", seen=seen, body=body, api_key=self._api_key
        )

    def _checked(self, completion: object) -> ChatCompletion:
        """``completion`` if it has the choices of a chat completion. The SDK builds its
        result without validation (from any JSON, or hands back the text of a non-JSON
        body), so an Anthropic message or a web page would pass for an empty answer."""
        if isinstance(completion, ChatCompletion) and _choices_ok(completion.choices):
            return completion
        body = completion.to_dict() if isinstance(completion, openai.BaseModel) else completion
        raise self._mismatch(f"got {describe(body)}", body)


class OpenAICompatibleProvider(OpenAIProvider):
    """An OpenAI-compatible server (vLLM, Ollama, llama.cpp server, ...)."""

    kind = "custom"
    _strict = False

    def __init__(self, settings: ProviderSettings) -> None:
        if not settings.base_url:
            raise ProviderError(
                "an OpenAI-compatible provider needs a base URL", code="provider_config"
            )
        super().__init__(settings)
        # The best structured-output mode this server accepted so far.
        self._mode: Mode = "json_schema"

    @property
    def structured_mode(self) -> str:
        return self._mode

    def _client_api_key(self, settings: ProviderSettings) -> str | None:
        return settings.api_key or PLACEHOLDER_API_KEY

    def _base_url(self, settings: ProviderSettings) -> str:
        url = (settings.base_url or "").rstrip("/")
        # "http://host:8000" means the usual OpenAI-style root of these servers.
        if urlsplit(url).path in ("", "/"):
            url += "/v1"
        return url

    def _token_limit(self, max_tokens: int) -> dict[str, int]:
        # Compatible servers all understand the classic name; not all the new one.
        return {"max_tokens": max_tokens}

    async def _structured(
        self,
        request: GenerationRequest,
        schema: dict[str, Any],
        model: str,
        on_text: TextCallback | None,
    ) -> GenerationResult:
        start = _MODES.index(self._mode)
        for mode in _MODES[start:]:
            call = _compatible_call(request, schema, mode)
            try:
                result = await self._call(request, model, call, on_text)
            except ProviderError as error:
                if mode != "text" and _refuses_format(error):
                    continue
                raise
            # Remember a downgrade only once the lower mode has actually worked.
            self._mode = mode
            if mode == "text":
                result = replace(result, text=_strip_fences(result.text))
            result.notes["structured_output"] = _NOTE[mode]
            return result
        raise AssertionError("unreachable: the text mode either returns or raises")


def _choices_ok(choices: object) -> bool:
    return isinstance(choices, list) and all(
        isinstance(choice, chat_completion.Choice)
        and isinstance(choice.message, ChatCompletionMessage)
        for choice in choices
    )


def _chunk_choices_ok(choices: object) -> bool:
    return isinstance(choices, list) and all(
        isinstance(choice, chat_completion_chunk.Choice)
        and isinstance(choice.delta, chat_completion_chunk.ChoiceDelta)
        for choice in choices
    )


# -- request shaping ------------------------------------------------------------------


def _chat_messages(messages: list[Message]) -> list[ChatCompletionMessageParam]:
    converted: list[ChatCompletionMessageParam] = []
    for message in messages:
        if message.role == "system":
            converted.append({"role": "system", "content": message.content})
        elif message.role == "user":
            converted.append({"role": "user", "content": message.content})
        else:
            converted.append({"role": "assistant", "content": message.content})
    return converted


def _compatible_call(request: GenerationRequest, schema: dict[str, Any], mode: Mode) -> _Call:
    if mode == "json_schema":
        return _Call(
            _chat_messages(request.messages),
            {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(request.schema_name),
                    "schema": schema,
                    "strict": False,
                },
            },
        )
    messages = _with_schema_instruction(request.messages, schema)
    if mode == "json_object":
        return _Call(_chat_messages(messages), {"type": "json_object"})
    return _Call(_chat_messages(messages))


def _with_schema_instruction(messages: list[Message], schema: dict[str, Any]) -> list[Message]:
    """Add the schema instruction to the leading system message (or add one).

    Merged rather than appended as a second system message: many local chat templates
    accept only one system message, and only at the start.
    """
    instruction = SCHEMA_INSTRUCTION + json.dumps(schema, indent=2, ensure_ascii=False)
    if messages and messages[0].role == "system":
        merged = Message("system", messages[0].content + "\n\n" + instruction)
        return [merged, *messages[1:]]
    return [Message("system", instruction), *messages]


def _schema_name(name: str) -> str:
    return _SCHEMA_NAME.sub("_", name)[:64] or "output"


def _strip_fences(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text.strip()


# -- results --------------------------------------------------------------------------


def _result_from_completion(
    completion: ChatCompletion, model: str, call: _Call
) -> GenerationResult:
    choice = completion.choices[0] if completion.choices else None
    text = (choice.message.content or "") if choice is not None else ""
    if choice is not None and choice.message.refusal and not text:
        raise _refused(choice.message.refusal)
    usage = (
        (completion.usage.prompt_tokens, completion.usage.completion_tokens)
        if completion.usage is not None
        else None
    )
    finish = choice.finish_reason if choice is not None else None
    return _finish(text, completion.model or model, usage, finish, call)


def _finish(
    text: str,
    model: str,
    usage: tuple[int, int] | None,
    finish_reason: str | None,
    call: _Call,
) -> GenerationResult:
    notes: dict[str, Any] = {}
    if usage is None or not all(isinstance(count, int) for count in usage):
        # Some servers send no usage; estimate (about four characters a token).
        prompt_chars = sum(len(str(m.get("content") or "")) for m in call.messages)
        usage = (max(1, prompt_chars // 4), max(1, len(text) // 4))
        notes["usage_estimated"] = True
    return GenerationResult(
        text=text,
        model=model,
        input_tokens=usage[0],
        output_tokens=usage[1],
        finish_reason=finish_reason,
        notes=notes,
    )


def _refused(reason: str) -> ProviderError:
    return ProviderError(
        f"the model declined to answer: {reason[:_MAX_MESSAGE]}", code="model_refused"
    )


# -- strict JSON schema ---------------------------------------------------------------


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` that OpenAI's strict structured output accepts.

    Every object gets ``additionalProperties: false`` and lists all its properties in
    ``required``; a property that was optional becomes nullable (``anyOf [..., {"type":
    "null"}]``). ``$defs`` are kept (a ``$ref`` with sibling keywords is inlined, which
    strict mode demands), ``oneOf`` becomes ``anyOf``, and ``default`` and
    ``discriminator`` go.
    """
    root = copy.deepcopy(dict(schema))
    defs = root.get("$defs")
    return _strictify(root, defs if isinstance(defs, dict) else {})


def _strictify(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        resolved = _resolve_ref(ref, defs)
        if resolved is not None:
            node = {**copy.deepcopy(resolved), **{k: v for k, v in node.items() if k != "$ref"}}
    node.pop("default", None)
    node.pop("discriminator", None)
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        del node["allOf"]
        node = {**all_of[0], **node}
        return _strictify(node, defs)

    if isinstance(node.get("$defs"), dict):
        node["$defs"] = {
            name: _strictify(sub, defs) if isinstance(sub, dict) else sub
            for name, sub in node["$defs"].items()
        }
    for key in ("anyOf", "allOf"):
        if isinstance(node.get(key), list):
            node[key] = [_strictify(s, defs) if isinstance(s, dict) else s for s in node[key]]
    items = node.get("items")
    if isinstance(items, dict):
        node["items"] = _strictify(items, defs)
    elif isinstance(items, list):
        node["items"] = [_strictify(s, defs) if isinstance(s, dict) else s for s in items]
    if isinstance(node.get("prefixItems"), list):
        node["prefixItems"] = [
            _strictify(s, defs) if isinstance(s, dict) else s for s in node["prefixItems"]
        ]

    properties = node.get("properties")
    if node.get("type") == "object" or isinstance(properties, dict):
        props: dict[str, Any] = properties if isinstance(properties, dict) else {}
        required = set(node.get("required") or [])
        strict_props: dict[str, Any] = {}
        for name, sub in props.items():
            converted = _strictify(sub, defs) if isinstance(sub, dict) else sub
            # A const (e.g. a union's tag) stays non-null: its one value is the answer.
            optional = name not in required and "const" not in converted
            if optional and not _accepts_null(converted, defs):
                converted = {"anyOf": [converted, {"type": "null"}]}
            strict_props[name] = converted
        node["properties"] = strict_props
        node["required"] = list(strict_props)
        node["additionalProperties"] = False
    return node


def strict_compatible(schema: Mapping[str, Any]) -> bool:
    """False when the schema has free-form objects (maps) strict mode cannot express."""

    def ok(node: object) -> bool:
        if isinstance(node, list):
            return all(ok(item) for item in node)
        if not isinstance(node, Mapping):
            return True
        extra = node.get("additionalProperties")
        if extra not in (None, False) or "patternProperties" in node:
            return False
        if node.get("type") == "object" and not node.get("properties"):
            return False
        return all(
            ok(value)
            for key, value in node.items()
            if key not in ("enum", "const", "default", "examples", "required")
        )

    return ok(schema)


def _resolve_ref(ref: str, defs: Mapping[str, Any]) -> dict[str, Any] | None:
    prefix = "#/$defs/"
    if ref.startswith(prefix):
        found = defs.get(ref[len(prefix) :])
        if isinstance(found, dict):
            return found
    return None


def _resolve(node: object, defs: Mapping[str, Any]) -> Mapping[str, Any]:
    for _ in range(32):  # a chain of references, never a cycle of them
        if not isinstance(node, Mapping):
            return {}
        ref = node.get("$ref")
        all_of = node.get("allOf")
        if isinstance(ref, str) and (resolved := _resolve_ref(ref, defs)) is not None:
            node = resolved
        elif isinstance(all_of, list) and len(all_of) == 1:
            node = all_of[0]
        else:
            return node
    return {}


def _accepts_null(node: object, defs: Mapping[str, Any]) -> bool:
    schema = _resolve(node, defs)
    if not schema:
        return True  # {} accepts anything
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in schema and schema["const"] is None:
        return True
    enum = schema.get("enum")
    if isinstance(enum, list) and None in enum:
        return True
    return any(
        _accepts_null(branch, defs)
        for key in ("anyOf", "oneOf")
        for branch in (schema.get(key) or [])
    )


def _drop_forced_nulls(text: str, schema: dict[str, Any]) -> str:
    """Remove the nulls strict mode forced into properties the real schema lets be absent."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    defs = schema.get("$defs")
    if not _drop_nulls(data, schema, defs if isinstance(defs, dict) else {}):
        return text
    return json.dumps(data, ensure_ascii=False)


def _drop_nulls(value: object, node: object, defs: Mapping[str, Any]) -> bool:
    """Drop such nulls from ``value`` in place; True if anything changed."""
    schema = _resolve(node, defs)
    changed = False
    if isinstance(value, dict):
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            branch = _only_branch(schema, defs, value)
            return branch is not None and _drop_nulls(value, branch, defs)
        required = set(schema.get("required") or [])
        for key in list(value):
            sub = properties.get(key)
            if sub is None:
                continue
            if value[key] is None and key not in required and not _accepts_null(sub, defs):
                del value[key]
                changed = True
            elif _drop_nulls(value[key], sub, defs):
                changed = True
    elif isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, Mapping):
            branch = _only_branch(schema, defs, value)
            return branch is not None and _drop_nulls(value, branch, defs)
        for item in value:
            if _drop_nulls(item, items, defs):
                changed = True
    return changed


def _only_branch(
    schema: Mapping[str, Any], defs: Mapping[str, Any], value: dict[str, Any] | list[Any]
) -> object:
    """The one anyOf/oneOf branch ``value`` can belong to, if there is exactly one.

    Objects are told apart by their ``const`` properties (a discriminated union's tag).
    """
    branches: list[object] = []
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key) or []:
            resolved = _resolve(branch, defs)
            if isinstance(value, list):
                if resolved.get("type") == "array":
                    branches.append(branch)
                continue
            properties = resolved.get("properties")
            if resolved.get("type") != "object" and not isinstance(properties, Mapping):
                continue
            consts = {
                name: sub["const"]
                for name, sub in (properties or {}).items()
                if isinstance(sub, Mapping) and "const" in sub
            }
            if all(value.get(name) == const for name, const in consts.items()):
                branches.append(branch)
    return branches[0] if len(branches) == 1 else None


# -- errors ---------------------------------------------------------------------------


def _refuses_format(error: ProviderError) -> bool:
    if error.status not in (400, 422, 501):
        return False
    if error.status == 501:
        return True
    text = error.message.lower()
    return any(word in text for word in _FORMAT_REFUSAL)


def _refuses_temperature(error: ProviderError) -> bool:
    if error.status != 400:
        return False
    text = error.message.lower()
    return "temperature" in text and any(
        word in text
        for word in ("unsupported", "not supported", "does not support", "only the default")
    )


def _map_error(
    error: openai.APIError | httpx2.TransportError, api_key: str | None, base_url: str
) -> ProviderError:
    if isinstance(error, openai.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeout()
    if isinstance(error, openai.APIConnectionError | httpx2.TransportError):
        return ProviderError(
            "could not reach the AI provider (connection error)",
            retryable=True,
            code="connection_error",
        )
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        mismatch = endpoint_mismatch(error.response, base_url, expected="openai", api_key=api_key)
        if mismatch is not None:
            return mismatch
        detail = redact(body_message(error.body) or error.message, api_key)
        return status_error(status, detail, error.response.headers, name="the AI provider")
    # An error event inside a stream: the SDK raises a bare APIError.
    detail = redact(body_message(error.body) or error.message, api_key)
    return ProviderError(
        f"the AI provider failed while streaming: {detail}", retryable=True, code="stream_error"
    )
