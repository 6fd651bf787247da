"""The stage interfaces of clients.py, served by another process: `Http*` stands in for `Local*`
whenever the stage's `*_SERVICE_URL` is set, and the pipeline cannot tell the difference.

Audio travels as raw bytes, streamed from disk (the seed sent it hex-encoded inside JSON: twice
the bytes, parsed whole at every hop). Every request follows the seed's retry rule, done with
tenacity: 3 attempts, 2^attempt seconds apart, on connection errors, timeouts and 502/503/504
only; a 4xx is the caller's mistake and is passed on at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx
from pydantic import TypeAdapter, ValidationError
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from audiohub.api import TOKEN_HEADER
from audiohub.config import ServiceSettings, StageName
from audiohub.domain import (
    CallFilter,
    CallPage,
    CallRecord,
    CallResult,
    CategorySpec,
    Classification,
    Extraction,
    Stats,
    Transcript,
    TranscriptionResult,
)
from audiohub.errors import (
    NotFoundError,
    StageError,
    StageNotFoundError,
    StageUnavailableError,
)
from audiohub.extraction.schemas import ExtractRequest, ExtractResponse
from audiohub.gateway.uploads import read_chunks
from audiohub.persistence.schemas import Deleted, SaveResponse
from audiohub.prompts.schemas import PairRequest, PromptCreate, PromptEdit, PromptResponse
from audiohub.transcription.schemas import TranscribeResponse

log = logging.getLogger("audiohub")

_RETRY_STATUS = frozenset({502, 503, 504})
_SPECS = TypeAdapter(list[CategorySpec])
# Transcribing an hour of audio takes minutes, and an LLM analysis (chunks, retries, a re-ask)
# can take several; SERVICE_TIMEOUT (30 s) is for the quick requests.
TRANSCRIPTION_TIMEOUT = 1800.0
ANALYSIS_TIMEOUT = 600.0


class _Retryable(Exception):
    """A 502/503/504: the service (or a proxy before it) may answer on the next attempt."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}: {response.text[:200]}")


