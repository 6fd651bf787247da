"""The `openai` provider: any server that speaks OpenAI's chat-completions wire format (OpenAI,
vLLM, Ollama, llama.cpp's server), through the official SDK. The SDK's own retries are off so
that one place (tenacity, below) decides what is retried and for how long."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import openai
from openai.types.chat import ChatCompletion
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from audiohub.config import LLMSettings
from audiohub.domain import TokenCount
from audiohub.errors import ConfigurationError, LLMUnavailableError
from audiohub.llm.base import LLMReply, LLMRequest, retry_after

# A Retry-After longer than this is not worth blocking a pipeline worker for; we wait this long
# and let the last attempt decide.
MAX_RETRY_AFTER = 30.0
# llama-cpp-python (0.3.36) writes maxLength N as N nested grammar rules, and llama.cpp fails to
# parse the grammar for N >= ~1200 and then segfaults, taking the server down (measured with
# GeneratedSpec's 1500-char prompt). The grammar gets a tighter cap; pydantic still checks the
# schema's own bound.
GRAMMAR_MAX_LENGTH = 1000


def strict_schema(schema: dict[str, Any], max_length: int | None = None) -> dict[str, Any]:
    """pydantic's schema in the subset strict structured outputs accept: $refs inlined (not every
    server resolves $defs), every object closed and all its properties required (an optional
    field stays nullable through its anyOf null), no `default` (OpenAI's strict mode rejects it).
    llama.cpp turns the same schema into a grammar, where "all required" keeps tiny models from
    stopping early. `max_length` caps every maxLength (for grammar-building servers)."""
    defs: dict[str, Any] = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            return walk({**target, **{k: v for k, v in node.items() if k != "$ref"}})
        out = {k: walk(v) for k, v in node.items()
               if k not in ("$defs", "default", "properties")}
        if "properties" in node:  # a mapping of field names (one may be called "default")
            out["properties"] = {k: walk(v) for k, v in node["properties"].items()}
            if out.get("type") == "object":
                out["additionalProperties"] = False
                out["required"] = list(out["properties"])
        bound = out.get("maxLength")
        if max_length is not None and isinstance(bound, int) and bound > max_length:
            out["maxLength"] = max_length
        return out

    result: dict[str, Any] = walk(copy.deepcopy(schema))
    return result


def _retryable(exc: BaseException) -> bool:
    # Timeouts and refused connections pass; 429 and 5xx are the server saying "later".
    # Any other 4xx is our request being wrong: asking again cannot help.
    if isinstance(exc, openai.APIConnectionError):  # APITimeoutError is a subclass
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


class OpenAICompatClient:
    """`LLMClient` for OpenAI-compatible servers, configured by OPENAI_* and LLM_* settings."""

    provider: ClassVar[str] = "openai"

    def __init__(self, settings: LLMSettings, *, backoff: float = 0.5,
                 temperature: float = 0.0) -> None:
        self.model = settings.openai_model
        self.schema_mode = settings.openai_schema_mode
        self.attempts = settings.attempts
        self.backoff = backoff
        # Extraction, not creative writing: the same transcript should give the same fields.
        self.temperature = temperature
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        self._client = openai.OpenAI(
            base_url=settings.openai_base_url,
            # Local servers (llama.cpp, Ollama, vLLM) need no key, but the SDK insists on one.
            api_key=key or "not-needed",
            timeout=settings.timeout,
            max_retries=0,
        )
        self.server = str(self._client.base_url).rstrip("/")

    @property
    def _tries(self) -> str:
        return f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, openai.APIStatusError) and exc.status_code == 429:
            after = retry_after(exc.response.headers)
            if after is not None:
                return max(0.0, min(after, MAX_RETRY_AFTER))
        return float(min(self.backoff * 2 ** (state.attempt_number - 1), 8.0))

    def response_format(self, request: LLMRequest) -> dict[str, Any]:
        if self.schema_mode == "json_object":
            # llama.cpp's extension: a `schema` beside json_object, compiled into a grammar.
            return {"type": "json_object",
                    "schema": strict_schema(request.schema, max_length=GRAMMAR_MAX_LENGTH)}
        schema = strict_schema(request.schema)
        return {"type": "json_schema", "json_schema": {
            "name": request.schema_name, "schema": schema, "strict": True}}

    def complete(self, request: LLMRequest) -> LLMReply:
        if request.audio is not None:
            raise ConfigurationError(
                "the openai provider sends text only; use TRANSCRIBER=gemini for audio")
        retrying = Retrying(stop=stop_after_attempt(self.attempts), wait=self._wait,
                            retry=retry_if_exception(_retryable), reraise=True)
        # Typed as Any: the SDK's TypedDict has no `schema` key (llama.cpp's extension).
        response_format: Any = self.response_format(request)

        def call() -> ChatCompletion:
            return self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": request.system},
                          {"role": "user", "content": request.user}],
                response_format=response_format,
                max_tokens=request.max_tokens,
                temperature=self.temperature,
            )

        try:
            response = retrying(call)
        except openai.APIStatusError as exc:
            retried = f" after {self._tries}" if _retryable(exc) else ""
            said = " ".join(str(exc.message).split())
            # llama-cpp-python's server rejects json_schema with a 500 naming response_format
            # (measured); other servers answer 400/422. Say which setting fixes it.
            hint = (" If the server is llama.cpp, set OPENAI_SCHEMA_MODE=json_object."
                    if self.schema_mode == "json_schema"
                    and (exc.status_code in (400, 422) or "response_format" in said) else "")
            raise LLMUnavailableError(
                f"LLM server {self.server} answered HTTP {exc.status_code}{retried}: "
                f"{said[:300]}. Check OPENAI_MODEL ({self.model}), OPENAI_API_KEY "
                f"and the server's logs.{hint}") from exc
        except openai.APIConnectionError as exc:
            raise LLMUnavailableError(
                f"LLM server {self.server} did not answer after {self._tries} "
                f"({type(exc).__name__}: {exc}). Check that OPENAI_BASE_URL points at a running "
                f"server, or raise LLM_TIMEOUT if it is just slow.") from exc
        except openai.OpenAIError as exc:
            raise LLMUnavailableError(
                f"LLM server {self.server} gave an unusable response ({exc}). Check that "
                f"OPENAI_BASE_URL is an OpenAI-compatible /v1 endpoint.") from exc
        choice = response.choices[0] if response.choices else None
        usage = response.usage
        return LLMReply(
            text=(choice.message.content or "") if choice else "",
            usage=TokenCount(
                input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                total_tokens=usage.total_tokens) if usage else TokenCount(),
            truncated=choice is not None and choice.finish_reason == "length",
        )

    def health(self) -> str:
        """One line: the server and whether it lists our model.

        Raises:
            LLMUnavailableError: the server does not answer, so /health reports it unhealthy.
        """
        try:
            models = [m.id for m in self._client.models.list(timeout=10)]
        except openai.OpenAIError as exc:
            raise LLMUnavailableError(
                f"openai: {self.server} GET /models failed ({type(exc).__name__}: {exc}); "
                "check OPENAI_BASE_URL and OPENAI_API_KEY") from exc
        listed = "listed" if self.model in models else f"not listed (has: {', '.join(models)})"
        return f"openai: {self.server} ok, model {self.model} {listed}"
