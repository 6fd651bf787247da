"""The HTTP stage client's retry rule, against a real server on a loopback port that answers
with scripted statuses: 502/503/504 and timeouts are retried (3 attempts, exponential backoff),
4xx never; after the last attempt the gateway's error names the stage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from audiohub.config import ServiceSettings
from audiohub.errors import StageError, StageUnavailableError
from audiohub.gateway.remote import HttpPool, HttpTranscription, ServiceClient
from tests.conftest import AUDIO
from tests.processes import serve_in_thread


class Script:
    """What the server answers next; it records every request it got."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.delay = 0.0
        self.hits: list[dict[str, str]] = []
        self.bodies: list[int] = []


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[str, Script]]:
    script = Script()
    app = FastAPI()

    @app.post("/transcribe")
    async def transcribe(request: Request) -> JSONResponse:
        script.hits.append(dict(request.headers))
        script.bodies.append(len(await request.body()))
        await asyncio.sleep(script.delay)
        status = script.statuses.pop(0) if script.statuses else 200
        if status != 200:
            return JSONResponse({"error": "scripted", "detail": f"status {status}"}, status)
        return JSONResponse({"ok": True})

    with serve_in_thread(app) as url:
        yield url, script


def _client(url: str, **kw: object) -> ServiceClient:
    settings = ServiceSettings(SERVICE_BACKOFF_SECONDS=0.2, SERVICE_TOKEN="s3cret", **kw)
    return ServiceClient("transcription", url, HttpPool(timeout=5), settings)


def _post(client: ServiceClient, timeout: float | None = None) -> int:
    async def go() -> int:
        r = await client.request("POST", "/transcribe", content=b"abc", timeout=timeout)
        return r.status_code
    return anyio.run(go)


@pytest.fixture
def fresh(scripted: tuple[str, Script]) -> tuple[str, Script]:
    url, script = scripted
    script.statuses, script.hits, script.bodies, script.delay = [], [], [], 0.0
    return url, script


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_until_an_answer(fresh: tuple[str, Script],
                                                    status: int) -> None:
    url, script = fresh
    script.statuses = [status, status]
    started = time.monotonic()
    assert _post(_client(url)) == 200
    assert len(script.hits) == 3
    assert time.monotonic() - started >= 0.2 + 0.4  # exponential backoff between attempts
    assert all(h["x-service-token"] == "s3cret" for h in script.hits)


@pytest.mark.parametrize("status", [400, 404, 413, 415, 422])
def test_client_errors_are_passed_on_at_once(fresh: tuple[str, Script], status: int) -> None:
    url, script = fresh
    script.statuses = [status]
    with pytest.raises(StageError) as err:
        _post(_client(url))
    assert len(script.hits) == 1
    assert err.value.status_code == status
    assert err.value.detail == f"transcription service: status {status}"


def test_a_crash_in_the_stage_is_a_bad_gateway_not_retried(fresh: tuple[str, Script]) -> None:
    url, script = fresh
    script.statuses = [500]
    with pytest.raises(StageError) as err:
        _post(_client(url))
    assert (err.value.status_code, len(script.hits)) == (502, 1)


def test_after_the_last_attempt_the_error_names_the_stage(fresh: tuple[str, Script]) -> None:
    url, script = fresh
    script.statuses = [503, 503, 503, 503]
    with pytest.raises(StageUnavailableError) as err:
        _post(_client(url))
    assert len(script.hits) == 3
    assert err.value.status_code == 503
    assert "transcription service" in err.value.detail and "3 attempts" in err.value.detail


def test_timeouts_are_retried(fresh: tuple[str, Script]) -> None:
    url, script = fresh
    script.delay = 0.5
    with pytest.raises(StageUnavailableError) as err:
        _post(_client(url, SERVICE_ATTEMPTS=2), timeout=0.2)
    assert len(script.hits) == 2
    assert "ReadTimeout" in err.value.detail


def test_audio_is_streamed_raw_and_sent_again_on_a_retry(fresh: tuple[str, Script]) -> None:
    url, script = fresh
    script.statuses = [503]
    audio: Path = AUDIO / "healthcare_appointment_16k.wav"
    stage = HttpTranscription(_client(url))

    async def go() -> None:
        # The scripted answer is not a transcript: the point is what arrived, twice, in full.
        with pytest.raises(ValueError):
            await stage.transcribe(audio)
    anyio.run(go)
    size = audio.stat().st_size
    assert script.bodies == [size, size]
    assert all(h["content-type"] == "application/octet-stream" for h in script.hits)
    assert all(h["content-length"] == str(size) for h in script.hits)


def test_a_request_with_an_effect_is_not_retried_after_a_timeout(
    fresh: tuple[str, Script]
) -> None:
    """Storing a call twice is worse than a clear error: /save is retried only when it cannot
    have arrived or the service said 503."""
    url, script = fresh
    script.delay = 0.5

    async def go() -> None:
        await _client(url).request("POST", "/transcribe", content=b"abc", timeout=0.2,
                                   idempotent=False)
    with pytest.raises(StageUnavailableError) as err:
        anyio.run(go)
    assert len(script.hits) == 1
    assert "may or may not have been stored" in err.value.detail
    script.hits.clear()
    script.delay, script.statuses = 0.0, [503, 503]

    async def again() -> int:
        r = await _client(url).request("POST", "/transcribe", content=b"abc", idempotent=False)
        return r.status_code
    assert anyio.run(again) == 200 and len(script.hits) == 3


def test_a_stage_refusing_the_gateway_s_token_is_a_bad_gateway(fresh: tuple[str, Script]) -> None:
    url, script = fresh
    script.statuses = [401]
    with pytest.raises(StageError) as err:
        _post(_client(url))
    assert err.value.status_code == 502