class HttpPool:
    """One pooled httpx client per event loop: the server has one loop, while the CLI and the
    eval start a loop per file, and a pooled connection must not outlive its loop."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._clients: dict[int, httpx.AsyncClient] = {}

    def client(self) -> httpx.AsyncClient:
        key = id(asyncio.get_running_loop())
        if key not in self._clients:
            self._clients[key] = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self._clients[key]

    async def aclose(self) -> None:
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.aclose()


class _Unavailable(_Retryable):
    """A 503: the service said it cannot take the request now (it did not act on it)."""


class ServiceClient:
    """Requests to one stage service over a shared, pooled httpx client."""

    def __init__(
        self, stage: StageName, base_url: str, pool: HttpPool, settings: ServiceSettings
    ) -> None:
        self.stage = stage
        self.base_url = base_url
        self.pool = pool
        self.attempts = settings.attempts
        self.backoff = settings.backoff_seconds
        self.headers = {TOKEN_HEADER: settings.token.get_secret_value()} if settings.token else {}

    async def request(
        self, method: str, path: str, *, timeout: float | None = None,
        body: Callable[[], dict[str, Any]] | None = None, idempotent: bool = True,
        stream: bool = False, passes: frozenset[int] = frozenset(), **kw: Any,
    ) -> httpx.Response:
        """Send the request, retried by the seed's rule.

        Args:
            body: builds extra keyword arguments for httpx afresh for every attempt (a stream
                that was half sent cannot be sent again).
            idempotent: False for a request with an effect (storing a call): it is retried only
                when it cannot have arrived (no connection) or the service said 503.
            stream: leave the answer's body unread, for the caller to stream and close.
            passes: error statuses that are answers to pass on, not errors (416 for a Range).

        Raises:
            StageError: the service answered 4xx or 500 (status and message passed on).
            StageUnavailableError: no usable answer after the last attempt.
        """
        url = self.base_url + path
        kw.setdefault("timeout", timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        kw_headers = kw.pop("headers", {})
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=self.backoff),
                reraise=True,
                retry=retry_if_exception_type(
                    (httpx.TransportError, _Retryable) if idempotent
                    else (httpx.ConnectError, _Unavailable)),
                before_sleep=lambda rs: log.warning(
                    "%s service: attempt %d failed (%s); retrying", self.stage,
                    rs.attempt_number, rs.outcome.exception() if rs.outcome else "?"),
            ):
                with attempt:
                    extra = body() if body else {}
                    headers = {**self.headers, **extra.pop("headers", {}), **kw_headers}
                    http = self.pool.client()
                    response = await http.send(
                        http.build_request(method, url, headers=headers, **extra, **kw),
                        stream=stream)
                    if response.status_code in _RETRY_STATUS:
                        await response.aread()  # its message goes into the log
                        await response.aclose()
                        raise (_Unavailable if response.status_code == 503 else _Retryable)(
                            response)
        except (httpx.TransportError, _Retryable) as exc:
            sent = not isinstance(exc, httpx.ConnectError | _Unavailable)
            outcome = ("the call may or may not have been stored" if sent and not idempotent
                       else "nothing was stored")
            n = attempt.retry_state.attempt_number
            raise StageUnavailableError(
                f"the {self.stage} service at {self.base_url} did not answer after {n} "
                f"attempt{'s' if n > 1 else ''} ({type(exc).__name__}: {exc}); {outcome}"
            ) from exc
        if response.status_code >= 400 and response.status_code not in passes:
            await response.aread()
            await response.aclose()
            raise _stage_error(self.stage, response)
        return response

    async def health(self) -> str:
        # Short and never retried: the gateway's own probe must answer within its timeout.
        response = await self.pool.client().get(self.base_url + "/health", timeout=3)
        if response.status_code != 200:
            raise _stage_error(self.stage, response)
        detail: str = response.json().get("detail", "")
        return f"{self.base_url}: {detail}"


def _stage_error(stage: str, response: httpx.Response) -> StageError:
    """The service's error answer as ours: its own error and message, under a status the
    client can act on."""
    try:
        body = response.json()
        error, detail = str(body["error"]), str(body["detail"])
    except (ValueError, KeyError, TypeError):
        error, detail = "stage_error", response.text[:500]
    # A stage's own crash, or its refusing the gateway's token, is a bad gateway from the
    # client's point of view; the client's own mistakes (other 4xx) pass unchanged.
    status = 502 if response.status_code >= 500 or response.status_code in (401, 403) else (
        response.status_code)
    kind = StageNotFoundError if (response.status_code, error) == (404, NotFoundError.error) \
        else StageError
    return kind(status, error, f"{stage} service: {detail}")


class _Remote:
    """A stage reached through its service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def health(self) -> str:
        return await self.client.health()


class HttpTranscription(_Remote):
    def __init__(self, client: ServiceClient, timeout: float = TRANSCRIPTION_TIMEOUT) -> None:
        super().__init__(client)
        self.timeout = timeout

    async def transcribe(self, audio: Path, keyterms: Sequence[str] = ()) -> TranscriptionResult:
        size = audio.stat().st_size

        def body() -> dict[str, Any]:
            stream: AsyncIterator[bytes] = read_chunks(audio)
            # With the length known the service can refuse an oversized upload before reading it.
            return {"content": stream, "headers": {
                "Content-Type": "application/octet-stream", "Content-Length": str(size)}}

        # The body is the audio, streamed: the call's keyterms ride in the query string.
        response = await self.client.request("POST", "/transcribe", body=body,
                                             timeout=self.timeout,
                                             params=[("keyterms", t) for t in keyterms])
        return TranscribeResponse.model_validate_json(response.content).result()



