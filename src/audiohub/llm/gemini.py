"""Gemini through the official google-genai SDK: the answer is constrained by Gemini's response
schema (an OpenAPI subset, converted from the pydantic schema here), audio goes inline or through
the Files API, and timeouts, 429 (after its Retry-After) and 5xx are retried, other 4xx never."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import httpx
import tenacity
from google import genai
from google.genai import errors, types

from audiohub.config import LLMSettings
from audiohub.domain import TokenCount
from audiohub.errors import ConfigurationError, LLMUnavailableError
from audiohub.llm.base import LLMReply, LLMRequest, retry_after

log = logging.getLogger(__name__)
T = TypeVar("T")

# Gemini takes a request of up to 20 MB inline (the audio counted base64-encoded); above, the
# audio goes through the Files API.
INLINE_LIMIT = 20 * 1024 * 1024
_KEEP = ("description", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems",
         "maxItems", "minProperties", "maxProperties")
# The only `format`s Gemini's response schema takes, per type.
_FORMATS = {"STRING": {"enum", "date-time"}, "NUMBER": {"float", "double"},
            "INTEGER": {"int32", "int64"}}


def gemini_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema (pydantic's `model_json_schema()`) as Gemini's `responseSchema`: $refs
    inlined, `anyOf [X, null]` and `type: [X, "null"]` made `nullable`, `const` made an enum,
    keywords Gemini rejects (additionalProperties, title, default, $defs ...) dropped, and
    `propertyOrdering` set so the answer's keys come in the schema's order."""
    return _convert(schema, schema.get("$defs", {}), frozenset())


def _convert(node: dict[str, Any], defs: dict[str, Any], seen: frozenset[str]) -> dict[str, Any]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            raise ValueError(f"schema {name!r} is recursive; Gemini's response schema is not")
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _convert({**defs[name], **rest}, defs, seen | {name})
    if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
        rest = {k: v for k, v in node.items() if k != "allOf"}
        return _convert({**node["allOf"][0], **rest}, defs, seen)
    variants = node.get("anyOf") or node.get("oneOf")
    kind = node.get("type")
    if variants is None and isinstance(kind, list):
        variants = [{"type": t} for t in kind]
    if variants is not None:
        rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf", "type")}
        options = [v for v in variants if v.get("type") != "null"]
        if len(options) == 1:
            out = _convert({**options[0], **rest}, defs, seen)
        else:
            out = {"anyOf": [_convert(v, defs, seen) for v in options]}
            if "description" in node:
                out["description"] = node["description"]
        if len(options) < len(variants):
            out["nullable"] = True
        return out
    out = {}
    if isinstance(kind, str) and kind != "null":
        out["type"] = kind.upper()
    enum = [node["const"]] if "const" in node else node.get("enum")
    if enum and all(isinstance(v, str) for v in enum):
        out["enum"] = list(enum)
        out.setdefault("type", "STRING")
    if node.get("format") in _FORMATS.get(out.get("type", ""), set()):
        out["format"] = node["format"]
    out.update({k: node[k] for k in _KEEP if k in node})
    if isinstance(node.get("properties"), dict):
        props = node["properties"]
        out["properties"] = {name: _convert(sub, defs, seen) for name, sub in props.items()}
        out["propertyOrdering"] = list(props)
        out["required"] = [name for name in node.get("required", []) if name in props]
    if isinstance(node.get("items"), dict):
        out["items"] = _convert(node["items"], defs, seen)
    return out


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, errors.APIError):
        return exc.code == 429 or exc.code >= 500
    return isinstance(exc, httpx.TransportError)  # timeouts, refused or dropped connections


def asked_wait(exc: BaseException) -> float | None:
    """Seconds a 429 asks us to wait: its Retry-After header, else Gemini's RetryInfo."""
    if not isinstance(exc, errors.APIError):
        return None
    response = exc.response
    if isinstance(response, httpx.Response) and (
            header := retry_after(response.headers)) is not None:
        return header
    details = exc.details.get("error", exc.details) if isinstance(exc.details, dict) else {}
    for item in details.get("details") or []:
        delay = str(item.get("retryDelay", "")) if isinstance(item, dict) else ""
        if match := re.fullmatch(r"(\d+(?:\.\d+)?)s", delay):
            return float(match.group(1))
    return None


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, errors.APIError):
        return f"HTTP {exc.code} {exc.status or ''}: {exc.message or ''}".strip()
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({exc.__class__.__name__})"
    return f"{exc.__class__.__name__}: {exc}"


