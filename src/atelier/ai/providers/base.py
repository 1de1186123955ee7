"""The one small interface every AI provider implements.

A provider turns a list of messages (and, for structured output, a JSON schema) into
text plus token counts. It never validates the output against the schema: the engine
does that for every provider alike (see atelier.ai.generation), and sends validation
errors back for repair. Providers stream text through ``on_text`` when they can.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]
TextCallback = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    messages: list[Message]
    # The JSON schema the answer must satisfy; None for free text.
    json_schema: dict[str, Any] | None = None
    schema_name: str = "output"
    model: str | None = None  # None: the provider's configured default
    max_tokens: int = 4096
    temperature: float = 0.2
    timeout: float = 120.0  # seconds for the whole call
    # The project's language (core/languages.py): the embedded model's grammar keeps the
    # answer's strings to its scripts. Hosted providers do not use it.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class GenerationResult:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    finish_reason: str | None = None
    # Provider-specific facts worth keeping in the audit row (e.g. "json_object fallback").
    notes: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A failed call. ``retryable`` marks rate limits, 5xx and connection errors."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        code: str = "provider_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.code = code


class ProviderTimeout(ProviderError):
    def __init__(
        self, message: str = "the AI provider did not answer in time", *, retryable: bool = True
    ) -> None:
        super().__init__(message, retryable=retryable, code="timeout")


class ProviderAuthError(ProviderError):
    def __init__(self, message: str = "the AI provider refused the API key") -> None:
        super().__init__(message, retryable=False, status=401, code="provider_auth")


class ProviderProtocolMismatch(ProviderError):
    """The server at the base URL answered, but not in the protocol of the provider kind
    (e.g. an ``anthropic`` config pointed at an OpenAI-compatible server). Retrying or
    asking the model to repair its answer cannot help: the configuration is wrong."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, retryable=False, status=status, code="provider_protocol_mismatch")


class Provider(Protocol):
    """What the engine needs from a provider. One instance may serve many calls at once."""

    kind: str  # "anthropic" | "openai" | "custom" | "local" | "fake"
    default_model: str

    async def generate(
        self, request: GenerationRequest, *, on_text: TextCallback | None = None
    ) -> GenerationResult: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Everything needed to build a provider, secrets already decrypted (never log this)."""

    kind: str
    default_model: str
    api_key: str | None = None
    base_url: str | None = None
    timeout: float = 120.0
    # Local model: a path to a GGUF file; thread count; context length.
    model_path: str | None = None
    threads: int | None = None
    # Schema + inputs + the whole answer must fit: large canvases need more than 4096.
    context_length: int = 8192
    # Local model: memory for saved model states by prompt prefix (0: none), so that the
    # shared start of the prompts (system prompt, schema) is evaluated once.
    prompt_cache_mb: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # keep keys out of logs and tracebacks
        return f"ProviderSettings(kind={self.kind!r}, default_model={self.default_model!r})"