class HttpPrompts(_Remote):
    async def validate_and_generate(self, domain: str, category: str) -> CategorySpec | None:
        try:
            pair = PairRequest(domain=domain, category=category)
        except ValidationError:
            return None  # not a name the prompt service keeps: the general fallback applies
        # Generating a prompt for a new pair is an LLM call.
        response = await self.client.request("POST", "/validate-and-generate",
                                             json=pair.model_dump(), timeout=ANALYSIS_TIMEOUT)
        return PromptResponse.model_validate_json(response.content).spec

    async def all(self) -> list[CategorySpec]:
        return _SPECS.validate_json((await self.client.request("GET", "/prompts")).content)

    async def history(self, domain: str, category: str) -> list[CategorySpec]:
        path = _pair_path(domain, category)
        if path is None:
            return []
        try:
            response = await self.client.request("GET", f"{path}/versions")
        except NotFoundError:
            return []
        return _SPECS.validate_json(response.content)

    async def save(self, domain: str, category: str, edit: PromptEdit) -> CategorySpec:
        path = _pair_path(domain, category)
        if path is None:
            raise NotFoundError(f"no prompt for {domain}/{category} to edit")
        # Not idempotent: a retry after a timeout could add the same version twice.
        response = await self.client.request("POST", path, idempotent=False,
                                             json=edit.model_dump(mode="json"))
        return CategorySpec.model_validate_json(response.content)

    async def create(self, new: PromptCreate) -> CategorySpec:
        # Not idempotent either: a retry of a create that arrived would answer 409.
        response = await self.client.request("POST", "/prompts", idempotent=False,
                                             json=new.model_dump(mode="json"))
        return CategorySpec.model_validate_json(response.content)


def _pair_path(domain: str, category: str) -> str | None:
    """The pair's URL path, or None for names the prompt service never keeps (their letters
    need no quoting, and no such pair can exist)."""
    try:
        pair = PairRequest(domain=domain, category=category)
    except ValidationError:
        return None
    return f"/prompts/{pair.domain}/{pair.category}"



class HttpExtraction(_Remote):
    async def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction:
        body = ExtractRequest(
            transcription=transcript.text, domain=spec.domain, category=spec.category,
            custom_prompt=spec.prompt, transcript=transcript, classification=classification,
            spec=spec,
        )
        response = await self.client.request("POST", "/extract", timeout=ANALYSIS_TIMEOUT,
                                             json=body.model_dump(mode="json"))
        return ExtractResponse.model_validate_json(response.content).result()



class HttpPersistence(_Remote):
    async def save(self, record: CallRecord, audio: Path) -> int:
        with audio.open("rb") as f:
            def body() -> dict[str, Any]:
                f.seek(0)  # httpx streams the multipart body from the file, once per attempt
                return {"files": {
                    "record": ("record.json", record.model_dump_json(), "application/json"),
                    "audio": (record.filename, f, "application/octet-stream")}}

            # Not idempotent: a retry after a timeout could store the call twice.
            response = await self.client.request("POST", "/save", body=body, idempotent=False)
        return SaveResponse.model_validate_json(response.content).call_id

    async def get(self, call_id: int) -> CallResult:
        response = await self.client.request("GET", f"/call/{call_id}",
                                             params={"segments": "true"})
        return CallResult.model_validate_json(response.content)

    async def stats(self) -> Stats:
        return Stats.model_validate_json((await self.client.request("GET", "/stats")).content)

    async def page(self, f: CallFilter) -> CallPage:
        # JSON mode: dates as YYYY-MM-DD and booleans as true/false, as the service parses them.
        params = f.model_dump(mode="json", exclude_none=True)
        response = await self.client.request("GET", "/calls", params=params)
        return CallPage.model_validate_json(response.content)

    async def audio(self, call_id: int, range_header: str | None) -> Response:
        # Streamed through as it arrives: a recording can be as large as MAX_UPLOAD_MB.
        upstream = await self.client.request(
            "GET", f"/audio/{call_id}", stream=True, passes=frozenset({416}),
            headers={"Range": range_header} if range_header else {})
        headers = {k: upstream.headers[k] for k in _AUDIO_HEADERS if k in upstream.headers}
        return StreamingResponse(_relay(upstream), status_code=upstream.status_code,
                                 headers=headers, background=BackgroundTask(upstream.aclose))

    async def delete(self, call_id: int) -> Deleted:
        # Retried like a read: deleting twice ends the same way (a 404 on the second attempt
        # after a lost answer is the one difference, and says the call is gone).
        response = await self.client.request("DELETE", f"/call/{call_id}")
        return Deleted.model_validate_json(response.content)


# A recording's answer passes on with these (raw bytes: the length and encoding stay true).
_AUDIO_HEADERS = ("content-type", "content-length", "content-range", "accept-ranges",
                  "content-encoding")


async def _relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    finally:
        # Also when the browser went away mid-file: the pooled connection must go back.
        with anyio.CancelScope(shield=True):
            await upstream.aclose()