class GeminiClient:
    """`LLMClient` for Gemini (ANALYZER=gemini, TRANSCRIBER=gemini).

    Args:
        settings: GEMINI_API_KEY, GEMINI_MODEL, GEMINI_BASE_URL, GEMINI_TIMEOUT, LLM_ATTEMPTS.
        inline_limit: request size in bytes (audio counted base64-encoded) above which the
            audio goes through the Files API instead of inline.
        backoff_seconds: first wait between attempts, doubled each time (a 429's own
            Retry-After wins); max_wait caps every wait.
        poll_seconds / processing_timeout: how often and how long to wait for an uploaded file
            to become ACTIVE.
        missing_key_hint: what else the user can choose when GEMINI_API_KEY is unset.
    """

    provider: ClassVar[str] = "gemini"

    def __init__(
        self, settings: LLMSettings, *, inline_limit: int = INLINE_LIMIT,
        backoff_seconds: float = 1.0, max_wait: float = 60.0, poll_seconds: float = 1.0,
        processing_timeout: float = 300.0, missing_key_hint: str = "choose ANALYZER=local",
    ) -> None:
        if settings.gemini_api_key is None or not settings.gemini_api_key.get_secret_value():
            raise ConfigurationError(f"set GEMINI_API_KEY or {missing_key_hint}")
        self.model = settings.gemini_model
        self._settings = settings
        self._inline_limit = inline_limit
        self._backoff, self._max_wait = backoff_seconds, max_wait
        self._poll, self._processing_timeout = poll_seconds, processing_timeout
        options = types.HttpOptions(timeout=math.ceil(settings.gemini_timeout * 1000))
        if settings.gemini_base_url:
            options.base_url = settings.gemini_base_url
        self._client = genai.Client(
            api_key=settings.gemini_api_key.get_secret_value(), http_options=options)

    def complete(self, request: LLMRequest) -> LLMReply:
        schema = gemini_schema(request.schema)
        config = types.GenerateContentConfig(
            system_instruction=request.system, response_mime_type="application/json",
            response_schema=schema,
            max_output_tokens=request.max_tokens)
        uploaded: types.File | None = None
        parts = [types.Part.from_text(text=request.user)]
        if request.audio is not None:
            mime = request.mime_type or "audio/wav"
            size = request.audio.stat().st_size
            text_size = len(request.system) + len(request.user) + len(json.dumps(schema))
            if 4 * math.ceil(size / 3) + text_size <= self._inline_limit:
                audio = types.Part.from_bytes(data=request.audio.read_bytes(), mime_type=mime)
            else:
                uploaded = self._retrying("uploading the audio", lambda: self._upload(request))
                audio = types.Part.from_uri(file_uri=uploaded.uri or "", mime_type=mime)
            parts.insert(0, audio)  # Gemini reads the audio better with the prompt after it
        contents = [types.Content(role="user", parts=parts)]
        try:
            response = self._retrying("generateContent", lambda: self._client.models
                                      .generate_content(model=self.model, contents=contents,
                                                        config=config))
        finally:
            if uploaded is not None and uploaded.name:
                self._forget(uploaded.name)
        return _reply(response)

    def health(self) -> str:
        where = self._settings.gemini_base_url or "Google"
        return f"gemini {self.model} via {where}"

    def _upload(self, request: LLMRequest) -> types.File:
        assert request.audio is not None
        try:
            file = self._client.files.upload(
                file=request.audio, config=types.UploadFileConfig(mime_type=request.mime_type))
        except ValueError as exc:  # the SDK's resumable upload did not finalize
            raise LLMUnavailableError(
                f"Gemini's Files API did not take the audio for model {self.model}: {exc}; "
                "check GEMINI_BASE_URL and the network") from exc
        try:
            deadline = time.monotonic() + self._processing_timeout
            while file.state == types.FileState.PROCESSING and time.monotonic() < deadline:
                time.sleep(self._poll)
                file = self._client.files.get(name=file.name or "")
            if file.state != types.FileState.ACTIVE:
                error = file.error.message if file.error else "still processing"
                raise LLMUnavailableError(
                    f"Gemini could not process the uploaded audio {file.name} "
                    f"(state {file.state}: {error}); check the recording's format")
        except BaseException:
            # Not handed to the caller, so deleted here (a retry uploads afresh).
            if file.name:
                self._forget(file.name)
            raise
        return file

    def _forget(self, name: str) -> None:
        try:
            self._client.files.delete(name=name)
        except (errors.APIError, httpx.TransportError) as exc:  # it expires after 48 h anyway
            log.warning("could not delete Gemini file %s: %s", name, _describe(exc))

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = asked_wait(exc) if exc is not None else None
        if asked is None:
            asked = self._backoff * 2 ** (state.attempt_number - 1)
        return min(asked, self._max_wait)

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        attempts = self._settings.attempts
        try:
            for attempt in tenacity.Retrying(
                stop=tenacity.stop_after_attempt(attempts), wait=self._wait,
                retry=tenacity.retry_if_exception(_retryable), reraise=True,
                before_sleep=lambda s: log.warning(
                    "Gemini %s attempt %d failed: %s", what, s.attempt_number,
                    _describe(s.outcome.exception() if s.outcome else None))):
                with attempt:
                    return call()
        except (errors.APIError, httpx.TransportError) as exc:
            if _retryable(exc):
                raise LLMUnavailableError(
                    f"Gemini model {self.model} did not answer ({what}) after {attempts} "
                    f"attempts, last: {_describe(exc)}; check GEMINI_BASE_URL and the network, "
                    "the API quota, GEMINI_TIMEOUT and LLM_ATTEMPTS") from exc
            code = exc.code if isinstance(exc, errors.APIError) else 0
            check = {401: "GEMINI_API_KEY", 403: "GEMINI_API_KEY",
                     404: "GEMINI_MODEL"}.get(code, "the request (prompt, schema, audio)")
            raise LLMUnavailableError(
                f"Gemini refused {what} for model {self.model}: {_describe(exc)}; "
                f"check {check}") from exc
        raise AssertionError("unreachable: tenacity returns or raises")


def _reply(response: types.GenerateContentResponse) -> LLMReply:
    candidate = response.candidates[0] if response.candidates else None
    parts = candidate.content.parts if candidate and candidate.content else None
    text = "".join(p.text for p in parts or [] if p.text and not p.thought)
    meta = response.usage_metadata
    usage = TokenCount()
    if meta is not None:
        output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
        usage = TokenCount(input_tokens=meta.prompt_token_count or 0, output_tokens=output,
                           total_tokens=meta.total_token_count or 0)
    truncated = candidate is not None and candidate.finish_reason == types.FinishReason.MAX_TOKENS
    return LLMReply(text=text, usage=usage, truncated=truncated)
