"""`PromptStore` read from the prompt service (PROMPT_SERVICE_URL): how a transcription service
running on its own classifies among the pairs the prompt service keeps."""

from __future__ import annotations

import httpx
from pydantic import TypeAdapter
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from audiohub.api import TOKEN_HEADER
from audiohub.config import ServiceSettings
from audiohub.domain import CategorySpec
from audiohub.errors import ConfigurationError, StageUnavailableError

_SPECS = TypeAdapter(list[CategorySpec])


class _Busy(Exception):
    """502/503/504: retried like a connection error (the seed's rule)."""


class HttpPromptStore:
    def __init__(self, base_url: str, settings: ServiceSettings, timeout: float) -> None:
        self.base_url = base_url
        headers = {TOKEN_HEADER: settings.token.get_secret_value()} if settings.token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self.attempts = settings.attempts
        self.backoff = settings.backoff_seconds

    def all(self) -> list[CategorySpec]:
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=self.backoff),
                retry=retry_if_exception_type((httpx.TransportError, _Busy)),
                reraise=True,
            ):
                with attempt:
                    response = self.http.get("/prompts")
                    if response.status_code in (502, 503, 504):
                        raise _Busy(f"HTTP {response.status_code}")
        except (httpx.TransportError, _Busy) as exc:
            raise StageUnavailableError(
                f"the prompt service at {self.base_url} did not answer after {self.attempts} "
                f"attempts ({type(exc).__name__}: {exc})") from exc
        if response.status_code != 200:
            raise StageUnavailableError(
                f"the prompt service at {self.base_url} answered {response.status_code}: "
                f"{response.text[:200]}")
        return _SPECS.validate_json(response.content)

    def get(self, domain: str, category: str) -> CategorySpec | None:
        return next((s for s in self.all() if (s.domain, s.category) == (domain, category)), None)

    def save(self, spec: CategorySpec) -> CategorySpec:
        raise ConfigurationError("prompts are saved by the prompt service, not through a reader")

    def health(self) -> str:
        return f"{len(self.all())} pairs from {self.base_url}"

    def close(self) -> None:
        self.http.close()
