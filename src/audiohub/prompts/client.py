"""`PromptStore` read from the prompt service (PROMPT_SERVICE_URL): how a transcription service
running on its own classifies among the pairs the prompt service keeps."""

from __future__ import annotations

from urllib.parse import quote

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


def _error(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return None


class HttpPromptStore:
    def __init__(self, base_url: str, settings: ServiceSettings, timeout: float) -> None:
        self.base_url = base_url
        headers = {TOKEN_HEADER: settings.token.get_secret_value()} if settings.token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self.attempts = settings.attempts
        self.backoff = settings.backoff_seconds

    def all(self) -> list[CategorySpec]:
        return _SPECS.validate_json(self._get("/prompts").content)

    def history(self, domain: str, category: str) -> list[CategorySpec]:
        path = f"/prompts/{quote(domain, safe='')}/{quote(category, safe='')}/versions"
        response = self._get(path, missing_ok=True)
        return [] if response.status_code == 404 else _SPECS.validate_json(response.content)

    def _get(self, path: str, missing_ok: bool = False) -> httpx.Response:
        """GET with the seed's retries; any answer but 200 (or a 404 when `missing_ok`) raises
        StageUnavailableError."""
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=self.backoff),
                retry=retry_if_exception_type((httpx.TransportError, _Busy)),
                reraise=True,
            ):
                with attempt:
                    response = self.http.get(path)
                    if response.status_code in (502, 503, 504):
                        raise _Busy(f"HTTP {response.status_code}")
        except (httpx.TransportError, _Busy) as exc:
            raise StageUnavailableError(
                f"the prompt service at {self.base_url} did not answer after {self.attempts} "
                f"attempts ({type(exc).__name__}: {exc})") from exc
        # Only the service's own "no such pair" counts as missing, not a route it lacks.
        missing = response.status_code == 404 and _error(response) == "not_found"
        if response.status_code != 200 and not (missing_ok and missing):
            raise StageUnavailableError(
                f"the prompt service at {self.base_url} answered {response.status_code}: "
                f"{response.text[:200]}")
        return response

    def get(self, domain: str, category: str) -> CategorySpec | None:
        return next((s for s in self.all() if (s.domain, s.category) == (domain, category)), None)

    def save(self, spec: CategorySpec) -> CategorySpec:
        raise ConfigurationError("prompts are saved by the prompt service, not through a reader")

    def create(self, spec: CategorySpec) -> CategorySpec:
        raise ConfigurationError("pairs are created by the prompt service, not through a reader")

    def health(self) -> str:
        return f"{len(self.all())} pairs from {self.base_url}"

    def close(self) -> None:
        self.http.close()
