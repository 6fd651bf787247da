"""The one contract every LLM provider implements (OpenAI-compatible servers, Gemini): a prompt
and a JSON schema in, the model's text and its token usage out. Everything above it (schemas,
re-asking, chunking, grounding) is shared, so a provider is a small adapter."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from audiohub.domain import TokenCount


@dataclass(frozen=True)
class LLMRequest:
    """One call to a model.

    Attributes:
        system: instructions.
        user: the content (a transcript, or a note about the attached audio).
        schema: JSON schema of the answer (pydantic's `model_json_schema()` output); the
            provider passes it the way its server accepts (response schema, json_schema, or
            json_object + schema), adapting it where the server needs a subset.
        schema_name: a short identifier for the schema (OpenAI's json_schema `name`).
        max_tokens: hard cap on the answer, so a small model cannot run away.
        audio: a recording to send with the prompt (the Gemini transcriber only).
        mime_type: the recording's type, e.g. audio/wav.
    """

    system: str
    user: str
    schema: dict[str, Any]
    schema_name: str
    max_tokens: int
    audio: Path | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class LLMReply:
    text: str
    usage: TokenCount
    # The answer stopped at max_tokens (its JSON is then usually cut off).
    truncated: bool = False


class LLMClient(Protocol):
    """A provider. `complete` retries what is worth retrying (timeouts, 429 after its
    Retry-After, 5xx) and then raises LLMUnavailableError; it never validates the answer."""

    provider: ClassVar[str]
    model: str

    def complete(self, request: LLMRequest) -> LLMReply: ...

    def health(self) -> str: ...


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a 429 or 503 asks the client to wait, from its headers: `retry-after-ms`
    (OpenAI's), or `Retry-After` as seconds or an HTTP date. None when it says nothing usable."""
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        value = headers.get("retry-after")
        if value is None:
            return None
        if value.strip().replace(".", "", 1).isdigit():
            return float(value)
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (ValueError, TypeError):
        return None
