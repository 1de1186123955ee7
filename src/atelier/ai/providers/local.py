"""LocalProvider: a GGUF model run in-process by llama-cpp-python.

A model is loaded once per process (per file, context length and thread count) and
shared by every provider config that names it. llama.cpp contexts are not thread-safe,
so one generation runs at a time per loaded model: callers queue on an asyncio lock
and the blocking work happens in a worker thread. Structured output is enforced by a
grammar built from the JSON schema; the engine still validates the result.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import json
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atelier.ai.local_models import (
    LocalModelError,
    configured_model,
    display_name,
    install_hint,
    resolve_model_path,
)
from atelier.ai.providers.base import (
    GenerationRequest,
    GenerationResult,
    Message,
    Provider,
    ProviderError,
    ProviderSettings,
    ProviderTimeout,
    TextCallback,
)
from atelier.ai.providers.local_cache import prompt_cache
from atelier.core.languages import char_ranges

# llama.cpp's repetition penalty for structured answers. Without one (1.0, llama-cpp-
# python's default), qwen2.5-coder-0.5b filled a value proposition's cells with one word
# ("drill" in most of them); at 1.15 the same prompt gave varied, on-topic entries, in
# 60 s instead of 52 s.
REPEAT_PENALTY = 1.15

_providers: dict[tuple[Path, int, int, int], LocalProvider] = {}
_providers_lock = threading.Lock()


def local_provider(settings: ProviderSettings) -> Provider:
    """The shared provider for the configured model, or one that explains what is missing."""
    spec = settings.model_path or settings.default_model or None
    try:
        path = resolve_model_path(model=spec)
    except LocalModelError as exc:
        return MissingLocalModel(spec or configured_model(), str(exc))
    return shared_provider(
        path,
        threads=settings.threads,
        context_length=settings.context_length,
        prompt_cache_mb=settings.prompt_cache_mb,
    )


def shared_provider(
    path: Path,
    *,
    threads: int | None = None,
    context_length: int = 8192,
    prompt_cache_mb: int = 0,
) -> LocalProvider:
    n_threads = threads or default_threads()
    key = (path.resolve(), context_length, n_threads, prompt_cache_mb)
    with _providers_lock:
        provider = _providers.get(key)
        if provider is None:
            provider = LocalProvider(
                key[0],
                threads=n_threads,
                context_length=context_length,
                prompt_cache_mb=prompt_cache_mb,
            )
            _providers[key] = provider
        return provider


def forget_loaded_models() -> None:
    """Drop the shared providers (their models are freed once no call uses them)."""
    with _providers_lock:
        _providers.clear()


@atexit.register
def _free_models_at_exit() -> None:
    # Freed while llama.cpp is still loaded: left to the garbage collector at interpreter
    # exit, the model's destructor runs after the library is gone and prints a TypeError.
    with _providers_lock:
        for provider in _providers.values():
            provider.free()


class MissingLocalModel:
    """Stands in for a local model that is not installed: every call says how to fix it."""

    kind = "local"

    def __init__(self, model: str, message: str) -> None:
        self.default_model = model
        self.message = message

    async def generate(
        self, request: GenerationRequest, *, on_text: TextCallback | None = None
    ) -> GenerationResult:
        raise ProviderError(self.message, code="local_model_missing")

    async def aclose(self) -> None:
        return None


@dataclass(slots=True)
class _Run:
    """What one generation produced, filled in by the worker thread."""

    text: str = ""
    prompt_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None
    timed_out: bool = False
    seconds: float = 0.0


class LocalProvider:
    kind = "local"

    def __init__(
        self, path: Path, *, threads: int, context_length: int, prompt_cache_mb: int = 0
    ) -> None:
        self.path = path
        self.threads = threads
        self.context_length = context_length
        self.prompt_cache_mb = prompt_cache_mb
        self.default_model = display_name(path)
        self.load_seconds: float | None = None
        self._llama: Any = None
        self._formatter: Any = None
        # The thread lock keeps the context safe even across event loops; the per-loop
        # asyncio lock makes waiting callers queue without holding worker threads.
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def aclose(self) -> None:
        return None  # the model is shared by every provider config that uses it

    def free(self) -> None:
        """Free the loaded model now (it loads again on the next call)."""
        # A generation still running (say, at exit) keeps its model: wait a little only.
        if not self._thread_lock.acquire(timeout=5):
            return
        try:
            llama, self._llama = self._llama, None
        finally:
            self._thread_lock.release()
        if llama is not None:
            with contextlib.suppress(Exception):
                llama.close()

    async def generate(
        self, request: GenerationRequest, *, on_text: TextCallback | None = None
    ) -> GenerationResult:
        if request.model and request.model not in (self.default_model, str(self.path)):
            other = local_provider(
                ProviderSettings(
                    kind="local",
                    default_model=request.model,
                    threads=self.threads,
                    context_length=self.context_length,
                )
            )
            if other is not self:
                return await other.generate(request, on_text=on_text)

        deadline = time.monotonic() + request.timeout
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.setdefault(loop, asyncio.Lock())
        try:
            async with asyncio.timeout(request.timeout):
                await lock.acquire()
        except TimeoutError:
            raise ProviderTimeout(
                f"the local model was busy for {request.timeout:g}s (one generation at a time)"
            ) from None
        try:
            stop = threading.Event()
            work = functools.partial(self._generate_sync, request, on_text, loop, deadline, stop)
            future = loop.run_in_executor(None, work)
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                stop.set()  # the worker stops at the next token; wait so the model is free
                with contextlib.suppress(Exception):
                    await future
                raise
        finally:
            lock.release()

    # --- worker thread ------------------------------------------------------------

    def _load(self) -> tuple[Any, bool]:
        if self._llama is not None:
            return self._llama, False
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ProviderError(
                "the local model needs llama-cpp-python: pip install 'atelier[local]'",
                code="local_model_missing",
            ) from None
        started = time.perf_counter()
        try:
            self._llama = Llama(
                model_path=str(self.path),
                n_ctx=self.context_length,
                n_threads=self.threads,
                verbose=False,
            )
        except (ValueError, OSError, RuntimeError) as exc:
            raise ProviderError(
                f"could not load the local model {self.path}: {exc}; "
                f"{install_hint(self.default_model)}",
                code="local_model_missing",
            ) from exc
        if self.prompt_cache_mb > 0:
            # llama-cpp-python saves the model's state after each call, keyed by its
            # tokens, and restores the one sharing the longest prefix with the next
            # prompt: the system prompt and schema of a tool are evaluated once, even when
            # other calls came in between (a repair, another tool, a section).
            self._llama.set_cache(prompt_cache(self.prompt_cache_mb << 20))
        self.load_seconds = time.perf_counter() - started
        return self._llama, True

    def _generate_sync(
        self,
        request: GenerationRequest,
        on_text: TextCallback | None,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        stop: threading.Event,
    ) -> GenerationResult:
        with self._thread_lock:
            llama, loaded = self._load()
            notes: dict[str, Any] = {"model_path": str(self.path)}
            if loaded:
                notes["load_seconds"] = round(self.load_seconds or 0.0, 3)
            grammar = None
            if request.json_schema is not None:
                grammar, exact = _checked_grammar(
                    llama, json.dumps(grammar_schema(request.json_schema)), request.language
                )
                if not exact:
                    # The call's notes say so (no log line from this worker thread).
                    notes["grammar"] = "generic JSON (schema not convertible or not parsed)"

            def emit(delta: str) -> None:
                if on_text is not None:
                    asyncio.run_coroutine_threadsafe(_deliver(on_text, delta), loop).result()

            run = self._stream(llama, request, grammar, emit, deadline, stop)
        if run.timed_out:
            # Not retried: the same model on the same machine would run out of time again.
            raise ProviderTimeout(
                f"the local model did not finish within {request.timeout:g}s "
                f"({run.output_tokens} tokens generated); raise ATELIER_LOCAL_TIMEOUT_SECONDS "
                "or use a hosted provider for large outputs",
                retryable=False,
            )
        if stop.is_set():
            raise ProviderError("generation cancelled", code="cancelled")
        if run.seconds > 0:
            notes["tokens_per_second"] = round(run.output_tokens / run.seconds, 1)
        return GenerationResult(
            text=run.text,
            model=self.default_model,
            input_tokens=run.prompt_tokens,
            output_tokens=run.output_tokens,
            finish_reason=run.finish_reason,
            notes=notes,
        )

    def _stream(
        self,
        llama: Any,
        request: GenerationRequest,
        grammar: Any,
        emit: Callable[[str], None],
        deadline: float,
        stop: threading.Event,
    ) -> _Run:
        messages = _messages(request.messages)
        run = _Run()
        exact_prompt = self._count_prompt(llama, messages)
        if exact_prompt is not None and exact_prompt >= self.context_length:
            raise ProviderError(
                f"the prompt has {exact_prompt} tokens; the local model's context holds "
                f"{self.context_length} (raise context_length)",
                code="context_length_exceeded",
            )
        if time.monotonic() > deadline:
            run.timed_out = True
            return run
        started = time.perf_counter()
        parts: list[str] = []
        chunks = 0
        try:
            stream = llama.create_chat_completion(
                messages=messages,
                grammar=grammar,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                repeat_penalty=REPEAT_PENALTY,
                stream=True,
            )
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    delta = choice["delta"].get("content")
                    if delta:
                        parts.append(delta)
                        chunks += 1
                        emit(delta)
                    run.finish_reason = choice.get("finish_reason") or run.finish_reason
                    if stop.is_set():
                        break
                    if time.monotonic() > deadline:
                        run.timed_out = True
                        break
            finally:
                stream.close()  # stops llama.cpp at once when we break out early
        except ValueError as exc:  # e.g. "Requested tokens (...) exceed context window"
            raise ProviderError(str(exc), code="context_length_exceeded") from exc
        except RuntimeError as exc:
            raise ProviderError(f"local model failed: {exc}", code="local_model_error") from exc
        run.seconds = time.perf_counter() - started
        run.text = "".join(parts)
        if exact_prompt is None:
            run.prompt_tokens = sum(len(llama.tokenize(m["content"].encode())) for m in messages)
            run.output_tokens = chunks
        else:
            # llama.cpp evaluates every sampled token but the last one, and an end-of-
            # generation token is sampled but not part of the answer.
            run.prompt_tokens = exact_prompt
            sampled = llama.n_tokens - exact_prompt + 1
            run.output_tokens = max(sampled - (run.finish_reason == "stop"), chunks)
        return run

    def _count_prompt(self, llama: Any, messages: list[dict[str, str]]) -> int | None:
        """Exact prompt tokens when the model uses its own chat template, else None."""
        if self._formatter is None:
            template = llama.metadata.get("tokenizer.chat_template")
            if llama.chat_handler is not None or llama.chat_format != "chat_template.default":
                self._formatter = False
            elif template:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                def text(token: int) -> str:
                    if token < 0:
                        return ""
                    return bytes(llama.detokenize([token], special=True)).decode(errors="ignore")

                self._formatter = Jinja2ChatFormatter(
                    template=template,
                    eos_token=text(llama.token_eos()),
                    bos_token=text(llama.token_bos()),
                )
        if not self._formatter:
            return None
        result = self._formatter(messages=messages)
        tokens = llama.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        return len(tokens)


async def _deliver(callback: TextCallback, delta: str) -> None:
    await callback(delta)


def _messages(messages: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


# llama.cpp spells a length bound out as that many nested optional rules: {1,4000}
# characters crashed it (a segfault, seen here) while 1000 was fine. Larger bounds are
# clamped, not dropped: an unbounded string lets a small model ramble until max_tokens.
# Tighter still for the small CPU models this runs: a 0.5B model filled a 1000-character
# field with one phrase repeated, and a canvas of 12-item lists took longer than any
# sensible timeout. Answers stay valid (the tools' limits are upper bounds).
GRAMMAR_MAX_LENGTH = 400
GRAMMAR_MAX_ITEMS = 6
_CLAMPS = {
    "maxLength": GRAMMAR_MAX_LENGTH,
    "minLength": GRAMMAR_MAX_LENGTH,
    "maxItems": GRAMMAR_MAX_ITEMS,
    "minItems": GRAMMAR_MAX_ITEMS,
}


def grammar_schema(node: Any) -> Any:
    """The schema the grammar is built from: bounds clamped to what llama.cpp handles.
    The engine still validates against the full schema and sends violations back."""
    if isinstance(node, list):
        return [grammar_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        limit = _CLAMPS.get(key)
        if limit is not None and isinstance(value, int) and not isinstance(value, bool):
            out[key] = min(value, limit)
        else:
            out[key] = grammar_schema(value)
    return out


def restrict_strings(gbnf: str, language: str) -> str:
    """The converter's rule for a character inside a JSON string, limited to the scripts
    of the language (``core.languages.char_ranges``): a stray script cannot be sampled at
    all. The JSON ``\\u`` escape goes too, since it could spell any character."""
    rule = f'char ::= [{char_ranges(language)}] | "\\\\" ["\\\\/bfnrt]'
    return "\n".join(rule if line.startswith("char ::=") else line for line in gbnf.splitlines())


@functools.lru_cache(maxsize=64)
def _grammar(schema_json: str, language: str | None = None) -> tuple[Any, bool]:
    """A llama.cpp grammar for the schema, its strings kept to the language's scripts;
    generic JSON when the schema cannot be converted."""
    from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar, json_schema_to_gbnf

    try:
        text = json_schema_to_gbnf(schema_json)
    except Exception:  # the converter raises bare Exceptions for unsupported features
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False), False
    if language:
        text = restrict_strings(text, language)
    return LlamaGrammar.from_string(text, verbose=False), True


_parsed: dict[tuple[str, str | None], bool] = {}


def _checked_grammar(llama: Any, schema_json: str, language: str | None = None) -> tuple[Any, bool]:
    """``_grammar``, checked once per schema by llama.cpp's own parser: a grammar it cannot
    parse (e.g. a regex escape such as \\S in a pattern that the converter passes through)
    gives a null sampler, and generating with that crashes the whole process."""
    grammar, exact = _grammar(schema_json, language)
    if not exact:
        return grammar, exact
    ok = _parsed.get((schema_json, language))
    if ok is None:
        ok = _parsed[(schema_json, language)] = grammar_parses(llama, grammar._grammar)
    if ok:
        return grammar, True
    from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

    return LlamaGrammar.from_string(JSON_GBNF, verbose=False), False


def grammar_parses(llama: Any, text: str) -> bool:
    """Whether llama.cpp's grammar parser accepts ``text`` (with this model's vocabulary)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, text.encode(), b"root")
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True


def default_threads() -> int:
    """All cores but one: the server's event loop runs beside the model, and with every
    core decoding, a busy loop slowed decoding to a crawl (0.3-0.6 tokens/s, seen here)."""
    return max(1, (os.cpu_count() or 1) - 1)


# --- direct llama-cpp-python, for benchmarks ----------------------------------------


@dataclass(frozen=True, slots=True)
class DirectResult:
    text: str
    prompt_tokens: int
    output_tokens: int
    seconds: float


def load_direct(path: Path, *, context_length: int = 8192, threads: int | None = None) -> Any:
    """A fresh llama_cpp.Llama with the parameters LocalProvider uses."""
    from llama_cpp import Llama

    return Llama(
        model_path=str(path),
        n_ctx=context_length,
        n_threads=threads or default_threads(),
        verbose=False,
    )


def generate_direct(
    llama: Any,
    messages: list[Message],
    schema: dict[str, Any] | None,
    *,
    max_tokens: int = 512,
    temperature: float = 0.2,
) -> DirectResult:
    """llama-cpp-python called the textbook way: one non-streaming chat completion."""
    started = time.perf_counter()
    response_format = {"type": "json_object", "schema": schema} if schema is not None else None
    out = llama.create_chat_completion(
        messages=_messages(messages),
        response_format=response_format,
        temperature=temperature,
        max_tokens=max_tokens,
        repeat_penalty=REPEAT_PENALTY,  # as LocalProvider: the comparison stays like for like
    )
    seconds = time.perf_counter() - started
    usage = out["usage"]
    return DirectResult(
        text=out["choices"][0]["message"]["content"] or "",
        prompt_tokens=usage["prompt_tokens"],
        output_tokens=usage["completion_tokens"],
        seconds=seconds,
    )
